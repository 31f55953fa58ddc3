"""The trainer's overview of an assignment: each learner's status, declared and allowed AI use,
checklist completion and flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..activities.services import latest_draft_times
from ..extensions import db
from ..llm import services as ai_log
from ..lti.models import LtiUser, ResourceLink
from .models import ChecklistTicks, Submission
from .services import level_label, policy_for, required_missing

if TYPE_CHECKING:
    from ..activities.models import Activity

STATUSES = ("not_started", "in_progress", "submitted")
FLAGS = ("level_above_policy", "ai_where_forbidden", "required_missing")


@dataclass
class OverviewRow:
    user_pk: int
    name: str
    status: str
    versions: int = 0
    submitted_at: datetime | None = None
    declared_level: str = ""
    declared_rank: int | None = None
    allowed_level: str = ""
    ticked: int = 0
    total: int = 0
    missing_required: int = 0
    ai_calls: int = 0
    flags: list[str] = field(default_factory=list)


def overview(activity: Activity, link: ResourceLink, extra_learners: dict[int, str] | None = None) -> list[OverviewRow]:
    """One row per learner who worked on the assignment (plus `extra_learners`, e.g. from the
    platform's roster): status, declared vs allowed level, checklist completion, flags. Four queries."""
    policy = policy_for(activity, link)
    latest_drafts = latest_draft_times(activity)
    ticks = {row.user_pk: row.ticks for row in db.session.execute(select(ChecklistTicks).where(
        ChecklistTicks.activity_id == activity.id)).scalars()}
    subs: dict[int, list[Submission]] = {}
    for sub in db.session.execute(select(Submission).where(Submission.activity_id == activity.id)
                                  .order_by(Submission.version)).scalars():
        subs.setdefault(sub.user_pk, []).append(sub)
    user_pks = set(latest_drafts) | set(ticks) | set(subs) | set(extra_learners or {})
    names = dict(db.session.execute(select(LtiUser.id, LtiUser.name).where(
        LtiUser.id.in_(user_pks), LtiUser.platform_id == link.platform_id)).all()) if user_pks else {}
    names.update({pk: name for pk, name in (extra_learners or {}).items() if not names.get(pk)})
    calls = ai_log.call_counts(link.id, sorted(user_pks))
    rows = []
    for user_pk in user_pks:
        user_ticks = ticks.get(user_pk, {})
        missing = required_missing(policy, user_ticks)
        history = subs.get(user_pk, [])
        last = history[-1] if history else None
        status = "submitted" if last else ("in_progress" if user_pk in latest_drafts or user_ticks else "not_started")
        flags = list(last.flags) if last else []
        drafted_since = user_pk in latest_drafts and (last is None or latest_drafts[user_pk] > last.submitted_at)
        if missing and drafted_since:
            flags.append("required_missing")
        if policy.level.rank == 1 and calls.get(user_pk) and "ai_where_forbidden" not in flags:
            flags.append("ai_where_forbidden")
        rows.append(OverviewRow(
            user_pk=user_pk, name=names.get(user_pk) or "—", status=status, versions=len(history),
            submitted_at=last.submitted_at if last else None,
            # Read in the scale it was declared in (a centre may have changed its scale since).
            declared_level=(level_label((last.policy or {}).get("scale"), last.declared_rank, policy.scale)
                            or last.declaration.get("level_label", "")) if last else "",
            declared_rank=last.declared_rank if last else None, allowed_level=str(policy.level.label),
            ticked=len([i for i in policy.checklist if i["id"] in user_ticks]), total=len(policy.checklist),
            missing_required=len(missing), ai_calls=calls.get(user_pk, 0), flags=flags))
    rows.sort(key=lambda r: (r.name.lower(), r.user_pk))
    return rows


def filter_rows(rows: list[OverviewRow], status: str | None, flag: str | None) -> list[OverviewRow]:
    if status in STATUSES:
        rows = [r for r in rows if r.status == status]
    if flag == "any":
        rows = [r for r in rows if r.flags]
    elif flag in FLAGS:
        rows = [r for r in rows if flag in r.flags]
    return rows
