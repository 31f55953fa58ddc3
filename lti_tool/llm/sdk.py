"""What the SDK-backed providers (openai, mistral) share: stream closing, timeouts, error text."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .base import CallOptions, ChatMessage, Completion, CompletionStream, LLMProvider, StreamEnd, check_messages, estimate_tokens, prompt_chars
from .errors import LLMError, LLMRefused, LLMUnavailable, parse_retry_after

if TYPE_CHECKING:
    import httpx2

MAX_DETAIL = 300


class ClosingStream:
    """Iterates `items`; close() also closes the response, even before the first item."""

    def __init__(
        self, items: Generator[str | StreamEnd, None, None], close: Callable[[], None]
    ) -> None:
        self._items = items
        self._close = close

    def __iter__(self) -> ClosingStream:
        return self

    def __next__(self) -> str | StreamEnd:
        return next(self._items)

    def close(self) -> None:
        self._items.close()
        self._close()


def http_timeout(total: float, connect: float) -> httpx2.Timeout:
    import httpx2

    return httpx2.Timeout(total, connect=min(connect, total))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after`, when the provider says."""
    milliseconds = parse_retry_after(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    return parse_retry_after(headers.get("retry-after"))


def scrub(text: str, secret: str | None) -> str:
    """`text` fit for a log: without the key (some services echo it back) and not too long."""
    if secret:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def completion_of(response: Any, *, provider: str, options: CallOptions, messages: Sequence[ChatMessage],
                  started: float, text_of: Callable[[Any], str]) -> Completion:
    """The Completion of a chat response of either SDK (both follow OpenAI's shape): its first
    choice, refused when the content filter stopped it; usage estimated when the server gave none."""
    latency_ms = round((time.perf_counter() - started) * 1000)
    if not response.choices:
        raise LLMUnavailable("The endpoint answered without any choice.", provider=provider)
    choice = response.choices[0]
    finish_reason = str(choice.finish_reason or "stop")
    if finish_reason == "content_filter":
        raise LLMRefused("The answer was blocked by the content filter.", provider=provider)
    text = text_of(choice.message.content if choice.message is not None else None)
    usage = response.usage
    return Completion(
        text=text,
        model=response.model or options.model,
        tokens_in=usage.prompt_tokens or 0 if usage else estimate_tokens(prompt_chars(messages)),
        tokens_out=usage.completion_tokens or 0 if usage else estimate_tokens(len(text)),
        latency_ms=latency_ms,
        provider=provider,
        finish_reason=finish_reason,
        usage_estimated=usage is None,
    )


class SdkProvider(LLMProvider):
    """A provider over a vendor SDK: one call sequence (check, options, call, our error, our
    Completion or stream); each subclass says how its SDK is called and how its answers read."""

    hosting: Any  # the checked endpoint (lti_tool.llm.hosting), set by the subclass's __init__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.hosting.url} model={self.settings.model!r}>"

    @property
    def endpoint(self) -> str:
        return self.hosting.url

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> Completion:
        started = time.perf_counter()
        options, response = self._call(self._create, messages, model, temperature, max_tokens, timeout)
        return completion_of(response, provider=self.name, options=options, messages=messages, started=started,
                             text_of=self._text_of)

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> CompletionStream:
        started = time.perf_counter()
        options, events = self._call(self._open_stream, messages, model, temperature, max_tokens, timeout)
        return CompletionStream(
            ClosingStream(self._deltas(events), events.close),
            provider=self.name,
            model=options.model,
            prompt_chars=prompt_chars(messages),
            started=started,
        )

    def _call(self, sdk_call: Callable[[dict[str, Any]], Any], messages: Sequence[ChatMessage], model: str | None,
              temperature: float | None, max_tokens: int | None, timeout: float | None) -> tuple[CallOptions, Any]:
        """Check the messages, settle the options, call the SDK once: (options, what it returned),
        or the SDK's failure as our LLMError."""
        check_messages(messages)
        options = self.options(model, temperature, max_tokens, timeout)
        arguments = self._arguments(messages, options)
        try:
            return options, sdk_call(arguments)
        except Exception as exc:
            raise self._error(exc) from None

    def _detail(self, prefix: str, text: str) -> str:
        text = scrub(text, self.settings.api_key)
        return f"{prefix}: {text}" if text else prefix

    @abstractmethod
    def _arguments(self, messages: Sequence[ChatMessage], options: CallOptions) -> dict[str, Any]:
        """The SDK call's keyword arguments."""

    @abstractmethod
    def _create(self, arguments: dict[str, Any]) -> Any:
        """One chat completion through the SDK (its response object)."""

    @abstractmethod
    def _open_stream(self, arguments: dict[str, Any]) -> Any:
        """A streamed chat completion through the SDK: an iterable of events with close()."""

    def _deltas(self, events: Any) -> Generator[str | StreamEnd, None, None]:
        """The text pieces of a stream (its first choice), then its StreamEnd. Both SDKs stream
        OpenAI-shaped chunks: model, usage, choices with a delta and a finish reason."""
        model: str | None = None
        finish_reason = "stop"
        usage = None
        try:
            for chunk in self._chunks(events):
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    text = self._text_of(choice.delta.content) if choice.delta is not None else ""
                    if text:
                        yield text
                    if choice.finish_reason:
                        finish_reason = str(choice.finish_reason)
                if finish_reason == "content_filter":
                    raise LLMRefused("The answer was blocked by the content filter.", provider=self.name)
        except LLMError:
            raise
        except Exception as exc:
            raise self._error(exc) from None
        finally:
            events.close()
        yield StreamEnd(
            model=model,
            tokens_in=usage.prompt_tokens if usage else None,
            tokens_out=usage.completion_tokens if usage else None,
            finish_reason=finish_reason,
        )

    def _chunks(self, events: Any) -> Iterable[Any]:
        """The chunks of what _open_stream returned (the SDK's events as they come, by default)."""
        return events

    @abstractmethod
    def _text_of(self, content: Any) -> str:
        """A response message's content as text."""

    @abstractmethod
    def _error(self, exc: BaseException) -> LLMError:
        """Our error for an SDK or transport exception (anything else propagates)."""
