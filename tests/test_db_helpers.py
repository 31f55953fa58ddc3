"""common.db: rows as JSON values, statements compiled once, and connections that commit statement by statement.

Both run on the suite's database (SQLite, or PostgreSQL with DATABASE_URL): each compiles to
its own dialect's SQL.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Numeric, and_, bindparam, create_engine, insert, inspect, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lti_tool import create_app
from lti_tool.activities.models import Activity, Draft
from lti_tool.common.db import (CompiledOnce, driver_cursor, driver_statement, json_array_text, json_datetime,
                                json_row, json_rows, row_values)
from lti_tool.extensions import db
from lti_tool.llm.models import LlmConfig
from lti_tool.lti.models import Context, LtiUser, Platform, ResourceLink
from lti_tool.marking.models import Grade
from lti_tool.lti.services import PlatformSpec, save_platform

from .conftest import empty_tables


@pytest.fixture
def activity(app, platform):
    user = LtiUser(platform_id=db.session.execute(select(Platform.id)).scalar_one(), sub="learner-1", name="Camille")
    db.session.add(user)
    db.session.flush()
    context = Context(platform_id=user.platform_id, context_id="course-1")
    db.session.add(context)
    db.session.flush()
    link = ResourceLink(platform_id=user.platform_id, context_pk=context.id, resource_link_id="link-1")
    db.session.add(link)
    db.session.flush()
    activity = Activity(resource_link_pk=link.id, catalogue_item="m2.t1", bound_by="deep_linking")
    db.session.add(activity)
    db.session.commit()
    return activity, user


def _register_platform() -> int:
    return save_platform(PlatformSpec(issuer="https://moodle.test", client_id="c", deployment_ids=("d",),
                                      auth_login_url="https://moodle.test/auth", auth_token_url="https://moodle.test/token",
                                      key_set_url="https://moodle.test/jwks")).id


def _drafts_of(activity: Activity, user: LtiUser):
    column = json_rows(and_(Draft.activity_id == Activity.id, Draft.user_pk == user.id),
                       exercise_id=Draft.exercise_id, answers=Draft.answers, done=Draft.done,
                       updated_at=Draft.updated_at)
    return db.session.execute(select(Activity.id, column).where(Activity.id == activity.id)).one()[1]


def test_json_rows_is_an_empty_list_without_rows(activity):
    assert _drafts_of(*activity) == []


def test_json_rows_gives_each_row_with_nested_json_datetimes_and_booleans(activity):
    activity, user = activity
    when = datetime(2026, 12, 3, 15, 4, 5, 123456)
    db.session.add_all([
        Draft(activity_id=activity.id, user_pk=user.id, exercise_id="m2.t1.e1", content_version="1",
              answers={"prompt": "Écris « bonjour »", "list": [1, None, {"x": "<b>"}]}, done=True, updated_at=when),
        Draft(activity_id=activity.id, user_pk=user.id, exercise_id="m2.t1.e2", content_version="1",
              answers={}, done=False, updated_at=when),
    ])
    other = LtiUser(platform_id=user.platform_id, sub="learner-2")
    db.session.add(other)
    db.session.flush()
    db.session.add(Draft(activity_id=activity.id, user_pk=other.id, exercise_id="m2.t1.e1", content_version="1",
                         answers={"prompt": "not mine"}, done=False, updated_at=when))
    db.session.commit()
    rows = sorted(_drafts_of(activity, user), key=lambda row: row["exercise_id"])
    assert [row["exercise_id"] for row in rows] == ["m2.t1.e1", "m2.t1.e2"]  # only this learner's
    assert rows[0]["answers"] == {"prompt": "Écris « bonjour »", "list": [1, None, {"x": "<b>"}]}  # JSON, not text
    assert rows[1]["answers"] == {}
    assert [bool(row["done"]) for row in rows] == [True, False]
    assert json_datetime(rows[0]["updated_at"]) == when
    assert json_datetime(None) is None


def test_json_rows_keys_must_be_identifiers():
    with pytest.raises(AssertionError):
        json_rows(Draft.id == 1, **{"bad key'": Draft.id})


_RENAME = text("UPDATE platform SET name = :name WHERE id = :id")
_RENAME_ONCE = CompiledOnce(update(Platform).where(Platform.id == bindparam("pid")).values(name=bindparam("new_name"))
                            .returning(Platform.id))


@pytest.fixture
def one_connection_app(database_url):
    """An app whose pool holds one connection, with a platform committed, and an engine of its own
    that sees only what is committed."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    observer = create_engine(database_url)
    with app.app_context():
        platform_id = _register_platform()
        db.session.commit()

    def committed_names() -> list[str]:
        with observer.connect() as other:
            return list(other.execute(text("SELECT name FROM platform ORDER BY id")).scalars())

    yield app, platform_id, committed_names
    observer.dispose()
    with app.app_context():
        empty_tables()
        db.engine.dispose()


def _pooled_dbapi_connection():
    """The DBAPI connection the pool hands out next (the pool holds one)."""
    return db.session.connection().connection.dbapi_connection


def test_a_driver_cursor_commits_each_statement_and_hands_the_connection_back_transactional(one_connection_app):
    """driver_cursor() commits each statement at once, on the pool's connection, which the next
    user gets back unchanged: in a transaction that a rollback undoes."""
    app, platform_id, committed_names = one_connection_app
    with app.app_context():
        with driver_cursor() as driver:
            assert _RENAME_ONCE.first(driver, {"pid": platform_id, "new_name": "first"}) == (platform_id,)
            assert _RENAME_ONCE.first(driver, {"pid": -1, "new_name": "none"}) is None  # no row
            assert committed_names() == ["first"]  # before the block ends: it has committed
            used = driver.cursor.connection
        assert not db.session.registry.has()  # no ORM session was needed
        assert _pooled_dbapi_connection() is used  # the same connection, back in the pool ...
        db.session.execute(_RENAME, {"name": "second", "id": platform_id})
        db.session.rollback()  # ... transactional again
        assert committed_names() == ["first"]


def test_a_driver_cursor_joins_the_transaction_the_session_has_begun(one_connection_app):
    app, platform_id, committed_names = one_connection_app
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        with driver_cursor() as driver:
            assert driver.cursor.connection is _pooled_dbapi_connection()
            _RENAME_ONCE.first(driver, {"pid": platform_id, "new_name": "third"})
        assert db.session.execute(select(Platform.name)).scalar_one() == "third"  # in the session's transaction,
        assert "third" not in committed_names()  # not committed
        db.session.rollback()
        assert "third" not in committed_names()


def test_a_connection_that_fails_in_a_driver_cursor_is_thrown_away(one_connection_app):
    """A statement that fails leaves its connection in an unknown state: the pool gets a new one."""
    app, platform_id, committed_names = one_connection_app
    with app.app_context():
        with pytest.raises(db.engine.dialect.loaded_dbapi.Error):
            with driver_cursor() as driver:
                failed = driver.cursor.connection
                driver.cursor.execute("SELECT * FROM no_such_table")
        assert db.engine.pool.checkedout() == 0
        assert _pooled_dbapi_connection() is not failed
        db.session.execute(_RENAME, {"name": "after", "id": platform_id})
        db.session.rollback()  # the new connection is transactional
        assert "after" not in committed_names()
        with driver_cursor() as driver:
            _RENAME_ONCE.first(driver, {"pid": platform_id, "new_name": "after"})
        assert committed_names() == ["after"]


def test_a_driver_cursor_recovers_from_a_server_that_dropped_the_connection(one_connection_app, database_url):
    """The server ends the pooled connection (a restart, an idle timeout): the launch that finds
    it fails, the next one gets a new connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's (DATABASE_URL)")
    app, platform_id, committed_names = one_connection_app
    with app.app_context():
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.rollback()
    killer = create_engine(database_url)
    try:
        with killer.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    finally:
        killer.dispose()
    with app.app_context():
        with pytest.raises(db.engine.dialect.loaded_dbapi.OperationalError):
            with driver_cursor() as driver:
                _RENAME_ONCE.first(driver, {"pid": platform_id, "new_name": "lost"})
        with driver_cursor() as driver:
            _RENAME_ONCE.first(driver, {"pid": platform_id, "new_name": "back"})
        assert committed_names() == ["back"]


def _as_loaded(row) -> dict:
    mapper = inspect(type(row))
    return {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs}


def test_json_row_reads_back_as_the_orm_loads_it(app, activity):
    """Every column type the launch statement reads (text, integers, booleans, JSON, datetimes,
    floats, binary), and no row at all, come back from json_row as loading them would give."""
    activity, user = activity
    platform = db.session.get(Platform, user.platform_id)
    platform.key_set = {"keys": [{"kid": "k1", "n": "é\\\"<b>"}]}
    draft = Draft(activity_id=activity.id, user_pk=user.id, exercise_id="m2.t1.e1", content_version="1",
                  answers={"prompt": "Écris « bonjour »", "list": [1, None, 2.5]}, done=True,
                  updated_at=datetime(2026, 12, 3, 15, 4, 5, 120000))
    config = LlmConfig(platform_id=platform.id, provider="mistral", model="mistral-small",
                       api_key_encrypted=bytes(range(256)) + b"\\x00", temperature=0.35, timeout=12.0,
                       max_tokens=400, updated_at=datetime(2026, 1, 2, 3, 4, 5))
    db.session.add_all([draft, config])
    db.session.commit()

    def read_back(model, row_id):
        text_value = db.session.execute(select(json_array_text(json_row(model))).where(model.id == row_id)).scalar_one()
        db.session.expire_all()
        values, loaded = row_values(model, json.loads(text_value)[0]), _as_loaded(db.session.get(model, row_id))
        assert values == loaded, model
        assert {key: type(value) for key, value in values.items()} == {key: type(value) for key, value in loaded.items()}
        return values

    for model, row in ((Platform, platform), (Draft, draft), (LlmConfig, config), (LtiUser, user)):
        read_back(model, row.id)
    config.api_key_encrypted, config.temperature, platform.key_set = None, None, None  # NULLs stay None
    db.session.commit()
    assert read_back(LlmConfig, config.id)["api_key_encrypted"] is None
    assert read_back(Platform, platform.id)["key_set"] is None
    missing = (select(json_array_text(json_row(Grade), json_row(Activity)))
               .select_from(Activity).outerjoin(Grade, Grade.activity_id == Activity.id))
    grade, found = json.loads(db.session.execute(missing).scalar_one())
    assert row_values(Grade, grade) is None and row_values(Activity, found)["id"] == activity.id


def test_json_row_refuses_a_column_it_cannot_read_back():
    class Base(DeclarativeBase):
        pass

    class Priced(Base):
        __tablename__ = "priced"
        id: Mapped[int] = mapped_column(primary_key=True)
        price: Mapped[Decimal] = mapped_column(Numeric(8, 2))

    with pytest.raises(TypeError, match="priced.price"):
        row_values(Priced, {"id": 1, "price": 3.5})


def test_a_statement_compiled_once_binds_and_returns_as_execute_does(app, activity):
    """Its parameters go through their types' bind processors (JSON, datetimes), positional or
    named as the dialect wants; its first row is what the driver returns; its SQL is announced
    on driver_statement, which SQLAlchemy's events do not see."""
    activity, user = activity
    when = datetime(2026, 12, 3, 15, 4, 5, 123456)
    insert_draft = insert(Draft).values(
        activity_id=bindparam("activity_id"), user_pk=bindparam("user_pk"), exercise_id=bindparam("exercise"),
        content_version="1", answers=bindparam("answers", type_=Draft.answers.type),
        done=False, updated_at=bindparam("when", type_=Draft.updated_at.type)).returning(Draft.id)
    compiled = CompiledOnce(insert_draft)
    announced = []

    def announce(dialect, statement):
        announced.append((dialect.name, statement))

    driver_statement.connect(announce)
    try:
        with driver_cursor() as driver:
            (draft_id,) = compiled.first(driver, {"activity_id": activity.id, "user_pk": user.id, "exercise": "m2.t1.e1",
                                                  "answers": {"prompt": "« oui »"}, "when": when})
            (again,) = compiled.first(driver, {"activity_id": activity.id, "user_pk": user.id, "exercise": "m2.t1.e2",
                                               "answers": {}, "when": when})
    finally:
        driver_statement.disconnect(announce)
    assert again == draft_id + 1
    assert len(announced) == 2 and announced[0][0] == db.engine.dialect.name
    assert announced[0][1].startswith("INSERT INTO draft")
    draft = db.session.get(Draft, draft_id)
    assert draft.answers == {"prompt": "« oui »"} and draft.updated_at == when
    read = CompiledOnce(select(json_array_text(json_row(Draft))).where(Draft.id == bindparam("id")))
    with driver_cursor() as driver:
        (value,) = read.first(driver, {"id": draft_id})
        assert read.first(driver, {"id": -1}) is None
    assert row_values(Draft, json.loads(value)[0])["answers"] == {"prompt": "« oui »"}
    with pytest.raises(TypeError, match="only integers and text"):
        CompiledOnce(select(Draft.updated_at))
