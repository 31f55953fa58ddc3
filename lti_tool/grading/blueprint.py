"""Grading routes, under the launch token."""

from flask import Blueprint

from ..activities.hooks import add_panels
from . import views

bp = Blueprint("grading", __name__, url_prefix="/t/<token>")
bp.record_once(lambda state: add_panels(state.app, views.activity_panels))

bp.add_url_rule("/grading", view_func=views.roster_page, methods=["GET"])
bp.add_url_rule("/grading/summary", view_func=views.summary, methods=["GET"])
bp.add_url_rule("/grading/<int:user_pk>", view_func=views.grading_page, methods=["GET"])
bp.add_url_rule("/grading/<int:user_pk>/grade", view_func=views.save_grade, methods=["POST"])
bp.add_url_rule("/grading/<int:user_pk>/draft-comment", view_func=views.draft_comment, methods=["POST"])
bp.add_url_rule("/grading/outbox/<int:row_id>/retry", view_func=views.retry, methods=["POST"])
bp.add_url_rule("/grading/outbox/retry-all", view_func=views.retry_all, methods=["POST"])
# The assignment's overview is the roster (one list): its page redirects, its exports stay here.
bp.add_url_rule("/overview", view_func=views.overview_page, methods=["GET"])
bp.add_url_rule("/overview.json", view_func=views.overview_json, methods=["GET"])
bp.add_url_rule("/overview.csv", view_func=views.overview_csv, methods=["GET"])
bp.add_url_rule("/grade", view_func=views.my_grade, methods=["GET"])
