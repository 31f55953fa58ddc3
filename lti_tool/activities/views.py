"""Landing pages of a launch: learner activity page, trainer view, deep-linking picker.

Later issues fill these; here they prove who launched, in which course and link.
"""

from __future__ import annotations

from flask import render_template

from ..common.launch import current_launch, launch_required
from ..lti.errors import LtiRefusal
from ..lti.roles import is_staff
from ..lti.services import resource_link_in_scope


@launch_required()
def home():
    session = current_launch()
    if session.message_type == "LtiDeepLinkingRequest":
        if not is_staff(session.role):
            raise LtiRefusal("forbidden_role")
        return render_template("activities/picker.html", launch=session)
    template = "activities/trainer.html" if is_staff(session.role) else "activities/learner.html"
    return render_template(template, launch=session, link=session.resource_link)


@launch_required()
def link_page(link_pk: int):
    session = current_launch()
    link = resource_link_in_scope(session, link_pk)
    template = "activities/trainer.html" if is_staff(session.role) else "activities/learner.html"
    return render_template(template, launch=session, link=link)
