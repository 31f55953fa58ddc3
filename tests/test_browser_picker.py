"""The picker and the centre's scale in Chromium, at 1280 and 390 px: the level's meaning follows
the list, an item built on the assistant warns at a level that turns it off, ticking a module and
one of its themes warns, the return lists each item's level; the administrator sees what a change
of scale does before saving. Screenshots: test-output/browser/picker-*.png, centre-preview-*.png."""

from __future__ import annotations

import pytest

from .test_browser import (  # noqa: F401 - fixtures
    ALLOW_THIRD_PARTY_COOKIES,
    TOOL_FRAME,
    TRAINER_PAGE,
    axe_scan,
    launch,
    output_dir,
    playwright_api,
    server,
    submit_picker,
)
from .chromium import first_page, open_browser
from .test_browser_phone import layout_problems, open_phone

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_the_picker_warns_and_explains_and_the_centre_previews_a_change_of_scale(
        playwright_api, server, output_dir, tmp_path, width):
    context = (open_phone(playwright_api, tmp_path / "profile") if width == 390
               else open_browser(playwright_api, tmp_path / "profile", ALLOW_THIRD_PARTY_COOKIES))
    try:
        page = first_page(context)
        if width != 390:
            page.set_viewport_size({"width": 1280, "height": 900})
        frame = page.frame_locator(TOOL_FRAME)
        launch(page, server, "launch-deeplink")
        frame.locator('[data-testid="picker-page"]').wait_for(state="visible")
        frame.locator('[id="pick-m1.t4"]').check()
        meaning = frame.locator('[id="meaning-m1.t4"]')
        frame.locator('[id="policy-m1.t4"]').select_option("no_ai")
        assert "sans IA" in meaning.inner_text() or "sans l'IA" in meaning.inner_text()
        needed = frame.locator('[data-pick="m1.t4"] [data-ai-needed]')
        assert needed.get_attribute("role") == "alert" and needed.get_attribute("data-ok") is None
        frame.locator('[id="pick-m1"]').check()
        warning = frame.locator("[data-overlap-warning]")
        warning.wait_for(state="visible")
        assert "noté deux fois" in warning.inner_text()
        page.screenshot(path=output_dir / f"picker-warnings-{width}.png", full_page=True)
        frame.locator('[data-pick="m1.t4"]').screenshot(path=output_dir / f"picker-ai-warning-{width}.png")
        warning.screenshot(path=output_dir / f"picker-overlap-{width}.png")
        if width == 390:
            assert layout_problems(page.frame(name="tool-frame")) == []
        if width == 1280:
            axe_scan(page, "picker-warnings", output_dir)
        frame.locator('[id="pick-m1"]').uncheck()
        assert warning.is_hidden()
        submit_picker(frame)
        placed = frame.locator('[data-testid="placed-items"]')
        placed.wait_for(state="visible")
        assert "1 – Sans IA" in placed.locator('[data-testid="placed-level"]').inner_text()
        page.screenshot(path=output_dir / f"picker-placed-{width}.png", full_page=True)
        placed.locator('button[value="learner"]').first.click()
        off = frame.locator('[data-testid="learner-page"] [data-testid="assistant-off"]').first
        off.wait_for(state="visible")
        assert "Faites cet exercice sans IA" in off.inner_text()
        frame.locator('[data-testid="assistant-notice"]').first.screenshot(path=output_dir / f"assistant-off-learner-{width}.png")

        page.goto(f"{server.platform_url}/demo")
        page.locator('[data-testid^="course-activity-"]').filter(has_text="m1.t4").locator(
            '[data-testid="launch-placed-admin"]').click()
        frame.locator(TRAINER_PAGE).wait_for(state="visible")
        assert frame.locator('[data-testid="assistant-off"]').first.is_visible()
        frame.locator('[data-testid="assistant-notice"]').first.screenshot(path=output_dir / f"assistant-off-trainer-{width}.png")
        frame.locator('[data-testid="centre-link"]').press("Enter")  # a tap at 390 px once landed beside it (page still settling)
        frame.locator('[data-testid="centre-form"]').wait_for(state="visible")
        frame.locator('input[name="scale"][value="sherbrooke"]').check()
        preview = frame.locator('[data-testid="scale-preview-sherbrooke"]')
        preview.wait_for(state="visible")
        assert "Interdite" in preview.inner_text() or "interdite" in preview.inner_text()
        page.screenshot(path=output_dir / f"centre-preview-{width}.png", full_page=True)
        preview.screenshot(path=output_dir / f"centre-preview-part-{width}.png")
        if width == 390:
            assert layout_problems(page.frame(name="tool-frame")) == []
        with page.expect_response(lambda r: r.url.endswith("/admin/centre") and r.request.method == "PUT") as saved:
            frame.locator('#centre-form button[type="submit"]').press("Enter")  # saved; the page reloads on the new scale
        assert saved.value.status == 200, saved.value.text()
        try:
            frame.locator('[data-testid="scale-preview-aias"]').wait_for(state="attached")
        except Exception:
            raise AssertionError("not saved: " + frame.locator('#centre-form [data-status]').inner_text()) from None
        assert frame.locator('input[name="scale"][value="sherbrooke"]').is_checked()
    finally:
        context.close()
