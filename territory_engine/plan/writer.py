"""The one writer of a plan folder: every file of :data:`~territory_engine.plan.files.PLAN_FILES`.

:func:`write_plan_folder` fills a temporary folder and swaps it in
(:func:`~territory_engine.plan.atomic.write_folder_atomically`), so a plan folder is
always complete: the old one or the new one, never half of either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from territory_engine.io.jsonio import to_json
from territory_engine.io.safe_cells import write_csv
from territory_engine.metrics.card import travel_unit
from territory_engine.plan.atomic import write_folder_atomically
from territory_engine.plan.files import HIERARCHY, HIERARCHY_GEOJSON, MANIFEST, WORKBOOK
from territory_engine.plan.model import Plan
from territory_engine.plan.workbook import plan_sheets, write_plan_workbook

__all__ = ["account_attributes", "rep_attributes", "write_plan_files", "write_plan_folder"]


def write_plan_folder(
    target: Path,
    plan: Plan,
    card: dict,
    *,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    measures: list[str],
    title: str,
    tiles: str | None,
    on_written: Callable[[float], None] | None = None,
    extra_tables: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write ``plan`` and its scorecard as a complete plan folder at ``target``.

    Parameters
    ----------
    target
        The plan folder to create or replace.
    plan
        The plan; its ``provenance`` becomes ``plan.json``.
    card
        The scorecard (``scorecard.json``, and the report's numbers).
    accounts, reps
        The validated input tables (point geometry in EPSG:4326): the views need
        their attributes (``accounts.csv``, ``reps.csv``).
    measures
        The scenario's balance measures, in order.
    title
        The plan's name on the map and in the report.
    tiles
        Map background (``None`` for none).
    on_written
        Called with the seconds the files took before ``plan.json`` is written, so
        the manifest can record its own write time.
    extra_tables
        File name -> table written beside the plan files (through the same
        formula-safe CSV writer), e.g. ``quota_changes.csv`` of a mid-year change.

    Returns
    -------
    pathlib.Path
        ``target``, resolved.
    """
    start = time.perf_counter()

    def write(folder: Path) -> None:
        write_plan_files(folder, plan, card, accounts, reps, measures, title, tiles)
        for name, table in (extra_tables or {}).items():
            write_csv(table, folder / name)
        if on_written is not None:
            on_written(time.perf_counter() - start)
        (folder / MANIFEST).write_text(to_json(plan.provenance), encoding="utf-8")

    return write_folder_atomically(target, write)


def write_plan_files(
    folder: Path,
    plan: Plan,
    card: dict,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    measures: list[str],
    title: str,
    tiles: str | None,
) -> None:
    """Write every plan file but ``plan.json`` into ``folder`` (which exists)."""
    from territory_engine.render.plan_map import render_plan_map, save_map
    from territory_engine.render.report import render_report

    # Every CSV goes through write_csv: text cells that start like a formula are
    # neutralised (territory_engine.io.safe_cells), numbers are written as they are.
    write_csv(plan.assignments, folder / "assignments.csv")
    # Full precision: every total must be recomputable from assignments.csv.
    write_csv(plan.territories, folder / "territories.csv")
    write_csv(plan.quotas, folder / "quotas.csv")
    write_csv(plan.quota_splits, folder / "quota_splits.csv")
    write_csv(plan.units, folder / "units.csv")
    plan.geometry.to_file(folder / "territories.geojson", driver="GeoJSON")
    # Only a plan with a drawn hierarchy has these two files; others stay as they were.
    if plan.hierarchy is not None:
        write_csv(plan.hierarchy, folder / HIERARCHY)
    if plan.hierarchy_geometry is not None:
        plan.hierarchy_geometry.to_file(folder / HIERARCHY_GEOJSON, driver="GeoJSON")
    (folder / "scorecard.json").write_text(to_json(card), encoding="utf-8")
    # The views (compare, rep pages) work from the plan folder alone, so it keeps the
    # account and rep attributes they show.
    account_info = account_attributes(accounts, measures)
    rep_info = rep_attributes(reps, plan.territories)
    write_csv(account_info, folder / "accounts.csv")
    write_csv(rep_info, folder / "reps.csv")
    sheets = plan_sheets(plan.territories, plan.quotas, plan.assignments, account_info, rep_info)
    write_plan_workbook(folder / WORKBOOK, sheets)
    acc = account_info.merge(
        plan.assignments[["account_id", "territory_id", "rep_id", "moved", "kept_for_relationship"]]
    )
    m = render_plan_map(
        plan.geometry,
        acc,
        rep_info,
        measures=measures,
        title=title,
        tiles=tiles,
        travel_unit=travel_unit(card),
        hierarchy=plan.hierarchy_geometry,
    )
    save_map(m, folder / "map.html")
    report = render_report(card, plan.territories, plan.quotas, measures=measures, title=title)
    (folder / "report.html").write_text(report, encoding="utf-8")


def account_attributes(accounts: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """The account attributes the plan's views show (``accounts.csv`` of a plan folder).

    Parameters
    ----------
    accounts
        The validated accounts (point geometry in EPSG:4326).
    measures
        The scenario's balance measures; each account column among them is kept.

    Returns
    -------
    pandas.DataFrame
        ``account_id, name, segment, industry (when present), lat, lon, potential,
        last_year_revenue (when present)`` and the balance measure columns.
    """
    out = pd.DataFrame(
        {
            "account_id": accounts["account_id"].astype(str).to_numpy(),
            "name": accounts["name"].astype(str).to_numpy(),
            "segment": accounts["segment"].astype(str).to_numpy(),
        }
    )
    if "industry" in accounts.columns:
        out["industry"] = accounts["industry"].astype(str).to_numpy()
    out["lat"] = accounts.geometry.y.to_numpy()
    out["lon"] = accounts.geometry.x.to_numpy()
    for column in dict.fromkeys(["potential", "last_year_revenue", *measures]):
        if column in accounts.columns and column not in out.columns:
            out[column] = accounts[column].to_numpy(float)
    return out


def rep_attributes(reps: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """The rep attributes the plan's views show (``reps.csv`` of a plan folder).

    Returns
    -------
    pandas.DataFrame
        ``rep_id, name, segment, home_lat, home_lon, home_city (when present),
        capacity_fte (when present), territory_id`` ("" for a rep without one).
    """
    out = pd.DataFrame(
        {
            "rep_id": reps["rep_id"].astype(str).to_numpy(),
            "name": reps["name"].astype(str).to_numpy(),
            "segment": reps["segment"].astype(str).to_numpy(),
            "home_lat": reps.geometry.y.to_numpy(),
            "home_lon": reps.geometry.x.to_numpy(),
        }
    )
    for column in ("home_city", "capacity_fte"):
        if column in reps.columns:
            out[column] = reps[column].to_numpy()
    rep_territory = dict(zip(territories["rep_id"], territories["territory_id"], strict=True))
    out["territory_id"] = out["rep_id"].map(rep_territory).fillna("")
    return out
