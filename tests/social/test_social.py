"""Relationship graph, proximity scores, the relationship term of the solver, social mode."""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.metrics.relationships import family_split, proximity_summary
from territory_engine.problem.arrays import grid_problem
from territory_engine.social import proximity, relationship_graph, tie_matrices
from territory_engine.solve import align
from territory_engine.solve.costs import CostModel

REPS = np.array(["R1", "R2", "R3"])
ACCOUNTS = np.array(["A", "B", "C", "D"])


def edges(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "target", "kind", "weight"])


HAND = edges(
    [
        ("R1", "A", "rep-account", 2.0),  # strongest rep-account tie -> 1.0
        ("R1", "A", "rep-account", 1.0),  # parallel edge: the stronger one is kept
        ("R2", "B", "rep-account", 1.0),  # -> 0.5
        ("R1", "R2", "rep-rep", 0.4),  # -> 1.0 (the only rep-rep tie)
        ("A", "C", "account-account", 3.0),  # -> 1.0
        ("B", "D", "account-account", 1.5),  # -> 0.5
    ]
)


def test_tie_matrices_normalise_by_kind_and_keep_the_strongest_parallel_edge() -> None:
    ties = tie_matrices(HAND, REPS, ACCOUNTS)
    d = ties.direct.toarray()
    assert d[0, 0] == 1.0 and d[1, 1] == 0.5 and d.sum() == 1.5
    r = ties.colleagues.toarray()
    assert r[0, 1] == r[1, 0] == 1.0 and np.trace(r) == 0
    k = ties.linked.toarray()
    assert k[0, 2] == k[2, 0] == 1.0 and k[1, 3] == k[3, 1] == 0.5


def test_proximity_is_the_truncated_katz_score_worked_by_hand() -> None:
    p = proximity(tie_matrices(HAND, REPS, ACCOUNTS), decay=0.5, top=3).matrix.toarray()
    # R1: knows A directly (1); C through A (0.5·1·1); B through colleague R2
    # (0.5·1·0.5); D through R2 and B (0.25·1·0.5·0.5).
    np.testing.assert_allclose(p[0], [1.0, 0.25, 0.5, 0.0625])
    # R2: B directly (0.5) + A via R1 (0.5·1·1) = 0.5; D via B (0.5·0.5·0.5); C via R1, A.
    np.testing.assert_allclose(p[1], [0.5, 0.5, 0.25, 0.125])
    # R3 knows nobody.
    assert not p[2].any()
    # Scores stay in [0, 1] even when walks add up past 1.
    dense = edges(
        [
            ("R1", "A", "rep-account", 1.0),
            ("R2", "A", "rep-account", 1.0),
            ("R1", "R2", "rep-rep", 1.0),
        ]
    )
    q = proximity(tie_matrices(dense, REPS, ACCOUNTS), decay=0.9).matrix
    assert q.nnz == 2 and q.data.max() == 1.0 and q.data.min() > 0


def test_proximity_keeps_the_top_reps_and_respects_eligibility() -> None:
    ties = tie_matrices(HAND, REPS, ACCOUNTS)
    top1 = proximity(ties, decay=0.5, top=1)
    assert (np.diff(top1.matrix.tocsc().indptr) <= 1).all()
    score, rep = top1.best()
    # Account B: R1 and R2 tie at... R2 0.5 beats R1 0.25.
    assert rep[1] == 1 and score[1] == 0.5
    # Account A: R1 (1.0).
    assert rep[0] == 0 and score[0] == 1.0
    # Only R2 is of A's group: R1 is never scored for A.
    groups = proximity(
        ties, decay=0.5, top=3, rep_group=np.array([0, 1, 1]), account_group=np.array([1, 1, 1, 1])
    )
    assert groups.matrix[0].nnz == 0
    np.testing.assert_allclose(groups.pairs(np.array(["R2", "R9"]), np.array(["A", "A"])), [0.5, 0])


def test_proximity_rejects_bad_parameters() -> None:
    ties = tie_matrices(HAND, REPS, ACCOUNTS)
    with pytest.raises(ValueError, match="decay"):
        proximity(ties, decay=1.0)
    with pytest.raises(ValueError, match="top"):
        proximity(ties, top=0)


def test_relationship_graph_is_a_networkx_view_of_the_same_ties() -> None:
    accounts = pd.DataFrame({"account_id": ACCOUNTS, "name": list("abcd"), "segment": "smb"})
    reps = pd.DataFrame({"rep_id": REPS, "name": ["x", "y", "z"], "segment": "smb"})
    g = relationship_graph(HAND, accounts, reps)
    assert g.number_of_nodes() == 7 and g.number_of_edges() == 5
    assert g.edges["rep:R1", "account:A"]["weight"] == 2.0
    assert g.nodes["rep:R3"]["kind"] == "rep"


def test_metrics_proximity_and_families() -> None:
    s = proximity_summary(np.array([1.0, 0.0, 0.5]), np.array([1.0, 1.0, 2.0]), np.array([1, 0, 0]))
    assert s["mean_proximity"] == pytest.approx(0.5)
    assert s["potential_weighted_proximity"] == pytest.approx(0.5)
    assert s["accounts_with_proximity_share"] == pytest.approx(2 / 3)
    assert s["kept_for_relationship"] == 1
    f = family_split(np.array(["P", "P", "Q", "Q", "S"]), np.array(["R1", "R2", "R1", "R1", "R3"]))
    assert f == {"families": 2, "families_split": 1, "accounts_in_split_families": 2}


# --- the relationship term in the solver: a small instance with a known optimum -----------


def _instance(weight: float) -> tuple:
    """A 2 x 5 grid, two reps at the ends; each unit is one account with a random tie."""
    rng = np.random.default_rng(7)
    n = 10
    potential = rng.uniform(1.0, 3.0, n)
    # Against geography: the right-hand rep knows the middle columns, the
    # left-hand rep knows the far right column.
    col = np.arange(n) % 5
    tie = np.zeros((n, 2), dtype=bool)
    tie[:, 1] = (col == 1) | (col == 2)
    tie[:, 0] = col == 4
    base = grid_problem(
        2,
        5,
        weights=np.column_stack([potential, np.ones(n)]),
        centres=np.array([[0.0, 0.05], [0.4, 0.05]]),
        lower=np.array([[0.3 * potential.sum(), 3], [0.3 * potential.sum(), 3]]),
        upper=np.array([[0.7 * potential.sum(), 7], [0.7 * potential.sum(), 7]]),
        contiguity=True,
    )
    affinity = sp.csr_matrix(potential[:, None] * tie)
    problem = dataclasses.replace(
        base,
        affinity=affinity,
        objective_weights={"travel": 1.0, "relationships": weight},
    )
    return problem, potential, tie


def _brute_force(problem) -> np.ndarray:
    """The optimal assignment by enumeration (every connected, in-band 2-partition)."""
    costs = CostModel(problem, problem.centres)
    best, best_f = None, np.inf
    for bits in itertools.product((0, 1), repeat=problem.n_units):
        a = np.array(bits)
        loads = np.zeros((2, problem.n_measures))
        np.add.at(loads, a, problem.weights)
        if (loads < problem.lower - 1e-9).any() or (loads > problem.upper + 1e-9).any():
            continue
        if (pieces_per_territory(problem.adjacency, a, 2) > 1).any():
            continue
        f = costs.objective(a)["total"]
        if f < best_f - 1e-12:
            best, best_f = a, f
    return best


def _retention(assign: np.ndarray, potential: np.ndarray, tie: np.ndarray) -> float:
    kept = tie[np.arange(len(assign)), assign]
    return float(potential[kept].sum() / potential.sum())


def test_raising_the_relationship_weight_raises_retention_to_the_known_optimum() -> None:
    """At each weight the solver reaches the enumerated optimum, and retention never falls.

    From weight 8 on, this instance's optimum swaps the two territories
    wholesale; the rooted local moves do not reach that (see the issue notes),
    so the weights stop at 6.
    """
    retention = []
    for weight in (0.0, 0.5, 1.0, 2.0, 4.0, 6.0):
        problem, potential, tie = _instance(weight)
        optimum = _brute_force(problem)
        # Local search, then exact CP-SAT re-solves of the whole instance (2 parts).
        result = align(problem, seed=3, time_limit=20, lns_rounds=2, lns_reach=10)
        assert result.feasible
        costs = CostModel(problem, problem.centres)
        assert costs.objective(result.assign)["total"] == pytest.approx(
            costs.objective(optimum)["total"], abs=1e-9
        ), f"weight {weight}: not the enumerated optimum"
        retention.append(_retention(result.assign, potential, tie))
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(retention)), retention
    assert retention[-1] > retention[0], retention


# --- scenario, sample ----------------------------------------------------------------------


def test_relationships_need_an_edge_table_and_reps(baseline) -> None:
    from territory_engine.config.scenario import Scenario

    raw = baseline.model_dump()
    raw["data"]["edges"] = None
    raw["objective"]["relationships"] = 1.0
    with pytest.raises(ValueError, match=r"data\.edges"):
        Scenario.model_validate(raw)
    raw = baseline.model_dump()
    raw["objective"]["mode"] = "social"
    raw["territories"] = {"mode": "count", "count": 5, "eligibility": "none"}
    with pytest.raises(ValueError, match="per_rep"):
        Scenario.model_validate(raw)


def test_social_what_if_keeps_families_bands_and_marks_kept_accounts(repo_root, tmp_path) -> None:
    out = tmp_path / "social"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "territory_engine.cli.main",
            "run",
            str(repo_root / "scenarios" / "whatif_social.yaml"),
            "--output",
            str(out),
            "--time-limit",
            "60",
            "--quiet",
            "--no-store",
        ],
        capture_output=True,
        text=True,
        cwd=repo_root,
    )
    assert run.returncode == 0, run.stderr
    card = json.loads((out / "scorecard.json").read_text())
    assert card["families"]["families"] > 100
    assert card["families"]["families_split"] == 0
    for stats in card["balance"].values():
        assert stats["territories_out_of_band"] == 0
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    kept = assignments["kept_for_relationship"] == "True"
    assert kept.sum() == card["relationships"]["kept_for_relationship"] > 0
    # A kept account is with a rep who knows it, outside the territory drawn over its county.
    units = pd.read_csv(out / "units.csv", dtype=str, keep_default_na=False)
    accounts = pd.read_csv(repo_root / "data" / "accounts.csv", dtype=str, keep_default_na=False)
    drawn = units.set_index(["unit_id", "segment"])["territory_id"]
    sample = assignments[kept].merge(accounts[["account_id", "segment"]]).head(50)
    for row in sample.itertuples():
        assert drawn[(row.unit_id, row.segment)] != row.territory_id
    html = (out / "map.html").read_text()
    assert "kept for a relationship" in html
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "territory_engine.cli.main",
            "validate",
            str(out),
            str(repo_root / "scenarios" / "whatif_social.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=repo_root,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_baseline_scorecard_reports_proximity_and_families(plan_dir: Path) -> None:
    card = json.loads((plan_dir / "scorecard.json").read_text())
    rel = card["relationships"]
    assert 0 < rel["potential_weighted_proximity"] <= 1
    assert rel["accounts_with_tie_share"] <= rel["accounts_with_proximity_share"]
    assert card["families"]["families"] > 0
    assignments = pd.read_csv(plan_dir / "assignments.csv", dtype=str, keep_default_na=False)
    assert (assignments["kept_for_relationship"] == "False").all()


def test_a_family_alone_above_a_band_is_explained_before_solving(baseline) -> None:
    from territory_engine.io.load import load_tables
    from territory_engine.problem.build import build_problem, top_parent
    from territory_engine.problem.diagnose import diagnose

    scenario = baseline.model_copy(
        update={"constraints": baseline.constraints.model_copy(update={"keep_families": True})}
    )
    tables = load_tables(scenario)
    accounts = tables.accounts.copy()
    tops = top_parent(accounts)
    sizes = tops.map(tops.value_counts())
    # A family spread over several counties, made heavier than any territory may carry.
    family = tops[(sizes > 2)].iloc[0]
    members = tops == family
    accounts.loc[members, "potential"] = accounts["potential"].sum() / 10
    problem, _ = build_problem(scenario, dataclasses.replace(tables, accounts=accounts))
    reasons = diagnose(problem)
    assert any(f"the family of {family}" in r and "keep_families" in r for r in reasons), reasons
