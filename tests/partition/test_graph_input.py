"""Graphs as users bring them: no coordinates, several components (islands), census GEOIDs."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from territory_engine.cli.main import app
from territory_engine.errors import InputError
from territory_engine.geo.embedding import spectral_layout
from territory_engine.geo.islands import county_codes, join_by_code
from territory_engine.partition import partition, shortest_path_matrix
from territory_engine.problem.graph import graph_nodes, problem_from_graph, read_graph


def _grid(rows: int, cols: int, *, start: int = 0, pop: float = 1.0) -> nx.Graph:
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(rows, cols), first_label=start)
    nx.set_node_attributes(g, pop, "TOTPOP")
    return g


def _check_plan(graph: nx.Graph, res, k: int, low: float, high: float, joins=()) -> None:
    """Invariants, checked on the graph itself: every node once, no empty part, bands, connected."""
    assert set(res.assignment) == {str(v) for v in graph.nodes}
    plan = {v: res.assignment[str(v)] for v in graph.nodes}
    assert set(plan.values()) == set(range(k))
    with_joins = nx.Graph(graph)
    with_joins.add_edges_from(joins)
    for t in range(k):
        nodes = [v for v, p in plan.items() if p == t]
        pop = sum(graph.nodes[v]["TOTPOP"] for v in nodes)
        assert low - 1e-9 <= pop <= high + 1e-9
        assert nx.is_connected(with_joins.subgraph(nodes))
    assert res.cut_edges == sum(1 for u, v in graph.edges if plan[u] != plan[v])


def test_adjacency_only_grid_reaches_the_optimum():
    # 4x4 grid, no coordinates, two parts of 8: the straight cut (4 edges) is optimal.
    g = _grid(4, 4)
    res = partition(g, parts=2, balance={"TOTPOP": 0.0}, time_limit=2, seed=0)
    assert res.feasible
    assert res.cut_edges == 4
    assert res.coordinates == "spectral"
    assert res.joins == [] and res.components == []
    _check_plan(g, res, 2, 8, 8)
    again = partition(g, parts=2, balance={"TOTPOP": 0.0}, time_limit=2, seed=0)
    assert again.assignment == res.assignment  # same seed, same plan
    assert res.to_dict()["coordinates"] == "spectral"


def test_derived_coordinates_are_planar_and_components_do_not_overlap():
    g = nx.disjoint_union(_grid(5, 5), _grid(3, 3))
    nodes = graph_nodes(g)
    gp = problem_from_graph(
        g, parts=2, balance={"TOTPOP": 0.1}, bounds={}, objective="cut_edges", contiguous=False
    )
    assert gp.problem.planar and gp.coordinates == "spectral"
    adj = nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr")
    xy = spectral_layout(adj)
    assert np.array_equal(xy, gp.problem.xy)
    assert np.array_equal(xy, spectral_layout(adj))  # deterministic
    big, small = xy[:25], xy[25:]
    assert big[:, 0].max() < small[:, 0].min()  # side by side, largest first


def test_two_components_each_holding_whole_parts_are_solved_apart():
    # Two 4x4 grids (no coordinates, no GEOIDs: nothing to join on), 4 parts of 8:
    # each grid takes 2 parts and is cut in halves (4 edges each).
    g = nx.union(_grid(4, 4), _grid(4, 4, start=100))
    res = partition(g, parts=4, balance={"TOTPOP": 0.0}, time_limit=4, seed=0)
    assert res.feasible, res.violations
    assert res.cut_edges == 8
    assert [c["parts"] for c in res.components] == [2, 2]
    assert [c["parts_range"] for c in res.components] == [[2, 2], [2, 2]]
    _check_plan(g, res, 4, 8, 8)


def test_an_island_too_small_for_a_part_is_refused_with_one_message():
    g = nx.union(_grid(4, 4, pop=10.0), _grid(1, 2, start=100, pop=1.0))
    res = partition(g, parts=2, balance={"TOTPOP": 0.05}, time_limit=5, file="islands.json")
    assert not res.feasible and res.diagnosed
    assert len(res.violations) == 1
    msg = res.violations[0]
    for part in (
        "islands.json falls apart into 2 components",
        "16 nodes (0, 1, 2, …), TOTPOP 160: holds 2 parts",
        "2 nodes (100, 101), TOTPOP 2: holds no part",
        "--no-contiguous",
    ):
        assert part in msg
    assert [c["parts_range"] for c in res.components] == [[2, 2], []]
    # Without contiguity the same graph is fine.
    loose = partition(g, parts=2, balance={"TOTPOP": 0.05}, contiguous=False, time_limit=1)
    assert loose.feasible


def _census_like() -> nx.Graph:
    """A 4x4 mainland in counties 13001 (left) and 13003 (right), a 2-tract island in 13003."""
    g = _grid(4, 4)
    for v in g.nodes:
        r, c = divmod(v, 4)
        county = "001" if c < 2 else "003"
        g.nodes[v]["GEOID10"] = f"13{county}{r * 100 + c:06d}"
    g.add_edge(100, 101)
    for i, v in enumerate((100, 101)):
        g.nodes[v].update(TOTPOP=1, GEOID10=f"13003{990000 + i:06d}")
    return g


def test_islands_without_coordinates_join_their_county():
    g = _census_like()
    nodes = graph_nodes(g)
    _, codes = county_codes([g.nodes[v] for v in nodes])
    adj = nx.to_scipy_sparse_array(g, nodelist=nodes, format="csr")
    _, added = join_by_code(adj, codes)
    assert len(added) == 1
    i, j = added[0]
    assert {codes[i][:5], codes[j][:5]} == {"13003"}
    res = partition(g, parts=2, balance={"TOTPOP": 0.0}, time_limit=2, seed=0)
    assert res.feasible, res.violations
    assert [j["rule"] for j in res.joins] == ["county 13003"]
    assert res.coordinates == "spectral"
    joins = [tuple(int(x) for x in j["nodes"]) for j in res.joins]
    _check_plan(g, res, 2, 9, 9, joins)
    # The island (2) goes with its county's tract 15 in a part of 9: 7 mainland cells
    # and 9 cells of a 4x4 grid are split by 5 edges at best (the join is not cut).
    assert res.assignment["100"] == res.assignment["101"] == res.assignment["15"]
    assert res.cut_edges == 5


def test_islands_with_coordinates_join_the_nearest_node():
    g = _grid(3, 3)
    for v in g.nodes:
        r, c = divmod(v, 3)
        g.nodes[v].update(x=float(c), y=float(r))
    g.add_node(9, TOTPOP=1, x=5.0, y=2.2)  # nearest to node 8 at (2, 2)
    res = partition(g, parts=2, balance={"TOTPOP": 0.0}, time_limit=2, seed=0)
    assert res.feasible, res.violations
    assert res.joins == [{"nodes": ["8", "9"], "rule": "nearest"}]
    assert res.coordinates == "given"
    _check_plan(g, res, 2, 5, 5, [(8, 9)])


def test_separate_islands_on_request_and_refused_when_impossible():
    g = _census_like()
    res = partition(g, parts=2, balance={"TOTPOP": 0.0}, islands="separate", time_limit=3)
    assert res.diagnosed and "--islands join" in res.violations[0]
    assert res.joins == []


def test_edge_lengths_embed_each_component_by_mds():
    # Diameter on an adjacency-only graph with an island joined by county: the MDS
    # layout is per component of the graph itself (no infinite distances).
    g = _census_like()
    nx.set_edge_attributes(g, 1.0, "distance")
    nodes = graph_nodes(g)
    dist = shortest_path_matrix(g, nodes, "distance", "g")
    gp = problem_from_graph(
        g,
        parts=2,
        balance={"TOTPOP": 0.0},
        bounds={},
        objective="diameter",
        contiguous=True,
        dist=dist,
    )
    assert gp.coordinates == "mds" and np.isfinite(gp.problem.xy).all()
    assert [rule for _, _, rule in gp.joins] == ["county 13003"]


def test_distance_objectives_need_coordinates():
    g = _grid(3, 3)
    with pytest.raises(InputError, match="objective 'inertia' needs node coordinates"):
        partition(g, parts=2, balance={"TOTPOP": 0.2}, objective="inertia", file="bare.json")


def test_cli_on_an_adjacency_only_graph_reports_the_joins(tmp_path):
    path = tmp_path / "census.json"
    path.write_text(json.dumps(nx.node_link_data(_census_like(), edges="links")))
    out = tmp_path / "plan.json"
    args = ["partition", str(path), "-k", "2", "--balance", "TOTPOP=0.0", "-o", str(out)]
    run = CliRunner().invoke(app, [*args, "--time-limit", "2"])
    assert run.exit_code == 0, run.output
    assert "coordinates derived (spectral" in run.output
    assert "(county 13003)" in run.output
    doc = json.loads(out.read_text())
    assert doc["coordinates"] == "spectral" and doc["joins"][0]["rule"] == "county 13003"
    assert read_graph(path).number_of_nodes() == len(doc["assignment"])


GA = Path(__file__).resolve().parents[3] / "shared/benchmarks/districting/graphs/tract/GA.json"


@pytest.mark.skipif(not GA.is_file(), reason="shared benchmark graphs are not here")
def test_georgia_tracts_are_joined_by_county():
    # As published: adjacency and population only, the mainland and two island groups.
    g = read_graph(GA)
    gp = problem_from_graph(
        g, parts=14, balance={"TOTPOP": 0.01}, bounds={}, objective="cut_edges", contiguous=True
    )
    assert gp.coordinates == "spectral" and gp.components is None
    assert sorted(rule for _, _, rule in gp.joins) == ["county 13051", "county 13127"]
