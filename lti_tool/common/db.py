"""Database helpers shared by the areas."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db


def insert_ignoring_conflict(model, **values: Any) -> None:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite).

    On PostgreSQL it waits for a concurrent insert of the same key and then does nothing, so
    two requests creating the same row both succeed and then read the one row.
    """
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing())
