"""Load every table a scenario names, cross-checked, into :class:`Tables`."""

from __future__ import annotations

import dataclasses

from territory_engine.config.scenario import Scenario
from territory_engine.io.accounts import check_account_owners, read_accounts
from territory_engine.io.edges import check_edges, read_edges
from territory_engine.io.model import Tables
from territory_engine.io.reps import read_reps
from territory_engine.io.travel import read_travel_times
from territory_engine.io.units import scenario_units
from territory_engine.io.whatif import apply_whatif

__all__ = ["Tables", "load_tables"]


def load_tables(scenario: Scenario) -> Tables:
    """Read accounts, reps, units (and edges), check references, place accounts in units.

    Units are a polygon layer or, for ``data.units: {h3: RES}``, H3 cells built
    from the accounts. Then the scenario's ``whatif:`` reps are removed and added
    (:func:`territory_engine.io.whatif.apply_whatif`); last, ``data.travel_times``
    are read for the reps that remain.

    Raises
    ------
    territory_engine.errors.InputError
        On any bad input, naming the file, row or id, and column.
    """
    data = scenario.data
    accounts = read_accounts(data.accounts)
    reps = read_reps(data.reps)
    check_account_owners(accounts, reps, accounts_file=str(data.accounts))
    # A polygon layer, or H3 cells built from the accounts (carrying the region key).
    units, unit_of = scenario_units(data, accounts, carry=[scenario.quota.region_key])
    accounts = accounts.assign(unit_id=unit_of.astype(str).to_numpy())
    edges = None
    if data.edges is not None:
        edges = read_edges(data.edges)
        edges = check_edges(edges, accounts, reps, edges_file=str(data.edges))
    tables = apply_whatif(scenario, Tables(accounts=accounts, reps=reps, units=units, edges=edges))
    if data.travel_times is not None:
        # After the what-ifs: every rep of the plan, a hired one too, needs minutes.
        travel = read_travel_times(data.travel_times, tables.reps, tables.units)
        tables = dataclasses.replace(tables, travel=travel)
    return tables
