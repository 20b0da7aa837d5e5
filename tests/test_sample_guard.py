"""The redesign guard: every sample scenario's plan files keep their recorded SHA-256."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import sample_guard  # noqa: E402


@pytest.mark.slow
def test_sample_plans_are_byte_identical_to_the_recorded_ones():
    recorded = json.loads(sample_guard.GUARD_FILE.read_text(encoding="utf-8"))
    if recorded["versions"] != sample_guard.versions():
        pytest.skip(f"digests recorded with {recorded['versions']}; re-record after an upgrade")
    paths = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert sorted(recorded["digests"]) == [p.name for p in paths]
    assert sample_guard.differences(recorded, sample_guard.digests(paths)) == []


def test_differences_name_each_changed_file():
    recorded = {"digests": {"a.yaml": {"assignments.csv": "1", "quotas.csv": "2"}}}
    measured = {"a.yaml": {"assignments.csv": "1", "quotas.csv": "3"}}
    assert sample_guard.differences(recorded, measured) == ["a.yaml quotas.csv"]
    assert sample_guard.differences(recorded, {}) == ["a.yaml assignments.csv", "a.yaml quotas.csv"]
