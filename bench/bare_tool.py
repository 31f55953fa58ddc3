"""The floor for bench/launch.py: a bare pylti1p3 Flask tool that only validates launches.

pylti1p3's contrib.flask classes used straightforwardly: one platform in a ToolConfDict, login
state, nonces and the platform's JWKS in an in-process cache (`set_public_key_caching`), and a
small 200 page once the launch validates. No database, no templates, no session.

Configured from the environment by bench/launch.py:
    BARE_ISSUER, BARE_CLIENT_ID, BARE_DEPLOYMENT_ID, BARE_AUTH_URL, BARE_TOKEN_URL, BARE_JWKS_URL,
    BARE_BASE_URL (this tool's own base URL, for the redirect_uri),
    BARE_REDIS_URL (optional: with several gunicorn workers, state and nonces must be shared,
    pylti1p3 #126; then the cache is Redis, as Flask-Caching's RedisCache would be).
Run: gunicorn --pythonpath bench bare_tool:app
"""

from __future__ import annotations

import html
import os
import pickle
import threading
import time

from flask import Flask
from pylti1p3.contrib.flask import FlaskCacheDataStorage, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfDict


class MemoryCache:
    """The two calls pylti1p3's CacheDataStorage makes (`get`, `set(key, value, timeout)`), in a
    thread-safe dict with expiry: Flask-Caching's SimpleCache, without the dependency."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float | None, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires is not None and expires <= time.monotonic():
                del self._data[key]
                return None
            return value

    def set(self, key: str, value, timeout: int | None = None) -> bool:
        with self._lock:
            self._data[key] = (time.monotonic() + timeout if timeout else None, value)
        return True


class RedisCache:
    """The same two calls over Redis, values pickled as cachelib's RedisCache does."""

    def __init__(self, url: str, prefix: str = "bare-tool:") -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._prefix = prefix

    def get(self, key: str):
        raw = self._client.get(self._prefix + key)
        return None if raw is None else pickle.loads(raw)

    def set(self, key: str, value, timeout: int | None = None) -> bool:
        self._client.set(self._prefix + key, pickle.dumps(value), ex=timeout or None)
        return True


def create_app() -> Flask:
    env = os.environ
    issuer = env["BARE_ISSUER"]
    base_url = env["BARE_BASE_URL"].rstrip("/")
    tool_conf = ToolConfDict({
        issuer: [{
            "default": True,
            "client_id": env["BARE_CLIENT_ID"],
            "auth_login_url": env["BARE_AUTH_URL"],
            "auth_token_url": env["BARE_TOKEN_URL"],
            "key_set_url": env["BARE_JWKS_URL"],
            "key_set": None,
            "deployment_ids": [env["BARE_DEPLOYMENT_ID"]],
        }],
    })
    cache = RedisCache(env["BARE_REDIS_URL"]) if env.get("BARE_REDIS_URL") else MemoryCache()

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bare-tool-bench-only"

    def storage() -> FlaskCacheDataStorage:
        return FlaskCacheDataStorage(cache)

    @app.post("/lti/login")
    def login():
        oidc = FlaskOIDCLogin(FlaskRequest(), tool_conf, launch_data_storage=storage())
        return oidc.redirect(base_url + "/lti/launch")

    @app.post("/lti/launch")
    def launch():
        message_launch = FlaskMessageLaunch(FlaskRequest(), tool_conf, launch_data_storage=storage())
        message_launch.set_public_key_caching(storage(), cache_lifetime=7200)
        data = message_launch.get_launch_data()  # validates: state, format, nonce, keys, deployment, message
        return f"<!doctype html><title>Launched</title><p>Hello {html.escape(str(data.get('sub')))}</p>"

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


app = create_app()
