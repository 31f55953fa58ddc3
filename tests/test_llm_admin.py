"""The centre's LLM settings (admin page and CLI): hosting rules, the EU confirmation, the key
that never comes back, the connection test; usage by course and model; who may see what."""

from __future__ import annotations

import html
import logging

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.llm.centre import centre_config, stored_key
from lti_tool.llm.models import AiCall, LlmConfig
from lti_tool.lti.models import LtiUser

from .llm_fake_servers import Fault
from .llm_helpers import (  # noqa: F401  (fixtures)
    PROMPT_EXERCISE,
    SECRET,
    calls,
    chat_server,
    configure,
    fresh_breakers,
    open_item,
    page,
    platform_pk,
    server,
    stream,
)
from .lti_platform import TestPlatform


def admin_url(platform, client, **kwargs) -> str:
    return open_item(platform, client, sub="admin-1", role="admin", **kwargs)


def form(**values) -> dict:
    base = {"provider": "openai", "model": "test-model", "base_url": "", "server": "", "api_key": "",
            "temperature": "", "max_tokens": "", "timeout": "", "quota_learner_daily_calls": "",
            "quota_learner_daily_tokens": "", "quota_centre_monthly_calls": "", "quota_centre_monthly_tokens": ""}
    base.update(values)
    return {k: v for k, v in base.items() if v is not None}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def row() -> LlmConfig | None:
    db.session.expire_all()
    return centre_config(platform_pk())


# --- who may see the pages -----------------------------------------------------------------------


def test_only_the_centre_administrator_reaches_the_settings(client, platform):
    learner = open_item(platform, client)
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    for url in (learner, trainer):
        assert client.get(url + "admin/llm").status_code == 403
        assert client.post(url + "admin/llm", data=form()).status_code == 403
        assert client.post(url + "admin/llm/test", data=form()).status_code == 403
    assert client.get(learner + "admin/usage").status_code == 403
    assert client.get(learner + "admin/usage.json").status_code == 403
    assert row() is None
    admin = admin_url(platform, client)
    response = client.get(admin + "admin/llm")
    assert response.status_code == 200 and 'data-testid="llm-form"' in text(response)
    assert 'data-testid="llm-settings-link"' in page(client, admin)


# --- hosting rules -------------------------------------------------------------------------------


def test_endpoints_outside_the_eu_are_refused_unless_the_operator_allows_them(app, client, platform):
    admin = admin_url(platform, client)
    for values, field in ((form(base_url="https://api.openai.com/v1"), "base_url"),
                          (form(base_url=""), "base_url"),  # no URL: OpenAI's own API
                          (form(provider="mistral", model="mistral-small-latest", server="us"), "server"),
                          (form(provider="mistral", model="mistral-small-latest", server="global"), "server")):
        response = client.post(admin + "admin/llm", data=values)
        assert response.status_code == 422, values
        body = text(response)
        assert f'data-error-for="{field}"' in body and "hors de l’UE" in body
    assert row() is None
    eu = client.post(admin + "admin/llm", data=form(provider="mistral", model="mistral-small-latest", server="eu"))
    assert eu.status_code == 303 and row().server == "eu"
    app.config["LLM_ALLOW_NON_EU"] = "1"  # the operator's decision, not the admin's
    allowed = client.post(admin + "admin/llm", data=form(base_url="https://api.openai.com/v1"))
    assert allowed.status_code == 303 and row().base_url == "https://api.openai.com/v1"


def test_the_admin_page_cannot_allow_non_eu_itself(client, platform):
    admin = admin_url(platform, client)
    response = client.post(admin + "admin/llm", data=form(base_url="https://api.openai.com/v1", allow_non_eu="1",
                                                          confirm_eu="on"))
    assert response.status_code == 422 and row() is None


def test_a_custom_endpoint_needs_the_eu_confirmation_which_is_recorded(client, platform, server):
    admin = admin_url(platform, client)
    values = form(base_url=server.openai_base_url)
    refused = client.post(admin + "admin/llm", data=values)
    assert refused.status_code == 422 and 'data-error-for="confirm_eu"' in text(refused) and row() is None
    accepted = client.post(admin + "admin/llm", data={**values, "confirm_eu": "on"})
    assert accepted.status_code == 303 and accepted.headers["Location"].endswith("admin/llm?saved=1")
    saved = row()
    admin_pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "admin-1")).scalar_one()
    assert saved.eu_confirmed_at is not None and saved.eu_confirmed_by == admin_pk
    body = page(client, admin + "admin/llm?saved=1")
    assert 'data-testid="eu-confirmation"' in body and "Alex Dupont" in body
    # Saving again keeps the confirmation; another endpoint needs a new one.
    assert client.post(admin + "admin/llm", data=values).status_code == 303 and row().eu_confirmed_at is not None
    moved = client.post(admin + "admin/llm", data=form(base_url="https://llm.example-cfa.fr/v1"))
    assert moved.status_code == 422 and row().base_url == server.openai_base_url


def test_an_endpoint_inside_a_private_network_is_refused_unless_the_operator_allows_it(app, client, platform,
                                                                                         server):
    """A centre's administrator must not make the tool probe its operator's network (cloud
    metadata, local services): saving and testing such an address are both refused."""
    app.config["LLM_ALLOW_INTERNAL_ENDPOINTS"] = False
    admin = admin_url(platform, client)
    before = len(server.requests)
    for url in (server.openai_base_url, "http://169.254.169.254/latest/v1", "http://10.0.0.7:8000/v1",
                "http://localhost:11434/v1", "http://[::1]:8000/v1"):
        values = form(base_url=url, confirm_eu="on")
        for target in ("admin/llm", "admin/llm/test"):
            response = client.post(admin + target, data=values)
            assert response.status_code == 422, (url, target)
            assert 'data-error-for="base_url"' in text(response) and "réseau privé" in text(response)
    unknown = client.post(admin + "admin/llm", data=form(base_url="https://llm.nowhere.invalid/v1", confirm_eu="on"))
    assert unknown.status_code == 422 and "introuvable" in text(unknown)  # could resolve inside later
    assert row() is None and calls() == []
    assert len(server.requests) == before  # nothing reached the fake provider
    app.config["LLM_ALLOW_INTERNAL_ENDPOINTS"] = True  # the operator hosts the model on its network
    saved = client.post(admin + "admin/llm", data=form(base_url=server.openai_base_url, confirm_eu="on"))
    assert saved.status_code == 303 and row().base_url == server.openai_base_url


def test_a_saved_endpoint_that_now_points_inside_a_private_network_is_not_called(app, client, platform, server):
    """A name checked when it was saved can resolve elsewhere later (DNS rebinding): every call
    checks the centre's endpoint again. Here the saved address is the fake provider's, on
    127.0.0.1, as a public name would be once its DNS points at the operator's machine."""
    admin = admin_url(platform, client)
    saved = client.post(admin + "admin/llm", data=form(base_url=server.openai_base_url, confirm_eu="on"))
    assert saved.status_code == 303  # allowed when saved (here: the operator allowed internal endpoints)
    learner = open_item(platform, client, sub="learner-z")
    before = len(server.requests)
    app.config["LLM_ALLOW_INTERNAL_ENDPOINTS"] = False
    refused = client.post(learner + "ai/complete", json={"purpose": "assistant", "prompt": "Bonjour"})
    error = refused.get_json()["error"]
    assert refused.status_code == 503 and error["code"] == "endpoint_refused"
    assert "administrateur" in error["message"]
    assert len(server.requests) == before  # nothing was sent
    assert [call.outcome for call in calls()] == ["endpoint_refused"]
    app.config["LLM_ALLOW_INTERNAL_ENDPOINTS"] = True
    answered = client.post(learner + "ai/complete", json={"purpose": "assistant", "prompt": "Bonjour"})
    assert answered.status_code == 200 and len(server.requests) == before + 1


def test_bad_values_are_refused_with_the_field_named(client, platform):
    admin = admin_url(platform, client)
    for values, field in ((form(temperature="3"), "temperature"), (form(max_tokens="-1"), "max_tokens"),
                          (form(provider="claude"), "provider"), (form(model=""), "model"),
                          (form(base_url="ftp://x.eu/v1", confirm_eu="on"), "base_url"),
                          (form(quota_learner_daily_calls="beaucoup"), "quota_learner_daily_calls")):
        response = client.post(admin + "admin/llm", data=values)
        assert response.status_code == 422 and f'data-error-for="{field}"' in text(response), values
    assert row() is None


# --- the key -------------------------------------------------------------------------------------


def test_the_key_is_encrypted_never_shown_back_and_never_logged(client, platform, server, caplog):
    caplog.set_level(logging.DEBUG)
    admin = admin_url(platform, client)
    responses = []
    values = form(base_url=server.openai_base_url, confirm_eu="on", api_key=SECRET)
    responses.append(client.post(admin + "admin/llm", data=values))
    saved = row()
    assert SECRET.encode() not in saved.api_key_encrypted and stored_key(saved) == SECRET
    responses.append(client.get(admin + "admin/llm?saved=1"))
    assert "…" + SECRET[-4:] in text(responses[-1])
    # A refused form is shown again without the key that was typed.
    responses.append(client.post(admin + "admin/llm", data={**values, "temperature": "9"}))
    assert responses[-1].status_code == 422
    # A blank key keeps the stored one; the connection test uses it.
    server.api_key = SECRET
    responses.append(client.post(admin + "admin/llm/test", data={**values, "api_key": ""}))
    assert "Connection works" in text(responses[-1]) or "connexion fonctionne" in text(responses[-1]).lower()
    # A wrong key: the service echoes what it received; the page shows neither key.
    responses.append(client.post(admin + "admin/llm/test", data={**values, "api_key": "sk-wrong-" + SECRET[-6:]}))
    assert 'data-testid="llm-test-report"' in text(responses[-1])
    responses.append(client.post(admin + "admin/llm", data={**values, "api_key": ""}))
    assert stored_key(row()) == SECRET
    url = open_item(platform, client)
    responses.append(client.post(url + "ai/complete", json={"purpose": "exercise", "exercise_id": PROMPT_EXERCISE,
                                                             "prompt": "x"}))
    assert responses[-1].status_code == 200 and server.requests[-1].authorization == f"Bearer {SECRET}"
    responses.append(client.get(admin + "admin/usage"))
    responses.append(client.get(admin + "admin/usage.json"))
    for response in responses:
        assert SECRET not in response.get_data(as_text=True)
        assert SECRET[:-4] not in response.get_data(as_text=True)
    assert SECRET not in caplog.text and "sk-wrong-" not in caplog.text
    assert all(SECRET not in str(call.prompt) + call.answer for call in calls())


def test_changing_the_endpoint_drops_the_key_and_the_admin_can_remove_it(client, platform, server):
    admin = admin_url(platform, client)
    client.post(admin + "admin/llm", data=form(base_url=server.openai_base_url, confirm_eu="on", api_key=SECRET))
    assert stored_key(row()) == SECRET
    client.post(admin + "admin/llm", data=form(provider="mistral", model="mistral-small-latest", server="eu"))
    assert row().api_key_encrypted is None and row().eu_confirmed_at is None  # not carried to another endpoint
    client.post(admin + "admin/llm", data=form(provider="mistral", model="mistral-small-latest", api_key="mk-123456789"))
    assert stored_key(row()) == "mk-123456789"
    client.post(admin + "admin/llm", data=form(provider="mistral", model="mistral-small-latest", clear_key="on"))
    assert row().api_key_encrypted is None


# --- the connection test -------------------------------------------------------------------------


def test_connection_test_reports_success_with_model_and_latency(client, platform, server):
    admin = admin_url(platform, client)
    server.model = "mistral-small-2503"
    response = client.post(admin + "admin/llm/test", data=form(base_url=server.openai_base_url, confirm_eu="on"))
    body = text(response)
    assert response.status_code == 200 and 'data-testid="llm-test-report"' in body
    assert "mistral-small-2503" in body and " ms" in body
    assert row() is None  # tested, not saved
    [call] = calls()
    assert (call.purpose, call.outcome, call.provider) == ("test", "ok", "openai")
    assert server.requests[0].body["max_tokens"] == 16


def test_connection_test_reports_the_providers_error_in_plain_words(client, platform, server):
    admin = admin_url(platform, client)
    values = form(base_url=server.openai_base_url, confirm_eu="on")
    server.api_key = "sk-the-right-one-0000"
    body = text(client.post(admin + "admin/llm/test", data={**values, "api_key": SECRET}))
    assert "Incorrect API key provided" in body  # the provider's own words
    assert "<code>auth</code>" in body and SECRET not in body
    server.api_key = None
    server.fail_next(Fault.http(404, message="The model `test-model` does not exist."))
    body = text(client.post(admin + "admin/llm/test", data=values))
    assert "does not exist" in body and "<code>bad_config</code>" in body
    server.fail_next(Fault.slow(3))
    body = text(client.post(admin + "admin/llm/test", data={**values, "timeout": "1"}))
    assert "<code>timeout</code>" in body
    assert [c.outcome for c in calls()] == ["auth", "bad_config", "timeout"]


# --- usage ---------------------------------------------------------------------------------------


def test_usage_by_course_and_model_and_who_sees_which_course(client, platform, http_mock, server):
    configure(server)
    x = open_item(platform, client, context="course-X", link_id="link-x")
    y = open_item(platform, client, sub="learner-2", name="Noah Petit", context="course-Y", link_id="link-y")
    for url, n in ((x, 2), (y, 1)):
        for _ in range(n):
            assert client.post(url + "ai/complete", json={"purpose": "exercise", "exercise_id": PROMPT_EXERCISE,
                                                          "prompt": "x"}).status_code == 200
    server.fail_next(Fault.http(401))
    assert client.post(y + "ai/complete", json={"purpose": "assistant", "prompt": "x"}).status_code == 502
    admin = admin_url(platform, client, context="course-X", link_id="link-x")
    usage = client.get(admin + "admin/usage.json").get_json()
    rows = {r["course"]: r for r in usage["rows"]}
    assert set(rows) == {"Cours course-X", "Cours course-Y"}
    assert (rows["Cours course-X"]["calls"], rows["Cours course-X"]["tokens_in"], rows["Cours course-X"]["errors"]) == (2, 34, 0)
    assert (rows["Cours course-Y"]["calls"], rows["Cours course-Y"]["errors"]) == (2, 1)
    assert rows["Cours course-Y"]["model"] == "test-model" and usage["centre"]["calls"] == 3
    assert "Cours course-Y" in page(client, admin + "admin/usage")
    # A trainer of course X sees course X only; a learner nothing.
    trainer = open_item(platform, client, sub="trainer-1", role="trainer", context="course-X", link_id="link-x")
    mine = client.get(trainer + "admin/usage.json").get_json()
    assert [r["course"] for r in mine["rows"]] == ["Cours course-X"] and mine["centre"] is None
    assert "Cours course-Y" not in page(client, trainer + "admin/usage")
    assert client.get(x + "admin/usage.json").status_code == 403
    # Another centre's administrator sees none of it.
    other = TestPlatform(issuer="https://moodle-b.test", client_id="client-b", key_name="platform-b")
    other.serve_jwks(http_mock)
    other.register()
    foreign_admin = landing(other, client)
    assert client.get(foreign_admin + "admin/usage.json").get_json()["rows"] == []
    foreign_page = page(client, foreign_admin + "admin/llm")
    assert 'value="fake" checked' in foreign_page and "test-model" not in foreign_page


def landing(platform: TestPlatform, client) -> str:
    from .lti_platform import landing_url

    return landing_url(platform.launch(client, "admin", sub="admin-b", link_id="link-b"))


# --- the CLI -------------------------------------------------------------------------------------


def test_cli_sets_the_centre_llm_reading_the_key_from_the_environment(app, platform, server, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    runner = app.test_cli_runner()
    pk = str(platform_pk())
    monkeypatch.setenv("CENTRE_LLM_KEY", SECRET)
    base = ["lti-tool", "llm-config", "--platform-id", pk, "--provider", "openai", "--model", "test-model",
            "--base-url", server.openai_base_url, "--api-key-env", "CENTRE_LLM_KEY", "--max-tokens", "300"]
    refused = runner.invoke(args=base)
    assert refused.exit_code != 0 and "--confirm-eu" in refused.output and row() is None
    result = runner.invoke(args=[*base, "--confirm-eu", "--temperature", "0.2"])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output and "…" + SECRET[-4:] in result.output
    saved = row()
    assert (saved.provider, saved.model, saved.max_tokens, saved.temperature) == ("openai", "test-model", 300, 0.2)
    assert stored_key(saved) == SECRET and saved.eu_confirmed_at is not None and saved.eu_confirmed_by is None
    server.api_key = SECRET
    tested = runner.invoke(args=["lti-tool", "llm-test", "--platform-id", pk])
    assert tested.exit_code == 0 and "OK: openai model test-model" in tested.output
    server.api_key = "sk-another-key-9999"
    failed = runner.invoke(args=["lti-tool", "llm-test", "--platform-id", pk])
    assert failed.exit_code != 0 and "auth" in failed.output and SECRET not in failed.output
    non_eu = runner.invoke(args=["lti-tool", "llm-config", "--platform-id", pk, "--provider", "mistral",
                                 "--model", "m", "--server", "us"])
    assert non_eu.exit_code != 0 and "outside the EU" in non_eu.output
    assert runner.invoke(args=["lti-tool", "llm-config", "--platform-id", "999", "--provider", "fake"]).exit_code != 0
    missing = runner.invoke(args=[*base[:-4], "--api-key-env", "NOT_SET_ANYWHERE"])
    assert missing.exit_code != 0 and "NOT_SET_ANYWHERE" in missing.output
    assert SECRET not in caplog.text
    assert db.session.execute(select(AiCall.purpose)).scalars().all() == ["test", "test"]
