"""The demo platform's URLs (registered only when DEMO_PLATFORM is on)."""

from flask import Blueprint

from . import views

bp = Blueprint("demo", __name__, url_prefix="/demo")

bp.add_url_rule("", view_func=views.index, methods=["GET"])
bp.add_url_rule("/launch", view_func=views.launch, methods=["POST"])
bp.add_url_rule("/auth", view_func=views.auth, methods=["GET", "POST"])
bp.add_url_rule("/jwks", view_func=views.jwks, methods=["GET"])
bp.add_url_rule("/deep-link-return", view_func=views.deep_link_return, methods=["POST"])
