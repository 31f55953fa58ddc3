"""Debian's Chromium driven by Playwright: the flags this machine needs and the cookie settings
the end-to-end tests (tests/test_browser*.py, tests/moodle/) start it with.

Each browser runs on a fresh regular profile whose cookie settings are written first:

- `profile.cookie_controls_mode` is Chromium's "third-party cookies" setting: 0 allows them,
  1 blocks them. A fresh profile of Debian's Chromium 156 defaults to 1 (blocked), and
  `--test-third-party-cookie-phaseout` alone changes nothing there (with 0, unpartitioned
  third-party cookies still stick), so the blocked case sets 1 *and* passes the flag.
- Playwright's `new_context` would be off the record, where the profile's settings do not apply.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
]
THIRD_PARTY_COOKIE_PHASEOUT = "--test-third-party-cookie-phaseout"
ALLOW_THIRD_PARTY_COOKIES = {"profile": {"cookie_controls_mode": 0}}
BLOCK_THIRD_PARTY_COOKIES = {"profile": {"cookie_controls_mode": 1}}
TIMEOUT_MS = 15_000

# Run inside a document of the tool's site framed by a platform: which cookies stick there?
COOKIE_PROBE_JS = """() => {
  const attrs = "; path=/; SameSite=None; Secure";
  const gone = "; expires=Thu, 01 Jan 1970 00:00:01 GMT";
  document.cookie = "probe_unpartitioned=1" + attrs;
  const unpartitioned = document.cookie.includes("probe_unpartitioned=1");
  document.cookie = "probe_partitioned=1" + attrs + "; Partitioned";
  const partitioned = document.cookie.includes("probe_partitioned=1");
  document.cookie = "probe_unpartitioned=" + attrs + gone;
  document.cookie = "probe_partitioned=" + attrs + "; Partitioned" + gone;
  return {unpartitioned, partitioned};
}"""


def chromium_or_skip() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")


def open_browser(playwright_api, profile: Path, prefs: dict, *extra_args: str, timeout_ms: int = TIMEOUT_MS,
                 locale: str = "fr-FR"):
    """Chromium on a fresh regular profile with `prefs`; a desktop-sized window."""
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
    context = playwright_api.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=[*BASE_ARGS, *extra_args],
        viewport={"width": 1280, "height": 900}, locale=locale,
    )
    context.set_default_timeout(timeout_ms)
    return context


def first_page(context):
    return context.pages[0] if context.pages else context.new_page()
