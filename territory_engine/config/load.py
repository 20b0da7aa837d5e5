"""Read a scenario YAML: resolve ``extends:``, validate, make paths absolute."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from territory_engine.config.paths import resolve_path
from territory_engine.config.scenario import Scenario
from territory_engine.config.whatif import absolutise_whatif, expand_lock_accounts
from territory_engine.errors import ScenarioError, did_you_mean

PATH_KEYS = {("data", "accounts"), ("data", "reps"), ("data", "units"), ("data", "edges")}
PATH_KEYS |= {("data", "places"), ("data", "travel_times")}
PATH_KEYS |= {("data", "history")}  # monthly revenue history (org.forecast)
PATH_KEYS |= {("output", "folder"), ("output", "store")}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override``; nested mappings merge, everything else replaces.

    A value of ``None`` in ``override`` replaces too (it is how a variant switches
    an optional setting off). Lists replace rather than append, so a variant's
    ``locks:`` is the whole list.
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    if not _is_file(path):
        raise ScenarioError(f"{path}: scenario file not found")
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(f"{path}: is UTF-16 text; save the scenario as UTF-8")
    try:
        text = data.decode("utf-8-sig")  # an editor's byte-order mark is harmless
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(
            f"{path}{_yaml_where(exc)}: not valid YAML: {_yaml_problem(exc)}"
        ) from None
    except RecursionError:
        # PyYAML composes nested collections recursively: [[[[...]]]] thousands deep.
        raise ScenarioError(
            f"{path}: not valid YAML: nested too deeply (a scenario is a few levels deep)"
        ) from None
    if raw is None:
        raise ScenarioError(f"{path}: scenario file is empty")
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping of keys, got {type(raw).__name__}")
    _check_depth(raw, path)
    return raw


_MAX_DEPTH = 32
"""Nesting deeper than this is no scenario (the deepest real one, regions, is about 6)."""


def _check_depth(tree: Any, path: Path) -> None:
    """Refuse nesting deeper than :data:`_MAX_DEPTH`, or an alias that holds itself.

    Aliases share one object, so each list or mapping is measured once: an alias
    bomb (ten aliases of ten aliases of ... ) costs what its text costs, not 10^9.
    """
    depth_of: dict[int, int] = {}
    open_: set[int] = set()

    def depth(node: Any, level: int) -> int:
        key = id(node)
        if key in open_ or level > _MAX_DEPTH:
            raise ScenarioError(
                f"{path}: not valid YAML: nested more than {_MAX_DEPTH} levels deep "
                "(or an alias that holds itself)"
            )
        if key not in depth_of:
            open_.add(key)
            children = node.values() if isinstance(node, dict) else node
            inner = [depth(c, level + 1) for c in children if isinstance(c, dict | list)]
            open_.discard(key)
            depth_of[key] = 1 + max(inner, default=0)
        if level - 1 + depth_of[key] > _MAX_DEPTH:
            raise ScenarioError(
                f"{path}: not valid YAML: nested more than {_MAX_DEPTH} levels deep"
            )
        return depth_of[key]

    depth(tree, 1)


def _yaml_where(exc: yaml.YAMLError) -> str:
    """`` (line N)`` of a YAML error, where PyYAML knows it."""
    mark = getattr(exc, "problem_mark", None)
    return f" (line {mark.line + 1})" if mark is not None else ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A PyYAML error on one line: what went wrong, and while doing what.

    PyYAML's own ``str`` spans several lines (it quotes the offending text with a
    caret under it); the CLI shows errors on one line.
    """
    problem = getattr(exc, "problem", None)
    if not problem:
        return " ".join(str(exc).split())
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else str(problem)
    if "constructor for the tag" in text:
        text += " (tags that build objects are never run; remove the tag)"
    return " ".join(text.split())


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a path the system cannot even look up.

    A NUL byte (``ValueError``) or a name longer than the system allows
    (``OSError``) is no file either; the message then names the path as given.
    """
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def absolutise_paths(raw: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Make the file paths of one YAML document absolute, relative to its own folder.

    Done per document before merging so that a variant in another folder can
    extend a baseline and both keep their own relative paths.
    """
    out = copy.deepcopy(raw)
    for section, key in PATH_KEYS:
        block = out.get(section)
        if isinstance(block, dict) and isinstance(block.get(key), str):
            block[key] = resolve_path(base_dir, block[key])
    _absolutise_hierarchy(out, base_dir)
    absolutise_whatif(out, base_dir)
    return out


def _absolutise_hierarchy(raw: dict[str, Any], base_dir: Path) -> None:
    """Resolve ``hierarchy.managers`` (when a file) and ``hierarchy.previous.file``.

    Resolved where they are written, so that a variant extending a scenario in
    another folder reads the files its parent named.
    """
    block = raw.get("hierarchy")
    if not isinstance(block, dict):
        return
    if isinstance(block.get("managers"), str):
        block["managers"] = resolve_path(base_dir, block["managers"])
    previous = block.get("previous")
    if isinstance(previous, dict) and isinstance(previous.get("file"), str):
        previous["file"] = resolve_path(base_dir, previous["file"])


def resolve_raw(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read ``path`` and everything it ``extends``, merged, before validation."""
    path = Path(resolve_path(Path.cwd(), str(path)))
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(f"{path}: 'extends' forms a cycle: {cycle}")
    raw = absolutise_paths(_read_yaml(path), path.parent)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: 'extends' must be a file path")
    base = resolve_raw(path.parent / parent, (*_chain, path))
    return deep_merge(base, raw)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at ``loc`` (the parent of an unknown key), for did-you-mean."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The BaseModel inside ``X``, ``X | None``, ``list[X]`` or ``dict[str, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def explain_validation(exc: ValidationError, path: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            # Keys under list items or dicts of bands: skip the index/name part.
            parent = tuple(p for p in loc[:-1] if not isinstance(p, int))
            if parent[:1] == ("balance",):
                parent = ("balance_band",)
            valid = (
                _fields_at(Scenario, ())
                if not parent
                else (
                    list(_BAND_FIELDS)
                    if parent == ("balance_band",)
                    else _fields_at(Scenario, parent)
                )
            )
            hint = did_you_mean(key, valid)
            known = f"; known keys here: {', '.join(valid)}" if valid else ""
            lines.append(f"unknown key '{dotted}'{hint}{known}")
        elif err["type"] == "missing":
            lines.append(f"missing key '{dotted}'")
        else:
            lines.append(f"'{dotted}': {err['msg']}")
    return f"{path}: " + "; ".join(lines)


_BAND_FIELDS = ("tolerance", "low", "high")


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file.

    Parameters
    ----------
    path
        The YAML file. ``extends: other.yaml`` (relative to this file) loads the
        other first and deep-merges this one over it.

    Returns
    -------
    Scenario
        The validated scenario with absolute paths, ``whatif.lock_accounts``
        expanded into ``constraints.locks``.

    Raises
    ------
    ScenarioError
        Unknown keys (with a did-you-mean), bad values, missing files, cycles.
    """
    path = Path(resolve_path(Path.cwd(), str(path)))
    raw = resolve_raw(path)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(explain_validation(exc, path)) from None
    for name in ("accounts", "reps", "units", "edges", "places", "travel_times"):
        file = getattr(scenario.data, name)
        # data.units may be {h3: RES} rather than a file.
        if isinstance(file, Path) and not _exists(file):
            raise ScenarioError(f"{path}: data.{name} file not found: {file}")
    return expand_lock_accounts(scenario, source=path)


def _exists(path: Path) -> bool:
    """``path.exists()``, False for a path the system cannot look up (NUL byte, too long)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the validated scenario (paths included), for provenance."""
    payload = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()
