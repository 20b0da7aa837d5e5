"""The library's shape: the public API, no loose modules, short functions."""

from __future__ import annotations

import ast
import importlib
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
def test_every_public_name_resolves_to_its_module(name):
    value = getattr(te, name)
    module = importlib.import_module(te._EXPORTS[name])
    assert getattr(module, name) is value


def test_unknown_public_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'run_scenarios'"):
        _ = te.run_scenarios


def test_importing_the_package_does_not_load_the_solver():
    import subprocess
    import sys

    code = (
        "import sys, territory_engine as te; "
        "print(any(m.startswith(('ortools', 'geopandas', 'territory_engine.solve')) "
        "for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
