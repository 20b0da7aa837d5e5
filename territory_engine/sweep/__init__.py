"""Scenario sweeps: a grid of variants of one scenario, run in parallel on Dask.

``territory-engine sweep SCENARIO --grid KEY=V1,V2 ...`` and :func:`run_sweep` expand
the grid (:mod:`~territory_engine.sweep.grid`), run one task per variant on a local
or remote Dask cluster (:mod:`~territory_engine.sweep.run`), and mark the plans no
other plan beats on balance, disruption and travel together
(:mod:`~territory_engine.sweep.pareto`).
"""

from territory_engine.sweep.grid import GridAxis, Variant, build_variants, parse_grid
from territory_engine.sweep.pareto import compromise_scores, non_dominated
from territory_engine.sweep.run import SweepPlan, SweepResult, plan_sweep, run_sweep

__all__ = [
    "GridAxis",
    "SweepPlan",
    "SweepResult",
    "Variant",
    "build_variants",
    "compromise_scores",
    "non_dominated",
    "parse_grid",
    "plan_sweep",
    "run_sweep",
]
