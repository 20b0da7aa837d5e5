"""Who may see what: the one place every query of the studio is scoped by the signed-in user.

Every route asks an :class:`Access` (built once per request from the signed-in user)
for what it shows; no route reads a plan, a territory, a rep or an account any other
way. What each role gets:

- **planner**: every plan version, every territory, the audit log.
- **manager**: the plan versions past ``draft`` (a draft is the planner's work in
  progress) that hold at least one territory of their scope (any other plan is
  :class:`NotFound`, so they cannot approve it either), and within them only the
  territories of their scope: a list of rep ids
  (``reps``), a segment team (``team``), a ``region`` or ``district`` (from the plan
  folder's ``hierarchy.csv`` when it has one, else ``quotas.csv``'s quota pools), or
  the ``manager`` column of ``hierarchy.csv``. The plan's headline fairness numbers
  are plan-wide; the tables, the map's GeoJSON, the CSV and rep pages hold only the
  scope's rows.
- **rep**: only their own territory of a published plan; their standing in their team
  is the team's median and range, never another rep's row.

Anything outside the scope is :class:`NotFound` (HTTP 404, not 403), so ids cannot be
probed: a rep asking for another rep's page, GeoJSON or CSV cannot tell whether it
exists.
"""

from __future__ import annotations

import json
import math
import re
import threading
import weakref
from dataclasses import dataclass, fields

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from territory_engine.io.safe_cells import csv_text
from territory_engine.metrics.card import Scorecard
from territory_engine.plan.compare import (
    ScorecardDelta,
    moved_accounts,
    rep_deltas,
    scorecard_deltas,
    team_standing,
)
from territory_engine.render.rep_view import RepRows, rep_rows
from territory_engine.store import StoreError
from territory_engine.studio.catalogue import Catalogue, LoadedPlan
from territory_engine.studio.models import Comment, PlanVersion, User

__all__ = ["OUTSIDE", "Access", "ComparePage", "NotFound", "RepPage", "headline"]

#: GeoJSON properties a planner's or manager's map gets (no other column leaves the server).
_MAP_PROPERTIES = ("territory_id", "rep_id", "rep_name", "segment", "n_accounts")
#: Account columns a CSV or a rep's table holds.
_ACCOUNT_COLUMNS = ("account_id", "name", "segment", "industry", "territory_id", "rep_id")


#: What a manager's compare shows for the side of a move outside their scope.
OUTSIDE = "outside your scope"
#: Plan-level scorecard sections a manager's compare shows (the plan-wide numbers):
#: every section of the scorecard but the per-territory table and the scoring record.
_PLAN_WIDE = tuple(k for k in Scorecard.KEYS if k not in ("territories", "scored"))


class NotFound(Exception):
    """Nothing the user may see has this id (HTTP 404)."""


@dataclass(frozen=True)
class RepPage:
    """Everything a rep's page shows: only that rep's rows and the team's median and range."""

    plan: PlanVersion
    rows: RepRows
    standing: pd.DataFrame
    measures: list[str]
    explanation: str
    geojson: dict
    accounts: pd.DataFrame
    account_records: list[dict]
    accounts_csv: str


@dataclass(frozen=True)
class _RepParts:
    """What a rep's page is made of in one loaded plan folder (all of it theirs only).

    ``account_records`` are ``rows.accounts`` as records (what the page's table lists)
    and ``accounts_csv`` is ``accounts`` as the safe CSV download: made once, they
    were most of a rep request's time under load.
    """

    rows: RepRows
    standing: pd.DataFrame
    measures: list[str]
    explanation: str
    geojson: dict
    accounts: pd.DataFrame
    account_records: list[dict]
    accounts_csv: str


#: A rep's page parts per loaded plan folder, made once: a loaded folder never changes
#: (the catalogue loads a new one when its files change, and the old one's parts go
#: with it), so 50 reps reloading their pages do not re-filter the plan every time.
_REP_PARTS: weakref.WeakKeyDictionary[LoadedPlan, dict[str, _RepParts]] = (
    weakref.WeakKeyDictionary()
)
_REP_PARTS_LOCK = threading.Lock()


def _rep_parts(loaded: LoadedPlan, rep_id: str) -> _RepParts:
    with _REP_PARTS_LOCK:
        found = _REP_PARTS.get(loaded, {}).get(rep_id)
    if found is not None:
        return found
    folder = loaded.folder
    rows = rep_rows(folder, rep_id)
    standing = team_standing(folder.territories, folder.quotas, rep_id, folder.measures)
    explanation = ""
    if "explanation" in rows.quotas and not rows.quotas.empty:
        value = rows.quotas["explanation"].iloc[0]
        explanation = "" if isinstance(value, float) and math.isnan(value) else str(value)
    territories = rows.territories
    keep = [c for c in ("territory_id", "rep_id", "rep_name", "n_accounts") if c in territories]
    geojson = json.loads(territories[[*keep, "geometry"]].to_json(drop_id=True))
    view = rows.accounts
    columns = [c for c in (*_ACCOUNT_COLUMNS, *folder.measures) if c in view.columns]
    accounts = view[list(dict.fromkeys(columns))]
    made = _RepParts(
        rows,
        standing,
        list(folder.measures),
        explanation,
        geojson,
        accounts,
        rows.accounts.to_dict("records"),
        csv_text(accounts),
    )
    with _REP_PARTS_LOCK:
        _REP_PARTS.setdefault(loaded, {})[rep_id] = made
    return made


@dataclass(frozen=True)
class ComparePage:
    """Two plan versions side by side, as the user may see them.

    Attributes
    ----------
    a, b
        The plan versions (A is the reference, B the candidate: deltas are B − A).
    moves
        :func:`~territory_engine.plan.compare.moved_accounts` of the accounts whose
        rep changes, limited to those leaving or joining a rep in scope; the other
        side of such a move reads :data:`OUTSIDE` (no id, no name).
    deltas
        :func:`~territory_engine.plan.compare.rep_deltas` of the reps in scope.
    fairness
        :func:`~territory_engine.plan.compare.scorecard_deltas` of the plan-level
        numbers (for a manager, the plan-wide sections only, nothing keyed by a
        territory, rep or group).
    measures
        The balance measures both plans have.
    points
        ``account_id, lat, lon`` of the moved accounts (for the maps' rings).
    """

    a: PlanVersion
    b: PlanVersion
    moves: pd.DataFrame
    deltas: pd.DataFrame
    fairness: list[ScorecardDelta]
    measures: list[str]
    points: pd.DataFrame

    def moves_geojson(self) -> dict:
        """The moved accounts as GeoJSON points with the move's visible columns."""
        keep = (
            "account_id",
            "name",
            "from_territory_id",
            "from_rep_name",
            "to_territory_id",
            "to_rep_name",
        )
        rows = self.moves.merge(self.points, on="account_id", how="inner")
        features = []
        for row in rows.to_dict("records"):
            lat, lon = float(row["lat"]), float(row["lon"])
            if math.isnan(lat) or math.isnan(lon):
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {k: str(row[k]) for k in keep},
                }
            )
        return {"type": "FeatureCollection", "features": features}


def _union(first: pd.DataFrame, second: pd.DataFrame, key: str) -> pd.DataFrame:
    """``first``, then the rows of ``second`` whose ``key`` it lacks (as ``compare`` does)."""
    return pd.concat([first, second[~second[key].isin(set(first[key]))]], ignore_index=True)


@dataclass(frozen=True)
class _Comparison:
    """Two loaded plan folders compared in full (before any scoping)."""

    moves: pd.DataFrame
    deltas: pd.DataFrame
    fairness: list[ScorecardDelta]
    measures: list[str]
    points: pd.DataFrame


#: Full comparisons per pair of loaded folders (A, then B), made once: the page and
#: the map's moves GeoJSON of one view share it; a reloaded folder starts afresh.
_COMPARISONS: weakref.WeakKeyDictionary[
    LoadedPlan, weakref.WeakKeyDictionary[LoadedPlan, _Comparison]
] = weakref.WeakKeyDictionary()


def _comparison(loaded_a: LoadedPlan, loaded_b: LoadedPlan) -> _Comparison:
    """:mod:`territory_engine.plan.compare` of two folders, as the ``compare`` command
    lines them up (B's accounts and reps first, A's extras after)."""
    with _REP_PARTS_LOCK:
        pairs = _COMPARISONS.get(loaded_a)
        found = pairs.get(loaded_b) if pairs is not None else None
    if found is not None:
        return found
    fa, fb = loaded_a.folder, loaded_b.folder
    measures = [m for m in dict.fromkeys(fa.measures) if m in fb.measures]
    accounts = _union(fb.accounts, fa.accounts, "account_id")
    reps = _union(fb.reps, fa.reps, "rep_id")
    moves = moved_accounts(fa.assignments, fb.assignments, accounts, reps)
    deltas = rep_deltas(fa.territories, fb.territories, fa.quotas, fb.quotas, measures)
    fairness = scorecard_deltas(fa.scorecard, fb.scorecard)
    points = accounts[[c for c in ("account_id", "lat", "lon") if c in accounts]]
    if not {"lat", "lon"} <= set(points.columns):
        points = pd.DataFrame(columns=["account_id", "lat", "lon"])
    points = points[points["account_id"].isin(set(moves["account_id"]))]
    made = _Comparison(moves, deltas, fairness, measures, points)
    with _REP_PARTS_LOCK:
        _COMPARISONS.setdefault(loaded_a, weakref.WeakKeyDictionary())[loaded_b] = made
    return made


def _plan_wide(card: dict, hidden: set[str]) -> dict:
    """The plan-wide part of a scorecard: :data:`_PLAN_WIDE` sections, without any key
    naming a territory, rep or group (``hidden``) and without ``*_detail`` breakdowns."""

    def strip(value):
        if not isinstance(value, dict):
            return value
        return {
            k: strip(v)
            for k, v in value.items()
            if str(k) not in hidden and not str(k).endswith("_detail")
        }

    return {k: strip(v) for k, v in card.items() if k in _PLAN_WIDE}


def _scoped_moves(moves: pd.DataFrame, reps: set[str]) -> pd.DataFrame:
    """The moves leaving or joining a rep of ``reps``; the other side blanked."""
    keep = moves["from_rep_id"].astype(str).isin(reps) | moves["to_rep_id"].astype(str).isin(reps)
    out = moves[keep].copy()
    for side in ("from", "to"):
        outside = ~out[f"{side}_rep_id"].astype(str).isin(reps)
        out.loc[outside, [f"{side}_territory_id", f"{side}_rep_id"]] = ""
        out.loc[outside, f"{side}_rep_name"] = OUTSIDE
    return out.reset_index(drop=True)


def headline(card: dict) -> list[tuple[str, str]]:
    """The plan-wide fairness numbers as (label, value) rows, formatted."""
    rows: list[tuple[str, str]] = []
    for measure, stats in (card.get("balance") or {}).items():
        rows.append((f"{measure}: largest deviation", f"{100 * stats['max_rel_dev']:.1f} %"))
        rows.append((f"{measure}: territories out of band", str(stats["territories_out_of_band"])))
        rows.append((f"{measure}: balance index", f"{stats['balance_index']:.1f}"))
    travel = card.get("travel") or {}
    if "mean_km" in travel:
        unit = travel.get("unit", "km")
        rows.append(
            (f"travel: mean / max ({unit})", f"{travel['mean_km']:.0f} / {travel['max_km']:.0f}")
        )
    disruption = card.get("disruption") or {}
    if "moved_accounts" in disruption:
        rows.append(
            (
                "moved accounts / potential",
                f"{disruption['moved_accounts']:,} / "
                f"{100 * disruption['moved_potential_share']:.1f} %",
            )
        )
    if "contiguity" in card:
        rows.append(("territories in pieces", str(card["contiguity"]["territories_in_pieces"])))
    if "quota" in card and "total" in card["quota"]:
        rows.append(("quota total", f"${card['quota']['total']:,.0f}"))
    return rows


def _parse_id(value: str | int) -> int:
    """A plan version id from a URL: a positive integer, else :class:`NotFound`."""
    text = str(value)
    if not text.isdigit() or len(text) > 12:
        raise NotFound(text)
    return int(text)


class Access:
    """The signed-in user's view of the studio's data.

    Parameters
    ----------
    db
        The request's database session.
    catalogue
        The plans.
    user
        The signed-in user.
    """

    def __init__(self, db: Session, catalogue: Catalogue, user: User) -> None:
        self.db = db
        self.catalogue = catalogue
        self.user = user

    # ------------------------------------------------------------------ plans

    def _visible_states(self) -> tuple[str, ...] | None:
        if self.user.role == "planner":
            return None
        if self.user.role == "manager":
            return ("submitted", "approved", "rejected", "published")
        return ("published",)

    def plans(self) -> list[PlanVersion]:
        """The plan versions the user may see, newest first."""
        query = select(PlanVersion).order_by(PlanVersion.id.desc())
        states = self._visible_states()
        if states is not None:
            query = query.where(PlanVersion.state.in_(states))
        return [p for p in self.db.scalars(query) if self._in_scope(p)]

    def _in_scope(self, plan: PlanVersion) -> bool:
        """Whether a manager's scope holds a territory of ``plan`` (a plan with none of
        their territories is not theirs to see, compare or approve). Planners and reps:
        always (a rep's own territory is checked by :meth:`rep_page`)."""
        if self.user.role != "manager":
            return True
        try:
            return bool(self.territory_ids(self.load(plan)))
        except NotFound:
            return False

    def plan(self, plan_id: str | int) -> PlanVersion:
        """One plan version the user may see.

        Raises
        ------
        NotFound
            No such version, or not visible to the user.
        """
        found = self.db.get(PlanVersion, _parse_id(plan_id))
        states = self._visible_states()
        if found is None or (states is not None and found.state not in states):
            raise NotFound(str(plan_id))
        if not self._in_scope(found):
            raise NotFound(str(plan_id))
        return found

    def plan_page(self, plan_id: str | int) -> PlanVersion:
        """A plan version for its plan page, API record or CSV: planners and managers only
        (a rep has only their own page)."""
        if self.user.role == "rep":
            raise NotFound(str(plan_id))
        return self.plan(plan_id)

    def load(self, plan: PlanVersion) -> LoadedPlan:
        """The plan folder of a visible plan version (a gone folder is :class:`NotFound`)."""
        try:
            return self.catalogue.load(plan)
        except StoreError:
            raise NotFound(str(plan.id)) from None

    # ------------------------------------------------------------------ territories

    def territory_ids(self, loaded: LoadedPlan) -> list[str]:
        """The territories of ``loaded`` the user may see, in the plan's order."""
        org = loaded.org
        role = self.user.role
        if role == "planner":
            mask = pd.Series(True, index=org.index)
        elif role == "rep":
            mask = org["rep_id"] == str(self.user.rep_id)
        else:
            kind, value = self.user.scope_kind, (self.user.scope_value or "").strip()
            if kind == "reps":
                wanted = {v.strip() for v in value.split(",") if v.strip()}
                mask = org["rep_id"].isin(wanted)
            elif kind in ("team", "region", "district", "manager"):
                column = "segment" if kind == "team" else kind
                target = value or (self.user.username if kind == "manager" else "")
                mask = (org[column] == target) & (org[column] != "")
            else:
                mask = pd.Series(False, index=org.index)
        return org.loc[mask, "territory_id"].tolist()

    def territories(self, loaded: LoadedPlan) -> pd.DataFrame:
        """``territories.csv`` rows the user may see."""
        ids = set(self.territory_ids(loaded))
        frame = loaded.folder.territories
        return frame[frame["territory_id"].astype(str).isin(ids)]

    def geojson(self, loaded: LoadedPlan) -> dict:
        """The map's GeoJSON: the visible territories only, with :data:`_MAP_PROPERTIES`."""
        ids = set(self.territory_ids(loaded))
        geometry = loaded.folder.geometry
        rows = geometry[geometry["territory_id"].astype(str).isin(ids)]
        keep = [c for c in _MAP_PROPERTIES if c in rows.columns]
        return json.loads(rows[[*keep, "geometry"]].to_json(drop_id=True))

    def accounts(self, loaded: LoadedPlan) -> pd.DataFrame:
        """The accounts of the visible territories (no previous owner: it names another rep)."""
        ids = set(self.territory_ids(loaded))
        view = loaded.folder.account_view()
        view = view[view["territory_id"].astype(str).isin(ids)]
        keep = [c for c in (*_ACCOUNT_COLUMNS, *loaded.folder.measures) if c in view.columns]
        return view[list(dict.fromkeys(keep))]

    def check_territory(self, loaded: LoadedPlan, territory_id: str) -> str:
        """``territory_id`` when the user may see it, else :class:`NotFound`."""
        if territory_id not in set(self.territory_ids(loaded)):
            raise NotFound(territory_id)
        return territory_id

    def violations(self, loaded: LoadedPlan) -> list[str]:
        """The plan's broken rules the user may read: a planner all; a manager those that
        name none of the territories or reps outside their scope."""
        rules = [str(v) for v in loaded.folder.manifest.get("violations") or []]
        if self.user.role == "planner":
            return rules
        visible = set(self.territory_ids(loaded))
        org = loaded.org
        hidden = org[~org["territory_id"].isin(visible)]
        names = [*hidden["territory_id"], *hidden["rep_id"]]
        if not names:
            return rules
        pattern = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(n) for n in names if n) + r")(?![\w-])"
        )
        return [rule for rule in rules if not pattern.search(rule)]

    # ------------------------------------------------------------------ compare

    def compare(self, a_id: str | int, b_id: str | int) -> ComparePage:
        """Plan versions ``a_id`` and ``b_id`` compared, within the user's scope.

        The differences are :mod:`territory_engine.plan.compare`'s (what the
        ``compare`` command draws); this only picks what the user may see: a planner
        everything; a manager the moves into or out of their reps' territories (the
        other side reads :data:`OUTSIDE`), the per-rep changes of their reps and the
        plan-wide numbers. Both versions must be visible (a rep gets 404).
        """
        plan_a, plan_b = self.plan_page(a_id), self.plan_page(b_id)
        loaded_a, loaded_b = self.load(plan_a), self.load(plan_b)
        full = _comparison(loaded_a, loaded_b)
        moves, deltas, fairness = full.moves, full.deltas, full.fairness
        if self.user.role != "planner":
            reps = self._scope_reps(loaded_a) | self._scope_reps(loaded_b)
            moves = _scoped_moves(moves, reps)
            deltas = deltas[deltas["rep_id"].astype(str).isin(reps)].reset_index(drop=True)
            hidden: set[str] = set()
            for org in (loaded_a.org, loaded_b.org):
                for column in org.columns:
                    hidden.update(v for v in org[column].astype(str) if v)
            card_a = _plan_wide(loaded_a.folder.scorecard, hidden)
            card_b = _plan_wide(loaded_b.folder.scorecard, hidden)
            fairness = scorecard_deltas(card_a, card_b)
        points = full.points[full.points["account_id"].isin(set(moves["account_id"]))]
        return ComparePage(plan_a, plan_b, moves, deltas, fairness, full.measures, points)

    def _scope_reps(self, loaded: LoadedPlan) -> set[str]:
        org = loaded.org
        ids = set(self.territory_ids(loaded))
        return {r for r in org.loc[org["territory_id"].isin(ids), "rep_id"] if r}

    # ------------------------------------------------------------------ reps

    def published_plan(self) -> PlanVersion | None:
        """The newest published plan version (a rep's home page shows it)."""
        return self.db.scalar(
            select(PlanVersion)
            .where(PlanVersion.state == "published")
            .order_by(PlanVersion.plan_year.desc(), PlanVersion.id.desc())
            .limit(1)
        )

    def rep_page(self, plan_id: str | int, rep_id: str) -> RepPage:
        """A rep's page of a plan version: for the rep themself (published plans only), a
        manager whose scope holds the rep's territory, or a planner.

        Raises
        ------
        NotFound
            Anything else, whether or not the rep exists.
        """
        plan = self.plan(plan_id)
        if self.user.role == "rep" and str(self.user.rep_id) != rep_id:
            raise NotFound(rep_id)
        loaded = self.load(plan)
        org = loaded.org
        theirs = org.loc[org["rep_id"] == rep_id, "territory_id"].tolist()
        if not theirs or not set(theirs) & set(self.territory_ids(loaded)):
            raise NotFound(rep_id)
        parts = _rep_parts(loaded, rep_id)
        return RepPage(plan, **{f.name: getattr(parts, f.name) for f in fields(parts)})

    def rep_geojson(self, page: RepPage) -> dict:
        """The GeoJSON behind a rep's map: their own territory only, a few properties."""
        return page.geojson

    def rep_accounts(self, page: RepPage) -> pd.DataFrame:
        """The rep's accounts, with :data:`_ACCOUNT_COLUMNS` and the measures."""
        return page.accounts

    # ------------------------------------------------------------------ comments

    def comments(self, plan: PlanVersion, loaded: LoadedPlan | None) -> list[Comment]:
        """Comments on ``plan`` the user may read: plan-level ones, and those on a visible
        territory (reps see none)."""
        if self.user.role == "rep":
            return []
        rows = list(
            self.db.scalars(
                select(Comment).where(Comment.plan_version_id == plan.id).order_by(Comment.id)
            )
        )
        if self.user.role == "planner" or loaded is None:
            return [c for c in rows if self.user.role == "planner" or c.territory_id is None]
        visible = set(self.territory_ids(loaded))
        return [c for c in rows if c.territory_id is None or c.territory_id in visible]
