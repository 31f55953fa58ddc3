"""What the centre's LLM settings page accepts."""

from __future__ import annotations

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import get_locale
from marshmallow import ValidationError, fields, pre_load, validate

from ..common.schemas import BaseSchema, UtcTime
from .hosting import MISTRAL_SERVERS

PROVIDERS = ("fake", "mistral", "openai")


def _blank_to_none(value):
    return None if isinstance(value, str) and value.strip() == "" else value


class LocalDecimal(fields.Float):
    """A decimal number as the reader's language writes it ("0,3" in French, "0.3" in English);
    a point is understood in every language (what a browser's number field, or a habit, sends)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            text = value.strip().replace("\u202f", "").replace("\u00a0", "")
            try:
                value = float(parse_decimal(text, locale=get_locale() or "en", strict=True))
            except NumberFormatError:
                try:
                    value = float(text)
                except ValueError:
                    raise ValidationError("Not a valid number.") from None
        return super()._deserialize(value, attr, data, **kwargs)


class LlmConfigSchema(BaseSchema):
    """The admin form (strings from an HTML form: a blank number keeps the operator's default)."""

    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    model = fields.String(load_default="", validate=validate.Length(max=128))
    base_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1024))
    server = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(tuple(MISTRAL_SERVERS)))
    api_key = fields.String(load_default=None, allow_none=True, load_only=True, validate=validate.Length(max=500))
    clear_key = fields.Boolean(load_default=False)
    temperature = LocalDecimal(load_default=None, allow_none=True, validate=validate.Range(min=0, max=2))
    max_tokens = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=32_000))
    timeout = LocalDecimal(load_default=None, allow_none=True, validate=validate.Range(min=1, max=300))
    quota_learner_daily_calls = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    quota_learner_daily_tokens = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    quota_centre_monthly_calls = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    quota_centre_monthly_tokens = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    log_retention_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=120))
    confirm_eu = fields.Boolean(load_default=False)

    @pre_load
    def from_form(self, data, **kwargs):
        data = {key: _blank_to_none(value) for key, value in dict(data).items()}
        # An HTML checkbox sends "on" when ticked and nothing otherwise.
        for name in ("clear_key", "confirm_eu"):
            if data.get(name) is None:
                data[name] = False
        if data.get("model") is None:
            data["model"] = ""
        return data



# --- what the JSON API gives -----------------------------------------------------------------------


class UsageOut(BaseSchema):
    tokens_in = fields.Integer()
    tokens_out = fields.Integer()


class ChatResultOut(BaseSchema):
    """A whole answer of the assistant (services.ChatResult)."""

    text = fields.String()
    call_id = fields.Integer()
    provider = fields.String()
    model = fields.String()
    usage = fields.Function(lambda result: UsageOut().dump(result))
    latency_ms = fields.Integer()
    finish_reason = fields.String()
    mode = fields.String(allow_none=True)
    demo = fields.Boolean(attribute="is_demo")


class UsageRowOut(BaseSchema):
    """The centre's AI assistant usage, one course and model (quotas.UsageRow)."""

    context_pk = fields.Integer(allow_none=True)
    course = fields.String()
    provider = fields.String()
    model = fields.String()
    calls = fields.Integer()
    tokens_in = fields.Integer()
    tokens_out = fields.Integer()
    errors = fields.Integer()


class NoticeAcknowledgementOut(BaseSchema):
    """A person's acknowledgement of the notice about the AI assistant (models.AiNoticeAck)."""

    acknowledged_at = UtcTime()
    provider = fields.String()
    endpoint = fields.String()


class CentreUsageOut(BaseSchema):
    calls = fields.Integer()
    tokens = fields.Integer()
    monthly_calls_quota = fields.Integer(allow_none=True)
    monthly_tokens_quota = fields.Integer(allow_none=True)


class UsageReportOut(BaseSchema):
    """The AI assistant's use this month: the launch's course (trainers), or every course and the
    centre's totals and quotas (administrators)."""

    since = fields.String()
    scope = fields.String(validate=validate.OneOf(("course", "centre")))
    rows = fields.List(fields.Nested(UsageRowOut))
    centre = fields.Nested(CentreUsageOut, allow_none=True)
