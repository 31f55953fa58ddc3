"""What the pages of a launch accept."""

from __future__ import annotations

from marshmallow import fields, validate

from ..common.schemas import BaseSchema


class PickedItemSchema(BaseSchema):
    catalogue_id = fields.String(required=True, validate=validate.Length(min=2, max=32))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    score_maximum = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1000))


class DeepLinkPickSchema(BaseSchema):
    items = fields.List(fields.Nested(PickedItemSchema), required=True, validate=validate.Length(min=1, max=60))
