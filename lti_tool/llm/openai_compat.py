"""Any OpenAI-compatible chat completions API, through the `openai` SDK with a `base_url`.

That covers the EU services that speak this API (OVHcloud AI Endpoints, Scaleway, IONOS) and
self-hosted servers (vLLM, Ollama); OpenAI's own API only when the operator allows non-EU hosting.
The SDK's retries are off (the resilience layer retries) and redirects are not followed (a
redirect could take prompts to a host the hosting rules never checked).

The SDK is imported when a provider is built, not when this module is: importing `openai` takes
about a second, which every process that merely registers the provider would otherwise pay.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .base import CallOptions, ChatMessage, ProviderSettings, register
from .errors import LLMBadConfig, LLMError, LLMRefused, LLMTimeout, LLMUnavailable, error_for_status, error_for_transport
from .sdk import SdkProvider, http_timeout, retry_after_seconds
from .hosting import openai_compatible_endpoint

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

# Self-hosted servers (vLLM, Ollama) often need no key, but the SDK refuses to start without one
# (and would otherwise read OPENAI_API_KEY from the environment, a key meant for something else).
NO_KEY = "no-key"
# Words by which OpenAI-compatible services say that the content itself was refused.
REFUSAL_MARKERS = (
    "content_filter",
    "content_policy",
    "content management policy",
    "moderation",
    "responsibleaipolicyviolation",
    "guardrail",
    "safety",
    "flagged",
)


@register("openai")
class OpenAICompatibleProvider(SdkProvider):
    """Chat completions on an OpenAI-compatible endpoint (settings.base_url, …/v1)."""

    label = "API compatible OpenAI / OpenAI-compatible API"

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        # Refused endpoints raise here (EndpointRefused, an LLMBadConfig), before any call.
        self.hosting = openai_compatible_endpoint(
            base_url=settings.base_url,
            allow_non_eu=settings.allow_non_eu,
            eu_confirmed=settings.eu_confirmed,
        )
        import openai

        timeout = http_timeout(settings.timeout, settings.connect_timeout)
        self._client = openai.OpenAI(
            base_url=self.hosting.url,
            api_key=settings.api_key or NO_KEY,
            timeout=timeout,
            max_retries=0,
            http_client=openai.DefaultHttpx2Client(timeout=timeout, follow_redirects=False),
        )

    def close(self) -> None:
        self._client.close()

    def _arguments(self, messages: Sequence[ChatMessage], options: CallOptions) -> dict[str, Any]:
        return {
            "model": options.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": options.temperature,
            # max_tokens rather than max_completion_tokens: the one every compatible server knows.
            "max_tokens": options.max_tokens,
            "timeout": http_timeout(options.timeout, self.settings.connect_timeout),
        }

    def _create(self, arguments: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**arguments)

    def _open_stream(self, arguments: dict[str, Any]) -> Any:
        arguments = {**arguments, "stream": True}
        if self.settings.stream_usage:
            arguments["stream_options"] = {"include_usage": True}
        return self._client.chat.completions.create(**arguments)

    def _text_of(self, content: Any) -> str:
        return content or ""

    def _error(self, exc: BaseException) -> LLMError:
        """Our error for an SDK (or transport) exception; its detail never holds the key.
        Anything else (a bug) propagates unchanged."""
        import openai

        name = self.name
        if isinstance(exc, openai.APITimeoutError):
            return LLMTimeout("No answer in time.", provider=name)
        if isinstance(exc, openai.APIConnectionError):
            return LLMUnavailable(
                f"Could not reach {self.hosting.host} ({_cause(exc)}).", provider=name
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            detail = self._detail(f"HTTP {status}", _error_text(exc))
            refused = status in (400, 403, 422) and _says_refused(exc)
            retry_after = retry_after_seconds(exc.response.headers)
            return error_for_status(
                status, detail, provider=name, retry_after=retry_after, refused=refused
            )
        if isinstance(exc, openai.ContentFilterFinishReasonError):
            return LLMRefused("The answer was blocked by the content filter.", provider=name)
        if isinstance(exc, openai.APIError):
            # An error event in the middle of a stream: no status, the body says what happened.
            detail = self._detail("Error during the answer", _error_text(exc))
            if _says_refused(exc):
                return LLMRefused(detail, provider=name)
            return LLMUnavailable(detail, provider=name)
        transport = error_for_transport(exc, provider=name)
        if transport is not None:
            return transport
        if isinstance(exc, openai.OpenAIError):
            return LLMBadConfig(self._detail("Client error", str(exc)), provider=name)
        # Not an SDK error: a bug, which no retry or error message would fix.
        raise exc



def _error_text(exc: openai.APIError) -> str:
    """The error's own message, without the SDK's "Error code: 429 - " prefix."""
    body = exc.body
    if isinstance(body, Mapping):
        message = body.get("message")
        parts = [str(p) for p in (body.get("code"), body.get("type")) if p]
        text = str(message) if message else ""
        if parts:
            text = f"{text} ({', '.join(parts)})" if text else ", ".join(parts)
        return text
    return exc.message.split(" - ", 1)[-1] if exc.message.startswith("Error code") else exc.message


def _says_refused(exc: openai.APIError) -> bool:
    body = exc.body if isinstance(exc.body, Mapping) else {}
    inner = body.get("innererror")
    values = [exc.code, exc.type, body.get("message")]
    if isinstance(inner, Mapping):
        values.append(inner.get("code"))
    text = " ".join(str(v) for v in values if v).lower()
    return any(marker in text for marker in REFUSAL_MARKERS)


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause is not None else type(exc).__name__
