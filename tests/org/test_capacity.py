"""``territory-engine capacity``: the plan at each headcount, and the recommended headcount.

A hand-made instance with a known answer: six square units in a row, two accounts
each, 500 workload hours a unit (3,000 in all), one segment. With 1,000 selling
hours per FTE the work needs 3 FTE. Quotas sum to ``T = 12,000`` and come out
close to ``T·P/ΣP`` per territory; expected sales are ``E = 0.12·P``. A unit holds
about 20,500 of potential (``ΣP = 123,000``, a little more to the east so that no two
territories are expected at exactly the same attainment), so a fully covered rep is
expected at about 123 % of quota. With ``cv: 0.02``:

* 1 rep: coverage 1/3, about 41 % of quota expected: nobody at quota;
* 2 reps: coverage 2/3, about 82 %: nobody;
* 3 reps (two units each, coverage 1): about 123 %: everybody;
* 4 reps (2, 2, 1, 1 units, every one covered): everybody.

So 3 is the smallest headcount in a 90–100 % band. Ramp shortfalls are held back,
so a hire's ramp changes no other rep's quota. Today there are two reps: R1 (four
units of last year's book) and R2 (two), so a cut falls on R2, and the first hire
goes to the gazetteer place in the middle of the row.

Everything runs serially (``--serial``) with short time limits; the sweep tests run
the Dask path.
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territory_engine.errors import InputError, ScenarioError
from territory_engine.org.capacity import CapacitySettings, plan_capacity
from territory_engine.org.capacity.headcount import (
    parse_band,
    parse_headcounts,
    parse_start_dates,
)
from territory_engine.org.capacity.measures import coverage, recommend
from tests.cli_run import run_cli

UNITS = [f"u{i}" for i in range(1, 7)]
SETTINGS = CapacitySettings(hours_per_fte=1000.0, band=(0.9, 1.0))


def _write_instance(folder: Path) -> Path:
    """Units, accounts, reps, places and a scenario; returns the scenario file."""
    folder.mkdir(parents=True, exist_ok=True)
    polygons = [shapely.box(-84.0 + i, 33.0, -83.0 + i, 34.0) for i in range(6)]
    gpd.GeoDataFrame({"unit_id": UNITS}, geometry=polygons, crs="EPSG:4326").to_file(
        folder / "units.gpkg", driver="GPKG"
    )
    rows = []
    for i, unit in enumerate(UNITS):
        for j in range(2):
            rows.append(
                {
                    "account_id": f"A{2 * i + j + 1:02d}",
                    "name": f'=HYPERLINK("x") <b>{unit}-{j}</b>',
                    "lat": 33.3 + 0.4 * j,
                    "lon": -83.5 + i,
                    "county_fips": "",
                    "industry": "Retail",
                    "segment": "smb",
                    "potential": 10_000 + 100 * i,
                    "last_year_revenue": 1_000,
                    "workload_hours": 250,
                    "current_rep_id": "R1" if i < 4 else "R2",
                    "parent_account_id": "",
                }
            )
    pd.DataFrame(rows).to_csv(folder / "accounts.csv", index=False)
    pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["West <script>x</script>", "East Rep"],
            "home_lat": [33.5, 33.5],
            "home_lon": [-83.5, -78.5],
            "home_city": ["Westville, GA", "Eastville, GA"],
            "segment": ["smb", "smb"],
            "capacity_fte": [1.0, 1.0],
            "start_date": ["2020-01-01", "2021-01-01"],
            "last_year_quota": [0, 0],
        }
    ).to_csv(folder / "reps.csv", index=False)
    pd.DataFrame(
        {
            "name": ["Westville", "Middletown", "Eastville", "Smallville"],
            "state": ["GA", "GA", "GA", "GA"],
            "lat": [33.5, 33.5, 33.5, 33.5],
            "lon": [-83.4, -81.0, -78.6, -80.0],
            "population": [50_000, 40_000, 30_000, 100],
        }
    ).to_csv(folder / "places.csv", index=False)
    scenario = folder / "scenario.yaml"
    scenario.write_text(
        "name: capacity test\n"
        "data: {accounts: accounts.csv, reps: reps.csv, units: units.gpkg, "
        "places: places.csv}\n"
        "territories: {eligibility: segment}\n"
        "balance:\n"
        "  potential: {tolerance: 0.4}\n"
        "  workload_hours: {tolerance: 0.4}\n"
        "objective: {travel: 1.0, disruption: 0.0}\n"
        "constraints: {contiguity: true}\n"
        "quota:\n"
        "  method: potential\n"
        "  target: 12000\n"
        "  rounding: 1\n"
        "  plan_start: 2027-01-01\n"
        "  ramp: {schedule: [0.5, 1.0], shortfall: hold_back}\n"
        "  attainment: {expected_capture: 0.12, cv: 0.02}\n"
        "solver: {seed: 1, time_limit: 5}\n"
        "output: {folder: out/plan}\n",
        encoding="utf-8",
    )
    return scenario


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    return _write_instance(tmp_path_factory.mktemp("capacity"))


@pytest.fixture(scope="module")
def result(instance):
    """Headcounts 1 to 4, serially, the hires starting at the plan start."""
    return plan_capacity(
        instance,
        [1, 2, 3, 4],
        settings=SETTINGS,
        output=instance.parent / "out" / "capacity",
        serial=True,
        time_limit=5,
    )


# --------------------------------------------------------------------------- known answer


def test_the_smallest_headcount_that_covers_the_work_is_recommended(result):
    table = result.table.set_index("headcount")
    assert result.today == 2
    assert list(table["status"]) == ["ok"] * 4
    assert table.loc[1, "share_at_quota"] == pytest.approx(0.0, abs=1e-3)
    assert table.loc[2, "share_at_quota"] == pytest.approx(0.0, abs=1e-3)
    assert table.loc[3, "share_at_quota"] == pytest.approx(1.0, abs=1e-3)
    assert table.loc[4, "share_at_quota"] == pytest.approx(1.0, abs=1e-3)
    assert result.recommendation.headcount == 3
    assert "3 reps" in result.recommendation.reason
    assert list(table["recommended"]) == [False, False, True, False]
    assert list(table["in_band"]) == [False, False, True, True]
    # Without the hours limit, one rep alone would be expected at 123 % of quota.
    assert table.loc[1, "share_at_quota_uncapped"] == pytest.approx(1.0, abs=1e-3)


def test_capacity_numbers_per_headcount(result):
    table = result.table.set_index("headcount")
    assert table["workload_per_fte"].tolist() == pytest.approx([3000, 1500, 1000, 750])
    assert table["utilisation"].tolist() == pytest.approx([3.0, 1.5, 1.0, 0.75])
    assert table["potential_per_fte"].tolist() == pytest.approx([123_000, 61_500, 41_000, 30_750])
    assert table.loc[1, "coverage_min"] == pytest.approx(1 / 3)
    assert table.loc[3, "over_capacity"] == 0
    assert table.loc[2, "over_capacity"] == 2
    assert table.loc[2, "quota_per_head"] == pytest.approx(6000)
    assert table.loc[2, "expected_sales_to_target"] == pytest.approx(
        0.12 * 123_000 * 2 / 3 / 12_000
    )
    assert (table["travel_mean_km"] > 0).all()
    assert (table["travel_max_km"] >= table["travel_mean_km"]).all()


def test_a_cut_falls_on_the_smallest_book_and_hires_go_where_they_pay_most(result):
    table = result.table.set_index("headcount")
    assert table.loc[1, "removed"] == "R2"
    assert table.loc[2, "change"] == "today"
    assert table.loc[3, "added"] == "NEW01 Middletown, GA"
    # Nested: the hire at 3 is also the first hire at 4.
    assert table.loc[4, "added"].startswith("NEW01 Middletown, GA; NEW02 ")
    # Smallville (100 people) is below the free-placement threshold.
    assert "Smallville" not in table.loc[4, "added"]


def test_hiring_plan_follows_the_ramp(result):
    hires = result.hiring[result.hiring["headcount"] == 3]
    assert list(hires["rep_id"]) == ["NEW01"]
    row = hires.iloc[0]
    # Schedule [0.5, 1.0]: half a quota for the first quarter in seat.
    assert row["ramp_factor"] == pytest.approx(0.5 * 0.25 + 0.75, abs=0.01)
    assert row["quota_ramped"] == pytest.approx(row["ramp_factor"] * row["quota_full_year"])
    assert row["quota_full_year"] == pytest.approx(4000, rel=0.01)


def test_the_folder_holds_the_summary_and_a_plan_per_headcount(result):
    folder = result.capacity_dir
    assert (folder / "capacity.csv").is_file() and (folder / "hiring.csv").is_file()
    for h in (1, 2, 3, 4):
        assert (folder / f"h{h:03d}" / "assignments.csv").is_file()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
    csv = pd.read_csv(folder / "capacity.csv")
    assert list(csv["headcount"]) == [1, 2, 3, 4]
    assert csv["plan_id"].notna().all()
    page = (folder / "capacity.html").read_text(encoding="utf-8")
    assert "<script>x</script>" not in page
    assert "Reps expected at or above quota" in page and "Hiring plan at 3 reps" in page


def test_same_seed_same_table(instance, result, tmp_path):
    again = plan_capacity(
        instance,
        [1, 3],
        settings=SETTINGS,
        output=tmp_path / "again",
        serial=True,
        record=False,
        time_limit=5,
        start_dates=[date(2020, 1, 1)],
    )
    first = result.table.set_index("headcount")
    second = again.table.set_index("headcount")
    for h in (1, 3):
        for column in ("share_at_quota", "removed", "added", "utilisation"):
            assert second.loc[h, column] == first.loc[h, column]
    # Started long before the plan year: fully ramped.
    assert again.hiring["ramp_factor"].tolist() == pytest.approx([1.0])


# --------------------------------------------------------------------------- rules alone


def _table(shares, statuses=None, utilisation=None):
    n = len(shares)
    return pd.DataFrame(
        {
            "headcount": list(range(10, 10 + n)),
            "status": statuses or ["ok"] * n,
            "share_at_quota": shares,
            "utilisation": utilisation or [1.0] * n,
        }
    )


def test_recommend_at_the_edges():
    band = (0.6, 0.7)
    assert recommend(_table([0.5, 0.62, 0.65]), band).headcount == 11
    every = recommend(_table([0.61, 0.65, 0.69]), band)
    assert every.headcount == 10 and "smallest headcount tried" in every.reason
    below = recommend(_table([0.3, 0.4], utilisation=[1.4, 1.2]), band)
    assert below.headcount is None and "try more reps" in below.reason
    flat = recommend(_table([0.5, 0.55], utilisation=[0.9, 0.8]), band)
    assert flat.headcount is None and "more reps do not raise it" in flat.reason
    above = recommend(_table([0.8, 0.9]), band)
    assert above.headcount is None and "fewer reps" in above.reason
    jump = recommend(_table([0.5, 0.8]), band)
    assert jump.headcount is None and "finer --reps step" in jump.reason
    # An infeasible plan in the band is never recommended.
    skip = recommend(_table([0.65, 0.66], statuses=["infeasible", "ok"]), band)
    assert skip.headcount == 11
    none = recommend(_table([0.65], statuses=["error"]), band)
    assert none.headcount is None and "feasible" in none.reason


def test_coverage_is_hours_over_workload_capped_at_one():
    got = coverage([2000.0, 500.0, 0.0], [1.0, 1.0, 0.5], 1000.0)
    assert got.tolist() == pytest.approx([0.5, 1.0, 1.0])


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("60:40", "'60:40': the first headcount (60) is above the last (40)"),
        ("40:4x", "'40:4x': write FIRST:LAST"),
        ("40:60:0", "the step must be at least 1"),
        ("0:3", "at least 1"),
        ("1:1000", "at most 200"),
    ],
)
def test_bad_reps_ranges(spec, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_headcounts(spec)


def test_parsers():
    assert parse_headcounts("40:44:2") == [40, 42, 44]
    assert parse_headcounts("45") == [45]
    assert parse_band("60:70") == pytest.approx((0.6, 0.7))
    assert parse_band("0.55:0.65") == pytest.approx((0.55, 0.65))
    with pytest.raises(InputError, match=re.escape("'0.7:0.6'")):
        parse_band("0.7:0.6")
    assert parse_start_dates("2027-04-01,2027-07-01") == [date(2027, 4, 1), date(2027, 7, 1)]
    with pytest.raises(InputError, match="'2027-02-30'"):
        parse_start_dates("2027-02-30")


def test_unknown_segment_and_city_fail_before_anything_runs(instance, tmp_path):
    with pytest.raises(InputError, match="--segment 'mid-market': not a segment of the reps"):
        plan_capacity(instance, [2, 3], segment="mid-market", output=tmp_path / "c", serial=True)
    with pytest.raises(ScenarioError, match="'Atlantis, GA'"):
        plan_capacity(
            instance, [2, 3], hire_in=["Atlantis, GA"], output=tmp_path / "c", serial=True
        )
    with pytest.raises(InputError, match="each team keeps one rep"):
        _cut_too_many(instance)
    assert not (tmp_path / "c").exists()


def _cut_too_many(instance: Path) -> None:
    from territory_engine.config import load_scenario
    from territory_engine.io.load import load_tables
    from territory_engine.org.capacity.headcount import removal_order, teams_today

    base = load_scenario(instance)
    tables = load_tables(base)
    team_list, _ = teams_today(base, tables)
    assert removal_order(base, tables, team_list, only=None, n=1) == ["R2"]
    removal_order(base, tables, team_list, only=None, n=2)


def test_cli_bad_input_is_one_line_naming_the_value(instance, tmp_path):
    cases = [
        (["--reps", "60:40"], "'60:40'"),
        (["--reps", "2:3", "--segment", "mid-market"], "'mid-market'"),
        (["--reps", "2:3", "--hire-in", "Atlantis, GA"], "'Atlantis, GA'"),
    ]
    for args, words in cases:
        out = run_cli(
            "capacity", str(instance), *args, "--serial", "-o", str(tmp_path / "c"), cwd=tmp_path
        )
        assert out.returncode == 2, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
        assert not (tmp_path / "c").exists()


def test_nothing_is_nan_where_a_plan_was_written(result):
    for column in ("share_at_quota", "quota_per_head", "potential_per_fte", "travel_mean_km"):
        assert not any(math.isnan(v) for v in result.table[column])


def test_untrusted_text_is_inert_in_the_page_and_the_csv(result, tmp_path):
    from territory_engine.org.capacity.run import _write_summary

    table = result.table.copy()
    table["added"] = ["", "", "NEW01 <script>alert(1)</script>", '=HYPERLINK("http://x")']
    table["error"] = ["<img src=x onerror=alert(1)>", "", "", ""]
    _write_summary(tmp_path, table, result.hiring, dict(result.info))
    page = (tmp_path / "capacity.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
    text = (tmp_path / "capacity.csv").read_text(encoding="utf-8")
    assert "\n4,+2,h004" in text and ",\"'=HYPERLINK(" in text


@pytest.mark.slow
def test_a_local_dask_cluster_gives_the_serial_answer(instance, result, tmp_path):
    """Two headcounts on a local cluster of two workers (about 15 s: cluster start-up)."""
    pytest.importorskip("distributed")
    on_dask = plan_capacity(
        instance,
        [2, 3],
        settings=SETTINGS,
        output=tmp_path / "dask",
        workers=2,
        record=False,
        time_limit=5,
    )
    assert on_dask.mode.startswith("local cluster of 2")
    assert on_dask.recommendation.headcount == 3
    serial = result.table.set_index("headcount")
    for r in on_dask.table.to_dict("records"):
        assert r["share_at_quota"] == pytest.approx(serial.loc[r["headcount"], "share_at_quota"])
        assert r["added"] == serial.loc[r["headcount"], "added"]
