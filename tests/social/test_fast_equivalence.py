"""The vectorised family and tie helpers agree with the plain loops they replaced.

The references below are the rules as written before (one account at a time); random
tables with duplicate ids, unknown parents, self-parents and cycles exercise every
branch of the vectorised versions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territory_engine.metrics.relationships import family_split, has_tie
from territory_engine.problem.build import top_parent


def _top_parent_reference(accounts: pd.DataFrame) -> list[str]:
    ids = accounts["account_id"].astype(str)
    parent = dict(zip(ids, accounts["parent_account_id"].astype(str), strict=True))
    tops = []
    for a in ids:
        seen = {a}
        while parent.get(a, "") and parent[a] not in seen:
            a = parent[a]
            seen.add(a)
        tops.append(a)
    return tops


@pytest.mark.parametrize("seed", range(5))
def test_top_parent_matches_the_account_by_account_walk(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        ids = [f"a{rng.integers(0, n + 3)}" for _ in range(n)]
        parents = [str(rng.choice(["", f"a{rng.integers(0, n + 5)}", "X"])) for _ in range(n)]
        frame = pd.DataFrame(
            {"account_id": ids, "parent_account_id": parents}, index=rng.permutation(n) + 7
        )
        got = top_parent(frame)
        assert got.index.equals(frame.index)
        assert got.tolist() == _top_parent_reference(frame)


def test_top_parent_follows_chains_deeper_than_the_vectorised_steps() -> None:
    n = 100
    frame = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "parent_account_id": [""] + [f"a{i - 1}" for i in range(1, n)],
        }
    )
    assert top_parent(frame).tolist() == ["a0"] * n


def test_a_cycle_stops_where_it_closes() -> None:
    frame = pd.DataFrame({"account_id": ["a", "b", "c"], "parent_account_id": ["b", "a", "c"]})
    assert top_parent(frame).tolist() == ["b", "a", "c"]


@pytest.mark.parametrize("seed", range(5))
def test_has_tie_and_family_split_match_their_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, e = 500, 200
    rep = np.array([f"r{x}" for x in rng.integers(0, 12, n)], dtype=object)
    account = np.array([f"A{x}" for x in rng.integers(0, 300, n)], dtype=object)
    tie_rep = np.array([f"r{x}" for x in rng.integers(0, 12, e)], dtype=object)
    tie_account = np.array([f"A{x}" for x in rng.integers(0, 300, e)], dtype=object)
    ties = set(zip(tie_rep, tie_account, strict=True))
    expected = [(r, a) in ties for r, a in zip(rep, account, strict=True)]
    assert has_tie(rep, account, tie_rep, tie_account).tolist() == expected
    assert expected.count(True) > 0

    family = np.array([f"F{x}" for x in rng.integers(0, 150, n)], dtype=object)
    reps_of: dict[str, set[str]] = {}
    for f, r in zip(family, rep, strict=True):
        reps_of.setdefault(f, set()).add(r)
    sizes = pd.Series(family).value_counts()
    split = [f for f, rs in reps_of.items() if len(rs) > 1]
    assert family_split(family, rep) == {
        "families": int((sizes > 1).sum()),
        "families_split": len(split),
        "accounts_in_split_families": int(sizes[split].sum()),
    }
