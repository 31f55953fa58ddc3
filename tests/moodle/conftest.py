"""Fixtures of the Moodle journey: a Moodle installed afresh, the tool, Chromium, the output folder.

Everything lands in test-output/moodle/ at the repository root: a screenshot per step, Moodle's
install and server logs, the tool's log, and on a failed step the screenshots of every open page.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..chromium import CHROMIUM
from .site import MoodleSite, SiteError, ToolServer, check_php, free_port, moodle_package, work_dir_for

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "moodle"


def needs(*steps, on_failure=lambda: None):
    """Run the set-up `steps`; the first that fails ends the run with its own message (what is
    missing and how to get it), not a traceback. Returns the last step's result."""
    problem = None
    try:
        for step in steps:
            result = step()
    except SiteError as failed:
        problem = str(failed)
        on_failure()
    if problem:
        pytest.fail(problem, pytrace=False)
    return result


@pytest.fixture(scope="session")
def output_dir() -> Path:
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    return OUTPUT


@pytest.fixture(scope="session")
def moodle(output_dir) -> Iterator[MoodleSite]:
    package = needs(moodle_package)
    needs(check_php)
    site = MoodleSite(package=package, work_dir=work_dir_for(package), logs=output_dir, port=free_port())
    started = time.monotonic()
    needs(site.install, site.start, on_failure=site.stop)
    print(f"\nMoodle installed and serving {site.url} in {time.monotonic() - started:.0f} s")
    yield site
    site.stop()


@pytest.fixture(scope="session")
def tool(output_dir, tmp_path_factory) -> Iterator[ToolServer]:
    server = ToolServer(work_dir=tmp_path_factory.mktemp("tool"), logs=output_dir, port=free_port())
    needs(server.start, on_failure=server.stop)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_api():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's Chromium.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p
