"""A class asking the AI assistant at once: what learners feel while N answers stream.

A trainer says "open exercise 2 and ask the assistant" and the whole class does it in the same
minute. For each level (--streams, default 30, 100, 200 learners) the learners first launch the
activity placed with the theme m2.t1 (a real LTI launch, login → launch, by returning learners),
then all send the exercise's prompt at the same moment: `POST /t/<token>/ai/chat` on its AI
exercise m2.t1.e1, answered by a local OpenAI-compatible stand-in at a set pace (by default the
first token after 800 ms, then 40 chunks 180 ms apart: an answer of about 8 s). Each learner then
saves the answer as a draft, as the exercise page does. While the answers stream, other clients
(--page-clients) each in turn launch as a latecomer, save that learner's draft and open the
trainer's roster, --think seconds apart.

The tool runs under gunicorn with its tree's gunicorn.conf.py as shipped ("today": 2 gthread
workers x 128 threads, the app preloaded, access log) on PostgreSQL (its own database, created and
dropped here) and Redis (database 11; the tool's keys there are deleted at the end), and in the
same run as a second
configuration ("compare": --compare-env, --compare-gunicorn, --compare-tree; by default
`--threads 64`): each level runs both, one after the other, in alternating order. --instances 2
runs each configuration as two gunicorns on two ports sharing its database and Redis: a learner
launches on one and asks and saves on the other. Before the levels, one burst of 8 streams per
configuration, not counted, warms the workers (a worker's first answers load the LLM SDK: about a
second). This process plays the platform (bench/launch.py's: RSA key, JWKS, signed id_tokens)
and the browsers, a thread each (http.client: a third of the CPU that asyncio with httpx2 spent
on the same 200 streams); the stand-in (tests/llm_fake_servers.py) runs in a child process.

Printed per level and configuration: time to first words (from sending the prompt to the first
`delta` event, minus the stand-in's first-token delay), p50/p95; the whole answer p95; pages
during the streams (launches, draft saves, rosters) p50/p95, also by kind; errors; the largest
RSS, PSS and private memory of any worker and the CPU seconds of the workers (summed, from
/proc), of PostgreSQL, of this process (the clients) and of the stand-in over the burst.

    .venv/bin/python bench/classroom.py                                  # or: make bench-classroom
    .venv/bin/python bench/classroom.py --streams 30 --compare-env GUNICORN_THREADS=32
    .venv/bin/python bench/classroom.py --compare-gunicorn "--workers 4 --threads 32" --instances 2
    .venv/bin/python bench/classroom.py --compare-tree ../other-checkout    # its gunicorn.conf.py as it is

Exit status: 0 when everything worked; 1 if anything failed (a non-2xx, a stream that ends in an
`error` event or is cut, an answer that does not arrive whole, a gunicorn that died).
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import itertools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.launch import (  # noqa: E402 (after the path above)
    HOST, LEARNER_PAGE, PROBE_COOKIE, Platform, Server, cpu_seconds, describe_tree, exit_status, fmt, percentile,
    prepare_database)
from tests.llm_fake_servers import FakeChatServer  # noqa: E402

ITEM = "m2.t1"  # the theme placed in the course, as bench/launch.py launches it
EXERCISE = "m2.t1.e1"  # its AI exercise (ai_prompt): « Quand l'IA oriente : débusquer les biais »
PROMPT = ("Tu es conseiller ou conseillère en orientation professionnelle. Propose 5 pistes de métiers pour chacun "
          "des deux profils suivants, et justifie chaque proposition en une phrase.\n\nProfil A : une personne de "
          "25 ans, diplômée en informatique.\nProfil B : une personne de 25 ans qui a appris la programmation en "
          "autodidacte.\n\nPrésente tes réponses dans deux listes séparées, sans comparer les profils entre eux.")
ANSWER = (  # what the stand-in streams (about 1,100 characters): each learner must receive exactly this
    "Profil A, diplômée en informatique : 1. Développeuse d'applications, car le diplôme couvre la conception "
    "et le code. 2. Administratrice systèmes et réseaux, pour la maîtrise des infrastructures acquise en cours. "
    "3. Analyste en cybersécurité, un secteur qui recrute des profils formés aux bases théoriques. 4. Cheffe de "
    "projet informatique junior, le cursus incluant souvent la gestion de projet. 5. Data analyst, grâce aux "
    "statistiques et aux bases de données étudiées.\n\nProfil B, autodidacte en programmation : 1. Développeur "
    "web, un métier où le portfolio compte autant que le diplôme. 2. Intégrateur web, pour une entrée rapide "
    "dans le métier avec des projets concrets. 3. Testeur logiciel, qui valorise la curiosité et la rigueur "
    "d'un parcours en autonomie. 4. Technicien support applicatif, un poste qui permet de progresser en "
    "continuant d'apprendre. 5. Développeur en alternance, pour faire reconnaître ses compétences par une "
    "certification.\n\nCes pistes restent indicatives : un entretien avec chaque personne permettra de les "
    "affiner selon ses envies et son projet.")
LANDING = re.compile(rb'history\.replaceState\(null, "", "/t/([^/"]+)/')  # the token URL the launch page gives itself
ROSTER_PAGE = b'data-testid="roster"'
REDIS_PREFIX = "mentorat-ia:"  # lti_tool.common.store.RedisStore: the tool's keys, the only ones deleted
LAUNCHERS = 8  # concurrent launches while the class opens the activity, before the prompts (not timed)
LATECOMERS = 10  # learners each page client launches as, in turn
WARM_UP_STREAMS = 8  # a burst per configuration before the levels, not counted
FIRST_NAMES = ("Camille", "Léa", "Hugo", "Inès", "Lucas", "Chloé", "Nathan", "Manon", "Yanis", "Sarah")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier")
UNSET = ("LTI_TOOL_ENV", "DATABASE_URL", "REDIS_URL", "TOOL_BASE_URL", "DEMO_PLATFORM", "SECRET_KEY", "BEHIND_PROXY",
         "FLASK_APP", "PYTHONPATH")  # and every GUNICORN_*: "today" is gunicorn.conf.py as shipped


def learner_name(index: int) -> str:
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index // len(FIRST_NAMES) % len(LAST_NAMES)]}"


# --- the stand-in for the centre's LLM (a child process) -------------------------------------


def serve_llm(first_token: float, chunk_delay: float, chunks: int) -> None:
    """Child: the tests' OpenAI-compatible server at the given pace; prints its port, serves until
    stdin closes (a thread per stream)."""
    with FakeChatServer(answer=ANSWER, chunks=chunks, chunk_delay=chunk_delay, first_token_delay=first_token,
                        record=False) as server:
        print(server.port, flush=True)
        sys.stdin.read()


# --- the tool's two configurations ------------------------------------------------------------


@dataclass
class Configuration:
    """One way of running the tool: a tree, environment variables and gunicorn options over its
    gunicorn.conf.py; one gunicorn per instance, all on the same database and Redis."""

    name: str
    tree: Path
    database: str
    env: dict[str, str]
    gunicorn: list[str]
    instances: list[Server] = field(default_factory=list)

    def describe(self) -> str:
        settings = " ".join([*(f"{k}={v}" for k, v in self.env.items()), "gunicorn -c gunicorn.conf.py",
                             *map(shlex.quote, self.gunicorn)])
        return f"{describe_tree(self.tree)}: {settings}, database {self.database}, {len(self.instances)} instance(s)"

    def argv(self, server: Server) -> list[str]:
        # gunicorn reads the config file first; options on the command line override it.
        return [sys.executable, "-m", "gunicorn", "--config", str(self.tree / "gunicorn.conf.py"),
                "--bind", f"{HOST}:{server.port}", *self.gunicorn, "wsgi:app"]


def make_configurations(args) -> list[Configuration]:
    configurations = [Configuration("today", ROOT, args.database, {}, [])]
    if not args.no_compare:
        configurations.append(Configuration("compare", args.compare_tree or ROOT, args.database + "_compare",
                                            dict(args.compare_env), shlex.split(args.compare_gunicorn)))
    common = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("GUNICORN_")}
    for config in configurations:
        secret = uuid.uuid4().hex  # shared by its instances: the centre's API key is encrypted with it
        for number in range(1, args.instances + 1):
            server = Server(f"{config.name}-{number}", config.tree, "wsgi:app", redis_url=args.redis_url,
                            redis_prefix=REDIS_PREFIX, database=config.database, marker=LEARNER_PAGE)
            server.env = common | {
                "LTI_TOOL_ENV": "development",  # production refuses an http:// TOOL_BASE_URL
                "DEMO_PLATFORM": "0", "OUTBOX_THREAD": "0",  # as in production
                "SECRET_KEY": secret, "REDIS_URL": args.redis_url, "TOOL_BASE_URL": server.base,
                "DATABASE_URL": f"postgresql+psycopg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{config.database}",
            } | config.env
            config.instances.append(server)
    return configurations


def prepare(config: Configuration, platform: Platform, admin_url: str, llm_url: str) -> None:
    """A fresh database, upgraded, the platform registered and its centre's LLM set to the stand-in,
    by the configuration's own tree."""
    server = config.instances[0]
    prepare_database(server, platform, admin_url)
    command = ["lti-tool", "llm-config", "--platform-id", "1",  # the only platform of a fresh database
               "--provider", "openai", "--model", "bench-model", "--base-url", llm_url + "/v1",
               "--api-key-env", "BENCH_LLM_KEY", "--confirm-eu"]
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=server.tree,
                          env=server.env | {"BENCH_LLM_KEY": "sk-bench-key-0000"}, capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{config.name}: flask lti-tool llm-config failed:\n{done.stdout}\n{done.stderr}")


# --- the browsers ----------------------------------------------------------------------------


class Failed(Exception):
    """A request that did not give what a browser expects (the message says which and how)."""


def failure(exc: Exception) -> str:
    """What went wrong, for the error list: our own message, or the exception's class and text."""
    return str(exc) if isinstance(exc, Failed) else f"{type(exc).__name__}: {exc}"


class Browser:
    """One person's browser: a kept-alive connection per instance, cookies by hand (the tool's
    state cookies are `Secure`: http.cookiejar would not send them back over http://)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()

    def send(self, port: int, method: str, path: str, body: bytes | str | None = None,
             headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        connection = self.connections.setdefault(port, http.client.HTTPConnection(HOST, port, timeout=self.timeout))
        for attempt in (1, 2):
            reused = connection.sock is not None
            try:
                connection.request(method, path, body=body, headers=headers or {})
                return connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                if not reused or attempt == 2:  # a kept-alive connection the server had closed: once more
                    raise
        raise AssertionError("unreachable")

    def fetch(self, port: int, method: str, path: str, body=None, headers=None):
        """The whole response: (response, body)."""
        response = self.send(port, method, path, body, headers)
        data = response.read()
        if response.will_close:
            self.connections[port].close()
        return response, data

    def launch(self, platform: Platform, server: Server, sub: str, name: str, role: str = "Learner") -> str:
        """A full launch (login → launch) on `server`; returns the launch token its page gives."""
        target = server.base + "/lti/launch"
        form = {"iss": platform.issuer, "login_hint": sub, "target_link_uri": target,
                "lti_message_hint": uuid.uuid4().hex[:8], "client_id": platform.client_id,
                "lti_deployment_id": platform.deployment_id}
        headers = {"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded",
                   "Cookie": f"{PROBE_COOKIE}=1"}
        response, data = self.fetch(server.port, "POST", "/lti/login", urlencode(form), headers)
        if response.status != 302:
            raise Failed(f"login: HTTP {response.status} {data[:120]!r}")
        query = {k: v[0] for k, v in parse_qs(urlsplit(response.getheader("Location", "")).query).items()}
        cookies = [f"{PROBE_COOKIE}=1"] + [cookie.split(";", 1)[0].strip()
                                           for cookie in response.headers.get_all("Set-Cookie") or []
                                           if cookie.startswith("lti1p3-") and not cookie.startswith(PROBE_COOKIE)]
        if "state" not in query or "nonce" not in query:
            raise Failed("login: no state or nonce in the redirect to the platform")
        id_token = platform.id_token(query["nonce"], sub, target, ITEM, role=role, name=name)
        headers["Cookie"] = "; ".join(cookies)
        response, data = self.fetch(server.port, "POST", "/lti/launch",
                                    urlencode({"id_token": id_token, "state": query["state"]}), headers)
        if response.status != 200:
            raise Failed(f"launch: HTTP {response.status} {data[:120]!r}")
        if role == "Learner" and server.marker not in data:
            raise Failed(f"launch: not the learner's page {data[:120]!r}")
        match = LANDING.search(data)
        if not match:
            raise Failed("launch: the page does not name its token URL")
        return match.group(1).decode()

    def ask(self, port: int, token: str) -> tuple[float, float, str]:
        """The exercise's prompt to the assistant: ms to the first text, ms to the end, the text."""
        body = json.dumps({"purpose": "exercise", "exercise_id": EXERCISE, "prompt": PROMPT})
        began = time.perf_counter()
        response = self.send(port, "POST", f"/t/{token}/ai/chat", body,
                             {"Content-Type": "application/json", "Accept": "text/event-stream"})
        if response.status != 200:
            raise Failed(f"ai/chat: HTTP {response.status} {response.read()[:120]!r}")
        first, event, text = None, "", []
        while True:
            line = response.readline()
            if not line:
                raise Failed(f"ai/chat: the stream was cut after {sum(map(len, text))} characters")
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if event == "delta":
                    first = first or time.perf_counter()
                    text.append(data["text"])
                elif event == "done":
                    ended = time.perf_counter()
                    response.read()  # the end of the chunked body: the connection is kept
                    if first is None:
                        raise Failed("ai/chat: done without any text")
                    return (first - began) * 1000, (ended - began) * 1000, "".join(text)
                elif event == "error":
                    raise Failed(f"ai/chat: error event {data.get('code')}")

    def acknowledge_notice(self, port: int, token: str) -> None:
        """"I understand" under the notice about the AI assistant, once per person and course."""
        response, data = self.fetch(port, "POST", f"/t/{token}/ai/notice")
        if response.status != 200:
            raise Failed(f"ai/notice: HTTP {response.status} {data[:120]!r}")

    def save_draft(self, port: int, token: str, answers: dict[str, str]) -> None:
        response, data = self.fetch(port, "PUT", f"/t/{token}/exercises/{EXERCISE}/draft",
                                    json.dumps({"answers": answers}), {"Content-Type": "application/json"})
        if response.status != 200 or b"saved_at" not in data:
            raise Failed(f"draft: HTTP {response.status} {data[:120]!r}")

    def roster(self, port: int, token: str) -> None:
        response, data = self.fetch(port, "GET", f"/t/{token}/grading", headers={"Accept": "text/html"})
        if response.status != 200 or ROSTER_PAGE not in data:
            raise Failed(f"roster: HTTP {response.status} {data[:120]!r}")


def launch_all(platform: Platform, people: list[tuple[Server, str, str, str]], timeout: float, *,
               acknowledge: bool = False) -> list[str | Exception]:
    """Launch each (server, sub, name, role), LAUNCHERS at a time: their tokens, or what failed.
    With `acknowledge`, each then reads the notice about the AI assistant (their first use)."""
    def one(person):
        browser = Browser(timeout)
        try:
            token = browser.launch(platform, *person)
            if acknowledge:
                browser.acknowledge_notice(person[0].port, token)
            return token
        except Exception as exc:  # counted and listed by the caller
            return exc
        finally:
            browser.close()

    with ThreadPoolExecutor(LAUNCHERS) as pool:
        return list(pool.map(one, people))


# --- one burst -------------------------------------------------------------------------------


@dataclass
class Burst:
    """One configuration at one level: what the learners felt and what it cost."""

    first_words: list[float] = field(default_factory=list)  # ms beyond the stand-in's first-token delay
    answers: list[float] = field(default_factory=list)  # ms, from the prompt to the end of the answer
    pages: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # ms by kind
    errors: Counter = field(default_factory=Counter)
    rss_mb: float = 0.0  # the largest RSS of any worker at any sample
    # The largest PSS (its own pages, plus its share of those it shares with the master and the
    # other workers: what each worker costs the machine) and private memory (its own pages only).
    pss_mb: float = 0.0
    private_mb: float = 0.0
    threads: int = 0  # the most threads of any worker at any sample
    cpu: Counter = field(default_factory=Counter)  # seconds over the burst: worker, postgres, client, stand-in
    seconds: float = 0.0  # from the prompts to the last thread's end

    @property
    def all_pages(self) -> list[float]:
        return [ms for values in self.pages.values() for ms in values]


def worker_pids(server: Server) -> list[int]:
    try:
        with open(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children") as f:
            return [int(pid) for pid in f.read().split()]
    except OSError:
        return []


def sample_workers(config: Configuration, burst: Burst) -> None:
    """The largest RSS, PSS, private memory and thread count among the configuration's workers,
    into `burst`."""
    for server in config.instances:
        for pid in worker_pids(server):
            try:
                with open(f"/proc/{pid}/status") as f:
                    status = dict(line.split(":", 1) for line in f if ":" in line)
            except OSError:  # ended meanwhile
                continue
            burst.rss_mb = max(burst.rss_mb, int(status["VmRSS"].split()[0]) / 1024)
            burst.threads = max(burst.threads, int(status["Threads"]))
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    rollup = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f if ":" in line)
                              if v.strip().endswith("kB")}
            except OSError:
                continue
            burst.pss_mb = max(burst.pss_mb, rollup["Pss"] / 1024)
            burst.private_mb = max(burst.private_mb, (rollup["Private_Clean"] + rollup["Private_Dirty"]) / 1024)


def cpu_now(config: Configuration, stand_in: int) -> Counter:
    """CPU seconds so far: the configuration's workers, PostgreSQL, this process, the stand-in."""
    totals = Counter()
    for n, server in enumerate(config.instances):
        measured = cpu_seconds(server)
        totals["worker"] += measured["worker"]
        if n == 0:
            totals["postgres"], totals["client"] = measured["postgres"], measured["client"]
    with open(f"/proc/{stand_in}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    totals["stand-in"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return totals


def run_burst(config: Configuration, level: int, trainer: str, platform: Platform, stand_in: int, args) -> Burst:
    """The class launches (not timed), then all its learners ask at once while the page clients
    launch latecomers, save drafts and open the roster until the last answer has ended."""
    burst, lock = Burst(), threading.Lock()
    servers, count = config.instances, len(config.instances)
    # Learner i launches on instance i and asks and saves on the next one (the same one with one).
    tokens = launch_all(platform, [(servers[i % count], f"learner-{i:03d}", learner_name(i), "Learner")
                                   for i in range(level)], args.timeout)
    for exc in (t for t in tokens if isinstance(t, Exception)):
        burst.errors[f"launch before the prompt: {failure(exc)}"] += 1
    learners = [(i, token) for i, token in enumerate(tokens) if isinstance(token, str)]
    asking, done = [len(learners)], threading.Event()

    def page(kind: str, action) -> None:
        during, began = not done.is_set(), time.perf_counter()
        try:
            action()
        except Exception as exc:  # any failure is counted, never timed
            with lock:
                burst.errors[f"{kind}: {failure(exc)}"] += 1
            return
        if during:  # pages begun while answers were streaming
            with lock:
                burst.pages[kind].append((time.perf_counter() - began) * 1000)

    def learner(index: int, token: str) -> None:
        browser, server, text = Browser(args.timeout), servers[(index + 1) % count], ""
        time.sleep(max(0.0, start - time.monotonic()))
        try:
            first, whole, text = browser.ask(server.port, token)
            if text != ANSWER:
                raise Failed(f"ai/chat: the answer arrived altered ({len(text)} of {len(ANSWER)} characters)")
            with lock:
                burst.first_words.append(first - args.first_token_ms)
                burst.answers.append(whole)
        except Exception as exc:  # any failure is counted, never timed
            with lock:
                burst.errors[f"stream: {failure(exc)}"] += 1
        finally:
            with lock:
                asking[0] -= 1
                if asking[0] == 0:
                    done.set()
        page("draft", lambda: browser.save_draft(server.port, token, {"prompt": PROMPT, "answer": text}))
        browser.close()

    def page_client(index: int) -> None:
        browser, home, other = Browser(args.timeout), servers[index % count], servers[(index + 1) % count]
        time.sleep(max(0.0, start - time.monotonic()))
        for turn in itertools.count():
            sub, token = f"latecomer-{index:02d}-{turn % LATECOMERS}", []
            steps = (lambda: token.append(browser.launch(platform, home, sub, learner_name(900 + index))),
                     lambda: token and browser.save_draft(other.port, token[0], {"critique": f"Brouillon {turn}"}),
                     lambda: browser.roster(home.port, trainer))
            for kind, action in zip(("launch", "draft", "roster"), steps):
                if done.is_set():
                    browser.close()
                    return
                page(kind, action)
                done.wait(args.think)

    threads = [threading.Thread(target=learner, args=pair, daemon=True) for pair in learners]
    threads += [threading.Thread(target=page_client, args=(i,), daemon=True) for i in range(args.page_clients)]
    if not learners:
        done.set()
    before = cpu_now(config, stand_in)
    start = time.monotonic() + 0.3
    for thread in threads:
        thread.start()
    while not done.wait(0.5):
        sample_workers(config, burst)
    for thread in threads:
        thread.join()
    burst.seconds = time.monotonic() - start
    sample_workers(config, burst)
    burst.cpu = Counter({k: v - before[k] for k, v in cpu_now(config, stand_in).items()})
    return burst


# --- the report ------------------------------------------------------------------------------


def print_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    print(title)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(" | ".join(cell.rjust(w) for cell, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    print()


def print_report(results: dict[tuple[int, str], Burst], levels: list[int], configurations: list[Configuration], args):
    keys = [(level, config.name) for level in levels for config in configurations]
    p = lambda values, q: fmt(percentile(values, q), 0)  # noqa: E731
    print_table(f"What learners feel: first words = from the prompt to the first text, minus the model's own "
                f"{args.first_token_ms:g} ms; pages = launches, draft saves and rosters begun while answers streamed",
                ("streams", "configuration", "first words p50 ms", "p95 ms", "whole answer p95 s", "pages p50 ms",
                 "p95 ms", "pages", "errors"),
                [(str(level), name, p(r.first_words, 0.5), p(r.first_words, 0.95),
                  fmt(percentile(r.answers, 0.95) / 1000), p(r.all_pages, 0.5), p(r.all_pages, 0.95),
                  str(len(r.all_pages)), str(sum(r.errors.values())))
                 for (level, name), r in ((k, results[k]) for k in keys)])
    print_table("Pages by kind during the streams: p50 / p95 ms (count)",
                ("streams", "configuration", "launch", "draft save", "roster"),
                [(str(level), name, *(f"{p(r.pages[kind], 0.5)} / {p(r.pages[kind], 0.95)} ({len(r.pages[kind])})"
                                      for kind in ("launch", "draft", "roster")))
                 for (level, name), r in ((k, results[k]) for k in keys)])
    print_table("What it cost over the burst (from the prompts to the last draft): RSS of the largest worker, "
                "CPU seconds (cores = seconds / burst)",
                ("streams", "configuration", "RSS/worker max MB", "PSS", "private", "threads/worker max",
                 "workers CPU s", "cores",
                 "PostgreSQL CPU s", "client CPU s", "stand-in CPU s", "burst s"),
                [(str(level), name, fmt(r.rss_mb, 0), fmt(r.pss_mb, 0), fmt(r.private_mb, 0), str(r.threads),
                  fmt(r.cpu["worker"]),
                  fmt(r.cpu["worker"] / r.seconds, 2), fmt(r.cpu["postgres"]), fmt(r.cpu["client"]),
                  fmt(r.cpu["stand-in"]), fmt(r.seconds))
                 for (level, name), r in ((k, results[k]) for k in keys)])
    level = max(levels)
    for config in configurations:
        r = results[(level, config.name)]
        checks = [("0 errors", not r.errors), ("first words p95 < 500 ms", percentile(r.first_words, 0.95) < 500),
                  ("pages p95 < 300 ms", percentile(r.all_pages, 0.95) < 300), ("RSS/worker < 150 MB", r.rss_mb < 150),
                  ("PSS/worker < 150 MB", r.pss_mb < 150)]
        print(f"goals at {level} streams, {config.name}: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}"
                                                                        for name, ok in checks))


# --- the run ---------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="30,100,200", help="learners asking at once, per level (30,100,200)")
    parser.add_argument("--first-token-ms", type=float, default=800.0, help="the stand-in's first token (800 ms)")
    parser.add_argument("--chunk-ms", type=float, default=180.0, help="the stand-in's pace between chunks (180 ms)")
    parser.add_argument("--chunks", type=int, default=40, help="chunks the answer is streamed in (40)")
    parser.add_argument("--page-clients", type=int, default=3,
                        help="clients launching, saving drafts and opening the roster during the streams (3)")
    parser.add_argument("--think", type=float, default=0.5, help="seconds between a page client's pages (0.5)")
    parser.add_argument("--instances", type=int, default=1, choices=(1, 2),
                        help="gunicorns per configuration, sharing its database and Redis (1)")
    parser.add_argument("--compare-env", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="environment of the second configuration, e.g. GUNICORN_THREADS=64")
    parser.add_argument("--compare-gunicorn", default=None, metavar="ARGS",
                        help='gunicorn options of the second configuration, over its gunicorn.conf.py, e.g. '
                             '"--threads 64" (the default when no --compare option is given)')
    parser.add_argument("--compare-tree", type=Path, metavar="DIR",
                        help="the second configuration runs another checkout of this project (its own database)")
    parser.add_argument("--no-compare", action="store_true", help="today's configuration only")
    parser.add_argument("--timeout", type=float, default=300.0, help="a client's socket timeout, seconds (300)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="Redis of every instance")
    parser.add_argument("--database", default="bench_classroom",
                        help="today's database, created and dropped (the second configuration's: + _compare)")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the databases at the end")
    args = parser.parse_args(argv)
    try:
        args.streams = [int(x) for x in args.streams.split(",") if x.strip()]
    except ValueError:
        args.streams = []
    if not args.streams or min(args.streams) < 1 or len(set(args.streams)) < len(args.streams):
        parser.error("--streams: positive whole numbers, each once, e.g. 30,100,200")
    if args.chunks < 1 or args.page_clients < 0 or args.think < 0:
        parser.error("--chunks must be positive, --page-clients and --think not negative")
    if any("=" not in item for item in args.compare_env):
        parser.error("--compare-env: KEY=VALUE")
    args.compare_env = [item.split("=", 1) for item in args.compare_env]
    if args.compare_gunicorn is None:
        args.compare_gunicorn = "" if (args.compare_env or args.compare_tree) else "--threads 64"
    if args.compare_tree:
        args.compare_tree = args.compare_tree.resolve()
        if not (args.compare_tree / "wsgi.py").is_file() or not (args.compare_tree / "gunicorn.conf.py").is_file():
            parser.error(f"--compare-tree: {args.compare_tree} is not a checkout of this project")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    admin_url = f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/postgres"
    platform = Platform()
    configurations = make_configurations(args)
    servers = [server for config in configurations for server in config.instances]
    stand_in = subprocess.Popen([sys.executable, __file__, "--serve-llm", str(args.first_token_ms / 1000),
                                 str(args.chunk_ms / 1000), str(args.chunks)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def cleanup() -> None:
        for server in servers:
            server.stop()
        stand_in.stdin.close()
        stand_in.wait(timeout=10)
        platform.close()
        try:
            if not args.keep_db:
                with psycopg.connect(admin_url, autocommit=True) as conn:
                    for config in configurations:
                        conn.execute(f'DROP DATABASE IF EXISTS "{config.database}" WITH (FORCE)')
            client = redis.Redis.from_url(args.redis_url)
            keys = list(client.scan_iter(REDIS_PREFIX + "*", count=1000))
            for begin in range(0, len(keys), 1000):
                client.delete(*keys[begin:begin + 1000])
        except Exception as exc:  # say so: the rest is cleaned up already
            print(f"could not clean up: {exc}", file=sys.stderr)

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    atexit.register(lambda: [s.stop() for s in servers])  # last resort: never leave a gunicorn behind

    log_dir = Path(tempfile.mkdtemp(prefix="bench-classroom-"))
    try:
        llm_url = f"http://{HOST}:{stand_in.stdout.readline().strip()}"
        for config in configurations:
            prepare(config, platform, admin_url, llm_url)
            for server in config.instances:
                server.start(config.argv(server), log_dir)

        trainers, people = {}, []
        for config in configurations:  # untimed: everyone's first launch (and the notice about the assistant
            # read, as before a first use), so that the bursts see returning learners
            count = len(config.instances)
            people = [(config.instances[i % count], f"learner-{i:03d}", learner_name(i), "Learner")
                      for i in range(max(args.streams))]
            people += [(config.instances[c % count], f"latecomer-{c:02d}-{n}", learner_name(900 + c), "Learner")
                       for c in range(args.page_clients) for n in range(LATECOMERS)]
            people.append((config.instances[0], "trainer-1", "Alex Dupont", "Instructor"))
            tokens = launch_all(platform, people, args.timeout, acknowledge=True)
            failures = [t for t in tokens if isinstance(t, Exception)]
            if failures:
                raise RuntimeError(f"{config.name}: {len(failures)} first launches failed, e.g. {failure(failures[0])}")
            trainers[config.name] = tokens[-1]
            print(f"{config.name}: {config.describe()}; worker processes: "
                  f"{', '.join(str(len(worker_pids(s))) for s in config.instances)}")
        chunks = len(FakeChatServer(answer=ANSWER, chunks=args.chunks).split(ANSWER))
        pace = (f"first token after {args.first_token_ms:g} ms, then a chunk every {args.chunk_ms:g} ms "
                f"({(args.first_token_ms + (chunks - 1) * args.chunk_ms) / 1000:.1f} s)")
        print(f"stand-in: {len(ANSWER)} characters in {chunks} chunks, {pace}; {args.page_clients} page clients, "
              f"{args.think:g} s apart; {os.cpu_count()} CPUs, clients in this process; Redis {args.redis_url}; "
              f"logs in {log_dir}")

        for config in configurations:  # not counted: a worker's first answers load the SDK and warm its caches
            run_burst(config, WARM_UP_STREAMS, trainers[config.name], platform, stand_in.pid, args)
        results = {}
        for n, level in enumerate(args.streams):
            for config in configurations if n % 2 == 0 else configurations[::-1]:
                burst = results[(level, config.name)] = run_burst(config, level, trainers[config.name], platform,
                                                                  stand_in.pid, args)
                print(f"  {level} streams, {config.name}: first words p95 "
                      f"{fmt(percentile(burst.first_words, 0.95), 0)} ms, pages p95 "
                      f"{fmt(percentile(burst.all_pages, 0.95), 0)} ms, {sum(burst.errors.values())} errors, "
                      f"{burst.seconds:.1f} s", flush=True)
        print()
        print_report(results, args.streams, configurations, args)

        return exit_status({f"{level} streams, {name}": burst.errors for (level, name), burst in results.items()},
                           servers)
    finally:
        cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-llm"]:
        serve_llm(float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    else:
        try:
            sys.exit(main())
        except KeyboardInterrupt:
            sys.exit(130)
