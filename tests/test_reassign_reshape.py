"""Splits and merges on the tiny dataset, on both databases: what they create and retire, the
invariants after each, revert back to the exact map, and refusals that say why and change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from shapely.geometry import Point, Polygon, box
from sqlalchemy import Engine, text
from test_reassign import DAY, LATER, apply, assert_invariants, assert_same_map, request, snapshot

from geo.errors import Conflict, InvalidInput
from geo.reassign import ProposalRequest, apply_proposal, create_proposal, revert_proposal

C11, C12, C22 = "520499001001", "520499001002", "520499002002"
G111, G112 = "520499001001001", "520499001001002"  # C11's west and east grid
WEST = box(106.0, 26.01, 106.004, 26.02)  # buildings 1 and 2 of G111
MIDDLE = box(106.004, 26.01, 106.007, 26.02)  # buildings 3 and 4


@pytest.fixture
def tiny(tiny_db_url: str) -> Engine:
    from geo.db import make_engine

    return make_engine(tiny_db_url)


def split(grid: str, *parts: Any, **kw: Any) -> ProposalRequest:
    return ProposalRequest(kind="split", from_code=grid, to_code=kw.pop("to_code", None), effective_date=DAY,
                           author="test planner", parts=parts, **kw)


def merge(keep: str, *codes: str, **kw: Any) -> ProposalRequest:
    return ProposalRequest(kind="merge", from_code=kw.pop("from_code", codes[0] if codes else ""), to_code=keep,
                           effective_date=DAY, author="test planner", merge_codes=codes, **kw)


def test_a_split_makes_new_grids_of_the_same_community_and_reverts_exactly(tiny: Engine) -> None:
    before = snapshot(tiny, DAY)
    pid, preview = apply(tiny, split(G111, WEST, MIDDLE))
    new = ["520499001001003", "520499001001004"]
    assert preview["kind"] == "split" and preview["created"] == new and preview["retired"] == []
    roles = {u["code"]: u["role"] for u in preview["units"]}
    assert roles == {G111: "from", new[0]: "new", new[1]: "new"}
    figures = {u["code"]: u for u in preview["units"]}
    assert figures[new[0]]["after"]["buildings"] == 2 and figures[new[1]]["after"]["buildings"] == 2
    assert figures[G111]["after"]["buildings"] == 1
    assert figures[G111]["before"]["residents"] == sum(figures[c]["after"]["residents"] for c in (G111, *new))
    after = snapshot(tiny, LATER)
    assert after["parents"][new[0]] == after["parents"][new[1]] == C11
    assert after["units"].loc[new[0], "name"] == "网格111之二" and after["units"].loc[new[1], "name"] == "网格111之三"
    assert after["units"].loc[new[0], "name_en"] == "Grid 111 (part 2)"
    assert sorted(c for c, g in after["buildings"].items() if g == new[0]) == [f"{G111}0001", f"{G111}0002"]
    assert after["totals"][C11] == before["totals"][C11]  # the community's outline and people are untouched
    assert after["totals"]["520499"] == before["totals"]["520499"]
    assert_invariants(tiny, LATER)
    with tiny.connect() as conn:
        stored = conn.execute(text("SELECT kind, to_code, parts FROM proposals WHERE id = :i"), {"i": pid}).one()
    assert stored[0] == "split" and stored[1] is None and stored[2] is not None

    revert_proposal(tiny, pid, author="test planner", effective_date=dt.date(2025, 4, 1))
    assert_same_map(before, snapshot(tiny, LATER))
    assert_invariants(tiny, LATER)


def test_a_merge_of_grids_retires_them_and_reverts_exactly(tiny: Engine) -> None:
    before = snapshot(tiny, DAY)
    pid, preview = apply(tiny, merge(G111, G112))
    assert preview["kind"] == "merge" and preview["retired"] == [G112] and preview["created"] == []
    roles = {u["code"]: u["role"] for u in preview["units"]}
    assert roles == {G111: "to", G112: "retired"}
    after = snapshot(tiny, LATER)
    assert G112 not in after["units"].index
    assert all(g != G112 for g in after["buildings"].values())
    assert after["totals"][G111]["residents"] == before["totals"][G111]["residents"] + before["totals"][G112][
        "residents"]
    assert after["totals"][C11] == before["totals"][C11]
    assert_invariants(tiny, LATER)
    assert G112 in snapshot(tiny, DAY - dt.timedelta(days=1))["units"].index  # the past keeps it

    revert_proposal(tiny, pid, author="test planner", effective_date=dt.date(2025, 4, 1))
    assert_same_map(before, snapshot(tiny, LATER))
    assert_invariants(tiny, LATER)


def test_a_community_merge_across_sub_districts_brings_grids_stations_and_workers(tiny: Engine) -> None:
    before = snapshot(tiny, DAY)
    pid, preview = apply(tiny, merge(C22, C12))
    roles = {u["code"]: u["role"] for u in preview["units"]}
    assert roles == {C12: "retired", C22: "to", "520499001": "from_ancestor", "520499002": "to_ancestor"}
    assert any("party service centre" in w for w in preview["warnings"])
    assert any("党群服务中心" in w for w in preview["warnings_zh"])
    after = snapshot(tiny, LATER)
    assert after["parents"]["520499001002001"] == after["parents"]["520499001002002"] == C22
    assert after["stations"]["520499001002S01"] == C22
    workers = {c: int(before["units"].loc[c, "workers"]) for c in (C12, C22)}
    assert int(after["units"].loc[C22, "workers"]) == workers[C12] + workers[C22]
    to = next(u for u in preview["units"] if u["code"] == C22)
    assert to["after"]["workers"] == workers[C12] + workers[C22]
    assert after["totals"][C22]["residents"] == before["totals"][C22]["residents"] + before["totals"][C12][
        "residents"]
    assert after["totals"]["520499"] == before["totals"]["520499"]
    assert_invariants(tiny, LATER)

    revert_proposal(tiny, pid, author="test planner", effective_date=dt.date(2025, 4, 1))
    assert_same_map(before, snapshot(tiny, LATER))
    assert int(snapshot(tiny, LATER)["units"].loc[C22, "workers"]) == workers[C22]
    assert_invariants(tiny, LATER)


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda: split(G111, box(106.0, 26.01, 106.006, 26.02), box(106.003, 26.01, 106.008, 26.02)),
         "parts", "overlaps an earlier part"),
        (lambda: split(G111, box(106.1, 26.1, 106.2, 26.2)), "parts", "does not overlap"),
        (lambda: split(G111, box(105.9, 25.9, 106.1, 26.1)), "parts", "whole grid"),
        (lambda: split(G111), "parts", "empty"),
        (lambda: split(G111, WEST, Point(106.005, 26.015)), "parts", "part 2: parts must be a Polygon"),
        (lambda: split(G111, Polygon([(106.0, 26.01), (106.004, 26.02), (106.004, 26.01), (106.0, 26.02)])),
         "parts", "part 1: parts is not a valid polygon"),
        (lambda: split(C11, WEST), "from_code", "only grids"),
        (lambda: split(G111, WEST, to_code=G112), "to_code", "leave to_code empty"),
        (lambda: split(G111, WEST, child_codes=("x",)), "child_codes", "does not take"),
        (lambda: merge("520499002002002", G111), "merge_codes", "would not touch"),
        (lambda: merge(G111, G112, "520499001002001"), "merge_codes", "one parent"),
        (lambda: merge(G111, G111), "merge_codes", "cannot also be merged"),
        (lambda: merge(C12, G111), "merge_codes", "one level"),
        (lambda: merge("520499001002001", G111, G112), "to_code", "no territory"),
        (lambda: merge(G111), "merge_codes", "empty"),
        (lambda: merge(G111, G112, G112), "merge_codes", "twice"),
        (lambda: merge(G111, G112, from_code="x"), "from_code", "first of merge_codes"),
        (lambda: merge(None, G112), "to_code", "needs to_code"),
        (lambda: request(C11, C12, child_codes=(G112,), merge_codes=(G112,)), "merge_codes", "does not take"),
        (lambda: ProposalRequest(kind="swap", from_code=C11, to_code=C12, effective_date=DAY, author="x"),
         "kind", "one of"),
    ],
)
def test_refused_splits_and_merges_say_why_and_change_nothing(tiny: Engine, make, field, words) -> None:
    before = snapshot(tiny, LATER)
    with pytest.raises(InvalidInput) as refused:
        create_proposal(tiny, make())
    assert refused.value.field == field
    assert words in refused.value.message
    assert_same_map(before, snapshot(tiny, LATER))


def test_a_move_drafted_before_a_merge_is_stale_once_its_unit_is_retired(tiny: Engine) -> None:
    move = create_proposal(tiny, request(C11, C12, child_codes=(G112,)))
    apply(tiny, merge(G111, G112))
    with pytest.raises(Conflict, match=f"{G112} was at version 1 and is no longer current"):
        apply_proposal(tiny, move, author="x")


def test_a_change_cannot_be_reverted_once_a_merge_retired_what_it_made(tiny: Engine) -> None:
    moved, preview = apply(tiny, request(C11, C12, child_codes=(G112,)))  # G112 now in C12, re-coded
    (recoded,) = preview["recoded"]
    apply(tiny, ProposalRequest(kind="merge", from_code=recoded["new_code"], to_code="520499001002002",
                                effective_date=dt.date(2025, 3, 2), author="x", merge_codes=(recoded["new_code"],)))
    with pytest.raises(Conflict, match="still stand: proposal 2"):
        revert_proposal(tiny, moved, author="x")


def test_a_batch_of_drafts_is_stored_whole_or_not_at_all(tiny: Engine) -> None:
    from geo.reassign import create_proposals

    good, bad = merge(G111, G112), split(G111, box(106.1, 26.1, 106.2, 26.2))
    with pytest.raises(InvalidInput) as refused:
        create_proposals(tiny, [good, bad])
    assert refused.value.field == "parts"
    assert refused.value.message.startswith(f"draft 2 of 2 (split {G111}) was refused, so none was stored: part 1")
    with tiny.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM proposals")).scalar_one() == 0
    assert len(create_proposals(tiny, [good, split(G111, WEST)])) == 2


def test_a_merge_that_fails_while_writing_retires_nothing(tiny: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.reassign import service

    before = snapshot(tiny, LATER)
    pid = create_proposal(tiny, merge(C22, C12))

    def broken(conn, families, buildings):  # noqa: ANN001, ANN202 - stands in for verify_written
        raise InvalidInput("simulated failure after writing")

    monkeypatch.setattr(service, "verify_written", broken)
    with pytest.raises(InvalidInput, match="simulated"):
        apply_proposal(tiny, pid, author="x")
    assert_same_map(before, snapshot(tiny, LATER))  # C12 and its grids, stations and workers all as they were
    with tiny.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM change_log")).scalar_one() == 1
        assert conn.execute(text("SELECT status FROM proposals")).scalar_one() == "draft"
