"""``kpis.html``: the year's KPIs of a plan as one self-contained page.

The numbers arrive computed (:class:`~territory_engine.org.kpis.compute.KpiResult`);
this module only places and formats them. Every rep, territory and group name is
escaped (:func:`~territory_engine.render.page.esc`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from territory_engine.render.charts import (
    AXIS_COLOR,
    FONT,
    GRID_COLOR,
    BandRow,
    band_chart,
    histogram_chart,
    nice_ticks,
)
from territory_engine.render.page import (
    DASH,
    Cell,
    compose_page,
    esc,
    fmt_money,
    fmt_number,
    fmt_pct,
    table_html,
)

if TYPE_CHECKING:
    from territory_engine.org.kpis.compute import KpiResult

__all__ = ["render_kpis_page"]

_BAND = "#d3e9d8"
_DOT = "#4e79a7"
_OUT = "#b00020"


def render_kpis_page(result: KpiResult) -> str:
    """Render ``kpis.html``.

    Parameters
    ----------
    result
        The KPIs of one plan.

    Returns
    -------
    str
        The HTML page (inline styles and charts, no network).
    """
    s = result.summary
    low, high = s["healthy_band"]
    sub = (
        f"Plan <b>{esc(result.plan_name)}</b> · actuals <code>{esc(s['actuals_file'])}</code> "
        f"(by {esc(s['actuals_by'])}) · {esc(result.months[0])} to {esc(result.as_of)} "
        f"({s['months_elapsed']} of 12 months) · share on pace {esc(s['healthy_verdict'])} "
        f"({fmt_pct(100 * low, decimals=0)} to {fmt_pct(100 * high, decimals=0)})"
    )
    sections: list[Any] = [
        f"<h1>KPIs: {esc(result.plan_name)}</h1>",
        f'<p class="te-sub">{sub}</p>',
        _headline(s),
        *_achievement_section(result),
        *_group_sections(result),
        "<h2>Forecast accuracy</h2>",
        '<p class="te-note">The plan folder has no forecasts.csv.</p>'
        if result.forecast is None
        else _forecast_table(result.forecast),
        *_drift_section(result),
        "<h2>Every territory</h2>",
        _territory_table(result.table),
    ]
    if result.notes:
        notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
        sections.append(f"<footer><ul>{notes}</ul></footer>")
    return compose_page(f"KPIs: {result.plan_name}", sections)


def _headline(s: dict[str, Any]) -> str:
    cards = [
        (
            "reps at or above pro-rated quota",
            _share(s["share_on_pace"], s["reps_on_pace"], s["reps_counted_prorated"]),
        ),
        (
            "reps at or above full-year quota",
            _share(s["share_at_quota_ytd"], s["reps_at_quota_ytd"], s["reps"]),
        ),
        ("YTD actual / YTD quota", fmt_pct(_pct(s["prorated_attainment_pct"]))),
        ("YTD actual / full-year quota", fmt_pct(_pct(s["attainment_pct"]))),
        ("YTD actual", fmt_money(s["ytd_actual"])),
        ("territories drifting", fmt_number(s["drifting_territories"])),
    ]
    inner = "".join(
        f'<div class="te-card"><div class="te-k">{esc(k)}</div><div class="te-v">{v}</div></div>'
        for k, v in cards
    )
    return f'<div class="te-cards">{inner}</div>'


def _achievement_section(result: KpiResult) -> list[str]:
    """The share at quota against the healthy band, and the attainment histogram."""
    s = result.summary
    low, high = s["healthy_band"]
    prorated = result.table["prorated_attainment_pct"].to_numpy(dtype=float)
    finite = prorated[np.isfinite(prorated)]
    top = max(150.0, math.ceil((finite.max() if len(finite) else 0) / 10.0) * 10.0)
    histogram = histogram_chart(
        finite.tolist(),
        title="Pro-rated attainment of each rep",
        x_label="YTD actual ÷ YTD quota (%) — shaded: at or above 100 %",
        bins=list(np.arange(0.0, top + 10.0, 10.0)),
        band=(100.0, top + 10.0),
        band_label="at or above quota (100 % line on the left edge)",
    )
    gauge = _share_gauge(s["share_on_pace"], s["share_at_quota_ytd"], (100 * low, 100 * high))
    return [
        "<h2>Quota achievement</h2>",
        '<p class="te-note">Pro-rated: YTD actual against the quota due so far (the plan\'s '
        "seasonal split, ramp included). Full-year: YTD actual against the annual quota. "
        f"A healthy plan has {fmt_pct(100 * low, decimals=0)} to "
        f"{fmt_pct(100 * high, decimals=0)} of reps at or above quota.</p>",
        f'<div class="te-charts">{gauge}{histogram}</div>',
    ]


def _group_sections(result: KpiResult) -> list[str]:
    """Attainment by segment, district and region: a dot per rep, and the table."""
    table = result.table
    out = []
    for title, frame in (
        ("segment", result.by_segment),
        ("district", result.by_district),
        ("region", result.by_region),
    ):
        if not len(frame):
            continue
        groups = [
            (str(g), table.loc[table[title] == g, "prorated_attainment_pct"].tolist())
            for g in frame["group"]
        ]
        out.append(f"<h2>Attainment by {esc(title)}</h2>")
        out.append(_strip_chart(groups, title=f"Pro-rated attainment by {title}"))
        out.append(_group_table(frame, title))
    return out


def _drift_section(result: KpiResult) -> list[str]:
    out = [
        "<h2>Territories drifting out of balance</h2>",
        f'<p class="te-note">{esc(result.summary["drift_measure"])}.</p>',
    ]
    drifting = result.drifting
    if not len(drifting):
        return [*out, '<p class="te-note">No territory is outside its band.</p>']
    rows = [
        BandRow(
            label=f"{r.territory_id} {r.rep_name}".strip(),
            value=float(r.drift_pct),
            low=_finite(r.band_low_pct),
            high=_finite(r.band_high_pct),
            in_band=False,
        )
        for r in drifting.itertuples()
    ]
    return [*out, band_chart(rows, title="Drifting territories: actual vs fair share")]


def _pct(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _finite(value: Any) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def _share(rate: Any, hit: int, n: int) -> str:
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return DASH
    return f"{fmt_pct(100 * float(rate))} ({hit} of {n})"


def _share_gauge(pace: Any, full_year: Any, healthy: tuple[float, float], width: int = 520) -> str:
    """A 0–100 % bar with the healthy band shaded and the two shares marked."""
    left, right, height = 20, 20, 120
    y0, bar_h = 46, 22

    def x(v: float) -> float:
        return left + v / 100.0 * (width - left - right)

    out = [
        f'<svg class="te-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Share of reps at or above quota" {FONT}>',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">Share of reps at or '
        "above quota</text>",
        f'<rect x="{x(0):.1f}" y="{y0}" width="{x(100) - x(0):.1f}" height="{bar_h}" '
        f'fill="#fff" stroke="{GRID_COLOR}"/>',
        f'<rect x="{x(healthy[0]):.1f}" y="{y0}" width="{x(healthy[1]) - x(healthy[0]):.1f}" '
        f'height="{bar_h}" fill="{_BAND}"><title>healthy {fmt_number(healthy[0], 0)} to '
        f"{fmt_number(healthy[1], 0)} %</title></rect>",
    ]
    for t in range(0, 101, 20):
        out.append(
            f'<line x1="{x(t):.1f}" y1="{y0 + bar_h}" x2="{x(t):.1f}" y2="{y0 + bar_h + 4}" '
            f'stroke="{AXIS_COLOR}"/><text x="{x(t):.1f}" y="{y0 + bar_h + 16}" '
            f'text-anchor="middle">{t} %</text>'
        )
    for value, name, colour, dy in (
        (pace, "pro-rated", _DOT, -6),
        (full_year, "full-year", "#555", 0),
    ):
        if value is None or not math.isfinite(float(value)):
            continue
        v = 100.0 * float(value)
        if dy:
            out.append(
                f'<line x1="{x(v):.1f}" y1="{y0 - 4}" x2="{x(v):.1f}" y2="{y0 + bar_h + 4}" '
                f'stroke="{colour}" stroke-width="3"><title>{name}: {fmt_pct(v)}</title></line>'
                f'<text x="{x(v):.1f}" y="{y0 + dy - 4}" text-anchor="middle" fill="{colour}">'
                f"{name} {fmt_pct(v)}</text>"
            )
        else:
            out.append(
                f'<circle cx="{x(v):.1f}" cy="{y0 + bar_h / 2:.1f}" r="5" fill="{colour}">'
                f"<title>{name}: {fmt_pct(v)}</title></circle>"
            )
    out.append(
        f'<text x="{left}" y="{height - 6}" fill="#555">line: pro-rated · dot: full-year · '
        "shaded: healthy band</text></svg>"
    )
    return "".join(out)


def _strip_chart(
    groups: Sequence[tuple[str, Sequence[float]]], *, title: str, width: int = 640
) -> str:
    """One row per group, a dot per rep's attainment (%), the 100 % line drawn."""
    row_h, top, left, right = 22, 30, 170, 20
    height = top + row_h * max(len(groups), 1) + 30
    values = [v for _, vs in groups for v in vs if v is not None and math.isfinite(v)]
    lo = min([0.0, *values])
    hi = max([150.0, *values]) * 1.04

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    bottom = top + row_h * len(groups)
    out = [
        f'<svg class="te-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{esc(title)}" {FONT}>',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{esc(title)}</text>',
    ]
    for t in nice_ticks(lo, hi, 6):
        out.append(
            f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{bottom}" '
            f'stroke="{GRID_COLOR}"/><text x="{x(t):.1f}" y="{bottom + 14}" '
            f'text-anchor="middle">{fmt_number(t)} %</text>'
        )
    out.append(
        f'<line x1="{x(100):.1f}" y1="{top - 8}" x2="{x(100):.1f}" y2="{bottom}" '
        f'stroke="{AXIS_COLOR}" stroke-width="2"><title>100 % of quota</title></line>'
    )
    for i, (name, vs) in enumerate(groups):
        y = top + row_h * i + row_h / 2
        shown = name or "(none)"
        label = shown if len(shown) <= 26 else shown[:25] + "…"
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>')
        for v in vs:
            if v is None or not math.isfinite(v):
                continue
            colour = _DOT if v >= 100 else _OUT
            out.append(
                f'<circle cx="{x(v):.1f}" cy="{y:.1f}" r="4" fill="{colour}" fill-opacity="0.7">'
                f"<title>{esc(shown)}: {fmt_pct(v)}</title></circle>"
            )
    out.append(
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 4}" text-anchor="middle" '
        'fill="#555">YTD actual ÷ YTD quota (dark line: 100 %)</text></svg>'
    )
    return "".join(out)


def _group_table(frame: pd.DataFrame, title: str) -> str:
    columns: list[str | tuple[str, bool]] = [
        title,
        ("reps", True),
        ("YTD quota", True),
        ("YTD actual", True),
        ("pro-rated attainment", True),
        ("reps on pace", True),
        ("reps at full-year quota", True),
        ("median", True),
        ("min", True),
        ("max", True),
    ]
    rows = [
        [
            Cell.text(r["group"] or "(none)"),
            Cell.number(r["reps"]),
            Cell.number(r["ytd_quota"], fmt_money),
            Cell.number(r["ytd_actual"], fmt_money),
            Cell.number(r["prorated_attainment_pct"], fmt_pct),
            Cell.number(100 * r["share_on_pace"], fmt_pct),
            Cell.number(100 * r["share_at_quota_ytd"], fmt_pct),
            Cell.number(r["median_pct"], fmt_pct),
            Cell.number(r["min_pct"], fmt_pct),
            Cell.number(r["max_pct"], fmt_pct),
        ]
        for r in frame.to_dict("records")
    ]
    return table_html(columns, rows, sortable=True)


def _forecast_table(frame: pd.DataFrame) -> str:
    columns: list[str | tuple[str, bool]] = [
        "level",
        ("series", True),
        ("points", True),
        ("WAPE", True),
        ("MAPE", True),
        ("bias", True),
        ("in 80 % interval", True),
        ("in 95 % interval", True),
        "forecast ids without actuals",
    ]
    rows = [
        [
            Cell.text(r["level"]),
            Cell.number(r["series"]),
            Cell.number(r["points"]),
            Cell.number(r["wape_pct"], fmt_pct),
            Cell.number(r["mape_pct"], fmt_pct),
            Cell.number(r["bias_pct"], lambda v: fmt_pct(v, signed=True)),
            Cell.number(r["coverage_80_pct"], fmt_pct),
            Cell.number(r["coverage_95_pct"], fmt_pct),
            Cell.text(", ".join(r["unmatched"][:10]) + (" …" if len(r["unmatched"]) > 10 else "")),
        ]
        for r in frame.to_dict("records")
    ]
    return (
        '<p class="te-note">The plan\'s forecasts on the months with actuals. WAPE: Σ|actual − '
        "forecast| ÷ Σ actual; MAPE: the mean of |actual − forecast| ÷ actual; bias: Σ forecast "
        "÷ Σ actual − 1; coverage: the share of months inside each interval (80 % is right "
        "for an 80 % interval).</p>" + table_html(columns, rows)
    )


def _territory_table(table: pd.DataFrame) -> str:
    columns: list[str | tuple[str, bool]] = [
        "territory",
        "rep",
        "segment",
        "district",
        "region",
        ("quota", True),
        ("YTD quota", True),
        ("YTD actual", True),
        ("attainment (full year)", True),
        ("pro-rated attainment", True),
        ("ramp", True),
        ("drift vs fair share", True),
    ]
    rows = []
    for r in table.to_dict("records"):
        on_pace = "te-good" if r["on_pace"] else "te-bad"
        rows.append(
            [
                Cell.text(r["territory_id"]),
                Cell.text(f"{r['rep_id']} {r['rep_name']}".strip()),
                Cell.text(r["segment"]),
                Cell.text(r["district"]),
                Cell.text(r["region"]),
                Cell.number(r["quota"], fmt_money),
                Cell.number(r["ytd_quota"], fmt_money),
                Cell.number(r["ytd_actual"], fmt_money),
                Cell.number(r["attainment_pct"], fmt_pct),
                Cell.number(r["prorated_attainment_pct"], fmt_pct, css=on_pace),
                Cell.number(100 * r["ramp_factor"], lambda v: fmt_pct(v, decimals=0)),
                Cell.number(
                    r["drift_pct"],
                    lambda v: fmt_pct(v, signed=True),
                    css="te-flag" if r["drifting"] else "",
                ),
            ]
        )
    return table_html(columns, rows, sortable=True, scroll=True)
