"""No import cycles among the modules of ``territory_engine``.

The import graph is built with :mod:`ast` from every module's source: every
``import`` and ``from ... import`` of ``territory_engine.*`` counts, at module level,
under ``if TYPE_CHECKING:`` and inside functions alike (an import deferred into a
function to dodge a cycle is still a cycle). A name that is a package resolves to its
``__init__.py``; ``from pkg import sub`` resolves to ``pkg.sub`` when ``sub`` is a
module. A package's ``__init__.py`` importing its own submodules (re-exporting them)
is not an edge of the graph: a package importing its children is not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import territory_engine

PACKAGE = "territory_engine"
PACKAGE_DIR = Path(territory_engine.__file__).resolve().parent

KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset()
"""Cycles tolerated for now, each as its modules in import order starting at the
alphabetically first one, e.g. ``("territory_engine.a", "territory_engine.b")`` for
``a -> b -> a``. Empty: every cycle fails the test. Add an exact cycle only with a
reason; a new cycle, or a known one that grows, still fails."""


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module below ``root`` (the directory of ``package``) by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(modules: dict[str, Path], name: str) -> bool:
    return modules[name].name == "__init__.py"


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may load (submodules included)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    return [source, *(f"{source}.{alias.name}" for alias in node.names)]


def _resolve(modules: dict[str, Path], name: str) -> str | None:
    """The module file ``name`` loads: itself, else its closest enclosing package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path = PACKAGE_DIR, package: str = PACKAGE) -> nx.DiGraph:
    """Module -> imported module, each edge with the ``lines`` of its import statements.

    ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to
    ``pkg`` (its ``__init__.py``). Edges from a package to its own submodules are left
    out (re-exports).
    """
    modules = module_files(root, package)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        is_package = _is_package(modules, module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            names = _imported_names(node, module, is_package)
            if isinstance(node, ast.ImportFrom) and len(names) > 1:
                # `from pkg import a, b`: the submodules a and b when they are modules,
                # else pkg itself (the names are attributes of its __init__).
                subs = [n for n in names[1:] if n in modules]
                names = subs if len(subs) == len(names) - 1 else [names[0], *subs]
            for name in names:
                if name != package and not name.startswith(package + "."):
                    continue
                target = _resolve(modules, name)
                if target is None or target == module:
                    continue
                if is_package and target.startswith(module + "."):
                    continue  # a package importing its children
                if graph.has_edge(module, target):
                    graph.edges[module, target]["lines"].append(node.lineno)
                else:
                    graph.add_edge(module, target, lines=[node.lineno])
    return graph


def _canonical(cycle: list[str]) -> tuple[str, ...]:
    start = cycle.index(min(cycle))
    return tuple(cycle[start:] + cycle[:start])


def import_cycles(graph: nx.DiGraph, limit: int = 50) -> list[tuple[str, ...]]:
    """The simple cycles of ``graph`` (at most ``limit`` per strongly connected part)."""
    found: set[tuple[str, ...]] = set()
    for part in nx.strongly_connected_components(graph):
        if len(part) < 2:
            continue
        for i, cycle in enumerate(nx.simple_cycles(graph.subgraph(part))):
            if i >= limit:
                break
            found.add(_canonical(cycle))
    return sorted(found)


def describe(graph: nx.DiGraph, cycle: tuple[str, ...]) -> str:
    """``a -> b (line 12) -> a (line 3)``, names shortened."""
    steps = [cycle[0]]
    for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        lines = ", ".join(str(n) for n in sorted(graph.edges[a, b]["lines"]))
        steps.append(f"{b} (imported by {a} at line {lines})")
    return " -> ".join(steps)


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = [c for c in import_cycles(graph) if c not in KNOWN_CYCLES]
    assert not cycles, "import cycles:\n" + "\n".join(describe(graph, c) for c in cycles)


def test_known_cycles_still_exist() -> None:
    """An allow-listed cycle that is gone is removed from the list, so it cannot come back."""
    stale = KNOWN_CYCLES - set(import_cycles(import_graph()))
    assert not stale, f"remove from KNOWN_CYCLES (fixed): {sorted(stale)}"


def test_graph_sees_every_kind_of_import() -> None:
    """Module-level, deferred and package imports are edges; re-exports are not."""
    graph = import_graph()
    # module level
    assert graph.has_edge("territory_engine.config.whatif", "territory_engine.config.scenario")
    assert graph.has_edge("territory_engine.io.load", "territory_engine.io.whatif")
    # inside a function (`run` imports load_scenario from the package)
    assert graph.has_edge("territory_engine.cli.main", "territory_engine.config")
    # a package's __init__ re-exporting its submodules adds no edge
    assert not graph.has_edge("territory_engine.config", "territory_engine.config.load")
    assert len(graph) > 50


def test_detects_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from pkg.a import A\n",
        "a.py": "from pkg.b import B\nA = 1\n",
        "b.py": "def f():\n    from pkg import a\n    return a\nB = 2\n",
        "sub/__init__.py": "from .c import C\n",
        "sub/c.py": "from pkg.sub import helper\nC = 3\n",
        "sub/helper.py": "import pkg.b\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = import_graph(pkg, "pkg")
    assert graph.has_edge("pkg.b", "pkg.a")  # `from pkg import a` is the module pkg.a
    assert graph.has_edge("pkg.sub.c", "pkg.sub.helper")
    assert not graph.has_edge("pkg.sub", "pkg.sub.c")  # re-export
    assert not graph.has_edge("pkg", "pkg.a")
    assert import_cycles(graph) == [("pkg.a", "pkg.b")]
    assert "pkg.a (imported by pkg.b at line 2)" in describe(graph, ("pkg.a", "pkg.b"))
