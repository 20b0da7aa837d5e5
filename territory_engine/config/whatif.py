"""Lock files and lock expansion for the ``whatif:`` section of a scenario.

The operations a planner thinks in (``add_reps``, ``remove_reps``,
``lock_accounts``, ``target_change``) are validated by the models of
:mod:`territory_engine.config.whatif_models` (re-exported here). This module does
what loading a scenario needs beyond validation: it makes lock files absolute
(:func:`absolutise_whatif`, which also makes ``whatif.base_plan`` absolute),
reads them (:func:`read_lock_file`), expands ``whatif.lock_accounts`` into
``constraints.locks`` (:func:`expand_lock_accounts`) and sets the plan a what-if
starts from (:func:`with_base_plan`, for ``run --from-plan``).

The reps table is changed by :func:`territory_engine.io.whatif.apply_whatif`, at
the end of :func:`territory_engine.io.load.load_tables`; the solver never sees a
what-if.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from territory_engine.config.paths import resolve_path
from territory_engine.config.scenario import LockConfig, Scenario
from territory_engine.config.whatif_models import (
    AddRepConfig,
    LockAccountsConfig,
    WhatIfConfig,
)
from territory_engine.errors import ScenarioError
from territory_engine.io.tables import raise_for_rows, read_table

__all__ = [
    "AddRepConfig",
    "LockAccountsConfig",
    "WhatIfConfig",
    "absolutise_whatif",
    "expand_lock_accounts",
    "read_lock_file",
    "with_base_plan",
]


def absolutise_whatif(raw: dict[str, Any], base_dir: Path) -> None:
    """Make the ``file`` of each raw ``whatif.lock_accounts`` entry absolute, in place.

    Called on each YAML document before ``extends`` merges it, like the
    ``data`` paths, so a lock file (and ``whatif.base_plan``) is relative to the
    scenario that names it.
    """
    whatif = raw.get("whatif")
    if isinstance(whatif, dict) and isinstance(whatif.get("base_plan"), str):
        whatif["base_plan"] = resolve_path(base_dir, whatif["base_plan"])
    entries = whatif.get("lock_accounts") if isinstance(whatif, dict) else None
    if not isinstance(entries, list):
        return
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            entry["file"] = resolve_path(base_dir, entry["file"])


def read_lock_file(path: Path) -> Any:
    """Read a lock file: a table with a non-empty ``account_id`` in every row.

    Returns
    -------
    pandas.DataFrame
        The table, ``account_id`` as stripped strings; index and ``attrs``
        carry row numbers (see :mod:`territory_engine.io.tables`).

    Raises
    ------
    InputError
        Missing file or column, or an empty id, naming the file, row and column.
    """
    table = read_table(path, kind="locked accounts", required=("account_id",), text=("account_id",))
    raise_for_rows(
        table,
        table["account_id"] == "",
        file=path,
        column="account_id",
        id_column=None,
        describe=lambda _: "empty account_id; every row names one account to lock",
    )
    return table


def expand_lock_accounts(scenario: Scenario, source: Path | None = None) -> Scenario:
    """Return ``scenario`` with ``whatif.lock_accounts`` added to ``constraints.locks``.

    Each listed account becomes ``{account: <id>, rep: <rep>}``. A lock already
    in ``constraints.locks`` is not repeated, so expanding twice changes
    nothing; an account locked to two different reps is an error. Whether the
    ids are accounts of the data is checked with the tables, by
    :func:`territory_engine.io.whatif.apply_whatif`.

    Parameters
    ----------
    scenario
        A validated scenario (lock files absolute).
    source
        The scenario file, to name it in errors.

    Raises
    ------
    ScenarioError
        An account locked to two reps.
    InputError
        A lock file that is missing, lacks ``account_id`` or has an empty id.
    """
    entries = scenario.whatif.lock_accounts
    if not entries:
        return scenario
    prefix = f"{source}: " if source is not None else ""
    locks = list(scenario.constraints.locks)
    owner = {lk.account: (lk.rep, "constraints.locks") for lk in locks if lk.account is not None}
    for i, entry in enumerate(entries):
        where = f"whatif.lock_accounts[{i}]"
        if entry.file is not None:
            ids = list(read_lock_file(entry.file)["account_id"])
        else:
            ids = [a.strip() for a in entry.accounts]
        for account in dict.fromkeys(ids):
            if account in owner:
                rep, by = owner[account]
                if rep != entry.rep:
                    raise ScenarioError(
                        f"{prefix}{where}: account {account} is locked to rep {entry.rep} "
                        f"here and to rep {rep} by {by}; an account has one rep"
                    )
                continue
            owner[account] = (entry.rep, where)
            locks.append(LockConfig(account=account, rep=entry.rep))
    constraints = scenario.constraints.model_copy(update={"locks": locks})
    return scenario.model_copy(update={"constraints": constraints})


def with_base_plan(scenario: Scenario, plan_dir: Path | str) -> Scenario:
    """``scenario`` with ``whatif.base_plan`` set to ``plan_dir`` (made absolute).

    What ``territory-engine run VARIANT --from-plan PLAN_DIR`` does before
    running: the plan folder's owners become the current owners (so disruption
    is counted against it) and the solver starts from its assignment. The
    folder is read when the tables are loaded
    (:func:`territory_engine.io.whatif.apply_whatif`).
    """
    path = Path(resolve_path(Path.cwd(), str(plan_dir)))
    whatif = scenario.whatif.model_copy(update={"base_plan": path})
    return scenario.model_copy(update={"whatif": whatif})
