"""LTI Names and Role Provisioning Services 2.0, tool side: the course roster for the grading view."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app

from ..common.i18n import lazy_gettext as _l
from ..lti.models import LaunchSession
from .client import AddressRefused, ServiceClient, ServiceError
from .token import ServiceTokens, TokenEndpoint, TokenError

log = logging.getLogger(__name__)

SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
LEARNER_ROLES = frozenset({"Learner", LEARNER_ROLE})
LEARNER_SUBROLE_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#"
ROSTER_TTL = 60  # seconds: the grading view is reloaded often, enrolments change rarely
MAX_PAGES = 200


@dataclass(frozen=True)
class Member:
    user_id: str
    roles: tuple[str, ...]
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None

    @property
    def is_learner(self) -> bool:
        return any(role in LEARNER_ROLES or role.startswith(LEARNER_SUBROLE_PREFIX) for role in self.roles)

    @property
    def is_active(self) -> bool:
        return self.status == "Active"

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return " ".join(p for p in (self.given_name, self.family_name) if p)


@dataclass(frozen=True)
class RosterUnavailable:
    """Why the roster cannot be shown; `message` says it to the trainer."""

    code: str  # no_service | token_refused | unreachable | refused | address_refused
    detail: str = ""

    @property
    def message(self):
        return ROSTER_MESSAGES.get(self.code, ROSTER_MESSAGES["refused"])


ROSTER_MESSAGES = {
    "no_service": _l("The course roster is not available: the platform did not enable the names and roles "
                     "service for this tool (in Moodle: tool settings, \"IMS LTI Names and Role Provisioning\")."),
    "token_refused": _l("The platform refused the tool access to the course roster. Check that the tool is "
                        "activated in Moodle and allowed to use the names and roles service."),
    "unreachable": _l("The platform could not be reached to read the course roster. Try again in a moment."),
    "refused": _l("The platform refused to give the course roster."),
    "address_refused": _l("The course roster was not read: the platform's settings send the tool to an address "
                          "outside the platform's own site, inside a private network, which the tool does not "
                          "call. The platform's administrator should check the tool's registration."),
}


def _member(data: dict[str, Any]) -> Member | None:
    user_id = data.get("user_id")
    if not isinstance(user_id, (str, int)) or isinstance(user_id, bool) or str(user_id) == "":
        return None
    roles = data.get("roles")
    roles = tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else ()

    def text(key: str) -> str | None:
        value = data.get(key)
        return value.strip() or None if isinstance(value, str) else None

    return Member(user_id=str(user_id), roles=roles, status=text("status") or "Active", name=text("name"),
                  given_name=text("given_name"), family_name=text("family_name"))


def fetch_members(client: ServiceClient, memberships_url: str) -> list[Member]:
    """Every member of the context, following `Link: rel="next"` pages; raises `ServiceError`."""
    members: list[Member] = []
    url: str | None = memberships_url
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        if url is None or url in seen:
            break
        seen.add(url)
        response = client.request("GET", url, accept=MEMBERSHIP_MEDIA_TYPE)
        if response.status_code != 200:
            raise client.error(response, "GET memberships")
        try:
            data = response.json()
        except ValueError as exc:
            raise ServiceError("memberships answer is not JSON", status=response.status_code) from exc
        for entry in (data.get("members") if isinstance(data, dict) else None) or []:
            if isinstance(entry, dict) and (member := _member(entry)) is not None:
                members.append(member)
        url = response.links.get("next", {}).get("url")
    return members


def learners_url(memberships_url: str) -> str:
    """The memberships URL asking for learners only (NRPS 2.0 `role` filter; Moodle honours it):
    the tool never needs the names of the course's staff."""
    parts = urlsplit(memberships_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "role"]
    return urlunsplit(parts._replace(query=urlencode(query + [("role", LEARNER_ROLE)])))


def active_learners(members: list[Member]) -> list[Member]:
    """Members with a Learner role (full or short form) whose enrolment is active."""
    return [m for m in members if m.is_learner and m.is_active]


def course_members(launch: LaunchSession, *, tokens: ServiceTokens | None = None) -> list[Member] | RosterUnavailable:
    """The context's learners (active or not) as the platform lists them, cached for ROSTER_TTL
    per (platform, context). Asked with the learner role filter; members with other roles that a
    platform ignoring the filter sends anyway are dropped before anything is kept."""
    claim = launch.services.get("nrps") or {}
    url = claim.get("context_memberships_url") if isinstance(claim, dict) else None
    if not isinstance(url, str) or not url or launch.context_pk is None:
        return RosterUnavailable("no_service")
    store = current_app.extensions["lti_store"]
    key = f"grading:roster:{launch.platform_id}:{launch.context_pk}"
    cached = store.get(key)
    if isinstance(cached, list):
        return [Member(**{**m, "roles": tuple(m["roles"])}) for m in cached]
    tokens = tokens or ServiceTokens.for_app()
    client = ServiceClient(tokens, TokenEndpoint.of(launch.platform), (SCOPE_MEMBERSHIPS,))
    try:
        members = [m for m in fetch_members(client, learners_url(url)) if m.is_learner]
    except AddressRefused as exc:
        return RosterUnavailable("address_refused", str(exc))
    except TokenError as exc:
        log.warning("roster token refused", extra={"platform_id": launch.platform_id, "code": exc.code})
        return RosterUnavailable("unreachable" if exc.retryable and exc.code == "token_unreachable"
                                 else "token_refused", exc.detail)
    except ServiceError as exc:
        log.warning("roster unavailable", extra={"platform_id": launch.platform_id, "status": exc.status})
        code = "unreachable" if exc.status is None or exc.status >= 500 or exc.status == 429 else "refused"
        return RosterUnavailable("token_refused" if exc.status == 401 else code, exc.detail)
    store.set(key, [asdict(m) for m in members], ROSTER_TTL)
    return members


def learner_roster(launch: LaunchSession, *, tokens: ServiceTokens | None = None) -> list[Member] | RosterUnavailable:
    """The active learners of the launch's course (those who never launched included)."""
    members = course_members(launch, tokens=tokens)
    return members if isinstance(members, RosterUnavailable) else active_learners(members)
