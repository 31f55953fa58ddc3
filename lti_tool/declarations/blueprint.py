"""AI-use policy, checklist, declaration and submission routes, under the launch token."""

from flask import Blueprint

from ..activities.hooks import AiPolicy, add_panels, set_ai_policy
from . import services, views

bp = Blueprint("declarations", __name__, url_prefix="/t/<token>")


@bp.record_once
def _serve_activity_pages(state) -> None:
    """Give activities the AI-use policy and this area's parts of the activity page."""
    set_ai_policy(state.app, AiPolicy(of_activity=services.policy_for, scale=services.centre_scale,
                                         score_maximum=services.centre_score_maximum))
    add_panels(state.app, views.activity_panels)


bp.add_url_rule("/policy", view_func=views.get_policy, methods=["GET"])
bp.add_url_rule("/policy", view_func=views.put_policy, methods=["PUT"], endpoint="put_policy")
bp.add_url_rule("/checklist", view_func=views.put_checklist, methods=["PUT"])
bp.add_url_rule("/checklist", view_func=views.reset_checklist, methods=["DELETE"], endpoint="reset_checklist")
bp.add_url_rule("/checklist/ticks", view_func=views.put_ticks, methods=["PUT"])
bp.add_url_rule("/submissions", view_func=views.list_submissions, methods=["GET"])
bp.add_url_rule("/submissions", view_func=views.create_submission, methods=["POST"], endpoint="create_submission")
bp.add_url_rule("/submissions/<int:version>", view_func=views.get_submission, methods=["GET"])
bp.add_url_rule("/submissions/<int:version>/receipt", view_func=views.receipt, methods=["GET"])
bp.add_url_rule("/learners/<int:user_pk>/submissions", view_func=views.learner_submissions, methods=["GET"])
bp.add_url_rule("/learners/<int:user_pk>/submissions/<int:version>", view_func=views.learner_submission,
                methods=["GET"])
bp.add_url_rule("/learners/<int:user_pk>/submissions/<int:version>/view", view_func=views.trainer_submission,
                methods=["GET"])
bp.add_url_rule("/admin/centre", view_func=views.centre_page, methods=["GET"])
bp.add_url_rule("/admin/centre", view_func=views.put_centre, methods=["PUT"], endpoint="put_centre")
