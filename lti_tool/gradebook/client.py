"""Authenticated calls to a platform's services (AGS, NRPS), with the one token refresh on 401."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

import requests

from ..common.network import AddressRefused, check_outgoing_url
from .token import AccessToken, ServiceTokens, Signer, TokenEndpoint, TokenError, normalise_scopes, retry_after_seconds

log = logging.getLogger(__name__)

_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
_TOKEN_FIELD = re.compile(r"(?i)(\"?(?:access_token|client_assertion|authorization)\"?\s*[:=]\s*\"?)[^\s\"',;&]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with bearer tokens, JWTs and the given secrets masked: what may be stored or logged."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _JWT.sub("[redacted-jwt]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _TOKEN_FIELD.sub(r"\1[redacted]", text)


class ServiceError(Exception):
    """A service call that did not succeed: an HTTP status, or none for a transport failure."""

    def __init__(self, detail: str, *, status: int | None = None, retry_after: float | None = None,
                 unauthorized_after_refresh: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.unauthorized_after_refresh = unauthorized_after_refresh


class ServiceClient:
    """Calls one platform's services with a token for `scopes`.

    A 401 drops the cached token and retries once with a fresh one; a second 401 is final
    (`unauthorized_after_refresh`): the platform, or a web server in front of it, does not
    see our Authorization header.
    """

    def __init__(self, tokens: ServiceTokens, endpoint: TokenEndpoint, scopes: Iterable[str], *,
                 signer: Signer | None = None) -> None:
        self.tokens = tokens
        self.signer = signer
        self.endpoint = endpoint
        self.scopes = normalise_scopes(scopes)
        self._token: AccessToken | None = None

    @property
    def granted(self) -> frozenset[str]:
        """Scopes granted with the current token (fetches one if needed)."""
        return self._access_token().granted

    def _access_token(self) -> AccessToken:
        if self._token is None:
            self._token = self.tokens.get(self.endpoint, self.scopes, signer=self.signer)
        return self._token

    def request(self, method: str, url: str, *, accept: str | None = None, content_type: str | None = None,
                json_body: Any = None, params: dict[str, str] | None = None) -> requests.Response:
        """The platform's answer (any status but 401 twice; a redirect is an answer, not followed).
        Raises `ServiceError` on transport failures, `TokenError` when no token can be had, and
        `AddressRefused`, before anything is sent, when `url` is off the platform's registered
        origins and inside a private network (unless the operator allows such addresses)."""
        try:
            check_outgoing_url(url, origins=self.endpoint.origins, allow_internal=self.tokens.allow_internal)
        except AddressRefused as refused:
            log.warning("platform service URL refused", extra={"platform_id": self.endpoint.platform_id,
                                                               "url": refused.url, "reason": refused.reason})
            raise
        for refreshed in (False, True):
            token = self._access_token()
            headers = {"Authorization": f"Bearer {token.value}"}
            if accept:
                headers["Accept"] = accept
            data = None
            if json_body is not None:
                data = json.dumps(json_body).encode("utf-8")
                headers["Content-Type"] = content_type or "application/json"
            try:
                response = self.tokens.http.request(method, url, params=params, data=data, headers=headers,
                                                    timeout=self.tokens.timeout, allow_redirects=False)
            except requests.Timeout as exc:
                raise ServiceError(f"timeout on {method} {_no_query(url)}") from exc
            except requests.RequestException as exc:
                raise ServiceError(f"{type(exc).__name__} on {method} {_no_query(url)}") from exc
            if response.status_code != 401:
                return response
            self.tokens.invalidate(self.endpoint, self.scopes)
            self._token = None
            if refreshed:
                raise ServiceError(f"HTTP 401 on {method} {_no_query(url)} with a fresh token",
                                   status=401, unauthorized_after_refresh=True)
            log.info("service answered 401: fetching a new token once", extra={"platform_id": self.endpoint.platform_id})
        raise AssertionError("unreachable")

    def error(self, response: requests.Response, what: str) -> ServiceError:
        """A `ServiceError` describing a non-successful answer, safe to store."""
        excerpt = redact(response.text[:300].replace("\n", " ").strip(), [self._token.value if self._token else ""])
        return ServiceError(f"HTTP {response.status_code} on {what}: {excerpt}" if excerpt
                            else f"HTTP {response.status_code} on {what}",
                            status=response.status_code,
                            retry_after=retry_after_seconds(response.headers.get("Retry-After")))


def _no_query(url: str) -> str:
    return url.split("?", 1)[0]


__all__ = ["AddressRefused", "ServiceClient", "ServiceError", "TokenError", "redact"]
