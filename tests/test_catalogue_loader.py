"""The content loader refuses broken files with a message naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lti_tool.catalogue.services import CatalogueError, catalogue_outline, load_catalogue


def theme(**overrides) -> dict:
    data = {
        "id": "m1.t1", "order": 1, "title": "Thème", "intro": "Intro.",
        "key_ideas": [{"title": "A", "body": "a"}, {"title": "B", "body": "b"}],
        "resources": [{"title": "R", "url": "https://example.org/r", "description": "d"}],
        "exercises": [{"id": "m1.t1.e1", "type": "reflection", "title": "E", "instructions": "Do.",
                       "questions": ["Why?"]}],
        "quiz": [{"question": f"Q{i}", "choices": ["a", "b"], "answer": 1, "explanation": "x"} for i in range(3)],
    }
    data.update(overrides)
    return data


def write(root: Path, files: dict[str, dict]) -> Path:
    for name, data in files.items():
        path = root / "fr" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


MODULE = {"id": "m1", "order": 1, "title": "Module 1", "summary": "S"}


def test_a_valid_tree_loads_with_a_content_version(tmp_path):
    root = write(tmp_path, {"m1/module.yaml": MODULE, "m1/t1.yaml": theme()})
    catalogue = load_catalogue("fr", root)
    assert len(catalogue.version) == 12
    outline = catalogue_outline(catalogue)
    assert outline["modules"][0]["themes"][0]["exercises"] == [{"id": "m1.t1.e1", "title": "E", "type": "reflection"}]
    assert catalogue.item("m1.t1.e1")["questions"] == ["Why?"]
    # Any change of text changes the version recorded with submissions.
    write(tmp_path, {"m1/t1.yaml": theme(intro="Another intro.")})
    assert load_catalogue("fr", root).version != catalogue.version


@pytest.mark.parametrize("overrides, field", [
    ({"quiz": []}, "quiz"),
    ({"titel": "typo"}, "titel"),
    ({"exercises": [{"id": "m1.t1.e1", "type": "smart_goal", "title": "E", "instructions": "Do."}]}, "scenario"),
    ({"exercises": [{"id": "m1.t1.e1", "type": "reflection", "title": "E", "instructions": "Do.",
                     "questions": ["q"], "prompt": "not for this type"}]}, "prompt"),
    ({"exercises": [{"id": "m2.t1.e1", "type": "reflection", "title": "E", "instructions": "Do.",
                     "questions": ["q"]}]}, "exercises"),
    ({"quiz": [{"question": "Q", "choices": ["a", "b"], "answer": 2, "explanation": "x"}] * 3}, "answer"),
    ({"resources": [{"title": "R", "url": "javascript:alert(1)", "description": "d"}]}, "url"),
])
def test_a_broken_file_names_the_file_and_the_field(tmp_path, overrides, field):
    root = write(tmp_path, {"m1/module.yaml": MODULE, "m1/t1.yaml": theme(**overrides)})
    with pytest.raises(CatalogueError) as error:
        load_catalogue("fr", root)
    assert "m1/t1.yaml" in str(error.value) and field in str(error.value)


def test_a_file_whose_id_does_not_match_its_name_is_refused(tmp_path):
    root = write(tmp_path, {"m1/module.yaml": MODULE, "m1/t2.yaml": theme()})
    with pytest.raises(CatalogueError, match="t2.yaml: id: must be m1.t2"):
        load_catalogue("fr", root)


def test_invalid_yaml_is_refused(tmp_path):
    write(tmp_path, {"m1/module.yaml": MODULE})
    (tmp_path / "fr" / "m1" / "t1.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue("fr", tmp_path)


def test_catalogue_endpoint_refuses_an_unknown_language(client):
    response = client.get("/catalogue.json?lang=de")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_language"
