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
