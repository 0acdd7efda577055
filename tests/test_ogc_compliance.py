"""OGC API Features Part 1 and Part 3 details that real clients depend on (issue #14).

datetime intervals, links that survive any parameter, queryables and property filters, 400 for bad
parameters, a real timeStamp, an OpenAPI 3.0 document that matches the conformance claims, 6-number
and antimeridian bboxes, CORS, and residents' data on buildings only for planners.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import PLANNER_KEY, READER_KEY, make_client
from factories import tiny_dataset

from geo.db import make_engine
from geo.store import read_units

PLANNER = {"X-API-Key": PLANNER_KEY}
C11, C12 = "520499001001", "520499001002"
MOVED_GRID = "520499001001002"
GRID_MOVE = {"from_code": C11, "to_code": C12, "child_codes": [MOVED_GRID], "effective_date": "2025-03-01",
             "author": "王规划", "reason": "测试", "document_ref": "测试〔2025〕1号"}


def _path(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + ("?" + parts.query if parts.query else "")


def _page_all(client, url: str, **params) -> list[dict]:
    """Follow next links to the end; every page must answer 200."""
    response = client.get(url, params=params)
    features = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        features += body["features"]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return features
        response = client.get(_path(nxt[0]))


@pytest.fixture
def changed_client(tiny_db_url: str):
    """The tiny dataset after grid 520499001001002 moved to community 520499001002 on 2025-03-01."""
    with make_client(tiny_db_url) as client:
        pid = client.post("/proposals", json=GRID_MOVE, headers=PLANNER).json()["proposal"]["id"]
        assert client.post(f"/proposals/{pid}/apply", json={"author": "王规划"}, headers=PLANNER).status_code == 200
        yield client, tiny_db_url


def _expected_versions(db_url: str, start: dt.date | None, end: dt.date | None) -> list[tuple[str, int]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        grids = read_units(conn, as_of=None, level="grid")
    engine.dispose()
    out = []
    for row in grids.itertuples():
        valid_from = dt.date.fromisoformat(str(row.valid_from)[:10])
        valid_to = None if row.valid_to is None or str(row.valid_to) in ("NaT", "None", "nan") else \
            dt.date.fromisoformat(str(row.valid_to)[:10])
        if (end is None or valid_from <= end) and (start is None or valid_to is None or valid_to > start):
            out.append((row.code, int(row.version)))
    return sorted(out)


@pytest.mark.parametrize(
    ("datetime", "start", "end"),
    [
        ("2024-01-01T00:00:00Z/..", dt.date(2024, 1, 1), None),
        ("2024-01-01T/..", dt.date(2024, 1, 1), None),  # what GDAL sends for -where "valid_from >= '2024-01-01'"
        ("../2025-02-28", None, dt.date(2025, 2, 28)),
        ("2025-02-01/2025-03-15", dt.date(2025, 2, 1), dt.date(2025, 3, 15)),
        ("2025-03-01/..", dt.date(2025, 3, 1), None),
        ("../..", None, None),
        ("2025-06-30T", dt.date(2025, 6, 30), dt.date(2025, 6, 30)),
        ("2025-02-28T23:00:00+08:00", dt.date(2025, 2, 28), dt.date(2025, 2, 28)),
    ],
)
def test_datetime_instants_and_intervals_select_versions_whose_validity_meets_them(
    changed_client, datetime: str, start, end
) -> None:
    client, db_url = changed_client
    features = _page_all(client, "/collections/grids/items", datetime=datetime, limit=2)
    got = sorted((f["properties"]["code"], f["properties"]["version"]) for f in features)
    assert got == _expected_versions(db_url, start, end)
    if (start is None or start < dt.date(2025, 3, 1)) and (end is None or end >= dt.date(2025, 3, 1)):
        # Both sides of the move: the grid under its old code, and under the code it took in its new community.
        successor = client.get(f"/units/{MOVED_GRID}/history").json()["current_code"]
        assert successor != MOVED_GRID
        assert [c for c, _ in got].count(MOVED_GRID) == 1 and [c for c, _ in got].count(successor) == 1


def test_totals_of_an_old_version_are_those_of_its_own_time(changed_client) -> None:
    client, _ = changed_client
    features = client.get("/collections/communities/items", params={"datetime": "2024-01-01/.."}).json()["features"]
    c11 = sorted((f for f in features if f["id"] == C11), key=lambda f: f["properties"]["version"])
    assert len(c11) == 2
    assert c11[0]["properties"]["buildings"] == 10 and c11[1]["properties"]["buildings"] == 5


@pytest.mark.parametrize("extra", [{"datetime": "2025-06-30T10:00:00+08:00"}, {"name": "社区11党群服务中心"},
                                   {"datetime": "2024-01-01T00:00:00Z/.."}])
def test_next_links_keep_every_parameter_encoded(client, extra: dict) -> None:
    """A `+` in a time zone or Chinese text must reach the server unchanged when the link is followed."""
    first = client.get("/collections/stations/items", params={"limit": 1, **extra}).json()
    matched = first["numberMatched"]
    assert matched >= 1
    features = _page_all(client, "/collections/stations/items", limit=1, **extra)
    assert len(features) == matched
    if matched > 1:
        nxt = [link["href"] for link in first["links"] if link["rel"] == "next"][0]
        query = parse_qs(urlsplit(nxt).query)
        for key, value in extra.items():
            assert query[key] == [value]
        assert "+" not in urlsplit(nxt).query and " " not in nxt


def test_queryables_are_json_schema_and_filter_items(client) -> None:
    schema = client.get("/collections/grids/queryables")
    assert schema.status_code == 200
    assert schema.headers["content-type"].startswith("application/schema+json")
    body = schema.json()
    assert body["$schema"].startswith("https://json-schema.org/draft/2020-12")
    assert body["properties"]["valid_to"]["format"] == "date"
    assert body["properties"]["version"]["type"] == "integer"
    assert {"code", "name", "kind", "parent_code", "valid_from"} <= set(body["properties"])
    full = client.get("/collections/grids/schema").json()
    assert full["properties"]["residents"]["type"] == "integer"
    links = {link["rel"]: link for link in client.get("/collections/grids").json()["links"]}
    assert links["http://www.opengis.net/def/rel/ogc/1.0/queryables"]["href"].endswith("/collections/grids/queryables")
    assert links["describedby"]["type"] == "application/schema+json"
    conformance = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters" in conformance

    grids = tiny_dataset().units.query("level == 'grid'")
    parent = "520499001002"
    body = client.get("/collections/grids/items", params={"parent_code": parent}).json()
    assert sorted(f["id"] for f in body["features"]) == sorted(grids[grids["parent_code"] == parent]["code"])
    both = client.get("/collections/grids/items", params=[("parent_code", parent), ("parent_code", C11)]).json()
    assert both["numberMatched"] == 4
    stations = client.get("/collections/stations/items", params={"kind": "volunteer_station"}).json()
    assert [f["properties"]["kind"] for f in stations["features"]] == ["volunteer_station"]
    assert client.get("/collections/stations/items", params={"capacity": 20}).json()["numberMatched"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "unlimited"}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"offset": -1}, "offset"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "1,2,3,4,5"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "106,26.1,106.1,26"}, "bbox"),
        ({"bbox": "0,0,200,10"}, "bbox"),
        ({"datetime": "2024-13-01"}, "datetime"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2025-01-01/2024-01-01"}, "datetime"),
        ({"datetime": "2024-01-01/2024-02-01/2024-03-01"}, "datetime"),
        ({"ooga": "booga"}, "ooga"),
        ({"capacity": "many"}, "capacity"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "crs"),
        ({"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "bbox-crs"),  # lat/lon axis order
    ],
)
def test_bad_parameters_are_400_with_our_error_body(client, params: dict, field: str) -> None:
    response = client.get("/collections/stations/items", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == field and error["code"] and error["message"]


def test_timestamp_is_the_time_of_the_response(client) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    stamp = client.get("/collections/grids/items", params={"datetime": "2024-06-01"}).json()["timeStamp"]
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert before <= dt.datetime.fromisoformat(stamp) <= after


def test_openapi_is_3_0_as_claimed_with_bbox_an_array(client) -> None:
    import yaml
    from openapi_schema_validator import OAS30Validator, validate

    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.0")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in client.get("/conformance").json()[
        "conformsTo"]
    service_desc = [link for link in client.get("/").json()["links"] if link["rel"] == "service-desc"][0]
    assert service_desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    for path in ("/collections/{collectionId}/items", "/collections/grids/items"):
        params = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"]}
        bbox = params["bbox"]
        assert bbox["schema"] == {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
        assert bbox["style"] == "form" and bbox["explode"] is False
        assert params["limit"]["schema"]["type"] == "integer" and params["limit"]["explode"] is False
    assert "parent_code" in {p["name"] for p in doc["paths"]["/collections/grids/items"]["get"]["parameters"]}

    def no_31(node) -> None:  # nothing that only OpenAPI 3.1 / JSON Schema 2020-12 allows
        if isinstance(node, dict):
            assert not isinstance(node.get("type"), list), node
            assert "const" not in node, node
            assert isinstance(node.get("exclusiveMinimum", False), bool), node
            assert {"type": "null"} not in node.get("anyOf", []), node
            for value in node.values():
                no_31(value)
        elif isinstance(node, list):
            for value in node:
                no_31(value)

    no_31(doc)
    # The OpenAPI 3.0 schema that the ogctests validator (features/core, ATS 6) checks against; ogctests lives
    # in a virtualenv of its own (the Makefile's OGCTESTS), so its schema file is read from there.
    found = sorted((Path(__file__).resolve().parent.parent / ".venv-ogctests").glob(
        "lib/python*/site-packages/ogctests/features/schemas/openapi_schema_v3.0.yaml"))
    assert found, "ogctests is installed by `make test` in .venv-ogctests (see the Makefile)"
    schema_file = found[0]
    validate(doc, yaml.safe_load(schema_file.read_text()), cls=OAS30Validator)


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ("106.0,26.0,0,106.009,26.009,100", {"520499001002001"}),  # 6 numbers: minZ and maxZ ignored
        ("170,25.9,106.009,26.1", None),  # across the antimeridian: east of 170 and west of 106.009
        ("170,25.9,105.9,26.1", set()),  # across the antimeridian, missing the data
    ],
)
def test_six_number_and_antimeridian_bboxes(client, bbox: str, expected) -> None:
    response = client.get("/collections/grids/items", params={"bbox": bbox})
    assert response.status_code == 200, response.text
    got = {f["id"] for f in response.json()["features"]}
    if expected is None:
        grids = tiny_dataset().units.query("level == 'grid'")
        expected = set(grids[grids.geometry.bounds["minx"] <= 106.009]["code"])
    assert got == expected


def test_cors_is_off_by_default_and_configurable(tiny_db_url: str) -> None:
    preflight = {"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "X-API-Key"}
    with make_client(tiny_db_url) as client:
        response = client.get("/collections", headers={"Origin": "https://app.example.org"})
        assert "access-control-allow-origin" not in response.headers
    with make_client(tiny_db_url, cors_origins=["https://app.example.org"]) as client:
        response = client.options("/collections/grids/items", headers=preflight)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "x-api-key" in response.headers["access-control-allow-headers"].lower()
        got = client.get("/collections/grids/items", headers={"Origin": "https://app.example.org"})
        assert got.headers["access-control-allow-origin"] == "https://app.example.org"
        other = client.get("/collections", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_origins_from_the_environment(monkeypatch) -> None:
    from api.settings import ApiSettings

    monkeypatch.setenv("GRIDGOV_CORS_ORIGINS", "https://a.example.org, https://b.example.org/")
    assert ApiSettings().cors_origins == ["https://a.example.org", "https://b.example.org"]
    monkeypatch.setenv("GRIDGOV_CORS_ORIGINS", '["*"]')
    assert ApiSettings().cors_origins == ["*"]


PRIVATE = {"address", "households", "residents", "elderly", "children", "special_care"}


@pytest.mark.parametrize(("headers", "full"), [({}, False), ({"X-API-Key": READER_KEY}, False), (PLANNER, True)])
def test_residents_data_on_buildings_only_for_planners(client, headers: dict, full: bool) -> None:
    """PIPL: building-level residents' data is personal; public reads see it only as grid totals."""
    items = client.get("/collections/buildings/items", headers=headers, params={"limit": 3}).json()
    one = client.get(f"/collections/buildings/items/{items['features'][0]['id']}", headers=headers).json()
    queryables = client.get("/collections/buildings/queryables", headers=headers).json()["properties"]
    schema = client.get("/collections/buildings/schema", headers=headers).json()["properties"]
    for props in [f["properties"] for f in items["features"]] + [one["properties"]]:
        if full:
            assert PRIVATE <= set(props)
        else:
            assert set(props) == {"code", "grid_code"}
    assert (PRIVATE <= set(schema)) == full and (PRIVATE <= set(queryables)) == full
    assert not full or "residents" in queryables
    if not full:
        assert set(schema) == {"geometry", "code", "grid_code"}
        refused = client.get("/collections/buildings/items", headers=headers, params={"residents": 25})
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "residents"
    grid = client.get("/collections/grids/items", headers=headers, params={"limit": 1}).json()["features"][0]
    assert grid["properties"]["residents"] > 0  # aggregated to the grid: public
    assert client.get("/collections/buildings/items", headers={"X-API-Key": "not-a-valid-key-000"}).status_code == 401
