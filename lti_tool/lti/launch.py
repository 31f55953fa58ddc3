"""A launch validated strictly (pylti1p3's message launch, each check ours): format, state,
registration, signature against the platform's keys, deployment, message, then the nonce."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import jwt
import requests
from flask import current_app
from pylti1p3.contrib.flask import FlaskMessageLaunch

from ..common.csp import frame_ancestors
from ..common.i18n import normalise_locale, use_locale, use_timezone
from .errors import LtiRefusal
from .registry import PlatformRecord
from .services import adopt_first_deployment, issuer_origins, platform_origins
from .state import adapters, get_store
from .toolconf import DbToolConf, ToolRegistration

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SUPPORTED_MESSAGES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")


_parsed_keys_lock = threading.Lock()


def _unverified_parts(id_token: str) -> tuple[Any, Any]:
    """(header, payload) of a compact JWS, not verified: enough to find who signed it."""
    parts = id_token.split(".")
    if len(parts) != 3 or not all(parts) or "=" in id_token:  # the compact form is never padded
        raise ValueError("not a compact JWS (header.payload.signature, base64url without padding)")
    return jwt.get_unverified_header(id_token), jwt.decode(id_token, options={"verify_signature": False})


def _parsed_keys() -> dict[tuple[str, str], tuple[jwt.PyJWK, float]]:
    """Platform keys parsed from their JWKS, per (key set, kid), each with the time it is trusted
    until: PLATFORM_JWKS_TTL after that JWKS was fetched (by any worker), so a key the platform
    withdraws is refused once the cached JWKS has expired."""
    return current_app.extensions.setdefault("lti_tool_platform_keys", {})


class ToolMessageLaunch(FlaskMessageLaunch):
    """A launch validated strictly, each failure a refusal with its own code.

    Order: format (which also picks the language of any refusal from `launch_presentation`),
    state, registration, signature (with iss/aud/azp/exp/iat), deployment, message, and only
    then the nonce is consumed, so a forged token cannot burn a real nonce.
    """

    _registration: ToolRegistration
    locale: str | None = None

    def validate(self):
        self._validated = True
        try:
            # Nothing is saved after: the launch session lives in the database (land), the nonce
            # is spent and the state cookie expired. pylti1p3's save_launch_data stores what
            # nothing here reads.
            return (
                self.validate_jwt_format()
                .validate_state()
                .validate_registration()
                .validate_jwt_signature()
                .validate_deployment()
                .validate_message()
                .validate_nonce()
            )
        except Exception:
            self._validated = False
            raise

    def body(self) -> dict[str, Any]:
        return self._jwt.get("body", {})

    def expire_state_cookie(self, response) -> None:
        """After a valid launch: its state cookie has served (the nonce is spent too)."""
        self._cookie_service.expire(response, self._get_request_param("state"))

    @property
    def platform(self) -> PlatformRecord:
        return self._registration.platform

    def validate_state(self):
        state = self._get_request_param("state")
        if not state:
            raise LtiRefusal("missing_state")
        if self._cookie_service.get_cookie(state) != state:
            raise LtiRefusal("state_mismatch")
        return self

    def validate_jwt_format(self):
        id_token = self._get_request_param("id_token")
        if not id_token:
            error = self._get_request_param("error")
            if error:  # an OpenID authentication error response, posted back instead of the id_token
                description = self._get_request_param("error_description") or ""
                raise LtiRefusal("platform_refused", detail=f"{error}: {description}"[:300])
            raise LtiRefusal("missing_id_token")
        try:
            # Unverified: the signature (with a full parse by PyJWT) is checked in validate_jwt_signature.
            header, body = _unverified_parts(id_token)
        except (ValueError, UnicodeError, jwt.DecodeError) as exc:
            raise LtiRefusal("malformed_jwt", detail=str(exc)) from exc
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LtiRefusal("malformed_jwt")
        self._jwt = {"header": header, "body": body}
        if isinstance(body.get("iss"), str):  # until the platform is known, where a refusal shows
            frame_ancestors(issuer_origins(body["iss"]))
        presentation = body.get(CLAIM + "launch_presentation")
        self.locale = normalise_locale(presentation.get("locale")) if isinstance(presentation, dict) else None
        use_locale(self.locale)
        return self

    def validate_registration(self):
        body = self.body()
        iss, aud = body.get("iss"), body.get("aud")
        if not isinstance(iss, str) or not iss:
            raise LtiRefusal("missing_claim", detail="iss")
        audiences = aud if isinstance(aud, list) else [aud]
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise LtiRefusal("missing_claim", detail="aud")
        # With several audiences, azp names the client the token is for (OIDC Core 3.1.3.7).
        client_id = body.get("azp") if len(audiences) > 1 else audiences[0]
        if not isinstance(client_id, str):
            raise LtiRefusal("wrong_audience", detail="azp missing with several audiences")
        registration = self._tool_config.find_registration_by_params(iss, client_id)
        if registration is None:
            if not self._tool_config.issuer_known(iss):
                raise LtiRefusal("unknown_issuer", detail=iss)
            raise LtiRefusal("unknown_client_id", detail=client_id)
        self._registration = registration
        frame_ancestors(platform_origins(registration.platform))
        use_timezone(registration.platform.timezone)
        return self

    def get_client_id(self) -> str:
        return self._registration.get_client_id()

    def _key_set(self, refresh: bool) -> dict:
        platform = self.platform
        if platform.key_set:
            return platform.key_set
        url = platform.key_set_url
        if not url or not url.startswith(("https://", "http://")):
            raise LtiRefusal("unknown_key", detail="no key set URL")
        cache_key = "jwks:" + hashlib.sha256(url.encode()).hexdigest()
        store = get_store()
        if not refresh:
            cached = store.get(cache_key)
            if cached:
                return cached
        else:
            # One refetch per URL per short window: an attacker sending random kids cannot make
            # us hammer the platform.
            if store.get(cache_key + ":refreshed"):
                return store.get(cache_key) or {"keys": []}
            store.set(cache_key + ":refreshed", True, 10)
        try:
            # A registered endpoint, so on the platform's origins; a redirect would leave them.
            response = self._requests_session.get(url, timeout=current_app.config["HTTP_TIMEOUT"],
                                                  allow_redirects=False)
            if response.status_code != 200:
                raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
            key_set = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise LtiRefusal("platform_unreachable", detail=f"{url}: {exc}") from exc
        if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
            raise LtiRefusal("platform_unreachable", detail=f"{url}: not a JWKS")
        # When it was fetched, shared with every worker: a key parsed from it is trusted until then + TTL.
        key_set = {"keys": key_set["keys"], "fetched_at": time.time()}
        store.set(cache_key, key_set, current_app.config["PLATFORM_JWKS_TTL"])
        return key_set

    def _find_key(self, kid: str, refresh: bool) -> jwt.PyJWK | None:
        source = self.platform.key_set_url or f"platform:{self.platform.id}"
        parsed = _parsed_keys()
        known = parsed.get((source, kid))
        if not refresh and known is not None and known[1] > time.time():
            return known[0]
        key_set = self._key_set(refresh)
        fetched_at = key_set.get("fetched_at")
        trusted_until = (fetched_at if isinstance(fetched_at, (int, float)) else time.time()) + \
            current_app.config["PLATFORM_JWKS_TTL"]
        for jwk in key_set.get("keys", []):
            if isinstance(jwk, dict) and jwk.get("kid") == kid:
                try:
                    key = jwt.PyJWK(jwk, algorithm="RS256")
                except (jwt.PyJWTError, ValueError, TypeError) as exc:
                    raise LtiRefusal("unknown_key", detail=f"unusable JWK {kid}: {exc}") from exc
                with _parsed_keys_lock:
                    parsed[(source, kid)] = (key, trusted_until)
                return key
        with _parsed_keys_lock:
            parsed.pop((source, kid), None)  # withdrawn from the platform's JWKS
        return None

    def validate_jwt_signature(self):
        header = self._jwt.get("header", {})
        if header.get("alg") != "RS256":
            raise LtiRefusal("unsupported_algorithm", detail=str(header.get("alg")))
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise LtiRefusal("unknown_key", detail="no kid")
        # A kid we do not know may be a rotation on the platform's side: refetch once.
        key = self._find_key(kid, refresh=False) or self._find_key(kid, refresh=True)
        if key is None:
            raise LtiRefusal("unknown_key", detail=kid)
        platform = self.platform
        try:
            jwt.decode(
                self._get_request_param("id_token"),
                key,
                algorithms=["RS256"],
                audience=platform.client_id,
                issuer=platform.issuer,
                leeway=current_app.config["JWT_LEEWAY"],
                # PyJWT >= 2.10 rejects a non-string sub; LTI's sub is checked in validate_message.
                options={"require": ["exp", "iat", "iss", "aud", "nonce"], "verify_sub": False, "verify_jti": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LtiRefusal("expired_token") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LtiRefusal("token_not_yet_valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise LtiRefusal("wrong_audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise LtiRefusal("wrong_issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LtiRefusal("missing_claim", detail=exc.claim) from exc
        except jwt.InvalidSignatureError as exc:
            raise LtiRefusal("bad_signature") from exc
        except jwt.PyJWTError as exc:
            raise LtiRefusal("malformed_jwt", detail=str(exc)) from exc
        azp = self.body().get("azp")
        if azp is not None and azp != platform.client_id:
            raise LtiRefusal("wrong_audience", detail="azp")
        return self

    def validate_deployment(self):
        deployment_id = self.body().get(CLAIM + "deployment_id")
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LtiRefusal("missing_claim", detail="deployment_id")
        if self._tool_config.find_deployment_by_params(self.platform.issuer, deployment_id, self.platform.client_id):
            return self
        if not self.platform.deployment_ids and len(deployment_id) <= 255:
            # Registered without a deployment id (Dynamic Registration's answer may omit it, as
            # Canvas's does): the first launch the platform signs names it. Stored in the launch's
            # transaction, so a refusal further on stores nothing.
            if adopt_first_deployment(self.platform.id, deployment_id):
                return self
        raise LtiRefusal("unknown_deployment", detail=deployment_id)

    def validate_message(self):
        body = self.body()
        message_type = body.get(CLAIM + "message_type")
        if message_type not in SUPPORTED_MESSAGES:
            raise LtiRefusal("unsupported_message_type", detail=str(message_type))
        if body.get(CLAIM + "version") != "1.3.0":
            raise LtiRefusal("wrong_version", detail=str(body.get(CLAIM + "version")))
        sub = body.get("sub")
        if not isinstance(sub, (str, int)) or isinstance(sub, bool) or str(sub).strip() == "":
            raise LtiRefusal("missing_claim", detail="sub")
        roles = body.get(CLAIM + "roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise LtiRefusal("missing_claim", detail="roles")
        if message_type == "LtiResourceLinkRequest":
            link = body.get(CLAIM + "resource_link")
            if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
                raise LtiRefusal("missing_claim", detail="resource_link.id")
        else:
            settings = body.get(DL_CLAIM + "deep_linking_settings")
            if not isinstance(settings, dict) or not isinstance(settings.get("deep_link_return_url"), str):
                raise LtiRefusal("missing_claim", detail="deep_linking_settings")
            if "ltiResourceLink" not in (settings.get("accept_types") or []):
                raise LtiRefusal("missing_claim", detail="deep_linking_settings.accept_types")
        context = body.get(CLAIM + "context")
        if context is not None and (not isinstance(context, dict) or not isinstance(context.get("id"), str)):
            raise LtiRefusal("missing_claim", detail="context.id")
        return self

    def validate_nonce(self):
        nonce = self.body().get("nonce")
        if not isinstance(nonce, str) or not self._session_service.check_nonce(nonce):
            raise LtiRefusal("replayed_nonce")
        return self



def message_launch(tool_conf: DbToolConf) -> ToolMessageLaunch:
    adapter, session_service, cookie_service = adapters()
    requests_session = current_app.extensions["lti_http"]
    return ToolMessageLaunch(adapter, tool_conf, session_service, cookie_service, requests_session=requests_session)
