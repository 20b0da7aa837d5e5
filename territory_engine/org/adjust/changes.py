"""The mid-year changes a planner asks for, parsed from the ``adjust`` command's words.

* :class:`RemoveRep` — ``--remove-rep R07``: the rep leaves; their territory
  and its neighbours are re-drawn.
* :class:`AddRep` — ``--add-rep "R46:Jackson, MS[:segment]"``: a hire at a
  city of the plan's gazetteer (or a rep's home city); the territory the new
  home lies in and its neighbours are re-drawn.
* :class:`MoveUnits` — ``--move-units 28049=R12,28089=R12``: geo units handed
  to a rep; the territories giving and taking them are re-balanced.

Parsing only checks the form; whether the reps and units exist is checked
against the plan (:func:`territory_engine.org.adjust.run.adjust_plan`).
"""

from __future__ import annotations

from dataclasses import dataclass

from territory_engine.errors import ScenarioError

__all__ = ["AddRep", "Change", "MoveUnits", "RemoveRep", "parse_add_rep", "parse_move_units"]


@dataclass(frozen=True)
class RemoveRep:
    """A rep who leaves on the effective date."""

    rep_id: str


@dataclass(frozen=True)
class AddRep:
    """A rep hired on the effective date, living in ``city``.

    ``segment`` ``None`` means the plan's only segment (refused when it has several).
    """

    rep_id: str
    city: str
    segment: str | None = None


@dataclass(frozen=True)
class MoveUnits:
    """Geo units handed to reps: ``(unit_id, rep_id)`` pairs, in the order given."""

    moves: tuple[tuple[str, str], ...]


Change = RemoveRep | AddRep | MoveUnits


def parse_add_rep(text: str) -> AddRep:
    """``"R46:Jackson, MS"`` or ``"R46:Jackson, MS:commercial"`` -> :class:`AddRep`.

    Raises
    ------
    ScenarioError
        Not of the form ``REP:City, ST[:segment]``.
    """
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3) or not all(parts):
        raise ScenarioError(
            f"--add-rep {text!r}: write REP:CITY or REP:CITY:SEGMENT, "
            "e.g. 'R46:Jackson, MS:commercial'"
        )
    return AddRep(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def parse_move_units(text: str) -> MoveUnits:
    """``"28049=R12,28089=R12"`` -> :class:`MoveUnits`.

    Raises
    ------
    ScenarioError
        An item not of the form ``UNIT=REP``, or a unit named twice.
    """
    moves: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in text.split(","):
        unit, eq, rep = (p.strip() for p in item.partition("="))
        if not (eq and unit and rep):
            raise ScenarioError(
                f"--move-units: {item.strip()!r} is not UNIT=REP; e.g. '28049=R12,28089=R12'"
            )
        if unit in seen:
            raise ScenarioError(f"--move-units: unit {unit!r} is named twice")
        seen.add(unit)
        moves.append((unit, rep))
    return MoveUnits(tuple(moves))
