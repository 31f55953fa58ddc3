"""A small LTI 1.3 platform inside the app, for trying the tool without Moodle (dev only).

It plays Moodle's part of the real flow: third-party initiated login, OIDC authentication
response with an RS256-signed id_token, JWKS, and an OAuth2 token endpoint for services.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from ..common.security import decrypt_secret, encrypt_secret
from ..extensions import db
from ..lti.keys import public_jwks
from ..lti.models import Platform
from ..lti.services import PlatformSpec, save_platform
from . import gradebook
from .course import CLIENT_ID, COURSE, DEPLOYMENT_ID, LINK, PEOPLE, issuer, platform_url, token_url  # noqa: F401
from .models import DemoPlatformKey

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
KINDS = {"learner": ("learner", "LtiResourceLinkRequest"), "trainer": ("trainer", "LtiResourceLinkRequest"),
         "admin": ("admin", "LtiResourceLinkRequest"), "deeplink": ("trainer", "LtiDeepLinkingRequest")}


class DemoError(ValueError):
    """A request the demo platform refuses (as Moodle would)."""


def ensure_registered() -> Platform:
    """Register the demo platform with the tool (idempotent). Flushes."""
    existing = db.session.execute(
        select(Platform).where(Platform.issuer == issuer(), Platform.client_id == CLIENT_ID)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    base = platform_url()
    return save_platform(PlatformSpec(
        issuer=issuer(), client_id=CLIENT_ID, deployment_ids=(DEPLOYMENT_ID,),
        auth_login_url=f"{base}/demo/auth", auth_token_url=token_url(),
        key_set_url=f"{base}/demo/jwks", name="Plateforme de démonstration", method="demo",
        product_family_code="mentorat-ia-demo",
    ))


def _signing_key() -> tuple[str, rsa.RSAPrivateKey]:
    cache = current_app.extensions.setdefault("lti_tool_demo_key", {})
    if "key" in cache:
        return cache["key"]
    row = db.session.execute(select(DemoPlatformKey).order_by(DemoPlatformKey.id)).scalars().first()
    if row is None:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        row = DemoPlatformKey(kid="demo-" + uuid.uuid4().hex[:16], private_key_encrypted=encrypt_secret(pem))
        db.session.add(row)
        db.session.flush()
    else:
        private_key = serialization.load_pem_private_key(decrypt_secret(row.private_key_encrypted), password=None)
    cache["key"] = (row.kid, private_key)
    return cache["key"]


def jwks() -> dict[str, Any]:
    kid, private_key = _signing_key()
    jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": [jwk]}


def _hints() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="demo-platform-message-hint")


def login_initiation(kind: str, locale: str, item: dict[str, str] | None = None) -> dict[str, str]:
    """The parameters of the third-party initiated login the platform posts to the tool.

    `item` is a placed activity ({"id", "title", "catalogue_id"}) from a deep-linking response;
    without it the course's sample link is launched.
    """
    if kind not in KINDS:
        raise DemoError("unknown launch kind")
    person = PEOPLE[KINDS[kind][0]]
    return {
        "iss": issuer(),
        "login_hint": person.sub,
        "target_link_uri": current_app.config["TOOL_BASE_URL"] + "/lti/launch",
        "lti_message_hint": _hints().dumps({"kind": kind, "locale": locale, "item": item}),
        "client_id": CLIENT_ID,
        "lti_deployment_id": DEPLOYMENT_ID,
    }


def authentication_response(params: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Check the tool's OIDC authentication request; return (redirect_uri, form fields)."""
    expected_redirect = current_app.config["TOOL_BASE_URL"] + "/lti/launch"
    checks = {
        "scope": params.get("scope") == "openid",
        "response_type": params.get("response_type") == "id_token",
        "response_mode": params.get("response_mode") == "form_post",
        "client_id": params.get("client_id") == CLIENT_ID,
        "redirect_uri": params.get("redirect_uri") == expected_redirect,
        "nonce": bool(params.get("nonce")),
        "state": bool(params.get("state")),
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise DemoError("invalid authentication request: " + ", ".join(failed))
    try:
        hint = _hints().loads(params.get("lti_message_hint") or "", max_age=600)
    except BadSignature as exc:
        raise DemoError("invalid or expired lti_message_hint") from exc
    role_key, message_type = KINDS[hint["kind"]]
    person = PEOPLE[role_key]
    if params.get("login_hint") != person.sub:
        raise DemoError("login_hint does not match the launch")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer(), "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": person.sub,
        "iat": now, "exp": now + 300, "nonce": params["nonce"],
        "given_name": person.given_name, "family_name": person.family_name,
        "name": f"{person.given_name} {person.family_name}",
        CLAIM + "deployment_id": DEPLOYMENT_ID,
        CLAIM + "message_type": message_type,
        CLAIM + "version": "1.3.0",
        CLAIM + "roles": list(person.roles),
        CLAIM + "context": COURSE,
        CLAIM + "target_link_uri": expected_redirect,
        CLAIM + "launch_presentation": {"document_target": "iframe", "locale": hint.get("locale", "fr")},
        CLAIM + "tool_platform": {"guid": "mentorat-ia-demo", "name": "Plateforme de démonstration",
                                  "product_family_code": "mentorat-ia-demo"},
    }
    if message_type == "LtiResourceLinkRequest":
        item = hint.get("item")
        if item:
            claims[CLAIM + "resource_link"] = {"id": item["id"], "title": item["title"]}
            # A placed activity's launches carry the custom parameters of its content item.
            claims[CLAIM + "custom"] = gradebook.placed_custom(item["id"]) or {"catalogue_item": item["catalogue_id"]}
        else:
            claims[CLAIM + "resource_link"] = LINK
        # Grade and roster services, as Moodle announces them (`lineitem` only for a coupled item).
        claims.update(gradebook.launch_claims(claims[CLAIM + "resource_link"]["id"]))
    else:
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "deep_link_return_url": platform_url() + "/demo/deep-link-return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "data": "demo-dl-" + uuid.uuid4().hex[:8],
        }
    kid, private_key = _signing_key()
    id_token = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})
    return expected_redirect, {"id_token": id_token, "state": params["state"]}


def _tool_keys() -> dict[str, Any]:
    # In-process read of what /lti/jwks serves: the platform side of the demo lives in the app.
    return {k["kid"]: k for k in public_jwks()["keys"]}


def read_deep_linking_response(token: str) -> list[dict[str, str]]:
    """Verify the tool's LtiDeepLinkingResponse as a platform does; return the placed items."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        jwk = _tool_keys().get(kid)
        if jwk is None:
            raise DemoError("deep-linking response signed with an unknown key")
        claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=issuer(), issuer=CLIENT_ID)
    except jwt.PyJWTError as exc:
        raise DemoError(f"invalid deep-linking response: {exc}") from exc
    if claims.get(CLAIM + "message_type") != "LtiDeepLinkingResponse":
        raise DemoError("not a deep-linking response")
    items = []
    for index, content in enumerate(claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items", [])):
        catalogue_id = (content.get("custom") or {}).get("catalogue_item", "")
        line_item = content.get("lineItem") if isinstance(content.get("lineItem"), dict) else None
        custom = content.get("custom") if isinstance(content.get("custom"), dict) else {}
        items.append({"id": f"demo-placed-{catalogue_id or index}", "title": content.get("title", ""),
                      "catalogue_id": catalogue_id, "line_item": line_item,
                      "custom": {str(k): str(v) for k, v in custom.items()},
                      "score_maximum": str((line_item or {}).get("scoreMaximum", ""))})
    return items
