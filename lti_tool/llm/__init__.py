"""The LLM layer: providers behind one interface, EU hosting rules, retries and circuit breaker.

    settings = ProviderSettings.from_mapping(app.config)      # LLM_* keys
    provider = ResilientProvider(get_provider(None, settings))
    completion = provider.complete([ChatMessage("user", "…")])
    with provider.stream(messages) as stream:
        for delta in stream: …
        stream.completion

The provider modules are imported here so that they register; they import their SDK only when a
provider is built. Under gunicorn the master imports both SDKs before forking its workers
(gunicorn.conf.py), which then share one copy.
"""

from . import fake, mistral, openai_compat  # noqa: F401  (registration)
from .base import ChatMessage, Completion, CompletionStream, LLMProvider, ProviderSettings, StreamEnd, get_provider, provider_names, register
from .errors import LLMAuthError, LLMBadConfig, LLMCircuitOpen, LLMError, LLMRateLimited, LLMRefused, LLMTimeout, LLMUnavailable
from .fake import FakeProvider, demo_answer
from .hosting import (
    Endpoint,
    EndpointRefused,
    check_url,
    mistral_endpoint,
    openai_compatible_endpoint,
)
from .mistral import MistralProvider
from .openai_compat import OpenAICompatibleProvider
from .resilience import CircuitBreaker, ResilientProvider, breaker_for, reset_breakers

__all__ = [
    "ChatMessage",
    "CircuitBreaker",
    "Completion",
    "CompletionStream",
    "Endpoint",
    "EndpointRefused",
    "FakeProvider",
    "LLMAuthError",
    "LLMBadConfig",
    "LLMCircuitOpen",
    "LLMError",
    "LLMProvider",
    "LLMRateLimited",
    "LLMRefused",
    "LLMTimeout",
    "LLMUnavailable",
    "MistralProvider",
    "OpenAICompatibleProvider",
    "ProviderSettings",
    "ResilientProvider",
    "StreamEnd",
    "breaker_for",
    "check_url",
    "demo_answer",
    "get_provider",
    "mistral_endpoint",
    "openai_compatible_endpoint",
    "provider_names",
    "register",
    "reset_breakers",
]
