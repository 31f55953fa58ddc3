"""The errors every provider raises, and nothing else: each has a stable `code` the interface
translates into plain words for the learner, and says whether it is worth retrying (`retryable`)."""

from __future__ import annotations

from typing import ClassVar


class LLMError(Exception):
    """Base of every provider error. `detail` is for logs and admins: never a key or a prompt."""

    code: ClassVar[str] = "error"
    retryable: bool = False

    def __init__(
        self,
        detail: str = "",
        *,
        provider: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        if retryable is not None:
            self.retryable = retryable


class LLMTimeout(LLMError):
    """The provider did not answer in time."""

    code = "timeout"
    retryable = True


class LLMRateLimited(LLMError):
    """The provider refused the call because of its rate limit or quota (HTTP 429)."""

    code = "rate_limited"
    retryable = True


class LLMUnavailable(LLMError):
    """The provider is down, unreachable or answered with a server error (5xx)."""

    code = "unavailable"
    retryable = True


class LLMCircuitOpen(LLMUnavailable):
    """Recent calls to this endpoint failed: it is not called again until a short cool-down ends."""

    code = "unavailable"
    retryable = False


class LLMAuthError(LLMError):
    """The API key is missing, wrong, revoked, or not allowed to use this model."""

    code = "auth"


class LLMRefused(LLMError):
    """The provider refused the content (moderation, content filter, guardrail)."""

    code = "refused"


class LLMBadConfig(LLMError):
    """The configuration cannot work: unknown provider, no model, refused endpoint, unknown model…"""

    code = "bad_config"


def error_for_status(
    status: int,
    detail: str,
    *,
    provider: str,
    retry_after: float | None = None,
    refused: bool = False,
) -> LLMError:
    """The error for an HTTP status the provider answered with (`refused`: the body says the
    content was blocked by moderation)."""
    if refused:
        return LLMRefused(detail, provider=provider, status=status)
    if status == 429:
        return LLMRateLimited(detail, provider=provider, status=status, retry_after=retry_after)
    if status in (401, 403):
        return LLMAuthError(detail, provider=provider, status=status)
    if status in (408, 409, 425) or status >= 500:
        return LLMUnavailable(detail, provider=provider, status=status, retry_after=retry_after)
    return LLMBadConfig(detail, provider=provider, status=status)


def error_for_transport(exc: BaseException, *, provider: str) -> LLMError | None:
    """The error for an exception of the HTTP layer both SDKs share (httpx2), or None."""
    import httpx2

    if isinstance(exc, httpx2.TimeoutException):
        return LLMTimeout(f"No answer in time ({type(exc).__name__}).", provider=provider)
    if isinstance(exc, httpx2.TransportError):
        return LLMUnavailable(f"Connection failed ({type(exc).__name__}).", provider=provider)
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
