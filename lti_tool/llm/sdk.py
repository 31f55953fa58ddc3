"""What the SDK-backed providers (openai, mistral) share: stream closing, timeouts, error text."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING

import time
from collections.abc import Sequence
from typing import Any

from .base import (
    CallOptions,
    ChatMessage,
    Completion,
    LLMRefused,
    LLMUnavailable,
    StreamEnd,
    estimate_tokens,
    parse_retry_after,
    prompt_chars,
)

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
