"""LTI URLs. These are stable: Moodle administrators copy them into their tool settings."""

from flask import Blueprint

from . import views

bp = Blueprint("lti", __name__, url_prefix="/lti")

bp.add_url_rule("/login", view_func=views.login, methods=["GET", "POST"])
bp.add_url_rule("/launch", view_func=views.launch, methods=["POST"])
bp.add_url_rule("/jwks", view_func=views.jwks, methods=["GET"])
bp.add_url_rule("/register", view_func=views.register, methods=["GET"])
