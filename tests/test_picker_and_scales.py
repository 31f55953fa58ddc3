"""The picker (Deep Linking) and the centre's scale: the default maximum, the levels' meanings,
overlapping picks, exercises built on the assistant placed where AI is forbidden, a change of
scale that keeps each assignment's step; the model's answers shown as a small, safe Markdown."""

from __future__ import annotations

import html
import re

from lti_tool.common.markdown import answer_html

from .llm_helpers import ROLE_PLAY_EXERCISE, open_item as open_ai_item, stream  # noqa: F401
from .lti_platform import CLAIM, landing_url
from .test_submissions import REQUIRED, declaration, open_item, page, work

NBSP = "\u00a0"


def picker(client, platform) -> tuple[str, str]:
    response = platform.launch(client, "trainer", message_type="LtiDeepLinkingRequest")
    return landing_url(response), html.unescape(response.get_data(as_text=True))


# --- item 13: the picker --------------------------------------------------------------------------


def test_the_picker_starts_from_20_or_the_centres_maximum_and_shows_what_each_level_means(client, platform):
    _, text = picker(client, platform)
    assert 'id="score-m1.t2" name="score-m1.t2" value="20"' in text
    assert ("You may use AI to find ideas" in text or "Vous pouvez utiliser l’IA pour trouver des idées" in text
            or 'data-meaning="' in text)
    meanings = re.findall(r'<option value="(\w+)" data-rank="\d" data-meaning="([^"]+)"', text)
    assert {code for code, _ in meanings} >= {"no_ai", "planning", "collaboration", "full", "exploration"}
    assert all(meaning.strip() for _, meaning in meanings)
    assert 'id="meaning-m1.t2"' in text  # the chosen level's meaning, under its list

    admin = open_item(platform, client, sub="admin-1", role="admin")
    assert client.put(admin + "admin/centre", json={"score_maximum": 15}).status_code == 200
    _, text = picker(client, platform)
    assert 'id="score-m1.t2" name="score-m1.t2" value="15"' in text


def test_a_module_and_one_of_its_themes_cannot_be_placed_together(client, platform):
    url, _ = picker(client, platform)
    response = client.post(url + "deep-link", headers={"Accept": "application/json"}, data={
        "item": ["m1", "m1.t2"], "title-m1": "M1", "score-m1": "20", "title-m1.t2": "T2", "score-m1.t2": "20"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "overlapping_items"
    sibling = client.post(url + "deep-link", data={
        "item": ["m1.t2", "m1.t3"], "title-m1.t2": "T2", "score-m1.t2": "20", "title-m1.t3": "T3", "score-m1.t3": "20"})
    assert sibling.status_code == 200


def test_the_picker_warns_when_the_course_already_grades_the_module(client, platform):
    open_item(platform, client, item="m1", link_id="placed-module")  # the course's module 1, launched once
    _, text = picker(client, platform)
    warned = re.findall(r'data-pick="([^"]+)"[^>]*>\s*<input[^>]*>\s*<label[^>]*>.*?</label>\s*'
                        r'<p class="pick-warning small" data-testid="already-placed">', text, re.DOTALL)
    assert {"m1", "m1.t2", "m1.t2.e1"} <= set(warned)
    assert not {"m2", "m2.t1"} & set(warned)


def test_the_return_page_shows_the_chosen_level_and_warns_when_the_assistant_is_off(client, platform):
    url, text = picker(client, platform)
    assert 'data-pick="m1.t4" data-title=' in text and 'data-needs-rank="2"' in text  # a role play inside
    response = client.post(url + "deep-link", data={"item": "m1.t4", "title-m1.t4": "Jeu de rôle", "score-m1.t4": "20",
                                                    "policy-m1.t4": "no_ai"})
    summary = html.unescape(response.get_data(as_text=True))
    assert 'data-testid="picked-summary"' in summary
    assert f"Jeu de rôle — sur 20 — usage de l’IA autorisé{NBSP}: 1 – " in summary
    assert "l’assistant IA est désactivé" in summary


# --- item 11: a policy that forbids the AI an exercise is built on ----------------------------------


def test_the_learner_is_told_what_to_do_when_the_assistant_is_off_and_the_trainer_how_to_fix_it(client, platform):
    learner = open_item(platform, client, item="m1.t4", ai_policy="no_ai")
    text = page(client, learner)
    assert 'data-testid="assistant-off"' in text
    assert f"pour ce travail{NBSP}: l’assistant IA est désactivé." in text
    assert "Faites cet exercice sans IA" in text
    trainer = open_item(platform, client, item="m1.t4", ai_policy="no_ai", sub="trainer-1", role="trainer")
    text = page(client, trainer)
    assert "Aucun apprenant ne peut utiliser l’assistant ici" in text and "choisissez au moins « 2" in text.replace(NBSP, " ")
    assert 'data-testid="assistant-off"' not in page(client, open_item(platform, client, item="m1.t4", sub="l-2"))


# --- item 12: changing the centre's scale ------------------------------------------------------------


def _switch(client, admin: str, scale: str):
    response = client.put(admin + "admin/centre", json={"scale": scale, "confirm_scale": scale})
    assert response.status_code == 200, response.get_json()


def test_changing_the_scale_keeps_each_assignments_step_and_is_previewed_first(client, platform):
    placed = open_item(platform, client, ai_policy="collaboration", link_id="link-1")  # 3 – Working with AI
    trainer = open_item(platform, client, sub="trainer-1", role="trainer", link_id="link-2")
    assert client.put(trainer + "policy", json={"level": "full", "note": ""}).status_code == 200  # 4 – Full use
    admin = open_item(platform, client, sub="admin-1", role="admin", link_id="link-3")

    preview = page(client, admin + "admin/centre")
    section = preview[preview.index('data-testid="scale-preview-sherbrooke"'):]
    section = section[:section.index("</section>")]
    assert "Utilisation guidée" in section and "Utilisation balisée" in section
    assert client.put(admin + "admin/centre", json={"scale": "sherbrooke"}).status_code == 409  # not seen yet

    _switch(client, admin, "sherbrooke")
    assert client.get(placed + "policy").get_json()["level"] == "guidee"  # not the default, "limitee"
    assert client.get(trainer + "policy").get_json()["level"] == "balisee"
    assert 'data-testid="policy-chosen-in"' in page(client, trainer)
    _switch(client, admin, "aias")
    assert client.get(trainer + "policy").get_json()["level"] == "full"  # back exactly


def test_a_declaration_made_before_the_change_reads_in_its_own_scale(client, platform):
    learner = open_item(platform, client)
    work(client, learner)
    client.put(learner + "checklist/ticks", json={"ticks": {item: True for item in REQUIRED}})
    assert client.post(learner + "submissions", json=declaration()).status_code == 201  # "planning" (AIAS 2)
    admin = open_item(platform, client, sub="admin-1", role="admin", link_id="link-9")
    _switch(client, admin, "sherbrooke")
    trainer = open_item(platform, client, sub="trainer-1", role="trainer")

    rows = client.get(trainer + "overview.json").get_json()["learners"]
    (entry,) = [r for r in rows if r["status"] == "submitted"]
    assert entry["declared_level"] == "2 – Préparation avec l’IAg (AIAS)"
    assert entry["allowed_level"] == "Utilisation limitée"


# --- item 15: the model's answers ---------------------------------------------------------------------


def test_answers_render_a_small_escaped_markdown_subset():
    rendered = str(answer_html("## Pistes\n**Important** : *relire*\n- un\n- deux\n\n"
                               "<script>alert(1)</script> <img src=x onerror=alert(1)> [lien](javascript:alert(1))"))
    assert "<p><strong>Pistes</strong></p>" in rendered and "<strong>Important</strong>" in rendered
    assert "<em>relire</em>" in rendered and "<ul>\n<li>un</li>" in rendered
    assert "<script" not in rendered and "<img" not in rendered and "<a" not in rendered and "<h2" not in rendered
    assert "&lt;script&gt;" in rendered and "onerror" not in rendered.replace("&lt;img src=x onerror=alert(1)&gt;", "")


def test_a_streamed_answer_ends_with_its_safe_html_and_a_saved_role_play_shows_rendered(client, platform):
    url = open_ai_item(platform, client)
    _, events, text = stream(client, url, purpose="role_play", exercise_id=ROLE_PLAY_EXERCISE,
                             messages=[{"role": "user", "content": "Je suis désolé, monsieur."}])
    done = events[-1][1]
    assert events[-1][0] == "done" and done["html"] == str(answer_html(text)) and done["html"].startswith("<p>")
    transcript = {"transcript": [{"role": "user", "content": "Bonjour"},
                                 {"role": "assistant", "content": "**Non.** <b>x</b>"}], "reflection": ""}
    assert client.put(url + f"exercises/{ROLE_PLAY_EXERCISE}/draft", json={"answers": transcript}).status_code == 200
    shown = client.get(url).get_data(as_text=True)
    assert '<div class="ai-answer"><p><strong>Non.</strong> &lt;b&gt;x&lt;/b&gt;</p>' in shown


def test_the_ai_answers_kept_in_a_submission_show_as_safe_markdown(client, platform):
    url = open_ai_item(platform, client, item=ROLE_PLAY_EXERCISE)
    answers = {"transcript": [{"role": "user", "content": "**moi**"},
                              {"role": "assistant", "content": "- **Un** point\n- <i>deux</i>"}],
               "reflection": "Ma réflexion"}
    assert client.put(url + f"exercises/{ROLE_PLAY_EXERCISE}/draft", json={"answers": answers}).status_code == 200
    client.put(url + "checklist/ticks", json={"ticks": {item: True for item in REQUIRED}})
    response = client.post(url + "submissions", json=declaration(level_used="planning"))
    assert response.status_code == 201, response.get_json()
    receipt = client.get(url + "submissions/1/receipt").get_data(as_text=True)
    assert '<div class="ai-answer"><ul>\n<li><strong>Un</strong> point</li>\n<li>&lt;i&gt;deux&lt;/i&gt;</li>' in receipt
    assert "**moi**" in receipt  # the learner's own words stay as written
