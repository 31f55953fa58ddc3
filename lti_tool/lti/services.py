"""Platforms, invites, launches and launch sessions. Services flush; the request commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, literal, select, update
from sqlalchemy.orm import joinedload

from ..common.db import insert_ignoring_conflict
from ..common.network import origins_of
from ..common.security import new_token, token_digest
from ..extensions import db
from .errors import LtiRefusal
from .models import Context, Deployment, LaunchSession, LinkOpening, LtiUser, Platform, RegistrationInvite, ResourceLink
from ..common.time import utcnow
from .registry import forget_platforms, platforms_of
from .roles import map_roles

log = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


# --- platforms -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformSpec:
    issuer: str
    client_id: str
    deployment_ids: tuple[str, ...]
    auth_login_url: str
    auth_token_url: str
    key_set_url: str | None = None
    key_set: dict[str, Any] | None = None
    auth_audience: str | None = None
    name: str = ""
    method: str = "manual"
    product_family_code: str | None = None
    scopes: str = ""


def platform_origins(platform) -> frozenset[str]:
    """Where `platform` (a `Platform` row or a registry `PlatformRecord`) lives: the origins of its
    issuer and of its registered login, token and key set URLs. The tool calls its services
    there, and its pages may be framed there."""
    return origins_of((platform.issuer, platform.auth_login_url, platform.auth_token_url, platform.key_set_url))


def issuer_origins(issuer: str) -> frozenset[str]:
    """Where the platform that says it is `issuer` lives, before its launch is verified: the
    registered origins of the platforms registered under `issuer`, or the issuer's own origin
    when none is (where the refusal saying so is shown)."""
    return frozenset().union(*map(platform_origins, platforms_of(issuer))) or origins_of((issuer,))


def save_platform(spec: PlatformSpec) -> Platform:
    """Create or update the platform (issuer, client id) and add its deployments. Flushes.

    Registering the same issuer and client id again updates its endpoints and keeps its data.
    (Moodle gives each new registration a new client id: that is a new platform row.)
    """
    platform = db.session.execute(
        select(Platform).where(Platform.issuer == spec.issuer, Platform.client_id == spec.client_id)
    ).scalar_one_or_none()
    if platform is None:
        platform = Platform(issuer=spec.issuer, client_id=spec.client_id)
        db.session.add(platform)
    platform.name = spec.name or platform.name or spec.issuer
    platform.auth_login_url = spec.auth_login_url
    platform.auth_token_url = spec.auth_token_url
    platform.auth_audience = spec.auth_audience
    platform.key_set_url = spec.key_set_url
    platform.key_set = spec.key_set
    platform.registration_method = spec.method
    platform.product_family_code = spec.product_family_code
    platform.scopes = spec.scopes
    platform.active = True
    db.session.flush()
    _add_deployments(platform, spec.deployment_ids)
    log.info("platform saved", extra={"platform_id": platform.id, "method": spec.method})
    return platform


def _deployment_ids(platform_id: int) -> set[str]:
    return set(db.session.execute(select(Deployment.deployment_id).where(Deployment.platform_id == platform_id)).scalars())


def _add_deployments(platform: Platform, deployment_ids) -> list[str]:
    """Store the deployment ids `platform` does not have yet; returns those added. Flushes."""
    known = _deployment_ids(platform.id)
    added = []
    for deployment_id in deployment_ids:
        if deployment_id not in known:
            db.session.add(Deployment(platform_id=platform.id, deployment_id=deployment_id))
            known.add(deployment_id)
            added.append(deployment_id)
    db.session.flush()
    forget_platforms()
    return added


def adopt_first_deployment(platform_id: int, deployment_id: str) -> bool:
    """Record the deployment of the first signed launch of a platform registered without one
    (the caller has checked the signature). True if `deployment_id` is now the platform's
    deployment; False if another one got there first (another worker's cache may be behind:
    the platform row is locked and its deployments counted again). Flushes."""
    db.session.execute(select(Platform.id).where(Platform.id == platform_id).with_for_update())
    known = _deployment_ids(platform_id)
    if known:
        return deployment_id in known
    insert_ignoring_conflict(Deployment, platform_id=platform_id, deployment_id=deployment_id)
    db.session.flush()
    forget_platforms()
    log.info("first deployment recorded", extra={"platform_id": platform_id})
    return True


def add_deployments(issuer: str, client_id: str, deployment_ids) -> tuple[Platform, list[str]]:
    """Add deployment ids to a registered platform (a platform whose registration named none, as
    Canvas's does, or a second deployment of the tool). LookupError if it is not registered."""
    platform = platform_by_keys(issuer, client_id)
    if platform is None:
        raise LookupError(f"no platform {issuer} with client id {client_id}")
    added = _add_deployments(platform, deployment_ids)
    log.info("deployments added", extra={"platform_id": platform.id, "count": len(added)})
    return platform, added


def platform_by_keys(issuer: str, client_id: str) -> Platform | None:
    """The registration (issuer, client id), active or not."""
    return db.session.execute(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).scalar_one_or_none()


def platform_timezone(platform_id: int) -> str | None:
    """The centre's time zone (None: the operator's TIMEZONE)."""
    return db.session.get(Platform, platform_id).timezone


def set_platform_timezone(platform_id: int, name: str | None) -> None:
    """Show the centre's times in `name` (an IANA time zone; None: the operator's). Flushes."""
    db.session.get(Platform, platform_id).timezone = name
    db.session.flush()
    forget_platforms()


def platform_user(platform_id: int, user_pk: int) -> LtiUser | None:
    """The user `user_pk` if the platform knows them (never another platform's)."""
    return db.session.execute(select(LtiUser).where(LtiUser.id == user_pk, LtiUser.platform_id == platform_id)
                              ).scalar_one_or_none()


def user_by_sub(issuer: str, client_id: str, sub: str) -> LtiUser | None:
    """The user a registration (issuer, client id) knows as `sub` (its own user id)."""
    return db.session.execute(select(LtiUser).join(Platform, Platform.id == LtiUser.platform_id).where(
        Platform.issuer == issuer, Platform.client_id == client_id, LtiUser.sub == sub)).scalar_one_or_none()


def user_pks_by_sub(platform_id: int, subs) -> dict[str, int]:
    """{platform user id: our user id} of those of `subs` the platform's users include."""
    subs = list(subs)
    if not subs:
        return {}
    return {sub: pk for pk, sub in db.session.execute(select(LtiUser.id, LtiUser.sub).where(
        LtiUser.platform_id == platform_id, LtiUser.sub.in_(subs))).all()}


def users_with_sub_prefix(platform_id: int, prefix: str) -> list[tuple[str, str]]:
    """(platform user id, name) of the platform's users whose user id starts with `prefix`, by id
    (the demo's seeded class)."""
    return [(sub, name) for sub, name in db.session.execute(
        select(LtiUser.sub, LtiUser.name).where(LtiUser.platform_id == platform_id, LtiUser.sub.startswith(prefix,
                                                                                                        autoescape=True))
        .order_by(LtiUser.sub)).all()]


def openers_by_link(link_pks) -> dict[int, set[int]]:
    """{resource link: who ever launched it} for each of `link_pks` (empty sets included)."""
    found: dict[int, set[int]] = {pk: set() for pk in link_pks}
    if found:
        for link_pk, user_pk in db.session.execute(select(LinkOpening.resource_link_pk, LinkOpening.user_pk)
                                                   .where(LinkOpening.resource_link_pk.in_(list(found)))):
            found[link_pk].add(user_pk)
    return found


def names_in_course(platform_id: int, context_pk: int | None, user_pk: int) -> set[str]:
    """The name of user `user_pk`, and of everyone with a launch session in the course (learners,
    trainers): names the AI assistant's privacy guard hides."""
    query = select(LtiUser.name).where(LtiUser.id == user_pk, LtiUser.platform_id == platform_id)
    if context_pk is not None:
        query = query.union(select(LtiUser.name).join(LaunchSession, LaunchSession.user_pk == LtiUser.id).where(
            LaunchSession.platform_id == platform_id, LaunchSession.context_pk == context_pk))
    return {name for name in db.session.execute(query).scalars() if name}


def course_titles(platform_id: int, context_pks) -> dict[int, str]:
    """{course: its title (else its label)} of the platform's courses among `context_pks`."""
    pks = list(context_pks)
    if not pks:
        return {}
    rows = db.session.execute(select(Context.id, Context.title, Context.label).where(
        Context.platform_id == platform_id, Context.id.in_(pks)))
    return {pk: title or label or "" for pk, title, label in rows}


def list_platforms() -> list[Platform]:
    return list(db.session.execute(select(Platform).order_by(Platform.id)).scalars())


# --- registration invites ------------------------------------------------------------------


def create_invite(ttl_seconds: int) -> str:
    """A new one-time registration token (returned once; only its digest is stored). Flushes."""
    token = new_token()
    db.session.add(RegistrationInvite(token_digest=token_digest(token), expires_at=utcnow() + timedelta(seconds=ttl_seconds)))
    db.session.flush()
    return token


def check_invite(token: str | None) -> RegistrationInvite:
    """The invite for `token` if it can still be used; otherwise the refusal that says why."""
    if not token:
        raise LtiRefusal("invite_unknown")
    invite = db.session.execute(
        select(RegistrationInvite).where(RegistrationInvite.token_digest == token_digest(token))
    ).scalar_one_or_none()
    if invite is None:
        raise LtiRefusal("invite_unknown")
    if invite.used_at is not None:
        raise LtiRefusal("invite_used")
    if invite.expires_at <= utcnow():
        raise LtiRefusal("invite_expired")
    return invite


def consume_invite(invite: RegistrationInvite, platform: Platform) -> None:
    """Mark the invite used, once: a concurrent second use is refused."""
    result = db.session.execute(
        update(RegistrationInvite)
        .where(RegistrationInvite.id == invite.id, RegistrationInvite.used_at.is_(None))
        .values(used_at=utcnow(), platform_id=platform.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LtiRefusal("invite_used")


# --- launches ------------------------------------------------------------------------------


def _display_name(claims: dict[str, Any]) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return (name or "").strip()[:255]


def _launch_keys(claims: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """(resource link id, context claim) of a launch. Links always live in a course: a platform
    launching a link without one gets a course of its own, named after the link."""
    link_id = claims[CLAIM + "resource_link"]["id"] if claims[CLAIM + "message_type"] == "LtiResourceLinkRequest" else None
    context_claim = claims.get(CLAIM + "context")
    if not context_claim and link_id:
        context_claim = {"id": "link:" + link_id}
    return link_id, context_claim


def known_rows(platform_id: int, claims: dict[str, Any]) -> tuple[LtiUser | None, Context | None,
                                                              ResourceLink | None, bool]:
    """(user, course, link) already stored for this launch, each None if new, and whether the user
    opened the link before: one query with four outer joins, not four."""
    link_id, context_claim = _launch_keys(claims)
    anchor = select(literal(1).label("one")).subquery()
    user, context, link, opened = db.session.execute(
        select(LtiUser, Context, ResourceLink, LinkOpening.id)
        .select_from(anchor)
        .outerjoin(LtiUser, and_(LtiUser.platform_id == platform_id, LtiUser.sub == str(claims["sub"])))
        .outerjoin(Context, and_(Context.platform_id == platform_id,
                                 Context.context_id == (context_claim["id"] if context_claim else "")))
        .outerjoin(ResourceLink, and_(ResourceLink.platform_id == platform_id,
                                      ResourceLink.resource_link_id == (link_id or "")))
        .outerjoin(LinkOpening, and_(LinkOpening.resource_link_pk == ResourceLink.id,
                                     LinkOpening.user_pk == LtiUser.id))
    ).one()
    return user, context if context_claim else None, link if link_id else None, opened is not None


def _get_or_create(model, found, keys: dict[str, Any], defaults: dict[str, Any]):
    """`found`, or the row of `model` with `keys`, inserted if missing; safe when a class opens
    a new activity at the same moment (no duplicate-key error: everyone reads the one row)."""
    if found is not None:
        return found
    insert_ignoring_conflict(model, **keys, **defaults)
    return db.session.execute(select(model).filter_by(**keys)).scalar_one()


# What a launch says of its user, course and link. An empty value (None, "") keeps what is
# stored: Moodle sends names only if the registration asks for them, titles only if set. A custom
# claim left out keeps the stored parameters; an empty one says the link has none any more.
def _user_values(claims: dict[str, Any]) -> dict[str, Any]:
    return {"name": _display_name(claims)}


def _context_values(claim: dict[str, Any]) -> dict[str, Any]:
    return {"title": str(claim.get("title") or "")[:255], "label": str(claim.get("label") or "")[:255]}


def _link_values(claims: dict[str, Any]) -> dict[str, Any]:
    custom = claims.get(CLAIM + "custom")
    ags = claims.get(AGS_CLAIM)
    return {
        "title": str(claims[CLAIM + "resource_link"].get("title") or "")[:255],
        "custom": {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else None,
        "lineitem_url": ags["lineitem"] if isinstance(ags, dict) and isinstance(ags.get("lineitem"), str) else None,
    }


def _changes(row, values: dict[str, Any]) -> dict[str, Any]:
    """The attributes of stored `row` that `values` change (empty values keep the stored one)."""
    return {name: value for name, value in values.items()
            if value is not None and value != "" and value != getattr(row, name)}


LAST_LAUNCH_PRECISION = timedelta(hours=1)  # coarse on purpose: no write per launch


def _user_changes(user: LtiUser, claims: dict[str, Any], now) -> dict[str, Any]:
    changes = _changes(user, _user_values(claims))
    if now - user.last_launch_at > LAST_LAUNCH_PRECISION:
        changes["last_launch_at"] = now
    return changes


def _upsert_user(platform_id: int, found: LtiUser | None, claims: dict[str, Any]) -> LtiUser:
    now = utcnow()
    user = _get_or_create(LtiUser, found, {"platform_id": platform_id, "sub": str(claims["sub"])},
                          {**_user_values(claims), "created_at": now, "last_launch_at": now})
    for name, value in _user_changes(user, claims, now).items():
        setattr(user, name, value)
    return user


def _upsert_context(platform_id: int, found: Context | None, claim: dict[str, Any]) -> Context:
    values = _context_values(claim)
    context = _get_or_create(Context, found, {"platform_id": platform_id, "context_id": claim["id"]}, values)
    for name, value in _changes(context, values).items():
        setattr(context, name, value)
    return context


def _upsert_link(platform_id: int, found: ResourceLink | None, context: Context,
                 claims: dict[str, Any]) -> ResourceLink:
    values = _link_values(claims)
    link = _get_or_create(ResourceLink, found,
                          {"platform_id": platform_id, "resource_link_id": claims[CLAIM + "resource_link"]["id"]},
                          {**values, "context_pk": context.id, "custom": values["custom"] or {}})
    if link.context_pk != context.id:
        # A resource link id names one placement in one course; a claim saying otherwise is refused.
        raise LtiRefusal("not_in_scope", detail="resource link moved between contexts")
    for name, value in _changes(link, values).items():
        setattr(link, name, value)
    return link


def _services(claims: dict[str, Any]) -> dict[str, Any]:
    """What later requests need from the id_token: service endpoints and deep-linking settings."""
    services: dict[str, Any] = {}
    for key, claim in (("ags", AGS_CLAIM), ("nrps", NRPS_CLAIM), ("deep_linking", DL_SETTINGS)):
        if isinstance(claims.get(claim), dict):
            services[key] = claims[claim]
    return services


@dataclass(frozen=True)
class OpenedSession:
    token: str  # the bearer token, returned once: only its digest is stored
    session: LaunchSession


def open_launch_session(platform_id: int, claims: dict[str, Any], locale: str, ttl_seconds: int) -> OpenedSession:
    """Record a validated launch: its user, course and link as the claims describe them (all
    scoped to the platform; nothing written where nothing changed), and a new launch session.
    Flushes; the launch commits it with the rest of its request."""
    user, context, link = store_as_claimed(platform_id, claims)
    token = new_token()
    now = utcnow()
    session = LaunchSession(
        token_digest=token_digest(token), platform_id=platform_id, deployment_id=claims[CLAIM + "deployment_id"],
        # The objects, not their ids: the page then shows them without loading them again.
        user=user, context=context, resource_link=link, role=map_roles(claims.get(CLAIM + "roles") or []),
        message_type=claims[CLAIM + "message_type"], locale=locale, services=_services(claims),
        created_at=now, expires_at=now + timedelta(seconds=ttl_seconds))
    db.session.add(session)
    db.session.flush()
    log.info("launch accepted", extra={"platform_id": platform_id, "session_id": session.id,
                                       "role": session.role, "type": session.message_type})
    return OpenedSession(token=token, session=session)


def store_as_claimed(platform_id: int, claims: dict[str, Any]) -> tuple[LtiUser, Context | None, ResourceLink | None]:
    """Upsert the launch's user, course and link as its claims describe them, reading them
    first. Flushes."""
    link_id, context_claim = _launch_keys(claims)
    found_user, found_context, found_link, opened = known_rows(platform_id, claims)
    user = _upsert_user(platform_id, found_user, claims)
    context = _upsert_context(platform_id, found_context, context_claim) if context_claim else None
    link = _upsert_link(platform_id, found_link, context, claims) if link_id else None
    if link is not None and not opened:  # a returning launch writes nothing here
        insert_ignoring_conflict(LinkOpening, resource_link_pk=link.id, user_pk=user.id, first_opened_at=utcnow())
    return user, context, link


def find_launch_session(token: str) -> LaunchSession | None:
    """The launch session for `token`, live or expired (`is_live` says), with its platform, user,
    course and link; None if the token is unknown."""
    return db.session.execute(
        select(LaunchSession)
        .where(LaunchSession.token_digest == token_digest(token))
        .options(joinedload(LaunchSession.platform), joinedload(LaunchSession.user),
                 joinedload(LaunchSession.context), joinedload(LaunchSession.resource_link))
    ).scalar_one_or_none()


def resource_link_in_scope(session: LaunchSession, link_pk: int) -> ResourceLink:
    """The resource link `link_pk` if it belongs to the session's platform and course."""
    link = db.session.execute(
        select(ResourceLink).where(
            ResourceLink.id == link_pk,
            ResourceLink.platform_id == session.platform_id,
            ResourceLink.context_pk == session.context_pk,
        )
    ).scalar_one_or_none()
    if link is None:
        raise LtiRefusal("not_in_scope")
    return link


def purge_expired_sessions() -> int:
    """Delete expired launch sessions. Returns how many."""
    result = db.session.execute(delete(LaunchSession).where(LaunchSession.expires_at <= utcnow()))
    return result.rowcount or 0
