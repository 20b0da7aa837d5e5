"""Which reps leave and which join at each headcount: rules a planner can read.

A capacity plan changes the organisation through the scenario's ``whatif:`` section
(``remove_reps`` and ``add_reps``, see :mod:`territory_engine.config.whatif_models`),
so the solver, the quotas and the scorecard see an ordinary what-if. The changes at
every headcount come from two orders computed once, so the plans are *nested*: the
reps cut at 40 include those cut at 41, the hires at 52 include those at 51.

**Cuts** (headcount below today's). A cut falls on the team that is least stretched
(lowest workload hours per FTE, counting the cuts already made; with ``--segment``
always that team), and within it on the rep with the smallest book today: the
potential of the accounts whose ``current_rep_id`` is the rep, so the fewest
accounts change owner. Ties: the most recent ``start_date`` first, then ``rep_id``.
A rep named by a lock, a rep the scenario itself adds, and a team's last rep are
never cut.

**Hires** (headcount above today's). A hire goes to the most stretched team (highest
workload hours per FTE, counting the hires already made; with ``--segment`` always
that team). Hires are placed at the ``--hire-in`` cities in the order given; the
hires beyond them are placed freely, one after another, at the gazetteer place
(``data.places``, places of at least ``min_population`` people) that most reduces
the team's potential-weighted distance from its accounts to their nearest rep home:
a greedy k-median step, ``argmax_p Σ_a P_a · max(0, d_a − d(a, p))`` with ``d_a``
the distance from account ``a`` to the nearest rep of its team (hires included).
That is where a new territory takes the most potential away from far-off reps.
Without ``data.places`` the candidates are the team's accounts' own locations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from territory_engine.config.scenario import Scenario
from territory_engine.config.segments import canonical_spellings, segment_key, teams
from territory_engine.errors import InputError, ScenarioError, did_you_mean
from territory_engine.geo.distance import haversine_km
from territory_engine.io.model import Tables

__all__ = [
    "Hire",
    "OrgChanges",
    "Team",
    "changes_at",
    "check_scenario",
    "hire_order",
    "parse_band",
    "parse_headcounts",
    "parse_start_dates",
    "removal_order",
    "team_of_segment",
    "teams_today",
]

#: At most this many headcounts in one capacity plan (each is a full solve).
MAX_HEADCOUNTS = 200


def parse_headcounts(spec: str) -> list[int]:
    """``"40:60"`` or ``"40:60:2"`` (first, last, step; both ends included) -> headcounts.

    A single number ``"45"`` is one headcount.

    Raises
    ------
    InputError
        Not integers, a step below 1, the first above the last, or more than
        :data:`MAX_HEADCOUNTS` headcounts; the message names the value.
    """
    parts = [p.strip() for p in str(spec).split(":")]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise InputError(
            f"--reps {spec!r}: write FIRST:LAST or FIRST:LAST:STEP with whole numbers, e.g. 40:60"
        ) from None
    if len(numbers) == 1:
        numbers = [numbers[0], numbers[0], 1]
    elif len(numbers) == 2:
        numbers.append(1)
    elif len(numbers) != 3:
        raise InputError(f"--reps {spec!r}: write FIRST:LAST or FIRST:LAST:STEP, e.g. 40:60:2")
    first, last, step = numbers
    if first < 1:
        raise InputError(f"--reps {spec!r}: a headcount must be at least 1")
    if step < 1:
        raise InputError(f"--reps {spec!r}: the step must be at least 1")
    if first > last:
        raise InputError(
            f"--reps {spec!r}: the first headcount ({first}) is above the last ({last}); "
            f"write {last}:{first}"
        )
    counts = list(range(first, last + 1, step))
    if len(counts) > MAX_HEADCOUNTS:
        raise InputError(
            f"--reps {spec!r}: {len(counts)} headcounts, at most {MAX_HEADCOUNTS}; use a step"
        )
    return counts


def parse_band(spec: str) -> tuple[float, float]:
    """``"0.6:0.7"`` (or ``"60:70"`` in percent) -> ``(0.6, 0.7)``.

    Raises
    ------
    InputError
        Not two numbers, outside 0–1 (0–100 %), or low above high.
    """
    parts = str(spec).split(":")
    try:
        low, high = float(parts[0]), float(parts[1])
        ok = len(parts) == 2 and np.isfinite(low) and np.isfinite(high)
    except (ValueError, IndexError):
        ok = False
    if not ok:
        raise InputError(f"--target-share {spec!r}: write LOW:HIGH, e.g. 0.6:0.7")
    if high > 1.0:  # given in percent
        low, high = low / 100.0, high / 100.0
    if not (0.0 <= low <= high <= 1.0):
        raise InputError(
            f"--target-share {spec!r}: need 0 <= LOW <= HIGH <= 1 (or percent up to 100)"
        )
    return low, high


def parse_start_dates(spec: str | None) -> list[date]:
    """``"2027-01-01"`` or ``"2027-01-01,2027-04-01"`` -> start dates of the hires in order.

    The last date given also holds for every later hire. ``None``: no dates (hires
    start at ``quota.plan_start``).

    Raises
    ------
    InputError
        A date that is not ``YYYY-MM-DD``, naming it.
    """
    if spec is None or not str(spec).strip():
        return []
    out = []
    for text in str(spec).split(","):
        try:
            out.append(date.fromisoformat(text.strip()))
        except ValueError:
            raise InputError(f"--start {text.strip()!r}: not a date; write YYYY-MM-DD") from None
    return out


@dataclass
class Team:
    """A team of the plan (an eligibility group) as the capacity rules see it.

    Attributes
    ----------
    name
        Team name (see :func:`territory_engine.config.segments.teams`).
    hire_segment
        The rep segment a hire of this team gets (its most common rep segment).
    workload, potential
        Total workload hours and potential of the team's accounts.
    fte
        Total ``capacity_fte`` of its reps today.
    rep_ids
        Its reps today.
    """

    name: str
    hire_segment: str
    workload: float
    potential: float
    fte: float
    rep_ids: list[str] = field(default_factory=list)


def teams_today(scenario: Scenario, tables: Tables) -> tuple[dict[str, Team], pd.Series]:
    """The teams of the loaded tables, and each account's team.

    Returns
    -------
    (dict, pandas.Series)
        Team name -> :class:`Team`, sorted by name; the team of every account
        (index of ``tables.accounts``).
    """
    accounts, reps = tables.accounts, tables.reps
    groups = teams(scenario.territories.eligibility, accounts["segment"], reps["segment"])
    acc_team = accounts["segment"].astype(str).map(groups.of_account_segment)
    rep_team = reps["segment"].astype(str).map(groups.of_rep_segment)
    out: dict[str, Team] = {}
    for name in groups.names:
        members = reps[rep_team == name]
        if not len(members):
            continue
        mine = accounts[acc_team == name]
        seg_counts = members["segment"].astype(str).value_counts()
        hire_segment = sorted(seg_counts.index, key=lambda s: (-seg_counts[s], s))[0]
        out[name] = Team(
            name=name,
            hire_segment=hire_segment,
            workload=float(mine["workload_hours"].sum()) if "workload_hours" in mine else 0.0,
            potential=float(mine["potential"].sum()),
            fte=float(members["capacity_fte"].sum()),
            rep_ids=list(members["rep_id"].astype(str)),
        )
    return out, acc_team


def team_of_segment(segment: str, scenario: Scenario, tables: Tables) -> str:
    """The team of rep segment ``segment`` (case-insensitive).

    Raises
    ------
    InputError
        ``segment`` is not a segment of the reps, naming it and listing them.
    """
    reps = tables.reps
    spelling = canonical_spellings(reps["segment"])
    found = spelling.get(segment_key(segment))
    if found is None:
        known = sorted(spelling.values())
        raise InputError(
            f"--segment {segment!r}: not a segment of the reps{did_you_mean(segment, known)}; "
            f"segments: {', '.join(known)}"
        )
    groups = teams(scenario.territories.eligibility, tables.accounts["segment"], reps["segment"])
    return groups.of_rep_segment[found]


def _books(tables: Tables) -> pd.Series:
    """Potential of each rep's book today (accounts whose ``current_rep_id`` is the rep)."""
    acc = tables.accounts
    owner = acc["current_rep_id"].astype(str) if "current_rep_id" in acc else pd.Series(dtype=str)
    return acc["potential"].groupby(owner).sum()


def removal_order(
    scenario: Scenario, tables: Tables, team_list: dict[str, Team], *, only: str | None, n: int
) -> list[str]:
    """The first ``n`` reps to cut, in order (see the module docstring).

    Raises
    ------
    InputError
        Fewer than ``n`` reps can be cut (a team keeps its last rep; locked reps
        and reps the scenario adds stay).
    """
    books = _books(tables)
    reps = tables.reps.assign(rep_id=tables.reps["rep_id"].astype(str))
    start = pd.to_datetime(reps["start_date"], errors="coerce") if "start_date" in reps else None
    locked = {lock.rep for lock in scenario.constraints.locks}
    added = {rep.rep_id for rep in scenario.whatif.add_reps}
    fte = dict(zip(reps["rep_id"], reps["capacity_fte"].astype(float), strict=True))
    queues: dict[str, list[str]] = {}
    for name, team in team_list.items():
        if only is not None and name != only:
            continue

        def key(rid: str) -> tuple[float, float, str]:
            row = reps.index[reps["rep_id"] == rid][0]
            began = start[row] if start is not None else pd.NaT
            # Most recent start first: a negative timestamp sorts later starts earlier.
            stamp = -began.value if not pd.isna(began) else float("inf")
            return (float(books.get(rid, 0.0)), stamp, rid)

        cuttable = [r for r in team.rep_ids if r not in locked and r not in added]
        # A team keeps one rep: never queue them all.
        keep = 1 if len(cuttable) == len(team.rep_ids) else 0
        queues[name] = sorted(cuttable, key=key)[: len(cuttable) - keep]
    fte_left = {name: t.fte for name, t in team_list.items()}
    order: list[str] = []
    while len(order) < n:
        open_teams = [t for t in queues if queues[t]]
        if not open_teams:
            scope = f"the {only} team" if only else "the plan"
            raise InputError(
                f"--reps: at most {len(order)} reps of {scope} can be cut (each team keeps "
                "one rep; reps named by a lock or added by the scenario stay); "
                "raise the smallest headcount"
            )
        least = min(open_teams, key=lambda t: (team_list[t].workload / max(fte_left[t], 1e-9), t))
        rid = queues[least].pop(0)
        fte_left[least] -= fte[rid]
        order.append(rid)
    return order


@dataclass(frozen=True)
class Hire:
    """One new rep of a capacity plan.

    Attributes
    ----------
    rep_id, name, segment, city
        As in ``whatif.add_reps`` (``city`` is ``"Name, ST"``; ``None`` with
        ``lat``/``lon``).
    lat, lon
        The home.
    start_date
        First day in seat (``None``: ``quota.plan_start``).
    placed_by
        ``"listed city"`` (from ``--hire-in``) or ``"free placement"``.
    """

    rep_id: str
    name: str
    segment: str
    team: str
    city: str | None
    lat: float
    lon: float
    start_date: date | None
    placed_by: str

    def as_whatif(self) -> dict:
        """The ``whatif.add_reps`` entry."""
        entry: dict = {"rep_id": self.rep_id, "name": self.name, "segment": self.segment}
        if self.city is not None:
            entry["city"] = self.city
        else:
            entry.update(lat=self.lat, lon=self.lon)
        if self.start_date is not None:
            entry["start_date"] = self.start_date.isoformat()
        return entry


def _candidate_places(places: pd.DataFrame | None, min_population: float) -> pd.DataFrame:
    """Gazetteer places worth a rep: populous enough, one per name and state (the largest)."""
    if places is None or not len(places):
        return pd.DataFrame(columns=["label", "lat", "lon"])
    frame = places.assign(
        key=[" ".join(str(n).split()).casefold() for n in places["name"]],
        st=places["state"].astype(str).str.upper(),
    )
    frame = frame.sort_values(["population"], ascending=False, kind="stable")
    frame = frame.drop_duplicates(["key", "st"])
    big = frame[frame["population"] >= min_population]
    frame = big if len(big) else frame
    return pd.DataFrame(
        {
            "label": [f"{n}, {s}" for n, s in zip(frame["name"], frame["st"], strict=True)],
            "lat": frame["lat"].to_numpy(float),
            "lon": frame["lon"].to_numpy(float),
        }
    ).reset_index(drop=True)


def hire_order(
    scenario: Scenario,
    tables: Tables,
    team_list: dict[str, Team],
    acc_team: pd.Series,
    *,
    only: str | None,
    n: int,
    hire_in: Sequence[str] = (),
    starts: Sequence[date] = (),
    min_population: float = 10_000.0,
) -> list[Hire]:
    """The first ``n`` hires, in order (see the module docstring).

    Raises
    ------
    ScenarioError
        A ``--hire-in`` city that is not in ``data.places`` nor a rep's home city.
    """
    from territory_engine.io.whatif import find_place, read_places

    places = read_places(scenario.data.places) if scenario.data.places is not None else None
    reps = tables.reps
    acc = tables.accounts
    acc_xy = np.column_stack([acc.geometry.x.to_numpy(float), acc.geometry.y.to_numpy(float)])
    rep_team = dict(zip(reps["rep_id"].astype(str), _rep_teams(reps, team_list), strict=True))
    homes: dict[str, list[tuple[float, float]]] = {t: [] for t in team_list}
    for rid, x, y in zip(reps["rep_id"].astype(str), reps.geometry.x, reps.geometry.y, strict=True):
        if rep_team[rid] in homes:
            homes[rep_team[rid]].append((float(x), float(y)))
    cities = [find_place(c, places, reps, key="--hire-in") for c in hire_in]
    candidates = _candidate_places(places, min_population)
    taken = set(reps["rep_id"].astype(str))
    fte = {name: t.fte for name, t in team_list.items()}
    hires: list[Hire] = []
    number = 0
    while len(hires) < n:
        if only is not None:
            team = only
        else:
            team = max(team_list, key=lambda t: (team_list[t].workload / max(fte[t], 1e-9), t))
        i = len(hires)
        if i < len(cities):
            place = cities[i]
            label, lon, lat, how = place.label, place.lon, place.lat, "listed city"
        else:
            mask = (acc_team == team).to_numpy()
            label, lon, lat = _best_place(
                acc_xy[mask], acc["potential"].to_numpy(float)[mask], homes[team], candidates
            )
            how = "free placement"
        number += 1
        while f"NEW{number:02d}" in taken:
            number += 1
        rid = f"NEW{number:02d}"
        taken.add(rid)
        start = starts[min(i, len(starts) - 1)] if starts else None
        where = label if label else f"{lat:.3f}, {lon:.3f}"
        hires.append(
            Hire(
                rep_id=rid,
                name=f"New hire {where}",
                segment=team_list[team].hire_segment,
                team=team,
                city=label or None,
                lat=lat,
                lon=lon,
                start_date=start,
                placed_by=how,
            )
        )
        homes[team].append((lon, lat))
        fte[team] += 1.0
    return hires


def _rep_teams(reps: pd.DataFrame, team_list: dict[str, Team]) -> list[str]:
    by_rep = {rid: name for name, t in team_list.items() for rid in t.rep_ids}
    return [by_rep.get(str(r), "") for r in reps["rep_id"]]


def _best_place(
    xy: np.ndarray,
    potential: np.ndarray,
    homes: Sequence[tuple[float, float]],
    candidates: pd.DataFrame,
) -> tuple[str, float, float]:
    """The candidate maximising ``Σ_a P_a · max(0, d_a − d(a, p))`` (label "" off-gazetteer).

    Candidates are the gazetteer's places, else the accounts' own locations. Ties go
    to the first candidate (the gazetteer is sorted by population, largest first).
    """
    if len(candidates):
        cx, cy = candidates["lon"].to_numpy(float), candidates["lat"].to_numpy(float)
        labels = list(candidates["label"])
    else:
        cx, cy, labels = xy[:, 0], xy[:, 1], [""] * len(xy)
    if not len(cx):
        raise InputError("free placement of a hire needs data.places or accounts; use --hire-in")
    if homes:
        h = np.asarray(homes, dtype=float)
        near = haversine_km(xy[:, 0:1], xy[:, 1:2], h[None, :, 0], h[None, :, 1]).min(axis=1)
    else:
        near = np.full(len(xy), 1e6)
    gain = np.zeros(len(cx))
    # In blocks of candidates: a block × accounts matrix of distances stays small.
    for lo in range(0, len(cx), 256):
        d = haversine_km(
            cx[lo : lo + 256, None], cy[lo : lo + 256, None], xy[None, :, 0], xy[None, :, 1]
        )
        gain[lo : lo + 256] = (np.maximum(near[None, :] - d, 0.0) * potential[None, :]).sum(axis=1)
    best = int(np.argmax(gain))
    return labels[best], float(cx[best]), float(cy[best])


@dataclass(frozen=True)
class OrgChanges:
    """The reps cut and hired at one headcount.

    Attributes
    ----------
    headcount
        Reps of the scope (the team with ``--segment``, else the whole plan).
    removed
        Rep ids cut, in cutting order.
    hires
        New reps, in hiring order.
    """

    headcount: int
    removed: tuple[str, ...] = ()
    hires: tuple[Hire, ...] = ()


def changes_at(
    headcount: int, today: int, cuts: Sequence[str], hires: Sequence[Hire]
) -> OrgChanges:
    """The changes at ``headcount``: a prefix of the cut order or of the hire order."""
    if headcount < today:
        return OrgChanges(headcount, removed=tuple(cuts[: today - headcount]))
    return OrgChanges(headcount, hires=tuple(hires[: headcount - today]))


def check_scenario(scenario: Scenario) -> None:
    """Refuse scenarios whose territory count does not follow the reps.

    Raises
    ------
    ScenarioError
        ``territories.mode`` is not ``per_rep``.
    """
    if scenario.territories.mode != "per_rep":
        raise ScenarioError(
            f"territories.mode: {scenario.territories.mode}: capacity planning needs "
            "territories.mode: per_rep (one territory per rep, so the headcount sets the "
            "number of territories)"
        )
