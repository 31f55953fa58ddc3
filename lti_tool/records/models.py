"""The register of requests about personal data: each export and erasure, when, by whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..common.time import utcnow


class PrivacyEvent(db.Model):
    """A person's data exported or erased (GDPR rights of access and erasure), kept as the
    centre's evidence that it answered the request.

    An export names its subject by row (`subject_pk`, unlinked if they are erased later). An
    erasure keeps the one identifier the evidence needs, the person's user id on the platform
    (`subject_sub`: Moodle's user id, not a name), since the row it would point to is gone. Who
    acted is `actor_pk` from a launch (unlinked if that person is erased), none from the CLI."""

    __tablename__ = "privacy_event"
    __table_args__ = (Index("ix_privacy_event_platform_id_id", "platform_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # export | erasure
    channel: Mapped[str] = mapped_column(String(16))  # tool (an administrator's launch) | cli
    actor_pk: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"), index=True)
    subject_pk: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"), index=True)
    subject_sub: Mapped[str | None] = mapped_column(String(255))
    # Rows per table: exported, or deleted by the erasure.
    rows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
