"""Tests of the plan map: colouring, content of the saved HTML, offline mode."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator

import folium
import geopandas as gpd
import pandas as pd
import pytest
from folium.plugins import FastMarkerCluster
from shapely.geometry import box

from territory_engine.render import assign_colors, render_plan_map, save_map
from territory_engine.render.colors import (
    MOVED_COLOR,
    TERRITORY_PALETTE,
    adjacency_graph,
    color_classes,
)

MEASURES = ["potential", "workload_hours"]


# --------------------------------------------------------------------------- fixtures


def grid(n: int, group: str | None = None) -> gpd.GeoDataFrame:
    """An n x n grid of unit squares, row-major, named T<row><col>."""
    cells = [(r, c) for r in range(n) for c in range(n)]
    frame = gpd.GeoDataFrame(
        {"territory_id": [f"T{r}{c}" for r, c in cells]},
        geometry=[box(c, r, c + 1, r + 1) for r, c in cells],
        crs="EPSG:4326",
    )
    if group is not None:
        frame["segment"] = group
    return frame


def plan() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Four enterprise squares (2 x 2) and two smb halves over the same ground."""
    rows = [
        ("E1", "R1", "Alice Archer", "enterprise", box(0, 0, 1, 1)),
        ("E2", "R2", "Bruno Baker", "enterprise", box(1, 0, 2, 1)),
        ("E3", "R3", "Chloe Carter", "enterprise", box(0, 1, 1, 2)),
        ("E4", "R4", "Dmitri Dyer", "enterprise", box(1, 1, 2, 2)),
        ("S1", "R5", "Erin Evans", "smb", box(0, 0, 1, 2)),
        ("S2", "R6", "Farid Fox", "smb", box(1, 0, 2, 2)),
    ]
    territories = gpd.GeoDataFrame(
        rows,
        columns=["territory_id", "rep_id", "rep_name", "segment", "geometry"],
        geometry="geometry",
        crs="EPSG:4326",
    )
    territories["n_accounts"] = 2
    territories["potential"] = [100.0, 150.0, 50.0, 100.0, 210.0, 190.0]
    territories["potential_dev_pct"] = [0.0, 50.0, -50.0, 0.0, 5.0, -5.0]
    territories["potential_in_band"] = [True, False, False, True, True, True]
    territories["workload_hours"] = [10.0, 11.0, 9.0, 10.0, 20.0, 20.0]
    territories["workload_hours_dev_pct"] = [0.0, 10.0, -10.0, 0.0, 0.0, 0.0]
    territories["workload_hours_in_band"] = True
    territories["travel_mean_km"] = [12.5, 14.0, 9.0, 11.0, 30.0, 28.0]
    territories["travel_max_km"] = [40.0, 41.0, 20.0, 35.0, 90.0, 80.0]

    accounts = []
    for t in territories.itertuples():
        x0, y0, _, _ = t.geometry.bounds
        for j in range(2):
            k = len(accounts) + 1
            accounts.append(
                {
                    "account_id": f"AC{k:02d}",
                    "name": f"Account {k}",
                    "lat": y0 + 0.25 + 0.5 * j,
                    "lon": x0 + 0.25 + 0.5 * j,
                    "territory_id": t.territory_id,
                    "rep_id": t.rep_id,
                    "segment": t.segment,
                    "potential": 1000.0 * k,
                    "moved": k in (3, 10),
                }
            )
    reps = pd.DataFrame(
        {
            "rep_id": territories["rep_id"],
            "name": territories["rep_name"],
            "home_lat": [g.centroid.y for g in territories.geometry],
            "home_lon": [g.centroid.x for g in territories.geometry],
            "segment": territories["segment"],
            "territory_id": territories["territory_id"],
        }
    )
    return territories, pd.DataFrame(accounts), reps


def render(**kwargs) -> folium.Map:
    territories, accounts, reps = plan()
    options = {"measures": MEASURES, "title": "FY26 test plan"} | kwargs
    return render_plan_map(territories, accounts, reps, **options)


def walk(element) -> Iterator:
    yield element
    for child in element._children.values():
        yield from walk(child)


def html_of(m: folium.Map, tmp_path, name: str = "map.html") -> str:
    path = tmp_path / name
    save_map(m, path)
    assert path.exists()
    return path.read_text(encoding="utf-8")


def touching_pairs(frame: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    geoms = list(frame.geometry)
    return [
        (i, j)
        for i, j in itertools.combinations(range(len(geoms)), 2)
        if geoms[i].intersects(geoms[j])
    ]


# --------------------------------------------------------------------------- colours


@pytest.mark.parametrize("spread", [10, None])
@pytest.mark.parametrize("strategy", ["saturation_largest_first", "largest_first"])
def test_touching_squares_of_3x3_grid_never_share_a_colour(strategy, spread):
    squares = grid(3)
    colors = assign_colors(squares, None, strategy=strategy, spread=spread)
    pairs = touching_pairs(squares)
    assert len(pairs) == 20  # 12 edge neighbours + 8 corner neighbours
    for i, j in pairs:
        assert colors.iloc[i] != colors.iloc[j], (squares.territory_id[i], squares.territory_id[j])
    assert set(colors) <= set(TERRITORY_PALETTE)


def test_colouring_is_deterministic():
    squares = grid(3, group="enterprise")
    first = assign_colors(squares, "segment")
    for _ in range(3):
        pd.testing.assert_series_equal(assign_colors(squares.copy(), "segment"), first)
    assert first.index.equals(squares.index)


def test_small_layer_gets_one_colour_per_territory():
    colors = assign_colors(grid(3), None)
    assert colors.nunique() == 9


def test_crowded_layer_falls_back_to_greedy_and_stays_valid():
    # One territory touched by 12 small ones: no equitable 10-colouring exists.
    big = box(0, 0, 12, 1)
    small = [box(i, 1, i + 1, 2) for i in range(12)]
    frame = gpd.GeoDataFrame(geometry=[big, *small], crs="EPSG:4326")
    colors = assign_colors(frame, None)
    for i, j in touching_pairs(frame):
        assert colors.iloc[i] != colors.iloc[j]


def test_groups_are_coloured_independently():
    # The same 2 x 2 squares in two segments: overlapping across segments is allowed,
    # touching within a segment is not.
    both = pd.concat([grid(2, "enterprise"), grid(2, "smb")], ignore_index=True)
    classes = color_classes(both, "segment")
    for group in ("enterprise", "smb"):
        part = both[both.segment == group]
        for i, j in touching_pairs(part):
            assert classes[part.index[i]] != classes[part.index[j]]
    assert list(classes[both.segment == "enterprise"]) == list(classes[both.segment == "smb"])


def test_adjacency_links_only_territories_of_the_same_group():
    both = pd.concat([grid(2, "enterprise"), grid(2, "smb")], ignore_index=True)
    graph = adjacency_graph(both, "segment")
    # A 2 x 2 grid has 4 side and 2 corner contacts; the identical squares of the
    # other segment overlap them but are another layer.
    assert graph.number_of_edges() == 12
    assert all(both.segment[u] == both.segment[v] for u, v in graph.edges)
    assert adjacency_graph(both, None).number_of_edges() == 12 + 16


def test_palette_needs_ten_colours():
    with pytest.raises(ValueError, match="at least 10"):
        assign_colors(grid(2), None, palette=["#000000"] * 5)


def test_map_colours_adjacent_territories_of_a_layer_differently():
    territories, _, _ = plan()
    m = render()
    fills = {
        f["id"]: f["properties"]["fill"]
        for el in walk(m)
        if isinstance(el, folium.GeoJson)
        for f in el.data["features"]
    }
    for segment in ("enterprise", "smb"):
        part = territories[territories.segment == segment].reset_index(drop=True)
        for i, j in touching_pairs(part):
            assert fills[part.territory_id[i]] != fills[part.territory_id[j]]


def test_color_group_column_fixes_the_palette_entry():
    territories, accounts, reps = plan()
    territories["color_group"] = [0, 1, 2, 3, 0, 1]
    m = render_plan_map(territories, accounts, reps, measures=MEASURES, title="t")
    fills = {
        f["id"]: f["properties"]["fill"]
        for el in walk(m)
        if isinstance(el, folium.GeoJson)
        for f in el.data["features"]
    }
    assert fills["E4"] == TERRITORY_PALETTE[3]
    assert fills["S2"] == TERRITORY_PALETTE[1]


# --------------------------------------------------------------------------- HTML


def test_saved_html_has_reps_controls_legend_and_search(tmp_path):
    html = html_of(render(), tmp_path)
    for name in ["Alice Archer", "Bruno Baker", "Chloe Carter", "Dmitri Dyer", "Erin Evans"]:
        assert name in html
    assert "L.control.layers" in html
    assert '"collapsed": false' in html
    assert "L.control.fullscreen" in html
    assert "L.Control.Search" in html
    assert "Legend" in html and "moved account" in html and "rep home" in html
    assert "enterprise territories" in html and "smb territories" in html
    assert "<title>FY26 test plan</title>" in html


def test_territory_tooltip_and_popup_show_the_given_figures():
    m = render()
    features = {
        f["id"]: f["properties"]
        for el in walk(m)
        if isinstance(el, folium.GeoJson)
        for f in el.data["features"]
    }
    tip, popup = features["E2"]["tip"], features["E2"]["popup"]
    for text in (tip, popup):
        assert "Bruno Baker" in text and "R2" in text and "enterprise" in text
        assert "150" in text and "+50.0 %" in text and "out of band" in text
        assert "14.0 km" in text and "41.0 km" in text
    assert "2 accounts" in tip
    assert "<table" in popup
    assert "in band" in features["E1"]["tip"] and "out of band" not in features["E1"]["tip"]


def test_moved_accounts_are_marked(tmp_path):
    _, accounts, _ = plan()
    m = render()
    clusters = [el for el in walk(m) if isinstance(el, FastMarkerCluster)]
    assert len(clusters) == 2  # one accounts layer per segment
    rows = [row for cluster in clusters for row in cluster.data]
    assert len(rows) == len(accounts)
    moved_ids = {row[3] for row in rows if row[5] == 1}
    assert moved_ids == set(accounts.loc[accounts.moved, "account_id"])
    html = html_of(m, tmp_path)
    assert MOVED_COLOR in html  # the ring drawn around moved accounts
    assert "te-cluster-moved" in html  # and around clusters that hold one


def test_without_tiles_no_tile_url_is_embedded(tmp_path):
    html = html_of(render(tiles=None), tmp_path)
    assert "{z}" not in html
    assert "tile.openstreetmap.org" not in html
    assert "L.tileLayer" not in html
    assert ".leaflet-container { background:" in html  # light background instead


def test_tiles_option_adds_a_base_layer(tmp_path):
    html = html_of(render(tiles="OpenStreetMap"), tmp_path)
    assert "tile.openstreetmap.org/{z}/{x}/{y}" in html
    assert "L.tileLayer" in html


def test_overlapping_segments_start_with_only_the_first_visible():
    groups = {el.layer_name: el.show for el in walk(render()) if type(el) is folium.FeatureGroup}
    assert groups["enterprise · territories"] is True
    assert groups["smb · territories"] is False
    # A dozen accounts is a small plan: its accounts start visible with their layer.
    assert groups["enterprise · accounts (8)"] is True
    assert groups["smb · accounts (4)"] is False
    hidden = [
        el.show
        for el in walk(render(show_accounts=False))
        if "accounts" in getattr(el, "layer_name", "")
    ]
    assert hidden == [False, False]


def test_layers_that_partition_the_map_all_start_visible():
    territories, accounts, reps = plan()
    keep = territories.segment == "enterprise"
    territories = territories[keep].assign(region=["west", "east", "west", "east"])
    accounts = accounts[accounts.segment == "enterprise"]
    reps = reps[reps.segment == "enterprise"]
    # Accounts and reps have no region column: they follow their territory.
    m = render_plan_map(
        territories, accounts, reps, measures=MEASURES, title="t", layer_column="region"
    )
    groups = {el.layer_name: el.show for el in walk(m) if type(el) is folium.FeatureGroup}
    assert groups == {
        "east · territories": True,
        "east · accounts (4)": True,
        "west · territories": True,
        "west · accounts (4)": True,
    }
    markers = [el for el in walk(m) if type(el) is folium.Marker]
    assert len(markers) == 4


def test_coordinates_are_rounded_to_five_decimals(tmp_path):
    territories, accounts, reps = plan()
    territories.loc[0, "geometry"] = box(0.123456789, 0, 1, 1)
    accounts.loc[0, "lat"] = 0.987654321
    html = html_of(
        render_plan_map(territories, accounts, reps, measures=MEASURES, title="t"), tmp_path
    )
    assert "0.12346" in html and "0.123456789" not in html
    assert "0.98765" in html and "0.987654321" not in html


def test_names_are_escaped(tmp_path):
    territories, accounts, reps = plan()
    territories.loc[0, "rep_name"] = "<script>alert(1)</script>"
    reps.loc[0, "name"] = "<script>alert(1)</script>"
    accounts.loc[0, "name"] = "Tom `${x}` & <b>Co</b>"
    html = html_of(
        render_plan_map(territories, accounts, reps, measures=MEASURES, title="t"), tmp_path
    )
    assert "<script>alert(1)</script>" not in html
    assert "<b>Co</b>" not in html
    assert "${x}" not in html


def test_missing_column_is_reported():
    territories, accounts, reps = plan()
    with pytest.raises(ValueError, match="workload_hours_in_band"):
        render_plan_map(
            territories.drop(columns="workload_hours_in_band"),
            accounts,
            reps,
            measures=MEASURES,
            title="t",
        )
    with pytest.raises(ValueError, match="moved"):
        render_plan_map(
            territories, accounts.drop(columns="moved"), reps, measures=MEASURES, title="t"
        )


def test_accounts_without_coordinates_are_skipped_with_a_warning():
    territories, accounts, reps = plan()
    accounts.loc[0, "lat"] = float("nan")
    with pytest.warns(UserWarning, match="1 of 12 accounts"):
        m = render_plan_map(territories, accounts, reps, measures=MEASURES, title="t")
    rows = [row for el in walk(m) if isinstance(el, FastMarkerCluster) for row in el.data]
    assert len(rows) == 11


def test_importing_the_render_package_does_not_load_folium():
    code = (
        "import sys, territory_engine.render as r; "
        "assert 'folium' not in sys.modules, 'folium loaded eagerly'; "
        "assert callable(r.render_plan_map) and 'folium' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_vacant_territories_and_missing_ids_still_render(tmp_path):
    territories, accounts, reps = plan()
    territories.loc[0, "territory_id"] = None
    territories.loc[1, ["rep_id", "rep_name"]] = ""
    accounts.loc[0, "territory_id"] = None
    html = html_of(
        render_plan_map(territories, accounts, reps, measures=MEASURES, title="t"), tmp_path
    )
    assert "vacant" in html
