"""Grade passback throughput: 1,000 grades through the outbox to a local AGS platform.

This script plays Moodle's service side on 127.0.0.1 (a threaded HTTP/1.1 server): the OAuth 2
token endpoint (verifies the tool's RS256 client assertion against the tool's JWKS, issues bearer
tokens) and the scores endpoint of one line item (Moodle's rules: bearer token with the score
scope, score media type, 409 for a timestamp not later than the user's last, 400 for a user who is
not an enrolled learner). The tool runs in-process on a fresh database (SQLite file by default,
PostgreSQL with --database-url): 1,000 learners, one trainer grade each, enqueued in one
transaction, then drained by the outbox worker (`drain` in a loop, as `flask lti-tool worker`).

Two runs: every answer 200, then 30 % of score answers 503 (the score not recorded). Printed per
run: grades/s (first claim to last acceptance), token requests, HTTP requests and 503s, grades
that failed after the last attempt (then resent with `retry_failed`, the trainer's button) and
grades lost (enqueued but never accepted): must be 0.

    .venv/bin/python bench/passback.py                  # or: make bench-passback
    .venv/bin/python bench/passback.py --grades 300 --fault-rate 0.5
    .venv/bin/python bench/passback.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_passback --workers 2

Retries back off exponentially from --backoff-base (default 0.05 s here instead of the product's
30 s, so that a run takes seconds); the retry policy is otherwise the product's (6 attempts).
Exit status 1 if any grade was lost or accepted twice.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


class AgsPlatform:
    """Token endpoint + one line item's scores endpoint, with an injected 503 rate."""

    def __init__(self, tool_jwks: dict, fault_rate: float, seed: int = 1, latency: float = 0.0) -> None:
        self.latency = latency
        self.keys = {k["kid"]: jwt.PyJWK(k) for k in tool_jwks["keys"]}
        self.fault_rate = fault_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.tokens: dict[str, float] = {}
        self.last_stamp: dict[str, int] = {}
        self.learners: set[str] = set()
        self.accepted: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.jtis: set[str] = set()
        self.server = ThreadingHTTPServer((HOST, 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://{HOST}:{self.server.server_address[1]}"
        self.issuer = self.base
        self.token_url = self.base + "/mod/lti/token.php"
        self.lineitems_url = self.base + "/mod/lti/services.php/2/lineitems?type_id=1"
        self.lineitem_url = self.base + "/mod/lti/services.php/2/lineitems/1/lineitem?type_id=1"
        threading.Thread(target=self.server.serve_forever, name="ags", daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(self, form: dict[str, str]) -> tuple[int, dict]:
        self.counts["token"] += 1
        assertion = form.get("client_assertion", "")
        try:
            key = self.keys[jwt.get_unverified_header(assertion)["kid"]]
            claims = jwt.decode(assertion, key.key, algorithms=["RS256"], audience=self.token_url)
        except (jwt.PyJWTError, KeyError) as exc:
            return 401, {"error": "invalid_client", "detail": str(exc)}
        with self.lock:
            if claims["jti"] in self.jtis or claims["iss"] != claims["sub"]:
                return 400, {"error": "invalid_grant"}
            self.jtis.add(claims["jti"])
            token = uuid.uuid4().hex
            self.tokens[token] = time.time() + 3600
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": form.get("scope", "")}

    def score(self, headers, body: bytes) -> tuple[int, dict | None]:
        self.counts["scores"] += 1
        if self.latency:
            time.sleep(self.latency)  # Moodle's PHP bootstrap and gradebook update
        auth = headers.get("Authorization", "")
        if self.tokens.get(auth[7:], 0) <= time.time():
            return 401, {"reason": "invalid token"}
        if headers.get("Content-Type") != SCORE_TYPE:
            return 415, None
        with self.lock:
            if self.rng.random() < self.fault_rate:
                self.counts["503"] += 1
                return 503, {"reason": "injected"}
        score = json.loads(body)
        if score.get("userId") not in self.learners or "scoreMaximum" not in score:
            return 400, {"reason": "Incorrect score received"}
        stamp = int(datetime.fromisoformat(score["timestamp"]).timestamp())
        with self.lock:
            if self.last_stamp.get(score["userId"], -1) >= stamp:
                self.counts["409"] += 1
                return 409, None
            self.last_stamp[score["userId"]] = stamp
            self.accepted[score["userId"]] += 1
        return 200, None

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real Moodle behind nginx
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                if path == "/mod/lti/token.php":
                    status, answer = platform.token({k: v[0] for k, v in parse_qs(body.decode()).items()})
                elif path.endswith("/lineitems/1/lineitem/scores"):
                    status, answer = platform.score(self.headers, body)
                else:
                    status, answer = 404, None
                payload = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def build_app(database_url: str):
    os.environ.setdefault("SECRET_KEY", "bench-passback-secret")
    from flask_migrate import upgrade

    from lti_tool import create_app
    from lti_tool.common.store import MemoryStore
    from lti_tool.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, DEMO_PLATFORM=False, OUTBOX_THREAD=False,
                     LTI_STORE=MemoryStore())
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def tool_jwks(app) -> dict:
    from lti_tool.extensions import db
    from lti_tool.lti.keys import public_jwks

    with app.app_context():
        keys = public_jwks()
        db.session.commit()
        return keys


def enqueue_grades(app, platform: AgsPlatform, grades: int) -> float:
    """Register the platform, open one trainer launch, enqueue `grades` grades (one per learner)."""
    from lti_tool.extensions import db
    from lti_tool.gradebook.services import enqueue_score
    from lti_tool.lti.models import LtiUser
    from lti_tool.lti.services import PlatformSpec, open_launch_session, save_platform

    with app.app_context():
        record = save_platform(PlatformSpec(
            issuer=platform.issuer, client_id="bench-client", deployment_ids=("d1",),
            auth_login_url=platform.base + "/mod/lti/auth.php", auth_token_url=platform.token_url,
            key_set_url=platform.base + "/mod/lti/certs.php", name="bench", method="manual"))
        claims = {
            "sub": "trainer-1", "name": "Alex Dupont", CLAIM + "deployment_id": "d1",
            CLAIM + "message_type": "LtiResourceLinkRequest", CLAIM + "roles": [
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
            CLAIM + "context": {"id": "course-2", "title": "Bench"},
            CLAIM + "resource_link": {"id": "link-1", "title": "Module 1"},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": [AGS + "lineitem", AGS + "score"], "lineitems": platform.lineitems_url,
                "lineitem": platform.lineitem_url},
        }
        launch = open_launch_session(record.id, claims, "fr", 3600).session
        learners = [LtiUser(platform_id=record.id, sub=f"learner-{n}", name=f"Learner {n}") for n in range(grades)]
        db.session.add_all(learners)
        db.session.flush()
        platform.learners = {u.sub for u in learners}
        started = time.perf_counter()
        for n, learner in enumerate(learners):
            enqueue_score(db.session, link=launch.resource_link, user=learner, kind="grade",
                          score_given=n % 21, score_maximum=20, comment="Bench grade", launch=launch)
        db.session.commit()
        return time.perf_counter() - started


def drain_all(app, workers: int, backoff_base: float, poll: float = 0.01) -> dict:
    """Workers drain until nothing waits; failed rows are resent once everything settled."""
    from sqlalchemy import func, select

    from lti_tool.extensions import db
    from lti_tool.gradebook.delivery import Sender, drain
    from lti_tool.gradebook.models import FAILED, PENDING, SENDING, ScoreOutbox
    from lti_tool.gradebook.services import retry_failed

    totals: Counter[str] = Counter()
    lock = threading.Lock()
    token_requests = []

    def waiting() -> int:
        return db.session.execute(select(func.count()).select_from(ScoreOutbox)
                                  .where(ScoreOutbox.status.in_((PENDING, SENDING)))).scalar_one()

    def work(seed: int) -> None:
        with app.app_context():
            sender = Sender.for_app(backoff_base=backoff_base, rng=random.Random(seed))
            while True:
                report = drain(batch=50, sender=sender)
                with lock:
                    for name in ("sent", "retried", "failed", "not_gradable", "superseded", "lease_lost"):
                        totals[name] += getattr(report, name)
                if report.claimed == 0:
                    if not waiting():
                        break
                    time.sleep(poll)
            token_requests.append(sender.tokens.requests_made)

    started = time.perf_counter()
    resent = 0
    for _ in range(10):
        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with app.app_context():
            failed = list(db.session.execute(select(ScoreOutbox.id, ScoreOutbox.resource_link_pk)
                                             .where(ScoreOutbox.status == FAILED)).all())
            for row_id, link_pk in failed:  # the trainer presses "send again"
                retry_failed(row_id, link_pk=link_pk)
            db.session.commit()
        if not failed:
            break
        resent += len(failed)
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "totals": totals, "resent": resent, "token_requests": sum(token_requests)}


def run(label: str, fault_rate: float, args) -> bool:
    tmp = None
    url = args.database_url
    if not url:
        tmp = tempfile.mkdtemp(prefix="bench-passback-")
        url = f"sqlite:///{tmp}/passback.sqlite3"
    app = build_app(url)
    platform = AgsPlatform(tool_jwks(app), fault_rate, latency=args.latency)
    try:
        enqueue_time = enqueue_grades(app, platform, args.grades)
        result = drain_all(app, args.workers, args.backoff_base)
    finally:
        platform.close()
        app.extensions["lti_http"].close()
    with app.app_context():
        from lti_tool.extensions import db

        db.engine.dispose()
    accepted = platform.accepted
    lost = args.grades - len(accepted)
    twice = sum(1 for c in accepted.values() if c > 1)
    totals = result["totals"]
    print(f"\n[{label}] {args.grades} grades, {args.workers} worker(s), {url.split(':')[0]}, "
          f"{args.latency * 1000:.0f} ms per score, {platform.counts['scores']} score requests "
          f"({platform.counts['503']} answered 503, {platform.counts['409']} 409)")
    print(f"  enqueue (one transaction): {enqueue_time:.2f} s")
    print(f"  delivery: {result['elapsed']:.2f} s -> {args.grades / result['elapsed']:.0f} grades/s")
    print(f"  token requests: {platform.counts['token']} (client-side count {result['token_requests']})")
    print(f"  retries scheduled: {totals['retried']}, failed after 6 attempts then resent: {result['resent']}")
    print(f"  grades lost: {lost}, grades accepted twice: {twice}")
    return lost == 0 and twice == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grades", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.3, help="share of 503 answers in the second run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--backoff-base", type=float, default=0.05, help="seconds (the product uses 30)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the platform takes per score (a real Moodle: ~0.05-0.2)")
    args = parser.parse_args()
    if args.workers > 1 and not (args.database_url or "").startswith("postgresql"):
        parser.error("several workers need PostgreSQL (--database-url): SQLite has no SKIP LOCKED")
    ok = run("all 200", 0.0, args)
    ok = run(f"{args.fault_rate:.0%} 503", args.fault_rate, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
