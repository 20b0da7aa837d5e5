"""``capacity.html``: the capacity table, the hiring plan and three charts against headcount.

The page draws what :mod:`territory_engine.org.capacity` computed (the table arrives
with its ``recommended`` and ``in_band`` marks); nothing here scores a plan. Every
name from the data (reps, cities, errors) is escaped; the charts are inline SVG.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from territory_engine.render.charts import line_chart
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

__all__ = ["capacity_charts", "render_capacity_page"]


def _num(value: Any) -> float:
    return math.nan if isna(value) else float(value)


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
