"""Models of the ``whatif:`` section of a scenario: the operations a planner thinks in.

A what-if is a variant of a scenario (``extends: fy_baseline.yaml``) that
changes the organisation rather than a setting:

* ``add_reps``: a new rep at a city (``"Nashville, TN"``, looked up in
  ``data.places`` or the reps' ``home_city``) or at ``lat``/``lon``;
* ``remove_reps``: reps who leave; their accounts keep them as
  ``current_rep_id`` (so they count as moved) and are re-assigned;
* ``lock_accounts``: accounts pinned to a rep, listed inline or in a CSV file
  with an ``account_id`` column; expanded into ``constraints.locks`` when the
  scenario is loaded
  (:func:`territory_engine.config.whatif.expand_lock_accounts`);
* ``target_change``: the quota target scaled by ``1 + target_change``;
* ``base_plan``: a plan folder the what-if starts from (``run --from-plan``):
  its owners are the accounts' current owners (disruption is counted against
  that plan, not last year's owners) and the solver's warm start, so a hire or
  a departure changes only the territories around it.

Changing a tolerance or a weight needs no operation: a variant overrides the
setting (``balance: {potential: {tolerance: 0.03}}``).

The models here only validate and import no other part of the package:
:mod:`territory_engine.config.scenario` imports :class:`WhatIfConfig` (the
``whatif`` field), and :mod:`territory_engine.config.whatif` (lock files, lock
expansion) imports both modules, never the other way round. The reps table is changed by
:func:`territory_engine.io.whatif.apply_whatif`, at the end of
:func:`territory_engine.io.load.load_tables`; the solver never sees a what-if.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class AddRepConfig(_Strict):
    """A rep added to the reps table before solving.

    The home is ``city`` (``"City, ST"`` or a city name found in one state
    only, case-insensitive; looked up in ``data.places``, then in the reps'
    ``home_city``) or ``lat``/``lon``. ``start_date`` defaults to
    ``quota.plan_start``, so a new hire ramps with the quota ramp from the
    first day of the plan. ``last_year_quota: null`` is stored as 0 (a new hire,
    bound by no growth cap).
    """

    rep_id: str = Field(min_length=1)
    name: str = ""
    segment: str
    city: str | None = None
    lat: float | None = Field(None, ge=-90.0, le=90.0)
    lon: float | None = Field(None, ge=-180.0, le=180.0)
    capacity_fte: float = Field(1.0, gt=0.0)
    start_date: date | None = None
    last_year_quota: float | None = Field(None, ge=0.0)

    @field_validator("rep_id", "name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("segment")
    @classmethod
    def _segment(cls, value: str) -> str:
        # Checked against the data's segments when the what-if is applied
        # (territory_engine.io.whatif), where they are known.
        if not value.strip():
            raise ValueError("segment is empty; name a segment of the reps or accounts")
        return value.strip()

    @model_validator(mode="after")
    def _one_home(self) -> AddRepConfig:
        has_point = self.lat is not None or self.lon is not None
        if (self.city is None) == (not has_point):
            raise ValueError(f"rep {self.rep_id}: give either 'city' or 'lat' and 'lon'")
        if has_point and (self.lat is None or self.lon is None):
            raise ValueError(f"rep {self.rep_id}: give both 'lat' and 'lon'")
        if self.city is not None and not self.city.strip():
            raise ValueError(f"rep {self.rep_id}: 'city' is empty")
        return self


class LockAccountsConfig(_Strict):
    """Accounts locked to ``rep``: listed in ``accounts`` or in ``file``.

    ``file`` is a table (CSV, Parquet...) with an ``account_id`` column, its
    path relative to the scenario file.
    """

    rep: str = Field(min_length=1)
    accounts: list[str] = Field(default_factory=list)
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> LockAccountsConfig:
        if bool(self.accounts) == (self.file is not None):
            raise ValueError(f"rep {self.rep}: give either a non-empty 'accounts' list or 'file'")
        return self


class WhatIfConfig(_Strict):
    """Operations applied to the inputs before solving (see the module docstring)."""

    add_reps: list[AddRepConfig] = Field(default_factory=list)
    remove_reps: list[str] = Field(default_factory=list)
    lock_accounts: list[LockAccountsConfig] = Field(default_factory=list)
    target_change: float = Field(
        0.0, gt=-1.0, description="the quota target is multiplied by 1 + target_change"
    )
    base_plan: Path | None = Field(
        None,
        description="plan folder whose owners are the current owners and the warm start "
        "(relative to the scenario file)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> WhatIfConfig:
        seen: set[str] = set()
        for rep in self.add_reps:
            if rep.rep_id in seen:
                raise ValueError(f"add_reps names rep_id {rep.rep_id!r} twice")
            seen.add(rep.rep_id)
        both = sorted(seen & set(self.remove_reps))
        if both:
            raise ValueError(f"rep {both[0]!r} is both added and removed")
        return self

    def is_empty(self) -> bool:
        """True when no operation changes the reps, the owners or the target."""
        return not (
            self.add_reps
            or self.remove_reps
            or self.lock_accounts
            or self.target_change
            or self.base_plan is not None
        )
