"""The proposal workflow over HTTP: roles, the acceptance scenario on the Xixiu demo, bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import PLANNER_KEY, READER_KEY, make_client
from scenarios import nanjiao_third_polygon
from shapely.geometry import box, mapping
from typer.testing import CliRunner

from cli.main import app as cli_app
from geo.crs import geodesic_area_m2
from geo.db import make_engine
from geo.invariants import check_database
from geo.store import read_buildings

PLANNER = {"X-API-Key": PLANNER_KEY}
C11, C12 = "520499001001", "520499001002"
GRID_MOVE = {"from_code": C11, "to_code": C12, "child_codes": ["520499001001002"], "effective_date": "2025-03-01",
             "author": "王规划", "reason": "测试", "document_ref": "测试〔2025〕1号"}


def test_writes_need_the_planner_role(client) -> None:
    assert client.post("/proposals", json=GRID_MOVE).status_code == 401
    assert client.post("/proposals", json=GRID_MOVE, headers={"X-API-Key": READER_KEY}).status_code == 403
    created = client.post("/proposals", json=GRID_MOVE, headers=PLANNER)
    assert created.status_code == 201, created.text
    pid = created.json()["proposal"]["id"]
    assert client.post(f"/proposals/{pid}/apply", json={"author": "x"}).status_code == 401
    assert client.get(f"/proposals/{pid}").status_code == 200  # reads stay open


def test_apply_revert_history_and_changes_over_http(client) -> None:
    pid = client.post("/proposals", json=GRID_MOVE, headers=PLANNER).json()["proposal"]["id"]
    applied = client.post(f"/proposals/{pid}/apply", json={"author": "王规划"}, headers=PLANNER)
    assert applied.status_code == 200, applied.text
    assert client.post(f"/proposals/{pid}/apply", json={"author": "x"}, headers=PLANNER).status_code == 409
    history = client.get(f"/units/{C11}/history").json()["versions"]
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["change"]["document_ref"] == "测试〔2025〕1号"
    assert history[1]["valid_from"] == "2025-03-01" and history[0]["valid_to"] == "2025-03-01"
    assert [c["kind"] for c in client.get("/changes", params={"unit": C11}).json()["changes"]] == ["apply"]
    assert [c["kind"] for c in client.get("/changes", params={"unit": "520499"}).json()["changes"]] == ["import"]
    assert client.get("/changes", params={"author": "nobody"}).json()["changes"] == []
    listed = client.get("/proposals", params={"status": "applied", "unit": C12}).json()["proposals"]
    assert [p["id"] for p in listed] == [pid]
    reverted = client.post(f"/proposals/{pid}/revert", json={"author": "王规划", "effective_date": "2025-04-01"},
                           headers=PLANNER)
    assert reverted.status_code == 200, reverted.text
    assert client.get(f"/proposals/{pid}").json()["proposal"]["status"] == "reverted"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"effective_date": "01/03/2025"}, 422, "effective_date"),
        ({"from_code": "nope"}, 422, "from_code"),
        ({"child_codes": None, "area": {"type": "Polygon", "coordinates": "garbage"}}, 422, "area"),
        ({"child_codes": None, "area": {"type": "Point", "coordinates": [106.0, 26.0]}}, 422, "area"),
        ({"child_codes": None, "area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
         422, "area"),
        ({"child_codes": None, "area_crs": "EPSG:999999",
          "area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}, 422, "area_crs"),
        ({"author": ""}, 422, "author"),
    ],
)
def test_bad_proposals_are_422_naming_the_field(client, change, status, field) -> None:
    response = client.post("/proposals", json={**GRID_MOVE, **change}, headers=PLANNER)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert client.get("/proposals").json()["proposals"] == []


@pytest.mark.parametrize(("url", "status"), [("/proposals/999", 404), ("/proposals/abc", 422),
                                             ("/units/999/history", 404), ("/changes?since=yesterday", 422)])
def test_unknown_things_are_clear_errors(client, url: str, status: int) -> None:
    assert client.get(url).status_code == status


def test_a_drawn_area_in_another_crs_is_reprojected(client) -> None:
    import shapely
    from pyproj import Transformer

    to_utm = Transformer.from_crs(4326, 32648, always_xy=True)
    area = shapely.transform(box(106.025, 26.012, 106.035, 26.02), lambda xy: np.column_stack(
        to_utm.transform(xy[:, 0], xy[:, 1])))
    body = {**GRID_MOVE, "from_code": "520499002001", "to_code": "520499002002", "child_codes": None,
            "area": mapping(area), "area_crs": "EPSG:32648", "allow_non_adjacent": True}
    response = client.post("/proposals", json=body, headers=PLANNER)
    assert response.status_code == 201, response.text
    expected = geodesic_area_m2(box(106.025, 26.012, 106.035, 26.02)) / 1e6  # all of it lies in the unit
    assert response.json()["preview"]["moved"]["area_km2"] == pytest.approx(expected, rel=0.002)


def test_the_cli_walks_the_same_workflow(tiny_db_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(cli_app, ["propose", "--from", C11, "--to", C12, "--grids", "520499001001002",
                                      "--effective-date", "2025-03-01", "--author", "cli", "--database", tiny_db_url])
    assert created.exit_code == 0, created.output
    assert runner.invoke(cli_app, ["apply", "1", "--author", "cli", "--database", tiny_db_url]).exit_code == 0
    again = runner.invoke(cli_app, ["apply", "1", "--author", "cli", "--database", tiny_db_url])
    assert again.exit_code == 2 and "already applied" in again.output
    assert '"version": 2' in runner.invoke(cli_app, ["history", C11, "--database", tiny_db_url]).output
    assert runner.invoke(cli_app, ["revert", "1", "--author", "cli", "--database", tiny_db_url]).exit_code == 0
    not_draft = runner.invoke(cli_app, ["rebase", "1", "--database", tiny_db_url])
    assert not_draft.exit_code == 2 and "only a draft proposal can be rebased" in not_draft.output
    bad = runner.invoke(cli_app, ["propose", "--from", C11, "--to", C11, "--grids", "x", "--effective-date",
                                  "2025-03-01", "--author", "cli", "--database", tiny_db_url])
    assert bad.exit_code == 2 and "same unit" in bad.output


def test_acceptance_nanjiao_to_lida_on_the_demo(demo_db_url: str) -> None:
    """The reference case, end to end over HTTP (ARCHITECTURE.md invariants checked on the result)."""
    engine = make_engine(demo_db_url)
    polygon, nanjiao, lida = nanjiao_third_polygon(engine)
    with engine.connect() as conn:
        buildings = read_buildings(conn, as_of=dt.date.today())
    with make_client(demo_db_url) as client:
        def community(code: str, day: str | None = None) -> dict:
            params = {"datetime": day} if day else {}
            return client.get(f"/collections/communities/items/{code}", params=params).json()["properties"]

        before_a, before_b = community(nanjiao.code), community(lida.code)
        district_before = client.get("/collections/subdistricts/items/520402006").json()["properties"]
        body = {"from_code": nanjiao.code, "to_code": lida.code, "area": mapping(polygon),
                "effective_date": "2025-03-01", "author": "华西街道", "reason": "缓解南郊社区管理压力",
                "document_ref": "西华办〔2025〕7号"}
        # The drawn band cuts a corner of Nanjiao off the rest: refused, naming it, unless the planner allows it.
        refused = client.post("/proposals", headers=PLANNER, json=body)
        assert refused.status_code == 422 and "南郊社区" in refused.json()["error"]["message"]
        assert "separate parts" in refused.json()["error"]["message"]
        created = client.post("/proposals", headers=PLANNER, json={**body, "allow_non_adjacent": True})
        assert created.status_code == 201, created.text
        preview = created.json()["preview"]
        moved = preview["moved"]["residents"]
        assert 0.25 * before_a["residents"] < moved < 0.42 * before_a["residents"]  # roughly a third
        pid = created.json()["proposal"]["id"]
        assert client.post(f"/proposals/{pid}/apply", json={"author": "华西街道"}, headers=PLANNER).status_code == 200
        after_a, after_b = community(nanjiao.code), community(lida.code)
        assert before_a["residents"] - after_a["residents"] == moved == after_b["residents"] - before_b["residents"]
        assert before_a["households"] - after_a["households"] == after_b["households"] - before_b["households"]
        district_after = client.get("/collections/subdistricts/items/520402006").json()["properties"]
        assert district_after["residents"] == district_before["residents"]
        assert check_database(engine, as_of=dt.date.today()).ok
        # a building that moved: Lida now, Nanjiao on a date before the change
        moved_building = next(b for b in buildings.itertuples()
                              if polygon.contains(b.geometry) and nanjiao.geometry.contains(b.geometry))
        point = {"lon": moved_building.geometry.x, "lat": moved_building.geometry.y}
        assert client.get("/locate", params=point).json()["community"]["code"] == lida.code
        past = client.get("/locate", params={**point, "datetime": "2025-02-28"}).json()
        assert past["community"]["code"] == nanjiao.code
        assert client.post(f"/proposals/{pid}/revert", json={"author": "华西街道"}, headers=PLANNER).status_code == 200
        assert community(nanjiao.code) == {**before_a, "version": community(nanjiao.code)["version"],
                                           "valid_from": community(nanjiao.code)["valid_from"]}
        assert client.get("/locate", params=point).json()["community"]["code"] == nanjiao.code
    assert check_database(engine, as_of=dt.date.today()).ok


SPLIT = {"kind": "split", "from_code": "520499001001001", "effective_date": "2025-03-01", "author": "王规划",
         "parts": [mapping(box(106.0, 26.01, 106.004, 26.02))]}
MERGE = {"kind": "merge", "to_code": "520499001001001", "merge_codes": ["520499001001002"],
         "effective_date": "2025-03-01", "author": "王规划"}


def test_a_stale_draft_can_be_rebased_on_the_current_map(client) -> None:
    first = client.post("/proposals", json=GRID_MOVE, headers=PLANNER).json()["proposal"]["id"]
    second = client.post("/proposals", headers=PLANNER, json={
        **GRID_MOVE, "from_code": C12, "to_code": C11, "child_codes": ["520499001002002"],
        "allow_non_adjacent": True}).json()["proposal"]["id"]
    assert client.post(f"/proposals/{second}/rebase", headers={"X-API-Key": READER_KEY}).status_code == 403
    assert client.post(f"/proposals/{first}/apply", json={"author": "x"}, headers=PLANNER).status_code == 200
    assert client.post(f"/proposals/{second}/apply", json={"author": "x"}, headers=PLANNER).status_code == 409
    assert client.get(f"/proposals/{second}").json()["stale"]
    rebased = client.post(f"/proposals/{second}/rebase", headers=PLANNER)
    assert rebased.status_code == 200, rebased.text
    assert rebased.json()["stale"] == [] and rebased.json()["proposal"]["base_versions"][C11] == 2
    assert client.post(f"/proposals/{second}/apply", json={"author": "x"}, headers=PLANNER).status_code == 200
    assert client.post(f"/proposals/{first}/rebase", headers=PLANNER).status_code == 409  # applied, not a draft


def test_splits_and_merges_over_http(client) -> None:
    split = client.post("/proposals", json=SPLIT, headers=PLANNER)
    assert split.status_code == 201, split.text
    body = split.json()
    assert body["proposal"]["kind"] == "split" and body["proposal"]["to_code"] is None
    assert body["preview"]["created"] == ["520499001001003"]
    assert {f["properties"]["change"] for f in body["preview"]["after"]["features"]} == {"created", "changed"}
    merge = client.post("/proposals", json=MERGE, headers=PLANNER)
    assert merge.status_code == 201, merge.text
    assert merge.json()["proposal"]["from_code"] == "520499001001002"  # the first merged unit
    listed = client.get("/proposals", params={"unit": "520499001001002"}).json()["proposals"]
    assert [p["kind"] for p in listed] == ["merge"]
    pid = merge.json()["proposal"]["id"]
    assert client.post(f"/proposals/{pid}/apply", json={"author": "王规划"}, headers=PLANNER).status_code == 200
    stale = client.post(f"/proposals/{body['proposal']['id']}/apply", json={"author": "王规划"}, headers=PLANNER)
    assert stale.status_code == 409  # the merge changed the grid the split was drawn on
    assert client.get("/collections/grids/items/520499001001002").status_code == 404
    assert client.post(f"/proposals/{pid}/revert", json={"author": "王规划"}, headers=PLANNER).status_code == 200
    assert client.get("/collections/grids/items/520499001001002").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SPLIT, "from_code": None}, "from_code"),
        ({**SPLIT, "parts": [{"type": "Polygon", "coordinates": "garbage"}]}, "parts"),
        ({**SPLIT, "parts": []}, "parts"),
        ({**SPLIT, "parts": None}, "parts"),
        ({**SPLIT, "area": mapping(box(106.0, 26.01, 106.004, 26.02))}, "area"),
        ({**MERGE, "merge_codes": ["520499009009009"]}, "merge_codes"),
        ({**MERGE, "merge_codes": None}, "from_code"),
        ({**MERGE, "to_code": None}, "to_code"),
        ({**MERGE, "kind": "swap"}, "kind"),
    ],
)
def test_bad_splits_and_merges_are_422_naming_the_field(client, body, field) -> None:
    response = client.post("/proposals", json=body, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert client.get("/proposals").json()["proposals"] == []


def test_the_cli_splits_and_merges(tiny_db_url: str, tmp_path) -> None:
    import json

    parts = tmp_path / "parts.geojson"
    parts.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(box(106.0, 26.01, 106.004, 26.02))},
        {"type": "Feature", "properties": {}, "geometry": mapping(box(106.004, 26.01, 106.007, 26.02))}]}))
    runner = CliRunner()
    common = ["--effective-date", "2025-03-01", "--author", "cli", "--database", tiny_db_url]
    split = runner.invoke(cli_app, ["propose", "--kind", "split", "--from", "520499001001001", "--parts", str(parts),
                                    *common])
    assert split.exit_code == 0, split.output
    assert '"520499001001003",' in split.output and '"520499001001004"' in split.output
    merge = runner.invoke(cli_app, ["propose", "--kind", "merge", "--to", "520499001001001", "--merge",
                                    "520499001001002", *common])
    assert merge.exit_code == 0, merge.output
    assert '"retired": [\n      "520499001001002"' in merge.output
    bad = runner.invoke(cli_app, ["propose", "--kind", "merge", "--to", "520499001001001", *common])
    assert bad.exit_code == 2 and "needs --from or --merge" in bad.output


def test_a_what_if_preview_stores_nothing(client) -> None:
    before = client.get("/proposals").json()["proposals"]
    answer = client.post("/proposals/preview", json=GRID_MOVE, headers=PLANNER)
    assert answer.status_code == 200, answer.text
    stored = client.post("/proposals", json=GRID_MOVE, headers=PLANNER).json()["preview"]
    assert answer.json()["preview"]["units"] == stored["units"]  # the same figures a draft would show
    assert len(client.get("/proposals").json()["proposals"]) == len(before) + 1  # only the explicit draft
    assert client.post("/proposals/preview", json=GRID_MOVE).status_code == 401
    refused = client.post("/proposals/preview", json={**GRID_MOVE, "to_code": C11}, headers=PLANNER)
    assert refused.status_code == 200 and refused.json()["preview"] is None  # a question, answered: refused
    assert refused.json()["refused"]["field"] == "to_code" and refused.json()["refused"]["message_zh"]
    unreadable = client.post("/proposals/preview", json={**GRID_MOVE, "effective_date": "soon"}, headers=PLANNER)
    assert unreadable.status_code == 422
