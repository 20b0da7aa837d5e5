"""Pydantic models of a scenario file.

A scenario is everything a planner decides about one run: which data, what a
territory is, which measures are balanced and how tightly, what the solver
minimises, which rules are hard, how quotas are set, the seed and time limit,
and where the plan is written. Unknown keys are errors (with a did-you-mean),
never silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Strict):
    """Where the input tables are (paths relative to the scenario file)."""

    accounts: Path
    reps: Path
    units: Path
    units_layer: str | None = None
    unit_id_column: str = "unit_id"
    edges: Path | None = None
    snap_km: float = Field(0.0, ge=0.0, description="accounts this close outside a unit join it")


class TerritoriesConfig(_Strict):
    """What a territory is.

    ``per_rep``: one territory per rep, centred at the rep's home.
    ``count``: ``count`` territories with free centres chosen by the solver
    (reps are then matched to territories after solving).
    """

    mode: Literal["per_rep", "count"] = "per_rep"
    count: int | None = Field(None, ge=1)
    eligibility: Literal["segment", "none"] = Field(
        "segment", description="'segment': a segment's accounts only go to reps of that segment"
    )

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
    """Weights of the objective terms (each term is normalised, see ``solve``)."""

    travel: float = Field(1.0, ge=0.0)
    compactness: float = Field(0.0, ge=0.0)
    disruption: float = Field(0.0, ge=0.0)


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


class QuotaConfig(_Strict):
    """How the company target is split into quotas.

    The target is ``target`` when given, else ``(1 + growth)`` × last year's
    total revenue of all accounts.
    """

    method: Literal["flat", "history", "equitable_growth", "potential", "blended"] = "blended"
    target: float | None = Field(None, gt=0.0)
    growth: float = Field(0.08, gt=-1.0)
    history_weight: float = Field(0.5, ge=0.0, le=1.0)
    rounding: float = Field(1000.0, gt=0.0)
    scale_by_capacity: bool = True


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
    constraints: ConstraintsConfig = ConstraintsConfig()
    quota: QuotaConfig = QuotaConfig()
    solver: SolverConfig = SolverConfig()
    output: OutputConfig = OutputConfig()

    @model_validator(mode="after")
    def _some_measure(self) -> Scenario:
        if not self.balance:
            raise ValueError("balance needs at least one measure")
        return self
