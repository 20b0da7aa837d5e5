"""The examples of docs/api.md and the README run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(markdown: Path) -> dict[str, str]:
    """Each ```python block of ``markdown`` under the heading it follows."""
    text = markdown.read_text(encoding="utf-8")
    blocks: dict[str, str] = {}
    heading = ""
    for part in re.split(r"(?m)^(#+ .*)$", text):
        if part.startswith("#"):
            heading = part.lstrip("# ").strip()
            continue
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", part, flags=re.S)):
            blocks[f"{heading} {i}"] = block
    return blocks


API = python_blocks(ROOT / "docs" / "api.md")


@pytest.mark.parametrize("name", ["Solving a problem of your own 0", "Partitioning a graph 0"])
def test_api_doc_example_runs(name):
    namespace: dict = {}
    exec(compile(API[name], f"docs/api.md: {name}", "exec"), namespace)
    if "alignment" in namespace:
        assert namespace["alignment"].feasible
        assert namespace["np"].bincount(namespace["alignment"].assign).tolist() == [9, 9, 9, 9]
    if "result" in namespace:
        assert (namespace["result"].cut_edges, namespace["result"].feasible) == (4, True)


def test_readme_example_solves_the_sample_and_writes_only_when_asked(tmp_path, monkeypatch):
    block = python_blocks(ROOT / "README.md")["Python API 0"]
    monkeypatch.chdir(ROOT)
    target = tmp_path / "plan"
    namespace: dict = {}
    exec(
        compile(block.replace('"out/notebook_baseline"', repr(str(target))), "README", "exec"),
        namespace,
    )
    assert namespace["result"].feasible
    assert (target / "assignments.csv").is_file()
    assert namespace["result"].plan_dir == target.resolve()
