"""Full LTI launches per second: Mentorat IA under gunicorn + PostgreSQL vs a bare pylti1p3 tool.

One launch = what a browser does when a learner clicks an activity placed in Moodle through Deep
Linking (custom parameter catalogue_item=m2.t1, a theme with three exercises, a quiz, the AI policy,
the checklist and the declaration form; the AGS claim Moodle adds), as one of 10 learners per client:
  POST /lti/login (302 to the platform) → POST /lti/launch with a signed id_token → the first page.
For our tool that is login → launch, which answers with the first page itself (200, the page then
moves its address to /t/<token>/ with history.replaceState; these learners do no work between
launches, so from their second launch on the page comes from the tool's page cache, which
--no-page-cache turns off: every page rendered, as after a learner's work changed); for the bare
pylti1p3 handler (bench/bare_tool.py, the floor) login → launch (200, validation only), or with
--bare-first-page the same three requests as ours (a diagnostic: what the request shape costs).
Each level alternates short rounds of both tools, as this machine's CPU speed drifts within seconds.

This process plays the platform: its RSA key, its JWKS on a small local HTTP server that both tools
fetch (once: they cache it), id_tokens signed RS256 with the nonce each login hands out. Both tools
run under gunicorn with the same settings; our tool on a fresh PostgreSQL database, created and
dropped here. Everything talks to 127.0.0.1 only.

    .venv/bin/python bench/launch.py                 # levels 1, 8, 32; 8 s per level and tool
    .venv/bin/python bench/launch.py --quick         # 2 s per level and tool
    .venv/bin/python bench/launch.py --levels 1,8 --duration 5 --workers 2   # 2 workers: Redis store

Exit status: 0 when every launch succeeded, 1 if any failed (failures are listed, never timed),
2 with --strict when a level's ratio is under --target.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import psycopg
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
PROBE_COOKIE = "lti1p3-cookies-ok"  # lti_tool.lti.views.PROBE_COOKIE: skips the cookie-check page
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
ITEM = "m2.t1"  # the theme launches open by default: three exercises (AI prompt, rewrite, reflection)
USERS_PER_CLIENT = 10  # each client thread launches as 10 learners in turn (no two threads share one)


# --- the platform ----------------------------------------------------------------------------


class Platform:
    """An LTI platform: key pair, JWKS served on 127.0.0.1, signed id_tokens."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "bench-key-1"
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        self.jwks_body = json.dumps({"keys": [jwk]}).encode()
        self.jwks_fetches = Counter()
        self._server = ThreadingHTTPServer((HOST, 0), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://{HOST}:{self._server.server_address[1]}"
        self.issuer = self.base
        self.client_id = "bench-client"
        self.deployment_id = "bench-deployment"
        self.auth_url = self.base + "/mod/lti/auth.php"
        self.token_url = self.base + "/mod/lti/token.php"
        self.jwks_url = self.base + "/mod/lti/certs.php"
        threading.Thread(target=self._server.serve_forever, name="jwks", daemon=True).start()

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                if self.path != "/mod/lti/certs.php":
                    self.send_error(404)
                    return
                platform.jwks_fetches[self.headers.get("User-Agent", "?")] += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(platform.jwks_body)))
                self.end_headers()
                self.wfile.write(platform.jwks_body)

            def log_message(self, *args):
                pass

        return Handler

    def id_token(self, nonce: str, sub: str, target: str, item: str = ITEM) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "azp": self.client_id, "sub": sub,
            "iat": now, "exp": now + 300, "nonce": nonce, "name": "Camille Martin",
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "roles": LEARNER,
            CLAIM + "context": {"id": "course-101", "title": "BTS MCO — tutorat", "label": "MCO1"},
            CLAIM + "resource_link": {"id": "link-" + (item or "unplaced"), "title": "Module 2 - Thème 1"},
            # As Moodle sends it for an activity placed through Deep Linking: the catalogue item
            # (the learner lands on the activity page; "" : the "not set up yet" page) and AGS.
            CLAIM + "custom": {"catalogue_item": item} if item else {},
            AGS_CLAIM: {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                                  "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                        "lineitem": self.base + "/mod/lti/services.php/101/lineitems/7/lineitem?type_id=1",
                        "lineitems": self.base + "/mod/lti/services.php/101/lineitems?type_id=1"},
            CLAIM + "target_link_uri": target,
            CLAIM + "launch_presentation": {"document_target": "iframe", "locale": "fr-FR"},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- the tools under gunicorn ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    first_page: str | None = None  # path prefix the launch redirects to; None: the launch answers 200
    landing_marker: bytes | None = None  # what the launch's 200 page must contain
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.log_path = log_dir / f"{self.name}.log"
        log = open(self.log_path, "wb")
        # Own process group: stop() ends the master and its workers, and nothing else.
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz within 30 s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def gunicorn_argv(app: str, port: int, args, config: Path, extra: list[str] = ()) -> list[str]:
    """Both tools under the same gunicorn settings: the command line's, over an empty config
    file (gunicorn would otherwise read ./gunicorn.conf.py, the tool's production settings), or
    over that file with --production-config (gthread workers, access log)."""
    config = ROOT / "gunicorn.conf.py" if args.production_config else config
    argv = [sys.executable, "-m", "gunicorn", "--config", str(config), "--bind", f"{HOST}:{port}",
            "--workers", str(args.workers), "--timeout", "60", "--log-level", "warning", *extra]
    if args.threads > 1:
        argv += ["--worker-class", "gthread", "--threads", str(args.threads)]
    elif not args.production_config:
        argv += ["--worker-class", "sync"]
    return argv + [app]


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("LTI_TOOL_ENV", "DATABASE_URL", "REDIS_URL", "TOOL_BASE_URL", "DEMO_PLATFORM", "SECRET_KEY",
                 "BEHIND_PROXY", "FLASK_APP", "GUNICORN_CMD_ARGS", "PYTHONPATH"):
        env.pop(name, None)
    return env


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clear_redis(url: str) -> None:
    """Delete the keys both tools wrote (login state, nonces, launch data), nothing else."""
    import redis

    client = redis.Redis.from_url(url)
    for pattern in ("mentorat-ia:*", "bare-tool:*"):
        keys = list(client.scan_iter(pattern, count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])


def run_checked(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def start_tool(platform: Platform, args, log_dir: Path) -> Server:
    server = Server("tool", free_port(), landing_marker=b'data-testid="learner-page"')
    env = clean_env() | {
        "LTI_TOOL_ENV": "development",  # production refuses an http:// TOOL_BASE_URL
        "DEMO_PLATFORM": "0",
        "OUTBOX_THREAD": "0",  # as in production: grades go out through `lti-tool worker`, another process
        "SECRET_KEY": uuid.uuid4().hex,
        "DATABASE_URL": f"postgresql+psycopg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{args.database}",
        "TOOL_BASE_URL": server.base,
    }
    if args.workers > 1:  # nonces and login state must be shared by the workers
        env["REDIS_URL"] = args.redis_url
    if args.no_page_cache:  # every launch renders its page, as after the learner's work has changed
        env["PAGE_CACHE_MB"] = "0"
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    run_checked(flask + ["db", "upgrade"], env)
    run_checked(flask + ["lti-tool", "add-platform", "--issuer", platform.issuer, "--client-id", platform.client_id,
                         "--deployment-id", platform.deployment_id, "--auth-url", platform.auth_url,
                         "--token-url", platform.token_url, "--jwks-url", platform.jwks_url,
                         "--name", "Bench Moodle"], env)
    server.start(gunicorn_argv("wsgi:app", server.port, args, log_dir / "gunicorn.conf.py"), env, log_dir)
    return server


def start_bare(platform: Platform, args, log_dir: Path) -> Server:
    server = Server("bare", free_port(), first_page="/page/" if args.bare_first_page else None)
    env = clean_env() | {
        "BARE_ISSUER": platform.issuer, "BARE_CLIENT_ID": platform.client_id,
        "BARE_DEPLOYMENT_ID": platform.deployment_id, "BARE_AUTH_URL": platform.auth_url,
        "BARE_TOKEN_URL": platform.token_url, "BARE_JWKS_URL": platform.jwks_url, "BARE_BASE_URL": server.base,
    }
    if args.workers > 1:  # the same shared store as our tool
        env["BARE_REDIS_URL"] = args.redis_url
    if args.bare_first_page:
        env["BARE_FIRST_PAGE"] = "1"
    server.start(gunicorn_argv("bare_tool:app", server.port, args, log_dir / "gunicorn.conf.py",
                               ["--pythonpath", str(ROOT / "bench")]), env, log_dir)
    return server


# --- the browser -----------------------------------------------------------------------------


class LaunchFailed(Exception):
    pass


class Browser:
    """One client: one HTTP connection (kept alive when the server allows), cookies by hand.

    Our state cookies are `Secure`; http.cookiejar would not send them back over http://, so the
    Cookie header is written here, as a browser on a loopback host does.
    """

    def __init__(self, platform: Platform, server: Server, index: int, item: str = ITEM) -> None:
        self.platform = platform
        self.item = item
        self.server = server
        self.index = index
        self.count = 0
        self.steps: list[float] = []  # ms per request of the last launch: login, launch[, page]
        self.conn = http.client.HTTPConnection(HOST, server.port, timeout=60)

    def close(self) -> None:
        self.conn.close()

    def _request(self, method: str, path: str, form: dict | None = None, cookies: dict | None = None):
        headers = {"Accept": "text/html"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        for attempt in (1, 2):
            reused = self.conn.sock is not None
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                return response, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if not reused or attempt == 2:  # a kept-alive connection the server had closed: retry once
                    raise
        raise AssertionError("unreachable")

    def launch(self) -> None:
        """One full launch; raises LaunchFailed with the step and status if anything is off."""
        sub = f"learner-{self.index:02d}-{self.count % USERS_PER_CLIENT}"
        self.count += 1
        target = self.server.base + "/lti/launch"
        self.steps = []
        began = time.monotonic()
        response, data = self._request("POST", "/lti/login", form={
            "iss": self.platform.issuer, "login_hint": sub, "target_link_uri": target,
            "lti_message_hint": uuid.uuid4().hex[:8], "client_id": self.platform.client_id,
            "lti_deployment_id": self.platform.deployment_id,
        }, cookies={PROBE_COOKIE: "1"})
        self.steps.append((time.monotonic() - began) * 1000)
        if response.status != 302:
            raise LaunchFailed(f"login: HTTP {response.status} {data[:120]!r}")
        location = urlsplit(response.getheader("Location", ""))
        if f"{location.scheme}://{location.netloc}{location.path}" != self.platform.auth_url:
            raise LaunchFailed(f"login: redirect to {location.geturl()[:120]}")
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        if "state" not in query or "nonce" not in query or query.get("redirect_uri") != target:
            raise LaunchFailed(f"login: incomplete authentication request {sorted(query)}")
        cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].strip().partition("=")
            if name.startswith("lti1p3-") and name != PROBE_COOKIE:
                cookies[name] = value
        if cookies.get("lti1p3-" + query["state"]) != query["state"]:
            raise LaunchFailed("login: no state cookie")
        id_token = self.platform.id_token(query["nonce"], sub, target, self.item)
        began = time.monotonic()
        response, data = self._request("POST", "/lti/launch", form={"id_token": id_token, "state": query["state"]},
                                       cookies=cookies | {PROBE_COOKIE: "1"})
        self.steps.append((time.monotonic() - began) * 1000)
        if not self.server.first_page:
            if response.status != 200:
                raise LaunchFailed(f"launch: HTTP {response.status} {data[:120]!r}")
            if self.server.landing_marker and self.server.landing_marker not in data:
                raise LaunchFailed(f"launch: not the first page {data[:120]!r}")
            return
        if response.status != 303:
            raise LaunchFailed(f"launch: HTTP {response.status} {data[:120]!r}")
        page = urlsplit(response.getheader("Location", ""))
        if not page.path.startswith(self.server.first_page):
            raise LaunchFailed(f"launch: redirect to {page.path[:40]}")
        began = time.monotonic()
        response, data = self._request("GET", page.path)
        self.steps.append((time.monotonic() - began) * 1000)
        if response.status != 200 or not data:
            raise LaunchFailed(f"first page: HTTP {response.status} {data[:120]!r}")


# --- measuring -------------------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> list[tuple[int, str, int, float]]:
    """(pid, command, parent pid, CPU seconds used) of every process on this machine."""
    stats = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:  # ended meanwhile
            continue
        command = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        stats.append((int(entry), command, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS))
    return stats


def cpu_seconds(server: Server) -> dict[str, float]:
    """CPU time used so far by the server's gunicorn workers, by the PostgreSQL server (all its
    processes: only the bench uses it meanwhile) and by this process (the clients and the JWKS)."""
    stats = _proc_stats()
    master = server.proc.pid if server.proc else -1
    return {"worker": sum(cpu for pid, _, parent, cpu in stats if parent == master),
            "postgres": sum(cpu for _, command, _, cpu in stats if command == "postgres"),
            "client": time.process_time()}


@dataclass
class Result:
    level: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # successful launches, ms
    steps: list[list[float]] = field(default_factory=list)  # their requests, ms each
    errors: Counter = field(default_factory=Counter)
    round_rates: list[float] = field(default_factory=list)
    completed: int = 0  # successful launches of the whole round, warm-up included
    cpu: Counter = field(default_factory=Counter)  # CPU seconds over the whole round, by cpu_seconds' keys

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    def add(self, other: Result) -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.steps += other.steps
        self.errors.update(other.errors)
        self.round_rates.append(other.rate)
        self.completed += other.completed
        self.cpu.update(other.cpu)

    def cpu_per_launch(self, key: str) -> float:
        """CPU ms that `key` (worker, postgres, client) spent per launch."""
        return self.cpu[key] / self.completed * 1000 if self.completed else float("nan")

    def percentile(self, p: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.latencies if values is None else values)
        if not ordered:
            return float("nan")
        rank = (len(ordered) - 1) * p
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure(platform: Platform, server: Server, level: int, warmup: float, duration: float,
            max_launches: int, item: str = ITEM) -> Result:
    """One round: `level` clients launching back to back; launches ending inside the window count."""
    browsers = [Browser(platform, server, i, item) for i in range(level)]
    start = time.monotonic() + 0.2
    window_start = start + warmup
    window_end = window_start + duration
    result = Result(level, duration)
    lock = threading.Lock()

    def client(browser: Browser) -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        while True:
            began = time.monotonic()
            if began >= window_end:
                break
            with lock:
                if len(result.latencies) >= max_launches:
                    break
            try:
                browser.launch()
                error = None
            except LaunchFailed as exc:
                error = str(exc)
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
            ended = time.monotonic()
            if not error:
                with lock:
                    result.completed += 1
            if window_start <= ended <= window_end:  # a failure is counted as such, never timed
                with lock:
                    if error:
                        result.errors[error] += 1
                    else:
                        result.latencies.append((ended - began) * 1000)
                        result.steps.append(browser.steps)
        browser.close()

    threads = [threading.Thread(target=client, args=(b,), name=f"client-{b.index}", daemon=True)
               for b in browsers]
    before = cpu_seconds(server)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.cpu.update({key: value - before[key] for key, value in cpu_seconds(server).items()})
    # With a launch cap the window may end early: divide by the time the counted launches took.
    result.seconds = min(duration, max(time.monotonic() - window_start, 1e-9))
    return result


def measure_level(platform: Platform, tool: Server, bare: Server, level: int, args) -> tuple[Result, Result]:
    """Short rounds, alternating tool and bare (ABBA…): this machine's CPU speed drifts by up to
    2x within seconds, and both tools must see the same slow and fast periods."""
    totals = {tool.name: Result(level, 0.0), bare.name: Result(level, 0.0)}
    window = args.duration / args.rounds
    for n in range(args.rounds):
        for server in ((tool, bare) if n % 2 == 0 else (bare, tool)):
            totals[server.name].add(measure(platform, server, level, args.warmup, window, args.max_launches,
                                            args.item))
    return totals[tool.name], totals[bare.name]


def warm_up(platform: Platform, server: Server, count: int, item: str = ITEM, index: int = 99) -> None:
    browser = Browser(platform, server, index, item)
    try:
        for _ in range(count):
            browser.launch()
    finally:
        browser.close()


def returning_learners(platform: Platform, servers: list[Server], level: int, args) -> None:
    """Untimed: every learner of the level's clients launches twice on each tool first, so that
    each level measures returning learners (a learner's first launch, once per activity, stores
    their user row; without this the levels with more clients would measure more first launches)."""
    if args.new_learners:
        return
    for server in servers:
        for index in range(level):
            warm_up(platform, server, 2 * USERS_PER_CLIENT, args.item, index)


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def print_rows(lines: list[tuple[str, ...]]) -> None:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print(" | ".join(cell.rjust(w) for cell, w in zip(line, widths)))
        if n == 0:
            print("-+-".join("-" * w for w in widths))


def print_table(rows: list[tuple[Result, Result]], target: float, bare_pages: bool) -> None:
    lines = [("level", "tool launches/s", "p50 ms", "p95 ms", "bare launches/s", "p50 ms", "p95 ms", "ratio",
              "rounds' ratios", "errors tool/bare")]
    for tool, bare in rows:
        ratio = tool.rate / bare.rate if bare.rate else float("nan")
        ratios = sorted(t / b for t, b in zip(tool.round_rates, bare.round_rates) if b)
        spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}" if ratios else "-"
        lines.append((str(tool.level), fmt(tool.rate), fmt(tool.percentile(0.5)), fmt(tool.percentile(0.95)),
                      fmt(bare.rate), fmt(bare.percentile(0.5)), fmt(bare.percentile(0.95)), fmt(ratio, 2), spread,
                      f"{sum(tool.errors.values())}/{sum(bare.errors.values())}"))
    print_rows(lines)
    print(f"target: tool >= {target:g} x bare launches/s")
    print()
    print("p50 ms of each request of a launch (the rest of a launch is the client signing the id_token):")
    bare_steps = 3 if bare_pages else 2
    lines = [("level", "tool login", "tool launch + first page", "bare login", "bare launch",
              *(["bare first page"] if bare_pages else []))]
    for tool, bare in rows:
        lines.append((str(tool.level), *(fmt(tool.percentile(0.5, [s[i] for s in tool.steps])) for i in range(2)),
                      *(fmt(bare.percentile(0.5, [s[i] for s in bare.steps])) for i in range(bare_steps))))
    print_rows(lines)
    print()
    print("CPU ms per launch over the whole rounds: gunicorn workers, PostgreSQL (all its processes), this process")
    lines = [("level", "tool worker", "tool postgres", "tool client", "bare worker", "bare postgres", "bare client")]
    for tool, bare in rows:
        lines.append((str(tool.level), *(fmt(result.cpu_per_launch(key), 2) for result in (tool, bare)
                                         for key in ("worker", "postgres", "client"))))
    print_rows(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients per level (default: 1,8,32)")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per level and tool (8)")
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds the duration is split into (8)")
    parser.add_argument("--warmup", type=float, default=0.3, help="unmeasured seconds before each round (0.3)")
    parser.add_argument("--quick", action="store_true", help="2 s per level and tool in 4 rounds")
    parser.add_argument("--max-launches", type=int, default=5_000, help="cap on launches per round and tool")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers, both tools (1; >1 uses Redis)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker, both tools (1: sync)")
    parser.add_argument("--production-config", action="store_true",
                        help="both tools under the tool's gunicorn.conf.py (gthread x8, access log; "
                             "--workers still from the command line)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="our store when --workers > 1")
    parser.add_argument("--database", default="bench_launch", help="database created (and dropped) for the run")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--bare-first-page", action="store_true",
                        help="the bare tool also redirects to a first page (pylti1p3 from_cache): same request shape "
                             "as ours, a diagnostic; the acceptance floor is without it")
    parser.add_argument("--item", default=ITEM,
                        help=f"catalogue item the launched activity was placed with ({ITEM}); '' launches a link "
                             "placed without one (the short 'not set up yet' page): a diagnostic of what the "
                             "activity page costs")
    parser.add_argument("--new-learners", action="store_true",
                        help="no untimed launches per learner before each level: its first rounds then include "
                             "learners' first launches (more of them the more clients)")
    parser.add_argument("--no-page-cache", action="store_true",
                        help="our tool renders every page (PAGE_CACHE_MB=0): a diagnostic of what the page cache saves")
    parser.add_argument("--target", type=float, default=0.7, help="tool/bare throughput ratio to reach (0.7)")
    parser.add_argument("--strict", action="store_true", help="exit 2 if a level misses the target")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 2.0, 4, 0.2
    if args.rounds < 1 or args.duration <= 0:
        parser.error("--rounds and --duration must be positive")
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if not args.levels or min(args.levels) < 1:
        parser.error("--levels: positive whole numbers, e.g. 1,8,32")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    admin_url = f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/postgres"
    servers: list[Server] = []
    platform: Platform | None = None
    db_created = False

    def cleanup() -> None:
        for server in servers:
            server.stop()
        if platform is not None:
            platform.close()
        if db_created and not args.keep_db:
            try:
                drop_database(admin_url, args.database)
            except psycopg.Error as exc:
                print(f"could not drop database {args.database}: {exc}", file=sys.stderr)
        if args.workers > 1:
            try:
                clear_redis(args.redis_url)
            except Exception as exc:  # any client error: say so, the rest is cleaned up
                print(f"could not clear the bench keys in {args.redis_url}: {exc}", file=sys.stderr)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    # Explicit handlers: started in the background, a process may inherit SIGINT as ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    atexit.register(lambda: [s.stop() for s in servers])  # last resort: never leave a gunicorn behind

    log_dir = Path(tempfile.mkdtemp(prefix="bench-launch-"))
    (log_dir / "gunicorn.conf.py").write_text("# bench/launch.py: only its command line sets gunicorn\n")
    try:
        platform = Platform()
        create_database(admin_url, args.database)
        db_created = True
        servers.append(start_tool(platform, args, log_dir))
        servers.append(start_bare(platform, args, log_dir))
        tool, bare = servers
        worker_kind = ("gunicorn.conf.py (gthread, access log)" if args.production_config and args.threads == 1
                       else "sync, no access log" if args.threads == 1 else f"gthread x{args.threads}")
        store = f"Redis ({args.redis_url})" if args.workers > 1 else "in-process"
        store += ", page cache off" if args.no_page_cache else ""
        print(f"gunicorn: {args.workers} worker(s), {worker_kind}, same for both tools; "
              f"our store: {store}; database: PostgreSQL {args.database}")
        print(f"learners open {('the activity placed with ' + args.item) if args.item else 'an unplaced link'}; "
              f"{os.cpu_count()} CPUs, client in this process; per level and tool {args.duration:g} s measured in "
              f"{args.rounds} alternating rounds (+{args.warmup:g} s warm-up each); logs in {log_dir}")
        warm_up(platform, tool, 30, args.item)
        warm_up(platform, bare, 30, args.item)

        rows = []
        for level in args.levels:
            returning_learners(platform, [tool, bare], level, args)
            tool_result, bare_result = measure_level(platform, tool, bare, level, args)
            rows.append((tool_result, bare_result))
            print(f"  level {level}: tool {tool_result.rate:.1f}/s, bare {bare_result.rate:.1f}/s", flush=True)
        print()
        print_table(rows, args.target, args.bare_first_page)
        fetches = ", ".join(f"{agent}: {n}" for agent, n in sorted(platform.jwks_fetches.items()))
        print(f"JWKS fetches from the platform, by User-Agent (each worker fetches once, then caches): {fetches}")

        status = 0
        for tool_result, bare_result in rows:
            for name, result in (("tool", tool_result), ("bare", bare_result)):
                for message, count in result.errors.most_common(5):
                    print(f"ERROR level {result.level} {name}: {count} x {message}")
                    status = 1
        for name, server in (("tool", tool), ("bare", bare)):
            if server.proc is None or server.proc.poll() is not None:
                print(f"ERROR: {name} gunicorn died:\n{server.log_tail()}")
                status = 1
        if status == 0 and args.strict and any(t.rate < args.target * b.rate for t, b in rows):
            status = 2
        return status
    finally:
        cleanup()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
