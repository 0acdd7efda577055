"""Impact reports on the tiny dataset (both databases): every kind of move, draft and applied, the API's
bad-input answers and the CLI.

The tiny district (tests/factories.py) is a box: sub-districts west (001) and east (002), each with a
north (001) and a south (002) community of two grids (west 001, east 002) holding five buildings each,
one party service centre per community.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import numpy as np
import pytest
from conftest import PLANNER_KEY, make_client
from factories import X0, X1, Y0, Y1
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app as cli_app
from geo.db import make_engine
from geo.impact import Norms, compute_impact
from geo.reassign import ProposalRequest, apply_proposal, create_proposal, revert_proposal
from geo.store import read_buildings, read_stations

DAY = dt.date(2025, 3, 1)
S1, S2 = "520499001", "520499002"
C11, C12, C21, C22 = "520499001001", "520499001002", "520499002001", "520499002002"
GEOD = Geod(ellps="WGS84")
XM, YM = (X0 + X1) / 2, (Y0 + Y1) / 2


@pytest.fixture
def tiny(tiny_db_url: str) -> Engine:
    return make_engine(tiny_db_url)


def propose(engine: Engine, a: str, b: str, **kw: Any) -> int:
    return create_proposal(engine, ProposalRequest(from_code=a, to_code=b, effective_date=DAY, author="测试",
                                                   reason="测试", document_ref="测试〔2025〕1号", **kw))


def comparable(report: Any) -> dict[str, Any]:
    """The figures of a report, without what legitimately differs between its draft and applied forms."""
    data = report.model_dump(mode="json")
    for key in ("generated_at", "basis", "map", "database_change"):
        data.pop(key)
    data["proposal"].pop("status")
    data["proposal"].pop("applied_change_id")
    data["proposal"].pop("reverted_change_id")
    data["warnings"] = [w for w in data["warnings"] if w["code"] != "reverted"]
    return data


def test_whole_grid_to_a_neighbour_community_draft_applied_reverted(tiny: Engine) -> None:
    grid = f"{C11}002"
    pid = propose(tiny, C11, C12, child_codes=(grid,))
    draft = compute_impact(tiny, pid)
    with tiny.connect() as conn:
        buildings = read_buildings(conn, as_of=DAY)
        stations = read_stations(conn, as_of=DAY)
    moved = buildings[buildings["grid_code"] == grid]
    assert [h.code for h in draft.households] == sorted(moved["code"])
    # moved whole, the grid is re-coded under C12: the households' grid is the same ground under its new code
    assert all(h.grid_before.code == grid and h.grid_after.code.startswith(C12) for h in draft.households)
    assert {(h.community_before.code, h.community_after.code) for h in draft.households} == {(C11, C12)}
    assert draft.summary.moved.residents == moved["residents"].sum()
    assert draft.summary.moved.households == moved["households"].sum()
    assert [g.code for g in draft.summary.grids_moved_whole] == [grid] and draft.summary.grids_split == []
    assert draft.summary.moved.area_km2 * 1e6 == pytest.approx(
        abs(GEOD.geometry_area_perimeter(box((X0 + XM) / 2, YM, XM, Y1))[0]), rel=1e-6)
    a, b = (next(u for u in draft.units if u.code == c) for c in (C11, C12))
    assert (a.role, b.role) == ("from", "to")
    assert (a.before.grids, a.after.grids, b.before.grids, b.after.grids) == (2, 1, 2, 3)
    moved_residents = draft.summary.moved.residents
    assert a.before.residents - a.after.residents == b.after.residents - b.before.residents == moved_residents
    assert (a.after.workers, b.after.workers) == (11, 12)  # workers stay with their community
    # access: geodesic distance to C11's centre before and C12's after, weighted by residents
    centre = {c: stations[(stations["community_code"] == c) & (stations["kind"] == "party_service_center")]
              .geometry.iloc[0] for c in (C11, C12)}
    for side, community in (("before", C11), ("after", C12)):
        _, _, d = GEOD.inv(moved.geometry.x.to_numpy(), moved.geometry.y.to_numpy(),
                           np.full(len(moved), centre[community].x), np.full(len(moved), centre[community].y))
        stats = getattr(draft.access, side)
        assert stats.mean_m == pytest.approx(np.average(d, weights=moved["residents"]), abs=0.06)
        assert stats.max_m == pytest.approx(d.max(), abs=0.06)
        assert stats.median_m == pytest.approx(
            np.percentile(np.repeat(d, moved["residents"]), 50, method="inverted_cdf"), abs=0.06)
    # the same figures from the versions the change wrote, once applied, and after it is reverted
    apply_proposal(tiny, pid, author="测试")
    applied = compute_impact(tiny, pid)
    assert applied.basis == "recorded_change" and applied.proposal.status == "applied"
    assert comparable(applied) == comparable(draft)
    revert_proposal(tiny, pid, author="测试", effective_date=dt.date(2025, 4, 1))
    reverted = compute_impact(tiny, pid)
    assert comparable(reverted) == comparable(draft)
    assert reverted.warnings[0].code == "reverted" and "2025-04-01" in reverted.warnings[0].message.zh


def test_a_move_across_sub_districts_reports_both_parents(tiny: Engine) -> None:
    grid = f"{C12}002"  # the east grid of the west sub-district's south community, next to C22
    report = compute_impact(tiny, propose(tiny, C12, C22, child_codes=(grid,)))
    roles = {u.code: u.role for u in report.units}
    assert roles == {C12: "from", C22: "to", S1: "from_ancestor", S2: "to_ancestor"}
    parent_a = next(u for u in report.units if u.code == S1)
    assert parent_a.before.residents - parent_a.after.residents == report.summary.moved.residents
    assert parent_a.after.workers == 11 + 12  # a sub-district's workers are its communities'
    assert {(m.level, m.kind) for m in report.medians} == {("community", "urban"), ("subdistrict", "street")}
    subdistricts = next(m for m in report.medians if m.level == "subdistrict")
    assert subdistricts.units_counted == 2
    side = {s.direction: [n.code for n in s.neighbours] for s in report.boundary.units[1].sides}
    assert C12 in side["west"]  # C22 now reaches west to the grid it received, which borders C12 there
    assert "利达" not in report.boundary.shared.text.zh and "社区12" in report.boundary.shared.text.zh


def test_a_drawn_sub_district_move_creates_communities_without_centre_or_workers(tiny: Engine) -> None:
    report = compute_impact(tiny, propose(tiny, S1, S2, area=box(XM - 0.004, Y0, XM, Y1)))
    assert {u.code: u.role for u in report.units} == {S1: "from", S2: "to"}
    split = {s.code: s for s in report.summary.grids_split if s.level == "community"}
    assert set(split) == {C11, C12}
    assert sum(s.residents_moved for s in split.values()) == report.summary.moved.residents > 0
    new = {s.new_code for s in split.values()}
    assert {h.community_after.code for h in report.households} == new
    assert report.access.after.residents_without_centre == report.summary.moved.residents
    assert all(h.distance_after_m is None for h in report.households)
    codes = [w.code for w in report.warnings]
    assert "no_centre" in codes and codes.count("new_community") == 2
    assert "测试区边界" in report.boundary.shared.text.zh  # the S1/S2 line runs from district edge to district edge


def test_part_of_a_grid_drawn_into_its_neighbour_keeps_the_community(tiny: Engine) -> None:
    g1, g2 = f"{C11}001", f"{C11}002"
    area = box(X0 + 0.004, YM + 0.004, (X0 + XM) / 2 + 0.0001, Y1 - 0.001)  # east part of grid 1, a hair into 2
    report = compute_impact(tiny, propose(tiny, g1, g2, area=area))
    assert report.proposal.level == "grid" and report.households
    assert {(h.grid_before.code, h.grid_after.code) for h in report.households} == {(g1, g2)}
    assert {(h.community_before.code, h.community_after.code) for h in report.households} == {(C11, C11)}
    assert report.access.before == report.access.after  # same community, same centre
    grid_a = next(u for u in report.units if u.code == g1)
    assert grid_a.after.workers is None and grid_a.after.grids == 1
    assert any(w.code == "outside_area" for w in report.warnings)


def test_norms_are_configurable(tiny: Engine) -> None:
    pid = propose(tiny, C11, C12, child_codes=(f"{C11}002",))
    strict = compute_impact(tiny, pid, norms=Norms(workers_per_10k=500, grid_households_min=10,
                                                   grid_households_max=20, life_circles_m=(100, 2000)))
    assert [c.radius_m for c in strict.access.life_circles] == [100, 2000]
    assert strict.access.life_circles[1].share_after == 1.0
    b = next(u for u in strict.units if u.code == C12)
    assert "understaffed" in b.after.flags and "grids_large" in b.after.flags
    assert any(w.code == "overload" and w.unit_code == C12 for w in strict.warnings)
    with pytest.raises(ValueError):
        Norms(grid_households_min=500, grid_households_max=300)


def test_http_forms_and_bad_input(tiny_db_url: str) -> None:
    engine = make_engine(tiny_db_url)
    pid = propose(engine, C11, C12, child_codes=(f"{C11}002",))
    with make_client(tiny_db_url) as client:
        client.headers["X-API-Key"] = PLANNER_KEY  # household lists are residents' data: planner role
        impact = client.get(f"/proposals/{pid}/impact")
        assert impact.status_code == 200, impact.text
        assert impact.json()["summary"]["moved"]["buildings"] == 5
        assert impact.json()["headline"]["zh"].startswith("将社区11")
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert {"ImpactReport", "UnitImpact", "Access", "AffectedBuilding", "Boundary"} <= set(schema)
        html = client.get(f"/proposals/{pid}/report.html", params={"lang": "en"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "Community 11" in html.text and "<script src=" not in html.text and "<link" not in html.text
        csv_response = client.get(f"/proposals/{pid}/households.csv")
        assert csv_response.content.startswith(b"\xef\xbb\xbf")
        assert "attachment" in csv_response.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
        assert rows[0][:4] == ["楼栋编码", "地址", "户数", "居民"] and len(rows) == 6
        assert client.get(f"/proposals/{pid}/report", params={"format": "json"}).json()["proposal"]["id"] == pid
        for url, params, status, field in (
            ("/proposals/999/impact", {}, 404, "id"),
            ("/proposals/999/report.pdf", {}, 404, "id"),
            (f"/proposals/{pid}/impact", {"lang": "fr"}, 422, "lang"),
            (f"/proposals/{pid}/report.html", {"lang": "de"}, 422, "lang"),
            (f"/proposals/{pid}/report", {"format": "docx"}, 422, "format"),
            (f"/proposals/{pid}/impact", {"grid_band": "500,300"}, 422, "grid_band"),
            (f"/proposals/{pid}/impact", {"grid_band": "300"}, 422, "grid_band"),
            (f"/proposals/{pid}/impact", {"life_circles": "300,abc"}, 422, "life_circles"),
            (f"/proposals/{pid}/impact", {"workers_per_10k": "-1"}, 422, "workers_per_10k"),
        ):
            response = client.get(url, params=params)
            assert response.status_code == status, (url, params, response.text)
            assert response.json()["error"]["field"] == field
        assert client.get("/proposals/abc/impact").status_code == 422


def test_a_stale_draft_is_reported_as_such(tiny: Engine) -> None:
    first = propose(tiny, C11, C12, child_codes=(f"{C11}002",))
    second = propose(tiny, C12, C11, child_codes=(f"{C12}001",))
    apply_proposal(tiny, first, author="测试")
    report = compute_impact(tiny, second)
    assert report.stale and report.warnings[0].code == "stale"


@pytest.mark.parametrize("db_url", ["spatialite"], indirect=True)  # rendering does not depend on the database
def test_cli_writes_every_form(tiny_db_url: str, tmp_path: Any) -> None:
    pid = propose(make_engine(tiny_db_url), C11, C12, child_codes=(f"{C11}002",))
    runner = CliRunner()
    for fmt in ("json", "csv", "html", "pdf"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(cli_app, ["report", str(pid), "--format", fmt, "-o", str(out), "--lang", "en",
                                         "--database", tiny_db_url])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["moved"]["buildings"] == 5
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    bad = runner.invoke(cli_app, ["report", str(pid), "--format", "docx", "--database", tiny_db_url])
    assert bad.exit_code == 2 and "--format" in bad.output
    missing = runner.invoke(cli_app, ["report", "999", "--format", "json", "--database", tiny_db_url])
    assert missing.exit_code == 2 and "no proposal 999" in missing.output
