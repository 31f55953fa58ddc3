"""Transparency about the AI (EU AI Act, article 50) and how long its log keeps texts: the notice
a person acknowledges before their first use of the assistant in a course, and the purge of the
AI log's texts after the centre's period. (The label on a comment drafted with AI: test_marking.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from lti_tool.common.time import months_before, utcnow
from lti_tool.extensions import db
from lti_tool.llm.centre import ConfigChange, save_config
from lti_tool.llm.models import AiCall, AiNoticeAck, LlmConfig
from lti_tool.lti.models import Platform

from .llm_helpers import (  # noqa: F401  (fixtures)
    PROMPT_EXERCISE,
    acknowledge_notice,
    calls,
    chat_server,
    configure,
    count_calls,
    fresh_breakers,
    open_item,
    page,
    platform_pk,
    server,
    stream,
)
from .lti_platform import TestPlatform, landing_url
from .test_marking import user_pk


def ask(client, url: str):
    return client.post(url + "ai/complete", json={"purpose": "exercise", "exercise_id": PROMPT_EXERCISE,
                                                  "prompt": "Trois idées pour accueillir un apprenti ?"})


# --- the notice before the first use ------------------------------------------------------------


def test_the_notice_is_shown_and_required_before_the_first_call_in_a_course(client, platform, server):
    configure(server)  # an OpenAI-compatible endpoint the centre confirmed is hosted in the EU
    url = open_item(platform, client, name="Camille Martin", acknowledge=False)
    shown = page(client, url)
    assert 'data-testid="ai-notice"' in shown and "data-ai-notice-pending" in shown
    assert "est un système d’intelligence artificielle (IA)" in shown
    assert "Les réponses viennent du service à l’adresse 127.0.0.1, hébergé dans l’Union européenne" in shown
    assert "pseudonymisation" in shown and "pendant 6 mois" in shown

    refused = ask(client, url)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "ai_notice_required"
    assert "J’ai compris" in refused.get_json()["error"]["message"]
    response, _events, _text = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Bonjour")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "ai_notice_required"
    assert server.requests == [] and count_calls() == 0  # nothing sent, nothing logged

    before = utcnow().replace(microsecond=0)
    first = acknowledge_notice(client, url)
    assert first["provider"] == "openai" and first["endpoint"] == "127.0.0.1"
    assert acknowledge_notice(client, url)["acknowledged_at"] == first["acknowledged_at"]  # recorded once
    [ack] = db.session.execute(select(AiNoticeAck)).scalars().all()
    assert ack.acknowledged_at >= before and ack.user_pk == user_pk("learner-1")
    assert ask(client, url).status_code == 200
    assert 'data-testid="ai-notice"' not in page(client, url)

    # Another course of the same person: the notice again.
    other = open_item(platform, client, name="Camille Martin", context="course-202", link_id="link-202",
                      acknowledge=False)
    assert 'data-testid="ai-notice"' in page(client, other)
    assert ask(client, other).status_code == 409


def test_the_notice_is_asked_again_when_the_centre_moves_its_assistant(client, platform, server):
    configure(server)
    url = open_item(platform, client)
    assert ask(client, url).status_code == 200
    configure(server, "mistral")  # another provider (same machine)
    assert ask(client, url).status_code == 409
    acknowledge_notice(client, url)
    assert ask(client, url).status_code == 200
    assert [a.provider for a in db.session.execute(select(AiNoticeAck).order_by(AiNoticeAck.id)).scalars()] == [
        "openai", "mistral"]


def test_the_notice_names_the_provider_and_where_it_is_hosted_in_the_learners_language(client, platform):
    save_config(platform_pk(), None, ConfigChange(provider="mistral", model="mistral-small-latest", api_key="k" * 12,
                                                  log_retention_months=3))
    db.session.commit()
    english = page(client, open_item(platform, client, locale="en-GB", acknowledge=False))
    assert "The assistant in this activity is an artificial intelligence (AI) system" in english
    assert "The answers come from Mistral AI (EU) (api.eu.mistral.ai), hosted in the European Union." in english
    assert "for 3 months" in english and ">I understand</button>" in english
    save_config(platform_pk(), None, ConfigChange(provider="fake"))
    db.session.commit()
    demo = page(client, open_item(platform, client, sub="learner-2", acknowledge=False))
    assert "C’est une démonstration : les réponses viennent d’un faux modèle intégré à l’outil" in demo


def test_a_trainer_previewing_the_assistant_reads_the_notice_too(client, platform, server):
    configure(server)
    trainer = open_item(platform, client, sub="trainer-1", role="trainer", acknowledge=False)
    assert 'data-testid="ai-notice"' in page(client, trainer)
    assert client.post(trainer + "ai/complete", json={"purpose": "assistant", "prompt": "Test"}).status_code == 409


def test_the_acknowledgement_is_in_the_persons_export_and_goes_with_their_erasure(client, platform, server):
    configure(server)
    learner = open_item(platform, client, name="Camille Martin")
    learner_pk = user_pk("learner-1")
    admin = open_item(platform, client, sub="admin-1", role="admin", name="Sam Leroy", acknowledge=False)
    data = client.get(admin + f"admin/people/{learner_pk}/data.json").get_json()
    [exported] = data["tables"]["ai_notice_ack"]
    assert (exported["provider"], exported["endpoint"]) == ("openai", "127.0.0.1")
    assert exported["acknowledged_at"].endswith("Z")
    assert client.post(admin + f"admin/people/{learner_pk}/erase", data={"confirm": "yes"}).status_code == 200
    db.session.expire_all()
    assert db.session.execute(select(AiNoticeAck)).scalars().all() == []
    assert client.get(learner).status_code == 401


# --- how long the AI log keeps texts ------------------------------------------------------------


def second_centre(client, http_mock) -> str:
    other = TestPlatform(issuer="https://moodle-b.test", client_id="client-b", key_name="platform-b")
    other.serve_jwks(http_mock)
    other.register()
    return landing_url(other.launch(client, "learner", sub="learner-b1", link_id="link-b", **{
        "https://purl.imsglobal.org/spec/lti/claim/custom": {"catalogue_item": "m1.t4"}}))


def age(call_id: int, days: int) -> None:
    db.session.execute(update(AiCall).where(AiCall.id == call_id).values(created_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def test_purge_removes_old_texts_keeps_the_figures_and_follows_each_centres_period(app, client, platform, http_mock,
                                                                                   llm_call):
    a = open_item(platform, client)
    b = second_centre(client, http_mock)
    made = {name: llm_call(url, f"Question {name}")["call_id"]
            for name, url in (("a_old", a), ("a_recent", a), ("b_old", b), ("b_recent", b))}
    for name, days in (("a_old", 190), ("a_recent", 100), ("b_old", 100), ("b_recent", 40)):
        age(made[name], days)
    runner = app.test_cli_runner()
    b_pk = db.session.execute(select(Platform.id).where(Platform.issuer == "https://moodle-b.test")).scalar_one()
    set_b = runner.invoke(args=["lti-tool", "llm-config", "--platform-id", str(b_pk), "--provider", "fake",
                                "--log-retention-months", "2"])
    assert set_b.exit_code == 0 and "log_retention_months=2" in set_b.output
    before = {c.id: (c.tokens_in, c.tokens_out, c.latency_ms, c.outcome, c.model) for c in calls()}

    result = runner.invoke(args=["lti-tool", "purge"])
    assert result.exit_code == 0, result.output
    assert "removed the texts of 2 AI call(s)" in result.output
    by_id = {c.id: c for c in calls()}
    for name in ("a_old", "b_old"):  # centre A keeps 6 months (the default), centre B 2
        call = by_id[made[name]]
        assert (call.prompt, call.answer) == ([], "") and call.texts_removed_at is not None
    for name in ("a_recent", "b_recent"):
        call = by_id[made[name]]
        assert f"Question {name}" in str(call.prompt) and call.answer and call.texts_removed_at is None
    assert {c.id: (c.tokens_in, c.tokens_out, c.latency_ms, c.outcome, c.model) for c in calls()} == before
    assert all(tokens_in > 0 for tokens_in, *_ in before.values())
    assert "removed the texts of 0 AI call(s)" in runner.invoke(args=["lti-tool", "purge"]).output


def test_the_centre_sets_its_retention_period_on_its_ai_settings_page(client, platform):
    admin = open_item(platform, client, sub="admin-1", role="admin", acknowledge=False)
    shown = page(client, admin + "admin/llm")
    assert 'name="log_retention_months"' in shown and "Par défaut : 6" in shown
    refused = client.post(admin + "admin/llm", data={"provider": "fake", "log_retention_months": "0"})
    assert refused.status_code == 422 and 'data-error-for="log_retention_months"' in refused.get_data(as_text=True)
    saved = client.post(admin + "admin/llm", data={"provider": "fake", "log_retention_months": "12"})
    assert saved.status_code == 303
    db.session.expire_all()
    assert db.session.execute(select(LlmConfig.log_retention_months)).scalar_one() == 12
    learner = open_item(platform, client, acknowledge=False)
    assert "pendant 12 mois" in page(client, learner)


def test_months_before_keeps_the_day_or_takes_the_last_of_the_month():
    now = utcnow().replace(year=2027, month=8, day=31, hour=3)
    assert months_before(now, 6) == now.replace(month=2, day=28)
    assert months_before(now.replace(month=1, day=15), 2) == now.replace(year=2026, month=11, day=15)
