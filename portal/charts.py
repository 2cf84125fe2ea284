"""Charts drawn as SVG on the server: one mechanism for every dashboard.

A chart is computed here (coordinates, ticks, the target line) and drawn by the macros in
``templates/_chart.html``, which also print the same figures as a table for screen readers and
for anyone who prefers numbers. No JavaScript, no inline styles (the CSP forbids them): the
colours come from classes in portal.css.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field, replace

WIDTH = 640
HEIGHT = 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 16, 40
LABEL_FONT = 11  # .chart-label's font-size, in the SVG's units
LABEL_GAP = 8  # the least space between two axis labels
LINE_LABEL_CHARS, BAR_LABEL_CHARS = 10, 8  # longer labels are cut with "…" under the axis


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: float | None  # None: no data for this label (a gap in the line)
    x: float
    y: float | None
    note: str = ""  # shown in the table, e.g. "n = 42"
    short_label: str = ""  # the label under the axis (cut to fit)
    show_label: bool = True  # False: too many points to label each; the table has them all


@dataclass
class Chart:
    kind: str  # "line" or "bar"
    points: list[ChartPoint]
    y_ticks: list[tuple[float, str]]  # (y, label)
    unit: str
    width: int = WIDTH
    height: int = HEIGHT
    target: float | None = None
    target_y: float | None = None
    bar_width: float = 0
    paths: list[str] = field(default_factory=list)  # line segments between gaps
    label_step: int = 1  # every n-th point is labelled under the axis

    @property
    def baseline(self) -> float:
        return self.height - PAD_BOTTOM

    @property
    def plot_left(self) -> float:
        return PAD_LEFT

    @property
    def plot_right(self) -> float:
        return self.width - PAD_RIGHT

    @property
    def empty(self) -> bool:
        return all(point.value is None for point in self.points)


def _scale(y_min: float, y_max: float, height: int):
    span = (y_max - y_min) or 1
    inner = height - PAD_TOP - PAD_BOTTOM

    def to_y(value: float) -> float:
        return round(PAD_TOP + inner * (1 - (value - y_min) / span), 1)
    return to_y


def _ticks(y_min: float, y_max: float, to_y, unit: str, count: int = 4):
    step = (y_max - y_min) / count
    return [(to_y(y_min + i * step), f"{y_min + i * step:g}{unit}") for i in range(count + 1)]


def _cut(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[:chars - 1] + "…"


def label_width(text: str) -> float:
    """The width an axis label takes (wide CJK characters a full em, others about 0.6)."""
    return sum(LABEL_FONT if unicodedata.east_asian_width(ch) in "WF" else LABEL_FONT * 0.6
               for ch in text)


def _label_step(labels: list[str], spacing: float) -> int:
    """Label every n-th point so that no two labels overlap at ``spacing`` between points."""
    if len(labels) < 2 or spacing <= 0:
        return 1
    widest = max(label_width(label) for label in labels)
    return max(1, math.ceil((widest + LABEL_GAP) / spacing))


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for nice in (1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= nice:
            return nice
    magnitude = 10 ** (len(str(int(value))) - 1)
    return -(-value // magnitude) * magnitude


def line_chart(data: list[tuple[str, float | None]], *, unit: str = "", target: float | None = None,
               y_min: float = 0, y_max: float | None = None,
               notes: list[str] | None = None) -> Chart:
    """A line over labelled values (e.g. satisfaction rate per survey round), gaps for None.

    With many points (20 survey rounds) their labels would overlap under the axis: only every
    n-th is printed, counting back from the latest; each dot keeps its label as a tooltip and
    the table beside the chart lists every figure."""
    values = [v for _, v in data if v is not None]
    top = y_max if y_max is not None else _nice_max(max([*values, target or 0, 0]))
    to_y = _scale(y_min, top, HEIGHT)
    inner_width = WIDTH - PAD_LEFT - PAD_RIGHT
    step = inner_width / max(len(data) - 1, 1)
    points = []
    for index, (label, value) in enumerate(data):
        x = round(PAD_LEFT + (index * step if len(data) > 1 else inner_width / 2), 1)
        points.append(ChartPoint(label, value, x, None if value is None else to_y(value),
                                 (notes or [""] * len(data))[index]))
    cut = [_cut(label, LINE_LABEL_CHARS) for label, _value in data]
    label_step = _label_step(cut, step)
    last = len(points) - 1
    points = [replace(point, short_label=cut[index], show_label=(last - index) % label_step == 0)
              for index, point in enumerate(points)]  # the latest point is always labelled
    paths, segment = [], []
    for point in points:
        if point.y is None:
            if segment:
                paths.append(segment)
            segment = []
        else:
            segment.append(point)
    if segment:
        paths.append(segment)
    return Chart(
        kind="line", points=points, y_ticks=_ticks(y_min, top, to_y, unit), unit=unit,
        target=target, target_y=None if target is None else to_y(target),
        paths=["M" + " L".join(f"{p.x},{p.y}" for p in seg) for seg in paths],
        label_step=label_step,
    )


def bar_chart(data: list[tuple[str, float | None]], *, unit: str = "",
              target: float | None = None, y_max: float | None = None,
              notes: list[str] | None = None) -> Chart:
    """Vertical bars over labelled values (e.g. rate by category, items per month)."""
    values = [v for _, v in data if v is not None]
    top = y_max if y_max is not None else _nice_max(max([*values, target or 0, 0]))
    to_y = _scale(0, top, HEIGHT)
    inner_width = WIDTH - PAD_LEFT - PAD_RIGHT
    slot = inner_width / max(len(data), 1)
    points = [
        ChartPoint(label, value, round(PAD_LEFT + slot * index + slot * 0.15, 1),
                   None if value is None else to_y(value), (notes or [""] * len(data))[index],
                   _cut(label, BAR_LABEL_CHARS))
        for index, (label, value) in enumerate(data)
    ]
    return Chart(kind="bar", points=points, y_ticks=_ticks(0, top, to_y, unit), unit=unit,
                 target=target, target_y=None if target is None else to_y(target),
                 bar_width=round(slot * 0.7, 1))
