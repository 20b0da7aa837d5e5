"""A CRM export used as it is: its own segments and columns, ZIP codes, named units, Excel."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from territory_engine.config import load_scenario
from territory_engine.errors import InputError, ScenarioError
from territory_engine.io.accounts import read_accounts
from territory_engine.io.load import load_tables
from territory_engine.io.placement import placement_counts
from territory_engine.io.reps import read_reps
from territory_engine.io.zips import normalise_zip
from territory_engine.problem.build import build_problem
from tests.io.crm_files import (
    REPS,
    SALESFORCE_COLUMNS,
    salesforce_case,
    salesforce_rows,
    scenario_text,
    write_csv,
    write_reps,
    write_units,
)

ACCOUNT_HEADER = [
    "account_id",
    "name",
    "lat",
    "lon",
    "segment",
    "potential",
    "last_year_revenue",
    "current_rep_id",
]


def plain_accounts(segments: list[str] | None) -> list[list[str]]:
    """Accounts with coordinates; without a segment column when `segments` is None."""
    points = [(33.75, -84.39), (33.96, -83.38), (32.08, -81.09), (31.58, -84.16)]
    header = [c for c in ACCOUNT_HEADER if segments is not None or c != "segment"]
    rows = [header]
    for i, (lat, lon) in enumerate(points):
        row = {
            "account_id": f"A{i}",
            "name": f"n{i}",
            "lat": str(lat),
            "lon": str(lon),
            "segment": segments[i] if segments else "",
            "potential": "100",
            "last_year_revenue": "50",
            "current_rep_id": "",
        }
        rows.append([row[c] for c in header])
    return rows


# ------------------------------------------------------------------------ segments


def test_three_crm_segments_load_as_written_and_become_three_teams(tmp_path):
    write_units(tmp_path / "units.gpkg")
    write_csv(
        tmp_path / "accounts.csv",
        plain_accounts(["Strategic", "mid-market", "Territory", "Strategic"]),
    )
    write_reps(tmp_path / "reps.csv")
    (tmp_path / "s.yaml").write_text(scenario_text())
    scenario = load_scenario(tmp_path / "s.yaml")
    tables = load_tables(scenario)
    # 'mid-market' is spelt as the reps table spells it.
    assert tables.accounts["segment"].tolist() == [
        "Strategic",
        "Mid-Market",
        "Territory",
        "Strategic",
    ]
    problem, _ = build_problem(scenario, tables)
    assert problem.group_names == ("Mid-Market", "Strategic", "Territory")


def test_without_segment_columns_everyone_is_one_pooled_team(tmp_path):
    write_units(tmp_path / "units.gpkg")
    write_csv(tmp_path / "accounts.csv", plain_accounts(None))
    write_reps(tmp_path / "reps.csv", REPS.drop(columns="segment"))
    (tmp_path / "s.yaml").write_text(scenario_text())
    scenario = load_scenario(tmp_path / "s.yaml")
    tables = load_tables(scenario)
    assert set(tables.accounts["segment"]) == {"all"}
    assert set(tables.reps["segment"]) == {"all"}
    problem, _ = build_problem(scenario, tables)
    assert problem.group_names == ("all",)
    assert problem.n_territories == 4


def test_account_segment_no_rep_covers_names_the_row_and_suggests(tmp_path):
    write_units(tmp_path / "units.gpkg")
    path = write_csv(
        tmp_path / "accounts.csv",
        plain_accounts(["Strategic", "Mid Market", "Territory", "Strategic"]),
    )
    write_reps(tmp_path / "reps.csv")
    (tmp_path / "s.yaml").write_text(scenario_text())
    with pytest.raises(InputError) as error:
        load_tables(load_scenario(tmp_path / "s.yaml"))
    message = str(error.value)
    assert message.startswith(f"{path}, row 3, id 'A1', column 'segment': ")
    assert "no rep of" in message and "'Mid Market'" in message
    assert "(did you mean 'Mid-Market'?)" in message


def test_accounts_with_segments_but_reps_without_say_how_to_mend(tmp_path):
    write_units(tmp_path / "units.gpkg")
    write_csv(tmp_path / "accounts.csv", plain_accounts(["Strategic"] * 4))
    write_reps(tmp_path / "reps.csv", REPS.drop(columns="segment"))
    (tmp_path / "s.yaml").write_text(scenario_text())
    with pytest.raises(InputError, match=r"has no segment column.*territories.eligibility: none"):
        load_tables(load_scenario(tmp_path / "s.yaml"))


def test_mapping_naming_a_rep_segment_the_reps_lack_suggests_one(tmp_path):
    scenario = salesforce_case(
        tmp_path, eligibility="{Strategic: [Strategic], Mid-Market: [Mid-Market, Teritory]}"
    )
    with pytest.raises(
        ScenarioError,
        match=r"eligibility.Mid-Market: 'Teritory' is not a segment of any rep.*"
        r"\(did you mean 'Territory'\?\)",
    ):
        load_tables(load_scenario(scenario))


def test_mapping_naming_an_account_segment_the_accounts_lack_suggests_one(tmp_path):
    scenario = salesforce_case(tmp_path, eligibility="{Strategc: [Strategic]}")
    with pytest.raises(ScenarioError, match=r"'Strategc' is.*\(did you mean 'Strategic'\?\)"):
        load_tables(load_scenario(scenario))


# ------------------------------------------------------- column mapping and ZIP codes


def test_salesforce_export_is_read_through_the_mapping_and_placed_by_zip(tmp_path):
    scenario = load_scenario(salesforce_case(tmp_path))
    tables = load_tables(scenario)
    accounts = tables.accounts
    assert accounts["account_id"].iloc[0] == "00100000"  # leading zeros kept
    assert accounts["potential"].iloc[1] == 101000.0
    assert accounts["current_rep_id"].iloc[0] == "Ann Lee"
    assert set(accounts["placed_by"]) == {"zip"}
    assert placement_counts(accounts) == {"coordinates": 0, "zip": 10, "unit_id": 0}
    # Atlanta's 30301 centroid, from the offline table, lies in the NW square.
    assert accounts["lat"].iloc[0] == pytest.approx(33.8444)
    assert accounts["lon"].iloc[0] == pytest.approx(-84.4741)
    assert accounts["unit_id"].tolist()[:5] == ["NW", "NW", "NE", "NW", "SE"]
    assert accounts["zip"].iloc[8] == "30501-1234"  # placed by its first five digits
    assert np.isfinite(accounts.geometry.x).all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30301", "30301"),
        ("30301-1234", "30301"),
        ("303011234", "30301"),
        ("2134", "02134"),  # a spreadsheet dropped the leading zero
        ("501", "00501"),
        ("2134-5678", None),
        ("3030A", None),
        ("123456", None),
        ("", None),
    ],
)
def test_zip_spellings(text, expected):
    assert normalise_zip(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99999", "ZIP code '99999' is not in the US ZIP table"),
        ("3030A", "'3030A' is not a US ZIP code"),
        ("", "is empty and the row has no lat/lon"),
    ],
)
def test_bad_zip_names_file_row_id_and_the_users_column(tmp_path, value, message):
    rows = salesforce_rows()
    rows[3][2] = value  # spreadsheet row 4
    path = write_csv(tmp_path / "accounts.csv", rows)
    with pytest.raises(InputError, match=message) as error:
        read_accounts(path, columns=SALESFORCE_COLUMNS)
    assert str(error.value).startswith(
        f"{path}, row 4, id '00100002', column 'Billing Zip/Postal Code': "
    )


def test_bad_number_in_a_mapped_column_names_the_users_column(tmp_path):
    rows = salesforce_rows()
    rows[6][3] = "$12,000"
    path = write_csv(tmp_path / "accounts.csv", rows)
    with pytest.raises(InputError) as error:
        read_accounts(path, columns=SALESFORCE_COLUMNS)
    assert str(error.value).startswith(f"{path}, row 7, id '00100005', column 'Annual Revenue': ")


def test_mapping_a_column_the_file_lacks_suggests_its_headers(tmp_path):
    path = write_csv(tmp_path / "accounts.csv", salesforce_rows())
    columns = dict(SALESFORCE_COLUMNS, potential="Annual Revenu")
    with pytest.raises(InputError) as error:
        read_accounts(path, columns=columns)
    message = str(error.value)
    assert message.startswith(
        f"{path}: has no column 'Annual Revenu' (data.columns.accounts.potential)"
    )
    assert "(did you mean 'Annual Revenue'?)" in message
    assert "\n" not in message


def test_mapping_onto_a_column_the_file_already_has_is_refused(tmp_path):
    rows = salesforce_rows()
    rows[0].append("segment")  # the file has a 'segment' of its own, and Type maps to it
    for row in rows[1:]:
        row.append("Strategic")
    path = write_csv(tmp_path / "accounts.csv", rows)
    with pytest.raises(
        InputError,
        match=r"has both 'Type' \(data.columns.accounts.segment\) and a column 'segment'",
    ) as error:
        read_accounts(path, columns=SALESFORCE_COLUMNS)
    assert "rename or drop 'segment'" in str(error.value)


# --------------------------------------------------------------------- named units


def test_accounts_naming_their_unit_need_no_coordinates(tmp_path):
    write_units(tmp_path / "units.gpkg")
    rows = [
        [
            "account_id",
            "name",
            "unit_id",
            "segment",
            "potential",
            "last_year_revenue",
            "current_rep_id",
        ]
    ]
    rows += [[f"A{i}", "x", u, "Strategic", "10", "5", ""] for i, u in enumerate(["NW", "SE"])]
    write_csv(tmp_path / "accounts.csv", rows)
    write_reps(tmp_path / "reps.csv")
    (tmp_path / "s.yaml").write_text(scenario_text())
    tables = load_tables(load_scenario(tmp_path / "s.yaml"))
    accounts = tables.accounts
    assert accounts["unit_id"].tolist() == ["NW", "SE"]
    assert accounts["placed_by"].tolist() == ["unit_id", "unit_id"]
    # Each stands at a point inside its unit.
    units = tables.units.set_index("unit_id")
    for point, unit in zip(accounts.geometry, accounts["unit_id"], strict=True):
        assert units.geometry[unit].contains(point)


def test_unknown_unit_id_names_the_row_and_suggests(tmp_path):
    write_units(tmp_path / "units.gpkg")
    rows = [
        [
            "account_id",
            "name",
            "unit_id",
            "segment",
            "potential",
            "last_year_revenue",
            "current_rep_id",
        ]
    ]
    rows += [
        ["A0", "x", "NW", "Strategic", "10", "5", ""],
        ["A1", "x", "SEE", "Strategic", "1", "1", ""],
    ]
    path = write_csv(tmp_path / "accounts.csv", rows)
    write_reps(tmp_path / "reps.csv")
    (tmp_path / "s.yaml").write_text(scenario_text())
    with pytest.raises(InputError) as error:
        load_tables(load_scenario(tmp_path / "s.yaml"))
    assert str(error.value).startswith(f"{path}, row 3, id 'A1', column 'unit_id': 'SEE' is not")
    assert "(did you mean 'SE'?)" in str(error.value)


def test_row_without_coordinates_zip_or_unit_is_named(tmp_path):
    rows = [
        [
            "account_id",
            "name",
            "lat",
            "lon",
            "unit_id",
            "segment",
            "potential",
            "last_year_revenue",
            "current_rep_id",
        ]
    ]
    rows += [
        ["A0", "x", "33.7", "-84.4", "", "S", "10", "5", ""],
        ["A1", "x", "", "", "", "S", "1", "1", ""],
    ]
    path = write_csv(tmp_path / "accounts.csv", rows)
    with pytest.raises(InputError, match="give lat/lon, a zip code or a unit_id") as error:
        read_accounts(path)
    assert str(error.value).startswith(f"{path}, row 3, id 'A1', column 'lat/lon': ")


# --------------------------------------------------------------------------- Excel


def test_xlsx_tables_read_like_csv_from_the_named_sheet(tmp_path):
    write_reps(tmp_path / "reps.xlsx")
    reps = read_reps(tmp_path / "reps.xlsx", sheet="Reps")
    assert reps["rep_id"].tolist() == REPS["rep_id"].tolist()
    assert reps["capacity_fte"].tolist() == [1.0] * 4
    assert reps["start_date"].iloc[0] == pd.Timestamp("2020-01-06")
    assert reps.geometry.y.iloc[0] == pytest.approx(33.75)


def test_xlsx_first_sheet_is_the_default(tmp_path):
    path = tmp_path / "accounts.xlsx"
    frame = pd.DataFrame(salesforce_rows()[1:], columns=salesforce_rows()[0])
    frame["Annual Revenue"] = frame["Annual Revenue"].astype(float)  # numbers, as Excel keeps them
    frame.to_excel(path, index=False)
    accounts = read_accounts(path, columns=SALESFORCE_COLUMNS)
    assert accounts["potential"].iloc[0] == 100000.0
    assert accounts["account_id"].iloc[0] == "00100000"


def test_xlsx_errors_name_the_sheet_row(tmp_path):
    path = tmp_path / "reps.xlsx"
    bad = REPS.copy()
    bad.loc[2, "capacity_fte"] = 0.0
    write_reps(path, bad)
    with pytest.raises(InputError) as error:
        read_reps(path, sheet="Reps")
    assert str(error.value).startswith(f"{path}, row 4, id 'Bo Diaz', column 'capacity_fte': ")


def test_missing_sheet_lists_the_sheets(tmp_path):
    path = write_reps(tmp_path / "reps.xlsx")
    with pytest.raises(InputError) as error:
        read_reps(path, sheet="reps ")
    assert str(error.value) == (
        f"{path}: has no sheet 'reps ' (did you mean 'Reps'?); sheets: Readme, Reps"
    )


def test_not_a_workbook_is_one_line(tmp_path):
    path = tmp_path / "accounts.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(InputError, match=r"cannot be read as an \.xlsx workbook"):
        read_accounts(path)


def test_scenario_sheets_key_reaches_the_reader(tmp_path):
    scenario = salesforce_case(tmp_path, reps="reps.xlsx", extra_data="  sheets: {reps: Reps}\n")
    tables = load_tables(load_scenario(scenario))
    assert sorted(tables.reps["segment"]) == ["Mid-Market", "Strategic", "Strategic", "Territory"]


# ------------------------------------------------------------ the documented example


def _doc_blocks(heading: str) -> dict[str, str]:
    """The first fenced block of each language under `heading` of docs/data_format.md."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "data_format.md").read_text("utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, str] = {}
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S):
        blocks.setdefault(lang or "text", body)
    return blocks


def test_documented_salesforce_example_loads_as_written(tmp_path):
    blocks = _doc_blocks("Your own column names (`data.columns`)")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "accounts_report.csv").write_text(blocks["text"], encoding="utf-8")
    reps = REPS.rename(columns={"rep_id": "Full Name", "segment": "Sales Segment"})
    write_reps(tmp_path / "exports" / "reps.xlsx", reps.drop(columns="name"))
    write_units(tmp_path / "units.gpkg", id_column="unit_id")
    doc = yaml.safe_load(blocks["yaml"])
    doc["data"]["units"] = "units.gpkg"
    doc["name"] = "docs example"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    tables = load_tables(load_scenario(tmp_path / "s.yaml"))
    accounts = tables.accounts
    assert accounts["account_id"].tolist() == [
        "0015g00000AbCdE",
        "0015g00000AbCdF",
        "0015g00000AbCdG",
    ]
    assert accounts["placed_by"].tolist() == ["zip"] * 3
    assert accounts["unit_id"].tolist() == ["NW", "SE", "SW"]
    assert accounts["current_rep_id"].tolist() == ["Ann Lee", "Bo Diaz", ""]
    # One header feeds two engine columns.
    assert tables.reps["rep_id"].tolist() == tables.reps["name"].tolist() == REPS["rep_id"].tolist()


def test_ramp_by_segment_must_name_a_reps_segment_as_spelt(tmp_path):
    scenario = salesforce_case(tmp_path)
    text = scenario.read_text(encoding="utf-8").replace(
        "quota: {method: potential, target: 1000000}",
        "quota: {method: potential, target: 1000000, plan_start: 2027-01-01,"
        " ramp: {by_segment: {strategic: [0.5, 1.0]}}}",
    )
    scenario.write_text(text, encoding="utf-8")
    with pytest.raises(
        ScenarioError, match=r"by_segment: 'strategic' is not.*\(did you mean 'Strategic'\?\)"
    ):
        load_tables(load_scenario(scenario))


def test_zip_outside_every_unit_is_reported_on_the_users_zip_column(tmp_path):
    scenario = salesforce_case(tmp_path)
    rows = salesforce_rows()
    rows[2][2] = "10001"  # New York: a real ZIP, far outside Georgia's squares
    path = write_csv(tmp_path / "accounts.csv", rows)
    with pytest.raises(InputError) as error:
        load_tables(load_scenario(scenario))
    message = str(error.value)
    assert message.startswith(f"{path}, row 3, id '00100001', column 'Billing Zip/Postal Code': ")
    assert "lies outside every unit" in message
    assert "(placed at the centroid of its ZIP code)" in message


def test_missing_engine_column_with_a_mapping_says_where_to_map_it(tmp_path):
    path = write_csv(tmp_path / "accounts.csv", salesforce_rows())
    columns = {k: v for k, v in SALESFORCE_COLUMNS.items() if k != "last_year_revenue"}
    with pytest.raises(InputError) as error:
        read_accounts(path, columns=columns)
    message = str(error.value)
    assert "missing column 'last_year_revenue'" in message
    assert message.endswith("or name the file's column for it in data.columns.accounts")


def test_edges_from_xlsx_with_mapped_columns_name_the_users_column(tmp_path):
    from territory_engine.io.edges import read_edges

    path = tmp_path / "ties.xlsx"
    frame = pd.DataFrame(
        {
            "From": ["Ann Lee", "Bo Diaz"],
            "To": ["00100000", "00100001"],
            "Type": ["rep-account", "rep-account"],
            "Strength": [0.8, 0.5],
        }
    )
    with pd.ExcelWriter(path) as writer:
        frame.to_excel(writer, sheet_name="Ties", index=False)
    columns = {"source": "From", "target": "To", "kind": "Type", "weight": "Strength"}
    edges = read_edges(path, columns=columns, sheet="Ties")
    assert edges["source"].tolist() == ["Ann Lee", "Bo Diaz"]
    assert edges["weight"].tolist() == [0.8, 0.5]
    frame.loc[1, "Strength"] = -1.0
    with pd.ExcelWriter(path) as writer:
        frame.to_excel(writer, sheet_name="Ties", index=False)
    with pytest.raises(InputError) as error:
        read_edges(path, columns=columns, sheet="Ties")
    assert str(error.value).startswith(f"{path}, row 3, column 'Strength': -1 is not allowed")


def test_reps_without_coordinates_live_at_their_home_zip(tmp_path):
    reps = REPS.drop(columns=["home_lat", "home_lon"]).assign(
        **{"Home ZIP": ["30301", "31401", "30601", "31701"]}
    )
    path = write_reps(tmp_path / "reps.csv", reps)
    got = read_reps(path, columns={"home_zip": "Home ZIP"})
    assert got["home_lat"].iloc[0] == pytest.approx(33.8444)
    assert got.geometry.x.iloc[0] == pytest.approx(-84.4741)
    reps.loc[2, "Home ZIP"] = "3060"  # padded to 03060, a New Hampshire ZIP: found
    reps.loc[3, "Home ZIP"] = "ABCDE"
    write_reps(path, reps)
    with pytest.raises(InputError) as error:
        read_reps(path, columns={"home_zip": "Home ZIP"})
    assert str(error.value).startswith(
        f"{path}, row 5, id 'Cy Park', column 'Home ZIP': 'ABCDE' is not a US ZIP code"
    )
