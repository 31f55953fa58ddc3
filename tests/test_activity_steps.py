"""An activity in steps: a placed module is its contents, one page per theme (or phase) with
previous/next and the learner's progress, and a "hand in" step (checklist, declaration, submit)
linked from every page; a placed theme keeps its one page and gets the hand-in step too."""

from __future__ import annotations

import html
import re

from lti_tool.catalogue.services import CONTENT_DIR, load_catalogue

from .lti_platform import CLAIM, landing_url

CATALOGUE = load_catalogue("fr", CONTENT_DIR)
DECLARATION = 'id="declaration-form"'


def open_item(platform, client, item: str, *, sub: str = "user-1", link_id: str = "link-1", role: str = "learner"):
    response = platform.launch(client, role, sub=sub, link_id=link_id, **{CLAIM + "custom": {"catalogue_item": item}})
    return landing_url(response), readable(response.get_data(as_text=True))


def readable(text: str) -> str:
    """The page's HTML, entities decoded and no-break spaces (French punctuation) as spaces."""
    return html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return readable(response.get_data(as_text=True))


def exercise_forms(text: str) -> set[str]:
    return set(re.findall(r'class="exercise-form" data-exercise="([^"]+)"', text))


def test_a_module_opens_on_its_contents_with_each_theme_and_the_hand_in_step(client, platform):
    module = CATALOGUE.item("m1")
    url, contents = open_item(platform, client, "m1")
    assert 'data-testid="contents"' in contents
    for number, theme in enumerate(module.themes, start=1):
        assert f'href="{url}parts/{number}">{readable(theme["title"])}</a>' in contents
    assert f'href="{url}hand-in"' in contents
    assert not exercise_forms(contents) and DECLARATION not in contents  # no theme's work, no form
    assert "Exercices terminés : 0 sur 3" in contents


def test_each_theme_is_a_page_with_previous_next_progress_and_the_hand_in_link(client, platform):
    module = CATALOGUE.item("m2")
    url, _ = open_item(platform, client, "m2")
    total = sum(len(t["exercises"]) for t in module.themes)
    for number, theme in enumerate(module.themes, start=1):
        text = page(client, f"{url}parts/{number}")
        assert exercise_forms(text) == {e["id"] for e in theme["exercises"]}  # this theme's work, and only it
        assert f"<h2>{readable(theme['title'])}</h2>" in text
        assert f"Thème {number} sur {len(module.themes)}" in text
        assert f"Exercices terminés : 0 sur {total}" in text
        assert f'href="{url}hand-in"' in text and DECLARATION not in text
        previous = f'rel="prev" href="{url}parts/{number - 1}"' if number > 1 else f'rel="prev" href="{url}"'
        assert previous in text
        following = f'rel="next" href="{url}parts/{number + 1}"' if number < len(module.themes) \
            else f'rel="next" href="{url}hand-in"'
        assert following in text
    assert client.get(f"{url}parts/{len(module.themes) + 1}").status_code == 404
    assert client.get(f"{url}parts/0").headers["Location"].endswith(url)


def test_progress_shows_on_the_contents_the_theme_pages_and_the_hand_in_step(client, platform):
    url, _ = open_item(platform, client, "m1")
    full = {k: "fait" for k in ("specific", "measurable", "achievable", "relevant", "time_bound")}
    assert client.put(url + "exercises/m1.t2.e1/draft", json={"answers": full}).status_code == 200
    assert client.post(url + "exercises/m1.t2.e1/done", json={}).status_code == 200
    assert client.post(url + "themes/m1.t2/read", json={}).status_code == 200
    second = CATALOGUE.item("m1.t2")
    contents = page(client, url)
    assert f"Exercice terminé : 1 sur {len(second['exercises'])}" in contents or \
        f"Exercices terminés : 1 sur {len(second['exercises'])}" in contents
    assert "Lu ✓" in contents
    total = sum(len(t["exercises"]) for t in CATALOGUE.item("m1").themes)
    for step in ("parts/1", "parts/3", "hand-in"):
        assert f"Exercices terminés : 1 sur {total}" in page(client, url + step)


def test_the_hand_in_step_holds_the_checklist_and_the_declaration_and_submits(client, platform):
    url, _ = open_item(platform, client, "m1")
    hand_in = page(client, url + "hand-in")
    assert 'data-testid="checklist"' in hand_in and DECLARATION in hand_in and 'data-testid="work-summary"' in hand_in
    assert not exercise_forms(hand_in)
    assert client.put(url + "exercises/m1.t2.e1/draft", json={"answers": {"specific": "Mon objectif"}}).status_code == 200
    for item in ("before.frame", "during.confidential", "after.explain"):
        assert client.put(url + "checklist/ticks", json={"ticks": {item: True}}).status_code == 200
    submitted = client.post(url + "submissions", json={"declaration": {"level_used": "no_ai", "honour": True}})
    assert submitted.status_code == 201, submitted.get_json()
    assert "Version 1" in page(client, url + "hand-in")


def test_a_placed_theme_keeps_its_page_and_gets_the_hand_in_step(client, platform):
    theme = CATALOGUE.item("m2.t1")
    url, text = open_item(platform, client, "m2.t1")
    assert exercise_forms(text) == {e["id"] for e in theme["exercises"]} and DECLARATION in text
    assert f'href="{url}hand-in"' in text and 'data-testid="pager"' not in text
    hand_in = page(client, url + "hand-in")
    assert DECLARATION in hand_in and not exercise_forms(hand_in)
    assert client.get(url + "parts/1").status_code == 404  # a theme has no parts


def test_a_trainer_pages_through_a_module_and_has_no_hand_in_step(client, platform):
    url, contents = open_item(platform, client, "m3", role="trainer")
    assert 'data-testid="trainer-page"' in contents and 'data-testid="contents"' in contents
    assert "hand-in" not in contents
    phase = CATALOGUE.item("m3").themes[1]
    text = page(client, url + "parts/2")
    assert f"<h2>{readable(phase['title'])}</h2>" in text and "Phase 2 sur 4" in text
    assert client.get(url + "hand-in").status_code == 303


def test_another_activity_of_the_course_pages_read_only(client, platform):
    url_m4, _ = open_item(platform, client, "m4", link_id="link-m4")
    url, _ = open_item(platform, client, "m2.t1", link_id="link-t")
    progress = page(client, url + "progress")
    link_pk = re.search(r'href="/t/[^/]+/links/(\d+)">[^<]*Module 4|href="/t/[^/]+/links/(\d+)"', progress)
    pks = [int(pk) for pk in re.findall(r'/links/(\d+)"', progress)]
    assert link_pk and pks
    for pk in pks:
        contents = page(client, f"{url}links/{pk}")
        if 'data-testid="contents"' not in contents:
            continue
        assert f'href="{url}links/{pk}/parts/2"' in contents and "hand-in" not in contents
        second = page(client, f"{url}links/{pk}/parts/2")
        assert "readonly" in second and f'rel="prev" href="{url}links/{pk}/parts/1"' in second
        return
    raise AssertionError("the module placed in the course is not listed")


def test_no_page_of_a_module_is_as_long_as_the_module_was(client, platform):
    """The module's text is split: each page holds at most one theme's content."""
    for module in CATALOGUE.modules:
        url, contents = open_item(platform, client, module.id, link_id="link-" + module.id)
        for number, theme in enumerate(module.themes, start=1):
            text = page(client, f"{url}parts/{number}")
            others = [t for t in module.themes if t is not theme]
            assert not any(f"<h2>{readable(t['title'])}</h2>" in text for t in others)


def test_a_theme_page_of_a_module_comes_from_the_fragment_cache_as_it_would_without(app, client, platform):
    url, _ = open_item(platform, client, "m3")
    app.extensions.pop("lti_tool_fragments", None)  # an empty cache
    client.get(url + "parts/2")  # fills the cache with this phase's text
    fragments = app.extensions.get("lti_tool_fragments", {})
    themes = {key[-1] for key in fragments if key[1] == "theme"}
    assert themes == {"m3.p2"}  # only the page's own phase was rendered
    cached = client.get(url + "parts/2").get_data(as_text=True)
    app.config["FRAGMENT_CACHE"] = False
    try:
        uncached = client.get(url + "parts/2").get_data(as_text=True)
    finally:
        app.config["FRAGMENT_CACHE"] = True
    nonce = re.compile(r'nonce="[^"]+"')
    assert nonce.sub("", cached) == nonce.sub("", uncached)
