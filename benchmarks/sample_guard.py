"""Guard a redesign: the sample scenarios' plan files must stay byte-identical.

Usage::

    python benchmarks/sample_guard.py --record   # write benchmarks/sample_guard.json
    python benchmarks/sample_guard.py            # compare against it; exit 1 on a difference

Runs every scenario of ``scenarios/`` on the bundled sample (each writes its plan
folder into a temporary directory) and hashes ``assignments.csv``, ``quotas.csv``
and ``scorecard.json`` with SHA-256. The recorded digests belong to the library
versions they were recorded with (``versions`` in the JSON): a newer ortools or
numpy may legitimately change a plan, so re-record after an upgrade, never after
a refactor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUARD_FILE = ROOT / "benchmarks" / "sample_guard.json"
GUARDED_FILES = ("assignments.csv", "quotas.csv", "scorecard.json")
VERSIONED = ("numpy", "scipy", "pandas", "ortools", "networkx", "shapely", "geopandas")


def versions() -> dict[str, str]:
    """The versions of the libraries a plan depends on."""
    return {name: metadata.version(name) for name in VERSIONED}


def digests(scenario_paths: list[Path]) -> dict[str, dict[str, str]]:
    """Run each scenario and hash its guarded files.

    Parameters
    ----------
    scenario_paths
        Scenario files to run.

    Returns
    -------
    dict
        scenario file name -> plan file name -> SHA-256 hex digest.
    """
    import territory_engine as te

    out: dict[str, dict[str, str]] = {}
    for path in scenario_paths:
        with tempfile.TemporaryDirectory() as tmp:
            result = te.run_scenario(te.load_scenario(path), output=Path(tmp) / "plan")
            out[path.name] = {
                name: hashlib.sha256((result.plan_dir / name).read_bytes()).hexdigest()
                for name in GUARDED_FILES
            }
        print(f"{path.name}: {out[path.name]['assignments.csv'][:12]}", flush=True)
    return out


def differences(recorded: dict, measured: dict[str, dict[str, str]]) -> list[str]:
    """Each (scenario, file) whose digest differs from the recorded one."""
    return [
        f"{scenario} {name}"
        for scenario, files in recorded["digests"].items()
        for name, digest in files.items()
        if measured.get(scenario, {}).get(name) != digest
    ]


def main(argv: list[str] | None = None) -> int:
    """Record or check the digests; print the differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the guard file")
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "scenarios").glob("*.yaml"))
    measured = digests(paths)
    if args.record:
        GUARD_FILE.write_text(
            json.dumps({"versions": versions(), "digests": measured}, indent=2) + "\n",
            encoding="utf-8",
        )
        print(f"recorded {len(measured)} scenarios in {GUARD_FILE.relative_to(ROOT)}")
        return 0
    recorded = json.loads(GUARD_FILE.read_text(encoding="utf-8"))
    if recorded["versions"] != versions():
        print(f"note: recorded with {recorded['versions']}, running {versions()}")
    diff = differences(recorded, measured)
    for line in diff:
        print(f"DIFFERS: {line}")
    print(f"{len(measured)} scenarios, {len(diff)} differing files")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
