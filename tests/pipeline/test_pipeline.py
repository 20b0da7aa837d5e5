"""End to end on the bundled sample: ``fy_baseline.yaml`` through ``run_scenario``.

The baseline is solved once per session (about 15 s) and every test reads the
plan folder it wrote; the determinism test solves it once more.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from territory_engine.config import scenario_hash
from territory_engine.pipeline import run_scenario
from territory_engine.plan.atomic import write_folder_atomically
from territory_engine.plan.files import PLAN_FILES
from territory_engine.plan.model import ASSIGNMENT_COLUMNS

EXPECTED_ASSIGNMENT_COLUMNS = [
    "account_id",
    "territory_id",
    "rep_id",
    "unit_id",
    "previous_rep_id",
    "moved",
    "kept_for_relationship",
]
BALANCED = ("potential", "workload_hours")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def assignments(plan_dir) -> pd.DataFrame:
    # Every cell as text, "" for empty: the file as a planner's script reads it.
    return pd.read_csv(plan_dir / "assignments.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def territories(plan_dir) -> pd.DataFrame:
    return pd.read_csv(plan_dir / "territories.csv", dtype={"territory_id": str, "rep_id": str})


@pytest.fixture(scope="session")
def quotas(plan_dir) -> pd.DataFrame:
    return pd.read_csv(plan_dir / "quotas.csv", dtype={"territory_id": str, "rep_id": str})


@pytest.fixture(scope="session")
def card(plan_dir) -> dict:
    return json.loads((plan_dir / "scorecard.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def manifest(plan_dir) -> dict:
    return json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def recomputed(assignments, sample_accounts) -> pd.DataFrame:
    """Potential and workload per territory, summed by hand from the account table."""
    merged = assignments.merge(sample_accounts, on="account_id", validate="one_to_one")
    return merged.groupby("territory_id")[list(BALANCED)].sum()


@pytest.fixture(scope="session")
def county_part_points(sample_dir) -> tuple[np.ndarray, np.ndarray]:
    """A point inside each polygon part of each county, and that county's id."""
    counties = gpd.read_file(sample_dir / "counties.gpkg", layer="counties")
    parts = counties[["unit_id", "geometry"]].explode(index_parts=False)
    points = shapely.point_on_surface(parts.geometry.array)
    return np.asarray(points), parts["unit_id"].to_numpy()


# --------------------------------------------------------------------------- helpers


def pieces_through_counties(territory, county_points, county_ids) -> int:
    """Connected pieces of a territory's polygon, where counties link what they span.

    Parts of the dissolved polygon are joined when they touch (a 1e-6 degree
    buffer absorbs corner contacts and GeoJSON rounding) or when they hold
    pieces of one and the same county: Dare County, NC is four polygons (Outer
    Banks, Roanoke Island, mainland), so a territory holding it and its
    neighbours is several polygons yet one connected set of counties. This is
    what contiguity means on a county map, computed from the geometry alone,
    without the engine's adjacency graph.
    """
    parts = shapely.get_parts(territory)
    tree = shapely.STRtree(parts)
    touch = tree.query(shapely.buffer(parts, 1e-6), predicate="intersects")
    point_idx, part_idx = tree.query(county_points, predicate="within")
    hits = pd.DataFrame({"county": county_ids[point_idx], "part": part_idx})
    first = hits.groupby("county")["part"].transform("first").to_numpy()
    rows = np.concatenate([touch[0], part_idx])
    cols = np.concatenate([touch[1], first])
    graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(parts), len(parts)))
    n_pieces, _ = connected_components(graph, directed=False)
    return n_pieces


# --------------------------------------------------------------------------- plan folder


def test_every_plan_file_is_written_and_non_empty(plan_dir):
    for name in PLAN_FILES:
        assert (plan_dir / name).is_file(), name
        assert (plan_dir / name).stat().st_size > 0, name


def test_no_temporary_folder_is_left_beside_the_plan(plan_dir):
    assert sorted(p.name for p in plan_dir.parent.iterdir()) == [plan_dir.name]


def test_assignments_header_is_the_documented_columns_in_order(plan_dir):
    header = (plan_dir / "assignments.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == EXPECTED_ASSIGNMENT_COLUMNS
    assert list(ASSIGNMENT_COLUMNS) == EXPECTED_ASSIGNMENT_COLUMNS


def test_assignments_hold_every_account_exactly_once(assignments, sample_accounts):
    assert len(assignments) == len(sample_accounts) == 6000
    assert not assignments["account_id"].duplicated().any()
    assert set(assignments["account_id"]) == set(sample_accounts["account_id"])


def test_assignment_unit_is_the_county_of_the_account(assignments, sample_accounts):
    # The sample puts every account well inside its county_fips, so the
    # spatial join must agree with it.
    fips = sample_accounts.set_index("account_id")["county_fips"]
    assert (assignments["unit_id"].to_numpy() == fips.loc[assignments["account_id"]]).all()


# --------------------------------------------------------------------------- hard rules


def test_plan_is_feasible(manifest, card):
    assert manifest["feasible"] is True
    assert manifest["violations"] == []
    for name in BALANCED:
        assert card["balance"][name]["territories_out_of_band"] == 0


def test_every_territory_is_in_band_for_each_balanced_measure(territories):
    assert len(territories) == 45
    for name in BALANCED:
        assert territories[f"{name}_in_band"].astype(bool).all(), name


def test_territory_totals_recomputed_by_hand_match_and_lie_in_band(card, recomputed):
    # scorecard.json carries the territory table at full precision.
    table = pd.DataFrame(card["territories"]).set_index("territory_id")
    hand = recomputed.reindex(table.index, fill_value=0.0)
    for name in BALANCED:
        np.testing.assert_allclose(hand[name], table[name], rtol=1e-9, err_msg=name)
        assert (hand[name] >= table[f"{name}_low"] * (1 - 1e-9)).all(), name
        assert (hand[name] <= table[f"{name}_high"] * (1 + 1e-9)).all(), name


def test_territories_csv_totals_match_a_recomputation_to_1e_9(territories, recomputed):
    table = territories.set_index("territory_id")
    hand = recomputed.reindex(table.index, fill_value=0.0)
    for name in BALANCED:
        np.testing.assert_allclose(hand[name], table[name], rtol=1e-9, err_msg=name)


def test_every_account_goes_to_a_rep_of_its_segment(assignments, sample_accounts, sample_reps):
    account_segment = sample_accounts.set_index("account_id")["segment"]
    rep_segment = sample_reps.set_index("rep_id")["segment"]
    got = rep_segment.loc[assignments["rep_id"]].to_numpy()
    want = account_segment.loc[assignments["account_id"]].to_numpy()
    assert (got == want).all()


def test_territory_segment_is_its_reps_segment(territories, sample_reps):
    rep_segment = sample_reps.set_index("rep_id")["segment"]
    assert (territories["segment"].to_numpy() == rep_segment.loc[territories["rep_id"]]).all()


def test_locked_account_stays_with_its_rep(baseline, assignments):
    locks = [lock for lock in baseline.constraints.locks if lock.account is not None]
    assert locks, "the baseline scenario is expected to lock an account"
    owner = assignments.set_index("account_id")["rep_id"]
    for lock in locks:
        assert owner[lock.account] == lock.rep


def test_moved_flag_means_a_previous_owner_who_lost_the_account(assignments):
    prev, rep = assignments["previous_rep_id"], assignments["rep_id"]
    expected = (prev != "") & (prev != rep)
    assert assignments["moved"].isin(["True", "False"]).all()
    assert ((assignments["moved"] == "True") == expected).all()
    # Sanity: the sample has new accounts (no owner) and the plan moves some.
    assert (prev == "").any()
    assert expected.any()


# --------------------------------------------------------------------------- contiguity


def test_scorecard_reports_no_territory_in_pieces(card, manifest):
    assert manifest["problem"]["contiguity"] is True
    assert card["contiguity"]["territories_in_pieces"] == 0
    assert card["contiguity"]["max_pieces"] == 1


def test_each_territory_polygon_is_one_connected_set_of_counties(plan_dir, county_part_points):
    geo = gpd.read_file(plan_dir / "territories.geojson")
    assert geo.crs.to_epsg() == 4326
    assert len(geo) == 45 and not geo.geometry.is_empty.any()
    pieces = {
        tid: pieces_through_counties(geom, *county_part_points)
        for tid, geom in zip(geo["territory_id"], geo.geometry, strict=True)
    }
    assert {tid: n for tid, n in pieces.items() if n != 1} == {}


def test_piece_count_flags_a_scattered_plan(sample_dir, county_part_points):
    # Control of the check above: counties dealt at random to 24 territories
    # (like the smb layer) must come out in pieces almost everywhere.
    counties = gpd.read_file(sample_dir / "counties.gpkg", layer="counties")
    counties["territory"] = np.random.default_rng(0).integers(0, 24, len(counties))
    scattered = counties.dissolve(by="territory")
    pieces = [pieces_through_counties(g, *county_part_points) for g in scattered.geometry]
    assert min(pieces) > 1
    assert np.median(pieces) >= 10


# --------------------------------------------------------------------------- quotas


def test_one_quota_per_territory(quotas, territories):
    assert not quotas["territory_id"].duplicated().any()
    assert set(quotas["territory_id"]) == set(territories["territory_id"])


def test_quotas_sum_to_the_growth_target_to_the_cent(quotas, baseline, sample_accounts):
    growth = baseline.quota.growth
    assert growth == pytest.approx(0.08)
    target = (1 + growth) * sample_accounts["last_year_revenue"].sum()
    cents = np.round(quotas["quota"].to_numpy() * 100).astype(np.int64)
    assert cents.sum() == round(target * 100)


def test_quotas_are_whole_thousands_but_at_most_one(quotas):
    cents = np.round(quotas["quota"].to_numpy() * 100).astype(np.int64)
    # The remainder of the rounding to $1,000 goes to a single territory.
    assert (cents % 100_000 != 0).sum() <= 1


# --------------------------------------------------------------------------- scorecard


def test_scorecard_counts_match_the_plan_tables(card, assignments, territories):
    assert card["n_accounts"] == len(assignments)
    assert card["n_territories"] == len(territories)


def test_scorecard_moved_accounts_is_the_count_of_moved_rows(card, assignments):
    assert card["disruption"]["moved_accounts"] == (assignments["moved"] == "True").sum()


def test_scorecard_moved_potential_is_the_potential_of_moved_rows(
    card, assignments, sample_accounts
):
    merged = assignments.merge(sample_accounts[["account_id", "potential"]], on="account_id")
    moved = merged.loc[merged["moved"] == "True", "potential"].sum()
    assert card["disruption"]["moved_potential"] == pytest.approx(moved, rel=1e-12)
    share = moved / sample_accounts["potential"].sum()
    assert card["disruption"]["moved_potential_share"] == pytest.approx(share, rel=1e-12)


def test_scorecard_max_deviation_is_recomputable_from_territories_csv(card, territories):
    for name in BALANCED:
        ratio = territories[name] / territories[f"{name}_fair_share"]
        # territories.csv prints 6 significant digits, hence the tolerance.
        expected = (ratio - 1).abs().max()
        assert card["balance"][name]["max_rel_dev"] == pytest.approx(expected, rel=1e-9)


def test_scorecard_quota_total_is_the_sum_of_quotas(card, quotas):
    assert card["quota"]["total"] == pytest.approx(quotas["quota"].sum(), abs=0.005)


# --------------------------------------------------------------------------- provenance


def test_manifest_records_scenario_seed_solver_versions_and_timings(manifest, baseline):
    assert manifest["scenario_hash"] == scenario_hash(baseline)
    assert len(manifest["scenario_hash"]) == 64
    assert manifest["seed"] == baseline.solver.seed == 2027
    solver = manifest["solver"]
    assert {"seconds", "stop_reason", "objective", "search_moves"} <= set(solver)
    assert solver["seconds"] > 0
    versions = manifest["versions"]
    for package in ("territory_engine", "python", "numpy", "pandas", "geopandas", "ortools"):
        assert versions.get(package) not in (None, "", "absent"), package
    timings = manifest["timings_seconds"]
    assert set(timings) == {"load", "solve", "plan", "write"}
    assert all(value >= 0 for value in timings.values())
    assert manifest["files"] == list(PLAN_FILES)


def test_same_scenario_twice_gives_byte_identical_assignments(
    plan_dir, baseline, tmp_path, manifest
):
    again = tmp_path / "again"
    run_scenario(baseline, output=again)
    # Both searches ran to convergence, so the time limit did not cut either.
    assert manifest["solver"]["stop_reason"] == "converged"
    second = json.loads((again / "plan.json").read_text(encoding="utf-8"))
    assert second["solver"]["stop_reason"] == "converged"
    first_bytes = (plan_dir / "assignments.csv").read_bytes()
    assert (again / "assignments.csv").read_bytes() == first_bytes


# --------------------------------------------------------------------------- atomic write


def _write_files(files: dict[str, str], *, fail: bool = False):
    def write(folder: Path) -> None:
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        if fail:
            raise RuntimeError("disk full")

    return write


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_atomic_write_keeps_the_old_folder_when_writing_fails(tmp_path):
    target = tmp_path / "plan"
    target.mkdir()
    (target / "assignments.csv").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"):
        write_folder_atomically(target, _write_files({"assignments.csv": "new"}, fail=True))
    assert _contents(target) == {"assignments.csv": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_atomic_write_creates_nothing_when_the_first_write_fails(tmp_path):
    with pytest.raises(RuntimeError):
        write_folder_atomically(tmp_path / "plan", _write_files({"a.csv": "x"}, fail=True))
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_the_old_folder_on_success(tmp_path):
    target = tmp_path / "plan"
    target.mkdir()
    (target / "stale.csv").write_text("old", encoding="utf-8")
    returned = write_folder_atomically(target, _write_files({"assignments.csv": "new"}))
    assert returned == target.resolve()
    # Files of the old plan that the new one lacks are gone too.
    assert _contents(target) == {"assignments.csv": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]
