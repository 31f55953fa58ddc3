"""Learner, trainer and deep-linking launches through the real OIDC flow."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from .lti_platform import CLAIM, landing_url
from lti_tool.lti.models import Context, LaunchSession, LtiUser, ResourceLink


def test_learner_launch_lands_on_the_activity_page(client, platform):
    response = platform.launch(client, "learner")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="learner-page"' in page
    assert "Espace apprenant" in page  # launch_presentation.locale fr-FR
    assert "Camille Martin" in page
    user = db.session.execute(select(LtiUser)).scalar_one()
    assert (user.sub, user.name) == ("user-1", "Camille Martin")
    link = db.session.execute(select(ResourceLink)).scalar_one()
    assert link.resource_link_id == "link-1"
    session = db.session.execute(select(LaunchSession)).scalar_one()
    assert session.role == "learner" and session.locale == "fr"


def test_trainer_launch_lands_on_the_trainer_view_in_english(client, platform):
    response = platform.launch(client, "trainer", locale="en-GB")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="trainer-page"' in page
    assert "Trainer view" in page


def test_a_moodle_site_admin_reaches_the_trainer_view_with_the_centre_settings(client, platform):
    """Moodle sends its site administrators as Instructor and Administrator: they are admins."""
    placed = {CLAIM + "custom": {"catalogue_item": "m1.t2"}}
    page = platform.launch(client, "admin", **placed).get_data(as_text=True)
    assert 'data-testid="trainer-page"' in page
    assert 'data-testid="centre-link"' in page and 'data-testid="llm-settings-link"' in page
    trainer = platform.launch(client, "trainer", sub="teacher-1", **placed).get_data(as_text=True)
    assert 'data-testid="trainer-page"' in trainer and 'data-testid="centre-link"' not in trainer
    # ... also from a link that delivers nothing yet
    unbound = platform.launch(client, "admin", link_id="link-unbound").get_data(as_text=True)
    assert 'data-testid="bind-form"' in unbound
    assert 'data-testid="centre-link"' in unbound and 'data-testid="llm-settings-link"' in unbound


def test_deep_linking_launch_reaches_the_picker(client, platform):
    response = platform.launch(client, "trainer", message_type="LtiDeepLinkingRequest")
    assert response.status_code == 200
    assert 'data-testid="picker-page"' in response.get_data(as_text=True)
    session = db.session.execute(select(LaunchSession)).scalar_one()
    assert session.services["deep_linking"]["deep_link_return_url"].endswith("contentitem_return.php")


def test_learner_cannot_open_the_deep_linking_picker(client, platform):
    platform.launch(client, "learner")  # a returning learner: only the session row would be new
    response = platform.launch(client, "learner", message_type="LtiDeepLinkingRequest")
    assert response.status_code == 403
    assert db.session.execute(select(func.count()).select_from(LaunchSession)).scalar_one() == 1


def test_launch_page_moves_to_a_tokenised_url_that_needs_no_cookie(client, platform):
    response = platform.launch(client, follow=False)
    location = landing_url(response)
    assert location.startswith("/t/")
    # The page behind the token works from a fresh client with no cookie at all.
    fresh = client.application.test_client()
    page = fresh.get(location)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    # Learners' work as JSON or CSV is not cached either (only HTML used to be marked).
    trainer = landing_url(platform.launch(client, "trainer", sub="teacher-1", link_id="link-2",
                                          **{CLAIM + "custom": {"catalogue_item": "m1.t2"}}))
    for export, mimetype in (("overview.json", "application/json"), ("overview.csv", "text/csv")):
        data = fresh.get(trainer + export)
        assert data.status_code == 200 and data.mimetype == mimetype, (export, data.mimetype)
        assert data.headers["Cache-Control"] == "no-store", export
    assert fresh.get("/lti/jwks").headers["Cache-Control"] == "public, max-age=300"  # public, cacheable


def test_repeat_launches_update_rather_than_duplicate(client, platform):
    platform.launch(client)
    platform.launch(client)
    assert db.session.execute(select(func.count()).select_from(LtiUser)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(Context)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(ResourceLink)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(LaunchSession)).scalar_one() == 2


def test_the_state_cookie_lives_under_lti_and_is_dropped_by_the_launch_that_used_it(client, platform):
    """pylti1p3 sets one state cookie per login. Scoped to /lti/ it never rides on the tool's
    pages, and the launch that spends it expires it: a trainer opening activity after activity
    does not pile them up (nor does a refused launch spend it)."""
    auth = platform.login(client)
    state_cookie = client.get_cookie("lti1p3-" + auth["state"], domain="tool.test", path="/lti/")
    assert state_cookie is not None and state_cookie.value == auth["state"]
    # https: SameSite=None; Secure; Partitioned, so that it comes back inside Moodle's iframe
    assert state_cookie.secure and state_cookie.http_only and state_cookie.same_site == "None"
    assert client.get_cookie("lti1p3-" + auth["state"], domain="tool.test", path="/") is None

    refused = client.post("/lti/launch", data={"id_token": "not-a-jwt", "state": auth["state"]})
    assert refused.status_code == 400
    assert client.get_cookie("lti1p3-" + auth["state"], domain="tool.test", path="/lti/") is not None

    claims = platform.claims(auth["nonce"], "learner")
    response = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": auth["state"]})
    assert response.status_code == 200
    expiry = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"lti1p3-{auth['state']}=")]
    assert len(expiry) == 1 and "Max-Age=0" in expiry[0] and "Path=/lti/" in expiry[0]
    assert "Partitioned" in expiry[0] and "SameSite=None" in expiry[0]
    assert client.get_cookie("lti1p3-" + auth["state"], domain="tool.test", path="/lti/") is None

    states = []
    for _ in range(3):  # launch after launch: no state cookie is left behind
        auth = platform.login(client)
        claims = platform.claims(auth["nonce"], "learner")
        assert client.post("/lti/launch", data={"id_token": platform.sign(claims),
                                                "state": auth["state"]}).status_code == 200
        states.append(auth["state"])
    assert all(client.get_cookie("lti1p3-" + state, domain="tool.test", path="/lti/") is None for state in states)


def test_no_request_sets_or_reads_a_flask_session(client, platform, app):
    """The tool has no cookie session at all: a launch and the pages behind its token set no
    `session` cookie, and code that tried to keep something in one would fail loudly."""
    import flask

    response = platform.launch(client, follow=False)
    page = client.get(landing_url(response))
    for each in (response, page):
        assert not [h for h in each.headers.getlist("Set-Cookie") if h.startswith(app.config["SESSION_COOKIE_NAME"])]
    with app.test_request_context("/"):
        assert not flask.session
        with pytest.raises(RuntimeError):
            flask.session["user"] = "someone"


def test_a_login_looks_its_registration_up_once(client, platform, monkeypatch):
    """The view checks the login before any cookie check, and pylti1p3 asks again while it
    builds the redirect: the answer is kept, not looked up twice."""
    from lti_tool.lti.toolconf import DbToolConf

    lookups = []
    real = DbToolConf.find_registration_by_params

    def counted(self, *args, **kwargs):
        lookups.append(args[:2])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DbToolConf, "find_registration_by_params", counted)
    auth = platform.login(client)
    assert auth["client_id"] == platform.client_id
    assert lookups == [(platform.issuer, platform.client_id)]


def test_a_login_nonce_is_random_and_a_launch_leaves_nothing_in_the_store(client, platform, app):
    """The nonce is 256 random bits (pylti1p3's ends with a uuid1: this server's MAC address and
    clock); the launch spends it, and keeps nothing else in the store of login state."""
    store = app.extensions["lti_store"]
    nonces = []
    for _ in range(3):
        auth = platform.login(client)
        nonces.append(auth["nonce"])
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", auth["nonce"]), auth["nonce"]
        assert uuid.getnode().to_bytes(6, "big").hex() not in auth["nonce"].lower()
        before = set(store.keys())
        claims = platform.claims(auth["nonce"], "learner")
        assert client.post("/lti/launch", data={"id_token": platform.sign(claims),
                                                "state": auth["state"]}).status_code == 200
        added = {key for key in set(store.keys()) - before if not key.startswith("jwks:")}  # the platform's keys
        assert not added, added  # neither the launch data nor the state's id_token hash
        assert not [key for key in store.keys() if auth["nonce"] in key]  # the nonce is spent
    assert len(set(nonces)) == 3
