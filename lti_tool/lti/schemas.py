"""Schemas at the LTI edges: what platforms send us during registration, what admins type."""

from __future__ import annotations

from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate, validates_schema

from ..common.schemas import BaseSchema

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"

http_url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)


class PlatformConfigurationSchema(BaseSchema):
    product_family_code = fields.String(load_default=None)
    version = fields.String(load_default=None)
    messages_supported = fields.List(fields.Dict(), load_default=list)


class OpenIdConfigurationSchema(BaseSchema):
    """The platform's OpenID configuration (LTI Dynamic Registration §3.4)."""

    issuer = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    authorization_endpoint = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    token_endpoint = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    jwks_uri = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    registration_endpoint = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    authorization_server = fields.String(load_default=None)
    scopes_supported = fields.List(fields.String(), load_default=list)
    platform_configuration = fields.Nested(PlatformConfigurationSchema, data_key=PLATFORM_CONFIG, required=True)


class ToolConfigurationEchoSchema(BaseSchema):
    deployment_id = fields.String(load_default=None)


class RegistrationResponseSchema(BaseSchema):
    """The platform's answer to our registration (LTI Dynamic Registration §3.6)."""

    client_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    scope = fields.String(load_default="")
    tool_configuration = fields.Nested(ToolConfigurationEchoSchema, data_key=TOOL_CONFIG, load_default=dict)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class ManualPlatformSchema(BaseSchema):
    """An administrator's manual registration (CLI or form)."""

    issuer = fields.String(required=True, validate=validate.Length(min=1, max=255))
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    deployment_ids = fields.List(fields.String(validate=validate.Length(min=1, max=255)), required=True,
                                 validate=validate.Length(min=1))
    auth_login_url = http_url
    auth_token_url = http_url
    key_set_url = fields.Url(load_default=None, schemes={"http", "https"}, require_tld=False)
    auth_audience = fields.String(load_default=None)
    name = fields.String(load_default="", validate=validate.Length(max=255))

    @validates_schema
    def issuer_is_url(self, data, **kwargs):
        if not _is_http_url(data["issuer"]):
            raise ValidationError("must be an http(s) URL", "issuer")
        if not data.get("key_set_url"):
            raise ValidationError("a JWKS URL is required", "key_set_url")
