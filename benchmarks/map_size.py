"""Size and render time of the plan map for a large synthetic plan.

Builds a plan-like input on the sample's 669 counties: territories are counties
grouped around seeded centres and dissolved, accounts are points scattered around
county centres, each with a potential, a workload and a ``moved`` flag. Nothing is
solved; the territory figures are plain sums, which is all the map needs. Then it
renders ``map.html`` with and without polygon simplification and reports the file
size and the time taken, and, with ``--browser``, how long Chromium takes to open the
page, to switch every accounts layer on (clustering all accounts) and to pan.

Usage::

    python benchmarks/map_size.py                 # 100,000 accounts
    python benchmarks/map_size.py --accounts 20000 --browser

Writes its pages to ``benchmarks/out/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territory_engine.render.plan_map import render_plan_map, save_map

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
MEASURES = ["potential", "workload_hours"]


def synthetic_plan(
    n_accounts: int, n_territories: int, seed: int
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Territories, accounts and reps shaped like a plan folder's, on the sample counties."""
    rng = np.random.default_rng(seed)
    counties = gpd.read_file(ROOT / "data" / "counties.gpkg", layer="counties").to_crs(4326)
    centres = counties.geometry.representative_point()
    cx, cy = centres.x.to_numpy(), centres.y.to_numpy()
    seeds = rng.choice(len(counties), n_territories, replace=False)
    d = (cx[:, None] - cx[seeds][None, :]) ** 2 + (cy[:, None] - cy[seeds][None, :]) ** 2
    county_territory = d.argmin(axis=1)
    tids = np.array([f"T{t:03d}" for t in range(n_territories)], dtype=object)

    county_of = rng.integers(0, len(counties), n_accounts)
    lat = cy[county_of] + rng.normal(0, 0.08, n_accounts)
    lon = cx[county_of] + rng.normal(0, 0.08, n_accounts)
    territory_of = county_territory[county_of]
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:07d}" for i in range(n_accounts)],
            "name": [f"Account {i} Holdings" for i in range(n_accounts)],
            "lat": lat,
            "lon": lon,
            "territory_id": tids[territory_of],
            "rep_id": [f"R{t:03d}" for t in territory_of],
            "segment": "all",
            "potential": np.round(rng.lognormal(11, 1.2, n_accounts)),
            "workload_hours": np.round(rng.uniform(2, 12, n_accounts), 1),
            "moved": rng.random(n_accounts) < 0.1,
        }
    )
    frame = gpd.GeoDataFrame(
        {"territory_id": tids[county_territory]}, geometry=counties.geometry.values, crs=4326
    )
    territories = frame.dissolve(by="territory_id", as_index=False)
    totals = accounts.groupby("territory_id").agg(
        n_accounts=("account_id", "size"),
        potential=("potential", "sum"),
        workload_hours=("workload_hours", "sum"),
    )
    territories = territories.merge(totals, left_on="territory_id", right_index=True, how="left")
    territories = territories.fillna({"n_accounts": 0, "potential": 0.0, "workload_hours": 0.0})
    for m in MEASURES:
        mean = territories[m].mean()
        territories[f"{m}_dev_pct"] = 100 * (territories[m] / mean - 1)
        territories[f"{m}_in_band"] = territories[f"{m}_dev_pct"].abs() <= 5
    territories["rep_id"] = [f"R{int(t[1:]):03d}" for t in territories["territory_id"]]
    territories["rep_name"] = [f"Rep {t[1:]}" for t in territories["territory_id"]]
    territories["segment"] = "all"
    territories["travel_mean_km"] = rng.uniform(30, 150, len(territories))
    territories["travel_max_km"] = territories["travel_mean_km"] * 3
    homes = territories.geometry.representative_point()
    reps = pd.DataFrame(
        {
            "rep_id": territories["rep_id"],
            "name": territories["rep_name"],
            "home_lat": homes.y,
            "home_lon": homes.x,
            "segment": "all",
            "territory_id": territories["territory_id"],
        }
    )
    return territories, accounts, reps


def render(territories, accounts, reps, path: Path, simplify: float | None) -> dict:
    t0 = time.perf_counter()
    m = render_plan_map(
        territories, accounts, reps, measures=MEASURES, title="benchmark", simplify=simplify
    )
    size = save_map(m, path)
    return {"seconds": time.perf_counter() - t0, "bytes": size}


def browser_timings(path: Path) -> dict | None:
    """Open the page in Chromium, switch the accounts on, pan; ``None`` without a browser."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t0 = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        loaded = time.perf_counter() - t0
        t1 = time.perf_counter()
        for label in page.locator(".leaflet-control-layers-overlays label").all():
            if "accounts" in label.inner_text():
                label.locator("input").check()
        page.wait_for_selector(".te-cluster")
        shown = time.perf_counter() - t1
        t2 = time.perf_counter()
        map_name = page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")
        for dx in (200, -200, 200, -200):
            page.evaluate(f"void {map_name}.panBy([{dx}, 0], {{animate: false}})")
            page.wait_for_timeout(0)
        panned = (time.perf_counter() - t2) / 4
        clusters = page.locator(".te-cluster").count()
        browser.close()
    return {
        "load_s": loaded,
        "accounts_on_s": shown,
        "pan_s": panned,
        "clusters": clusters,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also time it in Chromium")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    territories, accounts, reps = synthetic_plan(args.accounts, args.territories, args.seed)
    build = time.perf_counter() - t0
    vertices = int(shapely.get_num_coordinates(territories.geometry.values).sum())
    print(
        f"synthetic plan: {len(accounts):,} accounts, {len(territories)} territories, "
        f"{vertices:,} polygon vertices (built in {build:.1f} s)"
    )
    for label, simplify in (("simplified (default)", None), ("not simplified", 0.0)):
        path = OUT / f"map_{args.accounts}_{'simplified' if simplify is None else 'full'}.html"
        r = render(territories, accounts, reps, path, simplify)
        print(f"{label:>22}: {r['bytes'] / 1e6:6.2f} MB in {r['seconds']:.1f} s  ({path.name})")
    if args.browser:
        timings = browser_timings(OUT / f"map_{args.accounts}_simplified.html")
        if timings is None:
            print("browser: no Chromium or Playwright; skipped")
        else:
            print(
                f"browser: load {timings['load_s']:.1f} s, all accounts on "
                f"{timings['accounts_on_s']:.1f} s, pan {timings['pan_s'] * 1000:.0f} ms, "
                f"{timings['clusters']} clusters drawn, errors: {timings['errors'] or 'none'}"
            )


if __name__ == "__main__":
    main()
