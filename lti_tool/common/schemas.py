"""The base marshmallow schema every area builds on."""

from marshmallow import EXCLUDE, Schema


class BaseSchema(Schema):
    """Unknown fields are dropped: platforms add their own claims and we keep only ours."""

    class Meta:
        unknown = EXCLUDE
