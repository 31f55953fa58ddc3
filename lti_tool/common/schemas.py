"""The base marshmallow schema every area builds on, and the one way a request's input is loaded."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from .errors import ToolError
from .i18n import lazy_gettext as _l

INVALID_FIELDS = _l("Some fields are not valid: check the highlighted ones.")


class BaseSchema(Schema):
    """Unknown fields are dropped: platforms add their own claims and we keep only ours."""

    class Meta:
        unknown = EXCLUDE


class UtcTime(fields.Field):
    """A stored time (naive UTC, as every datetime here) as the JSON API gives it:
    `2026-12-07T20:09:57Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat(timespec="seconds") + "Z"


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
