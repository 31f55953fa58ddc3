"""JSON endpoints of the activity page, authenticated by the launch token in the URL.

A learner only ever writes their own work on the link they launched: the activity and the
user come from the launch session, never from the request.
"""

from __future__ import annotations

from ..common.i18n import lazy_gettext as _l
from ..common.http import json_api, json_body
from ..common.schemas import load_or_422
from ..lti.access import current_launch, launch_required
from ..common.errors import ToolError
from ..gradebook.services import post_quiz_score
from . import progress
from .schemas import (ANSWER_SCHEMAS, DoneOut, DraftSavedOut, DraftSchema, MentoringWheelAnswers, QuizAnswersSchema,
                      QuizResultOut, ReadOut, WheelOut)
from .services import item_view, launched_activity
from .wheel import radar_svg


INVALID_ANSWERS = _l("Some answers are not valid: check the highlighted field.")


@json_api("Save the learner's draft of an exercise", body=DraftSchema, out=DraftSavedOut, errors=(404, 409))
@launch_required()
def save_draft(exercise_id: str):
    session = current_launch()
    catalogue, activity = launched_activity(session)
    exercise = progress.exercise_of(catalogue, activity, exercise_id)
    answers = load_or_422(ANSWER_SCHEMAS[exercise["type"]](), json_body().get("answers", {}),
                          message=INVALID_ANSWERS, code="invalid_answers")
    draft = progress.save_draft(activity, session.user_pk, exercise_id, answers, catalogue.version)
    return DraftSavedOut().dump({"saved_at": draft.updated_at.isoformat() + "Z", "done": draft.done})


@json_api("Mark an exercise done (refused while an answer is incomplete)", out=DoneOut,
          errors=(404, 409, 422))
@launch_required()
def complete(exercise_id: str):
    session = current_launch()
    catalogue, activity = launched_activity(session)
    exercise = progress.exercise_of(catalogue, activity, exercise_id)
    progress.complete_exercise(activity, session.user_pk, exercise, catalogue.version)
    explanations = []
    if exercise["type"] == "scenario_choice":
        # The explanations the page promised: shown once the learner has made and justified each choice.
        explanations = [str(_l("Our view:")) + f" {scenario['options'][scenario['best']]} — {scenario['explanation']}"
                        for scenario in exercise["scenarios"]]
    return DoneOut().dump({"done": True, "explanations": explanations})


@json_api("Mark a theme's text read", out=ReadOut, errors=(404, 409))
@launch_required()
def mark_read(theme_id: str):
    session = current_launch()
    catalogue, activity = launched_activity(session)
    progress.theme_of(catalogue, activity, theme_id)
    progress.mark_read(activity, session.user_pk, theme_id)
    return ReadOut().dump({"read": True})


@json_api("Answer a theme's self-check quiz", body=QuizAnswersSchema, out=QuizResultOut, errors=(404, 409))
@launch_required()
def quiz(theme_id: str):
    session = current_launch()
    catalogue, activity = launched_activity(session)
    theme = progress.theme_of(catalogue, activity, theme_id)
    answers = load_or_422(QuizAnswersSchema(), json_body(), message=INVALID_ANSWERS, code="invalid_answers")["answers"]
    result = progress.score_quiz(activity, session.user_pk, theme, answers, catalogue.version)
    _post_quiz_scores(session, catalogue, activity)
    return QuizResultOut().dump(result)


def _post_quiz_scores(session, catalogue, activity) -> None:
    """The activity's self-check score for the gradebook: the best attempt of each of its
    quizzes, added up, out of all their questions (a module has several quizzes)."""
    view = item_view(catalogue, activity.catalogue_item)
    if view is None or view.kind == "exercise":
        return
    best = progress.learner_state(activity, session.user_pk, {"quiz"}).best_quiz
    score = sum(best[t["id"]].score for t in view.themes if t["id"] in best)
    total = sum(len(t["quiz"]) for t in view.themes)
    post_quiz_score(session, score, total)


@json_api("Rate the mentoring wheel's segments", body=MentoringWheelAnswers, out=WheelOut, errors=(404, 409))
@launch_required()
def wheel(exercise_id: str):
    session = current_launch()
    catalogue, activity = launched_activity(session)
    exercise = progress.exercise_of(catalogue, activity, exercise_id)
    if exercise["type"] != "mentoring_wheel":
        raise ToolError(_l("This exercise is not part of this activity."), status=404, code="unknown_exercise")
    ratings = load_or_422(MentoringWheelAnswers(), {"ratings": json_body().get("ratings")},
                          message=INVALID_ANSWERS, code="invalid_answers")["ratings"]
    progress.record_wheel(activity, session.user_pk, exercise, ratings)
    history = progress.learner_state(activity, session.user_pk, {"wheels"}).wheels.get(exercise_id, [])
    svg = radar_svg(exercise["segments"], [r.ratings for r in history], exercise["title"], live=ratings)
    return WheelOut().dump({"snapshots": len(history), "svg": str(svg)})
