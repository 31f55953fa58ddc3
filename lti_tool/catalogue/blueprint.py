"""Catalogue URLs."""

from flask import Blueprint

from . import views
from .text import paragraphs

bp = Blueprint("catalogue", __name__)

bp.add_url_rule("/catalogue.json", view_func=views.catalogue_json, methods=["GET"])
bp.add_app_template_filter(paragraphs, "paragraphs")
