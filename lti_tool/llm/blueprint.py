"""The centre's LLM pages (settings, usage), under the launch token."""

from flask import Blueprint

from . import views

bp = Blueprint("llm", __name__, url_prefix="/t/<token>")

bp.add_url_rule("/admin/llm", view_func=views.settings_page, methods=["GET"])
bp.add_url_rule("/admin/llm", view_func=views.save_settings, methods=["POST"], endpoint="save_settings")
bp.add_url_rule("/admin/llm/test", view_func=views.test_settings, methods=["POST"])
bp.add_url_rule("/admin/usage", view_func=views.usage_page, methods=["GET"])
bp.add_url_rule("/admin/usage.json", view_func=views.usage_json, methods=["GET"])
