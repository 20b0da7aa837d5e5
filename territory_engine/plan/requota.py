"""Re-allocate the quotas of an existing plan without re-solving it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.config import Scenario, load_scenario, scenario_hash
from territory_engine.errors import InputError
from territory_engine.io.jsonio import to_json
from territory_engine.io.load import Tables, load_tables
from territory_engine.io.safe_cells import write_csv
from territory_engine.metrics import Scorecard, quota_section
from territory_engine.plan.assignment import read_plan_assignment
from territory_engine.plan.files import HIERARCHY_GEOJSON, WORKBOOK
from territory_engine.plan.rewrite import (
    report_writer,
    rewrite_folder,
    text_writer,
    workbook_writer,
)
from territory_engine.plan.score import (
    LAYER_SECTIONS,
    ScoreResult,
    scenario_quota,
    score_folder,
)
from territory_engine.quota import QuotaResult
from territory_engine.quota.inputs import plan_quotas


def reallocate_quotas(plan_dir: Path, scenario_file: Path) -> ScoreResult:
    """Re-allocate the quotas of an existing plan with ``scenario_file``'s quota section.

    Rewrites ``quotas.csv``, ``quota_splits.csv``, ``plan.xlsx`` (when the folder
    has one), ``report.html`` and the ``quota`` part of ``scorecard.json`` (the whole
    scorecard when the folder has none), and
    records the quota scenario in ``plan.json``; every other file is copied
    unchanged. Atomic: on any error the folder is untouched.
    """
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise InputError("plan folder not found", file=str(plan_dir))
    scenario = load_scenario(scenario_file)
    tables = load_tables(scenario)
    plan = read_plan_assignment(plan_dir, scenario, tables)
    quotas = plan_quotas(
        scenario,
        tables,
        plan.account_territory,
        plan.territory_ids,
        plan.territory_rep,
        plan.centres,
    )
    card_path = plan_dir / "scorecard.json"
    card = None
    if card_path.is_file():
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            card = None
    if isinstance(card, dict):
        k = len(plan.territory_ids)
        potential = np.bincount(
            plan.account_territory,
            weights=tables.accounts["potential"].to_numpy(float),
            minlength=k,
        )
        # The card on disk may come from another version or a hand edit: only its
        # quota section is replaced (in place in the key order), the rest is kept as is.
        card = {
            **card,
            "quota": quota_section(
                quotas.quotas["quota"].to_numpy(float),
                potential,
                plan.territory_ids,
                quotas.attainment,
                allocation=quotas.summary,
                source="scenario",
            ),
        }
    else:
        # No scorecard yet: score everything but the quotas from quotas.csv.
        card = _score_with(plan_dir, scenario, tables, quotas)
    table, card, geometry = _kept_hierarchy(plan_dir, scenario, quotas, card)
    text = to_json(card)
    replace: dict[str, Callable[[Path], None]] = {
        "quotas.csv": lambda p: write_csv(table, p),
        "quota_splits.csv": lambda p: write_csv(quotas.splits, p),
        "scorecard.json": text_writer(text),
    }
    if geometry is not None:
        replace[HIERARCHY_GEOJSON] = lambda p: geometry.to_file(p, driver="GeoJSON")
    workbook = workbook_writer(plan_dir, table)
    if workbook is not None:
        replace[WORKBOOK] = workbook
    report = report_writer(plan_dir, card, table, scenario)
    if report is not None:
        replace["report.html"] = report
    manifest_path = plan_dir / "plan.json"
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"is not valid JSON ({exc})", file=str(manifest_path)) from None
        manifest["quota"] = {
            "scenario_file": str(Path(scenario_file).resolve()),
            "scenario_hash": scenario_hash(scenario),
            "config": scenario.quota.model_dump(mode="json"),
        }
        files = manifest.get("files")
        if isinstance(files, list) and "quota_splits.csv" not in files:
            files.append("quota_splits.csv")
        manifest_text = json.dumps(manifest, indent=2)
        replace["plan.json"] = text_writer(manifest_text)
    rewrite_folder(plan_dir, replace)
    quotas = dataclasses.replace(quotas, quotas=table)
    return ScoreResult(card, plan, quotas, "scenario")


def _kept_hierarchy(
    plan_dir: Path, scenario: Scenario, quotas: QuotaResult, card: dict
) -> tuple[pd.DataFrame, dict, gpd.GeoDataFrame | None]:
    """The new quotas under the folder's kept ``hierarchy.csv`` (unchanged without one).

    ``quotas.csv`` keeps its region and district from the drawn groups (unless the
    quota scenario's ``quota.regions`` sets them), and each group's quota total is
    recomputed in the scorecard's ``hierarchy`` section and ``hierarchy.geojson``
    (:func:`~territory_engine.org.hierarchy.plan.requota_hierarchy`). The groups'
    balance stays as scored: re-allocating quotas moves no account.
    """
    from territory_engine.org.hierarchy.plan import requota_hierarchy

    section = card.get("hierarchy") if isinstance(card.get("hierarchy"), dict) else None
    kept = requota_hierarchy(
        plan_dir, quotas.quotas, section, fill_pools=not scenario.quota.regions
    )
    if kept is None:
        return quotas.quotas, card, None
    table, section, geometry = kept
    if section is not None:
        card = {**card, "hierarchy": section}
    return table, card, geometry


def _score_with(plan_dir: Path, scenario: Scenario, tables: Tables, quotas: QuotaResult) -> dict:
    """The scorecard of ``plan_dir`` with the quotas of ``quotas`` (not the folder's)."""
    result = score_folder(plan_dir, scenario, tables)
    # The organisation layers' sections are not the scorecard's own: set aside and kept.
    layers = {k: v for k, v in result.card.items() if k in LAYER_SECTIONS}
    card = Scorecard.from_dict({k: v for k, v in result.card.items() if k not in layers})
    quota_part = scenario_quota(card, quotas, result.assignment.territory_ids)
    return {**dataclasses.replace(card, quota=quota_part).to_dict(), **layers}


__all__ = ["reallocate_quotas"]
