"""Districting benchmark: cut edges against proven optima, with GerryChain as a peer.

Instances and references come from ``../shared/benchmarks/districting`` (read,
never copied). For each instance the engine's ``partition`` runs with the
instance's population bounds, contiguity on, objective ``cut_edges``; the peer
is GerryChain's ``recursive_tree_part`` repeated with new seeds for
``--peer-seconds``, keeping its best balanced, contiguous plan.

Usage::

    python benchmarks/districting.py [--time-limit 60] [--peer-seconds 20] [--level county]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import networkx as nx

from territory_engine.partition import partition
from territory_engine.problem.graph import read_graph

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "districting"


def peer_recursive_tree_part(path: Path, k: int, low: float, high: float, seconds: float):
    """Best cut edges of GerryChain's recursive_tree_part within ``seconds`` (None if none)."""
    try:
        from gerrychain import Graph
        from gerrychain.partition import recursive_tree_part
    except ImportError:
        return None, 0
    g = read_graph(path)
    graph = Graph.from_networkx(g)
    ideal = sum(g.nodes[v]["TOTPOP"] for v in g.nodes) / k
    eps = max(high - ideal, ideal - low) / ideal
    best, tries = None, 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        tries += 1
        try:
            internal = recursive_tree_part(graph, range(k), ideal, "TOTPOP", eps, rng=tries)
        except Exception:  # GerryChain raises when it finds no balanced cut
            continue
        # GerryChain 1.0 keys plans by internal ids: map back to the graph's nodes.
        plan = {graph.original_nx_node_id_for_internal_node_id(v): p for v, p in internal.items()}
        pops = [0.0] * k
        for v, part in plan.items():
            pops[part] += g.nodes[v]["TOTPOP"]
        if not all(low <= p <= high for p in pops):
            continue
        parts = {}
        for v, part in plan.items():
            parts.setdefault(part, []).append(v)
        if not all(nx.is_connected(g.subgraph(nodes)) for nodes in parts.values()):
            continue
        cut = sum(1 for u, v in g.edges if plan[u] != plan[v])
        best = cut if best is None else min(best, cut)
    return best, tries


def verify(path: Path, assignment: dict, k: int, low: float, high: float) -> int | None:
    """Cut edges of the plan recounted on the graph itself, or ``None`` when a check fails.

    Independent of the solver's own checks: every node assigned to one of
    ``k`` parts, every part's population within ``[low, high]`` and connected.
    """
    g = read_graph(path)
    plan = {v: assignment.get(str(v)) for v in g.nodes}
    if any(p is None or not 0 <= p < k for p in plan.values()):
        return None
    parts: dict[int, list] = {}
    for v, p in plan.items():
        parts.setdefault(p, []).append(v)
    if len(parts) != k:
        return None
    for nodes in parts.values():
        pop = sum(g.nodes[v]["TOTPOP"] for v in nodes)
        if not (low <= pop <= high and nx.is_connected(g.subgraph(nodes))):
            return None
    return sum(1 for u, v in g.edges if plan[u] != plan[v])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--peer-seconds", type=float, default=20.0)
    parser.add_argument("--level", choices=["county", "tract", "all"], default="all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--states", default="", help="comma-separated, e.g. MS,NE (default all)")
    args = parser.parse_args(argv)
    rows = list(csv.DictReader((SHARED / "reference.csv").open()))
    if args.level != "all":
        rows = [r for r in rows if r["level"] == args.level]
    if args.states:
        wanted = set(args.states.split(","))
        rows = [r for r in rows if r["state"] in wanted]
    print(
        "| instance | n | k | optimum (bound) | engine cut | ratio | feasible | s | "
        "exact status | peer cut | peer tries |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ratios, hits, feasible, county = [], 0, 0, 0
    for r in rows:
        path = SHARED / r["file"]
        k, low, high = int(r["k"]), float(r["L"]), float(r["U"])
        res = partition(
            read_graph(path),
            parts=k,
            balance={},
            bounds={"TOTPOP": (low, high)},
            objective="cut_edges",
            contiguous=True,
            time_limit=args.time_limit,
            seed=args.seed,
        )
        best = int(r["best_cut_edges"])
        ok = res.feasible
        if ok and verify(path, res.assignment, k, low, high) != res.cut_edges:
            print(f"{r['state']} {r['level']}: plan fails the independent check", file=sys.stderr)
            ok = False
        feasible += ok
        cut = res.cut_edges if ok else None
        ratio = cut / best if ok else None
        if ok:
            ratios.append(ratio)
            if r["level"] == "county":
                county += 1
                hits += cut <= best
        peer, tries = (
            peer_recursive_tree_part(path, k, low, high, args.peer_seconds)
            if args.peer_seconds > 0
            else (None, 0)
        )
        name = f"{r['state']} {r['level']}"
        bound = "" if r["proven_optimal"] == "True" else f" ({r['lower_bound']})"
        print(
            f"| {name} | {r['n']} | {k} | {best}{bound} | {cut} | "
            f"{'' if ratio is None else f'{ratio:.3f}'} | {ok} | {res.seconds:.0f} | "
            f"{res.exact_status} | {peer} | {tries} |",
            flush=True,
        )
    n_county = sum(1 for r in rows if r["level"] == "county")
    mean = sum(ratios) / len(ratios) if ratios else float("nan")
    print(
        f"\nfeasible {feasible}/{len(rows)}; mean cut edges / best known {mean:.3f}; "
        f"optimum reached on {hits}/{n_county} county instances"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
