"""Moodle's service side for a TestPlatform, served through `responses`: the OAuth 2 token endpoint
(checks the tool's JWT assertion against the tool's JWKS), AGS line items and scores, NRPS
memberships, with Moodle's rules (mod/lti/service/gradebookservices) and injectable faults."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from requests.structures import CaseInsensitiveDict

from .lti_platform import TestPlatform

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY = AGS + "lineitem", AGS + "lineitem.readonly"
SCOPE_RESULT, SCOPE_SCORE = AGS + "result.readonly", AGS + "score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass
class Seen:
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class FakeMoodle:
    """The services of `platform` for one course. `grant_lineitem`: the tool's AGS setting is
    "grade sync and column management" (scope lineitem) rather than "grade sync only"."""

    platform: TestPlatform
    jwks: Callable[[], dict]  # the tool's JWKS, as Moodle fetches it
    course: str = "course-101"
    type_id: int = 7
    grant_lineitem: bool = True
    page_size: int | None = None  # the container and roster answer in pages of this size
    ignore_filters: bool = False  # a platform that ignores resource_id / resource_link_id
    strip_authorization: bool = False  # Apache without CGIPassAuth: services never see the header
    token_ttl: int = 3600
    line_items: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    grades: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)  # Moodle's grade per item+user
    accepted: list[dict[str, Any]] = field(default_factory=list)  # every score accepted
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    faults: dict[str, deque] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._tokens: dict[str, tuple[frozenset[str], float]] = {}
        self._jtis: set[str] = set()
        self._next_id = 1

    # --- URLs, as Moodle shapes them (query string on the line item URL) ----------------------

    @property
    def services(self) -> str:
        return self.platform.issuer + "/mod/lti/services.php"

    @property
    def lineitems_url(self) -> str:
        return f"{self.services}/{self.course}/lineitems?type_id={self.type_id}"

    def lineitem_url(self, item_id: int) -> str:
        return f"{self.services}/{self.course}/lineitems/{item_id}/lineitem?type_id={self.type_id}"

    @property
    def memberships_url(self) -> str:
        return f"{self.services}/CourseSection/{self.course}/bindings/{self.type_id}/memberships"

    @property
    def scopes(self) -> list[str]:
        return [SCOPE_LINEITEM if self.grant_lineitem else SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE]

    def claims(self, link_id: str | None = "link-1", *, nrps: bool = True) -> dict[str, Any]:
        """AGS (and NRPS) claims of a launch of `link_id`: `lineitem` only when exactly one line
        item is coupled to the link, as Moodle does."""
        ags: dict[str, Any] = {"scope": self.scopes, "lineitems": self.lineitems_url}
        coupled = [i for i, item in self.line_items.items() if item.get("resourceLinkId") == link_id]
        if link_id and len(coupled) == 1:
            ags["lineitem"] = self.lineitem_url(coupled[0])
        claims = {AGS_CLAIM: ags}
        if nrps:
            claims[NRPS_CLAIM] = {"context_memberships_url": self.memberships_url, "service_versions": ["1.0", "2.0"]}
        return claims

    # --- set-up helpers ---------------------------------------------------------------------

    def add_line_item(self, label: str = "Module 1", score_maximum: float = 100, *, resource_id: str | None = None,
                      resource_link_id: str | None = None, tag: str | None = None) -> int:
        with self._lock:
            item_id = self._next_id
            self._next_id += 1
            self.line_items[item_id] = {k: v for k, v in {
                "label": label, "scoreMaximum": score_maximum, "resourceId": resource_id,
                "resourceLinkId": resource_link_id, "tag": tag}.items() if v is not None}
            return item_id

    def enrol(self, user_id: str, role: str = LEARNER, *, status: str = "Active", name: str | None = None) -> None:
        member = {"user_id": user_id, "roles": [role], "status": status}
        if name:
            member["name"] = name
            member["given_name"], _, member["family_name"] = name.partition(" ")
        self.members.append(member)

    def fail_next(self, endpoint: str, *faults) -> None:
        """The next requests to `endpoint` (token | scores | lineitems | memberships) get `faults`
        in order: an HTTP status, (status, headers), an exception raised, or "lost" (the score
        is recorded but the answer never arrives: a read timeout)."""
        self.faults.setdefault(endpoint, deque()).extend(faults)

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def scores_for(self, user_id: str) -> list[dict[str, Any]]:
        return [s for s in self.accepted if s["userId"] == user_id]

    # --- serving ----------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, re.Pattern, str, Callable]]:
        """(method, URL pattern, endpoint, callback) of each service, as Moodle's URLs are shaped."""
        services = re.escape(self.services)
        items = re.compile(services + r"/[^/]+/lineitems(\?.*)?$")
        item = re.compile(services + r"/[^/]+/lineitems/\d+/lineitem(\?.*)?$")
        return [
            ("POST", re.compile(re.escape(self.platform.token_url) + "$"), "token", self._wrap("token", self._token)),
            ("GET", items, "lineitems", self._wrap("lineitems", self._list_items)),
            ("POST", items, "lineitems", self._wrap("lineitems", self._create_item)),
            *((method, item, "lineitem", self._wrap("lineitem", self._item)) for method in ("GET", "PUT", "DELETE")),
            ("POST", re.compile(services + r"/[^/]+/lineitems/\d+/lineitem/scores(\?.*)?$"), "scores",
             self._wrap("scores", self._score)),
            ("GET", re.compile(services + r"/CourseSection/[^/]+/bindings/\d+/memberships(\?.*)?$"), "memberships",
             self._wrap("memberships", self._memberships)),
        ]

    def serve(self, mock) -> FakeMoodle:
        """Answer the tool's calls in this process, through a `responses` mock."""
        for method, pattern, _, callback in self.routes():
            mock.add_callback(method, pattern, callback=callback)
        return self

    def _wrap(self, endpoint: str, handler):
        def callback(request):
            with self._lock:
                fault = self.faults.get(endpoint) and self.faults[endpoint].popleft()
            body = _body(request)
            if isinstance(fault, BaseException):
                self.seen.append(Seen(request.method, request.url, dict(request.headers), body, 0))
                return fault
            if isinstance(fault, (int, tuple)):
                status, headers = fault if isinstance(fault, tuple) else (fault, {})
                self.seen.append(Seen(request.method, request.url, dict(request.headers), body, status))
                return status, headers, json.dumps({"error": f"injected {status}",
                                                    "echo": request.headers.get("Authorization", "")})
            with self._lock:
                status, headers, answer = handler(request, body)
            self.seen.append(Seen(request.method, request.url, dict(request.headers), body, status))
            if fault == "lost" and status < 300:
                return requests.exceptions.ReadTimeout("read timed out (answer lost)")
            return status, headers, answer if isinstance(answer, str) else json.dumps(answer)
        return callback

    # token endpoint: LTI Security Framework §4.1, Moodle mod/lti/token.php
    def _token(self, request, form):
        self.token_requests.append(form)
        if form.get("grant_type") != "client_credentials" or form.get(
                "client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return 400, {}, {"error": "unsupported_grant_type"}
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion)["kid"]
            jwk = {k["kid"]: k for k in self.jwks()["keys"]}[kid]
            claims = jwt.decode(assertion, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=self.platform.token_url,
                                options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]})
        except (jwt.PyJWTError, KeyError) as exc:
            return 401, {}, {"error": "invalid_client", "detail": str(exc)}
        if claims["iss"] != self.platform.client_id or claims["sub"] != self.platform.client_id:
            return 401, {}, {"error": "invalid_client"}
        if claims["jti"] in self._jtis:
            return 400, {}, {"error": "invalid_grant", "detail": "jti replayed"}
        self._jtis.add(claims["jti"])
        permitted = set(self.scopes) | {SCOPE_LINEITEM_READONLY, SCOPE_NRPS}
        granted = sorted(set((form.get("scope") or "").split()) & permitted)
        if not granted:
            return 400, {}, {"error": "invalid_scope"}
        token = uuid.uuid4().hex
        self._tokens[token] = (frozenset(granted), time.time() + self.token_ttl)
        return 200, {}, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl,
                         "scope": " ".join(granted)}

    def _auth(self, request, scope: str | tuple[str, ...]):
        if self.strip_authorization:
            return 401, {}, {"status": 401, "reason": "Missing Authorization header"}
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        granted, expires = self._tokens.get(token, (frozenset(), 0))
        if expires <= time.time():
            return 401, {}, {"status": 401, "reason": "Invalid or expired token"}
        if not set((scope,) if isinstance(scope, str) else scope) & granted:
            return 403, {}, {"status": 403, "reason": "Scope not granted"}
        return None

    def _item_document(self, item_id: int) -> dict[str, Any]:
        return {"id": self.lineitem_url(item_id), **self.line_items[item_id]}

    def _list_items(self, request, _):
        refused = self._auth(request, (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
        if refused:
            return refused
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        items = [self._item_document(i) for i in sorted(self.line_items)]
        if not self.ignore_filters:
            for param, key in (("resource_id", "resourceId"), ("resource_link_id", "resourceLinkId"), ("tag", "tag")):
                if param in query:
                    items = [i for i in items if i.get(key) == query[param]]
        return self._page(request.url, query, items, CONTAINER_TYPE)

    def _page(self, url: str, query: dict[str, str], items: list, media_type: str, wrap=None):
        size = int(query.get("limit") or self.page_size or 0)
        headers = {"Content-Type": media_type}
        if size:
            page = int(query.get("page", "1"))
            chunk = items[(page - 1) * size: page * size]
            if page * size < len(items):
                base = url.split("?", 1)[0]
                headers["Link"] = f'<{base}?{urlencode({**query, "limit": size, "page": page + 1})}>; rel="next"'
            items = chunk
        return 200, headers, wrap(items) if wrap else items

    def _create_item(self, request, body):
        refused = self._auth(request, SCOPE_LINEITEM)
        if refused:
            return refused
        if request.headers.get("Content-Type") != LINEITEM_TYPE:
            return 415, {}, {"status": 415}
        if not isinstance(body, dict) or not isinstance(body.get("scoreMaximum"), (int, float)) or not body.get("label"):
            return 400, {}, {"status": 400}
        item_id = self.add_line_item(body["label"], body["scoreMaximum"], resource_id=body.get("resourceId"),
                                     resource_link_id=body.get("resourceLinkId"), tag=body.get("tag"))
        return 201, {"Content-Type": LINEITEM_TYPE}, self._item_document(item_id)

    def _item_id(self, url: str) -> int:
        return int(re.search(r"/lineitems/(\d+)/lineitem", url).group(1))

    def _item(self, request, body):
        write = request.method in ("PUT", "DELETE")
        refused = self._auth(request, SCOPE_LINEITEM if write else (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
        if refused:
            return refused
        item_id = self._item_id(request.url)
        if item_id not in self.line_items:
            return 404, {}, {"status": 404}
        if request.method == "DELETE":
            del self.line_items[item_id]
            return 204, {}, ""
        if request.method == "PUT":
            self.line_items[item_id].update({k: v for k, v in body.items() if k != "id"})
        return 200, {"Content-Type": LINEITEM_TYPE}, self._item_document(item_id)

    def _gradable(self, user_id: Any) -> bool:
        return any(m["user_id"] == user_id and LEARNER in m["roles"] and m.get("status", "Active") == "Active"
                   for m in self.members)

    def _score(self, request, score):
        refused = self._auth(request, SCOPE_SCORE)
        if refused:
            return refused
        item_id = self._item_id(request.url)
        if item_id not in self.line_items:
            return 404, {}, {"status": 404}
        if request.headers.get("Content-Type") != SCORE_TYPE:
            return 415, {}, {"status": 415}
        # Moodle: scores.php refuses these with 400 ("Incorrect score received").
        if (not isinstance(score, dict) or "userId" not in score or "gradingProgress" not in score
                or "activityProgress" not in score or not ISO_8601.match(str(score.get("timestamp", "")))
                or ("scoreGiven" in score and not isinstance(score["scoreGiven"], (int, float)))
                or ("scoreGiven" in score and "scoreMaximum" not in score)
                or not self._gradable(score["userId"])):
            return 400, {}, {"status": 400, "reason": "Incorrect score received"}
        stamp = int(datetime.fromisoformat(score["timestamp"].replace("Z", "+00:00")).timestamp())
        previous = self.grades.get((item_id, score["userId"]))
        if previous is not None and previous["stamp"] >= stamp:
            return 409, {}, {"status": 409, "reason": "Refusing score with an earlier timestamp"}
        maximum = self.line_items[item_id]["scoreMaximum"]
        result = None
        if score["gradingProgress"] == "FullyGraded" and "scoreGiven" in score:
            result = score["scoreGiven"] * maximum / score["scoreMaximum"]
        self.grades[(item_id, score["userId"])] = {"stamp": stamp, "result": result, "comment": score.get("comment"),
                                                   "gradingProgress": score["gradingProgress"]}
        self.accepted.append({**score, "_item": item_id})
        return 200, {}, ""

    def _memberships(self, request, _):
        refused = self._auth(request, SCOPE_NRPS)
        if refused:
            return refused
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        members = list(self.members)
        if query.get("role") == LEARNER and not self.ignore_filters:  # Moodle: instructors excluded
            members = [m for m in members if any("Learner" in r for r in m["roles"])]
        return self._page(request.url, query, members, MEMBERSHIP_TYPE,
                          wrap=lambda members: {"id": self.memberships_url,
                                                "context": {"id": self.course, "title": "BTS MCO"},
                                                "members": members})


@dataclass
class HttpRequest:
    """A request received over HTTP, shaped as `responses` hands one to a callback."""

    method: str
    url: str
    headers: CaseInsensitiveDict
    body: bytes | None


@dataclass
class MoodleOverHttp:
    """A FakeMoodle answering over real HTTP on its issuer's address (http://127.0.0.1:PORT), for a
    tool process other than the test's (the outbox worker as a subprocess). With `hold_scores`,
    the answer to a graded score the platform has just stored waits (`score_stored` is set) until
    `release` is: the moment a worker can be killed after the platform received a score but
    before the worker knew."""

    moodle: FakeMoodle
    hold_scores: bool = False
    score_stored: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def handle(self, method: str, path: str, headers, raw: bytes | None) -> tuple[int, dict, str] | None:
        url = self.moodle.platform.issuer + path
        for route_method, pattern, endpoint, callback in self.moodle.routes():
            if route_method == method and pattern.match(url):
                request = HttpRequest(method, url, CaseInsensitiveDict(headers.items()), raw)
                answer = callback(request)
                if isinstance(answer, BaseException):
                    return None  # the connection is dropped without an answer
                status, answer_headers, body = answer
                if endpoint == "scores" and status < 300 and self.hold_scores and "scoreGiven" in (_body(request) or {}):
                    self.score_stored.set()
                    self.release.wait(60)
                return status, answer_headers, body
        return 404, {}, json.dumps({"status": 404})


@contextmanager
def moodle_over_http(moodle: FakeMoodle, **options) -> Iterator[MoodleOverHttp]:
    """Serve `moodle` over HTTP on the port of its issuer (`http://127.0.0.1:PORT`) until exit."""
    served = MoodleOverHttp(moodle, **options)
    port = urlsplit(moodle.platform.issuer).port

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else None
            answer = served.handle(self.command, self.path, self.headers, raw)
            if answer is None:
                self.close_connection = True
                return
            status, headers, body = answer
            data = body.encode("utf-8") if isinstance(body, str) else body
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client is gone (a worker killed while waiting for this answer)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"moodle-{port}", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _body(request) -> Any:
    raw = request.body
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(raw).items()}
    try:
        return json.loads(raw)
    except ValueError:
        return raw
