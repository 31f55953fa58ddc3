"""Pages reached after a launch. `/t/<token>/…`: the token is the launch session (no cookies)."""

from flask import Blueprint

from . import views

bp = Blueprint("activities", __name__, url_prefix="/t/<token>")

bp.add_url_rule("/", view_func=views.home, methods=["GET"])
bp.add_url_rule("/links/<int:link_pk>", view_func=views.link_page, methods=["GET"])
bp.add_url_rule("/deep-link", view_func=views.deep_link_submit, methods=["POST"])
bp.add_url_rule("/bind", view_func=views.bind_link, methods=["POST"])
