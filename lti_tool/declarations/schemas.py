"""What the policy, checklist and declaration endpoints accept.

Every schema refuses unknown keys: a declaration is a formal statement, a key we do not know is
a mistake to report, not something to drop silently. Cross-field rules that need the database
(AI calls logged, the allowed level) live in services.check_declaration.
"""

from __future__ import annotations

from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from ..common.i18n import lazy_gettext as _l
from ..common.i18n import valid_timezone
from ..common.schemas import BaseSchema, BoundedDict, BoundedList, UtcTime
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
    items = BoundedList(fields.Nested(ChecklistItemSchema), max_items=40, required=True)


class TicksSchema(Strict):
    ticks = BoundedDict(keys=fields.String(validate=validate.Length(min=1, max=32)), values=fields.Boolean(),
                        max_items=60, required=True)


class CentreSettingsSchema(Strict):
    scale = fields.String(required=True, validate=validate.OneOf(("aias", "sherbrooke")))
    # An IANA time zone ("Europe/Paris", "America/Cayenne"); every time the centre's pages show is in it.
    timezone = fields.String(load_default=None, validate=validate.Length(max=64))

    @validates_schema
    def _known_timezone(self, data, **kwargs):
        if data.get("timezone") is not None and not valid_timezone(data["timezone"]):
            raise ValidationError(_l("Choose a time zone of the list."), "timezone")
    # A change of scale is saved once the administrator saw what it changes (the page's preview).
    confirm_scale = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    score_maximum = fields.Float(load_default=None, allow_none=True,
                                 validate=validate.Range(min=0, min_inclusive=False, max=1000))


class DeclarationSchema(Strict):
    # Empty when the learner chose no level: services.check_declaration refuses it together with
    # every other field at fault, so that the form flags them all at once.
    level_used = fields.String(required=True, validate=validate.Length(max=16))
    tools = BoundedList(fields.String(validate=validate.OneOf(AI_TOOLS)), max_items=len(AI_TOOLS), load_default=list)
    tools_other = fields.String(load_default="", validate=validate.Length(max=200))
    purposes = BoundedList(fields.String(validate=validate.OneOf(PURPOSES)), max_items=len(PURPOSES),
                           load_default=list)
    purposes_other = fields.String(load_default="", validate=validate.Length(max=200))
    external_prompts = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    verification = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    own_changes = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    justification = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    honour = fields.Boolean(required=True)


class SubmitSchema(Strict):
    declaration = fields.Nested(DeclarationSchema, required=True)


# --- what the JSON API gives -----------------------------------------------------------------------


class LevelOut(BaseSchema):
    code = fields.String()
    rank = fields.Integer()
    label = fields.String()
    explanation = fields.String()


class ChecklistItemOut(BaseSchema):
    id = fields.String()
    moment = fields.String()
    text = fields.String()
    required = fields.Boolean()
    ticked_at = fields.String(allow_none=True)  # the learner's tick, when their launch asks


class PolicyOut(BaseSchema):
    """An assignment's policy (services.EffectivePolicy): its level on the centre's scale, the note,
    the scale's levels, the checklist."""

    scale = fields.Function(lambda policy: policy.scale.code)
    level = fields.Function(lambda policy: policy.level.code)
    rank = fields.Function(lambda policy: policy.level.rank)
    label = fields.Function(lambda policy: str(policy.level.label))
    explanation = fields.Function(lambda policy: str(policy.level.explanation))
    note = fields.String()
    scale_label = fields.Function(lambda policy: str(policy.scale.label))
    custom_checklist = fields.Boolean()
    levels = fields.Function(lambda policy: LevelOut(many=True).dump(policy.scale.levels))
    checklist = fields.List(fields.Nested(ChecklistItemOut))


class SubmissionOut(BaseSchema):
    """A submitted version, whole: answers, declaration, checklist, AI log and policy as frozen."""

    version = fields.Integer()
    receipt = fields.String()
    submitted_at = UtcTime()
    catalogue_item = fields.String()
    content_version = fields.String()
    answers = fields.Raw()
    declaration = fields.Raw()
    checklist = fields.Raw()
    ai_log = fields.Raw()
    policy = fields.Raw()
    flags = fields.List(fields.String())


class SubmissionSummaryOut(BaseSchema):
    version = fields.Integer()
    receipt = fields.String()
    submitted_at = UtcTime()
    flags = fields.List(fields.String())


class TicksOut(BaseSchema):
    """The learner's ticked items, each with the time it was first ticked."""

    ticks = fields.Dict(keys=fields.String(), values=fields.String())
    ticks_shown = fields.Dict(keys=fields.String(), values=fields.String())  # as the pages write times


class SubmittedOut(BaseSchema):
    """A new version submitted: its number, receipt and flags, and the receipt page's URL."""

    version = fields.Integer()
    receipt = fields.String()
    flags = fields.List(fields.String())
    receipt_url = fields.String()


class SubmissionSummariesOut(BaseSchema):
    submissions = fields.List(fields.Nested(SubmissionSummaryOut))


class SubmissionsOut(BaseSchema):
    submissions = fields.List(fields.Nested(SubmissionOut))


class CentreSettingsBodySchema(BaseSchema):
    """The centre's settings: its scale (kept when absent; a change needs `confirm_scale` naming
    the new scale, once the administrator saw what it changes), its checklist template and the
    default maximum score of a new activity (each kept when absent)."""

    scale = fields.String(validate=validate.OneOf(("aias", "sherbrooke")))
    items = BoundedList(fields.Nested(ChecklistItemSchema), max_items=40)
    confirm_scale = fields.String(allow_none=True, validate=validate.Length(max=16))
    score_maximum = fields.Float(allow_none=True, validate=validate.Range(min=0, min_inclusive=False, max=1000))


class CentreChecklistItemOut(BaseSchema):
    """An item of the centre's checklist template; `built_in` while it keeps the tool's wording."""

    id = fields.String()
    moment = fields.String()
    text = fields.String()
    required = fields.Boolean()
    built_in = fields.Boolean()


class CentreSettingsOut(BaseSchema):
    scale = fields.String()
    timezone = fields.String()
    score_maximum = fields.Float()
    checklist = fields.List(fields.Nested(CentreChecklistItemOut))
