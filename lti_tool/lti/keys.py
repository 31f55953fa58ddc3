"""The tool's RSA key pairs: creation, rotation, the published JWKS, and loaded signing keys."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, or_, select

from ..common.security import decrypt_secret, encrypt_secret
from ..extensions import db
from .models import ToolKey
from ..common.time import utcnow

log = logging.getLogger(__name__)

_loaded_lock = threading.Lock()


def _loaded_keys() -> dict[str, rsa.RSAPrivateKey]:
    # Parsing a PEM costs ~60 ms: keep each loaded key object for the life of the process.
    return current_app.extensions.setdefault("lti_tool_loaded_keys", {})


# How long platforms may cache our JWKS (its Cache-Control): a new key is published this long
# before it signs, so that no platform holds a copy without it when its first signature arrives.
JWKS_MAX_AGE = 300


def create_key(signs_from: datetime | None = None) -> ToolKey:
    """Generate a 2048-bit RSA key pair and store it, the private half encrypted. Flushes."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex
    public_jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    public_jwk.pop("key_ops", None)  # RFC 7517 §4.3: not together with "use"
    public_jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = ToolKey(kid=kid, public_jwk=public_jwk, private_key_encrypted=encrypt_secret(pem), signs_from=signs_from)
    db.session.add(key)
    db.session.flush()
    with _loaded_lock:
        _loaded_keys()[kid] = private_key
    log.info("tool key created", extra={"kid": kid})
    return key


def current_signing_key() -> ToolKey:
    """The published key that started signing last (a rotated-in key once its `signs_from` has
    come); if none has started yet, the newest published one; created on first use only."""
    now = utcnow()
    starts = func.coalesce(ToolKey.signs_from, ToolKey.created_at)
    published = select(ToolKey).where(or_(ToolKey.retire_at.is_(None), ToolKey.retire_at > now))
    key = db.session.execute(
        published.where(starts <= now).order_by(starts.desc(), ToolKey.id.desc())
    ).scalars().first() or db.session.execute(
        published.order_by(starts.asc(), ToolKey.id.asc())
    ).scalars().first()
    return key or create_key()


def private_key_for(key: ToolKey) -> rsa.RSAPrivateKey:
    """The loaded private key object of `key`, parsed once per process."""
    cache = _loaded_keys()
    loaded = cache.get(key.kid)
    if loaded is None:
        loaded = serialization.load_pem_private_key(decrypt_secret(key.private_key_encrypted), password=None)
        with _loaded_lock:
            cache[key.kid] = loaded
    return loaded


def signing_material() -> tuple[str, rsa.RSAPrivateKey]:
    """(kid, private key) to sign a JWT with now."""
    key = current_signing_key()
    return key.kid, private_key_for(key)


def published_keys() -> list[ToolKey]:
    now = utcnow()
    return list(
        db.session.execute(
            select(ToolKey).where(or_(ToolKey.retire_at.is_(None), ToolKey.retire_at > now)).order_by(ToolKey.id)
        ).scalars()
    )


def public_jwks() -> dict:
    """The flat JWKS the platforms fetch: every key still in use or within its grace period."""
    keys = published_keys()
    if not keys:
        keys = [current_signing_key()]
    return {"keys": [k.public_jwk for k in keys]}


def rotate_keys(grace_seconds: int, publish_ahead_seconds: int = JWKS_MAX_AGE) -> tuple[ToolKey, list[ToolKey]]:
    """Add a new key, published now, signing after `publish_ahead_seconds`; the previous ones
    sign until then and leave the JWKS `grace_seconds` after it.

    Platforms cache our JWKS: publishing ahead means none meets a signature by a key it has not
    seen; the grace means signatures made with an old key (a deep-linking response in flight, an
    AGS token request) still verify.
    """
    now = utcnow()
    previous = list(db.session.execute(select(ToolKey).where(ToolKey.retire_at.is_(None))).scalars())
    # With no key in use yet there is nothing to phase out: the first key signs at once.
    signs_from = now + timedelta(seconds=max(0, publish_ahead_seconds)) if previous else None
    retire_at = (signs_from or now) + timedelta(seconds=max(0, grace_seconds))
    for key in previous:
        key.retire_at = retire_at
    new_key = create_key(signs_from)
    return new_key, previous


def purge_expired_keys() -> int:
    """Delete keys whose grace period is over. Returns how many."""
    now = utcnow()
    expired = list(db.session.execute(select(ToolKey).where(ToolKey.retire_at <= now)).scalars())
    for key in expired:
        db.session.delete(key)
        _loaded_keys().pop(key.kid, None)
    return len(expired)
