"""Login state, nonces and the state cookie of pylti1p3's OIDC flow: in the shared store, keyed
without a session cookie, and cookies usable inside a platform's cross-site iframe."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from pylti1p3.contrib.flask import FlaskCookieService, FlaskRequest
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.session import SessionService

from ..common.store import KeyValueStore

LOGIN_STATE_TTL = 600  # seconds between the OIDC login and the launch
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
LTI_COOKIE_PATH = "/lti/"


def get_store() -> KeyValueStore:
    return current_app.extensions["lti_store"]


class StoreLaunchDataStorage(LaunchDataStorage):
    """Login state and nonces in the shared store, keyed without a session cookie.

    Nothing here depends on a cookie: the nonce is unguessable and single-use, and the OIDC
    state is checked against its own cookie (or the new-window path when cookies are blocked).
    """

    def __init__(self, store: KeyValueStore) -> None:
        super().__init__()
        self._store = store

    def get_session_cookie_name(self):
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str):
        return self._store.get(self._prepare_key(key))

    def set_value(self, key: str, value, exp: int | None = None) -> None:
        self._store.set(self._prepare_key(key), value, exp)

    def check_value(self, key: str) -> bool:
        return self._store.get(self._prepare_key(key)) is not None

    def pop_value(self, key: str):
        return self._store.pop(self._prepare_key(key))


class ToolSessionService(SessionService):
    """pylti1p3's session service over the shared store, with single-use nonces."""

    _launch_data_lifetime = LOGIN_STATE_TTL

    def __init__(self, request_adapter: FlaskRequest, store: KeyValueStore) -> None:
        super().__init__(request_adapter)
        self.data_storage = StoreLaunchDataStorage(store)
        self.data_storage.set_request(request_adapter)

    def check_nonce(self, nonce: str) -> bool:
        return self.data_storage.pop_value(self._get_key("nonce", nonce)) is not None


def cookies_can_be_secure() -> bool:
    """Browsers accept `Secure` cookies over TLS and on loopback hosts."""
    return request.is_secure or request.host.split(":")[0] in LOOPBACK_HOSTS or request.host.startswith("[::1]")


class ToolCookieService(FlaskCookieService):
    """State cookies usable inside a cross-site iframe.

    `SameSite=None; Secure` lets the cookie come back on the platform's cross-site POST;
    `Partitioned` (CHIPS) keeps it working where third-party cookies are blocked but
    partitioned ones are allowed. Where neither works, the cookie-check page offers a new window.
    """

    def update_response(self, response):
        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(key, data["value"], max_age=data["exp"], **lti_cookie_attributes())

    def expire(self, response, state: str) -> None:
        """Drop the state cookie of a launch that used it: it is single-use, and a trainer who
        opens forty activities in an hour should not carry forty of them on every request."""
        response.delete_cookie(self._get_key(state), **lti_cookie_attributes())


def lti_cookie_attributes() -> dict[str, Any]:
    """Attributes of the cookies of the login and launch (the state, the cookie-check probe).

    Only /lti/ reads them: the tool's pages never carry them. Deleting a cookie takes the same
    attributes (a partitioned cookie is deleted as partitioned).
    """
    secure = cookies_can_be_secure()
    return {"path": LTI_COOKIE_PATH, "httponly": True, "secure": secure,
            "samesite": "None" if secure else "Lax", "partitioned": secure}


class ToolRequest(FlaskRequest):
    """pylti1p3's view of the request, its parameters looked up once (pylti1p3 reads about
    twenty per launch, each through Flask's request proxy)."""

    _params = None

    def get_param(self, key):
        if self._params is None:
            self._params = self._request_data or (request.args if request.method == "GET" else request.form)
        return self._params.get(key)


def adapters() -> tuple[FlaskRequest, ToolSessionService, ToolCookieService]:
    adapter = ToolRequest()
    return adapter, ToolSessionService(adapter, get_store()), ToolCookieService(adapter)
