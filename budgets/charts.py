"""Server-rendered SVG charts for the admin's report pages and dashboard: geometry computed here, drawn by the
templates in budgets/templates/admin/budgets/charts/ — no JavaScript, no CDN, nothing the
Content-Security-Policy must allow.

Coordinates are Decimal too (never float), rounded to a tenth of a pixel; the figures written in the chart and
in the table beside it are the report's own strings, so what the chart says is exactly what the API says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 50  # room for the value axis (left) and the month labels (bottom)
TICKS = 4


def _px(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):f}"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Decimal]
    labels: Sequence[str]  # each value as the report writes it ("-12.30"), for the tooltip
    css: str  # the series' class: its colour and its line/fill pattern, so series differ without colour too


@dataclass
class Tick:
    y: str
    label: str


@dataclass
class XLabel:
    x: str
    y: str
    text: str
    year: str = ""  # under the first label and each January, so a short "Mar" stays unambiguous
    year_y: str = ""


@dataclass
class Bar:
    x: str
    y: str
    width: str
    height: str
    css: str
    title: str


@dataclass
class Point:
    x: str
    y: str
    css: str
    title: str


@dataclass
class Line:
    d: str
    css: str
    name: str
    points: list[Point] = field(default_factory=list)


@dataclass
class Row:
    """A horizontal bar with its name on the left and its figure at its end."""

    y: str
    text_y: str
    width: str
    value_x: str
    name: str
    label: str


@dataclass
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[XLabel] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css, name)
    zero_y: str = ""
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT


def _nice_step(span: Decimal) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) that splits `span` into about TICKS parts."""
    if span <= 0:
        return Decimal(1)
    raw = span / TICKS
    power = Decimal(10) ** (raw.adjusted())
    for factor in (1, 2, 5, 10):
        if raw <= power * factor:
            return power * factor
    return power * 10  # pragma: no cover - factor 10 always covers it


class _Scale:
    """Maps amounts onto the plot's height, zero always included, bounds rounded out to whole steps."""

    def __init__(self, values: Sequence[Decimal], top: int = TOP, bottom: int = HEIGHT - BOTTOM) -> None:
        low = min([Decimal(0), *values])
        high = max([Decimal(0), *values])
        step = _nice_step(high - low)
        self.low = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
        self.high = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
        if self.high == self.low:
            self.high = self.low + step
        self.step = step
        self.top, self.bottom = Decimal(top), Decimal(bottom)

    def y(self, value: Decimal) -> Decimal:
        return self.bottom - (value - self.low) * (self.bottom - self.top) / (self.high - self.low)

    def ticks(self) -> list[Tick]:
        ticks = []
        value = self.low
        while value <= self.high:
            ticks.append(Tick(y=_px(self.y(value)), label=_tick_label(value)))
            value += self.step
        return ticks


def _tick_label(value: Decimal) -> str:
    """An axis label: thousands as "k", millions as "M", so labels stay short on a phone."""
    magnitude = abs(value)
    for divisor, suffix in ((Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if magnitude >= divisor:
            return f"{(value / divisor).normalize():f}{suffix}"
    return f"{value.normalize():f}"


def _x_labels(labels: Sequence[str], centers: Sequence[Decimal]) -> list[XLabel]:
    """Month labels ("Mar 2026") as "Mar", the year written under the first one and under each January. On a long
    range every label would collide: at most 12 are shown, evenly spaced."""
    every = max(1, -(-len(labels) // 12))
    result = []
    previous_year = ""
    for index, (text, center) in enumerate(zip(labels, centers, strict=True)):
        month, _, year = text.partition(" ")
        new_year = year != previous_year
        previous_year = year
        if index % every and not new_year:
            continue
        result.append(
            XLabel(
                x=_px(center),
                y=str(HEIGHT - BOTTOM + 16),
                text=month,
                year=year if new_year else "",
                year_y=str(HEIGHT - BOTTOM + 38),
            )
        )
    return result


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series]) -> Chart:
    """Grouped vertical bars: one group per category (a month), one bar per series (income, expense)."""
    scale = _Scale([v for s in series for v in s.values])
    plot = Decimal(WIDTH - LEFT - RIGHT)
    group = plot / max(1, len(categories))
    bar_width = group * Decimal("0.8") / max(1, len(series))
    chart = Chart(title=title, ticks=scale.ticks(), zero_y=_px(scale.y(Decimal(0))))
    zero = scale.y(Decimal(0))
    centers = []
    for index, category in enumerate(categories):
        start = LEFT + group * index + group * Decimal("0.1")
        centers.append(LEFT + group * index + group / 2)
        for offset, item in enumerate(series):
            value = item.values[index]
            top = min(zero, scale.y(value))
            chart.bars.append(
                Bar(
                    x=_px(start + bar_width * offset),
                    y=_px(top),
                    width=_px(bar_width),
                    height=_px(abs(scale.y(value) - zero)),
                    css=item.css,
                    title=f"{category} {item.name}: {item.labels[index]}",
                )
            )
    chart.x_labels = _x_labels(categories, centers)
    chart.legend = [(item.css, item.name) for item in series]
    return chart


def line_chart(title: str, categories: Sequence[str], series: Sequence[Series]) -> Chart:
    """One line per series over the categories (months), with a dot on every data point."""
    scale = _Scale([v for s in series for v in s.values])
    # The first and last points sit inside the plot, so their month labels clear the axis and the edge.
    inset = Decimal(22)
    plot = Decimal(WIDTH - LEFT - RIGHT) - 2 * inset
    count = max(1, len(categories) - 1)
    xs = [
        LEFT + inset + (plot * index / count if len(categories) > 1 else plot / 2) for index in range(len(categories))
    ]
    chart = Chart(title=title, ticks=scale.ticks(), zero_y=_px(scale.y(Decimal(0))))
    for item in series:
        points = [
            Point(x=_px(x), y=_px(scale.y(value)), css=item.css, title=f"{category}: {label}")
            for x, value, category, label in zip(xs, item.values, categories, item.labels, strict=True)
        ]
        d = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
        chart.lines.append(Line(d=d, css=item.css, name=item.name, points=points))
    chart.x_labels = _x_labels(categories, xs)
    chart.legend = [(item.css, item.name) for item in series]
    return chart


def horizontal_bar_chart(title: str, names: Sequence[str], values: Sequence[Decimal], labels: Sequence[str]) -> Chart:
    """One bar per row (spending by category), in the order given; a row of zero or less (refunds) draws none."""
    row = 26
    left, right = 150, 100
    largest = max([Decimal(0), *values])
    plot = Decimal(WIDTH - left - right)
    chart = Chart(title=title, height=max(row, row * len(names)) + 8, plot_left=left, plot_right=WIDTH - right)
    for index, (name, value, label) in enumerate(zip(names, values, labels, strict=True)):
        width = Decimal(0) if largest <= 0 or value <= 0 else plot * value / largest
        y = 4 + row * index
        chart.rows.append(
            Row(
                y=str(y),
                text_y=str(y + 14),
                width=_px(width),
                value_x=_px(left + width + 6),
                name=name if len(name) <= 22 else name[:21] + "…",
                label=label,
            )
        )
    return chart
