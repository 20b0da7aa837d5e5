"""US ZIP codes to points, offline: the centroid table of the ``zipcodes`` package.

No web geocoder is ever called: the package ships the USPS ZIP list with a
latitude and longitude for every code (PO-box and unique ZIPs included).

Spelling accepted (:func:`normalise_zip`): five digits (``30301``); ZIP+4
(``30301-1234`` or ``303011234``), of which the first five digits count; and
three or four digits, read as a ZIP that lost its leading zeros in a
spreadsheet (``2134`` -> ``02134``), because Excel stores ``02134`` as the
number 2134 unless the column is text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Hashable
from functools import lru_cache

import numpy as np
import pandas as pd

from territory_engine.io.tables import raise_for_rows

_ZIP = re.compile(r"^(\d{3,5})(?:-?(\d{4}))?$")


def normalise_zip(value: str) -> str | None:
    """The five-digit ZIP code `value` spells, or ``None`` when it is not a ZIP's spelling."""
    text = str(value).strip()
    match = _ZIP.match(text)
    if match is None:
        return None
    head, plus4 = match.groups()
    if plus4 is not None and len(head) != 5:
        return None  # "2134-5678" is ambiguous; "02134-5678" is not
    return head.zfill(5)


@lru_cache(maxsize=1)
def _centroids() -> dict[str, tuple[float, float]]:
    """ZIP code -> (lat, lon) of the package's table, read once per process."""
    import zipcodes

    return {z["zip_code"]: (float(z["lat"]), float(z["long"])) for z in zipcodes.list_all()}


def zip_points(
    frame: pd.DataFrame,
    rows: np.ndarray,
    *,
    column: str = "zip",
    file: str | os.PathLike[str],
    id_column: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of the ZIP code of each selected row.

    Parameters
    ----------
    frame
        The table; `column` holds text (see :func:`territory_engine.io.tables.as_text`).
    rows
        Boolean mask of the rows to place.
    column
        The ZIP code column.
    file
        The file the table was read from.
    id_column
        The column holding record ids, used to name the record in errors.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lat, lon)`` over all rows of `frame`, NaN outside `rows`.

    Raises
    ------
    InputError
        An empty, malformed or unknown ZIP code, naming the file, row, id and column.
    """
    mask = np.asarray(rows, dtype=bool)
    text = frame[column].astype(str)
    codes = text.map(normalise_zip)

    def check(bad: np.ndarray, describe: Callable[[Hashable], str]) -> None:
        raise_for_rows(frame, bad, file=file, column=column, id_column=id_column, describe=describe)

    check(
        mask & (text == "").to_numpy(),
        lambda _: "is empty and the row has no lat/lon; give a ZIP code or coordinates",
    )
    check(
        mask & codes.isna().to_numpy(),
        lambda label: (
            f"{text[label]!r} is not a US ZIP code; write 5 digits (30301) or ZIP+4 (30301-1234)"
        ),
    )
    table = _centroids()
    known = codes.map(lambda c: c in table if c is not None else False).to_numpy(dtype=bool)
    check(
        mask & ~known,
        lambda label: (
            f"ZIP code {text[label]!r} is not in the US ZIP table (zipcodes package); "
            "check it, or give lat/lon for this account"
        ),
    )
    lat = np.full(len(frame), np.nan)
    lon = np.full(len(frame), np.nan)
    for i in np.flatnonzero(mask):
        lat[i], lon[i] = table[codes.iloc[i]]
    return lat, lon


__all__ = ["normalise_zip", "zip_points"]
