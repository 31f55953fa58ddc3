"""Grading an assignment: the roster merged with the tool's records, grades and their passback.

A grade and its outbox row are written in the caller's transaction: neither exists without the
other. The platform's roster (NRPS) is read through the grading package, which caches it briefly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from ..common.i18n import lazy_gettext as _l
from ..common.errors import ToolError
from ..extensions import db
from ..gradebook.nrps import RosterUnavailable, learner_roster
from ..gradebook.services import State, gradebook_maximum, outbox_state, post_grade
from ..lti.deep_linking import SCORE_MAXIMUM_PARAM
from ..lti.models import LaunchSession, LtiUser, ResourceLink
from ..lti.services import user_pks_by_sub
from ..declarations import services as policy
from ..declarations.overview import FLAGS
from ..declarations.overview import STATUSES as OVERVIEW_STATUSES
from ..declarations.overview import overview as declarations_overview
from .models import Grade

if TYPE_CHECKING:
    from ..activities.models import Activity

def stored_maximum(link: ResourceLink) -> float:
    """The maximum the trainer chose when placing the activity (a custom parameter the Deep
    Linking response set); the centre's default maximum (20 unless it set another) otherwise."""
    try:
        value = float((link.custom or {})[SCORE_MAXIMUM_PARAM])
    except (KeyError, TypeError, ValueError):
        return policy.centre_score_maximum(link.platform_id)
    return value if 0 < value <= 10_000 else policy.centre_score_maximum(link.platform_id)


@dataclass(frozen=True)
class GradingScale:
    """What the trainer grades out of: the gradebook's maximum as the platform says it now (a
    teacher may change the grade item's maximum in Moodle after placing the activity), else the
    stored one, with the reason (`fallback`) the platform's could not be read."""

    maximum: float
    from_gradebook: bool
    fallback: str | None = None  # no_service | no_line_item | no_maximum | unavailable


def grading_scale(launch: LaunchSession, link: ResourceLink) -> GradingScale:
    """The scale grades are given, shown and sent on (see GradingScale). May ask the platform
    (cached briefly): call it before writing."""
    read = gradebook_maximum(launch, link)
    if read.value is not None:
        return GradingScale(read.value, True)
    return GradingScale(stored_maximum(link), False, read.reason)


def latest_grades(activity_ids) -> dict[int, dict[int, Grade]]:
    """{activity: {learner: their latest grade}} for each of `activity_ids` (empty maps included):
    one query for a whole course."""
    found: dict[int, dict[int, Grade]] = {activity_id: {} for activity_id in activity_ids}
    if found:
        latest = select(func.max(Grade.id)).where(Grade.activity_id.in_(list(found))) \
            .group_by(Grade.activity_id, Grade.user_pk)
        for grade in db.session.execute(select(Grade).where(Grade.id.in_(latest))).scalars():
            found[grade.activity_id][grade.user_pk] = grade
    return found


def latest_grade(activity: Activity, user_pk: int) -> Grade | None:
    return db.session.execute(select(Grade).where(Grade.activity_id == activity.id, Grade.user_pk == user_pk)
                              .order_by(Grade.id.desc()).limit(1)).scalar_one_or_none()


# A roster row's status: the overview's (declarations.overview.STATUSES), and graded once the
# trainer graded the latest version.
STATUSES = (*OVERVIEW_STATUSES, "graded")
# What the summary's numbers filter on: a status, or `handed_in` (submitted, graded or not).
HANDED_IN = "handed_in"


@dataclass
class RosterRow:
    """A learner of the course and where they stand on the assignment: their overview row
    (declarations) with their grade and its way to the gradebook."""

    user_pk: int | None  # None: on the platform's roster, never launched the tool
    name: str
    status: str  # one of STATUSES
    versions: int = 0
    submitted_at: datetime | None = None
    flags: list[str] = field(default_factory=list)
    grade: Grade | None = None
    send: State | None = None
    declared_level: str = ""
    allowed_level: str = ""
    ticked: int = 0
    total: int = 0
    missing_required: int = 0
    ai_calls: int = 0

    @property
    def to_grade(self) -> bool:
        return self.status == "submitted"

    @property
    def opened(self) -> bool:
        return self.status != "not_opened"


@dataclass(frozen=True)
class RosterSummary:
    """The numbers the trainer's landing opens on, as Moodle's assignment summary shows them."""

    participants: int
    handed_in: int
    to_grade: int
    graded: int
    flagged: int


@dataclass
class Roster:
    rows: list[RosterRow]
    unavailable: RosterUnavailable | None = None

    @property
    def summary(self) -> RosterSummary:
        return RosterSummary(participants=len(self.rows), handed_in=sum(1 for r in self.rows if r.versions),
                             to_grade=sum(1 for r in self.rows if r.status == "submitted"),
                             graded=sum(1 for r in self.rows if r.status == "graded"),
                             flagged=sum(1 for r in self.rows if r.flags))


def roster(launch: LaunchSession, activity: Activity, link: ResourceLink) -> Roster:
    """Every learner of the course (from the platform's roster when it gives one, learners who
    never launched included) with where they stand on this assignment: the one list the trainer's
    summary, roster page and exports show. A dozen statements, whatever the number of learners."""
    members = learner_roster(launch)
    unavailable = members if isinstance(members, RosterUnavailable) else None
    members = [] if unavailable else members
    known = user_pks_by_sub(link.platform_id, (m.user_id for m in members))
    extra = {known[m.user_id]: m.display_name for m in members if m.user_id in known}
    found = declarations_overview(activity, link, extra_learners=extra)
    overview = found.rows
    if members:
        # Staff who tried the activity are not learners of the roster: keep them out unless
        # they submitted (they cannot: submitting is for learners).
        learner_pks = set(extra)
        overview = [row for row in overview if row.user_pk in learner_pks or row.status == "submitted"]
    user_pks = [row.user_pk for row in overview]
    grades = latest_grades([activity.id])[activity.id]
    sends = outbox_state(link.id, user_pks)
    rows = [_roster_row(row, grades.get(row.user_pk), sends.get(row.user_pk)) for row in overview]
    rows += [_roster_row(found.absent(member.display_name), None, None)
             for member in members if member.user_id not in known]
    rows.sort(key=lambda r: (r.name.lower(), r.user_pk or 0))
    return Roster(rows, unavailable)


def _roster_row(row, grade: Grade | None, send: State | None) -> RosterRow:
    """An overview row (declarations) with the learner's latest grade and its way to the gradebook."""
    status = row.status
    if grade is not None and (row.submitted_at is None or grade.created_at >= row.submitted_at):
        status = "graded"
    return RosterRow(user_pk=row.user_pk, name=row.name, status=status, versions=row.versions,
                     submitted_at=row.submitted_at, flags=row.flags, grade=grade, send=send,
                     declared_level=row.declared_level, allowed_level=row.allowed_level, ticked=row.ticked,
                     total=row.total, missing_required=row.missing_required, ai_calls=row.ai_calls)


def filter_rows(rows: list[RosterRow], status: str | None, flag: str | None) -> list[RosterRow]:
    """The rows with `status` (or handed in) and `flag` (`any`: some flag); unknown values filter nothing."""
    if status == HANDED_IN:
        rows = [r for r in rows if r.versions]
    elif status in STATUSES:
        rows = [r for r in rows if r.status == status]
    if flag == "any":
        rows = [r for r in rows if r.flags]
    elif flag in FLAGS:
        rows = [r for r in rows if flag in r.flags]
    return rows


def next_to_grade(rows: list[RosterRow], current_pk: int) -> int | None:
    """The next learner after `current_pk` whose work waits for a grade, else the next with work."""
    pks = [r.user_pk for r in rows if r.user_pk is not None]
    if current_pk not in pks:
        return None
    after = rows[[r.user_pk for r in rows].index(current_pk) + 1:] + rows
    for wanted in (lambda r: r.to_grade, lambda r: r.versions > 0):
        for row in after:
            if row.user_pk is not None and row.user_pk != current_pk and wanted(row):
                return row.user_pk
    return None


def _draft_key(launch: LaunchSession, user_pk: int) -> str:
    return f"grading:ai-draft:{launch.id}:{user_pk}"


def _fingerprint(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def remember_ai_draft(launch: LaunchSession, user_pk: int, text: str) -> None:
    """Keep (a digest of) the AI draft comment the trainer received for this learner, so that
    saving it unread is refused: an AI draft is a proposal, the trainer's comment is theirs."""
    store = current_app.extensions["lti_store"]
    store.set(_draft_key(launch, user_pk), _fingerprint(text), current_app.config["LAUNCH_SESSION_TTL"])


def _is_unedited_ai_draft(launch: LaunchSession, user_pk: int, comment: str) -> bool:
    drafted = current_app.extensions["lti_store"].get(_draft_key(launch, user_pk))
    return bool(drafted) and bool(comment.strip()) and drafted == _fingerprint(comment)


def save_grade(launch: LaunchSession, activity: Activity, link: ResourceLink, learner: LtiUser, *, score: float,
               comment: str, from_ai_draft: bool, maximum: float) -> Grade:
    """Record the trainer's grade of the learner's latest submission out of `maximum` (the
    grading scale, `grading_scale`) and queue it for the platform's gradebook on that scale, in
    the caller's transaction. An AI draft comment saved word for word (spacing aside) is
    refused. Flushes."""
    if not 0 <= score <= maximum:
        message = _l("The score must be between 0 and %(max)s.", max=_number(maximum))
        raise ToolError(message, status=422, code="score_out_of_range", fields={"score": message})
    if _is_unedited_ai_draft(launch, learner.id, comment):
        message = _l("This is the AI's draft, word for word: read it and make it your own before saving.")
        raise ToolError(message, status=422, code="ai_draft_unedited", fields={"comment": message})
    versions = policy.submissions_of(activity, learner.id)
    latest = versions[0] if versions else None
    if latest is None:
        raise ToolError(_l("This learner has not submitted anything to grade yet."), status=409, code="nothing_to_grade")
    grade = Grade(platform_id=link.platform_id, activity_id=activity.id, user_pk=learner.id, submission_id=latest.id,
                  score=score, score_maximum=maximum, comment=comment.strip(), from_ai_draft=from_ai_draft,
                  graded_by=launch.user_pk)
    db.session.add(grade)
    post_grade(launch, learner, score, maximum, gradebook_comment(grade))
    db.session.flush()
    return grade


AI_DRAFTED = _l("This comment was drafted with the help of AI, then read and edited by your trainer.")


def gradebook_comment(grade: Grade) -> str | None:
    """The comment as the platform's gradebook shows it to the learner: one the trainer started
    from an AI draft says so on its last line (in the trainer's language, as the comment is), as
    the learner's page does (EU AI Act, article 50: AI-generated text is labelled)."""
    if not grade.comment:
        return None
    return f"{grade.comment}\n\n({AI_DRAFTED})" if grade.from_ai_draft else grade.comment


def _number(value: float) -> str:
    return f"{value:g}"


