"""What a content file may say. A broken file fails at load, naming the file and the field."""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

EXERCISE_TYPES = (
    "reflection", "list", "smart_goal", "ai_prompt", "role_play", "prompt_transformation",
    "rewrite", "scenario_choice", "mentoring_wheel",
)
MODULE_ID = re.compile(r"^m[1-4]$")
THEME_ID = re.compile(r"^m[1-4]\.(t|p)[1-9]$")
EXERCISE_ID = re.compile(r"^m[1-4]\.(t|p)[1-9]\.e[1-9][0-9]?$")

text = fields.String(required=True, validate=validate.Length(min=1))


def optional_text() -> fields.String:
    return fields.String(load_default=None, validate=validate.Length(min=1))


class StrictSchema(Schema):
    """Content is ours: an unknown key is a typo, and a typo must fail."""

    class Meta:
        unknown = RAISE


class ModuleSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(MODULE_ID))
    order = fields.Integer(required=True, validate=validate.Range(min=1, max=4))
    title = fields.String(required=True, validate=validate.Length(min=1))
    summary = fields.String(required=True, validate=validate.Length(min=1))


class KeyIdeaSchema(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1))
    body = fields.String(required=True, validate=validate.Length(min=1))


class FrameworkItemSchema(StrictSchema):
    term = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String(required=True, validate=validate.Length(min=1))


class FrameworkSchema(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1))
    kind = fields.String(required=True, validate=validate.OneOf(("list", "steps", "table")))
    intro = optional_text()
    items = fields.List(fields.Nested(FrameworkItemSchema), required=True, validate=validate.Length(min=2))


class ResourceSchema(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1))
    url = fields.Url(load_default=None, schemes={"http", "https"})
    description = fields.String(required=True, validate=validate.Length(min=1))


class SmartFieldSchema(StrictSchema):
    key = fields.String(required=True, validate=validate.OneOf(("specific", "measurable", "achievable",
                                                                "relevant", "time_bound")))
    label = fields.String(required=True, validate=validate.Length(min=1))
    question = fields.String(required=True, validate=validate.Length(min=1))


class ScenarioSchema(StrictSchema):
    situation = fields.String(required=True, validate=validate.Length(min=1))
    options = fields.List(fields.String(validate=validate.Length(min=1)), required=True,
                          validate=validate.Length(min=2, max=6))
    best = fields.Integer(required=True, validate=validate.Range(min=0))
    explanation = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def best_is_an_option(self, data, **kwargs):
        if data["best"] >= len(data["options"]):
            raise ValidationError("must be the index of one of the options", "best")


class WheelSegmentSchema(StrictSchema):
    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+$"))
    label = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String(required=True, validate=validate.Length(min=1))


# Fields each exercise type requires (beyond id, type, title, instructions).
TYPE_FIELDS = {
    "reflection": ("questions",),
    "list": ("prompt", "count"),
    "smart_goal": ("scenario", "smart_fields"),
    "ai_prompt": ("prompt", "critique_question"),
    "role_play": ("character", "opening", "goal"),
    "prompt_transformation": ("vague_prompt", "hint"),
    "rewrite": ("source_text", "guidance"),
    "scenario_choice": ("scenarios",),
    "mentoring_wheel": ("segments",),
}


class ExerciseSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(EXERCISE_ID))
    type = fields.String(required=True, validate=validate.OneOf(EXERCISE_TYPES))
    title = fields.String(required=True, validate=validate.Length(min=1))
    instructions = fields.String(required=True, validate=validate.Length(min=1))
    min_length = fields.Integer(load_default=None, validate=validate.Range(min=1, max=5000))
    questions = fields.List(fields.String(validate=validate.Length(min=1)), load_default=None,
                            validate=validate.Length(min=1))
    prompt = optional_text()
    count = fields.Integer(load_default=None, validate=validate.Range(min=1, max=20))
    scenario = optional_text()
    smart_fields = fields.List(fields.Nested(SmartFieldSchema), load_default=None, validate=validate.Length(equal=5))
    critique_question = optional_text()
    character = optional_text()
    opening = optional_text()
    goal = optional_text()
    vague_prompt = optional_text()
    hint = optional_text()
    source_text = optional_text()
    guidance = optional_text()
    scenarios = fields.List(fields.Nested(ScenarioSchema), load_default=None, validate=validate.Length(min=1))
    segments = fields.List(fields.Nested(WheelSegmentSchema), load_default=None, validate=validate.Length(equal=6))

    @validates_schema
    def fields_of_its_type(self, data, **kwargs):
        required = TYPE_FIELDS[data["type"]]
        missing = [name for name in required if data.get(name) is None]
        if missing:
            raise ValidationError(f"required for a {data['type']} exercise", missing[0])
        extra = [name for name in sum(TYPE_FIELDS.values(), ()) if name not in required and data.get(name) is not None]
        if extra:
            raise ValidationError(f"not used by a {data['type']} exercise", extra[0])


class QuizQuestionSchema(StrictSchema):
    question = fields.String(required=True, validate=validate.Length(min=1))
    choices = fields.List(fields.String(validate=validate.Length(min=1)), required=True,
                          validate=validate.Length(min=2, max=5))
    answer = fields.Integer(required=True, validate=validate.Range(min=0))
    explanation = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def answer_is_a_choice(self, data, **kwargs):
        if data["answer"] >= len(data["choices"]):
            raise ValidationError("must be the index of one of the choices", "answer")


class ThemeSchema(StrictSchema):
    """One theme (modules 1, 2, 4) or phase (module 3), in one language."""

    id = fields.String(required=True, validate=validate.Regexp(THEME_ID))
    order = fields.Integer(required=True, validate=validate.Range(min=1, max=9))
    title = fields.String(required=True, validate=validate.Length(min=1))
    intro = fields.String(required=True, validate=validate.Length(min=1))
    key_ideas = fields.List(fields.Nested(KeyIdeaSchema), required=True, validate=validate.Length(min=2))
    frameworks = fields.List(fields.Nested(FrameworkSchema), load_default=list)
    resources = fields.List(fields.Nested(ResourceSchema), required=True, validate=validate.Length(min=1))
    exercises = fields.List(fields.Nested(ExerciseSchema), required=True, validate=validate.Length(min=1))
    quiz = fields.List(fields.Nested(QuizQuestionSchema), required=True, validate=validate.Length(min=3, max=5))

    @validates_schema
    def ids_nest(self, data, **kwargs):
        for index, exercise in enumerate(data["exercises"]):
            if not exercise["id"].startswith(data["id"] + "."):
                raise ValidationError({index: {"id": [f"must start with {data['id']}."]}}, "exercises")


# --- what /catalogue.json reads and gives --------------------------------------------------------------


class CatalogueQuerySchema(Schema):
    lang = fields.String(load_default="fr", metadata={"enum": ["fr", "en"], "description": "The content's language."})


class ExerciseOutlineOut(Schema):
    id = fields.String()
    title = fields.String()
    type = fields.String()


class ThemeOutlineOut(Schema):
    id = fields.String()
    title = fields.String()
    exercises = fields.List(fields.Nested(ExerciseOutlineOut))


class ModuleOutlineOut(Schema):
    id = fields.String()
    title = fields.String()
    themes = fields.List(fields.Nested(ThemeOutlineOut))


class CatalogueOutlineOut(Schema):
    """The catalogue's outline in one language (services.catalogue_outline)."""

    language = fields.String()
    version = fields.String()
    modules = fields.List(fields.Nested(ModuleOutlineOut))
