"""Inline SVG charts, rendered on the server: numbers over time, with the forecast dashed.

Pure functions from points to markup; colours come from the stylesheet (classes), so the
page's Content-Security-Policy needs no inline style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from allocator import TAIPEI
from hq_server.web.html import e

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36

Point = tuple[datetime, float]


@dataclass(frozen=True, slots=True)
class Line:
    points: Sequence[Point]
    css: str  # "issued", "held", "forecast", "seasonal"
    label: str


@dataclass(frozen=True, slots=True)
class Mark:
    at: datetime
    label: str
    css: str = "mark"


def chart(
    lines: Sequence[Line],
    start: datetime,
    end: datetime,
    marks: Sequence[Mark] = (),
    ceiling: float | None = None,
    ceiling_label: str = "",
    title: str = "",
) -> str:
    """A line chart from `start` to `end`; values from 0 up to the largest (or `ceiling`)."""
    span = max((end - start).total_seconds(), 1.0)
    top = max([ceiling or 0.0, *(v for line in lines for _, v in line.points)], default=0.0)
    top = _nice(top if top > 0 else 1.0)

    def x(at: datetime) -> float:
        share = min(max((at - start).total_seconds() / span, 0.0), 1.0)
        return LEFT + share * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return TOP + (1 - min(value, top) / top) * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{e(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{e(title)}</title>",
    ]
    for i in range(5):  # horizontal grid and the y labels
        value = top * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="ylabel" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{_short(value)}</text>'
        )
    for i in range(5):  # x labels: dates in Taipei
        at = start + (end - start) * i / 4
        parts.append(
            f'<text class="xlabel" x="{x(at):.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
            f"{at.astimezone(TAIPEI):%m-%d}</text>"
        )
    if ceiling:
        parts.append(
            f'<line class="ceiling" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(ceiling):.1f}" '
            f'y2="{y(ceiling):.1f}"/><text class="clabel" x="{WIDTH - RIGHT - 4}" '
            f'y="{y(ceiling) - 5:.1f}" text-anchor="end">{e(ceiling_label)}</text>'
        )
    for mark in marks:
        if start <= mark.at <= end:
            parts.append(
                f'<line class="{e(mark.css)}" x1="{x(mark.at):.1f}" x2="{x(mark.at):.1f}" '
                f'y1="{TOP}" y2="{HEIGHT - BOTTOM}"/><text class="mlabel" '
                f'x="{x(mark.at) + 3:.1f}" y="{TOP + 10}">{e(mark.label)}</text>'
            )
    for line in lines:
        if not line.points:
            continue
        coords = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in line.points)
        parts.append(
            f'<polyline class="{e(line.css)}" points="{coords}" fill="none">'
            f"<title>{e(line.label)}</title></polyline>"
        )
        if len(line.points) == 1 and line.css in ("issued", "held"):
            at, v = line.points[0]
            parts.append(f'<circle class="{e(line.css)}" cx="{x(at):.1f}" cy="{y(v):.1f}" r="3"/>')
    legend = "".join(
        f'<tspan class="{e(line.css)}-text" dx="12">■ {e(line.label)}</tspan>' for line in lines
    )
    parts.append(f'<text class="legend" x="{LEFT}" y="{HEIGHT - 1}">{legend}</text></svg>')
    return "".join(parts)


def toward(start: Point, until: datetime | None, end: datetime, target: float) -> list[Point]:
    """A straight forecast from `start` reaching `target` at `until`, cut at `end`."""
    at, value = start
    if until is None or until <= at:
        return [start] if until is None else [start, (at, target)]
    if until <= end:
        return [start, (until, target)]
    share = (end - at).total_seconds() / (until - at).total_seconds()
    return [start, (end, value + (target - value) * share)]


def _nice(value: float) -> float:
    """The next round number above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if value >= 1_000:
        return f"{value / 1_000:.3g}k"
    return f"{value:.3g}"
