"""Boundary changes on the tiny dataset, on both databases: every kind of move, the invariants
after each, revert back to the exact map before, refusals that change nothing, atomicity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from factories import tiny_dataset
from shapely.geometry import Point, Polygon, box
from sqlalchemy import Engine, text

from geo.errors import Conflict, InvalidInput
from geo.invariants import check_database
from geo.reassign import ProposalRequest, apply_proposal, create_proposal, preview_proposal, revert_proposal
from geo.reassign.geometry import area_m2
from geo.store import read_buildings, read_stations, read_units
from geo.totals import unit_totals

DAY = dt.date(2025, 3, 1)
LATER = dt.date(2025, 6, 1)
C11, C12, C21, C22 = "520499001001", "520499001002", "520499002001", "520499002002"
S1, S2 = "520499001", "520499002"


@pytest.fixture
def tiny(tiny_db_url: str) -> Engine:
    from geo.db import make_engine

    return make_engine(tiny_db_url)


def request(a: str, b: str, **kw: Any) -> ProposalRequest:
    return ProposalRequest(from_code=a, to_code=b, effective_date=kw.pop("day", DAY), author="test planner",
                           reason="test", document_ref="测试〔2025〕1号", **kw)


def snapshot(engine: Engine, day: dt.date) -> dict[str, Any]:
    """Codes, parents, geometries, assignments and totals valid on ``day``."""
    with engine.connect() as conn:
        units = read_units(conn, as_of=day).set_index("code")
        buildings = read_buildings(conn, as_of=day)
        stations = read_stations(conn, as_of=day)
    totals = unit_totals(units.reset_index(), buildings)
    return {"units": units, "parents": units["parent_code"].to_dict(),
            "buildings": dict(zip(buildings["code"], buildings["grid_code"], strict=True)),
            "stations": dict(zip(stations["code"], stations["community_code"], strict=True)),
            "totals": totals.to_dict("index")}


def assert_same_map(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert set(before["units"].index) == set(after["units"].index)
    for code, geom in before["units"].geometry.items():
        assert area_m2(geom.symmetric_difference(after["units"].geometry[code])) < 1.0, code
    for key in ("parents", "buildings", "stations", "totals"):
        assert before[key] == after[key], key


def assert_invariants(engine: Engine, day: dt.date) -> None:
    report = check_database(engine, as_of=day)
    assert report.ok, "\n".join(report.lines())


def apply(engine: Engine, req: ProposalRequest) -> tuple[int, dict[str, Any]]:
    pid = create_proposal(engine, req)
    preview = preview_proposal(engine, pid)["preview"]
    apply_proposal(engine, pid, author="test planner")
    return pid, preview


def test_moving_a_whole_grid_between_communities(tiny: Engine) -> None:
    before = snapshot(tiny, DAY)
    pid, preview = apply(tiny, request(C11, C12, child_codes=("520499001001002",)))
    assert preview["grids_moved_whole"] == ["520499001001002"]
    assert preview["moved"]["residents"] == 160 and preview["moved"]["buildings"] == 5
    assert len(preview["buildings_moved"]) == 5
    (recoded,) = preview["recoded"]  # moved whole, the grid takes a code under its new community (codes nest)
    assert recoded["code"] == "520499001001002" and recoded["new_code"].startswith(C12)
    after = snapshot(tiny, LATER)
    assert "520499001001002" not in after["parents"] and after["parents"][recoded["new_code"]] == C12
    assert {b["grid_after"] for b in preview["buildings_moved"]} == {recoded["new_code"]}
    assert after["totals"][C11]["residents"] == before["totals"][C11]["residents"] - 160
    assert after["totals"][C12]["residents"] == before["totals"][C12]["residents"] + 160
    assert after["totals"]["520499"] == before["totals"]["520499"]  # the district total never changes
    assert_invariants(tiny, LATER)
    assert snapshot(tiny, DAY - dt.timedelta(days=1))["parents"] == before["parents"]  # the past is intact


def test_a_drawn_area_splits_grids_and_moves_their_buildings(tiny: Engine) -> None:
    before = snapshot(tiny, DAY)
    area = box(106.025, 26.009, 106.035, 26.0135)  # across both grids of C21 (a row of buildings), partly in C22
    pid, preview = apply(tiny, request(C21, C22, area=area))
    split = {s["code"]: s["new_code"] for s in preview["grids_split"]}
    assert set(split) == {"520499002001001", "520499002001002"}
    assert all(code.startswith(C22) for code in split.values())
    assert preview["outside_area_m2"] > 100_000
    assert any("outside" in w for w in preview["warnings"])
    assert len(preview["warnings_zh"]) == len(preview["warnings"])
    assert any("之外" in w for w in preview["warnings_zh"])  # the same warnings, worded in Chinese
    after = snapshot(tiny, LATER)
    for old, new in split.items():
        assert after["parents"][new] == C22 and after["parents"][old] == C21
    moved = [code for code, grid in after["buildings"].items() if grid in split.values()]
    pts = {b.code: b.geometry for b in tiny_dataset().buildings.itertuples()}
    assert moved and all(area.contains(pts[code]) for code in moved)
    assert after["totals"]["520499"] == before["totals"]["520499"]
    assert_invariants(tiny, LATER)


def test_revert_restores_the_map_exactly_and_keeps_history(tiny: Engine) -> None:
    before = snapshot(tiny, DAY)
    pid, _ = apply(tiny, request(C21, C22, area=box(106.025, 26.009, 106.035, 26.013)))
    revert_proposal(tiny, pid, author="test planner", effective_date=dt.date(2025, 4, 1))
    assert_same_map(before, snapshot(tiny, LATER))
    assert_invariants(tiny, LATER)
    with tiny.connect() as conn:
        kinds = conn.execute(text("SELECT kind FROM change_log ORDER BY id")).scalars().all()
        versions = conn.execute(text("SELECT count(*) FROM units WHERE code = :c"), {"c": C21}).scalar_one()
    assert kinds == ["import", "apply", "revert"]
    assert versions == 3  # original, applied, restored: nothing overwritten


def test_a_move_across_sub_districts_changes_both(tiny: Engine) -> None:
    before = snapshot(tiny, DAY)
    _, preview = apply(tiny, request(C11, C21, area=box(106.015, 26.012, 106.02, 26.02)))
    roles = {u["code"]: u["role"] for u in preview["units"]}
    assert roles[S1] == "from_ancestor" and roles[S2] == "to_ancestor"
    after = snapshot(tiny, LATER)
    moved = preview["moved"]["residents"]
    assert moved > 0
    assert after["totals"][S1]["residents"] == before["totals"][S1]["residents"] - moved
    assert after["totals"][S2]["residents"] == before["totals"][S2]["residents"] + moved
    assert after["units"].geometry[S1].area < before["units"].geometry[S1].area
    assert_invariants(tiny, LATER)


def test_a_sub_district_move_splits_communities_and_grids(tiny: Engine) -> None:
    _, preview = apply(tiny, request(S1, S2, area=box(106.017, 26.004, 106.02, 26.016)))
    new_codes = [s["new_code"] for s in preview["grids_split"]]
    assert any(len(c) == 12 for c in new_codes) and any(len(c) == 15 for c in new_codes)
    assert any("no workers" in w for w in preview["warnings"])
    split_communities = [s for s in preview["grids_split"] if len(s["code"]) == 12]
    assert sum(s["residents_moved"] for s in split_communities) == preview["moved"]["residents"] > 0
    assert_invariants(tiny, LATER)


def test_moving_part_of_a_grid_to_the_neighbouring_grid(tiny: Engine) -> None:
    a, b = "520499001001001", "520499001001002"
    _, preview = apply(tiny, request(a, b, area=box(106.008, 26.0125, 106.01, 26.02)))
    assert preview["grids_split"] == []
    assert_invariants(tiny, LATER)


def test_a_station_in_the_moved_area_changes_community_but_a_party_centre_stays(tiny: Engine) -> None:
    # the volunteer station sits at (106.003, 26.018) in C11; its party centre at (106.01, 26.0155)
    _, preview = apply(tiny, request(C11, C12, area=box(106.0, 26.0125, 106.012, 26.02), allow_non_adjacent=True))
    assert preview["stations"] == [{"code": "520499001001S02", "from": C11, "to": C12}]
    assert any("party service centre" in w for w in preview["warnings"])
    assert snapshot(tiny, LATER)["stations"]["520499001001S01"] == C11
    assert_invariants(tiny, LATER)


@pytest.mark.parametrize(
    ("a", "b", "kw", "field", "words"),
    [
        (C11, "520499001001001", {"child_codes": ("520499001001002",)}, "to_code", "one level"),
        (C11, C11, {"child_codes": ("520499001001002",)}, "to_code", "same unit"),
        (C11, C22, {"child_codes": ("520499001001002",)}, "to_code", "do not share a boundary"),
        ("520499001009", C12, {"child_codes": ("x",)}, "from_code", "no current unit"),
        (C11, "520499001099", {"child_codes": ("x",)}, "to_code", "no current unit"),
        (C11, C12, {"child_codes": ("520499002001001",)}, "child_codes", "not current grids of"),
        (C11, C12, {"child_codes": ()}, "child_codes", "empty"),
        (C11, C12, {"child_codes": ("520499001001001", "520499001001002")}, "child_codes", "all of"),
        (C11, C12, {}, "child_codes", "either"),
        (C11, C12, {"area": box(106.1, 26.1, 106.2, 26.2)}, "area", "nothing to move"),
        (C11, C12, {"area": Polygon([(106.0, 26.01), (106.02, 26.02), (106.02, 26.01), (106.0, 26.02)])},
         "area", "not a valid polygon"),
        (C11, C12, {"area": Polygon()}, "area", "empty"),
        (C11, C12, {"area": Point(106.005, 26.015)}, "area", "Polygon or MultiPolygon"),
        (C11, C12, {"area": box(105.0, 26.0, 107.0, 26.5)}, "area", "all of"),
        ("520499001001001", "520499001001002", {"child_codes": ("a",)}, "child_codes", "no child units"),
        (C11, C12, {"child_codes": ("520499001001002",), "day": dt.date(2023, 1, 1)}, "effective_date",
         "before unit"),
    ],
)
def test_refused_moves_say_why_and_change_nothing(tiny: Engine, a, b, kw, field, words) -> None:
    before = snapshot(tiny, LATER)
    with pytest.raises(InvalidInput) as refused:
        pid = create_proposal(tiny, request(a, b, **kw))
        apply_proposal(tiny, pid, author="x")  # a date problem surfaces when versions are written
    assert refused.value.field == field
    assert words in refused.value.message
    assert_same_map(before, snapshot(tiny, LATER))


def test_applying_twice_and_reverting_a_draft_are_conflicts(tiny: Engine) -> None:
    pid = create_proposal(tiny, request(C11, C12, child_codes=("520499001001002",)))
    with pytest.raises(Conflict, match="only an applied proposal"):
        revert_proposal(tiny, pid, author="x")
    apply_proposal(tiny, pid, author="x")
    with pytest.raises(Conflict, match="already applied"):
        apply_proposal(tiny, pid, author="x")


def test_a_proposal_whose_units_changed_since_is_refused_with_what_changed(tiny: Engine) -> None:
    first = create_proposal(tiny, request(C11, C12, child_codes=("520499001001002",)))
    second = create_proposal(tiny, request(C11, C12, child_codes=("520499001001001",)))
    apply_proposal(tiny, first, author="x")
    before = snapshot(tiny, LATER)
    with pytest.raises(Conflict) as stale:
        apply_proposal(tiny, second, author="x")
    assert f"{C11} was at version 1 and is now at version 2" in stale.value.message
    assert_same_map(before, snapshot(tiny, LATER))
    assert preview_proposal(tiny, second)["stale"]


def test_reverting_after_a_later_change_on_the_same_units_is_refused(tiny: Engine) -> None:
    first, _ = apply(tiny, request(C11, C12, child_codes=("520499001001002",)))
    apply(tiny, request(C12, C11, child_codes=("520499001002001",), day=dt.date(2025, 3, 2)))
    with pytest.raises(Conflict, match="still stand: proposal 2"):
        revert_proposal(tiny, first, author="x")


def test_a_failure_while_writing_leaves_nothing_behind(tiny: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.reassign import service

    before = snapshot(tiny, LATER)
    pid = create_proposal(tiny, request(C21, C22, area=box(106.025, 26.009, 106.035, 26.013)))

    def broken(conn, families, buildings):  # noqa: ANN001, ANN202 - stands in for verify_written
        raise InvalidInput("simulated failure after writing")

    monkeypatch.setattr(service, "verify_written", broken)
    with pytest.raises(InvalidInput, match="simulated"):
        apply_proposal(tiny, pid, author="x")
    assert_same_map(before, snapshot(tiny, LATER))
    with tiny.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM change_log")).scalar_one() == 1
        assert conn.execute(text("SELECT status FROM proposals")).scalar_one() == "draft"
