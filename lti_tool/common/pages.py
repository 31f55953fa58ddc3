"""Whole pages rendered once for the rows they are made of, then served again to the same reader.

A returning learner's launch lands on the same page as their last launch as long as nothing it
shows has changed. Its key is a digest of every row and value the page is made of (see
activities.services.page_key), so a change to any of them is a new key, never a stale page.
"""

from __future__ import annotations

import secrets
import threading

from cachetools import TTLCache
from flask import current_app


class PageCache:
    """Rendered pages (UTF-8) by key, in LRU order, `max_bytes` of them at most, each kept at most
    `ttl` seconds (what a page holds of a learner does not outlive that in memory).

    A page is rendered with `placeholder` where its launch token goes (its URLs) and served with
    the launch's own token put in: the placeholder is random per process and URL-safe, so that
    url_for and tojson write it as they would the token, and no content can contain it.
    """

    def __init__(self, max_bytes: int, ttl: int) -> None:
        self._pages: TTLCache[str, bytes] = TTLCache(maxsize=max_bytes, ttl=ttl, getsizeof=len)
        self._lock = threading.Lock()  # gthread workers share it
        self.placeholder = "page-token-" + secrets.token_hex(16)
        self._placeholder = self.placeholder.encode()

    def get(self, key: str, token: str) -> bytes | None:
        """The page kept for `key` with `token` put in, or None."""
        with self._lock:
            page = self._pages.get(key)
        return None if page is None else page.replace(self._placeholder, token.encode())

    def put(self, key: str, page: str, token: str) -> bytes:
        """Keep `page` (rendered with the placeholder) for `key`; returns it with `token` put in.
        A page larger than the whole cache is not kept."""
        data = page.encode()
        if len(data) <= self._pages.maxsize:
            with self._lock:
                self._pages[key] = data
        return data.replace(self._placeholder, token.encode())

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


def install_page_cache(app) -> None:
    """The app's page cache, unless PAGE_CACHE_MB is 0 or FRAGMENT_CACHE is off (templates edited
    under a running server)."""
    if app.config["PAGE_CACHE_MB"] > 0 and app.config["FRAGMENT_CACHE"]:
        app.extensions["lti_tool_pages"] = PageCache(app.config["PAGE_CACHE_MB"] * 1024 * 1024,
                                                     app.config["PAGE_CACHE_TTL"])


def page_cache() -> PageCache | None:
    return current_app.extensions.get("lti_tool_pages")
