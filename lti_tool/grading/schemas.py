"""What the grading endpoints accept."""

from __future__ import annotations

from marshmallow import RAISE, fields, validate

from ..common.schemas import BaseSchema, UtcTime


class GradeSchema(BaseSchema):
    class Meta:
        unknown = RAISE

    score = fields.Float(required=True, allow_nan=False)
    comment = fields.String(load_default="", validate=validate.Length(max=5000))
    from_ai_draft = fields.Boolean(load_default=False)


class GradeOut(BaseSchema):
    """A trainer's grade as the JSON API gives it."""

    score = fields.Float()
    score_maximum = fields.Float()
    comment = fields.String()
    from_ai_draft = fields.Boolean()  # the comment started from an AI draft the trainer edited
    graded_at = UtcTime(attribute="created_at")


class GradeSavedOut(BaseSchema):
    """The grade saved, and where the trainer goes next: the next learner to grade (null when
    none is left), the roster."""

    grade = fields.Nested(GradeOut)
    # The grade's line in the gradebook column of the grading page (HTML rendered by the tool).
    send_state = fields.String()
    next_url = fields.String(allow_none=True)
    roster_url = fields.String()


class DraftCommentOut(BaseSchema):
    """An AI draft of the comment, for the trainer to edit."""

    text = fields.String()
    demo = fields.Boolean()  # the built-in fake model wrote it
    call_id = fields.Integer()


class OutboxStateOut(BaseSchema):
    status = fields.String()


class RequeuedOut(BaseSchema):
    requeued = fields.Integer()


class MyGradeOut(BaseSchema):
    """The learner's latest grade, null until the trainer grades them."""

    grade = fields.Nested(GradeOut, allow_none=True)


class RosterRowOut(BaseSchema):
    """A learner's line of the roster (services.RosterRow), as `overview.json` and `overview.csv`
    give it: the overview's columns, then the grade."""

    learner = fields.String(attribute="name")
    user = fields.Integer(attribute="user_pk", allow_none=True)  # null: never launched the tool
    status = fields.String()
    versions = fields.Integer()
    submitted_at = UtcTime()
    declared_level = fields.String()
    allowed_level = fields.String()
    checklist_ticked = fields.Integer(attribute="ticked")
    checklist_total = fields.Integer(attribute="total")
    required_missing = fields.Integer(attribute="missing_required")
    ai_calls = fields.Integer()
    flags = fields.List(fields.String())
    score = fields.Function(lambda row: row.grade.score if row.grade else None)
    score_maximum = fields.Function(lambda row: row.grade.score_maximum if row.grade else None)


class RosterQuerySchema(BaseSchema):
    """The roster's filters (the summary's links); a value it does not know filters nothing."""

    status = fields.String(metadata={"enum": ["not_opened", "not_started", "in_progress", "submitted", "graded",
                                              "handed_in"]})
    flag = fields.String(metadata={"enum": ["any", "level_above_policy", "ai_where_forbidden", "required_missing"]})


class RosterOut(BaseSchema):
    learners = fields.List(fields.Nested(RosterRowOut))
