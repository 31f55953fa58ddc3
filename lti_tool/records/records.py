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
from ..declarations.overview import overviews


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
    status: str  # not_opened | not_started | in_progress | submitted | graded (the roster's statuses)
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

    user_pk: int | None  # None: on the platform's roster, never launched the tool
    name: str
    course: str
    lines: list[ActivityLine]

    @property
    def submitted(self) -> int:
        return sum(1 for line in self.lines if line.versions)

    @property
    def graded(self) -> int:
        return sum(1 for line in self.lines if line.score is not None and line.grade_current)


def course_records(session: LaunchSession, catalogue: Catalogue, user_pk: int | None = None) -> list[FollowUpRecord]:
    """The follow-up records of the course's learners (or of `user_pk` alone), sorted by name: the
    platform's roster when it gives one (learners who never opened anything included, as the
    grading roster lists them), else who worked in the course. Each record lists every activity
    of the course with content, in placement order, including those the learner has not started
    (with their allowed AI use), and those whose content has since left the catalogue (their
    submissions and grades are evidence too). About fifteen statements for a whole course,
    whatever the number of learners and activities."""
    if session.context_pk is None:
        raise ToolError(_l("This page belongs to a launch from a course."), status=404, code="no_course")
    members = learner_roster(session)
    members = [] if isinstance(members, RosterUnavailable) else members
    known = user_pks_by_sub(session.platform_id, (member.user_id for member in members))
    on_roster = {known[m.user_id]: m.display_name for m in members if m.user_id in known}
    placed = course_activities(session)
    views = [item_view(catalogue, activity.catalogue_item) for _link, activity in placed]
    # Each activity's exercises and themes (none where its content left the catalogue).
    scopes = [(activity, [e["id"] for t in view.themes for e in t["exercises"]
                          if view.exercise is None or e["id"] == view.exercise["id"]] if view else [],
               [t["id"] for t in view.themes] if view else []) for (_link, activity), view in zip(placed, views)]
    progress = progress_by_learner(scopes)
    extra = {pk: "" for found in progress.values() for pk in found} | on_roster
    found_overviews = overviews([(activity, link) for link, activity in placed], extra)
    grades = latest_grades([activity.id for _link, activity in placed])
    # link, activity, view (None: content removed), exercises, {user_pk: (row, progress, grade)}, blank line
    columns: list[tuple[Any, Any, Any, int, dict[int, tuple], ActivityLine]] = []
    names: dict[int, str] = {}
    for (link, activity), view, (_activity, exercise_ids, _themes) in zip(placed, views, scopes):
        assignment = found_overviews[activity.id]
        rows = {row.user_pk: row for row in assignment.rows}
        names.update({pk: row.name for pk, row in rows.items()})
        blank = _line(link, activity, view, len(exercise_ids), None, assignment.absent(""))
        columns.append((link, activity, view, len(exercise_ids),
                        {pk: (row, progress[activity.id].get(pk), grades[activity.id].get(pk))
                         for pk, row in rows.items()}, blank))
    staff = _staff_who_tried(members, known, columns)
    learners = sorted((pk for pk in names if pk not in staff and (user_pk is None or pk == user_pk)),
                      key=lambda pk: (names[pk].lower(), pk))
    course = session.context.title if session.context else ""
    found = [FollowUpRecord(user_pk=pk, name=names[pk], course=course,
                            lines=[_line(link, activity, view, total, work[pk]) if pk in work else blank
                                   for link, activity, view, total, work, blank in columns])
             for pk in learners]
    if user_pk is None:  # on the roster, never launched the tool: every activity not opened
        found += [FollowUpRecord(user_pk=None, name=m.display_name or "—", course=course,
                                 lines=[blank for *_head, blank in columns])
                  for m in members if m.user_id not in known]
        found.sort(key=lambda record: (record.name.lower(), record.user_pk or 0))
    return found


def _staff_who_tried(members, known: dict[str, int], columns) -> set[int]:
    """Who left work in the course without being one of its learners (trainers trying an
    activity), as the grading roster leaves them out: known only when the platform gives its
    roster (NRPS); without it, nobody is left out. Someone who submitted is a learner."""
    if not members:
        return set()
    learners = set(known.values())
    worked = {pk for *_head, found, _blank in columns for pk in found}
    submitted = {pk for *_head, found, _blank in columns for pk, (row, _p, _g) in found.items() if row.versions}
    return worked - learners - submitted


def _title(link, activity, view) -> str:
    if view is None:
        return _l("%(title)s (content removed from the catalogue)", title=link.title or activity.catalogue_item)
    # A whole module is a Module; a theme or an exercise's theme, a dict.
    return link.title or (view.item.title if isinstance(view.item, Module) else view.item["title"])


def _line(link, activity, view, total: int, found, blank_row=None) -> ActivityLine:
    """The activity's line of one learner's record; `blank_row` (an overview row) for a learner
    who has none: never opened it, its allowed AI use and checklist shown all the same."""
    title = str(_title(link, activity, view))
    themes = len(view.themes) if view else 0
    row, progress, grade = found if found is not None else (blank_row, None, None)
    status = row.status
    if status in ("not_opened", "not_started") and progress is not None and progress.started:
        status = "in_progress"
    current = grade is not None and (row.submitted_at is None or grade.created_at >= row.submitted_at)
    if status == "submitted" and current:
        status = "graded"
    return ActivityLine(
        link_pk=link.id, title=title, done=progress.done if progress else 0, total=total,
        read=progress.read if progress else 0, themes=themes, quiz=progress.quiz if progress else None,
        status=status, versions=row.versions, submitted_at=row.submitted_at, declared_level=row.declared_level,
        allowed_level=row.allowed_level, ticked=row.ticked, checklist_total=row.total, flags=list(row.flags),
        ai_calls=row.ai_calls, score=grade.score if grade else None, score_maximum=grade.score_maximum if grade else None,
        feedback=grade.comment if grade else "", graded_at=grade.created_at if grade else None,
        grade_current=current, content_removed=view is None)


def learner_record(session: LaunchSession, catalogue: Catalogue, user_pk: int) -> FollowUpRecord:
    """One learner's record in the launch's course; 404 for anyone who has not worked in it."""
    found = course_records(session, catalogue, user_pk) if user_pk is not None else []
    if not found:
        raise ToolError(_l("This learner has no work in this course."), status=404, code="unknown_learner")
    return found[0]
