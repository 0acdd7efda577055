"""The Xixiu demo loaded into each database: every invariant holds and the story is there."""

from __future__ import annotations

import datetime as dt

from conftest import make_client

from geo.db import make_engine
from geo.invariants import check_database


def test_every_invariant_holds_on_the_demo(demo_db_url: str) -> None:
    report = check_database(make_engine(demo_db_url), as_of=dt.date.today())
    assert report.ok, "\n".join(report.lines())
    assert report.counts["communities"] == 550
    assert report.counts["grids"] == 2500
    assert 50_000 <= report.counts["buildings"] <= 70_000


def test_the_api_finds_nanjiao_and_the_maocaojing_station(demo_db_url: str) -> None:
    with make_client(demo_db_url) as client:
        communities = client.get("/collections/communities/items", params={"limit": 1000}).json()
        by_name = {f["properties"]["name"]: f for f in communities["features"]}
        nanjiao = by_name["南郊社区"]
        assert nanjiao["properties"]["parent_code"] == "520402006"
        lon, lat = nanjiao["geometry"]["coordinates"][0][0][0]
        located = client.get("/locate", params={"lon": lon, "lat": lat})
        assert located.status_code == 200
        assert located.json()["district"]["code"] == "520402"
        station = client.get("/collections/stations/items", params={"limit": 1000}).json()
        names = {f["properties"]["name"] for f in station["features"]}
        assert any("暖新护航·驿站有我" in n for n in names)
        total = client.get("/collections/communities/items", params={"limit": 1}).json()["numberMatched"]
        assert total == 550


def test_nearest_stations_on_the_demo_match_brute_force(demo_db_url: str) -> None:
    """Random points over the district: the index's answer equals ranking every station with pyproj."""
    import random

    from pyproj import Geod

    from geo.nearest import nearest_stations
    from geo.store import read_stations

    geod, rng = Geod(ellps="WGS84"), random.Random(11)
    engine = make_engine(demo_db_url)
    today = dt.date.today()
    with engine.connect() as conn:
        stations = read_stations(conn, as_of=today)
        xs, ys = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
        for _ in range(40):
            lon, lat = rng.uniform(105.75, 106.36), rng.uniform(25.94, 26.44)
            k = rng.choice([1, 3, 10])
            kinds = rng.choice([None, ["health_station"], ["new_employment_station", "volunteer_station"]])
            mask = stations["kind"].isin(kinds).to_numpy() if kinds else slice(None)
            _, _, dist = geod.inv([lon] * len(xs[mask]), [lat] * len(xs[mask]), xs[mask], ys[mask])
            expected = sorted(zip(dist, stations["code"].to_numpy()[mask], strict=True))[:k]
            found = nearest_stations(conn, lon, lat, as_of=today, k=k, kinds=kinds)
            assert [s.code for s in found] == [code for _, code in expected]
            assert all(abs(s.distance_m - d) < 1.0 for s, (d, _) in zip(found, expected, strict=True))
