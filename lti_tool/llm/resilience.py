"""Retries (tenacity) inside one time budget, and a circuit breaker per endpoint.

The SDKs' own retries are turned off: each SDK has its own policy (the openai SDK's timeout is
per attempt, with no budget for all of them), neither lets the breaker see each attempt, and
retrying here keeps one policy for every provider.

- Only transient errors are retried (timeout, rate limit, server error, connection): a wrong key,
  refused content or a bad configuration would fail the same way again.
- The caller's timeout is the budget of all attempts and the waits between them: each attempt
  gets what remains of it, and no wait (a server's Retry-After included) runs past it.
- A stream is retried only until its first text delta: after that the learner has seen part of
  the answer, and starting it again would show a different one.
- After `failure_threshold` transient failures in a row on one endpoint the breaker opens: calls
  fail at once (LLMCircuitOpen) for `cooldown` seconds instead of making every learner wait for a
  timeout, then a single trial call decides whether it closes again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal, TypeVar

import tenacity

from .base import ChatMessage, Completion, CompletionStream, LLMProvider
from .errors import LLMCircuitOpen, LLMError, LLMTimeout

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half_open"]
T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """A failure of the endpoint itself, worth retrying and counted by the breaker."""
    return isinstance(error, LLMError) and error.retryable and not isinstance(error, LLMCircuitOpen)


class CircuitBreaker:
    """Consecutive transient failures of one endpoint, shared by every thread of the process.

    Ours rather than a library's: pybreaker holds its lock for the whole call (every streamed
    answer to an endpoint would wait for the one before it) and has no way to report a failure
    after the call returned (a stream cut half-way); the `circuitbreaker` package has no lock and
    lets every call through once half-open, where we want a single trial call. Neither takes a
    clock, so their cool-down could not be tested without waiting for it.
    """

    def __init__(self, *, failure_threshold: int = 5, cooldown: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, name: str = "") -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> State:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "open" if self._retry_in() > 0 else "half_open"

    def retry_in(self) -> float:
        """Seconds until the next trial call may go through (0 when calls go through)."""
        with self._lock:
            return self._retry_in()

    def _retry_in(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def before_call(self, provider: str | None = None) -> None:
        """Let the call through, or raise LLMCircuitOpen without contacting the endpoint."""
        with self._lock:
            if self._opened_at is None:
                return
            wait = self._retry_in()
            if wait == 0 and not self._trial_running:
                # One trial call; the others keep failing fast until it has reported.
                self._trial_running = True
                return
        raise LLMCircuitOpen(
            f"The endpoint failed {self.failure_threshold} times in a row; it is not called "
            f"again for {wait:.0f} s.",
            provider=provider,
            retry_after=wait,
        )

    def record_success(self) -> None:
        """The endpoint answered (an auth or content refusal counts: the endpoint is up)."""
        with self._lock:
            if self._opened_at is not None:
                log.info("LLM circuit closed", extra={"breaker": self.name})
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        """A transient failure: the failed trial call, or the last straw, opens the circuit."""
        with self._lock:
            self._failures += 1
            was_trial, self._trial_running = self._trial_running, False
            if was_trial or (self._opened_at is None and self._failures >= self.failure_threshold):
                self._opened_at = self._clock()
                log.warning("LLM circuit opened after %d consecutive failures", self._failures,
                            extra={"breaker": self.name, "cooldown_s": self.cooldown})

    def release(self) -> None:
        """The call ended without saying anything about the endpoint (a bug, an interruption)."""
        with self._lock:
            self._trial_running = False

    def record(self, error: LLMError) -> None:
        if is_transient(error):
            self.record_failure()
        elif not isinstance(error, LLMCircuitOpen):
            self.record_success()


_BREAKERS: dict[tuple[str, str], CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def breaker_for(provider: LLMProvider) -> CircuitBreaker:
    """The process-wide breaker of the provider's endpoint, created on first use."""
    key = (provider.name, provider.endpoint)
    with _BREAKERS_LOCK:
        if key not in _BREAKERS:
            _BREAKERS[key] = CircuitBreaker(name=" ".join(key))
        return _BREAKERS[key]


def reset_breakers() -> None:
    """Forget every breaker (tests)."""
    with _BREAKERS_LOCK:
        _BREAKERS.clear()


class ResilientProvider(LLMProvider):
    """Wraps a provider: retries transient errors within the timeout, behind a circuit breaker.

    Backoff is full jitter (`jitter()` times base_delay doubling per attempt, capped at
    max_delay), unless the server said how long to wait (Retry-After).
    """

    def __init__(
        self,
        inner: LLMProvider,
        *,
        max_attempts: int = 3,
        base_delay: float = 0.2,
        max_delay: float = 2.0,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(inner.settings)
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.inner = inner
        # The wrapper answers for the provider it wraps (logs, AI log, demo label).
        self.name = inner.name  # type: ignore[misc]
        self.label = inner.label  # type: ignore[misc]
        self.is_demo = inner.is_demo  # type: ignore[misc]
        self.max_attempts = max_attempts
        self.breaker = breaker if breaker is not None else breaker_for(inner)
        self._backoff = tenacity.wait_exponential(multiplier=base_delay, max=max_delay)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def __repr__(self) -> str:
        return f"<ResilientProvider {self.inner!r} max_attempts={self.max_attempts}>"

    @property
    def endpoint(self) -> str:
        return self.inner.endpoint

    def close(self) -> None:
        self.inner.close()

    def complete(self, messages: Sequence[ChatMessage], *, model: str | None = None,
                 temperature: float | None = None, max_tokens: int | None = None,
                 timeout: float | None = None) -> Completion:
        started = self._clock()

        def attempt(remaining: float) -> Completion:
            return self.inner.complete(messages, model=model, temperature=temperature,
                                       max_tokens=max_tokens, timeout=remaining)

        completion, attempts = self._run(attempt, timeout)
        if attempts > 1:
            # The learner waited for every attempt, not only the last one.
            completion = replace(completion, latency_ms=round((self._clock() - started) * 1000))
        return completion

    def stream(self, messages: Sequence[ChatMessage], *, model: str | None = None,
               temperature: float | None = None, max_tokens: int | None = None,
               timeout: float | None = None) -> CompletionStream:
        def attempt(remaining: float) -> CompletionStream:
            stream = self.inner.stream(messages, model=model, temperature=temperature,
                                       max_tokens=max_tokens, timeout=remaining)
            try:
                # Errors before the first delta surface here, where a retry is still invisible.
                stream.prefetch()
            except BaseException:
                stream.close()
                raise
            return stream

        stream, _ = self._run(attempt, timeout)
        # Past the first delta, a failure ends the answer: the breaker still hears about it.
        stream.on_error = self.breaker.record
        return stream

    def _run(self, attempt: Callable[[float], T], timeout: float | None) -> tuple[T, int]:
        """`attempt(remaining seconds)` until it succeeds, fails for good, or time runs out:
        its result and the number of attempts made."""
        deadline = self._clock() + (self.settings.timeout if timeout is None else timeout)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_transient),
            wait=self._wait,
            # Give up rather than wait past the deadline: the next attempt would have no time.
            stop=tenacity.stop_any(tenacity.stop_after_attempt(self.max_attempts),
                                   lambda state: self._clock() + state.upcoming_sleep >= deadline),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        result = retrying(self._attempt, attempt, deadline)
        return result, retrying.statistics["attempt_number"]

    def _attempt(self, attempt: Callable[[float], T], deadline: float) -> T:
        """One attempt with what remains of the budget, through the breaker."""
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise LLMTimeout("No time left for the call.", provider=self.name)
        self.breaker.before_call(self.name)
        try:
            result = attempt(remaining)
        except LLMError as exc:
            self.breaker.record(exc)
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        return result

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception()  # type: ignore[union-attr]  (only errors are retried)
        if error.retry_after is not None:
            return error.retry_after
        # Full jitter: clients that failed together do not retry together.
        return self._jitter() * self._backoff(state)

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception()  # type: ignore[union-attr]  (only errors are retried)
        log.info("LLM call failed (%s), retrying in %.2f s", error.code, state.upcoming_sleep,
                 extra={"provider": self.name, "attempt": state.attempt_number, "status": error.status})
