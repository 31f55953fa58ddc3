"""The AI assistant of the exercises: a learner's prompt, role play or prompt comparison sent to the
centre's LLM (llm.services.chat), under the assignment's AI-use policy, streamed or whole.

Everything is behind the launch token: a learner reaches the assistant on their own link only,
for an exercise of the activity it delivers; the policy's level sets the assistant's mode. Before
their first use in a course, a person acknowledges the notice about the assistant (`/ai/notice`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, stream_with_context

from ..catalogue.services import get_catalogue
from ..common.http import json_api, json_body
from ..common.schemas import load_or_422
from ..common.i18n import lazy_gettext as _l
from ..extensions import db
from ..llm import services as llm
from ..llm.schemas import ChatResultOut, NoticeAcknowledgementOut
from ..lti.access import current_launch, launch_required
from ..lti.models import LaunchSession
from .hooks import ai_policy
from .progress import exercise_of
from .schemas import ChatRequestSchema
from .services import activity_for, course_names

# Purpose → the exercise type it serves ("assistant": no exercise).
EXERCISE_TYPES = {"exercise": "ai_prompt", "role_play": "role_play", "prompt_transformation": "prompt_transformation"}


def _chat_request() -> dict[str, Any]:
    return load_or_422(ChatRequestSchema(), json_body(), message=_l("The message cannot be sent: check what you wrote."),
                       code="invalid_request")


def _unknown_exercise() -> llm.AssistantError:
    return llm.AssistantError(_l("This exercise is not part of this activity."), status=404, code="unknown_exercise")


def _chat(session: LaunchSession, data: dict[str, Any], *, stream: bool):
    """The call for the launch's own link: the exercise must be one of its activity's, of the type
    the purpose serves; the mode is the one its AI-use policy gives."""
    link = session.resource_link
    catalogue = get_catalogue(session.locale)
    activity = activity_for(link, catalogue) if link is not None else None
    expected = EXERCISE_TYPES.get(data["purpose"])
    exercise = None
    if data["exercise_id"] is not None or expected is not None:
        if activity is None or data["exercise_id"] is None:
            raise _unknown_exercise()
        exercise = exercise_of(catalogue, activity, data["exercise_id"])
        if expected is not None and exercise["type"] != expected:
            raise _unknown_exercise()
    policy = ai_policy()
    level = policy.of_activity(activity, link).level if link is not None else policy.scale(session.platform_id).default_level
    try:
        return llm.chat(session, data["purpose"], data["prompt"] or data["messages"], exercise=exercise,
                        mode=level.mode, names=course_names(session), stream=stream)
    except llm.ProviderFailure:
        db.session.commit()  # the failed call stays in the AI log, though the request answers an error
        raise


CHAT_EXAMPLE = {"purpose": "assistant", "prompt": "Three ideas to welcome an apprentice on their first day?"}

# An event of what /ai/chat streams (chat_stream's docstring), as the API document gives it.
STREAM = {"type": "object", "required": ["event", "data"],
          "description": "Server-sent events: `delta` events, then `done` or `error`.",
          "properties": {"event": {"type": "string", "enum": ["delta", "done", "error"]},
                         "data": {"type": "string", "description": "A JSON object: {text} for `delta`, "
                                  "{call_id, usage, …} for `done`, {code, message} for `error`."}}}


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@json_api("Ask the assistant, the answer streamed as server-sent events", body=ChatRequestSchema,
          example=CHAT_EXAMPLE, out=STREAM, media_type="text/event-stream", errors=(403, 404, 409, 429, 503))
@launch_required()
def chat_stream():
    """`text/event-stream`: `delta` {text}…, then `done` {call_id, usage, …} or `error` {code, message}.
    Refusals before the answer starts (policy, quota, provider down) are JSON errors."""
    chat = _chat(current_launch(), _chat_request(), stream=True)  # every check and read, nothing sent yet
    # The one exception to "one commit per request" (lti_tool/__init__.py, configure_transactions):
    # the model's first words take up to seconds, the answer more, and the request must not hold a
    # database connection (an open transaction) all that time, or the pool, not the threads, caps
    # the answers in progress. What the request read and wrote is committed here and its session
    # closed (the launch is detached: nothing below can load from it by accident); the AI log row
    # is then written in a short transaction of its own: a failure before the first words just
    # below, the answer's end (or stop, or the client going away) in generate().
    db.session.commit()
    db.session.remove()
    try:
        chat.start()  # sends the prompt; waits for the first words
    except llm.ProviderFailure:
        db.session.commit()  # the failed call stays in the AI log, though the request answers an error
        raise

    def generate():
        events = chat.events()
        try:
            for name, data in events:
                yield sse(name, data)
        finally:
            events.close()  # the client went away: the partial answer is logged as stopped
            db.session.commit()  # the AI log row, in a transaction of its own

    response = Response(stream_with_context(generate()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@json_api("Ask the assistant, the whole answer at once", body=ChatRequestSchema, example=CHAT_EXAMPLE,
          out=ChatResultOut, errors=(403, 404, 409, 429, 503))
@launch_required()
def chat_complete():
    """The whole answer as JSON (no streaming)."""
    result = _chat(current_launch(), _chat_request(), stream=False)
    return ChatResultOut().dump(result)


@json_api("Acknowledge the notice about the AI assistant", out=NoticeAcknowledgementOut)
@launch_required()
def acknowledge_notice():
    """The launch's user read the notice about the AI assistant (shown before their first use in
    the course): recorded with its time; the assistant answers them from now on."""
    return NoticeAcknowledgementOut().dump(llm.acknowledge_notice(current_launch()))
