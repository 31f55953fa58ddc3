"""The streaming endpoint end to end: the real `openai` and `mistralai` SDKs against the local fake
chat server, and the built-in fake provider; the stop button; failures before and during an answer."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest
from flask_babel import force_locale

from lti_tool.extensions import db
from lti_tool.llm.prompts import MODES
from lti_tool.llm.services import ERRORS

from .live_server import live_server
from .llm_fake_servers import Fault
from .llm_helpers import (  # noqa: F401  (fixtures)
    PROMPT_EXERCISE,
    ROLE_PLAY_EXERCISE,
    SECRET,
    calls,
    chat_server,
    configure,
    count_calls,
    fresh_breakers,
    open_item,
    page,
    parse_sse,
    sent_text,
    server,
    stream,
)


def expected_message(app, code: str, locale: str = "fr") -> str:
    with app.test_request_context(), force_locale(locale):
        return str(ERRORS[code][1])


@pytest.mark.parametrize("provider", ["openai", "mistral"])
def test_answer_streams_through_the_real_sdk_and_is_logged_once(app, client, platform, server, provider):
    configure(server, provider)
    server.answer = "Première piste : partir d’une situation réelle. Deuxième piste : fixer une échéance."
    url = open_item(platform, client)
    response, events, text = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE,
                                    prompt="Explique le référencement en trois niveaux.")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"delta"} and len(names) > 3  # word by word
    assert text == server.answer
    done = events[-1][1]
    [call] = calls()
    assert done["call_id"] == call.id and done["usage"] == {"tokens_in": 17, "tokens_out": 9}
    assert (call.provider, call.model, call.outcome, call.purpose) == (provider, "test-model", "ok", "exercise")
    assert call.exercise_id == PROMPT_EXERCISE and call.answer == server.answer
    assert (call.tokens_in, call.tokens_out) == (17, 9) and call.latency_ms >= 0
    assert call.prompt[-1] == {"role": "user", "content": "Explique le référencement en trois niveaux."}
    [request] = server.requests
    assert request.streamed and request.body["model"] == "test-model"
    assert request.body["messages"] == call.prompt  # what is logged is what was sent


def test_built_in_fake_provider_streams_by_default(app, client, platform):
    url = open_item(platform, client)
    text_page = page(client, url)
    assert 'data-testid="demo-label"' in text_page  # labelled as a demonstration
    response, events, text = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE,
                                    prompt="Comment accueillir une apprentie le premier jour ?")
    assert response.status_code == 200 and events[-1][0] == "done" and events[-1][1]["demo"] is True
    [call] = calls()
    assert call.provider == "fake" and call.outcome == "ok" and text and call.answer == text


def test_preparation_mode_system_prompt_is_sent(app, client, platform, server):
    configure(server)
    url = open_item(platform, client)  # AIAS default level: "2 – AI planning"
    assert "Préparation" in page(client, url) or "Preparation" in page(client, url)
    stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Donne-moi des idées.")
    system = server.requests[0].body["messages"][0]
    assert system["role"] == "system" and MODES["preparation"]["fr"] in system["content"]


def test_stop_mid_stream_stores_one_partial_row(app, client, platform, server):
    configure(server)
    server.answer = " ".join(f"mot{i}" for i in range(200))
    server.chunk_delay = 0.02
    url = open_item(platform, client)
    response = client.post(url + "ai/chat", json={"purpose": "exercise", "exercise_id": PROMPT_EXERCISE,
                                                  "prompt": "Une longue réponse, s’il te plaît."}, buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    received = ""
    while received.count("event: delta") < 3:
        received += next(chunks).decode()
    response.close()  # the browser aborted the fetch: the generator is closed
    [call] = calls()
    assert call.outcome == "stopped"
    shown = "".join(data["text"] for name, data in parse_sse(received.rsplit("\n\n", 1)[0] + "\n\n") if name == "delta")
    assert call.answer.startswith(shown.strip()) and 0 < len(call.answer) < len(server.answer)
    time.sleep(0.1)
    assert count_calls() == 1  # stored once, nothing more when the provider's stream ends


def test_an_answer_streams_without_holding_a_database_connection(app, client, platform, server, database_url):
    """The request's checks and reads are committed and its connection given back before the
    prompt is sent: the wait for the model's first words, then the answer (seconds) hold none, and
    answers at once are not capped by the pool. The AI log row is written at the end, in a
    transaction of its own. Served over HTTP (Werkzeug's server): there, as under gunicorn, a
    streamed response keeps its request's context until it ends."""
    configure(server)
    url = open_item(platform, client)
    server.hold, server.hold_at = threading.Event(), 0  # the model "thinks" until released
    with live_server(database_url) as live:
        connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
        connection.request("POST", url + "ai/chat", headers={"Content-Type": "application/json"},
                           body=json.dumps({"purpose": "exercise", "exercise_id": PROMPT_EXERCISE,
                                            "prompt": "Explique le référencement."}))
        assert server.wait_held(1, 30)  # the prompt was sent; no answer yet
        with live.app.app_context():
            assert db.engine.pool.checkedout() == 0  # the request holds no connection meanwhile
        server.hold.set()
        events = parse_sse(connection.getresponse().read().decode())
        connection.close()
        [call] = calls()  # before the live server's end empties the tables
    assert events[-1] == ("done", events[-1][1]) and events[-1][1]["call_id"] == call.id
    assert (call.outcome, call.answer) == ("ok", server.answer)


@pytest.mark.parametrize("fault, code, status", [
    (Fault.http(401), "auth", 502),
    (Fault.prompt_refused(), "refused", 422),
    (Fault.http(503), "unavailable", 503),
    (Fault.http(429), "rate_limited", 503),
])
def test_failures_before_the_answer_give_a_localised_message_and_keep_the_draft(
        app, client, platform, server, fault, code, status):
    configure(server)
    server.fail_next(*[fault] * 3)  # transient ones are retried: every attempt fails
    url = open_item(platform, client)
    draft = {"prompt": "Mon prompt soigneusement préparé", "answer": "", "critique": "Ma critique en cours"}
    assert client.put(url + f"exercises/{PROMPT_EXERCISE}/draft", json={"answers": draft}).status_code == 200
    response, events, _ = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt=draft["prompt"])
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error == {"code": code, "message": expected_message(app, code)}
    [call] = calls()
    assert call.outcome == code and call.answer == "" and call.prompt[-1]["content"] == draft["prompt"]
    assert SECRET not in response.get_data(as_text=True)
    text = page(client, url)
    assert "Mon prompt soigneusement préparé" in text and "Ma critique en cours" in text
    server.reset()
    ok, events, _ = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt=draft["prompt"])
    assert ok.status_code == 200 and events[-1][0] == "done"  # nothing broken


def test_english_learner_gets_the_message_in_english(app, client, platform, server):
    configure(server)
    server.fail_next(Fault.http(401))
    url = open_item(platform, client, locale="en-GB")
    response, _, _ = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Hello")
    assert response.get_json()["error"]["message"] == expected_message(app, "auth", "en")
    assert "centre's access key" in response.get_json()["error"]["message"]


def test_timeout_is_reported_within_the_budget(app, client, platform, server):
    configure(server, timeout=1)
    server.fail_next(Fault.slow(5), Fault.slow(5), Fault.slow(5))
    url = open_item(platform, client)
    started = time.monotonic()
    response, _, _ = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Vite !")
    assert time.monotonic() - started < 3
    assert response.status_code == 504 and response.get_json()["error"]["code"] == "timeout"
    assert calls()[0].outcome == "timeout"


def test_failure_during_the_answer_ends_with_an_error_event_and_keeps_the_partial_answer(
        app, client, platform, server):
    configure(server)
    server.answer = "un deux trois quatre cinq six sept huit"
    server.fail_next(Fault.drop(after_chunks=3))
    url = open_item(platform, client)
    response, events, text = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Compte.")
    assert response.status_code == 200
    name, error = events[-1]
    assert name == "error" and error["code"] == "unavailable"
    assert error["message"] == expected_message(app, "unavailable")
    [call] = calls()
    assert call.outcome == "unavailable" and call.answer == text == "un deux trois " and error["call_id"] == call.id


def test_repeated_failures_open_the_circuit_and_pages_stay_fast(app, client, platform, server):
    configure(server)
    server.fail_next(*[Fault.http(503)] * 10)
    url = open_item(platform, client)
    codes = []
    for _ in range(3):
        response, _, _ = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Test")
        codes.append(response.get_json()["error"]["code"])
    assert codes[0] == "unavailable" and codes[-1] == "circuit_open"
    before = server.request_count
    started = time.monotonic()
    response, _, _ = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Test")
    assert time.monotonic() - started < 0.5 and server.request_count == before
    assert response.status_code == 503 and response.get_json()["error"]["message"] == expected_message(app, "circuit_open")
    assert calls()[-1].outcome == "circuit_open"


def test_role_play_is_a_conversation_the_ai_opened(app, client, platform, server):
    configure(server)
    server.answer = "Une compensation ? Je veux d’abord des excuses."
    url = open_item(platform, client)
    turns = [{"role": "user", "content": "Je comprends votre frustration, monsieur."},
             {"role": "assistant", "content": "Comprendre ne suffit pas !"},
             {"role": "user", "content": "Je peux vous proposer une chambre vue mer demain."}]
    response, events, text = stream(client, url, purpose="role_play", exercise_id=ROLE_PLAY_EXERCISE, messages=turns)
    assert response.status_code == 200 and text == server.answer
    sent = server.requests[0].body["messages"]
    assert sent[0]["role"] == "system" and "client d’hôtel mécontent" in sent[0]["content"]
    assert sent[1]["role"] == "assistant" and sent[1]["content"].startswith("Bonsoir.")  # the exercise's opening
    assert sent[2:] == turns
    assert calls()[0].purpose == "role_play"


def test_policy_off_refuses_before_anything_is_sent(app, client, platform, server):
    configure(server)
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    assert client.put(trainer + "policy", json={"level": "no_ai", "note": ""}).status_code == 200
    url = open_item(platform, client)
    text = page(client, url)
    assert 'data-testid="assistant-mode"' in text and 'data-ai="run"' not in text  # the page says so, no button
    response, _, _ = stream(client, url, purpose="exercise", exercise_id=PROMPT_EXERCISE, prompt="Aide-moi")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "assistant_off"
    assert server.request_count == 0 and count_calls() == 0
