"""The notice a person reads before they first use the AI assistant in a course, and their
acknowledgement (EU AI Act, article 50: people are told that they interact with an AI system).

The notice says that answers come from an AI system, which provider answers and where it is
hosted (the centre's LLM settings, under the hosting rules), what is sent (pseudonymised), what
is kept and for how long (the centre's retention of the AI log). Until the person acknowledges
it, `services.chat` refuses the assistant's calls (`ai_notice_required`, 409). An
acknowledgement holds for the provider and endpoint the notice named: when the centre moves its
assistant elsewhere, the notice is shown again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..lti.models import LaunchSession
from .base import ProviderSettings
from .centre import hosting_of, log_retention_months
from .models import AiNoticeAck, LlmConfig


@dataclass(frozen=True)
class AiNotice:
    """What the notice tells, from the centre's settings."""

    provider: str  # fake | mistral | openai
    endpoint: str  # the host that answers; "" for the demonstration, or settings that cannot work
    label: str  # who answers: "Mistral AI (EU)", "OVHcloud AI Endpoints", or the host
    hosting: str | None  # eu | eu_confirmed | non_eu_allowed; None: demonstration, or not set up
    retention_months: int  # how long the AI log keeps the texts

    @property
    def is_demo(self) -> bool:
        return self.provider == "fake"


def notice_of(settings: ProviderSettings, row: LlmConfig | None) -> AiNotice:
    """The notice for a centre whose calls use `settings` (its settings `row`)."""
    endpoint = hosting_of(settings)
    if endpoint is None:
        return AiNotice(settings.provider, "", "", None, log_retention_months(row))
    return AiNotice(settings.provider, endpoint.host[:255], endpoint.label, endpoint.hosting,
                    log_retention_months(row))


def acknowledgement(user_pk: int, context_pk: int | None, notice: AiNotice) -> AiNoticeAck | None:
    """The user's acknowledgement of this notice (its provider and endpoint) in the course, if any."""
    in_course = AiNoticeAck.context_pk.is_(None) if context_pk is None else AiNoticeAck.context_pk == context_pk
    return db.session.execute(select(AiNoticeAck).where(
        AiNoticeAck.user_pk == user_pk, in_course, AiNoticeAck.provider == notice.provider,
        AiNoticeAck.endpoint == notice.endpoint).order_by(AiNoticeAck.id).limit(1)).scalar_one_or_none()


def record_acknowledgement(launch: LaunchSession, notice: AiNotice) -> AiNoticeAck:
    """Record, with its time, that the launch's user read `notice` in the launch's course. Once:
    acknowledging the same notice again returns the first acknowledgement. Flushes."""
    found = acknowledgement(launch.user_pk, launch.context_pk, notice)
    if found is not None:
        return found
    ack = AiNoticeAck(platform_id=launch.platform_id, user_pk=launch.user_pk, context_pk=launch.context_pk,
                      provider=notice.provider, endpoint=notice.endpoint)
    db.session.add(ack)
    db.session.flush()
    return ack
