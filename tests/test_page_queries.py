"""What a launch reads to build its first page: each thing once, and only what the page shows.

Not a timing test (timings live in bench/launch.py): these count SQL statements, which are
deterministic, so that a change that adds a round trip to every launch is seen here.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
from markupsafe import Markup
from sqlalchemy import event, select, text

from lti_tool.catalogue.text import paragraphs
from lti_tool.common.db import driver_statement
from lti_tool.extensions import db
from lti_tool.lti.models import Platform
from lti_tool.lti.services import open_launch_session

from .lti_platform import CLAIM, landing_url

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


@contextmanager
def statements(app):
    """Every statement sent to the database: through SQLAlchemy, or straight on the driver."""
    seen: list[str] = []

    def record(statement: str) -> None:
        seen.append(" ".join(statement.split()).lower())

    def through_sqlalchemy(conn, cursor, statement, params, context, executemany):
        record(statement)

    def on_driver(dialect, statement):
        record(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", through_sqlalchemy)
    driver_statement.connect(on_driver)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", through_sqlalchemy)
        driver_statement.disconnect(on_driver)


def launch(platform, client, item: str, sub: str = "learner-1"):
    return platform.launch(client, "learner", sub=sub, link_id="link-" + item, **{
        CLAIM + "custom": {"catalogue_item": item},
        AGS_CLAIM: {"scope": [], "lineitem": platform.issuer + "/lineitems/1/lineitem"},
    })


def reads_of(seen: list[str], table: str) -> int:
    """Statements reading `table`, directly or through a join (a SELECT, or a SELECT with a
    data-modifying CTE ahead of it)."""
    return sum(1 for s in seen if s.startswith(("select", "with")) and re.search(rf"\b(from|join) {table}\b", s))


def on_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


LANDING_TABLES = ("lti_user", "context", "resource_link", "activity", "assignment_policy", "checklist_ticks",
                  "grade", "centre_settings", "llm_config", "draft", "section_read", "quiz_attempt",
                  "wheel_rating", "submission")
OPENING = "insert into launch_session"


def test_a_returning_learner_launch_reads_and_writes_in_one_statement(app, client, platform):
    launch(platform, client, "m2.t1")  # the first launch stores the user, course, link and activity
    with statements(app) as seen:
        response = launch(platform, client, "m2.t1")
    assert response.status_code == 200
    assert 'data-testid="learner-page"' in response.get_data(as_text=True)
    # The rows the launch finds, the page's one-per-page rows (policy, settings, ticks, grade)
    # and the learner's own work: each table read once, all in one statement ...
    for table in LANDING_TABLES:
        assert reads_of(seen, table) == 1, table
    if on_postgresql(app):
        # ... which also writes the launch session (a CTE): one round trip in all
        assert len(seen) == 1 and seen[0].startswith("with new_session as (" + OPENING), "\n".join(seen)
    else:
        # ... after the INSERT of the launch session (SQLite writes nothing in a CTE)
        assert len(seen) == 2 and seen[0].startswith(OPENING) and seen[1].startswith("select"), "\n".join(seen)


def test_a_returning_learner_launch_commits_its_one_row_without_a_transaction(app, client, platform, monkeypatch):
    """BEGIN and COMMIT would be two more round trips: the session row is committed as soon as
    its INSERT has run, before the page is rendered (seen from another connection)."""
    import lti_tool.activities.views as activities_views

    launch(platform, client, "m2.t1")
    with app.app_context():
        engine = db.engine
    committed_before_rendering = []

    def render_landing(session, token, **kwargs):
        with engine.connect() as other:  # another connection sees only what is committed
            committed_before_rendering.append(other.execute(text("SELECT count(*) FROM launch_session")).scalar_one())
        return real_render_landing(session, token, **kwargs)

    real_render_landing = activities_views.render_landing
    monkeypatch.setattr(activities_views, "render_landing", render_landing)
    assert launch(platform, client, "m2.t1").status_code == 200
    assert committed_before_rendering == [2]
    # A first launch (user, course, link and session written together) is one transaction.
    assert launch(platform, client, "m2.t1", sub="newcomer").status_code == 200
    assert committed_before_rendering == [2, 2]


def test_a_launch_whose_page_fails_stores_nothing(app, client, platform, monkeypatch):
    """A returning learner's session row commits before the page renders: if the page then
    fails, the row is deleted again (its token never reached the browser). A first launch
    rolls back its user, course and link with it."""
    import lti_tool.activities.views as activities_views
    from lti_tool.lti.models import LaunchSession, LtiUser

    launch(platform, client, "m2.t1")

    def broken_page(session, token, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr(activities_views, "render_landing", broken_page)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production, not raise into the test
    assert launch(platform, client, "m2.t1").status_code == 500
    assert launch(platform, client, "m2.t1", sub="newcomer").status_code == 500
    with app.app_context():
        assert len(db.session.execute(select(LaunchSession.id)).all()) == 1
        assert db.session.execute(select(LtiUser.sub)).scalars().all() == ["learner-1"]
    # The next launch works and reads in one statement again (autocommit was ended cleanly).
    monkeypatch.undo()
    with statements(app) as seen:
        assert launch(platform, client, "m2.t1").status_code == 200
    assert reads_of(seen, "lti_user") == 1 and reads_of(seen, "draft") == 1


def test_a_launch_that_changes_stored_rows_writes_them_in_one_transaction(app, client, platform):
    """A new title or name is more than the session row: the launch reads and writes in one
    transaction, so a refusal after the first write stores nothing."""
    from lti_tool.lti.models import Context, LaunchSession, LtiUser, ResourceLink

    launch(platform, client, "m2.t1")
    renamed = platform.launch(client, "learner", sub="learner-1", link_id="link-m2.t1", name="Camille Martin-Roy", **{
        CLAIM + "custom": {"catalogue_item": "m2.t1"},
        AGS_CLAIM: {"scope": [], "lineitem": platform.issuer + "/lineitems/1/lineitem"}})
    assert renamed.status_code == 200
    with app.app_context():
        assert db.session.execute(select(LtiUser.name)).scalar_one() == "Camille Martin-Roy"
    # The same link claimed by another course: the new course is inserted, then the launch is
    # refused, and the course goes with the rollback.
    moved = platform.launch(client, "learner", sub="learner-1", link_id="link-m2.t1", follow=False,
                            **{CLAIM + "context": {"id": "course-elsewhere"}})
    assert moved.status_code == 404
    with app.app_context():
        assert db.session.execute(select(Context.context_id)).scalars().all() == ["course-101"]
        assert db.session.execute(select(ResourceLink.context_pk)).scalars().all() == [
            db.session.execute(select(Context.id)).scalar_one()]
        assert len(db.session.execute(select(LaunchSession.id)).all()) == 2


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="synchronous_commit is PostgreSQL's (DATABASE_URL)")
def test_a_launch_commits_without_waiting_for_the_disk_and_only_its_own_transaction(app, client, platform):
    def synchronous_commit() -> str:
        return db.session.execute(text("SHOW synchronous_commit")).scalar_one()

    platform_id = db.session.execute(select(Platform.id)).scalar_one()
    assert synchronous_commit() == "on"
    open_launch_session(platform_id, platform.claims("nonce-1"), "fr", 60)
    assert synchronous_commit() == "off"  # the launch's transaction, set by its one INSERT
    db.session.commit()
    assert synchronous_commit() == "on"  # the next transaction waits for the disk again
    # ... through the launch itself: no statement of its own for it
    with statements(app) as seen:
        assert launch(platform, client, "m2.t1").status_code == 200
    assert not [s for s in seen if s.startswith("set")], seen
    assert any(OPENING in s and "set_config" in s for s in seen)


def test_a_first_launch_stores_user_course_and_link_as_the_claims_say(app, client, platform):
    """A learner's first launch inserts their user, the course and the link with the claims' values
    already in the INSERTs: no UPDATE follows in the same launch."""
    from lti_tool.lti.models import Context, LtiUser, ResourceLink

    with statements(app) as seen:
        response = platform.launch(client, "learner", sub="newcomer", link_id="link-new", name="Lou Bernard", **{
            CLAIM + "context": {"id": "course-new", "title": "CAP Cuisine", "label": "CUI1"},
            CLAIM + "resource_link": {"id": "link-new", "title": "Thème 1"},
            CLAIM + "custom": {"catalogue_item": "m2.t1"},
            AGS_CLAIM: {"scope": [], "lineitem": platform.issuer + "/lineitems/9/lineitem"}})
    assert response.status_code == 200
    assert not [s for s in seen if s.startswith("update")], "\n".join(seen)
    with app.app_context():
        user = db.session.query(LtiUser).filter_by(sub="newcomer").one()
        course = db.session.query(Context).filter_by(context_id="course-new").one()
        link = db.session.query(ResourceLink).filter_by(resource_link_id="link-new").one()
        assert user.name == "Lou Bernard"
        assert (course.title, course.label) == ("CAP Cuisine", "CUI1")
        assert (link.title, link.custom, link.lineitem_url) == (
            "Thème 1", {"catalogue_item": "m2.t1"}, platform.issuer + "/lineitems/9/lineitem")


def test_a_wheel_theme_shows_the_ratings_it_reads(app, client, platform):
    url = landing_url(launch(platform, client, "m4.t3"))
    ratings = {key: 7 for key in ("goal_setting", "ai_tool_selection", "human_touch", "resource_allocation",
                                  "feedback_mechanism", "evaluation_adaptation")}
    assert client.post(url + "exercises/m4.t3.e1/wheel", json={"ratings": ratings}).status_code == 200
    with statements(app) as seen:
        page = launch(platform, client, "m4.t3").get_data(as_text=True)
    assert reads_of(seen, "wheel_rating") == 1
    assert "<svg" in page
    # A page after the launch (its token URL) reads them the same way: one statement
    with statements(app) as seen:
        again = client.get(url).get_data(as_text=True)
    assert reads_of(seen, "wheel_rating") == 1 and reads_of(seen, "draft") == 1
    assert "<svg" in again


def test_catalogue_paragraphs_are_escaped_and_split_on_blank_lines():
    html = paragraphs("Premier <b>temps</b>.\n\n  \n\nSecond & dernier\nsur deux lignes.")
    assert isinstance(html, Markup)
    assert html == Markup("<p>Premier &lt;b&gt;temps&lt;/b&gt;.</p><p>Second &amp; dernier\nsur deux lignes.</p>")
    assert paragraphs("") == Markup("")


def test_generic_plans_are_added_to_the_connections_own_options():
    from lti_tool import create_app

    url = "postgresql+psycopg://tool@127.0.0.1:1/mentorat?options=-c%20statement_timeout%3D5000"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)  # no connection is made here
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"] == (
        "-c statement_timeout=5000 -c plan_cache_mode=force_generic_plan")
    off = create_app("test", SQLALCHEMY_DATABASE_URI=url, PG_GENERIC_PLANS=False)
    assert "connect_args" not in off.config["SQLALCHEMY_ENGINE_OPTIONS"]
    sqlite = create_app("test", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert "connect_args" not in sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="plan_cache_mode is PostgreSQL's (DATABASE_URL)")
def test_the_tools_postgresql_connections_plan_prepared_statements_once(app):
    assert db.session.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_generic_plan"
