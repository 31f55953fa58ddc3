"""Learner, trainer and deep-linking launches through the real OIDC flow."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_tool.extensions import db
from .lti_platform import landing_url
from lti_tool.lti.models import Context, LaunchSession, LtiUser, ResourceLink


def test_learner_launch_lands_on_the_activity_page(client, platform):
    response = platform.launch(client, "learner")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="learner-page"' in page
    assert "Espace apprenant" in page  # launch_presentation.locale fr-FR
    assert "Camille Martin" in page
    user = db.session.execute(select(LtiUser)).scalar_one()
    assert (user.sub, user.name) == ("user-1", "Camille Martin")
    link = db.session.execute(select(ResourceLink)).scalar_one()
    assert link.resource_link_id == "link-1"
    session = db.session.execute(select(LaunchSession)).scalar_one()
    assert session.role == "learner" and session.locale == "fr"


def test_trainer_launch_lands_on_the_trainer_view_in_english(client, platform):
    response = platform.launch(client, "trainer", locale="en-GB")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="trainer-page"' in page
    assert "Trainer view" in page


def test_admin_without_course_role_reaches_trainer_view(client, platform):
    response = platform.launch(client, "admin")
    assert 'data-testid="trainer-page"' in response.get_data(as_text=True)


def test_deep_linking_launch_reaches_the_picker(client, platform):
    response = platform.launch(client, "trainer", message_type="LtiDeepLinkingRequest")
    assert response.status_code == 200
    assert 'data-testid="picker-page"' in response.get_data(as_text=True)
    session = db.session.execute(select(LaunchSession)).scalar_one()
    assert session.services["deep_linking"]["deep_link_return_url"].endswith("contentitem_return.php")


def test_learner_cannot_open_the_deep_linking_picker(client, platform):
    response = platform.launch(client, "learner", message_type="LtiDeepLinkingRequest")
    assert response.status_code == 403


def test_launch_page_moves_to_a_tokenised_url_that_needs_no_cookie(client, platform):
    response = platform.launch(client, follow=False)
    location = landing_url(response)
    assert location.startswith("/t/")
    # The page behind the token works from a fresh client with no cookie at all.
    fresh = client.application.test_client()
    page = fresh.get(location)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_repeat_launches_update_rather_than_duplicate(client, platform):
    platform.launch(client)
    platform.launch(client)
    assert db.session.execute(select(func.count()).select_from(LtiUser)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(Context)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(ResourceLink)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(LaunchSession)).scalar_one() == 2
