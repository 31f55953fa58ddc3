"""LTI Assignment and Grade Services 2.0, tool side: find, create and score line items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .client import ServiceClient, ServiceError

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = AGS + "lineitem"
SCOPE_LINEITEM_READONLY = AGS + "lineitem.readonly"
SCOPE_SCORE = AGS + "score"
USED_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE)

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MAX_PAGES = 50  # a container longer than this is not a real course


@dataclass(frozen=True)
class AgsEndpoint:
    """The launch claim's part the grade service uses."""

    lineitems_url: str | None
    scopes: frozenset[str]
    lineitem_url: str | None = None  # only when exactly one grade item is coupled to the link

    @property
    def may_create(self) -> bool:
        return SCOPE_LINEITEM in self.scopes

    def token_scopes(self) -> tuple[str, ...]:
        """The scopes a token is asked for: those we use, among those the claim lists."""
        wanted = [s for s in USED_SCOPES if s in self.scopes]
        return tuple(wanted or (SCOPE_SCORE,))


@dataclass(frozen=True)
class LineItemTarget:
    """The line item a resource link's scores go to, as the tool describes it."""

    resource_link_id: str
    resource_id: str | None
    label: str
    score_maximum: float


@dataclass(frozen=True)
class ResolvedLineItem:
    url: str
    source: str  # claim | found | created


class NoLineItem(Exception):
    """No line item for the link and the tool may not create one (no `lineitem` scope) or the
    platform lists no line items container: the trainer must be told, retrying will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 with milliseconds and offset, e.g. 2026-11-23T10:15:30.123+00:00."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def score_url(lineitem_url: str) -> str:
    """`{lineitem}/scores`, the path extended before any query string (Moodle's line item URLs
    end with `?type_id=N`)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


def score_body(user_id: str, payload: dict[str, Any], timestamp: datetime) -> dict[str, Any]:
    """The score document: the stored payload plus userId and the send-time timestamp."""
    body = {"userId": user_id, **{k: v for k, v in payload.items() if v is not None}}
    body["timestamp"] = iso_timestamp(timestamp)
    return body


def post_score(client: ServiceClient, lineitem_url: str, body: dict[str, Any]) -> None:
    """POST the score; returns when the platform accepted it (2xx), else raises `ServiceError`."""
    url = score_url(lineitem_url)
    response = client.request("POST", url, content_type=SCORE_MEDIA_TYPE, json_body=body,
                              accept="application/json")
    if not 200 <= response.status_code < 300:
        raise client.error(response, "POST scores")


def _items(response) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def find_line_item(client: ServiceClient, lineitems_url: str, target: LineItemTarget,
                   avoid: str | None = None) -> str | None:
    """The line item of the link in the container, following `Link: rel="next"` pages.

    Asked with `resource_link_id` and `resource_id` filters; the answer is checked here too,
    as a platform may ignore a filter. A line item bound to our resource link wins; else one
    with our resource id that is bound to no link. `avoid` is a URL known to be gone.
    """
    params = {"resource_link_id": target.resource_link_id}
    if target.resource_id:
        params["resource_id"] = target.resource_id
    url: str | None = lineitems_url
    seen: set[str] = set()
    by_resource: str | None = None
    for _ in range(MAX_PAGES):
        if url is None or url in seen:
            break
        seen.add(url)
        response = client.request("GET", url, accept=LINEITEMS_MEDIA_TYPE, params=params)
        if response.status_code != 200:
            raise client.error(response, "GET lineitems")
        for item in _items(response):
            item_url = item.get("id")
            if not isinstance(item_url, str) or item_url == avoid:
                continue
            if item.get("resourceLinkId") == target.resource_link_id:
                return item_url
            if (by_resource is None and target.resource_id and item.get("resourceId") == target.resource_id
                    and not item.get("resourceLinkId")):
                by_resource = item_url
        url = response.links.get("next", {}).get("url")
        params = None  # the next page's URL carries the query
    return by_resource


def line_item_maximum(client: ServiceClient, lineitem_url: str) -> float | None:
    """The line item's `scoreMaximum` as the platform holds it now (a trainer may have changed
    the grade item's maximum since the activity was placed); None when the document has none.
    Raises `ServiceError` when the platform does not answer it."""
    response = client.request("GET", lineitem_url, accept=LINEITEM_MEDIA_TYPE)
    if response.status_code != 200:
        raise client.error(response, "GET lineitem")
    try:
        document = response.json()
    except ValueError:
        return None
    value = document.get("scoreMaximum") if isinstance(document, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1_000_000:
        return None
    return float(value)


def create_line_item(client: ServiceClient, lineitems_url: str, target: LineItemTarget) -> str:
    """POST a new line item bound to the link; its URL."""
    document: dict[str, Any] = {"scoreMaximum": target.score_maximum, "label": target.label or "Mentorat IA",
                                "resourceLinkId": target.resource_link_id}
    if target.resource_id:
        document["resourceId"] = target.resource_id
    response = client.request("POST", lineitems_url, content_type=LINEITEM_MEDIA_TYPE, json_body=document,
                              accept=LINEITEM_MEDIA_TYPE)
    if response.status_code not in (200, 201):
        raise client.error(response, "POST lineitems")
    try:
        created = response.json()
    except ValueError:
        created = None
    url = created.get("id") if isinstance(created, dict) else None
    if not isinstance(url, str) or not url:
        raise ServiceError("line item created but the platform returned no id", status=response.status_code)
    return url


def resolve_line_item(client: ServiceClient, endpoint: AgsEndpoint, target: LineItemTarget,
                      avoid: str | None = None) -> ResolvedLineItem:
    """The line item to score: the claim's, else found in the container, else created when the
    `lineitem` scope was granted; raises `NoLineItem` otherwise."""
    if endpoint.lineitem_url and endpoint.lineitem_url != avoid:
        return ResolvedLineItem(endpoint.lineitem_url, "claim")
    if not endpoint.lineitems_url:
        raise NoLineItem("no_container")
    found = find_line_item(client, endpoint.lineitems_url, target, avoid)
    if found:
        return ResolvedLineItem(found, "found")
    # Column management needs the `lineitem` scope in the claim and in the token the platform gave.
    if not endpoint.may_create or SCOPE_LINEITEM not in client.granted:
        raise NoLineItem("not_allowed_to_create")
    return ResolvedLineItem(create_line_item(client, endpoint.lineitems_url, target), "created")
