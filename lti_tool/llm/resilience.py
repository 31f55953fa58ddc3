"""Retries with backoff inside one time budget, and a circuit breaker per endpoint.

The SDKs' own retries are turned off: retrying here keeps one policy for every provider, keeps
every attempt inside the caller's overall timeout, and lets the circuit breaker see each failure.

- Only transient errors are retried (timeout, rate limit, server error, connection): a wrong key,
  refused content or a bad configuration would fail the same way again.
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

from .base import (
    ChatMessage,
    Completion,
    CompletionStream,
    LLMCircuitOpen,
    LLMError,
    LLMProvider,
    LLMTimeout,
)

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half_open"]
T = TypeVar("T")


def is_transient(error: LLMError) -> bool:
    """A failure of the endpoint itself, worth retrying and counted by the breaker."""
    return error.retryable and not isinstance(error, LLMCircuitOpen)


class CircuitBreaker:
    """Consecutive transient failures of one endpoint, shared by every thread of the process."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "",
    ) -> None:
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
            return self._state()

    def _state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.cooldown:
            return "open"
        return "half_open"

    def retry_in(self) -> float:
        """Seconds until the next trial call may go through (0 when calls go through)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def before_call(self, provider: str | None = None) -> None:
        """Let the call through, or raise LLMCircuitOpen without contacting the endpoint."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half_open" and not self._trial_running:
                # One trial call; the others keep failing fast until it has reported.
                self._trial_running = True
                return
            wait = max(0.0, self.cooldown - (self._clock() - (self._opened_at or 0.0)))
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
            was_trial = self._trial_running
            self._trial_running = False
            if was_trial or (self._opened_at is None and self._failures >= self.failure_threshold):
                self._opened_at = self._clock()
                log.warning(
                    "LLM circuit opened after %d consecutive failures",
                    self._failures,
                    extra={"breaker": self.name, "cooldown_s": self.cooldown},
                )

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


def breaker_for(
    provider: LLMProvider, *, failure_threshold: int = 5, cooldown: float = 30.0
) -> CircuitBreaker:
    """The process-wide breaker of the provider's endpoint (created on first use with these
    settings; every later caller shares it, whatever it passes)."""
    key = (provider.name, provider.endpoint)
    with _BREAKERS_LOCK:
        breaker = _BREAKERS.get(key)
        if breaker is None:
            breaker = CircuitBreaker(
                failure_threshold=failure_threshold, cooldown=cooldown, name=" ".join(key)
            )
            _BREAKERS[key] = breaker
        return breaker


def reset_breakers() -> None:
    """Forget every breaker (tests)."""
    with _BREAKERS_LOCK:
        _BREAKERS.clear()


class ResilientProvider(LLMProvider):
    """Wraps a provider: retries transient errors within the timeout, behind a circuit breaker.

    `timeout` (per call, default settings.timeout) is the budget for all attempts and the waits
    between them: each attempt gets what remains of it, and no wait runs past it.
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
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.breaker = breaker if breaker is not None else breaker_for(inner)
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

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> Completion:
        started = self._clock()

        def attempt(remaining: float) -> Completion:
            return self.inner.complete(
                messages,
                model=model,
                temperature=temperature,
                max_tokens=max_tokens,
                timeout=remaining,
            )

        completion, attempts = self._run(attempt, timeout)
        if attempts > 1:
            # The learner waited for every attempt, not only the last one.
            completion = replace(completion, latency_ms=round((self._clock() - started) * 1000))
        return completion

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> CompletionStream:
        def attempt(remaining: float) -> CompletionStream:
            stream = self.inner.stream(
                messages,
                model=model,
                temperature=temperature,
                max_tokens=max_tokens,
                timeout=remaining,
            )
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
        budget = self.settings.timeout if timeout is None else timeout
        deadline = self._clock() + budget
        number = 0
        while True:
            number += 1
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise LLMTimeout("No time left for the call.", provider=self.name)
            self.breaker.before_call(self.name)
            try:
                result = attempt(remaining)
            except LLMError as exc:
                self.breaker.record(exc)
                delay = self._delay_before_retry(exc, number, deadline)
                if delay is None:
                    raise
                log.info(
                    "LLM call failed (%s), retrying in %.2f s",
                    exc.code,
                    delay,
                    extra={"provider": self.name, "attempt": number, "status": exc.status},
                )
                self._sleep(delay)
                continue
            except BaseException:
                self.breaker.release()
                raise
            self.breaker.record_success()
            return result, number

    def _delay_before_retry(self, error: LLMError, number: int, deadline: float) -> float | None:
        """How long to wait before the next attempt, or None when there is none."""
        if not is_transient(error) or number >= self.max_attempts:
            return None
        if error.retry_after is not None:
            delay = error.retry_after
        else:
            # Full jitter: clients that failed together do not retry together.
            delay = self._jitter() * min(self.max_delay, self.base_delay * 2 ** (number - 1))
        if delay >= deadline - self._clock():
            # The wait (or the server's Retry-After) would end past the budget: give up now.
            return None
        return delay
