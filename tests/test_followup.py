"""Individual follow-up records and their exports; a person's data export and erasure (GDPR)."""

from __future__ import annotations

import csv
import html
import io
import json
import re

from sqlalchemy import func, select

from lti_tool.records.privacy import _references
from lti_tool.activities.models import Activity
from lti_tool.catalogue.services import get_catalogue
from lti_tool.extensions import db
from lti_tool.llm.models import AiCall
from lti_tool.lti.models import LtiUser
from lti_tool.grading.models import Grade
from lti_tool.declarations.models import Submission

from .grading_fixtures import moodle  # noqa: F401
from .lti_platform import CLAIM, TestPlatform, landing_url
from .test_submissions import REQUIRED, open_item, page, submit, tick, work

SECOND = "m2.t1"  # a theme with a four-question quiz, placed second in the course


def course(client, platform):
    """Camille submits the first activity, is graded, and scores 3/4 on the second's quiz; Noah
    only reads a part of the second. Returns the launch URLs and the learners' ids."""
    camille = open_item(platform, client, sub="learner-a", name="Camille Martin")
    work(client, camille)
    assert tick(client, camille, *REQUIRED).status_code == 200
    assert submit(client, camille).status_code == 201
    camille_2 = open_item(platform, client, SECOND, sub="learner-a", link_id="link-2", name="Camille Martin")
    assert client.post(camille_2 + "themes/m2.t1/quiz", json={"answers": [1, 2, 1, 0]}).status_code == 200
    noah_2 = open_item(platform, client, SECOND, sub="learner-b", link_id="link-2", name="Noah Petit")
    assert client.post(noah_2 + "themes/m2.t1/read").status_code == 200
    pks = dict(db.session.execute(select(LtiUser.sub, LtiUser.id)).all())
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    graded = client.post(trainer + f"grading/{pks['learner-a']}/grade",
                         json={"score": 12.5, "comment": "Objectifs clairs. <script>alert(1)</script>"})
    assert graded.status_code == 201, graded.get_data(as_text=True)
    return {"camille": camille, "noah": noah_2, "trainer": trainer, "a": pks["learner-a"], "b": pks["learner-b"]}


def test_the_record_shows_every_activity_of_the_course_with_progress_declaration_and_grade(client, platform):
    c = course(client, platform)
    found = client.get(c["trainer"] + "follow-up.json").get_json()
    assert found["course"] == "Cours course-101"
    by_name = {r["learner"]: r for r in found["learners"]}
    assert list(by_name) == ["Camille Martin", "Noah Petit"]
    first, second = by_name["Camille Martin"]["activities"]
    assert (first["status"], first["versions"], first["exercises_done"], first["exercises_total"]) == ("graded", 1, 0, 2)
    assert first["declared_level"] == "2 – Préparation avec l’IAg" and first["allowed_level"] == "2 – Préparation avec l’IAg"
    assert (first["checklist_ticked"], first["checklist_total"]) == (3, 10)
    assert (first["score"], first["score_maximum"]) == (12.5, 20)  # the default maximum: 20
    assert first["feedback"].startswith("Objectifs clairs.") and first["graded_at"].endswith("Z")
    assert (second["status"], second["quiz_score"], second["quiz_total"], second["score"]) == ("in_progress", 3, 4, None)
    # Noah never opened the first activity: it is still on his record, with the AI use it allows.
    noah_first, noah_second = by_name["Noah Petit"]["activities"]
    assert (noah_first["status"], noah_first["versions"], noah_first["score"]) == ("not_opened", 0, None)
    assert (noah_first["allowed_level"], noah_first["checklist_total"]) == ("2 – Préparation avec l’IAg", 10)
    assert (noah_second["status"], noah_second["parts_read"], noah_second["parts_total"]) == ("in_progress", 1, 1)

    one = client.get(c["trainer"] + f"follow-up/{c['a']}.json").get_json()
    assert one == by_name["Camille Martin"]


def test_the_record_page_is_printable_and_escapes_what_people_wrote(client, platform):
    c = course(client, platform)
    text = client.get(c["trainer"] + f"follow-up/{c['a']}").get_data(as_text=True)
    assert "Fiche de suivi individuel" in text and "Camille Martin" in text
    assert 'data-action="print"' in text and "/static/print.js" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text
    assert "12.5 / 20" in text and "3 / 4" in text
    assert "Déclaré\u00a0: 2 – Préparation avec l’IAg" in html.unescape(text)
    assert 'data-testid="personal-data"' not in text  # GDPR actions are the administrator's
    listing = page(client, c["trainer"] + "follow-up")
    assert "Camille Martin" in listing and "Noah Petit" in listing and "1 / 2" in listing
    trainer_page = page(client, c["trainer"])
    assert "Suivi individuel du cours" in trainer_page


def test_csv_export_is_a_french_spreadsheet_with_a_line_per_learner_and_activity(client, platform):
    c = course(client, platform)
    body = client.get(c["trainer"] + "follow-up.csv").get_data(as_text=True)
    assert body.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert list(table[0])[:3] == ["Apprenant", "Activité", "Statut"]
    assert [(r["Apprenant"], r["Statut"], r["Note"]) for r in table] == [
        ("Camille Martin", "Noté", "12,5"), ("Camille Martin", "Brouillon en cours", ""),
        ("Noah Petit", "N’a jamais ouvert cette activité", ""), ("Noah Petit", "Brouillon en cours", "")]
    single = client.get(c["trainer"] + f"follow-up/{c['b']}.csv").get_data(as_text=True)
    assert single.count("Noah Petit") == 2 and "Camille" not in single


def test_csv_export_neutralises_formulas_in_names(client, platform):
    url = open_item(platform, client, sub="learner-x", name="=HYPERLINK(\"http://evil\")")
    work(client, url)
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    assert "'=HYPERLINK" in client.get(trainer + "follow-up.csv").get_data(as_text=True)


def test_records_are_staff_only_and_scoped_to_the_course(client, platform):
    c = course(client, platform)
    for path in ("follow-up", "follow-up.json", "follow-up.csv", f"follow-up/{c['a']}", f"follow-up/{c['a']}.json",
                 f"admin/people/{c['a']}/data.json"):
        assert client.get(c["noah"] + path).status_code == 403, path
    assert client.post(c["noah"] + f"admin/people/{c['a']}/erase", data={"confirm": "yes"}).status_code == 403
    # A trainer of another course of the same platform sees nobody of this one.
    other = open_item(platform, client, sub="trainer-2", role="trainer", context="course-202", link_id="link-9")
    assert client.get(other + "follow-up.json").get_json()["learners"] == []
    for path in (f"follow-up/{c['a']}", f"follow-up/{c['a']}.json", f"follow-up/{c['a']}.csv"):
        response = client.get(other + path)
        assert response.status_code == 404 and "aucun travail dans ce cours" in response.get_data(as_text=True), path
    assert client.get(c["trainer"] + "follow-up/999999").status_code == 404


def test_a_second_platform_reaches_no_record_and_no_person_of_the_first(client, platform, http_mock):
    c = course(client, platform)
    other = TestPlatform(issuer="https://other-moodle.test", client_id="client-2", key_name="platform-b")
    other.serve_jwks(http_mock)
    other.register()
    admin_b = landing_url(other.launch(client, "admin", sub="admin-b", link_id="link-1", **{
        CLAIM + "custom": {"catalogue_item": "m1.t2"}, CLAIM + "context": {"id": "course-101", "title": "B"}}))
    assert client.get(admin_b + "follow-up.json").get_json()["learners"] == []
    assert client.get(admin_b + f"follow-up/{c['a']}").status_code == 404
    assert client.get(admin_b + f"admin/people/{c['a']}/data.json").status_code == 404
    assert client.post(admin_b + f"admin/people/{c['a']}/erase", data={"confirm": "yes"}).status_code == 404
    assert db.session.get(LtiUser, c["a"]) is not None


def admin(client, platform) -> str:
    return open_item(platform, client, sub="admin-1", role="admin", name="Sam Leroy")


def test_an_administrator_exports_everything_stored_about_a_person(client, platform, llm_call):
    c = course(client, platform)
    llm_call(c["camille"], "Aide-moi à formuler un objectif d’accueil")
    url = admin(client, platform)
    record = client.get(url + f"follow-up/{c['a']}").get_data(as_text=True)
    assert 'data-testid="personal-data"' in record and 'data-testid="erase-form"' in record
    assert "1 appel à l’assistant IA" in html.unescape(record)
    response = client.get(url + f"admin/people/{c['a']}/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename=personal-data-{c['a']}.json"
    data = response.get_json()
    assert data["person"]["platform_user_id"] == "learner-a" and data["person"]["name"] == "Camille Martin"
    tables = data["tables"]
    assert {"draft", "checklist_ticks", "submission", "grade", "quiz_attempt", "ai_call"} <= set(tables)
    assert "launch_session" not in tables and "score_outbox" not in tables
    assert tables["submission"][0]["version"] == 1 and tables["grade"][0]["score"] == 12.5
    assert "Aide-moi à formuler" in json.dumps(tables["ai_call"], ensure_ascii=False)
    assert all("user_pk" not in row for rows in tables.values() for row in rows)
    # Nothing of Noah's in Camille's export.
    noah = client.get(url + f"admin/people/{c['b']}/data.json").get_json()
    assert set(noah["tables"]) == {"section_read", "link_opening"}


def rows_referencing(user_pk: int) -> dict[str, int]:
    db.session.expire_all()
    counts = {}
    for table, column, _rule in _references():
        n = db.session.execute(select(func.count()).select_from(table).where(column == user_pk)).scalar_one()
        if n:
            counts[table.name] = n
    return counts


def test_erasure_deletes_the_persons_data_everywhere_and_keeps_the_others(client, platform, llm_call):
    c = course(client, platform)
    llm_call(c["camille"], "Aide-moi à formuler un objectif d’accueil")
    url = admin(client, platform)
    before_b = rows_referencing(c["b"])
    assert {"draft", "submission", "grade", "launch_session", "ai_call"} <= set(rows_referencing(c["a"]))

    refused = client.post(url + f"admin/people/{c['a']}/erase", data={})
    assert refused.status_code == 422 and "Cochez la case" in refused.get_data(as_text=True)
    assert client.post(url + f"admin/people/{c['a']}/erase", data={"confirm": "no"}).status_code == 422
    assert rows_referencing(c["a"])  # nothing erased without the confirmation

    done = client.post(url + f"admin/people/{c['a']}/erase", data={"confirm": "yes"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Camille Martin" in done.get_data(as_text=True)
    assert rows_referencing(c["a"]) == {}
    assert db.session.get(LtiUser, c["a"]) is None
    assert db.session.execute(select(func.count()).select_from(Submission)).scalar_one() == 0
    # The AI call stays for the centre's usage figures, without the person or their words.
    call = db.session.execute(select(AiCall)).scalar_one()
    assert (call.user_pk, call.prompt, call.answer) == (None, [], "") and call.tokens_in > 0
    # Camille's launch is over; Noah's data and the trainer are untouched.
    assert client.get(c["camille"]).status_code == 401
    assert rows_referencing(c["b"]) == before_b
    assert client.get(c["trainer"] + "follow-up.json").get_json()["learners"][0]["learner"] == "Noah Petit"
    # Launching again, she is a new learner with an empty record.
    again = open_item(platform, client, sub="learner-a", name="Camille Martin")
    assert client.get(again).status_code == 200
    assert client.get(c["trainer"] + "follow-up.json").get_json()["learners"][0]["learner"] == "Noah Petit"


def test_erasing_a_trainer_keeps_the_grades_they_gave(client, platform):
    c = course(client, platform)
    trainer_pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "trainer-1")).scalar_one()
    url = admin(client, platform)
    assert client.post(url + f"admin/people/{trainer_pk}/erase", data={"confirm": "yes"}).status_code == 200
    db.session.expire_all()
    grade = db.session.execute(select(Grade)).scalar_one()
    assert (grade.user_pk, grade.score, grade.graded_by) == (c["a"], 12.5, None)


def test_erasure_refusals(client, platform):
    c = course(client, platform)
    url = admin(client, platform)
    admin_pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "admin-1")).scalar_one()
    own = client.post(url + f"admin/people/{admin_pk}/erase", data={"confirm": "yes"})
    assert own.status_code == 409 and db.session.get(LtiUser, admin_pk) is not None
    assert client.post(url + "admin/people/999999/erase", data={"confirm": "yes"}).status_code == 404
    assert client.post(c["trainer"] + f"admin/people/{c['a']}/erase", data={"confirm": "yes"}).status_code == 403
    assert client.get(c["trainer"] + f"admin/people/{c['a']}/data.json").status_code == 403
    assert rows_referencing(c["a"])


def test_the_cli_exports_and_erases_a_person(app, client, platform, tmp_path):
    c = course(client, platform)
    runner = app.test_cli_runner()
    who = ["--issuer", platform.issuer, "--client-id", platform.client_id, "--sub", "learner-a"]
    out = tmp_path / "camille.json"
    result = runner.invoke(args=["lti-tool", "export-person", *who, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["tables"]["submission"][0]["version"] == 1
    unknown = runner.invoke(args=["lti-tool", "erase-person", "--issuer", platform.issuer, "--client-id",
                                  platform.client_id, "--sub", "nobody", "--yes"])
    assert unknown.exit_code == 1 and "knows no user 'nobody'" in unknown.output
    declined = runner.invoke(args=["lti-tool", "erase-person", *who], input="n\n")
    assert declined.exit_code == 1 and rows_referencing(c["a"])
    result = runner.invoke(args=["lti-tool", "erase-person", *who, "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased user learner-a" in result.output and "submission 1" in result.output
    assert rows_referencing(c["a"]) == {}


def test_staff_who_tried_an_activity_have_no_record_when_the_platform_gives_its_roster(client, platform, moodle):
    extra = {**moodle.claims("link-1"), CLAIM + "custom": {"catalogue_item": "m1.t2"}}
    learner = landing_url(platform.launch(client, "learner", sub="user-1", link_id="link-1", **extra))
    work(client, learner)
    trainer = landing_url(platform.launch(client, "trainer", sub="teacher-1", link_id="link-1", **extra))
    work(client, trainer)  # a trainer tries the exercise the way learners will see it
    assert [r["learner"] for r in client.get(trainer + "follow-up.json").get_json()["learners"]] == ["Camille Martin"]


def test_a_whole_module_placed_without_a_title_is_named_after_the_module(client, platform):
    url = landing_url(platform.launch(client, "learner", sub="learner-a", **{
        CLAIM + "resource_link": {"id": "link-m", "title": ""}, CLAIM + "custom": {"catalogue_item": "m1"}}))
    assert client.post(url + "themes/m1.t1/read").status_code == 200
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    record = client.get(trainer + "follow-up.json").get_json()["learners"][0]
    assert record["activities"][0]["activity"] == get_catalogue("fr").item("m1").title
    assert client.get(trainer + "follow-up").status_code == 200


def test_a_grade_given_before_a_resubmission_is_marked_as_the_earlier_versions(client, platform):
    c = course(client, platform)
    assert submit(client, c["camille"]).status_code == 201  # version 2, after the grade
    record = client.get(c["trainer"] + f"follow-up/{c['a']}.json").get_json()
    first = record["activities"][0]
    assert (first["versions"], first["score"], first["grade_is_current"]) == (2, 12.5, False)
    text = page(client, c["trainer"] + f"follow-up/{c['a']}")
    assert "Note d’une version antérieure" in text
    listing = page(client, c["trainer"] + "follow-up")
    assert "0 / 2" in listing  # graded: none is current


def test_a_feedback_draft_about_a_learner_is_in_their_export_and_blanked_by_their_erasure(client, platform):
    c = course(client, platform)
    drafted = client.post(c["trainer"] + f"grading/{c['a']}/draft-comment", json={})
    assert drafted.status_code == 200, drafted.get_data(as_text=True)
    call = db.session.execute(select(AiCall).where(AiCall.purpose == "feedback_draft")).scalar_one()
    assert call.subject_pk == c["a"] and call.user_pk != c["a"]
    url = admin(client, platform)
    exported = client.get(url + f"admin/people/{c['a']}/data.json").get_json()["tables"]["ai_call"]
    assert [row["purpose"] for row in exported] == ["feedback_draft"]
    assert "Accueillir mon apprentie" in json.dumps(exported, ensure_ascii=False)  # the work it was sent
    assert client.post(url + f"admin/people/{c['a']}/erase", data={"confirm": "yes"}).status_code == 200
    db.session.expire_all()
    call = db.session.get(AiCall, call.id)
    assert (call.subject_pk, call.prompt, call.answer) == (None, [], "") and call.user_pk is not None


def test_an_activity_whose_content_left_the_catalogue_keeps_its_evidence_on_the_record(client, platform):
    c = course(client, platform)
    # A content update removed the item the first activity was placed with.
    activity = db.session.execute(select(Activity).where(Activity.catalogue_item == "m1.t2")).scalar_one()
    activity.catalogue_item = "m1.t9"
    db.session.commit()
    record = client.get(c["trainer"] + f"follow-up/{c['a']}.json").get_json()
    first, second = record["activities"]
    assert first["content_removed"] is True and second["content_removed"] is False
    assert "(contenu retiré du catalogue)" in first["activity"]
    assert (first["status"], first["versions"], first["score"], first["exercises_total"]) == ("graded", 1, 12.5, 0)
    assert first["declared_level"] == "2 – Préparation avec l’IAg"
    text = page(client, c["trainer"] + f"follow-up/{c['a']}")
    assert "Progression inconnue" in text and "12.5 / 20" in text
    rows = list(csv.DictReader(io.StringIO(client.get(c["trainer"] + "follow-up.csv").get_data(as_text=True).lstrip("\ufeff")),
                               delimiter=";"))
    assert sum("(contenu retiré du catalogue)" in row["Activité"] for row in rows) == 2  # one per learner


def register_rows(text: str) -> list[list[str]]:
    """The register page's rows, as the cells' text."""
    body = text.split('data-testid="privacy-register"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in body.split("<tbody>", 1)[1].split("<tr")[1:]:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell))).strip() for cell in cells])
    return rows


def test_exports_and_erasures_are_entered_in_the_platforms_register(client, platform, http_mock):
    c = course(client, platform)
    url = admin(client, platform)
    assert "Aucun export ni effacement" in page(client, url + "admin/privacy-register")
    assert client.get(url + f"admin/people/{c['b']}/data.json").status_code == 200
    assert client.get(url + f"admin/people/{c['a']}/data.json").status_code == 200
    assert client.post(url + f"admin/people/{c['a']}/erase", data={"confirm": "yes"}).status_code == 200
    rows = register_rows(page(client, url + "admin/privacy-register"))
    assert [row[1] for row in rows] == ["Effacement", "Export", "Export"]  # latest first
    erasure, export_a, export_b = rows
    # The erased person is named by their platform user id only, on the erasure and on the earlier export.
    assert erasure[2] == export_a[2] == "Personne effacée Identifiant sur la plateforme : learner-a"
    assert export_b[2].startswith("Noah Petit")
    assert erasure[3] == export_a[3] == "Sam Leroy"
    assert int(erasure[4]) >= 5 and int(export_a[4]) >= 4
    # The register is the centre's: not in the person's export, not for trainers or another platform.
    assert "privacy_event" not in client.get(url + f"admin/people/{c['b']}/data.json").get_json()["tables"]
    assert client.get(c["trainer"] + "admin/privacy-register").status_code == 403
    assert 'data-testid="privacy-register-link"' not in page(client, c["trainer"] + "follow-up")
    assert 'data-testid="privacy-register-link"' in page(client, url + "follow-up")
    other = TestPlatform(issuer="https://other-moodle.test", client_id="client-2", key_name="platform-b")
    other.serve_jwks(http_mock)
    other.register()
    admin_b = landing_url(other.launch(client, "admin", sub="admin-b", link_id="link-1"))
    assert "Aucun export ni effacement" in page(client, admin_b + "admin/privacy-register")


def test_the_cli_enters_its_exports_and_erasures_in_the_register(app, client, platform, tmp_path):
    course(client, platform)
    runner = app.test_cli_runner()
    keys = ["--issuer", platform.issuer, "--client-id", platform.client_id]
    assert runner.invoke(args=["lti-tool", "export-person", *keys, "--sub", "learner-b",
                               "-o", str(tmp_path / "noah.json")]).exit_code == 0
    assert runner.invoke(args=["lti-tool", "erase-person", *keys, "--sub", "learner-a", "--yes"]).exit_code == 0
    result = runner.invoke(args=["lti-tool", "privacy-register", *keys])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert [(kind, sub, name, actor) for _at, kind, sub, name, actor, _rows in lines] == [
        ("erasure", "learner-a", "-", "cli"), ("export", "learner-b", "Noah Petit", "cli")]
    assert "submission 1" in lines[0][5] and lines[0][0].endswith("Z")
    unknown = runner.invoke(args=["lti-tool", "privacy-register", "--issuer", "https://nowhere.test", "--client-id", "x"])
    assert unknown.exit_code == 1 and "no platform" in unknown.output
