"""The mentoring wheel as a radar chart, drawn on the server as SVG (no script, no CDN)."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

SIZE, CENTRE, RADIUS = 360, 180, 120
PALETTE = ("#b8c2d6", "#8fa3c7", "#1f5fbf")  # older snapshots lighter, the latest in the accent


def _point(index: int, count: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    r = RADIUS * value / 10
    return CENTRE + r * math.cos(angle), CENTRE + r * math.sin(angle)


def radar_svg(segments: list[dict[str, Any]], snapshots: list[dict[str, int]], title: str) -> Markup:
    """Six axes rated 1–10; each snapshot a polygon, the latest on top and darkest."""
    count = len(segments)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" role="img" '
             f'aria-label="{escape(title)}" class="wheel-chart">', f"<title>{escape(title)}</title>"]
    for ring in (2, 4, 6, 8, 10):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (_point(i, count, ring) for i in range(count)))
        parts.append(f'<polygon points="{points}" fill="none" stroke="#dde1ea" stroke-width="1"/>')
    for index, segment in enumerate(segments):
        x, y = _point(index, count, 10)
        lx, ly = _point(index, count, 11.8)
        anchor = "middle" if abs(lx - CENTRE) < 10 else ("start" if lx > CENTRE else "end")
        parts.append(f'<line x1="{CENTRE}" y1="{CENTRE}" x2="{x:.1f}" y2="{y:.1f}" stroke="#dde1ea"/>')
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="11" '
                     f'fill="#1d2433">{escape(segment["label"])}</text>')
    recent = snapshots[-3:]
    for age, ratings in enumerate(recent):
        colour = PALETTE[age + (3 - len(recent))]
        latest = age == len(recent) - 1
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (
            _point(i, count, ratings.get(s["key"], 0)) for i, s in enumerate(segments)))
        parts.append(f'<polygon points="{points}" fill="{colour}" fill-opacity="{0.35 if latest else 0.12}" '
                     f'stroke="{colour}" stroke-width="{2.5 if latest else 1.5}"'
                     f'{"" if latest else " stroke-dasharray=" + chr(34) + "4 3" + chr(34)}/>')
    parts.append("</svg>")
    return Markup("".join(parts))
