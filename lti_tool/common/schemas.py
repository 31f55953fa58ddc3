"""The base marshmallow schema every area builds on, and the one way a request's input is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load

from .errors import ToolError
from .i18n import lazy_gettext as _l

INVALID_FIELDS = _l("Some fields are not valid: check the highlighted ones.")


class BaseSchema(Schema):
    """Unknown fields are dropped: platforms add their own claims and we keep only ours.

    A schema that refuses them instead (`unknown = RAISE`) refuses a mapping with more keys than it
    has fields as a whole, naming its first unknown key: marshmallow would name every unknown key,
    a second of CPU and megabytes of errors for a body of a hundred thousand keys.
    """

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _no_more_keys_than_fields(self, data, **kwargs):
        if self.unknown == RAISE and isinstance(data, Mapping) and len(data) > len(self.load_fields):
            known = {field.data_key or name for name, field in self.load_fields.items()}
            raise ValidationError("Unknown field.", str(next(key for key in data if key not in known)))
        return data


class BoundedList(fields.List):
    """A list of `min_items` to `max_items` items, counted before any item is loaded. (A Length
    validator runs after every item has been loaded: a million-item list would cost seconds of
    CPU, and a million errors, before being refused.) Every list a schema loads is one of these."""

    def __init__(self, cls_or_instance, *, max_items: int, min_items: int = 0, **kwargs) -> None:
        super().__init__(cls_or_instance, **kwargs)
        self.min_items, self.max_items = min_items, max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (list, tuple)) and not self.min_items <= len(value) <= self.max_items:
            raise ValidationError(f"Give {self.min_items} to {self.max_items} items.")
        return super()._deserialize(value, attr, data, **kwargs)


class BoundedDict(fields.Dict):
    """A mapping of at most `max_items` keys, counted before any key or value is loaded (see
    BoundedList). Every mapping a schema loads is one of these."""

    def __init__(self, *, max_items: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, Mapping) and len(value) > self.max_items:
            raise ValidationError(f"Give at most {self.max_items} items.")
        return super()._deserialize(value, attr, data, **kwargs)


class UtcTime(fields.Field):
    """A stored time (naive UTC, as every datetime here) as the JSON API gives it:
    `2026-12-07T20:09:57Z`, or null when there is none."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat(timespec="seconds") + "Z"


class ErrorDetailOut(BaseSchema):
    code = fields.String(required=True)
    message = fields.String(required=True)  # in the user's language
    hint = fields.String()
    # Field path → what is wrong with it, for forms to point at.
    invalid_fields = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields")


class ErrorOut(BaseSchema):
    """The JSON API's one error shape (lti_tool.errors.error_response), as the API document gives it."""

    error = fields.Nested(ErrorDetailOut, required=True)


def load_or_422(schema: Schema, data: Any, *, message=INVALID_FIELDS, code: str = "invalid_fields") -> Any:
    """`data` loaded by `schema`; else a 422 that names each invalid field (its path, as in
    `declaration.level_used`) for the form to point at, `message` and `code` saying what failed."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        fields = {name: _l("This value is not valid.") for name in field_paths(exc.normalized_messages())}
        raise ToolError(message, status=422, code=code, hint=next(iter(fields), ""), fields=fields) from exc


def field_paths(messages: Any, prefix: str = "") -> list[str]:
    """The dotted paths of the fields marshmallow's error `messages` name."""
    if isinstance(messages, dict):
        return [name for key, value in messages.items() for name in field_paths(value, f"{prefix}{key}.")] \
            or [prefix.rstrip(".")]
    return [prefix.rstrip(".")]
