"""Mistral AI through the `mistralai` SDK: La Plateforme (EU server by default) or self-hosted.

`settings.server` names a server of La Plateforme ("eu", "global", "us"); `settings.base_url` is
a self-hosted server instead. The endpoint is always passed to the SDK as an explicit URL: the
SDK's own default is the global server, outside the EU.

The SDK's retries are off (the resilience layer retries), its debug logger is silenced (it would
log request headers, the key included, whenever MISTRAL_DEBUG is set), redirects are not
followed, and the SDK is imported when a provider is built, not when this module is.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .base import CallOptions, ChatMessage, ProviderSettings, register
from .errors import LLMBadConfig, LLMError, LLMUnavailable, error_for_status, error_for_transport
from .sdk import SdkProvider, http_timeout, retry_after_seconds
from .hosting import mistral_endpoint

if TYPE_CHECKING:
    import httpx2

REFUSAL_MARKERS = ("content_filter", "moderation", "guardrail", "safety", "flagged")


@register("mistral")
class MistralProvider(SdkProvider):
    """Chat completions on Mistral's API (La Plateforme or a self-hosted deployment)."""

    label = "Mistral AI"

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        # Refused endpoints raise here (EndpointRefused, an LLMBadConfig), before any call.
        self.hosting = mistral_endpoint(
            server=settings.server,
            server_url=settings.base_url,
            allow_non_eu=settings.allow_non_eu,
            eu_confirmed=settings.eu_confirmed,
        )
        import httpx2
        from mistralai.client import Mistral
        from mistralai.client.utils import BackoffStrategy, RetryConfig

        self._http = httpx2.Client(
            timeout=http_timeout(settings.timeout, settings.connect_timeout),
            follow_redirects=False,
            event_hooks={"request": [_ConnectTimeout(settings.connect_timeout)]},
        )
        try:
            self._client = Mistral(
                # No key (a self-hosted server): send none, rather than let the SDK read
                # MISTRAL_API_KEY from the environment.
                api_key=settings.api_key or _no_key,
                server_url=self.hosting.url,
                client=self._http,
                async_client=_NoAsyncClient(),
                retry_config=RetryConfig("none", BackoffStrategy(0, 0, 1, 0), False),
                timeout_ms=_milliseconds(settings.timeout),
                debug_logger=_Silent(),
            )
        except BaseException:
            self._http.close()
            raise

    def close(self) -> None:
        self._http.close()

    def _arguments(self, messages: Sequence[ChatMessage], options: CallOptions) -> dict[str, Any]:
        return {
            "model": options.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
            "timeout_ms": _milliseconds(options.timeout),
        }

    def _create(self, arguments: dict[str, Any]) -> Any:
        return self._client.chat.complete(**arguments)

    def _open_stream(self, arguments: dict[str, Any]) -> Any:
        return self._client.chat.stream(**arguments)

    def _text_of(self, content: Any) -> str:
        return _text(content)

    def _chunks(self, events: Any) -> Generator[Any, None, None]:
        return (event.data for event in events)  # Mistral wraps each chunk in an event

    def _error(self, exc: BaseException) -> LLMError:
        """Our error for an SDK or transport exception; its detail never holds the key.
        Anything else (a bug) propagates unchanged."""
        from mistralai.client import errors

        name = self.name
        transport = error_for_transport(exc, provider=name)
        if transport is not None:
            return transport
        if isinstance(exc, errors.MistralError):
            status = exc.status_code
            payload = _json(exc.body)
            detail = self._detail(f"HTTP {status}", _error_text(payload, exc.body))
            refused = status in (400, 403, 422) and _says_refused(payload)
            if isinstance(exc, errors.ResponseValidationError) and status < 300:
                # A 200 whose body is not a chat completion: not Mistral's API at this URL.
                return LLMBadConfig(
                    f"The endpoint's answer is not a Mistral chat completion (HTTP {status}).",
                    provider=name,
                    status=status,
                )
            retry_after = retry_after_seconds(exc.headers)
            return error_for_status(
                status, detail, provider=name, retry_after=retry_after, refused=refused
            )
        if isinstance(exc, errors.NoResponseError):
            return LLMUnavailable("No response from the endpoint.", provider=name)
        import httpx2

        if isinstance(exc, httpx2.HTTPError):
            # Not a transport error, yet the answer could not be read (a body that fails to decode).
            return LLMUnavailable(f"Unreadable answer ({type(exc).__name__}).", provider=name)
        raise exc



def _no_key() -> None:
    return None


class _ConnectTimeout:
    """Request hook that keeps the connect timeout short.

    The SDK turns `timeout_ms` into one flat timeout for every phase of the request; an
    unreachable endpoint should fail within connect_timeout, not after the whole budget.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, request: httpx2.Request) -> None:
        timeout = request.extensions.get("timeout")
        if isinstance(timeout, dict) and (timeout.get("connect") or 0) > self.seconds:
            request.extensions["timeout"] = {**timeout, "connect": self.seconds}


class _NoAsyncClient:
    """Stands in for the async HTTP client the SDK would otherwise build and never be used here:
    no second TLS context per provider, and no event loop started by its finalizer to close it."""

    async def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        raise RuntimeError("MistralProvider makes synchronous calls only.")

    def build_request(self, *args: Any, **kwargs: Any) -> httpx2.Request:
        raise RuntimeError("MistralProvider makes synchronous calls only.")

    async def aclose(self) -> None:
        pass


class _Silent:
    """The SDK's debug logger, muted: its debug output holds the request headers."""

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        pass


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _text(content: Any) -> str:
    """Message content: a string, or a list of chunks of which the text ones count."""
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for chunk in content:
        text = getattr(chunk, "text", None)
        if isinstance(text, str):
            parts.append(text)
    return "".join(parts)


def _json(body: str | None) -> Mapping[str, Any]:
    try:
        payload = json.loads(body or "")
    except ValueError:
        return {}
    return payload if isinstance(payload, Mapping) else {}


def _error_text(payload: Mapping[str, Any], body: str | None) -> str:
    error = payload.get("error") if isinstance(payload.get("error"), Mapping) else payload
    message = error.get("message") or error.get("detail")
    parts = [str(p) for p in (error.get("code"), error.get("type")) if p]
    if message is None and not payload:
        message = body or ""
    text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    if parts:
        text = f"{text} ({', '.join(parts)})" if text else ", ".join(parts)
    return text


def _says_refused(payload: Mapping[str, Any]) -> bool:
    error = payload.get("error") if isinstance(payload.get("error"), Mapping) else payload
    values = [error.get("code"), error.get("type"), error.get("message")]
    text = " ".join(str(v) for v in values if v).lower()
    return any(marker in text for marker in REFUSAL_MARKERS)
