"""Units layers: ZIP areas keep their leading zeros; a layer without a CRS says how to set one."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territory_engine.errors import InputError, ScenarioError
from territory_engine.io.units import home_units, locate_accounts, read_units
from tests.cli_run import run_cli

# Three hand-made "ZIP areas" around Boston, ids with leading zeros.
ZIPS = ["02134", "02135", "02138"]


def _zip_layer(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    boxes = [shapely.box(-71.15 + 0.05 * i, 42.33, -71.10 + 0.05 * i, 42.38) for i in range(3)]
    return gpd.GeoDataFrame(
        {"zcta": ZIPS, "po_name": ["Allston", "Brighton", "Cambridge"]}, geometry=boxes, crs=crs
    )


def test_zip_areas_are_a_units_layer_with_text_ids(tmp_path):
    path = tmp_path / "zips.geojson"
    _zip_layer().to_file(path, driver="GeoJSON")
    units = read_units(path, id_column="zcta")
    assert units["unit_id"].tolist() == ZIPS
    accounts = gpd.GeoDataFrame(
        {"account_id": ["A1", "A2", "A3"]},
        geometry=gpd.points_from_xy([-71.12, -71.07, -71.02], [42.35, 42.35, 42.35]),
        crs="EPSG:4326",
    )
    unit_of = locate_accounts(accounts, units, accounts_file="accounts.csv")
    assert unit_of.tolist() == ZIPS
    reps = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([-71.07, -70.0], [42.35, 42.35]), crs="EPSG:4326"
    )
    # A home outside every area takes the nearest one.
    assert home_units(reps, units).tolist() == ["02135", "02138"]


def _shapefile_without_crs(tmp_path):
    path = tmp_path / "zips.shp"
    with warnings.catch_warnings():  # pyogrio warns that the file will have no CRS: the point
        warnings.simplefilter("ignore", UserWarning)
        _zip_layer(crs=None).to_file(path)
    assert not path.with_suffix(".prj").exists()
    return path


def test_a_layer_without_a_crs_says_how_to_set_it(tmp_path):
    path = _shapefile_without_crs(tmp_path)
    with pytest.raises(InputError, match=r"no CRS.*data\.units_crs: EPSG:4326") as info:
        read_units(path, id_column="zcta")
    assert "zips.shp" in str(info.value)


def test_units_crs_is_applied_to_a_layer_without_one(tmp_path):
    path = _shapefile_without_crs(tmp_path)
    units = read_units(path, id_column="zcta", crs="EPSG:4326")
    assert units.crs.to_epsg() == 4326
    assert units["unit_id"].tolist() == ZIPS
    # Declared as Web Mercator metres, the same numbers land near (0, 0) once in lon/lat.
    projected = read_units(path, id_column="zcta", crs="EPSG:3857")
    assert abs(projected.geometry.iloc[0].centroid.x) < 0.01


def test_units_crs_that_contradicts_the_layer_is_an_error(tmp_path):
    path = tmp_path / "zips.gpkg"
    _zip_layer().to_file(path, driver="GPKG")
    with pytest.raises(InputError, match=r"has the CRS EPSG:4326 but data\.units_crs is EPSG:4269"):
        read_units(path, id_column="zcta", crs="EPSG:4269")
    assert read_units(path, id_column="zcta", crs="EPSG:4326")["unit_id"].tolist() == ZIPS


def test_a_units_crs_that_is_not_a_crs_is_named(tmp_path):
    path = _shapefile_without_crs(tmp_path)
    with pytest.raises(ScenarioError, match=r"data\.units_crs: 'EPSG:99999999' is not a CRS"):
        read_units(path, id_column="zcta", crs="EPSG:99999999")


def _scenario(tmp_path, extra: str = "") -> None:
    pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "name": ["a", "b", "c", "d"],
            "lat": [42.35, 42.36, 42.35, 42.36],
            "lon": [-71.12, -71.07, -71.02, -71.03],
            "county_fips": "",
            "industry": "Retail",
            "segment": "commercial",
            "potential": [100, 100, 100, 100],
            "last_year_revenue": 10,
            "workload_hours": 1.0,
            "current_rep_id": "",
            "parent_account_id": "",
        }
    ).to_csv(tmp_path / "accounts.csv", index=False)
    pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["One", "Two"],
            "home_lat": [42.35, 42.35],
            "home_lon": [-71.12, -71.02],
            "home_city": "",
            "segment": "commercial",
            "capacity_fte": 1.0,
            "start_date": "2020-01-01",
            "last_year_quota": 0,
        }
    ).to_csv(tmp_path / "reps.csv", index=False)
    (tmp_path / "scenario.yaml").write_text(
        "name: zips\n"
        "data:\n"
        "  accounts: accounts.csv\n"
        "  reps: reps.csv\n"
        "  units: zips.shp\n"
        "  unit_id_column: zcta\n"
        f"{extra}"
        "territories: {eligibility: none}\n"
        "balance: {potential: {tolerance: 0.3}}\n"
        "solver: {time_limit: 5}\n"
        "output: {folder: plan}\n",
        encoding="utf-8",
    )


def test_cli_refuses_a_layer_without_crs_and_runs_with_units_crs(tmp_path):
    _shapefile_without_crs(tmp_path)
    _scenario(tmp_path)
    done = run_cli("run", "scenario.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "data.units_crs: EPSG:" in errors[0]
    assert not (tmp_path / "plan").exists()

    _scenario(tmp_path, "  units_crs: EPSG:4326\n")
    done = run_cli("run", "scenario.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    units = pd.read_csv(tmp_path / "plan" / "units.csv", dtype=str)
    assert sorted(units["unit_id"]) == ZIPS
