"""AI-use policy, checklist, declaration and immutable submissions (issue 4)."""

from __future__ import annotations

import csv
import html
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.declarations.models import ChecklistTicks, ImmutableSubmission, Submission

from .lti_platform import CLAIM, landing_url

ITEM = "m1.t2"  # a theme with a SMART-goal exercise
SMART = {"specific": "Accueillir mon apprentie", "measurable": "3 points d’étape", "achievable": "oui",
         "relevant": "oui", "time_bound": "juin"}
REQUIRED = ("before.frame", "during.confidential", "after.explain")


def open_item(platform, client, item: str = ITEM, *, sub: str = "learner-a", link_id: str = "link-1",
              role: str = "learner", name: str | None = None, context: str = "course-101", **custom: str) -> str:
    extra = {CLAIM + "custom": {"catalogue_item": item, **custom},
             CLAIM + "context": {"id": context, "title": "Cours " + context}}
    if name:
        extra["name"] = name
    response = platform.launch(client, role, sub=sub, link_id=link_id, **extra)
    return landing_url(response)


def page(client, url: str) -> str:
    return html.unescape(client.get(url).get_data(as_text=True))


def work(client, url: str) -> None:
    assert client.put(url + "exercises/m1.t2.e1/draft", json={"answers": SMART}).status_code == 200


def tick(client, url: str, *items: str, value: bool = True):
    return client.put(url + "checklist/ticks", json={"ticks": {item: value for item in items}})


def declaration(**overrides) -> dict:
    base = {"level_used": "planning", "tools": ["le_chat"], "purposes": ["ideas"], "tools_other": "",
            "purposes_other": "", "external_prompts": "Donne-moi des idées d’objectifs pour un apprenti vendeur",
            "verification": "J’ai comparé avec le référentiel.", "own_changes": "Tout le texte final.",
            "justification": "", "honour": True}
    base.update(overrides)
    return {"declaration": base}


def submit(client, url: str, **overrides):
    return client.post(url + "submissions", json=declaration(**overrides))


def count(model) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def ready(client, platform, **kwargs) -> str:
    url = open_item(platform, client, **kwargs)
    work(client, url)
    assert tick(client, url, *REQUIRED).status_code == 200
    return url


# --- policy -------------------------------------------------------------------------------------


def test_learner_sees_the_policy_before_starting_and_before_submitting(client, platform):
    url = open_item(platform, client)
    text = page(client, url)
    assert 'data-testid="policy-box"' in text and 'data-testid="policy-box-submit"' in text
    assert "2 – Préparation avec l’IAg" in text  # the AIAS default level, in French
    body = client.get(url + "policy").get_json()
    assert (body["scale"], body["level"], body["rank"]) == ("aias", "planning", 2)
    assert [i["moment"] for i in body["checklist"]].count("during") == 6
    assert {i["id"] for i in body["checklist"] if i["required"]} == set(REQUIRED)


def test_trainer_sets_level_and_note_and_the_learner_sees_them(client, platform):
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    response = client.put(trainer + "policy", json={"level": "no_ai", "note": "Travail sur table, sans outil."})
    assert response.status_code == 200 and response.get_json()["level"] == "no_ai"
    learner = open_item(platform, client)
    text = page(client, learner)
    assert "1 – Sans IAg" in text and "Travail sur table, sans outil." in text
    refused = client.put(trainer + "policy", json={"level": "libre", "note": ""})  # not on the AIAS scale
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {"level": "Choisissez un niveau de l’échelle."}
    assert client.put(learner + "policy", json={"level": "full"}).status_code == 403


def test_deep_linking_places_an_activity_with_its_policy_level(client, platform):
    url = open_item(platform, client, ai_policy="collaboration")
    assert client.get(url + "policy").get_json()["level"] == "collaboration"
    url = open_item(platform, client, link_id="link-2", ai_policy="not-a-level")
    assert client.get(url + "policy").get_json()["level"] == "planning"


def test_admin_switches_the_centre_to_the_sherbrooke_markers_and_edits_the_default_checklist(client, platform):
    admin = open_item(platform, client, sub="admin-1", role="admin")
    assert "Paramètres du centre" in page(client, admin + "admin/centre")
    template = client.get(admin + "policy").get_json()["checklist"]
    edited = [{"id": i["id"], "moment": i["moment"], "text": i["text"], "required": i["required"]} for i in template[1:]]
    edited.append({"moment": "after", "text": "J’ai relu mon travail à voix haute.", "required": True})
    unconfirmed = client.put(admin + "admin/centre", json={"scale": "sherbrooke", "items": edited})
    assert unconfirmed.status_code == 409 and unconfirmed.get_json()["error"]["code"] == "scale_change_unconfirmed"
    response = client.put(admin + "admin/centre", json={"scale": "sherbrooke", "items": edited,
                                                        "confirm_scale": "sherbrooke"})
    assert response.status_code == 200, response.get_json()
    learner = open_item(platform, client)
    body = client.get(learner + "policy").get_json()
    assert body["scale"] == "sherbrooke" and body["level"] == "limitee"
    assert [i["text"] for i in body["checklist"]][-1] == "J’ai relu mon travail à voix haute."
    assert "before.allowed" not in {i["id"] for i in body["checklist"]}
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    assert client.put(trainer + "admin/centre", json={"scale": "aias"}).status_code == 403
    assert client.get(trainer + "admin/centre").status_code == 403


# --- checklist ----------------------------------------------------------------------------------


def test_trainer_rewords_adds_removes_and_requires_items_for_one_assignment(client, platform):
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    items = client.get(trainer + "policy").get_json()["checklist"]
    kept = [{"id": i["id"], "moment": i["moment"], "text": i["text"], "required": False} for i in items[:3]]
    kept[0]["text"] = "J’ai vérifié avec ma formatrice que l’outil est autorisé."
    kept[0]["required"] = True
    kept.append({"moment": "during", "text": "J’ai gardé mes brouillons.", "required": True})
    response = client.put(trainer + "checklist", json={"items": kept})
    assert response.status_code == 200
    new = response.get_json()["checklist"]
    assert [i["text"] for i in new] == [k["text"] for k in kept]
    assert new[0]["id"] == "before.allowed" and new[0]["required"] and new[3]["id"].startswith("during.c")
    # Another assignment of the course keeps the centre's checklist.
    other = open_item(platform, client, sub="trainer-1", role="trainer", link_id="link-2")
    assert len(client.get(other + "policy").get_json()["checklist"]) == 10
    for bad in ({"items": [{"moment": "later", "text": "x"}]}, {"items": [{"moment": "before", "text": "  "}]},
                {"items": "nope"}, {"items": [{"moment": "before", "text": "x", "extra": 1}]}):
        assert client.put(trainer + "checklist", json=bad).status_code == 422, bad
    assert client.delete(trainer + "checklist").get_json()["custom_checklist"] is False


def test_ticks_are_timestamped_and_unknown_items_refused(client, platform):
    url = open_item(platform, client)
    response = tick(client, url, "before.frame")
    stamp = response.get_json()["ticks"]["before.frame"]
    assert stamp.endswith("Z") and stamp[:4].isdigit()
    # Ticking again keeps the first time; unticking removes it.
    assert tick(client, url, "before.frame").get_json()["ticks"]["before.frame"] == stamp
    assert tick(client, url, "before.frame", value=False).get_json()["ticks"] == {}
    refused = tick(client, url, "before.nothing")
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {
        "ticks.before.nothing": "Cet élément ne fait pas partie de la liste de ce travail."}


# --- the rules of a submission ------------------------------------------------------------------


def test_required_checklist_items_must_be_ticked(client, platform):
    url = open_item(platform, client)
    work(client, url)
    tick(client, url, "before.frame")
    refused = submit(client, url)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "checklist_incomplete"
    assert error["message"].startswith("Cochez d’abord les éléments obligatoires de la liste :")
    assert "Je n’ai confié à l’IA aucune information confidentielle" in error["fields"]["checklist"]
    assert count(Submission) == 0


def test_no_ai_cannot_be_declared_while_the_tool_logged_ai_calls(client, platform, llm_call):
    url = ready(client, platform)
    llm_call(url, "Propose trois idées d’objectifs pour un apprenti")
    refused = submit(client, url, level_used="no_ai", tools=[], purposes=[], verification="")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "ai_calls_logged" and list(error["fields"]) == ["level_used"]
    assert "a été utilisé 1 fois" in error["message"]
    assert count(Submission) == 0


def test_no_ai_is_accepted_without_calls_and_with_empty_tools(client, platform):
    url = ready(client, platform)
    mixed = submit(client, url, level_used="no_ai")  # tools and purposes still given
    assert mixed.status_code == 422 and mixed.get_json()["error"]["code"] == "no_ai_with_tools"
    ok = submit(client, url, level_used="no_ai", tools=[], purposes=[], verification="")
    assert ok.status_code == 201 and ok.get_json()["flags"] == []


def test_a_level_above_the_policy_needs_a_justification_and_is_flagged(client, platform):
    url = ready(client, platform)
    refused = submit(client, url, level_used="full")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "justification_required"
    assert error["fields"] == {"justification": "Vous avez utilisé l’IA au-delà de ce que ce travail permet "
                                                "(2 – Préparation avec l’IAg). Expliquez pourquoi ; votre formateur le verra."}
    accepted = submit(client, url, level_used="full", justification="Ma tutrice me l’a demandé pour gagner du temps.")
    assert accepted.status_code == 201 and accepted.get_json()["flags"] == ["level_above_policy"]


def test_ai_where_forbidden_is_flagged(client, platform):
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    client.put(trainer + "policy", json={"level": "no_ai", "note": ""})
    url = ready(client, platform)
    accepted = submit(client, url, level_used="planning", justification="J’ai cherché des idées.")
    assert accepted.get_json()["flags"] == ["level_above_policy", "ai_where_forbidden"]


@pytest.mark.parametrize(("overrides", "code", "field", "message"), [
    ({"honour": False}, "honour_required", "honour", "Confirmez que votre déclaration est honnête et complète."),
    ({"tools": [], "purposes": ["ideas"]}, "tools_required", "tools", "Indiquez quels outils d’IA vous avez utilisés."),
    ({"purposes": []}, "purposes_required", "purposes", "Indiquez à quoi l’IA vous a servi."),
    ({"verification": " "}, "verification_required", "verification", "Expliquez comment vous avez vérifié ce que l’IA a produit."),
    ({"tools": ["other"]}, "other_tool_unnamed", "tools_other", "Nommez l’autre outil utilisé."),
    ({"level_used": "libre"}, "unknown_level", "level_used", "Choisissez le niveau d’usage de l’IA que vous avez réellement eu."),
])
def test_each_declaration_rule_names_its_field_in_the_learners_language(client, platform, overrides, code, field, message):
    url = ready(client, platform)
    refused = submit(client, url, **overrides)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert (error["code"], error["fields"][field], error["message"]) == (code, message, message)


def test_refusals_are_in_english_for_an_english_launch(client, platform):
    response = platform.launch(client, "learner", sub="learner-en", locale="en-GB",
                               **{CLAIM + "custom": {"catalogue_item": ITEM}})
    url = landing_url(response)
    work(client, url)
    refused = submit(client, url)
    assert refused.get_json()["error"]["message"].startswith("Tick the required items of the checklist first:")


def test_nothing_to_submit_without_answers(client, platform):
    url = open_item(platform, client)
    tick(client, url, *REQUIRED)
    refused = submit(client, url)
    assert refused.get_json()["error"]["code"] == "nothing_to_submit"


def test_trainers_do_not_submit(client, platform):
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    assert submit(client, trainer).status_code == 403


# --- versions, immutability, receipt --------------------------------------------------------------


def test_a_submission_is_a_frozen_numbered_version_with_a_printable_receipt(client, platform):
    url = ready(client, platform)
    first = submit(client, url)
    assert first.status_code == 201
    body = first.get_json()
    assert body["version"] == 1 and body["receipt"].startswith("MIA-")
    receipt = page(client, body["receipt_url"])
    assert body["receipt"] in receipt and "Accueillir mon apprentie" in receipt and "Le Chat (Mistral)" in receipt
    assert 'data-action="print"' in receipt and "/static/print.js" in receipt
    frozen = client.get(url + "submissions/1").get_json()
    assert frozen["answers"]["exercises"]["m1.t2.e1"]["answers"] == SMART
    assert frozen["answers"]["exercises"]["m1.t2.e1"]["exercise"]["title"]  # the text it answered
    assert frozen["content_version"] and frozen["policy"]["level"] == "planning"
    assert {i["id"] for i in frozen["checklist"] if i["ticked_at"]} == set(REQUIRED)

    # Nothing alters version 1: not the endpoints, not the draft, not the ORM.
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(url + "submissions/1", json=declaration()).status_code == 405
    client.put(url + "exercises/m1.t2.e1/draft", json={"answers": {**SMART, "specific": "Nouvelle version"}})
    tick(client, url, "before.allowed")
    assert client.get(url + "submissions/1").get_json() == frozen
    second = submit(client, url, own_changes="J’ai tout réécrit.")
    assert second.get_json()["version"] == 2
    assert client.get(url + "submissions/1").get_json() == frozen
    assert client.get(url + "submissions/2").get_json()["answers"]["exercises"]["m1.t2.e1"]["answers"]["specific"] == "Nouvelle version"
    assert [s["version"] for s in client.get(url + "submissions").get_json()["submissions"]] == [2, 1]
    row = db.session.execute(select(Submission).where(Submission.version == 1)).scalar_one()
    row.flags = ["tampered"]
    with pytest.raises(ImmutableSubmission):
        db.session.flush()
    db.session.rollback()
    assert client.get(url + "submissions/1").get_json()["flags"] == []


def test_calls_made_through_the_tools_assistant_are_attached_automatically(client, platform, llm_call):
    url = ready(client, platform)
    llm_call(url, "Aide-moi à reformuler un objectif SMART pour un apprenti boulanger")
    accepted = submit(client, url, tools=[])  # the learner did not even list the assistant
    assert accepted.status_code == 201
    frozen = client.get(url + "submissions/1").get_json()
    assert frozen["declaration"]["tools"] == ["tool_assistant"]
    [call] = frozen["ai_log"]
    assert call["provider"] == "fake" and call["model"] and call["at"].endswith("Z")
    assert "apprenti boulanger" in str(call["prompt"]) and call["answer"]
    assert "Appels à l’assistant IA de cet outil (1)" in page(client, url + "submissions/1/receipt")


# --- the trainer's overview -------------------------------------------------------------------------


def test_overview_shows_status_levels_checklist_and_flags_and_exports_them(client, platform):
    a = ready(client, platform, sub="learner-a", name="Camille Martin")
    assert submit(client, a, level_used="full", justification="Essai.").status_code == 201
    b = open_item(platform, client, sub="learner-b", name="Noah Petit")
    work(client, b)  # in progress, required items missing
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    rows = {r["learner"]: r for r in client.get(trainer + "overview.json").get_json()["learners"]}
    assert rows["Camille Martin"]["status"] == "submitted"
    assert rows["Camille Martin"]["declared_level"] == "4 – Intégration totale de l’IAg"
    assert rows["Camille Martin"]["allowed_level"] == "2 – Préparation avec l’IAg"
    assert rows["Camille Martin"]["flags"] == ["level_above_policy"]
    assert (rows["Camille Martin"]["checklist_ticked"], rows["Camille Martin"]["checklist_total"]) == (3, 10)
    assert rows["Noah Petit"]["status"] == "in_progress" and rows["Noah Petit"]["flags"] == ["required_missing"]
    assert rows["Noah Petit"]["required_missing"] == 3
    assert "Alex Dupont" not in rows  # the trainer did no work

    flagged = client.get(trainer + "overview.json?flag=level_above_policy").get_json()["learners"]
    assert [r["learner"] for r in flagged] == ["Camille Martin"]
    assert [r["learner"] for r in client.get(trainer + "overview.json?status=in_progress").get_json()["learners"]] == ["Noah Petit"]

    # The spreadsheet export, for Excel in French: ";" between columns, French headers and labels.
    exported = client.get(trainer + "overview.csv")
    assert exported.mimetype == "text/csv"
    body = exported.get_data(as_text=True)
    assert body.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert list(table[0])[:3] == ["Apprenant", "Statut", "Versions"]
    assert [(r["Apprenant"], r["Statut"], r["Alertes"]) for r in table] == [
        ("Camille Martin", "Rendu, à noter", "Niveau au-dessus de la politique"),
        ("Noah Petit", "Brouillon en cours", "Éléments obligatoires non cochés")]
    in_english = landing_url(platform.launch(client, "trainer", sub="trainer-2", link_id="link-1", locale="en-GB", **{
        CLAIM + "custom": {"catalogue_item": ITEM}, CLAIM + "context": {"id": "course-101", "title": "Cours"}}))
    english = client.get(in_english + "overview.csv").get_data(as_text=True).lstrip("\ufeff")
    assert english.startswith("Learner,Status,Versions,") and "Camille Martin,\"Submitted, to grade\"," in english
    text = page(client, trainer + "grading")
    assert "Niveau au-dessus de la politique" in text and "Camille Martin" in text


def test_csv_export_neutralises_formulas(client, platform):
    url = ready(client, platform, sub="learner-x", name="=HYPERLINK(\"http://evil\")")
    submit(client, url)
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")
    text = client.get(trainer + "overview.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


# --- role and scope -------------------------------------------------------------------------------


def test_learners_and_trainers_only_reach_what_is_theirs(client, platform):
    a = ready(client, platform, sub="learner-a")
    submit(client, a)
    a_pk = db.session.execute(select(Submission.user_pk)).scalar_one()
    b = ready(client, platform, sub="learner-b")
    # Learner B: own versions only, no trainer endpoint, no way to name A.
    assert client.get(b + "submissions/1").status_code == 404
    assert client.get(b + "submissions").get_json() == {"submissions": []}
    assert client.get(b + "submissions/1/receipt").status_code == 404
    for path in (f"learners/{a_pk}/submissions", f"learners/{a_pk}/submissions/1",
                 f"learners/{a_pk}/submissions/1/view", "overview", "overview.json", "overview.csv"):
        assert client.get(b + path).status_code == 403, path
    for method, path in (("put", "policy"), ("put", "checklist"), ("delete", "checklist"), ("put", "admin/centre")):
        assert getattr(client, method)(b + path, json={}).status_code == 403, path
    # The trainer of this link reads A; a trainer of another course (same platform) does not.
    trainer_x = open_item(platform, client, sub="trainer-1", role="trainer")
    assert client.get(trainer_x + f"learners/{a_pk}/submissions/1").status_code == 200
    assert client.get(trainer_x + f"learners/{a_pk}/submissions/1/view").status_code == 200
    trainer_y = open_item(platform, client, sub="trainer-2", role="trainer", context="course-202", link_id="link-9")
    for path in (f"learners/{a_pk}/submissions", f"learners/{a_pk}/submissions/1",
                 f"learners/{a_pk}/submissions/1/view"):
        assert client.get(trainer_y + path).status_code == 404, path
    assert client.get(trainer_y + "overview.json").get_json() == {"learners": []}
    # Ticks are the launch's own: B's ticks did not touch A's.
    assert count(ChecklistTicks) == 2


# --- random input ---------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
                    max_leaves=20)
DECLARATION_KEYS = list(declaration()["declaration"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(JSON, st.fixed_dictionaries({"declaration": st.dictionaries(st.sampled_from(DECLARATION_KEYS), JSON)}),
                      st.fixed_dictionaries({"ticks": st.dictionaries(st.text(max_size=40), JSON, max_size=4)})))
def test_random_json_never_breaks_the_declaration_and_checklist_endpoints(client, platform, body):
    url = ready_once(client, platform)
    before_ticks = client.get(url + "policy").get_json()["checklist"]
    before = count(Submission)
    for path, method in (("submissions", "post"), ("checklist/ticks", "put")):
        response = getattr(client, method)(url + path, json=body)
        assert response.status_code < 500, (path, body, response.get_data(as_text=True))
        if path == "submissions":
            assert count(Submission) == before + (1 if response.status_code == 201 else 0)
        elif response.status_code != 200:
            assert client.get(url + "policy").get_json()["checklist"] == before_ticks


def ready_once(client, platform) -> str:
    """One launch for all examples of the property test (hypothesis reuses the test's fixtures)."""
    if not hasattr(client, "ready_url"):
        client.ready_url = ready(client, platform)
    return client.ready_url
