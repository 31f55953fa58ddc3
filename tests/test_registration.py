"""Dynamic registration end to end, one-time invites, and manual registration from the CLI."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.lti.models import Deployment, Platform, RegistrationInvite
from lti_tool.common.time import utcnow
from lti_tool.lti.services import create_invite

from .lti_platform import TestPlatform

MOODLE = "https://moodle.test"
OPENID_URL = MOODLE + "/mod/lti/openid-configuration.php"
REGISTRATION_URL = MOODLE + "/mod/lti/openid-registration.php"


def openid_configuration() -> dict:
    """What Moodle 4.x serves at mod/lti/openid-configuration.php."""
    return {
        "issuer": MOODLE,
        "token_endpoint": MOODLE + "/mod/lti/token.php",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": MOODLE + "/mod/lti/certs.php",
        "authorization_endpoint": MOODLE + "/mod/lti/auth.php",
        "registration_endpoint": REGISTRATION_URL,
        "scopes_supported": [
            "https://purl.imsglobal.org/spec/lti-bo/scope/basicoutcome",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
            "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
            "openid",
        ],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "moodle",
            "version": "4.1",
            "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
            "variables": ["CourseSection.timeFrame.end"],
        },
    }


@pytest.fixture
def moodle(http_mock):
    """Moodle's side of dynamic registration, recording what the tool sent."""
    seen: dict = {}

    def configuration(request):
        seen["config_auth"] = request.headers.get("Authorization")
        return 200, {}, json.dumps(openid_configuration())

    def registration(request):
        seen["registration_auth"] = request.headers.get("Authorization")
        seen["payload"] = json.loads(request.body)
        answer = dict(seen["payload"], client_id="dyn-client-7")
        answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = dict(
            seen["payload"]["https://purl.imsglobal.org/spec/lti-tool-configuration"], deployment_id="12")
        return 200, {}, json.dumps(answer)

    http_mock.add_callback("GET", OPENID_URL, callback=configuration, content_type="application/json")
    http_mock.add_callback("POST", REGISTRATION_URL, callback=registration, content_type="application/json")
    return seen


def register(client, invite: str, **params):
    query = {"invite": invite, "openid_configuration": OPENID_URL, "registration_token": "reg-token-1"}
    query.update(params)
    return client.get("/lti/register", query_string={k: v for k, v in query.items() if v is not None})


def test_dynamic_registration_end_to_end(app, client, moodle, http_mock):
    invite = create_invite(3600)
    db.session.commit()

    response = register(client, invite)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200, page
    assert "/static/registered.js" in page  # its "Finish" closes Moodle's registration dialog:
    script = client.get("/static/registered.js")
    assert "org.imsglobal.lti.close" in script.get_data(as_text=True)
    script.close()
    assert "attend maintenant d’être activé" in page  # Moodle keeps the tool pending

    # What the tool asked for.
    assert moodle["config_auth"] == moodle["registration_auth"] == "Bearer reg-token-1"
    payload = moodle["payload"]
    assert payload["response_types"] == ["id_token"]
    assert payload["token_endpoint_auth_method"] == "private_key_jwt"
    assert payload["redirect_uris"] == ["https://tool.test/lti/launch"]
    assert payload["initiate_login_uri"] == "https://tool.test/lti/login"
    assert payload["jwks_uri"] == "https://tool.test/lti/jwks"
    assert payload["client_name#en"] == "AI Mentoring" and payload["client_name"] == "Mentorat IA"
    tool_config = payload["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert tool_config["domain"] == "tool.test"
    assert tool_config["target_link_uri"] == "https://tool.test/lti/launch"
    assert "email" not in tool_config["claims"] and "name" in tool_config["claims"]
    assert {m["type"] for m in tool_config["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    scopes = payload["scope"].split()
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem" in scopes
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in scopes
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in scopes

    # What the tool stored.
    platform = db.session.execute(select(Platform)).scalar_one()
    assert (platform.issuer, platform.client_id, platform.registration_method) == (MOODLE, "dyn-client-7", "dynamic")
    assert platform.auth_login_url == MOODLE + "/mod/lti/auth.php"
    assert platform.key_set_url == MOODLE + "/mod/lti/certs.php"
    assert [d.deployment_id for d in platform.deployments] == ["12"]

    # And a launch from the freshly registered platform works.
    moodle_platform = TestPlatform(issuer=MOODLE, client_id="dyn-client-7", deployment_id="12")
    moodle_platform.serve_jwks(http_mock)
    launched = moodle_platform.launch(client, "learner")
    assert launched.status_code == 200
    assert 'data-testid="learner-page"' in launched.get_data(as_text=True)


def test_a_registration_answered_without_a_deployment_takes_the_first_signed_launchs(app, client, http_mock):
    """Dynamic Registration's answer may omit the deployment id (Canvas's does): the first launch
    the platform signs names it; any other deployment is then refused, and a launch refused after
    the deployment check stores none."""
    def registration(request):
        payload = json.loads(request.body)
        return 200, {}, json.dumps(dict(payload, client_id="no-deployment-client"))

    http_mock.add("GET", OPENID_URL, json=openid_configuration())
    http_mock.add_callback("POST", REGISTRATION_URL, callback=registration, content_type="application/json")
    invite = create_invite(3600)
    db.session.commit()
    assert register(client, invite).status_code == 200
    assert db.session.execute(select(func.count()).select_from(Deployment)).scalar_one() == 0

    first = TestPlatform(issuer=MOODLE, client_id="no-deployment-client", deployment_id="install-1")
    first.serve_jwks(http_mock)
    # Refused after the deployment check (an unsupported message type): no deployment kept.
    assert first.launch(client, follow=False, message_type="LtiSubmissionReviewRequest").status_code == 400
    assert db.session.execute(select(func.count()).select_from(Deployment)).scalar_one() == 0
    assert first.launch(client).status_code == 200
    assert db.session.execute(select(Deployment.deployment_id)).scalars().all() == ["install-1"]
    assert first.launch(client).status_code == 200  # and again
    other = TestPlatform(issuer=MOODLE, client_id="no-deployment-client", deployment_id="install-2")
    refused = other.launch(client, follow=False)
    assert refused.status_code == 403 and "unknown_deployment" in refused.get_data(as_text=True)
    assert db.session.execute(select(Deployment.deployment_id)).scalars().all() == ["install-1"]


def test_invite_is_single_use(app, client, moodle):
    invite = create_invite(3600)
    db.session.commit()
    assert register(client, invite).status_code == 200
    again = register(client, invite)
    assert again.status_code == 410
    assert "invite_used" in again.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 1


def test_expired_invite_is_refused_and_nothing_stored(app, client, moodle):
    invite = create_invite(3600)
    db.session.execute(RegistrationInvite.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = register(client, invite, registration_token=None)
    assert response.status_code == 410
    assert "Ce lien d’inscription a expiré" in html.unescape(response.get_data(as_text=True))
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 0
    assert "payload" not in moodle  # the platform was not even contacted


def test_unknown_or_missing_invite_is_refused(app, client, moodle):
    assert register(client, "made-up").status_code == 403
    assert register(client, None).status_code == 403
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 0


def test_registration_without_openid_configuration_is_a_bad_start(app, client):
    invite = create_invite(3600)
    db.session.commit()
    response = client.get("/lti/register", query_string={"invite": invite})
    assert response.status_code == 400
    assert "registration_bad_request" in response.get_data(as_text=True)


def test_platform_refusing_registration_leaves_invite_usable(app, client, http_mock):
    http_mock.add("GET", OPENID_URL, json=openid_configuration())
    http_mock.add("POST", REGISTRATION_URL, status=403, json={"error": "invalid_token"})
    invite = create_invite(3600)
    db.session.commit()
    response = register(client, invite)
    assert response.status_code == 502
    assert "registration_platform_error" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 0
    invite_row = db.session.execute(select(RegistrationInvite)).scalar_one()
    assert invite_row.used_at is None


def test_issuer_from_another_origin_is_refused(app, client, http_mock):
    config = openid_configuration()
    config["issuer"] = "https://impostor.test"
    http_mock.add("GET", OPENID_URL, json=config)
    invite = create_invite(3600)
    db.session.commit()
    assert register(client, invite).status_code == 502
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 0


def test_invalid_openid_configuration_is_refused(app, client, http_mock):
    config = openid_configuration()
    del config["registration_endpoint"]
    http_mock.add("GET", OPENID_URL, json=config)
    invite = create_invite(3600)
    db.session.commit()
    assert register(client, invite).status_code == 502


def test_registration_url_command_prints_a_working_url_last(app, moodle):
    result = app.test_cli_runner().invoke(args=["lti-tool", "registration-url", "--ttl", "600"])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("https://tool.test/lti/register?invite=")
    client = app.test_client()
    response = client.get(url.replace("https://tool.test", "") + "&" + urlencode(
        {"openid_configuration": OPENID_URL, "registration_token": "t"}))
    assert response.status_code == 200


def test_add_platform_command_registers_a_platform(app, client, http_mock):
    platform = TestPlatform(issuer="https://lms.test", client_id="manual-1", deployment_id="d-9")
    platform.serve_jwks(http_mock)
    result = app.test_cli_runner().invoke(args=[
        "lti-tool", "add-platform", "--issuer", platform.issuer, "--client-id", platform.client_id,
        "--deployment-id", platform.deployment_id, "--deployment-id", "d-10",
        "--auth-url", platform.auth_url, "--token-url", platform.token_url, "--jwks-url", platform.jwks_url,
        "--name", "CFA Test",
    ])
    assert result.exit_code == 0, result.output
    stored = db.session.execute(select(Platform)).scalar_one()
    assert stored.name == "CFA Test" and stored.registration_method == "manual"
    assert sorted(d.deployment_id for d in stored.deployments) == ["d-10", "d-9"]
    assert platform.launch(client).status_code == 200


def test_add_deployment_command_lets_a_new_deployment_launch(app, client, platform):
    """A platform whose registration named no deployment (Canvas), or a second deployment."""
    second = TestPlatform(deployment_id="deployment-2")
    assert second.launch(client, follow=False).status_code == 403  # unknown deployment
    runner = app.test_cli_runner()
    args = ["lti-tool", "add-deployment", "--issuer", platform.issuer, "--client-id", platform.client_id]
    result = runner.invoke(args=args + ["--deployment-id", "deployment-2"])
    assert result.exit_code == 0, result.output
    assert "added deployment-2" in result.output
    assert second.launch(client).status_code == 200
    again = runner.invoke(args=args + ["--deployment-id", "deployment-2"])
    assert again.exit_code == 0 and "already known" in again.output
    assert db.session.execute(select(func.count()).select_from(Deployment)).scalar_one() == 2
    unknown = runner.invoke(args=["lti-tool", "add-deployment", "--issuer", "https://nowhere.test",
                                  "--client-id", "x", "--deployment-id", "d"])
    assert unknown.exit_code == 1 and "list-platforms" in unknown.output
    blank = runner.invoke(args=args + ["--deployment-id", " "])
    assert blank.exit_code == 2
    assert db.session.execute(select(func.count()).select_from(Deployment)).scalar_one() == 2


def test_add_platform_command_refuses_bad_urls(app):
    result = app.test_cli_runner().invoke(args=[
        "lti-tool", "add-platform", "--issuer", "not a url", "--client-id", "c", "--deployment-id", "d",
        "--auth-url", "ftp://x", "--token-url", "https://lms.test/token", "--jwks-url", "https://lms.test/jwks",
    ])
    assert result.exit_code == 2
    assert "issuer" in result.output and "auth_login_url" in result.output
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(Deployment)).scalar_one() == 0


def test_registering_the_same_platform_twice_updates_it(app, client, moodle):
    for _ in range(2):
        invite = create_invite(3600)
        db.session.commit()
        assert register(client, invite).status_code == 200
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(Deployment)).scalar_one() == 1
