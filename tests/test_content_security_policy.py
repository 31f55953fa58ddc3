"""Every HTML page carries a Content-Security-Policy: the tool's own scripts only (the one inline
script with the response's nonce), no plugin, no <base>, forms to the tool and where a view says,
and framed only by the platform the page belongs to (issue 25)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from sqlalchemy import select

from lti_tool.common.time import utcnow
from lti_tool.extensions import db
from lti_tool.lti.models import LaunchSession
from lti_tool.lti.services import create_invite

from .lti_platform import TestPlatform, landing_url
from .test_registration import OPENID_URL, moodle as registering_moodle, register  # noqa: F401

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)


def policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, directive → sources."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_locked_down(response) -> dict[str, list[str]]:
    """The directives every page has; every inline script carries this response's nonce."""
    csp = policy(response)
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    nonces = [s for s in csp["script-src"] if s.startswith("'nonce-")]
    assert csp["script-src"][0] == "'self'" and len(nonces) == 1
    assert all("unsafe" not in source for sources in csp.values() for source in sources)
    for attributes in SCRIPT_TAG.findall(response.get_data(as_text=True)):
        if "src=" not in attributes:
            assert f'nonce="{nonces[0][7:-1]}"' in attributes, f"inline script without the nonce: {attributes}"
    assert csp["form-action"][0] == "'self'"
    return csp


def other_platform(http_mock) -> TestPlatform:
    other = TestPlatform(issuer="https://other-moodle.test", client_id="other", key_name="platform-b")
    other.serve_jwks(http_mock)
    other.register()
    return other


def test_a_launched_page_is_framed_by_its_platform_only(client, platform, http_mock):
    other_platform(http_mock)
    launched = platform.launch(client, "learner")

    csp = assert_locked_down(launched)
    assert csp["frame-ancestors"] == ["https://moodle.test"]
    nonce = [s for s in csp["script-src"] if s.startswith("'nonce-")][0][7:-1]
    assert f'<script nonce="{nonce}">history.replaceState' in launched.get_data(as_text=True)

    again = client.get(landing_url(launched))
    assert assert_locked_down(again)["frame-ancestors"] == ["https://moodle.test"]
    assert policy(again)["script-src"] != csp["script-src"], "a nonce serves one response"
    progress = client.get(landing_url(launched) + "progress")  # and every page behind the launch
    assert progress.status_code == 200 and policy(progress)["frame-ancestors"] == ["https://moodle.test"]


def test_each_platform_frames_only_its_own_pages(client, platform, http_mock):
    other = other_platform(http_mock)
    mine = assert_locked_down(platform.launch(client, "trainer"))["frame-ancestors"]
    theirs = assert_locked_down(other.launch(client, "trainer"))["frame-ancestors"]
    assert mine == ["https://moodle.test"] and theirs == ["https://other-moodle.test"]


def test_the_registration_page_is_framed_by_the_platform_registering(app, client, registering_moodle):
    invite = create_invite(3600)
    db.session.commit()

    page = register(client, invite)

    assert page.status_code == 200
    assert assert_locked_down(page)["frame-ancestors"] == ["https://moodle.test"]
    used = register(client, invite)  # a refusal shows in the platform's dialog too
    assert used.status_code == 410 and policy(used)["frame-ancestors"] == ["https://moodle.test"]
    other = register(client, invite, openid_configuration="https://other-moodle.test/openid")
    assert policy(other)["frame-ancestors"] == ["https://other-moodle.test"]


def test_the_picker_is_framed_by_its_platform_and_answers_it(client, platform, http_mock):
    other_platform(http_mock)
    launched = platform.launch(client, "trainer", message_type="LtiDeepLinkingRequest")
    picker = assert_locked_down(launched)
    assert picker["frame-ancestors"] == ["https://moodle.test"]
    assert picker["form-action"] == ["'self'"]  # the picker posts to the tool

    answer = client.post(landing_url(launched) + "deep-link", data={"item": ["m1.t2"], "title-m1.t2": "SMART",
                                                                    "score-m1.t2": "20"})
    csp = assert_locked_down(answer)
    assert csp["form-action"] == ["'self'", "https://moodle.test"]  # the platform's return URL
    assert csp["frame-ancestors"] == ["https://moodle.test"]
    assert '<script src="/static/autopost.js">' in answer.get_data(as_text=True)


def test_the_cookie_check_and_login_refusals_are_framed_by_the_platform_logging_in(client, platform):
    params = {"iss": platform.issuer, "login_hint": "user-1", "target_link_uri": "https://tool.test/lti/launch",
              "client_id": platform.client_id}
    check = client.get("/lti/login?" + urlencode(params))  # no cookie yet: the cookie check page
    assert check.status_code == 200 and 'id="checking"' in check.get_data(as_text=True)
    assert assert_locked_down(check)["frame-ancestors"] == ["https://moodle.test"]
    assert '<script src="/static/cookie_check.js" defer>' in check.get_data(as_text=True)

    unknown = client.get("/lti/login?" + urlencode({**params, "iss": "https://unknown-moodle.test"}))
    assert unknown.status_code == 403  # the refusal is readable where it was asked from
    assert policy(unknown)["frame-ancestors"] == ["https://unknown-moodle.test"]


def test_a_refused_launch_is_framed_by_the_platform_it_claims(client, platform):
    auth = platform.login(client)
    claims = platform.claims(auth["nonce"])
    claims["exp"] = claims["iat"] - 120
    refused = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": auth["state"]})
    assert refused.status_code == 401
    assert assert_locked_down(refused)["frame-ancestors"] == ["https://moodle.test"]


def test_pages_of_no_platform_are_framed_by_no_one(client, platform):
    assert assert_locked_down(client.get("/"))["frame-ancestors"] == ["'none'"]
    unknown = client.get("/t/" + "x" * 43 + "/")
    assert unknown.status_code == 401 and policy(unknown)["frame-ancestors"] == ["'none'"]
    # An expired session still names its platform: "open the activity again" shows in its frame.
    url = landing_url(platform.launch(client, follow=False))
    db.session.execute(select(LaunchSession)).scalar_one().expires_at = utcnow()
    db.session.commit()
    expired = client.get(url)
    assert expired.status_code == 401 and policy(expired)["frame-ancestors"] == ["https://moodle.test"]


def test_json_answers_carry_no_page_policy(client, platform):
    assert "Content-Security-Policy" not in client.get("/lti/jwks").headers


def test_the_demo_platform_frames_the_tool_and_is_framed_by_itself_only(client):
    csp = assert_locked_down(client.get("/demo"))
    assert csp["frame-ancestors"] == ["'self'"]
    assert csp["frame-src"] == ["'self'", "https://tool.test"] and csp["form-action"] == ["'self'", "https://tool.test"]
