"""common.db: rows as JSON values, statements compiled once, and connections that commit statement by statement.

Both run on the suite's database (SQLite, or PostgreSQL with DATABASE_URL): each compiles to
its own dialect's SQL.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Numeric, and_, bindparam, create_engine, insert, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lti_tool import create_app
from lti_tool.activities.models import Activity, Draft
from lti_tool.common.db import (CompiledOnce, autocommit_connection, json_array_text, json_datetime, json_row,
                                json_rows, row_values)
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


def test_an_autocommit_connection_commits_each_statement_and_goes_back_to_the_pool_transactional(database_url):
    """autocommit_connection() commits each statement at once, on a pooled connection that the
    next user gets back in a transaction; inside the session's transaction it is that one."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})

    observer = create_engine(database_url)  # another connection sees only what is committed

    def committed_names() -> list[str]:
        with observer.connect() as other:
            return list(other.execute(text("SELECT name FROM platform ORDER BY id")).scalars())

    rename = text("UPDATE platform SET name = :name WHERE id = :id")
    try:
        with app.app_context():
            platform_id = _register_platform()
            db.session.commit()
        with app.app_context():
            with autocommit_connection() as connection:
                connection.execute(rename, {"name": "first", "id": platform_id})
                assert committed_names() == ["first"]  # before the block ends: it has committed
            # The pool's one connection, back in a transaction for the session.
            db.session.execute(rename, {"name": "second", "id": platform_id})
            db.session.rollback()
            assert committed_names() == ["first"]
        with app.app_context():  # a request that has started a transaction stays in it
            db.session.execute(text("SELECT 1"))
            with autocommit_connection() as connection:
                assert connection is db.session.connection()
                connection.execute(rename, {"name": "third", "id": platform_id})
            db.session.rollback()
            assert committed_names() == ["first"]
    finally:
        observer.dispose()
        with app.app_context():
            empty_tables()
            db.engine.dispose()


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
    named as the dialect wants; its rows are what the driver returns."""
    activity, user = activity
    when = datetime(2026, 12, 3, 15, 4, 5, 123456)
    insert_draft = insert(Draft).values(
        activity_id=bindparam("activity_id"), user_pk=bindparam("user_pk"), exercise_id=bindparam("exercise"),
        content_version="1", answers=bindparam("answers", type_=Draft.answers.type),
        done=False, updated_at=bindparam("when", type_=Draft.updated_at.type)).returning(Draft.id)
    compiled = CompiledOnce(insert_draft)
    with autocommit_connection() as connection:
        draft_id = compiled.execute(connection, {"activity_id": activity.id, "user_pk": user.id, "exercise": "m2.t1.e1",
                                                 "answers": {"prompt": "« oui »"}, "when": when}).scalar_one()
        again = compiled.execute(connection, {"activity_id": activity.id, "user_pk": user.id, "exercise": "m2.t1.e2",
                                              "answers": {}, "when": when}).scalar_one()
    assert again == draft_id + 1
    draft = db.session.get(Draft, draft_id)
    assert draft.answers == {"prompt": "« oui »"} and draft.updated_at == when
    read = CompiledOnce(select(json_array_text(json_row(Draft))).where(Draft.id == bindparam("id")))
    with autocommit_connection() as connection:
        value = read.execute(connection, {"id": draft_id}).scalar_one()
    assert row_values(Draft, json.loads(value)[0])["answers"] == {"prompt": "« oui »"}
    with pytest.raises(TypeError, match="only integers and text"):
        CompiledOnce(select(Draft.updated_at))
