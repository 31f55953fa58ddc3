"""The one way the tool talks to the LLM: `chat()`.

    result = chat(launch, "exercise", [{"role": "user", "content": prompt}], exercise_id="m1.t4.e1")
    result.text      # the answer, names restored, to show
    result.call_id   # the AiCall row (pseudonymised prompt and answer)

    stream = chat(launch, "role_play", turns, exercise_id="m1.t4.e3", stream=True)
    for event, data in stream.events():   # ("delta", {"text"}) … then ("done", {…}) or ("error", {…})
        ...

What every call goes through, in order: the purpose is allowed for the launch's role and the
exercise belongs to the launch's activity; the assignment's AI policy allows the assistant
(mode "off" refuses with `assistant_off`); the quotas (`quota_reached`, HTTP 429); the mode's
system prompt; the privacy guard on every message (the learner's, the roster's and the trainer's
names, e-mails, phones, addresses, NIR, IBAN); the call (retries and circuit breaker); exactly one
AiCall row, errors included. A failure raises ProviderFailure: a message in the learner's
language and a stable code; nothing of the learner's work is touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, union

from ..common.i18n import lazy_gettext as _l
from ..activities.models import Activity, Draft
from ..activities.progress import exercise_of
from ..activities.services import activity_for
from ..catalogue.services import get_catalogue
from ..errors import ToolError
from ..extensions import db
from ..lti.models import LaunchSession, LtiUser, ResourceLink
from ..declarations.services import assistant_level
from .base import ChatMessage, Completion, CompletionStream, LLMCircuitOpen, LLMError, ProviderSettings
from .centre import (
    centre_config,
    check_centre_address,
    environment_settings,
    merge_settings,
    provider_for,
    settings_problem,
)
from .models import AiCall
from .privacy import Pseudonymiser, StreamRestorer
from .prompts import system_prompt
from .quotas import check_quotas, count_in_centre_usage, quotas_for

log = logging.getLogger(__name__)

# Purpose → the exercise type it serves (None: no exercise needed).
EXERCISE_PURPOSES = {"exercise": "ai_prompt", "role_play": "role_play", "prompt_transformation": "prompt_transformation"}
# Governed by the assignment's AI policy, whoever calls (a trainer previews what learners get).
POLICY_PURPOSES = frozenset({*EXERCISE_PURPOSES, "assistant"})
STAFF_PURPOSES = frozenset({"feedback_draft"})
CHAT_PURPOSES = POLICY_PURPOSES | STAFF_PURPOSES
MAX_KNOWN_NAMES = 5000

MODE_LABELS = {
    "off": _l("Off: AI is not allowed for this work"),
    "learning": _l("Learning: the assistant explains notions, it does not work on your assignment"),
    "preparation": _l("Preparation: ideas and planning only, never your deliverable"),
    "improve": _l("Improve: feedback on what you wrote yourself"),
    "collaborate": _l("Collaborate: the assistant helps produce the work, you check everything"),
    "full": _l("Full use: no specific restriction"),
}

ERRORS = {
    # code: (HTTP status, message for the learner)
    "timeout": (504, _l("The AI took too long to answer. Your text is kept: try again in a moment.")),
    "rate_limited": (503, _l("The AI service is busy right now. Your text is kept: wait a minute and try again.")),
    "unavailable": (503, _l("The AI service cannot be reached right now. Your text is kept: try again later.")),
    "circuit_open": (503, _l("The AI service failed several times in a row, so it is paused for a short while. "
                            "Your text is kept: try again in a minute.")),
    "auth": (502, _l("The AI service refused your centre's access key. Your text is kept; please tell your "
                    "centre's administrator.")),
    "refused": (422, _l("The AI service refused to answer this request (content filter). Your text is kept: "
                       "rephrase it and try again.")),
    "bad_config": (503, _l("The AI assistant is not set up correctly for your centre. Your text is kept; please "
                          "tell your centre's administrator.")),
    "endpoint_refused": (503, _l("Your centre's AI service is not allowed by the hosting rules (EU only). Your "
                                "text is kept; please tell your centre's administrator.")),
}


class AssistantError(ToolError):
    """The assistant cannot answer; `message` says why in the user's language."""


class ProviderFailure(AssistantError):
    """The provider failed (logged in the AI log as `call_id`, outcome = `code`)."""

    def __init__(self, error: LLMError, call_id: int | None) -> None:
        code = outcome_of(error)
        status, message = ERRORS.get(code, ERRORS["unavailable"])
        super().__init__(message, status=status, code=code)
        self.error = error
        self.call_id = call_id


def outcome_of(error: LLMError) -> str:
    if isinstance(error, LLMCircuitOpen):
        return "circuit_open"
    return error.code if error.code in ERRORS else "unavailable"


# --- who calls, and what the assistant may do for them -------------------------------------------


@dataclass(frozen=True)
class CallScope:
    """Plain values of the launch: what a streamed answer still needs once the request is over."""

    platform_id: int
    context_pk: int | None
    resource_link_pk: int | None
    user_pk: int
    role: str
    locale: str

    @classmethod
    def of(cls, launch: LaunchSession) -> CallScope:
        return cls(launch.platform_id, launch.context_pk, launch.resource_link_pk, launch.user_pk, launch.role,
                   launch.locale)


@dataclass(frozen=True)
class AssistantState:
    """What the page shows next to the assistant."""

    mode: str
    mode_label: Any
    level_label: Any
    provider: str
    is_demo: bool
    configured: bool  # False: the centre's settings cannot work (the admin must fix them)

    @property
    def enabled(self) -> bool:
        return self.mode != "off" and self.configured


def assistant_state(platform_id: int, level) -> AssistantState:
    """The assistant next to an exercise: the mode of the assignment's AI-use `level`, and whether
    answers are a demonstration (checked without building a provider: a page never waits for an SDK)."""
    settings = merge_settings(environment_settings(), centre_config(platform_id))
    return AssistantState(level.mode, MODE_LABELS.get(level.mode, level.mode), level.label, settings.provider,
                          settings.provider == "fake", settings_problem(settings) is None)


def _check_purpose(scope: CallScope, purpose: str) -> None:
    if purpose not in CHAT_PURPOSES:
        raise AssistantError(_l("This use of the assistant does not exist."), status=422, code="unknown_purpose")
    if purpose in STAFF_PURPOSES and scope.role not in ("trainer", "admin"):
        raise AssistantError(_l("You are not allowed to see this page."), status=403, code="forbidden_role")


def _exercise(launch: LaunchSession, purpose: str, exercise_id: str | None) -> dict[str, Any] | None:
    """The exercise, if it belongs to the launch's own activity and fits the purpose."""
    expected = EXERCISE_PURPOSES.get(purpose)
    if exercise_id is None:
        if expected is not None:
            raise AssistantError(_l("This exercise is not part of this activity."), status=404,
                                 code="unknown_exercise")
        return None
    catalogue = get_catalogue(launch.locale)
    activity = activity_for(launch.resource_link, catalogue) if launch.resource_link is not None else None
    if activity is None:
        raise AssistantError(_l("This exercise is not part of this activity."), status=404, code="unknown_exercise")
    exercise = exercise_of(catalogue, activity, exercise_id)
    if expected is not None and exercise["type"] != expected:
        raise AssistantError(_l("This exercise is not part of this activity."), status=404, code="unknown_exercise")
    return exercise


# --- the privacy guard's names -------------------------------------------------------------------


def known_names(scope: CallScope, extra: Iterable[str] = ()) -> list[str]:
    """The names the tool holds for the launch's course: the user's own, and everyone who has an
    open launch session in the course (learners, trainers) or work in one of its activities.

    It reads the launch and draft tables directly: the guard needs one query, not one per area."""
    mine = select(LtiUser.name).where(LtiUser.id == scope.user_pk)
    if scope.context_pk is None:
        query = mine
    else:
        launched = (select(LtiUser.name).join(LaunchSession, LaunchSession.user_pk == LtiUser.id)
                    .where(LaunchSession.platform_id == scope.platform_id,
                           LaunchSession.context_pk == scope.context_pk))
        worked = (select(LtiUser.name).join(Draft, Draft.user_pk == LtiUser.id)
                  .join(Activity, Activity.id == Draft.activity_id)
                  .join(ResourceLink, ResourceLink.id == Activity.resource_link_pk)
                  .where(ResourceLink.context_pk == scope.context_pk))
        query = union(mine, launched, worked).limit(MAX_KNOWN_NAMES)
    names = {name for name in db.session.execute(query).scalars() if name}
    names.update(name for name in extra if name and name.strip())
    return sorted(names)


# --- the AI log ----------------------------------------------------------------------------------


@dataclass
class PendingCall:
    """Everything the AI log row needs except what the provider answers; recorded once."""

    scope: CallScope
    purpose: str
    exercise_id: str | None
    settings: ProviderSettings
    sent: list[ChatMessage]
    subject_pk: int | None = None
    call_id: int | None = None

    def record(self, answer: str, outcome: str, *, completion: Completion | None = None,
               latency_ms: int = 0) -> int:
        """Add the row (flushes). A second call does nothing: a call is logged exactly once."""
        if self.call_id is not None:
            return self.call_id
        model = (completion.model if completion else None) or self.settings.model or (
            "demo" if self.settings.provider == "fake" else "-")
        row = AiCall(platform_id=self.scope.platform_id, context_pk=self.scope.context_pk,
                     resource_link_pk=self.scope.resource_link_pk, user_pk=self.scope.user_pk,
                     subject_pk=self.subject_pk, purpose=self.purpose, exercise_id=self.exercise_id, provider=self.settings.provider,
                     model=model[:128], prompt=[{"role": m.role, "content": m.content} for m in self.sent],
                     answer=answer, tokens_in=completion.tokens_in if completion else 0,
                     tokens_out=completion.tokens_out if completion else 0,
                     latency_ms=completion.latency_ms if completion else latency_ms, outcome=outcome)
        db.session.add(row)
        db.session.flush()
        self.call_id = row.id
        if self.purpose != "test":
            count_in_centre_usage(row.platform_id, outcome, row.tokens_in + row.tokens_out)
        log.info("LLM call", extra={"platform_id": row.platform_id, "call_id": row.id, "purpose": row.purpose,
                                    "provider": row.provider, "model": row.model, "outcome": outcome,
                                    "latency_ms": row.latency_ms, "tokens_in": row.tokens_in,
                                    "tokens_out": row.tokens_out})
        return row.id

    def fail(self, error: LLMError, started: float, answer: str = "") -> ProviderFailure:
        latency = round((time.perf_counter() - started) * 1000)
        log.warning("LLM call failed: %s", error.detail, extra={"platform_id": self.scope.platform_id,
                                                               "provider": self.settings.provider,
                                                               "code": outcome_of(error)})
        return ProviderFailure(error, self.record(answer, outcome_of(error), latency_ms=latency))


# --- the call ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatResult:
    text: str  # restored: what the user reads
    call_id: int
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    finish_reason: str
    mode: str | None
    is_demo: bool

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "call_id": self.call_id, "provider": self.provider, "model": self.model,
                "usage": {"tokens_in": self.tokens_in, "tokens_out": self.tokens_out},
                "latency_ms": self.latency_ms, "finish_reason": self.finish_reason, "mode": self.mode,
                "demo": self.is_demo}


class ChatStream:
    """A streamed answer. `events()` yields ("delta", {"text"}) with names restored, then one
    ("done", {"call_id", "usage", …}) or ("error", {"code", "message", "call_id"}). Closing the
    generator early (the user pressed stop, or went away) closes the provider's stream and logs
    what had arrived with outcome `stopped`. The row is flushed, not committed."""

    def __init__(self, stream: CompletionStream, guard: Pseudonymiser, pending: PendingCall, mode: str | None,
                 is_demo: bool) -> None:
        self._stream = stream
        self._guard = guard
        self._pending = pending
        self.mode = mode
        self.is_demo = is_demo

    @property
    def call_id(self) -> int | None:
        return self._pending.call_id

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        restorer = StreamRestorer(self._guard)
        outcome: str | None = None
        error: LLMError | None = None
        try:
            for delta in self._stream:
                shown = restorer.feed(delta)
                if shown:
                    yield "delta", {"text": shown}
            tail = restorer.flush()
            if tail:
                yield "delta", {"text": tail}
            outcome = "ok"
        except GeneratorExit:
            outcome = "stopped"
            raise
        except LLMError as exc:
            error, outcome = exc, outcome_of(exc)
        finally:
            self._stream.close()
            completion = self._stream.completion
            if outcome is None:  # an unexpected exception is on its way up
                outcome = "internal_error"
            self._pending.record(completion.text, outcome, completion=completion)
            if error is not None:
                log.warning("LLM stream failed: %s", error.detail,
                            extra={"platform_id": self._pending.scope.platform_id, "code": outcome})
        if error is not None:
            status, message = ERRORS.get(outcome, ERRORS["unavailable"])
            yield "error", {"code": outcome, "message": str(message), "call_id": self.call_id}
            return
        yield "done", {"call_id": self.call_id, "provider": completion.provider, "model": completion.model,
                       "usage": {"tokens_in": completion.tokens_in, "tokens_out": completion.tokens_out},
                       "latency_ms": completion.latency_ms, "first_token_ms": completion.first_token_ms,
                       "finish_reason": completion.finish_reason, "demo": self.is_demo}


def _turns(messages: Sequence[Mapping[str, Any] | ChatMessage] | str) -> list[ChatMessage]:
    if isinstance(messages, str):
        turns = [ChatMessage("user", messages)]
    else:
        turns = [m if isinstance(m, ChatMessage) else ChatMessage(m.get("role"), m.get("content") or "")
                 for m in messages]
    if (not turns or any(t.role not in ("user", "assistant") for t in turns) or turns[-1].role != "user"
            or not turns[-1].content.strip()):
        raise AssistantError(_l("Write your message before sending it."), status=422, code="invalid_messages")
    return turns


def chat(launch: LaunchSession, purpose: str, messages: Sequence[Mapping[str, Any] | ChatMessage] | str, *,
         exercise_id: str | None = None, stream: bool = False, instructions: str | None = None,
         extra_names: Iterable[str] = (), subject_pk: int | None = None) -> ChatResult | ChatStream:
    """Ask the LLM on behalf of `launch` (see the module docstring for what it guarantees).

    `messages` is the user's prompt (a string) or the conversation so far ({role: user|assistant,
    content}; the last one the user's); system prompts are the tool's own, never the caller's. A
    role play's opening line is the exercise's: it is added before `messages`. `instructions` are
    appended to the system prompt (pseudonymised too), `extra_names` added to the names the guard
    replaces (e.g. the learner whose work a trainer comments on), `subject_pk` that learner, whose
    work the logged call then holds. Raises AssistantError
    (assistant_off 403, quota_reached 429, unknown_exercise 404, …) or ProviderFailure, after
    logging it: the caller commits, then lets it propagate. Flushes.
    """
    scope = CallScope.of(launch)
    _check_purpose(scope, purpose)
    turns = _turns(messages)
    exercise = _exercise(launch, purpose, exercise_id)
    mode = None
    if purpose in POLICY_PURPOSES:
        _scale, level = assistant_level(scope.resource_link_pk)
        mode = level.mode
        if mode == "off":
            raise AssistantError(_l("The AI assistant is off for this work: its AI policy does not allow AI."),
                                 status=403, code="assistant_off")
    row = centre_config(scope.platform_id)
    settings = merge_settings(environment_settings(), row)
    check_quotas(scope, quotas_for(row))

    guard = Pseudonymiser(known_names(scope, extra_names))
    safe_instructions = guard.pseudonymise(instructions) if instructions else None
    sent = [ChatMessage("system", system_prompt(mode, purpose, scope.locale, exercise, safe_instructions))]
    if purpose == "role_play" and exercise is not None and exercise.get("opening"):
        sent.append(ChatMessage("assistant", guard.pseudonymise(exercise["opening"])))
    sent += [ChatMessage(t.role, guard.pseudonymise(t.content)) for t in turns]
    pending = PendingCall(scope, purpose, exercise_id, settings, sent, subject_pk=subject_pk)

    started = time.perf_counter()
    try:
        check_centre_address(row)
        provider = provider_for(settings)
        if stream:
            return ChatStream(provider.stream(sent), guard, pending, mode, provider.is_demo)
        completion = provider.complete(sent)
    except LLMError as exc:
        raise pending.fail(exc, started) from None
    call_id = pending.record(completion.text, "ok", completion=completion)
    return ChatResult(text=guard.restore(completion.text), call_id=call_id, provider=completion.provider,
                      model=completion.model, tokens_in=completion.tokens_in, tokens_out=completion.tokens_out,
                      latency_ms=completion.latency_ms, finish_reason=completion.finish_reason, mode=mode,
                      is_demo=provider.is_demo)
