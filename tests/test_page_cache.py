"""A returning learner's launch page, served again from the page cache while nothing it shows has
changed (lti_tool.common.pages, activities.services.page_key), and rendered afresh as soon as
anything has: their work, the trainer's policy, a grade, their name, another learner."""

from __future__ import annotations

import html

import pytest

import lti_tool.activities.views as activities_views
from lti_tool.admin.privacy import erase_person
from lti_tool.common.pages import page_cache
from lti_tool.extensions import db
from lti_tool.lti.services import user_by_sub

from .lti_platform import CLAIM, landing_url

ITEM = "m1.t2"  # a theme whose first exercise is a SMART goal (typed fields)
LINK = "link-cache"


@pytest.fixture
def renders(monkeypatch):
    """Each page render_landing made, as (user sub, token) — a page served from the cache is not."""
    made: list[tuple[str, str]] = []
    real = activities_views.render_landing

    def counting(session, token, **kwargs):
        made.append((session.user.sub, token))
        return real(session, token, **kwargs)

    monkeypatch.setattr(activities_views, "render_landing", counting)
    return made


def launch_activity(platform, client, sub: str = "learner-1", role: str = "learner", **claims):
    return platform.launch(client, role, sub=sub, link_id=LINK, **{CLAIM + "custom": {"catalogue_item": ITEM}},
                           **claims)


def open_activity(platform, client, sub: str = "learner-1", role: str = "learner", **claims):
    response = launch_activity(platform, client, sub, role, **claims)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def token_of(response) -> str:
    return landing_url(response).rstrip("/").rsplit("/", 1)[1]


def test_a_returning_learner_gets_the_same_page_with_their_new_token(app, client, platform, renders):
    open_activity(platform, client)  # first launch: stores the user, course and link
    second = open_activity(platform, client)  # returning: rendered once for these rows ...
    third = open_activity(platform, client)  # ... and served again
    assert [sub for sub, _ in renders] == ["learner-1", "learner-1"]
    second_token, third_token = token_of(second), token_of(third)
    assert second_token != third_token
    page = third.get_data(as_text=True)
    assert page == second.get_data(as_text=True).replace(second_token, third_token)
    assert page_cache().placeholder not in page
    # Its URLs carry the new launch's token, and they work.
    assert page.count(third_token) >= 3
    assert f'"/t/{third_token}/"' in page  # the address the page moves to
    assert client.get(landing_url(third)).status_code == 200
    assert client.get(f"/t/{third_token}/progress").status_code == 200


def test_a_page_is_rendered_again_when_the_learners_work_changes(app, client, platform, renders):
    open_activity(platform, client)
    url = landing_url(open_activity(platform, client))
    answers = {"specific": "Accueillir l'apprenti le lundi", "measurable": "3 entretiens",
               "achievable": "oui", "relevant": "intégration", "time_bound": "fin du mois"}
    assert client.put(url + "exercises/m1.t2.e1/draft", json={"answers": answers}).status_code == 200
    page = html.unescape(open_activity(platform, client).get_data(as_text=True))
    assert len(renders) == 3
    assert "Accueillir l'apprenti le lundi" in page
    assert client.post(url + "themes/m1.t2/read").status_code == 200
    open_activity(platform, client)
    assert len(renders) == 4


def test_a_page_is_rendered_again_when_the_trainer_changes_the_policy(app, client, platform, renders):
    open_activity(platform, client)
    before = open_activity(platform, client).get_data(as_text=True)
    assert "Travail sur table" not in before
    trainer = landing_url(open_activity(platform, client, sub="trainer-1", role="trainer"))
    assert client.put(trainer + "policy", json={"level": "no_ai", "note": "Travail sur table."}).status_code == 200
    after = html.unescape(open_activity(platform, client).get_data(as_text=True))
    assert "1 – Sans IA" in after and "Travail sur table." in after


def test_a_renamed_learner_sees_their_new_name(app, client, platform, renders):
    open_activity(platform, client)
    open_activity(platform, client)
    renamed = open_activity(platform, client, name="Camille Martin-Roy").get_data(as_text=True)
    assert "Camille Martin-Roy" in renamed
    again = open_activity(platform, client, name="Camille Martin-Roy").get_data(as_text=True)
    assert "Camille Martin-Roy" in again
    assert len(renders) == 4  # the renamed launch writes the name, its page is not cached; the next is new rows


def test_learners_never_get_each_others_page(app, client, platform, renders):
    for sub, name in (("learner-1", "Camille Martin"), ("learner-2", "Lou Bernard")):
        open_activity(platform, client, sub=sub, name=name)
        open_activity(platform, client, sub=sub, name=name)
    lou = open_activity(platform, client, sub="learner-2", name="Lou Bernard").get_data(as_text=True)
    camille = open_activity(platform, client, sub="learner-1", name="Camille Martin").get_data(as_text=True)
    assert "Lou Bernard" in lou and "Camille Martin" not in lou
    assert "Camille Martin" in camille and "Lou Bernard" not in camille
    assert [sub for sub, _ in renders] == ["learner-1", "learner-1", "learner-2", "learner-2"]


def test_a_trainer_launch_and_a_language_are_pages_of_their_own(app, client, platform, renders):
    open_activity(platform, client)
    french = open_activity(platform, client).get_data(as_text=True)
    english = open_activity(platform, client, **{CLAIM + "launch_presentation": {"locale": "en-GB"}})
    assert '<html lang="en">' in english.get_data(as_text=True) and '<html lang="fr">' in french
    open_activity(platform, client, sub="trainer-1", role="trainer")
    trainer = open_activity(platform, client, sub="trainer-1", role="trainer").get_data(as_text=True)
    assert 'data-testid="learner-page"' not in trainer
    assert len(renders) == 5  # a trainer's page shows the class's work, read elsewhere: never cached


def test_an_erasure_empties_the_cache(app, client, platform, renders):
    open_activity(platform, client)
    open_activity(platform, client)
    assert len(page_cache()) == 1
    erase_person(user_by_sub(platform.issuer, platform.client_id, "learner-1"))
    db.session.commit()
    assert len(page_cache()) == 0


@pytest.mark.parametrize("settings", [{"PAGE_CACHE_MB": 0}, {"FRAGMENT_CACHE": False}])
def test_the_cache_is_off_with_no_size_or_while_templates_are_edited(database_url, settings, monkeypatch):
    from flask.testing import FlaskClient

    from lti_tool import create_app
    from lti_tool.common.store import MemoryStore

    from .conftest import IsolatedClient, empty_tables
    from .lti_platform import TestPlatform

    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, LTI_STORE=MemoryStore(), SERVER_NAME="tool.test",
                     PREFERRED_URL_SCHEME="https", **settings)
    app.test_client_class = IsolatedClient
    assert "lti_tool_pages" not in app.extensions
    made = []
    real = activities_views.render_landing
    monkeypatch.setattr(activities_views, "render_landing", lambda s, t, **k: made.append(t) or real(s, t, **k))
    import responses

    with app.app_context(), responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        try:
            platform = TestPlatform()
            platform.serve_jwks(mock)
            platform.register()
            client: FlaskClient = app.test_client()
            for _ in range(3):
                open_activity(platform, client)
            assert len(made) == 3
        finally:
            db.session.rollback()
            empty_tables()
            db.session.remove()
            db.engine.dispose()


def test_the_cache_keeps_at_most_its_size_in_bytes(app, client, platform, renders):
    first = open_activity(platform, client, sub="learner-1", name="Camille Martin")
    size = len(first.get_data())  # the placeholder is as long as a token: a kept page is this size
    app.extensions["lti_tool_pages"] = type(page_cache())(size + size // 2, ttl=600)  # room for one page
    open_activity(platform, client, sub="learner-2", name="Lou Bernard")
    for _ in range(2):
        open_activity(platform, client, sub="learner-1", name="Camille Martin")
        open_activity(platform, client, sub="learner-2", name="Lou Bernard")
    kept = open_activity(platform, client, sub="learner-2", name="Lou Bernard")  # the one page kept
    assert [sub for sub, _ in renders] == ["learner-1", "learner-2", "learner-1", "learner-2", "learner-1",
                                            "learner-2"]
    assert len(page_cache()) == 1 and "Lou Bernard" in kept.get_data(as_text=True)


def test_a_page_larger_than_the_cache_is_served_and_not_kept(app, client, platform, renders):
    app.extensions["lti_tool_pages"] = type(page_cache())(1000, ttl=600)
    pages = [open_activity(platform, client) for _ in range(3)]
    assert len(renders) == 3 and len(page_cache()) == 0
    assert all('data-testid="learner-page"' in page.get_data(as_text=True) for page in pages)
    assert client.get(landing_url(pages[-1])).status_code == 200


def test_a_launch_that_fails_after_its_session_row_leaves_none(app, client, platform, monkeypatch):
    """The session row of a returning learner commits first; if the launch then fails (writing a
    new name, or committing), the row goes and nothing the launch wrote stays."""
    from sqlalchemy import func, select

    import lti_tool.activities.services as activities_services
    from lti_tool.lti.models import LaunchSession, LtiUser

    open_activity(platform, client)

    def sessions() -> int:
        with app.app_context():
            return db.session.execute(select(func.count()).select_from(LaunchSession)).scalar_one()

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(activities_services, "store_as_claimed", broken)
    assert launch_activity(platform, client, name="Camille Martin-Roy").status_code == 500
    assert sessions() == 1
    monkeypatch.undo()

    real_commit = db.session.commit
    calls = []

    def failing_commit():
        calls.append(1)
        if len(calls) == 1:  # the launch's commit, after the name was written in its transaction
            raise RuntimeError("commit failed")
        return real_commit()

    monkeypatch.setattr(db.session, "commit", failing_commit, raising=False)
    assert launch_activity(platform, client, name="Camille Martin-Roy").status_code == 500
    monkeypatch.undo()
    assert sessions() == 1
    with app.app_context():
        assert db.session.execute(select(LtiUser.name)).scalar_one() == "Camille Martin"


def test_every_launch_is_logged_once_without_its_token(app, client, platform, renders, caplog):
    caplog.set_level("INFO", logger="lti_tool.lti.services")
    responses = [open_activity(platform, client) for _ in range(3)]  # first, rendered, from the cache
    accepted = [r for r in caplog.records if r.getMessage() == "launch accepted"]
    assert len(accepted) == 3
    assert len({r.session_id for r in accepted}) == 3
    tokens = [token_of(r) for r in responses]
    assert not any(token in caplog.text for token in tokens)
