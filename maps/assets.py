"""Leaflet and its plugins, served by gridgov itself: the planner page fetches nothing from a CDN.

folium's templates point at jsDelivr/cdnjs for Leaflet, jQuery, Bootstrap, Font Awesome and the
plugins. The page needs none of jQuery, Bootstrap or Font Awesome (no folium popups or icon
markers are used), and it loads Leaflet and the plugins from ``/map/static/vendor/``. Those files
are the upstream npm packages at pinned versions, extracted by ``python -m maps.vendor`` (which
checks npm's sha512 integrity) and kept in the tree with a manifest of their sha256 sums. The heat
layer script is the copy folium itself ships in its PyPI wheel.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = VENDOR_DIR / "MANIFEST.json"
STATIC_URL = "/map/static"


@dataclass(frozen=True)
class NpmPackage:
    """One npm package: which files of its tarball are served (tarball path -> path under vendor/)."""

    name: str
    version: str
    integrity: str  # npm's sha512 of the tarball, checked when vendoring
    license: str
    files: dict[str, str]


NPM_PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage(
        "leaflet", "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        "BSD-2-Clause",
        {f"package/{p}": f"leaflet/{p.removeprefix('dist/')}" for p in (
            "dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png", "dist/images/layers-2x.png",
            "dist/images/marker-icon.png", "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png",
            "LICENSE")},
    ),
    NpmPackage(
        "leaflet-draw", "1.0.4",
        "sha512-rsQ6saQO5ST5Aj6XRFylr5zvarWgzWnrg46zQ1MEOEIHsppdC/8hnN8qMoFvACsPvTioAuysya/TVtog15tyAQ==",
        "MIT",
        {f"package/{p}": f"leaflet-draw/{p.removeprefix('dist/')}" for p in (
            "dist/leaflet.draw.js", "dist/leaflet.draw.css", "dist/images/spritesheet.png",
            "dist/images/spritesheet-2x.png", "dist/images/spritesheet.svg")},
    ),
    NpmPackage(
        "leaflet.markercluster", "1.5.3",
        "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        "MIT",
        {f"package/{p}": f"leaflet.markercluster/{p.removeprefix('dist/')}" for p in (
            "dist/leaflet.markercluster.js", "dist/MarkerCluster.css", "dist/MarkerCluster.Default.css",
            "MIT-LICENCE.txt")},
    ),
    NpmPackage(
        "leaflet.fullscreen", "3.0.0",
        "sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        "MIT",
        {f"package/{p}": f"leaflet.fullscreen/{p}" for p in (
            "Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg", "LICENSE")},
    ),
)


def folium_heat_script() -> Path:
    """Leaflet.heat as shipped inside the folium wheel (the file folium's HeatMap loads from a CDN)."""
    return Path(str(resources.files("folium") / "templates" / "leaflet_heat.min.js"))


def vendor_url(path: str) -> str:
    """The URL the page uses for a vendored file (``path`` relative to ``static/vendor``)."""
    return f"{STATIC_URL}/vendor/{path}"


# The (name, url) pairs that replace folium's CDN links, per folium class.
MAP_JS = [("leaflet", vendor_url("leaflet/leaflet.js"))]
MAP_CSS = [("leaflet_css", vendor_url("leaflet/leaflet.css"))]
DRAW_JS = [("leaflet_draw_js", vendor_url("leaflet-draw/leaflet.draw.js"))]
DRAW_CSS = [("leaflet_draw_css", vendor_url("leaflet-draw/leaflet.draw.css"))]
FULLSCREEN_JS = [("Control.Fullscreen.js", vendor_url("leaflet.fullscreen/Control.FullScreen.js"))]
FULLSCREEN_CSS = [("Control.FullScreen.css", vendor_url("leaflet.fullscreen/Control.FullScreen.css"))]
CLUSTER_JS = [("markerclusterjs", vendor_url("leaflet.markercluster/leaflet.markercluster.js"))]
CLUSTER_CSS = [
    ("markerclustercss", vendor_url("leaflet.markercluster/MarkerCluster.css")),
    ("markerclusterdefaultcss", vendor_url("leaflet.markercluster/MarkerCluster.Default.css")),
]
HEAT_JS = [("leaflet-heat.js", f"{STATIC_URL}/folium/leaflet_heat.min.js")]

# The page's own script and style sheet, in load order.
APP_JS = ["i18n-fmt.js", "gcj02.js", "core.js", "layers.js", "panels.js", "draft.js", "whatif.js", "split.js",
          "proposals.js", "compare.js", "balance.js", "groups.js", "main.js"]
APP_CSS = ["gridgov-map.css"]
