"""The year's KPIs from actuals (issue 17, item 5) on a hand-made plan folder.

Five territories with known quotas (three enterprise, two smb; $1,200 each unless a
test says otherwise), two accounts each. Each test writes actuals whose attainment
is known by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from territory_engine.errors import InputError
from territory_engine.org.kpis import compute_kpis, write_kpis
from territory_engine.org.kpis.metrics import (
    achievement_rate,
    attainment_table,
    balance_drift,
    forecast_accuracy,
    monthly_quota,
    plan_months,
)
from tests.cli_run import run_cli

REPS = ["R1", "R2", "R3", "R4", "R5"]
TERRITORIES = [f"T-{r}" for r in REPS]
SEGMENTS = ["enterprise", "enterprise", "enterprise", "smb", "smb"]
DISTRICTS = ["North", "North", "South", "South", "South"]
REGIONS = ["East", "East", "East", "West", "West"]


def write_plan(
    folder: Path,
    *,
    quotas: list[float] | None = None,
    splits: dict[str, list[float]] | None = None,
    period: str = "quarter",
    rep_names: list[str] | None = None,
    plan_start: str | None = "2027-01-01",
) -> Path:
    """A minimal plan folder: the files :func:`read_plan_folder` requires, and splits."""
    folder.mkdir(parents=True, exist_ok=True)
    quotas = quotas or [1200.0] * 5
    names = rep_names or [f"Rep {r}" for r in REPS]
    accounts = [f"A{i}" for i in range(1, 11)]
    owner = [TERRITORIES[(i - 1) // 2] for i in range(1, 11)]
    pd.DataFrame(
        {
            "account_id": accounts,
            "territory_id": owner,
            "rep_id": [t[2:] for t in owner],
            "unit_id": "U1",
            "previous_rep_id": "",
            "moved": False,
            "kept_for_relationship": False,
        }
    ).to_csv(folder / "assignments.csv", index=False)
    fair = [100.0, 100.0, 100.0, 50.0, 50.0]
    pd.DataFrame(
        {
            "territory_id": TERRITORIES,
            "rep_id": REPS,
            "rep_name": names,
            "segment": SEGMENTS,
            "n_accounts": 2,
            "potential": fair,
            "potential_fair_share": fair,
            "potential_low": [0.95 * f for f in fair],
            "potential_high": [1.05 * f for f in fair],
            "potential_dev_pct": 0.0,
            "potential_in_band": True,
        }
    ).to_csv(folder / "territories.csv", index=False)
    pd.DataFrame(
        {
            "territory_id": TERRITORIES,
            "rep_id": REPS,
            "quota": quotas,
            "region": REGIONS,
            "district": DISTRICTS,
            "ramp_factor": [1.0, 1.0, 1.0, 1.0, 0.5],
        }
    ).to_csv(folder / "quotas.csv", index=False)
    if splits is not None:
        labels = (
            [f"Q{q}" for q in range(1, 5)]
            if period == "quarter"
            else [f"M{m:02d}" for m in range(1, 13)]
        )
        rows = [
            {"territory_id": f"T-{rep}", "rep_id": rep, "period": p, "period_start": "", "quota": q}
            for rep, values in splits.items()
            for p, q in zip(labels, values, strict=True)
        ]
        pd.DataFrame(rows).to_csv(folder / "quota_splits.csv", index=False)
    (folder / "scorecard.json").write_text("{}", encoding="utf-8")
    scenario = {"quota": {"plan_start": plan_start}} if plan_start else {}
    (folder / "plan.json").write_text(
        json.dumps({"scenario_name": "Tiny plan", "scenario": scenario}), encoding="utf-8"
    )
    gpd.GeoDataFrame(
        {"territory_id": TERRITORIES, "rep_id": REPS},
        geometry=[box(i, 0, i + 1, 1) for i in range(5)],
        crs="EPSG:4326",
    ).to_file(folder / "territories.geojson", driver="GeoJSON")
    pd.DataFrame(
        {"account_id": accounts, "name": [f"Account {a}" for a in accounts], "segment": "x"}
    ).to_csv(folder / "accounts.csv", index=False)
    pd.DataFrame({"rep_id": REPS, "name": names, "segment": SEGMENTS}).to_csv(
        folder / "reps.csv", index=False
    )
    return folder


def write_actuals(path: Path, per_territory: dict[str, list[float]], by: str = "account_id"):
    """Monthly totals per territory from January, split evenly over its two accounts."""
    rows = []
    for t, values in per_territory.items():
        for k, value in enumerate(values):
            month = f"2027-{k + 1:02d}"
            if by == "account_id":
                i = TERRITORIES.index(t)
                for a in (2 * i + 1, 2 * i + 2):
                    rows.append({"account_id": f"A{a}", "month": month, "revenue": value / 2})
            else:
                key = t if by == "territory_id" else t[2:]
                rows.append({by: key, "month": month, "revenue": value})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# Three months: YTD quota 300 each (equal months); attainment 100, 110, 150, 99.7, 50 %.
Q1_ACTUALS = {
    "T-R1": [100, 100, 100],
    "T-R2": [110, 110, 110],
    "T-R3": [150, 150, 150],
    "T-R4": [99, 100, 100],
    "T-R5": [50, 50, 50],
}


@pytest.fixture()
def plan(tmp_path) -> Path:
    return write_plan(tmp_path / "plan")


def test_three_of_five_reps_at_pro_rated_quota_is_60_percent(plan, tmp_path):
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    s = result.summary
    assert result.as_of == "2027-03"
    assert s["share_on_pace"] == pytest.approx(0.6)
    assert (s["reps_on_pace"], s["reps_counted_prorated"]) == (3, 5)
    assert s["healthy_verdict"] == "in the healthy band"
    assert s["share_at_quota_ytd"] == 0.0  # nobody has made the full year in March
    table = result.table.set_index("territory_id")
    assert table["ytd_quota"].tolist() == pytest.approx([300.0] * 5)
    assert table["prorated_attainment_pct"].tolist() == pytest.approx(
        [100.0, 110.0, 150.0, 299 / 3, 50.0]
    )
    assert table["attainment_pct"].tolist() == pytest.approx([25.0, 27.5, 37.5, 299 / 12, 12.5])
    assert table["on_pace"].tolist() == [True, True, True, False, False]
    assert s["ytd_actual"] == pytest.approx(300 + 330 + 450 + 299 + 150)
    assert "equal months" in " ".join(result.notes)


def test_as_of_cuts_the_months_and_counts_what_it_leaves_out(plan, tmp_path):
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS), as_of="2027-01")
    table = result.table.set_index("territory_id")
    assert table["ytd_quota"].tolist() == pytest.approx([100.0] * 5)
    # January: 100, 110, 150, 99, 50 -> 3 of 5 again, R4 just short.
    assert table.loc["T-R4", "prorated_attainment_pct"] == pytest.approx(99.0)
    assert result.months == ["2027-01"]
    assert any("20 rows after 2027-01 left out" in n for n in result.notes)


def test_full_year_quota_made_early_counts_year_to_date(plan, tmp_path):
    actuals = dict(Q1_ACTUALS, **{"T-R3": [400, 400, 400]})
    s = compute_kpis(plan, write_actuals(tmp_path / "a.csv", actuals)).summary
    assert (s["reps_at_quota_ytd"], s["share_at_quota_ytd"]) == (1, pytest.approx(0.2))


def test_quarterly_seasonality_sets_the_ytd_quota(tmp_path):
    # Q1 of 120 spread evenly: January and February owe 80 between them.
    splits = {r: [120, 300, 300, 480] for r in REPS}
    plan = write_plan(tmp_path / "plan", splits=splits)
    actuals = {t: [40, 40] for t in TERRITORIES}
    actuals["T-R5"] = [40, 39]
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", actuals))
    table = result.table.set_index("territory_id")
    assert table["ytd_quota"].tolist() == pytest.approx([80.0] * 5)
    assert table.loc["T-R1", "prorated_attainment_pct"] == pytest.approx(100.0)
    assert result.summary["share_on_pace"] == pytest.approx(0.8)
    assert any("split by quarter" in n for n in result.notes)
    # Months equally would have said 200 by February: 40 % attainment, nobody on pace.
    flat = compute_kpis(write_plan(tmp_path / "flat"), write_actuals(tmp_path / "b.csv", actuals))
    assert flat.summary["share_on_pace"] == 0.0


def test_monthly_split_is_used_month_by_month(tmp_path):
    months = [50.0, 150.0] + [100.0] * 10
    plan = write_plan(tmp_path / "plan", splits={r: months for r in REPS}, period="month")
    actuals = {t: [50, 150] for t in TERRITORIES}
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", actuals), as_of="2027-01")
    assert result.table["ytd_quota"].tolist() == pytest.approx([50.0] * 5)
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", actuals))
    assert result.table["ytd_quota"].tolist() == pytest.approx([200.0] * 5)
    assert result.summary["share_on_pace"] == 1.0


def test_a_ramping_rep_is_pro_rated_by_the_ramped_split(tmp_path):
    # R5 joins in April: a ramped quota of 600, nothing due in Q1.
    splits = {r: [300, 300, 300, 300] for r in REPS[:4]}
    splits["R5"] = [0, 100, 200, 300]
    plan = write_plan(tmp_path / "plan", quotas=[1200.0] * 4 + [600.0], splits=splits)
    actuals = {t: [100] * 5 for t in TERRITORIES[:4]}
    actuals["T-R5"] = [0, 0, 0, 50, 50]
    march = compute_kpis(plan, write_actuals(tmp_path / "a.csv", actuals), as_of="2027-03")
    r5 = march.table.set_index("territory_id").loc["T-R5"]
    assert r5["ytd_quota"] == 0.0 and math.isnan(r5["prorated_attainment_pct"])
    assert march.summary["reps_with_no_quota_due"] == 1
    assert march.summary["share_on_pace"] == 1.0  # 4 of the 4 counted
    may = compute_kpis(plan, write_actuals(tmp_path / "a.csv", actuals), as_of="2027-05")
    r5 = may.table.set_index("territory_id").loc["T-R5"]
    assert r5["ytd_quota"] == pytest.approx(200 / 3)  # two of Q2's three months
    assert r5["prorated_attainment_pct"] == pytest.approx(150.0)
    assert r5["attainment_pct"] == pytest.approx(100 / 6)


@pytest.mark.parametrize("by", ["territory_id", "rep_id"])
def test_per_territory_actuals_give_the_same_answer(plan, tmp_path, by):
    per_account = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    per_territory = compute_kpis(plan, write_actuals(tmp_path / "t.csv", Q1_ACTUALS, by=by))
    assert per_territory.summary["actuals_by"] == by
    pd.testing.assert_frame_equal(per_account.table, per_territory.table)


def test_distribution_by_segment_district_and_region(plan, tmp_path):
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    seg = result.by_segment.set_index("group")
    assert seg.loc["enterprise", "share_on_pace"] == 1.0
    assert seg.loc["smb", "share_on_pace"] == 0.0
    assert seg.loc["enterprise", "prorated_attainment_pct"] == pytest.approx(120.0)
    assert seg.loc["enterprise", "median_pct"] == pytest.approx(110.0)
    district = result.by_district.set_index("group")
    assert district.loc["North", "reps"] == 2 and district.loc["South", "reps"] == 3
    assert district.loc["South", "share_on_pace"] == pytest.approx(1 / 3)
    assert set(result.by_region["group"]) == {"East", "West"}


def test_a_drawn_hierarchy_replaces_the_quota_regions(plan, tmp_path):
    pd.DataFrame(
        {
            "territory_id": TERRITORIES,
            "rep_id": REPS,
            "district": ["D1", "D1", "D1", "D2", "D2"],
            "region": ["Only"] * 5,
            "manager": "M",
        }
    ).to_csv(plan / "hierarchy.csv", index=False)
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    assert result.by_district["group"].tolist() == ["D1", "D2"]
    assert result.by_district.set_index("group").loc["D1", "share_on_pace"] == 1.0
    assert result.by_region["group"].tolist() == ["Only"]
    assert any("hierarchy.csv" in n for n in result.notes)


def test_forecast_accuracy_on_a_known_series(plan, tmp_path):
    rows = []
    for k, (f, a) in enumerate([(110, 100), (90, 100), (100, 100), (500, None)], start=1):
        rows.append(["territory", "T-R1", f"2027-{k:02d}", f, f - 5, f + 5, f - 15, f + 15])
        del a
    # Company level: the sum of the five territories' actuals (Q1_ACTUALS: 509, 510, 510).
    for k, total in enumerate([509, 510, 510], start=1):
        rows.append(["company", "all", f"2027-{k:02d}", total * 1.1, 0, 1e9, 0, 1e9])
    rows.append(["territory", "T-R9", "2027-01", 1, 0, 2, 0, 3])  # not in the plan
    columns = ["level", "id", "month", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
    pd.DataFrame(rows, columns=columns).to_csv(plan / "forecasts.csv", index=False)
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    acc = result.forecast.set_index("level")
    territory = acc.loc["territory"]
    assert territory["points"] == 3  # April has no actuals yet; T-R9 has none
    assert territory["wape_pct"] == pytest.approx(20 / 3)
    assert territory["mape_pct"] == pytest.approx(20 / 3)
    assert territory["bias_pct"] == pytest.approx(0.0)
    assert territory["coverage_80_pct"] == pytest.approx(100 / 3)
    assert territory["coverage_95_pct"] == pytest.approx(100.0)
    assert territory["unmatched"] == ["T-R9"]
    assert acc.loc["company", "wape_pct"] == pytest.approx(10.0)
    assert acc.loc["company", "bias_pct"] == pytest.approx(10.0)
    assert result.summary["has_forecasts"]


def test_no_forecasts_file_means_no_accuracy(plan, tmp_path):
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    assert result.forecast is None
    assert result.to_json()["forecast_accuracy"] is None


def test_drift_against_the_share_the_plan_gave(plan, tmp_path):
    # Enterprise: 300, 330, 450 of 1,080 with equal YTD quotas: fair share 360 each.
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    table = result.table.set_index("territory_id")
    assert table.loc["T-R1", "actual_fair_share"] == pytest.approx(360.0)
    assert table.loc["T-R3", "drift_pct"] == pytest.approx(25.0)
    assert table.loc["T-R2", "drift_pct"] == pytest.approx(-100 * 30 / 360)
    assert table.loc["T-R1", "band_high_pct"] == pytest.approx(5.0)
    assert table["drifting"].all()
    assert result.drifting["territory_id"].iloc[0] in {"T-R5", "T-R4"}  # largest first
    assert result.summary["drifting_territories"] == 5


def test_balance_drift_in_band_is_not_drifting():
    out = balance_drift(
        ["a", "a", "b"],
        np.array([1.0, 1.0, 5.0]),
        np.array([102.0, 98.0, 7.0]),
        np.array([-5.0, -5.0, -5.0]),
        np.array([5.0, 5.0, 5.0]),
    )
    assert out["actual_fair_share"].tolist() == pytest.approx([100.0, 100.0, 7.0])
    assert out["drift_pct"].tolist() == pytest.approx([2.0, -2.0, 0.0])
    assert not out["drifting"].any()


def test_metrics_edge_cases():
    assert plan_months(pd.Timestamp("2027-07-01").date())[:2] == ["2027-07", "2027-08"]
    monthly, source = monthly_quota(["T"], np.array([1200.0]), None)
    assert source == "equal months" and monthly.sum() == pytest.approx(1200.0)
    table = attainment_table(["T"], np.array([0.0]), np.zeros((1, 12)), np.ones((1, 12)), 3)
    assert math.isnan(table["attainment_pct"].iloc[0]) and not table["on_pace"].iloc[0]
    rate, hit, n = achievement_rate(np.array([np.nan, 100.0, 99.99]))
    assert (rate, hit, n) == (0.5, 1, 2)
    empty = forecast_accuracy(
        pd.DataFrame(
            {"level": ["territory"], "id": ["T"], "month": ["2027-05"], "forecast": [1.0]}
        ),
        pd.DataFrame({"level": ["territory"], "id": ["T"], "month": ["2027-01"], "actual": [1.0]}),
    )
    assert empty["points"].iloc[0] == 0 and math.isnan(empty["wape_pct"].iloc[0])


def test_as_of_outside_the_plan_year_fails(plan, tmp_path):
    actuals = write_actuals(tmp_path / "a.csv", Q1_ACTUALS)
    with pytest.raises(InputError, match=r"--as-of 2028-01 is outside the plan year \(2027-01"):
        compute_kpis(plan, actuals, as_of="2028-01")
    with pytest.raises(InputError, match="'March' is not a month; write it as YYYY-MM"):
        compute_kpis(plan, actuals, as_of="March")


def test_a_plan_without_a_start_takes_the_first_month_of_the_actuals(tmp_path):
    plan = write_plan(tmp_path / "plan", plan_start=None)
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    assert result.summary["plan_year"] == ["2027-01", "2027-12"]
    assert any("does not say when its year starts" in n for n in result.notes)


def test_write_kpis_writes_three_files_and_escapes_names(tmp_path):
    plan = write_plan(tmp_path / "plan", rep_names=["<script>alert(1)</script>", *"BCDE"])
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    folder = write_kpis(result)
    assert folder == (plan / "kpis").resolve()
    assert sorted(p.name for p in folder.iterdir()) == ["kpis.csv", "kpis.html", "kpis.json"]
    page = (folder / "kpis.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.rstrip().endswith("</html>")
    assert "healthy" in page and "100 %" in page
    data = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    assert data["summary"]["share_on_pace"] == pytest.approx(0.6)
    table = pd.read_csv(folder / "kpis.csv")
    assert len(table) == 5 and "prorated_attainment_pct" in table.columns


def test_a_formula_in_a_name_is_inert_in_kpis_csv(tmp_path):
    plan = write_plan(tmp_path / "plan", rep_names=["=HYPERLINK(1)", *"BCDE"])
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    text = (write_kpis(result, tmp_path / "out") / "kpis.csv").read_text(encoding="utf-8")
    assert ",=HYPERLINK" not in text and "'=HYPERLINK(1)" in text


def test_a_failed_write_keeps_the_previous_folder(plan, tmp_path, monkeypatch):
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    folder = write_kpis(result)
    before = (folder / "kpis.json").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("territory_engine.io.safe_cells.safe_frame", broken)
    with pytest.raises(OSError, match="disk full"):
        write_kpis(result)
    assert (folder / "kpis.json").read_bytes() == before
    assert [p.name for p in plan.iterdir() if p.name.startswith(".kpis")] == []


def test_deterministic(plan, tmp_path):
    actuals = write_actuals(tmp_path / "a.csv", Q1_ACTUALS)
    one = write_kpis(compute_kpis(plan, actuals), tmp_path / "one")
    two = write_kpis(compute_kpis(plan, actuals), tmp_path / "two")
    for name in ("kpis.csv", "kpis.html"):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_cli_writes_the_folder_and_prints_the_share(plan, tmp_path):
    from typer.testing import CliRunner

    from territory_engine.cli.main import app

    actuals = write_actuals(tmp_path / "a.csv", Q1_ACTUALS)
    done = CliRunner().invoke(app, ["kpis", str(plan), str(actuals), "-o", str(tmp_path / "k")])
    assert done.exit_code == 0, done.output
    assert "60.0 % (3 of 5)" in done.stdout
    assert "in the healthy band" in done.stdout
    assert (tmp_path / "k" / "kpis.html").is_file()
    # --as-of that is not a month: exit 2, one line, the previous folder untouched.
    before = (tmp_path / "k" / "kpis.json").read_bytes()
    args = ["kpis", str(plan), str(actuals), "-o", str(tmp_path / "k"), "--as-of", "2027-13"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2
    assert done.stderr.strip() == "error: --as-of '2027-13' is not a month; write it as YYYY-MM"
    assert (tmp_path / "k" / "kpis.json").read_bytes() == before


def test_cli_bad_actuals_one_line_exit_2_nothing_written(plan, tmp_path):
    # A subprocess, as a user runs it: one line on stderr, no traceback.
    bad = tmp_path / "bad.csv"
    bad.write_text("account_id,month,revenue\nA1,2027-01,10\nA99,2027-01,5\n", encoding="utf-8")
    done = run_cli("kpis", str(plan), str(bad), cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert (
        "bad.csv, row 3, id 'A99', column 'account_id': 'A99' is not an account of the plan"
        in lines[0]
    )
    assert "territory-engine assign" in lines[0]
    assert not (plan / "kpis").exists()


def test_hierarchy_levels_with_other_names_are_lowest_and_highest(plan, tmp_path):
    pd.DataFrame(
        {
            "territory_id": TERRITORIES,
            "rep_id": REPS,
            "area": ["A1", "A1", "A2", "A2", "A3"],
            "zone": ["Z"] * 5,
            "manager": "",
        }
    ).to_csv(plan / "hierarchy.csv", index=False)
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    assert result.table["district"].tolist() == ["A1", "A1", "A2", "A2", "A3"]
    assert result.by_region["group"].tolist() == ["Z"]


def test_a_folder_of_other_files_is_never_replaced(plan, tmp_path):
    result = compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match=r"mine: exists and is not a KPI folder .*'notes.txt'"):
        write_kpis(result, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"
    with pytest.raises(InputError, match="exists and is not a folder"):
        write_kpis(result, tmp_path / "mine" / "notes.txt")
    write_kpis(result, tmp_path / "k")
    assert write_kpis(result, tmp_path / "k").is_dir()  # an earlier KPI folder is replaced


def test_a_bad_forecast_value_is_named(plan, tmp_path):
    (plan / "forecasts.csv").write_text(
        "level,id,month,forecast\nterritory,T-R1,2027-01,100\nterritory,T-R1,2027-02,abc\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"forecasts\.csv, row 3, column 'forecast': 'abc' is not"):
        compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))
    (plan / "forecasts.csv").write_text("level,id,value\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"forecasts\.csv: missing column\(s\) month, forecast"):
        compute_kpis(plan, write_actuals(tmp_path / "a.csv", Q1_ACTUALS))


@pytest.mark.slow
def test_the_sample_flow_with_generated_actuals(plan_dir, tmp_path):
    """The README's flow on the sample plan: seeded actuals, then the KPIs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_actuals", Path(__file__).resolve().parents[2] / "benchmarks" / "make_actuals.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = module.make_actuals(plan_dir, months=4)
    again = module.make_actuals(plan_dir, months=4)
    pd.testing.assert_frame_equal(frame, again)  # seeded
    assert sorted(frame["month"].unique()) == ["2027-01", "2027-02", "2027-03", "2027-04"]
    actuals = tmp_path / "actuals.csv"
    frame.to_csv(actuals, index=False)
    result = compute_kpis(plan_dir, actuals)
    splits = pd.read_csv(plan_dir / "quota_splits.csv")
    q = splits.pivot(index="territory_id", columns="period", values="quota")
    expected = (q["Q1"] + q["Q2"] / 3).reindex(result.table["territory_id"]).to_numpy()
    assert result.table["ytd_quota"].to_numpy() == pytest.approx(expected)
    assert result.summary["ytd_actual"] == pytest.approx(frame["revenue"].sum())
    s = result.summary
    assert s["share_on_pace"] == pytest.approx(s["reps_on_pace"] / s["reps_counted_prorated"])
    assert 0.2 < s["share_on_pace"] < 0.9
    assert result.by_segment["reps"].sum() == len(result.table)
