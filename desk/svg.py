"""Bar charts drawn by the server as inline SVG: no JavaScript and nothing from a CDN.

This module only computes geometry; `templates/agencies/_bar_chart.html` writes the SVG elements, so
every label goes through the template's autoescaping. Coordinates are formatted here as plain strings
so that localisation never turns a decimal point into a comma. Colours are presentation attributes (the
Content-Security-Policy forbids inline styles) from the Okabe–Ito palette, which stays distinguishable
with colour-blindness; each bar also carries a <title> with its value, and each chart is paired with a
table on the page as its text alternative.
"""

import math
from dataclasses import dataclass, field

# Okabe–Ito blue, vermillion, bluish green: each at least 3:1 against white (WCAG 1.4.11).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
TEXT = "#212529"
GRID = "#ced4da"


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Series:
    label: str
    values: list  # numbers or None (no data: no bar)


@dataclass
class Bar:
    x: str
    y: str
    width: str
    height: str
    fill: str
    title: str
    label: str = ""
    label_x: str = ""
    label_y: str = ""
    missing: bool = False  # no data: only the label is drawn


@dataclass
class Tick:
    y: str
    label: str


@dataclass
class Category:
    x: str
    label: str


@dataclass
class LegendItem:
    x: str
    text_x: str
    fill: str
    label: str


@dataclass
class BarChart:
    id: str
    title: str
    description: str
    width: int
    height: int
    left: str
    right: str
    top: str
    bottom: str
    axis_y: str
    legend_y: str
    legend_text_y: str
    bars: list = field(default_factory=list)
    ticks: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    legend: list = field(default_factory=list)
    empty: bool = False


def nice_scale(largest: float, ticks: int = 4) -> tuple[float, float]:
    """The axis maximum and tick step: a round number (1, 2 or 5 × 10^k) per step."""
    if largest <= 0:
        return 1.0, 1.0 / ticks if ticks else 1.0
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if largest >= 1 and step < 1:
        step = 1.0
    return step * math.ceil(largest / step), step


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[Series],
    maximum: float | None = None,
    unit: str = "",
    show_values: bool = False,
    missing_label: str = "",
    width: int = 720,
    height: int = 320,
) -> BarChart:
    """Grouped vertical bars: one group per category, one bar per series. A value of None draws no bar,
    only `missing_label` (if given) where the bar would stand."""
    left, right, top = 48.0, width - 12.0, 16.0
    bottom = height - 64.0  # room for the category labels and the legend
    values = [v for s in series for v in s.values if v is not None]
    largest = max(values, default=0)
    if maximum is not None:
        top_value, step = float(maximum), float(maximum) / 4
    else:
        top_value, step = nice_scale(largest)
    chart = BarChart(
        id=chart_id,
        title=str(title),
        description=str(description),
        width=width,
        height=height,
        left=_n(left),
        right=_n(right),
        top=_n(top),
        bottom=_n(bottom),
        axis_y=_n(bottom + 18),
        legend_y=_n(height - 22),
        legend_text_y=_n(height - 12),
        empty=not any(values),
    )

    def y_of(value):
        return bottom - (bottom - top) * (value / top_value if top_value else 0)

    count = round(top_value / step) if step else 0
    for index in range(count + 1):
        value = step * index
        label = _n(value) + unit
        chart.ticks.append(Tick(y=_n(y_of(value)), label=label))

    group = (right - left) / max(len(categories), 1)
    inner = group * 0.8
    bar_width = inner / max(len(series), 1)
    for c_index, category in enumerate(categories):
        group_left = left + c_index * group + (group - inner) / 2
        chart.categories.append(Category(x=_n(left + c_index * group + group / 2), label=str(category)))
        for s_index, one in enumerate(series):
            value = one.values[c_index]
            x = group_left + s_index * bar_width
            if value is None:
                if missing_label:
                    chart.bars.append(
                        Bar(
                            x=_n(x),
                            y=_n(bottom),
                            width="0",
                            height="0",
                            fill="",
                            title="",
                            label=str(missing_label),
                            label_x=_n(x + bar_width / 2),
                            label_y=_n(bottom - 4),
                            missing=True,
                        )  # fmt: skip
                    )
                continue
            y = y_of(value)
            text = _n(value) + unit
            chart.bars.append(
                Bar(
                    x=_n(x + 1),
                    y=_n(y),
                    width=_n(max(bar_width - 2, 1)),
                    height=_n(bottom - y),
                    fill=PALETTE[s_index % len(PALETTE)],
                    title=f"{category} · {one.label}: {text}",
                    label=text if show_values else "",
                    label_x=_n(x + bar_width / 2),
                    label_y=_n(y - 4),
                )
            )

    x = left
    for s_index, one in enumerate(series):
        chart.legend.append(
            LegendItem(x=_n(x), text_x=_n(x + 16), fill=PALETTE[s_index % len(PALETTE)], label=str(one.label))
        )
        # Room for the label: CJK characters are about one em wide, Latin ones about half.
        x += 28 + sum(12 if ord(ch) > 0x2E7F else 7 for ch in str(one.label))
    return chart
