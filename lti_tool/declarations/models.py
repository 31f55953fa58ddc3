"""AI-use policy per assignment, checklist ticks, and immutable submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..common.time import utcnow


class CentreSettings(db.Model):
    """What a centre (a platform) chooses for all its assignments: the scale, the default
    checklist template (None: the built-in template) and the maximum score a trainer starts from
    when placing an activity (None: 20, as French centres grade)."""

    __tablename__ = "centre_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), unique=True)
    scale: Mapped[str] = mapped_column(String(16))
    checklist_template: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    default_score_maximum: Mapped[float | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"))


class AssignmentPolicy(db.Model):
    """The AI policy and checklist of one placed activity, as its trainer set them."""

    __tablename__ = "assignment_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), unique=True)
    scale: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # None: the centre's default template.
    checklist: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id", ondelete="SET NULL"))


class ChecklistTicks(db.Model):
    """A learner's ticks on one assignment's checklist: item id → ISO time it was ticked."""

    __tablename__ = "checklist_ticks"
    __table_args__ = (UniqueConstraint("activity_id", "user_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    ticks: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(db.Model):
    """One frozen, numbered version of a learner's work on an assignment. Never updated."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("activity_id", "user_pk", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column()
    catalogue_item: Mapped[str] = mapped_column(String(32))
    content_version: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSON)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    ai_log: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON)
    declared_rank: Mapped[int] = mapped_column()
    allowed_rank: Mapped[int] = mapped_column()
    receipt: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImmutableSubmission(Exception):
    pass


@event.listens_for(Submission, "before_update")
def _refuse_update(mapper, connection, target: Submission) -> None:
    raise ImmutableSubmission(f"submission {target.id} is frozen; create a new version instead")
