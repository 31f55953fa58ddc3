"""The scale a trainer grades on is the gradebook's: the line item's `scoreMaximum` as the
platform says it now (AGS), not the maximum frozen when the activity was placed."""

from __future__ import annotations

import html

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.lti.models import LtiUser

from .grading_fixtures import moodle, sender, settle  # noqa: F401  (fixtures)
from .lti_platform import CLAIM, landing_url
from .test_submissions import REQUIRED, declaration, work


def _launch(client, platform, moodle, *, sub: str, role: str = "learner", **custom) -> str:
    extra = {**moodle.claims("link-1"), CLAIM + "custom": {"catalogue_item": "m1.t2", **custom},
             CLAIM + "context": {"id": "course-101", "title": "Cours"}}
    return landing_url(platform.launch(client, role, sub=sub, link_id="link-1", **extra))


def _submitted(client, platform, moodle, **custom) -> None:
    url = _launch(client, platform, moodle, sub="user-1", **custom)
    work(client, url)
    client.put(url + "checklist/ticks", json={"ticks": {item: True for item in REQUIRED}})
    assert client.post(url + "submissions", json=declaration()).status_code == 201


def _pk(sub: str) -> int:
    return db.session.execute(select(LtiUser.id).where(LtiUser.sub == sub)).scalar_one()


def test_a_grade_after_the_maximum_changed_in_the_platform_is_shown_and_sent_on_the_new_scale(
        client, platform, moodle, sender):
    item = moodle.add_line_item("Objectifs SMART", 10, resource_id="m1.t2", resource_link_id="link-1")
    _submitted(client, platform, moodle, score_maximum="10")  # placed out of 10
    moodle.line_items[item]["scoreMaximum"] = 40  # the teacher changed the grade item in Moodle

    trainer = _launch(client, platform, moodle, sub="teacher-1", role="trainer", score_maximum="10")
    learner_pk = _pk("user-1")
    page = html.unescape(client.get(trainer + f"grading/{learner_pk}").get_data(as_text=True))
    assert "Note (0 à 40)" in page and 'max="40' in page
    assert "Sur 40\u00a0: le maximum de l’élément d’évaluation de cette activité dans le carnet de notes." in page
    refused = client.post(trainer + f"grading/{learner_pk}/grade", json={"score": 41})
    assert refused.status_code == 422

    saved = client.post(trainer + f"grading/{learner_pk}/grade", json={"score": 8, "comment": "Bien."})
    assert saved.status_code == 201, saved.get_data(as_text=True)
    assert saved.get_json()["grade"]["score_maximum"] == 40
    settle(sender)

    (sent,) = [s for s in moodle.scores_for("user-1") if s.get("scoreGiven") is not None]
    assert (sent["scoreGiven"], sent["scoreMaximum"]) == (8.0, 40.0)
    assert moodle.grades[(item, "user-1")]["result"] == 8.0  # 8 / 40 in the gradebook, not 32 / 40
    learner = _launch(client, platform, moodle, sub="user-1", score_maximum="10")
    assert "Ma note\u00a0: 8 / 40" in html.unescape(client.get(learner).get_data(as_text=True))


def test_a_link_placed_without_a_maximum_grades_on_the_platforms(client, platform, moodle):
    moodle.add_line_item("Mentorat", 25, resource_link_id="link-1")
    _submitted(client, platform, moodle)  # no score_maximum: not placed through the picker
    trainer = _launch(client, platform, moodle, sub="teacher-1", role="trainer")

    page = html.unescape(client.get(trainer + f"grading/{_pk('user-1')}").get_data(as_text=True))

    assert "Note (0 à 25)" in page


def test_when_the_platform_does_not_answer_the_stored_maximum_is_used_and_said(client, platform, moodle):
    moodle.add_line_item("Mentorat", 40, resource_link_id="link-1")
    _submitted(client, platform, moodle, score_maximum="10")
    moodle.fail_next("lineitem", 500)
    trainer = _launch(client, platform, moodle, sub="teacher-1", role="trainer", score_maximum="10")

    page = html.unescape(client.get(trainer + f"grading/{_pk('user-1')}").get_data(as_text=True))

    assert "Note (0 à 10)" in page
    assert "n’a pas pu être lu" in page


def test_without_a_maximum_anywhere_the_centre_default_is_20(client, platform):
    url = landing_url(platform.launch(client, "learner", sub="user-1", link_id="link-1",
                                      **{CLAIM + "custom": {"catalogue_item": "m1.t2"}}))
    work(client, url)
    client.put(url + "checklist/ticks", json={"ticks": {item: True for item in REQUIRED}})
    assert client.post(url + "submissions", json=declaration()).status_code == 201
    trainer = landing_url(platform.launch(client, "trainer", sub="teacher-1", link_id="link-1",
                                          **{CLAIM + "custom": {"catalogue_item": "m1.t2"}}))

    page = html.unescape(client.get(trainer + f"grading/{_pk('user-1')}").get_data(as_text=True))

    assert "Note (0 à 20)" in page


def test_after_saving_a_grade_the_page_gets_the_grades_own_gradebook_line(client, platform, moodle, sender):
    moodle.add_line_item("Objectifs SMART", 20, resource_link_id="link-1")
    _submitted(client, platform, moodle, score_maximum="20")
    settle(sender)  # the gradebook was told the work waits for grading
    trainer = _launch(client, platform, moodle, sub="teacher-1", role="trainer", score_maximum="20")
    before = html.unescape(client.get(trainer + f"grading/{_pk('user-1')}").get_data(as_text=True))
    assert "travail en attente de notation" in before

    saved = client.post(trainer + f"grading/{_pk('user-1')}/grade", json={"score": 12, "comment": "Bien."}).get_json()

    assert "En attente d’envoi" in saved["send_state"] and "attente de notation" not in saved["send_state"]


def test_a_line_item_without_a_maximum_grades_on_the_stored_one_and_says_so(client, platform, moodle):
    item = moodle.add_line_item("Mentorat", 40, resource_link_id="link-1")
    del moodle.line_items[item]["scoreMaximum"]
    _submitted(client, platform, moodle, score_maximum="10")
    trainer = _launch(client, platform, moodle, sub="teacher-1", role="trainer", score_maximum="10")

    page = html.unescape(client.get(trainer + f"grading/{_pk('user-1')}").get_data(as_text=True))

    assert "Note (0 à 10)" in page
    assert "Le carnet de notes n’a pas indiqué la note maximale de cette activité" in page
