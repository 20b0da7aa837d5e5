"""``SolveParams``: the knobs of one solve, in one immutable value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SolveParams:
    """Parameters of :func:`territory_engine.solve.solve` (the defaults of ``align``).

    Attributes
    ----------
    seed
        Seeds every random choice: the same problem and seed give the same
        alignment whenever the search converges before the time limit
        (``stats.stop_reason == "converged"``); when the clock cut a repair or
        restart short (``stats.clock_cut``), the stop reason is ``"time_limit"``.
    time_limit
        Seconds for the whole solve; the best assignment found is returned.
    candidates
        Nearest eligible territories a unit considers in the seed.
    lns_rounds
        Regions (a territory and up to ``lns_parts - 1`` neighbours) re-solved
        exactly by CP-SAT to improve a feasible plan (0: none). CP-SAT repairs
        bands that local search cannot whatever this value.
    lns_parts
        Territories per LNS region (``>= k``: the whole instance).
    lns_reach
        Adjacency steps a unit may move in an LNS region.
    lns_seconds
        CP-SAT deterministic seconds per LNS region.
    lns_workers
        CP-SAT workers in LNS (more than one: faster, not deterministic).
    """

    seed: int = 0
    time_limit: float = 30.0
    candidates: int = 8
    lns_rounds: int = 0
    lns_parts: int = 4
    lns_reach: int = 3
    lns_seconds: float = 1.0
    lns_workers: int = 1


DEFAULT_PARAMS = SolveParams()
"""``SolveParams()``: the default of :func:`territory_engine.solve.solve`."""
