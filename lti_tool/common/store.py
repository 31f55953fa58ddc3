"""Short-lived key/value state shared by all workers: OIDC nonces, login state, key sets.

In-process for the embedded default; Redis when REDIS_URL is set (several gunicorn workers
must see the same nonces and states, pylti1p3 #126).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol

import redis


class KeyValueStore(Protocol):
    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl: int | None) -> None: ...

    def pop(self, key: str) -> Any | None:
        """Read and delete atomically: two callers never both get the value."""
        ...

    def ping(self) -> bool: ...


class MemoryStore:
    """Thread-safe dictionary with expiry, for one process."""

    def __init__(self, max_items: int = 100_000) -> None:
        self._data: dict[str, tuple[float | None, Any]] = {}
        self._lock = threading.Lock()
        self._max_items = max_items

    def _purge(self, now: float) -> None:
        expired = [k for k, (exp, _) in self._data.items() if exp is not None and exp <= now]
        for key in expired:
            del self._data[key]

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            exp, value = item
            if exp is not None and exp <= time.monotonic():
                del self._data[key]
                return None
            return value

    def set(self, key: str, value: Any, ttl: int | None) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._data) >= self._max_items:
                self._purge(now)
            self._data[key] = (now + ttl if ttl else None, value)

    def pop(self, key: str) -> Any | None:
        with self._lock:
            item = self._data.pop(key, None)
        if item is None:
            return None
        exp, value = item
        if exp is not None and exp <= time.monotonic():
            return None
        return value

    def ping(self) -> bool:
        return True


class RedisStore:
    """Values stored as JSON under a prefix; `pop` is Redis GETDEL (atomic)."""

    def __init__(self, url: str, prefix: str = "mentorat-ia:") -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    def get(self, key: str) -> Any | None:
        raw = self._client.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: int | None) -> None:
        self._client.set(self._prefix + key, json.dumps(value), ex=ttl or None)

    def pop(self, key: str) -> Any | None:
        raw = self._client.getdel(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def ping(self) -> bool:
        return bool(self._client.ping())


def make_store(redis_url: str | None) -> KeyValueStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()
