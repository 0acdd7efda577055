# ruff: noqa: F811 - the fixtures browser and demo_server are imported from test_map_browser and named as arguments
"""The planner's map on real screens (1440×900, 1440×757, 1024×768 with touch) in Debian's headless Chromium.

Live what-if counter, brush and undo/redo, report links, nothing the planner must click covered by
anything else, Chinese without English leaks, toasts, the address bar keeping date and panel, search by
address, the nearest-station tool. Screenshots of each key state go to ``test-output/map/screens/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely
from conftest import PLANNER_KEY, wait_js
from playwright.sync_api import Browser
from test_map_browser import (  # noqa: F401 - browser and demo_server are fixtures used here
    LIDA,
    NANJIAO,
    MapPage,
    _click_map,
    _label_point,
    _lonlat_to_px,
    browser,
    demo_server,
    open_map,
    running_server,
)

SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "map" / "screens"
SCREENS = {"1440x900": (1440, 900), "1440x757": (1440, 757), "1024x768": (1024, 768)}
# Every control the planner must be able to click (when shown), by CSS selector.
TOOLS = [
    ".leaflet-control-zoom-in", ".leaflet-control-zoom-out", ".leaflet-draw-draw-polygon",
    ".leaflet-draw-draw-rectangle", ".leaflet-draw-edit-remove", ".leaflet-control-zoom-fullscreen",
    ".leaflet-control-layers-toggle", ".leaflet-control-layers-expanded label", ".gg-legend-toggle",
    "#gg-search-input", "#gg-asof", "#gg-tool-nearest", "#gg-k", "#gg-tool-grids", "#gg-tool-brush",
    "#gg-tool-proposals", "#gg-tool-balance", "#gg-lang", "#gg-panel-close",
]


def shot(tab: MapPage, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_screen(browser: Browser, base: str, screen: str, path: str = "/map") -> MapPage:
    """The map at one of the three screens; the small one is a touch screen."""
    width, height = SCREENS[screen]
    if width >= 1100:
        return open_map(browser, base, path, viewport=(width, height))
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    tab = MapPage(page, base)
    context.route(lambda url: not url.startswith(base), lambda route: (tab.external.append(route.request.url),
                                                                       route.abort()))
    page.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.console_errors.append(f"uncaught: {e}"))
    page.on("response", lambda r: tab.failed.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    page.goto(base + path)
    wait_js(page, "document.body.dataset.ready === '1'")
    tab.settle()
    return tab


def covered(tab: MapPage) -> list[str]:
    """Controls whose centre is covered by another element (``elementFromPoint`` is not the control)."""
    return list(tab.js("""(selectors) => {
        const out = [];
        selectors.forEach((sel) => document.querySelectorAll(sel).forEach((el) => {
          const r = el.getBoundingClientRect();
          const style = getComputedStyle(el);
          if (!r.width || !r.height || style.visibility === 'hidden' || el.closest('[hidden]')) return;
          const x = r.left + r.width / 2, y = r.top + r.height / 2;
          if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) { out.push(sel + ' off screen'); return; }
          const top = document.elementFromPoint(x, y);
          const mine = top && (el === top || el.contains(top) || (el.labels && [...el.labels].includes(top)));
          if (!mine)
            out.push(sel + ' under ' + (top ? top.tagName + '#' + top.id + '.' + top.className : 'nothing'));
        }));
        return out; }""", TOOLS))


def grid_points(tab: MapPage, community: str, n: int) -> list[tuple[float, float, str]]:
    """Screen points inside the first ``n`` grids of ``community`` on the map (from the layer's label points)."""
    return [tuple(p) for p in tab.js("""([community, n]) => {
        const r = gg.map.getContainer().getBoundingClientRect();
        const g = gg.features.grids;
        return Object.keys(g).filter((c) => g[c].properties.parent_code === community).sort().slice(0, n).map((c) => {
          const lp = g[c].properties.label_point; const p = gg.map.latLngToContainerPoint(gg.ll(lp[0], lp[1]));
          return [r.left + p.x, r.top + p.y, c]; }); }""", [community, n])]


def brush(tab: MapPage, points: list[tuple[float, float, str]]) -> None:
    """One stroke of the brush through ``points`` (mouse: press, move, release)."""
    mouse = tab.page.mouse
    mouse.move(points[0][0], points[0][1])
    mouse.down()
    for x, y, _ in points[1:]:
        mouse.move(x, y, steps=10)
    mouse.up()


def picked(tab: MapPage) -> list[str]:
    return list(tab.js("gg.draft && gg.draft.grids ? Array.from(gg.draft.grids.keys()) : []"))


def whatif(tab: MapPage) -> dict[str, Any]:
    return dict(tab.js("Object.assign({}, document.getElementById('gg-whatif').dataset)"))


def nanjiao_view(tab: MapPage, zoom: int = 15) -> None:
    lon, lat = _label_point(tab, NANJIAO)
    tab.view(lon, lat, zoom)


# ---- live what-if, brush, undo/redo ------------------------------------------------------------
@pytest.mark.parametrize("screen", list(SCREENS))
def test_brush_updates_the_live_counter_without_storing_anything(browser: Browser, demo_server: str,
                                                                 screen: str) -> None:
    tab = open_screen(browser, demo_server, screen)
    page = tab.page
    stored = len(tab.api("/proposals")["proposals"])
    nanjiao = tab.api(f"/collections/communities/items/{NANJIAO}")["properties"]
    lida = tab.api(f"/collections/communities/items/{LIDA}")["properties"]
    nanjiao_view(tab)
    page.locator("#gg-tool-brush").click()
    points = grid_points(tab, NANJIAO, 3)
    assert len(points) == 3
    brush(tab, points[:2])
    assert picked(tab) == [points[0][2], points[1][2]]
    brush(tab, points[2:])
    codes = [p[2] for p in points]
    assert picked(tab) == codes
    chips = page.locator(".gg-chips li").evaluate_all("items => items.map((li) => li.dataset.code)")
    assert chips == codes  # the panel lists each picked grid once
    grids = [tab.api(f"/collections/grids/items/{c}")["properties"] for c in codes]
    moved = sum(g["residents"] for g in grids)
    counter = whatif(tab)
    assert counter["source"] == "client" and int(counter["moved"]) == moved
    assert int(counter["residentsFrom"]) == nanjiao["residents"] - moved and counter["residentsTo"] == ""
    page.locator("#gg-to").select_option(LIDA)
    counter = whatif(tab)  # computed here, at once
    assert int(counter["residentsTo"]) == lida["residents"] + moved
    text = page.locator("#gg-whatif").inner_text()
    load_after = (nanjiao["residents"] - moved) / nanjiao["workers"]
    assert f"{round(load_after):,}" in text and f"{sum(g['households'] for g in grids):,}" in text
    # Contiguity from the grids on the map agrees with the server's preview (which stores nothing).
    answer = httpx.post(demo_server + "/proposals/preview", headers={"X-API-Key": PLANNER_KEY}, timeout=60, json={
        "from_code": NANJIAO, "to_code": LIDA, "child_codes": codes, "effective_date": "2025-03-01", "author": "t",
        "allow_non_adjacent": True})  # a preview, not a refusal, whatever the brush picked: its contiguity is compared
    assert answer.status_code == 200, answer.text
    server = {u["role"]: u["after"] for u in answer.json()["preview"]["units"]}
    shown = page.locator("#gg-whatif tr").last.inner_text()
    for role in ("from", "to"):
        expected = "是" if server[role]["contiguous"] else f"分为 {server[role]['parts']} 块"
        assert expected in shown, (role, shown)
    shot(tab, f"live-counter-{screen}")

    # undo takes back the last stroke, redo puts it back; a stroke starting on a picked grid removes
    page.locator("#gg-undo").click()
    assert picked(tab) == codes[:2]
    assert int(whatif(tab)["moved"]) == sum(g["residents"] for g in grids[:2])
    page.keyboard.press("Control+y")
    assert picked(tab) == codes
    brush(tab, [points[1]])
    assert picked(tab) == [codes[0], codes[2]]
    page.keyboard.press("Control+z")
    assert picked(tab) == codes
    shot(tab, f"brush-undo-{screen}")
    assert len(tab.api("/proposals")["proposals"]) == stored, "the live counter must store nothing"
    timings = tab.js("gg.whatif.timings")
    assert len(timings) >= 6  # every change was measured (the figure itself is in bench/RESULTS.md)
    assert tab.console_errors == [] and tab.external == []


def test_a_drawn_area_is_counted_by_the_preview_and_the_planner_key_asks_it(browser: Browser,
                                                                             demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    nanjiao = shapely.geometry.shape(tab.api(f"/collections/communities/items/{NANJIAO}")["geometry"])
    lida = shapely.geometry.shape(tab.api(f"/collections/communities/items/{LIDA}")["geometry"])
    rect = shapely.minimum_rotated_rectangle(nanjiao.boundary.intersection(lida.boundary).buffer(0.003))
    tab.fit(rect.buffer(0.004).bounds)
    page.locator(".leaflet-draw-draw-polygon").click()
    for lon, lat in list(rect.exterior.coords)[:-1]:
        x, y = _lonlat_to_px(tab, lon, lat)
        page.mouse.click(x, y)
        page.wait_for_timeout(80)
    page.locator(".leaflet-draw-actions a", has_text="完成").click()
    page.locator("#gg-draft").wait_for()
    page.locator("#gg-from").select_option(NANJIAO)
    page.locator("#gg-to").select_option(LIDA)
    assert "输入规划员密钥" in page.locator("#gg-whatif").inner_text()  # no key: nothing asked, a hint instead
    page.locator("#gg-nonadjacent").check()  # the strip cuts a corner of 南郊 off: allowed here, else refused
    with page.expect_response(re.compile(r"/proposals/preview$")) as answer:
        page.locator("#gg-key").fill(PLANNER_KEY)
    assert answer.value.status == 200
    wait_js(page, "document.getElementById('gg-whatif').dataset.source === 'server'")
    moved = answer.value.json()["preview"]["moved"]["residents"]
    assert int(whatif(tab)["moved"]) == moved > 0
    shot(tab, "live-counter-drawn-area")
    assert tab.api("/proposals")["proposals"] == [] or all(
        p["author"] != "t" for p in tab.api("/proposals")["proposals"])
    assert tab.console_errors == []


# ---- reports one click away --------------------------------------------------------------------
def test_every_proposal_links_to_its_report_pdf_csv_and_geojson(browser: Browser, demo_db_url: str) -> None:
    with running_server(demo_db_url) as base:
        headers = {"X-API-Key": PLANNER_KEY}
        body = {"from_code": NANJIAO, "to_code": LIDA, "child_codes": [f"{NANJIAO}001"],
                "effective_date": "2025-03-01", "author": "测试规划员",
                "allow_non_adjacent": True}  # any grid will do: these drafts only need reports
        applied = httpx.post(base + "/proposals", headers=headers, json=body, timeout=60).json()["proposal"]["id"]
        assert httpx.post(f"{base}/proposals/{applied}/apply", headers=headers, json={"author": "测试规划员"},
                          timeout=60).status_code == 200
        draft = httpx.post(base + "/proposals", headers=headers, timeout=60,
                           json={**body, "child_codes": [f"{NANJIAO}002"]}).json()["proposal"]["id"]
        tab = open_map(browser, base)
        page = tab.page
        page.locator("#gg-tool-proposals").click()
        page.locator("table.gg-proposals").wait_for()
        for pid in (applied, draft):
            links = page.locator(f"tr[data-id='{pid}'] .gg-links a")
            assert links.count() == 4
            kinds = {}
            for i in range(4):
                href = links.nth(i).get_attribute("href") or ""
                response = httpx.get(base + href, headers=headers, timeout=120)  # residents' data: a reader's key
                assert response.status_code == 200, href
                kinds[links.nth(i).get_attribute("data-link")] = response.headers["content-type"]
            assert kinds["report.html"].startswith("text/html") and kinds["report.pdf"] == "application/pdf"
            assert kinds["households.csv"].startswith("text/csv")
            assert kinds["change.geojson"].startswith("application/geo+json")
        shot(tab, "report-links-list")
        page.locator(f"tr[data-id='{draft}'] button[data-act='preview']").click()
        page.locator("#gg-panel .gg-report .gg-links a").first.wait_for()
        assert page.locator("#gg-panel .gg-report .gg-links a").count() == 4
        shot(tab, "report-links-preview")
        # two plans side by side: their areas in two colours, their load tables beside each other
        page.locator("#gg-tool-proposals").click()
        page.locator("#gg-compare").click()
        plans = page.locator(".gg-compare-plan")
        plans.nth(1).wait_for()
        shown = sorted(int(plans.nth(i).get_attribute("data-proposal") or 0) for i in range(2))
        assert shown == sorted([applied, draft])
        for i in range(2):
            table = plans.nth(i).locator("tr[data-code]")
            assert table.count() >= 2 and plans.nth(i).locator("tr[data-code='" + NANJIAO + "']").count() == 1
        tab.settle()
        assert covered(tab) == []
        shot(tab, "compare-two-plans")
        assert tab.console_errors == []


# ---- nothing covered, panels fold, touch targets -----------------------------------------------
@pytest.mark.parametrize("screen", list(SCREENS))
def test_no_control_is_covered(browser: Browser, demo_server: str, screen: str) -> None:
    tab = open_screen(browser, demo_server, screen)
    page = tab.page
    assert covered(tab) == []
    titles = page.locator(".gg-brand .gg-title, .gg-brand .gg-title-short")
    assert titles.evaluate_all("els => els.some((e) => e.offsetWidth > 0)"), "the title must stay visible"
    if SCREENS[screen][0] < 1280 or SCREENS[screen][1] < 800:
        assert page.locator(".leaflet-control-layers-expanded").count() == 0, "the layer list folds on small screens"
    shot(tab, f"screen-{screen}")
    page.locator(".gg-legend-toggle").click()  # the planner opens the legend: it still covers nothing
    assert covered(tab) == []
    shot(tab, f"screen-legend-open-{screen}")
    page.locator("#gg-search-input").fill("南郊社区")
    page.locator("#gg-search-results li", has_text="南郊社区").first.click()
    page.locator(f"#gg-panel h2[data-code='{NANJIAO}']").wait_for()
    tab.settle()
    assert covered(tab) == []
    shot(tab, f"screen-panel-{screen}")
    if SCREENS[screen][0] < 1100:  # touch: every target at least 40 px
        small = tab.js("""(selectors) => selectors.flatMap((sel) => [...document.querySelectorAll(sel)]
            .filter((el) => el.offsetWidth > 0).map((el) => [sel, el.getBoundingClientRect()])
            .filter(([, r]) => r.height < 40 || r.width < 40).map(([s, r]) => s + ' ' + r.width + 'x' + r.height))""",
                       [t for t in TOOLS if "label" not in t and t not in ("#gg-search-input", "#gg-asof")])
        assert small == []


# ---- language, toasts --------------------------------------------------------------------------
ALLOWED_LATIN = re.compile(r"X-API-Key|HTTP|API|GeoJSON|PDF|CSV|OpenStreetMap|Leaflet|gridgov|GCJ-02|km|m\b|k\b|ha\b")


def test_chinese_page_shows_no_english_messages(browser: Browser, demo_db_url: str) -> None:
    with running_server(demo_db_url) as base:
        tab = open_map(browser, base)
        page = tab.page
        nanjiao_view(tab)
        page.locator("#gg-tool-grids").click()
        x, y, code = grid_points(tab, NANJIAO, 1)[0]
        page.mouse.click(x, y)
        page.locator(f".gg-chips li[data-code='{code}']").wait_for()
        page.locator("#gg-to").select_option(LIDA)
        page.locator("#gg-author").fill("测试规划员")
        page.locator("#gg-nonadjacent").check()  # any grid of 南郊 will do, touching 利达 or not
        page.locator("#gg-preview").click()  # no key: 401
        page.locator("#gg-draft-error").wait_for()
        page.locator("#gg-key").fill(PLANNER_KEY)
        page.locator("#gg-date").fill("1900-01-01")  # before the data: refused with a 4xx in words
        page.locator("#gg-preview").click()
        wait_js(page, "document.querySelectorAll('#gg-messages .gg-msg-error').length >= 1")
        page.locator("#gg-date").fill("2025-03-01")
        page.locator("#gg-preview").click()
        heading = page.locator("#gg-panel h2[data-proposal]")
        heading.wait_for()
        pid = int(heading.get_attribute("data-proposal") or 0)
        page.locator("#gg-apply").click()
        page.locator(f"tr[data-id='{pid}'][data-status='applied']").wait_for()
        revert = page.locator(f"tr[data-id='{pid}'] button[data-act='revert']")
        revert.click()
        revert.click()
        page.locator(f"tr[data-id='{pid}'][data-status='reverted']").wait_for()
        tab.settle()
        assert tab.js("gg.layers.selection.getLayers().length") == 0  # no outline of the old unit stays
        messages = tab.js("gg.messages.map((m) => m.text)")
        shot(tab, "zh-messages")
        leaks = [m for m in messages if re.search(r"[A-Za-z]{3,}", ALLOWED_LATIN.sub("", m))]
        assert leaks == [], leaks
        assert any("API 密钥" in m and "401" in m for m in messages)
        reverts = [c for c in tab.api("/changes", unit=NANJIAO)["changes"] if c["kind"] == "revert"]
        assert reverts and re.search("[\u4e00-\u9fff]", reverts[0]["reason"] or ""), reverts


def test_toasts_are_not_repeated_and_close_by_themselves(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    page.clock.install()
    for _ in range(3):
        tab.js("gg.notify('底图瓦片无法加载（测试）', 'error')")
    errors = page.locator("#gg-messages .gg-msg-error")
    assert errors.count() == 1 and errors.first.locator(".gg-msg-count").inner_text() == "×3"
    tab.js("gg.notify('另一条提示', 'info')")
    shot(tab, "toasts")
    page.clock.run_for(13_000)
    assert page.locator("#gg-messages .gg-msg").count() == 0


# ---- the address bar: date and panel; future dates ---------------------------------------------
def test_a_link_shows_the_same_day_and_panel(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    page.locator("#gg-asof").fill("2024-06-30")
    page.locator("#gg-asof").dispatch_event("change")
    tab.settle()
    page.locator("#gg-search-input").fill("南郊社区")
    page.locator("#gg-search-results li", has_text="南郊社区").first.click()
    page.locator(f"#gg-panel h2[data-code='{NANJIAO}']").wait_for()
    tab.settle()
    url = page.url
    assert "date=2024-06-30" in url and f"panel=unit:{NANJIAO}" in url
    other = open_map(browser, demo_server, url.split(demo_server, 1)[1])
    other.page.locator(f"#gg-panel h2[data-code='{NANJIAO}']").wait_for()
    assert other.page.locator("#gg-asof").input_value() == "2024-06-30"
    assert other.js("gg.state.asOf") == "2024-06-30"
    shot(other, "shared-link")
    later = "2099-01-01"
    other.page.locator("#gg-asof").fill(later)
    other.page.locator("#gg-asof").dispatch_event("change")
    other.settle()
    said = other.js("gg.messages.map((m) => m.text).join('|')")
    assert "规划地图" in said and "历史地图" not in said
    assert other.js("document.body.classList.contains('gg-future')")


# ---- search, nearest ---------------------------------------------------------------------------
def test_search_finds_addresses_and_every_grid(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    page.locator("#gg-search-input").fill("南郊社区第1")
    page.locator("#gg-search-results li", has_text="南郊社区第11网格").wait_for()
    assert page.locator("#gg-search-results li", has_text="南郊社区第10网格").count() == 1
    page.locator("#gg-search-input").fill("南郊社区1组1栋")
    option = page.locator("#gg-search-results li[data-type='building']").first
    option.wait_for()
    shot(tab, "search-address")
    option.click()
    page.locator(f"#gg-panel h2[data-code='{NANJIAO}001']").wait_for()
    tab.settle()
    assert tab.js("gg.map.getZoom()") >= 17
    shot(tab, "search-address-chosen")


def test_nearest_tool_filters_by_kind_and_distance(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    nanjiao_view(tab, 14)
    page.locator("#gg-tool-nearest").click()
    page.locator("#gg-nearest-kind").select_option("health_station")
    page.locator("#gg-nearest-max").fill("5")
    page.locator("#gg-nearest-max").dispatch_event("change")
    page.locator("#gg-k").fill("5")
    lon, lat = _label_point(tab, NANJIAO)
    with page.expect_response(re.compile(r"/stations/nearest\?")) as answer:
        _click_map(tab, lon, lat)
    asked = httpx.URL(answer.value.url).params
    assert asked["kind"] == "health_station" and asked["max_distance_m"] == "5000"
    page.locator(".gg-nearest li").first.wait_for()
    tab.settle()
    items = page.locator(".gg-nearest li")
    assert items.count() >= 1
    assert all(not re.match(r"\s*\d+\.", t) for t in items.all_inner_texts()), "numbered once, by the list"
    expected = tab.api("/stations/nearest", lon=asked["lon"], lat=asked["lat"], k=5, kind="health_station",
                       max_distance_m=5000)["features"]
    assert [li.get_attribute("data-code") for li in items.all()] == [f["properties"]["code"] for f in expected]
    assert page.locator("label", has_text="站点数").locator("#gg-k").count() == 1
    # every station found lies in the part of the map that nothing covers
    outside = tab.js("""() => { const free = gg.freeBounds(); return gg.layers.nearest.getLayers()
        .filter((l) => l instanceof L.Marker && !free.contains(l.getLatLng())).length; }""")
    assert outside == 0
    shot(tab, "nearest-kind-distance")
    page.locator("#gg-panel-close").click()
    assert tab.js("gg.layers.nearest.getLayers().length") == 0 and tab.js("gg.state.tool") is None


def test_station_rings_go_with_their_panel(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    station = tab.api("/stations/nearest", lon=105.9205, lat=26.2225, k=1)["features"][0]
    lon, lat = station["geometry"]["coordinates"]
    tab.view(lon, lat, 16)
    tab.page.locator(f".leaflet-marker-icon[title='{station['properties']['name']}']").first.click()
    tab.page.locator(f"#gg-panel h2[data-code='{station['properties']['code']}']").wait_for()
    assert tab.js("gg.layers.rings.getLayers().length") > 0
    tab.page.locator("#gg-panel-close").click()
    assert tab.js("gg.layers.rings.getLayers().length") == 0
    _click_map(tab, lon + 0.002, lat + 0.002)  # a click on a community: no black focus box
    tab.page.locator("#gg-panel h2[data-code]").wait_for()
    outline = tab.js("(() => { const el = document.activeElement; return el && el.tagName === 'path' ?"
                     " getComputedStyle(el).outlineStyle : 'none'; })()")
    assert outline == "none"


def test_density_of_elderly_over_or_instead_of_the_load_colours(browser: Browser, demo_server: str) -> None:
    tab = open_map(browser, demo_server)
    page = tab.page
    nanjiao_view(tab, 13)
    if page.locator("#gg-legend.gg-collapsed").count():
        page.locator(".gg-legend-toggle").click()
    with page.expect_response(re.compile(r"/map/layers/buildings\?.*weight=elderly")) as answer:
        page.locator("#gg-density").select_option("elderly")
    heat = answer.value.json()["heat"]
    tab.settle()
    assert heat["weight"] == "elderly" and heat["total"] > 0
    assert tab.js("gg.layers.buildingsHeat._latlngs.length") == len(heat["points"]) > 0
    scale = page.locator("#gg-heat-scale")
    assert scale.is_visible() and scale.get_attribute("data-weight") == "elderly"
    assert f"{round(heat['max']):,}" in scale.inner_text()
    shot(tab, "density-elderly-over-load")
    page.locator("#gg-density-solo").check()
    fills = tab.js("[...document.querySelectorAll('.leaflet-overlay-pane path')]"
                   ".map((p) => p.getAttribute('fill-opacity'))")
    assert fills and all(f == "0" for f in fills)
    shot(tab, "density-elderly-alone")
    assert tab.console_errors == [] and tab.failed == []
