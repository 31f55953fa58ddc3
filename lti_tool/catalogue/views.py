"""The public outline of the catalogue (no learner data)."""

from __future__ import annotations

from flask import current_app, request

from ..common.i18n import lazy_gettext as _l
from ..common.i18n import normalise_locale
from ..common.errors import ToolError
from ..common.http import json_api
from .schemas import CatalogueOutlineOut, CatalogueQuerySchema
from .services import catalogue_outline, get_catalogue


@json_api("The catalogue's outline: modules, themes and exercises (no learner data)", query=CatalogueQuerySchema,
          out=CatalogueOutlineOut, errors=(400,))
def catalogue_json():
    requested = request.args.get("lang", "fr")
    language = normalise_locale(requested)
    if language is None:
        raise ToolError(_l("Unknown language: use lang=fr or lang=en."), status=400, code="bad_language")
    response = current_app.json.response(CatalogueOutlineOut().dump(catalogue_outline(get_catalogue(language))))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
