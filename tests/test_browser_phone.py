"""On a phone (390 × 844 CSS pixels, touch, mobile user agent), in Debian's Chromium: the demo
course and the tool's learner, trainer and administrator pages inside it fit the screen's width, the text is
readable without zooming, and what a thumb must hit is large enough.

DESIGN.md: "the interface is keyboard-usable and readable on a phone". Screenshots land in
test-output/browser/phone-*.png.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_browser import (  # noqa: F401 - fixtures
    ALLOW_THIRD_PARTY_COOKIES,
    BASE_ARGS,
    CHROMIUM,
    LEARNER_PAGE,
    TIMEOUT_MS,
    TOOL_FRAME,
    TRAINER_PAGE,
    launch,
    output_dir,
    playwright_api,
    server,
    submit_picker,
    submit_without_ai,
    tool_frame,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MOBILE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/156.0.0.0 Mobile Safari/537.36")

# What does not fit a phone in the current document: the page's own width, and each visible
# control's box, font size (under 16 px, mobile browsers zoom in on focus) and touch size.
LAYOUT_JS = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.getAttribute("data-testid") ? `[${el.getAttribute("data-testid")}]` : "")
    + (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "");
  if (document.documentElement.scrollWidth > width + 1) {
    problems.push(`page is ${document.documentElement.scrollWidth}px wide for a ${width}px screen`);
    // the innermost elements that stick out name the culprit
    const wide = [...document.body.querySelectorAll("*")].filter((el) => el.getBoundingClientRect().right > width + 1
      && ![...el.children].some((child) => child.getBoundingClientRect().right > width + 1));
    problems.push(...wide.slice(0, 5).map((el) => `${name(el)} ends at ${Math.round(el.getBoundingClientRect().right)}px`));
  }
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && !el.closest("[hidden], details:not([open]) > :not(summary)");
  };
  for (const el of document.querySelectorAll("button, a.button, input, select, textarea, summary")) {
    if (!visible(el) || el.type === "hidden") continue;
    const box = el.getBoundingClientRect();
    if (box.left < -1 || box.right > width + 1) problems.push(`${name(el)} overflows: ${Math.round(box.left)}..${Math.round(box.right)}`);
    if (["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName) && !["radio", "checkbox", "range"].includes(el.type)) {
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < 16) problems.push(`${name(el)} text is ${size}px`);
    }
    // Radios and checkboxes are hit through their label; everything else by itself.
    const target = ["radio", "checkbox"].includes(el.type) && el.labels && el.labels.length ? el.labels[0] : el;
    const hit = target.getBoundingClientRect();
    if (hit.height < 24 || hit.width < 24) problems.push(`${name(el)} is ${Math.round(hit.width)}x${Math.round(hit.height)}px to touch`);
  }
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  if (body < 16) problems.push(`body text is ${body}px`);
  return problems;
}"""


def open_phone(playwright_api, profile: Path):
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(ALLOW_THIRD_PARTY_COOKIES))
    context = playwright_api.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=BASE_ARGS, viewport=PHONE, screen=PHONE, device_scale_factor=2,
        is_mobile=True, has_touch=True, user_agent=MOBILE_UA, locale="fr-FR",
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def layout_problems(target) -> list[str]:
    return target.evaluate(LAYOUT_JS)


def check(page, label: str, output_dir: Path, *parts: str) -> None:
    """The tool's page fits the phone twice: in the demo's iframe (with the demo page around it),
    and on its own, as the cookie check's new window shows it. The screenshot is of the latter:
    the whole of the tool's page, and of each of `parts` (CSS selectors) on its own."""
    problems = layout_problems(page)
    assert problems == [], f"demo page around the {label}: {problems}"
    frame_box = page.locator(TOOL_FRAME).bounding_box()
    assert frame_box["x"] >= 0 and frame_box["x"] + frame_box["width"] <= PHONE["width"] + 1, frame_box
    tool = page.frame(name="tool-frame")
    problems = layout_problems(tool)
    assert problems == [], f"{label}: {problems}"
    alone = page.context.new_page()
    try:
        alone.goto(tool.url)  # a token URL: no cookie needed
        problems = layout_problems(alone)
        assert problems == [], f"{label} in its own window: {problems}"
        name = "phone-" + label.replace(" ", "-")
        alone.screenshot(path=output_dir / f"{name}.png", full_page=True)
        for index, part in enumerate(parts, 1):
            alone.locator(part).screenshot(path=output_dir / f"{name}-part{index}.png")
    finally:
        alone.close()


def test_learner_and_trainer_pages_fit_a_phone(playwright_api, server, output_dir, tmp_path):
    """Placed activities with every kind of block a learner meets (texts, exercises with the AI
    assistant, the rewrite's side-by-side, the wheel, the quiz, the policy, the checklist and the
    declaration form), the trainer's view with its settings, the roster, the grading page, the
    administrator's centre and AI settings pages, the follow-up records and the register of
    personal data requests."""
    context = open_phone(playwright_api, tmp_path / "profile")
    try:
        page = context.pages[0] if context.pages else context.new_page()
        frame = page.frame_locator(TOOL_FRAME)
        launch(page, server, "launch-learner")  # a link placed without an activity
        frame.locator(LEARNER_PAGE).wait_for(state="visible")
        check(page, "learner not set up", output_dir)

        launch(page, server, "launch-trainer")  # ... where the trainer picks what it delivers
        frame.locator(TRAINER_PAGE).wait_for(state="visible")
        check(page, "trainer bind form", output_dir)

        launch(page, server, "launch-deeplink")
        frame.locator('[data-testid="picker-page"]').wait_for(state="visible")
        for module, item in (("m2", "m2.t1"), ("m4", "m4.t3")):
            frame.locator("details.module").filter(has=frame.locator(f'[id="pick-{module}"]')).locator("summary").click()
            frame.locator(f'[id="pick-{item}"]').check()
        check(page, "deep-linking picker", output_dir)
        submit_picker(frame)
        frame.locator('[data-testid="placed-items"]').wait_for(state="visible")
        for item in ("m4.t3", "m2.t1"):  # from the demo course, as a learner opens them in Moodle
            page.goto(f"{server.platform_url}/demo")
            placed = page.locator('[data-testid^="course-activity-"]').filter(has_text=item)
            placed.locator('[data-testid="launch-placed-learner"]').click()
            frame.locator(f'{LEARNER_PAGE} [id="{item}"]').wait_for(state="visible")
            frame.locator("#declaration-form").wait_for(state="visible")
            check(page, f"learner {item}", output_dir, '[data-testid="checklist"]', "#declaration-form")
        # The learner's work on m2.t1, typed and submitted on the phone, for the trainer to grade.
        frame.locator('[id="m2.t1.e2-rewrite"]').fill("Ma version, plus humaine, du texte de l’IA.")
        frame.locator('form[data-exercise="m2.t1.e2"] [data-status]').filter(has_text="Enregistré").wait_for()
        submit_without_ai(frame, touch=True)
        check(page, "learner receipt", output_dir)

        page.locator('[data-testid^="course-activity-"]').filter(has_text="m2.t1").locator(
            '[data-testid="launch-placed-trainer"]').click()
        frame.locator(TRAINER_PAGE).wait_for(state="visible")
        frame.locator('[data-testid="summary-figures"]').wait_for(state="visible")
        check(page, "trainer placed activity", output_dir)
        frame.locator('[data-testid="policy-settings"] summary').tap()  # the settings, folded away
        frame.locator("#policy-form").wait_for(state="visible")
        assert layout_problems(tool_frame(page)) == [], "trainer settings"
        frame.locator("#policy-form").screenshot(path=output_dir / "phone-trainer-settings-part1.png")
        frame.locator("#checklist-form").screenshot(path=output_dir / "phone-trainer-settings-part2.png")
        # From the keyboard: the frame is still scrolled to the settings, a click's point can miss the link.
        frame.locator('[data-testid="grading-link"]').press("Enter")
        frame.locator('[data-testid="roster"]').wait_for(state="visible")
        check(page, "roster", output_dir)
        frame.locator('[data-testid="roster"] a.button').first.click()
        frame.locator('[data-testid="grading-page"]').wait_for(state="visible")
        check(page, "grading page", output_dir)

        # The centre's administrator (as Moodle launches a site admin): its two settings pages and
        # the course's individual follow-up, then a record with the GDPR actions.
        for link, label in (("centre-link", "centre settings"), ("llm-settings-link", "ai settings"),
                            ("follow-up-link", "follow-up")):
            page.goto(f"{server.platform_url}/demo")
            page.locator('[data-testid^="course-activity-"]').filter(has_text="m2.t1").locator(
                '[data-testid="launch-placed-admin"]').click()
            frame.locator(TRAINER_PAGE).wait_for(state="visible")
            frame.locator(f'[data-testid="{link}"]').click()
            frame.locator("main h1").wait_for(state="visible")
            check(page, label, output_dir)
        frame.locator('[data-testid="follow-up"] tbody a').first.click()
        frame.locator('[data-testid="personal-data"]').wait_for(state="visible")
        check(page, "follow-up record", output_dir)
        frame.locator('[data-testid="personal-data"] a').filter(has_text="Registre").click()
        frame.locator('[data-testid="privacy-register"]').wait_for(state="visible")
        check(page, "privacy register", output_dir)
    finally:
        context.close()
