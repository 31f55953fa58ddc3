"""lti_tool.lti.jwt_decoder: PyJWT's decode with its segment check in C, the same segments
passing and failing as with PyJWT's own check."""

from __future__ import annotations

import base64
import random
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.lti import jwt_decoder

PYJWT_CHECK = jwt.PyJWS._decode_base64url_segment


def _outcome(check, segment: bytes):
    try:
        return "ok", check(segment, "payload")
    except jwt.DecodeError as exc:
        return "refused", str(exc)


def _corpus() -> list[bytes]:
    rng = random.Random(20261206)
    segments = [b"", b"=", b"==", b"===", b"A", b"AA", b"AAA", b"AAAA", b"AA==", b"AAA=", b"AB==", b"AAB=",
                b"QQ", b"QR", b"QQ==", b"QQ=", b"QQ===", b"Zm9v", b"Zm9v!!!!", b"Zm9v\n", b" Zm9v", b"Zm+v", b"Zm/v",
                b"Zm9v=Zm9v", b"eyJhIjoxfQ", b"eyJhIjoxfQ==", b"eyJhIjoxfR", "é".encode()]
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    junk = b"+/=!.\n \x00\xff~"
    for _ in range(3000):
        length = rng.randrange(0, 40)
        segment = bytearray(rng.choice(alphabet) for _ in range(length))
        if rng.random() < 0.4 and segment:  # one junk character somewhere
            segment[rng.randrange(len(segment))] = rng.choice(junk)
        if rng.random() < 0.3:
            segment += b"=" * rng.randrange(1, 4)
        segments.append(bytes(segment))
    for _ in range(300):  # real encodings of random bytes, padded or not
        encoded = base64.urlsafe_b64encode(rng.randbytes(rng.randrange(0, 30)))
        segments += [encoded, encoded.rstrip(b"=")]
    return segments


def test_the_segment_check_passes_and_fails_what_pyjwts_does():
    corpus = _corpus()
    outcomes = {"ok": 0, "refused": 0}
    for segment in corpus:
        ours, theirs = _outcome(jwt_decoder.decode_segment, segment), _outcome(PYJWT_CHECK, segment)
        assert ours == theirs, segment
        outcomes[ours[0]] += 1
    assert outcomes["ok"] > 500 and outcomes["refused"] > 500  # the corpus tries both ways


def test_decode_is_pyjwts_with_the_fast_check():
    """With the PyJWT this project pins, the fast check is in place; if an upgrade moved PyJWT's
    decoder, this fails (decode would still be right, only slower)."""
    assert jwt_decoder.FAST_SEGMENTS
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": "https://moodle.test", "aud": "client-1", "exp": now + 60, "iat": now, "nonce": "n-1",
              "https://purl.imsglobal.org/spec/lti/claim/custom": {"note": "é ~~~ >>> ???"}}
    token = jwt.encode(claims, key, algorithm="RS256")
    options = {"require": ["exp", "iat", "iss", "aud", "nonce"]}
    assert jwt_decoder.decode(token, key.public_key(), algorithms=["RS256"], audience="client-1",
                              issuer="https://moodle.test", options=options) == claims
    header, payload, signature = token.split(".")
    refusals = {
        "junk in the signature": (f"{header}.{payload}.{signature}!!", jwt.DecodeError),
        "junk in the payload": (f"{header}.{payload[:-1]}*.{signature}", jwt.DecodeError),
        "another payload": (f"{header}.{payload[:-2] + ('A' if payload[-2] != 'A' else 'B') + payload[-1]}.{signature}",
                            jwt.PyJWTError),
    }
    for name, (forged, error) in refusals.items():
        with pytest.raises(error):
            jwt_decoder.decode(forged, key.public_key(), algorithms=["RS256"], audience="client-1",
                               issuer="https://moodle.test", options=options)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt_decoder.decode(token, key.public_key(), algorithms=["RS256"], audience="client-2",
                           issuer="https://moodle.test", options=options)
    expired = jwt.encode(claims | {"exp": now - 3600}, key, algorithm="RS256")
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt_decoder.decode(expired, key.public_key(), algorithms=["RS256"], audience="client-1",
                           issuer="https://moodle.test", options=options)
