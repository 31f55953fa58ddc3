"""Every refusal of a launch: a clear message in the user's language, a 4xx, and nothing stored."""

from __future__ import annotations

import html
import time
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.lti.models import Context, LaunchSession, LtiUser, ResourceLink
from lti_tool.common.time import utcnow

from .lti_platform import CLAIM, TestPlatform, landing_url, rsa_key

STORED = (LtiUser, Context, ResourceLink, LaunchSession)


def stored_rows() -> int:
    db.session.expire_all()
    return sum(db.session.execute(select(func.count()).select_from(m)).scalar_one() for m in STORED)


def post_launch(client, platform: TestPlatform, *, mutate=None, sign_kwargs=None, state=None, token=None,
                headers=None):
    auth = platform.login(client)
    claims = platform.claims(auth["nonce"])
    if mutate:
        mutate(claims)
    id_token = token if token is not None else platform.sign(claims, **(sign_kwargs or {}))
    return client.post("/lti/launch", data={"id_token": id_token, "state": state or auth["state"]},
                       headers=headers or {})


def assert_refused(response, status: int, code: str, text: str) -> None:
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, page
    assert code in page
    assert text in page
    assert stored_rows() == 0


def test_unknown_issuer_is_refused_at_login(client, platform):
    response = client.post("/lti/login", data={"iss": "https://other.test", "login_hint": "u",
                                               "target_link_uri": "https://tool.test/lti/launch"},
                           headers={"Accept-Language": "fr"})
    assert_refused(response, 403, "unknown_issuer", "Cette plateforme n’est pas enregistrée")


def test_unknown_issuer_is_refused_at_launch_in_english(client, platform):
    def other_issuer(claims):
        claims["iss"] = "https://other.test"
        claims[CLAIM + "launch_presentation"]["locale"] = "en"

    response = post_launch(client, platform, mutate=other_issuer)
    assert_refused(response, 403, "unknown_issuer", "This platform is not registered with Mentorat IA.")


def test_unknown_client_id_is_refused(client, platform):
    def other_client(claims):
        claims["aud"] = claims["azp"] = "client-unknown"

    response = post_launch(client, platform, mutate=other_client)
    assert_refused(response, 403, "unknown_client_id", "Cet identifiant client n’est pas enregistré")


def test_unknown_client_id_is_refused_at_login(client, platform):
    response = client.post("/lti/login", data={"iss": platform.issuer, "login_hint": "u", "client_id": "nope"})
    assert_refused(response, 403, "unknown_client_id", "identifiant client")


def test_unknown_deployment_is_refused(client, platform):
    def other_deployment(claims):
        claims[CLAIM + "deployment_id"] = "deployment-1-but-longer"  # exact match, no substring test

    response = post_launch(client, platform, mutate=other_deployment)
    assert_refused(response, 403, "unknown_deployment", "Ce déploiement de l’outil n’est pas enregistré.")


def test_bad_signature_is_refused(client, platform):
    # Signed by another key under the platform's kid: a forgery.
    response = post_launch(client, platform, sign_kwargs={"key": rsa_key("attacker")})
    assert_refused(response, 401, "bad_signature", "La signature du lancement n’est pas valide.")


def test_unknown_kid_is_refused_after_one_refresh(client, platform, http_mock):
    for kid in ("not-published", "not-published-either"):
        response = post_launch(client, platform, sign_kwargs={"kid": kid})
        assert_refused(response, 401, "unknown_key", "clé que la plateforme ne publie pas")
    fetches = [c for c in http_mock.calls if c.request.url == platform.jwks_url]
    # First fetch, then one refresh for the unknown kid; the second unknown kid within the
    # refresh window costs no fetch: random kids cannot make us hammer the platform.
    assert len(fetches) == 2


def test_alg_none_and_hs256_are_refused(client, platform):
    auth = platform.login(client)
    claims = platform.claims(auth["nonce"])
    forged = jwt.encode(claims, "a-shared-secret-guessed-by-an-attacker-32+", algorithm="HS256", headers={"kid": platform.kid})
    response = client.post("/lti/launch", data={"id_token": forged, "state": auth["state"]})
    assert_refused(response, 401, "unsupported_algorithm", "algorithme")


def test_expired_token_is_refused(client, platform):
    def expired(claims):
        claims["iat"] = int(time.time()) - 3600
        claims["exp"] = int(time.time()) - 600

    response = post_launch(client, platform, mutate=expired)
    assert_refused(response, 401, "expired_token", "Le lancement a expiré.")


def test_small_clock_skew_is_accepted(client, platform):
    def skewed(claims):
        claims["iat"] = int(time.time()) + 20  # platform clock 20 s ahead (pylti1p3 #146)

    response = post_launch(client, platform, mutate=skewed)
    assert response.status_code == 200


def test_token_from_the_future_is_refused(client, platform):
    def future(claims):
        claims["iat"] = int(time.time()) + 3600
        claims["exp"] = int(time.time()) + 7200

    response = post_launch(client, platform, mutate=future)
    assert_refused(response, 401, "token_not_yet_valid", "daté dans le futur")


def test_wrong_audience_is_refused(client, platform):
    def several_audiences(claims):
        claims["aud"] = [platform.client_id, "another-tool"]
        claims["azp"] = "another-tool"

    response = post_launch(client, platform, mutate=several_audiences)
    assert response.status_code in (401, 403)
    assert stored_rows() == 0


def test_azp_must_name_our_client(client, platform):
    def wrong_azp(claims):
        claims["aud"] = [platform.client_id, "another-tool"]
        claims["azp"] = "client-1-evil"

    response = post_launch(client, platform, mutate=wrong_azp)
    assert response.status_code in (401, 403)
    assert stored_rows() == 0


def test_numeric_sub_is_accepted(client, platform):
    def numeric(claims):
        claims["sub"] = 42  # PyJWT >= 2.10 rejects it by default; some platforms send it

    response = post_launch(client, platform, mutate=numeric)
    assert response.status_code == 200


def test_replayed_nonce_is_refused(client, platform):
    auth = platform.login(client)
    id_token = platform.sign(platform.claims(auth["nonce"]))
    first = client.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})
    assert first.status_code == 200
    rows = stored_rows()
    # The launch expired its state cookie: the same browser replaying the form is refused there...
    replay = client.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})
    assert replay.status_code == 400 and "state_mismatch" in replay.get_data(as_text=True)
    # ... and one that kept a copy of the cookie is refused by the spent nonce.
    client.set_cookie("lti1p3-" + auth["state"], auth["state"], domain="tool.test", path="/lti/")
    replay = client.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})
    page = replay.get_data(as_text=True)
    assert replay.status_code == 401 and "replayed_nonce" in page
    assert "déjà été utilisé" in page
    assert stored_rows() == rows


def test_nonce_never_issued_is_refused(client, platform):
    def made_up(claims):
        claims["nonce"] = "made-up-nonce"

    response = post_launch(client, platform, mutate=made_up)
    assert_refused(response, 401, "replayed_nonce", "déjà été utilisé ou a expiré")


def test_missing_state_is_refused(client, platform):
    auth = platform.login(client)
    id_token = platform.sign(platform.claims(auth["nonce"]))
    response = client.post("/lti/launch", data={"id_token": id_token})
    assert_refused(response, 400, "missing_state", "paramètre « state »")


def test_wrong_state_is_refused(client, platform):
    response = post_launch(client, platform, state="state-forged")
    assert_refused(response, 400, "state_mismatch", "ne correspond pas à la connexion")


def test_state_without_its_cookie_is_refused(client, platform, app):
    auth = platform.login(client)
    id_token = platform.sign(platform.claims(auth["nonce"]))
    other_browser = app.test_client()  # no state cookie: a login CSRF attempt
    response = other_browser.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})
    assert_refused(response, 400, "state_mismatch", "nouvelle fenêtre")


def test_wrong_message_type_is_refused(client, platform):
    def submission_review(claims):
        claims[CLAIM + "message_type"] = "LtiSubmissionReviewRequest"

    response = post_launch(client, platform, mutate=submission_review)
    assert_refused(response, 400, "unsupported_message_type", "n’est pas pris en charge")


def test_wrong_version_is_refused(client, platform):
    def lti_11(claims):
        claims[CLAIM + "version"] = "1.1"

    response = post_launch(client, platform, mutate=lti_11)
    assert_refused(response, 400, "wrong_version", "LTI 1.3.0")


@pytest.mark.parametrize("token", [
    "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "",
    "e30.e30.", "e30=.e30.c2ln", "!!!!.e30.c2ln", "e30.e3-0.c2ln", "W10.e30.c2ln", "e30.W10.c2ln", "e30.éé.c2ln",
    "e30.e30.c2ln.c2ln",
])
def test_malformed_jwt_is_refused(client, platform, token):
    response = post_launch(client, platform, token=token)
    code = "missing_id_token" if token == "" else "malformed_jwt"
    assert_refused(response, 400, code, "JWT" if token else "id_token")


def test_an_authentication_error_from_the_platform_is_named(client, platform):
    """Moodle's auth.php answers a login it refuses (a user logged out, a bad hint) by posting an
    OpenID error response back, with the state and no id_token."""
    auth = platform.login(client)
    response = client.post("/lti/launch", data={"error": "access_denied", "state": auth["state"],
                                                "error_description": "User is not logged in"})
    assert_refused(response, 403, "platform_refused", "Votre plateforme a refusé d’ouvrir l’activité.")
    assert "reconnectez-vous" in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("claim", ["sub", CLAIM + "roles", CLAIM + "resource_link", CLAIM + "deployment_id",
                                   "exp", "iat", "nonce", "aud", "iss"])
def test_missing_required_claim_is_refused(client, platform, claim):
    def drop(claims):
        del claims[claim]

    response = post_launch(client, platform, mutate=drop)
    page = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, page
    assert stored_rows() == 0


def test_missing_required_claim_names_the_problem(client, platform):
    def drop_link(claims):
        del claims[CLAIM + "resource_link"]

    response = post_launch(client, platform, mutate=drop_link)
    assert_refused(response, 400, "missing_claim", "informations obligatoires")


def test_refusal_as_json_when_asked(client, platform):
    response = post_launch(client, platform, state="state-forged", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "state_mismatch"


def test_expired_launch_session_token_is_refused(client, platform):
    response = platform.launch(client, follow=False)
    location = landing_url(response)
    session = db.session.execute(select(LaunchSession)).scalar_one()
    session.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = client.get(location, headers={"Accept-Language": "en"})
    assert page.status_code == 401
    assert "Your session has expired." in page.get_data(as_text=True)


def test_unknown_launch_session_token_is_refused(client, platform):
    response = client.get("/t/" + "x" * 43 + "/")
    assert response.status_code == 401
    assert "session_expired" in response.get_data(as_text=True)


def test_login_with_foreign_target_is_refused(client, platform):
    response = client.post("/lti/login", data={"iss": platform.issuer, "login_hint": "u",
                                               "client_id": platform.client_id,
                                               "target_link_uri": "https://evil.test/phish"})
    assert_refused(response, 400, "foreign_target", "ne vise pas cet outil")


def test_login_without_login_hint_is_refused(client, platform):
    response = client.post("/lti/login", data={"iss": platform.issuer, "client_id": platform.client_id})
    assert_refused(response, 400, "missing_login_hint", "login_hint")
