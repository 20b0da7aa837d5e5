"""The year's KPIs as pure functions of a plan's quotas and a table of actuals.

Definitions (``A`` actual revenue, ``Q`` the annual quota, ``q_k`` the quota of plan
month ``k``, ``m`` the last month with actuals, the *as-of* month):

- **YTD quota** ``Q_ytd = Σ_{k≤m} q_k``. ``q_k`` comes from the plan's seasonal split
  (``quota_splits.csv``): a month's quota is its period's quota, a quarter's spread
  evenly over its three months; without a split, ``q_k = Q / 12``. A ramping rep's
  split already carries the ramp, so a new hire's YTD quota is their ramped share.
- **Attainment** ``A_ytd / Q`` (against the full-year quota) and **pro-rated
  attainment** ``A_ytd / Q_ytd`` (against the quota due so far).
- **Quota achievement rate**: the share of quota-carrying reps whose attainment is at
  or above 100 %: year to date (``A_ytd ≥ Q``: the year's number already made) and
  pro-rated (``A_ytd ≥ Q_ytd``: on pace). A rep whose YTD quota is still 0 (starting
  later in the year) is left out of the pro-rated rate and counted as such.
- **Forecast accuracy** per level of ``forecasts.csv`` on the months with actuals:
  ``WAPE = Σ|A − F| / Σ|A|``, ``MAPE`` the mean of ``|A − F| / |A|`` over points with
  ``A ≠ 0``, bias ``Σ(F − A) / Σ A``, and the share of points inside the 80 % and
  95 % intervals.
- **Balance drift**: a territory's YTD actual against its fair share of its
  segment's YTD actual, the share the plan gave it (its share of the segment's YTD
  quota, so capacity, ramp and seasonality count as the plan counted them), within
  the plan's potential band (``potential_low``/``potential_high`` over
  ``potential_fair_share``, e.g. ±5 %). Drift is ``actual / fair share − 1``: a
  territory selling well ahead of the rest of its team has grown richer than the
  plan drew it (or its quota is too low), one well behind has lost ground; outside
  the band, it is drifting out of balance. Potential itself is not re-measured: the
  actuals say what was sold, not what could be.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from territory_engine.metrics.accuracy import mape, wape

__all__ = [
    "MONTHS",
    "achievement_rate",
    "attainment_table",
    "balance_drift",
    "forecast_accuracy",
    "group_distribution",
    "monthly_quota",
    "plan_months",
]

MONTHS = 12


def plan_months(plan_start: date) -> list[str]:
    """The twelve ``YYYY-MM`` months of the plan year starting at ``plan_start``."""
    start = pd.Timestamp(plan_start.year, plan_start.month, 1)
    return [(start + pd.DateOffset(months=k)).strftime("%Y-%m") for k in range(MONTHS)]


def monthly_quota(
    territory_ids: Sequence[str],
    annual_quota: np.ndarray,
    splits: pd.DataFrame | None,
) -> tuple[np.ndarray, str]:
    """(n, 12) quota of each territory in each plan month, and where the split came from.

    Parameters
    ----------
    territory_ids
        (n,) territories, in the order of ``annual_quota``.
    annual_quota
        (n,) annual quotas.
    splits
        ``quota_splits.csv`` (``territory_id, period, quota``; periods ``Q1..Q4`` or
        ``M01..M12``), or ``None``.

    Returns
    -------
    numpy.ndarray, str
        The monthly quotas (each row sums to its territory's split total), and
        ``"quarter"``, ``"month"`` or ``"equal months"`` (no split, or a territory
        missing from it).
    """
    quota = np.asarray(annual_quota, dtype=float)
    out = np.repeat(quota[:, None] / MONTHS, MONTHS, axis=1)
    if splits is None or len(splits) == 0:
        return out, "equal months"
    period = splits["period"].astype(str)
    quarterly = period.str.match(r"^Q[1-4]$").all()
    monthly = period.str.match(r"^M(0[1-9]|1[0-2])$").all()
    if not (quarterly or monthly):
        return out, "equal months"
    index = {t: i for i, t in enumerate(territory_ids)}
    covered = np.zeros(len(quota), dtype=bool)
    filled = np.zeros_like(out)
    for territory, p, q in zip(splits["territory_id"], period, splits["quota"], strict=True):
        i = index.get(str(territory))
        if i is None:
            continue
        covered[i] = True
        if quarterly:
            k = 3 * (int(p[1]) - 1)
            filled[i, k : k + 3] += float(q) / 3.0
        else:
            filled[i, int(p[1:]) - 1] += float(q)
    out[covered] = filled[covered]
    source = "quarter" if quarterly else "month"
    return out, source if covered.all() else f"{source} (equal months where missing)"


def attainment_table(
    territory_ids: Sequence[str],
    annual_quota: np.ndarray,
    monthly_quotas: np.ndarray,
    monthly_actuals: np.ndarray,
    months_elapsed: int,
) -> pd.DataFrame:
    """Per territory: quota, YTD quota, YTD actual, attainment and pro-rated attainment.

    Parameters
    ----------
    territory_ids
        (n,) territories.
    annual_quota
        (n,) annual quotas.
    monthly_quotas
        (n, 12) from :func:`monthly_quota`.
    monthly_actuals
        (n, 12) actual revenue per plan month.
    months_elapsed
        Months of the plan year up to and including the as-of month (1..12).

    Returns
    -------
    pandas.DataFrame
        ``territory_id, quota, ytd_quota, ytd_actual, attainment_pct,
        prorated_attainment_pct, at_quota_ytd, on_pace``; percentages in percent
        units, NaN where the quota (or YTD quota) is 0; the flags are ``False``
        there.
    """
    quota = np.asarray(annual_quota, dtype=float)
    ytd_quota = np.asarray(monthly_quotas, dtype=float)[:, :months_elapsed].sum(axis=1)
    ytd_actual = np.asarray(monthly_actuals, dtype=float)[:, :months_elapsed].sum(axis=1)
    attainment = _ratio(ytd_actual, quota)
    prorated = _ratio(ytd_actual, ytd_quota)
    return pd.DataFrame(
        {
            "territory_id": list(territory_ids),
            "quota": quota,
            "ytd_quota": ytd_quota,
            "ytd_actual": ytd_actual,
            "attainment_pct": 100.0 * attainment,
            "prorated_attainment_pct": 100.0 * prorated,
            # A small tolerance: a rep exactly at quota, in cents, is at quota.
            "at_quota_ytd": np.nan_to_num(attainment, nan=-1.0) >= 1.0 - 1e-9,
            "on_pace": np.nan_to_num(prorated, nan=-1.0) >= 1.0 - 1e-9,
        }
    )


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def achievement_rate(attainment_pct: np.ndarray) -> tuple[float, int, int]:
    """Share of the finite attainments at or above 100 %, and the counts.

    Returns
    -------
    float, int, int
        The share (NaN when nothing counts), how many are at or above 100 %, and
        how many count (the finite values).
    """
    a = np.asarray(attainment_pct, dtype=float)
    counted = np.isfinite(a)
    n = int(counted.sum())
    hit = int((a[counted] >= 100.0 - 1e-7).sum())
    return (hit / n if n else float("nan")), hit, n


def group_distribution(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Attainment by group (segment, district, region): rates and the spread.

    Parameters
    ----------
    table
        :func:`attainment_table` with a column ``by``.
    by
        The grouping column; empty values form the group ``""``.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by name: ``group, reps, quota, ytd_quota,
        ytd_actual, attainment_pct`` (the group's YTD actual over its quota),
        ``prorated_attainment_pct`` (over its YTD quota), ``share_at_quota_ytd``,
        ``share_on_pace`` (fractions of the group's reps with a finite
        attainment), and the pro-rated attainment's ``min_pct, p25_pct,
        median_pct, p75_pct, max_pct``.
    """
    rows = []
    for group, part in table.groupby(table[by].fillna("").astype(str), sort=True):
        prorated = part["prorated_attainment_pct"].to_numpy(dtype=float)
        finite = prorated[np.isfinite(prorated)]
        q = np.percentile(finite, [0, 25, 50, 75, 100]) if len(finite) else [np.nan] * 5
        quota, ytd_quota, actual = (
            float(part[c].sum()) for c in ("quota", "ytd_quota", "ytd_actual")
        )
        rows.append(
            {
                "group": group,
                "reps": len(part),
                "quota": quota,
                "ytd_quota": ytd_quota,
                "ytd_actual": actual,
                "attainment_pct": 100.0 * actual / quota if quota > 0 else np.nan,
                "prorated_attainment_pct": 100.0 * actual / ytd_quota if ytd_quota > 0 else np.nan,
                "share_at_quota_ytd": achievement_rate(part["attainment_pct"].to_numpy())[0],
                "share_on_pace": achievement_rate(prorated)[0],
                "min_pct": q[0],
                "p25_pct": q[1],
                "median_pct": q[2],
                "p75_pct": q[3],
                "max_pct": q[4],
            }
        )
    return pd.DataFrame(rows)


def forecast_accuracy(forecasts: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """WAPE, MAPE, bias and interval coverage of forecasts per level.

    Parameters
    ----------
    forecasts
        ``level, id, month, forecast`` and optionally ``lo_80, hi_80, lo_95, hi_95``.
    actuals
        ``level, id, month, actual``: the actual series at every level, on the
        months with actuals only.

    Returns
    -------
    pandas.DataFrame
        One row per level of ``forecasts`` (in order of first appearance): ``level,
        points`` (forecast points with an actual), ``series``, ``wape_pct,
        mape_pct, bias_pct, coverage_80_pct, coverage_95_pct`` (percent units;
        NaN without points or without the interval columns), and ``unmatched``
        (forecast series with months of actuals whose id the actuals lack).
    """
    joined = forecasts.merge(actuals, on=["level", "id", "month"], how="left")
    months = set(actuals["month"])
    rows = []
    for level in pd.unique(forecasts["level"]):
        part = joined[joined["level"] == level]
        in_window = part[part["month"].isin(months)]
        matched = in_window[in_window["actual"].notna()]
        unmatched = sorted(set(in_window.loc[in_window["actual"].isna(), "id"]))
        a = matched["actual"].to_numpy(dtype=float)
        f = matched["forecast"].to_numpy(dtype=float)
        row = {
            "level": str(level),
            "points": len(matched),
            "series": int(matched["id"].nunique()),
            "wape_pct": 100.0 * wape(a, f),
            "mape_pct": 100.0 * mape(a, f),
            "bias_pct": 100.0 * (f.sum() - a.sum()) / a.sum() if a.sum() > 0 else np.nan,
            "unmatched": unmatched,
        }
        for level_pct in (80, 95):
            lo, hi = f"lo_{level_pct}", f"hi_{level_pct}"
            if lo in matched.columns and hi in matched.columns and len(matched):
                inside = (matched[lo].to_numpy(float) <= a) & (a <= matched[hi].to_numpy(float))
                row[f"coverage_{level_pct}_pct"] = 100.0 * float(inside.mean())
            else:
                row[f"coverage_{level_pct}_pct"] = np.nan
        rows.append(row)
    columns = [
        "level",
        "points",
        "series",
        "wape_pct",
        "mape_pct",
        "bias_pct",
        "coverage_80_pct",
        "coverage_95_pct",
        "unmatched",
    ]
    return pd.DataFrame(rows, columns=columns)


def balance_drift(
    segment: Sequence[str],
    weight: np.ndarray,
    ytd_actual: np.ndarray,
    band_low_pct: np.ndarray,
    band_high_pct: np.ndarray,
) -> pd.DataFrame:
    """Each territory's YTD actual against its fair share of its segment's YTD actual.

    Parameters
    ----------
    segment
        (n,) the segment layer of each territory (fair shares are per segment).
    weight
        (n,) what the plan expects each territory to sell so far (its YTD quota):
        a territory's fair share is the segment's YTD actual times its share of
        the segment's weights.
    ytd_actual
        (n,) YTD actual revenue.
    band_low_pct, band_high_pct
        (n,) the plan's band as deviations from the fair share, in percent
        (``potential_low / potential_fair_share − 1``...); NaN for an open side.

    Returns
    -------
    pandas.DataFrame
        ``actual_fair_share``, ``drift_pct`` (actual over its fair share − 1,
        percent), ``band_low_pct, band_high_pct`` and ``drifting`` (outside the
        band), in the order given.
    """
    seg = pd.Series(list(segment), dtype=object).fillna("").astype(str)
    w = np.asarray(weight, dtype=float)
    actual = np.asarray(ytd_actual, dtype=float)
    seg_w = seg.map(pd.Series(w).groupby(seg).sum()).to_numpy(dtype=float)
    seg_actual = seg.map(pd.Series(actual).groupby(seg).sum()).to_numpy(dtype=float)
    fair = np.where(seg_w > 0, seg_actual * w / np.where(seg_w > 0, seg_w, 1), 0.0)
    drift = 100.0 * (_ratio(actual, fair) - 1.0)
    low = np.asarray(band_low_pct, dtype=float)
    high = np.asarray(band_high_pct, dtype=float)
    tol = 1e-9
    drifting = np.isfinite(drift) & (
        (drift < np.nan_to_num(low, nan=-np.inf) - tol)
        | (drift > np.nan_to_num(high, nan=np.inf) + tol)
    )
    return pd.DataFrame(
        {
            "actual_fair_share": fair,
            "drift_pct": drift,
            "band_low_pct": low,
            "band_high_pct": high,
            "drifting": drifting,
        }
    )
