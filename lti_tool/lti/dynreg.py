"""IMS LTI Dynamic Registration 1.0, tool side (pylti1p3 2.0 has none)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import requests
from marshmallow import ValidationError

from ..common.network import AddressRefused, check_outgoing_url, origin_of
from .errors import LtiRefusal
from .schemas import TOOL_CONFIG, OpenIdConfigurationSchema, RegistrationResponseSchema
from .services import PlatformSpec

log = logging.getLogger(__name__)

WANTED_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
# Trainers need names; e-mail is personal data we have no use for, so it is not asked for.
WANTED_CLAIMS = ["iss", "sub", "name", "given_name", "family_name"]

NAMES = {"fr": "Mentorat IA", "en": "AI Mentoring"}
DESCRIPTIONS = {
    "fr": "Modules de formation sur l’IA dans le tutorat en alternance, déclarations d’usage de l’IA et évaluation.",
    "en": "Training modules on AI in work-based mentoring, AI-use declarations and grading.",
}


def registration_request(base_url: str, supported_scopes: list[str]) -> dict:
    """The client registration the tool posts to the platform (Dynamic Registration §3.5)."""
    scopes = [s for s in WANTED_SCOPES if not supported_scopes or s in supported_scopes]
    launch_url = f"{base_url}/lti/launch"
    host = urlsplit(base_url).netloc
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{base_url}/lti/login",
        "redirect_uris": [launch_url],
        "client_name": NAMES["fr"],
        "client_name#fr": NAMES["fr"],
        "client_name#en": NAMES["en"],
        "jwks_uri": f"{base_url}/lti/jwks",
        "logo_uri": f"{base_url}/static/logo.svg",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIG: {
            "domain": host,
            "target_link_uri": launch_url,
            "description": DESCRIPTIONS["fr"],
            "description#fr": DESCRIPTIONS["fr"],
            "description#en": DESCRIPTIONS["en"],
            "claims": WANTED_CLAIMS,
            "custom_parameters": {},
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch_url},
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": launch_url,
                    "label": NAMES["fr"],
                    "label#fr": NAMES["fr"],
                    "label#en": NAMES["en"],
                    "placements": ["ContentArea"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }


def _check_address(url: str, origins: frozenset[str], allow_internal: bool) -> None:
    try:
        check_outgoing_url(url, origins=origins, allow_internal=allow_internal)
    except AddressRefused as refused:
        log.warning("registration address refused: %s", refused)
        raise LtiRefusal("registration_address_refused", detail=str(refused)) from refused


def register_with_platform(
    http: requests.Session, openid_configuration_url: str | None, registration_token: str | None,
    base_url: str, timeout: int, *, allow_internal: bool,
) -> PlatformSpec:
    """Read the platform's configuration, post our registration, return what to store.

    Every address the platform gives (its configuration's, the registration endpoint, and the
    login, token and key set URLs it will be called at afterwards) is on the issuer's origin or
    outside any private network, unless `allow_internal`: the tool calls them from its own network.
    Redirects are not followed. Raises a refusal naming whose fault it is: a bad start (the
    platform's parameters), a refused address, or a platform error (unreachable, invalid
    configuration, registration refused).
    """
    if not openid_configuration_url or origin_of(openid_configuration_url) is None:
        raise LtiRefusal("registration_bad_request")
    _check_address(openid_configuration_url, frozenset(), allow_internal)
    headers = {"Authorization": f"Bearer {registration_token}"} if registration_token else {}
    try:
        response = http.get(openid_configuration_url, headers=headers, timeout=timeout, allow_redirects=False)
        response.raise_for_status()
        config = OpenIdConfigurationSchema().load(response.json())
    except (requests.RequestException, ValueError, ValidationError) as exc:
        log.warning("openid configuration unusable: %s", exc)
        raise LtiRefusal("registration_platform_error", detail=str(exc)) from exc
    issuer_origin = origin_of(config["issuer"])
    if issuer_origin is None or issuer_origin != origin_of(openid_configuration_url):
        log.warning("issuer %s does not match configuration URL origin", config["issuer"])
        raise LtiRefusal("registration_platform_error", detail="issuer/origin mismatch")
    for key in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        _check_address(config[key], frozenset({issuer_origin}), allow_internal)

    payload = registration_request(base_url, config["scopes_supported"])
    try:
        response = http.post(config["registration_endpoint"], json=payload, headers=headers, timeout=timeout,
                             allow_redirects=False)
        response.raise_for_status()
        answer = RegistrationResponseSchema().load(response.json())
    except requests.HTTPError as exc:
        log.warning("platform refused registration: %s %s", exc.response.status_code, exc.response.text[:500])
        raise LtiRefusal("registration_platform_error", detail=str(exc)) from exc
    except (requests.RequestException, ValueError, ValidationError) as exc:
        log.warning("registration answer unusable: %s", exc)
        raise LtiRefusal("registration_platform_error", detail=str(exc)) from exc

    deployment_id = answer["tool_configuration"].get("deployment_id")
    platform_config = config["platform_configuration"]
    return PlatformSpec(
        issuer=config["issuer"],
        client_id=answer["client_id"],
        deployment_ids=(deployment_id,) if deployment_id else (),
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        key_set_url=config["jwks_uri"],
        auth_audience=config.get("authorization_server") or None,
        name=urlsplit(config["issuer"]).netloc,
        method="dynamic",
        product_family_code=platform_config.get("product_family_code"),
        scopes=answer.get("scope") or payload["scope"],
    )
