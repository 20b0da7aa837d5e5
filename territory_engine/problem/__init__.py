"""Problem data: the plain-array view of a scenario that the solver works on."""

from territory_engine.problem.data import ProblemData

__all__ = ["ProblemData"]
