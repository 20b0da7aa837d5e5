"""The revenue history reader: long and wide tables, and errors naming row, account and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_engine.errors import InputError
from territory_engine.io.history import read_history

ROOT = Path(__file__).resolve().parents[2]
IDS = ["A1", "A2", "A3"]


def _write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_long_table_becomes_a_dense_matrix_in_the_accounts_order(tmp_path):
    path = _write(
        tmp_path,
        "account_id,month,revenue\nA2,2026-01,10\nA1,2026-03,5.5\nA2,2026-02-01,0\n",
    )
    h = read_history(path, IDS)
    assert [str(m) for m in h.months] == ["2026-01", "2026-02", "2026-03"]
    # A month without a row is a month without revenue; A3 has none at all.
    np.testing.assert_allclose(h.revenue, [[0, 0, 5.5], [10, 0, 0], [0, 0, 0]])
    assert list(h.account_ids) == IDS


def test_wide_columns_end_the_month_before_the_plan_starts(tmp_path):
    path = _write(
        tmp_path,
        "account_id,name,revenue_m01,revenue_m02,revenue_m03\nA1,x,1,2,3\nA3,y,4,5,6\n",
    )
    h = read_history(path, IDS, plan_start=date(2027, 1, 1))
    assert [str(m) for m in h.months] == ["2026-10", "2026-11", "2026-12"]
    np.testing.assert_allclose(h.revenue, [[1, 2, 3], [0, 0, 0], [4, 5, 6]])


@pytest.mark.parametrize(
    ("body", "match", "row", "column"),
    [
        ("A9,2026-01,1\n", r"'A9' is not an account", 2, "account_id"),
        ("A1,2026-13,1\n", r"'2026-13' is not a month: write it as YYYY-MM", 2, "month"),
        ("A1,Jan 2026,1\n", r"'Jan 2026' is not a month", 2, "month"),
        ("A1,2026-01,-5\n", r"revenue -5 is negative", 2, "revenue"),
        ("A1,2026-01,abc\n", r"'abc' is not a number", 2, "revenue"),
        ("A1,2026-01,1\nA1,2026-01,2\n", r"account A1 has month 2026-01 twice", 3, "month"),
    ],
)
def test_bad_cells_name_the_file_row_and_column(tmp_path, body, match, row, column):
    path = _write(tmp_path, "account_id,month,revenue\n" + body)
    with pytest.raises(InputError, match=match) as info:
        read_history(path, IDS)
    assert info.value.row == row
    assert info.value.column == column
    assert str(path) in str(info.value)


def test_months_inside_the_plan_year_are_refused(tmp_path):
    path = _write(tmp_path, "account_id,month,revenue\nA1,2027-01,1\n")
    with pytest.raises(InputError, match=r"runs to 2027-01, but the plan starts 2027-01"):
        read_history(path, IDS, plan_start=date(2027, 1, 1))


def test_wide_columns_need_a_plan_start_and_no_gaps(tmp_path):
    path = _write(tmp_path, "account_id,revenue_m01,revenue_m02\nA1,1,2\n")
    with pytest.raises(InputError, match=r"need quota.plan_start"):
        read_history(path, IDS)
    gap = _write(tmp_path, "account_id,revenue_m01,revenue_m03\nA1,1,2\n", "gap.csv")
    with pytest.raises(InputError, match=r"missing: revenue_m02"):
        read_history(gap, IDS, plan_start=date(2027, 1, 1))


def test_a_long_table_without_revenue_says_which_column(tmp_path):
    path = _write(tmp_path, "account_id,month,amount\nA1,2026-01,1\n")
    with pytest.raises(InputError, match=r"missing column 'revenue'"):
        read_history(path, IDS)


def test_the_sample_history_agrees_with_last_year_revenue():
    # The bundled history's 2026 months sum to each account's last_year_revenue exactly.
    accounts = pd.read_csv(ROOT / "data" / "accounts.csv", dtype={"account_id": str})
    history = pd.read_csv(ROOT / "data" / "revenue_history.csv", dtype={"account_id": str})
    assert history["month"].min() == "2024-01" and history["month"].max() == "2026-12"
    assert (history["revenue"] >= 0).all()
    assert not history.duplicated(["account_id", "month"]).any()
    last = history[history["month"] >= "2026-01"].groupby("account_id")["revenue"].sum()
    lyr = accounts.set_index("account_id")["last_year_revenue"]
    np.testing.assert_array_equal(last.reindex(lyr.index).fillna(0).to_numpy(), lyr.to_numpy())
    # Churned (stop before 2026-12) and new (start after 2024-01) accounts are both present.
    span = history.groupby("account_id")["month"].agg(["min", "max"])
    assert (span["max"] < "2026-12").sum() > 100
    assert (span["min"] > "2024-01").sum() > 100
