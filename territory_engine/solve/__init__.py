"""Alignment solver (:func:`solve`): the strategy in ``align``, its parts in subpackages.

- :mod:`~territory_engine.solve.seeds`: starting plans (LP, power diagram, bisection, trees);
- :mod:`~territory_engine.solve.search`: local search, compiled kernels, re-draws, annealing;
- :mod:`~territory_engine.solve.exact`: CP-SAT models, whole and by region (LNS).

The graph portfolio (which of these a graph partition runs, for how long) is
:mod:`territory_engine.partition`.
"""

from territory_engine.solve.align import Alignment, align, check_alignment, solve
from territory_engine.solve.params import SolveParams
from territory_engine.solve.stats import ObjectiveTerms, SolverStats

__all__ = [
    "Alignment",
    "ObjectiveTerms",
    "SolveParams",
    "SolverStats",
    "align",
    "check_alignment",
    "solve",
]
