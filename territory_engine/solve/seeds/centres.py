"""Free territory centres: weighted k-means++ start and 1-median re-centring."""

from __future__ import annotations

import numpy as np

from territory_engine.problem.data import ProblemData


def choose_centres(problem: ProblemData, rng: np.random.Generator) -> np.ndarray:
    """k-means++ on unit centres weighted by travel weight (Arthur & Vassilvitskii 2007).

    Returns
    -------
    numpy.ndarray
        (k, 2) lon/lat of initial centres (at unit centres).
    """
    k = problem.n_territories
    w = problem.travel_weight / problem.travel_weight.sum()
    first = int(rng.choice(problem.n_units, p=w))
    chosen = [first]
    d2 = problem.distances_to(problem.xy[[first]])[:, 0] ** 2
    for _ in range(1, k):
        p = w * d2
        total = p.sum()
        nxt = int(rng.choice(problem.n_units, p=p / total)) if total > 0 else int(np.argmax(w))
        chosen.append(nxt)
        d2 = np.minimum(d2, problem.distances_to(problem.xy[[nxt]])[:, 0] ** 2)
    return problem.xy[chosen].copy()


def recentre(problem: ProblemData, assign: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Move each centre to its territory's weighted 1-median among the territory's units.

    The 1-median (the unit minimising Σ ω_j d(j, ·) over the territory) keeps
    centres at real places, unlike the centroid, and is what the travel term
    measures.
    """
    new = centres.copy()
    for t in range(problem.n_territories):
        units = np.flatnonzero(assign == t)
        if len(units) == 0:
            continue
        d = problem.distances_to(problem.xy[units], units) ** problem.travel_power
        cost = problem.travel_weight[units] @ d
        new[t] = problem.xy[units[int(np.argmin(cost))]]
    return new
