"""``SolverStats``: what one solve did, typed; ``as_dict`` is what ``plan.json`` records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

StopReason = Literal["converged", "stalled_infeasible", "time_limit"]


@dataclass(frozen=True)
class ObjectiveTerms:
    """Every term of the objective ``f`` of one assignment (:meth:`CostModel.objective`).

    Attributes
    ----------
    total
        The weighted total ``f``.
    travel_ratio
        Weighted travel over the travel to each unit's nearest eligible centre.
    cut_edges
        Adjacency edges whose ends lie in different territories.
    moved_potential, moved_accounts
        Potential and accounts that change owner.
    relationship_loss
        Share of the potential not covered by proximity to its territory's rep.
    """

    total: float
    travel_ratio: float
    cut_edges: int
    moved_potential: float
    moved_accounts: float
    relationship_loss: float

    @classmethod
    def from_dict(cls, terms: dict[str, Any]) -> ObjectiveTerms:
        """The terms of a :meth:`CostModel.objective` dict."""
        return cls(
            total=terms["total"],
            travel_ratio=terms["travel_ratio"],
            cut_edges=terms["cut_edges"],
            moved_potential=terms["moved_potential"],
            moved_accounts=terms["moved_accounts"],
            relationship_loss=terms["relationship_loss"],
        )

    def as_dict(self) -> dict[str, Any]:
        """The terms as :meth:`CostModel.objective` returns them (same keys, same order)."""
        return {
            "total": self.total,
            "travel_ratio": self.travel_ratio,
            "cut_edges": self.cut_edges,
            "moved_potential": self.moved_potential,
            "moved_accounts": self.moved_accounts,
            "relationship_loss": self.relationship_loss,
        }


# Statistics of the seed, present only for the seed that produced them: the
# LP's (``lp_*``) or the power diagram's (``seed_iterations``,
# ``seed_combined_deviation``); none when the solve started from ``initial``.
_SEED_KEYS = (
    "seed_method",
    "lp_objective",
    "lp_fractional_vars",
    "lp_band_slack",
    "lp_variables",
    "seed_iterations",
    "seed_combined_deviation",
    "seed_seconds",
)


@dataclass(frozen=True, kw_only=True)
class SolverStats:
    """Statistics of one solve (:func:`territory_engine.solve.solve`).

    Attributes
    ----------
    seed, time_limit, candidates
        The parameters the solve ran with (:class:`SolveParams`).
    start
        ``"lp"`` (the solver's own seed) or ``"initial"`` (a given assignment).
    seed_method
        ``"lp"`` or ``"power_diagram"``: how the seed was drawn (``None`` from ``initial``).
    lp_objective, lp_fractional_vars, lp_band_slack, lp_variables
        The seed LP's objective, fractional variables, total relative band
        slack and variables (only with the LP seed).
    seed_iterations, seed_combined_deviation
        The power diagram's L-BFGS iterations and the largest relative
        deviation of its combined measure (only with the power-diagram seed).
    seed_seconds
        Seconds of the last seed round (``None`` from ``initial``).
    seed_objective
        Objective terms of the start (after the contiguity repair).
    seed_violation_count
        (territory, measure) bands the start breaks.
    restarts
        Perturbed re-seeds (or, on large instances, regional re-draws) tried.
    lns_improved_regions
        LNS regions whose exact re-solve improved the plan.
    search_seconds
        Seconds from the first local search to the end.
    search_moves
        Unit moves applied by the kept local search.
    stop_reason
        ``"converged"``, ``"stalled_infeasible"`` or ``"time_limit"`` (also when
        the last search converged but a phase in ``clock_cut`` was cut short).
    clock_cut
        Phases whose outcome the wall clock decided (``"repair"``,
        ``"restarts"``, ``"regional_reseeds"``): with any, the plan may differ
        between machines.
    objective
        Objective terms of the returned assignment.
    seconds
        Seconds of the whole solve.
    """

    seed: int
    time_limit: float
    candidates: int
    start: Literal["lp", "initial"]
    seed_method: str | None = None
    lp_objective: float | None = None
    lp_fractional_vars: int | None = None
    lp_band_slack: float | None = None
    lp_variables: int | None = None
    seed_iterations: int | None = None
    seed_combined_deviation: float | None = None
    seed_seconds: float | None = None
    seed_objective: ObjectiveTerms
    seed_violation_count: int
    restarts: int
    lns_improved_regions: int
    search_seconds: float
    search_moves: int
    stop_reason: StopReason
    clock_cut: tuple[str, ...]
    objective: ObjectiveTerms
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The statistics as a JSON-ready dict (``plan.json``'s ``solver``).

        Keys in the order the solver has always written them; the seed's keys
        only for the seed that ran (see the attributes).
        """
        out: dict[str, Any] = {
            "seed": self.seed,
            "time_limit": self.time_limit,
            "candidates": self.candidates,
            "start": self.start,
        }
        for key in _SEED_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(
            seed_objective=self.seed_objective.as_dict(),
            seed_violation_count=self.seed_violation_count,
            restarts=self.restarts,
            lns_improved_regions=self.lns_improved_regions,
            search_seconds=self.search_seconds,
            search_moves=self.search_moves,
            stop_reason=self.stop_reason,
            clock_cut=list(self.clock_cut),
            objective=self.objective.as_dict(),
            seconds=self.seconds,
        )
        return out
