"""An activity in steps: a placed module is a contents page, one page per theme (or phase) and the
"hand in" step (checklist, declaration, submit); a placed theme or exercise is one page and the
hand-in step. Every page says where the learner is and how far they got.

Step numbers: 0 is the first page (a module's contents, or the whole theme), 1…n a module's
themes, HAND_IN the hand-in step. URLs: `/t/<token>/` (0), `/t/<token>/parts/<n>`,
`/t/<token>/hand-in`; another link of the course, read-only: `/t/<token>/links/<pk>[/parts/<n>]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..common.errors import ToolError
from ..common.i18n import lazy_gettext as _l
from .progress import LearnerState

CONTENTS = 0
HAND_IN = "hand_in"


@dataclass(frozen=True)
class ThemeStep:
    """One theme (or phase) of the activity and what the learner did in it."""

    number: int  # 1-based, its page in a module (0 when the activity is the theme itself)
    theme: dict[str, Any]
    done: int  # exercises marked done
    total: int
    read: bool
    quiz: tuple[int, int] | None  # the best attempt: (score, total)

    @property
    def complete(self) -> bool:
        return self.done == self.total and self.read

    @property
    def kind(self) -> str:
        """"Phase" for module 3's phases (`m3.p1`), else "Theme"."""
        return _l("Phase") if self.theme["id"].rsplit(".", 1)[-1].startswith("p") else _l("Theme")


@dataclass(frozen=True)
class Steps:
    paged: bool  # a module: contents, one page per theme, then the hand-in step
    current: int | str  # CONTENTS, a theme's number, or HAND_IN
    themes: list[ThemeStep]

    @property
    def theme(self) -> ThemeStep | None:
        """The theme this page shows, on a module's theme page."""
        return self.themes[self.current - 1] if self.paged and isinstance(self.current, int) and self.current else None

    @property
    def previous(self) -> int | None:
        return self.current - 1 if self.theme is not None else None

    @property
    def next(self) -> int | str | None:
        """The next page: the next theme, or after the last one the hand-in step."""
        if self.paged and self.current == CONTENTS:
            return 1 if self.themes else HAND_IN
        if self.theme is None:
            return None
        return self.current + 1 if self.current < len(self.themes) else HAND_IN

    @property
    def first_unfinished(self) -> int | str:
        """The first theme not finished (exercises done and read), else the hand-in step."""
        return next((t.number for t in self.themes if not t.complete), HAND_IN)

    @property
    def done(self) -> int:
        return sum(t.done for t in self.themes)

    @property
    def total(self) -> int:
        return sum(t.total for t in self.themes)

    def page_themes(self, themes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The themes whose content this page shows."""
        if not self.paged:
            return themes if self.current != HAND_IN else []
        return [self.theme.theme] if self.theme is not None else []


def steps_of(view, state: LearnerState, current: int | str = CONTENTS) -> Steps:
    """The steps of `view` (activities.services.ItemView) seen from page `current`; a page the
    activity does not have is refused (404)."""
    paged = view.kind == "module"
    themes = []
    for number, theme in enumerate(view.themes, start=1):
        exercise_ids = [e["id"] for e in theme["exercises"] if view.exercise is None or e["id"] == view.exercise["id"]]
        done, total = state.counts(exercise_ids)
        best = state.best_quiz.get(theme["id"])
        themes.append(ThemeStep(number=number if paged else 0, theme=theme, done=done, total=total,
                                read=theme["id"] in state.read, quiz=(best.score, best.total) if best else None))
    if isinstance(current, int) and current != CONTENTS and not (paged and 1 <= current <= len(themes)):
        raise ToolError(_l("This activity has no such page."), status=404, code="unknown_page")
    return Steps(paged=paged, current=current, themes=themes)
