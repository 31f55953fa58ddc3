"""A forged launch never spends a real nonce: the signature is checked before the nonce is
consumed, so an attacker who makes the learner's browser post a forged id_token (a cross-site
form carries the SameSite=None state cookie) cannot lock the learner out of their own launch."""

from __future__ import annotations

import base64
import html
import json

import jwt
import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.lti.models import Context, LaunchSession, LtiUser, ResourceLink

from .lti_platform import CLAIM, ROLES, TestPlatform, rsa_key

STORED = (LtiUser, Context, ResourceLink, LaunchSession)


def stored_rows() -> int:
    db.session.expire_all()
    return sum(db.session.execute(select(func.count()).select_from(m)).scalar_one() for m in STORED)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def signed_by_another_key(platform: TestPlatform, claims: dict, genuine: str) -> str:
    """Same claims, same kid, but the attacker's own RSA key."""
    return platform.sign(claims, key=rsa_key("attacker"))


def tampered_payload(platform: TestPlatform, claims: dict, genuine: str) -> str:
    """The learner's genuine token with its payload rewritten (made an administrator, another
    user) and the platform's signature kept."""
    header, _payload, signature = genuine.split(".")
    forged = dict(claims, sub="admin-1", name="Sam Leroy", **{CLAIM + "roles": ROLES["admin"]})
    return f"{header}.{_b64(forged)}.{signature}"


def hs256_with_a_guessed_secret(platform: TestPlatform, claims: dict, genuine: str) -> str:
    """Signed with HMAC under the platform's kid (the RS/HS confusion)."""
    return jwt.encode(claims, "a-shared-secret-guessed-by-an-attacker-32+", algorithm="HS256",
                      headers={"kid": platform.kid})


FORGERIES = {
    signed_by_another_key: ("bad_signature", "La signature du lancement n’est pas valide."),
    tampered_payload: ("bad_signature", "La signature du lancement n’est pas valide."),
    hs256_with_a_guessed_secret: ("unsupported_algorithm", "algorithme"),
}


@pytest.mark.parametrize("forge", list(FORGERIES), ids=[f.__name__ for f in FORGERIES])
def test_a_forged_launch_carrying_a_real_nonce_is_refused_and_the_genuine_launch_still_opens(
        client, platform, forge):
    # The learner's browser goes through the OIDC login: the tool issues a real nonce and sets
    # the state cookie.
    auth = platform.login(client)
    claims = platform.claims(auth["nonce"], sub="learner-7", name="Camille Martin")
    genuine = platform.sign(claims)

    # An attacker's page makes that browser post a forged token with the same nonce and state.
    forged = forge(platform, claims, genuine)
    refused = client.post("/lti/launch", data={"id_token": forged, "state": auth["state"]})
    code, message = FORGERIES[forge]
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 401, page
    assert code in page and message in page
    assert "replayed_nonce" not in page
    assert stored_rows() == 0, "a forged launch stored something"

    # The platform's genuine launch, with that nonce and state, still opens the activity.
    opened = client.post("/lti/launch", data={"id_token": genuine, "state": auth["state"]})
    body = opened.get_data(as_text=True)
    assert "replayed_nonce" not in body, "the forged launch spent the learner's nonce"
    assert opened.status_code == 200, body
    db.session.expire_all()
    session = db.session.execute(select(LaunchSession)).scalar_one()
    assert (session.user.sub, session.role) == ("learner-7", "learner")
    assert db.session.execute(select(LtiUser.sub)).scalars().all() == ["learner-7"]

    # The nonce is spent now, by the genuine launch: a second post of it is a replay.
    client.set_cookie("lti1p3-" + auth["state"], auth["state"], domain="tool.test", path="/lti/")
    replay = client.post("/lti/launch", data={"id_token": genuine, "state": auth["state"]})
    assert replay.status_code == 401 and "replayed_nonce" in replay.get_data(as_text=True)
