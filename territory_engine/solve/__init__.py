"""Alignment solver: seed, contiguity repair, local search, exact repairs (:func:`solve`)."""

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
