"""What the pages of a launch accept."""

from __future__ import annotations

from marshmallow import RAISE, fields, validate

from ..common.schemas import BaseSchema


class PickedItemSchema(BaseSchema):
    catalogue_id = fields.String(required=True, validate=validate.Length(min=2, max=32))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    score_maximum = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1000))
    ai_policy = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))


class DeepLinkPickSchema(BaseSchema):
    items = fields.List(fields.Nested(PickedItemSchema), required=True, validate=validate.Length(min=1, max=60))


MAX_TEXT = 20_000


def answer_text() -> fields.String:
    return fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))


class StrictAnswers(BaseSchema):
    """Answers are ours to define: an unknown key is refused, not silently dropped."""

    class Meta:
        unknown = RAISE


class ReflectionAnswers(StrictAnswers):
    answers = fields.List(answer_text(), load_default=list, validate=validate.Length(max=20))


class ListAnswers(StrictAnswers):
    entries = fields.List(fields.String(validate=validate.Length(max=2000)), load_default=list,
                          validate=validate.Length(max=20))


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
    transcript = fields.List(fields.Nested(ChatTurn), load_default=list, validate=validate.Length(max=60))


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
    choices = fields.List(fields.Nested(ScenarioAnswer), load_default=list, validate=validate.Length(max=20))


class MentoringWheelAnswers(StrictAnswers):
    ratings = fields.Dict(keys=fields.String(validate=validate.Length(max=40)),
                          values=fields.Integer(validate=validate.Range(min=1, max=10)), load_default=dict)
    notes = answer_text()


ANSWER_SCHEMAS = {
    "reflection": ReflectionAnswers, "list": ListAnswers, "smart_goal": SmartGoalAnswers,
    "ai_prompt": AiPromptAnswers, "role_play": RolePlayAnswers,
    "prompt_transformation": PromptTransformationAnswers, "rewrite": RewriteAnswers,
    "scenario_choice": ScenarioChoiceAnswers, "mentoring_wheel": MentoringWheelAnswers,
}


class QuizAnswersSchema(StrictAnswers):
    answers = fields.List(fields.Integer(validate=validate.Range(min=0, max=9)), required=True,
                          validate=validate.Length(min=1, max=10))
