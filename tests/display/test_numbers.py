"""The shared formatters print exactly what the helpers they replaced printed."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from territory_engine.display import MINUS, MISSING, as_number, km, money, number, percent

MISSING_VALUES = [None, math.nan, np.float64("nan"), pd.NA, pd.NaT, "not a number"]


def test_the_marks_are_an_en_dash_and_a_true_minus():
    assert MISSING == "\u2013"
    assert MINUS == "\u2212"


@pytest.mark.parametrize("value", MISSING_VALUES)
def test_missing_values_print_the_missing_mark(value):
    assert as_number(value) is None
    assert money(value) == "–"
    assert money(value, signed=True) == "–"
    assert percent(value) == "–"
    assert number(value) == "–"
    assert km(value) == "–"
    assert money(value, missing="") == ""
    assert percent(value, missing="n/a") == "n/a"


def test_as_number_reads_numbers_and_numeric_text():
    assert as_number(np.int64(7)) == 7.0
    assert as_number("2.5") == 2.5
    assert as_number(math.inf) == math.inf


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234567.4, "$1,234,567"),
        (1234.5, "$1,234"),  # an exact half rounds to even
        (1235.5, "$1,236"),
        (0, "$0"),
        (0.4, "$0"),
        (-0.0, "$-0"),
        (-1234.0, "$-1,234"),  # f"${x:,.0f}": the sign after the dollar
        (np.float64(999.5), "$1,000"),
        (np.int64(5), "$5"),
    ],
)
def test_money(value, text):
    assert money(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (36098.2, "+$36,098"),
        (0.0, "+$0"),
        (-0.0, "+$0"),  # the sign of the value, not of its rounding
        (-0.3, "−$0"),
        (-468945.0, "−$468,945"),
    ],
)
def test_signed_money_uses_a_true_minus(value, text):
    assert money(value, signed=True) == text


# --------------------------------------------------------------------------- percent


@pytest.mark.parametrize(
    ("kwargs", "value", "text"),
    [
        ({}, 0.1234, "12.3 %"),
        ({}, -0.05, "-5.0 %"),
        ({}, 0, "0.0 %"),
        ({"digits": 0}, 0.85, "85 %"),
        ({"digits": 0}, 1.5, "150 %"),
        ({"signed": True, "digits": 0}, 0.25, "+25 %"),
        ({"signed": True, "digits": 0}, -0.1, "-10 %"),  # a hyphen, as f"{:+.0f}" writes
        ({"signed": True, "digits": 0}, 0.0, "+0 %"),
        ({"signed": True, "scale": 1, "true_minus": True}, 12.34, "+12.3 %"),
        ({"signed": True, "scale": 1, "true_minus": True}, -3.0, "−3.0 %"),
        ({"signed": True, "scale": 1, "true_minus": True}, -0.04, "−0.0 %"),
        ({"signed": True, "scale": 1, "true_minus": True}, 0.0, "+0.0 %"),
    ],
)
def test_percent(kwargs, value, text):
    assert percent(value, **kwargs) == text


# --------------------------------------------------------------------------- number and km


@pytest.mark.parametrize(
    ("args", "kwargs", "value", "text"),
    [
        ((), {}, 1234.567, "1,235"),  # 100 or more: no decimals
        ((), {}, 12.0, "12"),  # whole: no decimals
        ((), {}, 3.14159, "3.14"),
        ((), {}, -0.25, "-0.25"),
        ((), {}, 0, "0"),
        ((), {}, -250.0, "-250"),
        ((0,), {}, 12345.6, "12,346"),
        ((1,), {}, 1234.25, "1,234.2"),
        ((1,), {"grouping": False}, 1234.25, "1234.2"),
        ((0,), {"grouping": False}, -1234.5, "-1234"),
        ((1,), {"scale": 100, "grouping": False}, 0.1234, "12.3"),
        ((3,), {"grouping": False}, 0.12345, "0.123"),
    ],
)
def test_number(args, kwargs, value, text):
    assert number(value, *args, **kwargs) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.345, "12.3 km"), (1234.56, "1,234.6 km"), (0, "0.0 km"), (-1, "-1.0 km")],
)
def test_km(value, text):
    assert km(value) == text


def test_km_digits():
    assert km(12.346, 2) == "12.35 km"
    assert km(12.5, 0) == "12 km"


def test_importing_the_package_pulls_in_neither_pandas_nor_numpy():
    # Whatever territory_engine itself imports, territory_engine.display adds nothing heavy.
    code = (
        "import sys, territory_engine; before = set(sys.modules); "
        "import territory_engine.display; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    added = out.stdout.strip()
    assert "pandas" not in added and "numpy" not in added, added


def test_page_money_puts_a_true_minus_before_the_dollar_sign():
    from territory_engine.display.numbers import money

    assert money(-1234.4, true_minus=True) == "−$1,234"
    assert money(1234.5, true_minus=True) == "$1,234"
    assert money(-0.0, true_minus=True) == "$0"


def test_report_pages_format_through_display():
    from territory_engine.render.page import fmt_money, fmt_pct

    assert fmt_money(-2500) == "−$2,500"
    assert fmt_pct(-3.25, signed=True) == "−3.2 %"
    assert fmt_pct(None) == "–"
