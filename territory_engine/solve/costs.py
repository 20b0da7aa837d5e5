"""The objective's terms, shared by the LP seed, the local search and the scorecard.

With territory centres ``z_t`` fixed (rep homes, or the solver's chosen
centres), the objective of an assignment ``a`` is::

    f(a) = w_T · Σ_i ω_i d(i, z_{a_i})^p / T*        (travel, p = 1; inertia, p = 2)
         + w_C · cut(a) / |E|                          (compactness: cut edges)
         + w_D · Σ_i δ_i(a_i) / P                      (disruption)
         + w_R · Σ_i (P_i − A_i(a_i)) / P              (relationship loss)

where ``ω_i`` is the unit's travel weight (its potential, floored), ``T*`` the
travel when every unit goes to its nearest eligible centre (so the travel term
is a ratio ≥ 1 at any balanced plan), ``cut`` the number of adjacency edges
whose ends are in different territories, ``δ_i(t)`` the potential of unit i's
accounts whose owner changes if i joins t, ``P`` the total potential, ``P_i``
unit i's potential and ``A_i(t) = Σ_{a in i} p_a · prox(rep_t, a)`` its
potential weighted by proximity to t's rep (``ProblemData.affinity``). The
relationship term is one minus the potential-weighted mean proximity of
accounts to their reps: 0 when every account goes to a rep who knows it fully.
"""

from __future__ import annotations

import numpy as np

from territory_engine.problem.data import ProblemData, count_cut_edges


class CostModel:
    """Per-(unit, territory) costs for fixed centres.

    Parameters
    ----------
    problem
        The problem.
    centres
        (k, 2) lon/lat of territory centres.
    """

    def __init__(self, problem: ProblemData, centres: np.ndarray) -> None:
        self.problem = problem
        self.centres = np.asarray(centres, dtype=float)
        w = problem.objective_weights
        self.w_travel = float(w.get("travel", 0.0))
        self.w_compact = float(w.get("compactness", 0.0))
        self.w_disrupt = float(w.get("disruption", 0.0))
        self.w_relation = (
            float(w.get("relationships", 0.0)) if problem.affinity is not None else 0.0
        )
        # T*: travel to the nearest eligible centre.
        best = np.full(problem.n_units, np.inf)
        for g in np.unique(problem.unit_group):
            units = np.flatnonzero(problem.unit_group == g)
            terr = np.flatnonzero(problem.territory_group == g)
            if len(terr):
                d = problem.nearest_centres(self.centres, units, 1, terr)[1][:, 0]
                best[units] = d**problem.travel_power
        best[~np.isfinite(best)] = 0.0
        self.travel_norm = max(float(np.sum(problem.travel_weight * best)), 1e-9)
        self.n_edges = max(problem.adjacency.nnz // 2, 1)
        self.total_potential = max(float(problem.unit_potential.sum()), 1e-9)
        self.owned_total = np.asarray(problem.owned_potential.sum(axis=1)).ravel()
        self.owned_count_total = np.asarray(problem.owned_count.sum(axis=1)).ravel()

    def travel(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        """Raw weighted distance ``ω_i d(i, z_t)^p`` for paired units and territories.

        ``d`` is the problem's travel (:meth:`ProblemData.paired_centre_distances`):
        great-circle km, or the given travel times.
        """
        d = self.problem.paired_centre_distances(self.centres, units, terrs)
        return self.problem.travel_weight[units] * d**self.problem.travel_power

    def moved_potential(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        """Potential whose owner changes when each unit joins the paired territory."""
        owned = np.asarray(self.problem.owned_potential[units, terrs]).ravel()
        return self.owned_total[units] - owned

    def moved_accounts(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        """Accounts whose owner changes when each unit joins the paired territory."""
        owned = np.asarray(self.problem.owned_count[units, terrs]).ravel()
        return self.owned_count_total[units] - owned

    def relationship_loss(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        """``P_i − A_i(t)``: potential of each unit not covered by proximity to t's rep."""
        units = np.asarray(units)
        if self.problem.affinity is None:
            return self.problem.unit_potential[units].astype(float)
        close = np.asarray(self.problem.affinity[units, terrs]).ravel()
        return self.problem.unit_potential[units] - close

    def assignment_cost(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        """Linear part of ``f`` (travel + disruption + relationships) per (unit, territory) pair."""
        cost = self.w_travel * self.travel(units, terrs) / self.travel_norm
        if self.w_disrupt:
            cost = cost + self.w_disrupt * self.moved_potential(units, terrs) / self.total_potential
        if self.w_relation:
            cost = cost + self.w_relation * self.relationship_loss(units, terrs) / (
                self.total_potential
            )
        return cost

    def objective(self, assign: np.ndarray) -> dict[str, float]:
        """Every term of ``f`` for a full assignment, and the weighted total."""
        units = np.arange(self.problem.n_units)
        travel = float(self.travel(units, assign).sum()) / self.travel_norm
        cut = count_cut_edges(self.problem.adjacency, assign)
        moved = float(self.moved_potential(units, assign).sum())
        moved_acc = float(self.moved_accounts(units, assign).sum())
        lost = float(self.relationship_loss(units, assign).sum()) / self.total_potential
        total = (
            self.w_travel * travel
            + self.w_compact * cut / self.n_edges
            + self.w_disrupt * moved / self.total_potential
            + self.w_relation * lost
        )
        return {
            "total": total,
            "travel_ratio": travel,
            "cut_edges": cut,
            "moved_potential": moved,
            "moved_accounts": moved_acc,
            "relationship_loss": lost,
        }
