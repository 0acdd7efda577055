"""The mobile report page on a phone-sized headless Chromium, and the events layer of the planner's map.

Debian's Chromium through Playwright against a real server on the tiny dataset; every request to another
host (map tiles) is answered with a blank tile, so the pages must work offline.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import PLANNER_KEY, wait_js
from playwright.sync_api import Browser, Page, Route
from test_map_browser import PNG_1PX, browser, running_server  # noqa: F401 - browser is a fixture

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
HERE = {"longitude": 106.015, "latitude": 26.015}  # inside grid 520499001001002


def _offline(base: str):  # noqa: ANN202
    def handle(route: Route) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            route.fulfill(status=200, body=PNG_1PX, content_type="image/png")
    return handle


@pytest.fixture
def server(tiny_db_url: str) -> Iterator[str]:
    with running_server(tiny_db_url) as base:
        yield base


def _phone(browser: Browser, base: str) -> Page:  # noqa: F811
    context = browser.new_context(**PHONE, geolocation=HERE, permissions=["geolocation"], locale="zh-CN")
    page = context.new_page()
    page.route("**/*", _offline(base))
    page.goto(base + "/report-event")
    wait_js(page, "document.querySelectorAll('#category option').length > 0")
    return page


def test_a_phone_reports_by_geolocation_and_by_tapping_the_map(browser: Browser, server: str) -> None:  # noqa: F811
    import httpx

    page = _phone(browser, server)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.tap("#locate")
    wait_js(page, "document.getElementById('place').textContent.includes('网格')")
    page.select_option("#category", "safety")
    page.fill("#description", "井盖缺失 <img src=x onerror=alert(1)>")
    page.fill("#contact", "13800000000")
    page.tap("#submit")
    page.wait_for_selector("body[data-sent]")
    first = page.get_attribute("body", "data-sent")
    assert "520499001001002" in page.text_content("#message")
    # a tap on the map (its centre is the located point) picks the place, a second report goes out
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] / 2 + 20, box["y"] + box["height"] / 2)
    wait_js(page, "document.getElementById('place').textContent.includes('网格')")
    page.select_option("#category", "environment")
    page.fill("#description", "垃圾")
    page.tap("#submit")
    wait_js(page, f"document.body.dataset.sent !== '{first}'")
    page.screenshot(path="test-output/events-phone.png")
    events = httpx.get(server + "/events", headers={"X-API-Key": PLANNER_KEY}).json()
    assert events["total"] == 2 and {e["category"] for e in events["events"]} == {"safety", "environment"}
    detail = httpx.get(f"{server}/events/{first}", headers={"X-API-Key": PLANNER_KEY}).json()
    assert detail["reporter_contact"] == "13800000000" and detail["source"] == "resident"
    page.context.close()


def test_the_phone_page_says_why_a_report_was_not_sent(browser: Browser, server: str) -> None:  # noqa: F811
    page = _phone(browser, server)
    page.tap("#submit")
    assert "地图" in page.text_content("#message")  # no place yet
    page.context.close()


def test_the_planner_map_shows_the_events_layer(browser: Browser, server: str) -> None:  # noqa: F811
    import httpx

    httpx.post(server + "/events", json={"category": "safety", "lon": 106.015, "lat": 26.015, "description": "<b>x"})
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.route("**/*", _offline(server))
    page.goto(server + "/map")
    page.wait_for_selector("body[data-ready]")
    wait_js(page, "window.gg.events && window.gg.events.layer")
    page.evaluate("gg.map.addLayer(gg.events.layer)")  # the 事件 overlay of the layer control
    page.wait_for_selector("body[data-events-shown='1']")  # one grid with events, aggregated (no key)
    assert page.locator(".gg-events-filter select").count() == 2
    page.evaluate(f"sessionStorage.setItem('gridgov.apiKey', '{PLANNER_KEY}'); gg.map.setView([26.015, 106.015], 17)")
    page.select_option("#gg-ev-cat", "environment")
    page.wait_for_selector("body[data-events-shown='0']")
    page.select_option("#gg-ev-cat", "")
    page.wait_for_selector("body[data-events-shown='1']")
    popup = page.evaluate("gg.events.layer.getLayers()[0].getPopup().getContent()")
    assert "#1" in popup and "&lt;b&gt;x" in popup  # a single event (planner key), its text escaped
    page.screenshot(path="test-output/events-map.png")
    context.close()
