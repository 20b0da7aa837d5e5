"""Large inputs: a table above the documented limit fails in one line, before parsing.

The limits (:data:`~territory_engine.io.tables.MAX_TABLE_ROWS`,
:data:`~territory_engine.io.tables.MAX_TABLE_BYTES`) are monkeypatched small, so
the sample's 6,000 accounts stand in for a table of millions; the real
1,000,000-row load is measured by ``benchmarks/large_inputs.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from territory_engine.cli.main import app
from territory_engine.config.segments import canonical_spellings, distinct
from territory_engine.errors import InputError
from territory_engine.io import tables
from territory_engine.io.accounts import read_accounts
from territory_engine.io.segments import segment_column

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = ROOT / "data" / "accounts.csv"
N_ACCOUNTS = 6000


def _never_parse(*args, **kwargs):
    raise AssertionError("the file was parsed although it is above the limit")


def test_a_csv_at_the_row_limit_loads_and_one_row_more_fails(monkeypatch):
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", N_ACCOUNTS)
    assert len(read_accounts(ACCOUNTS)) == N_ACCOUNTS
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", N_ACCOUNTS - 1)
    monkeypatch.setattr(tables.pd, "read_csv", _never_parse)
    with pytest.raises(InputError, match="too large") as err:
        read_accounts(ACCOUNTS)
    message = str(err.value)
    assert message.startswith(f"{ACCOUNTS}: the accounts table is too large")
    assert "more than 5,999 lines below the header" in message
    assert "the limit is 5,999 rows" in message and "\n" not in message


def test_the_last_line_counts_without_its_newline(tmp_path, monkeypatch):
    text = ACCOUNTS.read_text(encoding="utf-8").rstrip("\n")
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", N_ACCOUNTS - 1)
    with pytest.raises(InputError, match="too large"):
        read_accounts(path)
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", N_ACCOUNTS)
    assert len(read_accounts(path)) == N_ACCOUNTS


def test_a_csv_above_the_byte_limit_fails_before_counting(monkeypatch):
    monkeypatch.setattr(tables, "MAX_TABLE_BYTES", 100_000)
    monkeypatch.setattr(tables, "_csv_lines_above", _never_parse)
    with pytest.raises(InputError, match=r"too large: 603\.0 KiB; .* 97\.7 KiB per CSV"):
        read_accounts(ACCOUNTS)


def test_parquet_rows_are_counted_from_its_metadata(tmp_path, monkeypatch):
    path = tmp_path / "accounts.parquet"
    pd.read_csv(ACCOUNTS, dtype=str, keep_default_na=False).head(50).to_parquet(path)
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", 49)
    monkeypatch.setattr(tables.pd, "read_parquet", _never_parse)
    with pytest.raises(InputError, match="too large: 50 rows"):
        read_accounts(path)


def test_the_command_fails_in_one_line_with_exit_2_and_writes_nothing(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        (ROOT / "scenarios" / "fy_baseline.yaml")
        .read_text(encoding="utf-8")
        .replace("../data/", f"{data}/")
        .replace("../out/", f"{tmp_path}/out/"),
        encoding="utf-8",
    )
    monkeypatch.setattr(tables, "MAX_TABLE_ROWS", 1000)
    result = CliRunner().invoke(app, ["run", str(scenario), "--no-store"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "accounts.csv: the accounts table is too large" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_segments_are_unified_once_per_distinct_value():
    # The loader maps each distinct spelling, not each row: same answer, first spelling wins.
    values = pd.Series(["SMB", "smb ", "Enterprise", "S M B", "enterprise", "SMB"], dtype=str)
    assert distinct(values) == ["SMB", "smb ", "Enterprise", "S M B", "enterprise"]
    assert distinct(iter(["b", "a", "b"])) == ["b", "a"]
    spellings = {"smb": "SMB", "enterprise": "Enterprise", "s m b": "S M B"}
    assert canonical_spellings(values) == spellings
    frame = pd.DataFrame({"account_id": list("abcdef"), "segment": values})
    out = segment_column(frame, file="x.csv", id_column="account_id")
    assert list(out) == ["SMB", "SMB", "Enterprise", "S M B", "Enterprise", "SMB"]
