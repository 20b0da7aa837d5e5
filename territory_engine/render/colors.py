"""Colours for plan maps: qualitative palettes and a neighbour-aware colouring.

Territories are coloured so that two territories that touch never share a colour;
otherwise a planner cannot tell where one territory ends and the next begins. The
colouring is a graph colouring of the territory adjacency graph, mapped to a
qualitative palette: an equitable colouring that spreads a layer over the palette
when every territory has fewer neighbours than there are colours to spread over,
and otherwise a greedy heuristic (DSATUR by default) that needs few colours on
map-like graphs. Everything here is deterministic for a given input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import geopandas

#: Tableau 10 (the 2016 revision): ten hues that stay distinguishable side by side.
TABLEAU_10: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)

#: The ten lighter companions of :data:`TABLEAU_10` in Tableau 20, used only once a
#: layer needs more than ten colour classes.
TABLEAU_20_EXTRA: tuple[str, ...] = (
    "#a0cbe8",
    "#ffbe7d",
    "#ff9d9a",
    "#86bcb6",
    "#8cd17d",
    "#f1ce63",
    "#d4a6c8",
    "#fabfd2",
    "#d7b5a6",
    "#79706e",
)

#: ColorBrewer Set3 (12 pastel classes), an alternative palette for callers.
SET3_12: tuple[str, ...] = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)

#: Default territory palette: strong hues first, so small plans get the clearest colours.
TERRITORY_PALETTE: tuple[str, ...] = TABLEAU_10 + TABLEAU_20_EXTRA

#: Fill of accounts whose territory is not on the map (unassigned or unknown id).
UNASSIGNED_COLOR = "#8c8c8c"

#: Ring of accounts that change territory in this plan; also used on clusters holding one.
MOVED_COLOR = "#e8590c"

#: Dotted ring of accounts kept with a rep for a relationship: violet, apart from the
#: orange of moves and from the territory palette's mid tones.
KEPT_COLOR = "#7b2cbf"

#: Fill of rep home markers: dark, so it reads on every palette colour.
REP_HOME_COLOR = "#222222"

#: Border of territories with at least one balance measure outside its band.
OUT_OF_BAND_BORDER = "#b00020"

_STRATEGIES = {"largest_first", "saturation_largest_first", "smallest_last", "independent_set"}


def adjacency_graph(
    territories: geopandas.GeoDataFrame, group_column: str | None = None
) -> nx.Graph:
    """Build the graph of territories that touch or overlap within the same group.

    Parameters
    ----------
    territories
        One row per territory with a (multi)polygon geometry. The row labels of the
        frame are the graph's nodes.
    group_column
        Only territories with equal values in this column can be neighbours (one map
        layer per value); ``None`` puts all territories in one group.

    Returns
    -------
    networkx.Graph
        Nodes are the row labels in row order (so greedy colourings are
        reproducible); an edge joins two rows whose geometries intersect, which
        includes touching at a single corner because such squares also look adjacent.
    """
    graph = nx.Graph()
    graph.add_nodes_from(territories.index)
    if len(territories) < 2:
        return graph
    geoms = territories.geometry.values
    left, right = territories.sindex.query(geoms, predicate="intersects")
    keep = left < right  # each unordered pair once, and no self-loops
    left, right = left[keep], right[keep]
    if group_column is not None:
        groups = territories[group_column].to_numpy()
        same = np.array(
            [_same_group(groups[i], groups[j]) for i, j in zip(left, right, strict=True)],
            dtype=bool,
        )
        left, right = left[same], right[same]
    labels = territories.index
    graph.add_edges_from(zip(labels[left], labels[right], strict=True))
    return graph


def _same_group(a: object, b: object) -> bool:
    # Missing group values form one group of their own rather than never matching.
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


def color_classes(
    territories: geopandas.GeoDataFrame,
    group_column: str | None = None,
    *,
    strategy: str = "saturation_largest_first",
    spread: int | None = len(TABLEAU_10),
) -> pd.Series:
    """Number territories so that neighbours in the same group get different numbers.

    Parameters
    ----------
    territories
        One row per territory with a (multi)polygon geometry and a unique index.
    group_column
        Column whose values define independent layers (see :func:`adjacency_graph`).
    strategy
        ``networkx.greedy_color`` strategy; DSATUR (``"saturation_largest_first"``)
        uses the fewest colours on map-like graphs.
    spread
        Spread a group over this many classes when it can be done: if every
        territory of the group touches fewer than ``min(spread, group size)`` others,
        ``networkx.equitable_color`` gives classes of equal size (a group no larger
        than ``spread`` gets one class per territory, so the legend is unambiguous).
        Otherwise, or with ``None``/``0``, the greedy colouring is used as it is.

    Returns
    -------
    pandas.Series
        Integer colour class per row (0, 1, ...), indexed like ``territories``.
    """
    if strategy not in _STRATEGIES:
        raise ValueError(
            f"unknown colouring strategy {strategy!r}; use one of {sorted(_STRATEGIES)}"
        )
    if territories.index.has_duplicates:
        raise ValueError("territories must have a unique index to be coloured")
    graph = adjacency_graph(territories, group_column)
    groups: dict[object, list[object]] = {}
    keys = (
        [_group_key(v) for v in territories[group_column]]
        if group_column is not None
        else [None] * len(territories)
    )
    for key, label in zip(keys, territories.index, strict=True):
        groups.setdefault(key, []).append(label)

    classes: dict[object, int] = {}
    for labels in groups.values():
        # A fresh graph in row order keeps the heuristics' tie-breaking reproducible.
        sub = nx.Graph()
        sub.add_nodes_from(labels)
        sub.add_edges_from(graph.subgraph(labels).edges)
        k = min(spread or 0, len(labels))
        max_degree = max((d for _, d in sub.degree), default=0)
        if k and max_degree < k:
            classes.update(nx.equitable_color(sub, k))
        else:
            classes.update(nx.greedy_color(sub, strategy=strategy))
    return pd.Series([classes[label] for label in territories.index], index=territories.index)


def _group_key(value: object) -> tuple[bool, object]:
    # All missing values share one group, consistent with _same_group.
    return (True, None) if pd.isna(value) else (False, value)


def assign_colors(
    territories: geopandas.GeoDataFrame,
    group_column: str | None,
    *,
    palette: tuple[str, ...] | list[str] = TERRITORY_PALETTE,
    strategy: str = "saturation_largest_first",
    spread: int | None = len(TABLEAU_10),
) -> pd.Series:
    """Give each territory a hex colour that no touching territory of its group shares.

    Parameters
    ----------
    territories
        One row per territory with a (multi)polygon geometry, any CRS (the adjacency
        is topological, so no reprojection is needed).
    group_column
        Column whose values are drawn as separate map layers (for example
        ``"segment"``): territories of different groups may overlap and may share a
        colour. ``None`` treats all rows as one layer.
    palette
        Hex colours, at least ten; colour class *k* gets ``palette[k]``.
    strategy
        ``networkx.greedy_color`` strategy (see :func:`color_classes`).
    spread
        Number of leading palette colours to spread a layer over when possible (see
        :func:`color_classes`); ``None`` keeps the plain greedy colouring.

    Returns
    -------
    pandas.Series
        Hex colour string per row, indexed like ``territories``. The same input always
        gives the same colours.

    Notes
    -----
    Touching territories of one layer never share a colour. Within that rule the
    colours are spread over the palette's first ``spread`` entries (equitable
    colouring), so a layer's colours repeat as little as possible. When that is not
    possible, greedy colouring is used; it needs at most one colour more than the
    largest number of neighbours of one territory, on real territory maps four to six.
    Should a layer ever need more classes than the palette holds, the palette is
    reused cyclically and the no-shared-colour guarantee no longer holds for it.
    """
    if len(palette) < 10:
        raise ValueError(f"a territory palette needs at least 10 colours, got {len(palette)}")
    if spread:
        spread = min(spread, len(palette))
    classes = color_classes(territories, group_column, strategy=strategy, spread=spread)
    return classes.map(lambda k: palette[int(k) % len(palette)]).astype(object)
