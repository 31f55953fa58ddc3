"""The centre's settings pages in Chromium, on a phone (390 px) and a laptop (1280 px): the
checklist editor shows each item whole, the AI settings show only the chosen provider's fields.

Screenshots: test-output/browser/settings-*.png.
"""

from __future__ import annotations

import pytest

from .chromium import BASE_ARGS, CHROMIUM, TIMEOUT_MS
from .test_browser import TOOL_FRAME, TRAINER_PAGE, launch, output_dir, playwright_api, server  # noqa: F401

pytestmark = pytest.mark.browser

LONG_ITEM = ("Je relis chaque passage produit avec l’IA, je vérifie ses sources et je note ce que j’ai "
             "modifié moi-même avant de rendre mon travail à mon formateur ou à ma formatrice.")


def whole_items(frame) -> list[str]:
    """The checklist items whose text does not fit their field (cut, or scrolled)."""
    return frame.locator('textarea[name="text"]').evaluate_all(
        "areas => areas.filter(a => a.value && a.scrollHeight > a.clientHeight + 2).map(a => a.value)")


@pytest.mark.parametrize("width", [390, 1280])
def test_settings_pages_show_whole_items_and_the_chosen_providers_fields(playwright_api, server, output_dir, width):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS)
    try:
        page = browser.new_page(viewport={"width": width, "height": 900}, locale="fr-FR")
        page.set_default_timeout(TIMEOUT_MS)
        frame = page.frame_locator(TOOL_FRAME)

        launch(page, server, "launch-admin")
        frame.locator(TRAINER_PAGE).wait_for(state="visible")
        frame.locator('[data-testid="centre-link"]').click()
        frame.locator('textarea[name="text"]').first.wait_for(state="visible")
        page.goto(page.frame(name="tool-frame").url)  # the page on its own (a token URL), to see it whole
        assert whole_items(page) == []
        page.locator('tr.new-item textarea[name="text"]').first.fill(LONG_ITEM)
        assert whole_items(page) == []
        page.screenshot(path=output_dir / f"settings-centre-{width}.png", full_page=True)

        launch(page, server, "launch-admin")
        frame.locator('[data-testid="llm-settings-link"]').click()
        frame.locator('[data-testid="llm-form"]').wait_for(state="visible")
        page.goto(page.frame(name="tool-frame").url)
        page.locator('input[name="provider"][value="fake"]').check()
        for field in ("#model", "#server", "#base_url", "#api_key"):
            assert not page.locator(field).is_visible(), f"{field} shows for the demonstration model"
        page.screenshot(path=output_dir / f"settings-llm-fake-{width}.png", full_page=True)
        page.locator('input[name="provider"][value="mistral"]').check()
        assert page.locator("#server").is_visible() and page.locator("#model").is_visible()
        page.locator('input[name="provider"][value="openai"]').check()
        assert not page.locator("#server").is_visible()
        assert page.locator("#base_url").is_visible() and page.locator("#api_key").is_visible()
        page.screenshot(path=output_dir / f"settings-llm-openai-{width}.png", full_page=True)
        # Back to the demonstration: its hidden fields are not sent, and a French decimal is read.
        page.locator('input[name="provider"][value="fake"]').check()
        page.locator("#temperature").fill("0,3")
        page.locator('[data-testid="llm-save"]').click()
        page.locator('[data-testid="llm-saved"]').wait_for(state="visible")
        assert page.locator("#temperature").input_value() == "0,3"
    finally:
        browser.close()
