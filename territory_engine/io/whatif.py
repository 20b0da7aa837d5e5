"""Apply a scenario's ``whatif:`` operations to the loaded tables.

:func:`apply_whatif` is the one place where a what-if changes the inputs. It
runs at the end of :func:`territory_engine.io.load.load_tables`, so the
problem builder, the solver, the scorer and the validator all see the same
reps table and none of them knows about what-ifs:

* ``remove_reps``: the reps are dropped; their accounts keep them as
  ``current_rep_id`` (so the scorecard counts them as moved) and go to the
  remaining reps;
* ``add_reps``: a row per new rep, its home at a city of ``data.places`` (or
  of a rep's ``home_city``) or at ``lat``/``lon``;
* ``lock_accounts``: already expanded into ``constraints.locks`` by
  :func:`territory_engine.config.whatif.expand_lock_accounts`; here their ids
  are checked against the accounts, naming the lock file's row;
* ``base_plan``: the plan folder's owner of each account (read with the one
  plan folder reader, :func:`territory_engine.plan.reader.read_plan_folder`)
  replaces ``current_rep_id``, so disruption is counted against that plan;
  the solver starts from it (:func:`territory_engine.org.adjust.warm.warm_start`)
  and the manifest records it (:func:`base_plan_entry`).

``target_change`` is applied by the quota step
(:func:`territory_engine.quota.allocate.company_target`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.config.scenario import Scenario
from territory_engine.config.segments import canonical_spellings, list_segments, segment_key, teams
from territory_engine.config.whatif import read_lock_file
from territory_engine.config.whatif_models import AddRepConfig
from territory_engine.errors import InfeasibleError, InputError, ScenarioError, did_you_mean
from territory_engine.io.accounts import check_account_owners
from territory_engine.io.model import Tables
from territory_engine.io.tables import SOURCE_FILE_ATTR, is_in, raise_for_rows, read_table

PLACE_COLUMNS = ("name", "state", "lat", "lon")
"""Required columns of a gazetteer (``data.places``); ``population`` is optional."""


@dataclass(frozen=True)
class Place:
    """A city found for ``whatif.add_reps``.

    Attributes
    ----------
    label
        ``"City, ST"`` (or the rep's ``home_city`` as written).
    lat, lon
        WGS84 degrees.
    """

    label: str
    lat: float
    lon: float


def read_places(path: str | Path) -> pd.DataFrame:
    """Read a gazetteer: ``name, state, lat, lon`` and optionally ``population``.

    Raises
    ------
    InputError
        A missing file or column, or a bad number, naming the file, row and column.
    """
    frame = read_table(
        path,
        kind="places",
        required=PLACE_COLUMNS,
        numeric=("lat", "lon", "population"),
        text=("name", "state"),
    )
    if "population" not in frame.columns:
        frame["population"] = 0.0
    return frame


def _split_city(text: str) -> tuple[str, str | None]:
    """``"Nashville, TN"`` -> ``("nashville", "TN")``; ``"Nashville"`` -> state ``None``."""
    name, comma, state = text.rpartition(",")
    if comma and name.strip() and state.strip():
        return " ".join(name.split()).casefold(), state.strip().upper()
    return " ".join(text.split()).casefold(), None


def _candidates(places: pd.DataFrame | None, reps: pd.DataFrame) -> pd.DataFrame:
    """Places to match: the gazetteer's, then the reps' home cities (with their homes)."""
    frames = []
    if places is not None:
        frames.append(
            pd.DataFrame(
                {
                    "key": [" ".join(str(n).split()).casefold() for n in places["name"]],
                    "state": places["state"].astype(str).str.upper().to_numpy(),
                    "label": [
                        f"{n}, {s}" for n, s in zip(places["name"], places["state"], strict=True)
                    ],
                    "lat": places["lat"].to_numpy(float),
                    "lon": places["lon"].to_numpy(float),
                    "population": places["population"].to_numpy(float),
                    "source": 0,
                }
            )
        )
    if "home_city" in reps.columns:
        homes = reps[reps["home_city"].astype(str).str.strip() != ""]
        split = [_split_city(str(c)) for c in homes["home_city"]]
        frames.append(
            pd.DataFrame(
                {
                    "key": [k for k, _ in split],
                    "state": [s or "" for _, s in split],
                    "label": homes["home_city"].astype(str).str.strip().to_numpy(),
                    "lat": homes.geometry.y.to_numpy(float),
                    "lon": homes.geometry.x.to_numpy(float),
                    "population": -1.0,
                    "source": 1,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["key", "state", "label", "lat", "lon", "population", "source"])
    return pd.concat(frames, ignore_index=True)


def find_place(
    city: str, places: pd.DataFrame | None, reps: pd.DataFrame, *, key: str = "city"
) -> Place:
    """Look a city up in the gazetteer, then in the reps' ``home_city``.

    ``"City, ST"`` matches the name and the state code, case-insensitively;
    ``"City"`` alone matches when the name is in one state only. When a state
    has several places of that name, the most populous is taken (the
    gazetteer before a rep's home).

    Parameters
    ----------
    city
        What the scenario says, e.g. ``"Nashville, TN"``.
    places
        The gazetteer (:func:`read_places`), or ``None`` without ``data.places``.
    reps
        The reps table (``home_city`` and home points).
    key
        The scenario key holding ``city``, for the messages.

    Returns
    -------
    Place

    Raises
    ------
    ScenarioError
        An unknown city (with a did-you-mean) or a name found in several states
        (listing them).
    """
    table = _candidates(places, reps)
    name, state = _split_city(city)
    hits = table[table["key"] == name]
    if state is not None:
        hits = hits[hits["state"] == state]
    elif hits["state"].nunique() > 1:
        states = ", ".join(sorted(set(hits["state"]) - {""}))
        first = hits.sort_values(["source", "population"], ascending=[True, False]).iloc[0]
        raise ScenarioError(
            f"{key}: {city!r} is a place in several states ({states}); "
            f"write it with its state, e.g. {first['label']!r}"
        )
    if hits.empty:
        hint = did_you_mean(city, list(dict.fromkeys(table["label"])))
        if places is None:
            where = "not the home_city of any rep, and data.places (a gazetteer) is not set"
        else:
            where = "not a place of data.places nor the home_city of any rep"
        raise ScenarioError(
            f"{key}: {city!r} is {where}{hint}; write 'City, ST' or give lat and lon"
        )
    best = hits.sort_values(["source", "population"], ascending=[True, False], kind="stable")
    row = best.iloc[0]
    return Place(label=str(row["label"]), lat=float(row["lat"]), lon=float(row["lon"]))


def new_rep_segment(key: str, segment: str, accounts: pd.DataFrame, reps: pd.DataFrame) -> str:
    """A new rep's segment as the data spells it; it must be a segment of the reps or accounts.

    Raises
    ------
    ScenarioError
        A segment the data lacks, with a did-you-mean over the data's segments.
    """
    spelling = canonical_spellings(reps["segment"], accounts["segment"])
    found = spelling.get(segment_key(segment))
    if found is None:
        known = list_segments(spelling.values())
        raise ScenarioError(
            f"{key}.segment: {segment!r} is not a segment of the reps or accounts"
            f"{did_you_mean(segment, known)}; segments: {', '.join(known)}"
        )
    return found


def _new_rep_rows(
    scenario: Scenario, reps: gpd.GeoDataFrame, removed: Sequence[str], accounts: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The rows of ``whatif.add_reps``, with the columns of ``reps``."""
    new: list[AddRepConfig] = scenario.whatif.add_reps
    reps_file = reps.attrs.get(SOURCE_FILE_ATTR, "the reps table")
    taken = {*reps["rep_id"].astype(str), *removed}
    places = None
    if any(rep.city is not None for rep in new) and scenario.data.places is not None:
        places = read_places(scenario.data.places)
    rows = []
    for i, rep in enumerate(new):
        key = f"whatif.add_reps[{i}]"
        segment = new_rep_segment(key, rep.segment, accounts, reps)
        if rep.rep_id in taken:
            raise ScenarioError(
                f"{key}: rep_id {rep.rep_id!r} is already a rep of {reps_file}; "
                "give the new rep an id of its own"
            )
        if rep.city is not None:
            place = find_place(rep.city, places, reps, key=f"{key}.city")
            lat, lon, home_city = place.lat, place.lon, place.label
        else:
            lat, lon, home_city = float(rep.lat), float(rep.lon), ""  # type: ignore[arg-type]
        start = rep.start_date or scenario.quota.plan_start
        rows.append(
            {
                "rep_id": rep.rep_id,
                "name": rep.name or f"New rep {rep.rep_id}",
                "home_lat": lat,
                "home_lon": lon,
                "home_city": home_city,
                "segment": segment,
                "capacity_fte": float(rep.capacity_fte),
                "start_date": pd.Timestamp(start) if start is not None else pd.NaT,
                "last_year_quota": float(rep.last_year_quota or 0.0),
            }
        )
    frame = pd.DataFrame(rows, index=[f"whatif.add_reps[{i}]" for i in range(len(rows))])
    for column in reps.columns:
        if column == reps.geometry.name:
            continue
        if column not in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(reps[column])
            frame[column] = np.nan if numeric else ""
        elif column == "start_date":
            frame[column] = pd.to_datetime(frame[column]).astype(reps[column].dtype)
    geo = reps.geometry.name
    frame[geo] = gpd.points_from_xy(frame["home_lon"], frame["home_lat"], crs=reps.crs)
    return gpd.GeoDataFrame(frame[list(reps.columns)], geometry=geo, crs=reps.crs)


def _check_removed(scenario: Scenario, reps: gpd.GeoDataFrame, accounts: pd.DataFrame) -> list[str]:
    """The removed rep ids, checked: known reps, no lock names one, no segment left without."""
    removed = list(dict.fromkeys(r.strip() for r in scenario.whatif.remove_reps))
    if not removed:
        return removed
    reps_file = reps.attrs.get(SOURCE_FILE_ATTR, "the reps table")
    rep_ids = reps["rep_id"].astype(str)
    for r in removed:
        if r not in set(rep_ids):
            raise ScenarioError(
                f"whatif.remove_reps: {r!r} is not a rep_id of {reps_file}"
                f"{did_you_mean(r, rep_ids)}"
            )
    gone = set(removed)
    for i, entry in enumerate(scenario.whatif.lock_accounts):
        if entry.rep in gone:
            raise ScenarioError(
                f"whatif.lock_accounts[{i}]: locks accounts to rep {entry.rep}, whom "
                "whatif.remove_reps removes; lock them to another rep"
            )
    for lock in scenario.constraints.locks:
        if lock.rep in gone:
            what = f"account {lock.account}" if lock.account is not None else f"unit {lock.unit}"
            raise ScenarioError(
                f"constraints.locks: {what} is locked to rep {lock.rep}, whom "
                "whatif.remove_reps removes; drop the lock or lock it to another rep"
            )
    left = reps[~rep_ids.isin(gone)]
    spelling = canonical_spellings(reps["segment"], accounts["segment"])
    added = {spelling.get(segment_key(rep.segment)) for rep in scenario.whatif.add_reps}
    groups = teams(scenario.territories.eligibility, accounts["segment"], reps["segment"])
    pooled = scenario.territories.eligibility == "none"
    for segment in [] if pooled else list_segments(accounts["segment"]):
        may = [r for r in list_segments(reps["segment"]) if groups.may_own(segment, r)]
        had = rep_ids[reps["segment"].isin(may)]
        if len(had) and not left["segment"].isin(may).any() and not added & set(may):
            n_acc = int((accounts["segment"] == segment).sum())
            raise InfeasibleError(
                f"whatif.remove_reps removes every {segment} rep ({', '.join(had)}), but "
                f"{n_acc} {segment} accounts need one; keep a rep, add one with "
                "whatif.add_reps, or set territories.eligibility: none"
            )
    return removed


def check_lock_accounts(scenario: Scenario, accounts: pd.DataFrame) -> None:
    """Check that every account of ``whatif.lock_accounts`` is an account of the data.

    Raises
    ------
    InputError
        An unknown id in a lock file, naming the file, row and column.
    ScenarioError
        An unknown id listed inline, naming the scenario key.
    """
    ids = accounts["account_id"].astype(str)
    accounts_file = accounts.attrs.get(SOURCE_FILE_ATTR, "the accounts table")
    for i, entry in enumerate(scenario.whatif.lock_accounts):
        key = f"whatif.lock_accounts[{i}]"
        if entry.file is not None:
            table = read_lock_file(entry.file)
            found = table["account_id"]
            raise_for_rows(
                table,
                ~is_in(found, ids),
                file=entry.file,
                column="account_id",
                id_column="account_id",
                describe=lambda label, found=found, key=key: (
                    f"{found[label]!r} is not an account_id of {accounts_file}"
                    f"{did_you_mean(found[label], ids)} ({key})"
                ),
            )
            continue
        listed = pd.Series([a.strip() for a in entry.accounts])
        unknown = listed[~is_in(listed, ids)]
        if len(unknown):
            first = str(unknown.iloc[0])
            more = f" ({len(unknown) - 1} more likewise)" if len(unknown) > 1 else ""
            raise ScenarioError(
                f"{key}.accounts: {first!r} is not an account_id of {accounts_file}"
                f"{did_you_mean(first, ids)}{more}"
            )


def base_plan_owners(plan_dir: Path, accounts: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``accounts`` with ``current_rep_id`` set to the owner of each account in ``plan_dir``.

    An account the plan does not list (new since the plan was made) has no
    owner (``""``), so it never counts as moved.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The accounts (a copy, ``attrs`` kept) and the plan's owners that are
        not reps of the data (a hire of a what-if plan): they are accepted as
        owners who left, like ``whatif.remove_reps``.

    Raises
    ------
    InputError
        No plan folder at ``plan_dir``, or an incomplete or unreadable one.
    """
    from territory_engine.plan.reader import read_plan_folder  # plan imports io: lazily

    try:
        found = Path(plan_dir).is_dir()
    except (OSError, ValueError):  # a NUL byte or an over-long name: no folder either
        found = False
    if not found:
        raise InputError("whatif.base_plan: no plan folder here", file=str(plan_dir))
    folder = read_plan_folder(plan_dir)
    owner = dict(
        zip(
            folder.assignments["account_id"].astype(str),
            folder.assignments["rep_id"].astype(str),
            strict=True,
        )
    )
    out = accounts.copy()
    out["current_rep_id"] = [owner.get(a, "") for a in accounts["account_id"].astype(str)]
    out.attrs = dict(accounts.attrs)
    return out, sorted(set(owner.values()) - {""})


def base_plan_entry(scenario: Scenario) -> dict:
    """``{"base_plan": {...}}`` for the manifest of a run from a plan, else ``{}``.

    The entry names the plan the run started from: its folder, scenario name
    and hash, seed and the SHA-256 of its ``assignments.csv`` (the store's
    ``assignments_sha256``), so the plan can be found and checked later.
    """
    plan_dir = scenario.whatif.base_plan
    if plan_dir is None:
        return {}
    from territory_engine.plan.files import ASSIGNMENTS
    from territory_engine.plan.reader import read_plan_folder

    folder = read_plan_folder(plan_dir)
    digest = hashlib.sha256((Path(plan_dir) / ASSIGNMENTS).read_bytes()).hexdigest()
    return {
        "base_plan": {
            "path": str(Path(plan_dir).resolve()),
            "scenario_name": folder.name,
            "scenario_hash": folder.manifest.get("scenario_hash"),
            "seed": folder.manifest.get("seed"),
            "assignments_sha256": digest,
        }
    }


def apply_whatif(scenario: Scenario, tables: Tables) -> Tables:
    """The tables after ``scenario.whatif``'s operations (the same object when there are none).

    Parameters
    ----------
    scenario
        The validated scenario (``whatif.lock_accounts`` already expanded, see
        :func:`territory_engine.config.load_scenario`).
    tables
        The loaded, cross-checked tables.

    Returns
    -------
    Tables
        ``reps`` without ``whatif.remove_reps`` and with ``whatif.add_reps``
        (new rows after the others, index labels ``whatif.add_reps[i]``);
        units and edges unchanged; accounts unchanged (a removed rep stays the
        ``current_rep_id`` of their accounts) unless ``whatif.base_plan`` is
        set, whose owners then replace ``current_rep_id``.

    Raises
    ------
    ScenarioError
        An unknown rep to remove (did-you-mean), a lock naming a removed rep, a
        new rep id already taken, an unknown or ambiguous city, an unknown
        account to lock.
    InfeasibleError
        Removing every rep of a segment that has accounts.
    InputError
        A bad gazetteer or lock file, naming the file, row and column.
    """
    whatif = scenario.whatif
    if not (whatif.add_reps or whatif.remove_reps or whatif.lock_accounts or whatif.base_plan):
        return tables
    reps, accounts = tables.reps, tables.accounts
    gone: list[str] = []
    if whatif.base_plan is not None:
        accounts, plan_owners = base_plan_owners(whatif.base_plan, accounts)
        gone = [r for r in plan_owners if r not in set(reps["rep_id"].astype(str))]
        tables = dataclasses.replace(tables, accounts=accounts)
    removed = _check_removed(scenario, reps, accounts)
    check_lock_accounts(scenario, accounts)
    kept = reps[~reps["rep_id"].astype(str).isin(set(removed))]
    if whatif.add_reps:
        added = _new_rep_rows(scenario, reps, removed, accounts)
        out = pd.concat([kept, added])
        out = gpd.GeoDataFrame(out, geometry=reps.geometry.name, crs=reps.crs)
    else:
        out = kept.copy()
    out.attrs = dict(reps.attrs)
    check_account_owners(
        accounts, out, accounts_file=str(scenario.data.accounts), removed=[*removed, *gone]
    )
    if out.empty:
        raise InfeasibleError("whatif.remove_reps removes every rep; nobody is left to sell")
    return dataclasses.replace(tables, reps=out)
