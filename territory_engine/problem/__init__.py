"""Problem data: the plain-array view of a scenario that the solver works on."""

from territory_engine.problem.arrays import grid_problem, problem_from_arrays
from territory_engine.problem.data import ProblemData, count_cut_edges

__all__ = ["ProblemData", "count_cut_edges", "grid_problem", "problem_from_arrays"]
