"""The one way the tool talks to the LLM, `chat()`, and the AI log other areas read.

    result = chat(launch, "exercise", prompt, exercise=exercise, mode="collaborate", names=names)
    result.text      # the answer, names restored, to show
    result.call_id   # the AiCall row (pseudonymised prompt and answer)

    stream = chat(launch, "role_play", turns, exercise=exercise, mode=mode, names=names, stream=True)
    for event, data in stream.events():   # ("delta", {"text"}) … then ("done", {…}) or ("error", {…})
        ...

The caller says what the call is for: the exercise (checked to belong to the launch's activity
by the caller), the assistant's mode under the assignment's AI policy, the names the privacy
guard must hide. What every call goes through, in order: the purpose is allowed for the launch's
role; the mode allows the assistant (mode "off" refuses with `assistant_off`); for the
assistant's purposes, the person acknowledged the notice about it in this course
(`ai_notice_required`, HTTP 409: see `notice`); the quotas
(`quota_reached`, HTTP 429); the mode's system prompt; the privacy guard on every message (the
names given, e-mails, phones, addresses, NIR, IBAN); the call (retries and circuit breaker);
exactly one AiCall row, errors included. A failure raises ProviderFailure: a message in the
learner's language and a stable code; nothing of the learner's work is touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from ..common.markdown import answer_html
from ..common.errors import ToolError
from ..common.i18n import lazy_gettext as _l
from ..extensions import db
from ..common.time import months_before, utcnow
from ..lti.models import LaunchSession, Platform
from .base import ChatMessage, Completion, CompletionStream, LLMProvider, ProviderSettings
from .errors import LLMCircuitOpen, LLMError
from .centre import (
    centre_config,
    check_centre_address,
    environment_settings,
    log_retention_months,
    merge_settings,
    provider_for,
    settings_problem,
)
from .models import AiCall, AiNoticeAck, LlmConfig
from .notice import AiNotice, acknowledgement, notice_of, record_acknowledgement
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

# Before a person's first use of the assistant in a course (see notice).
NOTICE_REQUIRED = _l("Before you first use the AI assistant in this course, read the notice about it and click "
                     "\"I understand\".")


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
    notice: AiNotice  # what the person reads before their first use in the course
    acknowledged: bool  # they did (always False while the assistant is not enabled)

    @property
    def enabled(self) -> bool:
        return self.mode != "off" and self.configured


def assistant_state(launch: LaunchSession, level) -> AssistantState:
    """The assistant next to an exercise: the mode of the assignment's AI-use `level`, whether
    answers are a demonstration (checked without building a provider: a page never waits for an
    SDK), the notice about it and whether the launch's user acknowledged it in the course."""
    row = centre_config(launch.platform_id)
    settings = merge_settings(environment_settings(), row)
    notice = notice_of(settings, row)
    configured = settings_problem(settings) is None
    acknowledged = (level.mode != "off" and configured
                    and acknowledgement(launch.user_pk, launch.context_pk, notice) is not None)
    return AssistantState(level.mode, MODE_LABELS.get(level.mode, level.mode), level.label, settings.provider,
                          settings.provider == "fake", configured, notice, acknowledged)


def acknowledge_notice(launch: LaunchSession) -> AiNoticeAck:
    """Record that the launch's user read the notice about the assistant as it stands now, in the
    launch's course (once; the time it was first acknowledged is kept). Returns the
    acknowledgement (`acknowledged_at`). Flushes."""
    row = centre_config(launch.platform_id)
    return record_acknowledgement(launch, notice_of(merge_settings(environment_settings(), row), row))



def _check_purpose(scope: CallScope, purpose: str) -> None:
    if purpose not in CHAT_PURPOSES:
        raise AssistantError(_l("This use of the assistant does not exist."), status=422, code="unknown_purpose")
    if purpose in STAFF_PURPOSES and scope.role not in ("trainer", "admin"):
        raise AssistantError(_l("You are not allowed to see this page."), status=403, code="forbidden_role")


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


class ChatStream:
    """A streamed answer, in two steps. `start()` sends the request and waits for the first words:
    a failure before them raises ProviderFailure, logged. `events()` then yields ("delta", {"text"})
    with names restored, then one ("done", {"call_id", "usage", …}) or ("error", {"code",
    "message", "call_id"}). Closing the generator early (the user pressed stop, or went away)
    closes the provider's stream and logs what had arrived with outcome `stopped`. The row is
    flushed, not committed.

    Neither step reads the database: the caller can end its transaction and give its connection
    back between `chat()` and `start()`, and the AI log row at the end is then a transaction of
    its own."""

    def __init__(self, provider: LLMProvider, sent: list[ChatMessage], guard: Pseudonymiser, pending: PendingCall,
                 mode: str | None) -> None:
        self._provider = provider
        self._sent = sent
        self._stream: CompletionStream | None = None
        self._guard = guard
        self._pending = pending
        self.mode = mode
        self.is_demo = provider.is_demo

    @property
    def call_id(self) -> int | None:
        return self._pending.call_id

    def start(self) -> None:
        """Send the request and wait for the first words (retries and circuit breaker included).
        Raises ProviderFailure, its call logged (flushed), when the answer cannot start."""
        started = time.perf_counter()
        try:
            self._stream = self._provider.stream(self._sent)
        except LLMError as exc:
            raise self._pending.fail(exc, started) from None

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if self._stream is None:
            raise RuntimeError("ChatStream.start() sends the request: call it before events()")
        restorer = StreamRestorer(self._guard)
        outcome: str | None = None
        error: LLMError | None = None
        answer: list[str] = []  # what the reader was shown, names put back
        try:
            for delta in self._stream:
                shown = restorer.feed(delta)
                if shown:
                    answer.append(shown)
                    yield "delta", {"text": shown}
            tail = restorer.flush()
            if tail:
                answer.append(tail)
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
                       "finish_reason": completion.finish_reason, "demo": self.is_demo,
                       # The whole answer as safe HTML (common.markdown): the page streams text, then shows this.
                       "html": str(answer_html("".join(answer)))}


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
         exercise: Mapping[str, Any] | None = None, mode: str | None = None, names: Iterable[str] = (),
         stream: bool = False, instructions: str | None = None, subject_pk: int | None = None) -> ChatResult | ChatStream:
    """Ask the LLM on behalf of `launch` (see the module docstring for what it guarantees).

    `messages` is the user's prompt (a string) or the conversation so far ({role: user|assistant,
    content}; the last one the user's); system prompts are the tool's own, never the caller's.
    `exercise` is the catalogue exercise the call serves (its prompts and a role play's opening
    line, added before `messages`), `mode` the assistant's mode under the assignment's AI policy
    (required for the purposes it governs), `names` the names the privacy guard replaces (the
    course's, and e.g. the learner whose work a trainer comments on), `instructions` appended to
    the system prompt (pseudonymised too), `subject_pk` that learner, whose work the logged call
    then holds. Raises AssistantError (assistant_off 403, quota_reached 429, …) or
    ProviderFailure, after logging it: the caller commits, then lets it propagate. Flushes.

    With `stream`, every check and everything read from the database is done here, and nothing is
    sent yet: the ChatStream returned sends the request when `start()` is called.
    """
    scope = CallScope.of(launch)
    _check_purpose(scope, purpose)
    turns = _turns(messages)
    if purpose not in POLICY_PURPOSES:
        mode = None  # the assignment's policy governs what the assistant does for learners only
    else:
        if mode is None:
            raise ValueError(f"{purpose} calls are governed by the assignment's AI policy: give its mode")
        if mode == "off":
            raise AssistantError(_l("The AI assistant is off for this work: its AI policy does not allow AI."),
                                 status=403, code="assistant_off")
    exercise_id = exercise["id"] if exercise else None
    row = centre_config(scope.platform_id)
    settings = merge_settings(environment_settings(), row)
    if purpose in POLICY_PURPOSES and acknowledgement(scope.user_pk, scope.context_pk,
                                                      notice_of(settings, row)) is None:
        raise AssistantError(NOTICE_REQUIRED, status=409, code="ai_notice_required")
    check_quotas(scope.platform_id, scope.user_pk, scope.role, quotas_for(row))

    guard = Pseudonymiser(sorted({name for name in names if name and name.strip()}))
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
            return ChatStream(provider, sent, guard, pending, mode)  # sent by its start()
        completion = provider.complete(sent)
    except LLMError as exc:
        raise pending.fail(exc, started) from None
    call_id = pending.record(completion.text, "ok", completion=completion)
    return ChatResult(text=guard.restore(completion.text), call_id=call_id, provider=completion.provider,
                      model=completion.model, tokens_in=completion.tokens_in, tokens_out=completion.tokens_out,
                      latency_ms=completion.latency_ms, finish_reason=completion.finish_reason, mode=mode,
                      is_demo=provider.is_demo)


# --- the AI log, for other areas -----------------------------------------------------------------


def calls_of(link_pk: int, user_pk: int) -> list[dict[str, Any]]:
    """Every call made for this learner on this placed activity, oldest first, as a submission
    freezes them (the prompt and answer as they were sent and logged: pseudonymised)."""
    rows = db.session.execute(select(AiCall).where(AiCall.resource_link_pk == link_pk, AiCall.user_pk == user_pk)
                              .order_by(AiCall.id)).scalars()
    return [{"id": row.id, "at": row.created_at.isoformat(timespec="seconds") + "Z", "provider": row.provider,
             "model": row.model, "purpose": row.purpose, "exercise_id": row.exercise_id, "prompt": row.prompt,
             "answer": row.answer, "outcome": row.outcome} for row in rows]


def call_counts(link_pks) -> dict[int, dict[int, int]]:
    """{placed activity: {user: their calls to the assistant there}} for each of `link_pks`
    (empty maps included): one query for a whole course."""
    found: dict[int, dict[int, int]] = {link_pk: {} for link_pk in link_pks}
    if found:
        for link_pk, user_pk, count in db.session.execute(
                select(AiCall.resource_link_pk, AiCall.user_pk, func.count())
                .where(AiCall.resource_link_pk.in_(list(found)), AiCall.user_pk.is_not(None))
                .group_by(AiCall.resource_link_pk, AiCall.user_pk)):
            found[link_pk][user_pk] = count
    return found


def forget_texts_of(user_pk: int) -> int:
    """Blank the texts of the calls a person made, or that were about their work (a trainer's
    feedback draft), keeping each call's counts (the centre's usage and costs) with no link to
    them. Returns the calls changed."""
    result = db.session.execute(update(AiCall).where(or_(AiCall.user_pk == user_pk, AiCall.subject_pk == user_pk))
                                .values(prompt=[], answer="", texts_removed_at=utcnow()))
    return result.rowcount


def purge_expired_texts(now: datetime | None = None) -> int:
    """Empty the texts (prompt, answer) of the calls older than their centre's retention period
    (`log_retention_months`, in calendar months before `now`), keeping each call's figures
    (tokens, latency, outcome, model) for the centre's usage; the call is marked
    `texts_removed_at`. A call already emptied is left alone. Returns the calls emptied."""
    now = now or utcnow()
    own = {row.platform_id: row for row in db.session.execute(select(LlmConfig)).scalars()}
    emptied = 0
    for platform_id in db.session.execute(select(Platform.id)).scalars().all():
        cutoff = months_before(now, log_retention_months(own.get(platform_id)))
        emptied += db.session.execute(
            update(AiCall).where(AiCall.platform_id == platform_id, AiCall.created_at < cutoff,
                                 AiCall.texts_removed_at.is_(None))
            .values(prompt=[], answer="", texts_removed_at=now)).rowcount
    return emptied
