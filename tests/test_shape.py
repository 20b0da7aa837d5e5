"""The library's shape: the public API, no loose modules, short functions."""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

import territory_engine as te

PACKAGE = Path(te.__file__).resolve().parent

#: The longest function body (lines, docstring excluded) the code base allows.
MAX_BODY_LINES = 80


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if not body:
        return 0
    end = node.end_lineno or body[-1].lineno
    return end - body[0].lineno + 1


def test_no_function_body_is_longer_than_80_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = _body_lines(node)
                if lines > MAX_BODY_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} {lines}")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_body_length_counts_statements_not_the_docstring():
    tree = ast.parse('def f():\n    """Doc.\n\n    More.\n    """\n    a = 1\n    return a\n')
    assert _body_lines(tree.body[0]) == 2


def test_no_loose_modules_at_the_top_level():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "errors.py"]


@pytest.mark.parametrize("name", sorted(set(te.__all__) - {"__version__"}))
def test_every_public_name_is_a_function_or_class_not_a_module(name):
    # Importing the solve or partition package later must not rebind te.solve or
    # te.partition to the package (the function names bind after the packages).
    importlib.import_module("territory_engine.solve.align")
    importlib.import_module("territory_engine.partition.run")
    value = getattr(te, name)
    assert not isinstance(value, types.ModuleType)
    assert value.__module__.startswith("territory_engine.")


def test_solve_and_partition_are_the_functions():
    from territory_engine.partition.run import partition
    from territory_engine.solve.align import solve

    assert te.solve is solve
    assert te.partition is partition
