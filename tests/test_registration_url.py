"""The registration URL given to Moodle names the address the running tool answers on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`make` in the project, with the interpreter running the tests as the tool's (no install step)."""
    return subprocess.run(
        ["make", "-s", "-o", "install", f"BIN={Path(sys.executable).parent}", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def tool_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TOOL_BASE_URL", "LTI_TOOL_ENV", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    return env


def test_the_registration_url_names_the_running_port(tmp_path):
    """`PORT=5081 make run` serves on 5081: `PORT=5081 make registration-url` gives a URL there."""
    env = {**tool_env(tmp_path), "PORT": "5081"}
    served = make("-n", "run", env=env)
    assert "--port 5081" in served.stdout and "TOOL_BASE_URL=http://localhost:5081 " in served.stdout

    result = make("registration-url", env=env)
    assert result.returncode == 0, result.stderr
    url = urlsplit(result.stdout.strip().splitlines()[-1])
    assert (url.scheme, url.netloc, url.path) == ("http", "localhost:5081", "/lti/register")
    assert url.query.startswith("invite=")


def test_the_command_says_which_base_url_it_used_and_how_to_change_it(app, monkeypatch):
    monkeypatch.delenv("TOOL_BASE_URL", raising=False)
    result = app.test_cli_runner().invoke(args=["lti-tool", "registration-url"])
    assert result.exit_code == 0, result.output
    assert "Tool base URL: https://tool.test (the default: TOOL_BASE_URL is not set)" in result.output
    assert "set TOOL_BASE_URL" in result.output and "make registration-url" in result.output

    monkeypatch.setenv("TOOL_BASE_URL", "https://tool.test")
    result = app.test_cli_runner().invoke(args=["lti-tool", "registration-url"])
    assert "Tool base URL: https://tool.test (from TOOL_BASE_URL)" in result.output
