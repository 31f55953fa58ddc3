"""A trainer's grade of a learner's work on an assignment; the latest one is the current grade."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..common.time import utcnow


class Grade(db.Model):
    __tablename__ = "grade"
    __table_args__ = (Index("ix_grade_activity_id_user_pk", "activity_id", "user_pk", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column()
    score_maximum: Mapped[float] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    # The comment started from an AI draft the trainer then edited (shown to nobody but staff).
    from_ai_draft: Mapped[bool] = mapped_column(default=False)
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
