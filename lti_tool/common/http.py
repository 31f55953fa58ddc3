"""Request helpers shared by the JSON endpoints."""

from __future__ import annotations

from flask import request

from .i18n import lazy_gettext as _l
from .errors import ToolError


def json_body() -> dict:
    """The request's JSON object; anything else (no JSON, a list, a string) is a clear 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ToolError(_l("The request must be a JSON object."), status=400, code="bad_json")
    return body
