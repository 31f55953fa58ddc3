"""Grading pages (trainers) and the learner's grade, under the launch token.

A trainer reaches only the learners of the link they launched; a learner only their own grade.
"""

from __future__ import annotations

from flask import g, render_template, url_for
from marshmallow import RAISE, ValidationError, fields, validate

from ..common.i18n import lazy_gettext as _l
from ..activities.api import launch_activity
from ..common.http import json_body
from ..common.launch import launch_required
from ..common.schemas import BaseSchema
from ..errors import ToolError
from ..extensions import db
from ..gradebook.outbox import outbox_state, retry_all_failed, retry_failed
from ..declarations import services as policy
from ..declarations.views import labels
from . import services

STAFF = ("trainer", "admin")


class GradeSchema(BaseSchema):
    class Meta:
        unknown = RAISE

    score = fields.Float(required=True, allow_nan=False)
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    from_ai_draft = fields.Boolean(load_default=False)


@launch_required(*STAFF)
def roster_page():
    session, _catalogue, activity = launch_activity()
    link = session.resource_link
    result = services.roster(session, activity, link)
    return render_template("grading/roster.html", launch=session, token=g.launch_token, link=link, roster=result,
                           labels=labels(), maximum=services.score_maximum(link))


@launch_required(*STAFF)
def grading_page(user_pk: int):
    session, _catalogue, activity = launch_activity()
    link = session.resource_link
    learner = policy.learner_with_work(session.platform_id, activity, user_pk)
    versions = policy.submissions_of(activity, user_pk)
    rows = services.roster(session, activity, link).rows
    next_pk = services.next_to_grade(rows, user_pk)
    grade = services.latest_grade(activity, user_pk)
    return render_template("grading/grade.html", launch=session, token=g.launch_token, link=link, learner=learner,
                           submission=versions[0] if versions else None, versions=versions, grade=grade,
                           send=outbox_state(link.id, [user_pk]).get(user_pk), labels=labels(),
                           maximum=services.score_maximum(link), next_pk=next_pk,
                           policy=policy.policy_for(activity, link))


@launch_required(*STAFF)
def save_grade(user_pk: int):
    session, _catalogue, activity = launch_activity()
    link = session.resource_link
    learner = policy.learner_with_work(session.platform_id, activity, user_pk)
    try:
        data = GradeSchema().load(json_body())
    except ValidationError as exc:
        name = next(iter(exc.normalized_messages()), "score")
        raise ToolError(_l("Some fields are not valid: check the highlighted ones."), status=422, code="invalid_fields",
                        fields={name: _l("This value is not valid.")}) from exc
    grade = services.save_grade(session, activity, link, learner, score=data["score"], comment=data["comment"],
                                from_ai_draft=data["from_ai_draft"])
    db.session.commit()
    next_pk = services.next_to_grade(services.roster(session, activity, link).rows, user_pk)
    return {"grade": services.grade_json(grade),
            "next_url": url_for("grading.grading_page", token=g.launch_token, user_pk=next_pk) if next_pk else None,
            "roster_url": url_for("grading.roster_page", token=g.launch_token)}, 201


WWW_EBI = {
    "fr": "Rédige un commentaire pour l'apprenant en deux parties titrées « Ce qui a bien fonctionné » "
          "(WWW) et « Ce serait encore mieux si » (EBI), trois points au plus chacune. "
          "Vouvoie l'apprenant et appuie-toi seulement sur le travail ci-dessous.",
    "en": "Write a comment for the learner in two titled parts, \"What went well\" (WWW) and \"Even better "
          "if\" (EBI), three points at most each. Rely only on the work below.",
}


def _work_as_text(submission) -> str:
    lines = []
    for entry in submission.answers.get("exercises", {}).values():
        lines.append(f"## {entry['exercise'].get('title', '')}")
        lines.extend(_flatten_answers(entry["answers"]))
    return "\n".join(lines)[:15_000]


def _flatten_answers(value, label: str = "") -> list[str]:
    if isinstance(value, dict):
        return [line for key, item in value.items() for line in _flatten_answers(item, key)]
    if isinstance(value, list):
        return [line for item in value for line in _flatten_answers(item, label)]
    text = str(value).strip() if value is not None else ""
    return [f"- {label}: {text}" if label else f"- {text}"] if text else []


@launch_required(*STAFF)
def draft_comment(user_pk: int):
    """An AI draft of the comment, structured WWW / EBI; the trainer edits it before saving. The
    call is logged as the trainer's (purpose feedback_draft) about the learner (subject_pk), the
    learner's name pseudonymised."""
    from ..llm import service as llm

    session, _catalogue, activity = launch_activity()
    learner = policy.learner_with_work(session.platform_id, activity, user_pk)
    versions = policy.submissions_of(activity, user_pk)
    if not versions:
        raise ToolError(_l("This learner has not submitted anything to grade yet."), status=409, code="nothing_to_grade")
    lang = "en" if session.locale.startswith("en") else "fr"
    try:
        result = llm.chat(session, "feedback_draft", _work_as_text(versions[0]), instructions=WWW_EBI[lang],
                          extra_names=[learner.name] if learner.name else (), subject_pk=learner.id)
    except ToolError:
        db.session.commit()  # the failed call stays in the AI log
        raise
    db.session.commit()
    services.remember_ai_draft(session, user_pk, result.text)
    return {"text": result.text, "demo": result.is_demo, "call_id": result.call_id}


@launch_required(*STAFF)
def retry(row_id: int):
    session, _catalogue, _activity = launch_activity()
    state = retry_failed(row_id, link_pk=session.resource_link.id)
    if state is None:
        raise ToolError(_l("There is no failed grade to send again here."), status=404, code="unknown_outbox_row")
    db.session.commit()
    return {"status": state.status}


@launch_required(*STAFF)
def retry_all():
    """Send again every score of the link the roster shows as not sent (after the trainer fixed
    the cause in the platform, e.g. added the grade item): one click instead of one per learner."""
    session, _catalogue, _activity = launch_activity()
    requeued = retry_all_failed(session.resource_link.id)
    db.session.commit()
    return {"requeued": requeued}


@launch_required()
def my_grade():
    session, _catalogue, activity = launch_activity()
    return {"grade": services.grade_json(services.latest_grade(activity, session.user_pk))}
