"""The centre's AI usage, counted from the AI log, and its quotas: per learner and day, per centre
and month, in calls and tokens.

The operator sets defaults (`LLM_QUOTA_*`, 0: no limit); a centre may set its own on its admin
page. Answered calls count (ok or stopped); tokens count whatever the outcome; connection tests
count for nothing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import case, func, select

from ..common.i18n import lazy_gettext as _l
from ..common.errors import ToolError
from ..extensions import db
from ..common.time import utcnow
from ..lti.services import course_titles
from .models import AiCall, LlmConfig

OK_OUTCOMES = ("ok", "stopped")


class QuotaReached(ToolError):
    status = 429
    code = "quota_reached"


@dataclass(frozen=True)
class Quotas:
    """0 means no limit."""

    learner_daily_calls: int
    learner_daily_tokens: int
    centre_monthly_calls: int
    centre_monthly_tokens: int


def quotas_for(row: LlmConfig | None) -> Quotas:
    """The centre's quotas, each falling back to the operator's default."""
    config = current_app.config
    values = {}
    for name in ("learner_daily_calls", "learner_daily_tokens", "centre_monthly_calls", "centre_monthly_tokens"):
        own = getattr(row, "quota_" + name) if row is not None else None
        values[name] = own if own is not None else int(config.get("LLM_QUOTA_" + name.upper()) or 0)
    return Quotas(**values)


def usage_since(platform_id: int, since: datetime, user_pk: int | None = None) -> tuple[int, int]:
    """(calls answered, tokens in + out) since `since`, of the centre or of one of its users:
    answered calls count (ok or stopped), tokens count whatever the outcome. Connection tests are
    left out."""
    answered = func.coalesce(func.sum(case((AiCall.outcome.in_(OK_OUTCOMES), 1), else_=0)), 0)
    tokens = func.coalesce(func.sum(AiCall.tokens_in + AiCall.tokens_out), 0)
    query = select(answered, tokens).where(AiCall.created_at >= since, AiCall.purpose != "test")
    if user_pk is not None:
        query = query.where(AiCall.user_pk == user_pk)  # ix_ai_call_user_created; a user has one platform
    else:
        query = query.where(AiCall.platform_id == platform_id)
    calls, used = db.session.execute(query).one()
    return int(calls), int(used)


@dataclass
class _CentreUsage:
    month: datetime
    calls: int
    tokens: int
    fetched: float


_usage_lock = threading.Lock()


def centre_month_usage(platform_id: int, now: datetime) -> tuple[int, int]:
    """The centre's usage this month for its quota. Summing a busy centre's month on every call
    would cost more than the call itself: the sum is kept per process for LLM_QUOTA_CACHE_SECONDS
    (default 30) and this process's own calls are added as they are logged, so a centre can pass
    its monthly limit by what the other processes did within that time."""
    cache: dict[int, _CentreUsage] = current_app.extensions.setdefault("llm_centre_usage", {})
    month = month_start(now)
    ttl = float(current_app.config.get("LLM_QUOTA_CACHE_SECONDS", 30))
    entry = cache.get(platform_id)
    if entry is None or entry.month != month or time.monotonic() - entry.fetched > ttl:
        calls, tokens = usage_since(platform_id, month)
        entry = _CentreUsage(month, calls, tokens, time.monotonic())
        with _usage_lock:
            cache[platform_id] = entry
    return entry.calls, entry.tokens


def count_in_centre_usage(platform_id: int, outcome: str, tokens: int) -> None:
    entry = current_app.extensions.get("llm_centre_usage", {}).get(platform_id)
    if entry is not None:
        with _usage_lock:
            entry.calls += outcome in OK_OUTCOMES
            entry.tokens += tokens


def check_quotas(platform_id: int, user_pk: int, role: str, quotas: Quotas) -> None:
    """Refuse with `quota_reached` (HTTP 429) once a limit is reached. The learner's daily limits
    apply to learners; the centre's monthly limits to everyone. Counted before the call: calls
    running at the same moment may pass a limit by one call each."""
    now = utcnow()
    if role == "learner" and (quotas.learner_daily_calls or quotas.learner_daily_tokens):
        calls, tokens = usage_since(platform_id, now.replace(hour=0, minute=0, second=0, microsecond=0), user_pk)
        if quotas.learner_daily_calls and calls >= quotas.learner_daily_calls:
            raise QuotaReached(ngettext(
                "You have reached today's limit of %(num)s call to the AI assistant. Your work is kept: the "
                "assistant is available again tomorrow.",
                "You have reached today's limit of %(num)s calls to the AI assistant. Your work is kept: the "
                "assistant is available again tomorrow.", quotas.learner_daily_calls))
        if quotas.learner_daily_tokens and tokens >= quotas.learner_daily_tokens:
            raise QuotaReached(_l("You have used today's allowance of the AI assistant. Your work is kept: the "
                                  "assistant is available again tomorrow."))
    if quotas.centre_monthly_calls or quotas.centre_monthly_tokens:
        calls, tokens = centre_month_usage(platform_id, now)
        if (quotas.centre_monthly_calls and calls >= quotas.centre_monthly_calls) or (
                quotas.centre_monthly_tokens and tokens >= quotas.centre_monthly_tokens):
            raise QuotaReached(_l("Your centre has used this month's allowance of the AI assistant. Your work is "
                                  "kept; please tell your centre's administrator."))


# --- the centre's usage, by course and model --------------------------------------------------


def month_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class UsageRow:
    context_pk: int | None
    course: str
    provider: str
    model: str
    calls: int
    tokens_in: int
    tokens_out: int
    errors: int


def usage_by_course_and_model(platform_id: int, since: datetime, context_pk: int | None = None) -> list[UsageRow]:
    """Calls of the centre since `since`, by course and model (one course with `context_pk`),
    ordered by course name, then model."""
    errors = func.sum(case((AiCall.outcome.in_(OK_OUTCOMES), 0), else_=1))
    query = (select(AiCall.context_pk, AiCall.provider, AiCall.model, func.count(),
                    func.coalesce(func.sum(AiCall.tokens_in), 0), func.coalesce(func.sum(AiCall.tokens_out), 0), errors)
             .where(AiCall.platform_id == platform_id, AiCall.created_at >= since)
             .group_by(AiCall.context_pk, AiCall.provider, AiCall.model))
    if context_pk is not None:
        query = query.where(AiCall.context_pk == context_pk)
    found = db.session.execute(query).all()
    titles = course_titles(platform_id, {row[0] for row in found if row[0] is not None})
    rows = [UsageRow(row[0], titles.get(row[0], ""), row[1], row[2], int(row[3]), int(row[4]), int(row[5]),
                     int(row[6] or 0)) for row in found]
    return sorted(rows, key=lambda row: (row.course, row.model))
