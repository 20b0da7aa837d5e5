"""Load benchmark of the Territory Studio: 50 reps and 5 planners at once (issue 16, item 8).

Builds a plan of the sample (``territory-engine run`` with a short time limit) into a
fresh plan store, seeds the demo users (``users demo``'s library call) and four more
planners, starts ``territory-engine serve`` on 127.0.0.1 on a free port, walks the
plan through submit → approve → publish over HTTP, signs in the simulated users (four
at a time: each sign-in checks a deliberately slow Argon2 hash) and, for ``--seconds``,
runs a bounded async httpx loop (one task per user, one request in flight per user, a
random think time between requests):

- each **rep** opens their page, their territory's GeoJSON and their accounts CSV;
- each **planner** opens the plan page and posts an edit preview
  (``POST /api/plans/{id}/edit`` with one to three random unit moves within a
  segment, the session's CSRF token, nothing saved); every ``--save-every``-th edit
  of a planner is saved instead (``"save": true`` with the version it read just
  before: a new draft version, recorded as ``edit save``; a save that another
  planner's save overtook gets 409, the optimistic lock, counted as ``edit save
  (stale)`` and not as an error).

It reports p50 / p95 / max latency per request kind (each user's first round apart,
as ``(first)``: it is the cold one, which makes the rep's page parts or the planner's
edit session), the errors (any non-2xx, a sign-in other than its 303, or an
exception), and checks that nothing was lost: the audit log holds one ``sign_in`` per
session made, one ``export`` per accounts CSV served and one ``save_version`` per
save answered 200; every saved version is in the studio as a draft child of the
plan, its folder in the plan store (its plan page opens); the plan's version moved
by exactly the number of saves (no lost update); and a rep's page still shows only
their own rows. ``--workers N`` serves with ``territory-engine serve --workers N``.
The server is stopped at the end, also on Ctrl-C or an exception. Exit 1 when a
request failed or something was lost.

Usage::

    python benchmarks/studio_load.py [--seconds 60] [--reps 50] [--planners 5]
        [--workers 1] [--save-every 8] [--think 1.0] [--time-limit 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "fy_baseline.yaml"
CLI = Path(sys.executable).parent / "territory-engine"
#: The issue's targets: p95 in milliseconds per request kind.
TARGETS = {"rep page": 300.0, "rep geojson": 300.0, "rep accounts.csv": 300.0, "edit": 500.0}


@dataclass
class Stats:
    """Latencies (seconds) and failures per request kind."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)

    def record(self, kind: str, took: float, problem: str | None) -> None:
        self.seconds[kind].append(took)
        if problem is not None:
            self.errors[kind] += 1
            if sum(x.startswith(f"{kind}: ") for x in self.samples) < 3:
                self.samples.append(f"{kind}: {problem}")


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    password: str
    rep_id: str | None


# ---------------------------------------------------------------- set-up


def build_plan(work: Path, time_limit: int) -> tuple[Path, Path]:
    """The sample's baseline solved into ``work/out`` and recorded in a fresh store."""
    plan, store = work / "out" / "fy_baseline", work / "out" / "plans.sqlite"
    command = [str(CLI), "run", str(SCENARIO), "--output", str(plan), "--store", str(store)]
    done = subprocess.run(
        [*command, "--time-limit", str(time_limit), "--quiet"], capture_output=True, text=True
    )
    if done.returncode not in (0, 3) or not (plan / "plan.json").is_file():
        raise SystemExit(f"run failed ({done.returncode}): {done.stderr[-2000:]}")
    return plan, store


def seed_users(db_url: str, plan: Path, planners: int) -> list[Person]:
    """The demo users of ``plan`` and ``planners - 1`` more planners, with passwords."""
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.studio.db import open_database
    from territory_engine.studio.users import add_user, demo_users

    factory = open_database(db_url)
    with factory() as db:
        made = [
            Person(u.username, u.role, u.password, u.rep_id)
            for u in demo_users(db, read_plan_folder(plan), operator="benchmark")
        ]
        for number in range(2, planners + 1):
            password = secrets.token_urlsafe(12)
            add_user(db, f"planner-{number}", "planner", password, operator="benchmark")
            made.append(Person(f"planner-{number}", "planner", password, None))
        db.commit()
    return made


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    db_url: str, store: Path, port: int, log: Path, workers: int = 1
) -> subprocess.Popen:
    """``territory-engine serve`` in a process group of its own; waits until it answers."""
    command = [str(CLI), "serve", "--db", db_url, "--store", str(store)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    if workers != 1:  # (so that the benchmark also runs against a tree before --workers)
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(
                    f"the server exited ({server.returncode}): {log.read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
    except BaseException:  # Ctrl-C while waiting: the server must not outlive us
        stop_server(server)
        raise
    stop_server(server)
    raise SystemExit("the server did not answer within 120 s")


def stop_server(server: subprocess.Popen) -> None:
    """Ctrl-C to the server's group (uvicorn shuts down cleanly), then harder."""
    for sig, wait in ((signal.SIGINT, 15), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if server.poll() is not None:
            return
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(wait)
        except subprocess.TimeoutExpired:
            continue


# ---------------------------------------------------------------- HTTP


async def timed(
    stats: Stats, kind: str, request, expect: int | None = None
) -> httpx.Response | None:
    """Await ``request``, recording its latency and any non-2xx (or not ``expect``) or
    exception."""
    start = time.perf_counter()
    try:
        response = await request
    except Exception as exc:  # every failure counts as an error
        stats.record(kind, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
        return None
    problem = None
    code = response.status_code
    if (code != expect) if expect is not None else not 200 <= code < 300:
        problem = f"HTTP {response.status_code} {response.text[:200]}"
    stats.record(kind, time.perf_counter() - start, problem)
    return response


#: Sign-ins in flight at once. Each checks an Argon2 hash (64 MiB, by design slow):
#: 55 at once on 2 cores took longer than the client's timeout, and signing in is
#: the set-up of the load, not what it measures (people do not all sign in within
#: the same second).
SIGN_IN_CONCURRENCY = 4


async def sign_in(
    client: httpx.AsyncClient,
    person: Person,
    stats: Stats,
    gate: asyncio.Semaphore | None = None,
) -> str | None:
    """Sign in through the form; the session's CSRF token (None when it failed).

    ``gate`` bounds how many sign-ins run at once."""
    if gate is not None:
        async with gate:
            return await sign_in(client, person, stats)
    form = await timed(stats, "sign-in form", client.get("/login"))
    found = re.search(r'name="login_token" value="([^"]+)"', form.text) if form else None
    if found is None:
        return None
    data = {"username": person.username, "password": person.password}
    # A sign-in's success is its 303 to the home page (with the session cookie).
    posted = await timed(
        stats,
        "sign in",
        client.post("/login", data={**data, "login_token": found.group(1)}, timeout=120),
        expect=303,
    )
    if posted is None or posted.status_code != 303:
        return None
    me = await timed(stats, "api me", client.get("/api/me"))
    return me.json()["csrf_token"] if me is not None and me.status_code == 200 else None


async def publish(base: str, planner: Person, manager: Person, plan_id: int, stats: Stats) -> int:
    """submit (planner) → approve (manager) → publish (planner), over the API; the
    published version."""
    async with httpx.AsyncClient(base_url=base) as p, httpx.AsyncClient(base_url=base) as m:
        p_token, m_token = await sign_in(p, planner, stats), await sign_in(m, manager, stats)
        version = 1
        for client, token, action in ((p, p_token, "submit"), (m, m_token, "approve")):
            done = await client.post(
                f"/api/plans/{plan_id}/transition",
                json={"action": action, "version": version},
                headers={"X-CSRF-Token": token or ""},
            )
            if done.status_code != 200:
                raise SystemExit(f"{action} failed: {done.status_code} {done.text}")
            version = done.json()["version"]
        done = await p.post(
            f"/api/plans/{plan_id}/transition",
            json={"action": "publish", "version": version},
            headers={"X-CSRF-Token": p_token or ""},
        )
        if done.status_code != 200 or done.json()["state"] != "published":
            raise SystemExit(f"publish failed: {done.status_code} {done.text}")
        return int(done.json()["version"])


# ---------------------------------------------------------------- the load


@dataclass
class Counts:
    """What the server must have recorded: sessions made, accounts CSVs served."""

    sessions: int = 0
    csv_served: int = 0
    #: The saved versions' ``saved`` answers (id, plan_id, parent_id).
    saved: list[dict] = field(default_factory=list)


async def think(rng: random.Random, seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds * rng.uniform(0.5, 1.5))


async def rep_loop(client, plan_id, rep_id, until, stats, counts, pause, rng) -> None:
    """A rep: their page, their map's GeoJSON, their accounts CSV, again and again.

    The first round is recorded apart (``(first)``): it makes the rep's page parts,
    which later rounds reuse."""
    base = f"/plans/{plan_id}/reps/{rep_id}"
    first = " (first)"
    while time.monotonic() < until:
        await timed(stats, "rep page" + first, client.get(base))
        await think(rng, pause)
        await timed(stats, "rep geojson" + first, client.get(f"{base}/territory.geojson"))
        await think(rng, pause)
        served = await timed(stats, "rep accounts.csv" + first, client.get(f"{base}/accounts.csv"))
        if served is not None and served.status_code == 200:
            counts.csv_served += 1
        await think(rng, pause)
        first = ""


async def save_edit(client, token, plan_id, moves, stats, counts) -> None:
    """Save ``moves`` as a new version of the plan at the version read just before.

    409 is the optimistic lock refusing a save that another one overtook: the
    planner would reload (``edit save (stale)``, not an error)."""
    seen = await timed(stats, "plan record", client.get(f"/api/plans/{plan_id}"))
    if seen is None or seen.status_code != 200:
        return
    body = {"moves": moves, "save": True, "version": seen.json()["version"], "reason": "load"}
    start = time.perf_counter()
    try:
        response = await client.post(
            f"/api/plans/{plan_id}/edit", json=body, headers={"X-CSRF-Token": token}, timeout=60
        )
    except Exception as exc:
        stats.record("edit save", time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
        return
    took = time.perf_counter() - start
    if response.status_code == 409:
        stats.record("edit save (stale)", took, None)
        return
    ok = response.status_code == 200 and response.json().get("saved")
    stats.record("edit save", took, None if ok else f"HTTP {response.status_code}")
    if ok:
        counts.saved.append(response.json()["saved"])


async def planner_loop(
    client, token, plan_id, units, until, stats, counts, pause, rng, save_every
) -> None:
    """A planner: the plan page, then an edit preview of one to three unit moves (the
    first round recorded apart: it is the cold one); every ``save_every``-th edit is
    saved instead."""
    first = " (first)"
    done = 0
    while time.monotonic() < until:
        await timed(stats, "plan page" + first, client.get(f"/plans/{plan_id}"))
        await think(rng, pause)
        moves = []
        for unit_id, segment, territory in rng.sample(units, rng.randint(1, 3)):
            others = [t for u, s, t in units if s == segment and t != territory]
            if others:
                moves.append(
                    {"unit_id": unit_id, "to_territory_id": rng.choice(sorted(set(others)))}
                )
        if moves:
            done += 1
            if save_every and done % save_every == 0:
                await save_edit(client, token, plan_id, moves, stats, counts)
            else:
                await timed(
                    stats,
                    "edit" + first,
                    client.post(
                        f"/api/plans/{plan_id}/edit",
                        json={"moves": moves},
                        headers={"X-CSRF-Token": token},
                        timeout=60,
                    ),
                )
        await think(rng, pause)
        first = ""


def plan_units(plan: Path) -> list[tuple[str, str, str]]:
    """(unit_id, segment, territory_id) of the plan's units with a territory."""
    with (plan / "units.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (r["unit_id"], r.get("segment", ""), r["territory_id"]) for r in rows if r["territory_id"]
    ]


async def run_load(base: str, people: list[Person], plan_id: int, plan: Path, args) -> tuple:
    """Sign everybody in, then run the loops for ``args.seconds``; (stats, counts, wall)."""
    stats, counts, rng = Stats(), Counts(), random.Random(args.seed)
    reps = [p for p in people if p.role == "rep"]
    planners = [p for p in people if p.role == "planner"][: args.planners]
    # More simulated reps than rep users: some reps are signed in twice (two devices).
    riders = [reps[i % len(reps)] for i in range(args.reps)]
    limits = httpx.Limits(max_connections=2)
    clients = [
        httpx.AsyncClient(base_url=base, limits=limits, timeout=30) for _ in riders + planners
    ]
    try:
        gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)
        tokens = await asyncio.gather(
            *(sign_in(c, p, stats, gate) for c, p in zip(clients, riders + planners, strict=True))
        )
        counts.sessions = sum(t is not None for t in tokens)
        units = plan_units(plan)
        start = time.monotonic()
        until = start + args.seconds
        tasks = []
        for client, person, token in zip(clients, riders + planners, tokens, strict=True):
            if token is None:
                continue
            own = random.Random(rng.random())
            if person.role == "rep":
                tasks.append(
                    rep_loop(client, plan_id, person.rep_id, until, stats, counts, args.think, own)
                )
            else:
                tasks.append(
                    planner_loop(
                        client,
                        token,
                        plan_id,
                        units,
                        until,
                        stats,
                        counts,
                        args.think,
                        own,
                        args.save_every,
                    )
                )
        await asyncio.gather(*tasks)
        return stats, counts, time.monotonic() - start
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def check_nothing_lost(
    base: str,
    planner: Person,
    rep: Person,
    plan_id: int,
    version: int,
    counts: Counts,
    stats,
) -> list[str]:
    """Audit log sign-ins == sessions made; exports of rep CSVs == CSVs served; saves ==
    saved versions, each in the studio and the store; the version moved once per save;
    a rep's page holds their rows only."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await sign_in(client, rep, stats)
        counts.sessions += 1
        own = (await client.get(f"/api/plans/{plan_id}/reps/{rep.rep_id}")).json()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await sign_in(client, planner, stats)
        counts.sessions += 1
        log = await client.get("/audit.csv")
        plan = (await client.get(f"/api/plans/{plan_id}")).json()
        versions = {p["id"]: p for p in (await client.get("/api/plans")).json()}
        opened = [
            (await client.get(f"/api/plans/{saved['id']}")).status_code for saved in counts.saved
        ]
    rows = list(csv.DictReader(io.StringIO(log.text)))
    sign_ins = sum(r["action"] == "sign_in" for r in rows)
    exports = sum(
        r["action"] == "export"
        and re.search(r" rep \S+ accounts\.csv$", r["target"] or "") is not None
        for r in rows
    )
    saves = sum(r["action"] == "save_version" for r in rows)
    problems = []
    if saves != len(counts.saved):
        problems.append(f"audit log has {saves} saves, {len(counts.saved)} were answered 200")
    for saved, status in zip(counts.saved, opened, strict=True):
        found = versions.get(saved["id"])
        if found is None or found["state"] != "draft" or found["plan_id"] != saved["plan_id"]:
            problems.append(f"saved version {saved['id']} is not a draft of {saved['plan_id']}")
        elif status != 200:
            problems.append(f"saved version {saved['id']}: its plan page answers {status}")
    theirs = {str(a.get("rep_id")) for a in own.get("accounts", [])}
    if not own.get("accounts") or theirs != {str(rep.rep_id)}:
        problems.append(f"rep {rep.rep_id}'s page holds rows of {sorted(theirs)}")
    if sign_ins != counts.sessions:
        problems.append(f"audit log has {sign_ins} sign-ins, {counts.sessions} sessions were made")
    if exports != counts.csv_served:
        problems.append(f"audit log has {exports} rep CSV exports, {counts.csv_served} were served")
    expected = version + len(counts.saved)
    if plan.get("version") != expected or plan.get("state") != "published":
        problems.append(
            f"the plan is {plan.get('state')} version {plan.get('version')}, not published "
            f"version {expected} ({version} + {len(counts.saved)} saves)"
        )
    return problems


# ---------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def report(stats: Stats, wall: float, loads: tuple, problems: list[str], args) -> dict:
    rows = {}
    print(f"\n{'request':<26}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}  target")
    for kind in sorted(stats.seconds):
        ms = [1000 * s for s in stats.seconds[kind]]
        row = {
            "n": len(ms),
            "p50_ms": percentile(ms, 50),
            "p95_ms": percentile(ms, 95),
            "max_ms": max(ms),
            "errors": stats.errors.get(kind, 0),
        }
        rows[kind] = row
        target = TARGETS.get(kind)
        verdict = (
            ""
            if target is None
            else f"p95 < {target:.0f}: {'yes' if row['p95_ms'] < target else 'NO'}"
        )
        print(
            f"{kind:<26}{row['n']:>7}{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}"
            f"{row['max_ms']:>9.0f}{row['errors']:>8}  {verdict}"
        )
    total = sum(len(v) for v in stats.seconds.values())
    errors = sum(stats.errors.values())
    print(f"\n{total:,} requests in {wall:.1f} s of load ({total / wall:.1f}/s), {errors} errors")
    for sample in stats.samples:
        print(f"  error: {sample}")
    print(f"load average (1/5/15 min) before {loads[0]}, after {loads[1]}; {os.cpu_count()} CPUs")
    print("nothing lost" if not problems else "LOST: " + "; ".join(problems))
    return {
        "kinds": rows,
        "requests": total,
        "errors": errors,
        "seconds": wall,
        "load_before": loads[0],
        "load_after": loads[1],
        "cpus": os.cpu_count(),
        "lost": problems,
        "args": vars(args),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load (s)")
    parser.add_argument("--reps", type=int, default=50, help="simulated reps")
    parser.add_argument("--planners", type=int, default=5, help="simulated planners")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    parser.add_argument(
        "--save-every", type=int, default=8, help="each planner saves every N-th edit (0: never)"
    )
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between requests (s)")
    parser.add_argument("--time-limit", type=int, default=10, help="solver time limit of the plan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="studio_load_") as tmp:
        work = Path(tmp)
        print(f"building the sample plan ({args.time_limit} s solve) in {work}", flush=True)
        plan, store = build_plan(work, args.time_limit)
        db_url = f"sqlite:///{work / 'studio.sqlite'}"
        people = seed_users(db_url, plan, args.planners)
        port = free_port()
        server = start_server(db_url, store, port, work / "server.log", args.workers)
        failed = 1
        try:
            failed = asyncio.run(_measure(f"http://127.0.0.1:{port}", people, plan, args))
            return failed
        finally:
            stop_server(server)
            print(f"server stopped (exit {server.returncode})")
            if failed:
                print("server log (end):\n" + (work / "server.log").read_text()[-4000:])


async def _measure(base: str, people: list[Person], plan: Path, args) -> int:
    planner = next(p for p in people if p.username == "planner")
    manager = next(p for p in people if p.role == "manager")
    rep = next(p for p in people if p.role == "rep")
    setup = Stats()
    version = await publish(base, planner, manager, 1, setup)
    loads_before = tuple(round(x, 2) for x in os.getloadavg())
    print(
        f"load for {args.seconds:.0f} s: {args.reps} reps, {args.planners} planners "
        f"(a save every {args.save_every} edits), serve --workers {args.workers}",
        flush=True,
    )
    stats, counts, wall = await run_load(base, people, 1, plan, args)
    loads_after = tuple(round(x, 2) for x in os.getloadavg())
    counts.sessions += 2  # the planner's and the manager's sign-ins that published the plan
    problems = await check_nothing_lost(base, planner, rep, 1, version, counts, Stats())
    numbers = report(stats, wall, (loads_before, loads_after), problems, args)
    if args.json is not None:
        args.json.write_text(json.dumps(numbers, indent=2, default=str), encoding="utf-8")
    return 1 if numbers["errors"] or problems or setup.errors.get("sign in") else 0


if __name__ == "__main__":
    sys.exit(main())
