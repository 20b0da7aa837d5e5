"""The compare page: two plans side by side on synchronised maps, and what changed.

Managers choose between plans by looking at them together: where the borders moved,
which accounts change hands, and how the fairness numbers moved. The page shows
plan A and plan B on two maps that pan, zoom and switch layers together, with the
accounts that change rep drawn (ringed) on both, then the plan-level fairness
numbers of both scorecards with their change, the per-rep changes, and the list of
moved accounts. The differences are computed by :mod:`territory_engine.plan.compare`;
this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas
import pandas as pd

from territory_engine.metrics.card import travel_unit
from territory_engine.plan.compare import ScorecardDelta
from territory_engine.plan.reader import PlanFolder
from territory_engine.render.colors import color_classes
from territory_engine.render.page import (
    Cell,
    MapRow,
    compose_page,
    esc,
    fmt_money,
    fmt_number,
    fmt_pct,
    isna,
    label,
    table_html,
)
from territory_engine.render.plan_map import render_plan_map

__all__ = ["SYNC_JS", "render_compare"]

# Keep the two maps on the same view and the same overlays. Leaflet.Sync (what
# folium's DualMap links from a CDN) does the view part; these few lines do both
# and ship inline. The guard stops B's echo of A's move from moving A again.
SYNC_JS = """
(function () {
  var maps = [__A__, __B__];
  var controls = [__CA__, __CB__];
  var busy = false;
  function overlays(control) {
    var out = {};
    (control && control._layers || []).forEach(function (l) {
      if (l.overlay) { out[l.name] = l.layer; }
    });
    return out;
  }
  var named = [overlays(controls[0]), overlays(controls[1])];
  maps.forEach(function (src, i) {
    var dst = maps[1 - i];
    src.on('move', function () {
      if (busy) { return; }
      busy = true;
      dst.setView(src.getCenter(), src.getZoom(), {animate: false});
      busy = false;
    });
    src.on('overlayadd overlayremove', function (e) {
      if (busy) { return; }
      var layer = named[1 - i][e.name];
      if (!layer) { return; }
      busy = true;
      if (e.type === 'overlayadd') { dst.addLayer(layer); } else { dst.removeLayer(layer); }
      busy = false;
    });
  });
  maps[1].setView(maps[0].getCenter(), maps[0].getZoom(), {animate: false});
  window.teCompare = {maps: maps};
})();
"""


def render_compare(
    plan_a: PlanFolder,
    plan_b: PlanFolder,
    *,
    moves: pd.DataFrame,
    deltas: pd.DataFrame,
    fairness: Sequence[ScorecardDelta],
    measures: Sequence[str],
) -> str:
    """Render the compare page of two plans.

    Parameters
    ----------
    plan_a, plan_b
        The plans, as read from their folders.
    moves
        :func:`territory_engine.plan.compare.moved_accounts` of the two plans.
    deltas
        :func:`territory_engine.plan.compare.rep_deltas` of the two plans.
    fairness
        :func:`territory_engine.plan.compare.scorecard_deltas` of their scorecards.
    measures
        Balance measures shown in tooltips and the per-rep table.

    Returns
    -------
    str
        The HTML page (self-contained).
    """
    name_a, name_b = _names(plan_a, plan_b)
    unit_a, unit_b = travel_unit(plan_a.scorecard), travel_unit(plan_b.scorecard)
    # Plans of one travel unit compare; km against minutes do not (no unit is shown).
    unit = unit_a if unit_a == unit_b else ""
    geo_a, geo_b = _shared_colours(plan_a.geometry, plan_b.geometry)
    map_a = _plan_map(plan_a, geo_a, moves, measures, f"A: {name_a}")
    map_b = _plan_map(plan_b, geo_b, moves, measures, f"B: {name_b}")
    script = (
        SYNC_JS.replace("__A__", map_a.get_name())
        .replace("__B__", map_b.get_name())
        .replace("__CA__", _layer_control(map_a))
        .replace("__CB__", _layer_control(map_b))
    )
    moved_potential = float(moves["potential"].sum()) if len(moves) else 0.0
    reps_changed = len(set(moves["from_rep_id"]) | set(moves["to_rep_id"])) if len(moves) else 0
    cards = [
        ("accounts that change rep", fmt_number(len(moves))),
        ("their potential", fmt_money(moved_potential)),
        ("reps affected", fmt_number(reps_changed)),
    ]
    sections: list[str | MapRow] = [
        f"<h1>Compare plans: {esc(name_a)} vs {esc(name_b)}</h1>",
        f'<p class="te-sub"><b>A</b>: {esc(name_a)} — <code>{esc(plan_a.path)}</code><br>'
        f"<b>B</b>: {esc(name_b)} — <code>{esc(plan_b.path)}</code></p>",
        '<div class="te-cards">'
        + "".join(
            f'<div class="te-card"><div class="te-k">{esc(k)}</div>'
            f'<div class="te-v">{v}</div></div>'
            for k, v in cards
        )
        + "</div>",
        '<p class="te-note">The maps move together. Accounts that change rep between A '
        "and B are drawn on both maps with an orange ring, in the colour of their territory "
        "in that plan.</p>",
        MapRow([map_a, map_b], [f"A: {esc(name_a)}", f"B: {esc(name_b)}"]),
        "<h2>Fairness</h2>",
        '<p class="te-note">Plan-level numbers of each scorecard; Δ is B − A. Green marks '
        "the better plan where lower or higher is clearly better.</p>",
        _unit_note(unit_a, unit_b),
        _fairness_table(fairness, unit),
        "<h2>Per rep</h2>",
        '<p class="te-note">Totals of each rep in A and B and the change (B − A). Click a '
        "header to sort.</p>",
        _rep_table(deltas, measures, unit),
        f"<h2>Moved accounts ({len(moves):,})</h2>",
        '<p class="te-note">Accounts whose rep differs between A and B, by potential. The '
        "same list is in <code>moves.csv</code>.</p>",
        _moves_table(moves),
        "<footer>territory_engine plan comparison · works offline</footer>",
    ]
    return compose_page(f"Compare {name_a} vs {name_b}", sections, script=script)


def _names(plan_a: PlanFolder, plan_b: PlanFolder) -> tuple[str, str]:
    if plan_a.name != plan_b.name:
        return plan_a.name, plan_b.name
    # Two runs of one scenario: the folder names tell them apart.
    return f"{plan_a.name} ({plan_a.path.name})", f"{plan_b.name} ({plan_b.path.name})"


def _shared_colours(
    geo_a: geopandas.GeoDataFrame, geo_b: geopandas.GeoDataFrame
) -> tuple[geopandas.GeoDataFrame, geopandas.GeoDataFrame]:
    """Give a territory the same colour on both maps, so the eye can follow it.

    Plan A is coloured so that neighbours differ; plan B reuses A's colour for each
    territory id the two share. When B has territories A lacks (other ids), each
    plan keeps its own colouring, which still keeps neighbours apart.
    """
    if geo_a.empty or geo_b.empty:
        return geo_a, geo_b
    classes = color_classes(geo_a.reset_index(drop=True), "segment")
    by_id = dict(zip(geo_a["territory_id"].astype(str), classes, strict=True))
    ids_b = geo_b["territory_id"].astype(str)
    if not ids_b.isin(set(by_id)).all():
        return geo_a, geo_b
    return (
        geo_a.assign(color_group=list(classes)),
        geo_b.assign(color_group=[by_id[t] for t in ids_b]),
    )


def _plan_map(
    plan: PlanFolder,
    geometry: geopandas.GeoDataFrame,
    moves: pd.DataFrame,
    measures: Sequence[str],
    title: str,
) -> folium.Map:
    accounts = plan.account_view()
    accounts = accounts[accounts["account_id"].isin(set(moves["account_id"]))].assign(moved=True)
    return render_plan_map(
        geometry,
        accounts,
        plan.reps,
        measures=list(measures),
        title=title,
        show_accounts=True,
        title_box=False,
        moved_label="changes rep between A and B",
        moved_note="changes rep between plan A and plan B",
        travel_unit=travel_unit(plan.scorecard),
    )


def _layer_control(m: folium.Map) -> str:
    for child in m._children.values():
        if isinstance(child, folium.LayerControl):
            return child.get_name()
    return "null"


def _unit_note(unit_a: str, unit_b: str) -> str:
    """A warning when the plans measure travel differently (km against given minutes)."""
    if unit_a == unit_b:
        return ""
    return (
        f'<p class="te-note"><b>Travel does not compare</b>: plan A measures it in '
        f"{esc(unit_a)}, plan B in {esc(unit_b)}; their travel numbers are shown without a "
        "unit.</p>"
    )


def _key_label(key: str, unit: str) -> str:
    """A scorecard key as a label, a travel key (``mean_km``) in the plans' travel unit."""
    if key.endswith("_km"):
        key = key.removesuffix("_km") + (f"_{unit}" if unit else "")
    return label(key)


def _fmt_key(key: str, value: float | None, unit: str = "km") -> str:
    if value is None:
        return "–"
    if "share" in key or key == "max_rel_dev":
        return fmt_pct(100 * value)
    if key.endswith("_km"):
        return f"{fmt_number(value, 1)} {unit}".rstrip()
    return fmt_number(value)


def _fmt_delta(key: str, value: float | None, unit: str = "km") -> str:
    if value is None:
        return "–"
    text = _fmt_key(key, value, unit)
    return text if text.startswith("−") or value == 0 else "+" + text


def _fairness_table(rows: Sequence[ScorecardDelta], unit: str = "km") -> str:
    body = []
    for r in rows:
        css_a = "te-good" if r.better == "a" else ""
        css_b = "te-good" if r.better == "b" else ""
        body.append(
            [
                Cell.text(r.section),
                Cell.text(_key_label(r.key, unit)),
                Cell(_fmt_key(r.key, r.a, unit), r.a, True, css_a),
                Cell(_fmt_key(r.key, r.b, unit), r.b, True, css_b),
                Cell(_fmt_delta(r.key, r.delta, unit), r.delta, True),
            ]
        )
    return table_html(
        [("section", False), ("measure", False), ("A", True), ("B", True), ("Δ B − A", True)],
        body,
        table_id="fairness",
    )


def _rep_table(deltas: pd.DataFrame, measures: Sequence[str], unit: str = "km") -> str:
    figures = [
        ("n_accounts", "accounts", fmt_number),
        *[(m, label(m), fmt_number) for m in dict.fromkeys(["potential", *measures])],
        ("quota", "quota", fmt_money),
        ("travel_mean_km", f"travel mean {unit}".rstrip(), lambda v: fmt_number(v, 1)),
    ]
    figures = [f for f in figures if f"{f[0]}_a" in deltas]
    columns: list[tuple[str, bool]] = [("rep", False), ("segment", False)]
    for _, name, _ in figures:
        columns += [(f"{name} A", True), (f"{name} B", True), (f"Δ {name}", True)]
    rows = []
    for _, row in deltas.iterrows():
        name = row.get("rep_name")
        cells = [
            Cell.text(f"{name} ({row['rep_id']})" if not isna(name) and name else row["rep_id"]),
            Cell.text(row.get("segment")),
        ]
        for key, _, fmt in figures:
            delta = row[f"{key}_delta"]
            cells += [
                Cell.number(row[f"{key}_a"], fmt),
                Cell.number(row[f"{key}_b"], fmt),
                Cell.number(delta, lambda v, f=fmt: ("+" if v > 0 else "") + f(v)),
            ]
        rows.append(cells)
    return table_html(columns, rows, sortable=True, scroll=True, table_id="rep-deltas")


def _moves_table(moves: pd.DataFrame) -> str:
    def who(name: object, rep: object, territory: object) -> str:
        rep_text = f"{name} ({rep})" if not isna(name) and name else str(rep or "vacant")
        return f"{rep_text} · {territory}"

    rows = [
        [
            Cell.text(row["account_id"]),
            Cell.text(row["name"]),
            Cell.text(row["segment"]),
            Cell.number(row["potential"]),
            Cell.text(who(row["from_rep_name"], row["from_rep_id"], row["from_territory_id"])),
            Cell.text(who(row["to_rep_name"], row["to_rep_id"], row["to_territory_id"])),
        ]
        for _, row in moves.iterrows()
    ]
    return table_html(
        [
            ("account", False),
            ("name", False),
            ("segment", False),
            ("potential", True),
            ("from (A)", False),
            ("to (B)", False),
        ],
        rows,
        sortable=True,
        scroll=True,
        table_id="moves",
    )
