"""The interactive map of the HTML report: folium, no tiles, Leaflet inlined, before/after layers to toggle.

folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; the report must work offline, so
the map's CDN links are dropped and the vendored Leaflet (the planner page's copy, see
:mod:`maps.assets`) is inlined, its images as data URIs. No marker images are used (circle markers
and text labels only), so nothing is fetched. The result is a whole HTML document, meant for an
``<iframe srcdoc>`` so that folium's page-filling styles stay out of the report.

Every data-derived string (unit, station and building names, addresses, codes) passes through
:func:`html_text` before it reaches folium: tooltips and labels are HTML, and ``folium.Tooltip``
places its text inside a JavaScript template string, where a backtick or ``${…}`` would run.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from typing import Any

from geo.impact.model import ImpactReport
from maps.report.labels import for_kind, integer, name, role, t
from maps.report.static_map import CONTEXT_EDGE, ROLE_STYLES, TERRITORY_EDGE


@functools.cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and style sheet (images inlined), from the vendored copy."""
    from maps.assets import VENDOR_DIR

    folder = VENDOR_DIR / "leaflet"
    try:
        script = (folder / "leaflet.js").read_text(encoding="utf-8")
        css = (folder / "leaflet.css").read_text(encoding="utf-8")
    except OSError as exc:
        raise RuntimeError(f"the vendored Leaflet is missing ({exc}); run: python -m maps.vendor") from None

    def inline(match: re.Match[str]) -> str:
        image = folder / "images" / match.group(1)
        if not image.exists():
            return "none"
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()})"

    css = re.sub(r"url\(images/([\w.-]+)\)", inline, css)
    return script.replace("</script", "<\\/script"), css


def html_text(value: object) -> str:
    """``value`` as text safe in HTML, in a JS template string and in JSON inside ``<script>``.

    HTML-escaped, and backtick, ``$`` and backslash as character references: they display the same
    once the tooltip's HTML is parsed, but can neither end a template string nor start ``${…}``.
    """
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _safe(feature: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``feature`` whose ``keys`` properties are escaped for display."""
    props = dict(feature["properties"])
    for key in keys:
        if key in props:
            props[key] = html_text(props[key])
    return {**feature, "properties": props}


def _style(fill: str | None, edge: str, *, weight: float = 2, dash: str | None = None,
           opacity: float = 0.45) -> dict[str, Any]:
    return {"color": edge, "weight": weight, "fillColor": fill or edge, "fillOpacity": opacity if fill else 0,
            "dashArray": dash}


def _units(collection: dict[str, Any], roles: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [f for f in collection["features"] if f["properties"].get("role") in roles]}


def render_interactive_map(report: ImpactReport, lang: str) -> str:
    """A self-contained HTML document with the map (for ``<iframe srcdoc>``)."""
    import folium
    from branca.element import Element

    data = report.map
    minx, miny, maxx, maxy = data.bbox
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, zoom_start=15,
                      control_scale=True, prefer_canvas=False)
    fmap.default_js, fmap.default_css = [], []
    script, css = leaflet_assets()
    root: Any = fmap.get_root()  # a branca Figure
    root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(Element(f"<script>{script}</script>"), name="leaflet_js")
    root.header.add_child(Element(
        "<style>.leaflet-container{background:#fafafa;font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif}"
        ".gg-label{font-weight:700;font-size:13px;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff}"
        ".gg-context{font-size:11px;color:#666;white-space:nowrap;text-shadow:0 0 2px #fff}</style>"),
        name="report_css")
    colours = {r: (fill, edge) for r, (fill, edge, _) in ROLE_STYLES.items()}

    def unit_style(after: bool) -> Any:
        def style(feature: dict[str, Any]) -> dict[str, Any]:
            role_key = feature["properties"]["role"]
            if role_key.startswith("grid_of_"):
                return _style(None, "#555555", weight=0.8, dash="3 3")
            fill, edge = colours[role_key]
            if role_key == "retired":  # only on the before side: greyed out, dotted
                return _style(fill, edge, weight=2.5, dash="2 4", opacity=0.55)
            if role_key == "new":  # only on the after side: green, solid
                return _style(fill, edge, weight=3, opacity=0.55)
            return _style(fill if after else None, edge, weight=3 if after else 2.5, dash=None if after else "6 4")
        return style

    tooltip_fields = (["name", "code"], [t(lang, "map_context"), "code"])
    context = folium.FeatureGroup(name=t(lang, "map_context"), show=True)
    if data.context["features"]:
        shown = {"type": "FeatureCollection",
                 "features": [_safe(f, ("name", "code")) for f in data.context["features"]]}
        folium.GeoJson(shown, style_function=lambda _: _style("#eeeeee", CONTEXT_EDGE, weight=1, opacity=0.6),
                       tooltip=folium.GeoJsonTooltip(fields=tooltip_fields[0], aliases=["", ""])).add_to(context)
    for feature in data.context["features"]:
        _label(feature, lang, "gg-context").add_to(context)
    context.add_to(fmap)
    for side, after in (("before", False), ("after", True)):
        group = folium.FeatureGroup(name=t(lang, "map_" + side), show=True)
        kind = report.proposal.kind
        collection = {"type": "FeatureCollection", "features": [  # copies: the report itself stays as it is
            _safe({**f, "properties": {**f["properties"], "role_text": role(lang, f["properties"]["role"], kind)
                                       if f["properties"]["role"] in colours else ""}},
                  ("name", "code", "role_text"))
            for f in getattr(data, side)["features"]]}
        folium.GeoJson(collection, style_function=unit_style(after),
                       tooltip=folium.GeoJsonTooltip(fields=["name", "code", "role_text"],
                                                     aliases=["", "", ""])).add_to(group)
        group.add_to(fmap)
    territory = folium.FeatureGroup(name=for_kind(lang, "map_territory", report.proposal.kind), show=True)
    folium.GeoJson({"type": "Feature", "geometry": data.territory, "properties": {}},
                   style_function=lambda _: _style(TERRITORY_EDGE, TERRITORY_EDGE, weight=2, dash="4 4",
                                                   opacity=0.12)).add_to(territory)
    territory.add_to(fmap)
    _buildings(report, lang).add_to(fmap)
    centres = folium.FeatureGroup(name=t(lang, "map_centres"), show=True)
    for feature in data.centres["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        folium.CircleMarker([lat, lon], radius=8, color="#000000", weight=1.5, fill=True, fill_color="#ffd400",
                            fill_opacity=1, tooltip=folium.Tooltip(html_text(name(feature["properties"], lang)))
                            ).add_to(centres)
    centres.add_to(fmap)
    labels = folium.FeatureGroup(name=t(lang, "unit_rows"), show=True, control=False)
    for feature in (_units(data.after, ("from", "to", "new"))["features"]
                    + _units(data.before, ("retired",))["features"]):
        _label(feature, lang, "gg-label", colours[feature["properties"]["role"]][1]).add_to(labels)
    labels.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return str(root.render())


def _label(feature: dict[str, Any], lang: str, css: str, colour: str | None = None) -> Any:
    import folium
    from shapely.geometry import shape

    point = shape(feature["geometry"]).representative_point()
    style = f' style="color:{colour}"' if colour else ""
    text = html_text(name(feature["properties"], lang))
    return folium.Marker([point.y, point.x], icon=folium.DivIcon(
        html=f'<div class="{css}"{style}>{text}</div>', icon_size=(0, 0), icon_anchor=(0, 0), class_name="gg-div"))


def _buildings(report: ImpactReport, lang: str) -> Any:
    import folium

    group = folium.FeatureGroup(name=t(lang, "map_buildings"), show=True)
    features = [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [h.lon, h.lat]},
        "properties": {"address": html_text(h.address or h.code), "residents": h.residents,
                       "households": h.households, "after": html_text(name(h.community_after, lang)),
                       "distance": integer(h.distance_after_m)},
    } for h in report.households]
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            marker=folium.CircleMarker(radius=4, color="#222222", weight=0.5, fill=True, fill_color="#222222",
                                       fill_opacity=0.75),
            tooltip=folium.GeoJsonTooltip(
                fields=["address", "households", "residents", "after", "distance"],
                aliases=[t(lang, "col_address"), t(lang, "col_households"), t(lang, "col_residents"),
                         t(lang, "col_community_after"), t(lang, "col_distance_after")]),
        ).add_to(group)
    return group
