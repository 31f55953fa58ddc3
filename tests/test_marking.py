"""Grading inside the course: roster, grading page, grades queued for the gradebook, the learner's view."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.grading.models import Grade

from .lti_platform import CLAIM, landing_url
from .test_submissions import REQUIRED, declaration, ready, work

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/score",
          "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"]
MEMBERSHIPS = "https://moodle.test/mod/lti/services.php/CourseSection/101/bindings/7/memberships"
JSON = {"Accept": "application/json"}


def services(link_id: str = "link-1") -> dict:
    return {AGS: {"scope": SCOPES, "lineitems": "https://moodle.test/mod/lti/services.php/101/lineitems?type_id=7",
                  "lineitem": f"https://moodle.test/mod/lti/services.php/101/lineitems/55/lineitem?type_id=7"},
            NRPS: {"context_memberships_url": MEMBERSHIPS, "service_versions": ["2.0"]}}


def launch(platform, client, *, sub: str, role: str = "learner", name: str = "", context: str = "course-101",
           link_id: str = "link-1", score_maximum: str = "20", page: bool = False) -> str:
    """The launch's token URL (with `page`, the page the launch answered with)."""
    extra = {CLAIM + "custom": {"catalogue_item": "m1.t2", "score_maximum": score_maximum},
             CLAIM + "context": {"id": context, "title": "Cours"}, **services(link_id)}
    if name:
        extra["name"] = name
    response = platform.launch(client, role, sub=sub, link_id=link_id, **extra)
    return html.unescape(response.get_data(as_text=True)) if page else landing_url(response)


def submitted(platform, client, sub: str, name: str) -> str:
    url = launch(platform, client, sub=sub, name=name)
    work(client, url)
    client.put(url + "checklist/ticks", json={"ticks": {item: True for item in REQUIRED}})
    assert client.post(url + "submissions", json=declaration()).status_code == 201
    return url


def outbox(kind: str | None = None) -> list[ScoreOutbox]:
    db.session.expire_all()
    query = select(ScoreOutbox).order_by(ScoreOutbox.id)
    if kind:
        query = query.where(ScoreOutbox.kind == kind)
    return list(db.session.execute(query).scalars())


def user_pk(sub: str) -> int:
    from lti_tool.lti.models import LtiUser

    return db.session.execute(select(LtiUser.id).where(LtiUser.sub == sub)).scalar_one()


def serve_roster(platform, http_mock, members: list[dict]) -> None:
    http_mock.add("POST", platform.token_url, json={"access_token": "t-1", "token_type": "Bearer", "expires_in": 3600})
    http_mock.add("GET", MEMBERSHIPS, json={"id": MEMBERSHIPS, "context": {"id": "course-101"}, "members": members},
                  content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")


def test_a_submission_tells_the_gradebook_it_waits_for_grading(client, platform):
    submitted(platform, client, "learner-a", "Camille Martin")
    [row] = outbox()
    assert (row.kind, row.platform_user_id, row.status) == ("submission", "learner-a", "pending")
    assert row.payload == {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}


def test_quiz_scores_go_to_the_gradebook_until_the_work_is_submitted(client, platform):
    url = launch(platform, client, sub="learner-a")
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "quiz-form" in page
    from lti_tool.catalogue.services import CONTENT_DIR, load_catalogue

    quiz = load_catalogue("fr", CONTENT_DIR).item("m1.t2")["quiz"]
    answers = [q["answer"] for q in quiz]
    assert client.post(url + "themes/m1.t2/quiz", json={"answers": answers}).status_code == 200
    [row] = outbox("quiz")
    assert row.payload == {"activityProgress": "Completed", "gradingProgress": "FullyGraded",
                           "scoreGiven": float(len(quiz)), "scoreMaximum": float(len(quiz))}
    work(client, url)
    client.put(url + "checklist/ticks", json={"ticks": {item: True for item in REQUIRED}})
    client.post(url + "submissions", json=declaration())
    client.post(url + "themes/m1.t2/quiz", json={"answers": answers})
    assert len(outbox("quiz")) == 1  # after the submission, the trainer's grade owns the column


def test_trainer_grades_and_the_learner_sees_it_at_once(client, platform, http_mock):
    learner = submitted(platform, client, "learner-a", "Camille Martin")
    serve_roster(platform, http_mock, [])
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    a = user_pk("learner-a")
    page = html.unescape(client.get(trainer + f"grading/{a}").get_data(as_text=True))
    assert 'data-testid="grading-page"' in page
    assert "Accueillir mon apprentie" in page and "Le Chat (Mistral)" in page  # work and declaration side by side
    assert "Note (0 à 20)" in page

    response = client.post(trainer + f"grading/{a}/grade", json={"score": 16.5, "comment": "Objectif clair. Précisez l’échéance."})
    assert response.status_code == 201, response.get_json()
    grade_row = outbox("grade")[0]
    assert grade_row.payload == {"activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                 "scoreGiven": 16.5, "scoreMaximum": 20.0,
                                 "comment": "Objectif clair. Précisez l’échéance."}
    assert grade_row.platform_user_id == "learner-a"
    assert client.get(learner + "grade", headers=JSON).get_json()["grade"]["score"] == 16.5
    learner_page = html.unescape(client.get(learner).get_data(as_text=True))
    assert "Ma note : 16.5 / 20" in learner_page and "Précisez l’échéance." in learner_page
    # Their next launch reads the grade with the rest of the page; another learner's page has none.
    assert "Ma note : 16.5 / 20" in launch(platform, client, sub="learner-a", page=True)
    for _ in range(2):  # a first launch, then a returning one (one statement)
        other = launch(platform, client, sub="learner-b", page=True)
        assert 'data-testid="learner-page"' in other and 'data-testid="my-grade"' not in other


ROSTER_ROW = re.compile(r'<tr data-user="[^"]*" data-status="(\w+)">\s*<td class="lead-cell">(?:<a [^>]*>)?([^<]+)<')


def roster_statuses(page: str) -> dict[str, str]:
    """{learner's name: status code} of the roster's rows."""
    return {name.strip(): status for status, name in ROSTER_ROW.findall(page)}


def test_a_resubmission_after_a_grade_leaves_the_grade_in_the_gradebook(client, platform, http_mock):
    """A score without scoreGiven empties the gradebook's grade and comment (Moodle, Canvas): once
    graded, a new version queues nothing; the trainer's roster shows it waits for a grade."""
    learner = submitted(platform, client, "learner-a", "Camille Martin")
    serve_roster(platform, http_mock, [])
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    a = user_pk("learner-a")
    assert client.post(trainer + f"grading/{a}/grade", json={"score": 12, "comment": "À revoir."}).status_code == 201
    assert client.post(learner + "submissions", json=declaration()).status_code == 201  # version 2
    assert [row.kind for row in outbox()] == ["submission", "grade"]
    assert outbox("grade")[0].payload["scoreGiven"] == 12.0  # what the gradebook keeps
    roster = html.unescape(client.get(trainer + "grading").get_data(as_text=True))
    assert roster_statuses(roster) == {"Camille Martin": "submitted"}
    assert "Rendu, à noter" in roster
    # A learner graded on nothing yet (first submission) still tells the gradebook it waits.
    submitted(platform, client, "learner-b", "Noah Petit")
    assert [row.kind for row in outbox()] == ["submission", "grade", "submission"]


def test_bad_grades_are_refused_and_nothing_is_written(client, platform):
    submitted(platform, client, "learner-a", "Camille Martin")
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    a = user_pk("learner-a")
    for body, code in (({"score": 21}, "score_out_of_range"), ({"score": -1}, "score_out_of_range"),
                       ({"score": "x"}, "invalid_fields"), ({"comment": "no score"}, "invalid_fields"),
                       ({"score": 3, "extra": 1}, "invalid_fields")):
        response = client.post(trainer + f"grading/{a}/grade", json=body)
        assert response.status_code == 422 and response.get_json()["error"]["code"] == code, body
    refused = client.post(trainer + f"grading/{a}/grade", json={"score": 21})
    assert refused.get_json()["error"]["fields"] == {"score": "La note doit être comprise entre 0 et 20."}
    assert db.session.execute(select(Grade)).first() is None and outbox("grade") == []
    # A learner with a draft but no submission has nothing to grade.
    b = launch(platform, client, sub="learner-b")
    work(client, b)
    response = client.post(trainer + f"grading/{user_pk('learner-b')}/grade", json={"score": 3})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "nothing_to_grade"


def test_roster_lists_learners_who_never_launched_and_next_learner_skips_to_work_to_grade(client, platform, http_mock):
    submitted(platform, client, "learner-a", "Camille Martin")
    launch(platform, client, sub="learner-b", name="Noah Petit")  # launched, no work
    submitted(platform, client, "learner-c", "Zoé Bernard")
    serve_roster(platform, http_mock, [
        {"user_id": "learner-a", "name": "Camille Martin", "roles": ["Learner"], "status": "Active"},
        {"user_id": "learner-b", "name": "Noah Petit", "roles": ["Learner"]},
        {"user_id": "learner-c", "name": "Zoé Bernard",
         "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]},
        {"user_id": "learner-d", "name": "Inès Moreau", "roles": ["Learner"]},
        {"user_id": "trainer-1", "name": "Alex Dupont", "roles": ["Instructor"]},
        {"user_id": "learner-e", "name": "Parti", "roles": ["Learner"], "status": "Inactive"},
    ])
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    page = html.unescape(client.get(trainer + "grading").get_data(as_text=True))
    for name in ("Camille Martin", "Noah Petit", "Zoé Bernard", "Inès Moreau"):
        assert name in page
    assert "Alex Dupont" not in page and "Parti" not in page
    assert roster_statuses(page) == {"Camille Martin": "submitted", "Noah Petit": "not_started",
                                     "Zoé Bernard": "submitted", "Inès Moreau": "not_opened"}
    assert "N’a jamais ouvert cette activité" in page
    a, c = user_pk("learner-a"), user_pk("learner-c")
    first = client.post(trainer + f"grading/{a}/grade", json={"score": 10})
    assert first.get_json()["next_url"].endswith(f"/grading/{c}")
    page = html.unescape(client.get(trainer + "grading").get_data(as_text=True))
    assert "En attente d’envoi" in page and roster_statuses(page)["Camille Martin"] == "graded"


def test_roster_without_the_names_service_explains_it(client, platform):
    submitted(platform, client, "learner-a", "Camille Martin")
    response = platform.launch(client, "trainer", sub="trainer-1", link_id="link-1",
                               **{CLAIM + "custom": {"catalogue_item": "m1.t2"}})
    page = html.unescape(client.get(landing_url(response) + "grading").get_data(as_text=True))
    assert 'data-testid="roster-notice"' in page and "Camille Martin" in page


def test_grading_is_for_the_trainers_of_the_link_only(client, platform):
    learner = submitted(platform, client, "learner-a", "Camille Martin")
    other = submitted(platform, client, "learner-b", "Noah Petit")
    a = user_pk("learner-a")
    for method, path in (("get", "grading"), ("get", f"grading/{a}"), ("post", f"grading/{a}/grade"),
                         ("post", "grading/outbox/1/retry")):
        assert getattr(client, method)(other + path, json={"score": 1}).status_code == 403, path
    # A learner reads their own grade only: the endpoint takes no id.
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    client.post(trainer + f"grading/{a}/grade", json={"score": 12})
    assert client.get(other + "grade", headers=JSON).get_json() == {"grade": None}
    assert client.get(learner + "grade", headers=JSON).get_json()["grade"]["score"] == 12
    # A trainer of another course of the same platform cannot grade or read learner A.
    elsewhere = launch(platform, client, sub="trainer-2", role="trainer", context="course-202", link_id="link-9")
    assert client.get(elsewhere + f"grading/{a}").status_code == 404
    assert client.post(elsewhere + f"grading/{a}/grade", json={"score": 1}).status_code == 404
    assert len(outbox("grade")) == 1


def test_send_again_requeues_a_failed_grade_of_this_link_only(client, platform):
    submitted(platform, client, "learner-a", "Camille Martin")
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    client.post(trainer + f"grading/{user_pk('learner-a')}/grade", json={"score": 12})
    row = outbox("grade")[0]
    row.status, row.error_code, row.last_error = "failed", "http_error", "500 from the platform"
    db.session.commit()
    page = html.unescape(client.get(trainer + "grading").get_data(as_text=True))
    assert "Renvoyer" in page and "Non envoyée" in page
    elsewhere = launch(platform, client, sub="trainer-2", role="trainer", context="course-202", link_id="link-9")
    assert client.post(elsewhere + f"grading/outbox/{row.id}/retry", json={}).status_code == 404
    assert client.post(trainer + f"grading/outbox/{row.id}/retry", json={}).get_json() == {"status": "waiting"}
    assert outbox("grade")[0].status == "pending"


def test_send_all_again_requeues_every_unsent_result_of_this_link_and_only_those(client, platform):
    """Friday afternoon: the grade item was missing in Moodle, 2 grades failed. Once it is
    added, one click sends them all again; sent grades and other links stay as they are."""
    for sub, name in (("learner-a", "Camille Martin"), ("learner-b", "Noah Petit"), ("learner-c", "Inès Roux")):
        submitted(platform, client, sub, name)
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    for sub in ("learner-a", "learner-b", "learner-c"):
        assert client.post(trainer + f"grading/{user_pk(sub)}/grade", json={"score": 12}).status_code == 201
    # the same learner in another course, whose grade failed too
    there = launch(platform, client, sub="learner-a", context="course-202", link_id="link-9")
    work(client, there)
    client.put(there + "checklist/ticks", json={"ticks": {item: True for item in REQUIRED}})
    assert client.post(there + "submissions", json=declaration()).status_code == 201
    elsewhere = launch(platform, client, sub="trainer-2", role="trainer", context="course-202", link_id="link-9")
    assert client.post(elsewhere + f"grading/{user_pk('learner-a')}/grade", json={"score": 8}).status_code == 201
    rows = {(row.resource_link_pk, row.user_pk): row for row in outbox("grade")}
    assert len(rows) == 4
    a, b, c = (user_pk(sub) for sub in ("learner-a", "learner-b", "learner-c"))
    failed = [row for (link, user), row in rows.items() if user in (a, b)]  # a twice: here and on link-9
    for row in failed:
        row.status, row.error_code, row.last_error = "failed", "no_line_item", "no line item"
    sent = next(row for (link, user), row in rows.items() if user == c)
    sent.status = "sent"
    db.session.commit()
    link_pk = next(link for (link, user) in rows if user == b)

    page = html.unescape(client.get(trainer + "grading").get_data(as_text=True))
    assert 'data-testid="unsent-notice"' in page
    assert "2 résultats ne sont pas arrivés dans le carnet de notes" in page and "Renvoyer les 2" in page
    learner = launch(platform, client, sub="learner-b")
    assert client.post(learner + "grading/outbox/retry-all", json={}).status_code == 403

    response = client.post(trainer + "grading/outbox/retry-all", json={})
    assert response.status_code == 200 and response.get_json() == {"requeued": 2}
    status = {(row.resource_link_pk, row.user_pk): row.status for row in outbox("grade")}
    assert status[(link_pk, a)] == status[(link_pk, b)] == "pending"
    assert status[(link_pk, c)] == "sent"
    assert [s for (link, user), s in status.items() if link != link_pk] == ["failed"]  # link-9 untouched
    page = html.unescape(client.get(trainer + "grading").get_data(as_text=True))
    assert 'data-testid="unsent-notice"' not in page and "En attente d’envoi" in page
    # nothing left to send again: a second click changes nothing
    assert client.post(trainer + "grading/outbox/retry-all", json={}).get_json() == {"requeued": 0}
    # one unsent result: its own "Send again" is enough, no notice
    assert client.post(elsewhere + "grading/outbox/retry-all", json={}).get_json() == {"requeued": 1}


def test_the_trainer_asks_the_ai_for_a_draft_comment_and_it_is_logged_as_theirs(client, platform):
    from lti_tool.llm.models import AiCall

    learner = submitted(platform, client, "learner-a", "Camille Martin")
    a = user_pk("learner-a")
    assert client.post(learner + f"grading/{a}/draft-comment", json={}).status_code == 403
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    page = html.unescape(client.get(trainer + f"grading/{a}").get_data(as_text=True))
    assert 'data-testid="ai-draft"' in page
    response = client.post(trainer + f"grading/{a}/draft-comment", json={})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["text"] and response.get_json()["demo"] is True
    db.session.expire_all()
    [call] = db.session.execute(select(AiCall)).scalars().all()
    assert (call.purpose, call.user_pk) == ("feedback_draft", user_pk("trainer-1"))
    assert "Accueillir mon apprentie" in str(call.prompt) and "Ce qui a bien fonctionné" in str(call.prompt)
    assert "Camille" not in str(call.prompt)
    # The draft word for word (spacing aside) is refused: the trainer must make it theirs.
    draft = response.get_json()["text"]
    for unedited in (draft, "  " + draft.replace(" ", "  ") + "\n"):
        refused = client.post(trainer + f"grading/{a}/grade", json={"score": 14, "comment": unedited,
                                                                     "from_ai_draft": False})
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "ai_draft_unedited"
        assert "comment" in refused.get_json()["error"]["fields"]
    assert db.session.execute(select(Grade)).first() is None and outbox("grade") == []
    # Saving an edited draft marks the grade as started from AI.
    saved = client.post(trainer + f"grading/{a}/grade", json={"score": 14, "comment": "Relu : " + draft,
                                                              "from_ai_draft": True})
    assert saved.status_code == 201
    assert db.session.execute(select(Grade.from_ai_draft)).scalar_one() is True


def test_the_learner_sees_that_the_comment_kept_from_an_ai_draft_was_drafted_with_ai(client, platform):
    learner = submitted(platform, client, "learner-a", "Camille Martin")
    submitted(platform, client, "learner-b", "Noah Petit")
    trainer = launch(platform, client, sub="trainer-1", role="trainer")
    a, b = user_pk("learner-a"), user_pk("learner-b")
    draft = client.post(trainer + f"grading/{a}/draft-comment", json={}).get_json()["text"]
    saved = client.post(trainer + f"grading/{a}/grade", json={"score": 15, "comment": "Relu. " + draft,
                                                              "from_ai_draft": True})
    assert saved.status_code == 201 and saved.get_json()["grade"]["from_ai_draft"] is True
    assert client.post(trainer + f"grading/{b}/grade", json={"score": 12, "comment": "Bien vu.",
                                                             "from_ai_draft": False}).status_code == 201

    shown = html.unescape(client.get(learner).get_data(as_text=True))
    assert 'data-testid="my-grade"' in shown and "Relu. " in shown
    assert "Ce commentaire a été rédigé avec l’aide de l’IA, puis relu et modifié par votre formateur." in shown
    assert client.get(learner + "grade", headers=JSON).get_json()["grade"]["from_ai_draft"] is True
    noah = launch(platform, client, sub="learner-b", name="Noah Petit")
    assert "rédigé avec l’aide de l’IA" not in html.unescape(client.get(noah).get_data(as_text=True))
    # Moodle's gradebook shows the learner the same label under the comment.
    comments = {row.platform_user_id: row.payload["comment"] for row in outbox("grade")}
    assert comments["learner-a"].startswith("Relu. ")
    assert comments["learner-a"].endswith("\n\n(Ce commentaire a été rédigé avec l’aide de l’IA, puis relu et "
                                          "modifié par votre formateur.)")
    assert comments["learner-b"] == "Bien vu."
    # The trainer reading the grade again sees it started from an AI draft.
    regrade = html.unescape(client.get(trainer + f"grading/{a}").get_data(as_text=True))
    assert re.search(r'<p class="ai-draft-label"\s+data-testid="ai-draft-label">', regrade)
