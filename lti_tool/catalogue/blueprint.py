"""Catalogue URLs."""

from flask import Blueprint

from . import views

bp = Blueprint("catalogue", __name__)

bp.add_url_rule("/catalogue.json", view_func=views.catalogue_json, methods=["GET"])
