"""Charts drawn on the server: one mechanism for every dashboard and document.

A chart is computed here (coordinates, ticks, the target line) and drawn two ways from the
same :class:`Chart`: as SVG by the macros in ``templates/_chart.html`` (pages), and as PNG by
:func:`render_png` (official documents: Word and PDF), at the same coordinates scaled for
print. Both print the same figures as a table (:meth:`Chart.rows`) for screen readers and for
anyone who prefers numbers. No JavaScript, no inline styles (the CSP forbids them): on a page
the colours come from classes in portal.css, which :data:`COLOURS` repeats for the PNG.

The PNG's text is set in the CJK font the project installs (Debian's ``fonts-noto-cjk``,
``make system-deps``), found through fontconfig (:func:`cjk_font_file`).
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache

from flask_babel import gettext as _

WIDTH = 640
HEIGHT = 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 16, 40
LABEL_FONT = 11  # .chart-label's font-size, in the SVG's units
LABEL_GAP = 8  # the least space between two axis labels
LINE_LABEL_CHARS, BAR_LABEL_CHARS = 10, 8  # longer labels are cut with "…" under the axis
# portal.css's colours of the chart classes (--red, --line, --muted, --good), for the PNG
COLOURS = {"bar": "#8b1a1a", "grid": "#d9dee3", "text": "#616e7c", "target": "#166a3e",
           "background": "#ffffff"}
DOT_RADIUS, LINE_WIDTH, TARGET_DASH = 4, 2.5, (6, 4)  # as .chart-dot, .chart-line, .chart-target


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

    @property
    def segments(self) -> list[list[ChartPoint]]:
        """The line's runs of points between gaps (a value of None breaks the line)."""
        return _segments(self.points)

    def shown(self, value: float | None) -> str:
        """A value as the table prints it ("—" for no data)."""
        return "—" if value is None else f"{value:g}{self.unit}"

    @property
    def has_notes(self) -> bool:
        return any(point.note for point in self.points)

    def rows(self) -> list[tuple[str, str, str]]:
        """The chart as a table: (label, value, note) per point, then the target's row."""
        rows = [(point.label, self.shown(point.value), point.note) for point in self.points]
        if self.target is not None:
            rows.append((_("Target"), self.shown(self.target), ""))
        return rows


def _segments(points: list[ChartPoint]) -> list[list[ChartPoint]]:
    segments, segment = [], []
    for point in points:
        if point.y is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            segment.append(point)
    if segment:
        segments.append(segment)
    return segments


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
    return Chart(
        kind="line", points=points, y_ticks=_ticks(y_min, top, to_y, unit), unit=unit,
        target=target, target_y=None if target is None else to_y(target),
        paths=["M" + " L".join(f"{p.x},{p.y}" for p in seg) for seg in _segments(points)],
        label_step=label_step,
    )


def bar_chart(data: list[tuple[str, float | None]], *, unit: str = "",
              target: float | None = None, y_max: float | None = None,
              notes: list[str] | None = None) -> Chart:
    """Vertical bars over labelled values (e.g. rate by category, items per month).

    With many bars (twelve services) their labels would overlap under the axis: only every
    n-th bar is labelled, from the first; each bar keeps its label as a tooltip and the table
    lists every figure."""
    values = [v for _, v in data if v is not None]
    top = y_max if y_max is not None else _nice_max(max([*values, target or 0, 0]))
    to_y = _scale(0, top, HEIGHT)
    inner_width = WIDTH - PAD_LEFT - PAD_RIGHT
    slot = inner_width / max(len(data), 1)
    cut = [_cut(label, BAR_LABEL_CHARS) for label, _value in data]
    label_step = _label_step(cut, slot)
    points = [
        ChartPoint(label, value, round(PAD_LEFT + slot * index + slot * 0.15, 1),
                   None if value is None else to_y(value), (notes or [""] * len(data))[index],
                   cut[index], show_label=index % label_step == 0)
        for index, (label, value) in enumerate(data)
    ]
    return Chart(kind="bar", points=points, y_ticks=_ticks(0, top, to_y, unit), unit=unit,
                 target=target, target_y=None if target is None else to_y(target),
                 bar_width=round(slot * 0.7, 1), label_step=label_step)


# --- PNG (documents) --------------------------------------------------------------------------

FONT_FAMILY = "Noto Sans CJK SC"
# Debian's fonts-noto-cjk, where fontconfig is not there to ask
KNOWN_FONT_FILES = (("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),)


@cache
def cjk_font_file() -> tuple[str, int]:
    """The file (and face index in a .ttc collection) of the CJK font, asked of fontconfig.

    Raises RuntimeError with what to install when no CJK font is found: a chart with its
    Chinese labels drawn as boxes would be worse than a clear error."""
    fc_match = shutil.which("fc-match")
    if fc_match:
        found = subprocess.run(  # noqa: S603 (a fixed program and pattern, no user input)
            [fc_match, "--format=%{file}\n%{index}\n%{family}", f"{FONT_FAMILY}:lang=zh-cn"],
            capture_output=True, text=True, timeout=10, check=False).stdout.split("\n")
        if len(found) == 3 and "CJK" in found[2] and found[1].isdigit():
            return found[0], int(found[1])
    for path, index in KNOWN_FONT_FILES:
        if os.path.exists(path):
            return path, index
    raise RuntimeError(f"No CJK font for the charts: install the Debian package fonts-noto-cjk "
                       f"(make system-deps), which provides {FONT_FAMILY}.")


@cache
def _font(size: int):
    from PIL import ImageFont

    path, index = cjk_font_file()
    return ImageFont.truetype(path, size, index=index)


def render_png(chart: Chart, scale: int = 2, empty_text: str | None = None) -> bytes:
    """The chart as a PNG: the same coordinates as the SVG, ``scale`` times larger (2: sharp
    enough for print at the width of an A4 text block), the same colours as portal.css.

    A chart without data says so (``empty_text``, by default "No data yet.") in its plot."""
    from PIL import Image, ImageDraw

    def at(value: float) -> float:
        return value * scale

    image = Image.new("RGB", (chart.width * scale, chart.height * scale), COLOURS["background"])
    draw = ImageDraw.Draw(image)
    font = _font(LABEL_FONT * scale)
    left, right, baseline = at(chart.plot_left), at(chart.plot_right), at(chart.baseline)
    if chart.empty:  # no scale to read: the axis and the words
        draw.line([(left, baseline), (right, baseline)], fill=COLOURS["grid"], width=scale)
        draw.text(((left + right) / 2, at((PAD_TOP + chart.baseline) / 2)),
                  empty_text or _("No data yet."), font=_font(LABEL_FONT * 2 * scale),
                  fill=COLOURS["text"], anchor="mm")
        return _png(image)
    for y, label in chart.y_ticks:
        draw.line([(left, at(y)), (right, at(y))], fill=COLOURS["grid"], width=scale)
        draw.text((at(chart.plot_left - 6), at(y + 4)), label, font=font,
                  fill=COLOURS["text"], anchor="rs")
    if chart.kind == "bar":
        for point in chart.points:
            if point.y is not None and point.y < chart.baseline:
                draw.rectangle([at(point.x), at(point.y),
                                at(point.x + chart.bar_width) - 1, baseline - 1],
                               fill=COLOURS["bar"])
            if point.show_label:
                draw.text((at(point.x + chart.bar_width / 2), at(chart.baseline + 16)),
                          point.short_label, font=font, fill=COLOURS["text"], anchor="ms")
    else:
        for segment in chart.segments:
            if len(segment) > 1:
                draw.line([(at(p.x), at(p.y)) for p in segment], fill=COLOURS["bar"],
                          width=round(LINE_WIDTH * scale), joint="curve")
        radius = at(DOT_RADIUS)
        for point in chart.points:
            if point.y is not None:
                draw.ellipse([at(point.x) - radius, at(point.y) - radius,
                              at(point.x) + radius, at(point.y) + radius], fill=COLOURS["bar"])
            if point.show_label:
                draw.text((at(point.x), at(chart.baseline + 16)), point.short_label,
                          font=font, fill=COLOURS["text"], anchor="ms")
    if chart.target_y is not None:
        dash, gap = TARGET_DASH
        x, y = chart.plot_left, at(chart.target_y)
        while x < chart.plot_right:
            draw.line([(at(x), y), (at(min(x + dash, chart.plot_right)), y)],
                      fill=COLOURS["target"], width=round(1.5 * scale))
            x += dash + gap
        draw.text((right, at(chart.target_y - 4)), f"{_('Target')} {chart.target:g}{chart.unit}",
                  font=font, fill=COLOURS["target"], anchor="rs")
    return _png(image)


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
