"""Request helpers shared by the JSON endpoints, and the mark of the JSON API."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import request

from .i18n import lazy_gettext as _l
from .errors import ToolError

View = TypeVar("View", bound=Callable[..., Any])


def json_api(view: View) -> View:
    """Mark `view` as part of the JSON API: its errors are answered in the JSON error shape
    whatever the client accepts (lti_tool.errors.wants_json reads the mark)."""
    view.json_api = True  # type: ignore[attr-defined]
    return view


def json_body() -> dict:
    """The request's JSON object; anything else (no JSON, a list, a string) is a clear 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ToolError(_l("The request must be a JSON object."), status=400, code="bad_json")
    return body
