"""Offline copies of the Leaflet scripts and styles, inlined into every page we write.

Folium links Leaflet and its plugins from public CDNs, so its pages stay blank
without internet. A plan is often opened where there is none (a laptop on the road,
a locked-down network, an archive years later), so every page this package writes
carries its scripts and styles inline instead: :func:`inline_assets` swaps each link
folium would emit for the text of the same file, shipped in this folder (see
``LICENSES.md`` for the packages, versions and licences). Images referenced by the
stylesheets become ``data:`` URIs, so a page makes no request at all unless the user
asked for a tile layer.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from branca.element import Element, Figure

__all__ = [
    "DROPPED_URLS",
    "OFFLINE_COPIES",
    "OfflineAssetError",
    "asset_text",
    "external_references",
    "inline_assets",
    "inline_script",
    "inline_style",
]


class OfflineAssetError(RuntimeError):
    """A page would link a script or stylesheet that has no offline copy here."""


@dataclass(frozen=True)
class _Copy:
    """The local copy of one linked file.

    Attributes
    ----------
    file
        Name of the file in this folder.
    images
        For stylesheets: each ``url(...)`` the file references -> the local image.
    """

    file: str
    images: dict[str, str] = field(default_factory=dict)


_CLUSTER = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
_LEAFLET_IMAGES = {
    "images/layers.png": "leaflet-layers.png",
    "images/layers-2x.png": "leaflet-layers-2x.png",
    "images/marker-icon.png": "leaflet-marker-icon.png",
}

#: CDN URL folium 0.20 links -> the file shipped here with the same content.
OFFLINE_COPIES: dict[str, _Copy] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": _Copy("leaflet.js"),
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": _Copy(
        "leaflet.css", _LEAFLET_IMAGES
    ),
    _CLUSTER + "leaflet.markercluster.js": _Copy("leaflet.markercluster.js"),
    _CLUSTER + "MarkerCluster.css": _Copy("MarkerCluster.css"),
    _CLUSTER + "MarkerCluster.Default.css": _Copy("MarkerCluster.Default.css"),
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js": _Copy(
        "leaflet-search.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css": _Copy(
        "leaflet-search.min.css",
        {
            "../images/search-icon.png": "leaflet-search-icon.png",
            "../images/loader.gif": "leaflet-search-loader.gif",
        },
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": _Copy(
        "Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": _Copy(
        "Control.FullScreen.css", {"icon-fullscreen.svg": "icon-fullscreen.svg"}
    ),
}

#: Links of folium's map template that our pages do not use (jQuery, Bootstrap and the
#: awesome-markers icon fonts serve ``folium.Icon`` markers and HTML ``folium.Popup``
#: objects, neither of which we draw); they are left out instead of shipped.
DROPPED_URLS: frozenset[str] = frozenset(
    {
        "https://code.jquery.com/jquery-3.7.1.min.js",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",
        "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css",
        "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
    }
)

_MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
# A script element ends at the first "</script" whatever the JavaScript around it
# means, and "<!--" switches the HTML parser into a mode where that can misfire.
_UNSAFE_IN_SCRIPT = re.compile(r"</script|<!--", re.IGNORECASE)
_UNSAFE_IN_STYLE = re.compile(r"</style", re.IGNORECASE)


@functools.cache
def _read_bytes(file: str) -> bytes:
    return resources.files(__name__).joinpath(file).read_bytes()


def asset_text(file: str) -> str:
    """Return the text of a shipped file, images in stylesheets as ``data:`` URIs.

    Parameters
    ----------
    file
        A file name of this folder, e.g. ``"leaflet.js"``.

    Returns
    -------
    str
        The file's text; for a stylesheet, every relative ``url(...)`` it uses is
        replaced by the image itself.

    Raises
    ------
    OfflineAssetError
        If a stylesheet references a file that has no local copy.
    """
    return _asset_text(file)


@functools.cache
def _asset_text(file: str) -> str:
    text = _read_bytes(file).decode("utf-8")
    if not file.endswith(".css"):
        return text
    images = next((c.images for c in OFFLINE_COPIES.values() if c.file == file), {})

    def replace(match: re.Match[str]) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#")):  # already inline, or an IE behaviour id
            return match.group(0)
        if ref not in images:
            raise OfflineAssetError(f"{file} references {ref!r}, which has no local copy")
        local = images[ref]
        mime = _MIME[local[local.rfind(".") :]]
        data = base64.b64encode(_read_bytes(local)).decode("ascii")
        return f'url("data:{mime};base64,{data}")'

    return _CSS_URL.sub(replace, text)


class _Inline(Element):
    """A ``<script>`` or ``<style>`` element holding raw text.

    Branca elements render their content as a Jinja template; minified JavaScript is
    full of braces, so this element returns its text as it is instead.
    """

    def __init__(self, tag: str, text: str) -> None:
        super().__init__()
        self._markup = f"<{tag}>\n{text}\n</{tag}>"

    def render(self, **kwargs: Any) -> str:
        return self._markup


def inline_script(text: str) -> Element:
    """A branca element rendering ``text`` inside ``<script>`` tags, verbatim.

    Raises
    ------
    ValueError
        If the text would end the script element early.
    """
    if _UNSAFE_IN_SCRIPT.search(text):
        raise ValueError("script text holds '</script' or '<!--' and cannot be inlined")
    return _Inline("script", text)


def inline_style(text: str) -> Element:
    """A branca element rendering ``text`` inside ``<style>`` tags, verbatim.

    Raises
    ------
    ValueError
        If the text would end the style element early.
    """
    if _UNSAFE_IN_STYLE.search(text):
        raise ValueError("style text holds '</style' and cannot be inlined")
    return _Inline("style", text)


def _walk(element: Element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def inline_assets(root: Figure) -> None:
    """Replace every CDN link of the page rooted at ``root`` by the inlined file.

    Folium's plugins add ``<script src>``/``<link href>`` tags for their
    ``default_js``/``default_css`` entries when the page is rendered. This clears
    those lists on each element of the tree (instance attributes, so folium's classes
    stay untouched) and puts the shipped copies into the page header under the same
    names, in the order folium would have linked them. Call it once the page is
    complete and before it is rendered; calling it again does nothing.

    Parameters
    ----------
    root
        The figure (page) holding the maps, e.g. ``folium_map.get_root()``.

    Raises
    ------
    OfflineAssetError
        If an element links a file that has neither a local copy nor a place in
        :data:`DROPPED_URLS`; a new plugin must have its files added here first.
    """
    if not isinstance(root, Figure):
        raise TypeError(f"inline_assets needs the page's Figure, got {type(root).__name__}")
    scripts: dict[str, str] = {}
    styles: dict[str, str] = {}
    for element in _walk(root):
        for attr, found in (("default_js", scripts), ("default_css", styles)):
            links = getattr(element, attr, None)
            if not links:
                continue
            for name, url in links:
                if url in DROPPED_URLS:
                    continue
                copy = OFFLINE_COPIES.get(url)
                if copy is None:
                    raise OfflineAssetError(
                        f"{type(element).__name__} links {url}, which has no offline copy in "
                        "territory_engine/render/assets; add the file there (see LICENSES.md)"
                    )
                found.setdefault(name, copy.file)
            setattr(element, attr, [])
    # Styles first: they only need to exist before the map is drawn, and scripts then
    # run in the order folium would have loaded them (Leaflet before its plugins).
    for name, file in styles.items():
        root.header.add_child(inline_style(asset_text(file)), name=name)
    for name, file in scripts.items():
        root.header.add_child(inline_script(asset_text(file)), name=name)


_EXTERNAL = re.compile(
    r"""<(?:script|img|iframe|link|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']?"""
    r"""(?!data:|#)([^"'\s>]+)""",
    re.IGNORECASE,
)


def external_references(html: str) -> list[str]:
    """List the URLs a page would load through ``src``/``href`` of loading tags.

    Links a reader may click (``<a href>``) do not count; ``data:`` URIs and
    fragments do not count either.

    Parameters
    ----------
    html
        A rendered page.

    Returns
    -------
    list of str
        The referenced URLs, in page order; empty for a self-contained page.
    """
    return _EXTERNAL.findall(html)
