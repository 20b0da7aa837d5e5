"""Small hand-made CRM exports for the tests of issue 14's inputs (tests/io and tests/cli).

Georgia cut into four squares (units ``NW``, ``NE``, ``SW``, ``SE``), four reps in
three segments (Strategic, Mid-Market, Territory), ten accounts placed by real
ZIP codes whose centroids fall inside the squares.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

UNIT_BOXES = {
    "NW": (-85.7, 32.65, -83.2, 35.1),
    "NE": (-83.2, 32.65, -80.7, 35.1),
    "SW": (-85.7, 30.3, -83.2, 32.65),
    "SE": (-83.2, 30.3, -80.7, 32.65),
}

SALESFORCE_HEADER = [
    "Account ID",
    "Account Name",
    "Billing Zip/Postal Code",
    "Annual Revenue",
    "Account Owner",
    "Type",
    "Last Year Revenue",
]
# ZIP, Type, owner: Atlanta, Athens, Augusta, Macon, Savannah, Valdosta, Albany,
# Columbus, Gainesville (ZIP+4), Decatur.
_ACCOUNTS = [
    ("30301", "Strategic", "Ann Lee"),
    ("30601", "Mid-Market", "Bo Diaz"),
    ("30901", "Mid-Market", "Cy Park"),
    ("31201", "Strategic", "Ann Lee"),
    ("31401", "Mid-Market", "Bo Diaz"),
    ("31601", "Mid-Market", "Cy Park"),
    ("31701", "Strategic", "Dee Roy"),
    ("31901", "Mid-Market", "Bo Diaz"),
    ("30501-1234", "Mid-Market", ""),
    ("30030", "Strategic", "Dee Roy"),
]

SALESFORCE_COLUMNS = {
    "account_id": "Account ID",
    "name": "Account Name",
    "zip": "Billing Zip/Postal Code",
    "potential": "Annual Revenue",
    "current_rep_id": "Account Owner",
    "segment": "Type",
    "last_year_revenue": "Last Year Revenue",
}

REPS = pd.DataFrame(
    {
        "rep_id": ["Ann Lee", "Dee Roy", "Bo Diaz", "Cy Park"],
        "name": ["Ann Lee", "Dee Roy", "Bo Diaz", "Cy Park"],
        "home_lat": [33.75, 32.08, 33.96, 31.58],
        "home_lon": [-84.39, -81.09, -83.38, -84.16],
        "segment": ["Strategic", "Strategic", "Mid-Market", "Territory"],
        "capacity_fte": [1.0, 1.0, 1.0, 1.0],
        "start_date": ["2020-01-06"] * 4,
        "last_year_quota": [0.0] * 4,
    }
)


def write_units(path: Path, id_column: str = "GEOID") -> Path:
    """The four squares as a GeoPackage with id column `id_column`."""
    gpd.GeoDataFrame(
        {id_column: list(UNIT_BOXES)},
        geometry=[box(*b) for b in UNIT_BOXES.values()],
        crs="EPSG:4326",
    ).to_file(path)
    return path


def salesforce_rows() -> list[list[str]]:
    """Rows of the Salesforce-style accounts report (header first)."""
    rows = [list(SALESFORCE_HEADER)]
    for i, (zip_code, segment, owner) in enumerate(_ACCOUNTS):
        rows.append(
            [
                f"001{i:05d}",
                f"Acme {i}",
                zip_code,
                str(100000 + 1000 * i),
                owner,
                segment,
                str(50000 + 500 * i),
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    """Write `rows` (header first) as CSV."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def write_reps(path: Path, reps: pd.DataFrame = REPS) -> Path:
    """The reps as CSV, or as the sheet ``Reps`` after a ``Readme`` sheet for ``.xlsx``."""
    if path.suffix == ".xlsx":
        with pd.ExcelWriter(path) as writer:
            pd.DataFrame({"note": ["reps are on the next sheet"]}).to_excel(
                writer, sheet_name="Readme", index=False
            )
            reps.to_excel(writer, sheet_name="Reps", index=False)
    else:
        reps.to_csv(path, index=False)
    return path


def scenario_text(
    columns: dict[str, str] | None = None,
    eligibility: str = "segment",
    accounts: str = "accounts.csv",
    reps: str = "reps.csv",
    extra_data: str = "",
) -> str:
    """A scenario over the files of this module, with a loose band and a fixed target."""
    mapped = ", ".join(f"{k}: {v!r}" for k, v in (columns or {}).items())
    return (
        "name: crm export\n"
        "data:\n"
        f"  accounts: {accounts}\n"
        f"  reps: {reps}\n"
        "  units: units.gpkg\n"
        f"  columns: {{accounts: {{{mapped}}}, units: {{unit_id: GEOID}}}}\n"
        f"{extra_data}"
        f"territories: {{eligibility: {eligibility}}}\n"
        "balance: {potential: {tolerance: 0.9}}\n"
        "quota: {method: potential, target: 1000000}\n"
        "solver: {seed: 1, time_limit: 5}\n"
        "output: {folder: out/plan}\n"
    )


def salesforce_case(root: Path, *, reps: str = "reps.csv", **kw: str) -> Path:
    """Write the Salesforce-style export, reps, units and a scenario into `root`."""
    write_units(root / "units.gpkg")
    write_csv(root / "accounts.csv", salesforce_rows())
    write_reps(root / reps)
    kw.setdefault("eligibility", "{Strategic: [Strategic], Mid-Market: [Mid-Market, Territory]}")
    path = root / "scenario.yaml"
    path.write_text(scenario_text(SALESFORCE_COLUMNS, reps=reps, **kw), encoding="utf-8")
    return path
