"""Tract k-sweep: the engine against GerryChain on census tract graphs, k from 4 to 18 (issue 13).

For every tract graph in ``../shared/benchmarks/districting/graphs/tract/``
(read there, never copied) and every ``k`` of ``--k`` with at least
``--min-tracts`` tracts per part, TOTPOP within ±1 % of the ideal, contiguity
on, objective cut edges:

* the engine: ``partition(..., time_limit=--time-limit)`` on the graph as
  published (Georgia, Illinois, North Carolina, Ohio and Pennsylvania carry no
  coordinates; islands are joined as :func:`territory_engine.partition` does);
* the peer, in the same run: GerryChain's ``recursive_tree_part`` repeated with
  new seeds for the same time, keeping its best balanced, contiguous plan by cut
  edges. It gets the graph plus the engine's virtual joins (it cannot partition
  a graph in pieces), and its plans are checked on the same joined graph.

Both plans are recounted on the graph itself (every node once, k non-empty
parts, bands, connected over the graph and the joins). The issue's target: feasible on
every row within the time limit with at most 0.7 × the peer's cut edges. A 2-second
warm-up call precedes the sweep (imports and compiled loops of the first call).

Usage::

    python benchmarks/tracts.py [--states GA,PA] [--k 4,8,13,18] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import networkx as nx

from territory_engine.partition import partition
from territory_engine.problem.graph import read_graph

TRACTS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "districting" / "graphs"
TRACTS = TRACTS / "tract"
TOLERANCE = 0.01
TARGET_RATIO = 0.7


def check(graph: nx.Graph, plan: dict, k: int, low: float, high: float) -> int | None:
    """Cut edges of ``plan`` (node -> part) on the graph's own edges, ``None`` on a broken rule.

    ``graph`` may carry virtual join edges marked ``join=True``: parts must be
    connected over them, but they are not counted as cut edges.
    """
    if any(plan.get(v) is None or not 0 <= plan[v] < k for v in graph.nodes):
        return None
    parts: dict[int, list] = {}
    for v in graph.nodes:
        parts.setdefault(plan[v], []).append(v)
    if len(parts) != k:
        return None
    for nodes in parts.values():
        pop = sum(graph.nodes[v]["TOTPOP"] for v in nodes)
        if not (low <= pop <= high and nx.is_connected(graph.subgraph(nodes))):
            return None
    return sum(1 for u, v, d in graph.edges(data=True) if plan[u] != plan[v] and not d.get("join"))


def peer(graph: nx.Graph, k: int, low: float, high: float, seconds: float):
    """GerryChain's recursive_tree_part for ``seconds``: (plans found, best cut edges, seconds)."""
    from gerrychain import Graph
    from gerrychain.partition import recursive_tree_part

    gc = Graph.from_networkx(graph)
    ideal = sum(graph.nodes[v]["TOTPOP"] for v in graph.nodes) / k
    eps = max(high - ideal, ideal - low) / ideal
    best, found, tries = None, 0, 0
    start = time.perf_counter()

    def out_of_time(signum, frame):
        raise _PeerTimeout

    # One recursive_tree_part call can search for minutes when balanced cuts are rare
    # (UT at k = 8): an alarm stops it at the deadline.
    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        while time.perf_counter() - start < seconds:
            tries += 1
            try:
                internal = recursive_tree_part(gc, range(k), ideal, "TOTPOP", eps, rng=tries)
            except _PeerTimeout:
                break
            except Exception:  # GerryChain raises when it finds no balanced cut
                continue
            found_cut = _score(graph, gc, internal, k, low, high)
            if found_cut is not None:
                found += 1
                best = found_cut if best is None else min(best, found_cut)
    except _PeerTimeout:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return found, best, time.perf_counter() - start


class _PeerTimeout(BaseException):
    """The peer's time is up (a BaseException: GerryChain's own handlers do not swallow it)."""


def _score(graph: nx.Graph, gc, internal: dict, k: int, low: float, high: float) -> int | None:
    """Cut edges of a GerryChain plan mapped back to the graph's nodes (``None``: rule broken)."""
    # GerryChain 1.0 keys plans by internal ids: map back to the graph's nodes.
    plan = {gc.original_nx_node_id_for_internal_node_id(v): p for v, p in internal.items()}
    return check(graph, plan, k, low, high)


def main(argv: list[str] | None = None) -> int:
    """Run the sweep and print a Markdown table and the rows that miss the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", default="", help="comma-separated, e.g. GA,PA (default all)")
    parser.add_argument("--k", default="4,8,13,18", help="comma-separated numbers of parts")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds, engine and peer")
    parser.add_argument("--min-tracts", type=int, default=15, help="skip k below this n/k")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = sorted(TRACTS.glob("*.json"))
    if args.states:
        wanted = args.states.split(",")
        paths = [TRACTS / f"{s}.json" for s in wanted]
    ks = [int(k) for k in args.k.split(",")]
    # One short call first so the first row does not pay for imports and compiled
    # loops (about 7 s here on the first call of a process).
    warm = nx.convert_node_labels_to_integers(nx.grid_2d_graph(6, 6))
    nx.set_node_attributes(warm, 1, "TOTPOP")
    partition(warm, parts=2, balance={"TOTPOP": 0.0}, bounds={}, time_limit=2, seed=0)
    print(
        "| state | n | k | coordinates | joins | engine feasible | engine cut | engine s | "
        "peer plans | peer best cut | engine / peer |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    misses = []
    for path in paths:
        graph = read_graph(path)
        n = graph.number_of_nodes()
        total = sum(graph.nodes[v]["TOTPOP"] for v in graph.nodes)
        for k in ks:
            if n / k < args.min_tracts:
                continue
            low, high = total / k * (1 - TOLERANCE), total / k * (1 + TOLERANCE)
            res = partition(
                graph,
                parts=k,
                balance={"TOTPOP": TOLERANCE},
                bounds={},
                objective="cut_edges",
                contiguous=True,
                time_limit=args.time_limit,
                seed=args.seed,
                file=path.name,
            )
            joined = nx.Graph(graph)
            for j in res.joins:
                a, b = (type(next(iter(graph.nodes)))(x) for x in j["nodes"])
                joined.add_edge(a, b, join=True)
            plan = {v: res.assignment.get(str(v)) for v in graph.nodes}
            cut = check(joined, plan, k, low, high) if res.feasible else None
            if res.feasible and cut != res.cut_edges:
                print(f"{path.stem} k={k}: plan fails the independent check", file=sys.stderr)
            ok = cut is not None
            found, best, _ = peer(joined, k, low, high, args.time_limit)
            ratio = cut / best if ok and best else None
            print(
                f"| {path.stem} | {n} | {k} | {res.coordinates} | {len(res.joins)} | {ok} | "
                f"{cut if ok else ''} | {res.seconds:.0f} | {found} | "
                f"{'' if best is None else best} | {'' if ratio is None else f'{ratio:.3f}'} |",
                flush=True,
            )
            if not ok or res.seconds > args.time_limit + 5 or ratio is None or ratio > TARGET_RATIO:
                misses.append(f"{path.stem} k={k}")
    print(
        f"\nrows missing the target (feasible, ≤ {TARGET_RATIO} × peer): "
        f"{', '.join(misses) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
