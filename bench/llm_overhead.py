"""What the tool adds to a streamed LLM answer: time to first token and total time through the
tool's streaming endpoint vs a direct `openai` SDK call to the same OpenAI-compatible server.

Three processes on 127.0.0.1, so that none waits for another's interpreter lock:
- the fake OpenAI-compatible chat server of the tests (tests/llm_fake_servers.py), streaming an
  answer of about 40 words in chunks;
- the tool (TestConfig settings, a SQLite file, Werkzeug's threaded server), its centre set to the
  `openai` provider pointed at that server — the whole path: launch token, AI policy, quotas
  (on, set high), privacy guard with the course's names, the SDK, names restored in the stream,
  the AI log row;
- this process, the client: per round one request through the tool (SSE over a kept-alive HTTP
  connection) and one direct SDK call (`openai.OpenAI(base_url=…).chat.completions.create(
  stream=True)`), in alternating order, as these machines' CPU speed drifts within seconds.

Time to first token: from sending the request to the first text delta. Total: to the end of the
answer (the tool's `done` event; the SDK stream exhausted). Overhead = tool − direct at p50/p95.
The privacy guard's own timing (bench/privacy_guard.py, a 4,000-character prompt) is reported too.

    .venv/bin/python bench/llm_overhead.py                # 200 requests each way
    .venv/bin/python bench/llm_overhead.py --requests 500 --chunk-delay 0.005

Exit status: 0, or 2 with --strict when a target is missed (overhead p50 < 15 ms, guard < 2 ms).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
OVERHEAD_TARGET_MS = 15.0
GUARD_TARGET_MS = 2.0
EXERCISE = "m1.t4.e1"
ANSWER = ("Trois niveaux pour le même sujet : pour un débutant, partez d'un exemple concret du métier ; "
          "pour un apprenti qui a les bases, proposez un exercice guidé avec une grille de critères ; "
          "pour un apprenti avancé, confiez-lui un cas réel à analyser puis à présenter à l'équipe, "
          "et prévoyez un point d'étape.")
PROMPT = ("Explique la gestion des stocks à trois niveaux : débutant, intermédiaire et avancé. Mon apprentie "
          "Camille Martin commence lundi au magasin ; donne des exemples concrets.")


# --- child processes -----------------------------------------------------------------------------


def serve_chat(chunk_delay: float) -> None:
    """Child: the fake chat server; prints its port, serves until stdin closes."""
    from tests.llm_fake_servers import FakeChatServer

    with FakeChatServer(answer=ANSWER, chunk_delay=chunk_delay, record=False, tokens_in=80, tokens_out=60) as server:
        print(server.port, flush=True)
        sys.stdin.read()


def serve_tool(database_url: str, port: int) -> None:
    """Child: the tool on Werkzeug's threaded server; prints "ready", serves until stdin closes."""
    import socket
    import threading

    from werkzeug.serving import WSGIRequestHandler, make_server

    from lti_tool import create_app

    class Quiet(WSGIRequestHandler):
        def setup(self) -> None:
            super().setup()
            # As gunicorn does: small writes (one event each) go out at once, not after an ACK.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_request(self, *args, **kwargs) -> None:
            pass

    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, TOOL_BASE_URL=f"http://{HOST}:{port}")
    server = make_server(HOST, port, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
    server.shutdown()


def start(args: list[str]) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, cwd=ROOT)
    line = process.stdout.readline().strip()
    if not line:
        process.kill()
        raise RuntimeError(f"{args[0]} did not start")
    return process, line


def stop(process: subprocess.Popen) -> None:
    try:
        process.stdin.close()
        process.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()


# --- set-up --------------------------------------------------------------------------------------


def prepare(database_url: str, chat_url: str) -> str:
    """Migrate the database, register a platform, open a learner's launch session on an AI
    exercise and point the centre at the chat server. Returns the launch URL path (/t/<token>/)."""
    from flask_migrate import upgrade

    from lti_tool import create_app
    from lti_tool.activities.services import bind
    from lti_tool.extensions import db
    from lti_tool.llm.centre import ConfigChange, save_config
    from lti_tool.lti.services import PlatformSpec, open_launch_session, save_platform

    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade()
        platform = save_platform(PlatformSpec(
            issuer="https://moodle.bench", client_id="bench", deployment_ids=("d1",),
            auth_login_url="https://moodle.bench/auth", auth_token_url="https://moodle.bench/token",
            key_set_url="https://moodle.bench/jwks", name="Bench", method="manual"))
        roster = [("trainer-1", "Alex Dupont", LIS + "Instructor")] + [
            (f"learner-{i}", f"Apprenti{i} Nom{i}", LIS + "Learner") for i in range(2, 31)]
        for sub, name, role in roster:  # the course's roster: names the guard must know
            open_launch_session(platform.id, _claims(sub, name, role), "fr", 3600)
        opened = open_launch_session(platform.id, _claims("learner-1", "Camille Martin", LIS + "Learner"), "fr",
                                     8 * 3600)
        bind(opened.session.resource_link, EXERCISE, "deep_linking")
        save_config(platform.id, None, ConfigChange(
            provider="openai", model="bench-model", base_url=chat_url + "/v1", api_key="sk-bench-key-0000",
            confirm_eu=True, quota_learner_daily_calls=1_000_000, quota_learner_daily_tokens=1_000_000_000,
            quota_centre_monthly_calls=1_000_000, quota_centre_monthly_tokens=1_000_000_000))
        db.session.commit()
        db.engine.dispose()
    return f"/t/{opened.token}/"


def _claims(sub: str, name: str, role: str) -> dict:
    claim = "https://purl.imsglobal.org/spec/lti/claim/"
    return {"sub": sub, "name": name, claim + "message_type": "LtiResourceLinkRequest",
            claim + "deployment_id": "d1", claim + "roles": [role],
            claim + "context": {"id": "course-101", "title": "BTS MCO"},
            claim + "resource_link": {"id": "link-ai", "title": "IA"}}


# --- the two clients -----------------------------------------------------------------------------


class ToolClient:
    """POST /t/<token>/ai/chat on a kept-alive connection; reads the event stream line by line."""

    def __init__(self, port: int, path: str) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.path = path + "ai/chat"
        self.body = json.dumps({"purpose": "exercise", "exercise_id": EXERCISE, "prompt": PROMPT}).encode()

    def run(self) -> tuple[float, float, str]:
        started = time.perf_counter()
        self.connection.request("POST", self.path, body=self.body, headers={
            "Content-Type": "application/json", "Accept": "text/event-stream"})
        response = self.connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"tool answered {response.status}: {response.read()[:300]!r}")
        first = None
        event, text = "", []
        while True:
            line = response.readline()
            if not line:
                raise RuntimeError("the stream ended without a done event")
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if event == "delta":
                    if first is None:
                        first = time.perf_counter()
                    text.append(data["text"])
                elif event == "done":
                    total = time.perf_counter()
                    response.read()  # the end of the chunked body: the connection is reused
                    return (first - started) * 1000, (total - started) * 1000, "".join(text)
                elif event == "error":
                    raise RuntimeError(f"tool error: {data}")


class DirectClient:
    """The same request with the SDK, straight to the chat server (what the tool does inside)."""

    def __init__(self, chat_url: str) -> None:
        import openai

        self.client = openai.OpenAI(base_url=chat_url + "/v1", api_key="sk-bench-key-0000", max_retries=0)

    def run(self) -> tuple[float, float, str]:
        started = time.perf_counter()
        stream = self.client.chat.completions.create(
            model="bench-model", messages=[{"role": "system", "content": "Tu es un assistant."},
                                           {"role": "user", "content": PROMPT}],
            stream=True, stream_options={"include_usage": True}, temperature=0.3, max_tokens=800)
        first, text = None, []
        for chunk in stream:
            for choice in chunk.choices:
                if choice.delta is not None and choice.delta.content:
                    if first is None:
                        first = time.perf_counter()
                    text.append(choice.delta.content)
        total = time.perf_counter()
        return (first - started) * 1000, (total - started) * 1000, "".join(text)


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--chunk-delay", type=float, default=0.002, help="seconds between streamed chunks")
    parser.add_argument("--guard-runs", type=int, default=500)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="llm-bench-"))
    database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    chat, chat_port = start(["--serve-chat", str(args.chunk_delay)])
    tool = None
    try:
        chat_url = f"http://{HOST}:{chat_port}"
        path = prepare(database_url, chat_url)
        import socket

        with socket.socket() as sock:
            sock.bind((HOST, 0))
            tool_port = sock.getsockname()[1]
        tool, _ = start(["--serve-tool", database_url, str(tool_port)])
        through_tool, direct = ToolClient(tool_port, path), DirectClient(chat_url)
        for _ in range(args.warmup):
            through_tool.run(), direct.run()
        results = {"tool": [], "direct": []}
        for index in range(args.requests):
            order = (("tool", through_tool), ("direct", direct))
            for name, client in (order if index % 2 == 0 else order[::-1]):
                ttft, total, text = client.run()
                if text != ANSWER:
                    raise RuntimeError(f"{name}: unexpected answer {text[:80]!r}")
                results[name].append((ttft, total))
    finally:
        if tool is not None:
            stop(tool)
        stop(chat)

    from bench.privacy_guard import measure

    guard = measure(args.guard_runs)
    print(f"LLM overhead: {args.requests} streamed requests each way, answer {len(ANSWER)} chars in "
          f"{len(ANSWER.split())} chunks, {args.chunk_delay * 1000:g} ms between chunks (SQLite, Werkzeug, "
          f"openai SDK)")
    print(f"  {'':<22} {'TTFT p50':>9} {'TTFT p95':>9} {'total p50':>10} {'total p95':>10}  (ms)")
    table = {}
    for name in ("direct", "tool"):
        ttft = percentiles([r[0] for r in results[name]])
        total = percentiles([r[1] for r in results[name]])
        table[name] = (*ttft, *total)
        label = "direct SDK call" if name == "direct" else "through the tool"
        print(f"  {label:<22} {ttft[0]:9.2f} {ttft[1]:9.2f} {total[0]:10.2f} {total[1]:10.2f}")
    overhead = [t - d for t, d in zip(table["tool"], table["direct"])]
    print(f"  {'overhead':<22} {overhead[0]:9.2f} {overhead[1]:9.2f} {overhead[2]:10.2f} {overhead[3]:10.2f}")
    paired = [t[0] - d[0] for t, d in zip(results["tool"], results["direct"])]
    print(f"  paired TTFT overhead per round: p50 {statistics.median(paired):.2f} ms")
    print(f"privacy guard (4,000-character prompt, {guard['known_names']} names): pseudonymise p50 "
          f"{guard['pseudonymise_p50_ms']:.3f} ms, p95 {guard['pseudonymise_p95_ms']:.3f} ms; restore p50 "
          f"{guard['restore_p50_ms']:.3f} ms; stream restore p50 {guard['stream_restore_p50_ms']:.3f} ms; "
          f"new guard p50 {guard['build_new_p50_ms']:.3f} ms")
    ok_overhead = overhead[0] < OVERHEAD_TARGET_MS and overhead[2] < OVERHEAD_TARGET_MS
    ok_guard = guard["pseudonymise_p50_ms"] < GUARD_TARGET_MS
    print(f"targets: overhead p50 < {OVERHEAD_TARGET_MS:g} ms (TTFT and total) → {'OK' if ok_overhead else 'MISSED'}; "
          f"guard < {GUARD_TARGET_MS:g} ms → {'OK' if ok_guard else 'MISSED'}")
    return 2 if args.strict and not (ok_overhead and ok_guard) else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-chat":
        serve_chat(float(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--serve-tool":
        serve_tool(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(main())
