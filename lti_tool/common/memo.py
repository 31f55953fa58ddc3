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
