"""Load every table a scenario names, cross-checked, into :class:`Tables`."""

from __future__ import annotations

import dataclasses

import geopandas as gpd

from territory_engine.config.scenario import Scenario
from territory_engine.io.accounts import check_account_owners, read_accounts
from territory_engine.io.columns import user_column_names
from territory_engine.io.edges import check_edges, read_edges
from territory_engine.io.model import Tables
from territory_engine.io.placement import place_accounts
from territory_engine.io.reps import read_reps
from territory_engine.io.segments import check_segments_covered, unify_segments
from territory_engine.io.tables import keep_source
from territory_engine.io.travel import read_travel_times
from territory_engine.io.whatif import apply_whatif

__all__ = ["Tables", "load_tables"]


def load_tables(scenario: Scenario) -> Tables:
    """Read accounts, reps, units (and edges), check references, place accounts in units.

    Units are a polygon layer or, for ``data.units: {h3: RES}``, H3 cells built
    from the accounts. Then the scenario's ``whatif:`` reps are removed and added
    (:func:`territory_engine.io.whatif.apply_whatif`); last, ``data.travel_times``
    are read for the reps that remain.

    ``data.columns`` renames each file's headers to the engine's names (errors
    name the file's own header); ``data.sheets`` picks the sheet of an
    ``.xlsx`` table. Accounts without coordinates are placed by ZIP code or by
    the unit they name (:func:`territory_engine.io.placement.place_accounts`).
    Segments are the data's own (:mod:`territory_engine.config.segments`):
    every account segment must have reps it may go to.

    Raises
    ------
    territory_engine.errors.InputError
        On any bad input, naming the file, row or id, and column.
    """
    data = scenario.data
    mapped = {
        str(data.accounts): data.columns.accounts,
        str(data.reps): data.columns.reps,
        str(data.edges): data.columns.edges,
    }
    with user_column_names(mapped):
        tables = _read_and_check(scenario)
    if data.travel_times is not None:
        # After the what-ifs: every rep of the plan, a hired one too, needs minutes.
        travel = read_travel_times(data.travel_times, tables.reps, tables.units)
        tables = dataclasses.replace(tables, travel=travel)
    return tables


def _read_and_check(scenario: Scenario) -> Tables:
    """Accounts, reps, units and edges read, cross-checked and what-ifs applied."""
    data, columns, sheets = scenario.data, scenario.data.columns, scenario.data.sheets
    accounts = read_accounts(data.accounts, columns=columns.accounts, sheet=sheets.accounts)
    reps = read_reps(data.reps, columns=columns.reps, sheet=sheets.reps)
    accounts, reps = unify_segments(accounts, reps)
    check_account_owners(accounts, reps, accounts_file=str(data.accounts))
    # A polygon layer, or H3 cells built from the accounts (carrying the region key).
    # data.columns.units.unit_id is another way to write data.unit_id_column.
    unit_id = columns.units.get("unit_id", data.unit_id_column)
    placing = data.model_copy(update={"unit_id_column": unit_id})
    # A fair share for data.units.split_share: the reps read (before the what-ifs).
    count = scenario.territories.count if scenario.territories.mode == "count" else len(reps)
    units, accounts = place_accounts(
        placing, accounts, carry=[scenario.quota.region_key], territories=count
    )
    units = _renamed_units(units, columns.units)
    edges = None
    if data.edges is not None:
        edges = read_edges(data.edges, columns=columns.edges, sheet=sheets.edges)
        edges = check_edges(edges, accounts, reps, edges_file=str(data.edges))
    tables = apply_whatif(scenario, Tables(accounts=accounts, reps=reps, units=units, edges=edges))
    check_segments_covered(scenario, tables.accounts, tables.reps)
    return tables


def _renamed_units(units: gpd.GeoDataFrame, columns: dict[str, str]) -> gpd.GeoDataFrame:
    """Units with ``data.columns.units`` applied to their attribute columns (``state``...)."""
    extra = {user: engine for engine, user in columns.items() if engine != "unit_id"}
    if not extra:
        return units
    return keep_source(units.rename(columns=extra), units)
