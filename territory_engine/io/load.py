"""Load every table a scenario names, cross-checked, into :class:`Tables`."""

from __future__ import annotations

from territory_engine.config.scenario import Scenario
from territory_engine.io.accounts import check_account_owners, read_accounts
from territory_engine.io.edges import check_edges, read_edges
from territory_engine.io.model import Tables
from territory_engine.io.reps import read_reps
from territory_engine.io.units import locate_accounts, read_units
from territory_engine.io.whatif import apply_whatif

__all__ = ["Tables", "load_tables"]


def load_tables(scenario: Scenario) -> Tables:
    """Read accounts, reps, units (and edges), check references, place accounts in units.

    Last, the scenario's ``whatif:`` reps are removed and added
    (:func:`territory_engine.io.whatif.apply_whatif`).

    Raises
    ------
    territory_engine.errors.InputError
        On any bad input, naming the file, row or id, and column.
    """
    data = scenario.data
    accounts = read_accounts(data.accounts)
    reps = read_reps(data.reps)
    check_account_owners(accounts, reps, accounts_file=str(data.accounts))
    units = read_units(data.units, id_column=data.unit_id_column, layer=data.units_layer)
    unit_of = locate_accounts(
        accounts, units, accounts_file=str(data.accounts), snap_km=data.snap_km
    )
    accounts = accounts.assign(unit_id=unit_of.astype(str).to_numpy())
    edges = None
    if data.edges is not None:
        edges = read_edges(data.edges)
        edges = check_edges(edges, accounts, reps, edges_file=str(data.edges))
    tables = Tables(accounts=accounts, reps=reps, units=units, edges=edges)
    return apply_whatif(scenario, tables)
