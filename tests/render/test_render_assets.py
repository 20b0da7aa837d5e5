"""Offline pages: every script and style is inlined, nothing is linked from a CDN."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import folium
import pytest
from folium.plugins import DualMap, Fullscreen, MarkerCluster, Search

from territory_engine.render import render_plan_map, save_map
from territory_engine.render.assets import (
    DROPPED_URLS,
    OFFLINE_COPIES,
    OfflineAssetError,
    asset_text,
    external_references,
    inline_assets,
    inline_script,
    inline_style,
)
from territory_engine.render.page import compose_page

ASSETS = resources.files("territory_engine.render.assets")
REPO = Path(__file__).resolve().parents[2]


def _sample_map() -> folium.Map:
    from tests.render.test_render_map import MEASURES, plan

    territories, accounts, reps = plan()
    return render_plan_map(territories, accounts, reps, measures=MEASURES, title="offline")


def test_every_folium_link_we_use_has_a_local_copy_or_is_dropped():
    links = [
        *folium.Map.default_js,
        *folium.Map.default_css,
        *MarkerCluster.default_js,
        *MarkerCluster.default_css,
        *Search.default_js,
        *Search.default_css,
        *Fullscreen.default_js,
        *Fullscreen.default_css,
    ]
    for _, url in links:
        assert url in OFFLINE_COPIES or url in DROPPED_URLS, url


def test_shipped_files_exist_and_are_the_pinned_versions():
    for copy in OFFLINE_COPIES.values():
        assert ASSETS.joinpath(copy.file).is_file(), copy.file
        for image in copy.images.values():
            assert ASSETS.joinpath(image).is_file(), image
    assert "Leaflet 1.9.3" in asset_text("leaflet.js")[:200]
    assert "v2.9.7" in asset_text("leaflet-search.min.js")[:200]
    licences = ASSETS.joinpath("LICENSES.md").read_text(encoding="utf-8")
    for text in ("BSD 2-Clause", "Vladimir Agafonkin", "David Leaver", "Stefano Cudini"):
        assert text in licences
    assert "Bruno Bergot" in licences


def test_package_data_patterns_cover_every_asset_file():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["territory_engine.render.assets"]
    for entry in ASSETS.iterdir():
        if entry.name.startswith(("__", ".")):
            continue
        assert any(Path(entry.name).match(p) for p in patterns), entry.name


def test_stylesheet_images_become_data_uris():
    css = asset_text("leaflet.css")
    assert "images/layers.png" not in css
    assert css.count("data:image/png;base64,") == 3
    assert "data:image/svg+xml;base64," in asset_text("Control.FullScreen.css")
    assert "data:image/gif;base64," in asset_text("leaflet-search.min.css")
    # Every url() left is a data URI or the IE-only behaviour id Chromium never fetches.
    for file in ("leaflet.css", "leaflet-search.min.css", "Control.FullScreen.css"):
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", asset_text(file)):
            assert ref.startswith(("data:", "#")), (file, ref)


def test_saved_plan_map_links_nothing_and_inlines_leaflet(tmp_path):
    m = _sample_map()
    size = save_map(m, tmp_path / "map.html")
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert size == (tmp_path / "map.html").stat().st_size
    assert external_references(html) == []
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery" not in html
    assert "Leaflet 1.9.3" in html  # the library itself is in the page
    assert "L.MarkerClusterGroup" in html and "L.Control.Search" in html
    assert "fullscreen" in html.lower()
    # Leaflet is defined before any plugin or map script uses it.
    assert html.index("Leaflet 1.9.3") < html.index("L.MarkerClusterGroup=")
    assert html.index("Leaflet 1.9.3") < html.index("L.map(")


def test_inlining_twice_keeps_one_copy_of_each_library(tmp_path):
    m = _sample_map()
    inline_assets(m.get_root())
    save_map(m, tmp_path / "map.html")
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert html.count("Leaflet 1.9.3, a JS library") == 1
    assert html.count("L.MarkerClusterGroup=L.FeatureGroup.extend") == 1


def test_a_plugin_without_a_local_copy_is_refused(tmp_path):
    # DualMap links Leaflet.Sync, which we do not ship (the compare page syncs itself).
    m = DualMap(location=(0, 0), tiles=None)
    with pytest.raises(OfflineAssetError, match=r"Leaflet\.Sync|L\.Map\.Sync"):
        inline_assets(m.get_root())


def test_inline_elements_refuse_text_that_would_close_them():
    with pytest.raises(ValueError, match="</script"):
        inline_script("var s = '</script>';")
    with pytest.raises(ValueError, match="</style"):
        inline_style("a{} </style><script>")
    assert inline_script("var a = {{b}};").render() == "<script>\nvar a = {{b}};\n</script>"


def test_external_references_finds_loading_tags_only():
    page = (
        '<script src="https://x.org/a.js"></script><link rel="stylesheet" href="b.css">'
        '<img src="data:image/png;base64,AAA"><a href="https://leafletjs.com">Leaflet</a>'
    )
    assert external_references(page) == ["https://x.org/a.js", "b.css"]


def test_composed_page_with_a_map_is_offline():
    page = compose_page("t", ["<p>hello</p>", _map_row()])
    assert external_references(page) == []
    assert "<p>hello</p>" in page and "Leaflet 1.9.3" in page
    assert page.count('class="folium-map"') == 1


def _map_row():
    from territory_engine.render.page import MapRow

    return MapRow([_sample_map()], ["caption"])
