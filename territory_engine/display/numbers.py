"""Numbers as text: money, percentages, plain numbers and distances.

One home for the small formatters that quota explanations, CLI tables and the
plan map use, so that "$1,234" or "+12.5 %" is spelled the same way wherever it
appears. Every function is pure and takes any scalar: ``None``, NaN, pandas'
``NA``/``NaT`` and anything :class:`float` cannot read are *missing* and come out
as ``missing`` (an en dash, ``"–"``, by default). Nothing here imports pandas or
numpy.

The variants, and what they print:

=====================================================  ==============  ===========
call                                                   ``1234.5``      ``-0.25``
=====================================================  ==============  ===========
``money(x)``                                           ``$1,234``      ``$-0``
``money(x, signed=True)``                              ``+$1,234``     ``−$0``
``percent(x)``                                         ``123450.0 %``  ``-25.0 %``
``percent(x, signed=True, digits=0)``                  ``+123450 %``   ``-25 %``
``percent(x, scale=1, signed=True, true_minus=True)``  ``+1234.5 %``   ``−0.2 %``
``number(x)``                                          ``1,234``       ``-0.25``
``number(x, 1, grouping=False)``                       ``1234.5``      ``-0.2``
``km(x)``                                              ``1,234.5 km``  ``-0.2 km``
``travel(x, "min")``                                   ``1,234.5 min`` ``-0.2 min``
=====================================================  ==============  ===========

(``−`` is U+2212 MINUS SIGN; ``-`` the ASCII hyphen-minus that Python's format
specs write. Rounding is Python's: an exact half goes to the even digit, so
``1234.5`` is ``$1,234``.)
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MINUS", "MISSING", "as_number", "km", "money", "number", "percent", "travel"]

MISSING = "–"
"""What a missing value prints as: U+2013 EN DASH."""

MINUS = "−"
"""U+2212 MINUS SIGN, which reads better than a hyphen next to digits."""


def as_number(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing.

    Parameters
    ----------
    value
        Any scalar: a Python or NumPy number, a numeric string, ``None``,
        NaN, pandas' ``NA`` or ``NaT``.

    Returns
    -------
    float or None
        ``None`` for ``None``, NaN and anything :class:`float` rejects;
        infinities are numbers.

    Examples
    --------
    >>> as_number("2.5"), as_number(float("nan")), as_number(None)
    (2.5, None, None)
    """
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if math.isnan(v) else v


def _minus(text: str, true_minus: bool) -> str:
    return text.replace("-", MINUS) if true_minus else text


def money(
    value: Any, *, signed: bool = False, true_minus: bool = False, missing: str = MISSING
) -> str:
    """An amount in whole dollars with thousands separators.

    Parameters
    ----------
    value
        The amount in dollars.
    signed
        ``False``: ``f"${x:,.0f}"``, so a negative amount reads ``$-1,234``.
        ``True``: an adjustment, ``+$1,234`` or ``−$1,234`` with a true minus
        sign; the sign is that of ``value`` itself (``-0.3`` is ``−$0``,
        ``0`` and ``-0.0`` are ``+$0``).
    true_minus
        Unsigned style for pages: ``$1,234`` and ``−$1,234`` (U+2212 before the
        dollar sign; ``-0.0`` is ``$0``).
    missing
        Text for a missing value.

    Returns
    -------
    str

    Examples
    --------
    >>> money(1234567.5), money(-42.0, signed=True), money(None)
    ('$1,234,568', '−$42', '–')
    """
    v = as_number(value)
    if v is None:
        return missing
    if signed:
        return f"{MINUS if v < 0 else '+'}${abs(v):,.0f}"
    if true_minus:
        return f"{MINUS if v < 0 else ''}${abs(v):,.0f}"
    return f"${v:,.0f}"


def percent(
    value: Any,
    *,
    digits: int = 1,
    signed: bool = False,
    scale: float = 100.0,
    true_minus: bool = False,
    missing: str = MISSING,
) -> str:
    """A percentage followed by a space and ``%``, e.g. ``12.5 %``.

    Parameters
    ----------
    value
        A fraction (``0.125`` for 12.5 %); with ``scale=1`` a number already
        in percent.
    digits
        Decimals shown.
    signed
        Always show the sign (``+12 %``, ``-3 %``; ``+0 %`` for zero).
    scale
        Multiplier from ``value`` to percent points: 100 for a fraction, 1
        for percent units.
    true_minus
        Write a negative sign as U+2212 rather than a hyphen (``−3.0 %``).
        A value that rounds to zero keeps the sign it had, ``−0.0 %``.
    missing
        Text for a missing value.

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.125), percent(-0.2, signed=True, digits=0)
    ('12.5 %', '-20 %')
    >>> percent(-3.0, scale=1, signed=True, true_minus=True)
    '−3.0 %'
    """
    v = as_number(value)
    if v is None:
        return missing
    spec = f"{'+' if signed else ''}.{digits}f"
    return _minus(f"{format(scale * v, spec)} %", true_minus)


def number(
    value: Any,
    digits: int | None = None,
    *,
    scale: float = 1.0,
    grouping: bool = True,
    missing: str = MISSING,
) -> str:
    """A plain number, with thousands separators unless ``grouping`` is off.

    Parameters
    ----------
    value
        The number.
    digits
        Decimals shown. ``None``: none for a whole number or one of magnitude
        100 or more, else two (``1,234``, ``12``, ``3.14``).
    scale
        Multiplier applied first (100 shows a fraction in percent points,
        without a ``%`` sign).
    grouping
        Thousands separators (``1,234``) or none (``1234``).
    missing
        Text for a missing value.

    Returns
    -------
    str

    Examples
    --------
    >>> number(1234.5), number(3.14159), number(0.123, 1, scale=100, grouping=False)
    ('1,234', '3.14', '12.3')
    """
    v = as_number(value)
    if v is None:
        return missing
    v = scale * v
    if digits is None:
        digits = 0 if abs(v) >= 100 or v == int(v) else 2
    return format(v, f"{',' if grouping else ''}.{digits}f")


def km(value: Any, digits: int = 1, *, missing: str = MISSING) -> str:
    """A distance in kilometres: ``1,234.5 km``.

    Parameters
    ----------
    value
        The distance in km.
    digits
        Decimals shown.
    missing
        Text for a missing value (no unit is appended to it).

    Returns
    -------
    str

    Examples
    --------
    >>> km(12.345), km(None)
    ('12.3 km', '–')
    """
    v = as_number(value)
    return missing if v is None else f"{v:,.{digits}f} km"


def travel(value: Any, unit: str = "km", digits: int = 1, *, missing: str = MISSING) -> str:
    """A travel figure in its unit: ``12.3 km``, or ``45.0 min`` for given travel times.

    Parameters
    ----------
    value
        The travel, in ``unit``.
    unit
        ``"km"`` (great-circle distance) or ``"min"`` (a scenario's travel times).
    digits
        Decimals shown.
    missing
        Text for a missing value (no unit is appended to it).

    Examples
    --------
    >>> travel(12.345), travel(45, "min")
    ('12.3 km', '45.0 min')
    """
    v = as_number(value)
    return missing if v is None else f"{v:,.{digits}f} {unit}"
