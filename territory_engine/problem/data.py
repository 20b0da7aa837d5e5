"""``ProblemData``: the solver's whole view of a scenario, as plain arrays.

The solver never sees a GeoDataFrame. Everything it needs is here: unit
weights per measure, territory bands, centres, eligibility, locks, the current
owner (for disruption), and the unit adjacency (for contiguity and cut edges).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from territory_engine.geo.distance import distance_matrix_km, haversine_km

DISTANCE_BLOCK_CELLS = 1 << 22
"""Entries of one block of a (unit, centre) distance matrix (32 MB of float64)."""

KDTREE_MIN_PAIRS = 50_000_000
"""Above this many (unit, centre) pairs nearest centres come from a k-d tree."""


@dataclass(frozen=True)
class ProblemData:
    """Arrays describing an alignment problem.

    Shapes: ``n`` units, ``k`` territories, ``m`` balance measures.

    Attributes
    ----------
    unit_ids
        (n,) labels of the units (for messages and outputs).
    xy
        (n, 2) lon/lat of each unit's centre (potential-weighted where accounts exist).
    weights
        (n, m) the balance measures of each unit.
    measure_names
        (m,) names of the measures.
    travel_weight
        (n,) the weight that multiplies a unit's distance in the travel term
        (its potential, plus a small floor so empty units still prefer near territories).
    territory_ids
        (k,) labels of the territories.
    centres
        (k, 2) lon/lat of territory centres (rep homes), or ``None`` when the
        solver chooses centres (``free_centres``).
    lower, upper
        (k, m) hard band of each territory for each measure.
    unit_group, territory_group
        (n,), (k,) eligibility groups: unit i may join territory t only when
        ``unit_group[i] == territory_group[t]``.
    adjacency
        (n, n) symmetric boolean CSR adjacency of units (only within a group).
    locked
        (n,) territory index a unit is locked to, or -1.
    current
        (n,) territory owning most of the unit's potential last year, or -1.
    owned_potential, owned_count
        (n, k) sparse CSR: potential / number of the unit's accounts currently
        owned by each territory; a unit assigned to ``t`` moves
        ``moved_potential[i] - owned_potential[i, t]`` of potential.
    contiguity
        Whether every territory must be connected in ``adjacency``.
    max_moved_potential, max_moved_accounts
        Absolute caps on potential / accounts changing owner, or ``None``.
    objective_weights
        ``{"travel", "compactness", "disruption", "relationships"}`` weights
        (terms normalised; a missing key weighs 0).
    group_names
        Names of the eligibility groups, for messages.
    planar
        Coordinates are planar (Euclidean distance) rather than lon/lat
        (great-circle km).
    travel_power
        Exponent of distance in the travel term: 1 for travel (Hess et al.'s
        potential-weighted distance), 2 for the moment of inertia.
    affinity
        (n, k) sparse CSR or ``None``: ``Σ_{a in unit i} potential_a ·
        proximity(rep of t, a)``, the potential the rep of ``t`` is close to
        in unit ``i`` (see :mod:`territory_engine.social.proximity`).
    travel_cost
        (n, k) travel from unit ``i`` to territory ``t``'s centre in
        ``travel_unit`` (``data.travel_times``: minutes from the rep's home), or
        ``None``: distance is then great-circle km (planar units when
        ``planar``) between ``xy`` and the centres. Only with fixed centres.
    travel_unit
        What travel is measured in: ``"km"``, or ``"min"`` with ``travel_cost``.
    """

    unit_ids: np.ndarray
    xy: np.ndarray
    weights: np.ndarray
    measure_names: tuple[str, ...]
    travel_weight: np.ndarray
    territory_ids: tuple[str, ...]
    centres: np.ndarray | None
    lower: np.ndarray
    upper: np.ndarray
    unit_group: np.ndarray
    territory_group: np.ndarray
    adjacency: sp.csr_matrix
    locked: np.ndarray
    current: np.ndarray
    unit_potential: np.ndarray
    unit_accounts: np.ndarray
    owned_potential: sp.csr_matrix
    owned_count: sp.csr_matrix
    contiguity: bool = False
    max_moved_potential: float | None = None
    max_moved_accounts: float | None = None
    objective_weights: dict[str, float] = field(
        default_factory=lambda: {"travel": 1.0, "compactness": 0.0, "disruption": 0.0}
    )
    group_names: tuple[str, ...] = ("all",)
    planar: bool = False
    travel_power: float = 1.0
    affinity: sp.csr_matrix | None = None
    travel_cost: np.ndarray | None = None
    travel_unit: str = "km"

    @property
    def n_units(self) -> int:
        """Number of units ``n``."""
        return len(self.unit_ids)

    @property
    def n_territories(self) -> int:
        """Number of territories ``k``."""
        return len(self.territory_ids)

    @property
    def n_measures(self) -> int:
        """Number of balance measures ``m``."""
        return len(self.measure_names)

    @property
    def free_centres(self) -> bool:
        """True when the solver chooses territory centres."""
        return self.centres is None

    def distances_to(self, centres: np.ndarray, units: np.ndarray | None = None) -> np.ndarray:
        """Distances from units (all, or the given indices) to ``centres`` (k, 2): a matrix."""
        xy = self.xy if units is None else self.xy[units]
        if self.planar:
            return np.hypot(
                xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1]
            )
        return distance_matrix_km(xy, centres)

    def distance_blocks(
        self,
        centres: np.ndarray,
        units: np.ndarray,
        terrs: np.ndarray | None = None,
        max_cells: int = DISTANCE_BLOCK_CELLS,
    ) -> Iterator[tuple[slice, np.ndarray]]:
        """:meth:`centre_distances` in row blocks of at most ``max_cells`` entries.

        Yields ``(rows, d)``: ``d`` is the travel from ``units[rows]`` to the
        centres of ``terrs`` (all when ``None``). The blocks hold the same
        numbers as the whole matrix; at 200,000 units and 1,000 centres the
        whole one (and the temporaries of the haversine) would take several GB.
        """
        width = len(centres) if terrs is None else len(terrs)
        step = max(1, max_cells // max(width, 1))
        for lo in range(0, len(units), step):
            rows = slice(lo, min(lo + step, len(units)))
            yield rows, self.centre_distances(centres, units[rows], terrs)

    def nearest_centres(
        self, centres: np.ndarray, units: np.ndarray, q: int, terrs: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``q`` nearest territory centres to each of ``units``: positions and travel.

        Returns ``(index, dist)``, both ``(len(units), q)``, nearest first;
        ``index`` counts positions in ``terrs`` (all territories when ``None``).
        Up to :data:`KDTREE_MIN_PAIRS` (unit, centre) pairs, or with travel
        times, the travel comes from :meth:`distance_blocks`; above, from a k-d
        tree on unit-sphere (or plane) coordinates, whose chord order is the
        great-circle order (at 200,000 units and 1,000 centres: seconds instead
        of a minute of haversines). The two differ only in how exact ties are broken.
        """
        units = np.asarray(units)
        chosen = centres if terrs is None else centres[terrs]
        q = min(q, len(chosen))
        if self.travel_cost is None and len(units) * len(chosen) > KDTREE_MIN_PAIRS:
            from scipy.spatial import cKDTree

            _, index = cKDTree(self._tree_points(chosen)).query(
                self._tree_points(self.xy[units]), k=q
            )
            index = np.asarray(index, dtype=np.intp).reshape(len(units), q)
            dist = self.paired_distances(
                np.repeat(self.xy[units], q, axis=0), chosen[index.ravel()]
            ).reshape(len(units), q)
            return index, dist
        index = np.empty((len(units), q), dtype=np.intp)
        dist = np.empty((len(units), q))
        for rows, d in self.distance_blocks(centres, units, terrs):
            if q < d.shape[1]:
                part = np.argpartition(d, q - 1, axis=1)[:, :q]
            else:
                part = np.broadcast_to(np.arange(q), d.shape).copy()
            near = np.take_along_axis(d, part, axis=1)
            order = np.argsort(near, axis=1, kind="stable")
            index[rows] = np.take_along_axis(part, order, axis=1)
            dist[rows] = np.take_along_axis(near, order, axis=1)
        return index, dist

    def _tree_points(self, xy: np.ndarray) -> np.ndarray:
        """Coordinates whose Euclidean order is the distance order: plane, or unit sphere."""
        if self.planar:
            return np.asarray(xy, dtype=float)
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])

    def paired_distances(self, xy_a: np.ndarray, xy_b: np.ndarray) -> np.ndarray:
        """Distances between paired rows of ``xy_a`` and ``xy_b`` (both (N, 2))."""
        if self.planar:
            return np.hypot(xy_a[:, 0] - xy_b[:, 0], xy_a[:, 1] - xy_b[:, 1])
        return haversine_km(xy_a[:, 0], xy_a[:, 1], xy_b[:, 0], xy_b[:, 1])

    def centre_distances(
        self, centres: np.ndarray, units: np.ndarray | None = None, terrs: np.ndarray | None = None
    ) -> np.ndarray:
        """Travel from units (all, or the given indices) to territories' centres: a matrix.

        ``travel_cost[units][:, terrs]`` when the problem has travel times, else
        :meth:`distances_to` of ``centres[terrs]`` (``centres``: (k, 2), one row
        per territory; ``terrs``: all territories when ``None``).
        """
        if self.travel_cost is not None:
            rows = self.travel_cost if units is None else self.travel_cost[units]
            return rows if terrs is None else rows[:, terrs]
        return self.distances_to(centres if terrs is None else centres[terrs], units)

    def paired_centre_distances(
        self, centres: np.ndarray, units: np.ndarray, terrs: np.ndarray
    ) -> np.ndarray:
        """Travel from ``units[q]`` to the centre of territory ``terrs[q]`` (paired arrays)."""
        if self.travel_cost is not None:
            return self.travel_cost[units, terrs]
        return self.paired_distances(self.xy[units], centres[terrs])

    def eligible(self) -> np.ndarray:
        """(n, k) boolean: unit may join territory (group match)."""
        return self.unit_group[:, None] == self.territory_group[None, :]


def count_cut_edges(adjacency: sp.spmatrix, assign: np.ndarray) -> int:
    """Number of edges of the (symmetric) unit graph whose ends lie in different territories.

    The one cut-edge count of the engine: the solver's objective, the annealing, the
    partition command and the scorecard all call it.

    Parameters
    ----------
    adjacency
        (n, n) symmetric adjacency; each undirected edge is counted once.
    assign
        (n,) territory of each unit.
    """
    coo = adjacency.tocoo()
    upper = coo.row < coo.col
    return int(np.count_nonzero(assign[coo.row[upper]] != assign[coo.col[upper]]))
