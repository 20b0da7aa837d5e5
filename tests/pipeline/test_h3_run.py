"""``data.units: {h3: RES}``: a plan from an account table alone, through the command line."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from territory_engine.geo.h3_units import cell_adjacency, cell_polygons
from tests.cli_run import run_cli

RES = 7


def _write(folder, units_line: str = f"{{h3: {RES}}}") -> None:
    rng = np.random.default_rng(3)
    # Three towns tens of km apart: their cells are joined by paths of empty cells.
    towns = np.array([(-84.39, 33.75), (-84.0, 34.2), (-83.63, 33.3)])
    n = 30
    xy = towns[np.arange(n) % 3] + rng.normal(0.0, 0.03, size=(n, 2))
    pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "name": [f"Account {i}" for i in range(n)],
            "lat": xy[:, 1].round(6),
            "lon": xy[:, 0].round(6),
            "county_fips": "",
            "industry": "Retail",
            "segment": "commercial",
            "potential": rng.integers(50, 150, n),
            "last_year_revenue": 10,
            "workload_hours": 1.0,
            "current_rep_id": "",
            "parent_account_id": "",
        }
    ).to_csv(folder / "accounts.csv", index=False)
    pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "name": ["One", "Two", "Three"],
            "home_lat": towns[:, 1],
            "home_lon": towns[:, 0],
            "home_city": "",
            "segment": "commercial",
            "capacity_fte": 1.0,
            "start_date": "2020-01-01",
            "last_year_quota": 0,
        }
    ).to_csv(folder / "reps.csv", index=False)
    (folder / "scenario.yaml").write_text(
        "name: h3 test\n"
        "data:\n"
        "  accounts: accounts.csv\n"
        "  reps: reps.csv\n"
        f"  units: {units_line}\n"
        "territories: {eligibility: none}\n"
        "balance:\n"
        "  potential: {tolerance: 0.25}\n"
        "constraints: {contiguity: true}\n"
        "solver: {seed: 0, time_limit: 10}\n"
        "output: {folder: plan}\n",
        encoding="utf-8",
    )


def test_h3_units_run_end_to_end_connected_and_holding_their_accounts(tmp_path):
    _write(tmp_path)
    done = run_cli("run", str(tmp_path / "scenario.yaml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = tmp_path / "plan"
    units = pd.read_csv(plan / "units.csv", dtype=str)
    cells = sorted(set(units["unit_id"]))
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == RES for c in cells)
    left, right = cell_adjacency(cells)
    graph = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(len(cells),) * 2)
    assert connected_components(graph, directed=False)[0] == 1
    accounts = pd.read_csv(tmp_path / "accounts.csv", dtype={"account_id": str})
    assignments = pd.read_csv(plan / "assignments.csv", dtype=str).merge(accounts, on="account_id")
    polygon = dict(zip(cells, cell_polygons(cells), strict=True))
    for row in assignments.itertuples():
        assert row.unit_id == h3.latlng_to_cell(row.lat, row.lon, RES)
        assert polygon[row.unit_id].buffer(1e-9).contains(shapely.Point(row.lon, row.lat))
    # Empty cells are units too: more units than cells holding accounts.
    assert len(cells) > assignments["unit_id"].nunique()
    assert set(assignments["rep_id"]) == {"R1", "R2", "R3"}
    assert (plan / "map.html").exists()


def _error(tmp_path, units_line: str) -> str:
    _write(tmp_path, units_line)
    done = run_cli("run", str(tmp_path / "scenario.yaml"), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "plan").exists()
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_an_h3_resolution_out_of_range_is_one_line(tmp_path):
    message = _error(tmp_path, "{h3: 16}")
    assert (
        "'data.units'" in message
        and "H3 resolution must be a whole number 0..15, got 16" in message
    )


def test_an_h3_mapping_with_another_key_says_what_it_takes(tmp_path):
    message = _error(tmp_path, "{h3: 6, ring: 2}")
    assert "a units mapping takes h3 and optionally split_share" in message and "ring" in message


def test_a_split_share_out_of_range_is_one_line(tmp_path):
    message = _error(tmp_path, "{h3: 6, split_share: 1.5}")
    assert "split_share must be a number in (0, 1], got 1.5" in message


def test_split_share_gives_the_dense_towns_finer_cells_and_a_plan(tmp_path):
    # At resolution 5 each town is one or two cells holding about a third of all
    # accounts: above split_share 0.2 of a fair territory (10 accounts of 30), so
    # they are split into resolution-6 children; the country between stays coarse.
    _write(tmp_path, "{h3: 5, split_share: 0.2}")
    done = run_cli("run", str(tmp_path / "scenario.yaml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = tmp_path / "plan"
    cells = sorted(set(pd.read_csv(plan / "units.csv", dtype=str)["unit_id"]))
    resolutions = {h3.get_resolution(c) for c in cells}
    assert resolutions == {5, 6}
    accounts = pd.read_csv(tmp_path / "accounts.csv", dtype={"account_id": str})
    assignments = pd.read_csv(plan / "assignments.csv", dtype=str).merge(accounts, on="account_id")
    # The towns were split: most accounts stand in resolution-6 cells (a few, near
    # a split cell's edge, in a whole neighbour that H3 makes their parent).
    fine = assignments["unit_id"].map(h3.get_resolution) == 6
    assert fine.mean() >= 0.8
    polygon = dict(zip(cells, cell_polygons(cells), strict=True))
    for row, is_fine in zip(assignments.itertuples(), fine, strict=True):
        # A fine cell holds its accounts exactly; a whole one within its edge (~9 km).
        slack = 1e-9 if is_fine else 0.1
        assert polygon[row.unit_id].buffer(slack).contains(shapely.Point(row.lon, row.lat))
    assert set(assignments["rep_id"]) == {"R1", "R2", "R3"}
