"""Registered platforms as read on every login and launch, cached briefly per process.

A launch needs the platform and its deployments; reading them from the database on each login
and launch is three round trips. Records are immutable snapshots, refreshed after
PLATFORM_CACHE_TTL seconds and dropped at once when this process saves a platform.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from .models import Platform

PLATFORM_CACHE_TTL = 30.0
_lock = threading.Lock()


@dataclass(frozen=True)
class PlatformRecord:
    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    key_set_url: str | None
    key_set: dict[str, Any] | None
    deployment_ids: frozenset[str]
    timezone: str | None = None


def _cache() -> dict[str, tuple[float, tuple[PlatformRecord, ...]]]:
    return current_app.extensions.setdefault("lti_tool_platform_cache", {})


def platforms_of(issuer: str) -> tuple[PlatformRecord, ...]:
    """The active platforms registered under `issuer` (usually one)."""
    now = time.monotonic()
    cached = _cache().get(issuer)
    if cached and cached[0] > now:
        return cached[1]
    rows = db.session.execute(
        select(Platform).where(Platform.issuer == issuer, Platform.active.is_(True))
        .options(selectinload(Platform.deployments))
    ).scalars()
    records = tuple(
        PlatformRecord(
            id=p.id, issuer=p.issuer, client_id=p.client_id, auth_login_url=p.auth_login_url,
            auth_token_url=p.auth_token_url, auth_audience=p.auth_audience, key_set_url=p.key_set_url,
            key_set=p.key_set, deployment_ids=frozenset(d.deployment_id for d in p.deployments), timezone=p.timezone,
        )
        for p in rows
    )
    with _lock:
        _cache()[issuer] = (now + PLATFORM_CACHE_TTL, records)
    return records


def find_platform(issuer: str, client_id: str | None) -> PlatformRecord | None:
    """The platform for `issuer` and `client_id`; without a client id, the only one of `issuer`."""
    records = platforms_of(issuer)
    if client_id is None:
        return records[0] if len(records) == 1 else None
    return next((r for r in records if r.client_id == client_id), None)


def forget_platforms() -> None:
    """Drop the cache (after a platform is saved in this process)."""
    with _lock:
        _cache().clear()
