"""A returning launch of a link brings what the trainer changed in Moodle since: the activity's
new title and custom parameters (its maximum, its AI-use policy) replace the stored ones, and
every page that shows them shows the new ones."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.lti.models import LtiUser, ResourceLink

from .lti_platform import CLAIM, landing_url

TITLE_A = "Biais de l’IA — premier jet"
TITLE_B = "Biais et transparence de l’IA"
CUSTOM_A = {"catalogue_item": "m2.t1", "score_maximum": "20", "ai_policy": "planning"}
CUSTOM_B = {"catalogue_item": "m2.t1", "score_maximum": "15", "ai_policy": "collaboration"}
PLANNING, COLLABORATION = "2 – Préparation avec l’IAg", "3 – Collaboration avec l’IAg"


def learner_policy(level: str) -> str:
    """The policy box above the learner's activity."""
    return "Usage de l’IA pour ce travail : " + level


def trainer_policy(level: str) -> str:
    """The policy beside the score on the grading page."""
    return "Usage de l’IA autorisé : " + level


def launch(platform, client, *, sub: str, title: str, custom: dict | None, role: str = "learner", name: str = ""):
    """A launch of link-1 as Moodle sends it with the activity's current settings: (token URL, page)."""
    extra = {CLAIM + "resource_link": {"id": "link-1", "title": title},
             CLAIM + "context": {"id": "course-101", "title": "Cours"}}
    if custom is not None:
        extra[CLAIM + "custom"] = dict(custom)
    if name:
        extra["name"] = name
    response = platform.launch(client, role, sub=sub, link_id="link-1", **extra)
    return landing_url(response), html.unescape(response.get_data(as_text=True))


def stored_link() -> ResourceLink:
    db.session.expire_all()
    return db.session.execute(select(ResourceLink).where(ResourceLink.resource_link_id == "link-1")).scalar_one()


def learner_started(platform, client) -> tuple[str, str]:
    """Camille opens the activity as first placed (title A, out of 20, planning) and ticks an item."""
    url, page = launch(platform, client, sub="learner-a", name="Camille Martin", title=TITLE_A, custom=CUSTOM_A)
    assert f'<h1 id="activity-title">{TITLE_A}</h1>' in page and learner_policy(PLANNING) in page
    assert client.put(url + "checklist/ticks", json={"ticks": {"before.frame": True}}).status_code == 200
    link = stored_link()
    assert (link.title, link.custom) == (TITLE_A, CUSTOM_A)
    return url, page


@pytest.mark.parametrize("who", ["trainer", "admin"])
def test_a_trainers_later_launch_stores_the_renamed_activity_and_its_new_maximum_and_policy(client, platform, who):
    learner_started(platform, client)
    # The trainer renamed the activity in Moodle and changed its maximum and policy; their launch says so.
    trainer, page = launch(platform, client, sub="trainer-1", role=who, title=TITLE_B, custom=CUSTOM_B)

    link = stored_link()
    assert link.title == TITLE_B, "a returning launch kept the old title"
    assert link.custom == CUSTOM_B, "a returning launch kept the old custom parameters"
    assert db.session.execute(select(ResourceLink.id)).scalars().all() == [link.id]  # the same link, updated

    assert f"<h1>{TITLE_B}</h1>" in page and TITLE_A not in page
    camille = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "learner-a")).scalar_one()
    grading = html.unescape(client.get(trainer + f"grading/{camille}").get_data(as_text=True))
    assert 'data-testid="grading-page"' in grading
    assert "Note (0 à 15)" in grading and "0 à 20" not in grading
    assert trainer_policy(COLLABORATION) in grading
    roster = html.unescape(client.get(trainer + "grading").get_data(as_text=True))
    assert f"<h1>{TITLE_B} — " in roster and TITLE_A not in roster
    assert client.get(trainer + "policy").get_json()["level"] == "collaboration"

    # Camille's next launch carries the same settings; her page (not the one cached from her
    # first launch) shows the new title and policy.
    _url, learner_page = launch(platform, client, sub="learner-a", title=TITLE_B, custom=CUSTOM_B)
    assert f'<h1 id="activity-title">{TITLE_B}</h1>' in learner_page and TITLE_A not in learner_page
    assert learner_policy(COLLABORATION) in learner_page and learner_policy(PLANNING) not in learner_page


def test_a_learners_own_returning_launch_stores_the_new_title_and_custom_parameters(client, platform):
    url, _first = learner_started(platform, client)
    # Her page is cached after her first launch; she opens the activity again after the trainer
    # renamed it and changed its settings in Moodle.
    assert TITLE_A in html.unescape(client.get(url).get_data(as_text=True))
    url, page = launch(platform, client, sub="learner-a", title=TITLE_B, custom=CUSTOM_B)

    link = stored_link()
    assert (link.title, link.custom) == (TITLE_B, CUSTOM_B), "a returning launch ignored the link's changes"
    assert f'<h1 id="activity-title">{TITLE_B}</h1>' in page and TITLE_A not in page
    assert learner_policy(COLLABORATION) in page and learner_policy(PLANNING) not in page
    assert client.get(url + "policy").get_json()["level"] == "collaboration"

    # What depends on the maximum: the trainer's grading page, opened from a launch that brings
    # neither a title nor custom parameters (what a launch leaves out keeps the stored value).
    trainer, _page = launch(platform, client, sub="trainer-1", role="trainer", title="", custom=None)
    assert (stored_link().title, stored_link().custom) == (TITLE_B, CUSTOM_B)
    camille = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "learner-a")).scalar_one()
    grading = html.unescape(client.get(trainer + f"grading/{camille}").get_data(as_text=True))
    assert "Note (0 à 15)" in grading and "0 à 20" not in grading
