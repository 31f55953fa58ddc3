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
