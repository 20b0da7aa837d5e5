"""The drawn hierarchy: hand-made territory graphs with known groupings, invariants, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pydantic import ValidationError

from territory_engine.config.hierarchy_models import HierarchyConfig
from territory_engine.errors import InfeasibleError, InputError, ScenarioError
from territory_engine.org.hierarchy import (
    draw_hierarchy,
    group_adjacency,
    read_hierarchy,
    territory_adjacency,
)
from territory_engine.org.hierarchy.score import balance_score, group_pieces
from territory_engine.quota.hierarchy import drawn_columns, roll_up_drawn


def grid(
    rows: int, cols: int, weights: np.ndarray | None = None
) -> tuple[pd.DataFrame, sp.csr_matrix]:
    """A rows × cols rook grid of territories T0.. at lon = col, lat = row (1 degree apart)."""
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    right = np.flatnonzero(c < cols - 1)
    down = np.flatnonzero(r < rows - 1)
    i = np.concatenate([right, down])
    j = np.concatenate([right + 1, down + cols])
    adj = sp.csr_matrix((np.ones(len(i), bool), (i, j)), shape=(n, n))
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    frame = pd.DataFrame(
        {
            "territory_id": [f"T{t}" for t in range(n)],
            "rep_id": [f"R{t}" for t in range(n)],
            "centre_lon": c.astype(float),
            "centre_lat": r.astype(float),
            "potential": w * 100.0,
            "workload_hours": w * 10.0,
        }
    )
    return frame, ((adj + adj.T) > 0).tocsr()


def config(**kwargs) -> HierarchyConfig:
    base = {"levels": [{"name": "district", "count": 2}]}
    base.update(kwargs)
    return HierarchyConfig.model_validate(base)


def groups_of(h, level: str) -> list[set[str]]:
    table = h.table
    return sorted(
        (set(table.loc[table[level] == g, "territory_id"]) for g in table[level].unique()),
        key=lambda s: sorted(s),
    )


def test_two_by_four_grid_splits_into_its_two_halves():
    terr, adj = grid(2, 4)
    h = draw_hierarchy(terr, adj, config(), measures=["potential"], seed=1)
    assert h.feasible
    assert groups_of(h, "district") == [{"T0", "T1", "T4", "T5"}, {"T2", "T3", "T6", "T7"}]
    # Named west to east, whatever the solver's numbering.
    west = h.table.loc[h.table["territory_id"] == "T0", "district"].item()
    assert west == "district-1"


def test_line_of_six_into_three_gives_consecutive_pairs():
    terr, adj = grid(1, 6)
    h = draw_hierarchy(terr, adj, config(levels=[{"name": "district", "count": 3}]), seed=3)
    assert groups_of(h, "district") == [{"T0", "T1"}, {"T2", "T3"}, {"T4", "T5"}]
    assert list(h.table["district"]) == ["district-1"] * 2 + ["district-2"] * 2 + ["district-3"] * 2


def two_levels(seed: int = 5):
    rng = np.random.default_rng(11)
    terr, adj = grid(4, 6, rng.uniform(0.7, 1.3, 24))
    cfg = config(
        levels=[{"name": "district", "count": 6}, {"name": "region", "count": 2}],
        balance={"potential": {"tolerance": 0.15}, "workload_hours": {"tolerance": 0.15}},
    )
    return terr, adj, draw_hierarchy(terr, adj, cfg, seed=seed)


def test_invariants_every_territory_once_contiguous_in_band_nested():
    terr, adj, h = two_levels()
    assert h.feasible, h.violations
    table = h.table
    assert list(table.columns) == ["territory_id", "rep_id", "district", "region", "manager"]
    assert sorted(table["territory_id"]) == sorted(terr["territory_id"])
    assert table["district"].nunique() == 6 and table["region"].nunique() == 2
    # Level 2 groups whole level-1 groups: a district lies in exactly one region.
    assert (table.groupby("district")["region"].nunique() == 1).all()
    # Contiguity, checked independently of the solver's own report.
    codes = pd.factorize(table["district"])[0]
    assert (group_pieces(adj, codes, 6) == 1).all()
    # Bands: each district within ±15 % of a sixth of the totals.
    totals = terr.groupby(table["district"].to_numpy())[["potential", "workload_hours"]].sum()
    fair = terr[["potential", "workload_hours"]].sum() / 6
    assert ((totals / fair - 1).abs() <= 0.15 + 1e-9).all().all()
    # Regions: 3 districts each (share: children), ±15 % of half the totals.
    regions = terr.groupby(table["region"].to_numpy())[["potential"]].sum()
    assert ((regions["potential"] / (terr["potential"].sum() / 2) - 1).abs() <= 0.15).all()
    assert h.score["district"]["n_groups"] == 6
    assert h.score["district"]["balance"]["potential"]["out_of_band"] == 0
    assert h.score["region"]["contiguity"]["groups_in_pieces"] == 0


def test_same_seed_same_hierarchy():
    *_, a = two_levels(seed=7)
    *_, b = two_levels(seed=7)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.groups, b.groups)


def test_eight_districts_in_three_regions_of_three_three_and_two():
    terr, adj = grid(4, 8)
    cfg = config(levels=[{"name": "district", "count": 8}, {"name": "region", "count": 3}])
    h = draw_hierarchy(terr, adj, cfg, seed=2)
    assert h.feasible, h.violations
    sizes = sorted(h.table.groupby("region")["district"].nunique())
    assert sizes == [2, 3, 3]


def test_manager_home_is_respected_and_names_the_group():
    terr, adj = grid(1, 6)
    managers = [
        {
            "manager_id": "M2",
            "name": "Eve East",
            "lat": 0.0,
            "lon": 5.0,
            "level": "district",
            "group": "East",
        },
        {
            "manager_id": "M1",
            "name": "Walt West",
            "lat": 0.0,
            "lon": 0.0,
            "level": "district",
            "group": "West",
        },
    ]
    h = draw_hierarchy(terr, adj, config(managers=managers), seed=0)
    by_t = h.table.set_index("territory_id")
    assert by_t.loc["T0", "district"] == "West" and by_t.loc["T0", "manager"] == "M1"
    assert by_t.loc["T5", "district"] == "East" and by_t.loc["T5", "manager"] == "M2"
    assert groups_of(h, "district") == [{"T0", "T1", "T2"}, {"T3", "T4", "T5"}]
    east = h.groups[h.groups["id"] == "East"].iloc[0]
    assert east["manager_name"] == "Eve East"
    assert (east["centre_lon"], east["centre_lat"]) == (5.0, 0.0)


def test_previous_grouping_is_kept_when_it_is_balanced():
    terr, adj = grid(2, 4)
    # Last year: top row and bottom row. Balanced and contiguous, though less compact
    # than the halves the solver draws on its own (test above).
    reps = pd.DataFrame({"rep_id": terr["rep_id"], "district": ["North"] * 4 + ["South"] * 4})
    cfg = config(previous={"source": "reps", "weight": 5.0})
    h = draw_hierarchy(terr, adj, cfg, reps=reps, seed=1)
    assert groups_of(h, "district") == [{"T0", "T1", "T2", "T3"}, {"T4", "T5", "T6", "T7"}]
    assert set(h.table["district"]) == {"North", "South"}


def test_previous_grouping_out_of_band_is_rebalanced():
    terr, adj = grid(2, 4)
    reps = pd.DataFrame({"rep_id": terr["rep_id"], "old": ["A"] * 6 + ["B"] * 2})
    cfg = config(previous={"source": "reps", "columns": {"district": "old"}, "weight": 5.0})
    h = draw_hierarchy(terr, adj, cfg, reps=reps, seed=1)
    assert h.feasible
    assert sorted(h.table["district"].value_counts()) == [4, 4]


def test_previous_from_a_hierarchy_file(tmp_path):
    terr, adj = grid(2, 4)
    path = tmp_path / "hierarchy.csv"
    pd.DataFrame({"territory_id": terr["territory_id"], "district": ["N"] * 4 + ["S"] * 4}).to_csv(
        path, index=False
    )
    cfg = config(previous={"source": "file", "file": "hierarchy.csv", "weight": 5.0})
    h = draw_hierarchy(terr, adj, cfg, seed=1, base_dir=tmp_path)
    assert set(h.table.loc[h.table["territory_id"].isin(["T0", "T1"]), "district"]) == {"N"}


def test_overlay_territories_that_share_a_unit_are_adjacent():
    # Two geo units a-b adjacent; layer 1: T0 holds a, T1 holds b; layer 2: T2 holds a and b.
    unit_territory = np.array([0, 1, 2, 2])
    unit_geo = np.array(["a", "b", "a", "b"])
    unit_adj = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]))
    adj = territory_adjacency(unit_territory, unit_geo, unit_adj, 4).toarray()
    assert adj[0, 1] and adj[0, 2] and adj[1, 2]
    assert not adj[3].any() and not adj.diagonal().any()


def test_quotient_graph_of_a_line():
    _, adj = grid(1, 6)
    q = group_adjacency(adj, np.array([0, 0, 1, 1, 2, 2]), 3).toarray()
    assert q.tolist() == [[False, True, False], [True, False, True], [False, True, False]]


def test_balance_score_by_hand():
    loads = np.array([[90.0], [110.0], [130.0]])
    fair = np.full((3, 1), 110.0)
    out = balance_score(loads, fair, fair * 0.9, fair * 1.1, ["potential"])
    assert out["potential"]["max_rel_dev"] == pytest.approx(20 / 110, abs=1e-6)
    assert out["potential"]["out_of_band"] == 2  # 90 < 99 and 130 > 121


def test_quotas_roll_up_by_the_drawn_groups():
    quotas = pd.DataFrame(
        {
            "territory_id": ["T0", "T1", "T2"],
            "quota": [10.0, 20.0, 30.0],
            "region": "",
            "district": "",
        }
    )
    table = pd.DataFrame(
        {
            "territory_id": ["T0", "T1", "T2"],
            "rep_id": "",
            "district": ["d1", "d1", "d2"],
            "region": ["r1", "r1", "r1"],
            "manager": "",
        }
    )
    out, totals = roll_up_drawn(quotas, table, ["district", "region"], fill=True)
    assert list(out["district"]) == ["d1", "d1", "d2"] and list(out["region"]) == ["r1"] * 3
    assert totals == {"district": {"d1": 30.0, "d2": 30.0}, "region": {"r1": 60.0}}
    kept, _ = roll_up_drawn(quotas, table, ["district", "region"], fill=False)
    assert list(kept["district"]) == ["", "", ""]
    assert drawn_columns(["area", "zone"]) == {"district": "area", "region": "zone"}


def test_read_hierarchy(tmp_path):
    assert read_hierarchy(tmp_path) is None
    terr, adj = grid(2, 4)
    h = draw_hierarchy(terr, adj, config(), seed=1)
    h.table.to_csv(tmp_path / "hierarchy.csv", index=False)
    back = read_hierarchy(tmp_path)
    assert back is not None
    assert list(back.columns) == ["territory_id", "rep_id", "district", "manager"]
    assert list(back["district"]) == list(h.table["district"])


# ---------------------------------------------------------------- bad configurations


def test_more_groups_than_territories_is_refused():
    terr, adj = grid(1, 3)
    with pytest.raises(InfeasibleError, match="4 groups of 3 members"):
        draw_hierarchy(terr, adj, config(levels=[{"name": "district", "count": 4}]))


def test_a_graph_in_pieces_names_the_piece():
    terr, adj = grid(1, 6)
    adj = adj.tolil()
    adj[2, 3] = adj[3, 2] = False  # two pieces of three; three districts cannot be whole
    with pytest.raises(InfeasibleError, match=r"piece 1 of the district graph \(T0, T1, T2\)"):
        draw_hierarchy(terr, adj.tocsr(), config(levels=[{"name": "district", "count": 3}]))


def test_a_level_the_solver_cannot_balance_says_which_group():
    terr, adj = grid(1, 6)
    # Four districts of 150 ± 10 % from territories of 100: no grouping holds.
    h = draw_hierarchy(terr, adj, config(levels=[{"name": "district", "count": 4}]), seed=0)
    assert not h.feasible
    assert any(v.startswith("district district-") and "band's" in v for v in h.violations), (
        h.violations
    )
    assert h.score["district"]["balance"]["potential"]["out_of_band"] >= 1


def test_a_heavy_territory_is_named():
    terr, adj = grid(1, 4, np.array([1.0, 1.0, 1.0, 5.0]))
    with pytest.raises(InfeasibleError, match="T3 alone holds potential 500"):
        draw_hierarchy(terr, adj, config())


def test_unknown_measure_is_refused_with_did_you_mean():
    terr, adj = grid(1, 4)
    with pytest.raises(
        ScenarioError, match=r"'potental' is not a measure.*did you mean 'potential'"
    ):
        draw_hierarchy(terr, adj, config(balance={"potental": {"tolerance": 0.1}}))


def test_managers_must_match_the_count():
    terr, adj = grid(1, 4)
    one = [{"manager_id": "M1", "lat": 0, "lon": 0, "level": "district"}]
    with pytest.raises(ScenarioError, match="level 'district' has 1 managers for 2 districts"):
        draw_hierarchy(terr, adj, config(managers=one))


def test_bad_managers_file_names_row_and_column(tmp_path):
    terr, adj = grid(1, 4)
    path = tmp_path / "managers.csv"
    path.write_text("manager_id,lat,lon,level\nM1,0,0,district\nM2,abc,3,district\n")
    with pytest.raises(InputError, match=r"row 3.*'M2'.*lat"):
        draw_hierarchy(terr, adj, config(managers="managers.csv"), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([{"name": "district"}], "give either 'count' or 'territories_per'"),
        ([{"name": "district", "count": 2}, {"name": "region", "count": 3}], "more than the 2"),
        ([{"name": "district", "count": 2}, {"name": "district", "count": 1}], "must differ"),
        ([{"name": "manager", "count": 2}], "reserved"),
    ],
)
def test_bad_levels_are_refused(levels, message):
    with pytest.raises(ValidationError, match=message):
        config(levels=levels)


def test_previous_column_missing_is_named():
    terr, adj = grid(1, 4)
    reps = pd.DataFrame({"rep_id": terr["rep_id"], "distrct": "A"})
    with pytest.raises(ScenarioError, match=r"no column 'district'.*did you mean 'distrct'"):
        draw_hierarchy(terr, adj, config(previous={"source": "reps"}), reps=reps)


# ---------------------------------------------------------------- on the sample, end to end

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory):
    import territory_engine as te

    scenario = te.load_scenario(SCENARIOS / "whatif_hierarchy.yaml")
    result = te.run_scenario(scenario)
    folder = result.write(tmp_path_factory.mktemp("plan") / "whatif_hierarchy")
    return result, folder


def test_sample_draws_eight_contiguous_districts_in_three_regions(sample_plan):
    result, folder = sample_plan
    card = result.scorecard["hierarchy"]
    assert card["feasible"], card["violations"]
    assert card["district"]["n_groups"] == 8 and card["region"]["n_groups"] == 3
    assert card["district"]["contiguity"]["groups_in_pieces"] == 0
    for level in ("district", "region"):
        for measure in ("potential", "workload_hours"):
            assert card[level]["balance"][measure]["out_of_band"] == 0
            assert card[level]["balance"][measure]["max_rel_dev"] <= 0.10 + 1e-9
    table = read_hierarchy(folder)
    assert table is not None and len(table) == 45
    assert list(table.columns) == ["territory_id", "rep_id", "district", "region", "manager"]
    assert (table.groupby("district")["region"].nunique() == 1).all()


def test_sample_plan_folder_holds_the_hierarchy_files(sample_plan):
    import json

    import territory_engine as te

    _, folder = sample_plan
    manifest = json.loads((folder / "plan.json").read_text())
    assert manifest["files"][-3:] == ["hierarchy.csv", "hierarchy.geojson", "plan.json"]
    plan = te.read_plan_folder(folder)
    geo = plan.hierarchy_geometry
    assert geo is not None and sorted(geo["level"].value_counts()) == [3, 8]
    assert geo.geometry.notna().all() and (geo.geometry.geom_type != "GeometryCollection").all()
    # Quota pools rolled up: quotas.csv carries the drawn groups, the totals add up.
    quotas = plan.quotas
    assert set(quotas["district"]) == set(plan.hierarchy["district"])
    totals = json.loads((folder / "scorecard.json").read_text())["hierarchy"]["region"]["quota"]
    assert sum(totals.values()) == pytest.approx(quotas["quota"].sum())
    html = (folder / "map.html").read_text()
    # One toggleable layer per level (the layer control's names are JSON-escaped).
    assert "district \\u00b7 hierarchy (8)" in html and "region \\u00b7 hierarchy (3)" in html
    exported = te.export_plan(folder, format="csv", output=folder.parent / "export")
    merged = exported.hierarchy.merge(plan.hierarchy, on="territory_id", suffixes=("", "_drawn"))
    assert (merged["district"] == merged["district_drawn"]).all()
    assert (merged["region"] == merged["region_drawn"]).all()


def test_cli_redraws_a_plan_folder_atomically(sample_plan, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from territory_engine.cli.main import app

    _, folder = sample_plan
    copy = tmp_path / "plan"
    shutil.copytree(folder, copy)
    before = (copy / "assignments.csv").read_bytes()
    result = CliRunner().invoke(app, ["hierarchy", str(copy), "--levels", "area:5,zone:2"])
    assert result.exit_code == 0, result.output
    table = read_hierarchy(copy)
    assert table is not None
    assert list(table.columns) == ["territory_id", "rep_id", "area", "zone", "manager"]
    assert table["area"].nunique() == 5 and table["zone"].nunique() == 2
    card = json.loads((copy / "scorecard.json").read_text())["hierarchy"]
    assert (
        card["levels"] == ["area", "zone"] and card["area"]["contiguity"]["groups_in_pieces"] == 0
    )
    assert (copy / "assignments.csv").read_bytes() == before  # other files copied as they were
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize(
    ("levels", "message", "code"),
    [
        ("district:x", "'district:x' is not name:count", 2),
        ("district:3,region:5", "more than the 3 of level 'district'", 2),
        ("district:50", "50 groups of 45 members", 3),
    ],
)
def test_cli_bad_levels_fail_in_one_line_and_write_nothing(sample_plan, levels, message, code):
    from typer.testing import CliRunner

    from territory_engine.cli.main import app

    _, folder = sample_plan
    before = (folder / "hierarchy.csv").read_bytes()
    result = CliRunner().invoke(app, ["hierarchy", str(folder), "--levels", levels])
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output
    assert (folder / "hierarchy.csv").read_bytes() == before


def test_untrusted_names_are_inert_in_the_map_and_the_csv(tmp_path):
    import folium

    from territory_engine.io.safe_cells import write_csv
    from territory_engine.org.hierarchy.tables import hierarchy_geometry
    from territory_engine.render.plan_map import _add_hierarchy_layers

    terr, adj = grid(1, 4)
    managers = [
        {
            "manager_id": "=HYPERLINK(1)",
            "name": "<script>x()</script>",
            "lat": 0,
            "lon": 0,
            "level": "district",
            "group": "<b>W</b>",
        },
        {"manager_id": "M2", "name": "E", "lat": 0, "lon": 3, "level": "district"},
    ]
    h = draw_hierarchy(terr, adj, config(managers=managers), seed=0)
    write_csv(h.table, tmp_path / "hierarchy.csv")
    assert "'=HYPERLINK(1)" in (tmp_path / "hierarchy.csv").read_text()
    import geopandas as gpd
    from shapely.geometry import box

    polys = gpd.GeoDataFrame(
        {"territory_id": terr["territory_id"]},
        geometry=[box(x - 0.5, -0.5, x + 0.5, 0.5) for x in range(4)],
        crs=4326,
    )
    geo = hierarchy_geometry(h.groups, h.table, polys)
    m = folium.Map()
    _add_hierarchy_layers(m, geo, ["potential"], 0.0)
    html = m.get_root().render()
    assert "<script>x()" not in html and "<b>W</b>" not in html
    # Escaped as text (&lt;script&gt;), then JSON-encoded by folium.
    assert "\\u0026lt;script\\u0026gt;x()" in html


def test_levels_by_territories_per_group_and_a_managers_file(tmp_path):
    terr, adj = grid(1, 6)
    (tmp_path / "managers.csv").write_text(
        "manager_id,name,lat,lon,level,group\n"
        "M1,Ann,0,0,district,A\nM2,Bo,0,2.5,district,B\nM3,Cy,0,5,district,C\n"
    )
    cfg = config(levels=[{"name": "district", "territories_per": 2}], managers="managers.csv")
    h = draw_hierarchy(terr, adj, cfg, seed=0, base_dir=tmp_path)
    assert list(h.table["district"]) == ["A", "A", "B", "B", "C", "C"]
    assert list(h.table["manager"]) == ["M1", "M1", "M2", "M2", "M3", "M3"]


def test_a_level_may_set_its_own_band():
    terr, adj = grid(1, 6, np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.3]))
    loose = config(
        levels=[{"name": "district", "count": 2, "balance": {"potential": {"tolerance": 0.2}}}]
    )
    tight = config(
        levels=[{"name": "district", "count": 2, "balance": {"potential": {"tolerance": 0.01}}}]
    )
    assert draw_hierarchy(terr, adj, loose, measures=["potential"], seed=0).feasible
    drawn = draw_hierarchy(terr, adj, tight, measures=["potential"], seed=0)
    assert not drawn.feasible
    assert drawn.score["district"]["balance"]["potential"]["tolerance"] == 0.01
