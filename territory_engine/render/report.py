"""``report.html``: a plan's scorecard as one page of tables and small charts.

The page shows what the scorecard and the plan tables already hold: the plan-level
fairness numbers, balance of each territory against its band, quota against
potential, expected attainment when the scorecard has it, and travel. The charts are
inline SVG (see :mod:`territory_engine.render.charts`); the page loads nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from territory_engine.metrics.card import travel_unit
from territory_engine.render.charts import (
    BandRow,
    ScatterPoint,
    band_chart,
    histogram_chart,
    scatter_chart,
)
from territory_engine.render.colors import TABLEAU_10
from territory_engine.render.page import (
    Cell,
    compose_page,
    esc,
    fmt_money,
    fmt_number,
    fmt_pct,
    isna,
    label,
    table_html,
)

__all__ = ["render_report", "scorecard_rows"]

# Scorecard keys whose value is a share (0-1) and reads better as a percentage.
_SHARE_KEYS = ("share", "max_rel_dev")


def render_report(
    card: dict,
    territories: pd.DataFrame,
    quotas: pd.DataFrame,
    *,
    measures: Sequence[str],
    title: str,
) -> str:
    """Render a plan's report page.

    Parameters
    ----------
    card
        The plan's scorecard (``scorecard.json``).
    territories
        ``territories.csv``: per measure ``m``: ``m``, ``m_fair_share``, ``m_low``,
        ``m_high``, ``m_dev_pct``, ``m_in_band``; and ``travel_mean_km``,
        ``travel_max_km``, ``rep_name``, ``segment``.
    quotas
        ``quotas.csv`` (``territory_id, quota``; ``territory_potential`` and
        ``quota_to_potential`` when present).
    measures
        Balance measures, in display order.
    title
        The plan's name.

    Returns
    -------
    str
        The HTML page.
    """
    terr = territories.reset_index(drop=True)
    unit = travel_unit(card)
    sections = [
        f"<h1>{esc(title)} — plan report</h1>",
        '<p class="te-sub">Scorecard of the plan, with charts of balance, quota and '
        "travel. Every number comes from <code>scorecard.json</code>, "
        "<code>territories.csv</code> and <code>quotas.csv</code> of this plan folder.</p>",
        _headline(card, measures),
        "<h2>Scorecard</h2>",
        table_html(
            [("section", False), ("measure", False), ("value", True)],
            (
                [Cell.text(section), Cell.text(name), Cell(text, None, True)]
                for section, name, _, text in scorecard_rows(card)
            ),
        ),
        "<h2>Balance per territory</h2>",
        '<p class="te-note">Each dot is a territory: its load against its fair share '
        "(0 % = exactly its share). The shaded bar is its band; red dots are out of band."
        "</p>",
        '<div class="te-charts">' + "".join(_band_charts(terr, measures)) + "</div>",
        "<h2>Quota and potential</h2>",
        '<div class="te-charts">' + _quota_chart(card, terr, quotas) + "</div>",
        "<h2>Expected attainment</h2>",
        _attainment_section(card, terr),
        *_forecast_section(card),
        "<h2>Travel</h2>",
        '<div class="te-charts">' + "".join(_travel_charts(terr, unit)) + "</div>",
        "<h2>Territories</h2>",
        '<p class="te-note">Click a column header to sort.</p>',
        _territory_table(terr, quotas, measures, unit),
        "<footer>territory_engine plan report · works offline</footer>",
    ]
    return compose_page(f"{title} — report", sections)


def _headline(card: dict, measures: Sequence[str]) -> str:
    cards = [
        ("territories", fmt_number(card.get("n_territories"))),
        ("accounts", fmt_number(card.get("n_accounts"))),
    ]
    balance = card.get("balance") or {}
    for m in measures:
        stats = balance.get(m) or {}
        if "balance_index" in stats:
            cards.append((f"{label(m)} balance index", fmt_number(stats["balance_index"], 1)))
        if "territories_out_of_band" in stats:
            cards.append((f"{label(m)} out of band", fmt_number(stats["territories_out_of_band"])))
    travel = card.get("travel") or {}
    if "mean_km" in travel:
        cards.append(("travel mean", f"{fmt_number(travel['mean_km'], 0)} {travel_unit(card)}"))
    disruption = card.get("disruption") or {}
    if "moved_accounts_share" in disruption:
        cards.append(("accounts moved", fmt_pct(100 * disruption["moved_accounts_share"])))
    relationships = card.get("relationships") or {}
    if "accounts_with_tie_share" in relationships:
        cards.append(
            (
                "accounts with a tie to their rep",
                fmt_pct(100 * relationships["accounts_with_tie_share"]),
            )
        )
    if "kept_for_relationship" in relationships:
        cards.append(
            ("kept for a relationship", fmt_number(relationships["kept_for_relationship"]))
        )
    families = card.get("families") or {}
    if families.get("families"):
        cards.append(("families split", fmt_number(families["families_split"])))
    quota = card.get("quota") or {}
    if "total" in quota:
        cards.append(("quota total", fmt_money(quota["total"])))
    body = "".join(
        f'<div class="te-card"><div class="te-k">{esc(k)}</div><div class="te-v">{v}</div></div>'
        for k, v in cards
    )
    return f'<div class="te-cards">{body}</div>'


def scorecard_rows(card: dict) -> list[tuple[str, str, float | None, str]]:
    """Flatten the plan-level part of a scorecard into rows for a table.

    Parameters
    ----------
    card
        A scorecard; the per-territory table and any other list are left out.

    Returns
    -------
    list of tuple
        ``(section, measure, raw value or None, formatted value)``; nested sections
        are joined with " · " (``balance · potential``, ``cv``). Shares (keys with
        ``share`` or ``max_rel_dev``) are shown as percentages.
    """
    rows: list[tuple[str, str, float | None, str]] = []
    unit = travel_unit(card)
    territory_ids = {str(t.get("territory_id")) for t in card.get("territories") or []}

    def visit(section: str, key: str, value: Any) -> None:
        if isinstance(value, dict) and value and set(map(str, value)) <= territory_ids:
            return  # a per-territory breakdown: the territory table shows those
        if isinstance(value, dict):
            inner = f"{section} · {label(key)}" if section else label(key)
            for k, v in value.items():
                visit(inner, k, v)
            return
        if isinstance(value, list | tuple):
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            rows.append((section or "plan", label(key), None, esc(value)))
            return
        number = float(value)
        if any(s in key for s in _SHARE_KEYS):
            text = fmt_pct(100 * number)
        elif key.endswith("_km"):
            # Travel keys keep their _km names; the scorecard's travel unit says what they hold.
            text = f"{fmt_number(number, 1)} {unit}"
            key = key.removesuffix("_km") + f"_{unit}"
        elif key == "total" and "quota" in section:
            text = fmt_money(number)
        else:
            text = fmt_number(number)
        rows.append((section or "plan", label(key), number, text))

    for key, value in card.items():
        if key == "territories":
            continue
        if isinstance(value, dict):
            for k, v in value.items():
                visit(label(key), k, v)
        else:
            visit("", key, value)
    return rows


def _ratio_pct(value: Any, fair: Any) -> float:
    if isna(value) or isna(fair) or float(fair) == 0:
        return math.nan
    return 100.0 * (float(value) / float(fair) - 1.0)


def _territory_label(row: pd.Series) -> str:
    name = row.get("rep_name")
    name = "vacant" if isna(name) or not str(name) else str(name)
    return f"{name} ({row['territory_id']})"


def _band_charts(terr: pd.DataFrame, measures: Sequence[str]) -> list[str]:
    charts = []
    for m in measures:
        fair_col = f"{m}_fair_share"
        if m not in terr.columns:
            continue
        rows = []
        for _, row in terr.iterrows():
            if fair_col in terr.columns:
                value = _ratio_pct(row[m], row[fair_col])
                low = _ratio_pct(row.get(f"{m}_low"), row[fair_col])
                high = _ratio_pct(row.get(f"{m}_high"), row[fair_col])
            else:
                value = float(row.get(f"{m}_dev_pct", math.nan))
                low = high = math.nan
            in_band = row.get(f"{m}_in_band")
            rows.append(
                BandRow(
                    _territory_label(row),
                    value,
                    None if not math.isfinite(low) else low,
                    None if not math.isfinite(high) else high,
                    None if isna(in_band) else bool(in_band),
                )
            )
        rows.sort(key=lambda r: -r.value if math.isfinite(r.value) else math.inf)
        charts.append(band_chart(rows, title=f"{label(m)}: load vs fair share"))
    return charts


def _segment_colors(segments: Sequence[Any]) -> dict[str, str]:
    names = sorted({str(s) for s in segments})
    return {s: TABLEAU_10[i % len(TABLEAU_10)] for i, s in enumerate(names)}


def _quota_chart(card: dict, terr: pd.DataFrame, quotas: pd.DataFrame) -> str:
    if "quota" not in quotas.columns:
        return '<p class="te-note">This plan has no quotas.</p>'
    frame = quotas.merge(
        terr[["territory_id", *[c for c in ("rep_name", "segment", "potential") if c in terr]]],
        on="territory_id",
        how="left",
        suffixes=("", "_t"),
    )
    potential_col = "territory_potential" if "territory_potential" in frame else "potential"
    if potential_col not in frame:
        return '<p class="te-note">The plan has no territory potential to compare with.</p>'
    colors = _segment_colors(frame.get("segment", pd.Series(["all"] * len(frame))))
    points = [
        ScatterPoint(
            float(row[potential_col]),
            float(row["quota"]),
            f"{_territory_label(row)}: quota {fmt_money(row['quota'])}, "
            f"potential {fmt_money(row[potential_col])}",
            colors.get(str(row.get("segment", "all")), TABLEAU_10[0]),
        )
        for _, row in frame.iterrows()
        if not isna(row[potential_col]) and not isna(row["quota"])
    ]
    ratio = (card.get("quota") or {}).get("quota_to_potential_mean")
    return scatter_chart(
        points,
        title="Quota vs territory potential",
        x_label="territory potential ($)",
        y_label="quota ($)",
        slope=None if ratio is None else float(ratio),
        slope_label="" if ratio is None else f"mean quota ÷ potential = {float(ratio):.3f}",
        legend=list((c, s) for s, c in colors.items()),
    )


def _attainment_summary(card: dict) -> dict | None:
    """The scorecard's expected-attainment section (under ``quota``, or top level)."""
    for section in ((card.get("quota") or {}).get("attainment"), card.get("attainment")):
        if isinstance(section, dict):
            return section
    return None


def _attainment_values(card: dict, terr: pd.DataFrame) -> tuple[str, list[float]] | None:
    """Per-territory expected attainment, when the scorecard or the table holds it."""
    by_territory = (_attainment_summary(card) or {}).get("by_territory")
    if isinstance(by_territory, dict) and by_territory:
        values = [
            float(v["expected_attainment"])
            for v in by_territory.values()
            if isinstance(v, dict) and not isna(v.get("expected_attainment"))
        ]
        if values:
            return "expected_attainment", values
    rows = pd.DataFrame(card.get("territories") or [])
    for frame in (rows, terr):
        columns = [
            c
            for c in frame.columns
            if "attainment" in c and pd.api.types.is_numeric_dtype(frame[c])
        ]
        if columns:
            preferred = sorted(
                columns, key=lambda c: (not any(k in c for k in ("expected", "mean", "p50")), c)
            )[0]
            return preferred, [float(v) for v in frame[preferred] if not isna(v)]
    return None


def _attainment_section(card: dict, terr: pd.DataFrame) -> str:
    found = _attainment_values(card, terr)
    plan_level = _attainment_summary(card)
    parts = []
    if found is not None:
        column, values = found
        # Attainment may be stored as a ratio (1.0) or in percent (100); show percent.
        scale = 100.0 if values and max(abs(v) for v in values) <= 10 else 1.0
        parts.append(
            '<div class="te-charts">'
            + histogram_chart(
                [scale * v for v in values],
                title=f"Expected attainment per territory ({label(column)})",
                x_label="expected attainment (%)",
                band=(100.0, math.inf),
                band_label="at or above quota",
            )
            + "</div>"
        )
    if isinstance(plan_level, dict):
        share = plan_level.get("share_at_or_above_100")
        band = plan_level.get("healthy_band")
        if share is not None and isinstance(band, list | tuple) and len(band) == 2:
            ok = bool(plan_level.get("in_healthy_band", band[0] <= share <= band[1]))
            parts.append(
                f'<p>Reps expected at or above quota: <b class="{"te-good" if ok else "te-flag"}">'
                f"{fmt_pct(100 * float(share))}</b> (healthy band "
                f"{fmt_pct(100 * float(band[0]), decimals=0)} to "
                f"{fmt_pct(100 * float(band[1]), decimals=0)}).</p>"
            )
        plan_level = {k: v for k, v in plan_level.items() if k != "by_territory"}
        parts.append(
            table_html(
                [("measure", False), ("value", True)],
                (
                    [Cell.text(name), Cell(text, None, True)]
                    for _, name, _, text in scorecard_rows({"attainment": plan_level})
                ),
            )
        )
    if not parts:
        return (
            '<p class="te-note">This scorecard has no expected attainment '
            "(the simulation is not part of this plan).</p>"
        )
    return "".join(parts)


_TRAVEL_WORD = {"km": "km", "min": "minutes"}


def _forecast_section(card: dict) -> list[str]:
    """Forecast accuracy per level (the scorecard's ``forecast.backtest``); nothing without it."""
    forecast = card.get("forecast")
    if not isinstance(forecast, dict):
        return []
    year = forecast.get("plan_year") or {}
    low, high = fmt_money(year.get("company_lo_80")), fmt_money(year.get("company_hi_80"))
    model, how = esc(forecast.get("model", "")), esc(forecast.get("reconciliation", ""))
    parts = [
        "<h2>Forecast</h2>",
        '<p class="te-note">'
        f"Plan year {esc(year.get('months', ''))}: company forecast "
        f"{fmt_money(year.get('company_forecast'))} (80 % interval {low} – {high}), "
        f"{model} reconciled by {how}. "
        "Forecasts per level and month are in <code>forecasts.csv</code>.</p>",
    ]
    backtest = forecast.get("backtest")
    if not isinstance(backtest, dict):
        parts.append(f'<p class="te-note">No backtest: {esc(forecast.get("skipped", ""))}</p>')
        return parts
    parts.append(
        '<p class="te-note">Backtest: fitted on the months before '
        f"{esc(forecast.get('holdout', ''))}, scored on those months against "
        f"{esc(forecast.get('baseline', 'seasonal naive'))}. WAPE gain = 1 − WAPE / naive WAPE.</p>"
    )
    columns = [
        ("level", False),
        ("WAPE", True),
        ("MAPE", True),
        ("naive WAPE", True),
        ("naive MAPE", True),
        ("WAPE gain", True),
    ]

    def pct(value: Any) -> Cell:
        number = None if isna(value) else 100 * float(value)
        return Cell.number(number, fmt=fmt_pct)

    rows = [
        [
            Cell.text(level),
            pct(s.get("wape")),
            pct(s.get("mape")),
            pct(s.get("naive_wape")),
            pct(s.get("naive_mape")),
            pct(s.get("wape_gain")),
        ]
        for level, s in backtest.items()
        if isinstance(s, dict)
    ]
    parts.append(table_html(columns, rows))
    return parts


def _travel_charts(terr: pd.DataFrame, unit: str = "km") -> list[str]:
    word = _TRAVEL_WORD.get(unit, unit)
    charts = []
    if "travel_mean_km" in terr:
        charts.append(
            histogram_chart(
                terr["travel_mean_km"].tolist(),
                title="Mean travel per territory",
                x_label=f"{word} from the rep's home to the territory's accounts (mean)",
            )
        )
    if "travel_max_km" in terr:
        charts.append(
            histogram_chart(
                terr["travel_max_km"].tolist(),
                title="Longest trip per territory",
                x_label=f"{word} from the rep's home to the farthest account",
            )
        )
    return charts


def _territory_table(
    terr: pd.DataFrame, quotas: pd.DataFrame, measures: Sequence[str], unit: str = "km"
) -> str:
    quota_cols = [c for c in ("quota", "quota_to_potential") if c in quotas.columns]
    frame = terr.merge(quotas[["territory_id", *quota_cols]], on="territory_id", how="left")
    columns: list[tuple[str, bool]] = [
        ("rep", False),
        ("territory", False),
        ("segment", False),
        ("accounts", True),
    ]
    for m in measures:
        columns += [(label(m), True), (f"{label(m)} vs fair share", True), ("in band", False)]
    columns += [(f"travel mean {unit}", True), (f"travel max {unit}", True)]
    if "quota" in quota_cols:
        columns.append(("quota", True))
    if "quota_to_potential" in quota_cols:
        columns.append(("quota ÷ potential", True))
    rows = []
    for _, row in frame.iterrows():
        name = row.get("rep_name")
        cells = [
            Cell.text("vacant" if isna(name) or not str(name) else f"{name} ({row['rep_id']})"),
            Cell.text(row["territory_id"]),
            Cell.text(row.get("segment")),
            Cell.number(row.get("n_accounts")),
        ]
        for m in measures:
            fair = row.get(f"{m}_fair_share")
            dev = _ratio_pct(row.get(m), fair) if fair is not None else row.get(f"{m}_dev_pct")
            band = row.get(f"{m}_in_band")
            ok = None if isna(band) else bool(band)
            cells += [
                Cell.number(row.get(m)),
                Cell.number(dev, lambda v: fmt_pct(v, signed=True)),
                Cell(
                    "yes" if ok else ("no" if ok is False else "–"),
                    None,
                    False,
                    "te-good" if ok else ("te-flag" if ok is False else ""),
                ),
            ]
        cells += [
            Cell.number(row.get("travel_mean_km"), lambda v: fmt_number(v, 1)),
            Cell.number(row.get("travel_max_km"), lambda v: fmt_number(v, 1)),
        ]
        if "quota" in quota_cols:
            cells.append(Cell.number(row.get("quota"), fmt_money))
        if "quota_to_potential" in quota_cols:
            cells.append(Cell.number(row.get("quota_to_potential"), lambda v: fmt_number(v, 3)))
        rows.append(cells)
    return table_html(columns, rows, sortable=True, scroll=True, table_id="territories")
