"""The provider interface: chat messages in, a completion (or a stream of text deltas) out.

Every provider raises only the errors of llm.errors, so that the interface can tell the learner in
plain words what went wrong and the resilience layer knows what is worth retrying. Nothing here
imports Flask or an SDK.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from .errors import LLMBadConfig, LLMError, LLMTimeout

Role = Literal["system", "user", "assistant"]
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class Completion:
    """A finished answer and what the AI log records about it."""

    text: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    provider: str
    finish_reason: str = "stop"
    # True when the provider reported no usage and the counts are estimated from the text length.
    usage_estimated: bool = False
    # Streaming only: time to the first text delta.
    first_token_ms: int | None = None


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderSettings:
    """What a centre (or the environment) configures for its LLM. Plain values, no Flask."""

    provider: str = "fake"
    model: str = ""
    api_key: str | None = field(default=None, repr=False)
    # OpenAI-compatible: the API base URL (…/v1). Mistral: a self-hosted server URL.
    base_url: str | None = None
    # Mistral only: a named server of La Plateforme, "eu" (default), "global" or "us".
    server: str | None = None
    # Seconds for one call, retries included (per read between chunks when streaming).
    timeout: float = 30.0
    connect_timeout: float = 5.0
    temperature: float = 0.3
    max_tokens: int = 800
    # Hosting: endpoints known to be outside the EU need allow_non_eu; a custom one, eu_confirmed.
    allow_non_eu: bool = False
    eu_confirmed: bool = False
    # OpenAI-compatible: ask for token usage in the last streamed chunk (some servers refuse it).
    stream_usage: bool = True
    # Fake provider only: pause between streamed chunks, to see streaming and the stop button.
    fake_chunk_delay: float = 0.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], prefix: str = "LLM_") -> ProviderSettings:
        """Build settings from `LLM_*` keys (a Flask config or the environment); absent keys keep
        their defaults, and a malformed number or flag raises LLMBadConfig naming the key."""
        kwargs: dict[str, Any] = {}
        for f in cls.__dataclass_fields__.values():
            raw = values.get(prefix + f.name.upper())
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            kwargs[f.name] = _coerce(prefix + f.name.upper(), raw, f.default)
        return cls(**kwargs)


def _coerce(key: str, raw: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise LLMBadConfig(f"{key} must be true or false, got {raw!r}")
    if isinstance(default, (int, float)):
        try:
            return type(default)(raw)
        except (TypeError, ValueError):
            raise LLMBadConfig(f"{key} must be a number, got {raw!r}") from None
    return str(raw).strip()


@dataclass(frozen=True)
class CallOptions:
    model: str
    temperature: float
    max_tokens: int
    timeout: float


# --- streaming ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamEnd:
    """Last item of a provider's raw stream: what the provider said about the finished answer."""

    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish_reason: str = "stop"


class CompletionStream:
    """An iterator of text deltas that knows, once finished, the whole Completion.

    `close()` stops the answer (the stop button) and releases the HTTP connection; `completion`
    then describes what was received, with finish_reason "stopped".
    """

    def __init__(
        self,
        items: Iterator[str | StreamEnd],
        *,
        provider: str,
        model: str,
        prompt_chars: int = 0,
        clock: Callable[[], float] = time.perf_counter,
        started: float | None = None,
    ) -> None:
        self._items = items
        self._provider = provider
        self._model = model
        self._prompt_chars = prompt_chars
        self._clock = clock
        self._started = clock() if started is None else started
        self._parts: list[str] = []
        self._pending: list[str] = []
        self._end: StreamEnd | None = None
        self._finished_at: float | None = None
        self._first_token_at: float | None = None
        self._stopped = False
        # Set by the resilience layer: told about an error that ends the stream half-way.
        self.on_error: Callable[[LLMError], None] | None = None

    def __iter__(self) -> CompletionStream:
        return self

    def __next__(self) -> str:
        if self._pending:
            return self._pending.pop(0)
        if self._finished_at is not None:
            raise StopIteration
        while True:
            try:
                item = next(self._items)
            except StopIteration:
                self._finish(self._end or StreamEnd())
                raise
            except LLMError as exc:
                self._finish(StreamEnd(finish_reason="error"))
                if self.on_error is not None:
                    self.on_error(exc)
                raise
            if isinstance(item, StreamEnd):
                self._end = item
                continue
            if not item:
                continue
            if self._first_token_at is None:
                self._first_token_at = self._clock()
            self._parts.append(item)
            return item

    def prefetch(self) -> None:
        """Wait for the first text delta (or the end), so that errors before it surface now."""
        if self._pending or self._finished_at is not None:
            return
        try:
            self._pending.append(next(self))
        except StopIteration:
            pass

    def close(self) -> None:
        if self._finished_at is None:
            self._stopped = True
            self._finish(self._end or StreamEnd(finish_reason="stopped"))
        close = getattr(self._items, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> CompletionStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _finish(self, end: StreamEnd) -> None:
        self._end = end
        self._finished_at = self._clock()

    @property
    def done(self) -> bool:
        return self._finished_at is not None and not self._pending

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    @property
    def completion(self) -> Completion:
        """The answer as received: whole once the iterator is exhausted, partial if stopped."""
        end = self._end or StreamEnd(finish_reason="streaming")
        finished = self._finished_at if self._finished_at is not None else self._clock()
        text = self.text
        estimated = end.tokens_in is None or end.tokens_out is None
        first = self._first_token_at
        return Completion(
            text=text,
            model=end.model or self._model,
            tokens_in=end.tokens_in if end.tokens_in is not None else estimate_tokens(self._prompt_chars),
            tokens_out=end.tokens_out if end.tokens_out is not None else estimate_tokens(len(text)),
            latency_ms=round((finished - self._started) * 1000),
            provider=self._provider,
            finish_reason="stopped" if self._stopped else end.finish_reason,
            usage_estimated=estimated,
            first_token_ms=None if first is None else round((first - self._started) * 1000),
        )


def estimate_tokens(chars: int) -> int:
    """About four characters a token for French and English text; never zero for some text."""
    return 0 if chars <= 0 else max(1, round(chars / 4))


# --- the interface -----------------------------------------------------------------------------


class LLMProvider(ABC):
    """One configured way to reach a model. Instances are thread-safe and meant to be reused."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # True for the offline demonstration provider: the interface says so next to the answers.
    is_demo: ClassVar[bool] = False

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings

    @property
    def endpoint(self) -> str:
        """Where calls go (a URL, or "offline"); with the provider name, the circuit breaker key."""
        return "offline"

    @abstractmethod
    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> Completion:
        """The whole answer, or one of the LLMError subclasses."""

    @abstractmethod
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> CompletionStream:
        """The answer as text deltas. The request is sent at once: errors known before the first
        byte (bad key, rate limit, server error) raise here; later ones raise while iterating."""

    def close(self) -> None:
        """Release connections; the provider is not used afterwards."""

    def __enter__(self) -> LLMProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def options(
        self,
        model: str | None,
        temperature: float | None,
        max_tokens: int | None,
        timeout: float | None,
    ) -> CallOptions:
        """Call arguments with the settings as defaults, checked."""
        options = CallOptions(
            model=model or self.settings.model,
            temperature=self.settings.temperature if temperature is None else temperature,
            max_tokens=self.settings.max_tokens if max_tokens is None else max_tokens,
            timeout=self.settings.timeout if timeout is None else timeout,
        )
        if not options.model and not self.is_demo:
            raise LLMBadConfig("No model is configured.", provider=self.name)
        if options.timeout <= 0:
            raise LLMTimeout("No time left for the call.", provider=self.name)
        if options.max_tokens <= 0:
            raise LLMBadConfig("max_tokens must be positive.", provider=self.name)
        return options


def check_messages(messages: Sequence[ChatMessage]) -> None:
    if not messages:
        raise LLMBadConfig("A chat needs at least one message.")
    for message in messages:
        if message.role not in ROLES:
            raise LLMBadConfig(f"Unknown chat role {message.role!r}.")


def prompt_chars(messages: Sequence[ChatMessage]) -> int:
    return sum(len(m.content) for m in messages)


# --- the registry ------------------------------------------------------------------------------

_PROVIDERS: dict[str, type[LLMProvider]] = {}


def register(name: str) -> Callable[[type[LLMProvider]], type[LLMProvider]]:
    """Class decorator: make a provider available under `name`."""

    def decorate(cls: type[LLMProvider]) -> type[LLMProvider]:
        if name in _PROVIDERS and _PROVIDERS[name] is not cls:
            raise ValueError(f"An LLM provider is already registered as {name!r}.")
        cls.name = name
        _PROVIDERS[name] = cls
        return cls

    return decorate


def provider_names() -> list[str]:
    return sorted(_PROVIDERS)


def get_provider(name: str | None, settings: ProviderSettings | None = None) -> LLMProvider:
    """A provider instance for `name` (default: settings.provider). Its constructor checks the
    endpoint against the hosting rules, so a refused endpoint raises LLMBadConfig here."""
    settings = settings or ProviderSettings()
    name = name or settings.provider
    try:
        cls = _PROVIDERS[name]
    except KeyError:
        raise LLMBadConfig(
            f"Unknown LLM provider {name!r}; use one of {', '.join(provider_names())}."
        ) from None
    return cls(settings)
