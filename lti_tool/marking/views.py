"""Grading pages (trainers) and the learner's grade, under the launch token.

A trainer reaches only the learners of the link they launched; a learner only their own grade.
"""

from __future__ import annotations

from flask import g, render_template, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, ValidationError, fields, validate
from sqlalchemy import select

from ..activities.api import _context, _json_body
from ..common.launch import launch_required
from ..common.schemas import BaseSchema
from ..errors import ToolError
from ..extensions import db
from ..grading.outbox import outbox_state, retry_failed
from ..lti.models import LtiUser
from ..policy import services as policy
from ..policy.views import _labels
from . import services

STAFF = ("trainer", "admin")


class GradeSchema(BaseSchema):
    class Meta:
        unknown = RAISE

    score = fields.Float(required=True, allow_nan=False)
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    from_ai_draft = fields.Boolean(load_default=False)


def _learner(session, activity, user_pk: int) -> LtiUser:
    user = db.session.execute(select(LtiUser).where(LtiUser.id == user_pk, LtiUser.platform_id == session.platform_id)).scalar_one_or_none()
    if user is None or not policy.worked_on(activity, user_pk):
        raise ToolError(_l("This learner has no work on this activity."), status=404, code="unknown_learner")
    return user


@launch_required(*STAFF)
def roster_page():
    session, _catalogue, activity = _context()
    link = session.resource_link
    result = services.roster(session, activity, link)
    return render_template("marking/roster.html", launch=session, token=g.launch_token, link=link, roster=result,
                           labels=_labels(), maximum=services.score_maximum(link))


@launch_required(*STAFF)
def grading_page(user_pk: int):
    session, _catalogue, activity = _context()
    link = session.resource_link
    learner = _learner(session, activity, user_pk)
    versions = policy.submissions_of(activity, user_pk)
    rows = services.roster(session, activity, link).rows
    next_pk = services.next_to_grade(rows, user_pk)
    grade = services.latest_grade(activity, user_pk)
    return render_template("marking/grade.html", launch=session, token=g.launch_token, link=link, learner=learner,
                           submission=versions[0] if versions else None, versions=versions, grade=grade,
                           send=outbox_state(link.id, [user_pk]).get(user_pk), labels=_labels(),
                           maximum=services.score_maximum(link), next_pk=next_pk,
                           policy=policy.policy_for(activity, link))


@launch_required(*STAFF)
def save_grade(user_pk: int):
    session, _catalogue, activity = _context()
    link = session.resource_link
    learner = _learner(session, activity, user_pk)
    try:
        data = GradeSchema().load(_json_body())
    except ValidationError as exc:
        name = next(iter(exc.normalized_messages()), "score")
        raise ToolError(_l("Some fields are not valid: check the highlighted ones."), status=422, code="invalid_fields",
                        fields={name: _l("This value is not valid.")}) from exc
    grade = services.save_grade(session, activity, link, learner, score=data["score"], comment=data["comment"],
                                from_ai_draft=data["from_ai_draft"])
    db.session.commit()
    next_pk = services.next_to_grade(services.roster(session, activity, link).rows, user_pk)
    return {"grade": services.grade_json(grade),
            "next_url": url_for("marking.grading_page", token=g.launch_token, user_pk=next_pk) if next_pk else None,
            "roster_url": url_for("marking.roster_page", token=g.launch_token)}, 201


@launch_required(*STAFF)
def retry(row_id: int):
    session, _catalogue, _activity = _context()
    state = retry_failed(row_id, link_pk=session.resource_link.id)
    if state is None:
        raise ToolError(_l("There is no failed grade to send again here."), status=404, code="unknown_outbox_row")
    db.session.commit()
    return {"status": state.status}


@launch_required()
def my_grade():
    session, _catalogue, activity = _context()
    return {"grade": services.grade_json(services.latest_grade(activity, session.user_pk))}
