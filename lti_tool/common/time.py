"""Time as the database keeps it."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, in naive UTC: SQLite drops tzinfo, so every datetime in the database is naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
