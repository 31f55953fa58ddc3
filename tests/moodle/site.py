"""A real Moodle 5.1 site and the tool, each in a process of its own, for the journey in
tests/moodle/test_journey.py.

Moodle comes from its release package (`MOODLE_PACKAGE`, by default the shared
`../shared/moodle/moodle-5.1.tar.xz`): unpacked once, then installed afresh into its own
PostgreSQL database for every run (about a minute), with course MIA and its people, and served by
PHP's built-in server on http://127.0.0.1:PORT. The tool runs as `make run` runs it (development
settings, SQLite, the fake LLM, the grade outbox inside the server) on http://localhost:PORT:
another site than Moodle's, so its iframe is cross-site as in real life. Both write their logs
into the journey's output folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PACKAGE = ROOT.parent / "shared" / "moodle" / "moodle-5.1.tar.xz"
PHP_EXTENSIONS = ("pgsql", "xml", "mbstring", "curl", "zip", "gd", "intl", "soap")
PHP_OPTIONS = ("-d", "max_input_vars=5000", "-d", "memory_limit=512M",
               "-d", "error_reporting=E_ALL & ~E_DEPRECATED", "-d", "display_errors=0")
POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


class SiteError(RuntimeError):
    """Something the journey needs is missing or did not start; the message says what to do."""


@dataclass(frozen=True)
class Person:
    username: str
    password: str
    name: str


ADMIN = Person("admin", "Admin#1234", "Admin User")
TEACHER = Person("tutor1", "Tutor#1234", "Claire Martin")
LEARNER = Person("learner1", "Learner#1234", "Camille Durand")
OTHER_LEARNER = Person("learner2", "Learner#1234", "Yanis Benali")
COURSE = "MIA"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def moodle_package() -> Path:
    """The Moodle 5.1 release package, or a SiteError saying where it is looked for."""
    path = Path(os.environ.get("MOODLE_PACKAGE") or DEFAULT_PACKAGE)
    if not path.is_file():
        raise SiteError(
            f"The Moodle journey needs Moodle 5.1's release package, and {path} does not exist. "
            f"Put the shared folder beside the project (../shared/moodle/moodle-5.1.tar.xz) or set "
            f"MOODLE_PACKAGE=/path/to/moodle-5.1.tar.xz."
        )
    return path


def check_php() -> None:
    """PHP 8.2's command line with the extensions Moodle needs (`make php` installs them)."""
    if shutil.which("php") is None:
        raise SiteError("PHP is missing: `make php` installs Debian's PHP 8.2 with the extensions Moodle needs.")
    loaded = subprocess.run(["php", "-m"], capture_output=True, text=True, check=True).stdout.lower().split()
    missing = [ext for ext in PHP_EXTENSIONS if ext not in loaded]
    if missing:
        raise SiteError(f"PHP lacks {', '.join(missing)}: `make php` installs them (Debian's php8.2-* packages).")


def wait_for_http(url: str, process: subprocess.Popen, log: Path, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SiteError(f"{what} stopped at start (exit {process.returncode}): see {log}")
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise SiteError(f"{what} did not answer {url} within {timeout:.0f} s: see {log}")


def stop_process_group(process: subprocess.Popen | None) -> None:
    """Stop a server started in its own session, with the workers it forked."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class MoodleSite:
    """A Moodle installed afresh under `work_dir`, database `database`, served on `port`."""

    package: Path
    work_dir: Path
    logs: Path
    port: int
    database: str = "mentorat_moodle_journey"
    course_id: int | None = None
    server: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def code(self) -> Path:
        return self.work_dir / "moodle-5.1"

    @property
    def data(self) -> Path:
        return self.work_dir / "moodledata"

    def install(self) -> None:
        """Unpack the package (once per package), then a new site: database, data folder, course."""
        self._unpack()
        self._write_config()
        self._new_database()
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(parents=True)
        self.php("admin/cli/install_database.php", "--agree-license", "--fullname=CFA", "--shortname=CFA",
                 f"--adminpass={ADMIN.password}", "--adminemail=admin@example.org", log="moodle-install.log")
        # Let Moodle call a tool on localhost, at any port (its default curl rules refuse both).
        self.php("admin/cli/cfg.php", "--name=curlsecurityblockedhosts", "--set=", log="moodle-install.log")
        self.php("admin/cli/cfg.php", "--name=curlsecurityallowedport", "--set=", log="moodle-install.log")
        course = self.php(str(Path(__file__).with_name("setup_course.php")), log="moodle-install.log")
        self.course_id = int(re.search(r"course id=(\d+)", course).group(1))

    def start(self) -> None:
        log = self.logs / "moodle-server.log"
        public = self.code / "public" if (self.code / "public").is_dir() else self.code
        with log.open("ab") as out:  # the server writes to its own copy of the descriptor
            self.server = subprocess.Popen(
                ["php", *PHP_OPTIONS, "-S", f"127.0.0.1:{self.port}"], cwd=public,
                env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"},
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        wait_for_http(f"{self.url}/login/index.php", self.server, log, "Moodle")

    def stop(self) -> None:
        stop_process_group(self.server)
        self.server = None

    def php(self, script: str, *args: str, log: str) -> str:
        """Run one of Moodle's CLI scripts (or ours, given MOODLE_DIR); its output goes to `log`."""
        path = script if script.startswith("/") else str(self.code / script)
        run = subprocess.run(["php", *PHP_OPTIONS, path, *args], env={**os.environ, "MOODLE_DIR": str(self.code)},
                             capture_output=True, text=True, timeout=600)
        with (self.logs / log).open("a") as out:
            out.write(f"$ php {Path(path).name} {' '.join(args)}\n{run.stdout}{run.stderr}\n")
        if run.returncode != 0:
            raise SiteError(f"php {Path(path).name} failed (exit {run.returncode}): see {self.logs / log}\n"
                            f"{(run.stdout + run.stderr)[-2000:]}")
        return run.stdout

    def _unpack(self) -> None:
        stamp = self.work_dir / "unpacked-from"
        digest = f"{self.package.resolve()} {self.package.stat().st_size} {self.package.stat().st_mtime_ns}"
        if stamp.exists() and stamp.read_text() == digest and (self.code / "public" / "version.php").exists():
            return
        shutil.rmtree(self.code, ignore_errors=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with tarfile.open(self.package) as archive:
            archive.extractall(self.work_dir, filter="tar")
        if not (self.code / "public" / "version.php").exists():
            raise SiteError(f"{self.package} did not unpack into {self.code}: is it Moodle 5.1's release package?")
        stamp.write_text(digest)

    def _write_config(self) -> None:
        (self.code / "config.php").write_text(f"""<?php
unset($CFG);
global $CFG;
$CFG = new stdClass();
$CFG->dbtype = 'pgsql';
$CFG->dblibrary = 'native';
$CFG->dbhost = '127.0.0.1';
$CFG->dbname = '{self.database}';
$CFG->dbuser = 'postgres';
$CFG->dbpass = '';
$CFG->prefix = 'mdl_';
$CFG->dboptions = ['dbport' => 5432];
$CFG->wwwroot = '{self.url}';
$CFG->dataroot = '{self.data}';
$CFG->admin = 'admin';
$CFG->directorypermissions = 02777;
$CFG->noemailever = true;
require_once(__DIR__ . '/lib/setup.php');
""")

    def _new_database(self) -> None:
        try:
            with psycopg.connect(POSTGRES, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.database}"')
        except psycopg.OperationalError as exc:
            raise SiteError(f"Moodle needs PostgreSQL at 127.0.0.1:5432 (user postgres): {exc}") from exc


@dataclass
class ToolServer:
    """The tool as `make run` serves it, on http://localhost:PORT, with its own SQLite database."""

    work_dir: Path
    logs: Path
    port: int
    server: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("LTI_", "DATABASE_URL", "REDIS_URL", "LLM_"))}
        return {**keep, "LTI_TOOL_ENV": "development", "TOOL_BASE_URL": self.url,
                "DATABASE_URL": f"sqlite:///{self.work_dir / 'tool.sqlite3'}", "PYTHONUNBUFFERED": "1"}

    def flask(self, *args: str) -> str:
        """`flask --app wsgi …` against this tool's database and settings."""
        run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                             capture_output=True, text=True, timeout=120)
        with (self.logs / "tool-cli.log").open("a") as out:
            out.write(f"$ flask {' '.join(args)}\n{run.stdout}{run.stderr}\n")
        if run.returncode != 0:
            raise SiteError(f"flask {' '.join(args)} failed: see {self.logs / 'tool-cli.log'}\n{run.stderr[-2000:]}")
        return run.stdout

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "tool.sqlite3").unlink(missing_ok=True)
        self.flask("db", "upgrade")
        log = self.logs / "tool.log"
        with log.open("ab") as out:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for_http(f"http://127.0.0.1:{self.port}/healthz", self.server, log, "The tool")

    def stop(self) -> None:
        stop_process_group(self.server)
        self.server = None

    def registration_url(self) -> str:
        """A one-time dynamic registration URL, as the README tells the administrator to make one."""
        return self.flask("lti-tool", "registration-url").strip().splitlines()[-1]


def work_dir_for(package: Path) -> Path:
    """Where the package is unpacked: kept between runs (unpacking takes a while), one per package."""
    tag = hashlib.sha256(str(package.resolve()).encode()).hexdigest()[:8]
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"mentorat-moodle-{tag}"
