"""Stored XSS in the impact report: names and addresses with markup, backticks or ``${…}`` (both databases).

The dataset's names reach the report's interactive map (folium tooltips, a JS template string, labels);
every one must arrive as inert text, the map's scripts must still parse, the iframe is sandboxed and the
page carries a Content-Security-Policy that admits only its own scripts.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import PLANNER_KEY, make_client
from factories import tiny_dataset

from geo.db import make_engine
from geo.importer import import_dataset
from geo.reassign import ProposalRequest, create_proposal
from maps.csp import script_hashes

STATION = "PSC-A${top.document.title+='|x'}"
UNIT = "网格`<img src=x onerror=alert(1)>"
ADDRESS = "1栋</script><script>alert(2)</script>${alert(3)}`"
PAYLOADS = (STATION, UNIT, ADDRESS, "${top", "<img", "<script>alert(2)")


@pytest.fixture
def evil_db(db_url: str) -> str:
    data = tiny_dataset()
    data.stations.loc[data.stations["kind"] == "party_service_center", "name"] = STATION
    data.stations.loc[data.stations["kind"] == "party_service_center", "name_en"] = STATION
    data.units.loc[data.units["level"] == "grid", "name"] = UNIT
    data.units.loc[data.units["level"] == "community", "name_en"] = UNIT
    data.buildings["address"] = ADDRESS
    engine = make_engine(db_url)
    import_dataset(engine, data, author="test", valid_from=dt.date(2024, 1, 1))
    create_proposal(engine, ProposalRequest(from_code="520499001001", to_code="520499001002",
                                            child_codes=("520499001001001",), effective_date=dt.date(2025, 3, 1),
                                            author="t", reason="t", document_ref="t"))
    engine.dispose()
    return db_url


def _srcdoc(page: str) -> str:
    match = re.search(r'<iframe ([^>]*)srcdoc="([^"]*)"', page)
    assert match, "the report has no interactive map"
    assert 'sandbox="allow-scripts"' in match.group(1)  # scripts run, but in an opaque origin: no top.document
    assert "allow-same-origin" not in match.group(1)
    return html.unescape(match.group(2))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_names_are_inert(evil_db: str, lang: str, tmp_path: Path) -> None:
    with make_client(evil_db) as client:
        response = client.get("/proposals/1/report.html", params={"lang": lang})
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    document = _srcdoc(response.text)
    for payload in PAYLOADS:
        assert payload not in document, payload
    for digest in script_hashes(document):  # every script of the map is allowed by hash, nothing else
        assert digest in policy
    scripts = re.findall(r"<script>(.*?)</script>", document, re.S)
    assert scripts, "no map script"
    if shutil.which("node"):  # a backtick in a name used to break the map's script altogether
        for i, script in enumerate(scripts):
            path = tmp_path / f"s{i}.js"
            path.write_text(script, encoding="utf-8")
            checked = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
            assert checked.returncode == 0, checked.stderr[:500]


def test_map_page_has_a_policy(evil_db: str) -> None:
    with make_client(evil_db) as client:
        response = client.get("/map")
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy.split("style-src")[0]


def test_report_map_draws_and_runs_nothing_in_a_browser(evil_db: str) -> None:
    """In Chromium, under the page's own policy: the map is drawn, and hovering runs no injected code."""
    from playwright.sync_api import sync_playwright
    from test_map_browser import CHROMIUM, CHROMIUM_ARGS

    with make_client(evil_db) as client:
        response = client.get("/proposals/1/report.html", headers={"X-API-Key": PLANNER_KEY})  # with buildings
    headers = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "content-security-policy")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        page = browser.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.route("http://gridgov.test/**", lambda route: route.fulfill(status=200, headers=headers,
                                                                       body=response.content))
        page.goto("http://gridgov.test/report.html")
        frame = page.frame_locator("iframe")
        frame.locator("path.leaflet-interactive >> visible=true").first.wait_for(timeout=30_000)
        for marker in frame.locator("path.leaflet-interactive >> visible=true").all()[:40]:  # drawn ones
            marker.hover(force=True, timeout=2_000)
        title = page.title()
        browser.close()
    assert "|x" not in title
    assert not [v for v in violations if "script" in v.lower()], violations
