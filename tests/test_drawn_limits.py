"""Drawn geometry limits (issue #12 item 8): too many vertices or too large an area is a clear 422."""

from __future__ import annotations

import math

from conftest import PLANNER_KEY, make_client

from api.drawn import count_vertices

KEY = {"X-API-Key": PLANNER_KEY}
BASE = {"from_code": "520499001001", "to_code": "520499001002", "effective_date": "2025-03-01", "author": "t"}


def _ring(n: int, cx: float = 106.01, cy: float = 26.015, r: float = 0.003) -> list[list[float]]:
    points = [[cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)] for i in range(n)]
    return [*points, points[0]]


def test_vertex_count_of_geojson() -> None:
    assert count_vertices({"type": "Polygon", "coordinates": [_ring(10)]}, 100) == 11
    assert count_vertices({"type": "MultiPolygon", "coordinates": [[_ring(10)], [_ring(5)]]}, 100) == 17


def test_drawings_are_capped(tiny_db_url: str) -> None:
    with make_client(tiny_db_url) as client:
        huge = client.post("/proposals", headers=KEY, json={
            **BASE, "area": {"type": "Polygon", "coordinates": [_ring(30_000)]}})
        assert huge.status_code == 422 and huge.json()["error"]["field"] == "area"
        assert "20,000" in huge.json()["error"]["message"] and huge.json()["error"]["message_zh"]
        parts = client.post("/proposals", headers=KEY, json={
            "kind": "split", "from_code": "520499001001001", "effective_date": "2025-03-01", "author": "t",
            "parts": [{"type": "Polygon", "coordinates": [_ring(8_000)]}] * 3})
        assert parts.status_code == 422 and parts.json()["error"]["field"] == "parts"
        wide = client.post("/proposals", headers=KEY, json={
            **BASE, "area": {"type": "Polygon", "coordinates": [[[100, 20], [110, 20], [110, 30], [100, 30],
                                                                 [100, 20]]]}})
        assert wide.status_code == 422 and wide.json()["error"]["field"] == "area"
        fine = client.post("/proposals", headers=KEY, json={
            **BASE, "area": {"type": "Polygon", "coordinates": [_ring(500, cx=106.005, cy=26.015, r=0.002)]}})
        assert fine.status_code in (201, 422), fine.text  # within the caps: judged on its merits
        assert fine.json().get("error", {}).get("field") != "area" or "vertices" not in fine.text
