"""Events: storage as of the reported day, routing, lifecycle and audit, privacy, idempotent ingest.

Runs on SpatiaLite and PostGIS (tiny dataset: grid 520499001001002 is the north-east grid of
community 520499001001, the box lon 106.01–106.02, lat 26.01–26.02).
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import PLANNER_KEY, READER_KEY, make_client
from sqlalchemy import text

from geo.db import make_engine
from geo.errors import ImportRejected, InvalidInput
from geo.events import lifecycle
from geo.events.catalogue import parse_catalogue
from geo.events.ingest import ingest

PLANNER = {"X-API-Key": PLANNER_KEY}
READER = {"X-API-Key": READER_KEY}
GRID = "520499001001002"
C11, C12 = "520499001001", "520499001002"
INSIDE = {"lon": 106.015, "lat": 26.015}
REPORT = {"client_id": "app-1", "category": "环境卫生", "description": "垃圾桶满溢 <b>x</b>", "source": "volunteer",
          "reporter_name": "张三", "reporter_contact": "13800000000", "reported_at": "2025-02-01T09:30:00+08:00",
          **INSIDE}


def test_a_report_is_placed_routed_and_audited(client) -> None:
    r = client.post("/events", json=REPORT)
    assert r.status_code == 201, r.text
    out = r.json()["results"][0]
    assert out["status"] == "created" and out["grid_code"] == GRID and out["assignee_code"] == GRID
    event = client.get(f"/events/{out['event_id']}", headers=PLANNER).json()
    assert (event["grid_code"], event["community_code"], event["subdistrict_code"]) == (GRID, C11, "520499001")
    assert event["status"] == "assigned" and event["category"] == "environment"
    assert event["reporter_name"] == "张三"  # the handling role sees the reporter
    assert event["due_at"].startswith("2025-02-03T01:30:00")  # 48 h after 09:30 CST
    assert event["overdue"] is True  # open, long past due
    assert [(t["from_status"], t["to_status"]) for t in event["transitions"]] == [(None, "reported"),
                                                                                  ("reported", "assigned")]


def test_idempotent_by_client_id(client) -> None:
    first = client.post("/events", json=REPORT).json()["results"][0]
    again = client.post("/events", json=REPORT)
    assert again.status_code == 200
    assert again.json()["results"][0] == {**again.json()["results"][0], "status": "duplicate",
                                          "event_id": first["event_id"]}
    batch = client.post("/events", json={"events": [REPORT, {**REPORT, "client_id": "app-2"},
                                                    {**REPORT, "client_id": "app-2"}]}).json()
    assert [o["status"] for o in batch["results"]] == ["duplicate", "created", "duplicate"]
    assert client.get("/events", headers=PLANNER).json()["total"] == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"category": "不存在"}, "category"),
    ({"lon": 200}, "lon"),
    ({"lon": None, "lat": None}, "lon"),
    ({"lat": None}, "lat"),
    ({"source": "alien"}, "source"),
    ({"reported_at": "yesterday"}, "reported_at"),
    ({"reported_at": "2999-01-01T00:00:00"}, "reported_at"),
    ({"lon": 100.0, "lat": 30.0}, "lon"),  # outside every grid
])
def test_bad_reports_are_refused_naming_the_field_and_nothing_is_written(client, change, field) -> None:
    bad = {**REPORT, "client_id": "bad", **change}
    r = client.post("/events", json={"events": [{**REPORT, "client_id": "good"}, bad]})
    assert r.status_code == 422, r.text
    problem = r.json()["error"]["problems"][0]
    assert (problem["feature"], problem["field"]) == ("1", field)
    assert client.get("/events", headers=PLANNER).json()["total"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({**REPORT, "colour": "red"}, "colour"),
    ({"events": [{**REPORT, "colour": "red"}]}, "events[0].colour"),
    ({"events": [REPORT], "category": "safety"}, "category"),
    ({"events": []}, "events"),
    ({**REPORT, "category": None}, "category"),
])
def test_malformed_bodies_name_the_field(client, body, field) -> None:
    r = client.post("/events", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text


def test_privacy_reporter_only_in_the_planner_detail(client) -> None:
    eid = client.post("/events", json=REPORT).json()["results"][0]["event_id"]
    assert client.get("/events").status_code == 401  # point-level reads need a key
    assert client.get(f"/events/{eid}", headers=READER).status_code == 403
    for url in ("/events", "/events?format=geojson", "/events?format=csv"):
        body = client.get(url, headers=PLANNER).text
        assert "张三" not in body and "13800000000" not in body
    public = client.get("/events/grids?format=geojson").text
    assert "张三" not in public and "13800000000" not in public and "垃圾桶" not in public
    for coll in ("grids", "buildings", "communities"):
        assert "13800000000" not in client.get(f"/collections/{coll}/items").text
    assert "events" not in str(client.get("/collections").json())
    advanced = client.post(f"/events/{eid}/transitions", json={"status": "handling", "actor": "网格员李四"},
                           headers=PLANNER).json()
    assert "reporter_contact" not in advanced


def test_lifecycle_in_order_with_audit_and_overdue(client) -> None:
    eid = client.post("/events", json={**REPORT, "reported_at": None}).json()["results"][0]["event_id"]
    assert client.get(f"/events/{eid}", headers=PLANNER).json()["overdue"] is False
    skip = client.post(f"/events/{eid}/transitions", json={"status": "closed", "actor": "x"}, headers=PLANNER)
    assert skip.status_code == 409 and skip.json()["error"]["field"] == "status"
    assert client.post(f"/events/{eid}/transitions", json={"status": "handling", "actor": "x"}).status_code == 401
    for step in ("handling", "feedback", "handling", "feedback", "closed"):
        r = client.post(f"/events/{eid}/transitions", json={"status": step, "actor": "网格员李四", "note": "ok"},
                        headers=PLANNER)
        assert r.status_code == 200, r.text
    event = client.get(f"/events/{eid}", headers=PLANNER).json()
    assert event["status"] == "closed" and event["closed_at"] and event["closed_late"] is False
    assert event["responsible"] is None  # closed events are no one's work
    assert [t["to_status"] for t in event["transitions"]] == ["reported", "assigned", "handling", "feedback",
                                                              "handling", "feedback", "closed"]
    assert client.post(f"/events/{eid}/transitions", json={"status": "handling", "actor": "x"},
                       headers=PLANNER).status_code == 409
    assert client.post("/events/999/transitions", json={"status": "handling", "actor": "x"},
                       headers=PLANNER).status_code == 404


def test_transitions_are_append_only(tiny_db_url: str) -> None:
    with make_client(tiny_db_url) as client:
        client.post("/events", json=REPORT)
    engine = make_engine(tiny_db_url)
    for sql in ("UPDATE event_transitions SET actor = 'x'", "DELETE FROM event_transitions"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    engine.dispose()


def _move_grid(client, effective: str) -> str:
    move = {"from_code": C11, "to_code": C12, "child_codes": [GRID], "effective_date": effective, "author": "王规划"}
    pid = client.post("/proposals", headers=PLANNER, json=move).json()["proposal"]["id"]
    applied = client.post(f"/proposals/{pid}/apply", json={"author": "王规划"}, headers=PLANNER)
    assert applied.status_code == 200, applied.text
    return client.get("/locate", params={**INSIDE, "datetime": effective}).json()["grid"]["code"]


def test_a_boundary_change_reassigns_open_events_on_its_effective_date(tiny_db_url: str) -> None:
    with make_client(tiny_db_url) as client:
        ids = [client.post("/events", json={**REPORT, "client_id": f"e{i}"}).json()["results"][0]["event_id"]
               for i in range(2)]
        client.post(f"/events/{ids[1]}/transitions", json={"status": "handling", "actor": "x"}, headers=PLANNER)
        new = _move_grid(client, "2030-03-01")  # scheduled; moved whole, the grid takes a code under C12
        assert new != GRID and new.startswith(C12)
        before = client.get(f"/events/{ids[0]}", headers=PLANNER).json()
        assert before["responsible"]["grid_code"] == GRID and before["responsible"]["reassigned"] is False
    engine = make_engine(tiny_db_url)
    eve, day = dt.datetime(2030, 2, 28, 23, tzinfo=dt.UTC), dt.datetime(2030, 3, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        assert lifecycle.reconcile(conn, now=eve) == 0
        lifecycle.advance(conn, ids[1], "feedback", actor="网格员", now=eve)
        # ids[1] is handed over at its next step, ids[0] by the daily reconcile
        record = lifecycle.advance(conn, ids[1], "closed", actor="新网格员", now=day)
        assert lifecycle.reconcile(conn, now=day) == 1
        assert lifecycle.reconcile(conn, now=day) == 0
        assert (record["assignee_code"], record["assignee_community"]) == (new, C12)
        rows = conn.execute(text("SELECT event_id, kind, from_assignee, to_assignee FROM event_transitions "
                                 "WHERE kind = 'reassign' ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(ids[1], "reassign", f"{C11}/{GRID}", f"{C12}/{new}"),
                                                 (ids[0], "reassign", f"{C11}/{GRID}", f"{C12}/{new}")]
        # where the events lay when reported is never rewritten
        assert {r[0] for r in conn.execute(text("SELECT DISTINCT grid_code FROM events"))} == {GRID}
    engine.dispose()


def test_an_applied_change_shows_both_grids(tiny_db_url: str) -> None:
    with make_client(tiny_db_url) as client:
        eid = client.post("/events", json=REPORT).json()["results"][0]["event_id"]
        _move_grid(client, "2025-03-01")
        event = client.get(f"/events/{eid}", headers=PLANNER).json()
        assert event["grid_code"] == GRID and event["community_code"] == C11
        assert event["responsible"]["community_code"] == C12
        assert event["responsible"]["since"] == "2025-03-01" and event["responsible"]["reassigned"] is True
        assert event["responsible"]["change_id"] is not None
        counts = client.get("/events/grids", params={"level": "community"}).json()["units"]
        assert counts[C11]["events"] == 1 and counts[C12]["open"] == 1 and C12 not in {
            c for c, v in counts.items() if v["events"]}


def test_a_grid_without_worker_routes_to_its_community(tiny_db_url: str) -> None:
    engine = make_engine(tiny_db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE units SET workers = 0 WHERE code = :g"), {"g": GRID})
        out = ingest(conn, [{**REPORT}], catalogue=parse_catalogue(None)).outcomes[0]
    assert (out.grid_code, out.assignee_code) == (GRID, C11)
    engine.dispose()


def test_filters_and_counts(client) -> None:
    rows = [{**REPORT, "client_id": f"f{i}", "category": cat, "reported_at": f"2025-0{m}-10T10:00:00"}
            for i, (cat, m) in enumerate([("环境卫生", 1), ("safety", 2), ("信访", 3), ("dispute", 3)])]
    assert client.post("/events", json={"events": rows}).status_code == 201
    get = lambda **p: client.get("/events", params=p, headers=PLANNER).json()  # noqa: E731
    assert get(category="safety")["total"] == 1
    assert get(since="2025-03-01")["total"] == 2
    assert get(since="2025-02-01", until="2025-02-28")["total"] == 1
    assert get(unit=C11)["total"] == 4 and get(unit=C12)["total"] == 0
    assert get(overdue="true")["total"] == 4
    assert get(bbox="106.0,26.0,106.01,26.01")["total"] == 0
    assert client.get("/events", params={"status": "lost"}, headers=PLANNER).json()["error"]["field"] == "status"
    assert client.get("/events", params={"since": "x"}, headers=PLANNER).status_code == 422
    grid = client.get("/events/grids").json()["units"][GRID]
    assert grid["events"] == 4 and grid["open"] == 4 and grid["overdue"] == 4
    assert grid["by_category"] == {"environment": 1, "safety": 1, "petition": 1, "dispute": 1}
    assert grid["weighted_open"] == 1.0 + 1.5 + 3.0 + 2.0


def test_catalogue_is_configurable(tiny_db_url: str) -> None:
    cats = '[{"code": "roads", "name": "道路", "due_hours": 12, "weight": 2}]'
    with make_client(tiny_db_url, event_categories=cats) as client:
        assert [c["code"] for c in client.get("/events/categories").json()["categories"]] == ["roads"]
        assert client.post("/events", json={**REPORT, "category": "道路"}).status_code == 201
        assert client.post("/events", json={**REPORT, "client_id": "z"}).json()["error"]["field"] == "category"
    with pytest.raises(InvalidInput) as err:
        parse_catalogue('[{"code": "x", "name": "x", "due_hours": -1}]')
    assert err.value.field == "event_categories[0].due_hours"


def test_batch_errors_list_every_row(tiny_db_url: str) -> None:
    engine = make_engine(tiny_db_url)
    with pytest.raises(ImportRejected) as err, engine.begin() as conn:
        ingest(conn, [{"category": "x"}, {**REPORT, "lon": "east"}], catalogue=parse_catalogue(None))
    assert [(p.feature, p.field) for p in err.value.problems] == [("0", "category"), ("1", "lon")]
    engine.dispose()


def test_the_migration_goes_down_and_up_cleanly(engine) -> None:
    from alembic import command

    from geo.db import _alembic_config, migrate

    command.downgrade(_alembic_config(engine), "0005")
    migrate(engine)
    with make_client(str(engine.url.render_as_string(hide_password=False))):
        pass
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 0


def test_load_weighs_events_per_community(client) -> None:
    rows = [{**REPORT, "client_id": f"l{i}", "category": c} for i, c in enumerate(["petition", "petition", "safety"])]
    client.post("/events", json={"events": rows})
    plain = {r["code"]: r for r in client.get("/load").json()["rows"]}
    assert "events_open" not in plain[C11]
    shown = {r["code"]: r for r in client.get("/load", params={"events": "true"}).json()["rows"]}
    assert (shown[C11]["events_open"], shown[C11]["events_overdue"], shown[C11]["events_weighted"]) == (3, 3, 7.5)
    assert shown[C11]["workload"] == plain[C11]["workload"] and shown[C12]["events_open"] == 0
    weighed = {r["code"]: r for r in client.get("/load", params={
        "events": "true", "events_weight": 100, "event_weights": "petition:1"}).json()["rows"]}
    assert weighed[C11]["events_weighted"] == 3.5
    assert weighed[C11]["workload"] == plain[C11]["workload"] + 350
    assert "events_weighted" in client.get("/load", params={"events": "true", "format": "csv"}).text
    for params, field in (({"events_weight": 5}, "events"),
                          ({"events": "true", "event_weights": "x:1"}, "event_weights"),
                          ({"events": "true", "event_weights": "petition:lots"}, "event_weights"),
                          ({"events": "true", "events_weight": -1}, "events_weight")):
        r = client.get("/load", params=params)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text


def test_the_impact_report_shows_events_in_the_moved_area_and_their_hand_over(client) -> None:
    rows = [{**REPORT, "client_id": "i1", "reported_at": None}, {**REPORT, "client_id": "i2", "reported_at": None},
            {**REPORT, "client_id": "i3", "lon": 106.005, "lat": 26.015, "reported_at": None}]  # not moved
    ids = [o["event_id"] for o in client.post("/events", json={"events": rows}).json()["results"]]
    for step in ("handling", "feedback", "closed"):
        client.post(f"/events/{ids[1]}/transitions", json={"status": step, "actor": "x"}, headers=PLANNER)
    move = {"from_code": C11, "to_code": C12, "child_codes": [GRID], "effective_date": "2030-03-01", "author": "王"}
    pid = client.post("/proposals", headers=PLANNER, json=move).json()["proposal"]["id"]
    impact = client.get(f"/proposals/{pid}/impact").json()["events"]
    assert (impact["total"], impact["open"]) == (2, 1) and impact["by_category"] == {"environment": 2}
    [hand] = impact["hand_over"]
    assert (hand["event_id"], hand["community_before"], hand["community_after"]) == (ids[0], C11, C12)
    html = client.get(f"/proposals/{pid}/report.html").text
    assert "移交区域内的事件" in html and "张三" not in html
    assert "Events in the moved area" in client.get(f"/proposals/{pid}/report.html?lang=en").text
