"""What each placed link delivers from the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..common.time import utcnow


class Activity(db.Model):
    """A resource link bound to one catalogue item (module, theme/phase or exercise)."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_pk: Mapped[int] = mapped_column(ForeignKey("resource_link.id", ondelete="CASCADE"), unique=True)
    catalogue_item: Mapped[str] = mapped_column(String(32))
    bound_by: Mapped[str] = mapped_column(String(16))  # deep_linking | trainer
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Draft(db.Model):
    """A learner's answers to one exercise, saved as they type; `done` once completed."""

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("activity_id", "user_pk", "exercise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    exercise_id: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_version: Mapped[str] = mapped_column(String(16))
    done: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SectionRead(db.Model):
    """A theme or phase the learner marked as read."""

    __tablename__ = "section_read"
    __table_args__ = (UniqueConstraint("activity_id", "user_pk", "theme_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    theme_id: Mapped[str] = mapped_column(String(32))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(db.Model):
    """One scored attempt at a theme's self-check quiz."""

    __tablename__ = "quiz_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    theme_id: Mapped[str] = mapped_column(String(32))
    answers: Mapped[list[int]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column()
    total: Mapped[int] = mapped_column()
    content_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WheelRating(db.Model):
    """A snapshot of the mentoring wheel's six ratings; earlier ones are drawn underneath."""

    __tablename__ = "wheel_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("lti_user.id", ondelete="CASCADE"), index=True)
    exercise_id: Mapped[str] = mapped_column(String(32))
    ratings: Mapped[dict[str, int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
