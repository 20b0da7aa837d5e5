"""Tests of the data loaders: each format's happy path and the message of every bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from territory_engine.errors import InputError, ScenarioError
from territory_engine.io import (
    ACCOUNT_COLUMNS,
    check_account_owners,
    check_edges,
    locate_accounts,
    read_accounts,
    read_edges,
    read_reps,
    read_table,
    read_units,
    row_number,
)

ACCOUNT_HEADER = [
    "account_id",
    "name",
    "lat",
    "lon",
    "county_fips",
    "industry",
    "segment",
    "potential",
    "last_year_revenue",
    "workload_hours",
    "current_rep_id",
    "parent_account_id",
]
# Units are unit squares: A = [0, 1] x [0, 1], B = [1, 2] x [0, 1], C and D above them.
ACCOUNT_ROWS = [
    ["01001", "Acme", "0.5", "0.5", "01001", "mfg", "enterprise", "1000", "500", "10", "R1", ""],
    ["A2", "Beta", "0.5", "1.5", "", "retail", "SMB", "200.5", "0", "4", "", "01001"],
    ["A3", "Gamma", "1.5", "0.5", "", "retail", "commercial", "0", "0", "0", "R2", ""],
]
REP_HEADER = [
    "rep_id",
    "name",
    "home_lat",
    "home_lon",
    "segment",
    "capacity_fte",
    "start_date",
    "last_year_quota",
]
REP_ROWS = [
    ["R1", "Ann", "0.5", "0.5", "enterprise", "1", "2020-01-06", "1000"],
    ["R2", "Bob", "1.5", "1.5", "commercial", "0.5", "2024-03-01", "0"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a CSV file and return its path."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def changed(rows: list[list[str]], header: list[str], record: int, column: str, value: str):
    """Copy `rows` with one cell replaced."""
    copy = [list(row) for row in rows]
    copy[record][header.index(column)] = value
    return copy


def assert_points_at(error: pytest.ExceptionInfo, path: Path, row: int, column: str) -> None:
    """The message names the file, the row and the column, and so do the attributes."""
    message = str(error.value)
    assert path.name in message
    assert f"row {row}," in message
    assert f"column {column!r}" in message
    assert (error.value.row, error.value.column) == (row, column)


def squares(ids: list[str], corners: list[tuple[float, float]], crs: str | None = "EPSG:4326"):
    """A GeoDataFrame of unit squares with lower-left `corners`."""
    geometry = [shapely.box(x, y, x + 1, y + 1) for x, y in corners]
    return gpd.GeoDataFrame({"unit_id": ids}, geometry=geometry, crs=crs)


@pytest.fixture
def accounts_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, ACCOUNT_ROWS)


@pytest.fixture
def reps_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "reps.csv", REP_HEADER, REP_ROWS)


@pytest.fixture
def units_gpkg(tmp_path: Path) -> Path:
    # B is written before A so that "lowest id wins" cannot pass by file order.
    corners = [(1, 0), (0, 0), (0, 1), (1, 1)]
    path = tmp_path / "units.gpkg"
    squares(["B", "A", "C", "D"], corners).to_file(path, layer="units")
    return path


# --- accounts: happy paths -------------------------------------------------------------


def test_accounts_csv_types_and_values(accounts_csv: Path) -> None:
    accounts = read_accounts(accounts_csv)
    assert list(accounts.columns) == [*ACCOUNT_COLUMNS, "geometry"]
    assert accounts.crs.to_epsg() == 4326
    assert accounts["account_id"].tolist() == ["01001", "A2", "A3"]  # leading zero kept
    assert accounts["county_fips"].tolist() == ["01001", "", ""]
    assert accounts["segment"].tolist() == ["enterprise", "SMB", "commercial"]  # as written
    assert accounts["current_rep_id"].tolist() == ["R1", "", "R2"]
    assert accounts["parent_account_id"].tolist() == ["", "01001", ""]
    for column in ("lat", "lon", "potential", "last_year_revenue", "workload_hours"):
        assert accounts[column].dtype == np.float64
    assert accounts["potential"].tolist() == [1000.0, 200.5, 0.0]
    assert accounts.geometry.x.tolist() == [0.5, 1.5, 0.5]
    assert [row_number(accounts, label) for label in accounts.index] == [2, 3, 4]


def test_accounts_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame(ACCOUNT_ROWS, columns=ACCOUNT_HEADER)
    for column in ("lat", "lon", "potential", "last_year_revenue", "workload_hours"):
        frame[column] = frame[column].astype(float)
    frame.index = [10, 20, 30]  # a stored index must not leak into row numbers
    path = tmp_path / "accounts.parquet"
    frame.to_parquet(path)
    accounts = read_accounts(path)
    assert accounts["account_id"].tolist() == ["01001", "A2", "A3"]
    assert accounts["lat"].tolist() == [0.5, 0.5, 1.5]
    assert [row_number(accounts, label) for label in accounts.index] == [1, 2, 3]


def test_accounts_geojson_points_give_lat_lon(tmp_path: Path) -> None:
    frame = pd.DataFrame(ACCOUNT_ROWS, columns=ACCOUNT_HEADER).drop(columns=["lat", "lon"])
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy([0.5, 1.5, 0.5], [0.25, 0.5, 1.5]), crs="EPSG:4326"
    )
    path = tmp_path / "accounts.geojson"
    points.to_file(path)
    accounts = read_accounts(path)
    assert accounts["lat"].tolist() == [0.25, 0.5, 1.5]
    assert accounts["lon"].tolist() == [0.5, 1.5, 0.5]
    assert accounts["account_id"].tolist() == ["01001", "A2", "A3"]


def test_accounts_geopackage_is_reprojected(tmp_path: Path) -> None:
    frame = pd.DataFrame(ACCOUNT_ROWS, columns=ACCOUNT_HEADER).drop(columns=["lat", "lon"])
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy([10.0, 20.0, -30.0], [45.0, -10.0, 60.0]), crs=4326
    ).to_crs("EPSG:3857")
    path = tmp_path / "accounts.gpkg"
    points.to_file(path, layer="accounts")
    accounts = read_accounts(path)
    assert accounts.crs.to_epsg() == 4326
    np.testing.assert_allclose(accounts["lon"], [10.0, 20.0, -30.0], atol=1e-9)
    np.testing.assert_allclose(accounts["lat"], [45.0, -10.0, 60.0], atol=1e-9)


def test_geopackage_layer_choice(tmp_path: Path) -> None:
    path = tmp_path / "many.gpkg"
    squares(["A"], [(0, 0)]).to_file(path, layer="counties")
    squares(["Z1", "Z2"], [(0, 0), (1, 0)]).to_file(path, layer="zips")
    assert read_units(path, layer="zips")["unit_id"].tolist() == ["Z1", "Z2"]
    with pytest.raises(InputError, match=r"has 2 layers \(counties, zips\)"):
        read_units(path)
    with pytest.raises(InputError, match=r"no layer 'zip' \(did you mean 'zips'\?\)"):
        read_units(path, layer="zip")


def test_blank_lines_keep_spreadsheet_rows(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    write_csv(path, ACCOUNT_HEADER, ACCOUNT_ROWS[:1])
    bad = changed(ACCOUNT_ROWS, ACCOUNT_HEADER, 1, "lat", "north")[1]
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + ",".join([""] * len(ACCOUNT_HEADER)) + "\n" + ",".join(bad) + "\n")
    with pytest.raises(InputError, match="'north' is not a number") as error:
        read_accounts(path)
    assert_points_at(error, path, 5, "lat")


# --- accounts: bad cells, each with file, row and column -------------------------------


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("lat", "", "is empty; a number is required"),
        ("lon", "  ", "is empty; a number is required"),
        ("lat", "abc", "'abc' is not a number"),
        ("lon", "1,5", "'1,5' is not a number .*no separators"),
        ("lat", "inf", "'inf' is not a finite number"),
        ("lat", "nan", "'nan' is not a finite number"),
        ("lat", "95", r"latitude 95 is outside \[-90, 90\]"),
        ("lon", "-180.5", r"longitude -180.5 is outside \[-180, 180\]"),
        ("potential", "-5", "-5 is not allowed; it must be >= 0"),
        ("potential", "$200", "'\\$200' is not a number"),
        ("last_year_revenue", "-0.01", "must be >= 0"),
        ("workload_hours", "-1", "must be >= 0"),
        ("segment", " ", "is empty; give every record a segment, or drop the column"),
        ("account_id", "", "account_id is empty"),
        ("account_id", "01001", r"duplicate account_id '01001' \(also on row 2\)"),
        ("parent_account_id", "A9", "'A9' is not an account_id of this file"),
        ("parent_account_id", "A2", "cannot be its own parent"),
    ],
)
def test_bad_account_cell(tmp_path: Path, column: str, value: str, message: str) -> None:
    rows = changed(ACCOUNT_ROWS, ACCOUNT_HEADER, 1, column, value)
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, rows)
    with pytest.raises(InputError, match=message) as error:
        read_accounts(path)
    assert_points_at(error, path, 3, column)


def test_bad_cell_names_the_id(tmp_path: Path) -> None:
    rows = changed(ACCOUNT_ROWS, ACCOUNT_HEADER, 1, "potential", "-3")
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, rows)
    with pytest.raises(InputError) as error:
        read_accounts(path)
    assert error.value.id == "A2"
    assert "id 'A2'" in str(error.value)


def test_swapped_coordinates_are_hinted(tmp_path: Path) -> None:
    rows = changed(ACCOUNT_ROWS, ACCOUNT_HEADER, 0, "lat", "-122.4")
    rows = changed(rows, ACCOUNT_HEADER, 0, "lon", "37.8")
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, rows)
    with pytest.raises(InputError, match="swapped") as error:
        read_accounts(path)
    assert_points_at(error, path, 2, "lat")


def test_more_bad_rows_are_counted(tmp_path: Path) -> None:
    rows = [changed(ACCOUNT_ROWS, ACCOUNT_HEADER, i, "potential", "x")[i] for i in range(3)]
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, rows)
    with pytest.raises(InputError, match=r"\(2 more rows with the same problem\)") as error:
        read_accounts(path)
    assert_points_at(error, path, 2, "potential")


def test_geojson_bad_feature_is_numbered(tmp_path: Path) -> None:
    frame = pd.DataFrame(ACCOUNT_ROWS, columns=ACCOUNT_HEADER).drop(columns=["lat", "lon"])
    frame["potential"] = [1.0, -2.0, 3.0]
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy([0.5, 1.5, 0.5], [0.5, 0.5, 1.5]), crs=4326
    )
    path = tmp_path / "accounts.geojson"
    points.to_file(path)
    with pytest.raises(InputError, match="must be >= 0") as error:
        read_accounts(path)
    assert_points_at(error, path, 2, "potential")  # the 2nd feature


def test_non_point_geometry(tmp_path: Path) -> None:
    frame = pd.DataFrame(ACCOUNT_ROWS, columns=ACCOUNT_HEADER).drop(columns=["lat", "lon"])
    geometry = [shapely.Point(0, 0), shapely.box(0, 0, 1, 1), shapely.Point(1, 1)]
    path = tmp_path / "accounts.gpkg"
    gpd.GeoDataFrame(frame, geometry=geometry, crs=4326).to_file(path)
    with pytest.raises(InputError, match="geometry is a Polygon, not a point") as error:
        read_accounts(path)
    assert_points_at(error, path, 2, "geometry")


def test_layer_without_crs(tmp_path: Path) -> None:
    frame = pd.DataFrame(ACCOUNT_ROWS, columns=ACCOUNT_HEADER).drop(columns=["lat", "lon"])
    path = tmp_path / "accounts.gpkg"
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy([0, 1, 2], [0, 1, 2]))
    with pytest.warns(UserWarning, match="crs"):
        points.to_file(path)
    with pytest.raises(InputError, match=r"has no CRS; set one \(e\.g\. EPSG:4326\)") as error:
        read_accounts(path)
    assert "accounts.gpkg" in str(error.value)


# --- whole-file problems -----------------------------------------------------------------


def test_missing_column_suggests_close_name(tmp_path: Path) -> None:
    header = [name if name != "potential" else "potental" for name in ACCOUNT_HEADER]
    path = write_csv(tmp_path / "accounts.csv", header, ACCOUNT_ROWS)
    with pytest.raises(
        InputError, match=r"missing column 'potential' \(did you mean 'potental'\?\)"
    ) as error:
        read_accounts(path)
    assert "has columns: account_id, name" in str(error.value)
    assert error.value.column == "potential"


def test_missing_coordinate_column_does_not_suggest_the_other(tmp_path: Path) -> None:
    header = [name for name in ACCOUNT_HEADER if name != "lat"]
    rows = [
        [cell for name, cell in zip(ACCOUNT_HEADER, row, strict=True) if name != "lat"]
        for row in ACCOUNT_ROWS
    ]
    path = write_csv(tmp_path / "accounts.csv", header, rows)
    with pytest.raises(InputError, match=r"missing column 'lat';") as error:
        read_accounts(path)
    assert "did you mean" not in str(error.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"accounts.csv: the accounts table has no rows"):
        read_accounts(path)


@pytest.mark.parametrize("tail", ["", "\n\n", ",,,,,,,,,,,\n"])
def test_header_only_file(tmp_path: Path, tail: str) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(",".join(ACCOUNT_HEADER) + "\n" + tail, encoding="utf-8")
    with pytest.raises(InputError, match="has no rows"):
        read_accounts(path)


def test_empty_geojson(tmp_path: Path) -> None:
    path = tmp_path / "accounts.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputError, match="has no rows"):
        read_accounts(path)


def test_missing_file_suggests_sibling(tmp_path: Path, accounts_csv: Path) -> None:
    with pytest.raises(
        InputError, match=r"accounts file not found \(did you mean 'accounts.csv'\?\)"
    ):
        read_accounts(tmp_path / "acounts.csv")


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "accounts.xls"
    path.write_bytes(b"PK")
    with pytest.raises(InputError, match=r"unsupported file type '\.xls'.*as CSV or \.xlsx"):
        read_accounts(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"account_id,name\nA1,Caf\xe9\n")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        read_table(path, kind="accounts", required=["account_id"])


def test_semicolon_csv_is_hinted(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(";".join(ACCOUNT_HEADER) + "\n" + ";".join(ACCOUNT_ROWS[0]) + "\n")
    with pytest.raises(InputError, match="separated by semicolons"):
        read_accounts(path)


# --- owners ------------------------------------------------------------------------------


def test_owners_known(accounts_csv: Path, reps_csv: Path) -> None:
    check_account_owners(
        read_accounts(accounts_csv), read_reps(reps_csv), accounts_file=accounts_csv
    )


def test_unknown_current_rep(tmp_path: Path, reps_csv: Path) -> None:
    rows = changed(ACCOUNT_ROWS, ACCOUNT_HEADER, 2, "current_rep_id", "R-1")
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, rows)
    accounts = read_accounts(path)
    with pytest.raises(
        InputError, match=r"'R-1' is not a rep_id of .*reps.csv \(did you mean 'R1'\?\)"
    ) as error:
        check_account_owners(
            accounts[accounts["segment"] != "smb"], read_reps(reps_csv), accounts_file=path
        )
    assert_points_at(error, path, 4, "current_rep_id")  # the row survives the filter
    assert error.value.id == "A3"


# --- reps --------------------------------------------------------------------------------


def test_reps_csv(reps_csv: Path) -> None:
    reps = read_reps(reps_csv)
    assert reps["rep_id"].tolist() == ["R1", "R2"]
    assert reps["capacity_fte"].tolist() == [1.0, 0.5]
    assert pd.api.types.is_datetime64_any_dtype(reps["start_date"])
    assert reps["start_date"].iloc[1] == pd.Timestamp("2024-03-01")
    assert reps["home_city"].tolist() == ["", ""]
    assert reps.geometry.y.tolist() == [0.5, 1.5]


def test_reps_geopackage_points(tmp_path: Path) -> None:
    frame = pd.DataFrame(REP_ROWS, columns=REP_HEADER).drop(columns=["home_lat", "home_lon"])
    path = tmp_path / "reps.gpkg"
    gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy([3, 4], [50, 51]), crs=4326).to_file(path)
    reps = read_reps(path)
    assert reps["home_lat"].tolist() == [50.0, 51.0]
    assert reps["start_date"].iloc[0] == pd.Timestamp("2020-01-06")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("capacity_fte", "0", "0 is not allowed; it must be > 0"),
        ("capacity_fte", "", "is empty"),
        ("start_date", "01/03/2024", "'01/03/2024' is not a date; write it as YYYY-MM-DD"),
        ("start_date", "2024-02-30", "is not a date"),
        ("start_date", "", "is empty; a date is required"),
        ("last_year_quota", "-10", "must be >= 0"),
        ("rep_id", "R1", r"duplicate rep_id 'R1' \(also on row 2\)"),
        ("home_lat", "x", "'x' is not a number"),
        ("home_lon", "190", "longitude 190 is outside"),
        ("segment", "", "is empty; give every record a segment"),
    ],
)
def test_bad_rep_cell(tmp_path: Path, column: str, value: str, message: str) -> None:
    path = write_csv(
        tmp_path / "reps.csv", REP_HEADER, changed(REP_ROWS, REP_HEADER, 1, column, value)
    )
    with pytest.raises(InputError, match=message) as error:
        read_reps(path)
    assert_points_at(error, path, 3, column)


# --- units -------------------------------------------------------------------------------


def test_units_geopackage(tmp_path: Path) -> None:
    frame = squares(["01001", "01003"], [(0, 0), (1, 0)]).rename(columns={"unit_id": "GEOID"})
    frame["name"] = ["Autauga", "Baldwin"]
    path = tmp_path / "counties.gpkg"
    frame.to_crs("EPSG:5070").to_file(path)
    units = read_units(path, id_column="GEOID")
    assert list(units.columns) == ["unit_id", "name", "geometry"]
    assert units["unit_id"].tolist() == ["01001", "01003"]
    assert units.crs.to_epsg() == 4326
    np.testing.assert_allclose(units.geometry.iloc[1].bounds, (1, 0, 2, 1), atol=1e-6)


def test_invalid_polygon_is_repaired(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    frame = gpd.GeoDataFrame(
        {"unit_id": ["X", "Y"]}, geometry=[bowtie, shapely.box(2, 0, 3, 1)], crs=4326
    )
    path = tmp_path / "units.gpkg"
    frame.to_file(path)
    units = read_units(path)
    assert units.geometry.is_valid.all()
    assert set(units.geom_type) <= {"Polygon", "MultiPolygon"}
    assert units.geometry.iloc[0].area == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (shapely.LineString([(0, 0), (1, 1)]), "geometry is a LineString, not a polygon"),
        (shapely.Polygon(), "geometry is empty"),
        (None, "has no geometry"),
        (shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)]), "no area once repaired"),
    ],
)
def test_bad_unit_geometry(tmp_path: Path, geometry: shapely.Geometry | None, message: str) -> None:
    frame = gpd.GeoDataFrame(
        {"unit_id": ["A", "B", "C"]},
        geometry=[shapely.box(0, 0, 1, 1), geometry, shapely.box(1, 0, 2, 1)],
        crs=4326,
    )
    path = tmp_path / "units.gpkg"
    frame.to_file(path)
    with pytest.raises(InputError, match=message) as error:
        read_units(path)
    assert_points_at(error, path, 2, "geometry")
    assert error.value.id == "B"


def test_units_duplicate_and_missing_ids(tmp_path: Path) -> None:
    path = tmp_path / "units.gpkg"
    squares(["A", "A"], [(0, 0), (1, 0)]).to_file(path)
    with pytest.raises(InputError, match=r"duplicate unit_id 'A' \(also on row 1\)") as error:
        read_units(path)
    assert_points_at(error, path, 2, "unit_id")
    with pytest.raises(InputError, match=r"missing column 'GEOID'"):
        read_units(path, id_column="GEOID")


def test_units_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "units.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        squares(["A"], [(0, 0)], crs=None).to_file(path)
    with pytest.raises(InputError, match=r"units.gpkg.*has no CRS;.*data\.units_crs: EPSG:"):
        read_units(path)


def test_units_need_polygons(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "units.csv", ["unit_id"], [["A"]])
    with pytest.raises(InputError, match="units must be a polygon layer"):
        read_units(path)


# --- locate ------------------------------------------------------------------------------


def test_locate_inside_and_on_border(tmp_path: Path, units_gpkg: Path) -> None:
    rows = changed(ACCOUNT_ROWS, ACCOUNT_HEADER, 1, "lon", "1.0")  # on the A|B border
    rows = changed(rows, ACCOUNT_HEADER, 2, "lat", "1.0")  # A3 at (0.5, 1): the A|C border
    rows = changed(rows, ACCOUNT_HEADER, 2, "lon", "1.0")  # ...moved to the A|B|C|D corner
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, rows)
    accounts = read_accounts(path)
    located = locate_accounts(accounts, read_units(units_gpkg), accounts_file=path)
    assert located.tolist() == ["A", "A", "A"]
    assert located.index.equals(accounts.index)
    assert located.name == "unit_id"


def test_locate_index_alignment(accounts_csv: Path, units_gpkg: Path) -> None:
    accounts = read_accounts(accounts_csv).iloc[[2, 0]]
    located = locate_accounts(accounts, read_units(units_gpkg), accounts_file=accounts_csv)
    assert located.to_dict() == {2: "C", 0: "A"}


def test_account_outside_every_unit(tmp_path: Path, units_gpkg: Path) -> None:
    rows = changed(ACCOUNT_ROWS, ACCOUNT_HEADER, 1, "lon", "2.01")  # 0.01° east of B
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADER, rows)
    accounts = read_accounts(path)
    units = read_units(units_gpkg)
    with pytest.raises(
        InputError,
        match=r"lies outside every unit of .*units.gpkg \(nearest: B, 1\.1 km away\); fix its "
        r"coordinates or set units.snap_km",
    ) as error:
        locate_accounts(accounts, units, accounts_file=path)
    assert_points_at(error, path, 3, "lat/lon")
    assert error.value.id == "A2"
    with pytest.raises(InputError, match=r"raise units\.snap_km"):
        locate_accounts(accounts, units, accounts_file=path, snap_km=1.0)
    snapped = locate_accounts(accounts, units, accounts_file=path, snap_km=1.2)
    assert snapped.tolist() == ["A", "B", "C"]


def test_snap_km_must_be_valid(accounts_csv: Path, units_gpkg: Path) -> None:
    with pytest.raises(ScenarioError, match="snap_km"):
        locate_accounts(
            read_accounts(accounts_csv),
            read_units(units_gpkg),
            accounts_file=accounts_csv,
            snap_km=-1,
        )


# --- edges -------------------------------------------------------------------------------

EDGE_HEADER = ["source", "target", "kind", "weight"]
EDGE_ROWS = [
    ["R1", "01001", "rep-account", "2"],
    ["A2", "R2", "Rep-Account", "1.5"],  # account first: normalised to rep first
    ["01001", "A3", "account-account", "0"],
    ["R1", "R2", "rep-rep", "1"],
]


def test_edges_read_and_check(tmp_path: Path, accounts_csv: Path, reps_csv: Path) -> None:
    path = write_csv(tmp_path / "edges.csv", EDGE_HEADER, EDGE_ROWS)
    edges = read_edges(path)
    assert list(edges.columns) == EDGE_HEADER
    assert edges["weight"].dtype == np.float64
    checked = check_edges(edges, read_accounts(accounts_csv), read_reps(reps_csv), edges_file=path)
    assert checked.iloc[1].tolist() == ["R2", "A2", "rep-account", 1.5]
    assert checked.iloc[0].tolist() == ["R1", "01001", "rep-account", 2.0]
    assert edges.iloc[1]["source"] == "A2"  # the input is not modified


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("kind", "rep_acount", r"'rep_acount' is not one of .*\(did you mean 'rep-account'\?\)"),
        ("weight", "-1", "must be >= 0"),
        ("weight", "inf", "is not a finite number"),
        ("weight", "", "is empty"),
        ("target", "A2", "edge joins 'A2' to itself"),
        ("source", "", "source is empty"),
    ],
)
def test_bad_edge_row(tmp_path: Path, column: str, value: str, message: str) -> None:
    path = write_csv(
        tmp_path / "edges.csv", EDGE_HEADER, changed(EDGE_ROWS, EDGE_HEADER, 1, column, value)
    )
    with pytest.raises(InputError, match=message) as error:
        read_edges(path)
    assert_points_at(error, path, 3, column)


@pytest.mark.parametrize(
    ("record", "column", "value", "message"),
    [
        (
            0,
            "target",
            "0100",
            r"'0100' is neither a rep_id nor an account_id \(did you mean '01001'\?\)",
        ),
        (3, "source", "R9", "'R9' is neither a rep_id nor an account_id"),
        (
            3,
            "target",
            "A3",
            r"'A3' is an account, but a rep-rep edge joins two reps \(use kind rep-account\)",
        ),
        (2, "source", "R1", r"'R1' is a rep, but an account-account edge joins two accounts"),
        (0, "target", "R2", r"'R2' is a rep, but a rep-account edge joins .*\(use kind rep-rep\)"),
    ],
)
def test_bad_edge_endpoint(
    tmp_path: Path,
    accounts_csv: Path,
    reps_csv: Path,
    record: int,
    column: str,
    value: str,
    message: str,
) -> None:
    path = write_csv(
        tmp_path / "edges.csv", EDGE_HEADER, changed(EDGE_ROWS, EDGE_HEADER, record, column, value)
    )
    with pytest.raises(InputError, match=message) as error:
        check_edges(
            read_edges(path), read_accounts(accounts_csv), read_reps(reps_csv), edges_file=path
        )
    assert_points_at(error, path, record + 2, column)


def test_check_known_names_the_row_suggests_and_allows_empty_cells():
    from territory_engine.io.tables import check_known

    frame = pd.DataFrame({"id": ["a", "b", "c"], "rep": ["R1", "", "R2"]})
    check_known(
        frame, "rep", ["R1", "R2"], file="f.csv", id_column="id", what="x", allow_empty=True
    )
    frame.loc[2, "rep"] = "R22"
    with pytest.raises(
        InputError, match=r"'R22' is not a rep of r\.csv \(did you mean 'R2'\?\); mend it"
    ):
        check_known(
            frame,
            "rep",
            ["R1", "R2", ""],
            file="f.csv",
            id_column="id",
            what="a rep of r.csv",
            suggest=["R1", "R2"],
            hint="; mend it",
        )
    with pytest.raises(InputError, match="'' is not"):
        check_known(frame, "rep", ["R1", "R22"], file="f.csv", id_column="id", what="x")
