"""Individual follow-up records: for each learner of a course, what they did on every activity
placed in it (progress, submissions, AI-use declarations, checklist, grade and feedback).

This is the evidence of individual follow-up a centre shows at a quality audit (Qualiopi,
criterion 3). Everything is read through the other areas' services and scoped to the launch's
platform and course.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..activities.progress import progress_by_learner
from ..activities.services import course_activities, item_view
from ..catalogue.services import Catalogue, Module
from ..common.i18n import lazy_gettext as _l
from ..common.errors import ToolError
from ..gradebook.nrps import RosterUnavailable, learner_roster
from ..lti.models import LaunchSession
from ..lti.services import user_pks_by_sub
from ..grading.services import latest_grades
from ..declarations.overview import overview


@dataclass
class ActivityLine:
    """One activity of the course as one learner's record shows it."""

    link_pk: int
    title: str
    done: int
    total: int
    read: int
    themes: int
    quiz: tuple[int, int] | None
    status: str  # not_started | in_progress | submitted (policy.STATUSES)
    versions: int = 0
    submitted_at: datetime | None = None
    declared_level: str = ""
    allowed_level: str = ""
    ticked: int = 0
    checklist_total: int = 0
    flags: list[str] = field(default_factory=list)
    ai_calls: int = 0
    score: float | None = None
    score_maximum: float | None = None
    feedback: str = ""
    graded_at: datetime | None = None
    grade_current: bool = False  # False: the grade is of an earlier version, resubmitted since
    # The activity's catalogue item is no longer in the catalogue (a content update removed it):
    # its submissions, declarations and grades are still shown, its progress cannot be.
    content_removed: bool = False


@dataclass
class FollowUpRecord:
    """A learner's follow-up record in one course."""

    user_pk: int
    name: str
    course: str
    lines: list[ActivityLine]

    @property
    def submitted(self) -> int:
        return sum(1 for line in self.lines if line.status == "submitted")

    @property
    def graded(self) -> int:
        return sum(1 for line in self.lines if line.score is not None and line.grade_current)


def course_records(session: LaunchSession, catalogue: Catalogue, user_pk: int | None = None) -> list[FollowUpRecord]:
    """The follow-up records of the learners who worked in the launch's course (or of `user_pk`
    alone), sorted by name. Each record lists every activity of the course with content, in
    placement order, including those the learner has not started, and those whose content has
    since left the catalogue (their submissions and grades are evidence too). About six queries
    per activity."""
    if session.context_pk is None:
        raise ToolError(_l("This page belongs to a launch from a course."), status=404, code="no_course")
    # link, activity, view (None: content removed), exercises, {user_pk: (row, progress, grade)}
    columns: list[tuple[Any, Any, Any, int, dict[int, tuple]]] = []
    names: dict[int, str] = {}
    for link, activity in course_activities(session):
        view = item_view(catalogue, activity.catalogue_item)
        themes = view.themes if view else []
        exercise_ids = [e["id"] for t in themes for e in t["exercises"]
                        if view.exercise is None or e["id"] == view.exercise["id"]]
        progress = progress_by_learner(activity, exercise_ids, [t["id"] for t in themes])
        rows = {row.user_pk: row for row in overview(activity, link, {pk: "" for pk in progress})}
        grades = latest_grades(activity, sorted(rows))
        names.update({pk: row.name for pk, row in rows.items()})
        columns.append((link, activity, view, len(exercise_ids),
                        {pk: (row, progress.get(pk), grades.get(pk)) for pk, row in rows.items()}))
    staff = _staff_who_tried(session, columns)
    learners = sorted((pk for pk in names if pk not in staff and (user_pk is None or pk == user_pk)),
                      key=lambda pk: (names[pk].lower(), pk))
    course = session.context.title if session.context else ""
    return [FollowUpRecord(user_pk=pk, name=names[pk], course=course,
                           lines=[_line(link, activity, view, total, found.get(pk))
                                  for link, activity, view, total, found in columns])
            for pk in learners]


def _staff_who_tried(session: LaunchSession, columns) -> set[int]:
    """Who left work in the course without being one of its learners (trainers trying an
    activity), as the grading roster leaves them out: known only when the platform gives its
    roster (NRPS); without it, nobody is left out. Someone who submitted is a learner."""
    members = learner_roster(session)
    if isinstance(members, RosterUnavailable):
        return set()
    learners = set(user_pks_by_sub(session.platform_id, (member.user_id for member in members)).values())
    worked = {pk for *_head, found in columns for pk in found}
    submitted = {pk for *_head, found in columns for pk, (row, _p, _g) in found.items() if row.versions}
    return worked - learners - submitted


def _title(link, activity, view) -> str:
    if view is None:
        return _l("%(title)s (content removed from the catalogue)", title=link.title or activity.catalogue_item)
    # A whole module is a Module; a theme or an exercise's theme, a dict.
    return link.title or (view.item.title if isinstance(view.item, Module) else view.item["title"])


def _line(link, activity, view, total: int, found) -> ActivityLine:
    title = str(_title(link, activity, view))
    themes = len(view.themes) if view else 0
    if found is None:
        return ActivityLine(link_pk=link.id, title=title, done=0, total=total, read=0, themes=themes,
                            quiz=None, status="not_started", content_removed=view is None)
    row, progress, grade = found
    status = row.status
    if status == "not_started" and progress is not None and progress.started:
        status = "in_progress"
    return ActivityLine(
        link_pk=link.id, title=title, done=progress.done if progress else 0, total=total,
        read=progress.read if progress else 0, themes=themes, quiz=progress.quiz if progress else None,
        status=status, versions=row.versions, submitted_at=row.submitted_at, declared_level=row.declared_level,
        allowed_level=row.allowed_level, ticked=row.ticked, checklist_total=row.total, flags=list(row.flags),
        ai_calls=row.ai_calls, score=grade.score if grade else None, score_maximum=grade.score_maximum if grade else None,
        feedback=grade.comment if grade else "", graded_at=grade.created_at if grade else None,
        grade_current=grade is not None and (row.submitted_at is None or grade.created_at >= row.submitted_at),
        content_removed=view is None)


def learner_record(session: LaunchSession, catalogue: Catalogue, user_pk: int) -> FollowUpRecord:
    """One learner's record in the launch's course; 404 for anyone who has not worked in it."""
    found = course_records(session, catalogue, user_pk)
    if not found:
        raise ToolError(_l("This learner has no work in this course."), status=404, code="unknown_learner")
    return found[0]
