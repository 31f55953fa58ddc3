"""The public outline of the catalogue (no learner data)."""

from __future__ import annotations

from flask import current_app, request

from ..common.i18n import lazy_gettext as _l
from ..common.i18n import normalise_locale
from ..common.errors import ToolError
from ..common.http import json_api
from .services import catalogue_outline, get_catalogue


@json_api
def catalogue_json():
    requested = request.args.get("lang", "fr")
    language = normalise_locale(requested)
    if language is None:
        raise ToolError(_l("Unknown language: use lang=fr or lang=en."), status=400, code="bad_language")
    response = current_app.json.response(catalogue_outline(get_catalogue(language)))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
