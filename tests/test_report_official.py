"""The impact report as the attachment a 街道 sends with its 请示: Beijing time, 附件, sign-off, watermark."""

from __future__ import annotations

import re

import shapely
from conftest import PLANNER_KEY
from factories import DISTRICT

GRID = f"{DISTRICT}001001001"
HEADERS = {"X-API-Key": PLANNER_KEY}


def _corner_split(client) -> int:  # noqa: ANN001 - a TestClient
    """A split whose part holds no building: no resident moves."""
    minx, miny, maxx, maxy = shapely.geometry.shape(client.get(f"/collections/grids/items/{GRID}").json()
                                                    ["geometry"]).bounds
    w, h = maxx - minx, maxy - miny
    part = shapely.geometry.mapping(shapely.box(minx, miny, minx + 0.1 * w, miny + 0.2 * h))
    answer = client.post("/proposals", headers=HEADERS, json={"kind": "split", "from_code": GRID, "parts": [part],
                                                             "effective_date": "2025-03-01", "author": "测试"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["preview"]["moved"]["residents"] == 0
    return int(answer.json()["proposal"]["id"])


def test_a_draft_report_is_an_attachment_with_sign_off_and_watermark(client) -> None:
    pid = _corner_split(client)
    html = client.get(f"/proposals/{pid}/report.html").text
    assert '<div class="attachment-label">附件</div>' in html
    assert 'class="watermark"' in html and "草稿 未生效" in html
    assert "北京时间" in html and "UTC" not in html.split("<footer>")[0].split("</header>")[0]
    assert re.search(r"生成时间</th><td[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", html)
    for word in ("经办", "审核", "签发", "成文日期", "内部用图"):
        assert word in html, word
    # the footer (method, generator) comes after the last section, the households list
    assert html.index('id="households"') < html.index("<footer>") and html.index('id="signoff"') < html.index(
        'id="households"')
    english = client.get(f"/proposals/{pid}/report.html", params={"lang": "en"}).text
    assert "Attachment" in english and "Beijing time (UTC+8)" in english and "DRAFT" in english


def test_no_distance_rows_when_no_resident_moves(client) -> None:
    pid = _corner_split(client)
    html = client.get(f"/proposals/{pid}/report.html").text
    access = html.split('id="access"', 1)[1].split("</section>", 1)[0]
    assert "本次调整不涉及居民归属变化" in access
    assert "– 米" not in access and "– m" not in access and "0%" not in access and "<table" not in access


def test_an_applied_report_has_no_watermark(client) -> None:
    created = client.post("/proposals", headers=HEADERS, json={
        "from_code": f"{DISTRICT}001001", "to_code": f"{DISTRICT}001002", "child_codes": [GRID],
        "effective_date": "2025-03-01", "author": "测试"}).json()
    pid = created["proposal"]["id"]
    assert client.post(f"/proposals/{pid}/apply", headers=HEADERS, json={"author": "测试"}).status_code == 200
    html = client.get(f"/proposals/{pid}/report.html").text
    assert 'class="watermark"' not in html and "附件" in html
    pdf = client.get(f"/proposals/{pid}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
