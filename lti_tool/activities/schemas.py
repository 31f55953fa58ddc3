"""What the pages of a launch accept."""

from __future__ import annotations

from marshmallow import RAISE, ValidationError, fields, pre_load, validate, validates_schema

from ..common.schemas import BaseSchema, BoundedDict, BoundedList


class PickedItemSchema(BaseSchema):
    catalogue_id = fields.String(required=True, validate=validate.Length(min=2, max=32))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    score_maximum = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1000))
    ai_policy = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))


class DeepLinkFormSchema(BaseSchema):
    """The picker's form: `item` once per ticked catalogue id, and for each its `title-<id>`,
    `score-<id>` and `policy-<id>` fields."""

    items = BoundedList(fields.Nested(PickedItemSchema), min_items=1, max_items=60, required=True)

    @pre_load
    def from_form(self, form, **kwargs):
        return {"items": [{"catalogue_id": item_id, "title": (form.get(f"title-{item_id}") or "").strip(),
                           "score_maximum": form.get(f"score-{item_id}", ""),
                           "ai_policy": form.get(f"policy-{item_id}") or None} for item_id in form.getlist("item")]}


MAX_TEXT = 20_000


def answer_text() -> fields.String:
    return fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))


class StrictAnswers(BaseSchema):
    """Answers are ours to define: an unknown key is refused, not silently dropped."""

    class Meta:
        unknown = RAISE


class ReflectionAnswers(StrictAnswers):
    answers = BoundedList(answer_text(), max_items=20, load_default=list)


class ListAnswers(StrictAnswers):
    entries = BoundedList(fields.String(validate=validate.Length(max=2000)), max_items=20, load_default=list)


class SmartGoalAnswers(StrictAnswers):
    specific = answer_text()
    measurable = answer_text()
    achievable = answer_text()
    relevant = answer_text()
    time_bound = answer_text()


class AiPromptAnswers(StrictAnswers):
    prompt = answer_text()
    answer = answer_text()
    critique = answer_text()


class ChatTurn(StrictAnswers):
    role = fields.String(required=True, validate=validate.OneOf(("user", "assistant")))
    content = fields.String(required=True, validate=validate.Length(max=MAX_TEXT))


class RolePlayAnswers(StrictAnswers):
    reflection = answer_text()
    # The exchange with the AI after its opening line, as the learner saw it.
    transcript = BoundedList(fields.Nested(ChatTurn), max_items=60, load_default=list)


class PromptTransformationAnswers(StrictAnswers):
    improved_prompt = answer_text()
    vague_answer = answer_text()
    improved_answer = answer_text()
    comparison = answer_text()


class RewriteAnswers(StrictAnswers):
    rewrite = answer_text()


class ScenarioAnswer(StrictAnswers):
    option = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=5))
    reasoning = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))


class ScenarioChoiceAnswers(StrictAnswers):
    choices = BoundedList(fields.Nested(ScenarioAnswer), max_items=20, load_default=list)


class MentoringWheelAnswers(StrictAnswers):
    # The wheel's six segments (the catalogue gives each wheel exactly six).
    ratings = BoundedDict(keys=fields.String(validate=validate.Length(max=40)),
                          values=fields.Integer(validate=validate.Range(min=1, max=10)), max_items=6, load_default=dict)
    # The guide's second way: for each segment, what the learner wants to put in place.
    plans = BoundedDict(keys=fields.String(validate=validate.Length(max=40)), values=answer_text(), max_items=6,
                        load_default=dict)
    notes = answer_text()


ANSWER_SCHEMAS = {
    "reflection": ReflectionAnswers, "list": ListAnswers, "smart_goal": SmartGoalAnswers,
    "ai_prompt": AiPromptAnswers, "role_play": RolePlayAnswers,
    "prompt_transformation": PromptTransformationAnswers, "rewrite": RewriteAnswers,
    "scenario_choice": ScenarioChoiceAnswers, "mentoring_wheel": MentoringWheelAnswers,
}


class QuizAnswersSchema(StrictAnswers):
    answers = BoundedList(fields.Integer(validate=validate.Range(min=0, max=9)), min_items=1, max_items=10,
                          required=True)


# --- the assistant of the exercises (activities.assistant) ---

MAX_MESSAGE = 20_000
MAX_CONVERSATION = 60_000
# feedback_draft: a trainer trying the comment draft on their own link (llm.services refuses learners).
ASSISTANT_PURPOSES = ("exercise", "role_play", "prompt_transformation", "assistant", "feedback_draft")


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

    purpose = fields.String(required=True, validate=validate.OneOf(ASSISTANT_PURPOSES))
    exercise_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=2, max=32))
    prompt = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=MAX_MESSAGE))
    messages = BoundedList(fields.Nested(MessageSchema), min_items=1, max_items=60, load_default=None,
                           allow_none=True)

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


# --- what the JSON API of the activity page reads and gives (activities.api) ---


class DraftSchema(BaseSchema):
    """A draft, as the API document gives it: `answers` as the exercise's type defines them,
    loaded by its schema of ANSWER_SCHEMAS once the view knows the exercise."""

    answers = fields.Raw(metadata={"type": "object", "description": "The answers, by the exercise's type."})


class DraftSavedOut(BaseSchema):
    saved_at = fields.String()
    done = fields.Boolean()


class DoneOut(BaseSchema):
    """An exercise marked done; a scenario's explanations, shown once the choices are made (else [])."""

    done = fields.Boolean()
    explanations = fields.List(fields.String())


class ReadOut(BaseSchema):
    read = fields.Boolean()


class CorrectionOut(BaseSchema):
    correct = fields.Boolean()
    answer = fields.Integer()  # the right option
    explanation = fields.String()


class QuizResultOut(BaseSchema):
    """A quiz attempt scored, with a correction per question."""

    score = fields.Integer()
    total = fields.Integer()
    corrections = fields.List(fields.Nested(CorrectionOut))


class WheelOut(BaseSchema):
    """The learner's snapshots of the mentoring wheel so far, and their radar chart (SVG)."""

    snapshots = fields.Integer()
    svg = fields.String()
