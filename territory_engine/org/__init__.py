"""The sales organisation around the territories, on the public solve/partition API.

One folder per concept: ``hierarchy`` (districts and regions drawn by the
solver), ``forecast`` (monthly history, territory forecasts and their
backtest), ``kpis`` (the year's KPIs from actuals), ``capacity`` (how many reps
a target needs) and ``adjust`` (mid-year changes and what-ifs against a plan).
Import the submodules; this package re-exports nothing so that each stays
light to import.
"""
