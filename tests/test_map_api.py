"""The map's HTTP routes on both databases: the page, its static files, the layers by viewport, search."""

from __future__ import annotations

import gzip
import json

import pytest
import shapely
from conftest import make_client
from factories import DISTRICT

from maps.styles import residents_per_worker

COMMUNITY = f"{DISTRICT}001001"


def test_the_page_is_served_compressed_and_cached(client) -> None:
    response = client.get("/map")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-encoding"] == "gzip"
    assert '<html lang="zh-CN">' in response.text and "gg.init(" in response.text
    config = json.loads(response.text.split("gg.init(", 1)[1].rsplit(");", 1)[0])
    assert config["features"].get("proposals") is True  # the proposals routes exist: the page offers them
    again = client.get("/map", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    english = client.get("/map", params={"lang": "en"})
    assert '<html lang="en">' in english.text and english.headers["etag"] != response.headers["etag"]


def test_static_files_are_served_and_confined(client) -> None:
    leaflet = client.get("/map/static/vendor/leaflet/leaflet.js")
    assert leaflet.status_code == 200 and "javascript" in leaflet.headers["content-type"]
    assert leaflet.headers["content-encoding"] == "gzip" and "max-age" in leaflet.headers["cache-control"]
    assert client.get("/map/static/folium/leaflet_heat.min.js").status_code == 200
    png = client.get("/map/static/vendor/leaflet/images/layers.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert "content-encoding" not in png.headers
    for path in ("/map/static/../../api/settings.py", "/map/static/%2e%2e/%2e%2e/pyproject.toml",
                 "/map/static/nothing.js"):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert missing.json()["error"]["code"] == "not_found"


def test_the_communities_layer_carries_totals_and_load(client) -> None:
    response = client.get("/map/layers/communities", params={"zoom": 14})
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    data = response.json()
    assert data["numberMatched"] == 4 and len(data["features"]) == 4
    item = client.get(f"/collections/communities/items/{COMMUNITY}").json()["properties"]
    props = next(f["properties"] for f in data["features"] if f["id"] == COMMUNITY)
    for key in ("residents", "households", "buildings", "workers", "elderly", "children", "special_care"):
        assert props[key] == item[key], key
    assert props["load"] == pytest.approx(residents_per_worker(item["residents"], item["workers"]), abs=0.05)
    geom = shapely.geometry.shape(next(f for f in data["features"] if f["id"] == COMMUNITY)["geometry"])
    assert geom.contains(shapely.Point(*props["label_point"]))


def test_a_box_selects_the_units_it_meets(client) -> None:
    west = client.get("/map/layers/grids", params={"bbox": "106.0001,26.0001,106.0050,26.0050", "zoom": 15}).json()
    assert [f["id"] for f in west["features"]] == [f"{DISTRICT}001002001"]
    far = client.get("/map/layers/subdistricts", params={"bbox": "100,20,100.1,20.1"}).json()
    assert far["features"] == [] and far["numberMatched"] == 0


def test_buildings_come_as_heat_or_points(client) -> None:
    heat = client.get("/map/layers/buildings", params={"zoom": 12}).json()
    assert heat["mode"] == "heat" and heat["numberMatched"] == 40
    assert sum(p[2] for p in heat["heat"]["points"]) == heat["heat"]["residents"]
    points = client.get("/map/layers/buildings", params={"zoom": 16}).json()
    assert points["mode"] == "points" and len(points["features"]) == 40
    before = client.get("/map/layers/buildings", params={"zoom": 16, "datetime": "2023-01-01"}).json()
    assert before["features"] == []


def test_the_layers_follow_the_as_of_date(client) -> None:
    past = client.get("/map/layers/communities", params={"datetime": "2023-12-31"}).json()
    assert past["features"] == []


@pytest.mark.parametrize(("url", "status", "field"), [
    ("/map/layers/districts", 404, "layer"),
    ("/map/layers/grids?bbox=1,2,3", 422, "bbox"),
    ("/map/layers/grids?zoom=99", 422, "zoom"),
    ("/map/layers/grids?datetime=yesterday", 422, "datetime"),
    ("/map/search?q=", 422, "q"),
])
def test_bad_map_requests_are_clear_4xx(client, url: str, status: int, field: str) -> None:
    response = client.get(url)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["field"] == field and error["message"]


def test_search_finds_units_by_name_and_code_and_stations_by_name(client) -> None:
    by_name = client.get("/map/search", params={"q": "社区11"}).json()["results"]
    assert by_name[0]["code"] == COMMUNITY and by_name[0]["layer"] == "communities"
    minx, miny, maxx, maxy = by_name[0]["bbox"]
    assert minx < maxx and miny < maxy
    by_code = client.get("/map/search", params={"q": COMMUNITY}).json()["results"]
    assert by_code[0]["code"] == COMMUNITY
    english = client.get("/map/search", params={"q": "community 11"}).json()["results"]
    assert english[0]["code"] == COMMUNITY
    stations = client.get("/map/search", params={"q": "志愿"}).json()["results"]
    assert [r["type"] for r in stations] == ["station"]
    assert client.get("/map/search", params={"q": "100%_"}).json()["results"] == []


def test_reads_that_need_a_key_need_it_for_layers_but_not_for_the_page(tiny_db_url: str) -> None:
    from conftest import READER_KEY

    with make_client(tiny_db_url, read_requires_key=True) as client:
        assert client.get("/map").status_code == 200
        assert client.get("/map/static/core.js").status_code == 200
        assert client.get("/map/layers/communities").status_code == 401
        ok = client.get("/map/layers/communities", headers={"X-API-Key": READER_KEY})
        assert ok.status_code == 200


def test_nanjiao_is_found_on_the_demo(demo_db_url: str) -> None:
    with make_client(demo_db_url) as client:
        found = client.get("/map/search", params={"q": "南郊社区"}).json()["results"][0]
        assert found["code"] == "520402006006" and found["name"] == "南郊社区"
        district = client.get("/map/layers/communities", params={"zoom": 10})
        raw = client.get("/map/layers/communities", params={"zoom": 10, "simplify": "false"})
        assert district.json()["numberMatched"] == raw.json()["numberMatched"] == 550
        assert len(district.content) < len(raw.content)
        compressed = gzip.compress(district.content)
        assert len(compressed) < 300_000
