"""Server-side SVG charts: the geometry is computed here, ``reports/chart.html`` only draws it.

No script and no style attribute (the Content-Security-Policy stays strict): colours come from
classes in ``reports/reports.css``. Each chart has a ``<title>`` and a description, axis labels,
and the page shows the table it was drawn from beside it. A value that is hidden by small-cell
suppression (None) is not drawn as a bar, only marked "< 5", so a bar's height never reveals it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format

from .tables import HIDDEN

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 64


@dataclass
class Chart:
    id: str
    title: str
    description: str
    x_label: str
    y_label: str
    width: int = WIDTH
    height: int = HEIGHT
    rects: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)
    polylines: list[dict] = field(default_factory=list)
    legend: list[dict] = field(default_factory=list)

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def y_label_y(self) -> float:
        return TOP + (self.height - BOTTOM - TOP) / 2


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _format(value) -> str:
    if isinstance(value, Decimal | float) and value != int(value):
        return number_format(value, 1, force_grouping=True)
    return number_format(int(value), 0, force_grouping=True)


def _axes(chart: Chart, top_value: float, *, ticks: int = 4, suffix: str = "") -> None:
    bottom = chart.plot_bottom
    plot_height = bottom - TOP
    for i in range(ticks + 1):
        value = top_value * i / ticks
        y = bottom - plot_height * i / ticks
        chart.lines.append({"x1": LEFT, "y1": y, "x2": chart.width - RIGHT, "y2": y, "cls": "grid"})
        chart.texts.append(
            {"x": LEFT - 6, "y": y + 4, "text": _format(value) + suffix, "cls": "tick end"}
        )
    chart.lines.append(
        {"x1": LEFT, "y1": bottom, "x2": chart.width - RIGHT, "y2": bottom, "cls": "axis"}
    )
    chart.lines.append({"x1": LEFT, "y1": TOP, "x2": LEFT, "y2": bottom, "cls": "axis"})


def bar_chart(
    *,
    id: str,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    categories: list[str],
    series: list[tuple[str, list]],
    stacked: bool = True,
) -> Chart:
    """Vertical bars per category; several series stacked (or side by side)."""
    chart = Chart(id, title, description, x_label, y_label)
    if stacked:
        peak = max(
            (
                sum(v for v in values if isinstance(v, int | float | Decimal))
                for values in zip(*[s[1] for s in series], strict=True)
            ),
            default=0,
        )
    else:
        peak = max(
            (v for _, values in series for v in values if isinstance(v, int | float | Decimal)),
            default=0,
        )
    top_value = _nice_max(float(peak))
    _axes(chart, top_value)
    bottom = chart.plot_bottom
    plot_width = chart.width - LEFT - RIGHT
    plot_height = bottom - TOP
    slot = plot_width / max(1, len(categories))
    bar_width = slot * 0.7 / (1 if stacked else max(1, len(series)))
    for c, category in enumerate(categories):
        x0 = LEFT + c * slot + slot * 0.15
        base = bottom
        hidden = False
        for s, (label, values) in enumerate(series):
            value = values[c]
            if value is None:
                hidden = True
                continue
            if isinstance(value, str):
                continue
            height = plot_height * float(value) / top_value
            x = x0 if stacked else x0 + s * bar_width
            y = (base - height) if stacked else bottom - height
            if height > 0:
                chart.rects.append(
                    {
                        "x": x,
                        "y": y,
                        "w": bar_width,
                        "h": height,
                        "cls": f"series-{s}",
                        "tip": f"{category} · {label}: {_format(value)}",
                    }
                )
            if stacked:
                base -= height
        if hidden:
            chart.texts.append(
                {"x": x0 + slot * 0.35, "y": base - 4, "text": HIDDEN, "cls": "hidden-mark middle"}
            )
        chart.texts.append(
            {
                "x": LEFT + c * slot + slot / 2,
                "y": bottom + 16,
                "text": category,
                "cls": "tick middle",
            }
        )
    if len(series) > 1:
        chart.legend = [
            {"label": label, "cls": f"series-{s}"} for s, (label, _v) in enumerate(series)
        ]
    return chart


def hbar_chart(
    *,
    id: str,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    categories: list[str],
    values: list,
    maximum: float = 100,
    suffix: str = "%",
    target: float | None = None,
    target_label: str = "",
) -> Chart:
    """Horizontal bars, e.g. a share per practice, with an optional target line."""
    row = 26
    height = TOP + BOTTOM + row * max(1, len(categories))
    chart = Chart(id, title, description, x_label, y_label, height=height)
    left = 200
    bottom = height - BOTTOM
    plot_width = chart.width - left - RIGHT
    for i in range(5):
        x = left + plot_width * i / 4
        chart.lines.append({"x1": x, "y1": TOP, "x2": x, "y2": bottom, "cls": "grid"})
        chart.texts.append(
            {
                "x": x,
                "y": bottom + 16,
                "text": _format(maximum * i / 4) + suffix,
                "cls": "tick middle",
            }
        )
    for i, (category, value) in enumerate(zip(categories, values, strict=True)):
        y = TOP + i * row + 4
        chart.texts.append({"x": left - 6, "y": y + 13, "text": category, "cls": "tick end"})
        if value is None or isinstance(value, str):
            text = HIDDEN if value is None else value
            chart.texts.append({"x": left + 4, "y": y + 13, "text": text, "cls": "hidden-mark"})
            continue
        width = plot_width * min(float(value), maximum) / maximum
        chart.rects.append(
            {
                "x": left,
                "y": y,
                "w": width,
                "h": row - 8,
                "cls": "series-0",
                "tip": f"{category}: {_format(value)}{suffix}",
            }
        )
        chart.texts.append(
            {"x": left + width + 4, "y": y + 13, "text": _format(value) + suffix, "cls": "value"}
        )
    chart.lines.append({"x1": left, "y1": TOP, "x2": left, "y2": bottom, "cls": "axis"})
    if target is not None:
        x = left + plot_width * target / maximum
        chart.lines.append({"x1": x, "y1": TOP - 8, "x2": x, "y2": bottom, "cls": "reference"})
        chart.texts.append(
            {"x": x, "y": TOP - 12, "text": target_label, "cls": "reference-label middle"}
        )
    return chart


def line_chart(
    *,
    id: str,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    categories: list[str],
    values: list,
    references: list[tuple[float, str]] = (),
) -> Chart:
    """A line over the categories (e.g. the budget used so far) with horizontal reference lines."""
    chart = Chart(id, title, description, x_label, y_label)
    peak = max(
        [float(v) for v in values if v is not None] + [float(r[0]) for r in references] + [0]
    )
    top_value = _nice_max(peak * 1.05)
    _axes(chart, top_value)
    bottom = chart.plot_bottom
    plot_width = chart.width - LEFT - RIGHT
    plot_height = bottom - TOP
    slot = plot_width / max(1, len(categories))
    points = []
    for c, (category, value) in enumerate(zip(categories, values, strict=True)):
        x = LEFT + c * slot + slot / 2
        chart.texts.append({"x": x, "y": bottom + 16, "text": category, "cls": "tick middle"})
        if value is None:
            continue
        y = bottom - plot_height * float(value) / top_value
        points.append(f"{x:.1f},{y:.1f}")
        chart.rects.append(
            {
                "x": x - 3,
                "y": y - 3,
                "w": 6,
                "h": 6,
                "cls": "point",
                "tip": f"{category}: € {_format(value)}",
            }
        )
    if points:
        chart.polylines.append({"points": " ".join(points), "cls": "line"})
    for value, label in references:
        y = bottom - plot_height * float(value) / top_value
        chart.lines.append(
            {"x1": LEFT, "y1": y, "x2": chart.width - RIGHT, "y2": y, "cls": "reference"}
        )
        chart.texts.append(
            {"x": chart.width - RIGHT - 4, "y": y - 4, "text": label, "cls": "reference-label end"}
        )
    return chart
