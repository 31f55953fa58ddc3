"""Values read several times while one request builds its page, read once."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context


def request_memo(namespace: str) -> dict[Any, Any]:
    """A dict that lives as long as the current request; outside a request (CLI, worker), a new
    empty one each call, so nothing is remembered there."""
    if not has_request_context():
        return {}
    return g.setdefault("memo:" + namespace, {})


MISSING = object()  # prefetched(): this row was not prefetched in this request


def prefetched(kind: str, key: Any) -> Any:
    """The row a page's prefetch (activities.services.prefetch_page_rows) read for (kind, key)
    in this request: the row, None (there is none), or MISSING (not prefetched: read it).

    Only pages prefetch, and a page writes none of these rows; a request that changes them
    never prefetches, so its readers always go to the database.
    """
    return request_memo("prefetched").get((kind, key), MISSING)


def remember_prefetched(kind: str, key: Any, row: Any) -> None:
    request_memo("prefetched")[(kind, key)] = row
