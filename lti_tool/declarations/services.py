"""Policy, checklist, declaration and submission services.

Every function takes the activity (the launch's own link) and the user explicitly; callers have
scoped them from the launch session. Nothing here reads the request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import ngettext
from sqlalchemy import func, literal, select
from sqlalchemy.exc import IntegrityError

from ..common.i18n import lazy_gettext as _l
from ..activities.progress import learner_state
from ..activities.services import has_drafts, item_view, placed_activities
from ..catalogue.services import Catalogue
from ..common.db import insert_ignoring_conflict
from ..common.errors import ToolError
from ..extensions import db
from ..lti.deep_linking import POLICY_PARAM
from ..llm import services as ai_log
from ..lti.models import LtiUser, ResourceLink
from ..common.time import utcnow
from ..lti.services import platform_user
from . import checklist as checklist_mod
from . import scales
from .models import AssignmentPolicy, CentreSettings, ChecklistTicks, Submission

if TYPE_CHECKING:
    from ..activities.models import Activity



# --- centre and assignment policy ------------------------------------------------------------


def centre_settings(platform_id: int) -> CentreSettings | None:
    """The centre's settings row (None: the defaults)."""
    return db.session.execute(
        select(CentreSettings).where(CentreSettings.platform_id == platform_id)).scalar_one_or_none()


def centre_scale(platform_id: int) -> scales.Scale:
    return _scale_of(centre_settings(platform_id))


def _scale_of(settings: CentreSettings | None) -> scales.Scale:
    return scales.SCALES[settings.scale if settings else scales.DEFAULT_SCALE]


def centre_template(platform_id: int) -> list[dict[str, Any]]:
    return _template_of(centre_settings(platform_id))


def _template_of(settings: CentreSettings | None) -> list[dict[str, Any]]:
    if settings is not None and settings.checklist_template is not None:
        return settings.checklist_template
    return checklist_mod.built_in_template()


DEFAULT_SCORE_MAXIMUM = 20.0  # French centres grade out of 20


def centre_score_maximum(platform_id: int) -> float:
    """The maximum score a trainer of the centre starts from when placing an activity, and the
    one a link placed without a maximum is graded on when the platform does not say its own."""
    settings = centre_settings(platform_id)
    if settings is not None and settings.default_score_maximum:
        return settings.default_score_maximum
    return DEFAULT_SCORE_MAXIMUM


def save_centre_settings(platform_id: int, user_pk: int, *, scale: str | None = None,
                         template: list[dict[str, Any]] | None = None,
                         score_maximum: float | None = None) -> CentreSettings:
    """Save what is given. A new scale changes no assignment's row: each keeps the scale its level
    was chosen in and is read on the new scale at the same step (see `scale_change_preview`)."""
    settings = centre_settings(platform_id)
    if settings is None:
        settings = CentreSettings(platform_id=platform_id, scale=scales.DEFAULT_SCALE)
        db.session.add(settings)
    if scale is not None:
        settings.scale = scale
    if template is not None:
        settings.checklist_template = checklist_mod.normalise_edit(template, centre_template(platform_id))
    if score_maximum is not None:
        settings.default_score_maximum = score_maximum
    settings.updated_at = utcnow()
    settings.updated_by = user_pk
    db.session.flush()
    return settings


@dataclass(frozen=True)
class EffectivePolicy:
    """What governs one assignment now: the level on the centre's scale, the note, the checklist."""

    scale: scales.Scale
    level: scales.Level
    note: str
    checklist: list[dict[str, Any]]
    custom_checklist: bool
    set_by_trainer: bool
    # (scale, level) as the level was chosen, when on the centre's other scale (it changed since).
    chosen_in: Any = None

    def with_ticks(self, ticks: dict[str, str]) -> EffectivePolicy:
        """The policy with each checklist item's tick time (`ticked_at`, None if not ticked)."""
        return replace(self, checklist=checklist_state(self, ticks))

    def snapshot(self) -> dict[str, Any]:
        return {"scale": self.scale.code, "level": self.level.code, "rank": self.level.rank,
                "label": str(self.level.label), "explanation": str(self.level.explanation), "note": self.note}


def level_named(code: str | None) -> scales.Level | None:
    """The level a code names on either scale (what a placed link's `ai_policy` parameter says)."""
    return next((level for scale in scales.SCALES.values() if (level := scale.level(code or ""))), None)


def level_label(scale_code: str | None, rank: int | None, current: scales.Scale | None = None) -> str:
    """A level as chosen or declared on the scale `scale_code`, in the interface's language; with
    that scale's name when it is not the centre's `current` scale (a centre that changed its
    scale reads its older declarations as they were made)."""
    found = scales.level_in_scale(scale_code, rank)
    if found is None:
        return ""
    scale, level = found
    if current is not None and scale.code != current.code:
        return f"{level.label} ({scales.SHORT_NAMES[scale.code]})"
    return str(level.label)


@dataclass(frozen=True)
class ScaleChange:
    """One assignment as a change of the centre's scale leaves it."""

    course: str
    title: str
    before: str
    after: str


def scale_change_preview(platform_id: int, new_scale: str) -> list[ScaleChange]:
    """What changing the centre's scale to `new_scale` does to each placed assignment of the
    platform: its level now, and the level of the same step on the new scale. Nothing is written."""
    target = scales.SCALES[new_scale]
    current = centre_scale(platform_id)
    if target.code == current.code:
        return []
    placed = placed_activities(platform_id)
    rows = {row.activity_id: row for row in db.session.execute(select(AssignmentPolicy).where(
        AssignmentPolicy.activity_id.in_([p.activity.id for p in placed]))).scalars()} if placed else {}
    changes = []
    for item in placed:
        level = _level(current, rows.get(item.activity.id), item.link)
        changes.append(ScaleChange(course=item.course, title=item.link.title or item.activity.catalogue_item,
                                   before=str(level.label), after=str(target.at_rank(level.rank).label)))
    return changes


def policy_row(activity: Activity | None) -> AssignmentPolicy | None:
    if activity is None:
        return None
    return db.session.execute(select(AssignmentPolicy).where(AssignmentPolicy.activity_id == activity.id)).scalar_one_or_none()


def _level(scale: scales.Scale, row: AssignmentPolicy | None, link: ResourceLink) -> scales.Level:
    """The trainer's level, else the level Deep Linking placed (custom parameter), else the
    scale's default. A level chosen on the centre's other scale (the centre changed its scale
    since) is read at the same step of the current one."""
    level = scale.carry(row.level) if row is not None else None
    if level is None:
        level = scale.carry((link.custom or {}).get(POLICY_PARAM)) or scale.default_level
    return level


def chosen_in(row: AssignmentPolicy | None, link: ResourceLink, current: scales.Scale):
    """(scale, level) as the assignment's level was chosen (the trainer's row, else the placing
    custom parameter), when that was on another scale than `current`; None otherwise."""
    if row is not None:
        code, scale_code = row.level, row.scale
    else:
        code = (link.custom or {}).get(POLICY_PARAM)
        scale_code = next((s.code for s in scales.SCALES.values() if s.level(code or "")), None)
    if not code or scale_code in (None, current.code) or scale_code not in scales.SCALES:
        return None
    level = scales.SCALES[scale_code].level(code)
    return (scales.SCALES[scale_code], level) if level is not None else None


def policy_for(activity: Activity | None, link: ResourceLink) -> EffectivePolicy:
    """The assignment's policy: its level (see _level), the trainer's note, the checklist (of a
    link not bound to an activity yet: what Deep Linking or the centre set)."""
    # The centre's settings and the assignment's row (each may be missing), in one statement.
    settings, row = db.session.execute(
        select(CentreSettings, AssignmentPolicy).select_from(select(literal(1)).subquery())
        .outerjoin(CentreSettings, CentreSettings.platform_id == link.platform_id)
        .outerjoin(AssignmentPolicy, AssignmentPolicy.activity_id == (activity.id if activity is not None else None))
    ).one()
    return _effective(settings, row, link)


def policies_for(assignments: list[tuple[Activity, ResourceLink]]) -> dict[int, EffectivePolicy]:
    """{activity: its policy, as policy_for gives it} for each (activity, link) of one platform's
    `assignments`: two queries for a whole course."""
    if not assignments:
        return {}
    settings = centre_settings(assignments[0][1].platform_id)
    rows = {row.activity_id: row for row in db.session.execute(select(AssignmentPolicy).where(
        AssignmentPolicy.activity_id.in_([activity.id for activity, _link in assignments]))).scalars()}
    return {activity.id: _effective(settings, rows.get(activity.id), link) for activity, link in assignments}


def _effective(settings: CentreSettings | None, row: AssignmentPolicy | None, link: ResourceLink) -> EffectivePolicy:
    scale = _scale_of(settings)
    items = row.checklist if row is not None and row.checklist is not None else _template_of(settings)
    level = _level(scale, row, link)
    return EffectivePolicy(scale=scale, level=level, note=row.note if row else "",
                           checklist=checklist_mod.render(items),
                           custom_checklist=row is not None and row.checklist is not None,
                           set_by_trainer=row is not None, chosen_in=chosen_in(row, link, scale))


def _ensure_row(activity: Activity, link: ResourceLink) -> AssignmentPolicy:
    row = policy_row(activity)
    if row is None:
        current = policy_for(activity, link)
        insert_ignoring_conflict(AssignmentPolicy, activity_id=activity.id, scale=current.scale.code,
                                 level=current.level.code, note="", checklist=None, updated_at=utcnow())
        row = policy_row(activity)
    return row


def set_policy(activity: Activity, link: ResourceLink, user_pk: int, level: str, note: str) -> EffectivePolicy:
    scale = centre_scale(link.platform_id)
    if scale.level(level) is None:
        raise ToolError(_l("Choose a level of the scale."), status=422, code="unknown_level",
                        fields={"level": _l("Choose a level of the scale.")})
    row = _ensure_row(activity, link)
    row.scale, row.level, row.note = scale.code, level, note.strip()
    row.updated_at, row.updated_by = utcnow(), user_pk
    db.session.flush()
    return policy_for(activity, link)


def set_checklist(activity: Activity, link: ResourceLink, user_pk: int, items: list[dict[str, Any]] | None) -> EffectivePolicy:
    """The assignment's own checklist (None: back to the centre's template)."""
    row = _ensure_row(activity, link)
    previous = row.checklist if row.checklist is not None else centre_template(link.platform_id)
    row.checklist = None if items is None else checklist_mod.normalise_edit(items, previous)
    row.updated_at, row.updated_by = utcnow(), user_pk
    db.session.flush()
    return policy_for(activity, link)


# --- checklist ticks ---------------------------------------------------------------------------


def ticks_of(activity: Activity, user_pk: int) -> dict[str, str]:
    row = db.session.execute(select(ChecklistTicks).where(
        ChecklistTicks.activity_id == activity.id, ChecklistTicks.user_pk == user_pk)).scalar_one_or_none()
    return dict(row.ticks) if row else {}


def set_ticks(activity: Activity, link: ResourceLink, user_pk: int, changes: dict[str, bool]) -> dict[str, str]:
    """Tick or untick items; a tick keeps the time it was first made. Unknown items are refused."""
    known = {item["id"] for item in policy_for(activity, link).checklist}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ToolError(_l("This item is not on the checklist of this work."), status=422, code="unknown_item",
                        fields={f"ticks.{unknown[0]}": _l("This item is not on the checklist of this work.")})
    query = select(ChecklistTicks).where(ChecklistTicks.activity_id == activity.id, ChecklistTicks.user_pk == user_pk)
    row = db.session.execute(query).scalar_one_or_none()
    if row is None:
        insert_ignoring_conflict(ChecklistTicks, activity_id=activity.id, user_pk=user_pk, ticks={}, updated_at=utcnow())
        row = db.session.execute(query).scalar_one()
    ticks = dict(row.ticks)
    now = utcnow().isoformat(timespec="seconds") + "Z"
    for item_id, ticked in changes.items():
        if ticked:
            ticks.setdefault(item_id, now)
        else:
            ticks.pop(item_id, None)
    row.ticks = ticks
    row.updated_at = utcnow()
    db.session.flush()
    return ticks


def checklist_state(policy: EffectivePolicy, ticks: dict[str, str]) -> list[dict[str, Any]]:
    return [{**item, "ticked_at": ticks.get(item["id"])} for item in policy.checklist]


def required_missing(policy: EffectivePolicy, ticks: dict[str, str]) -> list[dict[str, Any]]:
    return [item for item in policy.checklist if item["required"] and item["id"] not in ticks]


# --- declaration and submission ------------------------------------------------------------------


class DeclarationRefused(ToolError):
    status = 422


def check_declaration(declaration: dict[str, Any], policy: EffectivePolicy, missing: list[dict[str, Any]],
                      ai_call_count: int, has_answers: bool) -> tuple[scales.Level, list[str]]:
    """Apply the submission rules; returns the declared level and the flags, or refuses with
    every field at fault (the first rule broken gives the error code)."""
    problems: list[tuple[str, str, Any]] = []  # (code, field, message)
    level = policy.scale.level(declaration["level_used"])
    if level is None:
        problems.append(("unknown_level", "level_used", _l("Choose the level of AI use you actually made.")))
    if missing:
        names = "; ".join(item["text"] for item in missing)
        problems.append(("checklist_incomplete", "checklist",
                         _l("Tick the required items of the checklist first: %(items)s", items=names)))
    if not has_answers:
        problems.append(("nothing_to_submit", "answers", _l("There is nothing to submit yet: answer the exercises first.")))
    if level is not None and level.rank == 1:
        if ai_call_count:
            problems.append(("ai_calls_logged", "level_used", ngettext(
                "You cannot declare that you used no AI: the tool's AI assistant was used %(num)d time for "
                "this work. That call is attached to your submission.",
                "You cannot declare that you used no AI: the tool's AI assistant was used %(num)d times for "
                "this work. These calls are attached to your submission.", ai_call_count)))
        if declaration["tools"] or declaration["purposes"]:
            problems.append(("no_ai_with_tools", "tools",
                             _l("You declared no AI use: leave the tools and purposes empty, or choose the level you used.")))
    elif level is not None:
        if not declaration["tools"] and not ai_call_count:
            problems.append(("tools_required", "tools", _l("Say which AI tools you used.")))
        if not declaration["purposes"]:
            problems.append(("purposes_required", "purposes", _l("Say what you used AI for.")))
        if not declaration["verification"].strip():
            problems.append(("verification_required", "verification", _l("Explain how you checked what the AI produced.")))
    if "other" in declaration["tools"] and not declaration["tools_other"].strip():
        problems.append(("other_tool_unnamed", "tools_other", _l("Name the other tool you used.")))
    if "other" in declaration["purposes"] and not declaration["purposes_other"].strip():
        problems.append(("other_purpose_unnamed", "purposes_other", _l("Say what else you used AI for.")))
    above = level is not None and level.rank > policy.level.rank
    if above and not declaration["justification"].strip():
        problems.append(("justification_required", "justification", _l(
            "You used AI beyond what this work allows (%(allowed)s). Explain why; your trainer will see it.",
            allowed=policy.level.label)))
    if not declaration["honour"]:
        problems.append(("honour_required", "honour", _l("Confirm that your declaration is honest and complete.")))
    if problems:
        code, _field, message = problems[0]
        fields: dict[str, Any] = {}
        for _code, name, text in problems:
            fields.setdefault(name, text)
        raise DeclarationRefused(message, code=code, fields=fields)
    flags = []
    if above:
        flags.append("level_above_policy")
    if policy.level.rank == 1 and (level.rank > 1 or ai_call_count):
        flags.append("ai_where_forbidden")
    return level, flags


@dataclass
class Snapshot:
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(entry.get("answers") for entry in self.answers.get("exercises", {}).values()) \
            and not self.answers.get("quizzes")


def work_snapshot(activity: Activity, user_pk: int, catalogue: Catalogue) -> Snapshot:
    """The learner's answers to the activity's exercises, each with the exercise it answered (so
    the version renders against the text it answered, whatever the catalogue becomes)."""
    view = item_view(catalogue, activity.catalogue_item)
    exercises, theme_titles = {}, {}
    if view is not None:
        for theme in view.themes:
            theme_titles[theme["id"]] = theme["title"]
            for exercise in theme["exercises"]:
                if view.exercise is None or exercise["id"] == view.exercise["id"]:
                    exercises[exercise["id"]] = exercise
    work = learner_state(activity, user_pk, {"drafts", "quiz"})
    answered = {}
    for draft in work.drafts.values():
        if draft.exercise_id in exercises and _has_content(draft.answers):
            answered[draft.exercise_id] = {"exercise": exercises[draft.exercise_id], "answers": draft.answers,
                                           "done": draft.done, "content_version": draft.content_version}
    quizzes = {theme_id: {"score": attempt.score, "total": attempt.total, "title": theme_titles.get(theme_id, "")}
               for theme_id, attempt in work.best_quiz.items()}
    ordered = {exercise_id: answered[exercise_id] for exercise_id in exercises if exercise_id in answered}
    return Snapshot({"exercises": ordered, "quizzes": quizzes})


def _has_content(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, dict):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_content(v) for v in value)
    return value is not None


def latest_version(activity: Activity, user_pk: int) -> int:
    return db.session.execute(select(func.coalesce(func.max(Submission.version), 0)).where(
        Submission.activity_id == activity.id, Submission.user_pk == user_pk)).scalar_one()


def submit(activity: Activity, link: ResourceLink, user_pk: int, catalogue: Catalogue, locale: str,
           declaration: dict[str, Any]) -> Submission:
    """Freeze the learner's work, declaration, checklist and AI log into a new numbered version.
    Flushes; the caller commits."""
    policy = policy_for(activity, link)
    ticks = ticks_of(activity, user_pk)
    log = ai_log.calls_of(link.id, user_pk)
    snapshot = work_snapshot(activity, user_pk, catalogue)
    level, flags = check_declaration(declaration, policy, required_missing(policy, ticks), len(log),
                                     not snapshot.empty)
    if log and "tool_assistant" not in declaration["tools"]:
        declaration = {**declaration, "tools": ["tool_assistant", *declaration["tools"]]}
    version = latest_version(activity, user_pk) + 1
    submitted_at = utcnow()
    submission = Submission(
        platform_id=link.platform_id, activity_id=activity.id, user_pk=user_pk, version=version,
        catalogue_item=activity.catalogue_item, content_version=catalogue.version, locale=locale,
        answers=snapshot.answers, declaration={**declaration, "level_label": str(level.label)},
        checklist=checklist_state(policy, ticks), ai_log=log, policy=policy.snapshot(), flags=flags,
        declared_rank=level.rank, allowed_rank=policy.level.rank,
        receipt=_receipt(activity.id, user_pk, version, submitted_at), submitted_at=submitted_at,
    )
    db.session.add(submission)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ToolError(_l("This work was just submitted from another window: reload the page."), status=409,
                        code="submitted_concurrently") from None
    return submission


def _receipt(activity_id: int, user_pk: int, version: int, at: datetime) -> str:
    digest = hashlib.sha256(f"{activity_id}:{user_pk}:{version}:{at.isoformat()}".encode()).hexdigest().upper()
    return f"MIA-{digest[:4]}-{digest[4:8]}-{digest[8:12]}"


def submissions_of(activity: Activity, user_pk: int) -> list[Submission]:
    return list(db.session.execute(select(Submission).where(
        Submission.activity_id == activity.id, Submission.user_pk == user_pk).order_by(Submission.version.desc())).scalars())


@dataclass(frozen=True)
class SubmissionSummary:
    """What a learner's page lists of one of their submissions."""

    version: int
    submitted_at: datetime
    receipt: str


def submission_summaries(activity: Activity, user_pk: int) -> list[SubmissionSummary]:
    """The learner's submissions on `activity`, newest first."""
    return [SubmissionSummary(*row) for row in db.session.execute(
        select(Submission.version, Submission.submitted_at, Submission.receipt)
        .where(Submission.activity_id == activity.id, Submission.user_pk == user_pk)
        .order_by(Submission.version.desc()))]


def learner_with_work(platform_id: int, activity: Activity, user_pk: int) -> LtiUser:
    """A learner of the platform who worked on `activity` (what a trainer of its link may read)."""
    user = platform_user(platform_id, user_pk)
    if user is None or not worked_on(activity, user_pk):
        raise ToolError(_l("This learner has no work on this activity."), status=404, code="unknown_learner")
    return user


def worked_on(activity: Activity, user_pk: int) -> bool:
    """Whether the user left anything on the activity: a draft, a tick or a submission."""
    for model in (Submission, ChecklistTicks):
        found = db.session.execute(select(model.id).where(model.activity_id == activity.id, model.user_pk == user_pk)
                                   .limit(1)).first()
        if found:
            return True
    return has_drafts(activity, user_pk)


def submission_of(activity: Activity, user_pk: int, version: int) -> Submission:
    submission = db.session.execute(select(Submission).where(
        Submission.activity_id == activity.id, Submission.user_pk == user_pk, Submission.version == version)).scalar_one_or_none()
    if submission is None:
        raise ToolError(_l("This submission does not exist."), status=404, code="unknown_submission")
    return submission
