"""Fair shares: what each territory would carry in a perfectly balanced plan.

The definition lives with the balance bands in :mod:`territory_engine.problem.bands`;
it is re-exported here for the metrics' callers.
"""

from __future__ import annotations

from territory_engine.problem.bands import fair_shares

__all__ = ["fair_shares"]
