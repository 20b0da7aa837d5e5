"""The year's KPIs from actuals (issue 17, item 5).

``compute_kpis(plan_dir, actuals, as_of=None)`` reads a plan folder and a table of
monthly actual revenue (per account or per territory) and returns a
:class:`KpiResult`: the share of reps at or above quota year to date and pro-rated,
attainment by segment, district and region, the accuracy of the plan's forecasts,
and the territories drifting out of balance. ``write_kpis(result, folder)`` writes
``kpis.json``, ``kpis.csv`` and ``kpis.html`` atomically. The definitions are in
:mod:`territory_engine.org.kpis.metrics`.
"""

from territory_engine.org.kpis.compute import HEALTHY_BAND, KpiResult, compute_kpis
from territory_engine.org.kpis.write import KPI_FILES, write_kpis

__all__ = ["HEALTHY_BAND", "KPI_FILES", "KpiResult", "compute_kpis", "write_kpis"]
