"""Building blocks of the HTML pages (report, compare, rep view): layout, tables, numbers.

Every page is one self-contained file: its styles, scripts and charts are inline, and
any Leaflet map on it carries Leaflet inline too (see
:mod:`territory_engine.render.assets`), so a page opens from a laptop, an e-mail or an
archive with no network at all. Nothing here computes a score; the numbers arrive
ready and are only formatted.
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from territory_engine.display.numbers import money, percent

__all__ = [
    "Cell",
    "MapRow",
    "compose_page",
    "esc",
    "fmt_money",
    "fmt_number",
    "fmt_pct",
    "label",
    "table_html",
]

DASH = "–"

PAGE_CSS = """
html, body { height: auto; }
body { margin: 0; background: #fafaf8; color: #222;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1400px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.te-sub, .te-note { color: #666; margin: 2px 0 8px; }
.te-map-row { display: flex; gap: 12px; }
.te-map-cell { flex: 1 1 0; min-width: 0; }
.te-map-cell h3 { margin: 4px 0; }
.te-map-slot { position: relative; height: 62vh; min-height: 360px;
  border: 1px solid #ccc; border-radius: 4px; overflow: hidden; }
.te-cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0; }
.te-card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px;
  min-width: 160px; }
.te-card .te-k { color: #666; font-size: 12px; }
.te-card .te-v { font-size: 20px; font-weight: 600; }
.te-scroll { max-height: 520px; overflow: auto; border: 1px solid #ddd; border-radius: 4px;
  background: #fff; }
table.te-data { border-collapse: collapse; width: 100%; font-size: 13px; background: #fff; }
table.te-data th, table.te-data td { padding: 3px 8px; border-bottom: 1px solid #eee;
  text-align: left; white-space: nowrap; }
table.te-data th { position: sticky; top: 0; background: #f1f1ee; font-weight: 600;
  z-index: 1; }
table.te-data td.te-num, table.te-data th.te-num { text-align: right;
  font-variant-numeric: tabular-nums; }
table.te-sortable th { cursor: pointer; user-select: none; }
table.te-sortable th[aria-sort="ascending"]::after { content: " ▲"; font-size: 10px; }
table.te-sortable th[aria-sort="descending"]::after { content: " ▼"; font-size: 10px; }
.te-good { color: #2b8a3e; }
.te-bad { color: #b00020; }
.te-flag { color: #b00020; font-weight: 600; }
.te-chart { background: #fff; border: 1px solid #ddd; border-radius: 4px; margin: 6px 0 14px;
  max-width: 100%; height: auto; }
.te-charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.te-legend-inline span { display: inline-block; margin-right: 14px; }
.te-swatch-inline { display: inline-block; width: 11px; height: 11px; margin-right: 4px;
  vertical-align: -1px; border-radius: 2px; }
footer { color: #888; font-size: 12px; margin-top: 32px; }
"""

# Click a header to sort by that column; cells carry their raw value in data-v so
# "1,234" and "−5.0 %" sort as numbers.
SORT_JS = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    if (v === null) { v = cell.textContent; }
    var n = parseFloat(v);
    return (v !== '' && !isNaN(n) && isFinite(v)) ? n : v.toLowerCase();
  }
  document.querySelectorAll('table.te-sortable').forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (typeof x !== typeof y) { x = String(x); y = String(y); }
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""


def esc(value: Any) -> str:
    """Escape text for HTML (element content and quoted attributes)."""
    return _html.escape("" if value is None else str(value), quote=True)


def isna(value: Any) -> bool:
    """True for ``None``, NaN and pandas' missing markers; never for a list."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def label(name: str) -> str:
    """A column or key name as words: ``workload_hours`` -> ``workload hours``."""
    return str(name).replace("_", " ")


def fmt_number(value: Any, decimals: int | None = None) -> str:
    """Format a number with thousands separators; big numbers without decimals."""
    if isna(value) or isinstance(value, str):
        return DASH if isna(value) else esc(value)
    v = float(value)
    if not math.isfinite(v):
        return DASH
    if decimals is None:
        decimals = 0 if abs(v) >= 100 or v == int(v) else (2 if abs(v) >= 1 else 3)
    return f"{v:,.{decimals}f}".replace("-", "−")


def fmt_money(value: Any) -> str:
    """Format an amount of money: ``$1,234,000``, ``−$1,234``."""
    return money(value, true_minus=True, missing=DASH)


def fmt_pct(value: Any, *, signed: bool = False, decimals: int = 1) -> str:
    """Format a percentage given in percent units (``12.5`` -> ``12.5 %``)."""
    return percent(value, digits=decimals, signed=signed, scale=1.0, true_minus=True, missing=DASH)


@dataclass(frozen=True)
class Cell:
    """A table cell: the HTML shown, and the raw value it sorts by.

    Attributes
    ----------
    html
        Escaped content.
    sort
        Raw value for sorting (a number sorts numerically); ``None`` sorts by text.
    numeric
        Right-align the cell.
    css
        Extra CSS class.
    """

    html: str
    sort: Any = None
    numeric: bool = False
    css: str = ""

    @classmethod
    def text(cls, value: Any) -> Cell:
        """A left-aligned text cell (escaped)."""
        return cls(DASH if isna(value) else esc(value))

    @classmethod
    def number(cls, value: Any, fmt=fmt_number, css: str = "") -> Cell:
        """A right-aligned number cell, formatted with ``fmt``, sorting by value."""
        sort = None if isna(value) else float(value)
        return cls(fmt(value), sort, True, css)


def table_html(
    columns: Sequence[str | tuple[str, bool]],
    rows: Iterable[Sequence[Cell]],
    *,
    sortable: bool = False,
    table_id: str | None = None,
    scroll: bool = False,
) -> str:
    """Render a table.

    Parameters
    ----------
    columns
        Header labels (plain text, escaped here), or ``(label, numeric)`` pairs.
    rows
        One sequence of :class:`Cell` per row.
    sortable
        Let the reader sort by clicking a header (needs :data:`SORT_JS` on the page,
        which :func:`compose_page` adds).
    table_id
        ``id`` attribute of the table.
    scroll
        Wrap the table in a box that scrolls, with a sticky header.
    """
    heads = []
    for column in columns:
        text, numeric = column if isinstance(column, tuple) else (column, False)
        heads.append(f"<th{' class=te-num' if numeric else ''}>{esc(text)}</th>")
    body = []
    for row in rows:
        cells = []
        for cell in row:
            classes = " ".join(c for c in ("te-num" if cell.numeric else "", cell.css) if c)
            attrs = f' class="{classes}"' if classes else ""
            if cell.sort is not None:
                attrs += f' data-v="{esc(cell.sort)}"'
            cells.append(f"<td{attrs}>{cell.html}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    classes = "te-data te-sortable" if sortable else "te-data"
    ident = f' id="{esc(table_id)}"' if table_id else ""
    table = (
        f'<table class="{classes}"{ident}><thead><tr>{"".join(heads)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    return f'<div class="te-scroll">{table}</div>' if scroll else table


@dataclass(frozen=True)
class MapRow:
    """Folium maps laid out side by side on a page, each under its caption.

    Attributes
    ----------
    maps
        The maps (from :func:`~territory_engine.render.plan_map.render_plan_map`).
    captions
        Escaped HTML shown above each map.
    """

    maps: Sequence[Any]
    captions: Sequence[str] = ()


def compose_page(
    title: str,
    sections: Sequence[str | MapRow],
    *,
    script: str = "",
) -> str:
    """Assemble a self-contained HTML page from HTML blocks and rows of maps.

    Parameters
    ----------
    title
        Page title (plain text, escaped here).
    sections
        HTML blocks and :class:`MapRow` items, in page order.
    script
        JavaScript run after the maps exist (each map is a global variable named
        ``folium_map.get_name()``).

    Returns
    -------
    str
        The page. Leaflet and its plugins are inlined when the page has maps; the
        page links no file.

    Raises
    ------
    OfflineAssetError
        If the page would still load anything through ``src`` or ``href``.
    """
    from branca.element import Figure

    from territory_engine.render.assets import (
        OfflineAssetError,
        external_references,
        inline_assets,
        inline_script,
    )

    maps = [m for s in sections if isinstance(s, MapRow) for m in s.maps]
    header = map_scripts = ""
    divs: dict[str, str] = {}
    if maps:
        figure = Figure()
        for m in maps:
            figure.add_child(m, name=m.get_name())
        inline_assets(figure)
        figure.render()
        # The figure's header holds the inlined libraries and each map's styles; the
        # map divs go where the page wants them, the scripts at the end of the body.
        header = "".join(
            child.render() for name, child in figure.header._children.items() if name != "meta_http"
        )
        divs = {m.get_name(): figure.html._children[m.get_name()].render() for m in maps}
        map_scripts = figure.script.render()
    parts = []
    for section in sections:
        if isinstance(section, MapRow):
            captions = list(section.captions) + [""] * (len(section.maps) - len(section.captions))
            cells = "".join(
                f'<div class="te-map-cell">{f"<h3>{caption}</h3>" if caption else ""}'
                f'<div class="te-map-slot">{divs[m.get_name()]}</div></div>'
                for m, caption in zip(section.maps, captions, strict=True)
            )
            parts.append(f'<div class="te-map-row">{cells}</div>')
        else:
            parts.append(section)
    scripts = [map_scripts, SORT_JS, script]
    script_html = "".join(inline_script(s).render() for s in scripts if s.strip())
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n{header}\n"
        f"{inline_style_html(PAGE_CSS)}\n</head>\n<body>\n<main>\n"
        + "\n".join(parts)
        + f"\n</main>\n{script_html}\n</body>\n</html>\n"
    )
    external = external_references(page)
    if external:
        raise OfflineAssetError(f"the page would load {external[:3]} from the network")
    return page


def inline_style_html(css: str) -> str:
    """``css`` inside a ``<style>`` element (checked not to end it early)."""
    from territory_engine.render.assets import inline_style

    return inline_style(css).render()
