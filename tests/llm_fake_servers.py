"""A local chat server that speaks OpenAI's and Mistral's chat completions APIs, with faults on cue.

The real SDK clients talk to it over HTTP, so the tests exercise the same code as production:
request building, SSE parsing, error classes, timeouts, dropped connections. It has no pytest
dependency, so a benchmark script can use it as well:

    from tests.llm_fake_servers import Fault, FakeChatServer

    with FakeChatServer(answer="Bonjour !", chunk_delay=0.01) as server:
        settings = ProviderSettings(provider="openai", model="m", api_key="k",
                                    base_url=server.openai_base_url, eu_confirmed=True)
        server.fail_next(Fault.http(503), Fault.http(429, retry_after=1))
        …
        server.request_count, server.requests[-1].body["messages"]

Both APIs use `POST /v1/chat/completions`; the server answers in the dialect of the client that
called (Mistral's SDK announces itself as speakeasy-sdk … mistralai), or the one it is given.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Dialect = Literal["openai", "mistral"]
CHAT_PATH = "/v1/chat/completions"
DEFAULT_ANSWER = "Voici une réponse de test, envoyée morceau par morceau."
_WORDS = re.compile(r"\S+\s*")

_ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "Invalid API key."),
    403: ("permission_error", "You are not allowed to use this model."),
    404: ("not_found_error", "The model does not exist."),
    422: ("invalid_request_error", "Unprocessable request."),
    429: ("rate_limit_error", "Rate limit reached, slow down."),
    500: ("server_error", "The server had an error while processing your request."),
    502: ("server_error", "Bad gateway."),
    503: ("service_unavailable", "The service is temporarily overloaded."),
}


@dataclass(frozen=True)
class Fault:
    """What goes wrong with the next request (one fault is used by one request)."""

    # Answer with this HTTP status and a JSON error body in the caller's dialect.
    status: int | None = None
    message: str | None = None
    code: str | None = None
    error_type: str | None = None
    retry_after: str | None = None
    # A Location header (with a 3xx status: a redirect the client must not follow).
    location: str | None = None
    # Seconds to wait before answering at all (longer than the client's timeout: a timeout).
    delay: float = 0.0
    # Close the connection after this many text chunks (0: before any answer byte).
    drop_after: int | None = None
    # Streaming: close the connection after the headers and the first (empty) chunk, before any text.
    drop_before_text: bool = False
    # Stop the answer with finish_reason "content_filter" (after the first text chunk).
    content_filter: bool = False

    @classmethod
    def http(
        cls,
        status: int,
        *,
        retry_after: float | str | None = None,
        message: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        location: str | None = None,
    ) -> Fault:
        return cls(
            status=status,
            message=message,
            code=code,
            error_type=error_type,
            retry_after=None if retry_after is None else str(retry_after),
            location=location,
        )

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(delay=seconds)

    @classmethod
    def drop(cls, after_chunks: int = 0) -> Fault:
        return cls(drop_after=after_chunks)

    @classmethod
    def cut_before_text(cls) -> Fault:
        """A stream that starts (HTTP 200, the role chunk) and is cut before any text."""
        return cls(drop_before_text=True)

    @classmethod
    def filtered(cls) -> Fault:
        """The answer is cut by the content filter (finish_reason "content_filter")."""
        return cls(content_filter=True)

    @classmethod
    def prompt_refused(cls) -> Fault:
        """The prompt is refused by moderation: a 400 whose error code says content_filter."""
        return cls(
            status=400,
            code="content_filter",
            message="The prompt was filtered by the content management policy.",
        )


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    # Header names in lower case.
    headers: dict[str, str]
    body: Any
    dialect: Dialect
    received_at: float = field(default_factory=time.monotonic)

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


class FakeChatServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) answering chat completions."""

    def __init__(
        self,
        *,
        answer: str = DEFAULT_ANSWER,
        chunks: int | None = None,
        chunk_delay: float = 0.0,
        first_token_delay: float = 0.0,
        api_key: str | None = None,
        model: str | None = None,
        tokens_in: int = 17,
        tokens_out: int = 9,
        dialect: Dialect | None = None,
        record: bool = True,
    ) -> None:
        self.answer = answer
        # Number of streamed text chunks (None: one per word).
        self.chunks = chunks
        self.chunk_delay = chunk_delay
        # Streaming: seconds between the role chunk and the first text chunk (the model's first token).
        self.first_token_delay = first_token_delay
        # When set, a request without "Authorization: Bearer <api_key>" gets a 401.
        self.api_key = api_key
        # The model the answers name (None: the one requested).
        self.model = model
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.dialect = dialect
        self.record = record
        # When set to an Event, a stream pauses before its text chunk number `hold_at` (0: before the
        # first words, 1: right after them) until the Event is set (`wait_held()` counts the streams
        # waiting there): answers kept open while a test looks around.
        self.hold: threading.Event | None = None
        self.hold_at = 1
        self._held = 0
        self._faults: deque[Fault] = deque()
        self._requests: list[ReceivedRequest] = []
        self._count = 0
        self._lock = threading.Lock()
        self._held_changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeChatServer:
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.chat = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # Wake handler threads waiting on a kept-alive connection.
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The server is not started.")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The `base_url` of an OpenAI client (the API root, with /v1)."""
        return f"{self.url}/v1"

    @property
    def mistral_server_url(self) -> str:
        """The `server_url` of a Mistral client (without /v1: the SDK adds it)."""
        return self.url

    # --- script and record ---------------------------------------------------------------------

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults: the next requests meet them in order, later ones are answered normally."""
        with self._lock:
            self._faults.extend(faults)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._count = 0

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._count

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def wait_held(self, count: int, timeout: float) -> bool:
        """Wait until `count` streams are paused by `hold` (False if they are not within `timeout`)."""
        with self._held_changed:
            return self._held_changed.wait_for(lambda: self._held >= count, timeout)

    def split(self, text: str) -> list[str]:
        """The streamed chunks of `text`."""
        if not self.chunks:
            return _WORDS.findall(text) or [text]
        size = max(1, -(-len(text) // self.chunks))
        return [text[i : i + size] for i in range(0, len(text), size)]

    # --- used by the handler -------------------------------------------------------------------

    def _received(self, request: ReceivedRequest) -> Fault | None:
        with self._lock:
            self._count += 1
            if self.record:
                self._requests.append(request)
            return self._faults.popleft() if self._faults else None

    def _track(self, connection: socket.socket, active: bool) -> None:
        with self._lock:
            if active:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _pause(self) -> bool:
        """Wait for `hold` to be set, if there is one, unless the server stops first (then False)."""
        hold = self.hold
        if hold is None:
            return True
        with self._held_changed:
            self._held += 1
            self._held_changed.notify_all()
        try:
            while not hold.wait(0.05):
                if self._stopping.is_set():
                    return False
            return True
        finally:
            with self._held_changed:
                self._held -= 1

    def _wait(self, seconds: float) -> bool:
        """Sleep, unless the server stops first (then False)."""
        return not self._stopping.wait(seconds) if seconds > 0 else True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A benchmark opens hundreds of streams at once (bench/classroom.py): none must wait for a SYN retry.
    request_queue_size = 1024
    chat: FakeChatServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, closed stream) is part of the script, not an error.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Small writes (headers, then each SSE chunk) must not wait for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.chat._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.chat._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        chat = self.server.chat
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        dialect = chat.dialect or _dialect_of(headers)
        path = self.path.split("?", 1)[0]
        fault = chat._received(ReceivedRequest("POST", path, headers, body, dialect))
        try:
            self._answer(chat, path, body, headers, dialect, fault or Fault())
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _answer(
        self,
        chat: FakeChatServer,
        path: str,
        body: Any,
        headers: dict[str, str],
        dialect: Dialect,
        fault: Fault,
    ) -> None:
        if not chat._wait(fault.delay):
            self.close_connection = True
            return
        if path != CHAT_PATH:
            self._error(dialect, Fault.http(404, message=f"No route {path}."))
            return
        if chat.api_key is not None and headers.get("authorization") != f"Bearer {chat.api_key}":
            # Like some real services, echo what was received: the client must not log it.
            sent = (headers.get("authorization") or "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {sent}."
            self._error(dialect, Fault.http(401, message=message, code="invalid_api_key"))
            return
        if fault.status is not None:
            self._error(dialect, fault)
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            status = 422 if dialect == "mistral" else 400
            self._error(dialect, Fault.http(status, message="messages is required."))
            return
        if fault.drop_after == 0:
            self._drop()
            return
        model = chat.model or str(body.get("model") or "fake-model")
        if body.get("stream"):
            self._stream(chat, body, dialect, model, fault)
        else:
            self._complete(chat, dialect, model, fault)

    # --- answers -------------------------------------------------------------------------------

    def _complete(self, chat: FakeChatServer, dialect: Dialect, model: str, fault: Fault) -> None:
        text = "" if fault.content_filter else chat.answer
        finish = "content_filter" if fault.content_filter else "stop"
        message: dict[str, Any] = {"role": "assistant", "content": text}
        choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
        if dialect == "openai":
            message.update(refusal=None, annotations=[])
            choice["logprobs"] = None
        else:
            message.update(tool_calls=None, prefix=False)
        payload = {
            "id": _completion_id(chat),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [choice],
            "usage": _usage(chat),
        }
        self._json(200, payload)

    def _stream(
        self, chat: FakeChatServer, body: dict[str, Any], dialect: Dialect, model: str, fault: Fault
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        completion_id = _completion_id(chat)
        created = int(time.time())
        include_usage = dialect == "mistral" or bool(
            (body.get("stream_options") or {}).get("include_usage")
        )

        def chunk(delta: dict[str, Any], finish: str | None, usage: dict[str, int] | None = None,
                  choices: bool = True) -> dict[str, Any]:
            data: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                if choices
                else [],
            }
            if dialect == "openai" and include_usage:
                data["usage"] = usage
            elif usage is not None:
                data["usage"] = usage
            return data

        self._event(chunk({"role": "assistant", "content": ""}, None))
        if fault.drop_before_text:
            self._drop()
            return
        parts = chat.split(chat.answer)
        if fault.content_filter:
            parts = parts[:1]
        for index, part in enumerate(parts):
            if fault.drop_after is not None and index >= fault.drop_after:
                self._drop()
                return
            if not chat._wait(chat.chunk_delay if index else chat.first_token_delay):
                self._drop()
                return
            if index == chat.hold_at and not chat._pause():
                self._drop()
                return
            self._event(chunk({"content": part}, None))
        finish = "content_filter" if fault.content_filter else "stop"
        if dialect == "mistral":
            self._event(chunk({"content": ""}, finish, _usage(chat)))
        else:
            self._event(chunk({}, finish))
            if include_usage:
                self._event(chunk({}, None, _usage(chat), choices=False))
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    def _error(self, dialect: Dialect, fault: Fault) -> None:
        status = fault.status or 500
        default_type, default_message = _ERROR_TYPES.get(status, ("error", "Error."))
        error = {
            "message": fault.message or default_message,
            "type": fault.error_type or default_type,
            "param": None,
            "code": fault.code,
        }
        # OpenAI nests the error; Mistral puts its fields at the top level.
        payload = {"error": error} if dialect == "openai" else {"object": "error", **error}
        extra = {"Retry-After": fault.retry_after, "Location": fault.location}
        self._json(status, payload, {k: v for k, v in extra.items() if v is not None})

    # --- wire ----------------------------------------------------------------------------------

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _event(self, data: dict[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        """One HTTP/1.1 chunk (the empty one ends the body)."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Cut the connection: no more bytes, no end of the chunked body."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _dialect_of(headers: dict[str, str]) -> Dialect:
    agent = headers.get("user-agent", "").lower()
    return "mistral" if "mistral" in agent or "speakeasy" in agent else "openai"


def _completion_id(chat: FakeChatServer) -> str:
    return f"chatcmpl-fake-{chat.request_count}"


def _usage(chat: FakeChatServer) -> dict[str, int]:
    return {
        "prompt_tokens": chat.tokens_in,
        "completion_tokens": chat.tokens_out,
        "total_tokens": chat.tokens_in + chat.tokens_out,
    }

