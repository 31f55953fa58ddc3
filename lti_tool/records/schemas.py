"""What the administrator's forms send."""

from marshmallow import fields, validate

from ..common.schemas import BaseSchema


class EraseSchema(BaseSchema):
    """The erasure form: its confirmation box must be ticked."""

    confirm = fields.String(required=True, validate=validate.Equal("yes"))
