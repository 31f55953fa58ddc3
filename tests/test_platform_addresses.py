"""Where a platform may send the tool: the URLs of its launches and registration are called only
on its registered origins, or outside any private network (issue 25, server-side request forgery)."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.gradebook.delivery import drain
from lti_tool.gradebook.nrps import learner_roster
from lti_tool.lti.models import Platform
from lti_tool.lti.services import create_invite

from .ags_platform import AGS_CLAIM, NRPS_CLAIM, FakeMoodle
from .grading_fixtures import T0, enqueue, launch, moodle, row, sender  # noqa: F401
from .lti_platform import CLAIM, TestPlatform, landing_url
from .test_registration import OPENID_URL, REGISTRATION_URL, openid_configuration, register

INTERNAL = "http://127.0.0.1:5097/internal/admin?x=1"


@pytest.fixture
def internal_service(http_mock):
    """What answers at the internal address, were the tool to call it: it never should."""
    for method in ("GET", "POST", "PUT"):
        http_mock.add(method, re.compile(r"http://127\.0\.0\.1:5097/.*"), json={}, status=200)


@pytest.fixture
def no_internal(app):
    """Production's rule: a platform may not make the tool call a private-network address."""
    app.config["PLATFORM_ALLOW_INTERNAL_ENDPOINTS"] = False


def calls_to(mock, url_pattern: str):
    return [call for call in mock.calls if re.match(url_pattern, call.request.url)]


def trainer_page(client, platform, moodle, **claims) -> str:
    """A trainer's launch (in English) carrying the services' claims, `claims` overriding them;
    its grading page."""
    claims = {**moodle.claims("link-1"), CLAIM + "custom": {"catalogue_item": "m1.t2"}, **claims}
    token_url = landing_url(platform.launch(client, "trainer", sub="teacher-1", locale="en-GB", **claims))
    return html.unescape(client.get(token_url + "grading").get_data(as_text=True))


def test_an_nrps_url_off_the_platform_inside_a_private_network_is_not_fetched(
        client, platform, moodle, http_mock, internal_service, no_internal):
    moodle.enrol("user-2", name="Léa Bernard")

    page = trainer_page(client, platform, moodle,
                        **{NRPS_CLAIM: {"context_memberships_url": INTERNAL, "service_versions": ["2.0"]}})

    assert not calls_to(http_mock, r"http://127\.0\.0\.1"), "nothing may be sent to the internal address"
    assert not moodle.token_requests  # refused before a token is even asked for
    assert 'data-testid="roster-notice"' in page and "inside a private network" in page
    assert "Léa Bernard" not in page


def test_an_ags_line_item_url_off_the_platform_is_not_posted_to_and_the_trainer_sees_why(
        client, platform, moodle, sender, http_mock, internal_service, no_internal):
    session = launch(client, platform, moodle, **{AGS_CLAIM: {
        "scope": moodle.scopes, "lineitems": moodle.lineitems_url, "lineitem": INTERNAL}})
    queued = enqueue(session, "quiz")
    sender.tokens.allow_internal = False  # the sender was built before the operator's rule was set

    drain(now=T0, sender=sender)

    assert (row(queued.id).status, row(queued.id).error_code) == ("failed", "address_refused")
    assert "127.0.0.1:5097/internal/admin" in row(queued.id).last_error and "x=1" not in row(queued.id).last_error
    assert not calls_to(http_mock, r"http://127\.0\.0\.1")
    page = trainer_page(client, platform, moodle, **{AGS_CLAIM: {
        "scope": moodle.scopes, "lineitems": moodle.lineitems_url, "lineitem": INTERNAL}})
    assert "Not sent" in page and "inside a private network" in page


def test_a_line_items_container_off_the_platform_is_not_searched(
        client, platform, moodle, sender, http_mock, internal_service, no_internal):
    session = launch(client, platform, moodle, **{AGS_CLAIM: {"scope": moodle.scopes, "lineitems": INTERNAL}})
    queued = enqueue(session, "quiz")
    sender.tokens.allow_internal = False
    drain(now=T0, sender=sender)
    assert row(queued.id).error_code == "address_refused"
    assert not calls_to(http_mock, r"http://127\.0\.0\.1")


def test_the_platforms_own_urls_are_called_even_inside_a_private_network(app, client, http_mock, no_internal):
    """A centre's Moodle on the operator's network, registered by the operator: its services are
    on its registered origin, so they are called; a neighbour on another port is not."""
    platform = TestPlatform(issuer="http://127.0.0.1:5096", client_id="intranet")
    platform.serve_jwks(http_mock)
    platform.register()
    intranet = FakeMoodle(platform, jwks=lambda: app.test_client().get("/lti/jwks").get_json()).serve(http_mock)
    intranet.enrol("user-1", name="Camille Martin")
    http_mock.add("GET", re.compile(r"http://127\.0\.0\.1:5097/.*"), json={}, status=200)

    own = launch(client, platform, intranet, "trainer", sub="teacher-1")
    assert [m.user_id for m in learner_roster(own)] == ["user-1"]
    assert [s.url for s in intranet.seen if "/memberships" in s.url]

    neighbour = launch(client, platform, intranet, "trainer", sub="teacher-1", link_id="link-2", **{
        CLAIM + "context": {"id": "course-202", "title": "Another course"},
        NRPS_CLAIM: {"context_memberships_url": "http://127.0.0.1:5097/memberships", "service_versions": ["2.0"]}})
    assert learner_roster(neighbour).code == "address_refused"
    assert not calls_to(http_mock, r"http://127\.0\.0\.1:5097")


def test_a_redirect_from_the_platform_is_not_followed(client, platform, moodle, http_mock, internal_service,
                                                      no_internal):
    redirecting = platform.issuer + "/mod/lti/services.php/moved/memberships"
    http_mock.add("GET", re.compile(re.escape(redirecting) + r".*"), status=302, headers={"Location": INTERNAL})
    session = launch(client, platform, moodle, "trainer", sub="teacher-1",
                     **{NRPS_CLAIM: {"context_memberships_url": redirecting, "service_versions": ["2.0"]}})

    assert learner_roster(session).code == "refused"
    assert calls_to(http_mock, re.escape(redirecting)), "the platform's own URL is called"
    assert not calls_to(http_mock, r"http://127\.0\.0\.1")


def test_dynamic_registration_refuses_private_network_addresses(app, client, http_mock, internal_service,
                                                                 no_internal):
    internal_config = "http://127.0.0.1:5097/mod/lti/openid-configuration.php"
    invite = create_invite(3600)
    db.session.commit()

    refused = register(client, invite, openid_configuration=internal_config)
    assert refused.status_code == 403 and "registration_address_refused" in refused.get_data(as_text=True)
    assert not calls_to(http_mock, r"http://127\.0\.0\.1")

    # A public platform whose configuration sends the registration to an internal address.
    config = openid_configuration()
    config["registration_endpoint"] = "http://127.0.0.1:5097/register"
    http_mock.add("GET", OPENID_URL, json=config)
    refused = register(client, invite, openid_configuration=OPENID_URL)
    assert refused.status_code == 403
    assert not calls_to(http_mock, r"http://127\.0\.0\.1")
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 0


def test_dynamic_registration_on_the_issuers_origin_is_accepted(app, client, http_mock, no_internal):
    """Everything on the platform's own origin passes (moodle.test: a name that does not resolve
    here is left to the call, as a public one is)."""
    http_mock.add("GET", OPENID_URL, json=openid_configuration())
    http_mock.add("POST", REGISTRATION_URL, json={"client_id": "dyn-1", "scope": ""})
    invite = create_invite(3600)
    db.session.commit()
    response = register(client, invite, openid_configuration=OPENID_URL)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(http_mock.calls[-1].request.body)["jwks_uri"].endswith("/lti/jwks")


def test_the_platforms_key_set_is_fetched_without_following_a_redirect(client, http_mock, internal_service):
    """The key set URL is registered, so on the platform's origin: a redirect would leave it."""
    platform = TestPlatform(issuer="https://moved-moodle.test", client_id="moved")
    http_mock.add("GET", platform.jwks_url, status=302, headers={"Location": INTERNAL})
    platform.register()

    refused = platform.launch(client)

    assert refused.status_code == 502 and "platform_unreachable" in refused.get_data(as_text=True)
    assert calls_to(http_mock, re.escape(platform.jwks_url))
    assert not calls_to(http_mock, r"http://127\.0\.0\.1")
