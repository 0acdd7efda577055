"""The planner's page: a folium map whose layers are empty shells that the page's script fills from the API.

folium builds the Leaflet map, the base layers, the overlay groups (so that the layer control, the
draw toolbar, clustering, the heat layer, the scale bar and the fullscreen button are folium's own),
and the page's script (``maps/static/*.js``) loads the data by viewport. Nothing of the data is
embedded in the HTML. Every script and style sheet is served locally (see :mod:`maps.assets`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, cast

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium import plugins
from folium.template import Template

from maps import assets
from maps.i18n import LANGUAGES, strings
from maps.layers import BUILDING_POINTS_ZOOM, GRIDS_MIN_ZOOM
from maps.styles import style_config

# Xixiu District (Anshun city centre) when the database is empty.
DEFAULT_EXTENT = (105.60, 25.95, 106.30, 26.50)


@dataclass(frozen=True)
class PageOptions:
    """What varies between renderings of the page (hashable: rendered pages are cached on it)."""

    lang: str = "zh-CN"
    extent: tuple[float, float, float, float] | None = None
    tianditu_key: str | None = None
    features: frozenset[str] = frozenset()  # optional endpoints that exist: proposals, load, balance…
    api_base: str = ""
    simplify: bool = True  # false only to measure the page without coverage simplification


class PlannerFigure(Figure):
    """folium's figure with the page language and a viewport for tablets."""

    _template = Template(
        "<!DOCTYPE html>\n<html lang=\"{{ this.lang }}\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>{{ this.title }}</title>\n<link rel=\"icon\" href=\"{{ this.icon }}\" type=\"image/svg+xml\">\n"
        "{{ this.header.render(**kwargs) }}\n</head>\n<body>\n"
        "{{ this.html.render(**kwargs) }}\n</body>\n<script>\n{{ this.script.render(**kwargs) }}\n</script>\n</html>\n"
    )

    def __init__(self, lang: str, title: str) -> None:
        super().__init__(title=title)
        self.lang = lang
        self.icon = f"{assets.STATIC_URL}/favicon.svg"


class PlannerMap(folium.Map):
    """folium.Map with Leaflet served locally and without jQuery/Bootstrap/Font Awesome (not used)."""

    default_js = assets.MAP_JS
    default_css = assets.MAP_CSS


class LocalDraw(plugins.Draw):
    """folium's plugin with Leaflet.draw served locally."""

    default_js = assets.DRAW_JS
    default_css = assets.DRAW_CSS


class LocalFullscreen(plugins.Fullscreen):
    """folium's plugin with the fullscreen button served locally."""

    default_js = assets.FULLSCREEN_JS
    default_css = assets.FULLSCREEN_CSS


class LocalMarkerCluster(plugins.MarkerCluster):
    """folium's plugin with marker clustering served locally."""

    default_js = assets.CLUSTER_JS
    default_css = assets.CLUSTER_CSS


class LocalHeatMap(plugins.HeatMap):
    """folium's plugin with the heat layer (the script from folium's wheel) served locally."""

    default_js = assets.HEAT_JS


class JsLayer(folium.map.Layer):
    """A layer given as a JavaScript expression (the blank base map, Tianditu's two-layer group)."""

    _template = Template("{% macro script(this, kwargs) %}var {{ this.get_name() }} = {{ this.js }};{% endmacro %}")

    def __init__(self, js: str, name: str, *, overlay: bool = False, show: bool = False) -> None:
        super().__init__(name=name, overlay=overlay, show=show)
        self._name = "JsLayer"
        self.js = js


class AppInit(MacroElement):
    """The page's own scripts and styles, and the call that starts them once folium created the map.

    Added last to the map, so it renders last: its links follow Leaflet's and the plugins' in the head.
    """

    # folium declares its objects with ``let``, which is not a property of ``window``; naming them here, in
    # the same page script, hands them over without ``eval`` (the page's CSP has no 'unsafe-eval').
    _template = Template("{% macro script(this, kwargs) %}gg.objects = {{ this.objects_js }};\n"
                         "gg.init({{ this.config_json }});{% endmacro %}")

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "AppInit"
        self.config = config

    def render(self, **kwargs: Any) -> Any:
        figure = cast(Figure, self.get_root())
        for css in assets.APP_CSS:
            figure.header.add_child(CssLink(_versioned(css)), name=css)
        for js in assets.APP_JS:
            figure.header.add_child(JavascriptLink(_versioned(js)), name=js)
        # The events layer wraps gg.init, so it loads after main.js (see maps/static/events.js).
        figure.header.add_child(JavascriptLink(_versioned("events.js")), name="events.js")
        return super().render(**kwargs)

    @property
    def objects_js(self) -> str:
        """``{"name": name, …}`` for every folium object the config names (JavaScript identifiers)."""
        c = self.config
        names = {c["map"], c["layerControl"], c["draw"], *c["layers"].values(), *c["baseLayers"].values()}
        for name in names:
            if not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
                raise ValueError(f"not a JavaScript identifier: {name!r}")
        return "{" + ", ".join(f'"{n}": typeof {n} !== "undefined" ? {n} : undefined' for n in sorted(names)) + "}"

    @property
    def config_json(self) -> str:
        # "</" must not close the inline script.
        return json.dumps(self.config, ensure_ascii=False).replace("</", "<\\/")


def _versioned(name: str) -> str:
    digest = hashlib.sha256((assets.STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"{assets.STATIC_URL}/{name}?v={digest}"


OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
TIANDITU_URL = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
                "&tk={key}")


def _base_layers(m: folium.Map, s: dict[str, str], tianditu_key: str | None) -> dict[str, str]:
    blank = JsLayer("L.layerGroup()", s["base_blank"], show=True).add_to(m)
    osm = folium.TileLayer(OSM_URL, name=s["base_osm"], attr="&copy; OpenStreetMap contributors", max_zoom=19,
                           overlay=False, show=False).add_to(m)
    names = {"blank": blank.get_name(), "osm": osm.get_name()}
    if tianditu_key:
        urls = [TIANDITU_URL.format(layer=layer, key=tianditu_key, s="{s}", z="{z}", x="{x}", y="{y}")
                for layer in ("vec", "cva")]  # streets, then Chinese labels on top
        layers = ", ".join(f"L.tileLayer({json.dumps(url)}, {{subdomains: '01234567', maxZoom: 18, "
                           "attribution: '&copy; 天地图 Tianditu'})" for url in urls)
        names["tianditu"] = JsLayer(f"L.layerGroup([{layers}])", s["base_tianditu"]).add_to(m).get_name()
    amap = folium.TileLayer(AMAP_URL, name=s["base_amap"], attr="&copy; 高德地图 AutoNavi (GCJ-02)", subdomains="1234",
                            max_zoom=18, overlay=False, show=False).add_to(m)
    names["amap"] = amap.get_name()
    return names


def _overlays(m: folium.Map, s: dict[str, str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for key in ("subdistricts", "communities", "grids"):
        names[key] = folium.FeatureGroup(s[f"layer_{key}"], overlay=True, show=True).add_to(m).get_name()
    # Off at first: over the load colours a heat map is noise; planners turn it on (points from zoom 15).
    buildings = folium.FeatureGroup(s["layer_buildings"], overlay=True, show=False).add_to(m)
    names["buildings"] = buildings.get_name()
    heat = LocalHeatMap([], radius=14, blur=12, min_opacity=0.35, max_zoom=BUILDING_POINTS_ZOOM, control=False)
    names["buildingsHeat"] = heat.add_to(buildings).get_name()
    names["stations"] = LocalMarkerCluster(name=s["layer_stations"], overlay=True, show=True, options={
        "disableClusteringAtZoom": 15, "maxClusterRadius": 70, "showCoverageOnHover": False,
    }).add_to(m).get_name()
    for key in ("rings", "proposals", "preview"):
        names[key] = folium.FeatureGroup(s[f"layer_{key}"], overlay=True, show=True).add_to(m).get_name()
    for key in ("nearest", "selection"):
        names[key] = folium.FeatureGroup(key, overlay=True, show=True, control=False).add_to(m).get_name()
    return names


def build_page(options: PageOptions) -> str:
    """The planner page as one HTML document (about 20 KB: shells and configuration, no data)."""
    if options.lang not in LANGUAGES:
        raise ValueError(f"unknown language {options.lang!r}; choose one of {', '.join(LANGUAGES)}")
    s = strings(options.lang)
    extent = options.extent or DEFAULT_EXTENT
    figure = PlannerFigure(options.lang, s["title"])
    center = [(extent[1] + extent[3]) / 2, (extent[0] + extent[2]) / 2]
    m = PlannerMap(location=center, zoom_start=10, tiles=None, control_scale=True, minZoom=7, maxZoom=19,
                   zoom_control="topleft")
    figure.add_child(m)
    base = _base_layers(m, s, options.tianditu_key)
    layers = _overlays(m, s)
    drawn = folium.FeatureGroup("drawn", control=False).add_to(m)
    layers["drawn"] = drawn.get_name()
    draw = LocalDraw(feature_group=drawn, position="topleft", show_geometry_on_click=False, draw_options={
        "polyline": False, "circle": False, "circlemarker": False, "marker": False,
        "polygon": {"allowIntersection": False, "showArea": True, "shapeOptions": style_config()["units"]["drawn"]},
        "rectangle": {"shapeOptions": style_config()["units"]["drawn"]},
    }, edit_options={"edit": False, "remove": True}).add_to(m)
    LocalFullscreen(position="topleft", title=s["fullscreen"], title_cancel=s["fullscreen_exit"]).add_to(m)
    control = folium.LayerControl(position="topright", collapsed=False).add_to(m)
    figure.html.add_child(Element(_shell(s, options.lang)), name="gridgov_shell")
    config = {
        "lang": options.lang,
        "strings": s,
        "map": m.get_name(),
        "layers": layers,
        "baseLayers": base,
        "gcjBaseLayers": ["amap"],
        "layerControl": control.get_name(),
        "draw": draw.get_name(),
        "extent": list(extent),
        "zoom": {"grids": GRIDS_MIN_ZOOM, "buildingPoints": BUILDING_POINTS_ZOOM},
        "styles": style_config(),
        "otherLang": [lang for lang in LANGUAGES if lang != options.lang][0],
        "features": {name: True for name in sorted(options.features)},
        "apiBase": options.api_base,
        "simplify": options.simplify,
    }
    AppInit(config).add_to(m)
    return figure.render()


def _shell(s: dict[str, str], lang: str) -> str:
    """The top bar and the side panel around the map (filled in by the page's script)."""
    other = "en" if lang != "en" else "zh-CN"
    return f"""
<header id="gg-bar" role="banner">
  <div class="gg-brand"><span class="gg-logo" aria-hidden="true">网</span><span class="gg-title">{s['title']}</span>
    <span class="gg-title-short">{s['title_short']}</span></div>
  <form id="gg-search" role="search" autocomplete="off">
    <input id="gg-search-input" type="search" placeholder="{s['search_placeholder']}" aria-label="{s['search']}">
    <ul id="gg-search-results" role="listbox" hidden></ul>
  </form>
  <label class="gg-asof">{s['as_of']} <input id="gg-asof" type="date"></label>
  <div class="gg-tools" role="toolbar">
    <button type="button" id="gg-tool-nearest" class="gg-btn" aria-pressed="false">{s['tool_nearest']}</button>
    <label class="gg-k" title="{s['nearest_k_hint']}">{s['nearest_k']}
      <input id="gg-k" type="number" min="1" max="20" value="3"></label>
    <button type="button" id="gg-tool-grids" class="gg-btn" aria-pressed="false">{s['tool_pick_grids']}</button>
    <button type="button" id="gg-tool-brush" class="gg-btn" aria-pressed="false"
      title="{s['hint_brush_short']}">{s['tool_brush']}</button>
    <button type="button" id="gg-tool-proposals" class="gg-btn">{s['tool_proposals']}</button>
    <button type="button" id="gg-tool-balance" class="gg-btn" hidden>{s['tool_balance']}</button>
  </div>
  <a id="gg-lang" class="gg-lang" href="?lang={other}" hreflang="{other}">{s['other_language']}</a>
</header>
<div id="gg-status" role="status" aria-live="polite"></div>
<div id="gg-messages" aria-live="assertive"></div>
<aside id="gg-panel" aria-label="{s['panel']}" hidden>
  <button type="button" id="gg-panel-close" class="gg-close" aria-label="{s['close']}">×</button>
  <div id="gg-panel-body"></div>
</aside>
"""
