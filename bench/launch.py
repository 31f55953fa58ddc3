"""Full LTI launches: launches/s and p50/p95 latency of Mentorat IA beside a bare pylti1p3 handler.

One launch = a learner (one of 10 per client, in turn) clicking an activity placed in Moodle through
Deep Linking (custom parameter catalogue_item=m2.t1: a theme with three exercises, a quiz, the AI
policy, the checklist and the declaration form; the AGS claim Moodle adds):
    POST /lti/login (302 to the platform) → POST /lti/launch with a signed id_token → 200.
Our tool answers the launch with the learner's activity page; the bare handler (bench/bare_tool.py,
the floor) with a short page once pylti1p3 has validated the launch. --baseline DIR adds another
checkout of this project (e.g. a `git worktree` of an older commit), run the same way as this one.

This process plays the platform: its RSA key, its JWKS on a small HTTP server that every tool
fetches (then caches), id_tokens signed RS256 with the nonce each login hands out. Every server
runs under its tree's gunicorn.conf.py as shipped (2 gthread workers x 8 threads, access log),
login state and nonces in Redis; each of our trees on its own PostgreSQL database, created and
dropped here. Each level alternates short rounds of every server, as this machine's CPU speed
drifts within seconds. Everything talks to 127.0.0.1 only.

    .venv/bin/python bench/launch.py                       # levels 1, 8, 32; 8 s per level and server
    .venv/bin/python bench/launch.py --quick               # 2 s per level and server
    .venv/bin/python bench/launch.py --baseline ../before  # + another checkout, side by side

Exit status: 0 when every launch succeeded, 1 if any failed (failures are listed, never timed).
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import signal
import socket
import statistics
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
import redis
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
PROBE_COOKIE = "lti1p3-cookies-ok"  # lti_tool.lti.views.PROBE_COOKIE: skips the cookie-check page
ITEM = "m2.t1"  # the theme launches open by default: three exercises (AI prompt, rewrite, reflection)
USERS_PER_CLIENT = 10  # each client thread launches as 10 learners in turn (no two threads share one)
LEARNER_PAGE = b'data-testid="learner-page"'  # what our launch's 200 page must contain


# --- the platform ----------------------------------------------------------------------------


class JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path != "/mod/lti/certs.php":
            self.send_error(404)
            return
        self.server.jwks_fetches += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.jwks_body)))
        self.end_headers()
        self.wfile.write(self.server.jwks_body)

    def log_message(self, *args):
        pass


class Platform(ThreadingHTTPServer):
    """An LTI platform: key pair, JWKS served on 127.0.0.1, signed id_tokens."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), JwksHandler)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "bench-key-1"
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        self.jwks_body = json.dumps({"keys": [jwk]}).encode()
        self.jwks_fetches = 0
        self.issuer = self.base = f"http://{HOST}:{self.server_address[1]}"
        self.client_id, self.deployment_id = "bench-client", "bench-deployment"
        self.auth_url = self.base + "/mod/lti/auth.php"
        self.token_url = self.base + "/mod/lti/token.php"
        self.jwks_url = self.base + "/mod/lti/certs.php"
        threading.Thread(target=self.serve_forever, name="jwks", daemon=True).start()

    def id_token(self, nonce: str, sub: str, target: str, item: str, *, role: str = "Learner",
                 name: str = "Camille Martin") -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "azp": self.client_id, "sub": sub,
            "iat": now, "exp": now + 300, "nonce": nonce, "name": name,
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#" + role],
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
        self.shutdown()
        self.server_close()


# --- the servers under gunicorn --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def exit_status(errors: dict[str, Counter], servers: list[Server]) -> int:
    """1 when a run had errors (the five most common of each run printed) or a gunicorn died, else 0."""
    status = 0
    for label, counter in errors.items():
        for message, count in counter.most_common(5):
            print(f"ERROR {label}: {count} x {message}")
            status = 1
    for server in servers:
        if server.proc.poll() is not None:
            print(f"ERROR: {server.name} gunicorn died:\n{server.log_tail()}")
            status = 1
    return status


@dataclass
class Server:
    """One tool under gunicorn: one of our trees (with a database) or the bare handler."""

    name: str
    tree: Path  # gunicorn's cwd: the tree whose code and gunicorn.conf.py run
    app: str
    redis_url: str | None  # login state and nonces; None: in-process (--sync-worker)
    redis_prefix: str  # the keys it writes there
    database: str | None = None
    marker: bytes | None = None  # what the launch's 200 page must contain
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, argv: list[str], log_dir: Path) -> None:
        self.log_path = log_dir / f"{self.name}.log"
        with open(self.log_path, "wb") as log:  # own process group: stop() ends the master and its workers
            self.proc = subprocess.Popen(argv, cwd=self.tree, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
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


def make_servers(platform: Platform, args) -> list[Server]:
    """This tree, the --baseline tree if any, then the bare handler, each with its own environment:
    the shipped gunicorn.conf.py reads GUNICORN_WORKERS and GUNICORN_THREADS from it."""
    unset = ("LTI_TOOL_ENV", "DATABASE_URL", "REDIS_URL", "TOOL_BASE_URL", "DEMO_PLATFORM", "SECRET_KEY",
             "BEHIND_PROXY", "FLASK_APP", "GUNICORN_CMD_ARGS", "GUNICORN_BIND", "GUNICORN_TIMEOUT", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {"GUNICORN_WORKERS": str(args.workers), "GUNICORN_THREADS": str(args.threads)}
    redis_url = None if args.sync_worker else args.redis_url
    trees = [("tool", ROOT, args.database, redis_url)]
    if args.baseline:  # its own Redis database (the next number): the two trees' keys never meet
        parts = urlsplit(args.redis_url)
        other_redis = parts._replace(path=f"/{int(parts.path.strip('/') or 0) + 1}").geturl()
        trees.append(("baseline", args.baseline, args.database + "_baseline", redis_url and other_redis))
    servers = []
    for name, tree, database, url in trees:
        server = Server(name, tree, "wsgi:app", redis_url=url, redis_prefix="mentorat-ia:", database=database,
                        marker=LEARNER_PAGE)
        server.env = env | {
            "LTI_TOOL_ENV": "development",  # production refuses an http:// TOOL_BASE_URL
            "DEMO_PLATFORM": "0",
            "OUTBOX_THREAD": "0",  # as in production: grades go out through `lti-tool worker`, another process
            "SECRET_KEY": uuid.uuid4().hex,
            "DATABASE_URL": f"postgresql+psycopg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{database}",
            "TOOL_BASE_URL": server.base,
        } | ({"REDIS_URL": url} if url else {})
        servers.append(server)
    bare = Server("bare", ROOT, "bare_tool:app", redis_url=redis_url, redis_prefix="bare-tool:")
    bare.env = env | {
        "PYTHONPATH": str(ROOT / "bench"),
        "BARE_ISSUER": platform.issuer, "BARE_CLIENT_ID": platform.client_id,
        "BARE_DEPLOYMENT_ID": platform.deployment_id, "BARE_AUTH_URL": platform.auth_url,
        "BARE_TOKEN_URL": platform.token_url, "BARE_JWKS_URL": platform.jwks_url, "BARE_BASE_URL": bare.base,
    } | ({"BARE_REDIS_URL": redis_url} if redis_url else {})
    return servers + [bare]


def prepare_database(server: Server, platform: Platform, admin_url: str) -> None:
    """A fresh database, upgraded and registered with the platform by the server's own tree."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{server.database}"')
    for command in (["db", "upgrade"],
                    ["lti-tool", "add-platform", "--issuer", platform.issuer, "--client-id", platform.client_id,
                     "--deployment-id", platform.deployment_id, "--auth-url", platform.auth_url,
                     "--token-url", platform.token_url, "--jwks-url", platform.jwks_url, "--name", "Bench Moodle"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=server.tree,
                              env=server.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{server.name}: flask {' '.join(command[:2])} failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}")


def gunicorn_argv(server: Server, args, empty_config: Path) -> list[str]:
    """The tree's gunicorn.conf.py, or with --sync-worker one sync worker and no access log, over an
    empty config file (gunicorn would otherwise read ./gunicorn.conf.py)."""
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{server.port}", "--log-level", "warning"]
    if args.sync_worker:
        argv += ["--config", str(empty_config), "--workers", "1", "--worker-class", "sync", "--timeout", "60"]
    else:
        argv += ["--config", str(server.tree / "gunicorn.conf.py")]
    return argv + [server.app]


def describe_tree(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return f"{tree} ({done.stdout.strip() or 'not a git tree'})"


# --- the browser -----------------------------------------------------------------------------


class LaunchFailed(Exception):
    pass


class Browser:
    """One client: one HTTP connection (kept alive when the server allows), cookies by hand.

    Our state cookies are `Secure`; http.cookiejar would not send them back over http://, so the
    Cookie header is written here, as a browser on a loopback host does.
    """

    def __init__(self, platform: Platform, server: Server, index: int, item: str) -> None:
        self.platform, self.server, self.index, self.item = platform, server, index, item
        self.count = 0
        self.steps: list[float] = []  # ms per request of the last launch: login, launch
        self.conn = http.client.HTTPConnection(HOST, server.port, timeout=60)

    def _post(self, path: str, form: dict, cookies: dict):
        headers = {"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        began = time.monotonic()
        for attempt in (1, 2):
            reused = self.conn.sock is not None
            try:
                self.conn.request("POST", path, body=urlencode(form), headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                self.steps.append((time.monotonic() - began) * 1000)
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
        response, data = self._post("/lti/login", {
            "iss": self.platform.issuer, "login_hint": sub, "target_link_uri": target,
            "lti_message_hint": uuid.uuid4().hex[:8], "client_id": self.platform.client_id,
            "lti_deployment_id": self.platform.deployment_id,
        }, {PROBE_COOKIE: "1"})
        if response.status != 302:
            raise LaunchFailed(f"login: HTTP {response.status} {data[:120]!r}")
        location = urlsplit(response.getheader("Location", ""))
        if f"{location.scheme}://{location.netloc}{location.path}" != self.platform.auth_url:
            raise LaunchFailed(f"login: redirect to {location.geturl()[:120]}")
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        if "state" not in query or "nonce" not in query or query.get("redirect_uri") != target:
            raise LaunchFailed(f"login: incomplete authentication request {sorted(query)}")
        cookies = {PROBE_COOKIE: "1"}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].strip().partition("=")
            if name.startswith("lti1p3-") and name != PROBE_COOKIE:
                cookies[name] = value
        if cookies.get("lti1p3-" + query["state"]) != query["state"]:
            raise LaunchFailed("login: no state cookie")
        id_token = self.platform.id_token(query["nonce"], sub, target, self.item)
        response, data = self._post("/lti/launch", {"id_token": id_token, "state": query["state"]}, cookies)
        if response.status != 200:
            raise LaunchFailed(f"launch: HTTP {response.status} {data[:120]!r}")
        if self.server.marker and self.server.marker not in data:
            raise LaunchFailed(f"launch: not the learner's page {data[:120]!r}")


# --- measuring -------------------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: Server) -> dict[str, float]:
    """CPU time used so far by the server's gunicorn workers, by the PostgreSQL server (all its
    processes, and those that ended: the postmaster's children's time; whoever uses it meanwhile)
    and by this process (the clients and the JWKS)."""
    worker = postgres = 0.0
    master = str(server.proc.pid)
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:  # not a process, or ended meanwhile
            continue
        command = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()  # [1]: parent pid; [11:13] user, system; [13:15] children's
        if fields[1] == master:
            worker += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        elif command == "postgres":
            postgres += sum(map(int, fields[11:15])) / CLOCK_TICKS
    return {"worker": worker, "postgres": postgres, "client": time.process_time()}


@dataclass
class Result:
    """One server at one level, over all its rounds."""

    seconds: float = 0.0  # measured
    latencies: list[float] = field(default_factory=list)  # successful launches, ms
    steps: list[list[float]] = field(default_factory=list)  # their requests, ms each
    errors: Counter = field(default_factory=Counter)
    completed: int = 0  # successful launches, warm-ups of the rounds included
    cpu: Counter = field(default_factory=Counter)  # CPU seconds over the whole rounds, by cpu_seconds' keys

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    def cpu_per_launch(self, key: str) -> float:
        return self.cpu[key] / self.completed * 1000 if self.completed else float("nan")


def percentile(values: list[float], p: float) -> float:
    """Interpolated between the closest ranks, at (n - 1) * p."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(p * 100) - 1]


def measure(platform: Platform, server: Server, level: int, args, result: Result) -> None:
    """One round into `result`: `level` clients launching back to back; the launches that end
    inside the round's window count (at most --max-launches)."""
    window = args.duration / args.rounds
    start = time.monotonic() + 0.2
    window_start = start + args.warmup
    window_end = window_start + window
    cap = len(result.latencies) + args.max_launches
    lock = threading.Lock()

    def client(browser: Browser) -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        while time.monotonic() < window_end and len(result.latencies) < cap:
            began = time.monotonic()
            try:
                browser.launch()
                error = None
            except LaunchFailed as exc:
                error = str(exc)
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
            ended = time.monotonic()
            with lock:
                result.completed += not error
                if window_start <= ended <= window_end:  # a failure is counted as such, never timed
                    if error:
                        result.errors[error] += 1
                    else:
                        result.latencies.append((ended - began) * 1000)
                        result.steps.append(browser.steps)
        browser.conn.close()

    threads = [threading.Thread(target=client, args=(Browser(platform, server, i, args.item),), daemon=True)
               for i in range(level)]
    before = cpu_seconds(server)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for key, value in cpu_seconds(server).items():
        result.cpu[key] += value - before[key]
    # With a launch cap the window may end early: divide by the time the counted launches took.
    result.seconds += min(window, max(time.monotonic() - window_start, 1e-9))


def warm_up(platform: Platform, server: Server, count: int, item: str, index: int = 99) -> None:
    browser = Browser(platform, server, index, item)
    try:
        for _ in range(count):
            browser.launch()
    finally:
        browser.conn.close()


def measure_level(platform: Platform, servers: list[Server], level: int, args) -> list[Result]:
    """Short rounds of every server, in turn and then in reverse (ABC CBA …): this machine's CPU
    speed drifts by up to 2x within seconds, and every server must see the same slow and fast periods."""
    if not args.new_learners:
        # Untimed: every learner of the level's clients launches twice on each server first, so that
        # each level measures returning learners (a learner's first launch, once per activity, stores
        # their user row; without this, the levels with more clients would measure more first launches).
        for server in servers:
            for index in range(level):
                warm_up(platform, server, 2 * USERS_PER_CLIENT, args.item, index)
    results = [Result() for _ in servers]
    pairs = list(zip(servers, results))
    for n in range(args.rounds):
        for server, result in pairs if n % 2 == 0 else pairs[::-1]:
            measure(platform, server, level, args, result)
    return results


# --- the report ------------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def print_table(title: str, servers: list[Server], levels: list[int], rows: list[list[Result]], columns) -> None:
    """One row per level; per server, the `columns`: (header, cell of a Result)."""
    if title:
        print(title)
    lines = [("clients", *((f"{s.name} " if i == 0 else "") + header
                           for s in servers for i, (header, _) in enumerate(columns)))]
    lines += [(str(level), *(cell(r) for r in results for _, cell in columns)) for level, results in zip(levels, rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print(" | ".join(cell.rjust(w) for cell, w in zip(line, widths)))
        if n == 0:
            print("-+-".join("-" * w for w in widths))
    print()


def print_tables(servers: list[Server], levels: list[int], rows: list[list[Result]]) -> None:
    print_table("Whole launches (login → launch):", servers, levels, rows, [
        ("launches/s", lambda r: fmt(r.rate)),
        ("p50 ms", lambda r: fmt(percentile(r.latencies, 0.5))),
        ("p95 ms", lambda r: fmt(percentile(r.latencies, 0.95))),
        ("errors", lambda r: str(sum(r.errors.values())))])
    print_table("p50 ms of each request of a launch (the rest of a launch is the client signing the id_token):",
                servers, levels, rows, [(step, lambda r, i=i: fmt(percentile([s[i] for s in r.steps], 0.5)))
                                        for i, step in enumerate(("login", "launch"))])
    print_table("CPU ms per launch over the whole rounds: gunicorn workers, PostgreSQL (all its processes), "
                "this process (the clients)", servers, levels, rows,
                [(key, lambda r, key=key: fmt(r.cpu_per_launch(key), 2)) for key in ("worker", "postgres", "client")])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients per level (default: 1,8,32)")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per level and server (8)")
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds the duration is split into (8)")
    parser.add_argument("--warmup", type=float, default=0.3, help="unmeasured seconds before each round (0.3)")
    parser.add_argument("--quick", action="store_true", help="2 s per level and server in 4 rounds")
    parser.add_argument("--max-launches", type=int, default=5_000, help="cap on launches per round and server")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also run another checkout of this project (e.g. a git worktree of an older commit) "
                             "from DIR, on its own database, beside this tree")
    parser.add_argument("--workers", type=int, default=2, help="GUNICORN_WORKERS, every server (2, as shipped)")
    parser.add_argument("--threads", type=int, default=8, help="GUNICORN_THREADS, every server (8, as shipped)")
    parser.add_argument("--sync-worker", action="store_true",
                        help="diagnostic: every server with one sync worker, no access log, its store in-process, "
                             "instead of gunicorn.conf.py (--workers and --threads unused)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13",
                        help="Redis for this tree and the bare handler (the baseline: the next database number)")
    parser.add_argument("--database", default="bench_launch",
                        help="database created (and dropped) for this tree; the baseline's: the same + _baseline")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the databases at the end")
    parser.add_argument("--item", default=ITEM,
                        help=f"catalogue item the launched activity was placed with ({ITEM}); '' launches a link "
                             "placed without one (the short 'not set up yet' page): what the LTI core costs")
    parser.add_argument("--new-learners", action="store_true",
                        help="no untimed launches per learner before each level: its first rounds then include "
                             "learners' first launches (more of them the more clients)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 2.0, 4, 0.2
    if args.rounds < 1 or args.duration <= 0 or args.workers < 1 or args.threads < 1:
        parser.error("--rounds, --duration, --workers and --threads must be positive")
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if not args.levels or min(args.levels) < 1:
        parser.error("--levels: positive whole numbers, e.g. 1,8,32")
    if args.baseline:
        args.baseline = args.baseline.resolve()
        if not (args.baseline / "wsgi.py").is_file() or not (args.baseline / "gunicorn.conf.py").is_file():
            parser.error(f"--baseline: {args.baseline} is not a checkout of this project")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    admin_url = f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/postgres"
    platform = Platform()
    servers = make_servers(platform, args)

    def cleanup() -> None:
        for server in servers:
            server.stop()
        platform.close()
        for server in servers:
            try:
                if server.database and not args.keep_db:
                    with psycopg.connect(admin_url, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')
                if server.redis_url:  # the keys it wrote (login state, nonces, key sets), nothing else
                    client = redis.Redis.from_url(server.redis_url)
                    keys = list(client.scan_iter(server.redis_prefix + "*", count=1000))
                    for start in range(0, len(keys), 1000):
                        client.delete(*keys[start:start + 1000])
            except Exception as exc:  # say so, and clean up the rest
                print(f"could not clean up after {server.name}: {exc}", file=sys.stderr)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    # Explicit handlers: started in the background, a process may inherit SIGINT as ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    atexit.register(lambda: [s.stop() for s in servers])  # last resort: never leave a gunicorn behind

    log_dir = Path(tempfile.mkdtemp(prefix="bench-launch-"))
    empty_config = log_dir / "gunicorn.conf.py"
    empty_config.write_text("# bench/launch.py --sync-worker: only its command line sets gunicorn\n")
    try:
        for server in servers:
            if server.database:
                prepare_database(server, platform, admin_url)
                print(f"{server.name}: {describe_tree(server.tree)}, database {server.database}")
            server.start(gunicorn_argv(server, args, empty_config), log_dir)
        gunicorn = ("one sync worker, no access log, in-process store" if args.sync_worker else
                    f"gunicorn.conf.py, {args.workers} gthread workers x {args.threads} threads, Redis store")
        print(f"every server: {gunicorn}; learners open "
              f"{('the activity placed with ' + args.item) if args.item else 'an unplaced link'}")
        print(f"{os.cpu_count()} CPUs, clients in this process; per level and server {args.duration:g} s measured "
              f"in {args.rounds} alternating rounds (+{args.warmup:g} s warm-up each); logs in {log_dir}")
        for server in servers:
            warm_up(platform, server, 30, args.item)

        rows = []
        for level in args.levels:
            rows.append(measure_level(platform, servers, level, args))
            print(f"  {level} clients: " + ", ".join(f"{s.name} {r.rate:.1f}/s"
                                                       for s, r in zip(servers, rows[-1])), flush=True)
        print()
        print_tables(servers, args.levels, rows)
        print(f"JWKS fetched {platform.jwks_fetches} times from the platform (once per tool or worker, then cached)")

        errors = {f"{level} clients, {server.name}": result.errors
                  for level, results in zip(args.levels, rows) for server, result in zip(servers, results)}
        return exit_status(errors, servers)
    finally:
        cleanup()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
