"""What the SDK-backed providers (openai, mistral) share: stream closing, timeouts, error text."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING

from .base import StreamEnd, parse_retry_after

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
