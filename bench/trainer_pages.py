"""The trainer's pages at class size: p50/p95 of each page, and the exports of a large course.

A trainer grades thirty apprentices on a Friday afternoon, one page after the other. This bench
seeds a course with `flask lti-tool seed-demo-class` (the demo platform: its roster, NRPS, lists
the class; its gradebook takes the grades) in a fresh PostgreSQL database, runs the tool under
gunicorn with its tree's gunicorn.conf.py as shipped, and opens each trainer page --requests
times in a row (after --warm-up requests not counted), as one trainer's browser does:

- the class: --learners (40) x --activities (15) x up to --versions (3) submitted versions each:
  the landing (the activity page with the summary's slot), the summary, the roster, the roster
  filtered on work to grade, one learner's grading page, the follow-up list, one record, and the
  exports `overview.csv` and `follow-up.csv`;
- a large course: --export-learners (2,000) x --activities x 1 version, in a second database:
  `overview.csv` and `follow-up.csv` (--export-requests times), and the same pages, for the record.

The roster (NRPS) is cached a minute per worker, as in production: the first request of each
worker asks the demo platform (the same gunicorn) for it, over HTTP. Printed: p50 / p95 / max in
ms per page, the response size, the machine's load average before and after, and the time each
seeding took. Goals (README): each page p95 under 200 ms for the class, each export under 2 s
for the large course.

    .venv/bin/python bench/trainer_pages.py                  # or: make bench-trainer-pages
    .venv/bin/python bench/trainer_pages.py --requests 50 --export-learners 500

Exit status: 0 when every request answered 200; 1 otherwise.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.launch import HOST, Server, percentile  # noqa: E402 (after the path above)

UNSET = ("LTI_TOOL_ENV", "DATABASE_URL", "REDIS_URL", "TOOL_BASE_URL", "DEMO_PLATFORM", "DEMO_PLATFORM_URL",
         "SECRET_KEY", "BEHIND_PROXY", "FLASK_APP", "PYTHONPATH")
TOKEN_URL = re.compile(r"(/t/[A-Za-z0-9_-]+/)$", re.M)


def seed(server: Server, admin_url: str, learners: int, activities: int, versions: int,
         reuse: bool = False) -> tuple[str, float]:
    """A fresh database with the class seeded (`reuse`: the database as it is, seeded earlier by
    the same command); (the trainer's token path, seconds the seeding took)."""
    if not reuse:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{server.database}"')
    started = time.monotonic()
    for command in (["db", "upgrade"], ["lti-tool", "seed-demo-class", "--learners", str(learners),
                                        "--activities", str(activities), "--versions", str(versions)]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=ROOT, env=server.env,
                              capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(command[:2])} failed:\n{done.stdout}\n{done.stderr}")
    print("  " + done.stdout.strip().splitlines()[0], flush=True)
    return TOKEN_URL.search(done.stdout).group(1), time.monotonic() - started


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    return response.status, body, time.perf_counter() - started


def measure(server: Server, pages: dict[str, str], requests: int, warm_up: int) -> list[tuple[str, list[float], int, int]]:
    """[(page, seconds of each request, bytes of the last answer, failures)]."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=120)
    results = []
    for name, path in pages.items():
        times, failures, size = [], 0, 0
        for number in range(warm_up + requests):
            status, body, took = get(conn, path)
            if status != 200:
                failures += 1
                print(f"  {name}: {status} {body[:200]!r}", flush=True)
            if number >= warm_up:
                times.append(took)
            size = len(body)
        results.append((name, times, size, failures))
        print(f"  {name}: done", flush=True)
    conn.close()
    return results


def class_pages(server: Server, token: str) -> dict[str, str]:
    """The trainer's pages of the seeded course, a learner with work picked from the roster."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=120)
    _status, roster, _took = get(conn, token + "grading")
    conn.close()
    learner = re.search(rb'href="/t/[^/]+/grading/(\d+)"', roster).group(1).decode()
    return {"landing (activity page)": token, "summary": token + "grading/summary", "roster": token + "grading",
            "roster, to grade": token + "grading?status=submitted", "grading one learner": token + f"grading/{learner}",
            "follow-up list": token + "follow-up", "one record": token + f"follow-up/{learner}",
            "overview.csv": token + "overview.csv", "follow-up.csv": token + "follow-up.csv"}


def print_results(title: str, results, requests: int) -> None:
    print(f"\n{title} ({requests} requests each, one after the other)")
    print(f"{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'KiB':>9}  errors")
    for name, times, size, failures in results:
        ms = sorted(t * 1000 for t in times)
        print(f"{name:<26}{percentile(ms, 0.5):>9.0f}{percentile(ms, 0.95):>9.0f}{ms[-1]:>9.0f}{size / 1024:>9.0f}"
              f"  {failures}")


def run(args, name: str, learners: int, versions: int, requests: int, only: tuple[str, ...] | None,
        log_dir: Path, servers: list[Server], reuse: str | None = None, port: int | None = None) -> list:
    server = Server(name, ROOT, "wsgi:app", redis_url=None, redis_prefix="", database=reuse or f"{args.database}_{name}")
    if port:
        server.port = port  # the demo platform's issuer names its address: a reused database keeps it
    common = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("GUNICORN_")}
    server.env = common | {
        "LTI_TOOL_ENV": "development",  # production refuses an http:// TOOL_BASE_URL
        "DEMO_PLATFORM": "1", "OUTBOX_THREAD": "0", "SECRET_KEY": uuid.uuid4().hex,
        "TOOL_BASE_URL": server.base, "DEMO_PLATFORM_URL": server.base,
        "DATABASE_URL": f"postgresql+psycopg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{server.database}",
    }
    print(f"\nSeeding {learners} learners x {args.activities} activities x up to {versions} versions…", flush=True)
    token, took = seed(server, args.admin_url, learners, args.activities, versions, reuse=bool(reuse))
    print(f"  seeded in {took:.0f} s", flush=True)
    servers.append(server)
    server.start([sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
                  "--bind", f"{HOST}:{server.port}", "--log-level", "warning", "wsgi:app"], log_dir)
    try:
        pages = class_pages(server, token)
        if only:
            pages = {page: path for page, path in pages.items() if page in only}
        return measure(server, pages, requests, args.warm_up)
    finally:
        server.stop()
        if not args.keep and not reuse:
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{server.database}" WITH (FORCE)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=40, help="the class (40; 0: skip it)")
    parser.add_argument("--activities", type=int, default=15)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30, help="requests per page (30)")
    parser.add_argument("--warm-up", type=int, default=3, help="requests per page not counted (3)")
    parser.add_argument("--export-learners", type=int, default=2000, help="the large course (2,000; 0: skip it)")
    parser.add_argument("--export-requests", type=int, default=5, help="requests per page of the large course (5)")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--database", default="bench_trainer_pages")
    parser.add_argument("--keep", action="store_true", help="keep the databases (to look at them)")
    parser.add_argument("--reuse-large", metavar="DATABASE", default=None,
                        help="the large course from this database, seeded earlier by `seed-demo-class` (kept)")
    parser.add_argument("--large-port", type=int, default=None,
                        help="with --reuse-large: the port its demo platform was seeded with (e.g. 5000)")
    args = parser.parse_args(argv)
    args.admin_url = f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/postgres"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    servers: list[Server] = []
    atexit.register(lambda: [s.stop() for s in servers])  # never leave a gunicorn behind
    log_dir = Path(tempfile.mkdtemp(prefix="bench-trainer-"))
    load_before = os.getloadavg()
    print(f"Load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
          f"({os.cpu_count()} CPUs); gunicorn.conf.py as shipped, PostgreSQL {args.pg_host}:{args.pg_port}")
    failures = 0
    if args.learners:
        results = run(args, "class", args.learners, args.versions, args.requests, None, log_dir, servers)
        print_results(f"A class of {args.learners} learners x {args.activities} activities x up to {args.versions} "
                      "versions", results, args.requests)
        failures += sum(r[3] for r in results)
    if args.export_learners:
        large = run(args, "large", args.export_learners, 1, args.export_requests, None, log_dir, servers,
                    reuse=args.reuse_large, port=args.large_port)
        print_results(f"A course of {args.export_learners} learners x {args.activities} activities x 1 version",
                      large, args.export_requests)
        failures += sum(r[3] for r in large)
    load_after = os.getloadavg()
    print(f"\nLoad average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; logs in {log_dir}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
