"""The four modules in French and English: complete, item for item."""

from __future__ import annotations

import re

import pytest

from lti_tool.catalogue.services import CONTENT_DIR, load_catalogue

# The source guide (seeds/000): 4 modules, 15 themes/phases and their exercises.
EXPECTED_EXERCISES = {
    "m1.t1": 3, "m1.t2": 2, "m1.t3": 3, "m1.t4": 3,
    "m2.t1": 3, "m2.t2": 3, "m2.t3": 3, "m2.t4": 1,
    "m3.p1": 2, "m3.p2": 6, "m3.p3": 4, "m3.p4": 3,
    "m4.t1": 3, "m4.t2": 2, "m4.t3": 1,
}
FRENCH_WORDS = re.compile(r"\b(les|des|une|est|pour|avec|vous|votre|apprenti)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def catalogues():
    return {lang: load_catalogue(lang, CONTENT_DIR) for lang in ("fr", "en")}


def test_catalogue_json_lists_every_module_theme_and_exercise(client):
    for lang in ("fr", "en"):
        outline = client.get(f"/catalogue.json?lang={lang}").get_json()
        assert [m["id"] for m in outline["modules"]] == ["m1", "m2", "m3", "m4"]
        themes = {t["id"]: t for m in outline["modules"] for t in m["themes"]}
        assert {k: len(t["exercises"]) for k, t in themes.items()} == EXPECTED_EXERCISES
        assert sum(EXPECTED_EXERCISES.values()) == 42


def _walk(value, path=""):
    """Every (path, leaf) of a loaded item, lists and dicts alike."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


LANGUAGE_FREE = ("id", "type", "order", "answer", "best", "count", "min_length", "kind", "key", "url")


def test_french_and_english_match_item_by_item(catalogues):
    fr, en = catalogues["fr"], catalogues["en"]
    for module_fr, module_en in zip(fr.modules, en.modules, strict=True):
        assert module_fr.id == module_en.id
        for theme_fr, theme_en in zip(module_fr.themes, module_en.themes, strict=True):
            leaves_fr, leaves_en = dict(_walk(theme_fr)), dict(_walk(theme_en))
            assert leaves_fr.keys() == leaves_en.keys(), theme_fr["id"]  # same structure, same lengths
            for path, value in leaves_fr.items():
                field = path.rsplit(".", 1)[-1].split("[")[0]
                if field in LANGUAGE_FREE or value is None:
                    assert leaves_en[path] == value, f"{theme_fr['id']}{path}"
                elif isinstance(value, str) and len(value) > 40:
                    assert leaves_en[path] != value, f"untranslated: {theme_fr['id']}{path}"
                    assert len(FRENCH_WORDS.findall(leaves_en[path])) <= 1, f"French left in: {theme_fr['id']}{path}"


def test_content_version_differs_by_language_and_is_stable(catalogues):
    assert catalogues["fr"].version == load_catalogue("fr", CONTENT_DIR).version
    assert catalogues["fr"].version != catalogues["en"].version
