"""pylti1p3's tool configuration from the database: registrations and deployments, matched exactly.

The rest of pylti1p3's Flask adaptation is beside it: the login state and cookies (state.py), the
OIDC login (login.py), the strict validation of a launch (launch.py).
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract

from .keys import signing_material
from .registry import PlatformRecord, find_platform, platforms_of


class ToolRegistration(Registration):
    """A pylti1p3 registration whose signing key is the tool's current key, loaded once."""

    def __init__(self, platform: PlatformRecord) -> None:
        super().__init__()
        self.platform = platform
        self.set_issuer(platform.issuer).set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        self.set_key_set_url(platform.key_set_url).set_key_set(platform.key_set)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)
        self._signing: tuple[str, Any] | None = None

    def _signing_material(self) -> tuple[str, Any]:
        if self._signing is None:
            self._signing = signing_material()
        return self._signing

    def get_tool_private_key(self):  # a loaded key object: PyJWT signs with it directly
        return self._signing_material()[1]

    def get_kid(self) -> str:
        return self._signing_material()[0]


class DbToolConf(ToolConfAbstract):
    """Registrations and deployments from the database, matched exactly (no substring tests)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def issuer_known(self, iss: str) -> bool:
        return bool(platforms_of(iss))

    def find_registration_by_issuer(self, iss: str, *args, **kwargs):
        platform = find_platform(iss, None)
        return ToolRegistration(platform) if platform else None

    def find_registration_by_params(self, iss: str, client_id: str | None, *args, **kwargs):
        platform = find_platform(iss, client_id)
        return ToolRegistration(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str | None, *args, **kwargs):
        platform = find_platform(iss, client_id)
        if platform is None or not isinstance(deployment_id, str) or deployment_id not in platform.deployment_ids:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)
