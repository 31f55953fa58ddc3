"""The trainer's landing and roster for a class at work, in Debian's Chromium, inside the demo
course's iframe: the page opens on the summary (its numbers links to the roster), the settings
folded away; the roster in one list. On a desktop (1280 px) and a phone (390 px), with axe-core.

Screenshots land in test-output/browser/trainer-landing-*.png and trainer-roster-*.png.
"""

from __future__ import annotations

import pytest

from lti_tool.demo.cli import seed_demo_class

from .test_browser import (  # noqa: F401 - fixtures
    ALLOW_THIRD_PARTY_COOKIES,
    TOOL_FRAME,
    TRAINER_PAGE,
    axe_scan,
    first_page,
    open_browser,
    output_dir,
    playwright_api,
    server,
    tool_frame,
)
from .test_browser_phone import layout_problems, open_phone

pytestmark = pytest.mark.browser


def test_the_trainer_lands_on_the_summary_and_reaches_the_roster(playwright_api, server, output_dir, tmp_path):
    with server.app.app_context():
        seeded = seed_demo_class(learners=12, activities=2, versions=2)
    for label, open_context in (("desktop", lambda: open_browser(playwright_api, tmp_path / "desktop",
                                                                 ALLOW_THIRD_PARTY_COOKIES)),
                                ("phone", lambda: open_phone(playwright_api, tmp_path / "phone"))):
        context = open_context()
        try:
            page = first_page(context)
            frame = page.frame_locator(TOOL_FRAME)
            page.goto(f"{server.platform_url}/demo")
            page.locator(f'[data-testid="course-activity-{seeded.links[0]}"] '
                         '[data-testid="launch-placed-trainer"]').click()
            frame.locator(TRAINER_PAGE).wait_for(state="visible")
            figures = frame.locator('[data-testid="summary-figures"]')
            figures.wait_for(state="visible")  # fetched once the page is shown
            # 12 learners of the class and the 4 active learners of the demo's roster, who never launched the tool.
            assert frame.locator('[data-testid="summary-participants"] strong').inner_text() == "16"
            assert frame.locator('[data-testid="policy-settings"]').get_attribute("open") is None
            # The tool's page opens on it: its bottom within the first screen of the tool's frame
            # (it was 1,580 px down, under the policy form and the checklist editor).
            bottom = tool_frame(page).evaluate(
                """() => document.querySelector('[data-testid="trainer-summary"]').getBoundingClientRect().bottom""")
            assert bottom < page.viewport_size["height"], bottom
            if label == "phone":
                assert layout_problems(tool_frame(page)) == []
            axe_scan(page, f"trainer-landing-{label}", output_dir)
            page.locator(TOOL_FRAME).screenshot(path=output_dir / f"trainer-landing-{label}.png")  # in the course
            alone = context.new_page()  # the tool's page on its own, whole
            alone.goto(tool_frame(page).url)
            alone.locator('[data-testid="summary-figures"]').wait_for(state="visible")
            alone.screenshot(path=output_dir / f"trainer-landing-{label}-page.png", full_page=True)
            alone.close()

            to_grade = int(frame.locator('[data-testid="summary-to-grade"] strong').inner_text())
            frame.locator('[data-testid="summary-to-grade"]').click()
            roster = frame.locator('[data-testid="roster"]')
            roster.wait_for(state="visible")
            assert roster.locator("tbody tr").count() == to_grade
            frame.locator('[data-testid="overview-filters"] select[name="status"]').select_option("")
            frame.locator('[data-testid="overview-filters"] button[type="submit"]').click()
            frame.locator('[data-testid="roster-count"]').filter(has_text="16 sur 16 apprenants").wait_for()
            text = roster.inner_text()
            assert "N’a jamais ouvert cette activité" in text and "Noté" in text
            if label == "phone":
                assert layout_problems(tool_frame(page)) == []
            axe_scan(page, f"trainer-roster-{label}", output_dir)
            page.locator(TOOL_FRAME).screenshot(path=output_dir / f"trainer-roster-{label}.png")
            alone = context.new_page()
            alone.goto(tool_frame(page).url)
            alone.screenshot(path=output_dir / f"trainer-roster-{label}-page.png", full_page=True)
            alone.close()
        finally:
            context.close()
