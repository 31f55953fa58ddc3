"""The trainer's overview of an assignment: each learner's status, declared and allowed AI use,
checklist completion and flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, func, select

from ..activities.services import latest_draft_times
from ..extensions import db
from ..llm import services as ai_log
from ..lti.models import LtiUser, ResourceLink
from ..lti.services import openers_by_link
from .models import ChecklistTicks, Submission
from .services import EffectivePolicy, level_label, policies_for, required_missing

if TYPE_CHECKING:
    from ..activities.models import Activity

# not_opened: never launched this activity (the platform's roster lists them); not_started:
# opened it, nothing saved yet.
STATUSES = ("not_opened", "not_started", "in_progress", "submitted")
FLAGS = ("level_above_policy", "ai_where_forbidden", "required_missing")


@dataclass
class OverviewRow:
    user_pk: int | None  # None: on the platform's roster, never launched the tool
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


class Latest(NamedTuple):
    """A learner's latest submitted version of an assignment, as the overview shows it."""

    versions: int  # how many they submitted
    submitted_at: datetime
    declaration: dict[str, Any]
    declared_rank: int | None
    flags: list[str]
    policy: dict[str, Any] | None  # the policy it was submitted under (its scale reads the declared level)


@dataclass
class Overview:
    """An assignment's overview: a row per learner, and its policy."""

    rows: list[OverviewRow]
    policy: EffectivePolicy

    def absent(self, name: str) -> OverviewRow:
        """The row of a learner of the platform's roster with no row here: never opened it."""
        return OverviewRow(user_pk=None, name=name or "—", status="not_opened",
                           allowed_level=str(self.policy.level.label), total=len(self.policy.checklist))


def overviews(assignments: list[tuple[Activity, ResourceLink]],
              extra_learners: dict[int, str] | None = None) -> dict[int, Overview]:
    """{activity: its overview} for each (activity, link) of one platform's `assignments`: one row
    per learner who opened or worked on the assignment (plus `extra_learners`, e.g. from the
    platform's roster: {user: name}) with their status, declared vs allowed level, checklist
    completion and flags. Nine statements for a whole course, whatever the number of learners."""
    if not assignments:
        return {}
    activity_ids = [activity.id for activity, _link in assignments]
    policies = policies_for(assignments)
    latest_drafts = latest_draft_times(activity_ids)
    ticks: dict[int, dict[int, dict[str, str]]] = {activity_id: {} for activity_id in activity_ids}
    for activity_id, user_pk, user_ticks in db.session.execute(
            select(ChecklistTicks.activity_id, ChecklistTicks.user_pk, ChecklistTicks.ticks)
            .where(ChecklistTicks.activity_id.in_(activity_ids))):
        ticks[activity_id][user_pk] = user_ticks
    # Each learner's latest version and how many they submitted; only what the overview shows of
    # it (a class's frozen answers and AI logs stay in the database).
    versions = select(Submission.activity_id, Submission.user_pk, func.max(Submission.version).label("version"),
                      func.count().label("versions")) \
        .where(Submission.activity_id.in_(activity_ids)).group_by(Submission.activity_id, Submission.user_pk).subquery()
    subs: dict[int, dict[int, Latest]] = {activity_id: {} for activity_id in activity_ids}
    for row in db.session.execute(
            select(Submission.activity_id, Submission.user_pk, versions.c.versions, Submission.submitted_at,
                   Submission.declaration, Submission.declared_rank, Submission.flags, Submission.policy)
            .join(versions, and_(Submission.activity_id == versions.c.activity_id,
                                 Submission.user_pk == versions.c.user_pk, Submission.version == versions.c.version))):
        subs[row.activity_id][row.user_pk] = Latest(row.versions, row.submitted_at, row.declaration,
                                                    row.declared_rank, row.flags, row.policy)
    opened = openers_by_link([link.id for _activity, link in assignments])
    calls = ai_log.call_counts([link.id for _activity, link in assignments])
    extra = extra_learners or {}
    learners = {activity.id: set(latest_drafts[activity.id]) | set(ticks[activity.id]) | set(subs[activity.id])
                | set(extra) for activity, _link in assignments}
    every = set().union(*learners.values())
    platform_id = assignments[0][1].platform_id
    names = dict(db.session.execute(select(LtiUser.id, LtiUser.name).where(
        LtiUser.id.in_(every), LtiUser.platform_id == platform_id)).all()) if every else {}
    names.update({pk: name for pk, name in extra.items() if not names.get(pk)})
    return {activity.id: Overview(_rows(policies[activity.id], learners[activity.id], names,
                                        latest_drafts[activity.id], ticks[activity.id], subs[activity.id],
                                        opened[link.id], calls[link.id]), policies[activity.id])
            for activity, link in assignments}


def overview(activity: Activity, link: ResourceLink, extra_learners: dict[int, str] | None = None) -> Overview:
    """The overview of one assignment (see overviews)."""
    return overviews([(activity, link)], extra_learners)[activity.id]


def _rows(policy, user_pks, names, latest_drafts, ticks, subs, opened, calls) -> list[OverviewRow]:
    rows = []
    allowed = str(policy.level.label)
    for user_pk in user_pks:
        user_ticks = ticks.get(user_pk, {})
        missing = required_missing(policy, user_ticks)
        last = subs.get(user_pk)
        worked = user_pk in latest_drafts or bool(user_ticks)
        status = "submitted" if last else "in_progress" if worked else "not_started" if user_pk in opened \
            else "not_opened"
        flags = list(last.flags) if last else []
        drafted_since = user_pk in latest_drafts and (last is None or latest_drafts[user_pk] > last.submitted_at)
        if missing and drafted_since:
            flags.append("required_missing")
        if policy.level.rank == 1 and calls.get(user_pk) and "ai_where_forbidden" not in flags:
            flags.append("ai_where_forbidden")
        rows.append(OverviewRow(
            user_pk=user_pk, name=names.get(user_pk) or "—", status=status, versions=last.versions if last else 0,
            submitted_at=last.submitted_at if last else None,
            # Read in the scale it was declared in (a centre may have changed its scale since).
            declared_level=(level_label((last.policy or {}).get("scale"), last.declared_rank, policy.scale)
                            or last.declaration.get("level_label", "")) if last else "",
            declared_rank=last.declared_rank if last else None, allowed_level=allowed,
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
