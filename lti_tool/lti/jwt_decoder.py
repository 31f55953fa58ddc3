"""PyJWT's decode, with its base64url segment check done in C.

Since 2.14 (GHSA-hxm8-2xgr-2p9m), PyJWT refuses a segment holding characters outside the
base64url alphabet by testing them one at a time in a Python generator. For a launch's id_token
(2 KB with the AGS and custom claims Moodle sends) that test costs more than the rest of the
verification, RSA signature included. `decode` is jwt.decode with the same test made by
bytes.translate: the same segments pass and fail (tests/test_jwt_decoder.py compares both on a
corpus), and all the rest (signature, claims, errors) is PyJWT's own.

The check is swapped on PyJWT's own decoder object (its `_jws`); a PyJWT release that moves it
makes FAST_SEGMENTS false, which a test reports, and `decode` stays correct, only slower.
"""

from __future__ import annotations

import binascii
from typing import Any

import jwt
from jwt.utils import base64url_decode, base64url_encode

_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def decode_segment(segment: bytes, name: str) -> bytes:
    """One segment of a compact JWS, decoded as PyJWT decodes it: at most two trailing `=`
    (then a length that is a multiple of 4), only base64url characters, canonical encoding."""
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if (padding > 2 or (padding and len(segment) % 4 != 0) or len(stripped) % 4 == 1
            or stripped.translate(None, _BASE64URL)):
        raise jwt.DecodeError(f"Invalid {name} padding")
    try:
        decoded = base64url_decode(stripped)
    except (TypeError, binascii.Error) as err:
        raise jwt.DecodeError(f"Invalid {name} padding") from err
    if base64url_encode(decoded) != stripped:
        raise jwt.DecodeError(f"Invalid {name} padding")
    return decoded


class _FastSegmentsJWS(jwt.PyJWS):
    _decode_base64url_segment = staticmethod(decode_segment)


def _make_decoder() -> tuple[jwt.PyJWT, bool]:
    decoder = jwt.PyJWT()
    if isinstance(getattr(decoder, "_jws", None), jwt.PyJWS) and callable(
            getattr(jwt.PyJWS, "_decode_base64url_segment", None)):
        decoder._jws = _FastSegmentsJWS()
        return decoder, True
    return decoder, False


_DECODER, FAST_SEGMENTS = _make_decoder()


def decode(token: str, key: Any, **kwargs: Any) -> dict[str, Any]:
    """jwt.decode(token, key, **kwargs)."""
    return _DECODER.decode(token, key, **kwargs)
