"""Impact reports of splits and merges on the tiny dataset (both databases): figures checked against the
buildings themselves, draft = applied = reverted, and every form (JSON, HTML, PDF, CSV) in both languages.

Grid 111 (520499001001001, x 106.00–106.01, y 26.01–26.02) is split by two drawn parts: WEST (its
buildings 1 and 2) and MIDDLE (buildings 3 and 4); building 5 stays. Grid 112 is its east neighbour.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from conftest import PLANNER_KEY, make_client
from pyproj import Geod
from shapely.geometry import LineString, box
from sqlalchemy import Engine
from test_impact_tiny import C11, C12, DAY, S1, S2, comparable

from geo.db import make_engine
from geo.errors import Conflict
from geo.impact import compute_impact
from geo.reassign import ProposalRequest, apply_proposal, create_proposal, revert_proposal
from geo.store import read_buildings, read_units

C22 = "520499002002"
G111, G112 = f"{C11}001", f"{C11}002"
NEW1, NEW2 = f"{C11}003", f"{C11}004"
WEST = box(106.0, 26.01, 106.004, 26.02)
MIDDLE = box(106.004, 26.01, 106.007, 26.02)
GEOD = Geod(ellps="WGS84")


@pytest.fixture
def tiny(tiny_db_url: str) -> Engine:
    return make_engine(tiny_db_url)


def split(engine: Engine, grid: str, *parts: Any) -> int:
    return create_proposal(engine, ProposalRequest(kind="split", from_code=grid, to_code=None, effective_date=DAY,
                                                   author="测试", parts=parts, document_ref="测试〔2025〕2号"))


def merge(engine: Engine, keep: str, *codes: str) -> int:
    return create_proposal(engine, ProposalRequest(kind="merge", from_code=codes[0], to_code=keep,
                                                   effective_date=DAY, author="测试", merge_codes=codes))


def buildings_of(engine: Engine, grids: list[str]) -> Any:
    with engine.connect() as conn:
        frame = read_buildings(conn, as_of=DAY - dt.timedelta(days=1))
    return frame[frame["grid_code"].isin(grids)]


def assert_same_after_apply_and_revert(engine: Engine, pid: int, draft: Any) -> None:
    apply_proposal(engine, pid, author="测试")
    applied = compute_impact(engine, pid)
    assert applied.basis == "recorded_change" and applied.proposal.status == "applied"
    assert comparable(applied) == comparable(draft)
    for side in ("before", "after"):
        roles = [{(f["properties"]["code"], f["properties"]["role"]) for f in getattr(r.map, side)["features"]}
                 for r in (applied, draft)]
        assert roles[0] == roles[1], side
    revert_proposal(engine, pid, author="测试", effective_date=dt.date(2025, 4, 1))
    reverted = compute_impact(engine, pid)
    assert comparable(reverted) == comparable(draft)
    assert reverted.warnings[0].code == "reverted"


def test_a_split_report_counts_the_new_grids_residents(tiny: Engine) -> None:
    pid = split(tiny, G111, WEST, MIDDLE)
    draft = compute_impact(tiny, pid)
    assert draft.proposal.kind == "split" and draft.proposal.to_unit is None
    assert draft.headline.zh.startswith("将网格111拆分为3个网格：新设网格111之二、网格111之三")
    assert draft.headline.en.startswith("Splits Grid 111 into 3 grids: the new grids Grid 111 (part 2) and "
                                        "Grid 111 (part 3)")
    assert [u.code for u in draft.summary.created] == [NEW1, NEW2] and draft.summary.retired == []
    units = {u.code: u for u in draft.units}
    assert {c: u.role for c, u in units.items()} == {G111: "from", NEW1: "new", NEW2: "new"}
    # each new grid holds exactly the buildings its part covers, counted from the buildings themselves
    own = buildings_of(tiny, [G111])
    for code, part in ((NEW1, WEST), (NEW2, MIDDLE)):
        inside = own[own.geometry.within(part)]
        assert len(inside) == 2
        assert units[code].after.residents == inside["residents"].sum() > 0
        assert units[code].after.households == inside["households"].sum()
        assert not units[code].before.exists and units[code].before.residents == 0 and units[code].after.exists
        assert units[code].after.area_km2 * 1e6 == pytest.approx(abs(GEOD.geometry_area_perimeter(part)[0]),
                                                                 abs=1.0)  # reported to the m²
    grid = units[G111]
    assert grid.before.residents == own["residents"].sum()
    moved = draft.summary.moved.residents
    assert moved == units[NEW1].after.residents + units[NEW2].after.residents == grid.before.residents - \
        grid.after.residents  # residents are conserved
    assert {(h.grid_before.code, h.grid_after.code) for h in draft.households} == {(G111, NEW1), (G111, NEW2)}
    assert {(h.community_before.code, h.community_after.code) for h in draft.households} == {(C11, C11)}
    assert draft.access.before == draft.access.after  # same community, same centre
    # the new lines: MIDDLE's part touches both others, WEST's and the rest do not touch
    assert draft.boundary.shared is None
    lines = {(line.a.code, line.b.code): line for line in draft.boundary.lines if line.a and line.b}
    assert set(lines) == {(G111, NEW2), (NEW1, NEW2)}
    assert lines[(NEW1, NEW2)].length_after_m == pytest.approx(
        GEOD.geometry_length(LineString([(106.004, 26.01), (106.004, 26.02)])), abs=0.5)
    assert {u.code for u in draft.boundary.units} == {G111, NEW1, NEW2}
    assert {f["properties"]["role"] for f in draft.map.after["features"]} == {"from", "new"}
    assert [f["properties"]["role"] for f in draft.map.before["features"]] == ["from"]
    assert all(w.code not in ("empty_unit", "not_contiguous", "exclave") for w in draft.warnings)
    assert_same_after_apply_and_revert(tiny, pid, draft)


def test_a_split_that_leaves_a_new_grid_empty_says_so(tiny: Engine) -> None:
    empty = box(106.0, 26.0185, 106.01, 26.02)  # a strip along the north edge, above every building
    report = compute_impact(tiny, split(tiny, G111, empty))
    assert [(w.code, w.unit_code, w.severity) for w in report.warnings if w.code == "empty_unit"] == [
        ("empty_unit", NEW1, "warning")]
    assert report.summary.moved.residents == 0 and report.households == []


def test_a_grid_merge_report_retires_the_grid_without_warning_about_it(tiny: Engine) -> None:
    pid = merge(tiny, G111, G112)
    draft = compute_impact(tiny, pid)
    assert draft.proposal.kind == "merge" and draft.proposal.to_unit is not None
    assert draft.proposal.to_unit.code == G111 and draft.proposal.from_unit.code == G112
    assert draft.headline.zh.startswith("将网格112并入网格111（约1.11平方公里、5栋楼、")
    assert draft.headline.en.startswith("Merges Grid 112 into Grid 111 — about 1.11 km², 5 buildings")
    assert [u.code for u in draft.summary.retired] == [G112] and draft.summary.created == []
    units = {u.code: u for u in draft.units}
    assert {c: u.role for c, u in units.items()} == {G112: "retired", G111: "to"}
    gone, keep = units[G112], units[G111]
    merged = buildings_of(tiny, [G112])
    assert gone.before.residents == merged["residents"].sum() == draft.summary.moved.residents
    assert not gone.after.exists and gone.after.residents == 0 and gone.crossings == []
    assert keep.after.residents == keep.before.residents + gone.before.residents
    assert keep.after.area_km2 == pytest.approx(keep.before.area_km2 + gone.before.area_km2, abs=2e-6)
    assert all(w.unit_code != G112 for w in draft.warnings)  # a retired unit left empty is the point
    assert {(h.grid_before.code, h.grid_after.code) for h in draft.households} == {(G112, G111)}
    assert len(draft.households) == len(merged)
    assert draft.boundary.shared is None and [u.code for u in draft.boundary.units] == [G111]
    [line] = draft.boundary.lines
    assert (line.a.code, line.b.code) == (G112, G111) and line.length_after_m == 0  # type: ignore[union-attr]
    assert line.length_before_m == pytest.approx(
        GEOD.geometry_length(LineString([(106.01, 26.01), (106.01, 26.02)])), abs=0.5)
    assert "不再存在" in line.text.zh
    assert {f["properties"]["role"] for f in draft.map.before["features"]} == {"retired", "to"}
    assert {f["properties"]["role"] for f in draft.map.after["features"]} == {"to"}
    assert_same_after_apply_and_revert(tiny, pid, draft)


def test_a_community_merge_report_brings_workers_grids_and_the_centre(tiny: Engine) -> None:
    pid = merge(tiny, C22, C12)
    draft = compute_impact(tiny, pid)
    units = {u.code: u for u in draft.units}
    assert {c: u.role for c, u in units.items()} == {C12: "retired", C22: "to", S1: "from_ancestor",
                                                    S2: "to_ancestor"}
    with tiny.connect() as conn:
        workers = read_units(conn, as_of=DAY).set_index("code")["workers"]
    assert units[C22].after.workers == int(workers[C12]) + int(workers[C22])
    assert units[C22].after.grids == 4 and units[C22].after.residents == units[C22].before.residents + \
        units[C12].before.residents
    assert units[S1].before.residents - units[S1].after.residents == units[S2].after.residents - \
        units[S2].before.residents == draft.summary.moved.residents == units[C12].before.residents
    assert {h.community_after.code for h in draft.households} == {C22}
    assert {h.grid_before.code for h in draft.households} == {f"{C12}001", f"{C12}002"}
    assert any(w.code == "centre_merged" and "社区22" in w.message.zh for w in draft.warnings)
    assert any("党群服务中心" in w.zh and "party service centre" in w.en for w in draft.preview_warnings)
    assert draft.access.after.residents_without_centre == 0
    assert {f["properties"]["role"] for f in draft.map.before["features"]} == {
        "retired", "to", "grid_of_retired", "grid_of_to"}
    assert {f["properties"]["role"] for f in draft.map.after["features"]} == {"to", "grid_of_to"}
    assert_same_after_apply_and_revert(tiny, pid, draft)


def test_a_split_of_a_grid_merged_away_since_is_a_conflict(tiny: Engine) -> None:
    pid = split(tiny, G112, box(106.01, 26.01, 106.014, 26.02))
    apply_proposal(tiny, merge(tiny, G111, G112), author="测试")
    with pytest.raises(Conflict):
        compute_impact(tiny, pid)


def test_split_and_merge_reports_in_every_form(tiny_db_url: str) -> None:
    engine = make_engine(tiny_db_url)
    split_id, merge_id = split(engine, G111, WEST, MIDDLE), merge(engine, C22, C12)
    with make_client(tiny_db_url) as client:
        client.headers["X-API-Key"] = PLANNER_KEY  # household lists are residents' data: planner role
        for pid, zh_words, en_words in ((split_id, ("拆分影响报告", "新设", "被拆分"), ("Splitting Grid 111", "new")),
                                        (merge_id, ("并入 社区22", "撤并", "保留并接收"), ("retired", "stays"))):
            impact = client.get(f"/proposals/{pid}/impact")
            assert impact.status_code == 200, impact.text
            for lang, words in (("zh", zh_words), ("en", en_words)):
                html = client.get(f"/proposals/{pid}/report.html", params={"lang": lang})
                assert html.status_code == 200, html.text
                assert all(w in html.text for w in words), (lang, words)
                assert "<script src=" not in html.text
            moved = impact.json()["households"]
            rows = list(csv.reader(io.StringIO(client.get(f"/proposals/{pid}/households.csv").content
                                               .decode("utf-8-sig"))))
            assert len(rows) == len(moved) + 1 and len(moved) == impact.json()["summary"]["moved"]["buildings"]
            assert sorted(r[14] for r in rows[1:]) == sorted(h["grid_after"]["code"] for h in moved)
        pdf = client.get(f"/proposals/{split_id}/report.pdf", params={"lang": "en"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert client.get(f"/proposals/{merge_id}/report", params={"format": "pdf"}).content.startswith(b"%PDF")
        apply = client.post(f"/proposals/{merge_id}/apply", json={"author": "测试"},
                            headers={"X-API-Key": PLANNER_KEY})
        assert apply.status_code == 200, apply.text
        assert client.get(f"/proposals/{merge_id}/impact").json()["proposal"]["status"] == "applied"
