"""JSON for plan files: numpy values converted, NaN and infinities written as null."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _default(obj: object) -> object:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def finite(obj: object) -> object:
    """Replace NaN and infinities (not valid JSON) by ``None``, recursively."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    if isinstance(obj, float | np.floating) and not np.isfinite(obj):
        return None
    if isinstance(obj, np.ndarray):
        return finite(obj.tolist())
    return obj


def to_json(obj: object) -> str:
    """Strict JSON text (indent 2) of ``obj``; numpy values converted, NaN/inf as null."""
    return json.dumps(finite(obj), indent=2, default=_default, allow_nan=False)
