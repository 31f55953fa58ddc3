"""Schemas at the LTI edges: what platforms send us during registration, what admins type."""

from __future__ import annotations

from marshmallow import fields, validate

from ..common.schemas import BaseSchema, BoundedList

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def http_url(**kwargs) -> fields.Url:
    """An http(s) URL; intranet hosts (no TLD) are fine: many centres host Moodle internally."""
    return fields.Url(schemes={"http", "https"}, require_tld=False, **({"required": True} | kwargs))


class PlatformConfigurationSchema(BaseSchema):
    product_family_code = fields.String(load_default=None)
    version = fields.String(load_default=None)
    # Not used; objects since Moodle 4.0, plain message type strings before: either is accepted.
    messages_supported = BoundedList(fields.Raw(), max_items=100, load_default=list)


class OpenIdConfigurationSchema(BaseSchema):
    """The platform's OpenID configuration (LTI Dynamic Registration §3.4)."""

    issuer = http_url()
    authorization_endpoint = http_url()
    token_endpoint = http_url()
    jwks_uri = http_url()
    registration_endpoint = http_url()
    authorization_server = fields.String(load_default=None)
    scopes_supported = BoundedList(fields.String(), max_items=500, load_default=list)
    platform_configuration = fields.Nested(PlatformConfigurationSchema, data_key=PLATFORM_CONFIG, required=True)


class ToolConfigurationEchoSchema(BaseSchema):
    deployment_id = fields.String(load_default=None)


class RegistrationResponseSchema(BaseSchema):
    """The platform's answer to our registration (LTI Dynamic Registration §3.6)."""

    client_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    scope = fields.String(load_default="")
    tool_configuration = fields.Nested(ToolConfigurationEchoSchema, data_key=TOOL_CONFIG, load_default=dict)


class DeploymentsSchema(BaseSchema):
    """Deployment ids an administrator gives for a platform (issuer, client id)."""

    issuer = http_url(validate=validate.Length(max=255))
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    deployment_ids = BoundedList(
        fields.String(validate=[validate.Length(min=1, max=255), validate.Regexp(r"\S", error="Blank.")]),
        min_items=1, max_items=100, required=True)


class ManualPlatformSchema(DeploymentsSchema):
    """An administrator's manual registration (CLI or form)."""

    auth_login_url = http_url()
    auth_token_url = http_url()
    key_set_url = http_url()
    auth_audience = fields.String(load_default=None)
    name = fields.String(load_default="", validate=validate.Length(max=255))


# The tool's public key set (keys.public_jwks), as /lti/jwks gives it.
JWKS = {"type": "object", "description": "The tool's public keys, RS256 (RFC 7517).", "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": {
            "type": "object", "required": ["kty", "kid"],
            "properties": {"kty": {"type": "string"}, "kid": {"type": "string"}, "alg": {"type": "string"},
                           "use": {"type": "string"}, "n": {"type": "string"}, "e": {"type": "string"}}}}}}
