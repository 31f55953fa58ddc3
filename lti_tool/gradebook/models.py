"""The grade outbox: scores waiting for, or sent to, the platform's gradebook; and each link's line item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..common.time import utcnow

# Outbox row statuses. `pending` and `sending` are waiting; the others are final.
PENDING, SENDING, SENT, FAILED, NOT_GRADABLE, SUPERSEDED = (
    "pending", "sending", "sent", "failed", "not_gradable", "superseded")
WAITING_STATUSES = (PENDING, SENDING)


class ScoreOutbox(db.Model):
    """One score to post to a line item for one user, kept until the platform accepted it.

    The payload holds the AGS score fields except `userId` and `timestamp`: the timestamp is
    taken when the score is sent (strictly later than the previous score for the same user and
    line item, as Moodle refuses anything else with 409).
    """

    __tablename__ = "score_outbox"
    __table_args__ = (
        # The worker's claim: due rows in order.
        Index("ix_score_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # Per link and user: ordering, superseding, the latest state, the last timestamp sent.
        Index("ix_score_outbox_resource_link_pk_user_pk", "resource_link_pk", "user_pk", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    resource_link_pk: Mapped[int] = mapped_column(ForeignKey("resource_link.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    platform_user_id: Mapped[str] = mapped_column(String(255))  # the platform's `sub`: AGS userId
    kind: Mapped[str] = mapped_column(String(16))  # submission | quiz | grade
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    conflicts: Mapped[int] = mapped_column(default=0)  # 409 answers received
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    lease_token: Mapped[str | None] = mapped_column(String(32))  # who holds the lease: fences stale workers
    score_timestamp: Mapped[datetime | None] = mapped_column()  # of the last attempt (naive UTC)
    lineitem_url: Mapped[str | None] = mapped_column(String(1024))  # where it was last sent
    error_code: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)  # for the admin; never a token or key
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class LinkLineItem(db.Model):
    """What the grade service knows of a resource link's gradebook column.

    `lineitems_url` and `scopes` are the AGS endpoint claim of the link's latest launch seen by
    an enqueue (the worker runs without a launch); `url` is the line item resolved for the link
    (from the claim, found in the container, or created); `gone_url` a line item the platform
    answered 404 for, never used again.
    """

    __tablename__ = "link_line_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    resource_link_pk: Mapped[int] = mapped_column(ForeignKey("resource_link.id", ondelete="CASCADE"), unique=True)
    lineitems_url: Mapped[str | None] = mapped_column(String(1024))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    has_service: Mapped[bool] = mapped_column(default=False)  # the launch carried an AGS claim
    url: Mapped[str | None] = mapped_column(String(1024))
    source: Mapped[str | None] = mapped_column(String(16))  # claim | found | created
    gone_url: Mapped[str | None] = mapped_column(String(1024))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
