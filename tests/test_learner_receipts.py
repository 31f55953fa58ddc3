"""What a learner and a trainer read of a submission (issue 24): every answer under what the
exercise asked, in the interface's language, never the internal keys; the learner's grade as a
page for people and JSON for programs; one time format in the centre's time zone."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from lti_tool.activities.schemas import ANSWER_SCHEMAS, ChatTurn, ScenarioAnswer
from lti_tool.catalogue.services import get_catalogue
from lti_tool.extensions import db
from lti_tool.lti.models import LtiUser

from .lti_platform import CLAIM, landing_url
from .test_submissions import REQUIRED, declaration


class TextChunks(HTMLParser):
    """The text of a page, one chunk per text node (scripts and styles left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.chunks.append(" ".join(data.split()))


def chunks(page: str) -> list[str]:
    parser = TextChunks()
    parser.feed(page)
    return parser.chunks


def answers_for(exercise: dict) -> dict:
    """Real answers to `exercise`, as the page would save them."""
    kind = exercise["type"]
    if kind == "reflection":
        return {"answers": [f"Ma réponse numéro {i + 1}, assez longue pour compter vraiment comme une réponse."
                            for i in range(len(exercise["questions"]))]}
    if kind == "list":
        return {"entries": [f"Élément {i + 1}" for i in range(exercise["count"])]}
    if kind == "smart_goal":
        return {f["key"]: f"Réponse pour {f['label']}" for f in exercise["smart_fields"]}
    if kind == "ai_prompt":
        return {"prompt": "Propose trois idées pour accueillir un apprenti.", "answer": "Voici trois idées.",
                "critique": "Les idées sont génériques."}
    if kind == "role_play":
        return {"transcript": [{"role": "user", "content": "Bonjour, parlons de ton retard."},
                               {"role": "assistant", "content": "Je suis désolé."}],
                "reflection": "J'ai écouté avant de répondre."}
    if kind == "prompt_transformation":
        return {"improved_prompt": "Liste trois actions précises.", "vague_answer": "Réponse vague.",
                "improved_answer": "Réponse précise.", "comparison": "La seconde est utilisable."}
    if kind == "rewrite":
        return {"rewrite": "Mon texte réécrit avec ma voix."}
    if kind == "scenario_choice":
        return {"choices": [{"option": len(s["options"]) - 1, "reasoning": "Parce que c'est plus juste."}
                            for s in exercise["scenarios"]]}
    if kind == "mentoring_wheel":
        keys = [s["key"] for s in exercise["segments"]]
        return {"ratings": {key: 3 + i for i, key in enumerate(keys)},
                "plans": {key: f"Mon plan {i + 1}" for i, key in enumerate(keys)}, "notes": "Commencer par le premier."}
    raise AssertionError(f"no answers for the type {kind}")


def internal_keys(exercise: dict) -> set[str]:
    """Every key the answers of `exercise` are stored under."""
    keys = set(ANSWER_SCHEMAS[exercise["type"]]().fields) | set(ChatTurn().fields) | set(ScenarioAnswer().fields)
    keys |= {s["key"] for s in exercise.get("segments") or []} | {f["key"] for f in exercise.get("smart_fields") or []}
    return keys


AI_CODES = ("fake", "demo", "exercise", "role_play", "prompt_transformation", "feedback_draft")


def every_exercise() -> list[dict]:
    catalogue = get_catalogue("fr")
    found = []
    for module in catalogue.modules:
        for theme in module.themes:
            found.extend(theme["exercises"])
    return found


def launch(platform, client, item: str, sub: str, role: str = "learner", name: str = "") -> str:
    extra = {CLAIM + "custom": {"catalogue_item": item}, CLAIM + "context": {"id": "course-101", "title": "Cours"}}
    if name:
        extra["name"] = name
    return landing_url(platform.launch(client, role, sub=sub, link_id="link-" + item, **extra))


def user_pk(sub: str) -> int:
    return db.session.execute(select(LtiUser.id).where(LtiUser.sub == sub)).scalar_one()


def test_no_internal_key_on_a_receipt_or_grading_page_of_any_exercise(app, client, platform):
    exercises = every_exercise()
    assert {e["type"] for e in exercises} == set(ANSWER_SCHEMAS)  # every type of the catalogue is met
    for exercise in exercises:
        sub = "learner-" + exercise["id"]
        url = launch(platform, client, exercise["id"], sub, name="Camille Durand")
        answers = answers_for(exercise)
        response = client.put(url + f"exercises/{exercise['id']}/draft", json={"answers": answers})
        assert response.status_code == 200, (exercise["id"], response.get_json())
        uses_ai = exercise["type"] in ("ai_prompt", "role_play", "prompt_transformation")
        if uses_ai:
            assert client.post(url + "ai/notice").status_code == 200
            purpose = {"ai_prompt": "exercise"}.get(exercise["type"], exercise["type"])
            body = {"purpose": purpose, "exercise_id": exercise["id"]}
            body.update({"messages": [{"role": "user", "content": "Bonjour"}]} if purpose == "role_play"
                        else {"prompt": "Aide-moi à accueillir un apprenti."})
            assert client.post(url + "ai/complete", json=body).status_code == 200
        assert client.put(url + "checklist/ticks", json={"ticks": {i: True for i in REQUIRED}}).status_code == 200
        response = client.post(url + "submissions", json=declaration())
        assert response.status_code == 201, (exercise["id"], response.get_json())
        receipt = html.unescape(client.get(response.get_json()["receipt_url"]).get_data(as_text=True))
        trainer = launch(platform, client, exercise["id"], "trainer-1", role="trainer")
        grading = html.unescape(client.get(trainer + f"grading/{user_pk(sub)}").get_data(as_text=True))
        copy = html.unescape(client.get(trainer + f"learners/{user_pk(sub)}/submissions/1/view").get_data(as_text=True))
        for label, page in (("receipt", receipt), ("grading", grading), ("trainer copy", copy)):
            where = f"{exercise['id']} ({exercise['type']}), {label}"
            texts = chunks(page)
            text = " ".join(texts)
            for key in internal_keys(exercise):
                spaced = key.replace("_", " ")
                assert not [c for c in texts if c.lower() in (key, spaced)], f"{where}: the key {key!r} is shown"
                if "_" in key:
                    assert key not in text and spaced not in text.lower(), f"{where}: the key {key!r} is shown"
            assert exercise["id"] not in text, f"{where}: the exercise's id is shown"
            # The exercise's own words name each answer.
            if exercise["type"] == "reflection":
                for question in exercise["questions"]:
                    assert " ".join(question.split()) in text, where
            if exercise["type"] == "smart_goal":
                for f in exercise["smart_fields"]:
                    assert f["label"] in texts, where
            if exercise["type"] == "scenario_choice":
                for scenario in exercise["scenarios"]:
                    assert " ".join(scenario["options"][-1].split()) in text, f"{where}: the chosen option is not named"
            if exercise["type"] == "mentoring_wheel":
                assert 'class="wheel-chart"' in page, f"{where}: no radar"
                for segment in exercise["segments"]:
                    assert segment["label"] in texts, where
                assert "Mon plan 6" in text
            if uses_ai:
                log = page[page.index('data-testid="submission-ai-log"'):page.index('data-testid="submission-answers"')]
                line = re.search(r'<p class="muted small">(.*?)</p>', log, re.S).group(1)
                for code in AI_CODES:
                    assert not re.search(rf"\b{code}\b", line), f"{where}: the AI log shows {code!r}: {line}"
                assert "Démonstration" in line


def test_the_learners_grade_is_a_page_for_people_and_json_for_programs(client, platform):
    url = launch(platform, client, "m1.t2", "learner-1")
    page = client.get(url + "grade", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Vous n’avez pas encore de note" in html.unescape(page.get_data(as_text=True))
    data = client.get(url + "grade", headers={"Accept": "application/json"})
    assert data.mimetype == "application/json" and data.get_json() == {"grade": None}


def test_tick_times_and_receipts_use_one_format_in_the_centres_time_zone(app, client, platform):
    from datetime import datetime

    url = launch(platform, client, "m1.t2", "learner-1")
    client.put(url + "exercises/m1.t2.e1/draft", json={"answers": answers_for(get_catalogue("fr").item("m1.t2.e1"))})
    response = client.put(url + "checklist/ticks", json={"ticks": {i: True for i in REQUIRED}})
    body = response.get_json()
    # The page's script writes what the tool formatted: French, in Paris time, never the ISO text.
    shown = body["ticks_shown"][REQUIRED[0]]
    at = datetime.fromisoformat(body["ticks"][REQUIRED[0]].rstrip("Z"))
    paris = app.jinja_env.filters["local_time"]
    with app.test_request_context():
        assert shown == paris(at)
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", shown), shown
    assert "T" not in shown
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert shown in page and body["ticks"][REQUIRED[0]][:16] not in page
    receipt_url = client.post(url + "submissions", json=declaration()).get_json()["receipt_url"]
    receipt = html.unescape(client.get(receipt_url).get_data(as_text=True))
    assert shown in receipt  # the checklist of the receipt, same format
    # The time of submission: the same format, with its seconds and the offset from UTC.
    submitted = re.search(r"<dd>(\d{2}/\d{2}/\d{4} \d{2}:\d{2}):\d{2} \(UTC[+-]\d{2}:\d{2}\)</dd>", receipt)
    assert submitted, "the receipt's time is not in the one format"
