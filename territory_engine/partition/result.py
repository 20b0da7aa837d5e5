"""The typed result of :func:`territory_engine.partition`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PartitionResult"]


@dataclass(frozen=True)
class PartitionResult:
    """A partition of a unit graph into balanced parts.

    Attributes
    ----------
    assignment
        Node id (as text) -> part index.
    objective
        The chosen objective's value (cut edges, largest diameter, inertia or
        travel); ``None`` when the diagnosis stopped before solving.
    objective_name
        ``cut_edges``, ``diameter``, ``inertia`` or ``travel``.
    feasible
        Every part within its bands (and connected when asked).
    seconds
        Wall-clock seconds of the whole call.
    violations
        The broken rules (or the diagnosis' reasons), one sentence each.
    cut_edges
        Edges between parts.
    max_relative_deviation
        Measure -> largest ``|part total / mean − 1|``.
    diameter
        Largest shortest-path distance inside a part, when distances are known.
    solver
        The alignment's solver statistics.
    exact_status, lower_bound
        CP-SAT's status and proven lower bound when the exact model ran.
    restarts, tree_seeds
        Diameter search kicks + restarts; spanning-tree seeds tried.
    anneal
        Statistics of the boundary annealing, when it ran.
    diagnosed
        True when the diagnosis found the instance impossible (nothing was solved).
    """

    assignment: dict[str, int]
    objective: float | None
    objective_name: str
    feasible: bool
    seconds: float
    violations: list[str]
    cut_edges: int | None = None
    max_relative_deviation: dict[str, float] = field(default_factory=dict)
    diameter: float | None = None
    solver: dict[str, Any] = field(default_factory=dict)
    exact_status: str | None = None
    restarts: int = 0
    tree_seeds: int = 0
    anneal: dict[str, Any] | None = None
    lower_bound: float | None = None
    diagnosed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The result document written by ``territory-engine partition`` (JSON-ready)."""
        if self.diagnosed:
            return {
                "assignment": self.assignment,
                "objective": self.objective,
                "feasible": self.feasible,
                "seconds": self.seconds,
                "violations": self.violations,
            }
        return {
            "assignment": self.assignment,
            "objective": self.objective,
            "objective_name": self.objective_name,
            "feasible": self.feasible,
            "seconds": self.seconds,
            "cut_edges": self.cut_edges,
            "max_relative_deviation": self.max_relative_deviation,
            "diameter": self.diameter,
            "violations": self.violations,
            "solver": self.solver,
            "exact_status": self.exact_status,
            "restarts": self.restarts,
            "tree_seeds": self.tree_seeds,
            "anneal": self.anneal,
            "lower_bound": self.lower_bound,
        }
