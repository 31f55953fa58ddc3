"""Time as the database keeps it."""

from __future__ import annotations

import calendar
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, in naive UTC: SQLite drops tzinfo, so every datetime in the database is naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier (31 August less 6 months: 28 or 29 February)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    return moment.replace(year=year, month=month + 1, day=min(moment.day, calendar.monthrange(year, month + 1)[1]))
