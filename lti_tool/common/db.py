"""Database helpers shared by the areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db


def insert_ignoring_conflict(model, **values: Any) -> None:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite).

    On PostgreSQL it waits for a concurrent insert of the same key and then does nothing, so
    two requests creating the same row both succeed and then read the one row.
    """
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing())


# --- requests that write one row --------------------------------------------------------------
# A transaction costs two round trips of its own (BEGIN, COMMIT). A request that reads, then
# writes a single row, needs none: each statement can commit by itself (autocommit).

_AUTOCOMMIT = "lti_tool.autocommit"


def begin_autocommit() -> None:
    """Make this request's next statements commit one by one until end_autocommit(), if it has
    not started a transaction yet (else it stays in it). Only where at most one statement
    writes, or where what each statement writes stands on its own."""
    if db.session().in_transaction():
        return
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    db.session.info[_AUTOCOMMIT] = True


def end_autocommit() -> bool:
    """Back to one transaction for what follows; True if autocommit was on. Rows loaded so far
    are expired (read again on use)."""
    if not db.session.info.pop(_AUTOCOMMIT, False):
        return False
    db.session.commit()  # nothing to commit: it hands the connection back, with its isolation level reset
    return True


# --- many rows as one JSON value -------------------------------------------------------------
# A page that needs a few rows from each of several tables reads them in one statement: each
# table's rows come back as one JSON array (a scalar subquery), not as a query of their own.


class _JsonObject(FunctionElement):
    """A JSON object from its arguments: key, value, key, value…"""

    type = JSON()
    name = "json_object"
    inherit_cache = True


class _JsonArrayAgg(FunctionElement):
    """The aggregate of its argument as a JSON array, `[]` when there is no row."""

    type = JSON()
    name = "json_array_agg"
    inherit_cache = True


class _JsonValue(FunctionElement):
    """A JSON column nested as JSON (SQLite keeps JSON as text: json() makes it JSON again)."""

    type = JSON()
    name = "json_value"
    inherit_cache = True


def _compile_as(template: str):
    def compile_element(element, compiler, **kw):
        return template % compiler.process(element.clauses, **kw)
    return compile_element


# Each function's SQL: on SQLite (the default), on PostgreSQL.
for _element, (_default, _postgresql) in {
    _JsonObject: ("json_object(%s)", "json_build_object(%s)"),
    _JsonArrayAgg: ("json_group_array(%s)", "coalesce(json_agg(%s), '[]'::json)"),
    _JsonValue: ("json(%s)", "%s"),
}.items():
    compiles(_element)(_compile_as(_default))
    compiles(_element, "postgresql")(_compile_as(_postgresql))


def json_rows(where: ColumnElement[bool], **columns: ColumnElement[Any]):
    """A scalar subquery: the rows matching `where`, as a JSON array of objects with `columns`
    as keys. Correlates with the enclosing query, so `where` may name its tables.

    Values come back as JSON gives them: datetimes as ISO text (`json_datetime`), booleans as
    true/false on PostgreSQL and 1/0 on SQLite. Order is not guaranteed: sort in Python.
    """
    pairs: list[Any] = []
    for key, column in columns.items():
        assert key.isidentifier(), key  # written into the SQL as a literal
        pairs += [literal_column(f"'{key}'"), _JsonValue(column) if isinstance(column.type, JSON) else column]
    return select(_JsonArrayAgg(_JsonObject(*pairs))).where(where).scalar_subquery()


def json_datetime(value: str | None) -> datetime | None:
    """A datetime column as `json_rows` returns it (naive UTC, as every datetime stored here)."""
    return datetime.fromisoformat(value) if value else None
