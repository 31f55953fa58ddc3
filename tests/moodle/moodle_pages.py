"""Moodle's own pages, used as a person uses them: log in, wait until Moodle's scripts are done,
skip the guided tours Moodle offers on a first visit, read a page again until it shows something.
"""

from __future__ import annotations

import re
import time

from ..chromium import first_page
from .site import MoodleSite, Person

# Moodle counts the scripts still working on a page in M.util.pending_js (its Behat tests wait on
# it too): a form filled before they finish may be reset by them (the login form's password is).
MOODLE_READY_JS = """() => document.readyState === "complete" && !!(window.M && M.util && M.util.pending_js)
    && M.util.pending_js.length === 0"""
# Moodle 4.4+ re-renders the password field (core/togglesensitive, to add its "show" button) once
# its template arrives, which empties a password typed before: wait for the field's new home.
LOGIN_FORM_READY_JS = """() => !document.documentElement.innerHTML.includes("core/togglesensitive")
    || !!document.querySelector(".toggle-sensitive-wrapper #password")"""
SESSION_EXPIRED = re.compile(r"session.*(expired|timed out)|sesskey", re.IGNORECASE)


def ready(page) -> None:
    page.wait_for_function(MOODLE_READY_JS)


def goto(page, url: str) -> None:
    page.goto(url)
    ready(page)


def set_edit_mode(page, on: bool) -> None:
    """Moodle's "Edit mode" switch, top right; the page comes back in that mode."""
    switch = page.get_by_label("Edit mode", exact=True)
    if switch.is_checked() != on:
        with page.expect_navigation():
            switch.set_checked(on)
        ready(page)


def skip_tours(page) -> None:
    """Moodle's user tours cover the page on a first visit: skip them whenever one appears."""
    page.add_locator_handler(page.get_by_role("button", name="Skip tour"), lambda button: button.click())


def log_in(context, site: MoodleSite, person: Person):
    """Log in through Moodle's login form; once more if Moodle says the session expired."""
    page = first_page(context)
    skip_tours(page)
    for attempt in (1, 2):
        goto(page, f"{site.url}/login/index.php")
        page.wait_for_function(LOGIN_FORM_READY_JS)
        page.locator("#username").fill(person.username)
        page.locator("#password").fill(person.password)
        with page.expect_navigation():
            page.locator("#loginbtn").click()
        ready(page)
        if "/login/" not in page.url:
            return page
        message = " ".join(page.locator("#loginerrormessage, .loginerrors, .alert").all_inner_texts())
        if attempt == 2 or not SESSION_EXPIRED.search(message):
            raise AssertionError(f"Moodle refused {person.username}'s login: {message.strip() or page.url}")
    raise AssertionError("unreachable")


def reload_until(page, locator, pattern: re.Pattern[str] | str, *, timeout: float = 60, every: float = 2) -> str:
    """Read the page again until `locator` shows `pattern` (a grade sent in the background, say);
    return its text. Fails with what the page showed last."""
    pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
    deadline = time.monotonic() + timeout
    while True:
        text = locator.inner_text() if locator.count() else ""
        if pattern.search(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s the page still does not show {pattern.pattern!r}: {text!r}")
        page.wait_for_timeout(every * 1000)
        page.reload()
        ready(page)
