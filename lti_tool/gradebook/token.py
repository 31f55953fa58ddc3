"""OAuth 2 access tokens for the platform's services (LTI Security Framework §4.1).

client_credentials grant with a JWT client assertion signed RS256 by the tool's current key.
Tokens are cached per platform and scope set in the shared store until 60 s before they
expire, encrypted (they are bearer credentials); a 401 from a service drops the cached one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import jwt
import requests
from flask import current_app

from sqlalchemy import select

from ..common.security import SecretUnreadable, decrypt_secret, encrypt_secret
from ..common.store import KeyValueStore
from ..extensions import db
from ..lti.keys import signing_material
from ..lti.models import ToolKey
from ..lti.services import platform_origins

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300  # seconds
EXPIRY_MARGIN = 60  # a cached token is dropped this long before the platform says it expires
DEFAULT_EXPIRES_IN = 3600

Signer = Callable[[], tuple[str, Any]]  # () -> (kid, loaded private key)


@dataclass(frozen=True)
class TokenEndpoint:
    """What a token request needs to know of a platform."""

    platform_id: int
    client_id: str
    token_url: str
    audience: str | None = None
    # The platform's registered origins: its services are called there whatever the address.
    origins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, platform) -> TokenEndpoint:
        """From a `Platform` row or a registry `PlatformRecord`."""
        return cls(platform.id, platform.client_id, platform.auth_token_url, platform.auth_audience,
                   platform_origins(platform))


@dataclass(frozen=True)
class AccessToken:
    value: str
    granted: frozenset[str]  # the scopes the platform says it granted (requested ones if it does not say)
    expires_at: float  # epoch seconds


class TokenError(Exception):
    """No access token. `retryable`: the platform may give one later (timeout, 5xx, 429)."""

    def __init__(self, code: str, detail: str, *, status: int | None = None, retryable: bool = True,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


def normalise_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({s for s in scopes if s}))


def published_signing_material() -> tuple[str, Any]:
    """(kid, private key) to sign a client assertion with, from a key the platform can already
    fetch from our JWKS: on a fresh install the first key is created and committed apart (a new
    app context has its own session), not left in the caller's open transaction."""
    if db.session.execute(select(ToolKey.id).where(ToolKey.retire_at.is_(None)).limit(1)).first() is None:
        with current_app.app_context():
            signing_material()
            db.session.commit()
    return signing_material()


def client_assertion(endpoint: TokenEndpoint, kid: str, private_key, now: float | None = None) -> str:
    """The signed JWT that authenticates the tool to the token endpoint."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": endpoint.client_id,
        "sub": endpoint.client_id,
        "aud": endpoint.audience or endpoint.token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class ServiceTokens:
    """Access tokens per (platform, scope set): cached in the shared store, fetched when missing.

    `requests_made` counts token requests sent by this object (the benchmark prints it).
    """

    _locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, http: requests.Session, store: KeyValueStore, *, signer: Signer | None = None,
                 timeout: float = 10, clock: Callable[[], float] = time.time, allow_internal: bool = False) -> None:
        self.http = http
        self.store = store
        self.signer = signer or published_signing_material
        self.timeout = timeout
        self.clock = clock
        # May the services of a platform be called off its origins inside a private network?
        self.allow_internal = allow_internal
        self.requests_made = 0

    @classmethod
    def for_app(cls, **kwargs) -> ServiceTokens:
        app = current_app
        kwargs.setdefault("timeout", app.config["HTTP_TIMEOUT"])
        kwargs.setdefault("allow_internal", app.config["PLATFORM_ALLOW_INTERNAL_ENDPOINTS"])
        return cls(kwargs.pop("http", None) or app.extensions["lti_http"],
                   kwargs.pop("store", None) or app.extensions["lti_store"], **kwargs)

    @staticmethod
    def cache_key(endpoint: TokenEndpoint, scopes: Iterable[str]) -> str:
        scope_digest = hashlib.sha256(" ".join(normalise_scopes(scopes)).encode()).hexdigest()[:24]
        return f"grading:token:{endpoint.platform_id}:{scope_digest}"

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _cached(self, key: str) -> AccessToken | None:
        item = self.store.get(key)
        if not isinstance(item, dict):
            return None
        if item.get("expires_at", 0) <= self.clock() + EXPIRY_MARGIN:
            return None
        try:
            value = decrypt_secret(item["token"].encode("ascii")).decode("utf-8")
        except (SecretUnreadable, KeyError, AttributeError, UnicodeError):
            return None
        return AccessToken(value, frozenset(item.get("granted") or ()), float(item["expires_at"]))

    def get(self, endpoint: TokenEndpoint, scopes: Iterable[str], *, signer: Signer | None = None) -> AccessToken:
        """A valid access token for `scopes` on `endpoint`'s platform; raises `TokenError`.
        `signer` overrides this object's (the worker reads the key before it calls the platform)."""
        scopes = normalise_scopes(scopes)
        key = self.cache_key(endpoint, scopes)
        token = self._cached(key)
        if token is not None:
            return token
        with self._lock(key):  # one request per key in this process when many senders miss at once
            token = self._cached(key)
            if token is None:
                token = self._request(endpoint, scopes, signer or self.signer)
                ttl = int(token.expires_at - self.clock() - EXPIRY_MARGIN)
                if ttl >= 1:
                    self.store.set(key, {"token": encrypt_secret(token.value.encode()).decode("ascii"),
                                         "granted": sorted(token.granted), "expires_at": token.expires_at}, ttl)
            return token

    def invalidate(self, endpoint: TokenEndpoint, scopes: Iterable[str]) -> None:
        """Forget the cached token (the platform answered 401 with it)."""
        self.store.pop(self.cache_key(endpoint, scopes))

    def _request(self, endpoint: TokenEndpoint, scopes: tuple[str, ...], signer: Signer) -> AccessToken:
        kid, private_key = signer()
        now = self.clock()
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(endpoint, kid, private_key, now),
            "scope": " ".join(scopes),
        }
        self.requests_made += 1
        try:
            # A registered endpoint, so on the platform's origins; a redirect would leave them.
            response = self.http.post(endpoint.token_url, data=data, headers={"Accept": "application/json"},
                                      timeout=self.timeout, allow_redirects=False)
        except requests.Timeout as exc:
            raise TokenError("token_unreachable", f"timeout on {endpoint.token_url}") from exc
        except requests.RequestException as exc:
            raise TokenError("token_unreachable", f"{type(exc).__name__} on {endpoint.token_url}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TokenError("token_unreachable", f"HTTP {response.status_code} from {endpoint.token_url}",
                             status=response.status_code,
                             retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        body = _json(response)
        if response.status_code != 200:
            error = str(body.get("error") or "")[:64] if isinstance(body, dict) else ""
            log.warning("token request refused", extra={"platform_id": endpoint.platform_id,
                                                        "status": response.status_code, "error": error})
            # invalid_scope will not change by retrying; the rest may (tool activated later, JWKS fixed).
            raise TokenError("scope_not_granted" if error == "invalid_scope" else "token_refused",
                             f"HTTP {response.status_code} {error}".strip(), status=response.status_code,
                             retryable=error != "invalid_scope")
        value = body.get("access_token") if isinstance(body, dict) else None
        token_type = str(body.get("token_type") or "bearer").lower() if isinstance(body, dict) else ""
        if not isinstance(value, str) or not value or token_type != "bearer":
            raise TokenError("token_refused", "token response without a bearer access_token",
                             status=response.status_code)
        try:
            expires_in = int(body.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        granted = body.get("scope")
        granted_set = frozenset(granted.split()) if isinstance(granted, str) and granted.strip() else frozenset(scopes)
        log.info("service token obtained", extra={"platform_id": endpoint.platform_id, "expires_in": expires_in})
        return AccessToken(value, granted_set, now + expires_in)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
