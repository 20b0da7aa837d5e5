"""Pydantic models of a scenario file.

A scenario is everything a planner decides about one run: which data, what a
territory is, which measures are balanced and how tightly, what the solver
minimises, which rules are hard, how quotas are set, the seed and time limit,
and where the plan is written. Unknown keys are errors (with a did-you-mean),
never silently ignored.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from territory_engine.config.columns import ColumnsConfig, SheetsConfig
from territory_engine.config.hierarchy_models import HierarchyConfig
from territory_engine.config.whatif_models import WhatIfConfig


class _Strict(BaseModel):
    # A scenario number is finite: .inf or .nan (YAML) is an error, not a time limit.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


H3_MAX_RESOLUTION = 15
"""The finest H3 resolution (cells of about 1 m²); 0 is the coarsest."""


class H3UnitsConfig(_Strict):
    """``data.units: {h3: RES}``: H3 cells of resolution ``RES`` built from the accounts."""

    h3: int
    split_share: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description=(
            "cells holding more than this share of a fair territory's potential, "
            "workload or accounts are split into their seven children (city cores)"
        ),
    )

    @model_validator(mode="after")
    def _resolution(self) -> H3UnitsConfig:
        check_h3_resolution(self.h3)
        if self.split_share is not None and self.h3 >= H3_MAX_RESOLUTION:
            raise ValueError(f"split_share needs a resolution below {H3_MAX_RESOLUTION}")
        return self


def check_h3_resolution(value: object) -> int:
    """``value`` as an H3 resolution; ``ValueError`` with the valid range otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= H3_MAX_RESOLUTION:
        raise ValueError(
            f"H3 resolution must be a whole number 0..{H3_MAX_RESOLUTION}, got {value!r} "
            "(5: cells of about 250 km², 6: about 36 km², 7: about 5 km²)"
        )
    return value


class DataConfig(_Strict):
    """Where the input tables are (paths relative to the scenario file).

    ``units`` is a polygon layer, or ``{h3: RES}`` for H3 cells built from the
    accounts (see :mod:`territory_engine.geo.h3_units`). ``units_crs`` declares
    the CRS of a layer that carries none. ``travel_times``: a table of minutes
    (``rep_id, unit_id, minutes`` or ``from_unit, to_unit, minutes``) that
    replaces great-circle km in the objective and the scorecard.
    """

    accounts: Path
    reps: Path
    units: Path | H3UnitsConfig
    units_crs: str | None = Field(
        None, description="CRS of a units layer without one, e.g. EPSG:4269"
    )
    travel_times: Path | None = Field(
        None, description="minutes rep_id,unit_id or from_unit,to_unit (CSV/Parquet)"
    )
    units_layer: str | None = None
    unit_id_column: str = "unit_id"
    history: Path | None = Field(
        None,
        description="monthly revenue: account_id,month,revenue or revenue_m01.. (org.forecast)",
    )

    @field_validator("units", mode="before")
    @classmethod
    def _units_h3(cls, value: object) -> object:
        # A mapping is {h3: RES}; checked here so that a bad one gives one message,
        # not one per member of the union.
        if not isinstance(value, dict):
            return value
        if "h3" not in value or not set(value) <= {"h3", "split_share"}:
            raise ValueError(
                "a units mapping takes h3 and optionally split_share "
                "(e.g. units: {h3: 6} or {h3: 5, split_share: 0.1}); "
                f"got {', '.join(map(str, value)) or 'none'}"
            )
        share = value.get("split_share")
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1
        ):
            raise ValueError(f"split_share must be a number in (0, 1], got {share!r}")
        return H3UnitsConfig(h3=check_h3_resolution(value["h3"]), split_share=share)

    edges: Path | None = None
    places: Path | None = Field(
        None, description="gazetteer (name, state, lat, lon) for whatif.add_reps cities"
    )
    snap_km: float = Field(0.0, ge=0.0, description="accounts this close outside a unit join it")
    columns: ColumnsConfig = Field(
        default_factory=ColumnsConfig,
        description="per table, engine column -> the file's header (see config.columns)",
    )
    sheets: SheetsConfig = Field(
        default_factory=SheetsConfig, description="sheet of each .xlsx table (default: the first)"
    )


class TerritoriesConfig(_Strict):
    """What a territory is.

    ``per_rep``: one territory per rep, centred at the rep's home.
    ``count``: ``count`` territories with free centres chosen by the solver
    (reps are then matched to territories after solving).
    """

    mode: Literal["per_rep", "count"] = "per_rep"
    count: int | None = Field(None, ge=1)
    eligibility: Literal["segment", "none"] | dict[str, list[str]] = Field(
        "segment",
        description="'segment': a segment's accounts only go to reps of that segment; "
        "'none': pooled; or account segment -> rep segments",
    )

    @field_validator("eligibility")
    @classmethod
    def _eligibility_lists(cls, value: str | dict[str, list[str]]) -> str | dict[str, list[str]]:
        if isinstance(value, dict):
            if not value:
                raise ValueError("an eligibility mapping needs at least one segment")
            for segment, reps in value.items():
                if not reps or any(not str(r).strip() for r in reps):
                    raise ValueError(
                        f"eligibility: {segment!r} needs a non-empty list of rep segments"
                    )
        return value

    @model_validator(mode="after")
    def _count_needs_mode(self) -> TerritoriesConfig:
        if self.mode == "count" and self.count is None:
            raise ValueError("territories.mode 'count' needs territories.count")
        return self


class BandConfig(_Strict):
    """Band of one balance measure: relative ``tolerance`` around the mean or absolute bounds."""

    tolerance: float | None = Field(None, gt=0.0, lt=1.0)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> BandConfig:
        if self.tolerance is None and self.low is None and self.high is None:
            raise ValueError("give either 'tolerance' or 'low'/'high'")
        if self.tolerance is not None and (self.low is not None or self.high is not None):
            raise ValueError("give either 'tolerance' or 'low'/'high', not both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self


class ObjectiveConfig(_Strict):
    """Weights of the objective terms (each term is normalised, see ``solve``).

    ``relationships`` rewards giving an account to a rep close to it in the
    relationship graph (see :mod:`territory_engine.social.proximity`).
    ``mode: social`` lets proximity dominate: the relationship weight is at
    least 1, travel and compactness count only as tie-breaks (their weights are
    multiplied by :data:`SOCIAL_TIE_BREAK`), and accounts with a close rep may
    leave their county to follow that rep (``relationships.follow_min_proximity``
    defaults to 0.5).
    """

    travel: float = Field(1.0, ge=0.0)
    compactness: float = Field(0.0, ge=0.0)
    disruption: float = Field(0.0, ge=0.0)
    relationships: float = Field(0.0, ge=0.0)
    mode: Literal["standard", "social"] = "standard"


SOCIAL_TIE_BREAK = 0.01
"""In ``objective.mode: social``, the factor on the travel and compactness weights."""


class RelationshipsConfig(_Strict):
    """How the relationship graph (``data.edges``) is scored and used.

    ``decay`` is the discount per hop beyond a direct tie in the proximity
    score; ``top`` how many reps are scored per account. With
    ``follow_min_proximity`` set, an account whose closest eligible rep scores
    at least that much becomes a unit of its own, exempt from contiguity (like
    a locked account), so that it may stay with that rep outside the rep's
    geography; the objective decides whether it does. ``null``: accounts move
    with their county (the default, except in ``objective.mode: social``,
    where it defaults to 0.5).
    """

    decay: float = Field(0.5, ge=0.0, lt=1.0)
    top: int = Field(5, ge=1)
    follow_min_proximity: float | None = Field(None, gt=0.0, le=1.0)


class LockConfig(_Strict):
    """Pin an account or a unit to a rep."""

    rep: str
    account: str | None = None
    unit: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> LockConfig:
        if (self.account is None) == (self.unit is None):
            raise ValueError("a lock names exactly one of 'account' or 'unit'")
        return self


class ConstraintsConfig(_Strict):
    """Hard rules of the plan."""

    contiguity: bool = False
    locks: list[LockConfig] = Field(default_factory=list)
    max_moved_potential: float | None = Field(
        None, ge=0.0, le=1.0, description="max share of total potential whose owner changes"
    )
    max_moved_accounts: float | None = Field(
        None, ge=0.0, le=1.0, description="max share of accounts whose owner changes"
    )
    keep_families: bool = Field(
        False, description="accounts with the same top-level parent go to one rep"
    )


class QuotaCapsConfig(_Strict):
    """Bounds on each quota, as shares.

    ``growth_min``/``growth_max`` bound a quota against the rep's
    ``last_year_quota`` (``-0.10`` = at most 10 % below it, ``0.25`` = at most
    25 % above); reps without a last-year quota (new hires) are not bound.
    ``potential_floor``/``potential_ceiling`` bound a quota as a share of the
    territory's potential (the floor is scaled by the rep's ramp factor).
    """

    growth_min: float | None = Field(None, gt=-1.0)
    growth_max: float | None = Field(None, gt=-1.0)
    potential_floor: float | None = Field(None, ge=0.0)
    potential_ceiling: float | None = Field(None, gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> QuotaCapsConfig:
        pairs = (("growth_min", "growth_max"), ("potential_floor", "potential_ceiling"))
        for low, high in pairs:
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} {lo} is above {high} {hi}")
        return self


class RampConfig(_Strict):
    """Quota ramp of new hires by quarter in seat.

    ``schedule[j]`` is the share of a full quota a rep carries in their
    ``j``-th quarter in seat (0-based; months in seat counted at each plan
    month); after the schedule ends the last value holds. ``by_segment``
    overrides the schedule for a segment. ``shortfall``: ``respread`` gives
    what ramping reps do not carry to the other reps of their pool (the
    target is still met); ``hold_back`` keeps it unassigned (reported as
    ``held_back``; the quotas then sum to the target minus it).
    """

    schedule: list[float] = Field(default_factory=lambda: [0.25, 0.5, 0.75, 1.0], min_length=1)
    by_segment: dict[str, list[float]] = Field(default_factory=dict)
    shortfall: Literal["respread", "hold_back"] = "respread"

    @model_validator(mode="after")
    def _shares(self) -> RampConfig:
        for name, schedule in {"schedule": self.schedule, **self.by_segment}.items():
            if not schedule:
                raise ValueError(f"ramp schedule '{name}' is empty")
            if any(not 0.0 <= x <= 1.0 for x in schedule):
                raise ValueError(f"ramp schedule '{name}' needs shares in [0, 1], got {schedule}")
        return self


class SeasonalityConfig(_Strict):
    """How annual quotas split into periods.

    ``profile``: 4 (quarters) or 12 (months) non-negative weights, normalised;
    a quarter's weight spreads evenly over its months. ``source: history``
    takes each territory's shares from its accounts' monthly revenue columns
    ``revenue_m01`` ... ``revenue_m12`` (month 1 is the plan's first month),
    falling back to the profile where a territory has none. Default: flat.
    """

    period: Literal["quarter", "month"] = "quarter"
    profile: list[float] | None = None
    source: Literal["profile", "history"] = "profile"

    @model_validator(mode="after")
    def _profile(self) -> SeasonalityConfig:
        p = self.profile
        if p is not None:
            if len(p) not in (4, 12):
                raise ValueError(f"profile needs 4 (quarters) or 12 (months) numbers, got {len(p)}")
            if any(x < 0 for x in p) or sum(p) <= 0:
                raise ValueError("profile weights must be >= 0 with a positive sum")
        return self


class DistrictConfig(_Strict):
    """A district: the region-key values it holds (e.g. states) and an optional target."""

    members: list[str] = Field(min_length=1)
    target: float | None = Field(None, ge=0.0)


class RegionConfig(_Strict):
    """A region: its members (or districts) and an optional target in $."""

    members: list[str] = Field(default_factory=list)
    districts: dict[str, DistrictConfig] = Field(default_factory=dict)
    target: float | None = Field(None, ge=0.0)

    @model_validator(mode="after")
    def _members_or_districts(self) -> RegionConfig:
        if bool(self.members) == bool(self.districts):
            raise ValueError("a region lists either 'members' or 'districts'")
        return self

    def member_values(self) -> list[str]:
        """Every region-key value of the region, its districts' included."""
        if self.members:
            return list(self.members)
        return [m for d in self.districts.values() for m in d.members]


class AttainmentConfig(_Strict):
    """Model of next year's sales, for the expected-attainment simulation.

    Expected sales of territory i: ``E_i = P_i · expected_capture`` when a
    capture is given, else ``S_i · (1 + g)`` (last year's revenue of its
    accounts grown by ``expected_growth``; ``null``: the growth the target
    implies, so the company is expected to meet its target); times the rep's
    ramp factor. Realised sales are lognormal with mean ``E_i`` and
    coefficient of variation ``cv``, with pairwise ``correlation`` between
    territories (a common market shock).
    """

    expected_capture: float | None = Field(None, ge=0.0)
    expected_growth: float | None = Field(None, gt=-1.0)
    cv: float = Field(0.15, ge=0.0)
    correlation: float = Field(0.0, ge=0.0, le=1.0)
    draws: int = Field(4000, ge=1)
    # A healthy plan puts 60–70 % of reps at or above quota (capacity and kpis use it too).
    healthy_low: float = Field(0.60, ge=0.0, le=1.0)
    healthy_high: float = Field(0.70, ge=0.0, le=1.0)
    spread: Literal["cv", "history"] | None = Field(
        None, description="'history': each territory's spread from its forecast interval"
    )  # None: 'history' when data.history is given, else the cv setting


class QuotaConfig(_Strict):
    """How the company target is split into quotas.

    The target is ``target`` when given, else the sum of the region targets
    when every region has one, else ``(1 + growth)`` × last year's total
    revenue of all accounts. See ``territory_engine.quota`` for the formulas.
    """

    method: Literal["flat", "history", "equitable_growth", "potential", "blended", "forecast"] = (
        "blended"
    )
    target: float | None = Field(None, gt=0.0)
    growth: float = Field(0.08, gt=-1.0)
    history_weight: float = Field(0.5, ge=0.0, le=1.0)
    stretch: float = Field(1.0, gt=0.0, description="method forecast: target = stretch × forecast")
    forecast_weight: float = Field(1.0, ge=0.0, le=1.0, description="method forecast vs potential")
    rounding: float = Field(1000.0, gt=0.0)
    scale_by_capacity: bool = True
    plan_start: date | None = Field(None, description="first day of the plan year")
    caps: QuotaCapsConfig = QuotaCapsConfig()
    ramp: RampConfig | None = None
    seasonality: SeasonalityConfig = SeasonalityConfig()
    region_key: str = Field(
        "state", description="reps column, else units column at the rep's home, naming its region"
    )
    regions: dict[str, RegionConfig] = Field(default_factory=dict)
    attainment: AttainmentConfig = AttainmentConfig()

    @model_validator(mode="after")
    def _consistent(self) -> QuotaConfig:
        if self.ramp is not None and self.plan_start is None:
            raise ValueError("quota.ramp needs quota.plan_start (the first day of the plan year)")
        seen: dict[str, str] = {}
        for name, region in self.regions.items():
            for member in region.member_values():
                if member in seen:
                    raise ValueError(f"'{member}' is in both region '{seen[member]}' and '{name}'")
                seen[member] = name
        return self


class SolverConfig(_Strict):
    """Search settings."""

    seed: int = 0
    time_limit: float = Field(30.0, gt=0.0, description="seconds")
    candidates: int = Field(8, ge=1, description="nearest territories each unit may join")
    lns_rounds: int = Field(
        0, ge=0, description="regions re-solved exactly (CP-SAT) to improve a feasible plan"
    )


class OutputConfig(_Strict):
    """Where the plan folder goes, and map options."""

    folder: Path = Path("out/plan")
    tiles: str | None = None
    store: Path | None = Field(
        None, description="plan store file (default: plans.sqlite beside the plan folder)"
    )


class Scenario(_Strict):
    """A validated scenario. Build it with :func:`territory_engine.config.load_scenario`."""

    name: str
    description: str = ""
    data: DataConfig
    territories: TerritoriesConfig = TerritoriesConfig()
    balance: dict[str, BandConfig] = Field(
        default_factory=lambda: {"potential": BandConfig(tolerance=0.05)}
    )
    scale_by_capacity: bool = Field(
        True, description="a rep's bands scale with capacity_fte (a 0.5 FTE rep carries half)"
    )
    objective: ObjectiveConfig = ObjectiveConfig()
    relationships: RelationshipsConfig = RelationshipsConfig()
    constraints: ConstraintsConfig = ConstraintsConfig()
    quota: QuotaConfig = QuotaConfig()
    solver: SolverConfig = SolverConfig()
    output: OutputConfig = OutputConfig()
    whatif: WhatIfConfig = WhatIfConfig()
    hierarchy: HierarchyConfig | None = None  # districts and regions drawn by the solver

    @model_validator(mode="after")
    def _some_measure(self) -> Scenario:
        if not self.balance:
            raise ValueError("balance needs at least one measure")
        return self

    @model_validator(mode="after")
    def _relationships_need_edges(self) -> Scenario:
        wants = self.objective.relationships > 0 or self.objective.mode == "social"
        if wants and self.data.edges is None:
            raise ValueError(
                "objective.relationships and objective.mode 'social' need a relationship "
                "graph: set data.edges"
            )
        if wants and self.territories.mode == "count":
            raise ValueError(
                "objective.relationships and objective.mode 'social' need one territory per "
                "rep (territories.mode 'per_rep'): with free centres no rep is known while solving"
            )
        return self

    @model_validator(mode="after")
    def _travel_times_need_homes(self) -> Scenario:
        if self.data.travel_times is not None and self.territories.mode == "count":
            raise ValueError(
                "data.travel_times needs one territory per rep (territories.mode 'per_rep'): "
                "with free centres (mode 'count') no home is known to travel from"
            )
        return self

    def follow_min_proximity(self) -> float | None:
        """The effective ``relationships.follow_min_proximity`` (0.5 in social mode)."""
        given = self.relationships.follow_min_proximity
        if given is None and self.objective.mode == "social":
            return 0.5
        return given
