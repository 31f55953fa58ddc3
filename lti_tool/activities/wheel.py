"""The mentoring wheel as a radar chart, drawn on the server as SVG (no script, no CDN).

The activity page redraws the polygon marked `data-live` as the learner moves the ratings
(static/activity.js computes the same points as `_point`); the receipt draws the ratings frozen in
a submission."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

SIZE, CENTRE, RADIUS = 360, 180, 120
# Room around the circle for the segments' names, which wrap onto lines of LABEL_LINE characters:
# at 11 px a line is at most ~90 px wide, so the names never leave the drawing on a phone.
MARGIN_X, LABEL_LINE = 70, 16
PALETTE = ("#b8c2d6", "#8fa3c7", "#1f5fbf")  # older snapshots lighter, the latest in the accent
LIVE_COLOUR = "#1f5fbf"
WHEEL_START = 5  # where the sliders start before the learner moves them


def _point(index: int, count: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    r = RADIUS * value / 10
    return CENTRE + r * math.cos(angle), CENTRE + r * math.sin(angle)


def _lines(label: str) -> list[str]:
    """`label` cut between words into lines of at most LABEL_LINE characters (a longer word alone)."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= LABEL_LINE:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _polygon(segments: list[dict[str, Any]], ratings: dict[str, int]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in (
        _point(i, len(segments), ratings.get(s["key"], 0)) for i, s in enumerate(segments)))


def radar_svg(segments: list[dict[str, Any]], snapshots: list[dict[str, int]], title: str,
              live: dict[str, int] | None = None) -> Markup:
    """Six axes rated 1–10; each snapshot a polygon, the latest on top and darkest. With `live`
    (the ratings being set on the page), that polygon is drawn on top in the accent colour and the
    saved snapshots under it, lighter."""
    count = len(segments)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{-MARGIN_X} 0 {SIZE + 2 * MARGIN_X} {SIZE}" '
             f'role="img" aria-label="{escape(title)}" class="wheel-chart" data-count="{count}" '
             f'data-centre="{CENTRE}" data-radius="{RADIUS}">', f"<title>{escape(title)}</title>"]
    for ring in (2, 4, 6, 8, 10):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (_point(i, count, ring) for i in range(count)))
        parts.append(f'<polygon points="{points}" fill="none" stroke="#dde1ea" stroke-width="1"/>')
    for index, segment in enumerate(segments):
        x, y = _point(index, count, 10)
        lx, ly = _point(index, count, 11.3)
        anchor = "middle" if abs(lx - CENTRE) < 10 else ("start" if lx > CENTRE else "end")
        lines = _lines(str(segment["label"]))
        # Labels above the circle grow upwards, below it downwards; beside it they are centred.
        first = ly - 13 * (len(lines) - 1) if ly < CENTRE - 10 else (ly - 6.5 * (len(lines) - 1) if abs(ly - CENTRE) <= 10 else ly + 8)
        parts.append(f'<line x1="{CENTRE}" y1="{CENTRE}" x2="{x:.1f}" y2="{y:.1f}" stroke="#dde1ea"/>')
        spans = "".join(f'<tspan x="{lx:.1f}" y="{first + 13 * n:.1f}">{escape(line)}</tspan>'
                        for n, line in enumerate(lines))
        parts.append(f'<text text-anchor="{anchor}" font-size="11" fill="#1d2433">{spans}</text>')
    recent = snapshots[-3:]
    for age, ratings in enumerate(recent):
        colour = PALETTE[age + (3 - len(recent))]
        latest = age == len(recent) - 1  # the last saved: solid; earlier ones dashed
        if live is not None:  # under the live polygon, every saved one is lighter
            colour = PALETTE[min(age + (3 - len(recent)), 1)]
        strong = latest and live is None
        parts.append(f'<polygon points="{_polygon(segments, ratings)}" fill="{colour}" '
                     f'fill-opacity="{0.35 if strong else 0.12}" stroke="{colour}" stroke-width="{2.5 if strong else 1.5}"'
                     f'{"" if latest else " stroke-dasharray=" + chr(34) + "4 3" + chr(34)}/>')
    if live is not None:
        parts.append(f'<polygon data-live points="{_polygon(segments, live)}" fill="{LIVE_COLOUR}" fill-opacity="0.3" '
                     f'stroke="{LIVE_COLOUR}" stroke-width="2.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def wheel_chart(exercise: dict[str, Any], ratings: dict[str, int] | None) -> Markup:
    """The wheel of one frozen answer (a receipt, the trainer's copy); empty without ratings."""
    if not ratings or not exercise.get("segments"):
        return Markup("")
    return radar_svg(exercise["segments"], [ratings], str(exercise.get("title", "")))
