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
    coordinates
        Where the node coordinates came from: ``given`` (node attributes),
        ``spectral`` (derived from the adjacency: the graph has none) or ``mds``
        (derived from edge lengths). Derived coordinates only place the seeds;
        cut edges and diameters never use them.
    joins
        Virtual edges added between components of the graph so contiguous parts
        can cross to islands: ``{"nodes": [id, id], "rule": "nearest"}`` (by
        coordinates) or ``"rule": "county 13127"`` (nodes of the same county,
        by GEOID). Parts are connected over these edges; ``cut_edges`` counts
        the graph's own edges only.
    components
        When the graph stayed in several components with contiguity on: per
        component its number of units, a sample of ids, its weight, the range
        of parts it can hold (``[]`` when none) and the parts it got (``None``
        when the call was refused).
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
    coordinates: str = "given"
    joins: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The result document written by ``territory-engine partition`` (JSON-ready)."""
        if self.diagnosed:
            return {
                "assignment": self.assignment,
                "objective": self.objective,
                "feasible": self.feasible,
                "seconds": self.seconds,
                "violations": self.violations,
                "coordinates": self.coordinates,
                "joins": self.joins,
                "components": self.components,
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
            "coordinates": self.coordinates,
            "joins": self.joins,
            "components": self.components,
        }
