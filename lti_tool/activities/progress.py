"""A learner's work on an activity: drafts, exercises done, sections read, quizzes, the wheel.

Every function takes the activity and the user explicitly; callers have checked that the
activity is the launch's own link and the user the launch's own user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ..common.i18n import lazy_gettext as _l
from ..catalogue.services import Catalogue
from ..common.db import insert_ignoring_conflict
from ..common.errors import ToolError
from ..extensions import db
from ..common.time import utcnow
from .models import Activity, Draft, QuizAttempt, SectionRead, WheelRating


def in_activity(activity: Activity, item_id: str) -> bool:
    """Whether catalogue item `item_id` is part of what `activity` delivers."""
    return item_id == activity.catalogue_item or item_id.startswith(activity.catalogue_item + ".")


def exercise_of(catalogue: Catalogue, activity: Activity, exercise_id: str) -> dict[str, Any]:
    exercise = catalogue.item(exercise_id) if in_activity(activity, exercise_id) else None
    if not isinstance(exercise, dict) or "type" not in exercise:
        raise ToolError(_l("This exercise is not part of this activity."), status=404, code="unknown_exercise")
    return exercise


def theme_of(catalogue: Catalogue, activity: Activity, theme_id: str) -> dict[str, Any]:
    """The theme `theme_id` if the activity covers it (the module, the theme, or one of its exercises)."""
    covers = in_activity(activity, theme_id) or activity.catalogue_item.startswith(theme_id + ".")
    theme = catalogue.item(theme_id) if covers else None
    if not isinstance(theme, dict) or "exercises" not in theme:
        raise ToolError(_l("This theme is not part of this activity."), status=404, code="unknown_theme")
    return theme


def _draft(activity: Activity, user_pk: int, exercise_id: str, version: str) -> Draft:
    query = select(Draft).where(Draft.activity_id == activity.id, Draft.user_pk == user_pk,
                                Draft.exercise_id == exercise_id)
    draft = db.session.execute(query).scalar_one_or_none()
    if draft is None:
        insert_ignoring_conflict(Draft, activity_id=activity.id, user_pk=user_pk, exercise_id=exercise_id,
                                 answers={}, content_version=version, done=False, updated_at=utcnow())
        draft = db.session.execute(query).scalar_one()
    return draft


def save_draft(activity: Activity, user_pk: int, exercise_id: str, answers: dict[str, Any], version: str) -> Draft:
    """Store the learner's current answers (validated by the caller). Flushes."""
    draft = _draft(activity, user_pk, exercise_id, version)
    draft.answers = answers
    draft.content_version = version
    draft.updated_at = utcnow()
    db.session.flush()
    return draft


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def missing_for_completion(exercise: dict[str, Any], answers: dict[str, Any]) -> str | None:
    """The first answer field that still keeps the exercise from being complete, or None."""
    kind, minimum = exercise["type"], exercise.get("min_length") or 1
    if kind == "reflection":
        given = answers.get("answers", [])
        for index in range(len(exercise["questions"])):
            if index >= len(given) or len(given[index].strip()) < minimum:
                return f"answers[{index}]"
        return None
    if kind == "list":
        entries = [e for e in answers.get("entries", []) if _filled(e)]
        return None if len(entries) >= exercise["count"] else "entries"
    if kind == "scenario_choice":
        choices = answers.get("choices", [])
        for index in range(len(exercise["scenarios"])):
            if index >= len(choices) or choices[index].get("option") is None or not _filled(choices[index].get("reasoning")):
                return f"choices[{index}]"
        return None
    if kind == "mentoring_wheel":
        ratings = answers.get("ratings", {})
        missing = [s["key"] for s in exercise["segments"] if s["key"] not in ratings]
        return f"ratings.{missing[0]}" if missing else None
    required = {
        "smart_goal": ("specific", "measurable", "achievable", "relevant", "time_bound"),
        "ai_prompt": ("prompt", "critique"),
        "role_play": ("reflection",),
        "prompt_transformation": ("improved_prompt", "comparison"),
        "rewrite": ("rewrite",),
    }[kind]
    for name in required:
        if not _filled(answers.get(name)) or len(answers[name].strip()) < (minimum if name == required[0] else 1):
            return name
    return None


def complete_exercise(activity: Activity, user_pk: int, exercise: dict[str, Any], version: str) -> Draft:
    """Mark the exercise done if its saved answers are complete; else refuse naming the field."""
    draft = _draft(activity, user_pk, exercise["id"], version)
    missing = missing_for_completion(exercise, draft.answers or {})
    if missing:
        raise ToolError(_l("This exercise is not finished yet: complete the highlighted answer."),
                        status=422, code="incomplete", hint=missing)
    draft.done = True
    draft.updated_at = utcnow()
    db.session.flush()
    return draft


def mark_read(activity: Activity, user_pk: int, theme_id: str) -> None:
    insert_ignoring_conflict(SectionRead, activity_id=activity.id, user_pk=user_pk, theme_id=theme_id,
                             read_at=utcnow())


@dataclass(frozen=True)
class QuizResult:
    score: int
    total: int
    corrections: list[dict[str, Any]]


def score_quiz(activity: Activity, user_pk: int, theme: dict[str, Any], answers: list[int], version: str) -> QuizResult:
    """Score a quiz attempt, store it, and return the corrections to show."""
    questions = theme["quiz"]
    if len(answers) != len(questions):
        raise ToolError(_l("Answer every question of the quiz."), status=422, code="quiz_incomplete")
    corrections = [
        {"correct": given == q["answer"], "answer": q["answer"], "explanation": q["explanation"]}
        for given, q in zip(answers, questions)
    ]
    score = sum(c["correct"] for c in corrections)
    db.session.add(QuizAttempt(activity_id=activity.id, user_pk=user_pk, theme_id=theme["id"], answers=answers,
                               score=score, total=len(questions), content_version=version))
    db.session.flush()
    return QuizResult(score=score, total=len(questions), corrections=corrections)


def record_wheel(activity: Activity, user_pk: int, exercise: dict[str, Any], ratings: dict[str, int]) -> WheelRating:
    """Keep a snapshot of the six ratings (all six are required)."""
    keys = [s["key"] for s in exercise["segments"]]
    if sorted(ratings) != sorted(keys):
        raise ToolError(_l("Rate each of the six segments from 1 to 10."), status=422, code="wheel_incomplete")
    rating = WheelRating(activity_id=activity.id, user_pk=user_pk, exercise_id=exercise["id"], ratings=ratings)
    db.session.add(rating)
    db.session.flush()
    return rating


@dataclass
class LearnerState:
    drafts: dict[str, Draft] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)
    best_quiz: dict[str, QuizAttempt] = field(default_factory=dict)
    wheels: dict[str, list[WheelRating]] = field(default_factory=dict)

    def keep_if_best(self, attempt: QuizAttempt) -> None:
        """Keep `attempt` as its theme's best if it scores at least as well (attempts come in
        order, so the latest of equal scores is kept)."""
        best = self.best_quiz.get(attempt.theme_id)
        if best is None or attempt.score >= best.score:
            self.best_quiz[attempt.theme_id] = attempt

    def counts(self, exercise_ids: list[str]) -> tuple[int, int]:
        return sum(1 for e in exercise_ids if e in self.drafts and self.drafts[e].done), len(exercise_ids)


ALL_PARTS = frozenset({"drafts", "read", "quiz", "wheels"})


def learner_state(activity: Activity, user_pk: int, parts: frozenset[str] | set[str] = ALL_PARTS) -> LearnerState:
    """What the learner has done on `activity`: one query per part asked for (drafts, sections
    read, quiz attempts, wheel ratings); the parts not asked for stay empty."""
    state = LearnerState()
    scope = (activity.id, user_pk)
    if "drafts" in parts:
        for draft in db.session.execute(select(Draft).where(Draft.activity_id == scope[0],
                                                            Draft.user_pk == scope[1])).scalars():
            state.drafts[draft.exercise_id] = draft
    if "read" in parts:
        state.read = set(db.session.execute(select(SectionRead.theme_id).where(
            SectionRead.activity_id == scope[0], SectionRead.user_pk == scope[1])).scalars())
    if "quiz" in parts:
        for attempt in db.session.execute(select(QuizAttempt).where(
                QuizAttempt.activity_id == scope[0], QuizAttempt.user_pk == scope[1]).order_by(QuizAttempt.id)).scalars():
            state.keep_if_best(attempt)
    if "wheels" in parts:
        for rating in db.session.execute(select(WheelRating).where(
                WheelRating.activity_id == scope[0], WheelRating.user_pk == scope[1]).order_by(WheelRating.id)).scalars():
            state.wheels.setdefault(rating.exercise_id, []).append(rating)
    return state


def parts_shown(themes: list[dict[str, Any]], exercise: dict[str, Any] | None = None) -> frozenset[str]:
    """The parts of LearnerState a page of these themes (or of one exercise) shows."""
    exercises = [exercise] if exercise is not None else [e for t in themes for e in t["exercises"]]
    parts = {"drafts"}
    if exercise is None:
        parts.add("read")
        if any(t.get("quiz") for t in themes):
            parts.add("quiz")
    if any(e["type"] == "mentoring_wheel" for e in exercises):
        parts.add("wheels")
    return frozenset(parts)


@dataclass(frozen=True)
class Progress:
    """How far one learner got on an activity: exercises done, parts read, best quiz scores."""

    done: int = 0
    read: int = 0
    quiz: tuple[int, int] | None = None  # the best attempt of each theme's quiz, summed: (score, total)

    @property
    def started(self) -> bool:
        return bool(self.done or self.read or self.quiz)


def progress_by_learner(scopes: list[tuple[Activity, list[str], list[str]]]) -> dict[int, dict[int, Progress]]:
    """{activity: {learner: Progress}} for each (activity, its exercise ids, its theme ids) of
    `scopes` (as LearnerState.counts and keep_if_best count it): three queries for a whole
    course, whatever the number of learners."""
    exercises = {activity.id: set(exercise_ids) for activity, exercise_ids, _themes in scopes}
    themes = {activity.id: set(theme_ids) for activity, _exercises, theme_ids in scopes}
    done: dict[tuple[int, int], int] = {}
    read: dict[tuple[int, int], int] = {}
    states: dict[tuple[int, int], LearnerState] = {}
    if exercises:
        ids = list(exercises)
        for activity_id, user_pk, exercise_id in db.session.execute(
                select(Draft.activity_id, Draft.user_pk, Draft.exercise_id)
                .where(Draft.activity_id.in_(ids), Draft.done.is_(True))):
            if exercise_id in exercises[activity_id]:
                done[activity_id, user_pk] = done.get((activity_id, user_pk), 0) + 1
        for activity_id, user_pk, theme_id in db.session.execute(
                select(SectionRead.activity_id, SectionRead.user_pk, SectionRead.theme_id)
                .where(SectionRead.activity_id.in_(ids))):
            if theme_id in themes[activity_id]:
                read[activity_id, user_pk] = read.get((activity_id, user_pk), 0) + 1
        for attempt in db.session.execute(select(QuizAttempt).where(QuizAttempt.activity_id.in_(ids))
                                          .order_by(QuizAttempt.id)).scalars():
            if attempt.theme_id in themes[attempt.activity_id]:
                states.setdefault((attempt.activity_id, attempt.user_pk), LearnerState()).keep_if_best(attempt)
    quiz = {key: (sum(a.score for a in state.best_quiz.values()), sum(a.total for a in state.best_quiz.values()))
            for key, state in states.items()}
    found: dict[int, dict[int, Progress]] = {activity_id: {} for activity_id in exercises}
    for activity_id, user_pk in set(done) | set(read) | set(quiz):
        key = (activity_id, user_pk)
        found[activity_id][user_pk] = Progress(done=done.get(key, 0), read=read.get(key, 0), quiz=quiz.get(key))
    return found
