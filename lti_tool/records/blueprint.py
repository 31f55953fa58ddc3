"""Follow-up records and personal data routes, under the launch token."""

from flask import Blueprint

from . import views

bp = Blueprint("records", __name__, url_prefix="/t/<token>")

bp.add_url_rule("/follow-up", view_func=views.course_page, methods=["GET"])
bp.add_url_rule("/follow-up.csv", view_func=views.course_csv, methods=["GET"])
bp.add_url_rule("/follow-up.json", view_func=views.course_json, methods=["GET"])
bp.add_url_rule("/follow-up/<int:user_pk>", view_func=views.record_page, methods=["GET"])
bp.add_url_rule("/follow-up/<int:user_pk>.csv", view_func=views.record_csv, methods=["GET"])
bp.add_url_rule("/follow-up/<int:user_pk>.json", view_func=views.record_json, methods=["GET"])
bp.add_url_rule("/admin/people/<int:user_pk>/data.json", view_func=views.person_data, methods=["GET"])
bp.add_url_rule("/admin/people/<int:user_pk>/erase", view_func=views.erase_person, methods=["POST"])
bp.add_url_rule("/admin/privacy-register", view_func=views.privacy_register, methods=["GET"])
