"""Secrets at rest: symmetric encryption with a key derived from SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_HKDF_INFO = b"mentorat-ia/secrets-at-rest/v1"


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted: SECRET_KEY changed or the row is corrupt."""


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _app_fernet() -> Fernet:
    cache = current_app.extensions.setdefault("lti_tool_fernet", {})
    key = current_app.config["SECRET_KEY"]
    if key not in cache:
        cache.clear()
        cache[key] = _fernet(key)
    return cache[key]


def encrypt_secret(plaintext: bytes) -> bytes:
    """Encrypt `plaintext` for storage; authenticated, so tampering is detected on read."""
    return _app_fernet().encrypt(plaintext)


def decrypt_secret(token: bytes) -> bytes:
    """Decrypt a value written by `encrypt_secret`; raise `SecretUnreadable` if it cannot be."""
    try:
        return _app_fernet().decrypt(token)
    except InvalidToken as exc:
        raise SecretUnreadable("stored secret cannot be decrypted with the current SECRET_KEY") from exc


def new_token() -> str:
    """An unguessable URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a bearer token: its SHA-256, so a DB leak reveals no token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
