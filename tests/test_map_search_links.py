"""Search by building address and past ten results; a proposal's change as GeoJSON; density heat maps of groups;
the page's optional features."""

from __future__ import annotations

import json

import shapely
from conftest import PLANNER_KEY
from factories import DISTRICT

COMMUNITY = f"{DISTRICT}001001"
NEIGHBOUR = f"{DISTRICT}001002"


def test_search_finds_a_building_by_its_address(client) -> None:
    answer = client.get("/map/search", params={"q": "网格111 3栋"}).json()
    buildings = [r for r in answer["results"] if r["type"] == "building"]
    assert [b["code"] for b in buildings] == [f"{COMMUNITY}0010003"]
    hit = buildings[0]
    assert hit["grid_code"] == f"{COMMUNITY}001" and hit["name"] == "网格111 3栋"
    assert hit["bbox"][0] == hit["bbox"][2] and hit["residents"] > 0


def test_search_answers_more_than_ten_and_says_how_many_matched(client) -> None:
    # "网格" is in every grid's name (8) and every building's address (40): all of them, not the first ten.
    answer = client.get("/map/search", params={"q": "网格", "limit": 100}).json()
    kinds = [r["type"] for r in answer["results"]]
    assert kinds.count("unit") == 8 and kinds.count("building") == 40
    assert answer["numberMatched"] == len(answer["results"]) == 48
    units_first = kinds.index("building") > max(i for i, k in enumerate(kinds) if k == "unit")
    assert units_first
    short = client.get("/map/search", params={"q": "网格", "limit": 12}).json()
    assert len(short["results"]) == 12 and short["numberMatched"] > 12
    assert client.get("/map/search", params={"q": "网格", "limit": 0}).status_code == 422


def test_search_takes_like_wildcards_literally(client) -> None:
    for q in ("%", "_", "网格111%"):
        answer = client.get("/map/search", params={"q": q}).json()
        assert [r for r in answer["results"] if r["type"] == "building"] == [], q


def test_change_geojson_has_the_territory_and_the_units_before_and_after(client) -> None:
    headers = {"X-API-Key": PLANNER_KEY}
    created = client.post("/proposals", headers=headers, json={
        "from_code": COMMUNITY, "to_code": NEIGHBOUR, "child_codes": [f"{COMMUNITY}001"],
        "effective_date": "2025-03-01", "author": "测试", "document_ref": "测〔2025〕1号"})
    assert created.status_code == 201, created.text
    pid = created.json()["proposal"]["id"]
    for status in ("draft", "applied"):
        if status == "applied":
            assert client.post(f"/proposals/{pid}/apply", headers=headers, json={"author": "测试"}).status_code == 200
        response = client.get(f"/proposals/{pid}/change.geojson")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/geo+json")
        assert f"proposal-{pid}-change.geojson" in response.headers["content-disposition"]
        data = json.loads(response.content)
        states = [f["properties"]["state"] for f in data["features"]]
        assert states[0] == "territory" and "before" in states and "after" in states
        territory = data["features"][0]
        grid = client.get(f"/collections/grids/items/{COMMUNITY}001", params={"datetime": "2025-02-28"}).json()
        moved, whole_grid = shapely.geometry.shape(territory["geometry"]), shapely.geometry.shape(grid["geometry"])
        assert moved.symmetric_difference(whole_grid).area < 1e-10  # the grid moved whole is the territory
        props = territory["properties"]
        assert props["proposal_id"] == pid and props["status"] == status and props["document_ref"] == "测〔2025〕1号"
        assert props["residents"] == grid["properties"]["residents"]
        roles = {(f["properties"]["state"], f["properties"].get("code")) for f in data["features"][1:]}
        assert ("before", COMMUNITY) in roles and ("after", NEIGHBOUR) in roles
    assert client.get("/proposals/99999/change.geojson").status_code == 404


def test_the_page_knows_the_optional_proposal_routes(client) -> None:
    page = client.get("/map").text
    config = json.loads(page.split("gg.init(", 1)[1].rsplit(");", 1)[0])
    assert config["features"].get("preview") is True and config["features"].get("change_geojson") is True
    assert config["strings"]["err_code_unauthorized"] and config["strings"]["tool_brush"] == "画笔"


def test_the_heat_grid_counts_the_group_asked_for(client) -> None:
    buildings = client.get("/collections/buildings/items", params={"limit": 1000},  # residents' fields: planners
                           headers={"X-API-Key": PLANNER_KEY}).json()["features"]
    for weight in ("residents", "elderly", "children", "special_care"):
        layer = client.get("/map/layers/buildings", params={"zoom": 10, "weight": weight}).json()
        assert layer["mode"] == "heat" and layer["heat"]["weight"] == weight
        expected = sum(b["properties"][weight] or 0 for b in buildings)
        assert layer["heat"]["total"] == expected == sum(p[2] for p in layer["heat"]["points"]), weight
    bad = client.get("/map/layers/buildings", params={"zoom": 10, "weight": "income"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "weight"
