"""JSON endpoints of the activity page, authenticated by the launch token in the URL.

A learner only ever writes their own work on the link they launched: the activity and the
user come from the launch session, never from the request.
"""

from __future__ import annotations

from marshmallow import ValidationError

from ..common.i18n import lazy_gettext as _l
from ..catalogue.services import get_catalogue
from ..common.http import json_body
from ..common.launch import current_launch, launch_required
from ..errors import ToolError
from ..extensions import db
from . import progress
from .schemas import ANSWER_SCHEMAS, MentoringWheelAnswers, QuizAnswersSchema
from .services import activity_for, item_view
from .wheel import radar_svg


def launch_activity():
    """The launch session, the catalogue in its language and the launched link's activity."""
    session = current_launch()
    if session.resource_link is None:
        raise ToolError(_l("This page belongs to an activity launch."), status=404, code="no_activity")
    catalogue = get_catalogue(session.locale)
    activity = activity_for(session.resource_link, catalogue)
    if activity is None:
        raise ToolError(_l("This activity is not configured yet: your trainer has not chosen its content. Come back later."),
                        status=409, code="not_configured")
    return session, catalogue, activity


def _invalid(exc: ValidationError) -> ToolError:
    field = next(iter(exc.normalized_messages()), "")
    return ToolError(_l("Some answers are not valid: check the highlighted field."), status=422,
                     code="invalid_answers", hint=str(field))


@launch_required()
def save_draft(exercise_id: str):
    session, catalogue, activity = launch_activity()
    exercise = progress.exercise_of(catalogue, activity, exercise_id)
    try:
        answers = ANSWER_SCHEMAS[exercise["type"]]().load(json_body().get("answers", {}))
    except ValidationError as exc:
        raise _invalid(exc) from exc
    draft = progress.save_draft(activity, session.user_pk, exercise_id, answers, catalogue.version)
    db.session.commit()
    return {"saved_at": draft.updated_at.isoformat() + "Z", "done": draft.done}


@launch_required()
def complete(exercise_id: str):
    session, catalogue, activity = launch_activity()
    exercise = progress.exercise_of(catalogue, activity, exercise_id)
    progress.complete_exercise(activity, session.user_pk, exercise, catalogue.version)
    db.session.commit()
    return {"done": True}


@launch_required()
def mark_read(theme_id: str):
    session, catalogue, activity = launch_activity()
    progress.theme_of(catalogue, activity, theme_id)
    progress.mark_read(activity, session.user_pk, theme_id)
    db.session.commit()
    return {"read": True}


@launch_required()
def quiz(theme_id: str):
    session, catalogue, activity = launch_activity()
    theme = progress.theme_of(catalogue, activity, theme_id)
    try:
        answers = QuizAnswersSchema().load(json_body())["answers"]
    except ValidationError as exc:
        raise _invalid(exc) from exc
    result = progress.score_quiz(activity, session.user_pk, theme, answers, catalogue.version)
    _post_quiz_scores(session, catalogue, activity)
    db.session.commit()
    return {"score": result.score, "total": result.total, "corrections": result.corrections}


def _post_quiz_scores(session, catalogue, activity) -> None:
    """The activity's self-check score for the gradebook: the best attempt of each of its
    quizzes, added up, out of all their questions (a module has several quizzes)."""
    from ..grading.services import queue_quiz

    view = item_view(catalogue, activity.catalogue_item)
    if view is None or view.kind == "exercise":
        return
    best = progress.learner_state(activity, session.user_pk, {"quiz"}).best_quiz
    score = sum(best[t["id"]].score for t in view.themes if t["id"] in best)
    total = sum(len(t["quiz"]) for t in view.themes)
    queue_quiz(session, activity, session.resource_link, score, total)


@launch_required()
def wheel(exercise_id: str):
    session, catalogue, activity = launch_activity()
    exercise = progress.exercise_of(catalogue, activity, exercise_id)
    if exercise["type"] != "mentoring_wheel":
        raise ToolError(_l("This exercise is not part of this activity."), status=404, code="unknown_exercise")
    try:
        ratings = MentoringWheelAnswers().load({"ratings": json_body().get("ratings")})["ratings"]
    except ValidationError as exc:
        raise _invalid(exc) from exc
    progress.record_wheel(activity, session.user_pk, exercise, ratings)
    history = progress.learner_state(activity, session.user_pk, {"wheels"}).wheels.get(exercise_id, [])
    db.session.commit()
    svg = radar_svg(exercise["segments"], [r.ratings for r in history], exercise["title"])
    return {"snapshots": len(history), "svg": str(svg)}
