"""The centre's whole journey through a real Moodle 5.1, in Debian's Chromium, through Moodle's own
pages: the administrator registers the tool (dynamic registration) and makes it available, the
teacher places a theme through Deep Linking from the activity form, a learner works and submits
inside Moodle's iframe, the teacher grades with the NRPS roster, Moodle's gradebook shows the
grade and the comment, and a learner whose browser blocks third-party cookies still works
embedded.

Run by `make test-moodle` (pytest --moodle); each step leaves a screenshot in test-output/moodle/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..chromium import (ALLOW_THIRD_PARTY_COOKIES, BLOCK_THIRD_PARTY_COOKIES, COOKIE_PROBE_JS,
                        THIRD_PARTY_COOKIE_PHASEOUT, open_browser)
from .moodle_pages import goto, log_in, ready, reload_until, set_edit_mode
from .site import ADMIN, LEARNER, OTHER_LEARNER, TEACHER

pytestmark = [pytest.mark.browser, pytest.mark.moodle]

THEME = "m1.t2"  # "Foundations of quality mentoring: the EMCC framework and SMART goals"
SCORE_MAXIMUM = 20
AI_LEVEL = "collaboration"  # AIAS level 3, not the default (2): it must travel through Moodle
GRADE = 15
COMMENT = "Objectifs clairs et mesurables ; précisez les échéances avec votre tuteur."
ANSWER = "Accompagner mon apprentie vers l'autonomie sur la caisse d'ici fin mars"
REQUIRED_ITEMS = ("before.frame", "during.confidential", "after.explain")  # the centre's default checklist

TOOL_IN_MOODLE = "#contentframe"  # the iframe of Moodle's mod/lti/view.php
LEARNER_PAGE = '[data-testid="learner-page"]'
TRAINER_PAGE = '[data-testid="trainer-page"]'
SAVED = re.compile("Saved|Enregistré")

class Journey:
    """Numbered steps: each announces itself and leaves a screenshot; a failed one leaves a
    screenshot of every open page and fails with its name."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.number = 0
        self.pages: dict[str, object] = {}

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.number += 1
        started = time.monotonic()
        print(f"\n[{self.number}] {title}", flush=True)
        try:
            yield
        except Exception as exc:
            for who, page in self.pages.items():
                try:
                    page.screenshot(path=self.output / f"FAILED-{self.number:02d}-{who}.png", full_page=True)
                except Exception as shot_failed:  # a page that died cannot be drawn; say so, keep the cause
                    print(f"    no screenshot of {who}'s page: {shot_failed}")
            raise AssertionError(f"step {self.number} failed — {title}: {exc}\n"
                                 f"(screenshots and Moodle's and the tool's logs: {self.output})") from exc
        print(f"    done in {time.monotonic() - started:.1f} s", flush=True)

    def shot(self, page, name: str) -> None:
        # The window as the person sees it: a full-page capture resizes the view, and a click
        # right after it can be lost (the same in tests/test_browser.py).
        page.screenshot(path=self.output / f"{self.number:02d}-{name}.png")


def test_the_centre_journey_through_moodle(moodle, tool, playwright_api, output_dir, tmp_path):
    journey = Journey(output_dir)
    browsers = []

    def browser(who: str, prefs: dict = ALLOW_THIRD_PARTY_COOKIES, *args: str):
        context = open_browser(playwright_api, tmp_path / who, prefs, *args, timeout_ms=30_000)
        browsers.append(context)
        return context

    try:
        with journey.step("the administrator registers the tool from Manage tools, activates it and puts it in "
                          "the activity chooser"):
            admin = journey.pages["admin"] = log_in(browser("admin"), moodle, ADMIN)
            register_and_activate(admin, moodle, tool, journey)

        with journey.step(f"the teacher adds the tool to course {moodle.course_id}, places theme {THEME} through "
                          f"Select content (maximum {SCORE_MAXIMUM}, AI level {AI_LEVEL}) and saves"):
            teacher = journey.pages["teacher"] = log_in(browser("teacher"), moodle, TEACHER)
            title, level_label = place_theme(teacher, moodle, journey)
            activity_url = check_activity_and_grade_item(teacher, moodle, title, journey)

        with journey.step("the learner works in Moodle's iframe, finds the answer again after a reload, ticks "
                          "the checklist, declares and submits"):
            learner = journey.pages["learner"] = log_in(browser("learner"), moodle, LEARNER)
            receipt = work_and_submit(learner, activity_url, level_label, journey)
            print(f"    receipt {receipt}")

        with journey.step("the teacher sees the roster from Moodle (the learner who never opened the activity "
                          "included) and grades the learner with a comment"):
            grade_in_the_tool(teacher, activity_url, journey)

        with journey.step(f"Moodle's grader report and the learner's user report show {GRADE}.00 and the comment"):
            check_gradebook(teacher, learner, moodle, title, journey)

        with journey.step("the other learner, in a browser that blocks third-party cookies, opens the activity "
                          "embedded in Moodle"):
            blocked = journey.pages["learner2"] = log_in(
                browser("learner2", BLOCK_THIRD_PARTY_COOKIES, THIRD_PARTY_COOKIE_PHASEOUT), moodle, OTHER_LEARNER)
            probe = open_embedded(blocked, activity_url, tool, journey)
            print(f"    cookies the embedded tool can keep: {probe}")
    finally:
        for context in browsers:
            context.close()


def register_and_activate(admin, moodle, tool, journey: Journey) -> None:
    """README, "Dynamic registration": paste the one-time URL, Add LTI Advantage, Terminer,
    Activate; then Tool configuration usage shows it in the activity chooser."""
    goto(admin, f"{moodle.url}/mod/lti/toolconfigure.php")
    admin.locator("#tool-url").fill(tool.registration_url())
    admin.locator("#tool-create-button").click()
    registration = admin.frame_locator('iframe[src*="startltiadvregistration.php"]')
    registration.locator('[data-testid="registered"]').wait_for()
    journey.shot(admin, "admin-registration-page")
    registration.locator("#close").click()
    card = admin.locator(".tool-card", has_text="Mentorat IA")
    card.get_by_text("Pending", exact=True).wait_for()
    journey.shot(admin, "admin-tool-pending")
    card.get_by_role("link", name="Activate").click()
    card.get_by_text("Active", exact=True).wait_for()

    card.locator('a[href*="typessettings.php?action=update"]').click()
    ready(admin)
    # What the registration asked for, as Moodle turned it into the tool's settings.
    expected = {
        "#id_lti_toolurl": f"{tool.url}/lti/launch",
        "#id_lti_initiatelogin": f"{tool.url}/lti/login",
        "#id_lti_publickeyset": f"{tool.url}/lti/jwks",
        "#id_ltiservice_gradesynchronization": "2",  # grade sync and column management (AGS lineitem scope)
        "#id_ltiservice_memberships": "1",  # the roster (NRPS scope)
        "#id_lti_sendname": "1",  # names: trainers need them
        "#id_lti_sendemailaddr": "0",  # e-mail: never asked for
    }
    found = {field: admin.locator(field).input_value() for field in expected}
    wrong = {field: f"{found[field]!r}, expected {value!r}" for field, value in expected.items() if found[field] != value}
    assert not wrong, f"Moodle's settings for the registered tool are not what the registration asked for: {wrong}"
    assert admin.locator("#id_lti_contentitem").is_checked(), "Moodle did not turn Deep Linking on"
    admin.locator("#id_lti_coursevisible").select_option("2")  # "Show in activity chooser and as a preconfigured tool"
    journey.shot(admin, "admin-tool-settings")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Save changes").click()
    ready(admin)
    card.get_by_text("Active", exact=True).wait_for()
    journey.shot(admin, "admin-tool-active")


def place_theme(teacher, moodle, journey: Journey) -> tuple[str, str]:
    """From the course in edit mode: the activity chooser, Mentorat IA, Select content, our picker
    in Moodle's dialog; returns the activity's title and the AI level's label as the picker said it."""
    goto(teacher, f"{moodle.url}/course/view.php?id={moodle.course_id}")
    set_edit_mode(teacher, True)
    teacher.locator('[data-action="open-addingcontent"]:not([data-beforemod])').nth(1).click()  # section 1
    teacher.locator('[data-action="open-chooser"][data-sectionnum="1"]').click()
    teacher.locator('a[title="Add a new Mentorat IA"]:visible').click()
    journey.shot(teacher, "teacher-activity-chooser")
    with teacher.expect_navigation():
        teacher.locator(".modal-footer").get_by_role("button", name="Add").click()
    ready(teacher)

    teacher.get_by_role("button", name="Select content").click()
    picker = teacher.frame_locator("#contentitem-page-iframe")
    picker.locator('[data-testid="picker-page"]').wait_for()
    picker.locator(f'[id="pick-{THEME}"]').check()
    picker.locator(f'[id="score-{THEME}"]').fill(str(SCORE_MAXIMUM))
    picker.locator(f'[id="policy-{THEME}"]').select_option(AI_LEVEL)
    title = picker.locator(f'[id="title-{THEME}"]').input_value()
    level_label = picker.locator(f'[id="policy-{THEME}"] option[value="{AI_LEVEL}"]').inner_text().strip()
    journey.shot(teacher, "teacher-picker-in-moodle")
    # The keyboard, not a click: the button sits below the dialog's fold (see tests/test_browser.py).
    picker.locator('[data-testid="picker-submit"]').press("Enter")

    teacher.get_by_text("Content selected").wait_for()
    name = teacher.locator("#id_name")
    assert name.input_value() == title, f"Moodle's activity name is {name.input_value()!r}, not {title!r}"
    journey.shot(teacher, "teacher-form-filled")
    with teacher.expect_navigation():
        teacher.get_by_role("button", name="Save and return to course").click()
    ready(teacher)
    return title, level_label


def check_activity_and_grade_item(teacher, moodle, title: str, journey: Journey) -> str:
    """The course lists the activity; Gradebook setup has its grade item, out of the maximum chosen.
    Returns the activity's URL."""
    link = teacher.locator('a[href*="/mod/lti/view.php?id="]', has_text=title).first
    link.wait_for()
    activity_url = link.get_attribute("href")
    journey.shot(teacher, "teacher-course")
    goto(teacher, f"{moodle.url}/grade/edit/tree/index.php?id={moodle.course_id}")
    item = teacher.locator("tr", has=teacher.get_by_role("link", name=title))
    assert item.count(), f"Gradebook setup has no grade item for {title!r} (did the Deep Linking answer give Moodle " \
                         f"a line item?): {teacher.locator('#region-main').inner_text()[:300]!r}"
    assert f"{SCORE_MAXIMUM}.00" in item.first.inner_text(), f"the grade item is not out of {SCORE_MAXIMUM}: " \
                                                            f"{item.first.inner_text()!r}"
    journey.shot(teacher, "teacher-gradebook-setup")
    return activity_url


def work_and_submit(learner, activity_url: str, level_label: str, journey: Journey) -> str:
    goto(learner, activity_url)
    tool = learner.frame_locator(TOOL_IN_MOODLE)
    tool.locator(LEARNER_PAGE).wait_for()
    policy = tool.locator('[data-testid="policy-box"]').inner_text()
    assert level_label in policy, f"the learner is not shown the level the teacher chose ({level_label}): {policy!r}"
    field = tool.locator(f'[id="{THEME}.e1-specific"]')
    field.fill(ANSWER)
    tool.locator(f'form[data-exercise="{THEME}.e1"] [data-status]').filter(has_text=SAVED).wait_for()
    journey.shot(learner, "learner-answer-saved")

    learner.reload()  # Moodle launches the tool again
    ready(learner)
    tool.locator(LEARNER_PAGE).wait_for()
    assert tool.locator(f'[id="{THEME}.e1-specific"]').input_value() == ANSWER

    checklist = tool.locator('[data-testid="checklist"]')
    for item in REQUIRED_ITEMS:
        checklist.locator(f'input[data-item="{item}"]').check()
        checklist.locator(f'input[data-item="{item}"] ~ .tick-time').filter(has_text="20").wait_for()
    form = tool.locator("#declaration-form")
    form.locator('input[name="level_used"][value="no_ai"]').check()
    form.locator("#honour").check()
    form.locator('[data-testid="submit-work"]').click()
    tool.locator('[data-testid="receipt"]').wait_for()
    receipt = tool.locator('[data-testid="receipt-code"]').inner_text()
    assert receipt.startswith("MIA-"), receipt
    journey.shot(learner, "learner-receipt")
    return receipt


def grade_in_the_tool(teacher, activity_url: str, journey: Journey) -> None:
    goto(teacher, activity_url)
    tool = teacher.frame_locator(TOOL_IN_MOODLE)
    tool.locator(TRAINER_PAGE).wait_for()
    tool.locator('[data-testid="grading-link"]').click()
    roster = tool.locator('[data-testid="roster"]')
    roster.wait_for()
    journey.shot(teacher, "teacher-roster")
    never_opened = roster.locator("tr", has_text=OTHER_LEARNER.name)
    assert never_opened.count() == 1, f"{OTHER_LEARNER.name} (from Moodle's roster) is missing: {roster.inner_text()!r}"
    assert re.search("Never opened|N'a jamais ouvert", never_opened.inner_text()), never_opened.inner_text()
    assert TEACHER.name not in roster.inner_text(), "the teacher is listed among the learners"

    roster.locator("tr", has_text=LEARNER.name).locator("a.button").click()
    tool.locator('[data-testid="grading-page"]').wait_for()
    tool.locator("#score").fill(str(GRADE))
    tool.locator("#comment").fill(COMMENT)
    journey.shot(teacher, "teacher-grading-page")
    tool.locator('[data-testid="save-grade"]').click()
    tool.locator("#grade-form [data-status]").filter(has_text=re.compile("Grade saved|Note enregistrée")).wait_for()


def check_gradebook(teacher, learner, moodle, title: str, journey: Journey) -> None:
    """The grade, sent by the tool's outbox in the background, reaches Moodle within a minute."""
    goto(teacher, f"{moodle.url}/grade/report/grader/index.php?id={moodle.course_id}")
    set_edit_mode(teacher, False)  # grades as text, not as fields to edit
    row = teacher.locator("tr", has_text=LEARNER.name)
    reload_until(teacher, row, rf"\b{GRADE}\.00\b")
    cell = row.locator("td", has_text=f"{GRADE}.00").first  # the activity's column, before the course total
    cell.get_by_title("Feedback provided").wait_for()
    cell.get_by_role("button", name="Cell actions").click()
    teacher.get_by_role("menuitem", name="View feedback").click()
    feedback = teacher.locator(".modal-dialog", has_text=COMMENT)
    feedback.wait_for()
    journey.shot(teacher, "teacher-grader-report-feedback")

    goto(learner, f"{moodle.url}/grade/report/user/index.php?id={moodle.course_id}")
    item = learner.locator("tr", has=learner.get_by_text(title))
    text = reload_until(learner, item, rf"\b{GRADE}\.00\b")
    assert COMMENT in text, f"the learner's report does not show the comment: {text!r}"
    journey.shot(learner, "learner-user-report")


def open_embedded(page, activity_url: str, tool, journey: Journey) -> dict:
    goto(page, activity_url)
    page.frame_locator(TOOL_IN_MOODLE).locator(LEARNER_PAGE).wait_for()
    frame = next(f for f in page.frames if f.url.startswith(tool.url + "/"))
    probe = frame.evaluate(COOKIE_PROBE_JS)
    assert not probe["unpartitioned"], f"third-party cookies were not blocked in this browser: {probe}"
    journey.shot(page, "learner2-embedded-cookies-blocked")
    return probe
