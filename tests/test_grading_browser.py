"""End to end over real HTTP: a learner launched from the demo course in Chromium, a grade
enqueued, the outbox thread (started here explicitly) sends it to the demo platform through the
live server, and the demo gradebook page shows it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.gradebook.services import outbox_state
from lti_tool.gradebook.worker import start_outbox_thread, stop_outbox_thread
from lti_tool.lti.models import LaunchSession

from .test_browser import (  # noqa: F401 - fixtures
    ALLOW_THIRD_PARTY_COOKIES,
    TOOL_FRAME,
    first_page,
    launch,
    open_browser,
    output_dir,
    playwright_api,
    server,
    submit_picker,
    submit_without_ai,
)

pytestmark = pytest.mark.browser


def test_trainer_grades_in_the_tool_and_the_grade_lands_in_the_demo_gradebook(playwright_api, server, output_dir,
                                                                              tmp_path):
    """The learner submits a placed activity; the trainer opens the grading page from the demo
    course, grades with a comment; the outbox thread sends it and the demo gradebook shows it."""
    app = server.app
    app.config["OUTBOX_POLL_SECONDS"] = 0.2
    context = open_browser(playwright_api, tmp_path / "profile", ALLOW_THIRD_PARTY_COOKIES)
    start_outbox_thread(app)
    try:
        page = first_page(context)
        frame = page.frame_locator(TOOL_FRAME)
        launch(page, server, "launch-deeplink")
        frame.locator('[id="pick-m1.t2"]').check()
        frame.locator('[id="score-m1.t2"]').fill("20")
        submit_picker(frame)
        frame.locator('[data-testid="placed-items"] button[value="learner"]').first.click()
        for key in ("specific", "measurable", "achievable", "relevant", "time_bound"):
            frame.locator(f'[id="m1.t2.e1-{key}"]').fill("Réponse : " + key)
        frame.locator('form[data-exercise="m1.t2.e1"] [data-status]').filter(has_text="Enregistré").wait_for()
        submit_without_ai(frame)

        # The trainer, from the demo course page: the placed activity, then grading.
        page.goto(f"{server.platform_url}/demo")
        page.locator('[data-testid="launch-placed-trainer"]').first.click()
        frame.locator('[data-testid="grading-link"]').click()
        frame.locator('[data-testid="roster"]').wait_for(state="visible")
        roster = frame.locator('[data-testid="roster"]').inner_text()
        assert "Camille Martin" in roster and "N’a jamais ouvert cette activité" in roster  # NRPS learners too
        frame.locator('[data-testid="roster"] a.button').first.click()
        grading = frame.locator('[data-testid="grading-page"]')
        grading.wait_for(state="visible")
        frame.locator("#score").fill("15")
        frame.locator("#comment").fill("Objectifs clairs ; précisez les échéances.")
        page.screenshot(path=output_dir / "grading-page.png", full_page=True)
        frame.locator('[data-testid="save-grade"]').click()
        frame.locator("#grade-form [data-status]").filter(has_text="Note enregistrée").wait_for()

        page.goto(f"{server.platform_url}/demo/gradebook")
        cell = page.locator('[data-testid^="grade-demo-learner-1-"]')
        for _ in range(50):
            if cell.count() and cell.first.get_attribute("data-result"):
                break
            page.wait_for_timeout(200)
            page.reload()
        assert cell.first.get_attribute("data-result") == "15.0"
        assert "précisez les échéances" in cell.first.inner_text()
        page.screenshot(path=output_dir / "demo-gradebook.png", full_page=True)
        with app.app_context():
            session = db.session.execute(select(LaunchSession).where(LaunchSession.role == "learner")
                                         .order_by(LaunchSession.id.desc())).scalars().first()
            link_pk, user_pk = session.resource_link_pk, session.user_pk
            assert outbox_state(link_pk, [user_pk])[user_pk].status == "sent"
    finally:
        stop_outbox_thread(app)
        context.close()
