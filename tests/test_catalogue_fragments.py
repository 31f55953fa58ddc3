"""Catalogue text and the declaration form's fixed part are rendered once per process
(shared_fragment) and never carry anything of a learner's: the cached page equals the page
rendered without the cache, in each language, for each AI-use level and for read-only views."""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.lti.models import ResourceLink

from .lti_platform import CLAIM, landing_url

NONCE = re.compile(r'nonce="[^"]+"')
TOKEN_PATH = re.compile(r"/t/[^/\"]+/")


def launch(platform, client, item: str, sub: str, locale: str = "fr-FR"):
    return platform.launch(client, "learner", sub=sub, link_id="link-" + item, **{
        CLAIM + "custom": {"catalogue_item": item},
        CLAIM + "launch_presentation": {"document_target": "iframe", "locale": locale},
    })


def fragments(app) -> dict:
    return app.extensions.get("lti_tool_fragments", {})


def without_tokens(html: str) -> str:
    """The page without what each response has of its own: the launch token, the script nonce."""
    return NONCE.sub('nonce="NONCE"', TOKEN_PATH.sub("/t/TOKEN/", html))


def test_the_cached_page_equals_the_uncached_one_and_holds_no_token(app, client, platform):
    url = landing_url(launch(platform, client, "m2.t1", "learner-a"))
    token_a = url.split("/")[2]
    # learner A saves work: it must show on A's page only
    assert client.put(url + "exercises/m2.t1.e2/draft", json={"answers": {"rewrite": "Texte de A"}}).status_code == 200
    cached = fragments(app)
    assert {key[1] for key in cached} >= {"theme", "exercise", "quiz", "resources", "declaration"}
    assert all(key[0] == "fr" for key in cached)
    assert not any(token_a in html for html in cached.values())
    assert not any("Texte de A" in html for html in cached.values())

    page_b = launch(platform, client, "m2.t1", "learner-b").get_data(as_text=True)
    assert "Texte de A" not in page_b and token_a not in page_b
    app.config["FRAGMENT_CACHE"] = False
    try:
        uncached_b = launch(platform, client, "m2.t1", "learner-b").get_data(as_text=True)
    finally:
        app.config["FRAGMENT_CACHE"] = True
    assert without_tokens(page_b) == without_tokens(uncached_b)

    page_a = client.get(url).get_data(as_text=True)
    assert "Texte de A" in page_a


def test_each_language_has_its_own_fragments(app, client, platform):
    french = launch(platform, client, "m2.t1", "learner-a").get_data(as_text=True)
    english = launch(platform, client, "m2.t1", "learner-b", locale="en-GB").get_data(as_text=True)
    assert "Idées clés" in french and "Key ideas" not in french
    assert "Key ideas" in english and "Idées clés" not in english
    assert {key[0] for key in fragments(app)} == {"fr", "en"}


def test_a_read_only_view_is_not_served_the_editable_quiz(app, client, platform):
    url = landing_url(launch(platform, client, "m2.t1", "learner-a"))
    own = client.get(url).get_data(as_text=True)
    launch(platform, client, "m2.t2", "learner-a")  # another activity of the same course
    other = db.session.execute(
        select(ResourceLink.id).where(ResourceLink.resource_link_id == "link-m2.t2")).scalar_one()
    read_only = client.get(url + f"links/{other}")
    assert read_only.status_code == 200
    quiz_inputs = re.findall(r'<input type="radio" name="m2\.t2-q0"[^>]*>', read_only.get_data(as_text=True))
    assert quiz_inputs and all("disabled" in tag for tag in quiz_inputs)
    own_inputs = re.findall(r'<input type="radio" name="m2\.t1-q0"[^>]*>', own)
    assert own_inputs and not any("disabled" in tag for tag in own_inputs)
    # the read-only m2.t2 quiz did not replace the editable one in the cache
    again = client.get(url).get_data(as_text=True)
    assert without_tokens(again) == without_tokens(own)


def above_allowed(html: str) -> list[str]:
    """The levels the declaration form marks as above what the work allows."""
    return re.findall(r'name="level_used" value="([a-z_]+)"[^>]*>\s*<span>[^<]*<span class="muted small">', html)


def test_the_declaration_form_follows_the_level_the_trainer_sets(app, client, platform):
    claims = {CLAIM + "custom": {"catalogue_item": "m2.t1"}}
    trainer = landing_url(platform.launch(client, "trainer", sub="trainer-1", link_id="link-m2.t1", **claims))
    before = launch(platform, client, "m2.t1", "learner-a").get_data(as_text=True)
    assert "no_ai" not in above_allowed(before) and "full" in above_allowed(before)
    assert client.put(trainer + "policy", json={"level": "no_ai", "note": ""}).status_code == 200
    after = launch(platform, client, "m2.t1", "learner-a").get_data(as_text=True)
    assert set(above_allowed(after)) > set(above_allowed(before))
    assert "no_ai" not in above_allowed(after)
    assert len({key for key in fragments(app) if key[1] == "declaration"}) == 2
