"""The effective differences between two scenarios, setting by setting.

Two scenarios are compared after loading (``extends`` resolved, defaults
filled, lock files expanded): what differs is what the engine will do
differently, whichever file says it. Settings are named by dotted paths
(``balance.potential.tolerance``); lists (locks, reps added, ramp schedules)
are compared and shown whole, since a list replaces rather than merges under
``extends``. Pure functions, shared by ``territory-engine diff-scenarios`` and
sweeps.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from territory_engine.config.load import PATH_KEYS
from territory_engine.config.scenario import Scenario


class _Missing:
    """A setting absent on one side (a dict key such as a balance measure or a region)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Stands for a setting one scenario does not have at all."""

LIST_PREVIEW = 6
"""Lists longer than this are shortened in :func:`format_value`."""


@dataclass(frozen=True)
class Difference:
    """One setting whose effective value differs.

    Attributes
    ----------
    setting
        Dotted path, e.g. ``balance.potential.tolerance``.
    a, b
        The values (JSON types) in scenario A and B; :data:`MISSING` when the
        setting is absent from that scenario.
    """

    setting: str
    a: Any
    b: Any

    def to_json(self) -> dict[str, Any]:
        """``{"setting", "a", "b"}``; an absent side is ``null`` and named by ``only_in``."""
        out: dict[str, Any] = {
            "setting": self.setting,
            "a": None if self.a is MISSING else self.a,
            "b": None if self.b is MISSING else self.b,
        }
        if self.a is MISSING:
            out["only_in"] = "b"
        elif self.b is MISSING:
            out["only_in"] = "a"
        return out


def _relative(value: str, base: Path) -> str:
    """``value`` relative to ``base`` when it lies under it, else unchanged."""
    try:
        return str(Path(value).relative_to(base))
    except ValueError:
        return value


def scenario_settings(
    scenario: Scenario, relative_to: str | os.PathLike[str] | None = None
) -> dict:
    """The scenario as nested JSON values, file paths optionally relative to a folder.

    Parameters
    ----------
    scenario
        A loaded scenario (absolute paths).
    relative_to
        Show the data, output and lock-file paths relative to this folder
        (for example the working directory) when they lie under it.

    Returns
    -------
    dict
        ``scenario.model_dump(mode="json")`` with paths rewritten.
    """
    settings = scenario.model_dump(mode="json")
    if relative_to is None:
        return settings
    base = Path(relative_to).resolve()
    for section, key in PATH_KEYS:
        block = settings.get(section)
        if isinstance(block, dict) and isinstance(block.get(key), str):
            block[key] = _relative(block[key], base)
    for entry in settings.get("whatif", {}).get("lock_accounts", []):
        if isinstance(entry.get("file"), str):
            entry["file"] = _relative(entry["file"], base)
    return settings


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def diff_settings(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[Difference]:
    """Differences between two nested settings mappings, in A's key order.

    Mappings are compared key by key (a key on one side only is one
    :class:`Difference`, with its whole value); anything else, lists
    included, is compared whole.
    """
    out: list[Difference] = []
    for key in dict.fromkeys([*a, *b]):
        path = f"{prefix}{key}"
        va = a.get(key, MISSING)
        vb = b.get(key, MISSING)
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            out.extend(diff_settings(va, vb, f"{path}."))
        elif va is MISSING or vb is MISSING or not _same(va, vb):
            out.append(Difference(path, va, vb))
    return out


def diff_scenarios(
    a: Scenario, b: Scenario, relative_to: str | os.PathLike[str] | None = None
) -> list[Difference]:
    """The effective differences between two loaded scenarios.

    Parameters
    ----------
    a, b
        Scenarios as :func:`territory_engine.config.load_scenario` returns them.
    relative_to
        Folder the paths are shown relative to (see :func:`scenario_settings`).

    Returns
    -------
    list of Difference
        Empty when the two scenarios would run identically.
    """
    return diff_settings(scenario_settings(a, relative_to), scenario_settings(b, relative_to))


def _compact(value: Any) -> Any:
    """Drop ``null`` entries of mappings (the unset options of a lock, a band, a new rep)
    and write whole floats as integers."""
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def format_value(value: Any) -> str:
    """One short line for a value of a :class:`Difference`.

    ``MISSING`` -> ``(absent)``; ``None`` -> ``null``; whole floats without
    ``.0``; lists and mappings in YAML flow style (``[{account: A1, rep: R06}]``),
    their ``null`` entries left out and lists longer than :data:`LIST_PREVIEW`
    shortened.
    """
    if value is MISSING:
        return "(absent)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int | str):
        return str(value) if value != "" else '""'
    shown = _compact(value)
    more = ""
    if isinstance(shown, list) and len(shown) > LIST_PREVIEW:
        more = f" … ({len(shown)} items)"
        shown = shown[: LIST_PREVIEW - 1]
    text = yaml.safe_dump(shown, default_flow_style=True, sort_keys=False, width=math.inf)
    text = text.strip()
    if text.endswith("..."):  # a YAML document end marker after a lone scalar
        text = text[:-3].strip()
    if more:
        text = text[:-1] + ", …]" if text.endswith("]") else text
    return text + more


def differences_json(differences: Iterable[Difference]) -> list[dict[str, Any]]:
    """The differences as JSON-ready dicts (see :meth:`Difference.to_json`)."""
    return [d.to_json() for d in differences]
