"""Segments are the data's own: how they are spelt, listed and grouped into teams.

A segment is whatever the ``segment`` column of the accounts and reps tables
holds (``Strategic``, ``Mid-Market``...): any names, any number. A table without
a ``segment`` column puts every record in one segment, :data:`POOLED`.

One rule, used by the loaders, the problem builder, the validator and the scorer:

* **Spelling**: two spellings that differ only in case or surrounding spaces
  are one segment, shown as first spelt (reps table first, then accounts);
  see :func:`canonical_spellings`.
* **Order**: segments are listed sorted by name (:func:`list_segments`), so the
  map's layers, the scorecard and the report list them the same way every run.
* **Teams** (eligibility groups, the overlay layers of the map):
  ``territories.eligibility: segment`` makes each segment a team of its own;
  ``none`` pools everything in one team named :data:`POOLED`; a mapping
  ``{Mid-Market: [Mid-Market, Territory]}`` lets an account segment go to the
  listed rep segments (an account segment not in the mapping goes to the rep
  segment of its own name). Segments linked by the mapping form one team
  (:func:`teams`), named by its rep segments joined with ``" + "``.

This module is pure (no I/O, no pandas): it sits below :mod:`territory_engine.io`,
:mod:`territory_engine.problem` and :mod:`territory_engine.constraints`, which all
import it, so the rule cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from territory_engine.errors import ScenarioError

POOLED = "all"
"""The one segment of a table without a ``segment`` column, and the one team of
``territories.eligibility: none``."""

TEAM_JOIN = " + "
"""Separator of the rep segments in the name of a team of several segments."""

Eligibility = str | Mapping[str, Sequence[str]]
"""``"segment"``, ``"none"`` or a mapping account segment -> rep segments."""


def segment_key(name: str) -> str:
    """The key two spellings of one segment share: case-folded, inner spaces collapsed."""
    return " ".join(str(name).split()).casefold()


def distinct(column: Iterable[str]) -> list[str]:
    """The distinct values of ``column`` in order of first appearance.

    A million accounts hold a handful of segments: the per-value work runs once per
    distinct value (``Series.unique`` keeps the order and does not iterate in Python).
    """
    unique = getattr(column, "unique", None)
    return list(unique()) if callable(unique) else list(dict.fromkeys(column))


def canonical_spellings(*columns: Iterable[str]) -> dict[str, str]:
    """Key -> the first spelling met, over `columns` in order (empty values skipped)."""
    out: dict[str, str] = {}
    for column in columns:
        for value in distinct(column):
            text = str(value).strip()
            if text:
                out.setdefault(segment_key(text), text)
    return out


def list_segments(*columns: Iterable[str]) -> list[str]:
    """The distinct segments of `columns`, sorted: the order every listing uses."""
    return sorted({str(v) for column in columns for v in distinct(column)} - {""})


@dataclass(frozen=True)
class Teams:
    """Eligibility groups of a scenario's segments.

    Attributes
    ----------
    names
        Team names, sorted (the order of the problem's groups).
    of_account_segment
        Account segment -> team name.
    of_rep_segment
        Rep segment -> team name.
    allowed
        Account segment -> the rep segments that may own its accounts
        (``None`` for eligibility ``none``: every rep).
    """

    names: list[str]
    of_account_segment: dict[str, str]
    of_rep_segment: dict[str, str]
    allowed: dict[str, tuple[str, ...]] | None

    def may_own(self, account_segment: str, rep_segment: str) -> bool:
        """Whether a rep of `rep_segment` may own an account of `account_segment`."""
        if self.allowed is None:
            return True
        return rep_segment in self.allowed.get(account_segment, (account_segment,))


def resolve_mapping(
    eligibility: Mapping[str, Sequence[str]], spelling: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """The mapping with every segment spelt as the data spells it (case-insensitive)."""

    def spelt(name: str) -> str:
        return spelling.get(segment_key(name), str(name).strip())

    return {
        spelt(a): tuple(dict.fromkeys(spelt(r) for r in reps)) for a, reps in eligibility.items()
    }


def teams(
    eligibility: Eligibility, account_segments: Iterable[str], rep_segments: Iterable[str]
) -> Teams:
    """Group segments into teams by the scenario's ``territories.eligibility``.

    Parameters
    ----------
    eligibility
        ``"segment"``, ``"none"`` or a mapping account segment -> rep segments
        (spelt as in the data or differing only in case).
    account_segments, rep_segments
        The segments of the accounts and of the reps (repeats allowed).

    Returns
    -------
    Teams

    Raises
    ------
    ScenarioError
        When a mapping links segments that do not share all their rep segments
        (``A: [X]`` and ``B: [X, Y]``): the engine plans a team as one pool, so
        every account segment of a team must list the same rep segments.
    """
    acc = list_segments(account_segments)
    rep = list_segments(rep_segments)
    if eligibility == "none":
        return Teams([POOLED], dict.fromkeys(acc, POOLED), dict.fromkeys(rep, POOLED), allowed=None)
    if isinstance(eligibility, str):
        names = sorted({*acc, *rep})
        return Teams(
            names,
            {s: s for s in acc},
            {s: s for s in rep},
            allowed={s: (s,) for s in acc},
        )
    allowed = resolve_mapping(eligibility, canonical_spellings(rep, acc))
    for segment in acc:
        allowed.setdefault(segment, (segment,))
    return _linked_teams(allowed, rep)


def _linked_teams(allowed: dict[str, tuple[str, ...]], rep: list[str]) -> Teams:
    """Teams of a mapping: account and rep segments linked by it, as connected parts."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, targets in allowed.items():
        for r in targets:
            parent[find(("account", a))] = find(("rep", r))
    for r in rep:
        find(("rep", r))
    members: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    of_acc: dict[str, str] = {}
    of_rep: dict[str, str] = {}
    for nodes in members.values():
        reps_in = sorted(n for kind, n in nodes if kind == "rep")
        accs_in = sorted(n for kind, n in nodes if kind == "account")
        name = TEAM_JOIN.join(reps_in)
        for a in accs_in:
            if sorted(allowed[a]) != reps_in:
                other = next(b for b in accs_in if sorted(allowed[b]) != sorted(allowed[a]))
                raise ScenarioError(
                    f"territories.eligibility: {a} accounts may go to "
                    f"{', '.join(allowed[a])} and {other} accounts to "
                    f"{', '.join(allowed[other])}; segments that share a rep segment are "
                    "planned as one team, so list the same rep segments for both "
                    f"(e.g. {a}: [{', '.join(reps_in)}])"
                )
            of_acc[a] = name
        for r in reps_in:
            of_rep[r] = name
    names = sorted(set(of_acc.values()) | set(of_rep.values()))
    return Teams(names, of_acc, of_rep, allowed=allowed)


__all__ = [
    "POOLED",
    "TEAM_JOIN",
    "Eligibility",
    "Teams",
    "canonical_spellings",
    "list_segments",
    "resolve_mapping",
    "segment_key",
    "teams",
]
