"""Territory forecasts reconciled across the hierarchy, and their backtest.

Model
-----
Each series of the hierarchy (every territory, district, region and the
company; a parent's history is the sum of its children's) gets a base forecast
from ``statsforecast``: ``AutoETS(season_length=12)`` (exponential smoothing,
error/trend/season chosen by AICc) and ``SeasonalNaive(season_length=12)``
(next January = last January) as the baseline. The base forecasts are then
made coherent with ``hierarchicalforecast``: with the summing matrix ``S``
(series × territories), the reconciled forecasts are ``ỹ = S P ŷ``;
``mint_shrink`` (the default) takes ``P = (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹`` with ``W`` the
shrunk covariance of the in-sample errors (Wickramasuriya et al., 2019);
``bottom_up`` sums the territories' own forecasts. Either way a parent's
forecast is exactly the sum of its children's. Prediction intervals (80 %,
95 %) are normal around the reconciled mean with the reconciled variance.

Backtest: the last ``holdout`` (12) months are held out, both models are
fitted on the months before, and the accuracy per level is

``WAPE = Σ|y − ŷ| / Σ|y|`` (over the level's series and months) and
``MAPE = mean |y − ŷ| / |y|`` (over the points with ``y ≠ 0``).

Everything is deterministic: ETS is fitted by a deterministic optimiser, and
the series are fitted in a fixed order on one process.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from territory_engine.errors import ScenarioError
from territory_engine.metrics.accuracy import mape, wape

__all__ = [
    "FORECAST_COLUMNS",
    "Hierarchy",
    "accuracy",
    "backtest",
    "build_hierarchy",
    "forecast_hierarchy",
    "mape",
    "wape",
]

FORECAST_COLUMNS = ["level", "id", "month", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
"""Columns of ``forecasts.csv``, in order."""

SEASON = 12
LEVELS = (80, 95)
Reconcile = Literal["mint_shrink", "bottom_up"]


@dataclass(frozen=True)
class Hierarchy:
    """The summing structure territory -> ... -> company.

    Attributes
    ----------
    levels
        Level names from the top: ``["company", "region", "district", "territory"]``.
    series
        (m,) ``(level, id)`` of every series, top level first, territories last.
    summing
        (m, k) ``S``: ``S[j, t] = 1`` when territory ``t`` belongs to series ``j``.
    """

    levels: list[str]
    series: list[tuple[str, str]]
    summing: np.ndarray

    @property
    def unique_ids(self) -> list[str]:
        """The libraries' series keys, ``"level:id"`` (a district may share a territory's name)."""
        return [f"{level}:{sid}" for level, sid in self.series]


def build_hierarchy(territory_ids: Sequence[str], mapping: pd.DataFrame | None = None) -> Hierarchy:
    """The hierarchy of ``territory_ids`` from a territory -> district -> region table.

    Parameters
    ----------
    territory_ids
        (k,) the territories, in the plan's order.
    mapping
        ``territory_id`` and the levels above it from the lowest, e.g.
        ``district, region`` (a drawn ``hierarchy.csv`` or the quota regions);
        other columns (``rep_id``, ``manager``) are ignored. A level with an
        empty value for some territory is left out. ``None``: company only.

    Raises
    ------
    ValueError
        A territory missing from ``mapping``, or a level whose groups are not
        nested in the level above (a district in two regions).
    """
    ids = [str(t) for t in territory_ids]
    k = len(ids)
    above: list[tuple[str, np.ndarray]] = []
    if mapping is not None and len(mapping):
        table = mapping.assign(territory_id=mapping["territory_id"].astype(str))
        table = table.drop_duplicates("territory_id").set_index("territory_id")
        missing = [t for t in ids if t not in table.index]
        if missing:
            raise ValueError(f"the hierarchy has no row for territory {missing[0]!r}")
        names = [c for c in table.columns if c not in ("rep_id", "manager", "name")]
        for name in names:
            values = table.loc[ids, name].fillna("").astype(str).to_numpy()
            if (values == "").any() or len(set(values)) in (0, k):
                continue  # a partial level, or one group per territory, adds nothing
            above.append((str(name), values))
        for (low, low_v), (high, high_v) in itertools.pairwise(above):
            pairs = pd.DataFrame({"low": low_v, "high": high_v}).drop_duplicates()
            split = pairs["low"][pairs["low"].duplicated()]
            if len(split):
                raise ValueError(
                    f"{low} {split.iloc[0]!r} is in more than one {high}: the levels must nest"
                )
    series: list[tuple[str, str]] = [("company", "company")]
    rows = [np.ones(k)]
    for name, values in reversed(above):
        for group in sorted(set(values)):
            series.append((name, group))
            rows.append((values == group).astype(float))
    for i, t in enumerate(ids):
        series.append(("territory", t))
        rows.append(np.eye(k)[i])
    levels = ["company", *[n for n, _ in reversed(above)], "territory"]
    return Hierarchy(levels=levels, series=series, summing=np.vstack(rows))


def _long(values: np.ndarray, unique_ids: list[str], months: pd.PeriodIndex) -> pd.DataFrame:
    ds = months.to_timestamp()
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(unique_ids, dtype=object), len(months)),
            "ds": np.tile(ds, len(unique_ids)),
            "y": values.ravel(),
        }
    )


def _fit(
    values: np.ndarray,
    hierarchy: Hierarchy,
    months: pd.PeriodIndex,
    horizon: int,
    reconcile: Reconcile,
) -> tuple[pd.DataFrame, Reconcile]:
    """Base forecasts of every series and their reconciliation: one row per series and month.

    Returns the reconciliation used: ``mint_shrink`` falls back to ``bottom_up``
    when the in-sample errors are all zero (a series fitted exactly).
    """
    try:
        from hierarchicalforecast.core import HierarchicalReconciliation
        from hierarchicalforecast.methods import BottomUp, MinTrace
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS, SeasonalNaive
    except ImportError as exc:
        raise ScenarioError(
            f"forecasts need statsforecast and hierarchicalforecast ({exc.name} is not "
            "installed): pip install statsforecast hierarchicalforecast"
        ) from None

    uids = hierarchy.unique_ids
    all_values = hierarchy.summing @ values
    frame = _long(all_values, uids, months)
    sf = StatsForecast(
        models=[AutoETS(season_length=SEASON), SeasonalNaive(season_length=SEASON)],
        freq="MS",
        n_jobs=1,
    )
    with warnings.catch_warnings():
        # A flat series warns about a zero variance; its forecast is still the flat line.
        warnings.simplefilter("ignore")
        base = sf.forecast(df=frame, h=horizon, level=list(LEVELS), fitted=True)
        fitted = sf.forecast_fitted_values()
        summing = pd.DataFrame(hierarchy.summing, columns=uids[-values.shape[0] :])
        summing.insert(0, "unique_id", uids)
        tags = {}
        for level in hierarchy.levels:
            tags[level] = np.asarray(
                [u for u, (lv, _) in zip(uids, hierarchy.series, strict=True) if lv == level]
            )

        def run(method: object) -> pd.DataFrame:
            return HierarchicalReconciliation([method]).reconcile(
                Y_hat_df=base, Y_df=fitted, S_df=summing, tags=tags, level=list(LEVELS)
            )

        if reconcile == "mint_shrink":
            try:
                out = run(MinTrace(method="mint_shrink"))
            except Exception:
                # In-sample errors all (near) zero: no covariance to shrink. Summing
                # the territories is then the honest reconciliation.
                reconcile = "bottom_up"
        if reconcile == "bottom_up":
            out = run(BottomUp())
    name = "AutoETS/" + (
        "MinTrace_method-mint_shrink" if reconcile == "mint_shrink" else "BottomUp"
    )
    out = out.rename(
        columns={
            name: "forecast",
            **{f"{name}-lo-{lv}": f"lo_{lv}" for lv in LEVELS},
            **{f"{name}-hi-{lv}": f"hi_{lv}" for lv in LEVELS},
            "SeasonalNaive": "naive",
        }
    )
    order = {u: i for i, u in enumerate(uids)}
    out = out.assign(_order=out["unique_id"].map(order)).sort_values(["_order", "ds"])
    return out.reset_index(drop=True), reconcile


def forecast_hierarchy(
    values: np.ndarray,
    months: pd.PeriodIndex,
    hierarchy: Hierarchy,
    *,
    horizon: int = 12,
    start: pd.Period | None = None,
    reconcile: Reconcile = "mint_shrink",
) -> pd.DataFrame:
    """Reconciled monthly forecasts of every series, with 80 % and 95 % intervals.

    Parameters
    ----------
    values
        (k, T) monthly revenue of each territory (the hierarchy's bottom level).
    months
        (T,) consecutive months of ``values``.
    hierarchy
        From :func:`build_hierarchy`.
    horizon
        Months to forecast from ``start``.
    start
        First month forecast (the plan's first month); default the month after
        the history. Months between the history and ``start`` are forecast and
        dropped.
    reconcile
        ``mint_shrink`` or ``bottom_up`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        :data:`FORECAST_COLUMNS`, ``month`` as ``YYYY-MM``; lower bounds are
        clipped at 0 (revenue is not negative), the point forecasts are not (so
        that parents stay exact sums of their children).
    """
    first = months[-1] + 1
    start = first if start is None else start
    gap = int((start - first).n)
    if gap < 0:
        raise ValueError(
            f"the forecast starts {start}, inside the history (which ends {months[-1]})"
        )
    fit, _ = _fit(np.asarray(values, dtype=float), hierarchy, months, gap + horizon, reconcile)
    fit["month"] = pd.PeriodIndex(fit["ds"], freq="M")
    fit = fit[fit["month"] >= start]
    level_id = dict(zip(hierarchy.unique_ids, hierarchy.series, strict=True))
    out = pd.DataFrame(
        {
            "level": fit["unique_id"].map(lambda u: level_id[u][0]),
            "id": fit["unique_id"].map(lambda u: level_id[u][1]),
            "month": fit["month"].dt.strftime("%Y-%m"),
            "forecast": fit["forecast"].to_numpy(float),
        }
    )
    for lv in LEVELS:
        out[f"lo_{lv}"] = np.maximum(fit[f"lo_{lv}"].to_numpy(float), 0.0)
        out[f"hi_{lv}"] = fit[f"hi_{lv}"].to_numpy(float)
    return out[FORECAST_COLUMNS].reset_index(drop=True)


def accuracy(actual: np.ndarray, forecast: np.ndarray, naive: np.ndarray) -> dict[str, float]:
    """``{wape, mape, naive_wape, naive_mape, wape_gain}`` of a model against seasonal naive.

    ``wape_gain = 1 − wape / naive_wape``: 0.15 means a WAPE 15 % below the baseline's.
    """
    w, nw = wape(actual, forecast), wape(actual, naive)
    return {
        "wape": w,
        "mape": mape(actual, forecast),
        "naive_wape": nw,
        "naive_mape": mape(actual, naive),
        "wape_gain": 1 - w / nw if nw > 0 else float("nan"),
    }


def backtest(
    values: np.ndarray,
    months: pd.PeriodIndex,
    hierarchy: Hierarchy,
    *,
    holdout: int = 12,
    reconcile: Reconcile = "mint_shrink",
) -> dict:
    """Hold out the last ``holdout`` months, fit on the rest, score each level.

    Returns
    -------
    dict
        ``backtest``: ``{level: {wape, mape, naive_wape, naive_mape, wape_gain}}`` from
        the top level down, and ``holdout`` (the months held out, ``"YYYY-MM..YYYY-MM"``),
        ``train_months``, ``model``, ``baseline`` and ``reconciliation``; or
        ``{"skipped": reason}`` when there are fewer than ``holdout + 12``
        months (a seasonal model needs a year to learn from).
    """
    t = len(months)
    if t < holdout + SEASON:
        return {"skipped": f"{t} months of history; the backtest needs at least {holdout + SEASON}"}
    v = np.asarray(values, dtype=float)
    fit, used = _fit(v[:, : t - holdout], hierarchy, months[: t - holdout], holdout, reconcile)
    actual = hierarchy.summing @ v[:, t - holdout :]
    model = fit["forecast"].to_numpy(float).reshape(len(hierarchy.series), holdout)
    naive = fit["naive"].to_numpy(float).reshape(len(hierarchy.series), holdout)
    levels = np.asarray([lv for lv, _ in hierarchy.series])
    scores: dict[str, dict[str, float]] = {}
    for level in hierarchy.levels:
        rows = levels == level
        got = accuracy(actual[rows], model[rows], naive[rows])
        scores[level] = {k: round(x, 6) for k, x in got.items()}
    out: dict = {"backtest": scores}
    out["holdout"] = f"{months[t - holdout]}..{months[-1]}"
    out["train_months"] = t - holdout
    out["model"] = f"AutoETS(season_length={SEASON})"
    out["baseline"] = f"SeasonalNaive(season_length={SEASON})"
    out["reconciliation"] = used
    return out
