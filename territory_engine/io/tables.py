"""Read a table from any supported format and check its cells, row by row.

Every loader goes through :func:`read_table`, then uses the helpers of this module
so that each error names the file, the row, the record's id and the column.

Row numbers
-----------
The frames returned by the loaders keep, as index, the 0-based position of each
record in the file (blank CSV lines are dropped but still counted), and
``frame.attrs`` holds the offset that turns it into the row a planner sees: 2 for
CSV (the header is row 1), 1 for the other formats (1-based feature number).
:func:`row_number` does the sum. The mapping survives filtering, copies and
column selection, but not ``reset_index``: keep the index. When a new frame is
built without the ``attrs``, :func:`row_number` returns ``None`` and messages fall
back to the record's id rather than showing a wrong row.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyogrio.errors
import pyproj
import shapely
import shapely.errors

from territory_engine.errors import InputError, did_you_mean
from territory_engine.io.columns import COLUMNS_ATTR, rename_columns, user_column_names
from territory_engine.io.excel import read_xlsx

ROW_OFFSET_ATTR = "territory_engine.row_offset"
"""Key of ``frame.attrs`` holding the offset from index label to displayed row."""

SOURCE_FILE_ATTR = "territory_engine.source_file"
"""Key of ``frame.attrs`` holding the path the frame was read from."""


_FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".geojson": "vector",
    ".json": "vector",
    ".gpkg": "vector",
    ".shp": "vector",
    ".xlsx": "excel",
}
_CSV_ROW_OFFSET = 2  # the header is row 1, so the first record is row 2
_FEATURE_OFFSET = 1  # features are numbered from 1
_MAX_EXACT_INT = 2**53  # floats above this are not exact integers

MAX_TABLE_ROWS = 5_000_000
"""Most data rows (CSV lines, Parquet rows, GeoPackage or shapefile features) of a table.

Five times the largest instance measured (one million accounts load in about 0.4 GB
above the interpreter, ``benchmarks/large_inputs.py``), so a table at the limit
still loads in a few GB. Checked from the file size, the line count or the file's
metadata, before anything is parsed."""

MAX_TABLE_BYTES = 2 * 1024**3
"""Largest CSV or Excel file (bytes) a table may be; polygon layers are not limited."""


def row_number(frame: pd.DataFrame, label: Hashable) -> int | None:
    """Return the row a planner sees for the record at index `label`.

    Parameters
    ----------
    frame
        A frame returned by :func:`read_table` or one of the loaders.
    label
        An index label of `frame`.

    Returns
    -------
    int or None
        The spreadsheet row (CSV) or 1-based feature number; ``None`` when the
        frame no longer carries its row mapping.
    """
    offset = frame.attrs.get(ROW_OFFSET_ATTR)
    if offset is None or isinstance(label, bool) or not isinstance(label, int | np.integer):
        return None
    return int(label) + int(offset)


def record_id(frame: pd.DataFrame, label: Hashable, id_column: str | None) -> str | None:
    """Return the id of the record at `label`, or ``None`` when unknown or empty."""
    if id_column is None or id_column not in frame.columns:
        return None
    value = frame.at[label, id_column]
    if pd.isna(value) or str(value).strip() == "":
        return None
    return str(value)


def raise_for_rows(
    frame: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    *,
    file: str | os.PathLike[str],
    column: str | None,
    id_column: str | None,
    describe: Callable[[Hashable], str],
) -> None:
    """Raise an :class:`InputError` for the first bad record, if there is one.

    Parameters
    ----------
    frame
        The table being checked.
    bad
        Boolean mask over the rows of `frame`.
    file
        The file the table was read from.
    column
        The column that holds the bad value.
    id_column
        The column holding record ids, used to name the record.
    describe
        Builds the message from the index label of the first bad record.

    Raises
    ------
    InputError
        When `bad` has any true value; the message counts the other bad rows.
    """
    mask = np.asarray(bad, dtype=bool)
    if not mask.any():
        return
    labels = frame.index[mask]
    first = labels[0]
    message = describe(first)
    more = len(labels) - 1
    if more:
        message += f" ({more} more row{'s' if more > 1 else ''} with the same problem)"
    raise InputError(
        message,
        file=str(file),
        row=row_number(frame, first),
        id=record_id(frame, first, id_column),
        column=column,
    )


def is_in(values: pd.Series | pd.Index, allowed: Iterable[str]) -> np.ndarray:
    """Boolean mask of the `values` found in `allowed`.

    ``Series.isin`` on pandas 3 string columns compares value by value in Python
    (half a second for 100,000 ids); a hash index does it in milliseconds.

    Parameters
    ----------
    values
        The values to look up.
    allowed
        The accepted values.

    Returns
    -------
    numpy.ndarray
        One bool per value.
    """
    if not isinstance(allowed, pd.Series | pd.Index | np.ndarray):
        allowed = list(allowed)
    index = pd.Index(pd.unique(np.asarray(allowed, dtype=object)))
    return index.get_indexer(np.asarray(values, dtype=object)) >= 0


def as_text(series: pd.Series) -> pd.Series:
    """Convert a column to stripped strings, with ``""`` for missing values.

    Integral floats lose their ``.0`` (an id stored as ``1001.0`` reads ``"1001"``),
    because GeoJSON and GeoPackage drivers turn integer columns with gaps into floats.

    Parameters
    ----------
    series
        Any column.

    Returns
    -------
    pandas.Series
        The same index, string values.
    """
    if pd.api.types.is_float_dtype(series):
        present = series.dropna()
        if ((present == np.floor(present)) & (present.abs() < _MAX_EXACT_INT)).all():
            series = series.astype("Int64")
    text = series.astype(object).where(series.notna(), "")
    return text.astype(str).str.strip()


def to_numbers(
    frame: pd.DataFrame,
    column: str,
    *,
    file: str | os.PathLike[str],
    id_column: str | None = None,
) -> pd.Series:
    """Convert a column to finite float64 values, or raise on the first bad cell.

    Parameters
    ----------
    frame
        The table, as returned by :func:`read_table`.
    column
        The column to convert; every cell must hold a number.
    file
        The file the table was read from.
    id_column
        The column holding record ids, used to name the record in errors.

    Returns
    -------
    pandas.Series
        float64 values with the index of `frame`.

    Raises
    ------
    InputError
        ``"is empty"``, ``"'abc' is not a number"`` or ``"'inf' is not a finite
        number"``, naming the row and the column.
    """
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
        empty = numbers.isna().to_numpy()
        text = numbers.astype(str)
        not_number = np.zeros(len(numbers), dtype=bool)
    else:
        text = as_text(values)
        numbers = pd.Series(
            pd.to_numeric(np.asarray(text, dtype=object), errors="coerce"),
            index=frame.index,
            dtype="float64",
        )
        empty = (text == "").to_numpy()
        # "nan" parses as NaN: report it as not finite rather than as not a number.
        spelled_nan = text.str.lower().str.lstrip("+-").eq("nan").to_numpy()
        not_number = numbers.isna().to_numpy() & ~empty & ~spelled_nan
    not_finite = ~np.isfinite(numbers.to_numpy()) & ~empty & ~not_number

    kwargs = {"file": file, "column": column, "id_column": id_column}
    raise_for_rows(frame, empty, describe=lambda _: "is empty; a number is required", **kwargs)
    raise_for_rows(
        frame,
        not_number,
        describe=lambda label: f"{text[label]!r} is not a number{_number_hint(text[label])}",
        **kwargs,
    )
    raise_for_rows(
        frame,
        not_finite,
        describe=lambda label: f"{text[label]!r} is not a finite number",
        **kwargs,
    )
    return numbers


def _number_hint(value: str) -> str:
    """Explain the usual spreadsheet habits that make a number unreadable."""
    if any(sign in value for sign in ",$€£%"):
        return " (write plain numbers such as 1234.5: no separators, currency or % signs)"
    return ""


def to_dates(
    frame: pd.DataFrame,
    column: str,
    *,
    file: str | os.PathLike[str],
    id_column: str | None = None,
) -> pd.Series:
    """Convert a column of ISO dates (``YYYY-MM-DD``) to datetime64.

    Parameters
    ----------
    frame
        The table, as returned by :func:`read_table`.
    column
        The column to convert; every cell must hold a date.
    file
        The file the table was read from.
    id_column
        The column holding record ids, used to name the record in errors.

    Returns
    -------
    pandas.Series
        datetime64 values with the index of `frame`.

    Raises
    ------
    InputError
        When a cell is empty or not an ISO date, naming the row and the column.
    """
    values = frame[column]
    kwargs = {"file": file, "column": column, "id_column": id_column}
    if pd.api.types.is_datetime64_any_dtype(values):
        # GeoPackage and Parquet store real dates; only gaps can be wrong.
        raise_for_rows(
            frame, values.isna(), describe=lambda _: "is empty; a date is required", **kwargs
        )
        return values
    text = as_text(values)
    dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    empty = text == ""
    raise_for_rows(frame, empty, describe=lambda _: "is empty; a date is required", **kwargs)
    raise_for_rows(
        frame,
        dates.isna() & ~empty,
        describe=lambda label: f"{text[label]!r} is not a date; write it as YYYY-MM-DD",
        **kwargs,
    )
    return dates


def check_ids(frame: pd.DataFrame, column: str, *, file: str | os.PathLike[str]) -> None:
    """Check that every record has an id and that no id is used twice.

    Parameters
    ----------
    frame
        The table; `column` already holds strings (see :func:`as_text`).
    column
        The id column.
    file
        The file the table was read from.

    Raises
    ------
    InputError
        On an empty id, or on a repeated id (naming the rows of both records).
    """
    ids = frame[column]
    empty = ids == ""
    raise_for_rows(
        frame,
        empty,
        file=file,
        column=column,
        id_column=None,
        describe=lambda _: f"{column} is empty; every record needs an id",
    )
    repeated = ids.duplicated(keep="first")

    def describe(label: Hashable) -> str:
        value = ids[label]
        earlier = [row_number(frame, other) for other in frame.index[ids == value]]
        earlier = [str(row) for row in earlier if row != row_number(frame, label)]
        rows = "row" if len(earlier) == 1 else "rows"
        return f"duplicate {column} {value!r} (also on {rows} {', '.join(earlier)})"

    raise_for_rows(frame, repeated, file=file, column=column, id_column=column, describe=describe)


def check_choice(
    frame: pd.DataFrame,
    column: str,
    allowed: Sequence[str],
    *,
    file: str | os.PathLike[str],
    id_column: str | None,
) -> pd.Series:
    """Check that a column only holds allowed words, ignoring case and spaces.

    Parameters
    ----------
    frame
        The table; `column` already holds strings.
    column
        The column to check.
    allowed
        The accepted values, in lower case.
    file
        The file the table was read from.
    id_column
        The column holding record ids, used to name the record in errors.

    Returns
    -------
    pandas.Series
        The values in lower case.

    Raises
    ------
    InputError
        On the first value that is not allowed, with a did-you-mean.
    """
    values = frame[column].str.strip().str.lower()
    choices = ", ".join(allowed)
    raise_for_rows(
        frame,
        ~is_in(values, allowed),
        file=file,
        column=column,
        id_column=id_column,
        describe=lambda label: (
            f"{frame.at[label, column]!r} is not one of {choices}"
            f"{did_you_mean(values[label], allowed)}"
        ),
    )
    return values


def check_known(
    frame: pd.DataFrame,
    column: str,
    known: Sequence[str] | pd.Series,
    *,
    file: str | os.PathLike[str],
    id_column: str | None,
    what: str,
    suggest: Sequence[str] | pd.Series | None = None,
    allow_empty: bool = False,
    hint: str = "",
) -> None:
    """Check that every value of ``column`` is one of ``known`` (an id of another table).

    Parameters
    ----------
    frame
        The table; ``column`` holds strings.
    column
        The column to check.
    known
        The accepted values.
    file
        The file the table was read from.
    id_column
        The column holding record ids, used to name the record in errors.
    what
        What a value must be, as it reads after "is not": ``"a rep of reps.csv"``.
    suggest
        The values a did-you-mean draws from (default: ``known``).
    allow_empty
        An empty cell is accepted.
    hint
        Text appended to the message (how to mend it).

    Raises
    ------
    InputError
        On the first unknown value, with a did-you-mean.
    """
    values = frame[column]
    bad = ~is_in(values, known)
    if allow_empty:
        bad &= (values != "").to_numpy()
    pool = known if suggest is None else suggest
    raise_for_rows(
        frame,
        bad,
        file=file,
        column=column,
        id_column=id_column,
        describe=lambda label: (
            f"{values[label]!r} is not {what}{did_you_mean(values[label], pool)}{hint}"
        ),
    )


def check_minimum(
    frame: pd.DataFrame,
    column: str,
    minimum: float,
    *,
    strict: bool = False,
    file: str | os.PathLike[str],
    id_column: str | None,
) -> None:
    """Check that a numeric column is ``>= minimum`` (``> minimum`` if `strict`).

    Parameters
    ----------
    frame
        The table; `column` already holds float64 values.
    column
        The column to check.
    minimum
        The bound.
    strict
        Whether the bound itself is rejected.
    file
        The file the table was read from.
    id_column
        The column holding record ids, used to name the record in errors.

    Raises
    ------
    InputError
        On the first value below the bound.
    """
    values = frame[column]
    bad = values <= minimum if strict else values < minimum
    sign = ">" if strict else ">="
    raise_for_rows(
        frame,
        bad,
        file=file,
        column=column,
        id_column=id_column,
        describe=lambda label: f"{values[label]:g} is not allowed; it must be {sign} {minimum:g}",
    )


def check_columns(
    frame: pd.DataFrame,
    required: Sequence[str],
    *,
    file: str | os.PathLike[str],
    kind: str,
    known: Iterable[str] = (),
) -> None:
    """Check that every required column is present.

    Parameters
    ----------
    frame
        The table.
    required
        The columns that must be present.
    file
        The file the table was read from.
    kind
        What the table holds (``"accounts"``, ``"reps"``...), for the message.
    known
        Other expected columns; they are never offered as a did-you-mean (a
        missing ``lat`` must not suggest the ``lon`` that is present).

    Raises
    ------
    InputError
        Naming each missing column, a close existing name when there is one, and
        the columns the table has.
    """
    missing = [name for name in required if name not in frame.columns]
    if not missing:
        return
    present = [str(name) for name in frame.columns if name != _geometry_name(frame)]
    expected = {*required, *known}
    candidates = [name for name in present if name not in expected]
    named = ", ".join(f"{name!r}{did_you_mean(name, candidates)}" for name in missing)
    noun = "column" if len(missing) == 1 else "columns"
    hint = ""
    if len(present) == 1 and ";" in present[0]:
        hint = "; the file looks separated by semicolons: save it with commas"
    elif frame.attrs.get(COLUMNS_ATTR):
        hint = f"; or name the file's column for it in data.columns.{kind}"
    raise InputError(
        f"missing {noun} {named}; the {kind} table has columns: {', '.join(present)}{hint}",
        file=str(file),
        column=missing[0] if len(missing) == 1 else None,
    )


def read_table(
    path: str | os.PathLike[str],
    *,
    kind: str,
    required: Sequence[str],
    id_column: str | None = None,
    numeric: Sequence[str] = (),
    dates: Sequence[str] = (),
    text: Sequence[str] = (),
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read a table and convert its known columns, with errors a planner can act on.

    Parameters
    ----------
    path
        A ``.csv``, ``.xlsx``, ``.parquet``, ``.geojson``/``.json``, ``.gpkg`` or
        ``.shp`` file.
    kind
        What the table holds (``"accounts"``, ``"reps"``...), for the messages.
    required
        Columns that must be present.
    id_column
        Column of record ids: converted to strings and used to name records in
        errors.
    numeric
        Columns converted to finite float64 when present (every cell required).
    dates
        Columns converted to datetime64 from ``YYYY-MM-DD`` when present.
    text
        Columns converted to stripped strings (``""`` when missing) when present.
    layer
        Layer of a GeoPackage; needed only when the file has several layers.
        Ignored for CSV and Parquet.
    columns
        Engine column name -> the file's header (``data.columns``): renamed on
        reading; errors name the file's header (:mod:`territory_engine.io.columns`).
    sheet
        Sheet of an ``.xlsx`` workbook (default: the first); ignored otherwise.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A GeoDataFrame when the file has a geometry column. CSV columns not
        listed stay strings. The index and ``attrs`` carry row numbers (see the
        module docstring and :func:`row_number`).

    Raises
    ------
    InputError
        When the file is missing, unreadable, of an unsupported type, empty,
        lacks a required column, or holds a bad value in a converted column.
    """
    path = Path(path)
    with user_column_names({str(path): columns or {}}), warnings.catch_warnings():
        # GDAL's warnings (an unknown srs_id...) would print under the one-line
        # error; what they warn of (no CRS) is checked and reported by the loaders.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        return _read_table(
            path,
            kind=kind,
            required=required,
            id_column=id_column,
            numeric=numeric,
            dates=dates,
            text=text,
            layer=layer,
            columns=columns,
            sheet=sheet,
        )


def _read_table(
    path: Path,
    *,
    kind: str,
    required: Sequence[str],
    id_column: str | None,
    numeric: Sequence[str],
    dates: Sequence[str],
    text: Sequence[str],
    layer: str | None,
    columns: Mapping[str, str] | None,
    sheet: str | None,
) -> pd.DataFrame | gpd.GeoDataFrame:
    """:func:`read_table` with the file's headers already mapped in messages."""
    _check_exists(path, kind)
    file_format = _format_of(path)
    _check_size(path, kind, file_format, layer)
    if file_format == "csv":
        frame, offset = _read_csv(path, kind), _CSV_ROW_OFFSET
    elif file_format == "excel":
        frame, offset = read_xlsx(path, kind, sheet), _CSV_ROW_OFFSET
    elif file_format == "parquet":
        frame, offset = _read_parquet(path), _FEATURE_OFFSET
    else:
        frame, offset = _read_vector(path, layer), _FEATURE_OFFSET
    frame.attrs[ROW_OFFSET_ATTR] = offset
    frame.attrs[SOURCE_FILE_ATTR] = str(path)
    frame = rename_columns(frame, columns, file=path, kind=kind)
    if len(frame) == 0:
        raise InputError(f"the {kind} table has no rows (only a header)", file=str(path))
    known = [*numeric, *dates, *text, *([id_column] if id_column else [])]
    check_columns(frame, required, file=path, kind=kind, known=known)
    for column in dict.fromkeys([*([id_column] if id_column else []), *text]):
        if column in frame.columns:
            frame[column] = as_text(frame[column])
    for column in numeric:
        if column in frame.columns:
            frame[column] = to_numbers(frame, column, file=path, id_column=id_column)
    for column in dates:
        if column in frame.columns:
            frame[column] = to_dates(frame, column, file=path, id_column=id_column)
    return frame


def keep_source(frame: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """Copy the row mapping of `source` onto `frame` (constructors drop ``attrs``)."""
    for key in (ROW_OFFSET_ATTR, SOURCE_FILE_ATTR, COLUMNS_ATTR):
        if key in source.attrs:
            frame.attrs[key] = source.attrs[key]
    return frame


def order_columns(frame: gpd.GeoDataFrame, columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Put `columns` first, the other attributes next and the geometry last."""
    extra = [name for name in frame.columns if name not in columns and name != "geometry"]
    return keep_source(frame[[*columns, *extra, "geometry"]], frame)


def has_geometry(frame: pd.DataFrame) -> bool:
    """Whether `frame` has an active geometry column with at least one geometry."""
    return (
        isinstance(frame, gpd.GeoDataFrame)
        and _geometry_name(frame) is not None
        and not shapely.is_missing(frame.geometry.array).all()
    )


def drop_geometry(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` as a plain DataFrame without its geometry column, if any."""
    name = _geometry_name(frame)
    plain = pd.DataFrame(frame.drop(columns=[name]) if name is not None else frame)
    return keep_source(plain, frame)


def require_crs(frame: gpd.GeoDataFrame, *, file: str | os.PathLike[str]) -> None:
    """Raise when a layer has no coordinate reference system."""
    if frame.crs is None:
        raise InputError(
            "the layer has no CRS; set one (e.g. EPSG:4326)", file=str(file), column="geometry"
        )
    try:
        pyproj.Transformer.from_crs(frame.crs, "EPSG:4326", always_xy=True)
    except pyproj.exceptions.ProjError:
        # A GeoPackage's "undefined Cartesian" SRS (srs_id -1) is a CRS with no datum.
        raise InputError(
            f"the layer's CRS ({frame.crs.name}) cannot be converted to longitude/latitude; "
            "give the layer a real CRS (e.g. EPSG:4326)",
            file=str(file),
            column="geometry",
        ) from None


def check_lonlat_bounds(
    frame: gpd.GeoDataFrame, *, file: str | os.PathLike[str], id_column: str | None
) -> None:
    """Check that every geometry of a layer in EPSG:4326 lies within longitude/latitude.

    A polygon reaching latitude 1e300 (a damaged file, or a layer whose CRS is
    wrong) would break every projection made from it later.

    Raises
    ------
    InputError
        On the first feature with a coordinate that is not finite or out of range.
    """
    bounds = frame.geometry.bounds
    minx, miny, maxx, maxy = (bounds[name].to_numpy() for name in ("minx", "miny", "maxx", "maxy"))
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(minx) & np.isfinite(miny) & np.isfinite(maxx) & np.isfinite(maxy)
        inside = (minx >= -180) & (maxx <= 180) & (miny >= -90) & (maxy <= 90)
    empty = frame.geometry.is_empty.to_numpy()
    raise_for_rows(
        frame,
        ~empty & ~(finite & inside),
        file=file,
        column="geometry",
        id_column=id_column,
        describe=lambda label: (
            f"geometry reaches longitude {bounds.at[label, 'minx']:g}..{bounds.at[label, 'maxx']:g}"
            f", latitude {bounds.at[label, 'miny']:g}..{bounds.at[label, 'maxy']:g}, outside "
            "[-180, 180] x [-90, 90]; check the feature and the layer's CRS"
        ),
    )


def check_geometry_types(
    frame: gpd.GeoDataFrame,
    allowed: Sequence[str],
    *,
    noun: str,
    file: str | os.PathLike[str],
    id_column: str | None,
) -> None:
    """Check that every feature has a non-empty geometry of an allowed type.

    Parameters
    ----------
    frame
        The layer.
    allowed
        Accepted geometry type names, e.g. ``("Point",)``.
    noun
        What the geometry should be, for the message (``"a point"``).
    file
        The file the layer was read from.
    id_column
        The column holding record ids, used to name the record in errors.

    Raises
    ------
    InputError
        On a missing, wrongly typed or empty geometry.
    """
    geometry = frame.geometry
    kwargs = {"file": file, "column": "geometry", "id_column": id_column}
    raise_for_rows(
        frame,
        shapely.is_missing(geometry.array),
        describe=lambda _: f"has no geometry; it must be {noun}",
        **kwargs,
    )
    types = geometry.geom_type
    raise_for_rows(
        frame,
        ~is_in(types, allowed),
        describe=lambda label: f"geometry is a {types[label]}, not {noun}",
        **kwargs,
    )
    raise_for_rows(
        frame,
        geometry.is_empty,
        describe=lambda _: f"geometry is empty; it must be {noun}",
        **kwargs,
    )


def points_from_table(
    frame: pd.DataFrame,
    *,
    lat: str,
    lon: str,
    file: str | os.PathLike[str],
    kind: str,
    id_column: str,
) -> gpd.GeoDataFrame:
    """Build WGS84 points from a point geometry, or else from latitude/longitude columns.

    Parameters
    ----------
    frame
        The table from :func:`read_table`.
    lat, lon
        Names of the latitude and longitude columns; filled from the geometry
        when the table has one.
    file
        The file the table was read from.
    kind
        What the table holds, for the messages.
    id_column
        The column holding record ids, used to name the record in errors.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, with float64 `lat` and `lon` columns and a ``geometry``
        column of points.

    Raises
    ------
    InputError
        On a missing or non-numeric coordinate, a coordinate out of range, a layer
        without CRS or a geometry that is not a point.
    """
    if has_geometry(frame):
        return _points_from_geometry(frame, lat=lat, lon=lon, file=file, id_column=id_column)
    frame = drop_geometry(frame)
    check_columns(frame, [lat, lon], file=file, kind=kind)
    frame[lat] = to_numbers(frame, lat, file=file, id_column=id_column)
    frame[lon] = to_numbers(frame, lon, file=file, id_column=id_column)
    _check_ranges(frame, frame[lat], frame[lon], lat=lat, lon=lon, file=file, id_column=id_column)
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame[lon], frame[lat]), crs="EPSG:4326"
    )
    return keep_source(points, frame)


def _points_from_geometry(
    frame: gpd.GeoDataFrame, *, lat: str, lon: str, file: str | os.PathLike[str], id_column: str
) -> gpd.GeoDataFrame:
    """Take points from the layer's geometry, reprojected to EPSG:4326."""
    require_crs(frame, file=file)
    check_geometry_types(frame, ("Point",), noun="a point", file=file, id_column=id_column)
    points = frame.to_crs("EPSG:4326")
    if points.geometry.name != "geometry":
        points = points.rename_geometry("geometry")
    lon_values = pd.Series(points.geometry.x, index=points.index, dtype="float64")
    lat_values = pd.Series(points.geometry.y, index=points.index, dtype="float64")
    finite = np.isfinite(lon_values) & np.isfinite(lat_values)
    raise_for_rows(
        points,
        ~finite,
        file=file,
        column="geometry",
        id_column=id_column,
        describe=lambda _: "point cannot be converted to longitude/latitude; check the layer's CRS",
    )
    _check_ranges(
        points,
        lat_values,
        lon_values,
        lat="geometry",
        lon="geometry",
        file=file,
        id_column=id_column,
    )
    points[lat] = lat_values
    points[lon] = lon_values
    return keep_source(points, frame)


def _check_ranges(
    frame: pd.DataFrame,
    lat_values: pd.Series,
    lon_values: pd.Series,
    *,
    lat: str,
    lon: str,
    file: str | os.PathLike[str],
    id_column: str,
) -> None:
    """Check latitudes in [-90, 90] and longitudes in [-180, 180]."""

    def swapped(label: Hashable) -> str:
        # A latitude beyond 90 with a longitude that would be a fine latitude is
        # almost always the two columns exchanged.
        if abs(lon_values[label]) <= 90:
            return " (are latitude and longitude swapped?)"
        return ""

    raise_for_rows(
        frame,
        lat_values.abs() > 90,
        file=file,
        column=lat,
        id_column=id_column,
        describe=lambda label: (
            f"latitude {lat_values[label]:g} is outside [-90, 90]{swapped(label)}"
        ),
    )
    raise_for_rows(
        frame,
        lon_values.abs() > 180,
        file=file,
        column=lon,
        id_column=id_column,
        describe=lambda label: f"longitude {lon_values[label]:g} is outside [-180, 180]",
    )


def _geometry_name(frame: pd.DataFrame) -> str | None:
    """Name of the active geometry column, or ``None``."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    try:
        return frame.geometry.name
    except AttributeError:  # a GeoDataFrame whose geometry column was never set
        return None


def _format_of(path: Path) -> str:
    """Map the file extension to a reader, or raise for unsupported types."""
    suffix = path.suffix.lower()
    if suffix in _FORMATS:
        return _FORMATS[suffix]
    hint = "; save it as CSV or .xlsx" if suffix in {".xls", ".ods", ".txt", ".tsv"} else ""
    supported = ", ".join(_FORMATS)
    raise InputError(
        f"unsupported file type {suffix or '(none)'!r}; use one of {supported}{hint}",
        file=str(path),
    )


def _check_exists(path: Path, kind: str) -> None:
    """Raise when the file is missing, a directory, or empty."""
    try:
        size = path.stat().st_size
    except (OSError, ValueError):  # missing, or a name the system cannot look up
        raise InputError(
            f"{kind} file not found{did_you_mean(path.name, _siblings(path))}", file=str(path)
        ) from None
    if path.is_dir():
        raise InputError(f"is a directory, not a {kind} file", file=str(path))
    if not path.is_file():  # /dev/zero, a FIFO: reading it would never end
        raise InputError(f"is not a regular file; give a {kind} file", file=str(path))
    if size == 0:
        raise InputError(f"the {kind} table has no rows (the file is empty)", file=str(path))


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def _siblings(path: Path) -> list[str]:
    """Names in the folder of `path` (for a did-you-mean); none when it cannot be listed."""
    try:
        return [p.name for p in path.parent.iterdir()] if path.parent.is_dir() else []
    except (OSError, ValueError):  # the folder's own name is too long, or not a folder
        return []


def _too_large(kind: str, what: str) -> str:
    return (
        f"the {kind} table is too large: {what}; the limit is {MAX_TABLE_ROWS:,} rows "
        f"and {_bytes(MAX_TABLE_BYTES)} per CSV or Excel file (README, 'Known limits')"
    )


def _csv_lines_above(path: Path, limit: int) -> int | None:
    """The file's line count if it is above ``limit`` (counting stops there), else None."""
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if lines > limit + 1:
                return lines
    lines += last != b"\n"  # a last line without its newline
    return lines if lines > limit else None


def _check_size(path: Path, kind: str, file_format: str, layer: str | None) -> None:
    """Refuse a table above :data:`MAX_TABLE_BYTES` / :data:`MAX_TABLE_ROWS` before parsing.

    Cheap: the file size, a count of newlines (CSV, stopped at the limit) or the row
    count in the file's metadata (Parquet, GeoPackage, shapefile); an Excel sheet
    holds at most 1,048,576 rows, so only its size is checked, and GeoJSON is not
    checked (counting its features is parsing it).
    """
    size = path.stat().st_size
    if file_format in ("csv", "excel") and size > MAX_TABLE_BYTES:
        raise InputError(_too_large(kind, _bytes(size)), file=str(path))
    rows: int | None = None
    if file_format == "csv":
        # The header is a line; blank lines count too (cheap beats exact here).
        if _csv_lines_above(path, MAX_TABLE_ROWS + 1) is not None:
            raise InputError(
                _too_large(kind, f"more than {MAX_TABLE_ROWS:,} lines below the header"),
                file=str(path),
            )
    elif file_format == "parquet":
        try:
            rows = pq.read_metadata(path).num_rows
        except (OSError, ValueError, pa.ArrowException):
            return  # the reader reports an unreadable file
    elif path.suffix.lower() in (".gpkg", ".shp"):
        # Their feature count is metadata; GeoJSON is not counted (that is a parse).
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "more than one layer": the reader says so
                rows = int(pyogrio.read_info(path, layer=layer).get("features", -1))
        except Exception:  # any trouble is the reader's to report
            return
    if rows is not None and rows > MAX_TABLE_ROWS:
        raise InputError(_too_large(kind, f"{rows:,} rows"), file=str(path))


def _one_line(exc: BaseException) -> str:
    """A library's error message on one line (GDAL's and pandas' can span several)."""
    return " ".join(str(exc).split())


def _read_csv(path: Path, kind: str) -> pd.DataFrame:
    """Read every CSV cell as a string, keeping blank lines so row numbers stay true."""
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",  # Excel writes a byte-order mark
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            f"the {kind} table has no rows (the file is empty)", file=str(path)
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as 'CSV UTF-8'",
            file=str(path),
        ) from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"cannot be read as CSV: {_one_line(exc)}", file=str(path)) from exc
    frame.columns = [str(name).strip() for name in frame.columns]
    blank = _blank_rows(frame)
    # No copy when no line is blank: a million-row table is not held twice.
    return frame[~blank].copy() if blank.any() else frame


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose cells are all empty: blank lines or ``,,,`` lines from spreadsheets."""
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        values = frame[column]
        blank &= (values.isna() | (values.str.strip() == "")).to_numpy()
    return blank


def _read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file, as a GeoDataFrame when it is GeoParquet."""
    try:
        metadata = pq.read_schema(path).metadata or {}
        frame = gpd.read_parquet(path) if b"geo" in metadata else pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"cannot be read as Parquet: {_one_line(exc)}", file=str(path)) from exc
    return frame.reset_index(drop=True)  # a stored index would break row numbers


def _read_vector(path: Path, layer: str | None) -> pd.DataFrame:
    """Read a GeoJSON, GeoPackage or Shapefile layer with pyogrio."""
    try:
        names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"cannot be read: {_one_line(exc)}", file=str(path)) from exc
    if layer is None and len(names) > 1:
        raise InputError(
            f"has {len(names)} layers ({', '.join(names)}); choose one with layer", file=str(path)
        )
    if layer is not None and layer not in names:
        raise InputError(
            f"has no layer {layer!r}{did_you_mean(layer, names)}; layers: {', '.join(names)}",
            file=str(path),
        )
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"cannot be read: {_one_line(exc)}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"holds text that is not UTF-8 ({exc.reason} at byte {exc.start} of a value); "
            "the file may be damaged",
            file=str(path),
        ) from exc
    except shapely.errors.GEOSException as exc:
        raise InputError(
            f"holds a geometry that cannot be read ({_one_line(exc)}); the file may be damaged",
            file=str(path),
            column="geometry",
        ) from exc
    return frame.reset_index(drop=True)
