"""Delivering outbox rows: claim due scores, send them outside any transaction, record the outcome.

Claiming is its own short transaction: due rows are locked with `FOR UPDATE SKIP LOCKED` on
PostgreSQL (a conditional UPDATE is the claim on SQLite) and leased (`sending`, `lease_until`,
a fresh `lease_token`). A worker killed mid-send leaves a lease that expires: the row is due
again. Outcomes are written only by the lease holder (the token fences a worker that lost it).

One idea from claim to outcome, longer than most files: the lease, the line item's resolution
and each platform answer's outcome are read together when a grade goes missing.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from ..extensions import db
from ..lti.models import Platform, ResourceLink
from .ags import AgsEndpoint, LineItemTarget, NoLineItem, ResolvedLineItem, post_score, resolve_line_item, score_body
from .client import AddressRefused, ServiceClient, ServiceError, redact
from .models import FAILED, PENDING, SENDING, SENT, SUPERSEDED, WAITING_STATUSES, LinkLineItem, ScoreOutbox
from .services import newer_sent_exists
from .token import ServiceTokens, Signer, TokenEndpoint, TokenError, published_signing_material

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_LEASE_SECONDS = 60
DEFAULT_BACKOFF_BASE = 30.0  # seconds: 30, 60, 120, 240, 480 (± jitter) between the 6 attempts
BACKOFF_CAP = 3600.0
CONFLICT_RETRY_DELAY = 2.0  # a 409 is retried once, with a timestamp taken two seconds later
DEFAULT_LINE_ITEM_MAXIMUM = 100.0
CALLS_PER_ROW = 5


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Claimed:
    """A leased row and everything needed to send it, read in the claim transaction."""

    row_id: int
    lease_token: str
    attempts: int
    conflicts: int
    link_pk: int
    user_id: str
    payload: dict[str, Any]
    token_endpoint: TokenEndpoint
    ags: AgsEndpoint | None  # None: the launches carried no AGS claim
    target: LineItemTarget
    cached_url: str | None
    gone_url: str | None
    last_timestamp: datetime | None  # latest timestamp sent (or tried) for this link and user


@dataclass
class Outcome:
    status: str  # sent | retry | failed | not_gradable | conflict
    error_code: str | None = None
    error: str | None = None
    timestamp: datetime | None = None
    lineitem_url: str | None = None
    delay: float | None = None  # retry: seconds before the next attempt (None: backoff)


@dataclass
class DrainReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    not_gradable: int = 0
    superseded: int = 0
    lease_lost: int = 0
    released: int = 0  # claimed but handed back unsent: too little lease left to send them

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


@dataclass
class Sender:
    """How scores are sent: HTTP session, token cache, clock, randomness and retry policy.

    Tests and the benchmark build their own; `Sender.for_app()` reads the app's settings.
    """

    tokens: ServiceTokens
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    timer: Callable[[], float] = time.monotonic  # real elapsed time, for the lease budget

    @classmethod
    def for_app(cls, **kwargs) -> Sender:
        config = current_app.config
        kwargs.setdefault("max_attempts", config.get("OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
        kwargs.setdefault("lease_seconds", config.get("OUTBOX_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
        kwargs.setdefault("backoff_base", config.get("OUTBOX_BACKOFF_BASE", DEFAULT_BACKOFF_BASE))
        tokens = kwargs.pop("tokens", None) or ServiceTokens.for_app(http=kwargs.pop("http", None))
        return cls(tokens=tokens, **kwargs)

    def send_budget(self) -> float:
        """Seconds of a lease during which a row may still be started: one row can chain up to
        five calls (token, container search, creation, score twice), each up to the HTTP
        timeout; a row started later could outlive its lease and be sent twice."""
        return max(0.0, self.lease_seconds - CALLS_PER_ROW * self.tokens.timeout)

    def backoff(self, attempts: int) -> float:
        """Exponential with jitter: half the step fixed, half random (no thundering herd)."""
        step = min(BACKOFF_CAP, self.backoff_base * 2 ** max(0, attempts - 1))
        return step / 2 + self.rng.uniform(0, step / 2)


# --- claim -----------------------------------------------------------------------------------


def _due(now: datetime):
    return or_(and_(ScoreOutbox.status == PENDING, ScoreOutbox.next_attempt_at <= now),
               and_(ScoreOutbox.status == SENDING, ScoreOutbox.lease_until <= now))


def claim(batch: int, now: datetime, lease_seconds: int) -> list[Claimed]:
    """Lease up to `batch` due rows, at most one per (link, user) and never one whose older
    sibling is still waiting; commits. The rows and what sending needs come back as values."""
    now = _naive(now)
    older = aliased(ScoreOutbox)
    blocked = exists().where(older.resource_link_pk == ScoreOutbox.resource_link_pk,
                             older.user_pk == ScoreOutbox.user_pk, older.id < ScoreOutbox.id,
                             older.status.in_(WAITING_STATUSES))
    query = (select(ScoreOutbox.id).where(_due(now), ~blocked)
             .order_by(ScoreOutbox.next_attempt_at, ScoreOutbox.id).limit(batch))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=ScoreOutbox)
    try:
        ids = list(db.session.execute(query).scalars())
        if not ids:
            db.session.commit()
            return []
        token = uuid.uuid4().hex
        # Conditional: on SQLite another process may have claimed a row since the SELECT.
        claimed_ids = list(db.session.execute(
            update(ScoreOutbox).where(ScoreOutbox.id.in_(ids), _due(now))
            .values(status=SENDING, lease_until=now + timedelta(seconds=lease_seconds), lease_token=token,
                    attempts=ScoreOutbox.attempts + 1)
            .returning(ScoreOutbox.id)
            .execution_options(synchronize_session=False)
        ).scalars())
        rows = _load(claimed_ids) if claimed_ids else []
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return rows


def _load(ids: list[int]) -> list[Claimed]:
    other = aliased(ScoreOutbox)
    last_timestamp = (select(func.max(other.score_timestamp))
                      .where(other.resource_link_pk == ScoreOutbox.resource_link_pk,
                             other.user_pk == ScoreOutbox.user_pk)
                      .scalar_subquery())
    result = db.session.execute(
        select(ScoreOutbox, ResourceLink, Platform, LinkLineItem, last_timestamp)
        .join(ResourceLink, and_(ResourceLink.id == ScoreOutbox.resource_link_pk,
                                 ResourceLink.platform_id == ScoreOutbox.platform_id))
        .join(Platform, Platform.id == ScoreOutbox.platform_id)
        .outerjoin(LinkLineItem, LinkLineItem.resource_link_pk == ScoreOutbox.resource_link_pk)
        .where(ScoreOutbox.id.in_(ids))
        .order_by(ScoreOutbox.next_attempt_at, ScoreOutbox.id)
        # The claim's UPDATE bypassed the identity map: read the leased rows as they now are.
        .execution_options(populate_existing=True)
    ).all()
    claimed = []
    for row, link, platform, line_item, last in result:
        ags = None
        if line_item is not None and line_item.has_service:
            ags = AgsEndpoint(lineitems_url=line_item.lineitems_url, scopes=frozenset(line_item.scopes or ()),
                              lineitem_url=link.lineitem_url)
        maximum = row.payload.get("scoreMaximum") or DEFAULT_LINE_ITEM_MAXIMUM
        claimed.append(Claimed(
            row_id=row.id, lease_token=row.lease_token, attempts=row.attempts, conflicts=row.conflicts,
            link_pk=link.id, user_id=row.platform_user_id, payload=dict(row.payload),
            token_endpoint=TokenEndpoint.of(platform), ags=ags,
            target=LineItemTarget(resource_link_id=link.resource_link_id,
                                  resource_id=(link.custom or {}).get("catalogue_item") or None,
                                  label=link.title, score_maximum=float(maximum)),
            cached_url=line_item.url if line_item is not None else None,
            gone_url=line_item.gone_url if line_item is not None else None,
            last_timestamp=last,
        ))
    return claimed


# --- send ------------------------------------------------------------------------------------


def score_timestamp(now: datetime, last: datetime | None) -> datetime:
    """`now`, or one second after `last` if that is later: in whole seconds, every score is
    strictly later than the previous one for the same user and line item (Moodle: else 409)."""
    now = _aware(now)
    if last is None:
        return now
    floor = int(_aware(last).timestamp()) + 1
    return now if int(now.timestamp()) >= floor else datetime.fromtimestamp(floor, timezone.utc)


def _resolve_locked(item: Claimed, client: ServiceClient, avoid: str | None) -> ResolvedLineItem:
    """Find or create the link's line item while holding its row lock (PostgreSQL), so that two
    workers never both create one; remembers the result (and `avoid` as gone). Rare: once per link."""
    try:
        record = db.session.execute(
            select(LinkLineItem).where(LinkLineItem.resource_link_pk == item.link_pk).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if record is not None and record.url and record.url not in (avoid, record.gone_url):
            resolved = ResolvedLineItem(record.url, record.source or "found")
        else:
            resolved = resolve_line_item(client, item.ags, item.target, avoid=avoid or item.gone_url)
            if record is not None:
                record.url, record.source = resolved.url, resolved.source
                if avoid:
                    record.gone_url = avoid
        db.session.commit()
        return resolved
    except BaseException:
        db.session.rollback()
        raise


def _remember(item: Claimed, resolved: ResolvedLineItem) -> None:
    """Keep a line item taken from the claim (no lock needed: the platform named it)."""
    try:
        db.session.execute(
            update(LinkLineItem).where(LinkLineItem.resource_link_pk == item.link_pk)
            .values(url=resolved.url, source=resolved.source).execution_options(synchronize_session=False)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _first_url(item: Claimed, memo: dict[int, str]) -> str | None:
    """The line item to try first: the one used earlier in this drain, else the claim's when it
    names one (the platform's latest word), else the one resolved before; never a gone one."""
    if item.link_pk in memo:
        return memo[item.link_pk]
    gone = item.gone_url
    claim_url = item.ags.lineitem_url if item.ags else None
    if claim_url and claim_url != gone:
        return claim_url
    return item.cached_url if item.cached_url and item.cached_url != gone else None


def send(item: Claimed, sender: Sender, memo: dict[int, str], signer: Signer | None = None) -> Outcome:
    """Send one claimed score (no transaction open while talking to the platform). `memo` holds
    the line item of each link as used in this drain."""
    if item.ags is None:
        return Outcome("failed", "no_ags_service", "the launches of this link carry no AGS endpoint claim")
    client = ServiceClient(sender.tokens, item.token_endpoint, item.ags.token_scopes(), signer=signer)
    timestamp = score_timestamp(sender.clock(), item.last_timestamp)
    url: str | None = None
    try:
        url = _first_url(item, memo)
        if url is None:
            url = _resolve_locked(item, client, None).url
        elif item.link_pk not in memo and url != item.cached_url:
            _remember(item, ResolvedLineItem(url, "claim"))
        memo[item.link_pk] = url
        body = score_body(item.user_id, item.payload, timestamp)
        try:
            post_score(client, url, body)
        except ServiceError as exc:
            if exc.status != 404:
                raise
            # The line item is gone (deleted in the gradebook): forget it, find or create it once more.
            log.info("line item gone: resolving again", extra={"row_id": item.row_id})
            memo.pop(item.link_pk, None)
            gone, url = url, None
            try:
                url = _resolve_locked(item, client, gone).url
            except NoLineItem as missing:
                return Outcome("failed", "line_item_gone", f"line item answered 404; {missing.reason}",
                               timestamp=timestamp)
            memo[item.link_pk] = url
            try:
                post_score(client, url, body)
            except ServiceError as again:
                if again.status == 404:
                    return Outcome("failed", "line_item_gone", again.detail, timestamp=timestamp, lineitem_url=url)
                raise
        return Outcome("sent", timestamp=timestamp, lineitem_url=url)
    except NoLineItem as exc:
        return Outcome("failed", "no_line_item", f"no line item for the link and {exc.reason}")
    except AddressRefused as exc:  # the same URL would be refused again: the trainer must be told
        return Outcome("failed", "address_refused", str(exc))
    except TokenError as exc:
        if not exc.retryable:
            return Outcome("failed", exc.code, exc.detail)
        return Outcome("retry", exc.code if exc.code != "token_unreachable" else "unreachable", exc.detail,
                       delay=exc.retry_after)
    except ServiceError as exc:
        return _service_outcome(exc, timestamp, url)
    except Exception as exc:  # a bug must not stop the worker nor lose the score
        log.exception("unexpected error sending score", extra={"row_id": item.row_id})
        return Outcome("retry", "internal_error", redact(f"{type(exc).__name__}: {exc}")[:500], timestamp=timestamp)


def _service_outcome(exc: ServiceError, timestamp: datetime, url: str | None) -> Outcome:
    detail = exc.detail[:1000]
    status = exc.status
    if exc.unauthorized_after_refresh:
        return Outcome("failed", "unauthorized", detail + " — if Moodle runs behind Apache, the Authorization "
                       "header may be stripped (CGIPassAuth On)", timestamp=timestamp, lineitem_url=url)
    if status is None:
        return Outcome("retry", "unreachable", detail, timestamp=timestamp, lineitem_url=url)
    if status in (400, 422):  # Moodle: not a gradable user (400); Canvas: not a student, no attempt left (422)
        return Outcome("not_gradable", "not_gradable", detail, timestamp=timestamp, lineitem_url=url)
    if status == 409:
        return Outcome("conflict", "conflict", detail, timestamp=timestamp, lineitem_url=url)
    if status == 403:
        return Outcome("failed", "forbidden", detail, timestamp=timestamp, lineitem_url=url)
    if status in (408, 429):
        return Outcome("retry", "unreachable", detail, timestamp=timestamp, lineitem_url=url, delay=exc.retry_after)
    if status < 500:  # any other client error: the same request would be refused again
        return Outcome("failed", "http_error", detail, timestamp=timestamp, lineitem_url=url)
    return Outcome("retry", "unreachable", detail, timestamp=timestamp, lineitem_url=url, delay=exc.retry_after)


# --- record ----------------------------------------------------------------------------------


def record(item: Claimed, outcome: Outcome, sender: Sender) -> str:
    """Write the outcome if we still hold the lease; commits. Returns the row's new status
    (or "lease_lost")."""
    now = _naive(sender.clock())
    values: dict[str, Any] = {"lease_until": None, "lease_token": None}
    if outcome.timestamp is not None:
        values["score_timestamp"] = _naive(outcome.timestamp)
    if outcome.lineitem_url:
        values["lineitem_url"] = outcome.lineitem_url
    status = outcome.status
    try:
        if status == "conflict":
            row = db.session.get(ScoreOutbox, item.row_id)
            values["conflicts"] = item.conflicts + 1
            if row is not None and newer_sent_exists(db.session, row):
                status = SUPERSEDED
            elif item.conflicts == 0:
                status, outcome.delay = "retry", CONFLICT_RETRY_DELAY
            else:
                status = FAILED
        if status == "retry" and item.attempts >= sender.max_attempts:
            status = FAILED
        if status == SENT:
            values.update(status=SENT, sent_at=now, error_code=None, last_error=None)
        elif status == "retry":
            delay = outcome.delay if outcome.delay is not None else sender.backoff(item.attempts)
            delay = min(max(delay, 0.0), BACKOFF_CAP) + (sender.rng.uniform(0, 1) if outcome.delay else 0)
            values.update(status=PENDING, next_attempt_at=now + timedelta(seconds=delay))
        else:
            values["status"] = status
        if status != SENT:
            values.update(error_code=outcome.error_code, last_error=redact(outcome.error or "")[:1000] or None)
        result = db.session.execute(
            update(ScoreOutbox)
            .where(ScoreOutbox.id == item.row_id, ScoreOutbox.status == SENDING,
                   ScoreOutbox.lease_token == item.lease_token)
            .values(**values).execution_options(synchronize_session=False)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if result.rowcount != 1:
        log.warning("outbox lease lost before the outcome was written", extra={"row_id": item.row_id})
        return "lease_lost"
    level = logging.INFO if status in (SENT, "retry") else logging.WARNING
    log.log(level, "score %s", status, extra={"row_id": item.row_id, "attempts": item.attempts,
                                               "error_code": values.get("error_code")})
    return "retried" if status == "retry" else status


def drain(batch: int = 50, now: datetime | None = None, *, sender: Sender | None = None) -> DrainReport:
    """Claim up to `batch` due scores and send each; returns what happened. `now` fixes the
    clock (tests); by default the sender's clock is read at each step."""
    sender = sender or Sender.for_app()
    if now is not None:
        fixed = _aware(now)
        sender = replace(sender, clock=lambda: fixed)
    report = DrainReport()
    started = sender.timer()
    items = claim(batch, sender.clock(), sender.lease_seconds)
    report.claimed = len(items)
    if not items:
        return report
    # Read (or create) the signing key now, then close the transaction: none stays open while
    # the platform is called.
    material = published_signing_material()
    db.session.commit()
    memo: dict[int, str] = {}
    for index, item in enumerate(items):
        if index and sender.timer() - started > sender.send_budget():
            report.released = release(items[index:])  # a slow platform: the rest goes back to the queue
            break
        outcome = send(item, sender, memo, lambda: material)
        status = record(item, outcome, sender)
        report.add(status)
    return report


def release(items: list[Claimed]) -> int:
    """Hand leased rows back unsent (due at once, the attempt not counted); commits."""
    released = 0
    try:
        for item in items:
            result = db.session.execute(
                update(ScoreOutbox)
                .where(ScoreOutbox.id == item.row_id, ScoreOutbox.status == SENDING,
                       ScoreOutbox.lease_token == item.lease_token)
                .values(status=PENDING, lease_until=None, lease_token=None, attempts=ScoreOutbox.attempts - 1)
                .execution_options(synchronize_session=False))
            released += result.rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return released
