"""Parse ``--grid KEY=V1,V2`` options and expand them into validated scenario variants.

Everything here runs before a single variant is launched: a sweep with a typo in a key
or an impossible value fails at once with one line, instead of after the first solve.

A grid key is a dotted path into the scenario (``balance.potential.tolerance``,
``constraints.max_moved_potential``, ``solver.seed``). Values are YAML scalars
(``0.05``, ``null``, ``true``, ``segment``) or YAML flow collections
(``[0.25, 1.0]``, ``{tolerance: 0.05}``); commas inside brackets, braces or quotes do
not split values. The variants are the cartesian product of the axes, first axis
slowest, so the order (and each variant's name) is stable for a given command line.
"""

from __future__ import annotations

import itertools
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from territory_engine.config.load import PATH_KEYS, absolutise_paths, deep_merge, explain_validation
from territory_engine.config.scenario import Scenario
from territory_engine.errors import ScenarioError, did_you_mean

__all__ = [
    "GridAxis",
    "Variant",
    "build_variants",
    "expand_grid",
    "parse_grid",
    "validate_key",
    "variant_names",
]

# Keys the sweep itself decides: every variant's plan folder is `<sweep>/<variant>`.
_RESERVED = {("output", "folder"), ("extends",)}
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
# Keep a variant name (one path component) well below the usual 255-byte limit.
_MAX_NAME = 120


@dataclass(frozen=True)
class GridAxis:
    """One ``--grid`` option: a scenario key and the values it takes.

    Attributes
    ----------
    key
        The dotted key split into its parts, e.g. ``("balance", "potential", "tolerance")``.
    values
        The parsed values (YAML), in the order given.
    texts
        The values as typed (used in variant names and tables).
    """

    key: tuple[str, ...]
    values: tuple[Any, ...]
    texts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        """The key as written: ``balance.potential.tolerance``."""
        return ".".join(self.key)


@dataclass(frozen=True)
class Variant:
    """One point of the grid: the base scenario with a few keys overridden.

    Attributes
    ----------
    index
        1-based position in the cartesian product.
    name
        Filesystem-safe name, e.g. ``v03_tolerance=0.05_max_moved_potential=0.1``; also
        the name of its plan folder inside the sweep folder.
    overrides
        Dotted key -> value, in grid order.
    texts
        Dotted key -> value as typed.
    scenario
        The validated scenario of this variant (``output.folder`` set to ``folder``).
    folder
        Where its plan folder ends up: ``<sweep folder>/<name>``.
    """

    index: int
    name: str
    overrides: dict[str, Any]
    texts: dict[str, str]
    scenario: Scenario
    folder: Path


def _split_values(text: str) -> list[str]:
    """Split ``text`` on commas that are not inside brackets, braces or quotes."""
    parts: list[str] = []
    depth, quote, current = 0, "", []
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_grid(spec: str) -> GridAxis:
    """Parse one ``KEY=V1,V2,...`` option.

    Parameters
    ----------
    spec
        The option's text, e.g. ``balance.potential.tolerance=0.03,0.05``.

    Returns
    -------
    GridAxis
        The key (not yet checked against the scenario model: see
        :func:`validate_key`) and its values.

    Raises
    ------
    ScenarioError
        No ``=``, an empty key part, an empty value, a value that is not YAML, or a
        value given twice.
    """
    key_text, sep, values_text = spec.partition("=")
    key_text = key_text.strip()
    if not sep or not key_text:
        raise ScenarioError(f"--grid {spec!r}: expected KEY=V1,V2,... (e.g. solver.seed=1,2,3)")
    key = tuple(part.strip() for part in key_text.split("."))
    if any(not part for part in key):
        raise ScenarioError(f"--grid {spec!r}: the key {key_text!r} has an empty part")
    texts = _split_values(values_text)
    if any(not t for t in texts):
        raise ScenarioError(f"--grid {spec!r}: empty value (values are separated by commas)")
    values = []
    for text in texts:
        try:
            values.append(yaml.safe_load(text))
        except yaml.YAMLError as exc:
            raise ScenarioError(
                f"--grid {key_text}: value {text!r} is not valid YAML: {exc}"
            ) from None
    if len(set(texts)) != len(texts):
        dup = next(t for t in texts if texts.count(t) > 1)
        raise ScenarioError(f"--grid {key_text}: the value {dup!r} is given twice")
    return GridAxis(key=key, values=tuple(values), texts=tuple(texts))


def _unwrap(annotation: Any) -> Any:
    """``X`` from ``X | None`` / ``Optional[X]``; unchanged otherwise."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is list:
        return "a list"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    name = getattr(annotation, "__name__", None)
    return f"a value ({name})" if name else "a value"


def validate_key(key: Sequence[str], base: dict[str, Any] | None = None) -> None:
    """Check that a dotted key names a setting of the scenario model.

    Parameters
    ----------
    key
        The key's parts, e.g. ``("constraints", "max_moved_potential")``.
    base
        The resolved raw base scenario. Where the model allows any name (a balance
        measure, a region), a name that is not in the base but close to one that is
        is taken for a typo (``balance.potentail`` -> ``balance.potential``); a name
        close to nothing (``balance.accounts``) adds a new entry.

    Raises
    ------
    ScenarioError
        An unknown key, with a did-you-mean and the keys known at that level; or a
        key that goes inside a value that has no keys (a number, a list).
    """
    dotted = ".".join(key)
    if tuple(key) in _RESERVED or tuple(key[:1]) in _RESERVED:
        raise ScenarioError(
            f"--grid {dotted}: set by the sweep (each variant's plan goes to "
            "<sweep folder>/<variant>); use --output for the sweep folder"
        )
    current: Any = Scenario
    raw: Any = base
    for depth, part in enumerate(key):
        here = ".".join(key[:depth]) or "the scenario"
        annotation = _unwrap(current)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = list(annotation.model_fields)
            if part not in fields:
                raise ScenarioError(
                    f"--grid {dotted}: unknown key{_suggest(part, fields, key[:depth])}"
                )
            current = annotation.model_fields[part].annotation
        elif typing.get_origin(annotation) is dict:
            known = list(raw) if isinstance(raw, dict) else []
            if known and part not in known:
                hint = did_you_mean(part, known)
                if hint:
                    raise ScenarioError(
                        f"--grid {dotted}: {part!r} is not in {here} of the scenario{hint}; "
                        f"it has {', '.join(map(str, known))}"
                    )
            current = typing.get_args(annotation)[1]
        else:
            raise ScenarioError(
                f"--grid {dotted}: {here} is {_kind(annotation)} and has no key {part!r}; "
                f"give the whole value with --grid {here}=..."
            )
        raw = raw.get(part) if isinstance(raw, dict) else None


def _suggest(word: str, fields: list[str], parent: Sequence[str]) -> str:
    """Did-you-mean for an unknown model key, with its full dotted path.

    Keys that start with the given word are all named (``constraints.max_moved`` ->
    ``max_moved_potential`` or ``max_moved_accounts``): difflib alone would pick one of
    them arbitrarily.
    """
    prefix = ".".join(parent) + "." if parent else ""
    starts = [f for f in fields if f.startswith(word)]
    if starts:
        names = " or ".join(f"'{prefix}{f}'" for f in starts)
        hint = f" (did you mean {names}?)"
    else:
        close = did_you_mean(word, fields)
        hint = close.replace("'", f"'{prefix}", 1) if close else ""
    return f"{hint}; known keys in {prefix[:-1] or 'the scenario'}: {', '.join(fields)}"


def _nest(key: Sequence[str], value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(key):
        out = {part: out}
    return out


def _short_keys(axes: Sequence[GridAxis]) -> list[str]:
    """The shortest dotted suffix of each key that is unique among the axes."""
    out = []
    for axis in axes:
        for n in range(1, len(axis.key) + 1):
            suffix = axis.key[-n:]
            if all(other is axis or other.key[-n:] != suffix for other in axes):
                out.append(".".join(suffix))
                break
        else:
            out.append(axis.dotted)
    return out


def variant_names(axes: Sequence[GridAxis]) -> list[str]:
    """Names of the variants of ``axes``, in product order.

    ``v{index}_{key}={value}_...`` with the index zero-padded to the width of the
    count (at least two digits), each key shortened to its last part (or more parts
    when two axes share a last part), and every run of characters that are unsafe in
    a file name replaced by ``-`` (an empty list or mapping reads ``empty``). The index
    keeps names unique even after truncation.
    """
    keys = _short_keys(axes)
    combos = list(itertools.product(*(axis.texts for axis in axes)))
    width = max(2, len(str(len(combos))))
    names = []
    for i, texts in enumerate(combos, start=1):
        parts = [f"v{i:0{width}d}"]
        parts += [f"{k}={_safe_value(t)}" for k, t in zip(keys, texts, strict=True)]
        names.append("_".join(parts)[:_MAX_NAME])
    return names


def _safe_value(text: str) -> str:
    """A value as typed, made safe for a file name (``[{rep: R06}]`` -> ``rep-R06``)."""
    return _UNSAFE.sub("-", text).strip("-.") or "empty"


def expand_grid(axes: Sequence[GridAxis]) -> list[dict[str, tuple[Any, str]]]:
    """The cartesian product of ``axes``: per variant, dotted key -> (value, text).

    The first axis varies slowest, as in :func:`itertools.product`.
    """
    if not axes:
        return [{}]
    seen: set[str] = set()
    for axis in axes:
        if axis.dotted in seen:
            raise ScenarioError(f"--grid {axis.dotted} is given twice; list all its values once")
        seen.add(axis.dotted)
    dotted = [axis.dotted for axis in axes]
    combos = itertools.product(*(list(zip(a.values, a.texts, strict=True)) for a in axes))
    return [dict(zip(dotted, combo, strict=True)) for combo in combos]


def build_variants(
    base_raw: dict[str, Any],
    axes: Sequence[GridAxis],
    sweep_dir: Path,
    *,
    source: Path,
) -> list[Variant]:
    """Validate every variant of the grid before anything runs.

    Parameters
    ----------
    base_raw
        The base scenario as :func:`territory_engine.config.load.resolve_raw` returns
        it (``extends`` merged, paths absolute), with any sweep-wide override (such as
        ``--time-limit``) already applied.
    axes
        The parsed ``--grid`` options.
    sweep_dir
        The sweep folder; variant ``v`` writes its plan to ``sweep_dir / v.name``.
    source
        The scenario file (for messages, and to resolve relative paths in overrides
        such as ``data.accounts``).

    Returns
    -------
    list of Variant
        In product order. Each keeps the base scenario's seed unless ``solver.seed``
        is a grid key.

    Raises
    ------
    ScenarioError
        An unknown key (did-you-mean) or a value the model rejects; the message names
        the variant and its settings.
    """
    for axis in axes:
        validate_key(axis.key, base_raw)
    names = variant_names(axes)
    sweep_dir = Path(sweep_dir).resolve()
    variants = []
    for index, (name, combo) in enumerate(zip(names, expand_grid(axes), strict=True), start=1):
        override: dict[str, Any] = {}
        for dotted, (value, _) in combo.items():
            override = deep_merge(override, _nest(dotted.split("."), value))
        # Paths given in an override are relative to the scenario file, as in YAML.
        override = absolutise_paths(override, source.parent)
        raw = deep_merge(base_raw, override)
        label = ", ".join(f"{k}={t}" for k, (_, t) in combo.items())
        if "name" not in override and label:
            raw["name"] = f"{raw.get('name', source.stem)} [{label}]"
        raw = deep_merge(raw, {"output": {"folder": str(sweep_dir / name)}})
        try:
            scenario = Scenario.model_validate(raw)
        except ValidationError as exc:
            detail = explain_validation(exc, source).removeprefix(f"{source}: ")
            raise ScenarioError(f"{source}: variant {name} ({label}): {detail}") from None
        for section, key in PATH_KEYS:
            file = getattr(getattr(scenario, section), key)
            if section == "data" and file is not None and not Path(file).exists():
                raise ScenarioError(f"{source}: variant {name}: {section}.{key} not found: {file}")
        variants.append(
            Variant(
                index=index,
                name=name,
                overrides={k: v for k, (v, _) in combo.items()},
                texts={k: t for k, (_, t) in combo.items()},
                scenario=scenario,
                folder=sweep_dir / name,
            )
        )
    return variants
