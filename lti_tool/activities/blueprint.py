"""Pages reached after a launch. `/t/<token>/…`: the token is the launch session (no cookies)."""

from flask import Blueprint

from ..lti.landing import set_landing_page
from . import api, assistant, views
from .wheel import wheel_chart

bp = Blueprint("activities", __name__, url_prefix="/t/<token>")
bp.record_once(lambda state: set_landing_page(state.app, views.render_landing))
# Receipts and the trainer's copy of a submission (declarations) draw a frozen wheel with it.
bp.add_app_template_global(wheel_chart, "wheel_chart")

bp.add_url_rule("/", view_func=views.home, methods=["GET"])
bp.add_url_rule("/parts/<int:part>", view_func=views.part_page, methods=["GET"])
bp.add_url_rule("/hand-in", view_func=views.hand_in, methods=["GET"])
bp.add_url_rule("/links/<int:link_pk>", view_func=views.link_page, methods=["GET"])
bp.add_url_rule("/links/<int:link_pk>/parts/<int:part>", view_func=views.link_page, methods=["GET"])
bp.add_url_rule("/deep-link", view_func=views.deep_link_submit, methods=["POST"])
bp.add_url_rule("/bind", view_func=views.bind_link, methods=["POST"])
bp.add_url_rule("/exercises/<exercise_id>/draft", view_func=api.save_draft, methods=["PUT"])
bp.add_url_rule("/exercises/<exercise_id>/done", view_func=api.complete, methods=["POST"])
bp.add_url_rule("/exercises/<exercise_id>/wheel", view_func=api.wheel, methods=["POST"])
bp.add_url_rule("/themes/<theme_id>/read", view_func=api.mark_read, methods=["POST"])
bp.add_url_rule("/themes/<theme_id>/quiz", view_func=api.quiz, methods=["POST"])
bp.add_url_rule("/progress", view_func=views.my_progress, methods=["GET"])
bp.add_url_rule("/ai/chat", view_func=assistant.chat_stream, methods=["POST"])
bp.add_url_rule("/ai/complete", view_func=assistant.chat_complete, methods=["POST"])
bp.add_url_rule("/ai/notice", view_func=assistant.acknowledge_notice, methods=["POST"])
