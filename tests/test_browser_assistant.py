"""The AI assistant in Chromium: the notice about it comes before the first use in the course, an
exercise's prompt streams its answer into the page and the draft, "Stop" keeps the part received,
a role play keeps its transcript across launches."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.activities.models import Draft
from lti_tool.extensions import db
from lti_tool.llm.models import AiCall

from .test_browser import (  # noqa: F401  (fixtures)
    ALLOW_THIRD_PARTY_COOKIES,
    TOOL_FRAME,
    first_page,
    launch,
    open_browser,
    output_dir,
    playwright_api,
    server,
    submit_picker,
    tool_frame,
)

pytestmark = pytest.mark.browser


def place_and_open(page, server, item: str) -> None:
    frame = page.frame_locator(TOOL_FRAME)
    launch(page, server, "launch-deeplink")
    frame.locator(f'[id="pick-{item}"]').check()
    submit_picker(frame)
    frame.locator('[data-testid="placed-items"] button[value="learner"]').first.click()


def saved_answers(server, exercise_id: str) -> dict:
    with server.app.app_context():
        draft = db.session.execute(select(Draft).where(Draft.exercise_id == exercise_id)).scalar_one_or_none()
        return dict(draft.answers) if draft else {}


def ai_calls(server) -> list[AiCall]:
    with server.app.app_context():
        return list(db.session.execute(select(AiCall).order_by(AiCall.id)).scalars())


def test_prompt_answer_streams_into_the_page_and_stop_keeps_the_partial_answer(
        playwright_api, server, output_dir, tmp_path):
    server.app.config["LLM_FAKE_CHUNK_DELAY"] = "0.05"  # the built-in fake model, slowed down to see it stream
    context = open_browser(playwright_api, tmp_path / "profile", ALLOW_THIRD_PARTY_COOKIES)
    try:
        page = first_page(context)
        frame = page.frame_locator(TOOL_FRAME)
        place_and_open(page, server, "m1.t4")
        box = frame.locator('form[data-exercise="m1.t4.e1"]')
        box.locator('[data-testid="demo-label"]').wait_for(state="visible")
        assert box.locator('[data-testid="assistant-mode"]').inner_text()
        prompt = box.locator('[data-field="prompt"]')
        prompt.fill("Explique la gestion des stocks à trois niveaux : débutant, intermédiaire et avancé.")
        # The first use in the course: the notice about the AI comes first.
        notice = frame.locator('[data-testid="ai-notice"]')
        assert "système d’intelligence artificielle" in notice.inner_text()
        box.locator('[data-ai="run"]').dispatch_event("click")
        box.locator("[data-ai-status]").filter(has_text="J’ai compris").wait_for(state="visible")
        tool_frame(page).wait_for_function("() => document.activeElement && "
                                           "document.activeElement.getAttribute('data-ai') === 'acknowledge'")
        assert ai_calls(server) == [] and prompt.input_value().startswith("Explique")
        page.screenshot(path=output_dir / "assistant-notice.png", full_page=True)
        notice.locator('[data-ai="acknowledge"]').click()
        notice.locator("[data-ai-notice-status]").filter(has_text="Vous pouvez maintenant").wait_for(state="visible")
        box.locator('[data-ai="run"]').dispatch_event("click")  # a DOM click: no hit-testing race
        box.locator('[data-ai="stop"]').wait_for(state="visible")
        answer = box.locator('[data-field="answer"]')
        tool_frame(page).wait_for_function("(sel) => document.querySelector(sel).value.length > 0",
                                           arg='form[data-exercise="m1.t4.e1"] [data-field="answer"]')
        box.locator('[data-ai="stop"]').click()
        box.locator('[data-ai="stop"]').wait_for(state="hidden")
        partial = answer.input_value()
        assert partial and box.locator("[data-ai-status]").inner_text()
        page.screenshot(path=output_dir / "assistant-stopped.png", full_page=True)
        page.wait_for_timeout(500)
        assert [c.outcome for c in ai_calls(server)] == ["stopped"]

        server.app.config["LLM_FAKE_CHUNK_DELAY"] = "0"
        # The stopped answer is autosaved first: the page settles before the next click.
        box.locator('[data-status]').filter(has_text="Enregistré").wait_for(state="visible")
        box.locator('[data-ai="run"]').dispatch_event("click")  # a DOM click: no hit-testing race
        box.locator("[data-ai-status]").filter(has_text="Réponse reçue").or_(
            box.locator("[data-ai-status]").filter(has_text="L’IA répond")).first.wait_for()
        # The whole answer replaced the partial one and the stream ended (Stop hidden again).
        tool_frame(page).wait_for_function(
            """([sel, partial]) => { const f = document.querySelector(sel);
                 return f.querySelector('[data-field="answer"]').value !== partial
                        && f.querySelector('[data-ai="stop"]').hidden; }""",
            arg=['form[data-exercise="m1.t4.e1"]', partial])
        box.locator('[data-status]').filter(has_text="Enregistré").wait_for(state="visible")  # autosaved draft
        full = answer.input_value()
        assert full and full != partial
        assert [c.outcome for c in ai_calls(server)] == ["stopped", "ok"]
        assert ai_calls(server)[-1].answer == full
        page.screenshot(path=output_dir / "assistant-answer.png", full_page=True)

        # The role play: the AI opened, the learner answers, the exchange is in the draft.
        play = frame.locator('form[data-exercise="m1.t4.e3"]')
        play.locator("[data-chat-input]").fill("Je suis vraiment désolée, je regarde tout de suite ce que je peux faire.")
        page.wait_for_timeout(1000)  # the previous exercise's autosave (800 ms debounce) has landed
        play.locator('[data-ai="run"]').dispatch_event("click")  # a DOM click: no hit-testing race
        play.locator("li.turn.assistant[data-turn]").wait_for(state="visible")
        play.locator('[data-ai="stop"]').wait_for(state="hidden")
        assert play.locator("li[data-turn]").count() == 2
        for _ in range(50):  # the transcript reaches the draft (autosave, 800 ms debounce)
            if len(saved_answers(server, "m1.t4.e3").get("transcript") or []) == 2:
                break
            page.wait_for_timeout(200)
        assert len(saved_answers(server, "m1.t4.e3")["transcript"]) == 2
        page.screenshot(path=output_dir / "assistant-role-play.png", full_page=True)
        place_and_open(page, server, "m1.t4")  # a new launch of the same link: the transcript is back
        frame.locator('form[data-exercise="m1.t4.e3"] li[data-turn]').first.wait_for(state="visible")
        assert frame.locator('form[data-exercise="m1.t4.e3"] li[data-turn]').count() == 2
        assert frame.locator('form[data-exercise="m1.t4.e1"] [data-field="answer"]').input_value() == full
    finally:
        context.close()
