"""common.db: many rows as one JSON value, and requests that commit statement by statement.

Both run on the suite's database (SQLite, or PostgreSQL with DATABASE_URL): each compiles to
its own dialect's SQL.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import and_, select, text

from lti_tool import create_app
from lti_tool.activities.models import Activity, Draft
from lti_tool.common.db import begin_autocommit, end_autocommit, json_datetime, json_rows
from lti_tool.extensions import db
from lti_tool.lti.models import Context, LtiUser, Platform, ResourceLink
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


def test_a_connection_used_without_a_transaction_goes_back_to_the_pool_transactional(database_url):
    """begin_autocommit() lasts for one request: the next one on the same connection has a transaction."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})

    def committed_rows() -> int:  # seen from another connection: only what is committed
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
            return other.execute(text("SELECT count(*) FROM platform")).scalar_one()

    try:
        with app.app_context():
            begin_autocommit()
            platform_id = _register_platform()  # a flush: its INSERT commits by itself
            db.session.remove()
        with app.app_context():
            assert committed_rows() == 1
        with app.app_context():  # the same pooled connection, in a transaction again
            db.session.execute(text("UPDATE platform SET name = 'renamed' WHERE id = :id"), {"id": platform_id})
            db.session.rollback()
            assert db.session.execute(select(text("name")).select_from(text("platform"))).scalar_one() != "renamed"
        with app.app_context():
            begin_autocommit()
            db.session.execute(text("SELECT 1"))
            assert end_autocommit() is True and end_autocommit() is False
            db.session.execute(text("UPDATE platform SET name = 'renamed' WHERE id = :id"), {"id": platform_id})
            db.session.rollback()  # after end_autocommit(), writes wait for a commit
            assert db.session.execute(select(text("name")).select_from(text("platform"))).scalar_one() != "renamed"
        with app.app_context():  # a request that has started a transaction stays in it
            db.session.execute(text("SELECT 1"))
            begin_autocommit()
            assert end_autocommit() is False
            db.session.rollback()
    finally:
        with app.app_context():
            empty_tables()
            db.engine.dispose()
