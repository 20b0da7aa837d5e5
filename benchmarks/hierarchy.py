"""Time the drawn hierarchy on the sample: 45 territories -> 8 districts -> 3 regions.

Usage::

    python benchmarks/hierarchy.py [--repeats 5]

Solves ``scenarios/whatif_hierarchy.yaml`` once (the territories), then times the
hierarchy step alone (:func:`territory_engine.org.hierarchy.plan.plan_hierarchy`:
the territory graph, both levels, the outputs) ``--repeats`` times, and the
variants a planner uses: regional managers' homes fixed (Atlanta, Charlotte,
Nashville), last year's grouping kept (the first drawing as the previous one),
a tighter band (± 5 %), and the plan-folder path of ``territory-engine
hierarchy`` (territory graph from the polygons). Target (issue 17): under 10 s,
every district contiguous, measures within ± 10 %. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import territory_engine as te
from territory_engine.config.hierarchy_models import HierarchyConfig
from territory_engine.org.hierarchy.plan import plan_hierarchy, redraw_plan_hierarchy

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "whatif_hierarchy.yaml"

MANAGERS = [
    {"manager_id": "M1", "name": "Atlanta", "lat": 33.749, "lon": -84.388, "level": "region"},
    {"manager_id": "M2", "name": "Charlotte", "lat": 35.227, "lon": -80.843, "level": "region"},
    {"manager_id": "M3", "name": "Nashville", "lat": 36.163, "lon": -86.782, "level": "region"},
]


def summary(card: dict, seconds: list[float]) -> dict:
    """The numbers of one variant: time, contiguity, the largest deviation per level."""
    h = card["hierarchy"]
    out: dict = {
        "seconds_median": round(statistics.median(seconds), 3),
        "seconds_max": round(max(seconds), 3),
        "feasible": h["feasible"],
    }
    for level in h["levels"]:
        s = h[level]
        out[level] = {
            "groups": s["n_groups"],
            "groups_in_pieces": s["contiguity"]["groups_in_pieces"],
            "members_per_group": [s["sizes"]["min"], s["sizes"]["max"]],
            **{f"{m}_max_dev": b["max_rel_dev"] for m, b in s["balance"].items()},
            "out_of_band": sum(b["out_of_band"] for b in s["balance"].values()),
        }
    return out


def timed(result: te.PlanResult, scenario: te.Scenario, repeats: int) -> tuple[dict, list]:
    seconds, tables = [], []
    card: dict = {}
    for _ in range(repeats):
        start = time.perf_counter()
        plan, card = plan_hierarchy(
            scenario,
            result.tables,
            result.problem,
            result.index,
            result.alignment,
            result.plan,
            result.scorecard,
        )
        seconds.append(time.perf_counter() - start)
        tables.append(plan.hierarchy)
    same = all(t.equals(tables[0]) for t in tables[1:])
    return {**summary(card, seconds), "deterministic": same}, tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    scenario = te.load_scenario(SCENARIO)
    start = time.perf_counter()
    result = te.run_scenario(scenario)
    whole_run = time.perf_counter() - start
    assert scenario.hierarchy is not None
    report: dict = {
        "scenario": SCENARIO.name,
        "territories": result.problem.n_territories,
        "run_scenario_seconds_with_hierarchy": round(whole_run, 2),
    }
    report["baseline"], tables = timed(result, scenario, args.repeats)

    def variant(**update: object) -> te.Scenario:
        raw = scenario.hierarchy.model_dump(mode="json")  # type: ignore[union-attr]
        raw.update(update)
        return scenario.model_copy(update={"hierarchy": HierarchyConfig.model_validate(raw)})

    report["managers_fixed"], _ = timed(result, variant(managers=MANAGERS), args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        previous = Path(tmp) / "hierarchy.csv"
        tables[0].to_csv(previous, index=False)
        kept, redrawn = timed(
            result,
            variant(previous={"source": "file", "file": str(previous), "weight": 0.5}),
            args.repeats,
        )
        moved = int((redrawn[0]["district"] != tables[0]["district"]).sum())
        report["previous_kept"] = {**kept, "territories_changing_district": moved}
    band = {"potential": {"tolerance": 0.05}, "workload_hours": {"tolerance": 0.05}}
    report["tolerance_0.05"], _ = timed(result, variant(balance=band), args.repeats)

    with tempfile.TemporaryDirectory() as tmp:
        folder = result.write(Path(tmp) / "plan")
        config = HierarchyConfig.model_validate(
            {"levels": [{"name": "district", "count": 8}, {"name": "region", "count": 3}]}
        )
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            redraw_plan_hierarchy(folder, config, tolerance=0.10)
            seconds.append(time.perf_counter() - start)
        card = json.loads((folder / "scorecard.json").read_text())
        report["cli_plan_folder_rewrite"] = summary(card, seconds)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
