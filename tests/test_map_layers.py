"""Unit tests of the map's building blocks: layer builders, styles, strings, vendored assets, the page."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from maps import assets, vendor
from maps.i18n import LANGUAGES, normalize_language, strings
from maps.layers import (
    BUILDING_POINTS_ZOOM,
    FULL_DETAIL_ZOOM,
    MAX_BUILDING_POINTS,
    BuildingPoints,
    UnitLayer,
    decimals_for_zoom,
    pixel_degrees,
    tolerance_for_zoom,
)
from maps.page import PageOptions, build_page
from maps.styles import (
    LOAD_CLASSES,
    NO_WORKERS,
    RESIDENTS_PER_WORKER_NORM,
    STATION_STYLES,
    load_class,
    residents_per_worker,
    style_config,
)

STATIC = Path(assets.STATIC_DIR)


# ---- a synthetic coverage with dense, shared, wiggly edges (like real boundaries) -----------------
def _wiggly_coverage(n: int = 6, seed: int = 3) -> np.ndarray:
    """An n x n coverage of a 0.06° square whose inner edges are shared polylines with many vertices."""
    rng = np.random.default_rng(seed)
    size, step = 0.06, 0.06 / n
    xs = np.linspace(0, size, n + 1)
    ys = np.linspace(0, size, n + 1)
    # Every inner grid line becomes a noisy polyline; cells use the same polylines on both sides.
    def vline(i: int) -> np.ndarray:
        y = np.linspace(0, size, 60)
        x = np.full_like(y, xs[i]) + (rng.normal(0, step * 0.05, y.size) if 0 < i < n else 0)
        return np.column_stack([x, y])

    def hline(j: int) -> np.ndarray:
        x = np.linspace(0, size, 60)
        y = np.full_like(x, ys[j]) + (rng.normal(0, step * 0.05, x.size) if 0 < j < n else 0)
        return np.column_stack([x, y])

    lines = [shapely.LineString(vline(i)) for i in range(n + 1)] + [shapely.LineString(hline(j)) for j in range(n + 1)]
    cells = shapely.get_parts(shapely.polygonize(shapely.node(shapely.MultiLineString(lines)).geoms))
    return np.asarray([shapely.MultiPolygon([c]) for c in cells], dtype=object)


def _layer(geoms: np.ndarray) -> UnitLayer:
    props = [{"code": f"52040200{i:04d}", "name": f"社区{i}", "name_en": f"Community {i}", "residents": 100 * i,
              "workers": i % 3} for i in range(len(geoms))]
    return UnitLayer("communities", props, np.asarray(geoms, dtype=object))


def test_zoom_parameters_shrink_with_zoom() -> None:
    tolerances = [tolerance_for_zoom(z) for z in range(6, FULL_DETAIL_ZOOM)]
    assert all(a > b for a, b in zip(tolerances, tolerances[1:], strict=False))  # type: ignore[operator]
    assert tolerance_for_zoom(FULL_DETAIL_ZOOM) is None
    for zoom in range(4, 21):
        assert 10 ** -decimals_for_zoom(zoom) <= pixel_degrees(zoom) / 4 or decimals_for_zoom(zoom) == 7


def test_coverage_simplification_keeps_neighbours_edge_matched() -> None:
    geoms = _wiggly_coverage()
    layer = _layer(geoms)
    original_vertices = int(shapely.get_num_coordinates(geoms).sum())
    for zoom in (10, 12, 14):
        simple = layer.geometries(zoom)
        assert int(shapely.get_num_coordinates(simple).sum()) < original_vertices
        assert shapely.is_valid(simple).all()
        # Still a coverage: no overlaps, no gaps — the union is the same square.
        assert shapely.coverage_is_valid(simple)
        union = shapely.coverage_union_all(simple)
        assert abs(union.area - shapely.union_all(geoms).area) < 1e-9
        assert shapely.get_num_interior_rings(shapely.get_parts(union)).sum() == 0
        overlap = sum(shapely.intersection(simple[i], simple[j]).area
                      for i in range(len(simple)) for j in range(i + 1, len(simple)))
        assert overlap < 1e-12
    full = layer.geometries(FULL_DETAIL_ZOOM)
    assert int(shapely.get_num_coordinates(full).sum()) == original_vertices
    assert layer.geometries(10, simplify=False) is not layer.geometries(10)


def test_a_unit_layer_answers_only_its_box_as_geojson() -> None:
    geoms = _wiggly_coverage(n=4)
    layer = _layer(geoms)
    query_box = (0.0, 0.0, 0.014, 0.014)  # the lower-left cell and its neighbours' edges
    data = json.loads(layer.query(query_box, 12))
    expected = {layer.properties[i]["code"] for i in range(len(geoms)) if geoms[i].intersects(box(*query_box))}
    assert {f["properties"]["code"] for f in data["features"]} == expected
    assert data["numberMatched"] == len(expected) and data["simplified"] is True
    decimals = decimals_for_zoom(12)
    for feature in data["features"]:
        assert feature["id"] == feature["properties"]["code"]
        coords = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
        assert np.allclose(coords, np.round(coords, decimals))
    everything = json.loads(layer.query(None, 12))
    assert everything["numberMatched"] == len(geoms)


def _buildings() -> BuildingPoints:
    rng = np.random.default_rng(1)
    n = 500
    return BuildingPoints(
        np.asarray([f"b{i}" for i in range(n)], dtype=object), np.asarray(["g"] * n, dtype=object),
        105.9 + rng.random(n) * 0.05, 26.2 + rng.random(n) * 0.05,
        rng.integers(1, 40, n), rng.integers(0, 120, n),
    )


def test_the_heat_grid_keeps_every_resident_in_the_box() -> None:
    b = _buildings()
    bbox = (105.91, 26.21, 105.94, 26.24)
    inside = b.mask(bbox)
    heat = json.loads(b.query(bbox, 12))
    assert heat["mode"] == "heat" and heat["numberMatched"] == int(inside.sum())
    points = heat["heat"]["points"]
    assert sum(p[2] for p in points) == int(b.residents[inside].sum()) == heat["heat"]["residents"]
    assert all(bbox[1] <= lat <= bbox[3] and bbox[0] <= lon <= bbox[2] for lat, lon, _ in points)
    # Cells are fixed on the globe: a shifted box bins the shared buildings the same way.
    cell = heat["heat"]["cell_deg"]
    assert cell == pytest.approx(4 * pixel_degrees(12))


def test_buildings_are_points_when_zoomed_in_and_few_enough() -> None:
    b = _buildings()
    bbox = (105.91, 26.21, 105.92, 26.22)
    data = json.loads(b.query(bbox, BUILDING_POINTS_ZOOM))
    assert data["mode"] == "points"
    codes = {f["properties"]["code"] for f in data["features"]}
    assert codes == set(b.codes[b.mask(bbox)])
    assert json.loads(b.query(bbox, BUILDING_POINTS_ZOOM - 1))["mode"] == "heat"
    body, count = b.features(None, 16)
    assert body is not None and count == 500 <= MAX_BUILDING_POINTS


def test_load_classes_follow_the_workers_norm() -> None:
    assert RESIDENTS_PER_WORKER_NORM == pytest.approx(10_000 / 18)
    assert residents_per_worker(5560, 10) == pytest.approx(556)
    assert residents_per_worker(100, 0) is None and residents_per_worker(100, None) is None
    assert load_class(None) is NO_WORKERS
    assert load_class(100).key == "load_light"
    assert load_class(555).key == "load_normal" and load_class(557).key == "load_near"
    # One vocabulary: 117.6 % of the norm is within the band for the balancer and for the map alike
    # (the map used to colour it "超出规范" while the balancer called it "达标").
    from geo.balance.load import flag_of
    from maps.i18n import strings

    rpw = 1.176 * RESIDENTS_PER_WORKER_NORM
    assert flag_of(1.176, rpw, 0.2) == "ok" and load_class(rpw).key == "load_near"
    assert "容差范围内" in strings("zh-CN")["load_near"] and strings("zh-CN")["flag_ok"] == "在容差范围内"
    assert load_class(1.21 * RESIDENTS_PER_WORKER_NORM).key == "load_over"
    assert load_class(0.79 * RESIDENTS_PER_WORKER_NORM).key == "load_light"
    assert load_class(10_000).key == "load_far_over"
    uppers = [c.upper for c in LOAD_CLASSES]
    assert uppers == sorted(uppers) and math.isinf(uppers[-1])
    config = json.loads(json.dumps(style_config()))  # JSON-safe (no inf/nan)
    assert config["loadClasses"][-1]["upper"] is None


def test_every_station_kind_has_a_symbol_and_names() -> None:
    from geo.domain import STATION_KINDS

    assert set(STATION_STYLES) == STATION_KINDS
    for lang in LANGUAGES:
        table = strings(lang)
        assert all(f"kind_{kind}" in table for kind in STATION_KINDS)


def test_both_languages_have_every_string_the_page_uses() -> None:
    zh, en = strings("zh-CN"), strings("en")
    assert set(zh) == set(en)
    source = "\n".join(p.read_text(encoding="utf-8") for p in STATIC.glob("*.js"))
    used = {key for key in re.findall(r'gg\.t\("([a-z0-9_]+)"', source) if not key.endswith("_")}  # not prefixes
    used |= {c.key for c in LOAD_CLASSES} | {NO_WORKERS.key}
    used |= {"grids_of", "communities_of", "legend_source_load", "legend_source_totals"}  # chosen by ternaries
    for prefix, values in {"layer_": ("subdistricts", "communities", "grids", "buildings", "stations"),
                           "status_": ("draft", "applied", "reverted"),
                           "load_flag_": ("over", "under", "ok"),
                           "dist_": ("mean", "median", "p90", "max"),
                           "role_": ("from", "to", "from_ancestor", "to_ancestor"),
                           "level_": ("subdistrict", "community", "grid"),
                           "unit_kind_": ("street", "town", "township", "urban", "village")}.items():
        used |= {prefix + v for v in values}
    assert used - set(zh) == set()
    assert normalize_language(None) == "zh-CN" and normalize_language("en-US") == "en"
    assert normalize_language("fr") == "zh-CN"


def test_the_vendored_assets_are_complete_and_unchanged() -> None:
    assert vendor.check() == []
    assert assets.folium_heat_script().is_file()
    for name in (*assets.APP_JS, *assets.APP_CSS, "favicon.svg"):
        assert (STATIC / name).is_file(), name


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_loads_nothing_from_elsewhere_and_holds_no_data(lang: str) -> None:
    html = build_page(PageOptions(lang=lang, extent=(105.6, 25.9, 106.3, 26.5), features=frozenset({"proposals"})))
    assert f'<html lang="{lang}">' in html
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links and all(link.startswith(("/map/static/", "?lang=")) for link in links), links
    assert "cdn" not in html.lower() and "jquery" not in html.lower() and "bootstrap" not in html.lower()
    for url in links:
        if url.startswith("/map/static/"):
            path = url.removeprefix("/map/static/").split("?")[0]
            assert path == "folium/leaflet_heat.min.js" or (STATIC / path).is_file(), path
    config = json.loads(re.search(r"gg\.init\((\{.*\})\);", html).group(1))  # type: ignore[union-attr]
    assert config["lang"] == lang and config["features"] == {"proposals": True}
    assert set(config["layers"]) >= {"subdistricts", "communities", "grids", "buildings", "stations", "rings",
                                     "proposals", "preview"}
    assert set(config["baseLayers"]) == {"blank", "osm", "amap"}
    assert len(html) < 60_000
    title = strings(lang)["title"]
    assert f"<title>{title}</title>" in html


def test_tianditu_appears_only_with_a_key() -> None:
    with_key = build_page(PageOptions(tianditu_key="k3y"))
    assert "tianditu.gov.cn" in with_key and "tk=k3y" in with_key
    assert "tianditu" in json.loads(re.search(r"gg\.init\((\{.*\})\);", with_key).group(1))["baseLayers"]  # type: ignore[union-attr]
    assert "tianditu.gov.cn" not in build_page(PageOptions())
    with pytest.raises(ValueError, match="language"):
        build_page(PageOptions(lang="fr"))
