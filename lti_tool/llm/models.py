"""A centre's LLM settings; the AI log: one row per call, with the pseudonymised prompt and answer;
the acknowledgements of the notice about the AI assistant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..common.time import utcnow

PURPOSES = ("exercise", "role_play", "prompt_transformation", "feedback_draft", "assistant", "test")


class LlmConfig(db.Model):
    """What a centre (a platform) chose for its LLM. A null setting keeps the operator's default
    from the environment; the operator's `LLM_ALLOW_NON_EU` is never stored here."""

    __tablename__ = "llm_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128), default="")
    base_url: Mapped[str | None] = mapped_column(String(1024))
    server: Mapped[str | None] = mapped_column(String(16))  # Mistral: eu | global | us
    # Fernet token under a key derived from SECRET_KEY; shown back only as its last 4 characters.
    api_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    temperature: Mapped[float | None] = mapped_column()
    max_tokens: Mapped[int | None] = mapped_column()
    timeout: Mapped[float | None] = mapped_column()
    quota_learner_daily_calls: Mapped[int | None] = mapped_column()
    quota_learner_daily_tokens: Mapped[int | None] = mapped_column()
    quota_centre_monthly_calls: Mapped[int | None] = mapped_column()
    quota_centre_monthly_tokens: Mapped[int | None] = mapped_column()
    # How long the AI log keeps the texts of a call (prompt, answer), in months; then `lti-tool
    # purge` removes them and keeps the figures. Null: the operator's LLM_LOG_RETENTION_MONTHS.
    log_retention_months: Mapped[int | None] = mapped_column()
    # The admin's confirmation that a custom endpoint is hosted in the EU (cleared when it changes);
    # eu_confirmed_by is null when the operator confirmed through the CLI.
    eu_confirmed_at: Mapped[datetime | None] = mapped_column()
    eu_confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"))


class AiCall(db.Model):
    """One call to the LLM (or one attempt that failed). `prompt` is the JSON list of the messages
    sent ({role, content}), `answer` the text as the provider returned it: both pseudonymised.
    `outcome` is ok, stopped (the learner stopped the answer; `answer` is what had arrived), or
    the error code (timeout, rate_limited, unavailable, circuit_open, auth, refused, bad_config)."""

    __tablename__ = "ai_call"
    __table_args__ = (Index("ix_ai_call_link_user", "resource_link_pk", "user_pk"),
                      Index("ix_ai_call_platform_created", "platform_id", "created_at"),
                      # The learner's daily quota, checked before every call.
                      Index("ix_ai_call_user_created", "user_pk", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    context_pk: Mapped[int | None] = mapped_column(ForeignKey("context.id", ondelete="SET NULL"))
    resource_link_pk: Mapped[int | None] = mapped_column(ForeignKey("resource_link.id", ondelete="SET NULL"))
    user_pk: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"))
    # Whose work the call is about when it is not the caller's (a trainer's feedback draft sends a
    # learner's submission): that learner's data export and erasure reach it too.
    subject_pk: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    exercise_id: Mapped[str | None] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    prompt: Mapped[Any] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text, default="")
    tokens_in: Mapped[int] = mapped_column(default=0)
    tokens_out: Mapped[int] = mapped_column(default=0)
    latency_ms: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When `prompt` and `answer` were emptied: past the centre's retention period (`lti-tool
    # purge`), or with the person's data (erasure). The figures stay for the centre's usage.
    texts_removed_at: Mapped[datetime | None] = mapped_column()


class AiNoticeAck(db.Model):
    """A person read the notice about the AI assistant in a course and said so (EU AI Act, article
    50: people are told they interact with an AI system). `provider` and `endpoint` (its host,
    "" for the demonstration) are what the notice named: when the centre moves its assistant
    elsewhere, the notice is shown again and a new row records the new acknowledgement."""

    __tablename__ = "ai_notice_ack"
    __table_args__ = (Index("ix_ai_notice_ack_user_context", "user_pk", "context_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"))
    context_pk: Mapped[int | None] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    endpoint: Mapped[str] = mapped_column(String(255), default="")
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)
