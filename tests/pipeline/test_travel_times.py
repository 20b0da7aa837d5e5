"""``data.travel_times``: minutes from a routing engine replace km in the objective and scorecard.

A hand-made instance of four square units in a row and two reps at its ends:
by km each rep takes its own half; the travel times say the reverse (a river
between each rep and their own half), and the plan follows the minutes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from tests.cli_run import run_cli

UNITS = ["u1", "u2", "u3", "u4"]
# Minutes from each rep's home: R1 lives in u1 but reaches u3/u4 fastest, R2 the reverse.
MINUTES = {
    "R1": {"u1": 100.0, "u2": 90.0, "u3": 10.0, "u4": 5.0},
    "R2": {"u1": 5.0, "u2": 10.0, "u3": 90.0, "u4": 100.0},
}


def _write_instance(folder: Path, *, travel: pd.DataFrame | None, extra: str = "") -> Path:
    """Units, accounts (two per unit), reps and a scenario; returns the scenario file."""
    folder.mkdir(parents=True, exist_ok=True)
    polygons = [shapely.box(-84.0 + i, 33.0, -83.0 + i, 34.0) for i in range(4)]
    gpd.GeoDataFrame({"unit_id": UNITS}, geometry=polygons, crs="EPSG:4326").to_file(
        folder / "units.gpkg", driver="GPKG"
    )
    rows = []
    for i, unit in enumerate(UNITS):
        for j in range(2):
            rows.append(
                {
                    "account_id": f"A{2 * i + j + 1}",
                    "name": f"Account {unit}-{j}",
                    "lat": 33.3 + 0.4 * j,
                    "lon": -83.5 + i,
                    "county_fips": "",
                    "industry": "Retail",
                    "segment": "commercial",
                    "potential": 100,
                    "last_year_revenue": 50,
                    "workload_hours": 1,
                    "current_rep_id": "",
                    "parent_account_id": "",
                }
            )
    pd.DataFrame(rows).to_csv(folder / "accounts.csv", index=False)
    pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["West Rep", "East Rep"],
            "home_lat": [33.5, 33.5],
            "home_lon": [-83.5, -80.5],
            "home_city": ["", ""],
            "segment": ["commercial", "commercial"],
            "capacity_fte": [1.0, 1.0],
            "start_date": ["2020-01-01", "2020-01-01"],
            "last_year_quota": [0, 0],
        }
    ).to_csv(folder / "reps.csv", index=False)
    travel_line = ""
    if travel is not None:
        travel.to_csv(folder / "travel.csv", index=False)
        travel_line = "  travel_times: travel.csv\n"
    scenario = folder / "scenario.yaml"
    scenario.write_text(
        "name: travel test\n"
        "data:\n"
        "  accounts: accounts.csv\n"
        "  reps: reps.csv\n"
        "  units: units.gpkg\n"
        f"{travel_line}"
        "territories: {eligibility: none}\n"
        "balance:\n"
        "  potential: {tolerance: 0.05}\n"
        "objective: {travel: 1.0, disruption: 0.0}\n"
        "solver: {seed: 1, time_limit: 10}\n"
        "output: {folder: plan}\n"
        f"{extra}",
        encoding="utf-8",
    )
    return scenario


def _rep_unit_table(minutes: dict[str, dict[str, float]] = MINUTES) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"rep_id": r, "unit_id": u, "minutes": m}
            for r, row in minutes.items()
            for u, m in row.items()
        ]
    )


def _owners(plan: Path) -> dict[str, str]:
    assignments = pd.read_csv(plan / "assignments.csv", dtype=str)
    return dict(zip(assignments["unit_id"], assignments["rep_id"], strict=False))


def test_travel_times_make_the_far_rep_the_cheapest_and_the_plan_follows(tmp_path):
    by_km = _write_instance(tmp_path / "km", travel=None)
    done = run_cli("run", str(by_km), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _owners(by_km.parent / "plan") == {"u1": "R1", "u2": "R1", "u3": "R2", "u4": "R2"}

    by_time = _write_instance(tmp_path / "min", travel=_rep_unit_table())
    done = run_cli("run", str(by_time), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = by_time.parent / "plan"
    assert _owners(plan) == {"u1": "R2", "u2": "R2", "u3": "R1", "u4": "R1"}
    card = json.loads((plan / "scorecard.json").read_text(encoding="utf-8"))
    # Every account travels the minutes of its unit from its rep: 5, 10, 10, 5 (two each).
    assert card["travel"]["unit"] == "min"
    assert card["travel"]["mean_km"] == pytest.approx(7.5)
    assert card["travel"]["max_km"] == pytest.approx(10.0)
    assert "travel: mean / max min" in done.stdout
    recorded = re.search(r"recorded as plan (\w+)", done.stdout + done.stderr)
    assert recorded is not None, done.stdout
    store = str(by_time.parent / "plans.sqlite")  # the default: beside the plan folder
    shown = run_cli("plans", "show", recorded[1], "--store", store, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "travel: mean / max min" in shown.stdout
    report = (plan / "report.html").read_text(encoding="utf-8")
    assert "travel mean min" in report
    assert "travel mean km" not in report
    assert "10.0 min" in report  # the scorecard table's max travel
    # The rep's own page shows the plan's travel unit too.
    from territory_engine.plan.compare import team_standing
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.render.rep_view import render_rep_page, rep_rows

    folder = read_plan_folder(plan)
    rows = rep_rows(folder, "R1")
    assert rows.travel_unit == "min"
    standing = team_standing(folder.territories, folder.quotas, "R1", folder.measures)
    page = render_rep_page(rows, standing, plan_name=folder.name, measures=folder.measures)
    assert "mean travel (min)" in page and "mean travel (km)" not in page
    # Compare pages: two minute plans compare in minutes; km against minutes is flagged.
    same = run_cli("compare", str(plan), str(plan), "-o", str(tmp_path / "c1"), cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    page = (tmp_path / "c1" / "compare.html").read_text(encoding="utf-8")
    assert "mean min" in page and "Travel does not compare" not in page
    mixed = run_cli(
        "compare", str(by_km.parent / "plan"), str(plan), "-o", str(tmp_path / "c2"), cwd=tmp_path
    )
    assert mixed.returncode == 0, mixed.stderr
    page = (tmp_path / "c2" / "compare.html").read_text(encoding="utf-8")
    assert "Travel does not compare" in page and "mean km" not in page


def test_a_km_plan_keeps_its_scorecard_without_a_unit(tmp_path):
    scenario = _write_instance(tmp_path, travel=None)
    done = run_cli("run", str(scenario), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    card = json.loads((tmp_path / "plan" / "scorecard.json").read_text(encoding="utf-8"))
    assert "unit" not in card["travel"]
    assert "travel: mean / max km" in done.stdout


def test_a_unit_by_unit_matrix_is_read_from_each_reps_home_unit(tmp_path):
    # R1's home is in u1 and R2's in u4: their rows of the matrix are MINUTES; the
    # other rows are noise that must not matter. u4 -> u1 is given only backwards.
    rows = [{"from_unit": "u1", "to_unit": u, "minutes": m} for u, m in MINUTES["R1"].items()]
    rows += [
        {"from_unit": "u4", "to_unit": u, "minutes": m}
        for u, m in MINUTES["R2"].items()
        if u not in ("u1", "u4")
    ]
    rows += [{"from_unit": "u1", "to_unit": "u4", "minutes": 5.0}]  # both ways: 5 minutes
    rows += [{"from_unit": "u2", "to_unit": "u3", "minutes": 999.0}]
    table = pd.DataFrame(rows).drop_duplicates(["from_unit", "to_unit"], keep="last")
    # u1 -> u4 appears twice above (5 from MINUTES and 5 again); keep one row per pair.
    scenario = _write_instance(tmp_path, travel=table)
    done = run_cli("run", str(scenario), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # R2 (home u4) reaches u1 in 5 (the reverse pair) and u4 in 0 (its own unit).
    assert _owners(tmp_path / "plan") == {"u1": "R2", "u2": "R2", "u3": "R1", "u4": "R1"}


def _fails(tmp_path: Path, table: pd.DataFrame | None, *, extra: str = "") -> str:
    scenario = _write_instance(tmp_path, travel=table, extra=extra)
    done = run_cli("run", str(scenario), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "plan").exists()
    # Progress lines go to stderr too; the error is one line of its own.
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_rep_missing_from_the_table_is_named(tmp_path):
    table = _rep_unit_table()
    message = _fails(tmp_path, table[table["rep_id"] != "R2"])
    assert "travel.csv" in message
    assert "no travel times for 1 of the 2 reps: R2" in message


def test_a_unit_missing_from_the_table_is_named(tmp_path):
    table = _rep_unit_table()
    message = _fails(tmp_path, table[table["unit_id"] != "u3"])
    assert "no travel times to 1 of the 4 units: u3" in message


def test_a_missing_pair_is_named_with_the_count(tmp_path):
    table = _rep_unit_table()
    table = table[~((table["rep_id"] == "R1") & (table["unit_id"] == "u2"))]
    message = _fails(tmp_path, table)
    assert "lacks 1 rep_id → unit pairs: R1 → u2" in message


def test_unknown_ids_in_the_table_hint_at_an_id_mismatch(tmp_path):
    table = _rep_unit_table()
    table.loc[table["unit_id"] == "u3", "unit_id"] = "U3"
    message = _fails(tmp_path, table)
    assert "u3" in message and "U3" in message and "units the scenario lacks" in message


def test_negative_minutes_name_the_row(tmp_path):
    table = _rep_unit_table()
    table.loc[2, "minutes"] = -4.0
    message = _fails(tmp_path, table)
    assert "row 4" in message and "minutes" in message


def test_blank_minutes_name_the_row(tmp_path):
    table = _rep_unit_table().astype({"minutes": object})
    table.loc[5, "minutes"] = ""
    message = _fails(tmp_path, table)
    assert "row 7" in message and "minutes" in message


def test_a_pair_given_twice_names_both_rows(tmp_path):
    table = _rep_unit_table()
    table = pd.concat([table, table.iloc[[3]]], ignore_index=True)
    message = _fails(tmp_path, table)
    assert "row 10" in message and "given twice (first at row 5)" in message


def test_a_table_of_another_shape_says_which_columns_it_needs(tmp_path):
    table = _rep_unit_table().rename(columns={"rep_id": "rep"})
    message = _fails(tmp_path, table)
    assert "rep_id, unit_id, minutes" in message and "from_unit, to_unit, minutes" in message


def test_free_centres_with_travel_times_are_refused(tmp_path):
    message = _fails(
        tmp_path,
        _rep_unit_table(),
        extra="territories: {mode: count, count: 2, eligibility: none}\n",
    )
    assert "data.travel_times needs one territory per rep" in message
