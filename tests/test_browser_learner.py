"""A learner's pages in Chromium, at a phone's width (390 px, touch) and a laptop's (1280 px)
(issue 24): a refused submission flags each field, the scenario's explanation comes when the
choices are marked done, the mentoring wheel follows the ratings, the receipt reads well on a
phone. Each page is scanned by axe-core (no serious or critical violation) and photographed into
test-output/browser/learner-*.png.

The activities are placed in the demo course directly (as Deep Linking would place them, which
tests/test_browser.py goes through) and launched from the demo page in its iframe; the tool's page
is then opened on its own (its token URL), as the cookie check's new window opens it, so that
screenshots show the whole page.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lti_tool.catalogue.services import get_catalogue
from lti_tool.demo.gradebook import place_items
from lti_tool.extensions import db

from .chromium import ALLOW_THIRD_PARTY_COOKIES, first_page, open_browser
from .test_browser import AXE, LEARNER_PAGE, REQUIRED_ITEMS, TOOL_FRAME, output_dir, playwright_api, server  # noqa: F401
from .test_browser_phone import open_phone

pytestmark = pytest.mark.browser

SIZES = {"390": "phone", "1280": "laptop"}


def place(server, *items: str) -> None:
    with server.app.app_context():
        catalogue = get_catalogue("fr")
        place_items([{"id": f"link-{item}", "title": catalogue.item(item)["title"], "catalogue_id": item,
                      "custom": {"catalogue_item": item}} for item in items])
        db.session.commit()


def open_learner(context, server, item: str):
    """Launch `item` as the demo's learner (in the platform's iframe), then open the tool's page on
    its own; returns that page."""
    page = first_page(context)
    page.goto(f"{server.platform_url}/demo")
    page.locator(f'[data-testid="course-activity-link-{item}"] [data-testid="launch-placed-learner"]').click()
    page.frame_locator(TOOL_FRAME).locator(LEARNER_PAGE).wait_for(state="visible")
    alone = context.new_page()
    alone.goto(page.frame(name="tool-frame").url)
    alone.locator(LEARNER_PAGE).wait_for(state="visible")
    return alone


def browser(playwright_api, tmp_path: Path, size: str):  # noqa: F811
    if size == "390":
        return open_phone(playwright_api, tmp_path / "profile")
    return open_browser(playwright_api, tmp_path / "profile", ALLOW_THIRD_PARTY_COOKIES)


def axe(page, label: str, output_dir: Path) -> None:  # noqa: F811
    """axe-core in the tool's page; no serious or critical violation."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    (output_dir / f"axe-{label}.json").write_text(json.dumps(result, indent=1))
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{label}: {bad}"


def rate_wheel(page, values) -> None:
    ranges = page.locator('form[data-exercise="m4.t3.e1"] input[type="range"]')
    with page.expect_response(lambda r: r.url.endswith("/exercises/m4.t3.e1/draft") and r.ok):
        for i, value in enumerate(values):
            ranges.nth(i).fill(str(value))


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_submission_flags_each_field(playwright_api, server, output_dir, tmp_path, size):  # noqa: F811
    place(server, "m4.t3.e1")
    context = browser(playwright_api, tmp_path, size)
    try:
        page = open_learner(context, server, "m4.t3.e1")
        rate_wheel(page, (4, 5, 6, 7, 8, 9))
        page.locator('[data-testid="submit-work"]').click()
        summary = page.locator("[data-error-summary]")
        summary.wait_for(state="visible")
        # Every field the tool refused: marked invalid, its message next to it and read with it.
        fields = page.evaluate("""() => {
          const described = el => (el.getAttribute("aria-describedby") || "").split(" ")
            .map(id => document.getElementById(id)).filter(Boolean).map(p => p.textContent.trim()).join(" ");
          return Array.from(document.querySelectorAll('[aria-invalid="true"]')).map(el => ({
            id: el.id, name: el.name || el.dataset.item, message: described(el)}));
        }""")
        names = {f["name"] for f in fields}
        assert {"level_used", "honour", *REQUIRED_ITEMS} <= names, fields
        assert all(f["message"] for f in fields), fields
        assert page.locator('[name="level_used"][aria-invalid="true"]').count() == \
            page.locator('[name="level_used"]').count()
        # The checklist's message is beside the checklist, far above the form.
        assert "Cochez" in page.locator("#error-checklist").inner_text()
        assert page.locator('[data-testid="checklist"] #error-checklist').count() == 1
        # The first field in the page's order has the focus: the checklist's first required item.
        assert page.evaluate("() => document.activeElement.id") == "check-before.frame"
        # The summary lists each error as a link to its field.
        links = summary.locator("a")
        assert links.count() == 3  # the checklist, the level, the statement of honour
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert hrefs[0] == "#check-before.frame" and hrefs[1].startswith("#level_used-") and hrefs[2] == "#honour"
        page.screenshot(path=output_dir / f"learner-form-errors-{size}.png", full_page=True)
        summary.screenshot(path=output_dir / f"learner-form-errors-summary-{size}.png")
        axe(page, f"learner-form-errors-{size}", output_dir)
        links.nth(2).click()
        assert page.evaluate("() => document.activeElement.id") == "honour"
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_scenarios_explanation_shows_once_the_choices_are_marked_done(playwright_api, server, output_dir,  # noqa: F811
                                                                           tmp_path, size):
    place(server, "m2.t3.e2")
    context = browser(playwright_api, tmp_path, size)
    try:
        page = open_learner(context, server, "m2.t3.e2")
        form = page.locator('form[data-exercise="m2.t3.e2"]')
        explanations = form.locator("fieldset.scenario .explanation")
        assert form.locator("fieldset.scenario .explanation:visible").count() == 0  # not before the choices
        for index in range(2):
            scenario = form.locator("fieldset.scenario").nth(index)
            scenario.locator('input[type="radio"]').first.check()
            scenario.locator("textarea").fill("Parce que c'est ce que je ferais dans mon atelier.")
        form.locator('[data-action="done"]').click()
        form.locator("[data-status]").filter(has_text="Terminé").wait_for()
        assert explanations.count() == 2
        for index in range(2):  # without a reload
            assert explanations.nth(index).is_visible()
            assert explanations.nth(index).inner_text().startswith("Notre avis")
        page.screenshot(path=output_dir / f"learner-scenario-{size}.png", full_page=True)
        axe(page, f"learner-scenario-{size}", output_dir)
    finally:
        context.close()


def live_points(page) -> str:
    return page.locator('form[data-exercise="m4.t3.e1"] [data-wheel] svg [data-live]').get_attribute("points")


@pytest.mark.parametrize("size", SIZES)
def test_the_wheel_follows_the_ratings_and_its_labels_fit(playwright_api, server, output_dir, tmp_path, size):  # noqa: F811
    place(server, "m4.t3.e1")
    context = browser(playwright_api, tmp_path, size)
    try:
        page = open_learner(context, server, "m4.t3.e1")
        chart = page.locator('form[data-exercise="m4.t3.e1"] [data-wheel] svg')
        chart.wait_for(state="visible")  # drawn before any rating is saved
        before = live_points(page)
        page.locator('form[data-exercise="m4.t3.e1"] input[type="range"]').first.fill("10")
        after = live_points(page)
        assert after != before  # redrawn as the slider moves, nothing saved yet
        # The first segment points straight up: 10 is the full radius, 120 above the centre.
        assert after.split(" ")[0] == "180.0,60.0"
        # The segments' names stay inside the drawing, and the drawing inside the screen.
        width = page.evaluate("() => document.documentElement.clientWidth")
        boxes = page.evaluate("""() => {
          const svg = document.querySelector('form[data-exercise="m4.t3.e1"] [data-wheel] svg').getBoundingClientRect();
          return Array.from(document.querySelectorAll('form[data-exercise="m4.t3.e1"] [data-wheel] svg text')).map(t => {
            const b = t.getBoundingClientRect(); return {left: b.left, right: b.right, svgLeft: svg.left, svgRight: svg.right};
          });
        }""")
        assert len(boxes) == 6
        for box in boxes:
            assert box["left"] >= box["svgLeft"] - 1 and box["right"] <= box["svgRight"] + 1, boxes
            assert box["left"] >= 0 and box["right"] <= width, boxes
        # Moving the last slider, the learner still sees the wheel.
        page.locator('form[data-exercise="m4.t3.e1"] input[type="range"]').nth(5).fill("2")
        assert live_points(page) != after
        seen = page.evaluate("""() => {
          const b = document.querySelector('form[data-exercise="m4.t3.e1"] [data-wheel] svg').getBoundingClientRect();
          return {top: b.top, bottom: b.bottom, height: innerHeight};
        }""")
        assert seen["top"] >= -1 and seen["bottom"] <= seen["height"] + 1, seen
        page.screenshot(path=output_dir / f"learner-wheel-moving-{size}.png")  # what the screen shows then
        page.locator('form[data-exercise="m4.t3.e1"] input[type="range"]').nth(5).fill("5")
        after = live_points(page)
        assert page.locator('[data-testid="wheel-plans"] textarea').count() == 6  # the guide's second option
        page.locator('form[data-exercise="m4.t3.e1"] [data-wheel]').screenshot(path=output_dir / f"learner-wheel-{size}.png")
        page.screenshot(path=output_dir / f"learner-wheel-page-{size}.png", full_page=True)
        axe(page, f"learner-wheel-{size}", output_dir)
        # Saving the ratings keeps the live polygon over the saved snapshot.
        page.locator('form[data-exercise="m4.t3.e1"] [data-action="wheel"]').click()
        page.locator('form[data-exercise="m4.t3.e1"] [data-wheel] svg polygon[fill-opacity="0.12"]').wait_for(state="attached")
        assert live_points(page) == after
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_receipt_reads_label_over_value_on_a_phone(playwright_api, server, output_dir, tmp_path, size):  # noqa: F811
    place(server, "m4.t3.e1")
    context = browser(playwright_api, tmp_path, size)
    try:
        page = open_learner(context, server, "m4.t3.e1")
        rate_wheel(page, (3, 4, 5, 6, 7, 8))
        for item in REQUIRED_ITEMS:
            page.locator(f'input[data-item="{item}"]').check()
            page.locator(f'input[data-item="{item}"] ~ .tick-time').filter(has_text="/20").wait_for()
        page.locator('input[name="level_used"][value="no_ai"]').check()
        page.locator("#honour").check()
        page.locator('[data-testid="submit-work"]').click()
        receipt = page.locator('[data-testid="receipt"]')
        receipt.wait_for(state="visible")
        layout = page.evaluate("""() => {
          const head = document.querySelector(".receipt-head");
          const pairs = Array.from(head.querySelectorAll("dt")).map(dt => {
            const dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
            return {label: dt.textContent, labelBottom: a.bottom, valueTop: b.top, labelLeft: a.left, valueLeft: b.left};
          });
          const code = document.querySelector('[data-testid="receipt-code"]');
          return {pairs, codeLines: code.getClientRects().length, codeHeight: code.getBoundingClientRect().height,
                  lineHeight: parseFloat(getComputedStyle(code).fontSize) * 1.6,
                  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth};
        }""")
        assert layout["overflow"] <= 0, layout
        assert layout["codeLines"] == 1 and layout["codeHeight"] <= layout["lineHeight"], layout  # not split
        for pair in layout["pairs"]:
            if size == "390":  # label over value
                assert pair["valueTop"] >= pair["labelBottom"] - 1 and abs(pair["labelLeft"] - pair["valueLeft"]) < 2, pair
            else:  # side by side
                assert pair["valueLeft"] > pair["labelLeft"], pair
        # The answers under the exercise's own words, the wheel drawn (tests/test_learner_receipts.py
        # goes through every exercise).
        text = receipt.inner_text()
        assert "Définition des objectifs" in text and "3 / 10" in text and "goal" not in text
        assert receipt.locator("svg.wheel-chart").count() == 1
        page.screenshot(path=output_dir / f"learner-receipt-{size}.png", full_page=True)
        axe(page, f"learner-receipt-{size}", output_dir)
    finally:
        context.close()
