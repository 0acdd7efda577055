"""The planner's map in a real browser: Debian's headless Chromium driven by Playwright, against a real server.

The server (uvicorn, in a thread) serves a copy of the Xixiu demo database. Every request the page makes
to another host is intercepted: the page must work with no network at all. Each step writes a screenshot
to ``test-output/map/``. Chromium missing is a failure, not a skip (``make test`` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
import uvicorn
from conftest import PLANNER_KEY, wait_js
from playwright.sync_api import Browser, Page, Route, sync_playwright

from api.app import create_app
from api.settings import ApiSettings
from geo.crs import wgs84_to_gcj02

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "map"
NANJIAO, LIDA = "520402006006", "520402006009"
STEP_TIMEOUT_MS = 15_000
# A 1x1 transparent PNG: stands in for base-map tiles where a test needs tiles to "load" offline.
PNG_1PX = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


# ---- server and browser ------------------------------------------------------------------------
def _bound_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running_server(database_url: str) -> Iterator[str]:
    """The gridgov API on a free 127.0.0.1 port (uvicorn in a thread), with the planner test key."""
    app = create_app(ApiSettings(database_url=database_url, api_keys={PLANNER_KEY: "planner"}))
    sock = _bound_socket()  # held from here on: no other process (an xdist worker) can take the port meanwhile
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the API server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does) or set GRIDGOV_CHROMIUM")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def demo_server(demo_spatialite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One read-mostly server on a copy of the SpatiaLite demo for the tests that do not write."""
    path = tmp_path_factory.mktemp("map-demo") / "demo.sqlite"
    shutil.copyfile(demo_spatialite_template, path)
    with running_server(f"sqlite:///{path}") as base:
        yield base


@dataclass
class MapPage:
    """A browser tab on the map with everything that went wrong or left the machine recorded."""

    page: Page
    base: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    transferred: list[int] = field(default_factory=lambda: [0])

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    def settle(self) -> None:
        """Wait until the page's debounced reloads have run and no API call is in flight."""
        self.page.evaluate("async (ms) => { const limit = new Promise((_, fail) => setTimeout(() =>"
                           " fail(new Error('the page did not settle in ' + ms + ' ms')), ms));"
                           " for (let i = 0; i < 2; i++) { await new Promise((r) => setTimeout(r, 250));"
                           " await Promise.race([gg.whenIdle(), limit]); } }", STEP_TIMEOUT_MS)

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.base + path, params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def view(self, lon: float, lat: float, zoom: int) -> None:
        """Centre the map on a WGS84 point (returns nothing: serialising Leaflet's map would take seconds)."""
        self.js("([lon, lat, zoom]) => { gg.map.setView(gg.ll(lon, lat), zoom); }", [lon, lat, zoom])
        self.settle()

    def fit(self, bbox: tuple[float, float, float, float]) -> None:
        self.js("(b) => { gg.map.fitBounds(gg.bounds(b), { animate: false }); }", list(bbox))
        self.settle()


def open_map(browser: Browser, base: str, path: str = "/map", *, viewport: tuple[int, int] = (1440, 900),
             on_external: Callable[[Route], None] | None = None) -> MapPage:
    """Open ``path`` and wait until the page says its first layers are drawn."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    tab = MapPage(page, base)

    def outside(route: Route) -> None:
        tab.external.append(route.request.url)
        if on_external is None:
            route.abort()
        else:
            on_external(route)

    context.route(lambda url: not url.startswith(base), outside)
    page.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: tab.failed.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: tab.failed.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.loadingFinished", lambda e: tab.transferred.__setitem__(0, tab.transferred[0] + int(
        e["encodedDataLength"])))
    page.goto(base + path)
    wait_js(page, "document.body.dataset.ready === '1'")
    tab.settle()
    return tab


def _lonlat_to_px(tab: MapPage, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a WGS84 point on the map."""
    point = tab.js("([lon, lat]) => { const p = gg.map.latLngToContainerPoint(gg.ll(lon, lat));"
                   " const r = gg.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }",
                   [lon, lat])
    return float(point[0]), float(point[1])


def _click_map(tab: MapPage, lon: float, lat: float) -> None:
    x, y = _lonlat_to_px(tab, lon, lat)
    tab.page.mouse.click(x, y)


def _label_point(tab: MapPage, code: str) -> tuple[float, float]:
    feature = tab.api("/map/search", q=code)["results"][0]
    assert feature["code"] == code
    layer = tab.api("/map/layers/communities", bbox=",".join(map(str, feature["bbox"])), zoom=14)
    props = next(f["properties"] for f in layer["features"] if f["properties"]["code"] == code)
    return props["label_point"][0], props["label_point"][1]


# ---- page load, layers, controls ---------------------------------------------------------------
def test_the_page_loads_offline_without_errors_and_light(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    tab.shot("01-district-view")
    assert tab.console_errors == []
    assert tab.failed == []
    assert tab.external == [], "the page asked for something outside the server (a CDN or tiles)"
    assert tab.transferred[0] < 3_000_000, f"first load transferred {tab.transferred[0]:,} bytes"
    # Time to interactive (target 2 s) is measured by bench/map_weight.py: a timing on a shared machine is no
    # test result. The page must only reach the mark.
    assert tab.js("performance.getEntriesByName('gg-interactive').length") == 1
    page = tab.page
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    control = page.locator(".leaflet-control-layers")
    for label in ("空白底图（离线）", "OpenStreetMap", "社区/村（按负荷着色）", "网格", "服务站点", "生活圈"):
        assert control.get_by_text(label, exact=True).count() == 1, label
    assert page.locator(".leaflet-control-scale").is_visible()
    assert page.locator(".leaflet-control-zoom-fullscreen, .leaflet-control-fullscreen a").count() >= 1
    assert page.locator(".leaflet-draw-draw-polygon").is_visible()
    legend = page.locator("#gg-legend")
    assert legend.is_visible() and "负荷比" in legend.inner_text() and "党群服务中心" in legend.inner_text()
    html = httpx.get(demo_server + "/map").text
    assert len(html) < 60_000 and "520402006006" not in html, "no data may be embedded in the page"


def test_layers_render_by_viewport(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    counts = tab.js("({sub: Object.keys(gg.features.subdistricts).length, com: Object.keys(gg.features.communities)"
                    ".length, st: Object.keys(gg.features.stations).length,"
                    " paths: document.querySelectorAll('.leaflet-map-pane svg path').length,"
                    " markers: document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').length})")
    assert counts["sub"] == 25 and counts["com"] == 550 and counts["st"] > 600
    assert counts["paths"] >= 575 and counts["markers"] > 20
    tab.page.locator(".leaflet-control-layers").get_by_text("楼栋（热力/点）").click()
    tab.settle()
    assert tab.js("gg.layers.buildingsHeat._latlngs.length") > 100
    assert tab.page.locator("canvas.leaflet-heatmap-layer").count() == 1
    tab.shot("02-buildings-heat")
    lon, lat = _label_point(tab, NANJIAO)
    tab.view(lon, lat, 16)
    zoomed = tab.js("({grids: Object.keys(gg.features.grids).length, buildings: Object.keys(gg.features.buildings)"
                    ".length, heat: gg.layers.buildingsHeat._latlngs.length})")
    assert zoomed["grids"] > 0 and zoomed["buildings"] > 0 and zoomed["heat"] == 0
    view = tab.js("gg.viewBbox(0)")
    inside = tab.api("/collections/buildings/items", bbox=",".join(f"{v:.6f}" for v in view), limit=1)
    assert zoomed["buildings"] >= inside["numberMatched"]  # the loaded box covers the view
    tab.shot("03-city-zoom-buildings-grids")
    assert tab.console_errors == [] and tab.failed == [] and tab.external == []


def test_search_zooms_to_nanjiao_and_shows_its_panel(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    page.locator("#gg-search-input").fill("南郊")
    option = page.locator("#gg-search-results li", has_text="南郊社区").first
    option.wait_for()
    tab.shot("04-search-results")
    option.click()
    page.locator(f"#gg-panel h2[data-code='{NANJIAO}']").wait_for()
    tab.settle()
    item = tab.api(f"/collections/communities/items/{NANJIAO}")
    minx, miny, maxx, maxy = shapely.geometry.shape(item["geometry"]).bounds
    assert tab.js("gg.map.getZoom()") >= 13
    view = tab.js("gg.viewBbox(0)")
    assert view[0] <= minx and view[1] <= miny and view[2] >= maxx and view[3] >= maxy
    panel = page.locator("#gg-panel")
    assert "南郊社区" in panel.inner_text()
    assert f"{item['properties']['residents']:,}" in panel.inner_text()
    load = float(panel.locator(".gg-load").get_attribute("data-load") or "nan")
    assert load == pytest.approx(item["properties"]["residents"] / item["properties"]["workers"])
    if tab.js("!!gg.config.features.load"):  # GET /load exists: its verdict is shown beside the load
        assert panel.locator(".gg-verdict").get_attribute("data-flag") == "over"
    page.locator("#gg-unit-children table").wait_for()
    grids = tab.api("/collections/grids/items", bbox=f"{minx},{miny},{maxx},{maxy}", limit=1000)["features"]
    own = [g for g in grids if g["properties"]["parent_code"] == NANJIAO]
    assert panel.locator("#gg-unit-children tr[data-code]").count() == len(own) > 0
    tab.shot("05-search-nanjiao-panel")
    assert tab.console_errors == [] and tab.failed == []


def test_a_click_shows_the_unit_under_it(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    lon, lat = _label_point(tab, NANJIAO)
    tab.view(lon, lat, 14)
    _click_map(tab, lon, lat)
    tab.page.locator(f"#gg-panel h2[data-code='{NANJIAO}']").wait_for()
    assert "华西街道" in tab.page.locator(".gg-crumbs").inner_text()
    tab.page.locator("#gg-unit-children .gg-stations").wait_for()
    tab.shot("06-click-unit-panel")
    assert tab.console_errors == [] and tab.failed == []


def test_nearest_station_tool_matches_the_api(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    lon, lat = _label_point(tab, NANJIAO)
    tab.view(lon, lat, 15)
    page = tab.page
    page.locator("#gg-k").fill("4")
    page.locator("#gg-tool-nearest").click()
    with page.expect_response(re.compile(r"/stations/nearest\?")) as answer:
        _click_map(tab, lon + 0.001, lat - 0.0005)
    asked = httpx.URL(answer.value.url).params
    page.locator(".gg-nearest li").first.wait_for()
    shown = page.locator(".gg-nearest li").evaluate_all(
        "items => items.map(li => [li.dataset.code, Number(li.dataset.distance)])")
    expected = tab.api("/stations/nearest", lon=asked["lon"], lat=asked["lat"], k=4)["features"]
    assert int(asked["k"]) == 4 and len(shown) == 4
    assert [c for c, _ in shown] == [f["properties"]["code"] for f in expected]
    assert [d for _, d in shown] == pytest.approx([f["properties"]["distance_m"] for f in expected])
    assert tab.js("gg.layers.nearest.getLayers().filter(l => l instanceof L.Polyline).length") == 4
    tab.shot("07-nearest-stations")
    assert tab.console_errors == [] and tab.failed == []


def test_a_station_shows_its_life_circles(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    station = tab.api("/stations/nearest", lon=105.9205, lat=26.2225, k=1)["features"][0]
    lon, lat = station["geometry"]["coordinates"]
    tab.view(lon, lat, 16)
    tab.page.locator(f".leaflet-marker-icon[title='{station['properties']['name']}']").first.click()
    tab.page.locator(f"#gg-panel h2[data-code='{station['properties']['code']}']").wait_for()
    radii = tab.js("gg.layers.rings.getLayers().filter(l => l instanceof L.Circle).map(l => l.getRadius())"
                   ".sort((a, b) => a - b)")
    assert radii == [300, 500, 1000]
    tab.view(lon, lat, 15)
    tab.shot("08-station-life-circles")
    assert tab.console_errors == [] and tab.failed == []


def test_english_switch_keeps_the_view(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    tab.view(105.94, 26.245, 13)
    hash_before = tab.js("location.hash")
    tab.page.locator("#gg-lang").click()
    tab.page.wait_for_url(re.compile(r"lang=en"))
    wait_js(tab.page, "document.body.dataset.ready === '1'")
    tab.settle()
    assert tab.page.locator("html").get_attribute("lang") == "en"
    assert tab.js("location.hash") == hash_before
    assert "Communities (coloured by load)" in tab.page.locator(".leaflet-control-layers").inner_text()
    assert "Party service centre" in tab.page.locator("#gg-legend").inner_text()
    tab.shot("09-english")
    assert tab.console_errors == [] and tab.failed == []


def test_tiles_that_cannot_load_fall_back_to_the_blank_map(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)  # every request to the internet is aborted: no network
    tab.page.locator(".leaflet-control-layers").get_by_text("OpenStreetMap").click()
    tab.page.locator(".gg-msg-error", has_text="底图瓦片无法加载").wait_for()
    assert tab.js("gg.map.hasLayer(gg.baseLayers.blank) && !gg.map.hasLayer(gg.baseLayers.osm)")
    assert tab.external and all("tile.openstreetmap.org" in url for url in tab.external)
    tab.shot("10-offline-fallback")
    tab.js("localStorage.clear()")


def test_amap_tiles_shift_the_data_to_gcj02(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server, on_external=lambda r: r.fulfill(body=PNG_1PX, content_type="image/png"))
    tab.page.locator(".leaflet-control-layers").get_by_text("高德地图（GCJ-02）").click()
    tab.settle()
    assert tab.js("gg.state.gcj") is True
    feature, shown = tab.js(
        "(code) => { const f = gg.features.communities[code]; let ll = null;"
        " gg.layers.communities.eachLayer(g => g.eachLayer && g.eachLayer(l => {"
        " if (l.feature && l.feature.properties.code === code) ll = l.getLatLngs().flat(3)[0]; }));"
        " return [f.geometry.coordinates[0][0][0], [ll.lng, ll.lat]]; }", NANJIAO)
    lon, lat = wgs84_to_gcj02(feature[0], feature[1])
    assert shown == pytest.approx([float(lon), float(lat)], abs=1e-9)
    back = tab.js("([lon, lat]) => gg.gcj.toWgs(lon, lat)", [float(lon), float(lat)])
    assert back == pytest.approx(feature, abs=1e-9)
    tab.shot("11-amap-gcj02")
    assert all("autonavi.com" in url for url in tab.external)
    tab.js("localStorage.clear()")


def test_tablet_layout(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server, viewport=(820, 1180))
    tab.page.locator("#gg-search-input").fill("南郊社区")
    tab.page.locator("#gg-search-input").press("Enter")
    tab.page.locator(f"#gg-panel h2[data-code='{NANJIAO}']").wait_for()
    tab.settle()
    box = tab.page.locator("#gg-panel").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 1180 and box["width"] <= 820
    tab.shot("12-tablet")
    assert tab.console_errors == [] and tab.failed == []


# ---- the planner's workflow --------------------------------------------------------------------
def test_picking_grids_previews_exactly_their_residents(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    lida = shapely.geometry.shape(tab.api(f"/collections/communities/items/{LIDA}")["geometry"])
    nanjiao = tab.api(f"/collections/communities/items/{NANJIAO}")
    box = shapely.geometry.shape(nanjiao["geometry"]).bounds
    grids = tab.api("/collections/grids/items", bbox=",".join(map(str, box)), limit=1000)["features"]
    touching = [g for g in grids if g["properties"]["parent_code"] == NANJIAO
                and shapely.geometry.shape(g["geometry"]).intersection(lida).length > 0][:2]
    assert len(touching) == 2
    tab.fit(box)
    page.locator("#gg-tool-grids").click()
    for grid in touching:
        inside = shapely.point_on_surface(shapely.geometry.shape(grid["geometry"]))
        _click_map(tab, inside.x, inside.y)
        page.locator(f".gg-chips li[data-code='{grid['properties']['code']}']").wait_for()
    other = shapely.point_on_surface(lida)
    _click_map(tab, other.x, other.y)  # a grid of another community: refused in words
    page.locator(".gg-msg-error", has_text="不属于").wait_for()
    assert page.locator(".gg-chips li").count() == 2
    page.locator("#gg-to").select_option(LIDA)
    page.locator("#gg-author").fill("测试规划员")
    page.locator("#gg-key").fill(PLANNER_KEY)
    tab.shot("13-picked-grids")
    page.locator("#gg-preview").click()
    page.locator("#gg-panel h2[data-proposal]").wait_for()
    proposal = tab.api(f"/proposals/{page.locator('#gg-panel h2[data-proposal]').get_attribute('data-proposal')}")
    assert proposal["proposal"]["child_codes"] == [g["properties"]["code"] for g in touching]
    assert proposal["preview"]["moved"]["residents"] == sum(g["properties"]["residents"] for g in touching)
    tab.settle()
    if tab.js("!!gg.config.features.impact"):  # the impact report's summary joins the preview once it exists
        moved = proposal["preview"]["moved"]["residents"]
        assert f"{moved:,}" in page.locator("#gg-impact .gg-headline").inner_text()
    tab.shot("14-picked-grids-preview")
    page.locator("#gg-discard").click()
    assert tab.js("gg.layers.preview.getLayers().length") == 0
    assert tab.console_errors == [] and tab.failed == [], (tab.console_errors, tab.failed)



def _draw_polygon(tab: MapPage, ring: list[tuple[float, float]], start: str = ".leaflet-draw-draw-polygon") -> None:
    """Press ``start`` (the draw toolbar's polygon tool, or a button that starts it), click ``ring``, finish."""
    tab.page.locator(start).click()
    for lon, lat in ring:
        x, y = _lonlat_to_px(tab, lon, lat)
        tab.page.mouse.move(x, y)
        tab.page.mouse.click(x, y)
        tab.page.wait_for_timeout(80)
    tab.page.locator(".leaflet-draw-actions a", has_text="完成").click()


def _said(tab: MapPage, kind: str, text: str) -> int:
    """How many messages of ``kind`` containing ``text`` the page has shown (toasts fade; the record stays)."""
    return int(tab.js("([kind, text]) => gg.messages.filter(m => m.kind === kind && m.text.includes(text)).length",
                      [kind, text]))


def _layer_residents(tab: MapPage, code: str) -> int:
    return int(tab.js(f"gg.features.communities['{code}'].properties.residents"))


def test_draw_preview_apply_refresh_revert(browser: Browser, demo_db_url: str) -> None:
    with running_server(demo_db_url) as base:
        tab = open_map(browser, base)
        page = tab.page
        nanjiao = shapely.geometry.shape(tab.api(f"/collections/communities/items/{NANJIAO}")["geometry"])
        lida = shapely.geometry.shape(tab.api(f"/collections/communities/items/{LIDA}")["geometry"])
        # Draw over the part of Nanjiao along Lida: a rectangle around their shared edge (its Lida half is ignored).
        shared = nanjiao.boundary.intersection(lida.boundary)
        rect = shapely.minimum_rotated_rectangle(shared.buffer(0.004))
        ring = list(rect.exterior.coords)[:-1]
        tab.fit(rect.buffer(0.004).bounds)
        before = {NANJIAO: _layer_residents(tab, NANJIAO), LIDA: _layer_residents(tab, LIDA)}
        _draw_polygon(tab, ring)
        page.locator("#gg-draft").wait_for()
        page.locator("#gg-from").select_option(NANJIAO)
        page.locator("#gg-to").select_option(LIDA)
        page.locator("#gg-docref").fill("西华办〔2025〕7号")
        page.locator("#gg-author").fill("测试规划员")
        tab.shot("20-drawn-form")

        # Without a key the API refuses, and the page says so in words.
        page.locator("#gg-key").fill("")
        page.locator("#gg-preview").click()
        error = page.locator("#gg-draft-error")
        error.wait_for()
        assert "API 密钥" in error.inner_text() and "401" in error.inner_text()  # in Chinese: no English leaks
        tab.shot("21-error-in-words")

        page.locator("#gg-key").fill(PLANNER_KEY)
        page.locator("#gg-preview").click()
        heading = page.locator("#gg-panel h2[data-proposal]")
        heading.wait_for()
        proposal_id = int(heading.get_attribute("data-proposal") or 0)
        preview = tab.api(f"/proposals/{proposal_id}")["preview"]
        moved = preview["moved"]["residents"]
        assert moved > 0
        assert f"{moved:,}" in page.locator("#gg-panel").inner_text()
        # territory + after-geometries (+ the grids re-coded under Lida, retired under their old codes)
        assert tab.js("gg.layers.preview.getLayers().length") == 2 + (1 if preview["recoded"] else 0)
        tab.settle()
        assert tab.js("gg.layers.proposals.getLayers().length") == 1  # the new draft is a pending proposal
        tab.shot("22-preview")

        page.locator("#gg-apply").click()
        page.locator(f"tr[data-id='{proposal_id}'][data-status='applied']").wait_for()
        tab.settle()
        assert _said(tab, "success", f"#{proposal_id}") == 1
        after = {NANJIAO: _layer_residents(tab, NANJIAO), LIDA: _layer_residents(tab, LIDA)}
        assert after[NANJIAO] == before[NANJIAO] - moved and after[LIDA] == before[LIDA] + moved
        assert after[NANJIAO] == tab.api(f"/collections/communities/items/{NANJIAO}")["properties"]["residents"]
        assert tab.js("gg.layers.preview.getLayers().length") == 0
        assert tab.js("gg.layers.proposals.getLayers().length") == 0  # applied: no longer pending
        tab.shot("23-applied-refreshed")

        # The as-of control redraws the map as it was the day before the change.
        effective = tab.api(f"/proposals/{proposal_id}")["proposal"]["effective_date"]
        day_before = (__import__("datetime").date.fromisoformat(effective) - __import__("datetime").timedelta(1))
        page.locator("#gg-asof").fill(day_before.isoformat())
        page.locator("#gg-asof").dispatch_event("change")
        tab.settle()
        assert _layer_residents(tab, NANJIAO) == before[NANJIAO]
        tab.shot("24-as-of-day-before")
        page.locator("#gg-asof").fill(effective)
        page.locator("#gg-asof").dispatch_event("change")
        tab.settle()
        assert _layer_residents(tab, NANJIAO) == after[NANJIAO]

        page.locator("#gg-tool-proposals").click()
        revert = page.locator(f"tr[data-id='{proposal_id}'] button[data-act='revert']")
        revert.click()
        revert.click()  # the second click confirms
        page.locator(f"tr[data-id='{proposal_id}'][data-status='reverted']").wait_for()
        tab.settle()
        assert _said(tab, "success", f"#{proposal_id}") == 2
        assert {c: _layer_residents(tab, c) for c in before} == before
        tab.shot("25-reverted")
        listed = tab.api("/proposals")["proposals"]
        assert json.dumps([p["status"] for p in listed if p["id"] == proposal_id]) == '["reverted"]'
        unexpected = [f for f in tab.failed if "401" not in f]
        assert tab.external == [] and unexpected == [] and all("401" in e for e in tab.console_errors)


def _nanjiao_grids(tab: MapPage) -> list[dict[str, Any]]:
    box = shapely.geometry.shape(tab.api(f"/collections/communities/items/{NANJIAO}")["geometry"]).bounds
    grids = tab.api("/collections/grids/items", bbox=",".join(map(str, box)), limit=1000)["features"]
    return [g for g in grids if g["properties"]["parent_code"] == NANJIAO]


def test_split_and_merge_drafts_preview_apply_and_revert(browser: Browser, demo_db_url: str) -> None:
    with running_server(demo_db_url) as base:
        tab = open_map(browser, base)
        page = tab.page
        grids = _nanjiao_grids(tab)
        shapes = {g["properties"]["code"]: shapely.geometry.shape(g["geometry"]) for g in grids}
        pair = next((a, b) for a in sorted(shapes) for b in sorted(shapes) if a < b
                    and shapes[a].boundary.intersection(shapes[b].boundary).length > 0.001)
        cut = next(c for c in sorted(shapes) if c not in pair)
        minx, miny, maxx, maxy = shapes[cut].bounds
        part = shapes[cut].intersection(shapely.box(minx, miny, (minx + maxx) / 2, maxy))
        split = httpx.post(base + "/proposals", headers={"X-API-Key": PLANNER_KEY}, timeout=60, json={
            "kind": "split", "from_code": cut, "parts": [shapely.geometry.mapping(part)],
            "effective_date": "2025-03-01", "author": "测试规划员"})
        assert split.status_code == 201, split.text
        split_id, new_code = split.json()["proposal"]["id"], split.json()["preview"]["created"][0]

        # The list says what the split does: its kind and "into 2 grids", not "from → null".
        page.locator("#gg-tool-proposals").click()
        row = page.locator(f"tr[data-id='{split_id}']")
        row.wait_for()
        assert row.locator("[data-kind='split']").inner_text() == "拆分"
        assert "拆分为 2 个网格" in row.inner_text() and "null" not in row.inner_text()
        row.locator("button[data-act='preview']").click()
        page.locator(f"#gg-panel h2[data-proposal='{split_id}'][data-kind='split']").wait_for()
        assert page.locator(f"#gg-panel th[data-role='new'][data-code='{new_code}']").inner_text().endswith("新设")
        assert "被拆分" in page.locator(f"#gg-panel th[data-role='from'][data-code='{cut}']").inner_text()
        created = tab.js("gg.layers.preview.getLayers().flatMap(g => g.getLayers ? g.getLayers() : [])"
                         ".filter(l => l.feature && l.feature.properties.change === 'created')"
                         ".map(l => [l.feature.properties.code, l.options.color])")
        assert created == [[new_code, "#1b7837"]]  # drawn in the style of a new unit
        tab.settle()
        if tab.js("!!gg.config.features.impact"):
            assert "拆分为2个网格" in page.locator("#gg-impact .gg-headline").inner_text()
        tab.shot("30-split-preview")
        page.locator("#gg-key").fill(PLANNER_KEY)
        page.locator("#gg-apply").click()
        page.locator(f"tr[data-id='{split_id}'][data-status='applied']").wait_for()
        tab.settle()
        assert tab.api(f"/collections/grids/items/{new_code}")["properties"]["parent_code"] == NANJIAO

        # A merge made on the map: pick two adjacent grids, merge them into the first picked.
        keep, gone = pair
        tab.fit(shapely.union_all([shapes[keep], shapes[gone]]).buffer(0.003).bounds)
        page.locator("#gg-tool-grids").click()
        for code in pair:
            inside = shapely.point_on_surface(shapes[code])
            _click_map(tab, inside.x, inside.y)
            page.locator(f".gg-chips li[data-code='{code}']").wait_for()
        page.locator("#gg-author").fill("测试规划员")
        page.locator("#gg-key").fill(PLANNER_KEY)
        merge_button = page.locator("#gg-merge")
        assert merge_button.get_attribute("data-to") == keep
        merge_button.click()
        heading = page.locator("#gg-panel h2[data-proposal][data-kind='merge']")
        heading.wait_for()
        merge_id = int(heading.get_attribute("data-proposal") or 0)
        proposal = tab.api(f"/proposals/{merge_id}")
        assert proposal["proposal"]["merge_codes"] == [gone] and proposal["proposal"]["to_code"] == keep
        assert page.locator(f"#gg-panel th[data-role='retired'][data-code='{gone}']").inner_text().endswith("撤并")
        assert "并入" in page.locator("#gg-panel .gg-what").inner_text()
        retired = tab.js("gg.layers.preview.getLayers().flatMap(g => g.getLayers ? g.getLayers() : [])"
                         ".filter(l => l.feature && l.feature.properties.change === 'retired')"
                         ".map(l => [l.feature.properties.code, l.options.dashArray])")
        assert retired == [[gone, "2 6"]]
        tab.settle()
        tab.shot("31-merge-preview")
        page.locator("#gg-apply").click()
        page.locator(f"tr[data-id='{merge_id}'][data-status='applied']").wait_for()
        tab.settle()
        assert httpx.get(f"{base}/collections/grids/items/{gone}", timeout=30).status_code == 404
        merged = tab.api(f"/collections/grids/items/{keep}")["properties"]
        expected = sum(g["properties"]["residents"] for g in grids if g["properties"]["code"] in pair)
        assert merged["residents"] == expected
        assert "合并" in page.locator(f"tr[data-id='{merge_id}'] [data-kind='merge']").inner_text()

        revert = page.locator(f"tr[data-id='{merge_id}'] button[data-act='revert']")
        revert.click()
        revert.click()
        page.locator(f"tr[data-id='{merge_id}'][data-status='reverted']").wait_for()
        tab.settle()
        assert tab.api(f"/collections/grids/items/{gone}")["properties"]["residents"] == next(
            g["properties"]["residents"] for g in grids if g["properties"]["code"] == gone)
        tab.shot("32-merge-reverted")
        unexpected = [f for f in tab.failed if "/collections/grids/items/" not in f]
        assert tab.external == [] and unexpected == [] and tab.console_errors == []


# ---- balancing, grid sizes and splits on the tiny dataset ----------------------------------------
# Under 500 workers per 10,000 residents the west communities of the tiny dataset are overloaded and the east
# ones underloaded; only moves across the sub-district line help (see tests/test_balance_api.py).
TINY_NORM = 500.0
TINY_WEST, TINY_EAST = "520499001", "520499002"


def _load_rows(tab: MapPage) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in tab.api("/load")["rows"]}


def test_balancing_panel_suggests_drafts_applies_them_and_sizes_grids(browser: Browser, tiny_db_url: str) -> None:
    with running_server(tiny_db_url) as base:
        tab = open_map(browser, base)
        page = tab.page
        before = _load_rows(tab)
        page.locator("#gg-tool-balance").click()
        page.locator("#gg-balance").wait_for()
        assert page.locator("#gg-bal-tol").input_value() == "20"
        page.locator("#gg-balance summary").click()
        page.locator("#gg-bal-norm").fill(str(TINY_NORM))
        page.locator("#gg-key").fill(PLANNER_KEY)

        # An impossible requirement: the API's 422 message, in the panel, and nothing else breaks.
        page.locator("#gg-bal-sub").select_option(TINY_EAST)
        page.locator("#gg-bal-required").fill("520499002001")
        page.locator("#gg-suggest").click()
        error = page.locator("#gg-balance-error")
        error.wait_for()
        # in Chinese: the API's message_zh when it sends one, else the field named in words (no English)
        assert "必须达标的社区" in error.inner_text() and "HTTP 422" in error.inner_text()
        assert page.locator(".gg-moves li").count() == 0
        tab.shot("40-balance-infeasible")

        page.locator("#gg-bal-required").fill("")
        page.locator("#gg-bal-sub").select_option("")  # every sub-district
        page.locator("#gg-bal-cross").check()
        with page.expect_response(re.compile(r"/balance$")) as answer:
            page.locator("#gg-suggest").click()
        result = answer.value.json()
        assert answer.value.request.post_data_json["tolerance"] == pytest.approx(0.2)
        moves = page.locator(".gg-moves li")
        moves.first.wait_for()
        assert error.is_hidden()
        ids = [m["proposal_id"] for m in result["moves"]]
        assert len(ids) == 2 and all(ids)
        assert moves.evaluate_all("items => items.map(li => Number(li.dataset.proposal))") == ids
        first = result["moves"][0]
        assert f"{first['from_name']} → {first['to_name']}" in moves.first.inner_text()
        assert f"{first['residents']:,}" in moves.first.inner_text()
        assert page.locator(".gg-solver").get_attribute("data-status") == "optimal"
        assert "0 → 2" in page.locator(".gg-within").inner_text()  # within tolerance before → after
        moves.first.hover()  # its grids light up on the map
        wait_js(page, "gg.layers.selection.getLayers().length > 0")
        lit = tab.js("gg.layers.selection.getLayers().flatMap(g => g.getLayers()).map(l => l.feature.properties.code)")
        assert lit == first["grid_codes"]
        tab.shot("41-balance-moves")

        # The drafts are in the proposals list; the balancing answer is still there when the panel reopens.
        page.locator("#gg-open-proposals").click()
        for pid in ids:
            page.locator(f"tr[data-id='{pid}'][data-status='draft']").wait_for()
        tab.settle()
        assert tab.js("gg.layers.proposals.getLayers().length") >= 1
        page.locator("#gg-tool-balance").click()
        apply = page.locator("#gg-apply-all")
        apply.click()
        assert "确认" in apply.inner_text()
        tab.settle()
        assert tab.api(f"/proposals/{ids[0]}")["proposal"]["status"] == "draft"  # the first click only asks
        apply.click()
        page.locator(".gg-moves li[data-status='applied']").first.wait_for()
        tab.settle()
        assert _said(tab, "success", "2") == 1
        after = _load_rows(tab)
        for row in result["communities"]:
            assert after[row["code"]]["residents"] == row["residents_after"] != before[row["code"]]["residents"]
        assert tab.js(f"gg.features.communities['{first['to_code']}'].properties.residents") == next(
            r["residents_after"] for r in result["communities"] if r["code"] == first["to_code"])
        tab.shot("42-balance-applied")

        # Grid sizes: every grid of the east sub-district is above a 20–40 household band; split them as drafts.
        page.locator("#gg-bal-sub").select_option(TINY_EAST)
        page.locator("#gg-bal-min").fill("20")
        page.locator("#gg-bal-max").fill("40")
        with page.expect_response(re.compile(r"/grid-splits$")) as answer:
            page.locator("#gg-grid-sizes").click()
        plan = answer.value.json()
        splits = page.locator(".gg-splits li")
        splits.first.wait_for()
        assert splits.count() == len(plan["splits"]) == plan["grids"] == 6  # 4 grids and the 2 received
        parts = sum(len(s["parts"]) for s in plan["splits"])
        assert tab.js("gg.layers.preview.getLayers().flatMap(g => g.getLayers()).length") == parts
        with page.expect_response(re.compile(r"/grid-splits/drafts$")) as stored:
            page.locator("#gg-store-drafts").click()
        drafted = [s["proposal_id"] for s in stored.value.json()["splits"]]
        page.locator(f".gg-splits li[data-proposal='{drafted[0]}']").wait_for()
        listed = {p["id"]: p for p in tab.api("/proposals")["proposals"]}
        assert all(listed[pid]["kind"] == "split" and listed[pid]["status"] == "draft" for pid in drafted)
        tab.shot("43-grid-sizes")
        assert tab.external == [] and [f for f in tab.failed if "422" not in f] == []
        assert len(tab.console_errors) == 1 and "422" in tab.console_errors[0]  # the refused request, nothing else

        # The English page has the same panel, in English.
        english = open_map(browser, base, "/map?lang=en")
        english.page.locator("#gg-tool-balance").click()
        assert english.page.locator("#gg-suggest").inner_text() == "Suggest moves"
        assert english.page.locator("#gg-grid-sizes").inner_text() == "Grid sizes"
        assert english.console_errors == []


def test_split_a_grid_by_drawing_its_parts(browser: Browser, tiny_db_url: str) -> None:
    with running_server(tiny_db_url) as base:
        tab = open_map(browser, base)
        page = tab.page
        code = "520499001001001"
        minx, miny, maxx, maxy = shapely.geometry.shape(tab.api(f"/collections/grids/items/{code}")["geometry"]).bounds

        def at(fx: float, fy: float) -> tuple[float, float]:
            return minx + fx * (maxx - minx), miny + fy * (maxy - miny)

        # The grid's east edge at the centre of the map: the layer list (top right) stays off the drawing.
        tab.fit((minx - 0.004, miny - 0.003, maxx + 0.014, maxy + 0.003))
        page.locator("#gg-tool-grids").click()
        _click_map(tab, *at(0.3, 0.5))
        page.locator(f".gg-chips li[data-code='{code}']").wait_for()
        page.locator("#gg-split").click()
        page.locator(f"#gg-panel h2[data-split='{code}']").wait_for()
        assert tab.js("gg.state.tool") is None  # clicks now draw, they no longer pick grids
        # Split zooms to the grid (animated); draw only once the map has settled, in the same frame as before.
        wait_js(page, "!gg.map._animatingZoom && !(gg.map._panAnim && gg.map._panAnim._inProgress)")
        tab.fit((minx - 0.004, miny - 0.003, maxx + 0.014, maxy + 0.003))
        tab.settle()
        # The east strip around the grid's fifth building (at 0.83, 0.7 of the grid), then a part overlapping it.
        _draw_polygon(tab, [at(0.75, 0.2), at(0.95, 0.2), at(0.95, 0.9), at(0.75, 0.9)], start="#gg-split-draw")
        page.locator(".gg-parts li[data-part='1']").wait_for()
        _draw_polygon(tab, [at(0.6, 0.5), at(0.85, 0.5), at(0.85, 0.95), at(0.6, 0.95)])
        page.locator(".gg-parts li[data-part='2']").wait_for()
        page.locator("#gg-author").fill("测试规划员")
        page.locator("#gg-key").fill(PLANNER_KEY)
        page.locator("#gg-preview").click()
        error = page.locator("#gg-draft-error")
        error.wait_for()
        assert "part 2 overlaps an earlier part" in error.inner_text() and "422" in error.inner_text()
        tab.shot("44-split-overlap-refused")

        page.locator(".gg-parts li[data-part='2'] button[data-remove]").click()
        assert page.locator(".gg-parts li").count() == 1
        page.locator("#gg-preview").click()
        heading = page.locator("#gg-panel h2[data-proposal][data-kind='split']")
        heading.wait_for()
        proposal = tab.api(f"/proposals/{heading.get_attribute('data-proposal')}")
        assert proposal["proposal"]["from_code"] == code and proposal["proposal"]["status"] == "draft"
        [new_code] = proposal["preview"]["created"]
        new_grid = next(u for u in proposal["preview"]["units"] if u["code"] == new_code)
        assert new_grid["after"]["residents"] == 25 + 3 * 4 + 1  # the fifth building only
        cell = page.locator(f"#gg-panel th[data-role='new'][data-code='{new_code}']")
        assert new_grid["name"] in cell.inner_text() and cell.inner_text().endswith("新设")
        assert tab.js("gg.layers.drawn.getLayers().length") == 0
        tab.settle()
        tab.shot("45-split-preview")
        assert tab.external == [] and [f for f in tab.failed if "422" not in f] == []
        assert len(tab.console_errors) == 1 and "422" in tab.console_errors[0]  # the refused request, nothing else


def test_a_stale_draft_is_recomputed_from_its_preview(browser: Browser, tiny_db_url: str) -> None:
    c11, c12 = "520499001001", "520499001002"
    with running_server(tiny_db_url) as base:
        def draft(body: dict[str, Any]) -> int:
            made = httpx.post(base + "/proposals", headers={"X-API-Key": PLANNER_KEY}, timeout=60,
                              json={"effective_date": "2025-03-01", "author": "测试规划员", **body})
            assert made.status_code == 201, made.text
            return made.json()["proposal"]["id"]

        first = draft({"from_code": c11, "to_code": c12, "child_codes": ["520499001001002"]})
        second = draft({"from_code": c12, "to_code": c11, "child_codes": ["520499001002001"]})
        applied = httpx.post(f"{base}/proposals/{first}/apply", headers={"X-API-Key": PLANNER_KEY}, timeout=60,
                             json={"author": "测试规划员"})
        assert applied.status_code == 200, applied.text
        tab = open_map(browser, base)
        page = tab.page
        page.locator("#gg-tool-proposals").click()
        page.locator(f"tr[data-id='{second}'] button[data-act='preview']").click()
        page.locator(f"#gg-panel h2[data-proposal='{second}']").wait_for()
        assert "相关单位已变更" in page.locator("#gg-panel .gg-error").first.inner_text()
        page.locator("#gg-key").fill(PLANNER_KEY)
        page.locator("#gg-rebase").click()
        page.locator("#gg-panel #gg-apply").wait_for()
        wait_js(page, "!document.querySelector('#gg-rebase')")  # no longer stale
        page.locator("#gg-apply").click()
        page.locator(f"tr[data-id='{second}'][data-status='applied']").wait_for()
        moved = tab.api("/units/520499001002001/history")["current_code"]  # moved whole: re-coded under c11
        assert moved.startswith(c11)
        assert tab.api(f"/collections/grids/items/{moved}")["properties"]["parent_code"] == c11
