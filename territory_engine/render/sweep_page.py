"""``sweep.html``: every variant of a sweep in one table, and the Pareto charts.

The page draws what :mod:`territory_engine.sweep` computed: the table arrives sorted
with its ``pareto`` marks and ``rank``; nothing here scores or compares plans. The
charts are inline SVG and the page loads nothing, like every other page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from territory_engine.render.charts import AXIS_COLOR, FONT, GRID_COLOR, nice_ticks, short_label
from territory_engine.render.page import (
    Cell,
    compose_page,
    esc,
    fmt_number,
    fmt_pct,
    isna,
    table_html,
)

__all__ = ["ParetoPoint", "pareto_chart", "render_sweep_page", "sweep_charts"]

# A sequential ramp (viridis stops, reversed so that low = light = good).
_RAMP = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
_INFEASIBLE = "#9a9a9a"


@dataclass(frozen=True)
class ParetoPoint:
    """One plan in a Pareto chart.

    Attributes
    ----------
    x, y
        Coordinates in data units (NaN: not drawn).
    colour
        The value that colours the marker (NaN: grey).
    label
        Short text drawn beside a non-dominated point (``v03``).
    tooltip
        Plain text shown on hover.
    pareto
        Non-dominated: drawn larger, ringed and labelled.
    feasible
        Infeasible plans are drawn as grey crosses.
    """

    x: float
    y: float
    colour: float
    label: str
    tooltip: str
    pareto: bool = False
    feasible: bool = True


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def ramp_colour(t: float) -> str:
    """The colour at ``t`` in [0, 1] of the sequential ramp (NaN: grey)."""
    if not math.isfinite(t):
        return _INFEASIBLE
    t = min(max(t, 0.0), 1.0) * (len(_RAMP) - 1)
    i = min(int(t), len(_RAMP) - 2)
    a, b = _hex(_RAMP[i]), _hex(_RAMP[i + 1])
    f = t - i
    return "#" + "".join(f"{round(u + (v - u) * f):02x}" for u, v in zip(a, b, strict=True))


def _span(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi) * 0.05, 0.5)
    return lo - pad, hi + pad


@dataclass(frozen=True)
class _ChartFrame:
    """The geometry of a Pareto chart: the drawing's size, margins and data ranges."""

    width: int
    height: int
    x_span: tuple[float, float]
    y_span: tuple[float, float]
    colour_span: tuple[float, float]
    left: int = 62
    right: int = 18
    top: int = 62
    bottom: int = 42

    @classmethod
    def around(cls, drawn: Sequence[ParetoPoint], width: int, height: int) -> _ChartFrame:
        """The frame that holds every point of ``drawn`` (colours: feasible ones only)."""
        colours = [p.colour for p in drawn if p.feasible and math.isfinite(p.colour)]
        return cls(
            width=width,
            height=height,
            x_span=_span([p.x for p in drawn]),
            y_span=_span([p.y for p in drawn]),
            colour_span=(min(colours), max(colours)) if colours else (0.0, 1.0),
        )

    def px(self, v: float) -> float:
        x_lo, x_hi = self.x_span
        return self.left + (v - x_lo) / (x_hi - x_lo) * (self.width - self.left - self.right)

    def py(self, v: float) -> float:
        y_lo, y_hi = self.y_span
        plot = self.height - self.top - self.bottom
        return self.height - self.bottom - (v - y_lo) / (y_hi - y_lo) * plot

    def colour_of(self, p: ParetoPoint) -> str:
        if not p.feasible or not math.isfinite(p.colour):
            return _INFEASIBLE
        c_lo, c_hi = self.colour_span
        return ramp_colour((p.colour - c_lo) / (c_hi - c_lo) if c_hi > c_lo else 0.0)


def pareto_chart(
    points: Sequence[ParetoPoint],
    *,
    title: str,
    x_label: str,
    y_label: str,
    colour_label: str,
    colour_format: str = "{:.0f}",
    width: int = 560,
    height: int = 420,
) -> str:
    """Scatter of plans on two criteria, coloured by a third, non-dominated marked.

    Parameters
    ----------
    points
        The plans.
    title, x_label, y_label
        Texts (plain).
    colour_label, colour_format
        What the colour shows, and how its legend numbers are written.
    width, height
        Size of the drawing in SVG units.

    Returns
    -------
    str
        One ``<svg>`` element.
    """
    drawn = [p for p in points if math.isfinite(p.x) and math.isfinite(p.y)]
    frame = _ChartFrame.around(drawn, width, height)
    out = [
        f'<svg class="te-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{esc(title)}" {FONT}>',
        f'<text x="{frame.left}" y="16" font-size="13" font-weight="600">{esc(title)}</text>',
        *_chart_legend(frame, colour_label, colour_format),
        *_chart_grid(frame),
        *_chart_markers(frame, drawn),
        _chart_axis_labels(frame, x_label, y_label),
    ]
    return "".join(out)


def _chart_legend(frame: _ChartFrame, colour_label: str, colour_format: str) -> list[str]:
    """Marker kinds, then the colour ramp with its end values."""
    left, c_lo, c_hi = frame.left, *frame.colour_span
    out = [
        f'<circle cx="{left + 5}" cy="32" r="5.5" fill="#fff" stroke="#111" stroke-width="2"/>'
        f'<text x="{left + 14}" y="36">non-dominated</text>'
        f'<circle cx="{left + 112}" cy="32" r="4" fill="#bbb" stroke="#555" stroke-width="0.5"/>'
        f'<text x="{left + 120}" y="36">dominated</text>'
        f'<path d="M{left + 188} 28 l8 8 m0 -8 l-8 8" stroke="{_INFEASIBLE}" stroke-width="2"/>'
        f'<text x="{left + 200}" y="36">infeasible</text>'
    ]
    bar_x, bar_w = frame.width - frame.right - 150, 100
    for i in range(20):
        out.append(
            f'<rect x="{bar_x + i * bar_w / 20:.1f}" y="44" width="{bar_w / 20 + 0.3:.1f}" '
            f'height="8" fill="{ramp_colour(i / 19)}"/>'
        )
    out.append(
        f'<text x="{bar_x - 4}" y="52" text-anchor="end">{esc(colour_format.format(c_lo))}</text>'
        f'<text x="{bar_x + bar_w + 4}" y="52">{esc(colour_format.format(c_hi))}</text>'
        f'<text x="{bar_x + bar_w / 2:.1f}" y="38" text-anchor="middle">'
        f"{esc(colour_label)}</text>"
    )
    return out


def _chart_grid(frame: _ChartFrame) -> list[str]:
    """Grid lines with their tick labels, and the plot's border."""
    left, right, top, bottom = frame.left, frame.right, frame.top, frame.bottom
    width, height, px, py = frame.width, frame.height, frame.px, frame.py
    x_ticks, y_ticks = nice_ticks(*frame.x_span), nice_ticks(*frame.y_span)
    out = []
    for t in x_ticks:
        out.append(
            f'<line x1="{px(t):.1f}" y1="{top}" x2="{px(t):.1f}" y2="{height - bottom}" '
            f'stroke="{GRID_COLOR}"/><text x="{px(t):.1f}" y="{height - bottom + 14}" '
            f'text-anchor="middle">{_tick_label(t, x_ticks)}</text>'
        )
    for t in y_ticks:
        out.append(
            f'<line x1="{left}" y1="{py(t):.1f}" x2="{width - right}" y2="{py(t):.1f}" '
            f'stroke="{GRID_COLOR}"/><text x="{left - 6}" y="{py(t) + 4:.1f}" '
            f'text-anchor="end">{_tick_label(t, y_ticks)}</text>'
        )
    out.append(
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="{AXIS_COLOR}" stroke-width="0.5"/>'
    )
    return out


def _chart_markers(frame: _ChartFrame, drawn: Sequence[ParetoPoint]) -> list[str]:
    """One marker per plan: dominated and infeasible first, so the non-dominated are on top."""
    out = []
    for p in sorted(drawn, key=lambda q: (q.pareto, q.feasible)):
        x, y = frame.px(p.x), frame.py(p.y)
        tip = f"<title>{esc(p.tooltip)}</title>"
        if not p.feasible:
            out.append(
                f'<path d="M{x - 4:.1f} {y - 4:.1f} l8 8 m0 -8 l-8 8" stroke="{_INFEASIBLE}" '
                f'stroke-width="2">{tip}</path>'
            )
        elif p.pareto:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6.5" fill="{frame.colour_of(p)}" '
                f'stroke="#111" stroke-width="2" class="te-pareto">{tip}</circle>'
                f'<text x="{x + 9:.1f}" y="{y - 7:.1f}" font-weight="600">{esc(p.label)}</text>'
            )
        else:
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{frame.colour_of(p)}" '
                f'fill-opacity="0.75" stroke="#555" stroke-width="0.5">{tip}</circle>'
            )
    return out


def _chart_axis_labels(frame: _ChartFrame, x_label: str, y_label: str) -> str:
    """The axis titles, and the end of the ``<svg>`` element."""
    left, right, top, bottom = frame.left, frame.right, frame.top, frame.bottom
    width, height = frame.width, frame.height
    return (
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#555">{esc(x_label)}</text>'
        f'<text transform="translate(14 {(top + height - bottom) / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="#555">{esc(y_label)}</text></svg>'
    )


def _tick_label(value: float, ticks: Sequence[float]) -> str:
    """A tick's text with just enough decimals to tell neighbouring ticks apart.

    The criteria of a sweep often differ in the second or third decimal (9.975 % and
    9.980 %), where the general chart labels would print the same text twice.
    """
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    if abs(value) >= 1000 or step <= 0:
        return short_label(value)
    # The fewest decimals that write the step exactly (2.5 needs one, 0.02 two).
    decimals = next((d for d in range(5) if abs(round(step, d) - step) < 1e-9 * step), 4)
    return f"{value:,.{decimals}f}".replace("-", "−")


def _num(value: Any) -> float:
    return math.nan if isna(value) else float(value)


def _short_label(variant: str) -> str:
    return str(variant).split("_", 1)[0]


def _points(table: pd.DataFrame, x: str, y: str, colour: str, scale: dict) -> list[ParetoPoint]:
    points = []
    for r in table.to_dict("records"):
        if r["status"] not in ("ok", "infeasible"):
            continue
        tip = (
            f"{r['variant']}: balance {fmt_pct(100 * _num(r['balance_max_dev']))}, "
            f"moved {fmt_pct(100 * _num(r['moved_potential_share']))} of potential, "
            f"travel {fmt_number(_num(r['travel_mean_km']), 0)} km"
            + ("" if r["status"] == "ok" else " (infeasible)")
        )
        points.append(
            ParetoPoint(
                x=scale[x] * _num(r[x]),
                y=scale[y] * _num(r[y]),
                colour=scale[colour] * _num(r[colour]),
                label=_short_label(r["variant"]),
                tooltip=tip,
                pareto=bool(r["pareto"]),
                feasible=r["status"] == "ok",
            )
        )
    return points


_COLUMNS = (
    ("balance_max_dev", "balance: worst deviation", "pct"),
    ("potential_balance_index", "potential balance index", "num1"),
    ("moved_potential_share", "potential moved", "pct"),
    ("moved_accounts_share", "accounts moved", "pct"),
    ("travel_mean_km", "travel mean km", "num0"),
    ("retention_share", "ties kept", "pct"),
    ("solve_seconds", "solve s", "num1"),
)


def _cell(value: Any, kind: str) -> Cell:
    if kind == "pct":
        return Cell.number(None if isna(value) else 100 * float(value), fmt_pct)
    decimals = 1 if kind == "num1" else 0
    return Cell.number(value, lambda v: fmt_number(v, decimals))


def _table(table: pd.DataFrame, grid_keys: Sequence[str]) -> str:
    columns: list[tuple[str, bool]] = [("rank", True), ("variant", False)]
    columns += [(k, False) for k in grid_keys]
    columns += [("status", False), ("non-dominated", False)]
    columns += [(title, True) for _, title, _ in _COLUMNS]
    columns += [("plan id", False), ("error", False)]
    rows = []
    for _, r in table.iterrows():
        status = str(r["status"])
        css = "te-good" if status == "ok" else "te-flag"
        cells = [Cell.number(r["rank"]), Cell.text(r["variant"])]
        cells += [Cell.text(r[k]) for k in grid_keys]
        cells += [
            Cell(esc(status.replace("_", " ")), None, False, css),
            Cell("★" if bool(r["pareto"]) else "", 0 if bool(r["pareto"]) else 1),
        ]
        cells += [_cell(r[key], kind) for key, _, kind in _COLUMNS]
        cells += [Cell.text(r.get("plan_id") or ""), Cell.text(r.get("error") or "")]
        rows.append(cells)
    return table_html(columns, rows, sortable=True, scroll=True)


def sweep_charts(table: pd.DataFrame) -> list[str]:
    """The two Pareto charts of a sweep table, as SVG strings.

    Balance against disruption coloured by travel, and travel against disruption
    coloured by balance; the ``pareto`` column of ``table`` says which plans are
    non-dominated (computed by :mod:`territory_engine.sweep.pareto`, not here).

    Parameters
    ----------
    table
        The sweep table (``sweep.csv``, or ``SweepResult.table``).

    Returns
    -------
    list of str
        Two ``<svg>`` elements (show them in a notebook with ``IPython.display.HTML``).
    """
    scale = {
        "balance_max_dev": 100.0,
        "moved_potential_share": 100.0,
        "travel_mean_km": 1.0,
    }
    return [
        pareto_chart(
            _points(table, "balance_max_dev", "moved_potential_share", "travel_mean_km", scale),
            title="Balance against disruption (colour: travel)",
            x_label="worst deviation from fair share over the balanced measures (%)",
            y_label="potential that changes owner (%)",
            colour_label="mean travel km",
        ),
        pareto_chart(
            _points(table, "travel_mean_km", "moved_potential_share", "balance_max_dev", scale),
            title="Travel against disruption (colour: balance)",
            x_label="mean travel from rep home to account (km)",
            y_label="potential that changes owner (%)",
            colour_label="worst deviation %",
            colour_format="{:.1f}",
        ),
    ]


def render_sweep_page(
    table: pd.DataFrame,
    *,
    title: str,
    grid_keys: Sequence[str],
    info: dict[str, Any],
) -> str:
    """Render ``sweep.html``.

    Parameters
    ----------
    table
        The sweep table (:func:`territory_engine.sweep.run.summary_table`), already
        sorted, with ``status``, ``pareto``, ``rank``, the grid keys and the headline
        numbers.
    title
        Page title.
    grid_keys
        The dotted grid keys (table columns).
    info
        ``scenario``, ``sweep_id``, ``mode``, ``variants``; optionally ``store``,
        ``list_command`` and ``compare_command``.

    Returns
    -------
    str
        The HTML page.
    """
    status = table["status"].astype(str)
    n_ok, n_inf = int((status == "ok").sum()), int((status == "infeasible").sum())
    n_failed = len(table) - n_ok - n_inf
    n_front = int(table["pareto"].astype(bool).sum())
    cards = [
        ("variants", fmt_number(len(table))),
        ("feasible plans", fmt_number(n_ok)),
        ("infeasible", fmt_number(n_inf)),
        ("failed", fmt_number(n_failed)),
        ("non-dominated", fmt_number(n_front)),
    ]
    best = table[table["rank"].notna()].head(1)
    if len(best):
        cards.append(("best compromise", esc(best.iloc[0]["variant"])))
    headline = "".join(
        f'<div class="te-card"><div class="te-k">{esc(k)}</div><div class="te-v">{v}</div></div>'
        for k, v in cards
    )
    charts = sweep_charts(table)
    sub = (
        f"Base scenario <code>{esc(info.get('scenario', ''))}</code> · sweep id "
        f"<code>{esc(info.get('sweep_id', ''))}</code> · {esc(info.get('mode', ''))}"
    )
    if info.get("store"):
        sub += f" · plans recorded in <code>{esc(info['store'])}</code>"
    sections = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="te-sub">{sub}</p>',
        f'<div class="te-cards">{headline}</div>',
        "<h2>Balance, disruption and travel</h2>",
        '<p class="te-note">Each marker is a plan; all three criteria are better when '
        "lower. A plan is <b>non-dominated</b> (ringed and labelled) when no other feasible "
        "plan is at least as good on balance, disruption and travel and better on one: "
        "those are the plans worth choosing between. Infeasible plans break a hard rule "
        "and take no part.</p>",
        '<div class="te-charts">' + "".join(charts) + "</div>",
        "<h2>Every variant</h2>",
        '<p class="te-note">Best first: the non-dominated plans by compromise (each '
        "criterion scaled from the best to the worst feasible plan, the three added), then "
        "the other feasible plans, then infeasible and failed variants. Click a column "
        "header to sort.</p>",
        _table(table, grid_keys),
    ]
    failed = table[~status.isin(["ok"])]
    if len(failed):
        items = "".join(
            f"<li><code>{esc(r['variant'])}</code> ({esc(str(r['status']).replace('_', ' '))})"
            f": {esc(r['error'])}</li>"
            for _, r in failed.iterrows()
        )
        sections += ["<h2>Not feasible or failed</h2>", f"<ul>{items}</ul>"]
    commands = [info[k] for k in ("list_command", "compare_command") if info.get(k)]
    if commands:
        sections += [
            "<h2>Next</h2>",
            "<pre>" + esc("\n".join(commands)) + "</pre>",
        ]
    sections.append("<footer>territory_engine sweep · works offline</footer>")
    return compose_page(title, sections)
