"""A learner's work on an activity: autosaved drafts, completion, reading, quizzes, the wheel, progress."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import func, select

from lti_tool.activities.models import Draft, QuizAttempt, SectionRead, WheelRating
from lti_tool.catalogue.services import CONTENT_DIR, load_catalogue
from lti_tool.extensions import db

from .lti_platform import CLAIM, landing_url

CATALOGUE = load_catalogue("fr", CONTENT_DIR)


def open_item(platform, client, item: str, *, sub: str = "user-1", link_id: str = "link-1", role: str = "learner"):
    response = platform.launch(client, role, sub=sub, link_id=link_id, **{CLAIM + "custom": {"catalogue_item": item}})
    return landing_url(response), html.unescape(response.get_data(as_text=True))


def first_of_type(kind: str) -> dict:
    return next(e for m in CATALOGUE.modules for t in m.themes for e in t["exercises"] if e["type"] == kind)


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_draft_autosaves_and_comes_back_on_the_next_launch(client, platform):
    url, _ = open_item(platform, client, "m1.t2")
    answers = {"specific": "Accueillir mon apprentie", "measurable": "3 points d’étape", "achievable": "",
               "relevant": "", "time_bound": ""}
    response = client.put(url + "exercises/m1.t2.e1/draft", json={"answers": answers})
    assert response.status_code == 200 and response.get_json()["done"] is False
    _, page = open_item(platform, client, "m1.t2")
    assert "Accueillir mon apprentie" in page and "3 points d’étape" in page
    draft = db.session.execute(select(Draft)).scalar_one()
    assert draft.content_version == CATALOGUE.version  # old work renders against the text it answered


def test_completion_needs_every_answer_and_names_the_missing_one(client, platform):
    url, _ = open_item(platform, client, "m1.t2")
    client.put(url + "exercises/m1.t2.e1/draft", json={"answers": {"specific": "x", "measurable": "y"}})
    refused = client.post(url + "exercises/m1.t2.e1/done", json={})
    assert refused.status_code == 422
    assert refused.get_json()["error"] == {"code": "incomplete", "hint": "achievable",
                                          "message": "Cet exercice n’est pas encore terminé : complétez la réponse signalée."}
    full = {k: "ok" for k in ("specific", "measurable", "achievable", "relevant", "time_bound")}
    client.put(url + "exercises/m1.t2.e1/draft", json={"answers": full})
    assert client.post(url + "exercises/m1.t2.e1/done", json={}).get_json() == {"done": True, "explanations": []}


def test_reflection_minimum_length_is_enforced(client, platform):
    exercise = first_of_type("reflection")
    url, _ = open_item(platform, client, exercise["id"])
    short = {"answers": ["trop court"] * len(exercise["questions"])}
    client.put(url + f"exercises/{exercise['id']}/draft", json={"answers": short})
    if exercise.get("min_length", 0) > len("trop court"):
        assert client.post(url + f"exercises/{exercise['id']}/done", json={}).status_code == 422
    long = {"answers": ["x" * (exercise.get("min_length") or 1)] * len(exercise["questions"])}
    client.put(url + f"exercises/{exercise['id']}/draft", json={"answers": long})
    assert client.post(url + f"exercises/{exercise['id']}/done", json={}).status_code == 200


def test_invalid_answers_are_refused_and_nothing_is_stored(client, platform):
    url, _ = open_item(platform, client, "m1.t2")
    for body in ({"answers": {"specifc": "typo"}}, {"answers": {"specific": 3}},
                 {"answers": {"specific": "x" * 20_001}}, {"answers": "not an object"}):
        response = client.put(url + "exercises/m1.t2.e1/draft", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "invalid_answers"
    assert client.put(url + "exercises/m1.t2.e1/draft", data="{", content_type="application/json").status_code == 400
    assert count(Draft) == 0


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def script_answers(exercise: dict, text: str) -> dict:
    """A valid draft of `exercise` with `text` in every field the learner types."""
    kind = exercise["type"]
    if kind == "reflection":
        return {"answers": [text] * len(exercise["questions"])}
    if kind == "list":
        return {"entries": [text] * exercise["count"]}
    if kind == "smart_goal":
        return {f["key"]: text for f in exercise["smart_fields"]}
    if kind == "ai_prompt":
        return {"prompt": text, "answer": text, "critique": text}
    if kind == "role_play":
        return {"reflection": text, "transcript": [{"role": "user", "content": text},
                                                   {"role": "assistant", "content": text}]}
    if kind == "prompt_transformation":
        return {"improved_prompt": text, "vague_answer": text, "improved_answer": text, "comparison": text}
    if kind == "rewrite":
        return {"rewrite": text}
    if kind == "scenario_choice":
        return {"choices": [{"option": 0, "reasoning": text} for _ in exercise["scenarios"]]}
    if kind == "mentoring_wheel":
        return {"notes": text, "ratings": {seg["key"]: 7 for seg in exercise["segments"]}}
    raise AssertionError(f"no test answers for exercise type {kind}")


EXERCISE_TYPES = ("reflection", "list", "smart_goal", "ai_prompt", "role_play", "prompt_transformation", "rewrite",
                  "scenario_choice", "mentoring_wheel")


def test_every_exercise_type_is_tested_here():
    types = {e["type"] for m in CATALOGUE.modules for t in m.themes for e in t["exercises"]}
    assert types == set(EXERCISE_TYPES)


@pytest.mark.parametrize("kind", EXERCISE_TYPES)
def test_each_exercise_type_refuses_bad_input_and_never_renders_a_script(client, platform, kind):
    """Every field a learner types, for each exercise type: wrong types, too long and unknown keys
    are refused (nothing stored); markup is stored as typed and always rendered escaped."""
    exercise = first_of_type(kind)
    theme = exercise["id"].rsplit(".", 1)[0]
    url, _ = open_item(platform, client, theme)
    draft_url = url + f"exercises/{exercise['id']}/draft"
    valid = script_answers(exercise, SCRIPT)
    first_text_key = next(k for k, v in valid.items() if k != "ratings")
    too_long = script_answers(exercise, "x" * 20_001)
    for bad in (script_answers(exercise, 42), too_long, {**valid, "unexpected": "x"}, {first_text_key: {"a": 1}}):
        response = client.put(draft_url, json={"answers": bad})
        assert response.status_code == 422, (kind, str(bad)[:80])
        assert response.get_json()["error"]["code"] == "invalid_answers"
    assert count(Draft) == 0
    assert client.put(draft_url, json={"answers": valid}).status_code == 200
    page = platform.launch(client, "learner", link_id="link-1",
                           **{CLAIM + "custom": {"catalogue_item": theme}}).get_data(as_text=True)
    assert SCRIPT not in page and "<img src=x" not in page
    assert str(escape(SCRIPT)) in page, kind  # as typed, escaped


def test_exercises_outside_the_activity_are_refused(client, platform):
    url, _ = open_item(platform, client, "m1.t2")
    response = client.put(url + "exercises/m2.t1.e1/draft", json={"answers": {}})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_exercise"
    assert client.post(url + "themes/m2.t1/quiz", json={"answers": [0, 0, 0]}).status_code == 404


def test_unconfigured_activity_refuses_work(client, platform):
    url = landing_url(platform.launch(client, "learner"))
    response = client.put(url + "exercises/m1.t2.e1/draft", json={"answers": {}})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_configured"


def test_learners_never_see_each_others_drafts(client, platform, app):
    url_a, _ = open_item(platform, client, "m1.t2", sub="learner-a")
    client.put(url_a + "exercises/m1.t2.e1/draft", json={"answers": {"specific": "Secret de A"}})
    other = app.test_client()
    url_b, page_b = open_item(platform, other, "m1.t2", sub="learner-b")
    assert "Secret de A" not in page_b
    other.put(url_b + "exercises/m1.t2.e1/draft", json={"answers": {"specific": "Texte de B"}})
    drafts = {d.answers["specific"] for d in db.session.execute(select(Draft)).scalars()}
    assert drafts == {"Secret de A", "Texte de B"}  # B's save did not touch A's row
    _, page_a = open_item(platform, client, "m1.t2", sub="learner-a")
    assert "Secret de A" in page_a and "Texte de B" not in page_a


def test_quiz_is_scored_and_explained(client, platform):
    theme = CATALOGUE.item("m1.t3")
    url, page = open_item(platform, client, "m1.t3")
    right = [q["answer"] for q in theme["quiz"]]
    wrong = [(a + 1) % len(q["choices"]) for a, q in zip(right, theme["quiz"])]
    result = client.post(url + "themes/m1.t3/quiz", json={"answers": wrong}).get_json()
    assert result["score"] == 0 and result["total"] == len(right)
    assert all(not c["correct"] and c["explanation"] for c in result["corrections"])
    assert client.post(url + "themes/m1.t3/quiz", json={"answers": right}).get_json()["score"] == len(right)
    assert client.post(url + "themes/m1.t3/quiz", json={"answers": right[:-1]}).status_code == 422
    assert client.post(url + "themes/m1.t3/quiz", json={"answers": ["a"]}).status_code == 422
    assert count(QuizAttempt) == 2
    _, page = open_item(platform, client, "m1.t3")
    assert f"{len(right)} / {len(right)}" in page


def test_sections_read_once(client, platform):
    url, _ = open_item(platform, client, "m2")
    assert client.post(url + "themes/m2.t1/read", json={}).status_code == 200
    assert client.post(url + "themes/m2.t1/read", json={}).status_code == 200
    assert client.post(url + "themes/m9.t1/read", json={}).status_code == 404
    assert count(SectionRead) == 1


def test_the_next_launch_shows_what_the_learner_did_and_only_to_them(client, platform, app):
    """A returning learner's launch reads all their work in the statement it reads the page with."""
    DONE, READ = 'aria-live="polite">Terminé ✓', '/read">Lu ✓'  # an exercise's status, the theme's button
    theme = CATALOGUE.item("m1.t2")
    url, _ = open_item(platform, client, "m1.t2")
    full = {k: "fait" for k in ("specific", "measurable", "achievable", "relevant", "time_bound")}
    client.put(url + "exercises/m1.t2.e1/draft", json={"answers": full})
    assert client.post(url + "exercises/m1.t2.e1/done", json={}).status_code == 200
    assert client.post(url + "themes/m1.t2/read", json={}).status_code == 200
    right = [q["answer"] for q in theme["quiz"]]
    wrong = [(a + 1) % len(q["choices"]) for a, q in zip(right, theme["quiz"])]
    for answers in (right, wrong):  # the best attempt is shown, not the latest
        assert client.post(url + "themes/m1.t2/quiz", json={"answers": answers}).status_code == 200
    total = len(right)
    for page in (open_item(platform, client, "m1.t2")[1], html.unescape(client.get(url).get_data(as_text=True))):
        assert DONE in page and READ in page
        assert f"Votre meilleur score : {total} / {total}" in page
    # Another learner of the same link: none of it.
    for _ in range(2):  # a first launch, then a returning one
        _, other = open_item(platform, app.test_client(), "m1.t2", sub="learner-b")
        assert DONE not in other and READ not in other and "meilleur score" not in other


def test_mentoring_wheel_keeps_earlier_ratings_visible(client, platform):
    exercise = CATALOGUE.item("m4.t3.e1")
    keys = [s["key"] for s in exercise["segments"]]
    url, _ = open_item(platform, client, "m4.t3")
    assert client.post(url + "exercises/m4.t3.e1/wheel", json={"ratings": {keys[0]: 5}}).status_code == 422
    assert client.post(url + "exercises/m4.t3.e1/wheel",
                       json={"ratings": {k: 11 for k in keys}}).status_code == 422
    first = client.post(url + "exercises/m4.t3.e1/wheel", json={"ratings": {k: 4 for k in keys}}).get_json()
    second = client.post(url + "exercises/m4.t3.e1/wheel", json={"ratings": {k: 8 for k in keys}}).get_json()
    assert (first["snapshots"], second["snapshots"]) == (1, 2)
    svg = second["svg"]
    assert svg.startswith("<svg") and "<title>" in svg
    assert svg.count('stroke-dasharray="4 3"') == 1  # the earlier rating, drawn under the new one
    _, page = open_item(platform, client, "m4.t3")
    assert page.count("<polygon") >= 5 + 2  # rings + two snapshots, server-rendered
    assert count(WheelRating) == 2


def test_my_progress_lists_the_course_activities(client, platform, app):
    url, _ = open_item(platform, client, "m1.t2", link_id="link-a")
    open_item(platform, client, "m4.t3", link_id="link-b")
    full = {k: "ok" for k in ("specific", "measurable", "achievable", "relevant", "time_bound")}
    client.put(url + "exercises/m1.t2.e1/draft", json={"answers": full})
    client.post(url + "exercises/m1.t2.e1/done", json={})
    page = html.unescape(client.get(url + "progress").get_data(as_text=True))
    assert 'data-testid="progress-table"' in page
    total = len(CATALOGUE.item("m1.t2")["exercises"])
    assert f"1 / {total}" in page and "0 / 1" in page


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_random_json_never_breaks_the_draft_endpoint(client, platform, body):
    url, _ = open_item(platform, client, "m2.t3")
    for exercise_id in ("m2.t3.e1", "m2.t3.e3"):
        response = client.put(url + f"exercises/{exercise_id}/draft", json={"answers": body})
        assert response.status_code in (200, 400, 422)
        if response.status_code != 200:
            assert response.get_json()["error"]["code"]
