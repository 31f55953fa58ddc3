"""Where prompts may go: EU-hosted endpoints by default, others only on explicit decision.

Rules (issue 6): an endpoint known to be outside the EU (Mistral's `global` and `us` servers,
api.openai.com) is refused unless the operator sets `allow_non_eu`; an endpoint this module does
not know (self-hosted vLLM or Ollama, a regional cloud endpoint) is accepted only once the admin
has confirmed it is hosted in the EU (`eu_confirmed`), a decision the caller records.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .errors import LLMBadConfig

MISTRAL_SERVERS = {
    "eu": "https://api.eu.mistral.ai",
    "global": "https://api.mistral.ai",
    "us": "https://api.us.mistral.ai",
}
MISTRAL_DEFAULT_SERVER = "eu"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"

# Hosts whose data centres are in the EU by the provider's own documentation.
KNOWN_EU_HOSTS = {
    "api.eu.mistral.ai": "Mistral AI (EU)",
    "oai.endpoints.kepler.ai.cloud.ovh.net": "OVHcloud AI Endpoints",
    "api.scaleway.ai": "Scaleway Generative APIs",
    "openai.inference.de-txl.ionos.com": "IONOS AI Model Hub",
}
# Hosts known to process requests outside the EU (or wherever the provider chooses).
KNOWN_NON_EU_HOSTS = {
    "api.mistral.ai": "Mistral AI (global)",
    "api.us.mistral.ai": "Mistral AI (US)",
    "api.openai.com": "OpenAI",
    "api.anthropic.com": "Anthropic",
    "generativelanguage.googleapis.com": "Google Gemini",
    "api.groq.com": "Groq",
    "api.together.xyz": "Together AI",
    "openrouter.ai": "OpenRouter",
    "api.deepseek.com": "DeepSeek",
}
# Any sub-domain of these is outside the EU as well (OpenAI's regional hosts included: the
# company is not established in the EU; an operator who accepts that sets allow_non_eu).
NON_EU_SUFFIXES = (".openai.com", ".us.mistral.ai")

Hosting = Literal["eu", "eu_confirmed", "non_eu_allowed"]


class EndpointRefused(LLMBadConfig):
    """The endpoint is not allowed by the hosting rules. `reason`: non_eu, eu_unconfirmed, bad_url."""

    code = "endpoint_refused"

    def __init__(self, detail: str, *, reason: str, url: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.url = url


@dataclass(frozen=True)
class Endpoint:
    """An endpoint that passed the rules, and why it did (for the admin page and the audit)."""

    url: str
    host: str
    hosting: Hosting
    label: str
    # Plain http to a host that is not this machine: the key and prompts travel unencrypted.
    insecure: bool = False

    @property
    def in_eu(self) -> bool:
        return self.hosting != "non_eu_allowed"


def classify_host(host: str) -> Literal["eu", "non_eu", "unknown"]:
    host = host.lower().rstrip(".")
    if host in KNOWN_EU_HOSTS:
        return "eu"
    if host in KNOWN_NON_EU_HOSTS or host.endswith(NON_EU_SUFFIXES):
        return "non_eu"
    return "unknown"


def check_url(url: str, *, allow_non_eu: bool = False, eu_confirmed: bool = False) -> Endpoint:
    """The endpoint for `url` if the hosting rules allow it; EndpointRefused otherwise."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused(
            f"The endpoint {url!r} is not an http(s) URL.", reason="bad_url", url=url
        )
    if parts.username or parts.password:
        # A key in the URL would end up in logs; it belongs in the API key setting.
        raise EndpointRefused(
            "The endpoint URL must not contain credentials; put the key in the API key setting.",
            reason="bad_url",
            url=f"{parts.scheme}://{parts.hostname}",
        )
    host = parts.hostname.lower().rstrip(".")
    insecure = parts.scheme == "http" and not _is_loopback(host)
    kind = classify_host(host)
    if kind == "eu":
        return Endpoint(url, host, "eu", KNOWN_EU_HOSTS[host], insecure)
    if kind == "non_eu":
        label = KNOWN_NON_EU_HOSTS.get(host, host)
        if not allow_non_eu:
            raise EndpointRefused(
                f"{label} ({host}) processes requests outside the EU; it is refused unless the "
                "operator explicitly allows non-EU endpoints.",
                reason="non_eu",
                url=url,
            )
        return Endpoint(url, host, "non_eu_allowed", label, insecure)
    if not eu_confirmed:
        raise EndpointRefused(
            f"The endpoint {host} is not a known EU-hosted service: the administrator must "
            "confirm that it is hosted in the EU before it is used.",
            reason="eu_unconfirmed",
            url=url,
        )
    return Endpoint(url, host, "eu_confirmed", host, insecure)


def mistral_endpoint(
    *,
    server: str | None = None,
    server_url: str | None = None,
    allow_non_eu: bool = False,
    eu_confirmed: bool = False,
) -> Endpoint:
    """Mistral: a named server of La Plateforme (EU by default) or a self-hosted `server_url`."""
    if server and server_url:
        raise LLMBadConfig("Give either a Mistral server name or a server URL, not both.")
    if server_url:
        return check_url(server_url, allow_non_eu=allow_non_eu, eu_confirmed=eu_confirmed)
    name = (server or MISTRAL_DEFAULT_SERVER).lower()
    if name not in MISTRAL_SERVERS:
        raise LLMBadConfig(
            f"Unknown Mistral server {server!r}; use one of {', '.join(sorted(MISTRAL_SERVERS))}."
        )
    return check_url(MISTRAL_SERVERS[name], allow_non_eu=allow_non_eu, eu_confirmed=eu_confirmed)


def openai_compatible_endpoint(
    *, base_url: str | None, allow_non_eu: bool = False, eu_confirmed: bool = False
) -> Endpoint:
    """An OpenAI-compatible API. No base URL means OpenAI's own API, which is outside the EU."""
    return check_url(
        base_url or OPENAI_DEFAULT_URL, allow_non_eu=allow_non_eu, eu_confirmed=eu_confirmed
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
