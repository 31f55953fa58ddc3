"""What each placed link delivers from the catalogue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..lti.models import utcnow


class Activity(db.Model):
    """A resource link bound to one catalogue item (module, theme/phase or exercise)."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_pk: Mapped[int] = mapped_column(ForeignKey("resource_link.id", ondelete="CASCADE"), unique=True)
    catalogue_item: Mapped[str] = mapped_column(String(32))
    bound_by: Mapped[str] = mapped_column(String(16))  # deep_linking | trainer
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
