"""Shared fixtures of the end-to-end tests: the sample, and the baseline solved once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data"
BASELINE_SCENARIO = REPO_ROOT / "scenarios" / "fy_baseline.yaml"

# Id columns stay strings (FIPS "01001" keeps its zero); empty cells stay "".
_ACCOUNT_TEXT = ("account_id", "county_fips", "segment", "current_rep_id", "parent_account_id")
_REP_TEXT = ("rep_id", "name", "segment")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def baseline_scenario_file() -> Path:
    return BASELINE_SCENARIO


@pytest.fixture(scope="session")
def sample_accounts() -> pd.DataFrame:
    """``data/accounts.csv`` as pandas reads it plainly (read-only: do not mutate)."""
    return pd.read_csv(
        SAMPLE_DIR / "accounts.csv",
        dtype=dict.fromkeys(_ACCOUNT_TEXT, str),
        keep_default_na=False,
    )


@pytest.fixture(scope="session")
def sample_reps() -> pd.DataFrame:
    """``data/reps.csv`` as pandas reads it plainly (read-only: do not mutate)."""
    return pd.read_csv(
        SAMPLE_DIR / "reps.csv", dtype=dict.fromkeys(_REP_TEXT, str), keep_default_na=False
    )


@pytest.fixture(scope="session")
def baseline(baseline_scenario_file):
    """The validated baseline scenario."""
    from territory_engine.config import load_scenario

    return load_scenario(baseline_scenario_file)


@pytest.fixture(scope="session")
def plan_dir(baseline, baseline_scenario_file, tmp_path_factory) -> Path:
    """The baseline solved once per test session (about 10 s); read-only."""
    from territory_engine.pipeline.run import run_scenario

    out = tmp_path_factory.mktemp("baseline") / "fy_baseline"
    result = run_scenario(baseline, output=out, source=baseline_scenario_file)
    assert result.plan_dir == out.resolve()
    return out
