"""The notebooks in ``notebooks/`` are stored without outputs and run here, so they never rot.

Each notebook is executed top to bottom with nbclient on a ``python3`` kernel of the
interpreter running the tests, writing into a temporary folder
(``TERRITORY_ENGINE_OUT``). A cell that raises fails the test. The walkthrough
solves the sample twice (about 30 s); the sweep runs four quick variants on a local
Dask cluster of two workers (about 20 s).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))


def _text(nb) -> str:
    """Every text and HTML output of an executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append(out["text"])
            data = out.get("data", {})
            parts += [str(data.get(k, "")) for k in ("text/plain", "text/html")]
    return "\n".join(parts)


def _execute(name: str, out_dir: Path, monkeypatch) -> object:
    # The kernel inherits this environment: the output folder, and the package on
    # its path even when the tests run from a checkout with PYTHONPATH=. (the kernel
    # starts in notebooks/, where "." is not the repository).
    monkeypatch.setenv("TERRITORY_ENGINE_OUT", str(out_dir))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return nb


def test_there_are_notebooks():
    assert {p.name for p in ALL} >= {"walkthrough.ipynb", "sweep.ipynb"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has outputs; clear them"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"


def test_the_kernel_is_this_interpreter():
    """``python3`` resolves to the Python running the tests (its packages, this checkout)."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    cmd = km.format_kernel_cmd()
    assert Path(cmd[0]).resolve() == Path(sys.executable).resolve()


def test_walkthrough_runs(tmp_path, monkeypatch):
    nb = _execute("walkthrough.ipynb", tmp_path, monkeypatch)
    text = _text(nb)
    assert "feasible: True" in text
    assert "max potential deviation" in text and "potential ±3 %" in text
    assert "accounts change rep between the two plans" in text
    for file in (
        "notebook_baseline/plan.json",
        "notebook_tight/plan.json",
        "notebook_compare/compare.html",
        "notebook_compare/moves.csv",
        "plans.sqlite",
    ):
        assert (tmp_path / file).is_file(), file
    pages = list((tmp_path / "notebook_reps").glob("rep_*.html"))
    assert len(pages) == 1 and "<iframe" in text


# 30 s of the default run; the sweep it drives is tested in tests/sweep (a real local
# cluster included), so the notebook itself runs with -m slow.
@pytest.mark.slow
def test_sweep_notebook_runs(tmp_path, monkeypatch):
    nb = _execute("sweep.ipynb", tmp_path, monkeypatch)
    text = _text(nb)
    assert "did you mean 'constraints.max_moved_potential'" in text
    assert "[4/4]" in text and "exit code 0" in text
    assert text.count('class="te-pareto"') >= 2  # the charts, non-dominated plans marked
    assert "territory-engine compare" in text
    sweep = tmp_path / "sweep_notebook"
    assert (sweep / "sweep.csv").is_file() and (sweep / "sweep.html").is_file()
    assert len([p for p in sweep.iterdir() if p.is_dir()]) == 4
    assert (tmp_path / "sweep_notebook_compare" / "compare.html").is_file()
