"""Patchy real data (issue #12 item 6): every optional column null in half the rows, or absent entirely.

The dataset goes in through ``gridgov import`` (a GeoPackage), then every endpoint and every command
runs on it, on both databases: none may answer 500, print a traceback or exit non-zero.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ADMIN_KEY, PLANNER_KEY, make_client
from patchy import patchy_dataset
from typer.testing import CliRunner

from cli.main import app as cli_app
from geo.io import write_dataset

GRID, FROM, TO = "520499001001001", "520499001001", "520499001002"
BOX = "106,26,106.04,26.02"
READS = [
    "/health", "/", "/collections", "/collections/units", "/locate?lon=106.005&lat=26.005",
    "/stations/nearest?lon=106.005&lat=26.005&k=5", "/load", "/load?format=csv", "/load?level=subdistrict",
    "/map", f"/map/layers/grids?bbox={BOX}", f"/map/layers/communities?bbox={BOX}&zoom=8",
    f"/map/layers/buildings?bbox={BOX}&zoom=17", f"/map/layers/buildings?bbox={BOX}&zoom=12",
    "/map/search?q=社区", "/map/search?q=Community", "/proposals", "/proposals/1", f"/units/{FROM}/history",
    "/changes", "/proposals/1/impact", "/proposals/1/report.html", "/proposals/1/report.html?lang=en",
    "/proposals/1/households.csv", "/proposals/1/report?format=json",
] + [f"/collections/{c}/items?limit=100" for c in ("subdistricts", "communities", "grids", "buildings", "stations")] \
  + [f"/collections/{c}/items?bbox={BOX}" for c in ("grids", "stations")]
POSTS = [
    ("/stations/nearest", {"points": [{"lon": 106.005, "lat": 26.005}, {"lon": 106.03, "lat": 26.015}], "k": 3}),
    ("/staffing", {"new_workers": 5}), ("/grid-splits", {}), ("/grid-splits", {"min_households": 10,
                                                                              "max_households": 30}),
    ("/balance", {"draft": False, "time_limit": 2}),
]


def cli(*args: str) -> str:
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize("mode", ["half", "absent"])
def test_every_feature_works_on_patchy_data(db_url: str, mode: str, tmp_path: Path) -> None:
    gpkg = write_dataset(patchy_dataset(mode), tmp_path / "patchy.gpkg", fmt="gpkg")
    d = ("--database", db_url)
    cli("import", str(gpkg), *d, "--valid-from", "2024-01-01", "--author", "test")
    cli("check", *d)
    cli("propose", *d, "--from", FROM, "--to", TO, "--grids", GRID, "--effective-date", "2025-03-01",
        "--author", "test")
    cli("preview", "1", *d)
    for fmt, lang in (("html", "zh"), ("html", "en"), ("pdf", "en"), ("json", "zh"), ("csv", "en")):
        cli("report", "1", *d, "--format", fmt, "--lang", lang, "-o", str(tmp_path / f"r-{lang}.{fmt}"))
    for command in (["load"], ["load", "--level", "subdistrict"], ["staffing", "--new-workers", "5"],
                    ["grid-splits"], ["balance", "--time-limit", "2"]):
        cli(*command, *d)
    for fmt in ("gpkg", "geojson", "csv", "shp"):
        cli("export", str(tmp_path / f"export-{fmt}" / ("x.gpkg" if fmt == "gpkg" else "")), *d, "--format", fmt)
    with make_client(db_url) as client:
        keys = {"X-API-Key": PLANNER_KEY}
        for stage in ("draft", "applied"):
            for path in READS:
                response = client.get(path, headers=keys)
                assert response.status_code < 500, (stage, path, response.text[:300])
                assert response.status_code in (200, 404), (stage, path, response.text[:300])
            for path, body in POSTS:
                response = client.post(path, json=body, headers=keys)
                assert response.status_code == 200, (stage, path, response.text[:300])
            if stage == "draft":
                applied = client.post("/proposals/1/apply", json={"author": "test"}, headers=keys)
                assert applied.status_code == 200, applied.text
        pdf = client.get("/proposals/1/report.pdf", headers=keys)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        drafts = client.post("/grid-splits/drafts", json={"min_households": 10, "max_households": 30}, headers=keys)
        assert drafts.status_code == 200, drafts.text
        reverted = client.post("/proposals/1/revert", json={"author": "test"}, headers=keys)
        assert reverted.status_code == 200, reverted.text
        with (tmp_path / "patchy.gpkg").open("rb") as file:
            again = client.post("/imports", files={"file": ("patchy.gpkg", file)},
                                data={"author": "t", "valid_from": "2026-01-01"}, headers={"X-API-Key": ADMIN_KEY})
        assert again.status_code < 500, again.text
    cli("history", FROM, *d)
    cli("changes", *d)
