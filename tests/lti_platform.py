"""A test LTI 1.3 platform: its own RSA key pair, real RS256 id_tokens, a JWKS served through
`responses`, and the browser's side of the OIDC dance driven with Flask's test client."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ROLES = {
    "learner": [LIS + "membership#Learner"],
    "trainer": [LIS + "membership#Instructor"],
    # As Moodle sends a site administrator: Instructor in the course, then both admin roles
    "admin": [LIS + "membership#Instructor", LIS + "system/person#Administrator",
              LIS + "institution/person#Administrator"],
}
_KEYS: dict[str, rsa.RSAPrivateKey] = {}


LANDING = re.compile(r'history\.replaceState\(null, "", "(/t/[^"]+)"\)')


def landing_url(response) -> str:
    """The token URL a launch's page gives itself (the launch answers with the page directly)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    match = LANDING.search(response.get_data(as_text=True))
    assert match, "the launch page does not name its token URL"
    return match.group(1)


def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """A key pair per name, generated once per test session (generation is slow)."""
    if name not in _KEYS:
        _KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEYS[name]


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


@dataclass
class TestPlatform:
    issuer: str = "https://moodle.test"
    client_id: str = "client-1"
    deployment_id: str = "deployment-1"
    context_id: str = "course-101"
    kid: str = "platform-key-1"
    key_name: str = "platform-a"
    extra_keys: list[tuple[str, str]] = field(default_factory=list)

    __test__ = False  # not a test class, despite the name

    @property
    def auth_url(self) -> str:
        return self.issuer + "/mod/lti/auth.php"

    @property
    def token_url(self) -> str:
        return self.issuer + "/mod/lti/token.php"

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/mod/lti/certs.php"

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return rsa_key(self.key_name)

    def jwks(self) -> dict[str, Any]:
        keys = [public_jwk(self.key, self.kid)]
        keys += [public_jwk(rsa_key(name), kid) for kid, name in self.extra_keys]
        return {"keys": keys}

    def serve_jwks(self, mock) -> None:
        """Serve this platform's JWKS through a `responses` mock (a callback: rotations show)."""
        mock.add_callback("GET", self.jwks_url, callback=lambda request: (200, {}, json.dumps(self.jwks())),
                          content_type="application/json")

    def register(self) -> None:
        """Register with the tool as an administrator would (the service the CLI uses)."""
        from lti_tool.extensions import db
        from lti_tool.lti.services import PlatformSpec, save_platform

        save_platform(PlatformSpec(
            issuer=self.issuer, client_id=self.client_id, deployment_ids=(self.deployment_id,),
            auth_login_url=self.auth_url, auth_token_url=self.token_url, key_set_url=self.jwks_url,
            name="Test Moodle", method="manual",
        ))
        db.session.commit()

    def claims(self, nonce: str, role: str = "learner", *, sub: str = "user-1",
               message_type: str = "LtiResourceLinkRequest", link_id: str = "link-1",
               locale: str = "fr-FR", **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "azp": self.client_id, "sub": sub,
            "iat": now, "exp": now + 300, "nonce": nonce,
            "name": "Camille Martin" if role == "learner" else "Alex Dupont",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "message_type": message_type,
            CLAIM + "version": "1.3.0",
            CLAIM + "roles": ROLES[role],
            CLAIM + "context": {"id": self.context_id, "title": "BTS MCO — tutorat", "label": "MCO1"},
            CLAIM + "target_link_uri": "https://tool.test/lti/launch",
            CLAIM + "launch_presentation": {"document_target": "iframe", "locale": locale},
        }
        if message_type == "LtiResourceLinkRequest":
            claims[CLAIM + "resource_link"] = {"id": link_id, "title": "Module 1"}
        elif message_type == "LtiDeepLinkingRequest":
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": self.issuer + "/mod/lti/contentitem_return.php",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
            }
        claims.update(extra)
        return claims

    def sign(self, claims: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
             alg: str = "RS256") -> str:
        return jwt.encode(claims, key or self.key, algorithm=alg, headers={"kid": kid or self.kid})

    # --- the browser's part --------------------------------------------------------------

    def login(self, client, **overrides: str) -> dict[str, str]:
        """Third-party initiated login; returns the authentication request's parameters."""
        params = {
            "iss": self.issuer, "login_hint": "user-1", "target_link_uri": "https://tool.test/lti/launch",
            "lti_message_hint": "hint-" + uuid.uuid4().hex[:6], "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        params.update(overrides)
        # The browser already passed the cookie check once (see lti.views.PROBE_COOKIE).
        client.set_cookie("lti1p3-cookies-ok", "1", domain="tool.test", path="/lti/")
        response = client.post("/lti/login", data=params)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = urlsplit(response.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.auth_url
        return {k: v[0] for k, v in parse_qs(location.query).items()}

    def launch(self, client, role: str = "learner", *, follow: bool = True, **claim_overrides: Any):
        """A full launch: login, then the id_token posted back with the state. Returns the response."""
        auth = self.login(client)
        claims = self.claims(auth["nonce"], role, **claim_overrides)
        return client.post("/lti/launch", data={"id_token": self.sign(claims), "state": auth["state"]},
                           follow_redirects=follow)
