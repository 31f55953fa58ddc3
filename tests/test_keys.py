"""The tool's keys: encrypted at rest, published as a flat JWKS, rotated without breaking launches."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select

from lti_tool import create_app
from lti_tool.common.security import SecretUnreadable, decrypt_secret
from lti_tool.extensions import db
from lti_tool.lti.keys import signing_material
from lti_tool.lti.models import ToolKey
from lti_tool.common.time import utcnow

from .lti_platform import rsa_key


def published_kids(client) -> list[str]:
    body = client.get("/lti/jwks").get_json()
    assert set(body) == {"keys"}  # flat JWKS (pylti1p3 example #17)
    for key in body["keys"]:
        assert {"kty", "n", "e", "kid", "alg", "use"} <= set(key) and "d" not in key
    return [key["kid"] for key in body["keys"]]


def verify_with_jwks(client, token: str) -> dict:
    keys = {k["kid"]: k for k in client.get("/lti/jwks").get_json()["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    if kid not in keys:
        raise LookupError(kid)
    return jwt.decode(token, jwt.PyJWK(keys[kid]).key, algorithms=["RS256"], audience="platform")


def launch_signed_with(platform, client, key_name: str, kid: str):
    """A launch whose id_token is signed with the platform key `key_name`, announced as `kid`."""
    auth = platform.login(client)
    id_token = platform.sign(platform.claims(auth["nonce"]), key=rsa_key(key_name), kid=kid)
    return client.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})


def sign_now() -> str:
    kid, key = signing_material()
    return jwt.encode({"aud": "platform", "iss": "tool"}, key, algorithm="RS256", headers={"kid": kid})


def test_private_keys_are_encrypted_at_rest(app, client):
    published_kids(client)
    row = db.session.execute(select(ToolKey)).scalar_one()
    assert b"PRIVATE KEY" not in row.private_key_encrypted
    assert b"PRIVATE KEY" in decrypt_secret(row.private_key_encrypted)
    other = create_app("test", SECRET_KEY="another-secret", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    with other.app_context(), pytest.raises(SecretUnreadable):
        decrypt_secret(row.private_key_encrypted)


def test_rotation_keeps_old_signatures_verifiable_during_the_grace_period(app, client):
    [old_kid] = published_kids(client)
    signed_before = sign_now()

    result = app.test_cli_runner().invoke(args=["lti-tool", "rotate-keys", "--grace", "3600"])
    assert result.exit_code == 0, result.output
    kids = published_kids(client)
    assert len(kids) == 2 and old_kid in kids
    new_kid = next(k for k in kids if k != old_kid)
    assert new_kid in result.output and old_kid in result.output

    assert verify_with_jwks(client, signed_before)["iss"] == "tool"  # signed before, verified after
    # The new key is published ahead: the old one signs until platforms' cached JWKS have expired
    # (our JWKS says max-age=300), so that none meets a signature by a key it has not seen.
    assert client.get("/lti/jwks").headers["Cache-Control"] == "public, max-age=300"
    assert jwt.get_unverified_header(sign_now())["kid"] == old_kid
    new_row = db.session.execute(select(ToolKey).where(ToolKey.kid == new_kid)).scalar_one()
    assert timedelta(seconds=290) < new_row.signs_from - utcnow() <= timedelta(seconds=300)
    db.session.execute(ToolKey.__table__.update().where(ToolKey.kid == new_kid)
                       .values(signs_from=utcnow()))  # five minutes later: its turn has come
    db.session.commit()
    signed_after = sign_now()
    assert jwt.get_unverified_header(signed_after)["kid"] == new_kid
    assert verify_with_jwks(client, signed_after)["iss"] == "tool"

    # Grace period over: the old key leaves the JWKS; `purge` deletes it.
    db.session.execute(ToolKey.__table__.update().where(ToolKey.kid == old_kid)
                       .values(retire_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert published_kids(client) == [new_kid]
    with pytest.raises(LookupError):
        verify_with_jwks(client, signed_before)
    assert app.test_cli_runner().invoke(args=["lti-tool", "purge"]).exit_code == 0
    assert [k.kid for k in db.session.execute(select(ToolKey)).scalars()] == [new_kid]


def test_a_first_rotation_signs_at_once_and_a_waiting_key_is_never_outranked(app, client):
    """On a fresh install (no key yet) the rotated-in key signs at once. While a new key waits
    for its turn, the old one keeps signing, and no other key is made behind their backs."""
    runner = app.test_cli_runner()
    assert "signs now" in runner.invoke(args=["lti-tool", "rotate-keys"]).output
    [first] = published_kids(client)
    assert jwt.get_unverified_header(sign_now())["kid"] == first
    assert runner.invoke(args=["lti-tool", "rotate-keys", "--grace", "-5"]).exit_code == 0  # grace floored at 0
    second = next(k for k in published_kids(client) if k != first)
    for _ in range(2):
        assert jwt.get_unverified_header(sign_now())["kid"] == first
    assert db.session.execute(select(func.count()).select_from(ToolKey)).scalar_one() == 2
    old = db.session.execute(select(ToolKey).where(ToolKey.kid == first)).scalar_one()
    new = db.session.execute(select(ToolKey).where(ToolKey.kid == second)).scalar_one()
    assert old.retire_at >= new.signs_from  # published at least until the new one signs
    db.session.execute(ToolKey.__table__.update().where(ToolKey.kid == second)
                       .values(signs_from=utcnow()))
    db.session.commit()
    assert jwt.get_unverified_header(sign_now())["kid"] == second


def test_launch_started_before_a_rotation_completes_after_it(app, client, platform):
    published_kids(client)
    auth = platform.login(client)
    assert app.test_cli_runner().invoke(args=["lti-tool", "rotate-keys"]).exit_code == 0
    id_token = platform.sign(platform.claims(auth["nonce"]))
    response = client.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})
    assert response.status_code == 200


def test_platform_key_rotation_is_picked_up_on_unknown_kid(app, client, platform, http_mock):
    assert platform.launch(client).status_code == 200  # the tool now caches the platform's JWKS
    platform.extra_keys.append(("platform-key-2", "platform-a-next"))
    assert launch_signed_with(platform, client, "platform-a-next", "platform-key-2").status_code == 200
    fetches = [c for c in http_mock.calls if c.request.url == platform.jwks_url]
    assert len(fetches) == 2  # first launch, then one refresh for the new kid


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_a_key_the_platform_withdraws_is_refused_once_its_jwks_cache_expires(app, client, platform, http_mock):
    app.config["PLATFORM_JWKS_TTL"] = 2
    assert platform.launch(client).status_code == 200  # platform-key-1 parsed and trusted
    fetched_by = time.time()  # the JWKS was fetched before this
    # The platform rotates: its JWKS now lists only the new key.
    platform.kid, platform.key_name = "platform-key-2", "platform-a-next"
    withdrawn = ("platform-a", "platform-key-1")

    assert launch_signed_with(platform, client, *withdrawn).status_code == 200  # still within the cache's life
    sleep_until(fetched_by + 2.2)
    refused = launch_signed_with(platform, client, *withdrawn)
    assert refused.status_code == 401 and "unknown_key" in refused.get_data(as_text=True)
    assert platform.launch(client).status_code == 200  # the new key works


def test_a_worker_that_parses_a_key_late_trusts_it_no_longer_than_the_cached_jwks(app, client, platform):
    """The trust in a parsed key runs from when the JWKS was fetched (by any worker), not from
    when this worker parsed it."""
    app.config["PLATFORM_JWKS_TTL"] = 3
    started = time.time()
    assert platform.launch(client).status_code == 200  # the JWKS is fetched and cached now
    fetched_by = time.time()  # ... between `started` and this
    sleep_until(fetched_by + 1.0)
    app.extensions["lti_tool_platform_keys"].clear()  # another worker, which has parsed nothing yet
    platform.kid, platform.key_name = "platform-key-2", "platform-a-next"  # the platform withdraws key 1
    withdrawn = ("platform-a", "platform-key-1")

    assert time.time() < started + 3  # (the machine was not too slow for this check to mean anything)
    assert launch_signed_with(platform, client, *withdrawn).status_code == 200  # the cached JWKS still lists it
    # The cached JWKS has expired; this worker parsed the key only ~2.3 s ago (trusted 3 s from parsing, it would pass).
    sleep_until(fetched_by + 3.3)
    assert launch_signed_with(platform, client, *withdrawn).status_code == 401


def test_platform_jwks_is_cached_between_launches(app, client, platform, http_mock):
    for _ in range(3):
        assert platform.launch(client).status_code == 200
    assert len([c for c in http_mock.calls if c.request.url == platform.jwks_url]) == 1


def test_unreachable_platform_jwks_is_a_clear_502(app, client, http_mock):
    from .lti_platform import TestPlatform

    down = TestPlatform(issuer="https://down.test")
    down.register()
    http_mock.add("GET", down.jwks_url, status=503)
    auth = down.login(client)
    response = client.post("/lti/launch", data={"id_token": down.sign(down.claims(auth["nonce"])),
                                                "state": auth["state"]})
    assert response.status_code == 502
    assert "platform_unreachable" in response.get_data(as_text=True)
