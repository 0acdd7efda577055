"""Hotline files (CSV/GeoJSON, address matching, unmatched-rows report), the monthly summary, the CLI
and the synthetic demo year (on the tiny dataset; the demo patterns are checked in test_events_demo)."""

from __future__ import annotations

import csv
import io
import json

from conftest import PLANNER_KEY
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app as cli_app
from geo.db import make_engine
from geo.events.addresses import normalise

PLANNER = {"X-API-Key": PLANNER_KEY}
GRID = "520499001001002"

HOTLINE_CSV = (
    "工单号,类别,诉求内容,来电人,联系电话,事发地址,来电时间\n"
    "H-1,民生诉求,独居老人需要帮助,王五,13900000000,贵州省安顺市 网格112 ２栋,2025-05-01 10:00\n"
    "H-2,环境卫生,垃圾,,,网格112 3栋,2025-05-02 10:00\n"
    "H-3,环境卫生,地址不存在,赵六,13700000000,火星路 1 号,2025-05-02 11:00\n"
    "H-4,未知类别,x,,,网格112 3栋,2025-05-02 12:00\n"
    "H-5,信访,<script>alert(1)</script>,,,网格112 4栋,2025-05-03 12:00\n"
)


def test_addresses_are_compared_normalised() -> None:
    assert normalise("网格112 ２栋") == normalise("网格112 2栋") == "网格1122栋"


def test_hotline_csv_imports_matched_rows_and_reports_the_rest(client) -> None:
    files = {"file": ("hotline.csv", HOTLINE_CSV.encode("gb18030"), "text/csv")}
    r = client.post("/events/hotline", files=files, headers=PLANNER)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["unmatched"]) == (3, 2)
    by_row = {o["index"]: o for o in body["results"]}
    assert by_row[0]["grid_code"] == GRID and by_row[0]["status"] == "created"
    assert by_row[2]["field"] == "address" and by_row[3]["field"] == "category"
    event = client.get(f"/events/{by_row[0]['event_id']}", headers=PLANNER).json()
    assert event["building_code"] == f"{GRID}0002" and event["source"] == "hotline"
    assert event["reporter_contact"] == "13900000000"
    assert event["reported_at"].startswith("2025-05-01T02:00:00")  # 10:00 China time
    # again: nothing new, the same two rows reported
    report = client.post("/events/hotline?format=csv", files=files, headers=PLANNER)
    rows = list(csv.DictReader(io.StringIO(report.text.lstrip("\ufeff"))))
    assert [(r["row"], r["field"]) for r in rows] == [("3", "address"), ("4", "category")]
    assert "火星路" in report.text and "13700000000" not in report.text and "赵六" not in report.text
    assert client.get("/events", headers=PLANNER).json()["total"] == 3
    assert client.post("/events/hotline", files=files).status_code == 401


def test_hotline_geojson_and_bad_files(client) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.015, 26.015]},
         "properties": {"id": "G-1", "category": "safety", "描述": "井盖缺失"}},
        {"type": "Feature", "geometry": None, "properties": {"id": "G-2", "category": "safety"}}]}
    files = {"file": ("h.geojson", json.dumps(doc).encode(), "application/geo+json")}
    body = client.post("/events/hotline", files=files, headers=PLANNER).json()
    assert (body["created"], body["unmatched"]) == (1, 1) and body["results"][1]["field"] == "lon"
    for name, data, field in (("e.csv", b"", "file"), ("x.csv", b"a,b\n1,2\n", "category"),
                              ("x.geojson", b"{", "file"), ("x.csv", b"\xff\xfe\x00bad", None),
                              ("nul.csv", "类别,地址\n环境卫生,a\x00b\n".encode(), "file")):
        r = client.post("/events/hotline", files={"file": (name, data, "text/csv")}, headers=PLANNER)
        assert r.status_code == 422, (name, r.text)
        if field:
            assert r.json()["error"]["field"] == field


def test_monthly_summary_csv_pdf_json(client) -> None:
    rows = [{"client_id": f"s{i}", "category": c, "lon": 106.015, "lat": 26.015,
             "reported_at": f"2025-05-{d:02d}T10:00:00"} for i, (c, d) in
            enumerate([("environment", 1), ("environment", 2), ("petition", 3), ("safety", 20)])]
    ids = [o["event_id"] for o in client.post("/events", json={"events": rows}).json()["results"]]
    for step in ("handling", "feedback", "closed"):
        client.post(f"/events/{ids[0]}/transitions", json={"status": step, "actor": "x"}, headers=PLANNER)
    params = {"subdistrict": "520499001", "month": "2025-05"}
    js = client.get("/events/summary", params=params).json()
    community, total = js["rows"]
    assert community["community_code"] == "520499001001" and community["received"] == 4
    assert community["environment"] == 2 and community["petition"] == 1
    assert community["open_at_month_end"] == 4  # closed today, not in May
    assert total["received"] == 4
    text = client.get("/events/summary", params={**params, "format": "csv"}).text
    assert "环境卫生" in text and "520499001001" in text
    assert client.get("/events/summary", params={**params, "month": "2025-13"}).json()["error"]["field"] == "month"
    assert client.get("/events/summary", params={**params, "subdistrict": "1"}).status_code == 404
    pdf = client.get("/events/summary", params={**params, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_cli_demo_import_reconcile_summary(tiny_db_url: str, tmp_path) -> None:
    runner = CliRunner()
    demo = runner.invoke(cli_app, ["events", "demo", "--count", "300", "--database", tiny_db_url])
    assert demo.exit_code == 0, demo.output
    again = runner.invoke(cli_app, ["events", "demo", "--count", "300", "--database", tiny_db_url])
    assert "0 created, 300 already there" in again.output.replace("synthetic events: ", "")
    engine = make_engine(tiny_db_url)
    with engine.connect() as conn:
        synthetic, sources = conn.execute(text("SELECT count(*), count(DISTINCT source) FROM events "
                                               "WHERE synthetic AND description LIKE :p"), {"p": "[synthetic%"}).one()
    engine.dispose()
    assert synthetic == 300 and sources >= 3
    path = tmp_path / "h.csv"
    path.write_text(HOTLINE_CSV, encoding="utf-8")
    out = tmp_path / "unmatched.csv"
    imported = runner.invoke(cli_app, ["events", "import", str(path), "--unmatched", str(out), "--database",
                                       tiny_db_url])
    assert imported.exit_code == 1 and "3 imported" in imported.output and out.read_text().count("\n") == 3
    assert runner.invoke(cli_app, ["events", "reconcile", "--database", tiny_db_url]).exit_code == 0
    summary = runner.invoke(cli_app, ["events", "summary", "--subdistrict", "520499001", "--month", "2025-05",
                                      "--database", tiny_db_url])
    assert summary.exit_code == 0 and "520499001001" in summary.output
    bad = runner.invoke(cli_app, ["events", "summary", "--subdistrict", "520499001", "--month", "May",
                                  "--database", tiny_db_url])
    assert bad.exit_code == 2 and "month" in bad.output


def test_the_map_layer_json_is_public_only_as_grid_counts(client) -> None:
    client.post("/events", json={"category": "safety", "lon": 106.015, "lat": 26.015, "reporter_contact": "1380"})
    fc = client.get("/events/grids", params={"format": "geojson"}).json()
    assert len(fc["features"]) == 8
    feature = next(f for f in fc["features"] if f["id"] == GRID)
    assert feature["properties"]["open"] == 1 and feature["geometry"]["type"] == "MultiPolygon"
