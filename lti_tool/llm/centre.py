"""A centre's LLM: the operator's defaults overridden by the centre's settings, the provider built
from them, the admin's changes (with the hosting rules), the connection test, and usage.

The operator decides in the environment (`LLM_*`, see config/) what no centre can change: whether
endpoints outside the EU may be used at all (`LLM_ALLOW_NON_EU`). A centre chooses its provider,
model, endpoint and key on its admin page or through the CLI; its key is encrypted at rest and
the operator's key is never sent to an endpoint the centre chose.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from ..common.network import address_kind
from ..common.security import SecretUnreadable, decrypt_secret, encrypt_secret
from ..extensions import db
from ..common.time import utcnow
from . import fake, mistral, openai_compat  # noqa: F401  registers the providers
from .base import ChatMessage, LLMProvider, ProviderSettings, get_provider, provider_names
from .errors import LLMBadConfig, LLMError
from .hosting import (
    MISTRAL_DEFAULT_SERVER,
    MISTRAL_SERVERS,
    OPENAI_DEFAULT_URL,
    Endpoint,
    EndpointRefused,
    classify_host,
    mistral_endpoint,
    openai_compatible_endpoint,
)
from .models import AiCall, LlmConfig
from .prompts import TEST_MESSAGE, system_prompt
from .resilience import ResilientProvider

log = logging.getLogger(__name__)

MAX_CACHED_PROVIDERS = 64


# --- settings ------------------------------------------------------------------------------------


def centre_config(platform_id: int) -> LlmConfig | None:
    return db.session.execute(select(LlmConfig).where(LlmConfig.platform_id == platform_id)).scalar_one_or_none()


def environment_settings() -> ProviderSettings:
    """The operator's defaults (Flask config, read from the environment at start-up)."""
    return ProviderSettings.from_mapping(current_app.config)


def _endpoint_of(provider: str, base_url: str | None, server: str | None) -> tuple[str, str | None, str | None]:
    return provider, (base_url or None), (server or None) if provider == "mistral" else None


def stored_key(row: LlmConfig) -> str | None:
    """The centre's API key in clear, or None (none stored, or unreadable after a SECRET_KEY change)."""
    if not row.api_key_encrypted:
        return None
    try:
        return decrypt_secret(row.api_key_encrypted).decode("utf-8")
    except SecretUnreadable:
        log.warning("stored LLM API key unreadable", extra={"platform_id": row.platform_id})
        return None


def key_hint(row: LlmConfig | None) -> str | None:
    """What the admin page shows of the stored key: its last 4 characters only."""
    key = stored_key(row) if row is not None else None
    if not key:
        return None
    return "…" + key[-4:] if len(key) > 8 else "…"


def merge_settings(env: ProviderSettings, row: LlmConfig | None, *, api_key: str | None = None,
                   eu_confirmed: bool | None = None) -> ProviderSettings:
    """`env` overridden by the centre's `row`. `api_key`/`eu_confirmed` replace the row's (the
    admin page checks values before saving them)."""
    if row is None:
        return env
    same_endpoint = _endpoint_of(row.provider, row.base_url, row.server) == _endpoint_of(
        env.provider, env.base_url, env.server)
    key = api_key if api_key is not None else stored_key(row)
    if key is None and same_endpoint:
        key = env.api_key  # the operator's own endpoint: its key may serve the centre
    confirmed = eu_confirmed if eu_confirmed is not None else row.eu_confirmed_at is not None
    return replace(
        env,
        provider=row.provider,
        model=row.model or (env.model if row.provider == env.provider else ""),
        api_key=key,
        base_url=row.base_url or None,
        server=row.server or None,
        timeout=row.timeout if row.timeout is not None else env.timeout,
        temperature=row.temperature if row.temperature is not None else env.temperature,
        max_tokens=row.max_tokens if row.max_tokens is not None else env.max_tokens,
        eu_confirmed=confirmed or (same_endpoint and env.eu_confirmed),
    )


def effective_settings(platform_id: int) -> ProviderSettings:
    """What calls for this centre use now."""
    return merge_settings(environment_settings(), centre_config(platform_id))


def endpoint_url(settings: ProviderSettings) -> str | None:
    """Where calls with `settings` go (None: offline)."""
    if settings.provider == "openai":
        return settings.base_url or OPENAI_DEFAULT_URL
    if settings.provider == "mistral":
        return settings.base_url or MISTRAL_SERVERS.get((settings.server or MISTRAL_DEFAULT_SERVER).lower())
    return None


def needs_eu_confirmation(settings: ProviderSettings) -> bool:
    """Whether the endpoint is one the hosting rules do not know (the admin must confirm it)."""
    url = endpoint_url(settings)
    host = urlsplit(url).hostname if url else None
    return bool(host) and classify_host(host) == "unknown"


def _checked_endpoint(settings: ProviderSettings) -> Endpoint:
    """The endpoint of `settings` (not the demonstration) as the hosting rules allow it; raises
    EndpointRefused or LLMBadConfig."""
    if settings.provider == "mistral":
        return mistral_endpoint(server=settings.server, server_url=settings.base_url,
                                allow_non_eu=settings.allow_non_eu, eu_confirmed=settings.eu_confirmed)
    return openai_compatible_endpoint(base_url=settings.base_url, allow_non_eu=settings.allow_non_eu,
                                      eu_confirmed=settings.eu_confirmed)


def settings_problem(settings: ProviderSettings) -> str | None:
    """Why `settings` cannot work (a code), checked without building a provider (no SDK import,
    no connection): for pages that only say whether the assistant is available."""
    if settings.provider not in provider_names():
        return "bad_config"
    if settings.provider == "fake":
        return None
    if not settings.model:
        return "bad_config"
    try:
        _checked_endpoint(settings)
    except EndpointRefused:
        return "endpoint_refused"
    except LLMBadConfig:
        return "bad_config"
    return None


def hosting_of(settings: ProviderSettings) -> Endpoint | None:
    """Where calls with `settings` go, and why the hosting rules allow it (its label: "Mistral AI
    (EU)", or the host); None for the demonstration (offline) or settings that cannot work."""
    if settings.provider == "fake" or settings_problem(settings) is not None:
        return None
    return _checked_endpoint(settings)


def log_retention_months(row: LlmConfig | None) -> int:
    """How many months the AI log keeps the texts of the centre's calls: its own setting, else
    the operator's LLM_LOG_RETENTION_MONTHS (at least one month)."""
    months = row.log_retention_months if row is not None else None
    return max(1, months if months is not None else int(current_app.config["LLM_LOG_RETENTION_MONTHS"]))


# --- providers -----------------------------------------------------------------------------------

_cache_lock = threading.Lock()


def _cache() -> OrderedDict[ProviderSettings, LLMProvider]:
    return current_app.extensions.setdefault("llm_providers", OrderedDict())


def check_centre_address(row: LlmConfig | None) -> None:
    """Before each call: the centre's own endpoint URL must still point outside a private
    network, unless the operator allows such endpoints (LLM_ALLOW_INTERNAL_ENDPOINTS). Its name
    was checked when the administrator saved it, but what a name resolves to can change since
    (DNS rebinding): the tool would then send prompts to, and show answers from, its operator's
    network. A name that does not resolve now is left to the call, which fails as unreachable.
    The operator's own endpoint (environment) is not checked. Raises EndpointRefused."""
    if row is None or not row.base_url or current_app.config["LLM_ALLOW_INTERNAL_ENDPOINTS"]:
        return
    parts = urlsplit(row.base_url)
    if parts.hostname and address_kind(parts.hostname) == "internal":
        log.warning("centre endpoint now resolves inside a private network",
                    extra={"platform_id": row.platform_id, "host": parts.hostname})
        raise EndpointRefused(f"The endpoint {parts.hostname} now points inside a private network.",
                              reason="internal_address", url=f"{parts.scheme}://{parts.hostname}")


def provider_for(settings: ProviderSettings) -> LLMProvider:
    """The provider for `settings`, with retries and the endpoint's circuit breaker, built once
    per process (an SDK client keeps its connections). Raises LLMBadConfig (EndpointRefused for
    the hosting rules) when the settings cannot work."""
    cache = _cache()
    with _cache_lock:
        provider = cache.get(settings)
        if provider is not None:
            cache.move_to_end(settings)
            return provider
    provider = ResilientProvider(get_provider(settings.provider, settings))
    with _cache_lock:
        cache[settings] = provider
        while len(cache) > MAX_CACHED_PROVIDERS:
            cache.popitem(last=False)  # not closed: a request may still be using it
    return provider


def close_providers(app) -> None:
    """Release every cached provider's connections (the app is going away: tests, shutdown)."""
    cache = app.extensions.get("llm_providers")
    if not cache:
        return
    with _cache_lock:
        providers = list(cache.values())
        cache.clear()
    for provider in providers:
        provider.close()


# --- the admin's changes -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigChange:
    """What the admin page or the CLI submits. `api_key` None keeps the stored key."""

    provider: str
    model: str = ""
    base_url: str | None = None
    server: str | None = None
    api_key: str | None = None
    clear_key: bool = False
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    quota_learner_daily_calls: int | None = None
    quota_learner_daily_tokens: int | None = None
    quota_centre_monthly_calls: int | None = None
    quota_centre_monthly_tokens: int | None = None
    log_retention_months: int | None = None
    confirm_eu: bool = False

    def __repr__(self) -> str:  # never the key
        return f"<ConfigChange provider={self.provider!r} model={self.model!r} base_url={self.base_url!r}>"


class ConfigRefused(Exception):
    """The change breaks a rule. `field` names the form field at fault, `reason` the rule."""

    def __init__(self, reason: str, field: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.detail = detail


def candidate_settings(platform_id: int, change: ConfigChange, *,
                       allow_internal: bool = True) -> tuple[ProviderSettings, bool]:
    """The settings `change` would give, checked against the hosting rules, and whether the
    admin's EU confirmation is to be recorded. Raises ConfigRefused.

    Without `allow_internal` (a centre's administrator on the web page, unless the operator
    allows it: LLM_ALLOW_INTERNAL_ENDPOINTS), an endpoint inside a private network is refused:
    the tool would otherwise send requests, and show the answers, to its operator's own network."""
    row = centre_config(platform_id)
    provider = change.provider
    base_url = (change.base_url or "").strip() or None
    server = (change.server or "").strip() or None if provider == "mistral" else None
    if provider == "fake":
        base_url = server = None
    host = urlsplit(base_url).hostname if base_url else None
    if host and not allow_internal:
        kind = address_kind(host)
        if kind != "public":  # a name that does not resolve now could resolve inside later
            raise ConfigRefused("internal_address" if kind == "internal" else "unresolvable_address", "base_url")
    if provider != "fake" and not change.model.strip():
        raise ConfigRefused("model_required", "model")
    if provider == "mistral" and base_url and server:
        raise ConfigRefused("server_or_url", "server")
    draft = LlmConfig(platform_id=platform_id, provider=provider, model=change.model.strip(), base_url=base_url,
                      server=server, temperature=change.temperature, max_tokens=change.max_tokens,
                      timeout=change.timeout)
    same_endpoint = row is not None and _endpoint_of(row.provider, row.base_url, row.server) == _endpoint_of(
        provider, base_url, server)
    if change.clear_key:
        key: str | None = ""
    elif change.api_key:
        key = change.api_key.strip()
    else:
        key = stored_key(row) if row is not None and same_endpoint else None
    already_confirmed = same_endpoint and row is not None and row.eu_confirmed_at is not None
    settings = merge_settings(environment_settings(), draft, api_key=key or None,
                              eu_confirmed=already_confirmed or change.confirm_eu)
    if key == "":
        settings = replace(settings, api_key=None)
    try:
        get_provider(settings.provider, settings).close()
    except EndpointRefused as exc:
        field = "confirm_eu" if exc.reason == "eu_unconfirmed" else ("server" if provider == "mistral" and not base_url
                                                                     else "base_url")
        raise ConfigRefused(exc.reason, field, exc.detail) from None
    except LLMBadConfig as exc:
        raise ConfigRefused("bad_config", "provider", exc.detail) from None
    record_confirmation = change.confirm_eu and needs_eu_confirmation(settings) and not already_confirmed
    return settings, record_confirmation


def save_config(platform_id: int, user_pk: int | None, change: ConfigChange, *,
                allow_internal: bool = True) -> LlmConfig:
    """Store the centre's settings once they pass the hosting rules. A new custom endpoint needs
    the admin's EU confirmation, recorded with who and when; a changed endpoint drops the old
    confirmation. A blank key keeps the stored one (for the same endpoint). Flushes."""
    settings, record_confirmation = candidate_settings(platform_id, change, allow_internal=allow_internal)
    row = centre_config(platform_id)
    if row is None:
        row = LlmConfig(platform_id=platform_id, provider=change.provider)
        db.session.add(row)
    endpoint_changed = _endpoint_of(row.provider, row.base_url, row.server) != _endpoint_of(
        settings.provider, settings.base_url, settings.server)
    row.provider, row.model = settings.provider, change.model.strip()
    row.base_url, row.server = settings.base_url, settings.server if settings.provider == "mistral" else None
    if change.clear_key:
        row.api_key_encrypted = None
    elif change.api_key:
        row.api_key_encrypted = encrypt_secret(change.api_key.strip().encode("utf-8"))
    elif endpoint_changed:
        row.api_key_encrypted = None  # a key is never carried over to another endpoint
    if endpoint_changed:
        row.eu_confirmed_at, row.eu_confirmed_by = None, None
    if record_confirmation:
        row.eu_confirmed_at, row.eu_confirmed_by = utcnow(), user_pk
    for name in ("temperature", "max_tokens", "timeout", "quota_learner_daily_calls", "quota_learner_daily_tokens",
                 "quota_centre_monthly_calls", "quota_centre_monthly_tokens", "log_retention_months"):
        setattr(row, name, getattr(change, name))
    row.updated_at, row.updated_by = utcnow(), user_pk
    db.session.flush()
    log.info("LLM settings saved", extra={"platform_id": platform_id, "provider": row.provider,
                                          "eu_confirmed": row.eu_confirmed_at is not None})
    return row


# --- the connection test -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    provider: str
    model: str
    latency_ms: int
    code: str = "ok"
    detail: str = ""  # the provider's own words (never the key)
    answer: str = ""


def check_connection(settings: ProviderSettings, *, platform_id: int, user_pk: int | None,
                    context_pk: int | None = None, resource_link_pk: int | None = None,
                    locale: str | None = None) -> ConnectionReport:
    """One short call with `settings` (no retries, no circuit breaker: the admin wants the
    endpoint's own answer now), logged in the AI log with purpose `test`. Flushes."""
    messages = [ChatMessage("system", system_prompt(None, "test", locale)), ChatMessage("user", TEST_MESSAGE)]
    started = time.perf_counter()
    try:
        with get_provider(settings.provider, settings) as provider:
            completion = provider.complete(messages, max_tokens=16)
    except LLMError as exc:
        latency = round((time.perf_counter() - started) * 1000)
        code = "endpoint_refused" if isinstance(exc, EndpointRefused) else exc.code
        detail = scrub(exc.detail, settings.api_key)
        _log_test(platform_id, user_pk, context_pk, resource_link_pk, settings, messages, "", code, latency)
        return ConnectionReport(False, settings.provider, settings.model, latency, code, detail)
    _log_test(platform_id, user_pk, context_pk, resource_link_pk, settings, messages, completion.text, "ok",
              completion.latency_ms, completion.tokens_in, completion.tokens_out, completion.model)
    return ConnectionReport(True, settings.provider, completion.model, completion.latency_ms,
                      answer=scrub(completion.text, settings.api_key)[:200])


def _log_test(platform_id, user_pk, context_pk, link_pk, settings, messages, answer, outcome, latency,
              tokens_in=0, tokens_out=0, model=None) -> None:
    db.session.add(AiCall(platform_id=platform_id, context_pk=context_pk, resource_link_pk=link_pk, user_pk=user_pk,
                          purpose="test", exercise_id=None, provider=settings.provider,
                          model=(model or settings.model or "-")[:128],
                          prompt=[{"role": m.role, "content": m.content} for m in messages], answer=answer,
                          tokens_in=tokens_in, tokens_out=tokens_out, latency_ms=latency, outcome=outcome))
    db.session.flush()
    log.info("LLM connection test", extra={"platform_id": platform_id, "provider": settings.provider,
                                           "outcome": outcome, "latency_ms": latency})


def scrub(text: str, key: str | None) -> str:
    """`text` without the key, in full or in part (some services echo a masked key back)."""
    if not text:
        return ""
    if key:
        text = text.replace(key, "***")
        if len(key) >= 8:
            text = text.replace(key[-4:], "***").replace(key[:6], "***")
    return text
