"""``territory-engine sweep``: grid parsing and validation, Pareto marks, and a real sweep.

Most tests here run nothing: the grid is checked before anything is launched. One
test runs a real three-variant sweep of the sample on a local Dask cluster of two
worker processes (about 20 s), with one variant that fails (a lock naming an
unknown rep) while the others write their plans; another re-runs one variant
serially to check that a variant's plan does not depend on where it ran.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from territory_engine.errors import ScenarioError
from territory_engine.plan.files import PLAN_FILES
from territory_engine.sweep import non_dominated, parse_grid, plan_sweep
from territory_engine.sweep.grid import variant_names
from territory_engine.sweep.pareto import compromise_scores
from territory_engine.sweep.run import exit_code, summary_table
from tests.cli_run import run_cli

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "fy_baseline.yaml"
# Keeping families solves the sample in about 1 s (see benchmarks/RESULTS.md), which
# keeps the real sweep short.
FAST = ROOT / "scenarios" / "whatif_keep_families.yaml"
LOCKS = "constraints.locks=[],[{account: A000003, rep: R06}],[{account: A000003, rep: R99}]"


# --------------------------------------------------------------------------- grid


def test_parse_grid_reads_yaml_scalars_and_flow_values():
    axis = parse_grid("constraints.max_moved_potential = 0.1, null ,0.25")
    assert axis.key == ("constraints", "max_moved_potential")
    assert axis.values == (0.1, None, 0.25)
    assert axis.texts == ("0.1", "null", "0.25")
    assert parse_grid("constraints.contiguity=true,false").values == (True, False)
    assert parse_grid("territories.eligibility=segment,none").values == ("segment", "none")
    # Commas inside brackets, braces and quotes do not split values.
    locks = parse_grid(LOCKS)
    assert locks.values[0] == [] and locks.values[2] == [{"account": "A000003", "rep": "R99"}]
    assert parse_grid("name='a, b',c").values == ("a, b", "c")


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("solver.seed", "KEY=V1,V2"),
        ("=1,2", "KEY=V1,V2"),
        ("solver..seed=1", "empty part"),
        ("solver.seed=1,,2", "empty value"),
        ("solver.seed=1,1", "given twice"),
    ],
)
def test_parse_grid_errors(spec, words):
    with pytest.raises(ScenarioError, match=words):
        parse_grid(spec)


@pytest.mark.parametrize(
    ("grid", "words"),
    [
        # The issue's own example: the model has max_moved_potential and max_moved_accounts.
        (
            "constraints.max_moved=0.1,0.2",
            [
                "unknown key",
                "'constraints.max_moved_potential' or 'constraints.max_moved_accounts'",
            ],
        ),
        ("objective.travl=1,2", ["did you mean 'objective.travel'?", "compactness"]),
        ("balanse.potential.tolerance=0.1", ["did you mean 'balance'?"]),
        ("balance.potentail.tolerance=0.03", ["'potentail'", "did you mean 'potential'?"]),
        ("solver.seed.value=1", ["solver.seed is a value", "--grid solver.seed=..."]),
        ("constraints.locks.rep=R01", ["constraints.locks is a list"]),
        ("output.folder=a,b", ["set by the sweep", "--output"]),
    ],
)
def test_unknown_keys_fail_before_anything_runs(grid, words, tmp_path):
    with pytest.raises(ScenarioError) as info:
        plan_sweep(BASELINE, [grid], output=tmp_path / "sweep")
    for word in words:
        assert word in str(info.value)
    assert not (tmp_path / "sweep").exists()


def test_a_bad_value_names_the_variant(tmp_path):
    grid = ["balance.potential.tolerance=0.03,1.5", "solver.seed=1,2"]
    with pytest.raises(ScenarioError) as info:
        plan_sweep(BASELINE, grid, output=tmp_path / "sweep")
    text = str(info.value)
    assert "variant v03_tolerance=1.5_seed=1" in text
    assert "'balance.potential.tolerance'" in text and "less than 1" in text


def test_cartesian_order_names_and_folders(tmp_path):
    plan = plan_sweep(
        BASELINE,
        ["balance.potential.tolerance=0.03,0.05", "constraints.max_moved_potential=0.1,null"],
        output=tmp_path / "sweep",
    )
    assert [v.name for v in plan.variants] == [
        "v01_tolerance=0.03_max_moved_potential=0.1",
        "v02_tolerance=0.03_max_moved_potential=null",
        "v03_tolerance=0.05_max_moved_potential=0.1",
        "v04_tolerance=0.05_max_moved_potential=null",
    ]
    v3 = plan.variants[2]
    assert v3.overrides == {
        "balance.potential.tolerance": 0.05,
        "constraints.max_moved_potential": 0.1,
    }
    assert v3.folder == (tmp_path / "sweep" / v3.name).resolve()
    assert Path(v3.scenario.output.folder) == v3.folder
    assert [v.index for v in plan.variants] == [1, 2, 3, 4]


def test_names_are_unique_and_filesystem_safe():
    axes = [parse_grid("balance.potential.tolerance=0.03"), parse_grid(LOCKS)]
    axes.append(parse_grid("balance.workload_hours.tolerance=0.1"))
    names = variant_names(axes)
    # Two keys ending in "tolerance" keep one more part each.
    assert names[0] == "v01_potential.tolerance=0.03_locks=empty_workload_hours.tolerance=0.1"
    assert names[2] == (
        "v03_potential.tolerance=0.03_locks=account-A000003-rep-R99_workload_hours.tolerance=0.1"
    )
    assert all("/" not in n and " " not in n for n in names)


def test_overrides_deep_merge_over_the_base(baseline, tmp_path):
    plan = plan_sweep(
        BASELINE,
        [
            "balance.potential.tolerance=0.03",
            "constraints.locks=[{unit: '13121', rep: R02}]",
            "objective.disruption=2",
        ],
        output=tmp_path / "sweep",
        time_limit=7,
    )
    sc = plan.variants[0].scenario
    assert sc.balance["potential"].tolerance == 0.03
    # Siblings keep the base's values; lists are replaced as a whole.
    assert sc.balance["workload_hours"] == baseline.balance["workload_hours"]
    assert [(lock.unit, lock.rep) for lock in sc.constraints.locks] == [("13121", "R02")]
    assert sc.constraints.contiguity == baseline.constraints.contiguity
    assert sc.objective.disruption == 2 and sc.objective.travel == baseline.objective.travel
    assert sc.quota == baseline.quota and sc.data == baseline.data
    # Same seed as the base unless the grid sets it; --time-limit applies to every variant.
    assert sc.solver.seed == baseline.solver.seed
    assert sc.solver.time_limit == 7
    assert sc.name.startswith(baseline.name) and "tolerance=0.03" in sc.name
    seeds = plan_sweep(BASELINE, ["solver.seed=1,2"], output=tmp_path / "s2").variants
    assert [v.scenario.solver.seed for v in seeds] == [1, 2]


def test_default_sweep_folder_is_beside_the_scenario_plan_folder(baseline):
    plan = plan_sweep(BASELINE, ["solver.seed=1"])
    assert plan.sweep_dir == Path(baseline.output.folder).parent / "sweep_fy_baseline"


def test_never_replaces_a_folder_that_is_not_a_sweep(tmp_path):
    """A sweep replaces its folder whole: ``--output out`` must not take out/ with it."""
    from territory_engine.errors import InputError
    from territory_engine.sweep import run_sweep

    (tmp_path / "plans.sqlite").write_text("precious")
    with pytest.raises(InputError, match="not a sweep folder"):
        run_sweep(FAST, ["solver.seed=1"], output=tmp_path, serial=True)
    with pytest.raises(InputError, match="inside the sweep folder"):
        run_sweep(FAST, ["solver.seed=1"], output=tmp_path / "s", store=tmp_path / "s" / "p.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plans.sqlite"]


# --------------------------------------------------------------------------- Pareto


def test_non_dominated_on_hand_made_points():
    # (balance, disruption, travel)
    points = [
        (0.05, 0.30, 100.0),  # 0: front (best balance)
        (0.08, 0.10, 110.0),  # 1: front (best disruption)
        (0.06, 0.20, 90.0),  # 2: front (best travel)
        (0.07, 0.31, 120.0),  # 3: dominated by 0
        (0.05, 0.30, 100.0),  # 4: equal to 0: kept, neither dominates
        (0.01, 0.01, 10.0),  # 5: would dominate all, but infeasible
        (0.06, math.nan, 80.0),  # 6: incomplete: takes no part
        (0.06, 0.20, 95.0),  # 7: dominated by 2 (worse on travel only)
    ]
    feasible = [True, True, True, True, True, False, True, True]
    assert non_dominated(points, feasible) == [True, True, True, False, True, False, False, False]
    assert non_dominated([(1, 5), (2, 2), (3, 3), (5, 1)]) == [True, True, False, True]
    assert non_dominated([]) == []


def test_compromise_scores_rescale_each_criterion():
    scores = compromise_scores([(0.0, 10.0), (1.0, 0.0), (0.5, 5.0), (9.0, 9.0)], [1, 1, 1, 0])
    assert scores[:3] == pytest.approx([1.0, 1.0, 1.0])
    assert math.isnan(scores[3])
    assert compromise_scores([(1.0, 2.0), (1.0, 1.0)]) == pytest.approx([1.0, 0.0])


def test_exit_code_is_the_worst_status():
    assert exit_code(["ok", "ok"]) == 0
    assert exit_code(["ok", "infeasible"]) == 3
    assert exit_code(["infeasible", "input_error", "ok"]) == 2
    assert exit_code(["input_error", "error"]) == 4


def _record(index, name, status, balance, moved, travel):
    return {
        "index": index,
        "variant": name,
        "status": status,
        "error": "" if status == "ok" else "boom",
        "plan_dir": "" if status == "input_error" else f"/x/{name}",
        "seconds": 1.0,
        "violations": 0,
        "feasible": status == "ok",
        "balance_max_dev": balance,
        "potential_max_dev": balance,
        "potential_balance_index": 90.0,
        "travel_mean_km": travel,
        "moved_potential_share": moved,
        "moved_accounts_share": moved,
        "retention_share": math.nan,
        "solve_seconds": 1.0,
        "stop_reason": "converged",
    }


def test_summary_table_and_page(tmp_path):
    from territory_engine.render.sweep_page import render_sweep_page

    plan = plan_sweep(BASELINE, ["solver.seed=1,2,3,4,5"], output=tmp_path / "s")
    names = [v.name for v in plan.variants]
    records = [
        _record(1, names[0], "ok", 0.05, 0.30, 100.0),
        _record(2, names[1], "ok", 0.07, 0.31, 120.0),  # dominated by v01
        _record(3, names[2], "input_error", math.nan, math.nan, math.nan),
        _record(4, names[3], "ok", 0.08, 0.10, 110.0),
        _record(5, names[4], "infeasible", 0.01, 0.01, 10.0),
    ]
    table = summary_table(records, plan)
    assert list(table["variant"]) == [names[0], names[3], names[1], names[4], names[2]]
    assert list(table["pareto"]) == [True, True, False, False, False]
    assert list(table["rank"].astype("float").fillna(0)) == [1, 2, 3, 0, 0]
    assert list(table["solver.seed"]) == ["1", "4", "2", "5", "3"]
    page = render_sweep_page(
        table, title="Sweep", grid_keys=plan.grid_keys, info={"sweep_id": "s-1"}
    )
    # Two charts, each marking the two non-dominated plans and labelling them.
    assert page.count('class="te-pareto"') == 4
    assert page.count(">v01</text>") == 2 and page.count(">v04</text>") == 2
    assert "boom" in page and "http://" not in page and "https://" not in page


# --------------------------------------------------------------------------- real sweep


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, repo_root=ROOT, timeout=240)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cli_rejects_an_unknown_key_without_running(tmp_path):
    out = _cli("sweep", str(BASELINE), "--grid", "constraints.max_moved=0.1,0.2", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "constraints.max_moved_potential" in out.stderr
    assert "Traceback" not in out.stderr
    assert not any(tmp_path.iterdir())


@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory):
    """Three variants on a local cluster of two workers; v03's lock names no rep."""
    pytest.importorskip("territory_engine.store.plan_store")
    pytest.importorskip("distributed")
    cwd = tmp_path_factory.mktemp("sweep")
    out = _cli(
        "sweep",
        str(FAST),
        "--grid",
        LOCKS,
        "--workers",
        "2",
        "--time-limit",
        "10",
        "--output",
        "runs/locks",
        cwd=cwd,
    )
    return cwd, out


def test_real_sweep_on_a_local_cluster(real_sweep):
    from territory_engine.store.plan_store import PlanStore

    cwd, out = real_sweep
    # One variant failed on bad input (its lock names no rep): exit 2, the others ran.
    assert out.returncode == 2, out.stderr
    sweep = cwd / "runs" / "locks"
    names = ["v01_locks=empty", "v02_locks=account-A000003-rep-R06"]
    bad = "v03_locks=account-A000003-rep-R99"
    assert "local cluster of 2 worker processes" in out.stderr
    assert "[3/3]" in out.stderr
    for name in names:
        assert sorted(p.name for p in (sweep / name).iterdir()) == sorted(PLAN_FILES)
    assert not (sweep / bad).exists()
    # Nothing is left of the staging folder.
    assert sorted(p.name for p in (cwd / "runs").iterdir()) == ["locks", "plans.sqlite"]

    table = pd.read_csv(sweep / "sweep.csv", keep_default_na=False)
    assert sorted(table["variant"]) == [*names, bad]
    rows = table.set_index("variant")
    assert rows.loc[bad, "status"] == "input_error"
    assert "R99" in rows.loc[bad, "error"] and rows.loc[bad, "plan_id"] == ""
    for name in names:
        assert rows.loc[name, "status"] == "ok"
        assert rows.loc[name, "stop_reason"] == "converged"
        assert 0 < float(rows.loc[name, "balance_max_dev"]) <= 0.10 + 1e-9
        assert float(rows.loc[name, "travel_mean_km"]) > 0
    assert f"{bad} (input error)" in out.stderr

    # Every plan that was written is in the store, under this sweep's id and its name.
    store = PlanStore(cwd / "runs" / "plans.sqlite", create=False)
    sweep_id = next(line for line in out.stdout.splitlines() if "plans list --sweep" in line)
    sweep_id = sweep_id.split("--sweep ")[1].split()[0]
    listed = store.list(sweep_id=sweep_id)
    assert sorted(listed["label"]) == names
    assert set(listed["id"]) == set(table.loc[table["status"] == "ok", "plan_id"])
    assert {Path(f).name for f in listed["folder"]} == set(names)
    # The two best plans, and the exact command that compares them.
    best = table[table["rank"] != ""].sort_values("rank")["plan_id"].tolist()
    expected = f"territory-engine compare {best[0]} {best[1]} --store runs/plans.sqlite"
    assert expected in out.stdout

    page = (sweep / "sweep.html").read_text(encoding="utf-8")
    assert page.count('class="te-pareto"') == 2 * int(table["pareto"].astype(str).eq("True").sum())
    assert "R99" in page and expected in page
    assert "http://" not in page and "https://" not in page


def test_a_variant_gives_the_same_plan_run_serially(real_sweep, tmp_path):
    """Same scenario and seed -> same plan, on a worker or in this process."""
    from territory_engine.sweep import run_sweep

    cwd, out = real_sweep
    assert out.returncode == 2, out.stderr
    result = run_sweep(
        FAST,
        ["constraints.locks=[{account: A000003, rep: R06}]"],
        output=tmp_path / "serial",
        serial=True,
        record=False,
        time_limit=10,
    )
    row = result.table.iloc[0]
    assert result.exit_code == 0 and row["stop_reason"] == "converged"
    parallel = cwd / "runs" / "locks" / "v02_locks=account-A000003-rep-R06" / "assignments.csv"
    serial = tmp_path / "serial" / row["variant"] / "assignments.csv"
    assert _sha(serial) == _sha(parallel)
