"""Territory forecasts: known series, coherence, backtest, quotas and attainment from them."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from territory_engine.config.scenario import QuotaConfig, Scenario
from territory_engine.errors import ScenarioError
from territory_engine.io.history import History
from territory_engine.metrics.attainment import (
    AttainmentModel,
    attainment_summary,
    probability_at_or_above,
)
from territory_engine.org.forecast import (
    FORECAST_COLUMNS,
    backtest,
    build_hierarchy,
    forecast_hierarchy,
    mape,
    wape,
)
from territory_engine.org.forecast.plan import (
    annual_cv,
    plan_forecast,
    quota_hierarchy,
    write_forecasts,
)
from territory_engine.quota.allocate import QuotaInputs, allocate, company_target
from territory_engine.quota.methods import raw_quotas

MONTHS = pd.period_range("2024-01", periods=36, freq="M")
TREE = pd.DataFrame(
    {
        "territory_id": ["a", "b", "c", "d"],
        "district": ["d1", "d1", "d2", "d2"],
        "region": ["r1", "r1", "r1", "r1"],
    }
)


def _truth(n: int, base: float = 100.0, slope: float = 2.0, amp: float = 20.0) -> np.ndarray:
    m = np.arange(n)
    return base + slope * m + amp * np.sin(2 * np.pi * m / 12)


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.vstack(
        [_truth(36, base=b) + rng.normal(0, 2, 36) for b in (100.0, 150.0, 80.0, 120.0)]
    )


@pytest.fixture(scope="module")
def forecasts(series) -> pd.DataFrame:
    return forecast_hierarchy(series, MONTHS, build_hierarchy(list("abcd"), TREE))


def test_a_trend_with_seasonality_is_forecast_within_three_percent(forecasts):
    truth = _truth(48, base=100.0)[36:]
    got = forecasts[(forecasts["level"] == "territory") & (forecasts["id"] == "a")]
    assert got["month"].tolist() == [f"2027-{m:02d}" for m in range(1, 13)]
    assert np.max(np.abs(got["forecast"].to_numpy() / truth - 1)) < 0.03
    # The intervals nest around the forecast.
    assert (got["lo_95"] <= got["lo_80"]).all() and (got["lo_80"] <= got["forecast"]).all()
    assert (got["forecast"] <= got["hi_80"]).all() and (got["hi_80"] <= got["hi_95"]).all()


def test_reconciled_forecasts_are_coherent_at_every_level(forecasts):
    assert list(forecasts.columns) == FORECAST_COLUMNS
    assert set(forecasts["level"]) == {"company", "region", "district", "territory"}
    wide = forecasts.pivot_table(index=["level", "id"], columns="month", values="forecast")
    terr = wide.loc["territory"]
    np.testing.assert_allclose(wide.loc[("district", "d1")], terr.loc[["a", "b"]].sum(), rtol=1e-9)
    np.testing.assert_allclose(wide.loc[("district", "d2")], terr.loc[["c", "d"]].sum(), rtol=1e-9)
    np.testing.assert_allclose(wide.loc[("region", "r1")], terr.sum(), rtol=1e-9)
    np.testing.assert_allclose(wide.loc[("company", "company")], terr.sum(), rtol=1e-9)


def test_bottom_up_is_coherent_too_and_forecasts_are_deterministic(series, forecasts):
    tree = build_hierarchy(list("abcd"), TREE)
    again = forecast_hierarchy(series, MONTHS, tree)
    pd.testing.assert_frame_equal(again, forecasts)
    bu = forecast_hierarchy(
        series[:2, :], MONTHS, build_hierarchy(["a", "b"]), reconcile="bottom_up"
    )
    wide = bu.pivot_table(index=["level", "id"], columns="month", values="forecast")
    np.testing.assert_allclose(wide.loc[("company", "company")], wide.loc["territory"].sum())


def test_hierarchy_must_nest_and_cover_every_territory():
    bad = TREE.assign(region=["r1", "r2", "r1", "r1"])
    with pytest.raises(ValueError, match=r"district 'd1' is in more than one region"):
        build_hierarchy(list("abcd"), bad)
    with pytest.raises(ValueError, match=r"no row for territory 'e'"):
        build_hierarchy(list("abcde"), TREE)
    # Without a mapping: the company and the territories.
    tree = build_hierarchy(["x", "y"])
    assert tree.levels == ["company", "territory"]
    np.testing.assert_array_equal(tree.summing, [[1, 1], [1, 0], [0, 1]])


def test_wape_and_mape_on_known_numbers():
    y = np.array([100.0, 0.0, 50.0])
    f = np.array([90.0, 10.0, 60.0])
    assert wape(y, f) == pytest.approx(30 / 150)
    assert mape(y, f) == pytest.approx((0.1 + 0.2) / 2)  # the zero month is left out
    assert np.isnan(wape(np.zeros(2), np.ones(2)))


def test_backtest_scores_each_level_and_naive_is_exact_on_a_repeating_year():
    year = np.array([5, 6, 8, 9, 10, 12, 12, 11, 9, 8, 6, 5], dtype=float)
    values = np.vstack([np.tile(year, 3), 2 * np.tile(year, 3)])
    out = backtest(values, MONTHS, build_hierarchy(["a", "b"]))
    assert set(out["backtest"]) == {"company", "territory"}
    assert out["holdout"] == "2026-01..2026-12" and out["train_months"] == 24
    assert out["backtest"]["territory"]["naive_wape"] == pytest.approx(0.0, abs=1e-9)
    assert set(out["backtest"]["company"]) == {
        "wape",
        "mape",
        "naive_wape",
        "naive_mape",
        "wape_gain",
    }
    short = backtest(values[:, :20], MONTHS[:20], build_hierarchy(["a", "b"]))
    assert "skipped" in short and "at least 24" in short["skipped"]


def test_annual_cv_reads_the_80_percent_interval():
    table = pd.DataFrame(
        {
            "level": ["territory"] * 2 + ["company"],
            "id": ["a", "a", "company"],
            "month": ["2027-01", "2027-02", "2027-01"],
            "forecast": [100.0, 100.0, 200.0],
            "lo_80": [0.0, 0.0, 0.0],
            "hi_80": [100 + 1.2815515655446004 * 10, 100 + 1.2815515655446004 * 30, 0.0],
            "lo_95": 0.0,
            "hi_95": 0.0,
        }
    )
    # σ = 10 and 30 in the two months; the year's σ = 40 on a forecast of 200.
    np.testing.assert_allclose(annual_cv(table, ["a", "b"]), [0.2, 0.0])


def test_forecast_method_sums_to_the_target_and_blends_with_potential():
    f = np.array([300.0, 100.0])
    p = np.array([100.0, 100.0])
    q, fpart, ppart = raw_quotas(
        "forecast", 1000.0, f, p, np.ones(2), forecast=f, forecast_weight=0.5
    )
    np.testing.assert_allclose(q, [1000 * (0.5 * 0.75 + 0.25), 1000 * (0.5 * 0.25 + 0.25)])
    assert q.sum() == pytest.approx(1000.0)
    np.testing.assert_allclose(fpart + ppart, 1.0)
    with pytest.raises(ValueError, match=r"needs the territories' forecasts"):
        raw_quotas("forecast", 1.0, f, p, np.ones(2))


def _inputs(forecast: np.ndarray | None) -> QuotaInputs:
    return QuotaInputs(
        territory_id=["T1", "T2", "T3"],
        rep_id=["R1", "R2", "R3"],
        history=np.array([100_000.0, 200_000.0, 300_000.0]),
        potential=np.array([300_000.0, 300_000.0, 300_000.0]),
        capacity=np.ones(3),
        last_year_revenue_total=600_000.0,
        forecast=forecast,
    )


def test_allocation_from_forecasts_is_exact_and_names_the_forecast():
    forecast = np.array([110_000.0, 230_500.0, 290_000.0])
    cfg = QuotaConfig(method="forecast", stretch=1.05, forecast_weight=1.0, rounding=1000)
    # No target given: the target is the forecast times the stretch.
    target = company_target(cfg, _inputs(forecast))
    assert target == pytest.approx(1.05 * forecast.sum())
    result = allocate(cfg, _inputs(forecast))
    cents = np.round(result.quotas["quota"].to_numpy() * 100).astype(np.int64)
    assert cents.sum() == round(target * 100)
    first = result.quotas["explanation"].iloc[0]
    assert "from your territory's forecast of $110,000 for the plan year" in first
    assert "× 1.05 stretch" in first
    given = allocate(cfg.model_copy(update={"target": 1_000_000.0}), _inputs(forecast))
    assert given.quotas["quota"].sum() == pytest.approx(1_000_000.0)
    assert given.summary["method"] == "forecast"


def test_forecast_method_without_history_says_what_to_set():
    with pytest.raises(ScenarioError, match=r"needs the territories. forecasts: set data.history"):
        allocate(QuotaConfig(method="forecast"), _inputs(None))


def test_attainment_with_own_spreads_matches_each_scalar_spread():
    q = np.array([100.0, 100.0, 100.0])
    e = np.array([95.0, 100.0, 110.0])
    cv = np.array([0.05, 0.2, 0.0])
    got = probability_at_or_above(q, e, cv)
    for i in range(3):
        assert got[i] == pytest.approx(
            probability_at_or_above(q[i : i + 1], e[i : i + 1], cv[i])[0]
        )
    own = attainment_summary(
        q, AttainmentModel(expected_sales=e, cv_by_territory=cv), ["a", "b", "c"]
    )
    one = attainment_summary(q, AttainmentModel(expected_sales=e, cv=0.15), ["a", "b", "c"])
    assert own["spread"]["source"] == "history" and own["model"]["cv"] == "history"
    assert own["spread"]["cv_by_territory"] == {"a": 0.05, "b": 0.2, "c": 0.0}
    # Without own spreads the summary is what it always was.
    assert "spread" not in one and one["model"]["cv"] == 0.15
    assert own["by_territory"]["c"]["p_at_or_above_100"] == 1.0


def _scenario(tmp_path) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "t",
            "data": {
                "accounts": str(tmp_path / "a.csv"),
                "reps": str(tmp_path / "r.csv"),
                "units": str(tmp_path / "u.gpkg"),
                "history": str(tmp_path / "h.csv"),
            },
            "quota": {"plan_start": date(2027, 1, 1)},
        }
    )


def test_plan_forecast_sums_accounts_under_the_new_assignment_and_writes_atomically(
    tmp_path, series
):
    # Six accounts; the plan gives accounts 0, 1 to "a", 2 to "b", the rest to "c".
    rng = np.random.default_rng(3)
    split = rng.dirichlet(np.ones(2), size=36).T
    revenue = np.vstack(
        [series[0] * split[0], series[0] * split[1], series[1], series[2], series[3], series[3] * 0]
    )
    ids = np.array([f"A{i}" for i in range(6)], dtype=object)
    history = History(account_ids=ids, months=MONTHS, revenue=revenue, source="h.csv")
    tables = SimpleNamespace(accounts=pd.DataFrame({"account_id": ids}))
    account_territory = np.array([0, 0, 1, 2, 2, 2])
    fc = plan_forecast(
        _scenario(tmp_path), tables, account_territory, ["a", "b", "c"], history=history
    )
    assert fc is not None
    expected = forecast_hierarchy(
        np.vstack([series[0], series[1], series[2] + series[3]]),
        MONTHS,
        build_hierarchy(["a", "b", "c"]),
        reconcile="bottom_up",
    )
    a = expected[(expected["level"] == "territory") & (expected["id"] == "a")]["forecast"].sum()
    assert fc.territory_total[0] == pytest.approx(a, abs=0.1)  # months rounded to cents
    assert fc.section["plan_year"]["months"] == "2027-01..2027-12"
    assert fc.section["reconciliation"] == "bottom_up"
    assert set(fc.section["backtest"]) == {"company", "territory"}
    assert (fc.territory_cv > 0).all()
    # Regrouped under districts, the territories' (bottom-up) forecasts stay the same.
    from territory_engine.org.forecast.plan import regroup_forecast

    tree = pd.DataFrame({"territory_id": ["a", "b", "c"], "district": ["n", "n", "s"]})
    regrouped = regroup_forecast(fc, tree)
    np.testing.assert_allclose(regrouped.territory_total, fc.territory_total)
    assert set(regrouped.section["backtest"]) == {"company", "district", "territory"}
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps({"files": ["quotas.csv", "plan.json"]}))
    (folder / "quotas.csv").write_text("territory_id,quota\n")
    write_forecasts(folder, fc)
    written = pd.read_csv(folder / "forecasts.csv")
    assert list(written.columns) == FORECAST_COLUMNS and len(written) == 12 * 4
    assert json.loads((folder / "plan.json").read_text())["files"] == [
        "quotas.csv",
        "forecasts.csv",
        "plan.json",
    ]


def test_quota_hierarchy_uses_regions_and_districts_when_the_plan_has_them():
    quotas = pd.DataFrame({"territory_id": ["a", "b"], "region": ["", ""], "district": ["", ""]})
    assert quota_hierarchy(quotas) is None
    quotas = pd.DataFrame({"territory_id": ["a", "b"], "region": ["N", "S"], "district": ["", ""]})
    assert list(quota_hierarchy(quotas).columns) == ["territory_id", "region"]


def test_forecast_quotas_without_history_fail_before_anything_is_built(tmp_path):
    from territory_engine.org.forecast.plan import forecast_plan

    raw = _scenario(tmp_path).model_dump()
    raw["data"]["history"] = None
    raw["quota"]["method"] = "forecast"
    scenario = Scenario.model_validate(raw)
    with pytest.raises(
        ScenarioError, match=r"need the accounts' monthly revenue: set data.history"
    ):
        forecast_plan(scenario, None, None, None, None)  # type: ignore[arg-type]


def _tiny_instance(folder, *, history: bool, method: str = "forecast"):
    """Four square units in a row, two accounts each, two reps at the ends; 36 months."""
    import geopandas as gpd
    import shapely

    from territory_engine.config import load_scenario

    folder.mkdir(parents=True, exist_ok=True)
    units = ["u1", "u2", "u3", "u4"]
    polygons = [shapely.box(-84.0 + i, 33.0, -83.0 + i, 34.0) for i in range(4)]
    gpd.GeoDataFrame({"unit_id": units}, geometry=polygons, crs="EPSG:4326").to_file(
        folder / "units.gpkg", driver="GPKG"
    )
    accounts = pd.DataFrame(
        [
            {
                "account_id": f"A{2 * i + j + 1}",
                "name": f"<script>alert({i})</script> {j}",
                "lat": 33.3 + 0.4 * j,
                "lon": -83.5 + i,
                "segment": "commercial",
                "potential": 100_000,
                "last_year_revenue": 0,
                "workload_hours": 1,
                "current_rep_id": "",
            }
            for i in range(4)
            for j in range(2)
        ]
    )
    rows = []
    rng = np.random.default_rng(5)
    for k, account in enumerate(accounts["account_id"]):
        level = _truth(36, base=1000.0 + 300 * k, slope=5.0, amp=150.0) + rng.normal(0, 10, 36)
        rows += [
            {"account_id": account, "month": str(m), "revenue": round(float(v))}
            for m, v in zip(MONTHS, level, strict=True)
        ]
    long = pd.DataFrame(rows)
    last = long[long["month"] >= "2026-01"].groupby("account_id")["revenue"].sum()
    accounts["last_year_revenue"] = accounts["account_id"].map(last)
    accounts.to_csv(folder / "accounts.csv", index=False)
    long.to_csv(folder / "history.csv", index=False)
    pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["West", "East"],
            "home_lat": [33.5, 33.5],
            "home_lon": [-83.5, -80.5],
            "segment": ["commercial", "commercial"],
            "capacity_fte": [1.0, 1.0],
            "start_date": ["2020-01-01", "2020-01-01"],
            "last_year_quota": [0, 0],
        }
    ).to_csv(folder / "reps.csv", index=False)
    history_line = "  history: history.csv\n" if history else ""
    (folder / "scenario.yaml").write_text(
        "name: forecast test\n"
        "data:\n  accounts: accounts.csv\n  reps: reps.csv\n  units: units.gpkg\n"
        f"{history_line}"
        "territories: {eligibility: none}\n"
        "balance:\n  potential: {tolerance: 0.05}\n"
        f"quota: {{method: {method}, target: 250000, rounding: 1000, "
        "plan_start: 2027-01-01, forecast_weight: 0.8}\n"
        "solver: {seed: 1, time_limit: 5}\n"
        "output: {folder: plan}\n",
        encoding="utf-8",
    )
    return load_scenario(folder / "scenario.yaml")


def test_a_run_with_history_writes_forecasts_and_quotas_from_them(tmp_path):
    from territory_engine.pipeline.run import run_scenario

    result = run_scenario(_tiny_instance(tmp_path / "h", history=True), output=tmp_path / "p")
    folder = result.plan_dir
    forecasts = pd.read_csv(folder / "forecasts.csv", dtype={"id": str})
    assert list(forecasts.columns) == FORECAST_COLUMNS
    assert set(forecasts["level"]) == {"company", "territory"}
    wide = forecasts.pivot_table(index=["level", "id"], columns="month", values="forecast")
    np.testing.assert_allclose(
        wide.loc[("company", "company")], wide.loc["territory"].sum(), atol=0.05
    )
    quotas = pd.read_csv(folder / "quotas.csv")
    assert round(quotas["quota"].sum() * 100) == 250_000 * 100
    assert quotas["explanation"].str.contains("from your territory's forecast of \\$").all()
    card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    assert card["forecast"]["backtest"]["territory"]["wape"] >= 0
    assert card["quota"]["attainment"]["spread"]["source"] == "history"
    assert "forecasts.csv" in json.loads((folder / "plan.json").read_text())["files"]
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "<h2>Forecast</h2>" in report and "<script>alert(" not in report


def test_a_run_without_history_has_no_forecast(tmp_path):
    from territory_engine.pipeline.run import run_scenario

    scenario = _tiny_instance(tmp_path / "n", history=False, method="blended")
    result = run_scenario(scenario, output=tmp_path / "p")
    assert result.forecast is None and "forecast" not in result.scorecard
    assert not (result.plan_dir / "forecasts.csv").exists()
    assert "spread" not in result.scorecard["quota"]["attainment"]
