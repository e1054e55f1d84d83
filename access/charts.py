"""Bar charts drawn on the server as small SVG: no script, no library, colours from CSS classes
(so they follow the admin's light and dark themes), and a title and description for screen
readers. The numbers themselves are always shown beside a chart, as a table."""

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 360, 180
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 10, 22
FONT = 11
MAX_LABELS = 6


@dataclass(frozen=True)
class Layer:
    """One kind of count, drawn as the bars (or the part of each stacked bar) of a class."""

    name: str
    values: list[int]
    css: str  # chart__bar--a, --b, ...


NICE_STEPS = (1, 2, 3, 4, 5, 6, 8, 10)


def nice_ceiling(value: int) -> int:
    """The smallest round number (1, 2, 3, 4, 5, 6 or 8 times a power of ten) at or above
    `value`, at least 1: the top of the scale."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in NICE_STEPS if step * power >= value)


def _ticks(count: int) -> list[int]:
    """Which of `count` buckets get an x label: at most MAX_LABELS, first and last among them."""
    if count <= MAX_LABELS:
        return list(range(count))
    step = (count - 1) / (MAX_LABELS - 1)
    return sorted({round(i * step) for i in range(MAX_LABELS)})


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def bar_chart(
    *, chart_id: str, title: str, description: str, labels: list[str], layers: list[Layer]
) -> SafeString:
    """A bar chart of `layers` (stacked when there are several) over `labels`."""
    count = len(labels)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(layer.values[i] for layer in layers) for i in range(count)]
    top = nice_ceiling(max(totals, default=0))
    slot = plot_w / max(count, 1)
    bar = max(1.0, slot * 0.72)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for value in (0, top // 2, top) if top % 2 == 0 else (0, top):
        y = TOP + plot_h - plot_h * value / top
        out.append(
            f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{_number(y)}" y2="{_number(y)}"/>'
            f'<text class="chart__label" x="{LEFT - 4}" y="{_number(y + FONT / 3)}" '
            f'text-anchor="end" font-size="{FONT}">{_number(value)}</text>'
        )
    for i in range(count):
        x = LEFT + slot * i + (slot - bar) / 2
        base = TOP + plot_h
        for layer in layers:
            value = layer.values[i]
            if not value:
                continue
            height = plot_h * value / top
            base -= height
            out.append(
                f'<rect class="chart__bar {layer.css}" x="{_number(x)}" y="{_number(base)}" '
                f'width="{_number(bar)}" height="{_number(height)}">'
                f"<title>{escape(labels[i])}: {escape(layer.name)} {value}</title></rect>"
            )
    for i in _ticks(count):
        x = LEFT + slot * i + slot / 2
        anchor = "start" if i == 0 and count > 1 else "end" if i == count - 1 else "middle"
        if anchor != "middle":
            x = LEFT if anchor == "start" else WIDTH - RIGHT
        out.append(
            f'<text class="chart__label" x="{_number(x)}" y="{HEIGHT - 6}" '
            f'text-anchor="{anchor}" font-size="{FONT}">{escape(labels[i])}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 (every text above is escaped)
