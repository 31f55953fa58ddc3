"""What the administrator's forms send, and what the follow-up records' JSON and CSV give."""

from marshmallow import fields, validate

from ..common.schemas import BaseSchema, UtcTime


class EraseSchema(BaseSchema):
    """The erasure form: its confirmation box must be ticked."""

    confirm = fields.String(required=True, validate=validate.Equal("yes"))


class ActivityLineOut(BaseSchema):
    """One activity of a learner's follow-up record (records.ActivityLine), as JSON and CSV give it."""

    activity = fields.String(attribute="title")
    link = fields.Integer(attribute="link_pk")
    status = fields.String()
    exercises_done = fields.Integer(attribute="done")
    exercises_total = fields.Integer(attribute="total")
    parts_read = fields.Integer(attribute="read")
    parts_total = fields.Integer(attribute="themes")
    quiz_score = fields.Function(lambda line: line.quiz[0] if line.quiz else None)
    quiz_total = fields.Function(lambda line: line.quiz[1] if line.quiz else None)
    versions = fields.Integer()
    submitted_at = UtcTime()
    declared_level = fields.String()
    allowed_level = fields.String()
    checklist_ticked = fields.Integer(attribute="ticked")
    checklist_total = fields.Integer()
    flags = fields.List(fields.String())
    ai_calls = fields.Integer()
    score = fields.Float(allow_none=True)
    score_maximum = fields.Float(allow_none=True)
    feedback = fields.String()
    graded_at = UtcTime()
    grade_is_current = fields.Function(lambda line: line.grade_current if line.score is not None else None)
    content_removed = fields.Boolean()


class FollowUpRecordOut(BaseSchema):
    """A learner's follow-up record in one course (records.FollowUpRecord)."""

    learner = fields.String(attribute="name")
    user = fields.Integer(attribute="user_pk", allow_none=True)  # null: on the roster, never launched
    course = fields.String()
    activities = fields.List(fields.Nested(ActivityLineOut), attribute="lines")


class CourseRecordsOut(BaseSchema):
    """The follow-up records of the launch's course: one per learner."""

    course = fields.String(allow_none=True)
    learners = fields.List(fields.Nested(FollowUpRecordOut))


# A person's data export (privacy.export_person): everything the tool holds about them, as stored.
PERSON_DATA = {"type": "object", "description": "Everything the tool holds about the person, as stored "
               "(a JSON attachment, personal-data-<id>.json)."}
