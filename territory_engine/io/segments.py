"""The ``segment`` column of accounts and reps, and whether every account segment has reps.

The rule (spelling, order, teams) is :mod:`territory_engine.config.segments`;
this module applies it to the loaded tables and names rows in its errors.
"""

from __future__ import annotations

import os

import pandas as pd

from territory_engine.config.scenario import Scenario
from territory_engine.config.segments import (
    POOLED,
    canonical_spellings,
    distinct,
    list_segments,
    resolve_mapping,
    segment_key,
    teams,
)
from territory_engine.errors import ScenarioError, did_you_mean
from territory_engine.io.tables import SOURCE_FILE_ATTR, keep_source, raise_for_rows


def segment_column(
    frame: pd.DataFrame, *, file: str | os.PathLike[str], id_column: str
) -> pd.Series:
    """The segment of each record: the ``segment`` column, or :data:`POOLED` without one.

    Spellings that differ in case or spaces only are unified to the first one
    of the file (``SMB``, ``smb`` -> ``SMB``).

    Raises
    ------
    InputError
        An empty segment cell, naming the file, row, id and column.
    """
    if "segment" not in frame.columns:
        return pd.Series(POOLED, index=frame.index, dtype=object)
    values = frame["segment"].astype(str).str.strip()
    raise_for_rows(
        frame,
        (values == "").to_numpy(),
        file=file,
        column="segment",
        id_column=id_column,
        describe=lambda _: (
            "is empty; give every record a segment, or drop the column for one pooled team"
        ),
    )
    spelling = canonical_spellings(values)
    return values.map({v: spelling[segment_key(v)] for v in distinct(values)})


def unify_segments(accounts: pd.DataFrame, reps: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounts and reps with one spelling per segment across both (the reps' first)."""
    spelling = canonical_spellings(reps["segment"], accounts["segment"])

    def spelt(frame: pd.DataFrame) -> pd.DataFrame:
        column = frame["segment"]
        new = column.map({v: spelling[segment_key(v)] for v in distinct(column)})
        if new.equals(frame["segment"]):
            return frame
        return keep_source(frame.assign(segment=new.to_numpy()), frame)

    return spelt(accounts), spelt(reps)


def check_segments_covered(scenario: Scenario, accounts: pd.DataFrame, reps: pd.DataFrame) -> None:
    """Check that every account segment, and every segment of the mapping, has reps.

    With ``territories.eligibility: none`` every rep may take every account and
    nothing is checked.

    Also checks that ``quota.ramp.by_segment`` names segments of the reps.

    Raises
    ------
    ScenarioError
        A segment of ``territories.eligibility`` or ``quota.ramp.by_segment``
        that the data lacks, with a did-you-mean over the reps' (or the
        accounts') segments.
    InputError
        The first account whose segment no rep covers, naming its row and
        column, with a did-you-mean over the reps' segments.
    """
    _check_ramp_segments(scenario, list_segments(reps["segment"]))
    eligibility = scenario.territories.eligibility
    if eligibility == "none":
        return
    rep_segments = list_segments(reps["segment"])
    acc_segments = list_segments(accounts["segment"])
    reps_file = reps.attrs.get(SOURCE_FILE_ATTR, "the reps table")
    hint = ""
    if rep_segments == [POOLED]:
        hint = (
            f"; {reps_file} has no segment column (every rep is in {POOLED!r}): add one or set "
            "territories.eligibility: none"
        )
    if isinstance(eligibility, dict):
        mapping = resolve_mapping(eligibility, canonical_spellings(rep_segments, acc_segments))
        for a, targets in mapping.items():
            if a not in acc_segments:
                raise ScenarioError(
                    f"territories.eligibility: {a!r} is not a segment of the accounts"
                    f"{did_you_mean(a, acc_segments)}; the accounts' segments: "
                    f"{_listed(acc_segments)}"
                )
            for r in targets:
                if r not in rep_segments:
                    raise ScenarioError(
                        f"territories.eligibility.{a}: {r!r} is not a segment of any rep in "
                        f"{reps_file}{did_you_mean(r, rep_segments)}; the reps' segments: "
                        f"{_listed(rep_segments)}{hint}"
                    )
    groups = teams(eligibility, acc_segments, rep_segments)
    allowed = groups.allowed or {}
    uncovered = [s for s in acc_segments if not set(allowed.get(s, (s,))) & set(rep_segments)]
    if not uncovered:
        return
    segments = accounts["segment"]
    raise_for_rows(
        accounts,
        segments.isin(uncovered).to_numpy(),
        file=accounts.attrs.get(SOURCE_FILE_ATTR, scenario.data.accounts),
        column="segment",
        id_column="account_id",
        describe=lambda label: (
            f"no rep of {reps_file} sells to segment {segments[label]!r}"
            f"{did_you_mean(segments[label], rep_segments)}; the reps' segments: "
            f"{_listed(rep_segments)}{hint or '; map it with territories.eligibility'}"
        ),
    )


def _check_ramp_segments(scenario: Scenario, rep_segments: list[str]) -> None:
    """``quota.ramp.by_segment`` must name reps' segments as the data spells them."""
    ramp = scenario.quota.ramp
    for name in ramp.by_segment if ramp is not None else ():
        if name not in rep_segments:
            raise ScenarioError(
                f"quota.ramp.by_segment: {name!r} is not a segment of the reps"
                f"{did_you_mean(name, rep_segments)}; the reps' segments: "
                f"{_listed(rep_segments)}"
            )


__all__ = ["check_segments_covered", "segment_column", "unify_segments"]


def _listed(names: list[str]) -> str:
    """Segment names for a message, a name with a newline or other control character quoted.

    The names are the data's own; ``'a\\nb'`` printed raw would break the one-line error.
    """
    return ", ".join(name if name.isprintable() else repr(name) for name in names)
