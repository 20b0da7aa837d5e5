"""``capacity.html``: the capacity table, the hiring plan and three charts against headcount.

The page draws what :mod:`territory_engine.org.capacity` computed (the table arrives
with its ``recommended`` and ``in_band`` marks); nothing here scores a plan. Every
name from the data (reps, cities, errors) is escaped; the charts are inline SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from territory_engine.render.charts import AXIS_COLOR, FONT, GRID_COLOR, nice_ticks, short_label
from territory_engine.render.page import (
    Cell,
    compose_page,
    esc,
    fmt_money,
    fmt_number,
    fmt_pct,
    isna,
    table_html,
)

__all__ = ["capacity_charts", "line_chart", "render_capacity_page"]

_LINE = "#4e79a7"
_BAND = "#d3e9d8"
_PICK = "#2b8a3e"
_INFEASIBLE = "#9a9a9a"


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
        out.append(f'<path d="{path}" fill="none" stroke="{_LINE}" stroke-width="2"/>')
    flags = list(grey) or [False] * len(xs)
    for x, y, off in zip(xs, ys, flags, strict=True):
        if not math.isfinite(y):
            continue
        tip = f"<title>{esc(fmt_number(x, 0))}: {esc(tick(y))}</title>"
        if off:
            out.append(
                f'<path d="M{px(x) - 4:.1f} {py(y) - 4:.1f} l8 8 m0 -8 l-8 8" '
                f'stroke="{_INFEASIBLE}" stroke-width="2">{tip}</path>'
            )
        elif marked is not None and x == marked:
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="7" fill="{_PICK}" stroke="#111" '
                f'stroke-width="1.5" class="te-pick">{tip}</circle>'
            )
        else:
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{_LINE}">{tip}</circle>'
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


def capacity_charts(table: pd.DataFrame, band: tuple[float, float]) -> list[str]:
    """Expected share at quota (with the band), quota per head and potential per FTE."""
    rows = table.sort_values("headcount", kind="stable")
    xs = [float(h) for h in rows["headcount"]]
    grey = [s != "ok" for s in rows["status"]]
    picked = rows[rows["recommended"].astype(bool)]
    marked = float(picked["headcount"].iloc[0]) if len(picked) else None
    low, high = band
    return [
        line_chart(
            xs,
            [_num(v) for v in rows["share_at_quota"]],
            title="Reps expected at or above quota",
            x_label="headcount",
            y_label="share of reps",
            band=band,
            band_label=f"target band {100 * low:.0f}–{100 * high:.0f} %",
            marked=marked,
            grey=grey,
            percent=True,
        ),
        line_chart(
            xs,
            [_num(v) for v in rows["quota_per_head"]],
            title="Quota per head",
            x_label="headcount",
            y_label="mean quota ($)",
            marked=marked,
            grey=grey,
        ),
        line_chart(
            xs,
            [_num(v) for v in rows["potential_per_fte"]],
            title="Potential per FTE",
            x_label="headcount",
            y_label="potential per FTE ($)",
            marked=marked,
            grey=grey,
        ),
    ]


_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("share_at_quota", "at quota (capacity)", "pct"),
    ("share_at_quota_uncapped", "at quota (uncapped)", "pct"),
    ("utilisation", "hours booked", "pct"),
    ("over_capacity", "over capacity", "int"),
    ("workload_per_fte", "workload h / FTE", "int"),
    ("potential_per_fte", "potential / FTE", "money"),
    ("quota_per_head", "quota / head", "money"),
    ("new_reps_quota_ramped", "new reps' quota (ramped)", "money"),
    ("travel_mean_km", "travel mean km", "int"),
    ("travel_max_km", "travel max km", "int"),
    ("balance_max_dev", "worst deviation", "pct"),
)


def _cell(value: Any, kind: str) -> Cell:
    if kind == "pct":
        return Cell.number(None if isna(value) else 100 * float(value), fmt_pct)
    if kind == "money":
        return Cell.number(value, fmt_money)
    return Cell.number(value, lambda v: fmt_number(v, 0))


def _table(table: pd.DataFrame) -> str:
    columns: list[tuple[str, bool]] = [("headcount", True), ("change", False), ("status", False)]
    columns += [(title, True) for _, title, _ in _COLUMNS]
    columns += [("cut", False), ("hired", False), ("plan id", False), ("error", False)]
    rows = []
    for _, r in table.sort_values("headcount", kind="stable").iterrows():
        status = str(r["status"])
        css = "te-good" if status == "ok" else "te-flag"
        mark = " ★" if bool(r.get("recommended")) else ""
        cells = [
            Cell(esc(f"{int(r['headcount'])}{mark}"), int(r["headcount"]), True),
            Cell.text(r["change"]),
            Cell(esc(status.replace("_", " ")), None, False, css),
        ]
        cells += [_cell(r.get(key), kind) for key, _, kind in _COLUMNS]
        cells += [
            Cell.text(r.get("removed") or ""),
            Cell.text(r.get("added") or ""),
            Cell.text(r.get("plan_id") or ""),
            Cell.text(r.get("error") or ""),
        ]
        rows.append(cells)
    return table_html(columns, rows, sortable=True, scroll=True)


def _hiring(hiring: pd.DataFrame, headcount: int | None) -> str:
    if headcount is None or not len(hiring):
        return ""
    part = hiring[hiring["headcount"] == headcount]
    if not len(part):
        return ""
    columns = [
        ("rep", False),
        ("segment", False),
        ("home", False),
        ("placed by", False),
        ("starts", False),
        ("ramp", True),
        ("full-year quota", True),
        ("quota this year", True),
    ]
    rows = [
        [
            Cell.text(f"{r['rep_id']} {r['name']}"),
            Cell.text(r["segment"]),
            Cell.text(r["city"] or f"{r['lat']}, {r['lon']}"),
            Cell.text(r["placed_by"]),
            Cell.text(r["start_date"]),
            Cell.number(100 * float(r["ramp_factor"]), fmt_pct),
            Cell.number(r["quota_full_year"], fmt_money),
            Cell.number(r["quota_ramped"], fmt_money),
        ]
        for _, r in part.iterrows()
    ]
    return (
        f"<h2>Hiring plan at {headcount} reps</h2>"
        '<p class="te-note">Quotas of the new reps follow the scenario\'s ramp schedule '
        "(<code>quota.ramp</code>) from their start dates; the full-year quota is the "
        "quota before the ramp. Every headcount's hires are in <code>hiring.csv</code>.</p>"
        + table_html(columns, rows)
    )


def render_capacity_page(
    table: pd.DataFrame, hiring: pd.DataFrame, *, title: str, info: dict[str, Any]
) -> str:
    """Render ``capacity.html``.

    Parameters
    ----------
    table
        ``capacity.csv`` (one row per headcount, ``recommended`` marked).
    hiring
        ``hiring.csv`` (one row per hire per headcount).
    title
        Page title (plain text).
    info
        ``scenario``, ``capacity_id``, ``mode``, ``scope``, ``today``,
        ``hours_per_fte``, ``band``, ``recommendation`` (the reason),
        ``recommended`` (headcount or ``None``); optionally ``store``.

    Returns
    -------
    str
        The HTML page.
    """
    band = tuple(info.get("band") or (0.6, 0.7))
    low, high = float(band[0]), float(band[1])
    pick = info.get("recommended")
    cards = [
        ("headcount today", fmt_number(info.get("today"))),
        ("headcounts solved", fmt_number(len(table))),
        ("feasible", fmt_number(int((table["status"] == "ok").sum()))),
        ("recommended", esc(pick) if pick is not None else "none"),
    ]
    headline = "".join(
        f'<div class="te-card"><div class="te-k">{esc(k)}</div><div class="te-v">{v}</div></div>'
        for k, v in cards
    )
    sub = (
        f"Scenario <code>{esc(info.get('scenario', ''))}</code> · {esc(info.get('scope', ''))}"
        f" · id <code>{esc(info.get('capacity_id', ''))}</code> · {esc(info.get('mode', ''))}"
    )
    if info.get("store"):
        sub += f" · plans recorded in <code>{esc(info['store'])}</code>"
    hours = fmt_number(info.get("hours_per_fte"), 0)
    sections = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="te-sub">{sub}</p>',
        f'<div class="te-cards">{headline}</div>',
        f"<p><b>{esc(info.get('recommendation', ''))}</b></p>",
        '<p class="te-note">Each headcount is a full solve of the scenario with reps cut '
        "(least-stretched team first, smallest book first) or hired (most-stretched team "
        "first, at the given cities, then where a new territory takes the most potential "
        f"from far-off reps). A rep has {hours} selling hours a year per FTE; a territory "
        "with more workload than its rep's hours sells only the share it can work, and the "
        "share of reps expected at quota is the plan's own attainment simulation on those "
        f"sales. The target band is {100 * low:.0f}–{100 * high:.0f} % of reps at quota.</p>",
        '<div class="te-charts">' + "".join(capacity_charts(table, (low, high))) + "</div>",
        "<h2>Every headcount</h2>",
        _table(table),
        _hiring(hiring, pick if isinstance(pick, int) else None),
        "<footer>territory_engine capacity · works offline</footer>",
    ]
    return compose_page(title, [s for s in sections if s])
