"""Territory forecasts from monthly history: reconciled across the hierarchy, backtested.

:mod:`~territory_engine.org.forecast.model` forecasts and backtests any
territory series (``statsforecast`` AutoETS against seasonal naive,
reconciled with ``hierarchicalforecast``);
:mod:`~territory_engine.org.forecast.plan` builds a plan's territory series from
the accounts' history under the plan's own assignment, and gives the quotas
and the attainment simulation what they need.
"""

from territory_engine.org.forecast.model import (
    FORECAST_COLUMNS,
    Hierarchy,
    backtest,
    build_hierarchy,
    forecast_hierarchy,
    mape,
    wape,
)

__all__ = [
    "FORECAST_COLUMNS",
    "Hierarchy",
    "backtest",
    "build_hierarchy",
    "forecast_hierarchy",
    "mape",
    "wape",
]
