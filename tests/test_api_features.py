"""OGC API Features: landing, conformance, collections, paging like QGIS, bbox, datetime, totals."""

from __future__ import annotations

import pytest
from factories import tiny_dataset
from shapely.geometry import box, shape

COLLECTIONS = {"subdistricts": 2, "communities": 4, "grids": 8, "buildings": 40, "stations": 5}


def test_landing_page_links(client) -> None:
    body = client.get("/").json()
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels


def test_conformance_declares_core_and_geojson(client) -> None:
    classes = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes


def test_collections_list_every_layer_with_extent(client) -> None:
    body = client.get("/collections").json()
    assert {c["id"] for c in body["collections"]} == set(COLLECTIONS)
    grids = client.get("/collections/grids").json()
    minx, miny, maxx, maxy = grids["extent"]["spatial"]["bbox"][0]
    assert (minx, miny, maxx, maxy) == pytest.approx((106.0, 26.0, 106.04, 26.02))
    assert grids["extent"]["temporal"]["interval"][0][0].startswith("2024-01-01")


@pytest.mark.parametrize(("collection", "count"), COLLECTIONS.items())
def test_a_client_can_page_through_a_whole_collection(client, collection: str, count: int) -> None:
    """Follow `next` links as QGIS does, page size 3, until there are none."""
    url, seen, pages = f"/collections/{collection}/items?limit=3", [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/geo+json")
        body = response.json()
        assert body["numberMatched"] == count
        assert body["numberReturned"] == len(body["features"]) <= 3
        seen += [f["id"] for f in body["features"]]
        pages += 1
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert len(seen) == len(set(seen)) == count
    assert pages == -(-count // 3)


def test_prev_link_goes_back(client) -> None:
    body = client.get("/collections/grids/items?limit=3&offset=3").json()
    prev = [link["href"] for link in body["links"] if link["rel"] == "prev"][0]
    assert "offset=0" in prev


def test_bbox_selects_intersecting_features(client) -> None:
    query = box(106.0, 26.0, 106.009, 26.009)  # inside the south-west grid only
    body = client.get("/collections/grids/items", params={"bbox": "106.0,26.0,106.009,26.009"}).json()
    grids = tiny_dataset().units.query("level == 'grid'")
    expected = sorted(grids[grids.intersects(query)]["code"])
    assert sorted(f["id"] for f in body["features"]) == expected
    buildings = client.get("/collections/buildings/items", params={"bbox": "106.0,26.0,106.009,26.009"}).json()
    assert all(query.intersects(shape(f["geometry"])) for f in buildings["features"])
    assert buildings["numberMatched"] == sum(
        query.intersects(g) for g in tiny_dataset().buildings.geometry
    )


def test_unit_features_carry_totals(client) -> None:
    feature = client.get("/collections/communities/items/520499001001").json()
    ds = tiny_dataset()
    in_community = ds.buildings[ds.buildings["code"].str.startswith("520499001001")]
    assert feature["properties"]["residents"] == int(in_community["residents"].sum())
    assert feature["properties"]["households"] == int(in_community["households"].sum())
    assert feature["properties"]["buildings"] == len(in_community)
    assert feature["properties"]["workers"] == 11
    sub = client.get("/collections/subdistricts/items/520499001").json()
    assert sub["properties"]["workers"] == 11 + 12


def test_datetime_before_the_data_matches_nothing(client) -> None:
    body = client.get("/collections/grids/items", params={"datetime": "2023-06-01"}).json()
    assert body["numberMatched"] == 0


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/collections/rivers", 404, "collectionId"),
        ("/collections/rivers/items", 404, "collectionId"),
        ("/collections/grids/items/999", 404, "featureId"),
        # OGC API Features Part 1: 400 for invalid parameters
        ("/collections/grids/items?limit=10001", 400, "limit"),
        ("/collections/grids/items?limit=0", 400, "limit"),
        ("/collections/grids/items?offset=-1", 400, "offset"),
        ("/collections/grids/items?bbox=1,2,3", 400, "bbox"),
        ("/collections/grids/items?bbox=a,b,c,d", 400, "bbox"),
        ("/collections/grids/items?bbox=106,26.1,106.1,26", 400, "bbox"),
        ("/collections/grids/items?bbox=0,0,200,10", 400, "bbox"),
        ("/collections/grids/items?datetime=2024-13-01", 400, "datetime"),
    ],
)
def test_bad_feature_requests_are_clear_4xx(client, url: str, status: int, field: str) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
