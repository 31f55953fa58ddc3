"""The demo platform's services, behaving as Moodle's do (mod/lti/token.php,
mod/lti/service/gradebookservices, NRPS), so that `make run` shows grades landing (dev only).

- token: client_credentials with the tool's JWT assertion, verified against the tool's JWKS;
  bearer tokens expire; each service checks the scope it needs.
- line items per course: list (resource_id / resource_link_id / tag filters, `limit` paging with
  `Link: rel="next"`), create, read, update, delete. URLs end with `?type_id=1`, as Moodle's do.
- scores: `scoreGiven` counts only with `gradingProgress=FullyGraded` and is rescaled to the
  item's maximum; a timestamp not later (whole seconds) than the user's last one is refused with
  409; a user who is not an active learner of the course with 400.
- memberships: the course's people, paged.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

import jwt
from flask import current_app
from sqlalchemy import select

from ..common.security import new_token, token_digest
from ..extensions import db
from ..lti.keys import public_jwks
from ..lti.services import platform_by_keys
from ..common.time import utcnow
from .course import CLIENT_ID, COURSE, LIS, ROSTER, DemoPerson, issuer, platform_url, token_url
from .models import DemoLineItem, DemoPlacedItem, DemoScore
from .seed import class_members

TYPE_ID = "1"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY = AGS + "lineitem", AGS + "lineitem.readonly"
SCOPE_RESULT, SCOPE_SCORE = AGS + "result.readonly", AGS + "score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
# The tool's AGS setting is "grade sync and column management": the lineitem scope is granted.
LAUNCH_AGS_SCOPES = [SCOPE_LINEITEM, SCOPE_RESULT, SCOPE_SCORE]
PERMITTED_SCOPES = frozenset(LAUNCH_AGS_SCOPES + [SCOPE_LINEITEM_READONLY, SCOPE_NRPS])
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_TTL = 3600
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}


class ServiceRefusal(Exception):
    """An error answer of a service: status, an OAuth-style error code, a detail."""

    def __init__(self, status: int, error: str, detail: str = "") -> None:
        super().__init__(detail or error)
        self.status, self.error, self.detail = status, error, detail


def _store():
    return current_app.extensions["lti_store"]


# --- URLs --------------------------------------------------------------------------------------


def lineitems_url(context_id: str) -> str:
    return f"{platform_url()}/demo/services/{quote(context_id, safe='')}/lineitems?type_id={TYPE_ID}"


def lineitem_url(item: DemoLineItem) -> str:
    return (f"{platform_url()}/demo/services/{quote(item.context_id, safe='')}/lineitems/{item.id}/lineitem"
            f"?type_id={TYPE_ID}")


def memberships_url(context_id: str) -> str:
    return f"{platform_url()}/demo/services/CourseSection/{quote(context_id, safe='')}/bindings/{TYPE_ID}/memberships"


def _next_link(base: str, query: dict[str, str], limit: int, page: int, total: int) -> str | None:
    if not limit or page * limit >= total:
        return None
    return f"<{base}?{urlencode({**query, 'limit': limit, 'page': page + 1})}>; rel=\"next\""


def _paging(args: dict[str, str]) -> tuple[int, int]:
    try:
        limit = max(0, int(args.get("limit") or 0))
        page = max(1, int(args.get("page") or 1))
    except ValueError as exc:
        raise ServiceRefusal(400, "invalid_request", "limit and page are whole numbers") from exc
    return limit, page


# --- launch claims -------------------------------------------------------------------------------


def coupled_line_item(context_id: str, link_id: str) -> DemoLineItem | None:
    """The line item of a link when exactly one is coupled to it (Moodle names it only then)."""
    items = list(db.session.execute(
        select(DemoLineItem).where(DemoLineItem.context_id == context_id, DemoLineItem.resource_link_id == link_id)
        .limit(2)).scalars())
    return items[0] if len(items) == 1 else None


def launch_claims(link_id: str | None) -> dict[str, Any]:
    """The AGS endpoint and NRPS claims of a launch in the demo course."""
    ags: dict[str, Any] = {"scope": list(LAUNCH_AGS_SCOPES), "lineitems": lineitems_url(COURSE["id"])}
    if link_id:
        item = coupled_line_item(COURSE["id"], link_id)
        if item is not None:
            ags["lineitem"] = lineitem_url(item)
    return {
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": ags,
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": memberships_url(COURSE["id"]), "service_versions": ["1.0", "2.0"]},
    }


# --- token endpoint --------------------------------------------------------------------------------


def issue_token(form: dict[str, str]) -> dict[str, Any]:
    """Answer a client_credentials request: verify the tool's JWT assertion with the tool's JWKS
    (as Moodle fetches it), refuse replays, grant the permitted part of the requested scopes."""
    if form.get("grant_type") != "client_credentials":
        raise ServiceRefusal(400, "unsupported_grant_type")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise ServiceRefusal(400, "invalid_request", "client_assertion_type")
    assertion = form.get("client_assertion") or ""
    try:
        kid = jwt.get_unverified_header(assertion).get("kid")
        jwk = {k["kid"]: k for k in public_jwks()["keys"]}.get(kid)
        if jwk is None:
            raise ServiceRefusal(401, "invalid_client", "assertion signed with an unknown key")
        claims = jwt.decode(assertion, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=token_url(),
                            issuer=CLIENT_ID, options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]})
    except jwt.PyJWTError as exc:
        raise ServiceRefusal(401, "invalid_client", str(exc)) from exc
    if claims["sub"] != CLIENT_ID:
        raise ServiceRefusal(401, "invalid_client", "sub")
    store = _store()
    if store.get("demo:jti:" + str(claims["jti"])):
        raise ServiceRefusal(400, "invalid_grant", "assertion replayed")
    store.set("demo:jti:" + str(claims["jti"]), True, 600)
    granted = sorted(set((form.get("scope") or "").split()) & PERMITTED_SCOPES)
    if not granted:
        raise ServiceRefusal(400, "invalid_scope")
    token = new_token()
    store.set("demo:bearer:" + token_digest(token), {"scopes": granted, "exp": time.time() + TOKEN_TTL}, TOKEN_TTL)
    return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL, "scope": " ".join(granted)}


def check_bearer(authorization: str | None, *scopes: str) -> None:
    """Refuse a service call without a live bearer token granting one of `scopes`."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ServiceRefusal(401, "invalid_token", "missing Authorization header")
    grant = _store().get("demo:bearer:" + token_digest(authorization[7:].strip()))
    if not isinstance(grant, dict) or grant.get("exp", 0) <= time.time():
        raise ServiceRefusal(401, "invalid_token", "unknown or expired token")
    if not set(scopes) & set(grant.get("scopes") or ()):
        raise ServiceRefusal(403, "insufficient_scope", " or ".join(scopes))


# --- line items ------------------------------------------------------------------------------------


def _check_context(context_id: str) -> None:
    if context_id != COURSE["id"]:
        raise ServiceRefusal(404, "not_found", "no such course")


def item_document(item: DemoLineItem) -> dict[str, Any]:
    document = {"id": lineitem_url(item), "label": item.label, "scoreMaximum": item.score_maximum}
    for key, value in (("resourceId", item.resource_id), ("resourceLinkId", item.resource_link_id), ("tag", item.tag)):
        if value:
            document[key] = value
    return document


def list_line_items(context_id: str, args: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
    """The course's line items, filtered and paged; (documents, Link header or None)."""
    _check_context(context_id)
    query = select(DemoLineItem).where(DemoLineItem.context_id == context_id).order_by(DemoLineItem.id)
    for param, column in (("resource_id", DemoLineItem.resource_id),
                          ("resource_link_id", DemoLineItem.resource_link_id), ("tag", DemoLineItem.tag)):
        if args.get(param):
            query = query.where(column == args[param])
    items = [item_document(i) for i in db.session.execute(query).scalars()]
    limit, page = _paging(args)
    link = _next_link(lineitems_url(context_id).split("?")[0], {k: v for k, v in args.items()
                                                                  if k not in ("limit", "page")},
                      limit, page, len(items))
    return (items[(page - 1) * limit: page * limit] if limit else items), link


def _line_item_fields(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ServiceRefusal(400, "invalid_request", "a JSON line item is expected")
    label, maximum = document.get("label"), document.get("scoreMaximum")
    if not isinstance(label, str) or not label.strip():
        raise ServiceRefusal(400, "invalid_request", "label")
    if isinstance(maximum, bool) or not isinstance(maximum, (int, float)) or maximum <= 0:
        raise ServiceRefusal(400, "invalid_request", "scoreMaximum")
    fields = {"label": label.strip()[:255], "score_maximum": float(maximum)}
    for key, column in (("resourceId", "resource_id"), ("resourceLinkId", "resource_link_id"), ("tag", "tag")):
        value = document.get(key)
        fields[column] = str(value)[:255] if value not in (None, "") else None
    return fields


def create_line_item(context_id: str, document: Any) -> DemoLineItem:
    _check_context(context_id)
    item = DemoLineItem(context_id=context_id, **_line_item_fields(document))
    db.session.add(item)
    db.session.flush()
    return item


def line_item(context_id: str, item_id: int) -> DemoLineItem:
    _check_context(context_id)
    item = db.session.execute(select(DemoLineItem).where(DemoLineItem.id == item_id,
                                                         DemoLineItem.context_id == context_id)).scalar_one_or_none()
    if item is None:
        raise ServiceRefusal(404, "not_found", "no such line item")
    return item


def update_line_item(item: DemoLineItem, document: Any) -> DemoLineItem:
    for column, value in _line_item_fields(document).items():
        setattr(item, column, value)
    db.session.flush()
    return item


def delete_line_item(item: DemoLineItem) -> None:
    db.session.delete(item)
    db.session.flush()


# --- scores ---------------------------------------------------------------------------------------


def _person(user_id: Any):
    return next((p for p in ROSTER if p.sub == user_id), None)


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or "T" not in value:
        raise ValueError("timestamp")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp without offset")
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def record_score(item: DemoLineItem, score: Any) -> DemoScore:
    """Keep the user's score in the item, as Moodle's scores resource does."""
    if not isinstance(score, dict):
        raise ServiceRefusal(400, "invalid_request", "Incorrect score received")
    given, maximum = score.get("scoreGiven"), score.get("scoreMaximum")

    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    try:
        moment = _timestamp(score.get("timestamp"))
    except ValueError:
        moment = None
    person = _person(score.get("userId"))
    if (moment is None or score.get("activityProgress") not in ACTIVITY_PROGRESS
            or score.get("gradingProgress") not in GRADING_PROGRESS
            or (given is not None and not number(given)) or (given is not None and maximum is None)
            or (maximum is not None and (not number(maximum) or maximum <= 0))
            or person is None or not person.is_learner or person.status != "Active"):
        raise ServiceRefusal(400, "invalid_request", "Incorrect score received")
    row = db.session.execute(select(DemoScore).where(DemoScore.line_item_id == item.id,
                                                     DemoScore.user_id == person.sub)).scalar_one_or_none()
    stamp = int(moment.replace(tzinfo=timezone.utc).timestamp())
    if row is not None and int(row.timestamp.replace(tzinfo=timezone.utc).timestamp()) >= stamp:
        raise ServiceRefusal(409, "conflict", "Refusing score with an earlier timestamp")
    if row is None:
        row = DemoScore(line_item_id=item.id, user_id=person.sub)
        db.session.add(row)
    fully_graded = score["gradingProgress"] == "FullyGraded" and given is not None
    row.score_given = float(given) if fully_graded else None
    row.score_maximum = float(maximum) if fully_graded else None
    row.result = float(given) * item.score_maximum / float(maximum) if fully_graded else None
    comment = score.get("comment")
    row.comment = comment[:4000] if isinstance(comment, str) and comment.strip() else None
    row.activity_progress, row.grading_progress = score["activityProgress"], score["gradingProgress"]
    row.timestamp, row.received_at = moment, utcnow()
    db.session.flush()
    return row


# --- memberships ----------------------------------------------------------------------------------


def _seeded_class(context_id: str) -> list[DemoPerson]:
    """The learners `lti-tool seed-demo-class` added to the course (demo.seed)."""
    platform = platform_by_keys(issuer(), CLIENT_ID)
    people = []
    for sub, name in class_members(platform.id, context_id) if platform is not None else ():
        given, _, family = name.partition(" ")
        people.append(DemoPerson(sub, given, family, (LIS + "Learner",)))
    return people


def memberships(context_id: str, args: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    """The course's membership container page, and its Link header."""
    _check_context(context_id)
    people = [p for p in (*ROSTER, *_seeded_class(context_id)) if not args.get("role") or args["role"] in p.roles
              or args["role"] in {r.rsplit("#", 1)[-1] for r in p.roles}]
    members = [{"user_id": p.sub, "status": p.status, "roles": list(p.roles), "name": p.name,
                "given_name": p.given_name, "family_name": p.family_name} for p in people]
    limit, page = _paging(args)
    link = _next_link(memberships_url(context_id), {k: v for k, v in args.items() if k not in ("limit", "page")},
                      limit, page, len(members))
    container = {"id": memberships_url(context_id),
                 "context": {"id": context_id, "label": COURSE["label"], "title": COURSE["title"]},
                 "members": members[(page - 1) * limit: page * limit] if limit else members}
    return container, link


# --- placed activities and the gradebook page -------------------------------------------------------


def place_items(items: list[dict[str, Any]]) -> list[DemoPlacedItem]:
    """Keep the activities a deep-linking response placed; an item with a `lineItem` gets its
    gradebook column, coupled to the new link (placing the same item again gives the same link)."""
    placed = []
    for item in items:
        row = db.session.execute(select(DemoPlacedItem).where(DemoPlacedItem.link_id == item["id"])).scalar_one_or_none()
        if row is None:
            row = DemoPlacedItem(link_id=item["id"], context_id=COURSE["id"], title="", catalogue_id="", custom={})
            db.session.add(row)
        row.title, row.catalogue_id = item["title"][:255] or item["catalogue_id"], item["catalogue_id"][:64]
        row.custom = dict(item.get("custom") or {})
        line = item.get("line_item")
        if isinstance(line, dict) and isinstance(line.get("scoreMaximum"), (int, float)) and line["scoreMaximum"] > 0:
            column = coupled_line_item(COURSE["id"], item["id"])
            if column is None:
                column = DemoLineItem(context_id=COURSE["id"], resource_link_id=item["id"], label="", score_maximum=1)
                db.session.add(column)
            column.label = str(line.get("label") or row.title)[:255]
            column.score_maximum = float(line["scoreMaximum"])
            column.resource_id = str(line.get("resourceId") or item["catalogue_id"] or "")[:255] or None
            column.tag = str(line["tag"])[:255] if line.get("tag") else None
        placed.append(row)
    db.session.flush()
    return placed


def placed_custom(link_id: str) -> dict[str, str] | None:
    """The custom parameters of a placed activity, None if the link was not placed here."""
    custom = db.session.execute(select(DemoPlacedItem.custom).where(DemoPlacedItem.link_id == link_id)).scalar()
    return dict(custom) if custom else None


def placed_items() -> list[tuple[DemoPlacedItem, DemoLineItem | None]]:
    rows = db.session.execute(select(DemoPlacedItem).where(DemoPlacedItem.context_id == COURSE["id"])
                              .order_by(DemoPlacedItem.id)).scalars()
    return [(row, coupled_line_item(COURSE["id"], row.link_id)) for row in rows]


def gradebook(context_id: str):
    """(learners, line items, {(item id, user id): score}) of the course, for the gradebook page."""
    items = list(db.session.execute(select(DemoLineItem).where(DemoLineItem.context_id == context_id)
                                    .order_by(DemoLineItem.id)).scalars())
    scores = {(s.line_item_id, s.user_id): s for s in db.session.execute(
        select(DemoScore).join(DemoLineItem).where(DemoLineItem.context_id == context_id)).scalars()}
    learners = [p for p in ROSTER if p.is_learner]
    return learners, items, scores
