"""Seeded mutation fuzzer over the sample's input files and scenario (issue 15).

Usage::

    python benchmarks/fuzz.py --cases 10000 --seed 15 [--run-every 50] [--subprocess 20]

A small copy of the sample (Kentucky: its counties, accounts, reps, edges and
places) is written to a temporary folder with a scenario and one solved plan.
Each case then breaks one thing: a cell of a table (text, empty, huge, NaN,
inf, negative, Unicode), a row or a column (duplicated, dropped), the whole
file (truncated, latin-1, UTF-16, BOMs, mixed delimiters, garbage bytes), the
GeoPackage (a broken, empty or wrongly typed geometry, a lost CRS, corrupt
bytes), or the scenario (wrong types, anchors and aliases, deep nesting, tags
such as ``!!python/object/apply``, bad paths). The case runs
``territory-engine validate PLAN SCENARIO`` in-process (typer's runner); every
``--run-every``-th case runs ``territory-engine run --time-limit 2`` instead,
and ``--subprocess`` cases run as a real subprocess.

The property of every case: exit 0 (a valid plan), or exit 2/3 with one
``error:`` line naming a file of the case; never a traceback, never exit 4
(internal error), and nothing written on failure (the case folder, the sample
and the plan are unchanged; ``run`` leaves no plan folder and no store).

The script prints a Markdown table: cases by mutation kind, exit codes seen,
tracebacks, internal errors, multi-line errors, errors naming no file, files
written on failure; and the first few failing cases, each with its seed and
index, so ``--only INDEX`` replays one.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import csv
import dataclasses
import io
import json
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data"
STATE_FIPS = "21"  # Kentucky: 120 counties, 673 accounts, 4 reps (every segment)
STATE = "KY"

TABLES = ("accounts.csv", "reps.csv", "social_edges.csv", "places.csv")
GPKG = "counties.gpkg"
SCENARIO = "scenario.yaml"
MARKER = "object_constructed.txt"

# Values a cell is replaced with, by mutation kind.
CELL_VALUES: dict[str, list[str]] = {
    "cell_text": [
        "abc",
        "N/A",
        "1,234",
        "$1200",
        "12%",
        "TRUE",
        "0x1F",
        "1e",
        "--5",
        "1.2.3",
        "   ",
        "null",
        "None",
        "#REF!",
        "=1+1",
        "12 000",
        "1_000",
    ],
    "cell_empty": [""],
    "cell_huge": [
        "1e308",
        "1e309",
        "-1e309",
        "9" * 400,
        "x" * 100_000,
        "1" + "0" * 30,
        "4.9e-324",
        "123456789012345678901234567890",
    ],
    "cell_nan": ["NaN", "nan", "-nan", "NAN", "#N/A", "NA", "NULL"],
    "cell_inf": ["inf", "-inf", "Infinity", "+INF", "∞", "-Infinity"],
    "cell_negative": ["-1", "-0.0001", "-1e10", "-0", "-0.0"],
    "cell_unicode": [
        "Zürich",
        "東京",
        "\u202eevil",
        "\u200b",
        "١٢٣",
        "１２３",
        "e\u0301",
        "😀",
        "a\x00b",
        "\u2028",
        "a\nb",
        "\ufeffA",
        "Ω≈ç√",
        "R\u200b01",
    ],
}
TABLE_KINDS = (
    *CELL_VALUES,
    "dup_row",
    "drop_row",
    "drop_column",
    "dup_column",
    "rename_header",
    "extra_field",
    "short_row",
    "header_only",
    "empty_file",
    "truncate",
    "latin1",
    "utf16",
    "bom",
    "double_bom",
    "mixed_delimiter",
    "crlf",
    "garbage",
    "quote_imbalance",
    "blank_lines",
)
GPKG_KINDS = ("gpkg_geometry", "gpkg_unit_id", "gpkg_crs", "gpkg_corrupt")
YAML_KINDS = (
    "yaml_type",
    "yaml_delete",
    "yaml_unknown_key",
    "yaml_tag",
    "yaml_alias",
    "yaml_deep",
    "yaml_syntax",
    "yaml_encoding",
    "yaml_path",
    "yaml_extends",
)


# ---------------------------------------------------------------------------
# The small sample


def make_mini_sample(dest: Path, *, solve: bool = True) -> Path:
    """Write the Kentucky part of the sample, a scenario and a solved plan under `dest`.

    Returns `dest`, holding ``data/`` (the tables and ``counties.gpkg``),
    ``scenarios/scenario.yaml`` (paths ``../data/...``, output ``../out/plan``)
    and, when `solve`, ``plan/`` (the scenario solved for 5 s).
    """
    import geopandas as gpd
    import pandas as pd

    data = dest / "data"
    data.mkdir(parents=True, exist_ok=True)
    accounts = pd.read_csv(SAMPLE / "accounts.csv", dtype=str, keep_default_na=False)
    reps = pd.read_csv(SAMPLE / "reps.csv", dtype=str, keep_default_na=False)
    edges = pd.read_csv(SAMPLE / "social_edges.csv", dtype=str, keep_default_na=False)
    places = pd.read_csv(SAMPLE / "places.csv", dtype=str, keep_default_na=False)
    accounts = accounts[accounts["county_fips"].str.startswith(STATE_FIPS)].copy()
    reps = reps[reps["home_city"].str.endswith(f", {STATE}")].copy()
    accounts.loc[~accounts["current_rep_id"].isin(reps["rep_id"]), "current_rep_id"] = ""
    orphan = ~accounts["parent_account_id"].isin(accounts["account_id"])
    accounts.loc[orphan, "parent_account_id"] = ""
    ids = set(accounts["account_id"]) | set(reps["rep_id"])
    edges = edges[edges["source"].isin(ids) & edges["target"].isin(ids)]
    places = places[places["state"] == STATE]
    for frame, name in (
        (accounts, "accounts.csv"),
        (reps, "reps.csv"),
        (edges, "social_edges.csv"),
        (places, "places.csv"),
    ):
        frame.to_csv(data / name, index=False, lineterminator="\n")
    counties = gpd.read_file(SAMPLE / GPKG)
    counties = counties[counties["state"] == STATE]
    counties.to_file(data / GPKG, layer="counties", driver="GPKG")
    enterprise = accounts[accounts["segment"] == "enterprise"]["account_id"].iloc[0]
    enterprise_rep = reps[reps["segment"] == "enterprise"]["rep_id"].iloc[0]
    scenario = {
        "name": "fuzz base (Kentucky)",
        "data": {
            "accounts": "../data/accounts.csv",
            "reps": "../data/reps.csv",
            "units": f"../data/{GPKG}",
            "units_layer": "counties",
            "unit_id_column": "unit_id",
            "edges": "../data/social_edges.csv",
            "places": "../data/places.csv",
        },
        "territories": {"mode": "per_rep", "eligibility": "segment"},
        "balance": {"potential": {"tolerance": 0.2}, "workload_hours": {"tolerance": 0.25}},
        "objective": {"travel": 1.0, "disruption": 0.5},
        "constraints": {
            "contiguity": True,
            "locks": [{"account": enterprise, "rep": enterprise_rep}],
        },
        "quota": {
            "method": "blended",
            "growth": 0.08,
            "rounding": 1000,
            "plan_start": "2027-01-01",
            "ramp": {"schedule": [0.25, 0.5, 0.75, 1.0]},
            "seasonality": {"period": "quarter", "profile": [0.22, 0.24, 0.25, 0.29]},
            "attainment": {"draws": 200},
        },
        "solver": {"seed": 2027, "time_limit": 5},
        "output": {"folder": "../out/plan"},
    }
    (dest / "scenarios").mkdir(exist_ok=True)
    (dest / "scenarios" / SCENARIO).write_text(
        yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8"
    )
    if solve:
        import territory_engine as te

        path = dest / "scenarios" / SCENARIO
        te.run_scenario(te.load_scenario(path), output=dest / "plan", source=path)
    return dest


# ---------------------------------------------------------------------------
# Cases


@dataclasses.dataclass(frozen=True)
class Case:
    """One mutation: its kind, the file it breaks, and the seed of its choices."""

    index: int
    kind: str
    target: str  # a table, the GeoPackage, or the scenario
    command: str  # "validate" or "run"
    seed: str

    def rng(self) -> random.Random:
        return random.Random(self.seed)


def make_case(index: int, seed: int, *, run_every: int = 0) -> Case:
    """The `index`-th case of the seeded sequence (each case reproducible alone)."""
    rng = random.Random(f"{seed}:{index}")
    pick = rng.random()
    if pick < 0.62:
        kind, target = rng.choice(TABLE_KINDS), rng.choice(TABLES[:3] * 3 + TABLES[3:])
    elif pick < 0.75:
        kind, target = rng.choice(GPKG_KINDS), GPKG
    else:
        kind, target = rng.choice(YAML_KINDS), SCENARIO
    command = "run" if run_every and index % run_every == run_every - 1 else "validate"
    return Case(index, kind, target, command, f"{seed}:{index}:{kind}")


# ---------------------------------------------------------------------------
# Table mutations


def _read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _rows_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def mutate_table(source: Path, dest: Path, case: Case) -> None:
    """Write `source` broken as `case` says to `dest`."""
    rng = case.rng()
    kind = case.kind
    raw = source.read_bytes()
    rows = _read_rows(source)
    header, body = rows[0], rows[1:]
    r = rng.randrange(len(body))
    c = rng.randrange(len(header))
    if kind in CELL_VALUES:
        body[r][c] = rng.choice(CELL_VALUES[kind])
        data = _rows_text([header, *body]).encode("utf-8", "surrogatepass")
    elif kind == "dup_row":
        body.insert(rng.randrange(len(body) + 1), list(body[r]))
        data = _rows_text([header, *body]).encode()
    elif kind == "drop_row":
        del body[r]
        data = _rows_text([header, *body]).encode()
    elif kind == "drop_column":
        data = _rows_text([[v for i, v in enumerate(row) if i != c] for row in rows]).encode()
    elif kind == "dup_column":
        data = _rows_text([[*row, row[c]] for row in rows]).encode()
    elif kind == "rename_header":
        header[c] = rng.choice(
            [
                header[c].upper(),
                f" {header[c]} ",
                header[c] + "_x",
                header[(c + 1) % len(header)],
                "",
                "\ufeff" + header[c],
            ]
        )
        data = _rows_text([header, *body]).encode()
    elif kind == "extra_field":
        body[r].append(rng.choice(["x", "", "1"]))
        data = _rows_text([header, *body]).encode()
    elif kind == "short_row":
        body[r] = body[r][: rng.randrange(len(header))]
        data = _rows_text([header, *body]).encode()
    elif kind == "header_only":
        data = _rows_text([header]).encode()
    elif kind == "empty_file":
        data = rng.choice([b"", b"\n", b"\n\n\n", b" ", b"\xef\xbb\xbf"])
    elif kind == "truncate":
        data = raw[: rng.randrange(len(raw))]
    elif kind == "latin1":
        body[r][c] = rng.choice(["Café", "Müller", "Señor", "naïve"])
        data = _rows_text([header, *body]).encode("latin-1")
    elif kind == "utf16":
        data = raw.decode("utf-8").encode(rng.choice(["utf-16", "utf-16-le", "utf-16-be"]))
    elif kind == "bom":
        data = b"\xef\xbb\xbf" + raw
    elif kind == "double_bom":
        data = rng.choice([b"\xef\xbb\xbf\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]) + raw
    elif kind == "mixed_delimiter":
        lines = raw.decode().split("\n")
        delimiter = rng.choice([";", "\t", "|"])
        for i in rng.sample(range(len(lines)), k=min(len(lines), rng.randint(1, 5))):
            lines[i] = lines[i].replace(",", delimiter)
        data = "\n".join(lines).encode()
    elif kind == "crlf":
        data = raw.replace(b"\n", rng.choice([b"\r\n", b"\r"]))
    elif kind == "garbage":
        at = rng.randrange(len(raw))
        data = raw[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + raw[at:]
    elif kind == "quote_imbalance":
        body[r][c] = body[r][c] + '"'
        text = "\n".join(",".join(row) for row in [header, *body]) + "\n"
        data = text.encode()
    elif kind == "blank_lines":
        lines = raw.decode().split("\n")
        for _ in range(rng.randint(1, 5)):
            lines.insert(rng.randrange(1, len(lines)), rng.choice(["", ",,,,", "  "]))
        data = "\n".join(lines).encode()
    else:  # pragma: no cover - a kind without a mutation is a bug of the fuzzer
        raise ValueError(kind)
    dest.write_bytes(data)


# ---------------------------------------------------------------------------
# GeoPackage mutations


def _gpkg_blob(wkb: bytes, srs_id: int = 4326) -> bytes:
    """A GeoPackage geometry blob: header (no envelope, little endian) and WKB."""
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + wkb


def _geometries(rng: random.Random) -> bytes | None:
    import shapely

    choices: list[Callable[[], bytes | None]] = [
        lambda: shapely.to_wkb(shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])),  # bow-tie
        lambda: shapely.to_wkb(shapely.Polygon()),
        lambda: shapely.to_wkb(shapely.Point(-85, 37)),
        lambda: shapely.to_wkb(shapely.LineString([(-85, 37), (-84, 38)])),
        lambda: shapely.to_wkb(shapely.Polygon([(0, 0), (0, 0), (0, 0), (0, 0)])),
        lambda: shapely.to_wkb(shapely.Polygon([(1e300, 0), (2e300, 0), (2e300, 1e300)])),
        lambda: shapely.to_wkb(shapely.Polygon([(500, 500), (501, 500), (501, 501)])),
        lambda: shapely.to_wkb(
            shapely.GeometryCollection([shapely.Point(0, 0), shapely.box(-85, 37, -84, 38)])
        ),
        lambda: (
            struct.pack("<bI", 1, 3)
            + struct.pack("<I", 1)
            + struct.pack("<I", 4)
            + struct.pack("<8d", float("nan"), 0, 1, 1, 1, 0, float("nan"), 0)
        ),  # NaN ring
        lambda: bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))),  # garbage WKB
        lambda: None,
    ]
    return rng.choice(choices)()


def mutate_gpkg(source: Path, dest: Path, case: Case) -> None:
    """Copy the GeoPackage to `dest` and break it as `case` says."""
    rng = case.rng()
    shutil.copyfile(source, dest)
    if case.kind == "gpkg_corrupt":
        raw = bytearray(dest.read_bytes())
        if rng.random() < 0.5:
            raw = raw[: rng.randrange(len(raw))]
        else:
            for _ in range(rng.randint(1, 50)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
        dest.write_bytes(bytes(raw))
        return
    db = sqlite3.connect(dest)
    # The spatial-index triggers call SpatiaLite functions plain sqlite lacks.
    for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        db.create_function(name, 1, lambda _: 0)
    try:
        fids = [row[0] for row in db.execute("SELECT fid FROM counties")]
        fid = rng.choice(fids)
        if case.kind == "gpkg_geometry":
            wkb = _geometries(rng)
            blob = None if wkb is None else _gpkg_blob(wkb)
            if blob is not None and rng.random() < 0.2:
                blob = blob[: rng.randrange(len(blob))]  # truncated blob
            db.execute("UPDATE counties SET geom = ? WHERE fid = ?", (blob, fid))
        elif case.kind == "gpkg_unit_id":
            other = rng.choice(fids)
            value = rng.choice([None, "", "  ", "x" * 10_000, "😀", "-1"])
            if rng.random() < 0.4:
                db.execute(
                    "UPDATE counties SET unit_id = (SELECT unit_id FROM counties WHERE fid = ?)"
                    " WHERE fid = ?",
                    (other, fid),
                )
            else:
                db.execute("UPDATE counties SET unit_id = ? WHERE fid = ?", (value, fid))
        elif case.kind == "gpkg_crs":
            srs = rng.choice([0, -1, 999999])
            db.execute("UPDATE gpkg_geometry_columns SET srs_id = ?", (srs,))
            db.execute("UPDATE gpkg_contents SET srs_id = ?", (srs,))
        db.commit()
    finally:
        db.close()


# ---------------------------------------------------------------------------
# Scenario mutations


def _paths(tree: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key path of a nested dict/list."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _set(tree: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value


def _delete(tree: Any, path: tuple) -> None:
    for part in path[:-1]:
        tree = tree[part]
    del tree[path[-1]]


def _random_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            0,
            -1,
            1,
            2**70,
            -(2**70),
            0.5,
            -0.5,
            1e308,
            float("inf"),
            float("-inf"),
            float("nan"),
            "abc",
            "",
            "0.05",
            "2027-13-45",
            "yes",
            True,
            False,
            None,
            [],
            {},
            [1, 2],
            {"a": 1},
            [[[]]],
            "x" * 10_000,
            "../../etc/passwd",
            "😀",
        ]
    )


YAML_TAGS = [
    f"!!python/object/apply:os.system ['touch {MARKER}']",
    f"!!python/object/apply:subprocess.check_output [['touch', '{MARKER}']]",
    "!!python/name:os.system",
    "!!python/object/new:os.system [x]",
    "!!python/module:os",
    "!custom {a: 1}",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1, b: 2]",
    "!!timestamp 2027-01-01",
    "!!float nan",
    "!!int 99999999999999999999999",
    "!!str 12",
]


def mutate_scenario(source: Path, dest: Path, case: Case, *, absolute: dict[str, str]) -> None:
    """Write the scenario broken as `case` says to `dest`.

    `absolute` maps each ``data.*`` key to the path it must point to from `dest`
    (the sample's file, or the mutated copy beside `dest`).
    """
    rng = case.rng()
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    raw["data"].update(absolute)
    raw["output"]["folder"] = "out/plan"
    kind = case.kind
    text: str | None = None
    data: bytes | None = None
    paths = list(_paths(raw))
    if kind == "yaml_type":
        _set(raw, rng.choice(paths), _random_value(rng))
    elif kind == "yaml_delete":
        _delete(raw, rng.choice(paths))
    elif kind == "yaml_unknown_key":
        dicts = [p for p in paths if isinstance(_get(raw, p), dict)]
        parent = _get(raw, rng.choice(dicts)) if dicts and rng.random() < 0.8 else raw
        key = rng.choice(list(parent)) if parent else "x"
        parent[rng.choice([key + "s", key.upper(), key[:-1] or "y", "unknown"])] = 1
    elif kind == "yaml_tag":
        tag = rng.choice(YAML_TAGS)
        lines = yaml.safe_dump(raw, sort_keys=False).splitlines()
        keyed = [i for i, line in enumerate(lines) if ": " in line and not line.endswith(":")]
        i = rng.choice(keyed)
        key = lines[i].split(": ", 1)[0]
        lines[i] = f"{key}: {tag}"
        text = "\n".join(lines) + "\n"
    elif kind == "yaml_alias":
        base = yaml.safe_dump(raw, sort_keys=False)
        text = rng.choice(
            [
                # a valid anchor and alias: the same band twice
                base.replace(
                    "potential:\n    tolerance: 0.2", "potential: &band\n    tolerance: 0.2", 1
                )
                + "objective_band: *band\n",
                # an alias bomb: 10^9 strings if expanded
                "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
                + base.replace("name:", "bomb: *i\nname:"),
                # an alias used where a list of locks goes
                "x: &x [*y]\n" + base,  # undefined alias
                base.replace("locks:", "locks: &l").rstrip() + "\nextra_locks: *l\n",
                # a recursive alias (a list that holds itself)
                "name: &n [*n]\n" + base,
                base.replace("name:", "description: &d [1, 2]\nname:", 1).replace(
                    "growth: 0.08", "growth: *d"
                ),
                "<<: {name: merged}\n" + base,
            ]
        )
    elif kind == "yaml_deep":
        depth = rng.choice([50, 500, 5_000, 50_000])
        where = rng.choice(["name", "data", "balance", "whatif", "unknown"])
        nested = rng.choice(["[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth])
        base = yaml.safe_dump({k: v for k, v in raw.items() if k != where}, sort_keys=False)
        text = base + f"{where}: {nested}\n"
        if rng.random() < 0.3:  # block style nesting
            text = (
                base
                + f"{where}:\n"
                + "".join("  " * i + f"k{i}:\n" for i in range(min(depth, 2000)))
            )
    elif kind == "yaml_syntax":
        base = yaml.safe_dump(raw, sort_keys=False)
        at = rng.randrange(len(base))
        text = rng.choice(
            [
                base[:at],
                base[:at] + "\t" + base[at:],
                base[:at] + ": : [" + base[at:],
                base + "name: duplicate key\n",
                base.replace("\n", "\n ", 1),
                "--- \n" + base + "---\nname: second document\n",
                "- a\n- b\n",
                "just text",
                "42",
                "",
                "# only a comment\n",
                "null\n",
                base + "\x00",
                base.replace("name:", "name: \x07 bell", 1),
            ]
        )
    elif kind == "yaml_encoding":
        base = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True).replace(
            "fuzz base", "fuzz basé", 1
        )
        data = rng.choice(
            [
                base.encode("latin-1"),
                base.encode("utf-16"),
                base.encode("utf-16-be"),
                b"\xef\xbb\xbf" + base.encode(),
                b"\xff\xfe" + base.encode(),
                base.encode("cp1252"),
                bytes(rng.randrange(256) for _ in range(200)),
            ]
        )
    elif kind == "yaml_path":
        key = rng.choice(["accounts", "reps", "units", "edges", "places", "travel_times"])
        value = rng.choice(
            [
                "",
                ".",
                "..",
                "missing.csv",
                "accounts.csv.bak",
                "/",
                "/nonexistent/a.csv",
                "a\x00b.csv",
                "x" * 5000 + ".csv",
                "/".join(["d" * 200] * 30) + ".csv",
                "~/accounts.csv",
                SCENARIO,
                "/dev/null",
                "/etc/hostname",
                "accounts.xls",
                "../" * 40 + "etc/passwd",
                "data:,hello",
                "http://example.com/a.csv",
                12,
                ["a.csv"],
                {"h3": 99},
                {"h3": "6"},
                {"h3": 7, "x": 1},
            ]
        )
        raw["data"][key] = value
        if rng.random() < 0.3:
            raw.setdefault("whatif", {})["lock_accounts"] = [{"rep": "R01", "file": value}]
            raw["data"][key] = absolute.get(key, raw["data"].get(key))
            if raw["data"][key] is None:
                del raw["data"][key]
    elif kind == "yaml_extends":
        raw["extends"] = rng.choice(
            [
                SCENARIO,
                "missing.yaml",
                "",
                ".",
                "/",
                "a\x00b.yaml",
                "e" * 5000 + ".yaml",
                12,
                ["a.yaml"],
                None,
                "/dev/null",
                "accounts.csv",
                GPKG,
            ]
        )
    else:  # pragma: no cover
        raise ValueError(kind)
    if data is None:
        data = (text if text is not None else yaml.safe_dump(raw, sort_keys=False)).encode(
            "utf-8", "surrogatepass"
        )
    dest.write_bytes(data)


def _get(tree: Any, path: tuple) -> Any:
    for part in path:
        tree = tree[part]
    return tree


# ---------------------------------------------------------------------------
# Running a case


@dataclasses.dataclass
class Outcome:
    """What one case did."""

    case: Case
    exit_code: int
    stderr: str
    traceback: bool
    multi_line: bool
    names_file: bool
    written: list[str]
    seconds: float

    @property
    def failed(self) -> bool:
        return (
            self.exit_code not in (0, 2, 3)
            or self.traceback
            or self.multi_line
            or not self.names_file
            or bool(self.written)
        )


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder`: relative path -> (size, mtime ns)."""
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return out


class Fuzzer:
    """Cases on one small sample (made once), each in its own folder."""

    def __init__(self, base: Path, work: Path) -> None:
        self.base = base
        self.work = work
        self.plan = base / "plan"
        self.base_tree = _tree(base)
        self.base_scenario = yaml.safe_load((base / "scenarios" / SCENARIO).read_text("utf-8"))

    def prepare(self, case: Case) -> Path:
        """The case folder: the broken file and a scenario pointing at it."""
        folder = self.work / f"case{case.index}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        data = self.base / "data"
        absolute = {
            "accounts": str(data / "accounts.csv"),
            "reps": str(data / "reps.csv"),
            "units": str(data / GPKG),
            "edges": str(data / "social_edges.csv"),
            "places": str(data / "places.csv"),
        }
        key = {
            "accounts.csv": "accounts",
            "reps.csv": "reps",
            "social_edges.csv": "edges",
            "places.csv": "places",
            GPKG: "units",
        }.get(case.target)
        if case.target in TABLES:
            mutate_table(data / case.target, folder / case.target, case)
        elif case.target == GPKG:
            mutate_gpkg(data / GPKG, folder / GPKG, case)
        if key is not None:
            absolute[key] = case.target  # relative to the case's scenario
        scenario = folder / SCENARIO
        if case.target == SCENARIO:
            mutate_scenario(self.base / "scenarios" / SCENARIO, scenario, case, absolute=absolute)
        else:
            raw = copy.deepcopy(self.base_scenario)
            raw["data"].update(absolute)
            raw["output"]["folder"] = "out/plan"
            scenario.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return folder

    def args(self, case: Case, folder: Path) -> list[str]:
        scenario = str(folder / SCENARIO)
        if case.command == "run":
            return [
                "run",
                scenario,
                "--time-limit",
                "2",
                "--quiet",
                "--output",
                str(folder / "out" / "plan"),
                "--store",
                str(folder / "out" / "plans.sqlite"),
            ]
        return ["validate", str(self.plan), scenario]

    def run(self, case: Case, *, subprocess_: bool = False) -> Outcome:
        """Prepare and run `case`, then check what it left behind."""
        folder = self.prepare(case)
        before = _tree(folder)
        args = self.args(case, folder)
        start = time.perf_counter()
        if subprocess_:
            code, stdout, stderr = _in_subprocess(args, folder)
            escaped = False
        else:
            code, stdout, stderr, escaped = _in_process(args, folder)
        seconds = time.perf_counter() - start
        after = _tree(folder)
        written = sorted(set(after) - set(before))
        written += [name for name in before if after.get(name) != before[name]]
        base_after = _tree(self.base)
        written += [f"base:{n}" for n in base_after if base_after[n] != self.base_tree.get(n)]
        if case.command == "run" and code in (0, 3):
            written = _judge_run_output(folder, code, written)
        lines = [line for line in stderr.splitlines() if line.strip()]
        traceback = escaped or "Traceback (most recent call last)" in stdout + stderr
        error_lines = [line for line in lines if line.startswith(("error:", "internal error:"))]
        multi_line = code == 2 and len(lines) != 1
        names = code != 2 or any(_names_a_file(line, folder, self.base) for line in error_lines)
        outcome = Outcome(case, code, stderr, traceback, multi_line, names, written, seconds)
        if not outcome.failed:
            shutil.rmtree(folder, ignore_errors=True)
        return outcome


def _judge_run_output(folder: Path, code: int, written: list[str]) -> list[str]:
    """A run that ends 0 (or 3 after solving) writes its plan and records it: check that.

    Returns the files written that should not be: everything, when exit 0 has no
    feasible plan.json, or exit 3 wrote a plan that says it is feasible.
    """
    plan_json = folder / "out" / "plan" / "plan.json"
    if not plan_json.is_file():
        if code == 0:
            return [*written, "(exit 0 without plan.json)"]
        return written  # exit 3 before solving: nothing may be written
    feasible = json.loads(plan_json.read_text(encoding="utf-8")).get("feasible")
    if feasible is not (code == 0):
        return [*written, f"(plan.json feasible={feasible} with exit {code})"]
    return [w for w in written if not w.startswith("out/")]


def _names_a_file(line: str, folder: Path, base: Path) -> bool:
    """Whether an error line names a file: one of the case, or the absolute path given.

    A scenario may name any path (``/etc/passwd``, ``/dev/null``); the error then
    starts with that resolved path.
    """
    if line.startswith("error: /"):
        return True
    names = {str(folder), str(base)}
    for root in (folder, base / "data", base / "plan", base / "scenarios"):
        for p in root.glob("*"):
            names |= {str(p), p.name}
    return any(name in line for name in names)


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


_COMMAND: list[Any] = []


def _in_process(args: list[str], folder: Path) -> tuple[int, str, str, bool]:
    """The CLI through typer's runner: (exit code, stdout, stderr, exception escaped)."""
    from unittest import mock

    import typer.main
    from typer.testing import CliRunner

    from territory_engine.cli.main import app

    if not _COMMAND:  # building the click command takes 50 ms; once is enough
        _COMMAND.append(typer.main.get_command(app))
    os.environ.pop("TERRITORY_ENGINE_DEBUG", None)
    with _cwd(folder), mock.patch("typer.testing._get_command", lambda _app: _COMMAND[0]):
        result = CliRunner().invoke(app, args, catch_exceptions=True)
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr, escaped


def _in_subprocess(args: list[str], folder: Path) -> tuple[int, str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("TERRITORY_ENGINE_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "territory_engine.cli.main", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout, done.stderr


# ---------------------------------------------------------------------------
# The report


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of the outcomes, one row per mutation kind and a total."""
    by_kind: dict[str, list[Outcome]] = collections.defaultdict(list)
    for o in outcomes:
        by_kind[o.case.kind].append(o)
    head = (
        "| mutation | cases | exit 0 | exit 2 | exit 3 | exit 4 | other exit | tracebacks "
        "| multi-line errors | errors naming no file | files written on failure |"
    )
    lines = [head, "|" + " --- |" * 11]

    def row(name: str, group: list[Outcome]) -> str:
        codes = collections.Counter(o.exit_code for o in group)
        other = sum(n for c, n in codes.items() if c not in (0, 2, 3, 4))
        return (
            f"| {name} | {len(group):,} | {codes[0]:,} | {codes[2]:,} | {codes[3]:,} "
            f"| {codes[4]:,} | {other:,} | {sum(o.traceback for o in group)} "
            f"| {sum(o.multi_line for o in group)} | {sum(not o.names_file for o in group)} "
            f"| {sum(bool(o.written) for o in group)} |"
        )

    for kind in sorted(by_kind):
        lines.append(row(kind, by_kind[kind]))
    lines.append(row("**all**", outcomes))
    return "\n".join(lines)


def _record(outcome: Outcome) -> dict[str, Any]:
    """One outcome as a JSON line (``--log``), enough to rebuild the table."""
    return {
        **dataclasses.asdict(outcome.case),
        "exit_code": outcome.exit_code,
        "traceback": outcome.traceback,
        "multi_line": outcome.multi_line,
        "names_file": outcome.names_file,
        "written": outcome.written,
        "seconds": round(outcome.seconds, 3),
        "stderr": outcome.stderr[-300:] if outcome.failed else "",
    }


def _from_record(row: dict[str, Any]) -> Outcome:
    case = Case(row["index"], row["kind"], row["target"], row["command"], row["seed"])
    return Outcome(
        case,
        row["exit_code"],
        row["stderr"],
        row["traceback"],
        row["multi_line"],
        row["names_file"],
        row["written"],
        row["seconds"],
    )


def _worker(job: tuple[Path, Path, int, list[int], int, int, Path | None]) -> list[Outcome]:
    base, work, seed, indices, run_every, every, log = job
    fuzzer = Fuzzer(base, work)
    outcomes = []
    start = time.perf_counter()
    sink = open(log, "a", encoding="utf-8") if log else None
    for n, i in enumerate(indices):
        case = make_case(i, seed, run_every=run_every)
        outcome = fuzzer.run(case, subprocess_=bool(every) and i % every == 0)
        outcomes.append(outcome)
        if sink is not None:
            sink.write(json.dumps(_record(outcome)) + "\n")
            sink.flush()
        if outcome.failed:
            print(
                f"FAIL case {i} ({case.kind}, {case.target}, {case.command}): exit "
                f"{outcome.exit_code}, written {outcome.written[:3]}: "
                f"{outcome.stderr.strip()[-300:]!r}",
                file=sys.stderr,
                flush=True,
            )
        if (n + 1) % 500 == 0:
            print(
                f"{work.name}: {n + 1:,} cases, {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    if sink is not None:
        sink.close()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--run-every",
        type=int,
        default=50,
        help="every N-th case runs `run --time-limit 2` (0: never)",
    )
    parser.add_argument(
        "--subprocess",
        type=int,
        default=20,
        help="this many cases (spread evenly) run in a subprocess",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--start", type=int, default=0, help="index of the first case")
    parser.add_argument("--only", type=int, default=None, help="replay one case by index")
    parser.add_argument(
        "--log",
        type=Path,
        default=None,
        help="append each outcome to this JSON-lines file as it ends",
    )
    parser.add_argument(
        "--table-from", type=Path, default=None, help="print the table of a --log file and exit"
    )
    args = parser.parse_args(argv)
    if args.table_from is not None:
        rows = [json.loads(line) for line in args.table_from.read_text("utf-8").splitlines()]
        outcomes = [_from_record(row) for row in rows if row]
        print(
            f"{len(outcomes):,} cases from {args.table_from.name}, "
            f"{sum(o.case.command == 'run' for o in outcomes)} by `run`\n"
        )
        print(table(outcomes))
        return 1 if any(o.failed for o in outcomes) else 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="te-fuzz-") as tmp:
        base = make_mini_sample(Path(tmp) / "base")
        indices = (
            [args.only]
            if args.only is not None
            else list(range(args.start, args.start + args.cases))
        )
        every = max(1, len(indices) // args.subprocess) if args.subprocess else 0
        jobs = [
            (
                base,
                Path(tmp) / f"cases{j}",
                args.seed,
                indices[j :: args.jobs],
                args.run_every,
                every,
                args.log,
            )
            for j in range(max(1, args.jobs))
        ]
        if len(jobs) == 1:
            outcomes = _worker(jobs[0])
        else:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
                outcomes = [o for part in pool.map(_worker, jobs) for o in part]
    seconds = time.perf_counter() - start
    n_run = sum(o.case.command == "run" for o in outcomes)
    n_sub = sum(1 for i in indices if every and i % every == 0)
    print(
        f"{len(outcomes):,} cases (seed {args.seed}; {n_run} by `run --time-limit 2`, "
        f"{n_sub} in a subprocess, the rest `validate` in-process; {args.jobs} worker(s)) "
        f"in {seconds:.0f} s\n"
    )
    print(table(outcomes))
    failed = [o for o in outcomes if o.failed]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
