"""Catalogue text as HTML: paragraphs, numbered steps and bullet lists (catalogue/FORMAT.md, "Text").
No instruction or hint of the catalogue runs its steps or bullets together into one paragraph."""

from __future__ import annotations

import html
import re

import pytest

from lti_tool.catalogue.services import CONTENT_DIR, LANGUAGES, load_catalogue
from lti_tool.catalogue.text import paragraphs

from .lti_platform import CLAIM, landing_url

LIST_LINE = re.compile(r"^(\d{1,2}\. |- )", re.MULTILINE)
# A paragraph that holds a line starting as a step or a bullet: a list run into a paragraph.
RUN_TOGETHER = re.compile(r"<p[^>]*>(?:[^<]*\n)?\s*(?:\d{1,2}\. |- )[^<]*</p>|<p[^>]*>[^<]*\n\s*(?:\d{1,2}\. |- )")
TEXT_FIELDS = ("instructions", "hint", "guidance", "scenario", "source_text")  # what pages show through `paragraphs`


def test_steps_and_bullets_become_lists_and_the_rest_stays_paragraphs():
    text = "Objectif : préparer.\n\n1. Lancez le prompt.\n2. Relisez <b>tout</b>.\n\nVotre version doit :\n- être claire ;\n- rester neutre.\nEnsuite, discutez."
    assert str(paragraphs(text)) == (
        "<p>Objectif : préparer.</p>"
        "<ol><li>Lancez le prompt.</li><li>Relisez &lt;b&gt;tout&lt;/b&gt;.</li></ol>"
        "<p>Votre version doit :</p><ul><li>être claire ;</li><li>rester neutre.</li></ul><p>Ensuite, discutez.</p>")


def test_a_numbered_list_keeps_its_numbering_and_plain_text_is_unchanged():
    assert str(paragraphs("3. troisième\n4. quatrième")) == '<ol start="3"><li>troisième</li><li>quatrième</li></ol>'
    assert str(paragraphs("Une ligne\net une autre\n\nPuis un paragraphe.")) == \
        "<p>Une ligne\net une autre</p><p>Puis un paragraphe.</p>"
    assert str(paragraphs("En 2024. Ou -5 degrés, 1.5 litre")) == "<p>En 2024. Ou -5 degrés, 1.5 litre</p>"
    assert str(paragraphs('- <script>alert("x")</script>')) == \
        "<ul><li>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</li></ul>"


def fields_with_lists(language: str):
    for module in load_catalogue(language, CONTENT_DIR).modules:
        for theme in module.themes:
            for exercise in theme["exercises"]:
                for name in TEXT_FIELDS:
                    if isinstance(exercise.get(name), str) and LIST_LINE.search(exercise[name]):
                        yield f"{exercise['id']}.{name}", exercise[name]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_instruction_or_hint_of_the_catalogue_runs_its_list_into_a_paragraph(language):
    found = dict(fields_with_lists(language))
    assert len(found) >= 20  # the numbered steps and bullet lists of the content (22 fields per language)
    for where, text in found.items():
        rendered = str(paragraphs(text))
        assert not RUN_TOGETHER.search(rendered), where
        items = len(LIST_LINE.findall(text))
        assert rendered.count("<li>") == items, where


def test_the_pages_show_the_instructions_and_hints_as_lists(client, platform):
    """Every theme page of every module, as the learner gets it: no step or bullet inside a paragraph."""
    catalogue = load_catalogue("fr", CONTENT_DIR)
    listed = 0
    for module in catalogue.modules:
        response = platform.launch(client, "learner", link_id="link-" + module.id,
                                   **{CLAIM + "custom": {"catalogue_item": module.id}})
        url = landing_url(response)
        for number in range(1, len(module.themes) + 1):
            text = html.unescape(client.get(f"{url}parts/{number}").get_data(as_text=True))
            assert not RUN_TOGETHER.search(text), (module.id, number, RUN_TOGETHER.search(text).group(0)[:200])
            listed += text.count("<li>")
    assert listed > 100
