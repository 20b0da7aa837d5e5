"""Rendering of plans: maps and other views that draw what the pipeline computed.

Importing this package is cheap: folium, geopandas and networkx load only when one
of the names below is first used, so the CLI and the solvers do not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from territory_engine.render.colors import assign_colors
    from territory_engine.render.plan_map import render_plan_map, save_map

__all__ = ["assign_colors", "render_plan_map", "save_map"]

_WHERE = {
    "assign_colors": "territory_engine.render.colors",
    "render_plan_map": "territory_engine.render.plan_map",
    "save_map": "territory_engine.render.plan_map",
}


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access (PEP 562)."""
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
