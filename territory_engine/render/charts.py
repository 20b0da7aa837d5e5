"""Small hand-made SVG charts for the HTML pages: no plotting library, no network.

Each function returns one ``<svg>`` element as a string, sized by its ``viewBox`` so
it scales with the page. Marks carry a ``<title>``, which browsers show as a tooltip.
The charts only place the numbers they are given; binning a histogram is the only
arithmetic done here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from territory_engine.render.page import esc, fmt_number, isna

__all__ = [
    "BandRow",
    "ScatterPoint",
    "band_chart",
    "histogram_chart",
    "line_chart",
    "scatter_chart",
]

FONT = 'font-family="system-ui, sans-serif" font-size="11"'
GRID_COLOR = "#e4e4e0"
AXIS_COLOR = "#888"
_IN = "#2b8a3e"
_OUT = "#b00020"
_BAND = "#d3e9d8"
_BAR = "#4e79a7"
_MUTED = "#9a9a9a"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = start
    while t <= hi + 1e-9 * step:
        ticks.append(round(t, 10))
        t += step
    return ticks


def short_label(value: float) -> str:
    """Axis label: 1.2k, 3.4M, 5B."""
    v = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            text = f"{value / div:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}".replace("-", "−")
    return fmt_number(value)


@dataclass(frozen=True)
class BandRow:
    """One territory of a balance chart, every value in % of its fair share.

    Attributes
    ----------
    label
        Row label (plain text).
    value
        Load ÷ fair share − 1, in percent.
    low, high
        The band's edges on the same scale; ``None`` for an open side.
    in_band
        Whether the territory is in its band (colours the dot).
    """

    label: str
    value: float
    low: float | None
    high: float | None
    in_band: bool | None


def band_chart(rows: Sequence[BandRow], *, title: str, width: int = 640) -> str:
    """Dot chart of each territory's deviation from its fair share, over its band.

    Parameters
    ----------
    rows
        Territories, drawn top to bottom in the given order.
    title
        Chart title (plain text).
    width
        Width of the drawing in SVG units.
    """
    row_h, top, left, right = 14, 34, 170, 20
    height = top + row_h * max(len(rows), 1) + 28
    values = [r.value for r in rows if math.isfinite(r.value)]
    edges = [e for r in rows for e in (r.low, r.high) if e is not None and math.isfinite(e)]
    lo = min([*values, *edges, -1.0])
    hi = max([*values, *edges, 1.0])
    pad = 0.08 * (hi - lo)
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    out = [
        f'<svg class="te-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{esc(title)}" {FONT}>',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{esc(title)}</text>',
    ]
    bottom = top + row_h * len(rows)
    for t in nice_ticks(lo, hi, 6):
        out.append(
            f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{bottom}" '
            f'stroke="{AXIS_COLOR if t == 0 else GRID_COLOR}"/>'
            f'<text x="{x(t):.1f}" y="{bottom + 14}" text-anchor="middle">'
            f"{fmt_number(t)} %</text>"
        )
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        low = lo if r.low is None or not math.isfinite(r.low) else r.low
        high = hi if r.high is None or not math.isfinite(r.high) else r.high
        out.append(
            f'<rect x="{x(low):.1f}" y="{y - 4:.1f}" width="{max(x(high) - x(low), 0):.1f}" '
            f'height="8" fill="{_BAND}"/>'
        )
        label = r.label if len(r.label) <= 28 else r.label[:27] + "…"
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>')
        if math.isfinite(r.value):
            color = _OUT if r.in_band is False else _IN
            band = (
                f"band {fmt_number(r.low, 1) if r.low is not None else '−∞'} % to "
                f"{fmt_number(r.high, 1) if r.high is not None else '+∞'} %"
            )
            out.append(
                f'<circle cx="{x(r.value):.1f}" cy="{y:.1f}" r="4" fill="{color}">'
                f"<title>{esc(r.label)}: {fmt_number(r.value, 1)} % vs fair share; "
                f"{esc(band)}</title></circle>"
            )
    out.append(
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 2}" text-anchor="middle" '
        f'fill="#555">deviation from fair share (band shaded)</text></svg>'
    )
    return "".join(out)


@dataclass(frozen=True)
class ScatterPoint:
    """One point of a scatter chart.

    Attributes
    ----------
    x, y
        Coordinates in data units.
    label
        Tooltip text (plain text).
    color
        Fill colour.
    """

    x: float
    y: float
    label: str
    color: str = _BAR


def scatter_chart(
    points: Sequence[ScatterPoint],
    *,
    title: str,
    x_label: str,
    y_label: str,
    slope: float | None = None,
    slope_label: str = "",
    legend: Sequence[tuple[str, str]] = (),
    width: int = 520,
    height: int = 380,
) -> str:
    """Scatter chart with an optional line ``y = slope · x`` through the origin.

    Parameters
    ----------
    points
        The points.
    title, x_label, y_label
        Texts (plain).
    slope, slope_label
        Reference line and its legend text.
    legend
        ``(colour, text)`` entries shown under the title.
    """
    left, right, top, bottom = 64, 16, 46, 42
    xs = [p.x for p in points if math.isfinite(p.x)]
    ys = [p.y for p in points if math.isfinite(p.y)]
    x_hi = max([*xs, 1.0]) * 1.05
    y_hi = max([*ys, 1.0]) * 1.05
    x_lo = min([*xs, 0.0])
    y_lo = min([*ys, 0.0])

    def px(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - (v - y_lo) / (y_hi - y_lo) * (height - top - bottom)

    out = [
        f'<svg class="te-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{esc(title)}" {FONT}>',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{esc(title)}</text>',
    ]
    lx = left
    for color, text in legend:
        out.append(
            f'<rect x="{lx}" y="25" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14}" y="34">{esc(text)}</text>'
        )
        lx += 24 + 7 * len(text)
    for t in nice_ticks(x_lo, x_hi):
        out.append(
            f'<line x1="{px(t):.1f}" y1="{top}" x2="{px(t):.1f}" y2="{height - bottom}" '
            f'stroke="{GRID_COLOR}"/><text x="{px(t):.1f}" y="{height - bottom + 14}" '
            f'text-anchor="middle">{short_label(t)}</text>'
        )
    for t in nice_ticks(y_lo, y_hi):
        out.append(
            f'<line x1="{left}" y1="{py(t):.1f}" x2="{width - right}" y2="{py(t):.1f}" '
            f'stroke="{GRID_COLOR}"/><text x="{left - 6}" y="{py(t) + 4:.1f}" '
            f'text-anchor="end">{short_label(t)}</text>'
        )
    if slope is not None and math.isfinite(slope):
        x_end = min(x_hi, y_hi / slope) if slope > 0 else x_hi
        out.append(
            f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(x_end):.1f}" '
            f'y2="{py(slope * x_end):.1f}" stroke="#666" stroke-dasharray="5 4">'
            f"<title>{esc(slope_label)}</title></line>"
        )
        if slope_label:
            out.append(
                f'<text x="{px(x_end) - 4:.1f}" y="{py(slope * x_end) + 14:.1f}" '
                f'text-anchor="end" fill="#555">{esc(slope_label)}</text>'
            )
    for p in points:
        if math.isfinite(p.x) and math.isfinite(p.y):
            out.append(
                f'<circle cx="{px(p.x):.1f}" cy="{py(p.y):.1f}" r="4" fill="{p.color}" '
                f'fill-opacity="0.8" stroke="#333" stroke-width="0.5">'
                f"<title>{esc(p.label)}</title></circle>"
            )
    out.append(
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#555">{esc(x_label)}</text>'
        f'<text transform="translate(14 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="#555">{esc(y_label)}</text></svg>'
    )
    return "".join(out)


def histogram_chart(
    values: Sequence[float],
    *,
    title: str,
    x_label: str,
    bins: int | Sequence[float] = 12,
    band: tuple[float, float] | None = None,
    band_label: str = "",
    width: int = 520,
    height: int = 260,
) -> str:
    """Histogram of ``values`` with an optional shaded band (e.g. a healthy range).

    Parameters
    ----------
    values
        The observations; non-finite ones are left out.
    title, x_label
        Texts (plain).
    bins
        Number of equal bins, or the bin edges.
    band, band_label
        ``(low, high)`` range shaded behind the bars, and its tooltip.
    """
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    left, right, top, bottom = 48, 16, 30, 40
    if len(data) == 0:
        counts, edges = np.zeros(1, dtype=int), np.array([0.0, 1.0])
    elif isinstance(bins, int) and np.isclose(data.min(), data.max(), rtol=1e-9, atol=1e-12):
        # Values equal up to float noise: numpy cannot cut them into ``bins`` bins.
        counts, edges = np.array([len(data)]), np.array([data.min() - 0.5, data.max() + 0.5])
    else:
        counts, edges = np.histogram(data, bins=bins)
    lo, hi = float(edges[0]), float(edges[-1])
    c_hi = max(int(counts.max()), 1)

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    def py(c: float) -> float:
        return height - bottom - c / c_hi * (height - top - bottom)

    out = [
        f'<svg class="te-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{esc(title)}" {FONT}>',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{esc(title)}</text>',
    ]
    if band is not None:
        b_lo, b_hi = max(band[0], lo), min(band[1], hi)
        if b_hi > b_lo:
            out.append(
                f'<rect x="{px(b_lo):.1f}" y="{top}" width="{px(b_hi) - px(b_lo):.1f}" '
                f'height="{height - top - bottom}" fill="{_BAND}">'
                f"<title>{esc(band_label)}</title></rect>"
            )
    for t in nice_ticks(0, c_hi, 4):
        if t == int(t):
            out.append(
                f'<line x1="{left}" y1="{py(t):.1f}" x2="{width - right}" y2="{py(t):.1f}" '
                f'stroke="{GRID_COLOR}"/><text x="{left - 6}" y="{py(t) + 4:.1f}" '
                f'text-anchor="end">{int(t)}</text>'
            )
    for count, a, b in zip(counts, edges[:-1], edges[1:], strict=True):
        if count:
            out.append(
                f'<rect x="{px(a) + 0.5:.1f}" y="{py(count):.1f}" '
                f'width="{max(px(b) - px(a) - 1, 0.5):.1f}" height="{py(0) - py(count):.1f}" '
                f'fill="{_BAR}"><title>{fmt_number(a)} to {fmt_number(b)}: {int(count)}'
                f"</title></rect>"
            )
    for t in nice_ticks(lo, hi, 6):
        out.append(
            f'<text x="{px(t):.1f}" y="{height - bottom + 14}" text-anchor="middle">'
            f"{short_label(t)}</text>"
        )
    out.append(
        f'<line x1="{left}" y1="{py(0):.1f}" x2="{width - right}" y2="{py(0):.1f}" '
        f'stroke="{AXIS_COLOR}"/><text x="{(left + width - right) / 2:.1f}" y="{height - 6}" '
        f'text-anchor="middle" fill="#555">{esc(x_label)}</text></svg>'
    )
    return "".join(out)


def _num(value: Any) -> float:
    return math.nan if isna(value) else float(value)


def line_chart(
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    title: str,
    x_label: str,
    y_label: str,
    band: tuple[float, float] | None = None,
    band_label: str = "",
    marked: float | None = None,
    grey: Sequence[bool] = (),
    percent: bool = False,
    width: int = 560,
    height: int = 300,
) -> str:
    """A line of ``y`` against ``x`` with an optional shaded band and one marked point.

    Parameters
    ----------
    xs, ys
        The points (NaN ``y``: not drawn).
    title, x_label, y_label, band_label
        Texts (plain; escaped here).
    band
        ``(low, high)`` of ``y`` shaded behind the line.
    marked
        The ``x`` drawn as a large green dot (the recommendation).
    grey
        Per point: drawn as a grey cross (infeasible plan).
    percent
        Tick labels as percentages.
    """
    left, right, top, bottom = 70, 16, 34, 42
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_vals = [y for _, y in pts] + (list(band) if band else [])
    y_lo, y_hi = (min(y_vals), max(y_vals)) if y_vals else (0.0, 1.0)
    pad = 0.08 * (y_hi - y_lo) if y_hi > y_lo else max(abs(y_hi) * 0.05, 0.05)
    y_lo, y_hi = y_lo - pad, y_hi + pad

    def px(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - (v - y_lo) / (y_hi - y_lo) * (height - top - bottom)

    def tick(v: float) -> str:
        return f"{100 * v:.0f} %" if percent else short_label(v)

    out = [
        f'<svg class="te-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{esc(title)}" {FONT}>',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{esc(title)}</text>',
    ]
    if band is not None:
        lo, hi = max(band[0], y_lo), min(band[1], y_hi)
        if hi > lo:
            out.append(
                f'<rect x="{left}" y="{py(hi):.1f}" width="{width - left - right}" '
                f'height="{py(lo) - py(hi):.1f}" fill="{_BAND}"><title>{esc(band_label)}</title>'
                "</rect>"
            )
    for t in nice_ticks(y_lo, y_hi):
        out.append(
            f'<line x1="{left}" y1="{py(t):.1f}" x2="{width - right}" y2="{py(t):.1f}" '
            f'stroke="{GRID_COLOR}"/><text x="{left - 6}" y="{py(t) + 4:.1f}" '
            f'text-anchor="end">{esc(tick(t))}</text>'
        )
    # Headcounts are whole: no tick between two of them.
    for t in (t for t in nice_ticks(x_lo, x_hi, 8) if float(t).is_integer()):
        out.append(
            f'<text x="{px(t):.1f}" y="{height - bottom + 14}" text-anchor="middle">'
            f"{fmt_number(t, 0)}</text>"
        )
    if len(pts) > 1:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{px(x):.1f} {py(y):.1f}" for i, (x, y) in enumerate(pts)
        )
        out.append(f'<path d="{path}" fill="none" stroke="{_BAR}" stroke-width="2"/>')
    flags = list(grey) or [False] * len(xs)
    for x, y, off in zip(xs, ys, flags, strict=True):
        if not math.isfinite(y):
            continue
        tip = f"<title>{esc(fmt_number(x, 0))}: {esc(tick(y))}</title>"
        if off:
            out.append(
                f'<path d="M{px(x) - 4:.1f} {py(y) - 4:.1f} l8 8 m0 -8 l-8 8" '
                f'stroke="{_MUTED}" stroke-width="2">{tip}</path>'
            )
        elif marked is not None and x == marked:
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="7" fill="{_IN}" stroke="#111" '
                f'stroke-width="1.5" class="te-pick">{tip}</circle>'
            )
        else:
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{_BAR}">{tip}</circle>'
            )
    out.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        f'stroke="{AXIS_COLOR}"/>'
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#555">{esc(x_label)}</text>'
        f'<text transform="translate(14 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="#555">{esc(y_label)}</text></svg>'
    )
    return "".join(out)
