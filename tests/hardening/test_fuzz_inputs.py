"""Thousands of broken inputs: the loaders and the scenario never crash, never write.

Two kinds of test (issue 15):

- **Hypothesis properties** over :func:`territory_engine.io.tables.read_table`
  and the table loaders (any CSV text: a frame or one ``InputError`` naming the
  file) and over :func:`territory_engine.config.load_scenario` (any YAML
  document: a scenario or one ``ScenarioError`` line naming the file).
- **The mutation fuzzer** of ``benchmarks/fuzz.py`` on a small copy of the
  sample (Kentucky): each case breaks one cell, row, column, file, GeoPackage
  geometry or scenario setting and runs ``territory-engine validate`` in-process
  (a few ``run --time-limit 2`` and a subprocess; 300 cases). Exit 0, or exit 2/3 with one
  line naming the file; no traceback, no exit 4, nothing written.

Then one regression test per bug the fuzzer found. The long run (10,000 cases)
is ``python benchmarks/fuzz.py``; ``-m slow`` runs 2,000 here.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from benchmarks import fuzz
from territory_engine.cli.main import app
from territory_engine.config import load_scenario
from territory_engine.errors import InputError, ScenarioError
from territory_engine.io.accounts import read_accounts
from territory_engine.io.edges import read_edges
from territory_engine.io.reps import read_reps
from territory_engine.io.tables import read_table

DEFAULT_CASES = 300  # 0.06-0.1 s each on 2 cores
SEED = 15


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    """The Kentucky sample with its scenario and a solved plan (about 5 s)."""
    return fuzz.make_mini_sample(tmp_path_factory.mktemp("fuzz") / "base")


@pytest.fixture(scope="module")
def fuzzer(mini, tmp_path_factory) -> fuzz.Fuzzer:
    return fuzz.Fuzzer(mini, tmp_path_factory.mktemp("cases"))


def _explain(outcome: fuzz.Outcome) -> str:
    c = outcome.case
    return (
        f"case {c.index} ({c.kind} on {c.target}, {c.command}): exit {outcome.exit_code}, "
        f"traceback={outcome.traceback}, multi_line={outcome.multi_line}, "
        f"names_file={outcome.names_file}, written={outcome.written[:5]}\n{outcome.stderr[-2000:]}"
    )


# ---------------------------------------------------------------------------
# The mutation fuzzer


def test_base_sample_validates(fuzzer):
    """The unbroken small sample passes: so a failure below is the mutation's."""
    case = fuzz.Case(0, "none", "none", "validate", "0")
    folder = fuzzer.prepare(case)
    code, stdout, stderr, escaped = fuzz._in_process(fuzzer.args(case, folder), folder)
    assert (code, escaped) == (0, False), stderr
    assert "every rule holds" in stdout


@pytest.mark.parametrize("start", range(0, DEFAULT_CASES, 40))
def test_mutations_fail_cleanly(fuzzer, start):
    """40 seeded cases per test: every outcome meets the property."""
    failures = []
    for index in range(start, start + 40):
        outcome = fuzzer.run(fuzz.make_case(index, SEED))
        if outcome.failed:
            failures.append(_explain(outcome))
    assert not failures, "\n\n".join(failures)


def test_every_mutation_kind_is_exercised():
    """The default cases cover every kind of mutation the fuzzer knows (most of them)."""
    kinds = {fuzz.make_case(i, SEED).kind for i in range(DEFAULT_CASES)}
    every = {*fuzz.TABLE_KINDS, *fuzz.GPKG_KINDS, *fuzz.YAML_KINDS}
    assert len(kinds) >= 0.9 * len(every), sorted(every - kinds)


@pytest.mark.parametrize("kind", ["cell_text", "drop_column", "yaml_type", "gpkg_geometry"])
def test_run_writes_nothing_on_bad_input(fuzzer, kind):
    """``run`` on broken input: exit 2 leaves no plan folder and no plan store.

    The first case of each kind that breaks the accounts (or units, or scenario)
    badly enough to be refused.
    """
    for index in range(2000):
        case = fuzz.make_case(index, SEED)
        if case.kind != kind or case.target == "places.csv":
            continue
        case = fuzz.Case(case.index, case.kind, case.target, "run", case.seed)
        outcome = fuzzer.run(case)
        assert not outcome.failed, _explain(outcome)
        if outcome.exit_code == 2:
            assert not (fuzzer.work / f"case{index}" / "out").exists()
            return
    pytest.fail(f"no {kind} case was refused")


def test_subprocess_sample(fuzzer):
    """A few cases as a real ``territory-engine`` process: the same one-line errors."""
    picked = [fuzz.make_case(i, SEED) for i in (24,)]  # a latin-1 scenario (once exit 4)
    for case in picked:
        outcome = fuzzer.run(case, subprocess_=True)
        assert not outcome.failed, _explain(outcome)
        assert "Traceback" not in outcome.stderr


@pytest.mark.slow
@pytest.mark.parametrize("start", range(DEFAULT_CASES, DEFAULT_CASES + 2000, 250))
def test_mutations_fail_cleanly_long(fuzzer, start):
    failures = []
    for index in range(start, start + 250):
        outcome = fuzzer.run(fuzz.make_case(index, SEED, run_every=50))
        if outcome.failed:
            failures.append(_explain(outcome))
    assert not failures, "\n\n".join(failures)


# ---------------------------------------------------------------------------
# Hypothesis: the table loaders

_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "nan", "inf", "-1", "1e309", "1,5", "A000001", "R01", "2027-01-01"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
_HEADERS = [
    "account_id",
    "name",
    "lat",
    "lon",
    "segment",
    "potential",
    "last_year_revenue",
    "workload_hours",
    "current_rep_id",
    "parent_account_id",
    "zip",
    "unit_id",
]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def _one_line(exc: Exception, path: Path) -> None:
    text = str(exc)
    assert "\n" not in text, text
    assert str(path) in text, text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(st.sampled_from(_HEADERS), min_size=1, max_size=len(_HEADERS), unique=True),
    rows=st.lists(st.lists(_cells, min_size=0, max_size=len(_HEADERS) + 2), max_size=6),
)
def test_read_accounts_any_csv(tmp_path, header, rows):
    """Any CSV with account-like columns: a table of accounts, or one InputError line."""
    path = tmp_path / "accounts.csv"
    rows = [(row + [""] * len(header))[: len(header)] for row in rows]
    try:
        _write_csv(path, header, rows)
    except UnicodeEncodeError:
        return  # a lone surrogate: no file can hold it
    try:
        accounts = read_accounts(path)
    except InputError as exc:
        _one_line(exc, path)
    else:
        assert len(accounts) >= 1
        assert accounts["account_id"].is_unique
        assert (accounts[["potential", "last_year_revenue"]] >= 0).all().all()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300), kind=st.sampled_from(["reps", "edges", "table"]))
def test_loaders_any_bytes(tmp_path, data, kind):
    """Any bytes as a CSV (garbage, BOMs, UTF-16, NULs): a frame or one InputError line."""
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(data)
    read = {
        "reps": read_reps,
        "edges": read_edges,
        "table": lambda p: read_table(p, kind="table", required=()),
    }[kind]
    try:
        read(path)
    except InputError as exc:
        _one_line(exc, path)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(min_size=1, max_size=400),
    ext=st.sampled_from(["gpkg", "geojson", "parquet", "xlsx"]),
)
def test_other_formats_any_bytes(tmp_path, data, ext):
    """Garbage saved as a GeoPackage, GeoJSON, Parquet or workbook: one InputError line."""
    path = tmp_path / f"units.{ext}"
    path.write_bytes(data)
    try:
        read_table(path, kind="units", required=())
    except InputError as exc:
        _one_line(exc, path)


# ---------------------------------------------------------------------------
# Hypothesis: the scenario loader

_yaml_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["../data/accounts.csv", "a\x00b", "x" * 300, "!!python/name:os.system"]),
)
_yaml_values = st.recursive(
    _yaml_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["h3", "tolerance", "low", "high", "rep", "account", "file", "x"]),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=10,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    section=st.sampled_from(
        [
            "name",
            "data",
            "territories",
            "balance",
            "objective",
            "constraints",
            "quota",
            "solver",
            "output",
            "whatif",
            "extends",
        ]
    ),
    key=st.sampled_from(
        [
            "accounts",
            "units",
            "mode",
            "potential",
            "travel",
            "locks",
            "method",
            "seed",
            "folder",
            "add_reps",
            "regions",
            "time_limit",
        ]
    ),
    value=_yaml_values,
)
def test_scenario_any_value(mini, tmp_path, section, key, value):
    """Any value at any place of a valid scenario: a Scenario, or one ScenarioError line."""
    raw = yaml.safe_load((mini / "scenarios" / fuzz.SCENARIO).read_text(encoding="utf-8"))
    for name in ("accounts", "reps", "units", "edges", "places"):
        raw["data"][name] = str(mini / "data" / Path(raw["data"][name]).name)
    if section in ("name", "extends") or not isinstance(raw.get(section), dict):
        raw[section] = value
    else:
        raw[section][key] = value
    path = tmp_path / "scenario.yaml"
    try:
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    except UnicodeEncodeError:
        return
    try:
        load_scenario(path)
    except (ScenarioError, InputError) as exc:
        text = str(exc)
        assert "\n" not in text, text
        assert str(path) in text or text.startswith("/"), text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
def test_scenario_any_text(tmp_path, text):
    """Any text as a scenario file: one ScenarioError line naming it (never a crash)."""
    path = tmp_path / "scenario.yaml"
    try:
        path.write_text(text, encoding="utf-8")
    except UnicodeEncodeError:
        return
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------------------
# Regressions: one per bug the fuzzer found


def _scenario_at(mini: Path, folder: Path, text: str | bytes, **data: str) -> Path:
    path = folder / "scenario.yaml"
    if isinstance(text, str):
        raw = yaml.safe_load((mini / "scenarios" / fuzz.SCENARIO).read_text(encoding="utf-8"))
        for name in ("accounts", "reps", "units", "edges", "places"):
            raw["data"][name] = str(mini / "data" / Path(raw["data"][name]).name)
        raw["data"].update(data)
        text = yaml.safe_dump(raw) + text
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _validate(mini: Path, scenario: Path) -> tuple[int, str]:
    env = {"TERRITORY_ENGINE_DEBUG": None}
    result = CliRunner().invoke(app, ["validate", str(mini / "plan"), str(scenario)], env=env)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stderr


def test_python_tag_constructs_nothing(mini, tmp_path, monkeypatch):
    """``!!python/object/apply:os.system`` fails in one line; the command never runs."""
    monkeypatch.chdir(tmp_path)
    path = _scenario_at(
        mini, tmp_path, f"description: !!python/object/apply:os.system ['touch {fuzz.MARKER}']\n"
    )
    code, stderr = _validate(mini, path)
    assert code == 2
    assert stderr.count("\n") == 1, stderr  # was several lines (PyYAML's caret excerpt)
    assert f"{path} (line" in stderr and "never run" in stderr
    assert not (tmp_path / fuzz.MARKER).exists()


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("name: Café\n".encode("latin-1"), "is not UTF-8 text"),
        ("name: x\n".encode("utf-16"), "is UTF-16 text"),
        (b"name: " + b"[" * 20_000 + b"]" * 20_000 + b"\n", "nested too deeply"),
        (b"name: &n [*n]\n", "nested more than"),
        (b"a: " + b"{a: " * 40 + b"1" + b"}" * 40 + b"\n", "nested more than"),
    ],
    ids=["latin-1", "utf-16", "deep-flow", "self-alias", "deep-mapping"],
)
def test_scenario_bytes_fail_in_one_line(mini, tmp_path, data, said):
    """Were exit 4: UnicodeDecodeError, RecursionError (and a self-holding alias)."""
    path = _scenario_at(mini, tmp_path, data)
    code, stderr = _validate(mini, path)
    assert code == 2, stderr
    assert stderr.startswith(f"error: {path}") and said in stderr
    assert stderr.count("\n") == 1


def test_scenario_with_bom_loads(mini, tmp_path):
    """An editor's UTF-8 byte-order mark is no error."""
    path = _scenario_at(mini, tmp_path, "")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_scenario(path).name == "fuzz base (Kentucky)"


@pytest.mark.parametrize(
    "value",
    ["a\x00b.csv", "x" * 5000 + ".csv", "/".join(["d" * 200] * 30) + ".csv"],
    ids=["nul-byte", "name-too-long", "path-too-long"],  # the last: its folder can't be listed
)
@pytest.mark.parametrize("where", ["data", "extends", "lock_file"])
def test_unreadable_paths_are_not_found(mini, tmp_path, value, where):
    """A NUL byte, an over-long name or path: "not found", naming the path (was exit 4)."""
    if where == "data":
        path = _scenario_at(mini, tmp_path, "", accounts=value)
    elif where == "extends":
        path = _scenario_at(mini, tmp_path, yaml.safe_dump({"extends": value}))
    else:
        path = _scenario_at(
            mini,
            tmp_path,
            yaml.safe_dump({"whatif": {"lock_accounts": [{"rep": "R01", "file": value}]}}),
        )
    code, stderr = _validate(mini, path)
    assert code == 2, stderr
    assert "not found" in stderr and stderr.count("\n") == 1
    assert str(tmp_path) in stderr  # resolved against the scenario's folder


def test_paths_resolved_against_the_scenario_and_reported(mini, tmp_path, monkeypatch):
    """Relative paths are the scenario's, not the working directory's; errors show them resolved.

    A path outside the scenario's folder is allowed (README, "Scenario format").
    """
    monkeypatch.chdir(mini)  # a cwd where data/accounts.csv does exist
    folder = tmp_path / "scenarios"
    folder.mkdir()
    path = _scenario_at(mini, folder, "", accounts="../data/accounts.csv")
    with pytest.raises(ScenarioError, match=r"data\.accounts file not found") as info:
        load_scenario(path)
    assert str(tmp_path / "data" / "accounts.csv") in str(info.value)
    outside = _scenario_at(
        mini, folder, "", accounts=os.path.relpath(mini / "data" / "accounts.csv", folder)
    )
    assert load_scenario(outside).data.accounts == (mini / "data" / "accounts.csv").resolve()


@pytest.mark.parametrize("value", ["/dev/null", "."], ids=["device", "directory"])
def test_not_a_regular_file(mini, tmp_path, value):
    """/dev/null or a folder as the accounts file: said so (was 'unsupported file type')."""
    path = _scenario_at(mini, tmp_path, "", accounts=value)
    code, stderr = _validate(mini, path)
    assert code == 2
    assert "is not a regular file" in stderr or "is a directory" in stderr, stderr


def _gpkg_copy(mini: Path, folder: Path) -> Path:
    target = folder / "counties.gpkg"
    target.write_bytes((mini / "data" / "counties.gpkg").read_bytes())
    return target


def _sql(gpkg: Path, statement: str, params: tuple = ()) -> None:
    db = sqlite3.connect(gpkg)
    for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        db.create_function(name, 1, lambda _: 0)
    db.execute(statement, params)
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("srs_id", "said"),
    [(999_999, "has no CRS"), (-1, "cannot be converted")],
)
def test_gpkg_unknown_or_undefined_srs(mini, tmp_path, srs_id, said):
    """An srs_id missing from the GeoPackage (GDAL warned on stderr) or the "undefined
    Cartesian" one (-1: ProjError, exit 4). Srs_id 0, "undefined geographic", reads as
    longitude/latitude and is accepted."""
    gpkg = _gpkg_copy(mini, tmp_path)
    _sql(gpkg, "UPDATE gpkg_geometry_columns SET srs_id = ?", (srs_id,))
    _sql(gpkg, "UPDATE gpkg_contents SET srs_id = ?", (srs_id,))
    code, stderr = _validate(mini, _scenario_at(mini, tmp_path, "", units=str(gpkg)))
    assert code == 2
    assert stderr.count("\n") == 1, stderr  # no RuntimeWarning above the error
    assert str(gpkg) in stderr and "column 'geometry'" in stderr and said in stderr


def test_gpkg_unreadable_geometry_blob(mini, tmp_path):
    """A ring whose WKB does not close (GEOSException, was exit 4)."""
    gpkg = _gpkg_copy(mini, tmp_path)
    ring = (
        struct.pack("<bII", 1, 3, 1) + struct.pack("<I", 3) + struct.pack("<6d", 0, 0, 1, 0, 1, 1)
    )
    _sql(gpkg, "UPDATE counties SET geom = ? WHERE fid = 1", (fuzz._gpkg_blob(ring),))
    code, stderr = _validate(mini, _scenario_at(mini, tmp_path, "", units=str(gpkg)))
    assert code == 2
    assert str(gpkg) in stderr and "geometry that cannot be read" in stderr


def test_gpkg_text_not_utf8(mini, tmp_path):
    """A name stored as latin-1 bytes in the GeoPackage (UnicodeDecodeError, was exit 4)."""
    gpkg = _gpkg_copy(mini, tmp_path)
    _sql(
        gpkg,
        "UPDATE counties SET name = CAST(? AS TEXT) WHERE fid = 1",
        ("Café".encode("latin-1"),),
    )
    code, stderr = _validate(mini, _scenario_at(mini, tmp_path, "", units=str(gpkg)))
    assert code == 2
    assert str(gpkg) in stderr and "not UTF-8" in stderr


@pytest.mark.parametrize(
    ("index", "said"),
    [
        (784, "cannot be read: sqlite3_prepare_v2"),  # GDAL's message spanned two lines
        (663, "locked accounts file not found"),  # a path too long to list its folder
        (8198, "the reps' segments: 'a\\nb', commercial"),  # a segment with a newline
    ],
)
def test_cases_the_long_run_found(fuzzer, index, said):
    """Cases of the 10,000-case run (seed 15) that failed before their fix."""
    outcome = fuzzer.run(fuzz.make_case(index, SEED, run_every=500))
    assert not outcome.failed, _explain(outcome)
    assert outcome.exit_code == 2 and said in outcome.stderr


def test_gpkg_polygon_outside_lonlat(mini, tmp_path):
    """A county at latitude 1e300: refused on reading (``run`` crashed projecting it, exit 4)."""
    import shapely

    gpkg = _gpkg_copy(mini, tmp_path)
    far = shapely.Polygon([(1e300, 0), (2e300, 0), (2e300, 1e300)])
    _sql(gpkg, "UPDATE counties SET geom = ? WHERE fid = 3", (fuzz._gpkg_blob(far.wkb),))
    code, stderr = _validate(mini, _scenario_at(mini, tmp_path, "", units=str(gpkg)))
    assert code == 2
    assert f"{gpkg}, row 3, id " in stderr and "column 'geometry'" in stderr
    assert "outside [-180, 180] x [-90, 90]" in stderr
