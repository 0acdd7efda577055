"""GET /locate and /stations/nearest on both databases, checked against shapely and pyproj."""

from __future__ import annotations

import csv
import io

import pytest
from factories import tiny_dataset
from pyproj import Geod
from shapely.geometry import Point

from api.schemas import BatchResponse, LocateResponse, NearestResponse

GEOD = Geod(ellps="WGS84")
INSIDE = (106.005, 26.015)  # in grid 520499001001001 (west sub-district, north community, west grid)


def _brute_force_nearest(lon: float, lat: float, kinds: set[str] | None = None) -> list[tuple[str, float]]:
    stations = tiny_dataset().stations
    if kinds:
        stations = stations[stations["kind"].isin(kinds)]
    found = []
    for code, geom in zip(stations["code"], stations.geometry, strict=True):
        _, _, d = GEOD.inv(lon, lat, geom.x, geom.y)
        found.append((code, d))
    return sorted(found, key=lambda t: (t[1], t[0]))


def test_health(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["current_units"] == 15


def test_locate_answers_every_level_as_shapely_does(client) -> None:
    lon, lat = INSIDE
    body = client.get("/locate", params={"lon": lon, "lat": lat}).json()
    LocateResponse.model_validate(body)
    units = tiny_dataset().units
    expected = {
        level: units[(units["level"] == level) & units.geometry.contains(Point(lon, lat))]["code"].tolist()
        for level in ("district", "subdistrict", "community", "grid")
    }
    assert [u["code"] for u in body["units"]] == [expected[lv][0] for lv in expected]
    assert body["grid"]["code"] == "520499001001001"
    assert body["community"]["name"] == "社区11"


def test_locate_on_a_shared_boundary_picks_the_lower_code(client) -> None:
    # x = 106.01 is the edge between the two grids of community 520499001001.
    body = client.get("/locate", params={"lon": 106.01, "lat": 26.015}).json()
    assert body["grid"]["code"] == "520499001001001"


def test_locate_outside_every_district_is_404(client) -> None:
    response = client.get("/locate", params={"lon": 100.0, "lat": 30.0})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "outside every district" in response.json()["error"]["message"]


def test_locate_as_of_a_date_before_the_data_is_404(client) -> None:
    lon, lat = INSIDE
    response = client.get("/locate", params={"lon": lon, "lat": lat, "datetime": "2023-12-31"})
    assert response.status_code == 404
    ok = client.get("/locate", params={"lon": lon, "lat": lat, "datetime": "2024-01-01T08:00:00Z"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"lat": 26.0}, "lon", "required"),
        ({"lon": 106.0}, "lat", "required"),
        ({"lon": "east", "lat": 26.0}, "lon", "number"),
        ({"lon": "nan", "lat": 26.0}, "lon", "finite"),
        ({"lon": 106.0, "lat": "inf"}, "lat", "finite"),
        ({"lon": 190.0, "lat": 26.0}, "lon", "between"),
        ({"lon": 106.0, "lat": -91.0}, "lat", "between"),
        ({"lon": 26.015, "lat": 106.005}, "lon", "swapped"),
        ({"lon": 106.0, "lat": 26.0, "datetime": "yesterday"}, "datetime", "date"),
        ({"lon": 106.0, "lat": 26.0, "datetime": "2024-01-01/2024-02-01"}, "datetime", "interval"),
    ],
)
def test_locate_rejects_bad_input_naming_the_field(client, params, field, words) -> None:
    response = client.get("/locate", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert words in error["message"].lower()


def test_nearest_matches_pyproj_and_brute_force(client) -> None:
    lon, lat = 106.012, 26.004
    body = client.get("/stations/nearest", params={"lon": lon, "lat": lat, "k": 5}).json()
    NearestResponse.model_validate(body)
    expected = _brute_force_nearest(lon, lat)[:5]
    got = [(f["id"], f["properties"]["distance_m"]) for f in body["features"]]
    assert [c for c, _ in got] == [c for c, _ in expected]
    for (_, d_got), (_, d_expected) in zip(got, expected, strict=True):
        assert abs(d_got - d_expected) < 1.0
    assert body["features"][0]["properties"]["community_name"]


def test_nearest_filters_by_kind_and_distance(client) -> None:
    lon, lat = 106.03, 26.005
    body = client.get("/stations/nearest", params={"lon": lon, "lat": lat, "k": 3, "kind": "volunteer_station"}).json()
    assert [f["properties"]["kind"] for f in body["features"]] == ["volunteer_station"]
    nearest_d = _brute_force_nearest(lon, lat)[0][1]
    near = client.get("/stations/nearest", params={"lon": lon, "lat": lat, "max_distance_m": nearest_d + 1}).json()
    assert len(near["features"]) == 1
    none = client.get("/stations/nearest", params={"lon": lon, "lat": lat, "max_distance_m": 1}).json()
    assert none["features"] == []


def test_nearest_with_k_larger_than_the_stations_returns_all(client) -> None:
    body = client.get("/stations/nearest", params={"lon": 106.02, "lat": 26.01, "k": 100}).json()
    assert len(body["features"]) == len(tiny_dataset().stations)


def test_nearest_far_away_still_finds_the_true_nearest(client) -> None:
    # 300 km away: the index search must widen until it finds stations, and rank them exactly.
    lon, lat = 109.0, 27.5
    body = client.get("/stations/nearest", params={"lon": lon, "lat": lat, "k": 2}).json()
    assert [f["id"] for f in body["features"]] == [c for c, _ in _brute_force_nearest(lon, lat)[:2]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": 101}, "k"),
        ({"k": "three"}, "k"),
        ({"kind": "spaceport"}, "kind"),
        ({"max_distance_m": -5}, "max_distance_m"),
    ],
)
def test_nearest_rejects_bad_input(client, params, field) -> None:
    response = client.get("/stations/nearest", params={"lon": 106.02, "lat": 26.01, **params})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_unknown_kind_lists_the_valid_ones(client) -> None:
    response = client.get("/stations/nearest", params={"lon": 106.02, "lat": 26.01, "kind": "spaceport"})
    assert "party_service_center" in response.json()["error"]["message"]


def test_batch_json_answers_like_single_queries(client) -> None:
    points = [{"lon": 106.0 + 0.004 * i, "lat": 26.001 + 0.0018 * i, "id": f"p{i}"} for i in range(10)]
    body = client.post("/stations/nearest", json={"points": points, "k": 3}).json()
    BatchResponse.model_validate(body)
    assert [r["id"] for r in body["results"]] == [p["id"] for p in points]
    for point, result in zip(points, body["results"], strict=True):
        single = client.get("/stations/nearest", params={"lon": point["lon"], "lat": point["lat"], "k": 3}).json()
        assert [s["code"] for s in result["stations"]] == [f["id"] for f in single["features"]]
        for s, f in zip(result["stations"], single["features"], strict=True):
            assert abs(s["distance_m"] - f["properties"]["distance_m"]) < 0.01


def test_batch_csv_in_and_out(client) -> None:
    upload = "id,lon,lat\na,106.005,26.015\nb,106.035,26.005\n"
    response = client.post(
        "/stations/nearest?format=csv&k=2", content=upload.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["id"], r["rank"]) for r in rows] == [("a", "1"), ("a", "2"), ("b", "1"), ("b", "2")]
    assert rows[0]["station_code"] == _brute_force_nearest(106.005, 26.015)[0][0]


def test_batch_multipart_csv_upload(client) -> None:
    files = {"file": ("points.csv", b"lon,lat\n106.005,26.015\n", "text/csv")}
    body = client.post("/stations/nearest?k=1", files=files).json()
    assert body["results"][0]["stations"][0]["code"] == _brute_force_nearest(106.005, 26.015)[0][0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"json": {"points": [{"lon": 106.0}]}}, "points[0].lat"),
        ({"json": {"points": [{"lon": 300.0, "lat": 26.0}]}}, "points[0].lon"),
        ({"json": {"points": [], "k": 0}}, "k"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, None),
        ({"content": b"x,y\n1,2\n", "headers": {"content-type": "text/csv"}}, "body"),
        ({"content": b"lon,lat\nabc,1\n", "headers": {"content-type": "text/csv"}}, "body.line2"),
    ],
)
def test_batch_rejects_bad_input(client, kwargs, field) -> None:
    response = client.post("/stations/nearest", **kwargs)
    assert response.status_code == 422, response.text
    if field:
        assert response.json()["error"]["field"] == field


def test_batch_over_the_limit_is_refused(client) -> None:
    points = [{"lon": 106.01, "lat": 26.01}] * 10_001
    response = client.post("/stations/nearest", json={"points": points})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "points"
    assert "10000" in response.json()["error"]["message"]


@pytest.mark.parametrize("url", ["/changes?unit=%00", "/locate?lon=1&lat=2&datetime=%00", "/units/%00/history"])
def test_nul_characters_are_refused_naming_the_parameter(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert "NUL" in response.json()["error"]["message"]
