"""The year's KPIs of a plan folder from a table of actuals: gather, then call the metrics.

:func:`compute_kpis` reads the plan folder with the one plan reader, the actuals with
:func:`~territory_engine.io.actuals.read_actuals`, and hands plain arrays to the pure
functions of :mod:`territory_engine.org.kpis.metrics`. Nothing is written here
(:func:`~territory_engine.org.kpis.write.write_kpis` does that).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_engine.errors import InputError
from territory_engine.io.actuals import Actuals, read_actuals
from territory_engine.org.kpis import metrics
from territory_engine.plan.reader import PlanFolder, read_plan_folder, read_plan_table

__all__ = ["HEALTHY_BAND", "KpiResult", "compute_kpis"]

#: Healthy share of reps at or above quota (issue 17: "a healthy plan puts 60–70 % there").
HEALTHY_BAND = (0.60, 0.70)

#: Columns of ``kpis.csv``, in order.
TABLE_COLUMNS = [
    "territory_id",
    "rep_id",
    "rep_name",
    "segment",
    "district",
    "region",
    "quota",
    "ytd_quota",
    "ytd_actual",
    "attainment_pct",
    "prorated_attainment_pct",
    "at_quota_ytd",
    "on_pace",
    "ramp_factor",
    "actual_fair_share",
    "drift_pct",
    "band_low_pct",
    "band_high_pct",
    "drifting",
]

_DRIFT_COLUMNS = [
    "territory_id",
    "rep_id",
    "segment",
    "ytd_actual",
    "actual_fair_share",
    "drift_pct",
    "band_low_pct",
    "band_high_pct",
]
_HIERARCHY_FILE = "hierarchy.csv"
_FORECAST_FILE = "forecasts.csv"
_FORECAST_COLUMNS = ["level", "id", "month", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
_COMPANY_LEVELS = ("company", "total", "all")


@dataclass(frozen=True)
class KpiResult:
    """The KPIs of one plan at one month.

    Attributes
    ----------
    plan_dir
        The plan folder.
    plan_name
        The scenario's name.
    as_of
        The last month counted (``YYYY-MM``).
    months
        The plan year's months up to ``as_of``.
    table
        Per territory: :data:`TABLE_COLUMNS` (``kpis.csv``).
    summary
        The headline numbers (the ``summary`` of ``kpis.json``).
    by_segment, by_district, by_region
        :func:`~territory_engine.org.kpis.metrics.group_distribution` per group;
        ``by_district``/``by_region`` empty when the plan has no such grouping.
    forecast
        :func:`~territory_engine.org.kpis.metrics.forecast_accuracy`, or ``None``
        when the plan folder has no ``forecasts.csv``.
    notes
        Sentences on what was assumed (the quota split used, rows left out...).
    """

    plan_dir: Path
    plan_name: str
    as_of: str
    months: list[str]
    table: pd.DataFrame
    summary: dict[str, Any]
    by_segment: pd.DataFrame
    by_district: pd.DataFrame
    by_region: pd.DataFrame
    forecast: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)

    @property
    def drifting(self) -> pd.DataFrame:
        """The territories outside their band, largest drift first."""
        rows = self.table[self.table["drifting"]]
        return rows.reindex(rows["drift_pct"].abs().sort_values(ascending=False).index)

    def to_json(self) -> dict[str, Any]:
        """``kpis.json``: summary, groups, forecast accuracy, drift and notes (no NaN)."""
        return _clean(
            {
                "plan": self.plan_name,
                "plan_dir": str(self.plan_dir),
                "as_of": self.as_of,
                "months": self.months,
                "summary": self.summary,
                "by_segment": self.by_segment.to_dict("records"),
                "by_district": self.by_district.to_dict("records"),
                "by_region": self.by_region.to_dict("records"),
                "forecast_accuracy": None
                if self.forecast is None
                else self.forecast.to_dict("records"),
                "drifting": self.drifting[_DRIFT_COLUMNS].to_dict("records"),
                "notes": self.notes,
            }
        )


def compute_kpis(
    plan_dir: str | os.PathLike[str],
    actuals: str | os.PathLike[str],
    as_of: str | None = None,
    *,
    healthy: tuple[float, float] | None = None,
) -> KpiResult:
    """The year's KPIs of a plan from monthly actual revenue.

    Parameters
    ----------
    plan_dir
        A plan folder (``territory-engine run``); ``hierarchy.csv`` and
        ``forecasts.csv`` are used when present.
    actuals
        Monthly actuals per account or per territory (see
        :func:`~territory_engine.io.actuals.read_actuals`).
    as_of
        ``YYYY-MM``, the last month counted; default the last month of the actuals.
        Later rows are left out (and counted in the notes).
    healthy
        The healthy band of the share of reps at or above quota (fractions);
        default the plan's own (``quota.attainment.healthy_low/high`` of its
        scenario, in its scorecard), else :data:`HEALTHY_BAND`.

    Returns
    -------
    KpiResult

    Raises
    ------
    InputError
        A bad plan folder or actuals file, or an ``as_of`` outside the plan year.
    """
    folder = read_plan_folder(Path(plan_dir))
    notes: list[str] = []
    quotas = folder.quotas.copy()
    quotas["territory_id"] = quotas["territory_id"].astype(str)
    quotas["rep_id"] = quotas["rep_id"].fillna("").astype(str)
    territory_ids = quotas["territory_id"].tolist()

    plan_start = _plan_start(folder)
    months = metrics.plan_months(plan_start) if plan_start else None
    data = read_actuals(actuals, territory_of=_id_maps(folder, quotas), plan_months=months)
    if months is None:
        months = _year_from_actuals(data)
        notes.append(
            f"the plan does not say when its year starts; taken as {months[0]}, "
            "the first month of the actuals"
        )
    as_of = _as_of(as_of, data, months)
    elapsed = months.index(as_of) + 1
    later = int((~data.rows["month"].isin(months[:elapsed])).sum())
    if later:
        notes.append(f"{later:,} rows after {as_of} left out")

    actual = _monthly_actuals(data, territory_ids, months)
    annual = quotas["quota"].to_numpy(dtype=float)
    monthly_q, split_source = metrics.monthly_quota(territory_ids, annual, folder.quota_splits)
    notes.append(f"YTD quota from the plan's split by {split_source}")
    table = metrics.attainment_table(territory_ids, annual, monthly_q, actual, elapsed)
    table.insert(1, "rep_id", quotas["rep_id"].to_numpy())
    _add_attributes(table, folder, quotas, notes)
    table = pd.concat([table, _drift(folder, table, notes)], axis=1)
    table = table[TABLE_COLUMNS]

    by_segment = metrics.group_distribution(table, "segment")
    has = {c: bool((table[c] != "").any()) for c in ("district", "region")}
    by_district = metrics.group_distribution(table, "district") if has["district"] else _empty()
    by_region = metrics.group_distribution(table, "region") if has["region"] else _empty()
    forecast = _forecast_accuracy(folder, table, data, territory_ids, actual, months[:elapsed])
    if healthy is None:
        healthy = _plan_healthy_band(folder)
    summary = _summary(table, data, months, elapsed, healthy, forecast is not None)
    return KpiResult(
        plan_dir=folder.path,
        plan_name=folder.name,
        as_of=as_of,
        months=months[:elapsed],
        table=table,
        summary=summary,
        by_segment=by_segment,
        by_district=by_district,
        by_region=by_region,
        forecast=forecast,
        notes=notes,
    )


def _plan_start(folder: PlanFolder) -> date | None:
    """The first day of the plan year: ``quota.plan_start``, else the split's first period."""
    quota = (folder.manifest.get("scenario") or {}).get("quota") or {}
    candidates = [quota.get("plan_start")]
    splits = folder.quota_splits
    if splits is not None and "period_start" in splits.columns:
        starts = sorted(str(s) for s in splits["period_start"] if str(s).strip())
        candidates.append(starts[0] if starts else None)
    for value in candidates:
        try:
            return date.fromisoformat(str(value)[:10]) if value else None
        except ValueError:
            continue
    return None


def _id_maps(folder: PlanFolder, quotas: pd.DataFrame) -> dict[str, dict[str, str]]:
    accounts = folder.assignments
    reps = quotas[quotas["rep_id"] != ""]
    return {
        "account_id": dict(
            zip(
                accounts["account_id"].astype(str),
                accounts["territory_id"].astype(str),
                strict=True,
            )
        ),
        "territory_id": {t: t for t in quotas["territory_id"]},
        "rep_id": dict(zip(reps["rep_id"], reps["territory_id"], strict=True)),
    }


def _year_from_actuals(data: Actuals) -> list[str]:
    first = data.months[0]
    months = metrics.plan_months(date(int(first[:4]), int(first[5:7]), 1))
    outside = [m for m in data.months if m not in months]
    if outside:
        raise InputError(
            f"month {outside[0]} lies more than a year after the first month {first}, and the "
            "plan does not say when its year starts (quota.plan_start): give one year of actuals",
            file=str(data.path),
            column="month",
        )
    return months


def _as_of(as_of: str | None, data: Actuals, months: list[str]) -> str:
    if as_of is None:
        return data.months[-1]
    text = str(as_of).strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise InputError(f"--as-of {as_of!r} is not a month; write it as YYYY-MM")
    if text not in months:
        raise InputError(f"--as-of {text} is outside the plan year ({months[0]} to {months[-1]})")
    return text


def _monthly_actuals(data: Actuals, territory_ids: list[str], months: list[str]) -> np.ndarray:
    """(n, 12) actual revenue per territory and plan month."""
    rows = data.rows
    grid = (
        rows.groupby(["territory_id", "month"])["revenue"]
        .sum()
        .unstack("month")
        .reindex(index=territory_ids, columns=months)
    )
    return grid.fillna(0.0).to_numpy(dtype=float)


def _add_attributes(
    table: pd.DataFrame, folder: PlanFolder, quotas: pd.DataFrame, notes: list[str]
) -> None:
    """Rep name, segment, district and region of each territory (and the ramp factor)."""
    territories = folder.territories.set_index(folder.territories["territory_id"].astype(str))
    ids = table["territory_id"]
    table["rep_name"] = ids.map(territories.get("rep_name", pd.Series(dtype=object))).fillna("")
    table["segment"] = ids.map(territories.get("segment", pd.Series(dtype=object))).fillna("")
    table["ramp_factor"] = (
        quotas["ramp_factor"].to_numpy(dtype=float) if "ramp_factor" in quotas else 1.0
    )
    hierarchy = _hierarchy(folder)
    drawn = _drawn_levels(hierarchy)
    for level in ("district", "region"):
        if level in drawn:
            table[level] = ids.map(hierarchy[drawn[level]]).fillna("")  # type: ignore[index]
        elif level in quotas.columns:
            table[level] = quotas[level].fillna("").astype(str).to_numpy()
        else:
            table[level] = ""
    source = (
        f"the plan's {_HIERARCHY_FILE}"
        if hierarchy is not None
        else "the quota regions and districts of quotas.csv"
    )
    if (table["district"] != "").any() or (table["region"] != "").any():
        notes.append(f"districts and regions from {source}")


def _drawn_levels(hierarchy: pd.DataFrame | None) -> dict[str, str]:
    """Which ``hierarchy.csv`` column is the district and which the region.

    The file has one column per level, lowest first (``territory_id, rep_id,
    <level 1>, <level 2>, ..., manager``); levels named ``district`` and ``region``
    are taken by name, otherwise the lowest level is the district and the highest
    the region.
    """
    if hierarchy is None:
        return {}
    levels = [c for c in hierarchy.columns if c not in ("rep_id", "manager")]
    if not levels:
        return {}
    out = {name: name for name in ("district", "region") if name in levels}
    out.setdefault("district", levels[0])
    if len(levels) > 1:
        out.setdefault("region", levels[-1])
    return out


def _hierarchy(folder: PlanFolder) -> pd.DataFrame | None:
    """``hierarchy.csv`` indexed by territory, every level as text; ``None`` when absent."""
    if not (folder.path / _HIERARCHY_FILE).is_file():
        return None
    frame = read_plan_table(folder.path, _HIERARCHY_FILE, ["territory_id"])
    return frame.set_index("territory_id")


def _drift(folder: PlanFolder, table: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """:func:`metrics.balance_drift` on the plan's potential band."""
    territories = folder.territories.set_index(folder.territories["territory_id"].astype(str))
    needed = ["potential_fair_share", "potential_low", "potential_high"]
    if not all(c in territories.columns for c in needed):
        notes.append("no potential band in territories.csv: balance drift not measured")
        nan = np.full(len(table), np.nan)
        return pd.DataFrame(
            {
                "actual_fair_share": nan,
                "drift_pct": nan,
                "band_low_pct": nan,
                "band_high_pct": nan,
                "drifting": np.zeros(len(table), dtype=bool),
            }
        )
    band = territories.reindex(table["territory_id"])
    fair = band["potential_fair_share"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.round(100.0 * (band["potential_low"].to_numpy(dtype=float) / fair - 1.0), 6)
        high = np.round(100.0 * (band["potential_high"].to_numpy(dtype=float) / fair - 1.0), 6)
    return metrics.balance_drift(
        table["segment"].tolist(),
        table["ytd_quota"].to_numpy(dtype=float),
        table["ytd_actual"].to_numpy(dtype=float),
        low,
        high,
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["group"])


def _forecast_accuracy(
    folder: PlanFolder,
    table: pd.DataFrame,
    data: Actuals,
    territory_ids: list[str],
    actual: np.ndarray,
    months: list[str],
) -> pd.DataFrame | None:
    """Accuracy of the plan's ``forecasts.csv`` on the months with actuals, per level."""
    if not (folder.path / _FORECAST_FILE).is_file():
        return None
    raw = read_plan_table(folder.path, _FORECAST_FILE, _FORECAST_COLUMNS[:4])
    file = folder.path / _FORECAST_FILE
    forecasts = raw[[c for c in _FORECAST_COLUMNS if c in raw.columns]].copy()
    for column in _FORECAST_COLUMNS[3:]:
        if column in forecasts.columns:
            values = pd.to_numeric(forecasts[column], errors="coerce")
            bad = values.isna() & (forecasts[column] != "")
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    f"{forecasts[column].iloc[row]!r} is not a number",
                    file=str(file),
                    row=row + 2,
                    column=column,
                )
            forecasts[column] = values
    forecasts["level"] = forecasts["level"].str.strip().str.lower()
    observed = set(data.months) & set(months)
    window = [m for m in months if m in observed]
    series = _actual_series(table, territory_ids, actual, months, window, forecasts)
    return metrics.forecast_accuracy(forecasts, series)


def _actual_series(
    table: pd.DataFrame,
    territory_ids: list[str],
    actual: np.ndarray,
    months: list[str],
    window: list[str],
    forecasts: pd.DataFrame,
) -> pd.DataFrame:
    """``level, id, month, actual`` at every level the forecasts use, on ``window``."""
    cols = [months.index(m) for m in window]
    grid = pd.DataFrame(actual[:, cols], index=territory_ids, columns=window)
    frames = []

    def add(level: str, keys: pd.Series) -> None:
        summed = grid.groupby(keys.to_numpy()).sum()
        long = summed.stack().rename("actual").reset_index()
        long.columns = ["id", "month", "actual"]
        long.insert(0, "level", level)
        frames.append(long)

    tids = pd.Series(territory_ids, index=territory_ids)
    for level in pd.unique(forecasts["level"]):
        if level == "territory":
            add(level, tids)
        elif level in ("rep", "district", "region", "segment"):
            column = "rep_id" if level == "rep" else level
            keys = pd.Series(table[column].to_numpy(), index=territory_ids)
            add(level, keys)
        elif level in _COMPANY_LEVELS:
            ids = forecasts.loc[forecasts["level"] == level, "id"]
            company = str(ids.iloc[0]) if len(ids) else "company"
            add(level, pd.Series(company, index=territory_ids))
    if not frames:
        return pd.DataFrame(columns=["level", "id", "month", "actual"])
    out = pd.concat(frames, ignore_index=True)
    return out[out["id"].astype(str) != ""]


def _plan_healthy_band(folder: PlanFolder) -> tuple[float, float]:
    """The healthy band the plan was made with (its scorecard's attainment), else the default."""
    band = ((folder.scorecard.get("quota") or {}).get("attainment") or {}).get("healthy_band")
    return (float(band[0]), float(band[1])) if band else HEALTHY_BAND


def _summary(
    table: pd.DataFrame,
    data: Actuals,
    months: list[str],
    elapsed: int,
    healthy: tuple[float, float],
    has_forecast: bool,
) -> dict[str, Any]:
    has_rep = (table["rep_id"] != "").to_numpy()
    ytd_rate, ytd_hit, _ = metrics.achievement_rate(table["attainment_pct"][has_rep])
    pace_rate, pace_hit, pace_n = metrics.achievement_rate(
        table["prorated_attainment_pct"][has_rep]
    )
    low, high = healthy
    if math.isnan(pace_rate):
        verdict = "no rep has a quota due yet"
    elif pace_rate < low:
        verdict = "below the healthy band"
    elif pace_rate > high:
        verdict = "above the healthy band"
    else:
        verdict = "in the healthy band"
    quota, ytd_quota, ytd_actual = (
        float(table[c].sum()) for c in ("quota", "ytd_quota", "ytd_actual")
    )
    return {
        "actuals_file": str(data.path),
        "actuals_by": data.by,
        "months_elapsed": elapsed,
        "plan_year": [months[0], months[-1]],
        "reps": int(has_rep.sum()),
        "territories": len(table),
        "quota": quota,
        "ytd_quota": ytd_quota,
        "ytd_actual": ytd_actual,
        "attainment_pct": 100.0 * ytd_actual / quota if quota > 0 else None,
        "prorated_attainment_pct": 100.0 * ytd_actual / ytd_quota if ytd_quota > 0 else None,
        "share_at_quota_ytd": ytd_rate,
        "reps_at_quota_ytd": ytd_hit,
        "share_on_pace": pace_rate,
        "reps_on_pace": pace_hit,
        "reps_counted_prorated": pace_n,
        "reps_with_no_quota_due": int(has_rep.sum()) - pace_n,
        "healthy_band": [low, high],
        "healthy_verdict": verdict,
        "drifting_territories": int(table["drifting"].sum()),
        "drift_measure": (
            "each territory's YTD actual revenue against its fair share of its segment's "
            "YTD actual (its share of the segment's YTD quota), within the plan's "
            "potential band (potential_low/high around potential_fair_share)"
        ),
        "has_forecasts": has_forecast,
    }


def _clean(value: Any) -> Any:
    """JSON-ready: NaN and infinities as ``None``, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value
