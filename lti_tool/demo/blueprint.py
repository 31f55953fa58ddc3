"""The demo platform's URLs (registered only when DEMO_PLATFORM is on)."""

from flask import Blueprint

from . import api, views

bp = Blueprint("demo", __name__, url_prefix="/demo")
bp.before_request(views.demo_page_policy)

bp.add_url_rule("", view_func=views.index, methods=["GET"])
bp.add_url_rule("/launch", view_func=views.launch, methods=["POST"])
bp.add_url_rule("/auth", view_func=views.auth, methods=["GET", "POST"])
bp.add_url_rule("/jwks", view_func=views.jwks, methods=["GET"])
bp.add_url_rule("/deep-link-return", view_func=views.deep_link_return, methods=["POST"])
bp.add_url_rule("/gradebook", view_func=views.gradebook_page, methods=["GET"])
# Services, shaped as Moodle's mod/lti/token.php and mod/lti/services.php URLs.
bp.add_url_rule("/token", view_func=api.token, methods=["POST"])
bp.add_url_rule("/services/<context_id>/lineitems", view_func=api.list_line_items, methods=["GET"])
bp.add_url_rule("/services/<context_id>/lineitems", view_func=api.create_line_item, methods=["POST"])
bp.add_url_rule("/services/<context_id>/lineitems/<int:item_id>/lineitem", view_func=api.get_line_item,
                methods=["GET"])
bp.add_url_rule("/services/<context_id>/lineitems/<int:item_id>/lineitem", view_func=api.change_line_item,
                methods=["PUT", "DELETE"])
bp.add_url_rule("/services/<context_id>/lineitems/<int:item_id>/lineitem/scores", view_func=api.post_score,
                methods=["POST"])
bp.add_url_rule("/services/CourseSection/<context_id>/bindings/<int:type_id>/memberships",
                view_func=api.memberships, methods=["GET"])
