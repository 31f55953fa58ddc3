"""What a launch reads and writes: each thing once, and only what the page shows.

Not a timing test (timings live in bench/launch.py): these count SQL statements, which are
deterministic, so that a change that adds a round trip to every launch is seen here.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from markupsafe import Markup
from sqlalchemy import event, select

from lti_tool.catalogue.text import paragraphs
from lti_tool.extensions import db

from .lti_platform import CLAIM, landing_url

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


@contextmanager
def statements(app):
    """Every statement the app sends to the database."""
    seen: list[str] = []

    def record(statement: str) -> None:
        seen.append(" ".join(statement.split()).lower())

    def through_sqlalchemy(conn, cursor, statement, params, context, executemany):
        record(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", through_sqlalchemy)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", through_sqlalchemy)


def launch(platform, client, item: str, sub: str = "learner-1"):
    return platform.launch(client, "learner", sub=sub, link_id="link-" + item, **{
        CLAIM + "custom": {"catalogue_item": item},
        AGS_CLAIM: {"scope": [], "lineitem": platform.issuer + "/lineitems/1/lineitem"},
    })


def reads_of(seen: list[str], table: str) -> int:
    """Statements reading `table`, directly or through a join."""
    return sum(1 for s in seen if s.startswith("select") and re.search(rf"\b(from|join) {table}\b", s))


# What a returning learner's launch on a theme (m2.t1: exercises, one with the AI assistant, a
# quiz) runs, statement by statement: the tables each SELECT reads, then the one INSERT.
LANDING_STATEMENTS = [
    {"lti_user", "context", "resource_link", "link_opening"},  # lti: the user, course and link the
                                                               # claims name, and whether the user opened it
    "insert into launch_session",               # lti: the launch session
    {"activity"},                               # activities: what the link delivers
    {"draft"}, {"section_read"}, {"quiz_attempt"},  # activities: the learner's work, each table once
    {"centre_settings", "assignment_policy"},   # declarations: the centre's scale, the assignment's policy
    {"checklist_ticks"}, {"submission"},        # declarations: the learner's ticks and submissions
    {"grade"},                                  # grading: the learner's latest grade
    {"llm_config"},                             # llm: the centre's assistant, beside the AI exercise
    {"ai_notice_ack"},                          # llm: whether the learner read the notice about it
]
OPENING = "insert into launch_session"
TABLES = re.compile(r"\b(?:from|join) (\w+)")


def test_a_returning_learner_launch_reads_each_row_once_and_writes_only_its_session(app, client, platform):
    """Twelve statements: each area reads its own rows once (the areas never read each other's
    tables), the learner's work one table at a time; the only write is the session."""
    launch(platform, client, "m2.t1")  # the first launch stores the user, course, link and activity
    with statements(app) as seen:
        response = launch(platform, client, "m2.t1")
    assert response.status_code == 200
    assert 'data-testid="learner-page"' in response.get_data(as_text=True)
    ran = [set(TABLES.findall(s)) if s.startswith("select") else s[:len(OPENING)] for s in seen]
    assert ran == LANDING_STATEMENTS, "\n".join(seen)


def test_a_launch_whose_page_fails_stores_nothing(app, client, platform, monkeypatch):
    """A launch is one transaction: if its page fails, neither its session nor a first launch's
    user, course and link stay."""
    from lti_tool.lti.models import LaunchSession, LtiUser

    launch(platform, client, "m2.t1")

    def broken_page(session, token, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setitem(app.extensions, "lti_tool.landing_page", broken_page)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production, not raise into the test
    assert launch(platform, client, "m2.t1").status_code == 500
    assert launch(platform, client, "m2.t1", sub="newcomer").status_code == 500
    with app.app_context():
        assert len(db.session.execute(select(LaunchSession.id)).all()) == 1
        assert db.session.execute(select(LtiUser.sub)).scalars().all() == ["learner-1"]
    monkeypatch.undo()
    assert launch(platform, client, "m2.t1").status_code == 200


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
    # A page after the launch (its token URL) reads them the same way
    with statements(app) as seen:
        again = client.get(url).get_data(as_text=True)
    assert reads_of(seen, "wheel_rating") == 1 and reads_of(seen, "draft") == 1
    assert "<svg" in again


def test_catalogue_paragraphs_are_escaped_and_split_on_blank_lines():
    html = paragraphs("Premier <b>temps</b>.\n\n  \n\nSecond & dernier\nsur deux lignes.")
    assert isinstance(html, Markup)
    assert html == Markup("<p>Premier &lt;b&gt;temps&lt;/b&gt;.</p><p>Second &amp; dernier\nsur deux lignes.</p>")
    assert paragraphs("") == Markup("")
