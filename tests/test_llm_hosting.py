"""Where prompts may go: EU endpoints by default, others only on an explicit decision.

The rules live in lti_tool/llm/hosting.py; the provider constructors apply them, so a refused
endpoint fails when the provider is built, before any prompt could leave.
"""

from __future__ import annotations

import pytest

from lti_tool.llm import (
    EndpointRefused,
    LLMBadConfig,
    ProviderSettings,
    check_url,
    get_provider,
    mistral_endpoint,
    openai_compatible_endpoint,
)
from lti_tool.llm.hosting import KNOWN_EU_HOSTS, MISTRAL_SERVERS


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "https://eu.api.openai.com/v1",
        "https://api.mistral.ai",
        "https://api.us.mistral.ai",
        "https://openrouter.ai/api/v1",
    ],
)
def test_non_eu_endpoints_are_refused_unless_allowed(url):
    with pytest.raises(EndpointRefused) as caught:
        check_url(url)
    assert caught.value.reason == "non_eu"
    assert caught.value.code == "endpoint_refused"

    endpoint = check_url(url, allow_non_eu=True)
    assert endpoint.hosting == "non_eu_allowed"
    assert not endpoint.in_eu


def test_confirming_eu_hosting_does_not_unlock_a_known_non_eu_endpoint():
    with pytest.raises(EndpointRefused):
        check_url("https://api.openai.com/v1", eu_confirmed=True)


@pytest.mark.parametrize("server", ["global", "us"])
def test_mistral_servers_outside_the_eu_need_allow_non_eu(server):
    with pytest.raises(EndpointRefused) as caught:
        mistral_endpoint(server=server)
    assert caught.value.reason == "non_eu"

    assert mistral_endpoint(server=server, allow_non_eu=True).url == MISTRAL_SERVERS[server]


def test_mistral_defaults_to_its_eu_server():
    endpoint = mistral_endpoint()

    assert endpoint.url == "https://api.eu.mistral.ai"
    assert endpoint.hosting == "eu" and endpoint.in_eu


@pytest.mark.parametrize("host", sorted(KNOWN_EU_HOSTS))
def test_known_eu_hosts_are_accepted(host):
    endpoint = check_url(f"https://{host}/v1")

    assert endpoint.hosting == "eu"
    assert endpoint.label == KNOWN_EU_HOSTS[host]
    assert not endpoint.insecure


@pytest.mark.parametrize(
    "url", ["https://llm.cfa-exemple.fr/v1", "http://10.0.0.5:8000/v1", "http://localhost:11434/v1"]
)
def test_an_unknown_endpoint_needs_eu_confirmation(url):
    with pytest.raises(EndpointRefused) as caught:
        check_url(url)
    assert caught.value.reason == "eu_unconfirmed"

    assert check_url(url, eu_confirmed=True).hosting == "eu_confirmed"


def test_plain_http_to_another_machine_is_flagged_insecure():
    assert check_url("http://10.0.0.5:8000/v1", eu_confirmed=True).insecure
    assert not check_url("http://127.0.0.1:8000/v1", eu_confirmed=True).insecure
    assert not check_url("http://localhost:8000/v1", eu_confirmed=True).insecure


@pytest.mark.parametrize(
    "url",
    ["https://user:s3cret-pass@api.scaleway.ai/v1", "https://s3cret-pass@llm.cfa-exemple.fr/v1"],
)
def test_urls_with_credentials_are_refused_without_repeating_them(url):
    with pytest.raises(EndpointRefused) as caught:
        check_url(url, allow_non_eu=True, eu_confirmed=True)

    assert caught.value.reason == "bad_url"
    assert "s3cret-pass" not in str(caught.value)
    assert "s3cret-pass" not in (caught.value.url or "")


@pytest.mark.parametrize("url", ["", "api.scaleway.ai/v1", "ftp://api.scaleway.ai", "https://"])
def test_malformed_urls_are_refused(url):
    with pytest.raises(EndpointRefused) as caught:
        check_url(url, allow_non_eu=True, eu_confirmed=True)
    assert caught.value.reason == "bad_url"


def test_mistral_takes_a_server_name_or_a_url_not_both():
    with pytest.raises(LLMBadConfig):
        mistral_endpoint(server="eu", server_url="https://llm.cfa-exemple.fr")
    with pytest.raises(LLMBadConfig):
        mistral_endpoint(server="mars")


def test_openai_compatible_without_a_base_url_is_openai_itself():
    with pytest.raises(EndpointRefused):
        openai_compatible_endpoint(base_url=None)

    assert openai_compatible_endpoint(base_url=None, allow_non_eu=True).host == "api.openai.com"


# --- the provider constructors enforce the rules ----------------------------------------------


def openai(**values) -> ProviderSettings:
    return ProviderSettings(**{"provider": "openai", "model": "m", "api_key": "k", **values})


def mistral(**values) -> ProviderSettings:
    return ProviderSettings(**{"provider": "mistral", "model": "m", "api_key": "k", **values})


@pytest.mark.parametrize(
    "settings",
    [
        openai(),
        openai(base_url="https://api.openai.com/v1"),
        openai(base_url="https://llm.cfa-exemple.fr/v1"),
        mistral(server="global"),
        mistral(server="us"),
        mistral(base_url="https://llm.cfa-exemple.fr"),
        mistral(base_url="https://k:x@api.eu.mistral.ai"),
    ],
    ids=[
        "openai-default", "openai", "custom-openai", "mistral-global", "mistral-us",
        "custom-mistral", "credentials",
    ],
)
def test_providers_refuse_endpoints_the_rules_refuse(settings):
    with pytest.raises(EndpointRefused):
        get_provider(None, settings)


@pytest.mark.parametrize(
    ("settings", "endpoint"),
    [
        (mistral(), "https://api.eu.mistral.ai"),
        (mistral(server="us", allow_non_eu=True), "https://api.us.mistral.ai"),
        (
            mistral(base_url="https://llm.cfa-exemple.fr", eu_confirmed=True, api_key=None),
            "https://llm.cfa-exemple.fr",
        ),
        (openai(base_url="https://api.scaleway.ai/v1"), "https://api.scaleway.ai/v1"),
        (openai(allow_non_eu=True), "https://api.openai.com/v1"),
        (
            openai(base_url="http://localhost:11434/v1", eu_confirmed=True, api_key=None),
            "http://localhost:11434/v1",
        ),
    ],
    ids=["mistral-eu", "mistral-us-allowed", "mistral-self-hosted", "scaleway", "openai-allowed",
         "ollama"],
)
def test_providers_accept_endpoints_the_rules_accept(settings, endpoint):
    with get_provider(None, settings) as provider:
        assert provider.endpoint == endpoint
        assert provider.hosting.url == endpoint


def test_the_environment_cannot_redirect_the_openai_client(monkeypatch):
    # The SDK reads OPENAI_BASE_URL when no base URL is given: ours always gives the checked one.
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")

    with get_provider(None, openai(base_url="https://api.scaleway.ai/v1")) as provider:
        assert provider.endpoint == "https://api.scaleway.ai/v1"


def test_settings_from_the_environment_keep_the_hosting_decisions():
    environment = {"LLM_PROVIDER": "mistral", "LLM_MODEL": "mistral-small", "LLM_SERVER": "us"}

    with pytest.raises(EndpointRefused):
        get_provider(None, ProviderSettings.from_mapping({**environment, "LLM_ALLOW_NON_EU": "no"}))

    allowed = ProviderSettings.from_mapping({**environment, "LLM_ALLOW_NON_EU": "yes"})
    with get_provider(None, allowed) as provider:
        assert provider.endpoint == "https://api.us.mistral.ai"
