"""What the policy, checklist and declaration endpoints accept.

Every schema refuses unknown keys: a declaration is a formal statement, a key we do not know is
a mistake to report, not something to drop silently. Cross-field rules that need the database
(AI calls logged, the allowed level) live in services.check_declaration.
"""

from __future__ import annotations

from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from ..common.schemas import BaseSchema
from .checklist import MOMENTS

MAX_TEXT = 10_000

AI_TOOLS = ("tool_assistant", "chatgpt", "le_chat", "copilot", "gemini", "claude", "perplexity", "deepl",
            "other")
PURPOSES = ("ideas", "structure", "drafting", "rewording", "translation", "information", "feedback", "other")


class Strict(BaseSchema):
    class Meta:
        unknown = RAISE


class PolicySchema(Strict):
    level = fields.String(required=True, validate=validate.Length(min=1, max=16))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ChecklistItemSchema(Strict):
    id = fields.String(load_default="", validate=validate.Length(max=32))
    moment = fields.String(required=True, validate=validate.OneOf(MOMENTS))
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    required = fields.Boolean(load_default=False)

    @validates_schema
    def _not_blank(self, data, **kwargs):
        if not data["text"].strip():
            raise ValidationError("Text cannot be blank.", "text")


class ChecklistEditSchema(Strict):
    items = fields.List(fields.Nested(ChecklistItemSchema), required=True, validate=validate.Length(max=40))


class TicksSchema(Strict):
    ticks = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=32)), values=fields.Boolean(),
                        required=True, validate=validate.Length(max=60))


class CentreSettingsSchema(Strict):
    scale = fields.String(required=True, validate=validate.OneOf(("aias", "sherbrooke")))


class DeclarationSchema(Strict):
    level_used = fields.String(required=True, validate=validate.Length(min=1, max=16))
    tools = fields.List(fields.String(validate=validate.OneOf(AI_TOOLS)), load_default=list,
                        validate=validate.Length(max=len(AI_TOOLS)))
    tools_other = fields.String(load_default="", validate=validate.Length(max=200))
    purposes = fields.List(fields.String(validate=validate.OneOf(PURPOSES)), load_default=list,
                           validate=validate.Length(max=len(PURPOSES)))
    purposes_other = fields.String(load_default="", validate=validate.Length(max=200))
    external_prompts = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    verification = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    own_changes = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    justification = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    honour = fields.Boolean(required=True)


class SubmitSchema(Strict):
    declaration = fields.Nested(DeclarationSchema, required=True)
