"""The national benchmark generator (issue 13) and the solver on its tiny class.

Accounts cluster at US places with empty H3 cells between them; the solver's
invariants must hold there as on the uniform grid of ``benchmarks/scale.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import h3
import networkx as nx
import numpy as np
import pytest

import territory_engine as te
from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.graph import read_graph

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import national_instance  # noqa: E402

TINY = national_instance.CLASSES["tiny"]
TIME_LIMIT = 10.0
TIGHT_BANDS = pytest.mark.xfail(
    strict=False,
    reason=(
        "issue 13: the territory holding a whale account (one res-4 cell with 0.557 of a "
        "territory's potential and 0.026 of its workload) stays about 10 % above its "
        "potential band; not proven impossible"
    ),
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("national_tiny")
    stats = national_instance.generate("tiny", 0, out)
    return {"stats": stats, "graph": read_graph(out / "graph.json"), "dir": out}


def _partition_tiny(graph: nx.Graph) -> te.PartitionResult:
    return te.partition(
        graph,
        parts=TINY.parts,
        balance={"potential": TINY.tolerance, "workload": TINY.tolerance},
        objective="inertia",
        contiguous=True,
        time_limit=TIME_LIMIT,
        seed=0,
    )


@pytest.fixture(scope="module")
def solved(tiny: dict) -> list[te.PartitionResult]:
    """One run; the determinism test makes the second only when the first converged."""
    return [_partition_tiny(tiny["graph"])]


def test_the_generator_is_deterministic_by_seed():
    a = national_instance.build(TINY, 0)
    b = national_instance.build(TINY, 0)
    c = national_instance.build(TINY, 1)
    assert a["cells"] == b["cells"]
    assert np.array_equal(a["unit_potential"], b["unit_potential"])
    assert np.array_equal(a["accounts"]["lat"], b["accounts"]["lat"])
    assert a["reps"] == b["reps"]
    assert not np.array_equal(a["accounts"]["potential"], c["accounts"]["potential"])


def test_the_instance_is_one_connected_graph_with_empty_cells_between_cities(tiny: dict):
    graph, stats = tiny["graph"], tiny["stats"]
    assert nx.is_connected(graph)
    assert graph.number_of_nodes() == stats["units"]
    accounts = np.array([graph.nodes[v]["accounts"] for v in graph])
    assert accounts.sum() == TINY.accounts
    assert 0.2 <= (accounts == 0).mean() <= 0.7  # a sizeable share of units is empty
    assert stats["heaviest_unit_share_of_fair_potential"] < 1.0  # no unit alone breaks a band
    for _, data in graph.nodes(data=True):
        assert {"potential", "workload", "accounts", "lon", "lat"} <= set(data)
        assert -126 < data["lon"] < -66 and 23 < data["lat"] < 50  # lower 48 (and coasts)
    assert all(h3.are_neighbor_cells(u, v) for u, v in graph.edges)


def test_the_scenario_folder_loads_and_places_every_account(tiny: dict):
    import pandas as pd

    scenario = te.load_scenario(tiny["dir"] / "scenario" / "scenario.yaml")
    assert scenario.constraints.contiguity
    assert set(scenario.balance) == {"potential", "workload_hours"}
    reps = pd.read_csv(tiny["dir"] / "scenario" / "reps.csv")
    assert len(reps) == TINY.parts
    assert reps["home_city"].str.match(r".+, [A-Z]{2}$").all()
    accounts = pd.read_csv(tiny["dir"] / "scenario" / "accounts.csv")
    assert len(accounts) == TINY.accounts and accounts["account_id"].is_unique


def test_every_unit_is_assigned_exactly_once_and_every_part_is_connected(
    tiny: dict, solved: list[te.PartitionResult]
):
    graph = tiny["graph"]
    result = solved[0]
    assert sorted(result.assignment) == sorted(str(v) for v in graph)
    assert set(result.assignment.values()) <= set(range(TINY.parts))
    for part in range(TINY.parts):
        nodes = [v for v in graph if result.assignment[str(v)] == part]
        if nodes:
            assert nx.is_connected(graph.subgraph(nodes)), f"part {part} is in pieces"


def test_no_part_is_empty(tiny: dict, solved: list[te.PartitionResult]):
    graph = tiny["graph"]
    accounts = np.zeros(TINY.parts)
    for v, part in solved[0].assignment.items():
        accounts[part] += graph.nodes[v]["accounts"]
    assert (accounts > 0).all(), f"{int((accounts == 0).sum())} parts without any account"


@TIGHT_BANDS
def test_the_bands_hold(tiny: dict, solved: list[te.PartitionResult]):
    graph = tiny["graph"]
    result = solved[0]
    for measure in ("potential", "workload"):
        totals = np.zeros(TINY.parts)
        for v, part in result.assignment.items():
            totals[part] += graph.nodes[v][measure]
        dev = np.abs(totals / totals.mean() - 1.0).max()
        assert dev <= TINY.tolerance + 1e-9, f"{measure} off by {100 * dev:.1f} %"
    assert result.feasible, result.violations


def _clock_cut(stop_reason: str | None) -> None:
    # Only a converged plan is promised to be the same on any machine; a run the
    # time limit cut (here: restarts while the bands cannot be met) may differ.
    if stop_reason != "converged":
        pytest.xfail(f"issue 13: stop reason {stop_reason}, the time limit cut the run")


def test_the_same_seed_gives_the_same_plan(tiny: dict, solved: list[te.PartitionResult]):
    _clock_cut(solved[0].solver.get("stop_reason"))
    assert solved[0].assignment == _partition_tiny(tiny["graph"]).assignment


def _tiny_scenario(tiny: dict) -> te.Scenario:
    scenario = te.load_scenario(tiny["dir"] / "scenario" / "scenario.yaml")
    solver = scenario.solver.model_copy(update={"time_limit": TIME_LIMIT})
    return scenario.model_copy(update={"solver": solver})


@pytest.fixture(scope="module")
def with_homes(tiny: dict) -> list[te.PlanResult]:
    """The tiny scenario (reps' homes at the largest places) run once; see below for twice."""
    return [te.run_scenario(_tiny_scenario(tiny))]


def test_with_rep_homes_every_rep_gets_accounts_in_one_piece(with_homes: list[te.PlanResult]):
    result = with_homes[0]
    problem, assign = result.problem, result.alignment.assign
    counts = np.bincount(assign, minlength=problem.n_territories)
    assert (counts > 0).all(), "a territory without units"
    loads = np.zeros((problem.n_territories, problem.n_measures))
    np.add.at(loads, assign, problem.weights)
    assert (loads > 0).all(), "a territory without weight"
    pieces = pieces_per_territory(problem.adjacency, assign, problem.n_territories)
    assert pieces.max() == 1
    per_rep = result.plan.assignments.groupby("rep_id").size()
    assert len(per_rep) == problem.n_territories


def test_with_rep_homes_the_same_seed_gives_the_same_plan(
    tiny: dict, with_homes: list[te.PlanResult]
):
    _clock_cut(with_homes[0].alignment.stats.stop_reason)
    again = te.run_scenario(_tiny_scenario(tiny))
    np.testing.assert_array_equal(with_homes[0].alignment.assign, again.alignment.assign)


TINY_SPLIT = national_instance.CLASSES["tiny-split"]


@pytest.fixture(scope="module")
def tiny_split(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("national_tiny_split")
    stats = national_instance.generate("tiny-split", 0, out)
    graph = read_graph(out / "graph.json")
    result = te.partition(
        graph,
        parts=TINY_SPLIT.parts,
        balance={"potential": TINY_SPLIT.tolerance, "workload": TINY_SPLIT.tolerance},
        objective="inertia",
        contiguous=True,
        time_limit=TIME_LIMIT,
        seed=0,
    )
    return {"stats": stats, "graph": graph, "result": result}


def test_split_cells_give_mixed_resolutions_and_lighter_units(tiny: dict, tiny_split: dict):
    resolutions = {h3.get_resolution(str(v)) for v in tiny_split["graph"]}
    assert resolutions == {TINY.resolution, TINY.resolution + 1}
    assert tiny_split["stats"]["split_cells"] > 0
    assert nx.is_connected(tiny_split["graph"])
    heaviest = "heaviest_unit_share_of_fair_potential"
    assert tiny_split["stats"][heaviest] < tiny["stats"][heaviest]
    # Splitting moves no account: the same totals.
    for measure in ("potential", "workload"):
        before = sum(d[measure] for _, d in tiny["graph"].nodes(data=True))
        after = sum(d[measure] for _, d in tiny_split["graph"].nodes(data=True))
        assert after == pytest.approx(before)


def test_on_split_cells_every_part_is_connected_and_holds_accounts(tiny_split: dict):
    graph, result = tiny_split["graph"], tiny_split["result"]
    assert sorted(result.assignment) == sorted(str(v) for v in graph)
    accounts = np.zeros(TINY_SPLIT.parts)
    for v, part in result.assignment.items():
        accounts[part] += graph.nodes[v]["accounts"]
    assert (accounts > 0).all()
    for part in range(TINY_SPLIT.parts):
        nodes = [v for v in graph if result.assignment[str(v)] == part]
        assert nx.is_connected(graph.subgraph(nodes)), f"part {part} is in pieces"
