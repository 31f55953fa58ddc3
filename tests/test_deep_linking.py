"""Deep Linking: the picker answers a signed LtiDeepLinkingResponse; placed links deliver their item."""

from __future__ import annotations

import html
import re

import jwt
import pytest
from sqlalchemy import func, select

from lti_tool.activities.models import Activity
from lti_tool.extensions import db
from lti_tool.declarations.models import Submission

from .lti_platform import CLAIM, landing_url

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def picker(client, platform, **claims):
    response = platform.launch(client, "trainer", message_type="LtiDeepLinkingRequest", **claims)
    return landing_url(response), response.get_data(as_text=True)


def tool_key(client, kid):
    keys = {k["kid"]: k for k in client.get("/lti/jwks").get_json()["keys"]}
    return jwt.PyJWK(keys[kid]).key


def test_picker_lists_the_catalogue_tree(client, platform):
    _, page = picker(client, platform)
    for item_id in ("m1", "m1.t2", "m1.t2.e1", "m3.p2.e6", "m4.t3.e1"):
        assert f'value="{item_id}"' in page


def test_picked_items_come_back_signed_with_line_items(client, platform):
    url, _ = picker(client, platform)
    response = client.post(url + "deep-link", data={
        "item": ["m1.t2", "m4.t3.e1"], "title-m1.t2": "Objectifs SMART", "score-m1.t2": "20",
        "title-m4.t3.e1": "Ma roue du mentorat", "score-m4.t3.e1": "10", "policy-m4.t3.e1": "no_ai",
    })
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert f'action="{platform.issuer}/mod/lti/contentitem_return.php"' in page
    token = re.search(r'name="JWT" value="([^"]+)"', page).group(1)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, tool_key(client, header["kid"]), algorithms=["RS256"], audience=platform.issuer)
    assert claims["iss"] == platform.client_id
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[CLAIM + "deployment_id"] == platform.deployment_id
    assert DL + "data" not in claims  # the request carried no data
    items = claims[DL + "content_items"]
    assert [i["type"] for i in items] == ["ltiResourceLink", "ltiResourceLink"]
    assert items[0]["url"] == "https://tool.test/lti/launch"
    assert items[0]["custom"] == {"catalogue_item": "m1.t2", "score_maximum": "20"}
    assert items[0]["lineItem"] == {"scoreMaximum": 20.0, "label": "Objectifs SMART", "resourceId": "m1.t2"}
    assert items[1]["lineItem"]["resourceId"] == "m4.t3.e1"
    assert items[1]["custom"] == {"catalogue_item": "m4.t3.e1", "score_maximum": "10", "ai_policy": "no_ai"}


def test_data_is_echoed_when_the_platform_sent_it(client, platform):
    settings = {"deep_link_return_url": platform.issuer + "/return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"], "data": "opaque-42"}
    url, _ = picker(client, platform, **{DL + "deep_linking_settings": settings})
    response = client.post(url + "deep-link", data={"item": "m2", "title-m2": "Éthique", "score-m2": "100"})
    token = re.search(r'name="JWT" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    assert jwt.decode(token, options={"verify_signature": False})[DL + "data"] == "opaque-42"


@pytest.mark.parametrize("form, code", [
    ({}, "invalid_selection"),
    ({"item": "m1", "title-m1": "", "score-m1": "10"}, "invalid_selection"),
    ({"item": "m1", "title-m1": "M1", "score-m1": "0"}, "invalid_selection"),
    ({"item": "m1", "title-m1": "M1", "score-m1": "abc"}, "invalid_selection"),
    ({"item": "m9.t1", "title-m9.t1": "X", "score-m9.t1": "10"}, "unknown_item"),
    ({"item": "m1", "title-m1": "M1", "score-m1": "10", "policy-m1": "libre"}, "unknown_level"),
])
def test_bad_picks_are_refused(client, platform, form, code):
    url, _ = picker(client, platform)
    response = client.post(url + "deep-link", data=form, headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == code


def test_single_item_platforms_get_one_item(client, platform):
    settings = {"deep_link_return_url": platform.issuer + "/return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"], "accept_multiple": False}
    url, _ = picker(client, platform, **{DL + "deep_linking_settings": settings})
    response = client.post(url + "deep-link", data={"item": ["m1", "m2"], "title-m1": "a", "score-m1": "1",
                                                  "title-m2": "b", "score-m2": "1"},
                           headers={"Accept": "application/json"})
    assert response.get_json()["error"]["code"] == "single_item_only"


def test_learner_session_cannot_post_a_deep_linking_response(client, platform):
    url = landing_url(platform.launch(client, "learner"))
    assert client.post(url + "deep-link", data={"item": "m1"}).status_code == 403


def test_placed_link_delivers_its_item_to_learners(client, platform):
    response = platform.launch(client, "learner", **{CLAIM + "custom": {"catalogue_item": "m1.t2"}})
    page = response.get_data(as_text=True)
    assert 'id="m1.t2"' in page and 'id="m1.t2.e1"' in page
    activity = db.session.execute(select(Activity)).scalar_one()
    assert (activity.catalogue_item, activity.bound_by) == ("m1.t2", "deep_linking")


def test_unconfigured_link_says_so_to_learners_and_trainer_binds_it_once(client, platform, app):
    page = platform.launch(client, "learner").get_data(as_text=True)
    assert "pas encore configurée" in html.unescape(page)
    url = landing_url(platform.launch(client, "trainer"))
    assert client.post(url + "bind", data={"item": "m2.t4"}).status_code == 303
    assert client.post(url + "bind", data={"item": "m1"}).status_code == 303  # once: the first binding stays
    page = platform.launch(app.test_client(), "learner").get_data(as_text=True)
    assert 'id="m2.t4"' in page
    assert db.session.execute(select(Activity.catalogue_item)).scalar_one() == "m2.t4"


def test_a_link_whose_content_left_the_catalogue_is_bound_again_and_keeps_its_submissions(client, platform, app):
    from .test_submissions import REQUIRED, submit, tick, work

    placed = {CLAIM + "custom": {"catalogue_item": "m1.t2"}}
    learner = landing_url(platform.launch(client, "learner", **placed))
    work(client, learner)
    assert tick(client, learner, *REQUIRED).status_code == 200
    assert submit(client, learner).status_code == 201
    activity = db.session.execute(select(Activity)).scalar_one()
    activity.catalogue_item = "m1.t9"  # a content update removed the item
    db.session.commit()
    page = html.unescape(platform.launch(app.test_client(), "learner", **placed).get_data(as_text=True))
    assert 'data-testid="content-removed"' in page and "n’est plus proposé" in page
    assert "pas encore configurée" not in page
    trainer = platform.launch(client, "trainer", sub="teacher-1", **placed)
    text = html.unescape(trainer.get_data(as_text=True))
    assert 'data-testid="bind-form"' in text and "n’est plus dans le catalogue" in text
    url = landing_url(trainer)
    assert client.post(url + "bind", data={"item": "m9.none"}).status_code == 422  # still only catalogue items
    assert client.post(url + "bind", data={"item": "m2.t4"}).status_code == 303
    assert client.post(url + "bind", data={"item": "m1"}).status_code == 303  # the new binding stays
    db.session.expire_all()
    activity = db.session.get(Activity, activity.id)
    assert (activity.catalogue_item, activity.bound_by) == ("m2.t4", "trainer")
    page = platform.launch(app.test_client(), "learner", **placed).get_data(as_text=True)
    assert 'id="m2.t4"' in page and 'data-testid="content-removed"' not in page
    # The submission made on the removed content is still the learner's, on their record.
    assert db.session.execute(select(func.count()).select_from(Submission)).scalar_one() == 1
    line = client.get(url + "follow-up.json").get_json()["learners"][0]["activities"][0]
    assert (line["versions"], line["status"], line["content_removed"]) == (1, "submitted", False)


def test_learner_cannot_bind(client, platform):
    url = landing_url(platform.launch(client, "learner"))
    assert client.post(url + "bind", data={"item": "m1"}).status_code == 403
