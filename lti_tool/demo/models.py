"""The demo platform's own signing key, its placed activities and its gradebook (dev only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..common.time import utcnow


class DemoPlatformKey(db.Model):
    __tablename__ = "demo_platform_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DemoPlacedItem(db.Model):
    """An activity the trainer placed in the demo course through Deep Linking: a resource link."""

    __tablename__ = "demo_placed_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[str] = mapped_column(String(255), unique=True)  # the resource link id launches carry
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    catalogue_id: Mapped[str] = mapped_column(String(64))
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # replayed in its launches
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DemoLineItem(db.Model):
    """A gradebook column of a demo course (AGS line item)."""

    __tablename__ = "demo_line_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[str] = mapped_column(String(255), index=True)
    label: Mapped[str] = mapped_column(String(255))
    score_maximum: Mapped[float] = mapped_column(Float)
    resource_id: Mapped[str | None] = mapped_column(String(255))
    resource_link_id: Mapped[str | None] = mapped_column(String(255))  # the link it is coupled to
    tag: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DemoScore(db.Model):
    """The latest score a user has in a demo line item, as Moodle keeps one grade per user."""

    __tablename__ = "demo_score"
    __table_args__ = (UniqueConstraint("line_item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("demo_line_item.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    result: Mapped[float | None] = mapped_column(Float)  # scoreGiven rescaled to the item's maximum
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[datetime] = mapped_column()  # the score's own timestamp (naive UTC)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
