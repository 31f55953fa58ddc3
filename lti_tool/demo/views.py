"""Demo platform views: the course page with its launch buttons, the OIDC endpoints, the gradebook."""

from __future__ import annotations

from flask import current_app, render_template, request

from ..declarations.services import level_named
from ..lti.deep_linking import POLICY_PARAM
from ..common.csp import allow_form_action, allow_frames, frame_ancestors
from ..common.errors import ToolError
from ..common.i18n import normalise_locale
from ..common.network import origin_of
from . import gradebook, services


def demo_page_policy() -> None:
    """The demo platform's pages frame the tool and post to it, as Moodle's do; they are framed
    by the demo platform itself only."""
    tool = origin_of(current_app.config["TOOL_BASE_URL"])
    frame_ancestors(["'self'"])
    allow_frames(tool)
    allow_form_action(tool)


def index():
    services.ensure_registered()
    services.jwks()  # creates the demo platform's key on first use
    return render_template("demo/index.html", people=services.PEOPLE, course=services.COURSE, link=services.LINK,
                           placed=gradebook.placed_items())


def launch():
    kind = request.form.get("kind", "")
    locale = normalise_locale(request.form.get("locale")) or "fr"
    item = None
    if request.form.get("item_id"):
        item = {"id": request.form["item_id"], "title": request.form.get("item_title", ""),
                "catalogue_id": request.form.get("catalogue_id", "")}
    try:
        params = services.login_initiation(kind, locale, item)
    except services.DemoError as exc:
        raise ToolError(str(exc), status=400, code="demo_bad_request") from exc
    return render_template("autopost.html", action=current_app.config["TOOL_BASE_URL"] + "/lti/login",
                           fields=params)


def auth():
    params = request.values.to_dict()
    try:
        action, fields = services.authentication_response(params)
    except services.DemoError as exc:
        raise ToolError(str(exc), status=400, code="demo_bad_request") from exc
    return render_template("autopost.html", action=action, fields=fields)


def jwks():
    keys = services.jwks()
    return keys


def deep_link_return():
    """Where the tool posts the trainer's picks: verified, then listed with launch buttons."""
    try:
        items = services.read_deep_linking_response(request.form.get("JWT", ""))
    except services.DemoError as exc:
        raise ToolError(str(exc), status=400, code="demo_bad_request") from exc
    gradebook.place_items(items)  # each item with a lineItem gets its gradebook column
    levels = {item["id"]: level_named(item["custom"].get(POLICY_PARAM)) for item in items}
    return render_template("demo/placed.html", items=items, levels=levels)


def gradebook_page():
    """The demo course's gradebook: learners × line items, as the tool's scores left them."""
    learners, items, scores = gradebook.gradebook(services.COURSE["id"])
    return render_template("demo/gradebook.html", course=services.COURSE, learners=learners, items=items,
                           scores=scores)
