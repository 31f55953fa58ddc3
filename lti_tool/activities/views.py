"""Landing pages of a launch: learner activity page, trainer view, deep-linking picker.

Later issues fill these; here they prove who launched, in which course and link.
"""

from __future__ import annotations

from flask import g, render_template, url_for

from ..common.launch import current_launch, launch_required
from ..lti.errors import LtiRefusal
from ..lti.models import LaunchSession
from ..lti.roles import is_staff
from ..lti.services import resource_link_in_scope


def render_landing(session: LaunchSession, token: str, *, replace_url: bool = True) -> str:
    """The page a launch lands on: the picker for Deep Linking, else the trainer view or the
    learner's activity page. With `replace_url`, the browser's address becomes the token URL."""
    landing_url = url_for("activities.home", token=token) if replace_url else None
    if session.message_type == "LtiDeepLinkingRequest":
        if not is_staff(session.role):
            raise LtiRefusal("forbidden_role")
        return render_template("activities/picker.html", launch=session, landing_url=landing_url)
    template = "activities/trainer.html" if is_staff(session.role) else "activities/learner.html"
    return render_template(template, launch=session, link=session.resource_link, landing_url=landing_url)


@launch_required()
def home():
    return render_landing(current_launch(), g.launch_token, replace_url=False)


@launch_required()
def link_page(link_pk: int):
    session = current_launch()
    link = resource_link_in_scope(session, link_pk)
    template = "activities/trainer.html" if is_staff(session.role) else "activities/learner.html"
    return render_template(template, launch=session, link=link)
