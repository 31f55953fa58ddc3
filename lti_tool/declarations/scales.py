"""The two AI-use scales a centre can choose, and what each level lets the tool's assistant do.

Levels are ranked 1..5 on both scales so that "declared above allowed" is a comparison of ranks,
and a level is carried from one scale to the other by its rank: the source guide sets the two
scales side by side, step for step (no AI / forbidden, preparation / limited, working with AI /
guided, full use / framed, exploring / free). A centre that changes its scale keeps every
assignment's step; a level is shown in the scale it was chosen in, with that scale's name when the
centre has since moved to the other one.
Each level maps to an assistant mode, which the LLM service turns into a system prompt and a
visible label:

- ``off``: the assistant is not available;
- ``learning``: it explains notions and language, it never works on the assignment;
- ``preparation``: ideas, planning, finding information; never the deliverable itself;
- ``improve``: feedback on, and improvements to, work the learner wrote;
- ``collaborate``: helps produce the work, the learner keeps a critical eye;
- ``full``: no specific restriction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..common.i18n import lazy_gettext as _l

ASSISTANT_MODES = ("off", "learning", "preparation", "improve", "collaborate", "full")


@dataclass(frozen=True)
class Level:
    code: str
    rank: int
    mode: str
    label: object
    explanation: object


@dataclass(frozen=True)
class Scale:
    code: str
    label: object
    levels: tuple[Level, ...]

    def level(self, code: str) -> Level | None:
        return next((level for level in self.levels if level.code == code), None)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(level.code for level in self.levels)

    def at_rank(self, rank: int) -> Level:
        """The level of this scale at `rank` (clamped to 1..5)."""
        return self.levels[min(max(rank, 1), len(self.levels)) - 1]

    def carry(self, code: str | None) -> Level | None:
        """The level `code` names on this scale, or the level of the same step when `code` is a
        level of the other scale; None when no scale knows it."""
        if not code:
            return None
        found = self.level(code)
        if found is not None:
            return found
        for other in SCALES.values():
            level = other.level(code)
            if level is not None:
                return self.at_rank(level.rank)
        return None

    @property
    def assistant_floor(self) -> Level:
        """The lowest level at which the assistant works (below it, its mode is "off"): what an
        exercise done with the assistant needs at least."""
        return next(level for level in self.levels if level.mode != "off")

    @property
    def default_level(self) -> Level:
        """The level of an assignment nobody chose one for."""
        return self.level(DEFAULT_LEVEL[self.code])


# Level labels: the AI Assessment Scale's second version (Perkins, Roe & Furze, 2024); in French,
# those of its published translation (Jourde), as the guide on work-based learning quotes them.
AIAS = Scale(
    "aias",
    _l("AI Assessment Scale (AIAS)"),
    (
        Level("no_ai", 1, "off", _l("1 – No AI"),
              _l("You do this work entirely without AI, in a controlled setting, relying only on what you "
                 "already know and can do.")),
        Level("planning", 2, "preparation", _l("2 – AI planning"),
              _l("You may use AI to find ideas, plan and look for information. The work you hand "
                 "in is written by you.")),
        Level("collaboration", 3, "collaborate", _l("3 – AI collaboration"),
              _l("AI may help you produce the work (ideas, drafting, advice, adjustments). You "
                 "check and question every suggestion: you do not just accept it.")),
        Level("full", 4, "full", _l("4 – Full AI"),
              _l("AI may do any part of the task, with you directing it. You show how you guided "
                 "it to reach the goal.")),
        Level("exploration", 5, "full", _l("5 – AI exploration"),
              _l("Use AI creatively to go beyond the task: try new methods and raise new "
                 "questions.")),
    ),
)

SHERBROOKE = Scale(
    "sherbrooke",
    _l("Sherbrooke usage markers"),
    (
        Level("interdite", 1, "off", _l("Forbidden use"),
              _l("AI tools may not be used for this work.")),
        Level("limitee", 2, "learning", _l("Limited use"),
              _l("AI may only help you learn: understand a notion, or work on the language. It "
                 "does not work on the assignment.")),
        Level("guidee", 3, "improve", _l("Guided use"),
              _l("AI may help you improve work that you produced yourself.")),
        Level("balisee", 4, "collaborate", _l("Framed use"),
              _l("AI may produce a first version that you then improve.")),
        Level("libre", 5, "full", _l("Free use"),
              _l("No specific restriction applies.")),
    ),
)

SCALES = {scale.code: scale for scale in (AIAS, SHERBROOKE)}
SHORT_NAMES = {"aias": "AIAS", "sherbrooke": "Sherbrooke"}


def level_in_scale(scale_code: str | None, rank: int | None):
    """(scale, level) of the step `rank` on the scale `scale_code` (None when either is unknown):
    a level as it was chosen or declared, whatever scale the centre uses now."""
    scale = SCALES.get(scale_code or "")
    if scale is None or not rank:
        return None
    return scale, scale.at_rank(rank)


DEFAULT_SCALE = "aias"
DEFAULT_LEVEL = {"aias": "planning", "sherbrooke": "limitee"}
