"""Tenant isolation: a launch session reaches only its own platform's and course's data."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.lti.models import LaunchSession, ResourceLink
from lti_tool.lti.services import find_launch_session

from .lti_platform import TestPlatform, landing_url


def launch_token(platform: TestPlatform, client, **claims) -> str:
    response = platform.launch(client, follow=False, **claims)
    return landing_url(response).split("/t/")[1].split("/")[0]


def link_pk(token: str) -> int:
    db.session.expire_all()
    return find_launch_session(token).resource_link_pk


def test_session_of_platform_a_cannot_read_a_link_of_platform_b(app, client, platform, http_mock):
    other = TestPlatform(issuer="https://moodle-b.test", client_id="client-b", key_name="platform-b")
    other.serve_jwks(http_mock)
    other.register()
    token_a = launch_token(platform, client, link_id="shared-id")
    token_b = launch_token(other, app.test_client(), link_id="shared-id")  # same LTI ids, other platform

    links = db.session.execute(select(ResourceLink)).scalars().all()
    assert len(links) == 2 and links[0].platform_id != links[1].platform_id

    own = client.get(f"/t/{token_a}/links/{link_pk(token_a)}")
    assert own.status_code == 200
    foreign = client.get(f"/t/{token_a}/links/{link_pk(token_b)}")
    assert foreign.status_code == 404
    assert "not_in_scope" in foreign.get_data(as_text=True)


def test_session_of_one_course_cannot_read_a_link_of_another_course(app, client, platform):
    token_x = launch_token(platform, client, link_id="link-x")
    token_y = launch_token(platform, client, link_id="link-y",
                           **{"https://purl.imsglobal.org/spec/lti/claim/context": {"id": "course-Y"}})
    assert client.get(f"/t/{token_x}/links/{link_pk(token_y)}").status_code == 404
    assert client.get(f"/t/{token_y}/links/{link_pk(token_x)}").status_code == 404


def test_a_link_cannot_be_moved_to_another_course_by_a_claim(app, client, platform):
    launch_token(platform, client, link_id="link-1")
    response = platform.launch(client, follow=False, link_id="link-1",
                               **{"https://purl.imsglobal.org/spec/lti/claim/context": {"id": "course-Z"}})
    assert response.status_code == 404
    assert len(db.session.execute(select(LaunchSession)).scalars().all()) == 1


def test_tokens_are_stored_only_as_digests(app, client, platform):
    token = launch_token(platform, client)
    row = db.session.execute(select(LaunchSession)).scalar_one()
    assert token not in row.token_digest and len(row.token_digest) == 64
