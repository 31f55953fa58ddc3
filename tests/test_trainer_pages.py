"""The trainer's pages at a glance: the landing opens on the assignment's summary, one roster
(grades, declarations, flags), follow-up records for every learner of the roster, and "never
opened" said of this activity, not of the tool."""

from __future__ import annotations

import html
import re

from .test_marking import launch, roster_statuses, serve_roster, submitted, user_pk
from .test_submissions import declaration, work

ROSTER = [
    {"user_id": "learner-a", "name": "Camille Martin", "roles": ["Learner"]},
    {"user_id": "learner-b", "name": "Noah Petit", "roles": ["Learner"]},
    {"user_id": "learner-c", "name": "Zoé Bernard", "roles": ["Learner"]},
    {"user_id": "learner-d", "name": "Inès Moreau", "roles": ["Learner"]},  # never launched the tool
]


def class_of_four(platform, client, http_mock) -> str:
    """Camille submitted and is graded, Zoé submitted (above the policy), Noah saved a draft
    (required items unticked), Inès never launched the tool. The trainer's token URL."""
    submitted(platform, client, "learner-a", "Camille Martin")
    work(client, launch(platform, client, sub="learner-b", name="Noah Petit"))
    zoe = launch(platform, client, sub="learner-c", name="Zoé Bernard")
    work(client, zoe)
    client.put(zoe + "checklist/ticks", json={"ticks": {item: True for item in
                                                         ("before.frame", "during.confidential", "after.explain")}})
    assert client.post(zoe + "submissions", json=declaration(level_used="full", justification="Essai.")).status_code == 201
    serve_roster(platform, http_mock, ROSTER)
    trainer = launch(platform, client, sub="trainer-1", role="trainer", name="Alex Dupont")
    assert client.post(trainer + f"grading/{user_pk('learner-a')}/grade", json={"score": 15}).status_code == 201
    return trainer


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True))


def figures(fragment: str) -> dict[str, tuple[int, str]]:
    """{testid: (number, link)} of the summary's figures."""
    return {testid: (int(number), href) for href, testid, number in re.findall(
        r'<a href="([^"]+)" data-testid="summary-([\w-]+)"><strong>(\d+)</strong>', fragment)}


def test_the_landing_opens_on_the_summary_with_the_settings_behind_a_button(client, platform, http_mock):
    trainer = class_of_four(platform, client, http_mock)
    landing = page(client, trainer)
    summary_at = landing.index('data-testid="trainer-summary"')
    settings_at = landing.index('data-testid="policy-settings"')
    assert summary_at < settings_at < landing.index('id="checklist-form"')
    assert re.search(r'<details class="trainer-settings" data-testid="policy-settings">', landing), \
        "the policy and checklist editor are folded away"
    slot = re.search(r'data-summary-url="([^"]+)"', landing).group(1)

    found = figures(page(client, slot))
    assert {key: number for key, (number, _href) in found.items()} == {
        "participants": 4, "handed-in": 2, "to-grade": 1, "graded": 1, "flagged": 2}
    # Each number is a link to the roster showing exactly those learners.
    for key, (number, href) in found.items():
        rows = roster_statuses(page(client, href))
        assert len(rows) == number, (key, rows)
    assert set(roster_statuses(page(client, found["to-grade"][1]))) == {"Zoé Bernard"}
    assert set(roster_statuses(page(client, found["flagged"][1]))) == {"Zoé Bernard", "Noah Petit"}


def test_one_roster_the_old_overview_redirects_to_it_and_the_exports_list_the_same_learners(client, platform,
                                                                                             http_mock):
    trainer = class_of_four(platform, client, http_mock)
    roster = page(client, trainer + "grading")
    assert roster_statuses(roster) == {"Camille Martin": "graded", "Inès Moreau": "not_opened",
                                       "Noah Petit": "in_progress", "Zoé Bernard": "submitted"}
    assert "Intégration totale de l’IAg" in roster  # the declared level, beside the flag and the grade
    assert "15 / 20" in roster and "Niveau au-dessus de la politique" in roster
    moved = client.get(trainer + "overview?status=submitted")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/grading?status=submitted")
    learners = client.get(trainer + "overview.json").get_json()["learners"]
    assert {(r["learner"], r["status"], r["score"]) for r in learners} == {
        ("Camille Martin", "graded", 15.0), ("Inès Moreau", "not_opened", None),
        ("Noah Petit", "in_progress", None), ("Zoé Bernard", "submitted", None)}
    assert [r["user"] for r in learners if r["learner"] == "Inès Moreau"] == [None]
    csv = client.get(trainer + "overview.csv").get_data(as_text=True)
    assert "Inès Moreau;N’a jamais ouvert cette activité" in csv and "Camille Martin;Noté" in csv


def test_never_opened_is_said_of_this_activity_not_of_the_tool(client, platform, http_mock):
    """Noah opened the first activity, not the second: on the second's roster he never opened it."""
    launch(platform, client, sub="learner-b", name="Noah Petit")  # link-1 only
    serve_roster(platform, http_mock, ROSTER[1:2])
    first = launch(platform, client, sub="trainer-1", role="trainer")
    second = launch(platform, client, sub="trainer-1", role="trainer", link_id="link-2")
    assert roster_statuses(page(client, first + "grading")) == {"Noah Petit": "not_started"}
    second_roster = page(client, second + "grading")
    assert roster_statuses(second_roster) == {"Noah Petit": "not_opened"}
    assert "N’a jamais ouvert cette activité" in second_roster
    launch(platform, client, sub="learner-b", name="Noah Petit", link_id="link-2")
    assert roster_statuses(page(client, second + "grading")) == {"Noah Petit": "not_started"}


def test_follow_up_lists_the_rosters_learners_with_the_allowed_level_of_what_they_did_not_start(client, platform,
                                                                                                http_mock):
    trainer = class_of_four(platform, client, http_mock)
    launch(platform, client, sub="trainer-1", role="trainer", link_id="link-2")  # a second activity, untouched
    records = {r["learner"]: r for r in client.get(trainer + "follow-up.json").get_json()["learners"]}
    assert sorted(records) == ["Camille Martin", "Inès Moreau", "Noah Petit", "Zoé Bernard"]
    assert records["Inès Moreau"]["user"] is None
    for record in records.values():
        untouched = record["activities"][1]
        assert (untouched["status"], untouched["allowed_level"]) == ("not_opened", "2 – Préparation avec l’IAg")
    assert [a["status"] for a in records["Camille Martin"]["activities"]] == ["graded", "not_opened"]
    listed = page(client, trainer + "follow-up")
    assert "Inès Moreau" in listed and "N’a jamais ouvert l’outil" in listed
    assert listed.count("Ouvrir la fiche") == 3
