"""Service tokens: client_credentials with a JWT assertion the platform verifies with our JWKS;
one token for many scores, cached (encrypted) until shortly before it expires."""

from __future__ import annotations

import time

import jwt
import pytest

from lti_tool.gradebook.ags import SCOPE_LINEITEM, SCOPE_SCORE
from lti_tool.gradebook.delivery import drain
from lti_tool.gradebook.token import ServiceTokens, TokenEndpoint, TokenError
from lti_tool.lti.models import Platform

from .grading_fixtures import T0, enqueue, launch, moodle, sender  # noqa: F401


def endpoint(platform_row: Platform, audience: str | None = None) -> TokenEndpoint:
    return TokenEndpoint(platform_row.id, platform_row.client_id, platform_row.auth_token_url, audience)


def test_one_token_for_many_scores_and_the_assertion_verifies_with_the_tool_jwks(client, platform, moodle, sender):
    moodle.add_line_item("M1", 10, resource_link_id="link-1")
    session = launch(client, platform, moodle)
    for n in range(5):
        moodle.enrol(f"learner-{n}")
        enqueue(session, "quiz", sub=f"learner-{n}", score=n, maximum=5)

    report = drain(now=T0, sender=sender)
    enqueue(session, "quiz", sub="learner-0", score=5, maximum=5)
    drain(now=T0, sender=sender)

    assert report.sent == 5 and len(moodle.accepted) == 6
    (request,) = moodle.token_requests
    assert request["grant_type"] == "client_credentials"
    assert request["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert request["scope"] == " ".join(sorted([SCOPE_LINEITEM, SCOPE_SCORE]))
    assertion = request["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    keys = {k["kid"]: k for k in client.get("/lti/jwks").get_json()["keys"]}
    claims = jwt.decode(assertion, jwt.PyJWK(keys[header["kid"]]).key, algorithms=["RS256"],
                        audience=platform.token_url)
    assert header["alg"] == "RS256"
    assert claims["iss"] == claims["sub"] == platform.client_id
    assert claims["exp"] - claims["iat"] == 300 and abs(claims["iat"] - time.time()) < 60
    assert len(claims["jti"]) >= 16


def test_token_is_cached_encrypted_per_scope_set_until_a_minute_before_expiry(app, platform, moodle):
    store = app.extensions["lti_store"]
    tokens = ServiceTokens.for_app()
    target = endpoint(_platform())
    first = tokens.get(target, [SCOPE_SCORE, SCOPE_LINEITEM])
    again = tokens.get(target, [SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_SCORE])  # same set, any order
    assert first.value == again.value and tokens.requests_made == 1
    cached = store.get(ServiceTokens.cache_key(target, [SCOPE_SCORE, SCOPE_LINEITEM]))
    assert first.value not in str(cached), "bearer tokens are encrypted at rest"
    assert first.granted == {SCOPE_SCORE, SCOPE_LINEITEM}
    tokens.get(target, [SCOPE_SCORE])  # another scope set, another token
    assert tokens.requests_made == 2
    tokens.invalidate(target, [SCOPE_SCORE, SCOPE_LINEITEM])
    assert tokens.get(target, [SCOPE_SCORE, SCOPE_LINEITEM]).value != first.value

    moodle.token_ttl = 50  # shorter than the 60 s margin: never cached
    short = ServiceTokens.for_app()
    short.get(target, ["x", SCOPE_SCORE])
    short.get(target, ["x", SCOPE_SCORE])
    assert short.requests_made == 2


def test_assertion_audience_is_the_platform_audience_when_it_has_one(app, platform, moodle):
    tokens = ServiceTokens.for_app()
    with pytest.raises(TokenError) as refused:  # our fake Moodle wants its token URL as audience
        tokens.get(endpoint(_platform(), audience="https://moodle.test/oauth2"), [SCOPE_SCORE])
    assert refused.value.code == "token_refused" and refused.value.retryable
    claims = jwt.decode(moodle.token_requests[-1]["client_assertion"], options={"verify_signature": False})
    assert claims["aud"] == "https://moodle.test/oauth2"


def test_a_scope_the_platform_does_not_grant_fails_for_good(client, platform, moodle, sender):
    tokens = ServiceTokens.for_app()
    with pytest.raises(TokenError) as refused:
        tokens.get(endpoint(_platform()), ["https://example.test/scope/unknown"])
    assert (refused.value.code, refused.value.retryable) == ("scope_not_granted", False)


def _platform() -> Platform:
    from sqlalchemy import select

    from lti_tool.extensions import db

    return db.session.execute(select(Platform)).scalar_one()
