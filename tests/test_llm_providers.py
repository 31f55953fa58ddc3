"""The LLM providers with their real SDK clients against a local server, and the resilience layer.

Nothing of ours is mocked: the openai and mistralai clients send real HTTP requests to
tests/llm_fake_servers.py, which answers in their API's shapes or fails on cue. Time is injected
only where waiting for real would make the suite slow (backoff sleeps, breaker cool-down).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from lti_tool.llm import (
    ChatMessage,
    CircuitBreaker,
    LLMAuthError,
    LLMBadConfig,
    LLMCircuitOpen,
    LLMError,
    LLMProvider,
    LLMRateLimited,
    LLMRefused,
    LLMTimeout,
    LLMUnavailable,
    ProviderSettings,
    ResilientProvider,
    breaker_for,
    demo_answer,
    get_provider,
    reset_breakers,
)

from lti_tool.catalogue.services import CONTENT_DIR, load_catalogue
from lti_tool.grading.views import WWW_EBI
from lti_tool.llm.prompts import system_prompt

from .llm_fake_servers import FakeChatServer, Fault

KEY = "sk-test-5f2a9c41d7e8b3a6"
WRONG_KEY = "sk-wrong-0a1b2c3d4e5f6789"
QUESTION = [
    ChatMessage("system", "Tu es un assistant pour les tuteurs d'apprentis."),
    ChatMessage("user", "Comment formuler un objectif SMART pour un apprenti boulanger ?"),
]
PROVIDERS = ["openai", "mistral"]


class FakeTime:
    """A clock that only moves when slept on: backoff waits cost no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer(api_key=KEY) as chat:
        yield chat


def settings_for(server: FakeChatServer, kind: str, **overrides) -> ProviderSettings:
    values = dict(
        provider=kind,
        model="mistral-small-latest" if kind == "mistral" else "gpt-compatible-small",
        api_key=KEY,
        base_url=server.mistral_server_url if kind == "mistral" else server.openai_base_url,
        eu_confirmed=True,
        timeout=5.0,
        connect_timeout=1.0,
    )
    values.update(overrides)
    return ProviderSettings(**values)


@pytest.fixture(params=PROVIDERS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def provider(server, kind) -> Iterator[LLMProvider]:
    with get_provider(None, settings_for(server, kind)) as llm:
        yield llm


def resilient(
    provider: LLMProvider, fake_time: FakeTime | None = None, **options
) -> ResilientProvider:
    fake_time = fake_time or FakeTime()
    options.setdefault("breaker", CircuitBreaker(failure_threshold=100, clock=fake_time.clock))
    options.setdefault("jitter", lambda: 1.0)
    return ResilientProvider(provider, sleep=fake_time.sleep, clock=fake_time.clock, **options)


# --- completion and streaming ------------------------------------------------------------------


def test_complete_returns_the_answer_with_usage_and_model(server, provider, kind):
    completion = provider.complete(QUESTION)

    assert completion.text == server.answer
    assert (completion.tokens_in, completion.tokens_out) == (17, 9)
    assert not completion.usage_estimated
    assert completion.model == provider.settings.model
    assert completion.finish_reason == "stop"
    assert completion.provider == kind
    assert completion.latency_ms >= 0 and completion.first_token_ms is None

    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.dialect == kind
    assert request.authorization == f"Bearer {KEY}"
    assert request.body["model"] == provider.settings.model
    assert request.body["messages"] == [{"role": m.role, "content": m.content} for m in QUESTION]
    assert request.body["max_tokens"] == 800 and request.body["temperature"] == 0.3
    assert not request.streamed


def test_without_a_key_no_key_from_the_environment_is_sent(kind, monkeypatch):
    # A self-hosted server may need no key; the SDKs would otherwise read one meant for another use.
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-from-the-environment")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    with FakeChatServer() as open_server:
        with get_provider(None, settings_for(open_server, kind, api_key=None)) as llm:
            assert llm.complete(QUESTION).text == open_server.answer
        sent = open_server.requests[0].authorization

    assert "sk-from-the-environment" not in (sent or "")
    assert sent == (None if kind == "mistral" else "Bearer no-key")


def test_call_options_override_the_settings(server, provider):
    provider.complete(QUESTION, model="other-model", temperature=0.0, max_tokens=50)

    body = server.requests[0].body
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("other-model", 0.0, 50)


def test_the_model_the_server_names_is_recorded(server, provider):
    server.model = "resolved-model-2503"

    assert provider.complete(QUESTION).model == "resolved-model-2503"


def test_stream_yields_deltas_then_the_whole_completion(server, provider, kind):
    with provider.stream(QUESTION) as stream:
        deltas = list(stream)
    completion = stream.completion

    assert deltas == server.split(server.answer)
    assert completion.text == server.answer
    assert (completion.tokens_in, completion.tokens_out) == (17, 9)
    assert not completion.usage_estimated
    assert completion.model == provider.settings.model
    assert completion.finish_reason == "stop"
    assert completion.first_token_ms is not None
    assert 0 <= completion.first_token_ms <= completion.latency_ms
    [request] = server.requests
    assert request.streamed
    if kind == "openai":
        assert request.body["stream_options"] == {"include_usage": True}


def test_stream_without_usage_estimates_the_tokens(server):
    with get_provider(None, settings_for(server, "openai", stream_usage=False)) as llm:
        stream = llm.stream(QUESTION)
        assert "".join(stream) == server.answer

    assert "stream_options" not in server.requests[0].body
    assert stream.completion.usage_estimated
    assert stream.completion.tokens_out > 0


def test_a_stopped_stream_keeps_what_was_received(server, provider):
    server.chunk_delay = 0.01
    stream = provider.stream(QUESTION)
    first = next(stream)
    stream.close()

    assert stream.text == first
    assert stream.completion.finish_reason == "stopped"


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        (Fault.http(500), LLMUnavailable, 500),
        (Fault.http(503), LLMUnavailable, 503),
        (Fault.http(404, message="The model does not exist."), LLMBadConfig, 404),
        (Fault.prompt_refused(), LLMRefused, 400),
        (Fault.filtered(), LLMRefused, None),
    ],
    ids=["500", "503", "404", "prompt-refused", "answer-filtered"],
)
def test_failures_map_to_our_errors(server, provider, fault, error, status):
    server.fail_next(fault)

    with pytest.raises(error) as caught:
        provider.complete(QUESTION)

    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.provider == provider.name


def test_rate_limit_carries_retry_after(server, provider):
    server.fail_next(Fault.http(429, retry_after=7))

    with pytest.raises(LLMRateLimited) as caught:
        provider.complete(QUESTION)

    assert caught.value.retry_after == 7.0
    assert caught.value.status == 429
    assert caught.value.retryable


def test_no_answer_in_time_is_a_timeout(server, provider):
    server.fail_next(Fault.slow(2.0))
    started = time.monotonic()

    with pytest.raises(LLMTimeout):
        provider.complete(QUESTION, timeout=0.3)

    assert time.monotonic() - started < 1.5


def test_redirects_are_not_followed(server, provider):
    # A redirect could take the prompt to a host the hosting rules never checked.
    server.fail_next(Fault.http(307, location=f"{server.url}/elsewhere/v1/chat/completions"))

    with pytest.raises(LLMBadConfig) as caught:
        provider.complete(QUESTION)

    assert caught.value.status == 307
    assert server.request_count == 1


def test_unreachable_endpoint_is_unavailable(kind):
    with FakeChatServer() as stopped:
        settings = settings_for(stopped, kind)
    with get_provider(None, settings) as llm, pytest.raises(LLMUnavailable):
        llm.complete(QUESTION)


def test_wrong_key_is_an_auth_error(server, kind):
    with get_provider(None, settings_for(server, kind, api_key=WRONG_KEY)) as llm:
        with pytest.raises(LLMAuthError) as caught:
            llm.complete(QUESTION)
    assert caught.value.status == 401
    assert not caught.value.retryable


def test_the_key_never_shows_in_errors_reprs_or_logs(server, kind, caplog, monkeypatch):
    # The SDK would log request headers at debug level if this were honoured.
    monkeypatch.setenv("MISTRAL_DEBUG", "1")
    caplog.set_level(logging.DEBUG)
    settings = settings_for(server, kind, api_key=WRONG_KEY)
    errors: list[LLMError] = []
    with get_provider(None, settings) as llm:
        wrapped = resilient(llm)
        for call in (llm.complete, llm.stream, wrapped.complete, wrapped.stream):
            with pytest.raises(LLMAuthError) as caught:
                call(QUESTION)
            errors.append(caught.value)
        texts = [repr(llm), repr(wrapped), repr(settings)]

    # The server echoed the wrong key in its error message, as some services do.
    assert server.requests[0].authorization == f"Bearer {WRONG_KEY}"
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [e.detail for e in errors]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.__dict__) for record in caplog.records]
    assert caplog.records, "the SDKs' debug logs were captured"
    for text in texts:
        assert WRONG_KEY not in text
    assert any("***" in e.detail for e in errors)


def test_the_key_never_shows_in_logs_of_successful_calls(server, provider, caplog):
    caplog.set_level(logging.DEBUG)
    provider.complete(QUESTION)
    list(provider.stream(QUESTION))

    assert caplog.records
    assert all(KEY not in str(record.__dict__) for record in caplog.records)


def test_stream_refused_before_the_first_byte_raises_at_once(server, provider):
    server.fail_next(Fault.http(503))

    with pytest.raises(LLMUnavailable):
        provider.stream(QUESTION)


def test_stream_cut_midway_raises_while_iterating(server, provider):
    server.fail_next(Fault.drop(after_chunks=2))
    stream = provider.stream(QUESTION)
    received = []

    with pytest.raises(LLMUnavailable):
        for delta in stream:
            received.append(delta)

    assert received == server.split(server.answer)[:2]
    assert stream.text == "".join(received)
    assert stream.completion.finish_reason == "error"


def test_stream_filtered_midway_is_refused(server, provider):
    server.fail_next(Fault.filtered())
    stream = provider.stream(QUESTION)

    with pytest.raises(LLMRefused):
        list(stream)
    assert stream.text == server.split(server.answer)[0]


def test_stream_stalling_midway_times_out(server, provider):
    server.chunk_delay = 1.0
    stream = provider.stream(QUESTION, timeout=0.3)

    assert next(stream) == server.split(server.answer)[0]
    with pytest.raises(LLMTimeout):
        next(stream)


# --- retries -----------------------------------------------------------------------------------


def test_transient_failures_are_retried_with_backoff(server, provider):
    server.fail_next(Fault.http(503), Fault.http(500))
    fake_time = FakeTime()

    completion = resilient(provider, fake_time).complete(QUESTION)

    assert completion.text == server.answer
    assert server.request_count == 3
    # Full jitter drawn at its maximum: base_delay doubling per attempt.
    assert fake_time.sleeps == [0.2, 0.4]


def test_backoff_is_capped_and_jittered(server, provider):
    server.fail_next(*[Fault.http(503)] * 3)
    fake_time = FakeTime()
    draws = iter([0.5, 0.25, 1.0])

    llm = resilient(provider, fake_time, max_attempts=4, base_delay=1.0, max_delay=1.5,
                    jitter=lambda: next(draws))
    llm.complete(QUESTION)

    # 1.0 × 0.5, then min(1.5, 2.0) × 0.25, then the 1.5 cap × 1.0.
    assert fake_time.sleeps == [0.5, 0.375, 1.5]


def test_retries_stop_at_max_attempts(server, provider):
    server.fail_next(*[Fault.http(503)] * 5)

    with pytest.raises(LLMUnavailable):
        resilient(provider, max_attempts=3).complete(QUESTION)

    assert server.request_count == 3
    assert server.pending_faults == 2


def test_retry_after_is_honoured(server, provider):
    server.fail_next(Fault.http(429, retry_after=1.5))
    fake_time = FakeTime()

    completion = resilient(provider, fake_time).complete(QUESTION)

    assert completion.text == server.answer
    assert fake_time.sleeps == [1.5]
    assert server.request_count == 2


def test_each_attempt_gets_the_remaining_budget(server):
    server.fail_next(Fault.http(429, retry_after=2))
    fake_time = FakeTime()
    with get_provider(None, settings_for(server, "openai")) as llm:
        resilient(llm, fake_time).complete(QUESTION, timeout=10)

    first, second = (float(r.headers["x-stainless-read-timeout"]) for r in server.requests)
    assert first == 10
    assert second == pytest.approx(8, abs=0.01)


def test_a_retry_after_past_the_budget_is_not_waited_for(server, provider):
    server.fail_next(Fault.http(429, retry_after=60))
    fake_time = FakeTime()

    with pytest.raises(LLMRateLimited) as caught:
        resilient(provider, fake_time).complete(QUESTION, timeout=5)

    assert caught.value.retry_after == 60
    assert fake_time.sleeps == []
    assert server.request_count == 1


def test_a_backoff_past_the_budget_is_not_waited_for(server, provider):
    server.fail_next(Fault.http(503), Fault.http(503))
    fake_time = FakeTime()

    with pytest.raises(LLMUnavailable):
        resilient(provider, fake_time, base_delay=1.0, max_delay=4.0).complete(QUESTION, timeout=2.5)

    # Waits of 1 s then 2 s: the second would end at 3 s, past the 2.5 s budget.
    assert fake_time.sleeps == [1.0]
    assert server.request_count == 2


def test_timeouts_stay_within_the_overall_budget(server, provider):
    server.fail_next(Fault.slow(2.0), Fault.slow(2.0))
    started = time.monotonic()

    with pytest.raises(LLMTimeout):
        ResilientProvider(provider, max_attempts=3).complete(QUESTION, timeout=0.3)

    assert time.monotonic() - started < 1.5
    assert server.request_count == 1


@pytest.mark.parametrize(
    "fault",
    [Fault.prompt_refused(), Fault.http(404), Fault.http(403)],
    ids=["refused", "404", "403"],
)
def test_permanent_failures_are_not_retried(server, provider, fault):
    server.fail_next(fault)

    with pytest.raises(LLMError):
        resilient(provider).complete(QUESTION)

    assert server.request_count == 1


def test_a_wrong_key_is_not_retried(server, kind):
    with get_provider(None, settings_for(server, kind, api_key=WRONG_KEY)) as llm:
        with pytest.raises(LLMAuthError):
            resilient(llm).complete(QUESTION)
    assert server.request_count == 1


def test_a_stream_is_retried_until_its_first_delta(server, provider):
    server.fail_next(Fault.http(503), Fault.drop(after_chunks=0))

    with resilient(provider).stream(QUESTION) as stream:
        text = "".join(stream)

    assert text == server.answer
    assert server.request_count == 3


def test_a_stream_cut_after_it_opened_but_before_any_text_is_retried(server, provider):
    # The SDK returns the open stream; the cut only shows when the first delta is read.
    server.fail_next(Fault.cut_before_text())

    with resilient(provider).stream(QUESTION) as stream:
        text = "".join(stream)

    assert text == server.answer
    assert server.request_count == 2


def test_a_stream_is_not_retried_after_its_first_delta(server, provider):
    server.fail_next(Fault.drop(after_chunks=2))
    breaker = CircuitBreaker(failure_threshold=1)
    stream = resilient(provider, breaker=breaker).stream(QUESTION)

    with pytest.raises(LLMUnavailable):
        list(stream)

    assert stream.text == "".join(server.split(server.answer)[:2])
    assert server.request_count == 1
    # The failure after the first delta still counts for the endpoint's breaker.
    assert breaker.state == "open"


# --- circuit breaker ---------------------------------------------------------------------------


def test_the_breaker_opens_fails_fast_and_closes_after_the_cooldown(server, provider):
    fake_time = FakeTime()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=30, clock=fake_time.clock)
    llm = resilient(provider, fake_time, max_attempts=1, breaker=breaker)
    server.fail_next(*[Fault.http(503)] * 3)

    for _ in range(3):
        with pytest.raises(LLMUnavailable):
            llm.complete(QUESTION)
    assert breaker.state == "open"

    started = time.monotonic()
    with pytest.raises(LLMCircuitOpen) as caught:
        llm.complete(QUESTION)
    with pytest.raises(LLMCircuitOpen):
        llm.stream(QUESTION)
    assert time.monotonic() - started < 0.2
    assert server.request_count == 3
    assert caught.value.code == "unavailable" and not caught.value.retryable
    assert caught.value.retry_after == 30

    fake_time.now += 30
    assert breaker.state == "half_open"
    assert llm.complete(QUESTION).text == server.answer
    assert server.request_count == 4
    assert breaker.state == "closed"


def test_a_failed_trial_call_opens_the_breaker_again(server, provider):
    fake_time = FakeTime()
    breaker = CircuitBreaker(failure_threshold=2, cooldown=10, clock=fake_time.clock)
    llm = resilient(provider, fake_time, max_attempts=1, breaker=breaker)
    server.fail_next(*[Fault.http(500)] * 3)
    for _ in range(2):
        with pytest.raises(LLMUnavailable):
            llm.complete(QUESTION)

    fake_time.now += 10
    with pytest.raises(LLMUnavailable):
        llm.complete(QUESTION)
    with pytest.raises(LLMCircuitOpen):
        llm.complete(QUESTION)

    assert server.request_count == 3
    assert breaker.retry_in() == 10


def test_retries_count_towards_the_breaker(server, provider):
    fake_time = FakeTime()
    breaker = CircuitBreaker(failure_threshold=2, clock=fake_time.clock)
    server.fail_next(*[Fault.http(503)] * 5)

    with pytest.raises(LLMCircuitOpen):
        resilient(provider, fake_time, max_attempts=5, breaker=breaker).complete(QUESTION)

    assert server.request_count == 2


def test_auth_errors_do_not_open_the_breaker(server, kind):
    breaker = CircuitBreaker(failure_threshold=2)
    with get_provider(None, settings_for(server, kind, api_key=WRONG_KEY)) as llm:
        wrapped = resilient(llm, breaker=breaker)
        for _ in range(3):
            with pytest.raises(LLMAuthError):
                wrapped.complete(QUESTION)
    assert server.request_count == 3
    assert breaker.state == "closed"


def test_half_open_lets_a_single_trial_through():
    fake_time = FakeTime()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=5, clock=fake_time.clock)
    breaker.record_failure()
    fake_time.now += 5

    breaker.before_call()
    with pytest.raises(LLMCircuitOpen):
        breaker.before_call()
    breaker.record_success()
    breaker.before_call()


def test_the_breaker_is_thread_safe():
    # Opens on exactly the 800th failure: a lost update would leave it closed.
    breaker = CircuitBreaker(failure_threshold=800)
    barrier = threading.Barrier(8)

    def fail() -> None:
        barrier.wait()
        for _ in range(100):
            breaker.record_failure()

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert breaker.state == "open"


def test_breakers_are_shared_per_provider_and_endpoint(server):
    with (
        get_provider(None, settings_for(server, "openai")) as one,
        get_provider(None, settings_for(server, "openai", model="other")) as same_endpoint,
        get_provider(None, settings_for(server, "mistral")) as other_provider,
    ):
        assert breaker_for(one) is breaker_for(same_endpoint)
        assert breaker_for(one) is not breaker_for(other_provider)
        assert ResilientProvider(one).breaker is breaker_for(one)
        shared = breaker_for(one)
        reset_breakers()
        assert breaker_for(one) is not shared


def test_concurrent_calls_share_one_provider(server, provider):
    errors: list[BaseException] = []
    texts: list[str] = []

    def call() -> None:
        try:
            with provider.stream(QUESTION) as stream:
                texts.append("".join(stream))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert texts == [server.answer] * 8


# --- the demonstration provider ----------------------------------------------------------------


@pytest.fixture
def demo() -> LLMProvider:
    return get_provider(None, ProviderSettings())


def test_the_demo_provider_is_the_default_and_says_so(demo):
    assert demo.name == "fake"
    assert demo.is_demo
    assert "Démonstration" in demo.label


def test_the_demo_answer_is_deterministic(demo):
    first = demo.complete(QUESTION)
    again = demo.complete(list(QUESTION))
    other = demo.complete(
        [QUESTION[0], ChatMessage("user", "Comment préparer un entretien de mi-parcours ?")]
    )

    assert first.text == again.text
    assert first.text != other.text
    assert first.usage_estimated and first.tokens_in > 0 and first.tokens_out > 0
    assert first.finish_reason == "stop" and first.model == "demo"


def test_the_demo_answer_suggests_from_the_question(demo):
    text = demo.complete(QUESTION).text

    assert "objectif SMART" in text
    assert sum(line.startswith("- ") for line in text.splitlines()) >= 2
    assert any(word in text for word in ("Boulanger", "Apprenti", "Formuler"))


def test_the_demo_answers_in_english_to_english(demo):
    text = demo.complete([ChatMessage("user", "How should I give feedback to my apprentice?")]).text

    assert text.startswith(("A few ideas", "Here is how"))
    assert "Feedback" in text or "Apprentice" in text


def test_the_demo_plays_the_character_of_a_role_play(demo):
    messages = [
        ChatMessage("system", "Jeu de rôle : tu joues le rôle de Lucas, apprenti boulanger."),
        ChatMessage("assistant", "Bonjour, c'est Lucas. Vous vouliez me voir ?"),
        ChatMessage("user", "Lucas, tu es arrivé en retard trois fois cette semaine."),
    ]

    text = demo.complete(messages).text

    assert "retard" not in text, "the character answers, it does not repeat the trainer"
    assert "- " not in text
    # Before the trainer speaks, the character opens the conversation.
    assert demo_answer(messages[:1]).startswith("Bonjour, c'est Lucas.")


def _role_play(lang: str, theme: str, *said: str) -> list[str]:
    """The demo's replies, turn after turn, in the catalogue's role play of `theme`."""
    catalogue = load_catalogue(lang, CONTENT_DIR)
    exercise = next(e for e in catalogue.item(theme)["exercises"] if e["type"] == "role_play")
    messages = [ChatMessage("system", system_prompt("preparation", "role_play", lang, exercise))]
    replies = []
    for text in said:
        messages.append(ChatMessage("user", text))
        replies.append(demo_answer(messages))
        messages.append(ChatMessage("assistant", replies[-1]))
    return replies


def test_the_demo_colleague_insists_then_accepts_a_safer_way_in_character():
    pushback, accepted = _role_play("fr", "m2.t2", "Non, je ne peux pas : c'est risqué pour la confidentialité.",
                                    "On peut anonymiser les rapports avant de les résumer.")

    assert "tout le monde le fait" in pushback or "meilleure solution" in pushback or "théorique" in pushback
    for reply in (pushback, accepted):
        assert "confidentialité" not in reply and "anonymiser les rapports" not in reply  # no echo
        assert not reply.startswith(("Euh", "Je comprends :")), "a colleague, not a mentee"
    assert "noms" in accepted or "marche à suivre" in accepted
    (english,) = _role_play("en", "m2.t2", "No, that's risky for confidentiality.")
    assert "confidentiality" not in english and english.isascii()


def test_the_demo_client_and_mentor_speak_as_themselves():
    (client,) = _role_play("fr", "m1.t4", "Bonsoir monsieur, que puis-je faire pour vous ?")
    (mentor,) = _role_play("fr", "m1.t3", "J'ai raté une commande importante cette semaine.")

    assert "vue sur la mer" in client or "solution" in client or "proposez" in client
    assert "commande" not in mentor and ("?" in mentor or "ensemble" in mentor)


def test_the_demo_feedback_draft_has_the_two_parts_in_plain_text():
    system = system_prompt(None, "feedback_draft", "fr", instructions=WWW_EBI["fr"])
    text = demo_answer([ChatMessage("system", system),
                        ChatMessage("user", "## Objectifs SMART\n- spécifique: accueillir\n- temporel: lundi")])

    assert text.startswith("Ce qui a bien fonctionné\n- ")
    assert "\n\nCe serait encore mieux si\n- " in text
    assert "#" not in text and "**" not in text
    assert "« Objectifs SMART »" in text


def test_the_demo_stream_gives_the_same_answer_in_chunks():
    demo = get_provider("fake", ProviderSettings(fake_chunk_delay=0.002))
    expected = demo.complete(QUESTION).text

    started = time.monotonic()
    with demo.stream(QUESTION) as stream:
        chunks = list(stream)

    assert "".join(chunks) == expected
    assert len(chunks) > 10
    assert time.monotonic() - started >= 0.002 * (len(chunks) - 1)
    assert stream.completion.first_token_ms is not None
    assert stream.completion.text == expected


def test_the_demo_respects_max_tokens(demo):
    completion = demo.complete(QUESTION, max_tokens=5)

    assert completion.finish_reason == "length"
    assert len(completion.text) <= 20


def test_the_demo_works_behind_the_resilience_layer(demo):
    wrapped = ResilientProvider(demo)

    assert wrapped.is_demo and wrapped.name == "fake"
    assert wrapped.complete(QUESTION).text == demo.complete(QUESTION).text
    assert "".join(wrapped.stream(QUESTION)) == demo.complete(QUESTION).text


def test_unknown_provider_is_bad_config():
    with pytest.raises(LLMBadConfig):
        get_provider("nope")


def test_a_provider_without_a_model_is_bad_config(server, kind):
    with get_provider(None, settings_for(server, kind, model="")) as llm:
        with pytest.raises(LLMBadConfig):
            llm.complete(QUESTION)
    assert server.request_count == 0


def test_the_demo_gives_as_many_points_as_the_prompt_asks_for():
    precise = demo_answer([ChatMessage("user", "Donne-moi 5 idées concrètes pour accueillir une apprentie "
                                               "en boulangerie le premier jour")])
    vague = demo_answer([ChatMessage("user", "Aide-moi pour mon apprentie")])

    assert sum(line.startswith("- ") for line in precise.splitlines()) == 5
    assert sum(line.startswith("- ") for line in vague.splitlines()) < 5
