"""A rep's own page: their territory, accounts, quota and where they stand.

Reps trust a plan when they can see their own part of it and why their quota is
that number; they must not see anybody else's. The page is built only from rows
that belong to the rep: their territory polygon, their accounts, their rep record,
their quota rows, and the team's median and range (no other rep's row). It holds
no other rep's id, name, accounts, quota or territory, neither in the HTML nor in the
map's embedded data, which :func:`rep_rows` makes true by construction: everything
the page draws passes through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas
import pandas as pd

from territory_engine.metrics.card import travel_unit
from territory_engine.plan.reader import PlanFolder
from territory_engine.render.page import (
    Cell,
    MapRow,
    compose_page,
    esc,
    fmt_money,
    fmt_number,
    isna,
    label,
    table_html,
)
from territory_engine.render.plan_map import render_plan_map

__all__ = ["RepRows", "render_rep_page", "rep_rows"]

_FIGURE_LABELS = {
    "n_accounts": "accounts",
    "quota": "quota",
    "quota_to_potential": "quota ÷ potential",
    "travel_mean_km": "mean travel (km)",
}


def _figure_label(figure: str, unit: str) -> str:
    """The standing table's name of a figure; travel in the plan's unit."""
    if figure == "travel_mean_km":
        return f"mean travel ({unit})"
    return _FIGURE_LABELS.get(figure, label(figure))


@dataclass(frozen=True)
class RepRows:
    """Everything of a plan that belongs to one rep.

    Attributes
    ----------
    rep
        The rep's row of ``reps.csv`` (one row).
    territories
        The rep's territories (rows of ``territories.geojson``).
    accounts
        The rep's accounts (rows of :meth:`PlanFolder.account_view`).
    quotas
        The rep's rows of ``quotas.csv``.
    splits
        The rep's rows of ``quota_splits.csv``, or ``None`` when the plan has none.
    travel_unit
        What the plan's travel figures are in: ``"km"``, or ``"min"`` for a plan
        made with travel times (its scorecard's ``travel.unit``).
    """

    rep: pd.DataFrame
    territories: geopandas.GeoDataFrame
    accounts: pd.DataFrame
    quotas: pd.DataFrame
    splits: pd.DataFrame | None
    travel_unit: str = "km"


def rep_rows(plan: PlanFolder, rep_id: str) -> RepRows:
    """Select the rows of ``plan`` that belong to ``rep_id``, and only those.

    The previous owner of each account is dropped: it names another rep.

    Parameters
    ----------
    plan
        The plan.
    rep_id
        A rep of the plan.

    Returns
    -------
    RepRows
    """
    rep_id = str(rep_id)
    rep = plan.reps[plan.reps["rep_id"].astype(str) == rep_id]
    territories = plan.geometry[plan.geometry["rep_id"].astype(str) == rep_id]
    accounts = plan.account_view()
    accounts = accounts[accounts["rep_id"].astype(str) == rep_id].drop(columns="previous_rep_id")
    quotas = plan.quotas[plan.quotas["rep_id"].astype(str) == rep_id]
    splits = None
    if plan.quota_splits is not None and "rep_id" in plan.quota_splits:
        splits = plan.quota_splits[plan.quota_splits["rep_id"].astype(str) == rep_id]
    return RepRows(rep, territories, accounts, quotas, splits, travel_unit(plan.scorecard))


def render_rep_page(
    rows: RepRows,
    standing: pd.DataFrame,
    *,
    plan_name: str,
    measures: Sequence[str],
) -> str:
    """Render one rep's page.

    Parameters
    ----------
    rows
        The rep's rows (:func:`rep_rows`); nothing else of the plan is used.
    standing
        :func:`territory_engine.plan.compare.team_standing` of the rep (team median and
        range only).
    plan_name
        The plan's name.
    measures
        Balance measures, in display order.

    Returns
    -------
    str
        The HTML page (self-contained).
    """
    rep = rows.rep.iloc[0]
    name = str(rep["name"])
    rep_id = str(rep["rep_id"])
    segment = "" if isna(rep.get("segment")) else str(rep.get("segment"))
    territory_ids = ", ".join(map(str, rows.territories["territory_id"])) or "none"
    m = render_plan_map(
        rows.territories,
        rows.accounts,
        rows.rep,
        measures=list(measures),
        title=f"{name} — {plan_name}",
        show_accounts=True,
        title_box=False,
        moved_label="new to you",
        moved_note="new to you in this plan",
        travel_unit=rows.travel_unit,
    )
    sub = [f"rep {esc(rep_id)}", f"territory {esc(territory_ids)}"]
    if segment:
        sub.append(f"segment {esc(segment)}")
    if not isna(rep.get("home_city")) and rep.get("home_city"):
        sub.append(f"home {esc(rep.get('home_city'))}")
    sections: list[str | MapRow] = [
        f"<h1>{esc(name)} — your territory</h1>",
        f'<p class="te-sub">{" · ".join(sub)} · plan {esc(plan_name)}</p>',
        _quota_section(rows),
        MapRow([m]),
        "<h2>Where you stand</h2>",
        _standing_section(standing, segment, rows.travel_unit),
        f"<h2>Your accounts ({len(rows.accounts):,})</h2>",
        '<p class="te-note">Click a column header to sort. “New to you” marks accounts '
        "another rep held last year.</p>",
        _accounts_table(rows.accounts, measures),
        "<footer>territory_engine rep view · this page shows only your own territory · "
        "works offline</footer>",
    ]
    return compose_page(f"{name} — {plan_name}", sections)


def _quota_section(rows: RepRows) -> str:
    if rows.quotas.empty or "quota" not in rows.quotas:
        return '<h2>Your quota</h2><p class="te-note">This plan sets no quota for you.</p>'
    total = float(rows.quotas["quota"].sum())
    parts = [
        "<h2>Your quota</h2>",
        f'<div class="te-cards"><div class="te-card"><div class="te-k">annual quota</div>'
        f'<div class="te-v" id="te-quota">{fmt_money(total)}</div></div>',
    ]
    first = rows.quotas.iloc[0]
    for column, text, fmt in (
        ("territory_potential", "territory potential", fmt_money),
        ("territory_last_year_revenue", "last year's revenue of your accounts", fmt_money),
        ("quota_to_potential", "quota ÷ potential", lambda v: fmt_number(v, 3)),
    ):
        if column in rows.quotas and len(rows.quotas) == 1 and not isna(first[column]):
            parts.append(
                f'<div class="te-card"><div class="te-k">{esc(text)}</div>'
                f'<div class="te-v">{fmt(first[column])}</div></div>'
            )
    parts.append("</div>")
    if "explanation" in rows.quotas:
        for _, row in rows.quotas.iterrows():
            if not isna(row["explanation"]) and str(row["explanation"]).strip():
                parts.append(
                    f'<p class="te-explain"><b>Why this number:</b> {esc(row["explanation"])}</p>'
                )
    if (
        rows.splits is not None
        and not rows.splits.empty
        and {"period", "quota"} <= set(rows.splits.columns)
    ):
        by_period = rows.splits.groupby("period", sort=False)["quota"].sum()
        table_rows = [[Cell.text(p), Cell.number(q, fmt_money)] for p, q in by_period.items()]
        table_rows.append(
            [Cell("<b>year</b>"), Cell(f"<b>{fmt_money(by_period.sum())}</b>", None, True)]
        )
        parts += [
            "<h3>Split by period</h3>",
            '<div style="max-width:360px">'
            + table_html([("period", False), ("quota", True)], table_rows, table_id="splits")
            + "</div>",
        ]
    return "".join(parts)


def _standing_section(standing: pd.DataFrame, segment: str, unit: str = "km") -> str:
    if standing.empty:
        return '<p class="te-note">No team figures for this plan.</p>'
    size = int(standing["team_size"].iloc[0])
    team = f"the {size} {segment} reps" if segment else f"the {size} reps"
    rows = []
    for _, row in standing.iterrows():
        figure = str(row["figure"])
        fmt = (
            fmt_money
            if figure == "quota"
            else (lambda v: fmt_number(v, 3))
            if figure == "quota_to_potential"
            else (lambda v: fmt_number(v, 1))
            if figure.endswith("_km")
            else fmt_number
        )
        rows.append(
            [
                Cell.text(_figure_label(figure, unit)),
                Cell(f"<b>{fmt(row['rep'])}</b>", row["rep"], True),
                Cell.number(row["median"], fmt),
                Cell(f"{fmt(row['min'])} to {fmt(row['max'])}", None, True),
            ]
        )
    return (
        f'<p class="te-note">You against {esc(team)} of this plan, you included: only the '
        "team's median and range are shown.</p>"
        + '<div style="max-width:760px">'
        + table_html(
            [("figure", False), ("you", True), ("team median", True), ("team range", True)],
            rows,
            table_id="standing",
        )
        + "</div>"
    )


def _accounts_table(accounts: pd.DataFrame, measures: Sequence[str]) -> str:
    numeric = [
        c
        for c in dict.fromkeys(["potential", *measures, "last_year_revenue"])
        if c in accounts.columns
    ]
    columns: list[tuple[str, bool]] = [("account", False), ("name", False)]
    if "industry" in accounts:
        columns.append(("industry", False))
    columns += [(label(c), True) for c in numeric] + [("new to you", False)]
    rows = []
    order = accounts.sort_values(
        ["potential", "account_id"] if "potential" in accounts else ["account_id"],
        ascending=[False, True] if "potential" in accounts else [True],
        kind="stable",
    )
    for _, row in order.iterrows():
        cells = [Cell.text(row["account_id"]), Cell.text(row.get("name"))]
        if "industry" in accounts:
            cells.append(Cell.text(row.get("industry")))
        for c in numeric:
            cells.append(Cell.number(row[c], fmt_money if c == "last_year_revenue" else fmt_number))
        moved = bool(row.get("moved")) if not isna(row.get("moved")) else False
        cells.append(Cell("yes" if moved else "", 1 if moved else 0))
        rows.append(cells)
    return table_html(columns, rows, sortable=True, scroll=True, table_id="accounts")
