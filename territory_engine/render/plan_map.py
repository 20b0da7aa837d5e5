"""Interactive HTML map of a territory plan (folium / Leaflet).

The map only draws what the pipeline hands it: territory polygons with their
balance figures already computed, accounts with their assignment and a ``moved``
flag, and rep homes. Nothing here scores, balances or solves.

Layout of the map, per value of ``layer_column`` (segments, by default, because
overlay sales teams cover the same ground and would hide each other):

* a *territories* overlay: polygons coloured so that touching territories differ,
  a tooltip and a popup table per territory, and the rep home markers;
* an *accounts* overlay: clustered circle markers coloured like their territory,
  accounts that change territory ringed in orange.

On top: a title, a legend that follows the visible overlays, a layer switcher,
a full-screen button and one search box for reps (their territories) and accounts.
Without ``tiles`` the map has no basemap and loads no tiles, and :func:`save_map`
inlines the Leaflet scripts and styles, so the page works without any network.
Territory outlines are simplified for display with a coverage simplification
(shared borders stay shared, so no gaps or slivers appear between neighbours).
"""

from __future__ import annotations

import html
import json
import math
import pathlib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas
import numpy as np
import pandas as pd
import shapely
import shapely.errors
import shapely.geometry
from branca.element import Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import CustomPane
from folium.plugins import FastMarkerCluster, Fullscreen, Search
from folium.template import Template

from territory_engine.display.numbers import number, percent, travel
from territory_engine.render.assets import (
    OfflineAssetError,
    external_references,
    inline_assets,
)
from territory_engine.render.colors import (
    KEPT_COLOR,
    MOVED_COLOR,
    OUT_OF_BAND_BORDER,
    REP_HOME_COLOR,
    TERRITORY_PALETTE,
    UNASSIGNED_COLOR,
    assign_colors,
)

__all__ = [
    "ACCOUNT_COLUMNS",
    "REP_COLUMNS",
    "TERRITORY_COLUMNS",
    "offline_html",
    "render_plan_map",
    "save_map",
    "simplify_outlines",
]

#: Columns ``territories`` must have besides the geometry and the per-measure
#: columns ``<m>``, ``<m>_dev_pct`` and ``<m>_in_band``.
TERRITORY_COLUMNS: tuple[str, ...] = (
    "territory_id",
    "rep_id",
    "rep_name",
    "segment",
    "n_accounts",
    "travel_mean_km",
    "travel_max_km",
)
#: Columns ``accounts`` must have (``segment`` is used when it is the layer column).
ACCOUNT_COLUMNS: tuple[str, ...] = (
    "account_id",
    "name",
    "lat",
    "lon",
    "territory_id",
    "rep_id",
    "potential",
    "moved",
)
#: Optional account column: the account stays with a rep who knows it, outside the
#: territory covering its county (``objective.mode: social`` or
#: ``relationships.follow_min_proximity``).
KEPT_COLUMN = "kept_for_relationship"
#: Columns ``reps`` must have (``segment`` and ``territory_id`` are used when present).
REP_COLUMNS: tuple[str, ...] = ("rep_id", "name", "home_lat", "home_lon")

#: Decimals kept in embedded coordinates: 1e-5 degrees is about a metre, far below
#: what a plan map shows, and it keeps the HTML small.
COORD_DECIMALS = 5

#: Leaflet pane holding the account markers (between polygons and rep markers).
ACCOUNT_PANE = "te-accounts"

#: Default simplification tolerance of territory outlines, as a share of the diagonal
#: of the plan's bounding box: about a pixel of a map that shows the whole plan on a
#: large screen, so the outlines look the same while the page holds fewer vertices.
SIMPLIFY_SHARE = 1 / 3000

#: Accounts overlays start visible only up to this many accounts; above it they start
#: hidden so the territories stay readable and the page stays responsive.
AUTO_SHOW_ACCOUNTS_MAX = 2000

_MISSING = "(none)"
_DASH = "–"

_CSS = (
    """
<style>
.leaflet-container { background: #f3f1ec; }
.te-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 1000; background: rgba(255,255,255,0.92); padding: 4px 12px; border-radius: 4px;
  font: 600 15px/1.3 system-ui, sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
  pointer-events: none; max-width: 60%; text-align: center; }
.te-legend { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 4px;
  font: 12px/1.35 system-ui, sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,0.3);
  max-height: 45vh; overflow-y: auto; min-width: 150px; max-width: 260px; }
.te-legend-title { font-weight: 700; margin-bottom: 3px; }
.te-legend-head { font-weight: 600; margin: 5px 0 2px; }
.te-legend ul { list-style: none; margin: 0; padding: 0; }
.te-legend li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.te-muted { color: #777; }
.te-swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
  vertical-align: -2px; border: 1px solid #555; opacity: 0.85; }
.te-dashed { display: inline-block; width: 12px; height: 9px; margin-right: 5px;
  border: 2px dashed __OOB__; }
.te-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  margin-right: 6px; vertical-align: -1px; background: #4e79a7; border: 1px solid #333; }
.te-dot-moved { width: 10px; height: 10px; border: 3px solid __MOVED__; box-shadow: none; }
.te-dot-kept { width: 10px; height: 10px; border: 3px dotted __KEPT__; box-shadow: none; }
.te-rep { width: 10px; height: 10px; background: __REP__; border: 2px solid #fff;
  transform: rotate(45deg); box-shadow: 0 0 0 1px __REP__; }
.te-rep-key { display: inline-block; margin: 0 8px 0 2px; vertical-align: -1px; }
.te-cluster div { width: 100%; height: 100%; border-radius: 50%;
  background: rgba(50,50,50,0.72); color: #fff; font: 600 11px/1 system-ui, sans-serif;
  display: flex; align-items: center; justify-content: center;
  border: 2px solid rgba(255,255,255,0.9); box-sizing: border-box; }
.te-cluster-moved div { box-shadow: 0 0 0 3px __MOVED__; }
.te-table { border-collapse: collapse; font: 12px/1.35 system-ui, sans-serif; }
.te-table caption { text-align: left; font-weight: 700; padding-bottom: 3px; }
.te-table th { text-align: left; padding: 1px 8px 1px 0; font-weight: 600; }
.te-table td { padding: 1px 8px 1px 0; text-align: right; }
.te-table td.te-l { text-align: left; }
.te-in { color: #2b8a3e; }
.te-out { color: __OOB__; font-weight: 600; }
</style>
""".replace("__OOB__", OUT_OF_BAND_BORDER)
    .replace("__MOVED__", MOVED_COLOR)
    .replace("__KEPT__", KEPT_COLOR)
    .replace("__REP__", REP_HOME_COLOR)
)

# Cluster bubbles: neutral grey so they never read as a territory colour, with an
# orange ring when any account inside moves, so moves show even when zoomed out.
_CLUSTER_ICON_JS = """
function (cluster) {
    var children = cluster.getAllChildMarkers();
    var moved = 0;
    for (var i = 0; i < children.length; i++) {
        if (children[i].options.moved) { moved++; }
    }
    var n = children.length;
    var size = n < 100 ? 30 : (n < 1000 ? 38 : 46);
    return L.divIcon({
        html: '<div title="' + n + ' accounts, ' + moved + ' moved"><span>' + n + '</span></div>',
        className: 'te-cluster' + (moved ? ' te-cluster-moved' : ''),
        iconSize: L.point(size, size)
    });
}
"""

# One marker per account, built in the browser from a compact row:
# [lat, lon, name, account_id, potential, moved (0/1), territory index, rep index,
#  kept for a relationship (0/1)].
# Labels are HTML-escaped in Python, so they can go into innerHTML as they are.
_ACCOUNT_CALLBACK_JS = """
(function () {
    var T = __TERRITORIES__;
    var R = __REPS__;
    return function (row) {
        var t = row[6] >= 0 ? T[row[6]] : null;
        var moved = row[5] === 1;
        var kept = row[8] === 1;
        var marker = L.circleMarker([row[0], row[1]], {
            radius: moved || kept ? 7 : 5,
            color: kept ? '__KEPT_COLOR__' : (moved ? '__MOVED_COLOR__' : '#333333'),
            weight: moved || kept ? 3 : 1,
            dashArray: kept ? '2 3' : null,
            opacity: 1,
            fillColor: t ? t[1] : '__UNASSIGNED__',
            fillOpacity: 0.9,
            pane: '__PANE__',
            moved: moved,
            te_label: row[2] + ' (' + row[3] + ')'
        });
        marker.bindPopup(function () {
            var potential = row[4] === null ? '__DASH__'
                : Math.round(row[4]).toLocaleString('en-US');
            return '<table class="te-table"><caption>' + row[2] + '</caption>'
                + '<tr><th>account</th><td class="te-l">' + row[3] + '</td></tr>'
                + '<tr><th>rep</th><td class="te-l">'
                + (row[7] >= 0 ? R[row[7]] : '__DASH__') + '</td></tr>'
                + '<tr><th>territory</th><td class="te-l">'
                + (t ? t[0] : '__DASH__') + '</td></tr>'
                + '<tr><th>potential</th><td class="te-l">' + potential + '</td></tr>'
                + (moved ? '<tr><th>moved</th><td class="te-l te-out">'
                    + '__MOVED_NOTE__</td></tr>' : '')
                + (kept ? '<tr><th>relationship</th><td class="te-l">'
                    + 'kept with a rep who knows the account, outside the territory'
                    + ' that covers its county</td></tr>' : '')
                + '</table>';
        });
        return marker;
    };
})()
"""


class _PlanChrome(MacroElement):
    """Title box, background colour and a legend that follows the visible overlays.

    Parameters
    ----------
    title_html
        Escaped title text; empty for no title box (a page that titles the map).
    legend_html
        Escaped legend body; sections carry ``data-te-layer="<i>"``.
    sections
        ``(i, feature_group)`` pairs: section *i* is shown while the group is on the map.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            {%- if this.title_html %}
            var title = L.DomUtil.create('div', 'te-title', map.getContainer());
            title.innerHTML = {{ this.title_html|tojson }};
            {%- endif %}
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'te-legend');
                div.innerHTML = {{ this.legend_html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo(map);
            var sections = [
                {%- for index, group in this.sections %}
                [{{ index }}, {{ group.get_name() }}],
                {%- endfor %}
            ];
            function refresh() {
                var box = legend.getContainer();
                sections.forEach(function (s) {
                    var el = box.querySelector('[data-te-layer="' + s[0] + '"]');
                    if (el) { el.style.display = map.hasLayer(s[1]) ? '' : 'none'; }
                });
            }
            sections.forEach(function (s) { s[1].on('add remove', refresh); });
            refresh();
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, title_html: str, legend_html: str, sections: list[tuple[int, folium.FeatureGroup]]
    ) -> None:
        super().__init__()
        self._name = "PlanChrome"
        self.css = _CSS
        self.title_html = title_html
        self.legend_html = legend_html
        self.sections = sections


class _PlanSearch(JSCSSMixin, MacroElement):
    """One search box over the territories (by rep) and accounts of every overlay.

    It uses the same Leaflet.Search plugin as :class:`folium.plugins.Search`, but one
    index spans all overlays, and a hit first switches its overlay on, so a rep or
    account in a hidden segment is found too.

    Parameters
    ----------
    territory_layers
        ``(overlay, geojson)`` pairs; features carry ``te_label`` and are tagged with
        their overlay by the GeoJSON ``onEachFeature`` hook.
    account_layers
        ``(overlay, cluster)`` pairs; markers carry the ``te_label`` option.
    placeholder
        Text shown in the empty search box.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var index = L.layerGroup();
            // Leaflet.Search adds its layer to the map; the index must stay off it,
            // or every overlay would be shown regardless of the layer switcher.
            index.addTo = function () { return this; };
            {%- for overlay, geo in this.territory_layers %}
            index.addLayer({{ geo.get_name() }});
            {%- endfor %}
            {%- for overlay, cluster in this.account_layers %}
            index.addLayer({{ cluster.get_name() }});
            {{ cluster.get_name() }}.eachLayer(function (m) {
                m._teOverlay = {{ overlay.get_name() }};
                m._teCluster = {{ cluster.get_name() }};
            });
            {%- endfor %}
            var control = new L.Control.Search({
                layer: index,
                propertyName: 'te_label',
                initial: false,
                collapsed: false,
                marker: false,
                minLength: 2,
                tooltipLimit: 15,
                textPlaceholder: {{ this.placeholder|tojson }},
                textErr: 'Not found',
                position: 'topleft',
                moveToLocation: function (latlng, title, m) {
                    var layer = latlng.layer;
                    if (!layer) { m.panTo(latlng); return; }
                    if (layer._teOverlay && !m.hasLayer(layer._teOverlay)) {
                        m.addLayer(layer._teOverlay);
                    }
                    if (layer._teCluster) {
                        // The cluster plugin's zoomToShowLayer waits for a marker
                        // icon that circle markers never get; zoom in and open the
                        // popup on the map instead, clustered or not.
                        m.setView(latlng, Math.max(m.getZoom(), 15), {animate: false});
                        var popup = layer.getPopup();
                        if (popup) { popup.setLatLng(latlng).openOn(m); }
                    } else if (layer.getBounds) {
                        m.fitBounds(layer.getBounds(), {maxZoom: 12});
                        if (layer._teGeo) {
                            layer.setStyle({weight: 4, color: '#000000'});
                            layer.once('popupclose', function () {
                                layer._teGeo.resetStyle(layer);
                            });
                        }
                        layer.openPopup();
                    } else {
                        m.setView(latlng, Math.max(m.getZoom(), 12));
                        layer.openPopup();
                    }
                }
            });
            map.addControl(control);
        })();
        {% endmacro %}
        """
    )

    default_js = Search.default_js
    default_css = Search.default_css

    def __init__(
        self,
        territory_layers: list[tuple[folium.FeatureGroup, folium.GeoJson]],
        account_layers: list[tuple[folium.FeatureGroup, FastMarkerCluster]],
        placeholder: str = "Search rep or account",
    ) -> None:
        super().__init__()
        self._name = "PlanSearch"
        self.territory_layers = territory_layers
        self.account_layers = account_layers
        self.placeholder = placeholder


def render_plan_map(
    territories: geopandas.GeoDataFrame,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    *,
    measures: list[str],
    title: str,
    tiles: str | None = None,
    layer_column: str = "segment",
    show_accounts: bool | None = None,
    simplify: float | None = None,
    title_box: bool = True,
    moved_label: str = "moved account",
    moved_note: str = "changes territory in this plan",
    travel_unit: str = "km",
    hierarchy: geopandas.GeoDataFrame | None = None,
) -> folium.Map:
    """Draw a territory plan as an interactive Leaflet map.

    Parameters
    ----------
    territories
        One row per territory, (multi)polygon geometry (the dissolved units), in
        EPSG:4326 (another CRS is reprojected for display; no CRS is taken as
        EPSG:4326). Columns: :data:`TERRITORY_COLUMNS`, ``layer_column``, and for
        each measure ``m``: ``m`` (total), ``m_dev_pct`` (signed deviation from the
        segment mean, %) and ``m_in_band`` (bool). An optional integer
        ``color_group`` column, when it has no missing value, fixes each territory's
        palette entry (for colours that stay put across scenarios); otherwise
        colours come from :func:`~territory_engine.render.colors.assign_colors`.
    accounts
        One row per account: :data:`ACCOUNT_COLUMNS`, plus ``layer_column`` if it is
        to be used (otherwise an account is drawn in its territory's layer).
        Accounts without coordinates are skipped with a warning. An optional
        boolean :data:`KEPT_COLUMN` marks accounts kept with a rep for a
        relationship (dotted ring, legend entry, popup line).
    reps
        One row per rep: :data:`REP_COLUMNS`, plus ``layer_column`` and
        ``territory_id`` when known (used to place the home marker in a layer).
    measures
        Balance measures shown in tooltips and popups, in that order.
    title
        Shown in a box at the top of the map and as the page title.
    tiles
        ``None`` for a map without a basemap (no tile requests, works without a tile
        server); otherwise a folium tile name such as ``"OpenStreetMap"`` or
        ``"CartoDB positron"``, added as the base layer.
    layer_column
        One territories overlay and one accounts overlay per value of this column.
        Overlays whose territories overlap those of an earlier (sorted) value start
        hidden, so overlay teams are not drawn on top of each other.
    show_accounts
        Whether the accounts overlays of visible layers start visible; ``None``
        shows them when the plan has at most :data:`AUTO_SHOW_ACCOUNTS_MAX` accounts.
    simplify
        Tolerance (degrees) of the simplification of territory outlines; ``None``
        uses :data:`SIMPLIFY_SHARE` of the plan's bounding-box diagonal, ``0`` keeps
        every vertex. The territories of one layer are simplified together as a
        coverage (:func:`shapely.coverage_simplify`), so a border two territories
        share stays one line; a layer whose territories overlap falls back to
        simplifying each territory on its own, topology preserved.
    title_box
        Show ``title`` in a box on the map (pages that head the map with their own
        title turn it off).
    moved_label, moved_note
        Legend entry and popup line of accounts flagged ``moved`` (plain text): a
        plan map says they change territory, a compare page that they change rep
        between the plans, a rep's page that they are new to the rep.
    travel_unit
        What the territories' ``travel_mean_km`` / ``travel_max_km`` hold: ``"km"``,
        or ``"min"`` for a plan made with travel times (the scorecard's
        ``travel.unit``); tooltips and popups show it.
    hierarchy
        The drawn hierarchy's groups (``hierarchy.geojson``: ``level, id, name``,
        the measures, polygons), or ``None``: one outline layer per level
        (districts, regions), hidden at first, toggled in the layer control.

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map`.

    Raises
    ------
    ValueError
        If a required column is missing.
    """
    _require(
        territories, [*TERRITORY_COLUMNS, layer_column, *_measure_columns(measures)], "territories"
    )
    _require(accounts, ACCOUNT_COLUMNS, "accounts")
    _require(reps, REP_COLUMNS, "reps")

    terr = _display_territories(territories, layer_column)
    accounts = _located(accounts, "lat", "lon", "accounts")
    reps = _located(reps, "home_lat", "home_lon", "reps")
    layers = _plan_layers(terr, accounts, reps, layer_column)
    if show_accounts is None:
        show_accounts = len(accounts) <= AUTO_SHOW_ACCOUNTS_MAX

    m = _base_map(terr, accounts, reps, tiles)
    m.get_root().title = _esc(title)

    lookups = _marker_lookups(terr, accounts, reps)
    tolerance = _simplify_tolerance(terr, simplify)
    overlays = _Overlays()
    for i, key in enumerate(layers.keys):
        in_layer = terr[terr["_layer"] == key]
        visible = key in layers.visible
        _add_territory_overlay(
            m,
            overlays,
            i,
            key,
            in_layer,
            reps[layers.reps == key],
            visible=visible,
            measures=measures,
            layer_column=layer_column,
            tolerance=tolerance,
            travel_unit=travel_unit,
        )
        _add_account_overlay(
            m,
            overlays,
            key,
            accounts[layers.accounts == key],
            lookups,
            show=bool(show_accounts) and visible,
            moved_note=moved_note,
        )

    if hierarchy is not None and len(hierarchy):
        _add_hierarchy_layers(m, hierarchy, measures, tolerance)
    _add_chrome(m, overlays, accounts, title if title_box else "", moved_label)
    return m


#: Outline colour and width of each hierarchy level, bottom up (the last repeats).
HIERARCHY_STYLES = (("#1f3b73", 3), ("#7a1f5c", 5), ("#222222", 7))


def _add_hierarchy_layers(
    m: folium.Map, groups: geopandas.GeoDataFrame, measures: Sequence[str], tolerance: float
) -> None:
    """One outline overlay per hierarchy level, hidden at first (the territories stay visible).

    Names come from the plan (managers' names, group ids): escaped here, so the
    tooltip shows them as text.
    """
    groups = groups.to_crs(4326) if groups.crs is not None else groups
    levels = list(dict.fromkeys(groups["level"].astype(str)))
    for depth, level in enumerate(levels):
        rows = groups[(groups["level"].astype(str) == level) & groups.geometry.notna()]
        if not len(rows):
            continue
        colour, weight = HIERARCHY_STYLES[min(depth, len(HIERARCHY_STYLES) - 1)]
        geoms = rows.geometry.values
        if tolerance > 0:
            geoms = [g.simplify(tolerance, preserve_topology=True) for g in geoms]
        features = []
        for (_, row), geom in zip(rows.iterrows(), geoms, strict=True):
            parts = [f"<b>{_esc(level)} {_esc(_text(row.get('name', row['id'])))}</b>"]
            for measure in measures:
                if measure in row.index and f"{measure}_dev_pct" in row.index:
                    parts.append(
                        f"{_esc(measure)}: {number(float(row[measure]))} "
                        f"({float(row[f'{measure}_dev_pct']):+.1f} %)"
                    )
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(geom),
                    "properties": {"tip": "<br>".join(parts)},
                }
            )
        group = folium.FeatureGroup(name=f"{_esc(level)} · hierarchy ({len(rows)})", show=False)
        group.add_to(m)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda _f, c=colour, w=weight: {
                "color": c,
                "weight": w,
                "opacity": 0.9,
                "fillOpacity": 0.0,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(group)


@dataclass(frozen=True)
class _PlanLayers:
    """Which layer (value of ``layer_column``) each account and rep is drawn in.

    ``keys`` are the layers in drawing order, ``visible`` those shown at first.
    """

    accounts: pd.Series
    reps: pd.Series
    keys: list[str]
    visible: set[str]


@dataclass(frozen=True)
class _MarkerLookups:
    """The territories and reps an account marker points at by position.

    The account rows carry an index into ``territory_table`` and ``rep_table`` (the
    tables are sent to the page once, not with every marker).
    """

    territory_table: list[list[str]]
    territory_index: dict[str, int]
    rep_table: list[str]
    rep_index: dict[str, int]


@dataclass
class _Overlays:
    """What :func:`render_plan_map` added to the map, for the legend and the search."""

    territories: list[tuple[folium.FeatureGroup, folium.GeoJson]] = field(default_factory=list)
    accounts: list[tuple[folium.FeatureGroup, FastMarkerCluster]] = field(default_factory=list)
    sections: list[tuple[int, folium.FeatureGroup]] = field(default_factory=list)
    legend_sections: list[str] = field(default_factory=list)


def _display_territories(
    territories: geopandas.GeoDataFrame, layer_column: str
) -> geopandas.GeoDataFrame:
    """The territories in EPSG:4326 with their layer, id and colour (``_layer``, ...)."""
    terr = territories.reset_index(drop=True)
    if terr.crs is not None and terr.crs.to_epsg() != 4326:
        terr = terr.to_crs("EPSG:4326")
    return terr.assign(
        _layer=[_layer_value(v) for v in terr[layer_column]],
        # object dtype keeps a missing id as None (a string column would make it NaN)
        _tid=pd.Series([_id(v) for v in terr["territory_id"]], index=terr.index, dtype=object),
        _color=_territory_colors(terr, layer_column),
    )


def _plan_layers(
    terr: geopandas.GeoDataFrame, accounts: pd.DataFrame, reps: pd.DataFrame, layer_column: str
) -> _PlanLayers:
    layer_of_territory = {
        t: layer for t, layer in zip(terr["_tid"], terr["_layer"], strict=True) if t is not None
    }
    account_layers = _row_layers(accounts, layer_column, layer_of_territory)
    rep_layers = _row_layers(reps, layer_column, layer_of_territory)
    keys = _layer_keys(terr["_layer"], account_layers, rep_layers)
    return _PlanLayers(account_layers, rep_layers, keys, _initially_visible(terr, keys))


def _marker_lookups(
    terr: geopandas.GeoDataFrame, accounts: pd.DataFrame, reps: pd.DataFrame
) -> _MarkerLookups:
    rep_label = {
        _id(rid): f"{_esc(_text(name))} ({_esc(rid)})"
        for rid, name in zip(reps["rep_id"], reps["name"], strict=True)
    }
    territory_table = [
        [_esc(_text(t)), c] for t, c in zip(terr["_tid"], terr["_color"], strict=True)
    ]
    territory_index = {t: i for i, t in enumerate(terr["_tid"]) if t is not None}
    rep_ids = sorted((set(rep_label) | {_id(r) for r in accounts["rep_id"]}) - {None})
    rep_table = [rep_label.get(r, _esc(r)) for r in rep_ids]
    rep_index = {r: i for i, r in enumerate(rep_ids)}
    return _MarkerLookups(territory_table, territory_index, rep_table, rep_index)


def _add_territory_overlay(
    m: folium.Map,
    overlays: _Overlays,
    index: int,
    key: str,
    in_layer: geopandas.GeoDataFrame,
    layer_reps: pd.DataFrame,
    *,
    visible: bool,
    measures: Sequence[str],
    layer_column: str,
    tolerance: float,
    travel_unit: str = "km",
) -> None:
    """One layer's territories overlay: polygons and rep homes, and its legend section."""
    group = folium.FeatureGroup(name=f"{_esc(key)} · territories", show=visible)
    group.add_to(m)
    geo = _territory_geojson(in_layer, group, measures, layer_column, tolerance, travel_unit)
    if geo is not None:
        geo.add_to(group)
        overlays.territories.append((group, geo))
    for _, rep in layer_reps.iterrows():
        _rep_marker(rep, key).add_to(group)
    overlays.sections.append((index, group))
    overlays.legend_sections.append(_legend_section(index, key, in_layer, measures))


def _add_account_overlay(
    m: folium.Map,
    overlays: _Overlays,
    key: str,
    layer_accounts: pd.DataFrame,
    lookups: _MarkerLookups,
    *,
    show: bool,
    moved_note: str,
) -> None:
    """One layer's accounts overlay: clustered markers (none when it has no account)."""
    if not len(layer_accounts):
        return
    rows = _account_rows(layer_accounts, lookups.territory_index, lookups.rep_index)
    acc_group = folium.FeatureGroup(
        name=f"{_esc(key)} · accounts ({len(layer_accounts):,})", show=show
    )
    acc_group.add_to(m)
    cluster = FastMarkerCluster(
        rows,
        callback=_account_callback(lookups.territory_table, lookups.rep_table, _esc(moved_note)),
        control=False,
        icon_create_function=_CLUSTER_ICON_JS,
        showCoverageOnHover=False,
        maxClusterRadius=45,
        spiderfyOnMaxZoom=True,
    )
    cluster.add_to(acc_group)
    overlays.accounts.append((acc_group, cluster))


def _add_chrome(
    m: folium.Map, overlays: _Overlays, accounts: pd.DataFrame, title: str, moved_label: str
) -> None:
    """Title box, legend, search, full-screen button and layer switcher."""
    any_kept = KEPT_COLUMN in accounts.columns and bool(
        accounts[KEPT_COLUMN].astype("boolean").fillna(False).any()
    )
    legend_html = _legend_html(overlays.legend_sections, _esc(moved_label), any_kept)
    _PlanChrome(_esc(title), legend_html, overlays.sections).add_to(m)
    if overlays.territories or overlays.accounts:
        _PlanSearch(overlays.territories, overlays.accounts).add_to(m)
    Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)


def save_map(m: folium.Map, path: pathlib.Path | str) -> int:
    """Write the map as one self-contained HTML file, creating parent folders.

    Leaflet and its plugins are inlined (see :mod:`territory_engine.render.assets`),
    so the page draws without any network; only a tile layer, when one was asked
    for, fetches tiles.

    Parameters
    ----------
    m
        A map from :func:`render_plan_map`.
    path
        Destination ``.html`` file; overwritten if it exists.

    Returns
    -------
    int
        Size of the written file in bytes.

    Raises
    ------
    OfflineAssetError
        If the page would still load a script or stylesheet from elsewhere.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = offline_html(m.get_root())
    data = html.encode("utf-8")
    path.write_bytes(data)
    return len(data)


def offline_html(root: Figure) -> str:
    """Render a page with its scripts and styles inlined, checking nothing is linked.

    Parameters
    ----------
    root
        The page's figure (``folium_map.get_root()``).

    Returns
    -------
    str
        The complete HTML document.

    Raises
    ------
    OfflineAssetError
        If the rendered page still loads a file through ``src`` or ``href``.
    """
    inline_assets(root)
    html = root.render()
    external = external_references(html)
    if external:
        raise OfflineAssetError(f"the page would load {external[:3]} from the network")
    return html


# --------------------------------------------------------------------------- input


def _measure_columns(measures: Iterable[str]) -> list[str]:
    return [c for m in measures for c in (m, f"{m}_dev_pct", f"{m}_in_band")]


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing} needed to draw the plan map")


def _located(frame: pd.DataFrame, lat: str, lon: str, what: str) -> pd.DataFrame:
    """Drop rows without usable coordinates; they cannot be drawn."""
    lat_v = pd.to_numeric(frame[lat], errors="coerce")
    lon_v = pd.to_numeric(frame[lon], errors="coerce")
    ok = lat_v.between(-90, 90) & lon_v.between(-180, 180)
    if not ok.all():
        warnings.warn(
            f"{int((~ok).sum())} of {len(frame)} {what} have no valid {lat}/{lon} "
            "and are left off the map",
            stacklevel=3,
        )
    out = frame.loc[ok].reset_index(drop=True)
    return out.assign(**{lat: lat_v[ok].to_numpy(), lon: lon_v[ok].to_numpy()})


def _id(value: Any) -> str | None:
    # Ids are strings in this project; normalise so "7" from one table meets 7 from
    # another, and read an empty id (a CSV's empty cell) as no id.
    if _isna(value):
        return None
    text = str(value).strip()
    return text or None


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars are values, not missing
        return False


def _text(value: Any) -> str:
    return _DASH if _isna(value) else str(value)


def _layer_value(value: Any) -> str:
    return _MISSING if _isna(value) else str(value)


def _row_layers(frame: pd.DataFrame, layer_column: str, layer_of_territory: dict) -> pd.Series:
    """Layer of each account or rep: its own column, else its territory's layer."""
    by_territory = (
        pd.Series(
            [layer_of_territory.get(_id(t)) for t in frame["territory_id"]], index=frame.index
        )
        if "territory_id" in frame.columns
        else pd.Series([None] * len(frame), index=frame.index, dtype=object)
    )
    if layer_column in frame.columns:
        own = pd.Series(
            [None if _isna(v) else str(v) for v in frame[layer_column]], index=frame.index
        )
        by_territory = own.where(own.notna(), by_territory)
    return by_territory.map(_layer_value)


def _layer_keys(*layer_values: Iterable[str]) -> list[str]:
    keys: set[str] = set()
    for values in layer_values:
        keys.update(values)
    return sorted(keys, key=lambda k: (k == _MISSING, k))


def _initially_visible(terr: geopandas.GeoDataFrame, keys: Sequence[str]) -> set[str]:
    """Layers shown at start: a layer is shown unless its territories overlap a shown one.

    Segments that split one region between overlay teams overlap, so only the first
    is shown; layers that partition the map (regions, say) are all shown.
    """
    shown: set[str] = set()
    shown_geoms: list[Any] = []
    with_territories = [k for k in keys if (terr["_layer"] == k).any()]
    for key in with_territories:
        geoms = [g for g in terr.loc[terr["_layer"] == key, "geometry"] if _drawable(g)]
        if not shown_geoms or not _overlaps(geoms, shown_geoms):
            shown.add(key)
            shown_geoms.extend(geoms)
    if not with_territories:
        shown.update(keys)
    return shown


def _drawable(geom: Any) -> bool:
    return geom is not None and not geom.is_empty


def _overlaps(geoms: list[Any], others: list[Any]) -> bool:
    if not geoms:
        return False
    tree = shapely.STRtree(others)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        a, b = geoms[i], others[j]
        try:
            shared = shapely.intersection(a, b).area
        except shapely.errors.GEOSException:
            return True  # invalid geometry: assume overlap, which only hides a layer
        # Shared borders intersect with zero area; only a real overlap counts.
        if shared > 1e-3 * min(a.area, b.area):
            return True
    return False


def _territory_colors(terr: geopandas.GeoDataFrame, layer_column: str) -> list[str]:
    if "color_group" in terr.columns and terr["color_group"].notna().all() and len(terr):
        palette = TERRITORY_PALETTE
        return [palette[int(k) % len(palette)] for k in terr["color_group"]]
    if not len(terr):
        return []
    return assign_colors(terr, layer_column).tolist()


# --------------------------------------------------------------------------- map


def _base_map(
    terr: geopandas.GeoDataFrame, accounts: pd.DataFrame, reps: pd.DataFrame, tiles: str | None
) -> folium.Map:
    lats: list[float] = []
    lons: list[float] = []
    drawable = terr.geometry[[_drawable(g) for g in terr.geometry]]
    if len(drawable):
        minx, miny, maxx, maxy = drawable.total_bounds
        lats += [miny, maxy]
        lons += [minx, maxx]
    lats += accounts["lat"].tolist() + reps["home_lat"].tolist()
    lons += accounts["lon"].tolist() + reps["home_lon"].tolist()

    # SVG, not canvas: a canvas over the territories would swallow their hover and
    # click events. Without a tile layer Leaflet knows no maximum zoom, which marker
    # clustering needs, so set one.
    options = {"tiles": None, "control_scale": True, "maxZoom": 18}
    if not lats:
        m = folium.Map(location=[20.0, 0.0], zoom_start=2, **options)
    else:
        south, north, west, east = min(lats), max(lats), min(lons), max(lons)
        m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=6, **options)
        m.fit_bounds([[south, west], [north, east]], padding=(12, 12))
    if tiles is not None:
        folium.TileLayer(tiles, name=tiles, overlay=False, control=True).add_to(m)
    # Accounts get a pane above all territory polygons, so switching a territory layer
    # on later cannot bury them. The pane ignores the pointer (its markers still take
    # clicks), so the polygons underneath keep their tooltips.
    CustomPane(ACCOUNT_PANE, z_index=450, pointer_events=False).add_to(m)
    return m


def _simplify_tolerance(terr: geopandas.GeoDataFrame, simplify: float | None) -> float:
    if simplify is not None:
        if simplify < 0 or not math.isfinite(simplify):
            raise ValueError(f"simplify must be a tolerance >= 0 in degrees, got {simplify}")
        return float(simplify)
    drawable = terr.geometry[[_drawable(g) for g in terr.geometry]]
    if not len(drawable):
        return 0.0
    minx, miny, maxx, maxy = drawable.total_bounds
    return math.hypot(maxx - minx, maxy - miny) * SIMPLIFY_SHARE


def simplify_outlines(geoms: Sequence[Any], tolerance: float) -> np.ndarray:
    """Simplify the outlines of one layer's territories for display.

    Parameters
    ----------
    geoms
        (Multi)polygons of one layer; ``None`` and empty geometries pass through.
    tolerance
        Simplification tolerance in the geometries' units; ``0`` returns them as is.

    Returns
    -------
    numpy.ndarray
        The simplified geometries, in input order. When the layer is a valid coverage
        (territories meet edge to edge without overlapping, as dissolved units do),
        the coverage is simplified as a whole, so shared borders stay shared;
        otherwise each geometry is simplified on its own with its topology preserved.
    """
    out = np.asarray(list(geoms), dtype=object)
    if tolerance <= 0 or not len(out):
        return out
    ok = np.array([_drawable(g) for g in out], dtype=bool)
    if not ok.any():
        return out
    part = out[ok]
    try:
        coverage = bool(shapely.coverage_is_valid(part))
    except shapely.errors.GEOSException:
        coverage = False
    if coverage:
        out[ok] = shapely.coverage_simplify(part, tolerance)
    else:
        out[ok] = shapely.simplify(part, tolerance, preserve_topology=True)
    return out


def _round_geometries(geoms: Any) -> np.ndarray:
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda xy: np.round(xy, COORD_DECIMALS)
    )


def _territory_geojson(
    in_layer: geopandas.GeoDataFrame,
    group: folium.FeatureGroup,
    measures: Sequence[str],
    layer_column: str,
    tolerance: float,
    travel_unit: str = "km",
) -> folium.GeoJson | None:
    """The layer's territories as one GeoJSON layer, or ``None`` if none can be drawn."""
    features = []
    labels: set[str] = set()
    rounded = _round_geometries(simplify_outlines(in_layer.geometry.values, tolerance))
    # folium styles features by id, which must be a unique string: the territory id
    # when the ids are usable, else the row position.
    tids = list(in_layer["_tid"])
    ids = (
        tids
        if None not in tids and len(set(tids)) == len(tids)
        else list(map(str, range(len(tids))))
    )
    for (_, row), geom, feature_id in zip(in_layer.iterrows(), rounded, ids, strict=True):
        if not _drawable(geom):
            continue
        label = f"{_rep_title(row)} · {_esc(row['_layer'])}"
        if label in labels:  # search keys must be unique, e.g. one rep with two territories
            label = f"{label} · {_esc(_text(row['_tid']))}"
        labels.add(label)
        features.append(
            {
                "type": "Feature",
                "id": feature_id,
                "properties": {
                    "te_label": label,
                    "tip": _territory_tooltip(row, measures, layer_column, travel_unit),
                    "popup": _territory_popup(row, measures, layer_column, travel_unit),
                    "fill": row["_color"],
                    "oob": _out_of_band(row, measures),
                },
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    if not features:
        return None
    geo = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        control=False,
        style_function=_territory_style,
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.65},
    )
    # The hook runs while the GeoJSON layer is being filled, after both variables
    # exist; the tags let the search box switch the overlay on and restore the style.
    geo.on_each_feature = folium.JsCode(
        "function (feature, layer) {"
        f" layer._teOverlay = {group.get_name()};"
        f" layer._teGeo = {geo.get_name()};"
        " layer.bindTooltip(feature.properties.tip, {sticky: true});"
        " layer.bindPopup(feature.properties.popup, {maxWidth: 420});"
        " }"
    )
    return geo


def _territory_style(feature: dict) -> dict:
    props = feature["properties"]
    style = {
        "fillColor": props["fill"],
        "fillOpacity": 0.45,
        "color": "#444444",
        "weight": 1,
        "opacity": 0.9,
    }
    if props["oob"]:
        # A dashed red border flags a territory outside its balance band at a glance.
        style.update({"color": OUT_OF_BAND_BORDER, "weight": 2, "dashArray": "6 4"})
    return style


def _out_of_band(row: pd.Series, measures: Sequence[str]) -> bool:
    return any(_band(row[f"{m}_in_band"]) is False for m in measures)


def _band(value: Any) -> bool | None:
    return None if _isna(value) else bool(value)


def _rep_title(row: pd.Series) -> str:
    rep_id = _id(row["rep_id"])
    name = _esc(row["rep_name"]) if _id(row["rep_name"]) else "vacant"
    return name if rep_id is None else f"{name} ({_esc(rep_id)})"


def _measure_parts(row: pd.Series, m: str) -> tuple[str, str, str]:
    total = number(row[m])
    # Deviations are in percent already; a true minus reads better next to digits.
    dev = percent(row[f"{m}_dev_pct"], signed=True, scale=1, true_minus=True)
    band = _band(row[f"{m}_in_band"])
    if band is None:
        mark = ""
    elif band:
        mark = '<span class="te-in">✓ in band</span>'
    else:
        mark = '<span class="te-out">✗ out of band</span>'
    return total, dev, mark


def _territory_tooltip(
    row: pd.Series, measures: Sequence[str], layer_column: str, unit: str = "km"
) -> str:
    lines = [
        f"<b>{_rep_title(row)}</b>",
        f"{_esc(_text(row['segment']))} · territory {_esc(_text(row['_tid']))}"
        + _layer_suffix(row, layer_column),
        f"{number(row['n_accounts'])} accounts",
    ]
    for m in measures:
        total, dev, mark = _measure_parts(row, m)
        lines.append(f"{_esc(_label(m))}: {total} ({dev}) {mark}".rstrip())
    mean, longest = travel(row["travel_mean_km"], unit), travel(row["travel_max_km"], unit)
    lines.append(f"travel: mean {mean} · max {longest}")
    return "<br>".join(lines)


def _territory_popup(
    row: pd.Series, measures: Sequence[str], layer_column: str, unit: str = "km"
) -> str:
    cells = [
        ("rep", _rep_title(row)),
        ("territory", _esc(_text(row["_tid"]))),
        ("segment", _esc(_text(row["segment"]))),
    ]
    if layer_column != "segment":
        cells.append((_esc(_label(layer_column)), _esc(row["_layer"])))
    cells.append(("accounts", number(row["n_accounts"])))
    head = "".join(f'<tr><th>{k}</th><td class="te-l" colspan="3">{v}</td></tr>' for k, v in cells)
    body = ""
    if measures:
        body = "<tr><th></th><th>total</th><th>vs mean</th><th>band</th></tr>" + "".join(
            '<tr><th>{}</th><td>{}</td><td>{}</td><td class="te-l">{}</td></tr>'.format(
                _esc(_label(m)), *_measure_parts(row, m)
            )
            for m in measures
        )
    trips = (
        f'<tr><th>travel mean / max</th><td class="te-l" colspan="3">'
        f"{travel(row['travel_mean_km'], unit)} / {travel(row['travel_max_km'], unit)}</td></tr>"
    )
    return f'<table class="te-table">{head}{body}{trips}</table>'


def _layer_suffix(row: pd.Series, layer_column: str) -> str:
    if layer_column == "segment":
        return ""
    return f" · {_esc(_label(layer_column))} {_esc(row['_layer'])}"


def _rep_marker(rep: pd.Series, key: str) -> folium.Marker:
    territory = _id(rep["territory_id"]) if "territory_id" in rep.index else None
    tip = f"<b>{_esc(_text(rep['name']))}</b> ({_esc(rep['rep_id'])})<br>home · {_esc(key)}"
    if territory is not None:
        tip += f" · territory {_esc(territory)}"
    return folium.Marker(
        location=[
            round(float(rep["home_lat"]), COORD_DECIMALS),
            round(float(rep["home_lon"]), COORD_DECIMALS),
        ],
        icon=folium.DivIcon(
            html='<div class="te-rep"></div>', icon_size=(14, 14), icon_anchor=(7, 7)
        ),
        tooltip=folium.Tooltip(tip),
    )


def _account_rows(
    accounts: pd.DataFrame, territory_index: dict[str | None, int], rep_index: dict[str, int]
) -> list[list[Any]]:
    moved = accounts["moved"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    kept = (
        accounts[KEPT_COLUMN].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if KEPT_COLUMN in accounts.columns
        else np.zeros(len(accounts), dtype=bool)
    )
    potential = pd.to_numeric(accounts["potential"], errors="coerce").to_numpy(dtype=float)
    lat = np.round(accounts["lat"].to_numpy(dtype=float), COORD_DECIMALS)
    lon = np.round(accounts["lon"].to_numpy(dtype=float), COORD_DECIMALS)
    rows = []
    for i, (name, aid, tid, rid) in enumerate(
        zip(
            accounts["name"],
            accounts["account_id"],
            accounts["territory_id"],
            accounts["rep_id"],
            strict=True,
        )
    ):
        rows.append(
            [
                float(lat[i]),
                float(lon[i]),
                _esc(_text(name)),
                _esc(_text(aid)),
                None if math.isnan(potential[i]) else round(float(potential[i])),
                int(moved[i]),
                territory_index.get(_id(tid), -1),
                rep_index.get(_id(rid), -1) if _id(rid) is not None else -1,
                int(kept[i]),
            ]
        )
    return rows


def _account_callback(
    territory_table: list[list[str]], rep_table: list[str], moved_note: str
) -> str:
    replacements = {
        "__TERRITORIES__": json.dumps(territory_table),
        "__REPS__": json.dumps(rep_table),
        "__MOVED_COLOR__": MOVED_COLOR,
        "__KEPT_COLOR__": KEPT_COLOR,
        "__UNASSIGNED__": UNASSIGNED_COLOR,
        "__DASH__": _DASH,
        "__PANE__": ACCOUNT_PANE,
        # Escaped text inside a single-quoted JS string: only a quote could break it.
        "__MOVED_NOTE__": moved_note.replace("\\", "&#92;").replace("'", "&#39;"),
    }
    js = _ACCOUNT_CALLBACK_JS
    for token, value in replacements.items():
        js = js.replace(token, value)
    return js


# --------------------------------------------------------------------------- legend


def _legend_section(index: int, key: str, in_layer: pd.DataFrame, measures: Sequence[str]) -> str:
    items = []
    order = sorted(
        range(len(in_layer)),
        key=lambda i: (_text(in_layer["rep_name"].iloc[i]), _text(in_layer["_tid"].iloc[i])),
    )
    for i in order:
        row = in_layer.iloc[i]
        name = _esc(row["rep_name"]) if _id(row["rep_name"]) else "vacant"
        flag = ' <span class="te-out">✗</span>' if _out_of_band(row, measures) else ""
        items.append(
            f'<li><span class="te-swatch" style="background:{row["_color"]}"></span>'
            f'{name} <span class="te-muted">{_esc(_text(row["_tid"]))}</span>{flag}</li>'
        )
    body = f"<ul>{''.join(items)}</ul>" if items else '<div class="te-muted">no territories</div>'
    return (
        f'<div data-te-layer="{index}"><div class="te-legend-head">{_esc(key)} territories</div>'
        f"{body}</div>"
    )


def _legend_html(sections: Sequence[str], moved_label: str, any_kept: bool = False) -> str:
    kept = (
        '<li><span class="te-dot te-dot-kept"></span>kept for a relationship</li>'
        if any_kept
        else ""
    )
    symbols = (
        '<div class="te-legend-head">Symbols</div><ul>'
        '<li><span class="te-rep-key"><div class="te-rep"></div></span>rep home</li>'
        '<li><span class="te-dot"></span>account (territory colour)</li>'
        f'<li><span class="te-dot te-dot-moved"></span>{moved_label}</li>'
        f"{kept}"
        '<li><span class="te-dashed"></span>measure out of band</li>'
        "</ul>"
    )
    return f'<div class="te-legend-title">Legend</div>{"".join(sections)}{symbols}'


# --------------------------------------------------------------------------- formatting


def _esc(value: Any) -> str:
    """Escape text for HTML, and for the JS template literals folium wraps tooltips in."""
    return html.escape(str(value)).replace("`", "&#96;").replace("$", "&#36;")


def _label(column: str) -> str:
    return column.replace("_", " ")
