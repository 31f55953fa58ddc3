"""Registering with a Moodle that already has the tool: Moodle's "Update" keeps the client id,
and the confirmation says the registration is updated rather than waiting for activation."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from lti_tool.common.typography import problems
from lti_tool.extensions import db
from lti_tool.lti.models import Platform
from lti_tool.lti.services import create_invite

from .test_french_pages import TextNodes
from .test_registration import moodle, register  # noqa: F401


def confirmation(client) -> str:
    invite = create_invite(3600)
    db.session.commit()
    response = register(client, invite)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_a_new_registration_says_how_to_activate_it_and_show_it_to_teachers(app, client, moodle):
    page = confirmation(client)
    assert "Mentorat IA est enregistré sur votre plateforme" in page
    assert "attend maintenant d’être activé" in page
    assert "Tool configuration usage" in page and "Show in activity chooser and as a preconfigured tool" in page
    nodes = TextNodes()
    nodes.feed(page)
    assert [p for text in nodes.texts for p in problems(text)] == []  # French typography


def test_an_update_of_the_same_registration_says_it_is_updated(app, client, moodle):
    confirmation(client)
    page = confirmation(client)  # Moodle's "Update": the same client id, registered again
    assert db.session.execute(select(func.count()).select_from(Platform)).scalar_one() == 1
    assert 'data-testid="registration-updated"' in page
    assert "mis à jour" in page
    assert "activé" not in page and "Tool configuration usage" not in page
