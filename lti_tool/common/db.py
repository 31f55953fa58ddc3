"""Database helpers shared by the areas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blinker import Namespace

from sqlalchemy import (JSON, Boolean, ColumnElement, DateTime, Float, Integer, LargeBinary, String, Text, case, cast,
                        func, inspect, literal_column, null, select)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Dialect
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


# --- statements run straight on the driver ---------------------------------------------------
# The launch's one statement is compiled once (CompiledOnce) and run on a DBAPI cursor of a
# pooled connection: SQLAlchemy's execution machinery (its Connection, execution context and
# result objects, switching the connection's isolation level through execution options) costs
# more CPU than the driver itself for such a statement.

driver_statement = Namespace().signal("driver-statement")
"""Sent with `statement` (its SQL) just before a statement runs straight on the driver
(CompiledOnce.first): SQLAlchemy's events never see those."""


def session_in_transaction() -> bool:
    """Whether this request's ORM session has begun a transaction. Asking does not create the
    session: a launch whose page comes from the page cache never needs one."""
    return db.session.registry.has() and db.session().in_transaction()


@dataclass(frozen=True)
class DriverCursor:
    """A DBAPI cursor and the dialect its statements are compiled for."""

    dialect: Dialect
    cursor: Any


@contextmanager
def driver_cursor() -> Iterator[DriverCursor]:
    """A cursor for statements run straight on the driver, for a request whose only write is one
    statement, or whose writes each stand on their own: on a pooled connection in autocommit
    mode (each statement commits at once), handed back to the pool as it was found. If the
    request's session has begun a transaction, on that transaction's connection instead: what is
    written then commits or rolls back with the rest of it.

    A connection that fails in the block is thrown away (its state is unknown), never handed back:
    after a dropped connection or a restarted server the pool opens a new one."""
    if session_in_transaction():
        connection = db.session.connection()
        with closing(connection.connection.cursor()) as cursor:
            yield DriverCursor(connection.dialect, cursor)
        return
    engine = db.engine
    dialect = engine.dialect
    pooled = engine.raw_connection()
    try:
        dialect.set_isolation_level(pooled.dbapi_connection, "AUTOCOMMIT")
        with closing(pooled.cursor()) as cursor:
            yield DriverCursor(dialect, cursor)
        dialect.reset_isolation_level(pooled.dbapi_connection)
    except BaseException:
        pooled.invalidate()
        raise
    finally:
        pooled.close()


class CompiledOnce:
    """A statement compiled once per dialect and run on the driver (driver_cursor).

    Connection.execute looks every statement up in SQLAlchemy's compiled cache by a key built
    from the whole statement, on every run: for a statement that joins fifteen tables, building
    and hashing that key costs more than the rest of the client's work. Parameters are bound as
    execute binds them (each type's bind processor); rows come as the driver returns them, so its
    columns may only be integers and text, which need no conversion (checked when compiled).
    """

    def __init__(self, statement) -> None:
        for column in statement.exported_columns:
            if not isinstance(column.type, (Integer, String)):
                raise TypeError(f"CompiledOnce returns {column} as the driver gives it: only integers and text")
        self._statement = statement
        self._compiled: dict[tuple, tuple[Any, list[tuple[str, Callable[[Any], Any]]]]] = {}

    def _compile(self, dialect) -> tuple[Any, list[tuple[str, Callable[[Any], Any]]]]:
        compiled = self._statement.compile(dialect=dialect)
        processors = []
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((name, process))
        return compiled, processors

    def first(self, driver: DriverCursor, params: dict[str, Any]) -> tuple | None:
        """Run the statement (one that returns rows: a SELECT, or a write with RETURNING) with
        `params`: its first row as the driver returns it, or None."""
        dialect = driver.dialect
        # What its SQL depends on: the driver, its parameter style, the server's version.
        kind = (type(dialect), dialect.paramstyle, dialect.server_version_info)
        found = self._compiled.get(kind)
        if found is None:
            found = self._compiled[kind] = self._compile(dialect)
        compiled, processors = found
        values = compiled.construct_params(params)
        for name, process in processors:
            values[name] = process(values[name])
        driver_statement.send(dialect, statement=compiled.string)
        driver.cursor.execute(compiled.string,
                              tuple(values[name] for name in compiled.positiontup) if compiled.positional else values)
        return driver.cursor.fetchone()


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


class _JsonArray(FunctionElement):
    """A JSON array of its arguments."""

    type = JSON()
    name = "json_array"
    inherit_cache = True


class _JsonRow(FunctionElement):
    """The row of a table (its columns are the arguments) as a JSON object by column name, NULL
    where an outer join found none. See json_row."""

    type = JSON()
    name = "json_row"
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
    _JsonArray: ("json_array(%s)", "json_build_array(%s)"),
}.items():
    compiles(_element)(_compile_as(_default))
    compiles(_element, "postgresql")(_compile_as(_postgresql))


def _sql_key(name: str):
    assert name.isidentifier(), name  # written into the SQL as a literal
    return literal_column(f"'{name}'")


def _json_object(columns: dict[str, ColumnElement[Any]]) -> _JsonObject:
    """A JSON object of `columns` by key, JSON columns nested as JSON."""
    pairs: list[Any] = []
    for key, column in columns.items():
        pairs += [_sql_key(key), _JsonValue(column) if isinstance(column.type, JSON) else column]
    return _JsonObject(*pairs)


@compiles(_JsonRow)
def _json_row_by_columns(element, compiler, **kw):
    """SQLite has no whole-row value: an object of the columns, binary ones as hex."""
    columns = list(element.clauses)
    row = _json_object({
        column.name: case((column.is_(None), null()), else_=func.hex(column))  # hex(NULL) is an empty string
        if isinstance(column.type, LargeBinary) else column
        for column in columns
    })
    key = next(iter(columns[0].table.primary_key))  # NULL only where the outer join found no row
    return compiler.process(_JsonValue(case((key.is_(None), null()), else_=row)), **kw)


@compiles(_JsonRow, "postgresql")
def _json_row_whole(element, compiler, **kw):
    """PostgreSQL turns the whole row into JSON (short SQL, whatever the columns); binary columns
    are written over as hex, as bytea's own text depends on the server's bytea_output."""
    columns = list(element.clauses)
    row = columns[0].table.table_valued()
    binary = [column for column in columns if isinstance(column.type, LargeBinary)]
    if not binary:
        return compiler.process(func.row_to_json(row), **kw)
    pairs: list[Any] = []
    for column in binary:
        pairs += [_sql_key(column.name), func.encode(column, literal_column("'hex'"))]
    return compiler.process(func.to_jsonb(row).op("||")(func.jsonb_build_object(*pairs)), **kw)


def json_rows(where: ColumnElement[bool], **columns: ColumnElement[Any]):
    """A scalar subquery: the rows matching `where`, as a JSON array of objects with `columns`
    as keys. Correlates with the enclosing query, so `where` may name its tables.

    Values come back as JSON gives them: datetimes as ISO text (`json_datetime`), booleans as
    true/false on PostgreSQL and 1/0 on SQLite. Order is not guaranteed: sort in Python.
    """
    return select(_JsonArrayAgg(_json_object(columns))).where(where).scalar_subquery()


def json_datetime(value: str | None) -> datetime | None:
    """A datetime column as `json_rows` returns it (naive UTC, as every datetime stored here)."""
    return datetime.fromisoformat(value) if value else None


# --- whole rows as JSON text --------------------------------------------------------------------
# A statement that returns many tables' rows reads them as one text value: the driver decodes one
# column, not one per table column, and the text can be digested as it came.


def json_row(model) -> ColumnElement[Any]:
    """The row of `model`'s table as a JSON object by column name (NULL if an outer join found
    none), to be read back with row_values."""
    return _JsonRow(*model.__table__.columns)


def json_array_text(*values: ColumnElement[Any]) -> ColumnElement[str]:
    """A JSON array of `values` (json_row, json_rows…), as text."""
    return cast(_JsonArray(*(value if isinstance(value, _JsonRow) else _JsonValue(value) for value in values)), Text)


def _from_json(column) -> Callable[[Any], Any] | None:
    """How a column's value as json_row gives it becomes the value the ORM loads; None: as is."""
    kind = column.type
    if isinstance(kind, DateTime):
        return json_datetime
    if isinstance(kind, Float):
        return float
    if isinstance(kind, LargeBinary):
        return bytes.fromhex
    if isinstance(kind, Boolean):
        return bool  # SQLite gives 1/0
    if isinstance(kind, (Integer, String, JSON)):
        return None
    raise TypeError(f"json_row cannot read back {column} ({kind!r})")


_DECODERS: dict[type, list[tuple[str, str, Callable[[Any], Any] | None]]] = {}


def row_values(model, row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A json_row of `model` as the ORM's attribute values (what loading the row would give), or
    None if there was no row."""
    if row is None:
        return None
    decoders = _DECODERS.get(model)
    if decoders is None:
        mapper = inspect(model)
        decoders = _DECODERS[model] = [(column.name, mapper.get_property_by_column(column).key, _from_json(column))
                                       for column in model.__table__.columns]
    values = {}
    for name, key, convert in decoders:
        value = row[name]
        values[key] = convert(value) if convert is not None and value is not None else value
    return values
