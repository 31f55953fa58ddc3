"""What the assistant's endpoints and the LLM admin page accept."""

from __future__ import annotations

from marshmallow import RAISE, ValidationError, fields, pre_load, validate, validates_schema

from ..common.schemas import BaseSchema
from .hosting import MISTRAL_SERVERS

MAX_MESSAGE = 20_000
MAX_CONVERSATION = 60_000
CHAT_PURPOSES = ("exercise", "role_play", "prompt_transformation", "assistant", "feedback_draft")
PROVIDERS = ("fake", "mistral", "openai")


class MessageSchema(BaseSchema):
    class Meta:
        unknown = RAISE

    # The tool writes system prompts itself: a caller can only speak as the user, or quote the assistant.
    role = fields.String(required=True, validate=validate.OneOf(("user", "assistant")))
    content = fields.String(required=True, validate=validate.Length(max=MAX_MESSAGE))


class ChatRequestSchema(BaseSchema):
    """`prompt` (one user message) or `messages` (the conversation so far, the user's last)."""

    class Meta:
        unknown = RAISE

    purpose = fields.String(required=True, validate=validate.OneOf(CHAT_PURPOSES))
    exercise_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=2, max=32))
    prompt = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=MAX_MESSAGE))
    messages = fields.List(fields.Nested(MessageSchema), load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=60))

    @validates_schema
    def one_of_prompt_or_messages(self, data, **kwargs):
        if (data.get("prompt") is None) == (data.get("messages") is None):
            raise ValidationError("Give either prompt or messages.", "prompt")
        if data.get("prompt") is not None and not data["prompt"].strip():
            raise ValidationError("The prompt is empty.", "prompt")
        if data.get("messages") is not None:
            if data["messages"][-1]["role"] != "user" or not data["messages"][-1]["content"].strip():
                raise ValidationError("The last message must be the user's.", "messages")
            if sum(len(m["content"]) for m in data["messages"]) > MAX_CONVERSATION:
                raise ValidationError("The conversation is too long.", "messages")


def _blank_to_none(value):
    return None if isinstance(value, str) and value.strip() == "" else value


class LlmConfigSchema(BaseSchema):
    """The admin form (strings from an HTML form: a blank number keeps the operator's default)."""

    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    model = fields.String(load_default="", validate=validate.Length(max=128))
    base_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1024))
    server = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(tuple(MISTRAL_SERVERS)))
    api_key = fields.String(load_default=None, allow_none=True, load_only=True, validate=validate.Length(max=500))
    clear_key = fields.Boolean(load_default=False)
    temperature = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=2))
    max_tokens = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=32_000))
    timeout = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=1, max=300))
    quota_learner_daily_calls = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    quota_learner_daily_tokens = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    quota_centre_monthly_calls = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    quota_centre_monthly_tokens = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
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
