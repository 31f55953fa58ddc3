"""Short-lived key/value state shared by all workers: OIDC nonces, login state, key sets.

In-process for the embedded default; Redis when REDIS_URL is set (several gunicorn workers
must see the same nonces and states, pylti1p3 #126).
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import cachetools
import redis


class KeyValueStore(Protocol):
    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl: int | None) -> None: ...

    def pop(self, key: str) -> Any | None:
        """Read and delete atomically: two callers never both get the value."""
        ...

    def ping(self) -> bool: ...


class MemoryStore:
    """For one process: a cachetools TLRUCache, each value expiring after its own ttl (none: never),
    behind a lock (cachetools is not thread-safe). When full, expired values go first, then the
    least recently used."""

    def __init__(self, max_items: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._cache: cachetools.TLRUCache[str, tuple[Any, int | None]] = cachetools.TLRUCache(
            max_items, _expiry, timer=clock)
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            try:
                return self._cache[key][0]
            except KeyError:  # absent or expired
                return None

    def set(self, key: str, value: Any, ttl: int | None) -> None:
        with self._lock:
            self._cache[key] = (value, ttl)

    def pop(self, key: str) -> Any | None:
        with self._lock:
            try:
                value = self._cache[key][0]
            except KeyError:
                return None
            with contextlib.suppress(KeyError):  # it expired between the two lines: gone all the same
                del self._cache[key]
            return value

    def ping(self) -> bool:
        return True

    def keys(self) -> list[str]:
        """The keys of the values not expired (for tests: what a launch left behind)."""
        with self._lock:
            return list(self._cache)


def _expiry(key: str, entry: tuple[Any, int | None], now: float) -> float:
    ttl = entry[1]
    return now + ttl if ttl else math.inf


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
