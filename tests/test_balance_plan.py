"""A plan a sub-district can sign: the shortfall in one sentence, workers with the moves, new workers after
the moves, and drafts that are skipped (with their reason) instead of sinking the rest."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from conftest import PLANNER_KEY, make_client

from geo.balance.load import LoadOptions
from geo.balance.moves import Move
from geo.balance.plan import carry_workers, requests_with_workers, shortfall, store_drafts
from geo.reassign import ProposalRequest

PLANNER = {"X-API-Key": PLANNER_KEY}
HUAXI = "520402006"


def test_huaxi_s_shortfall_is_said_in_one_sentence_and_new_workers_follow_the_moves(demo_db_url: str) -> None:
    with make_client(demo_db_url) as client:
        load = client.get("/load", params={"subdistrict": HUAXI}).json()["rows"]
        response = client.post("/balance", headers=PLANNER, json={
            "subdistricts": [HUAXI], "time_limit": 20, "draft": False, "new_workers": 15, "workers_per_move": 2})
    assert response.status_code == 200, response.text
    result = response.json()
    needed = math.ceil(sum(r["target_workers"] for r in load) - 1e-9)  # rounded to 4 places: same ceiling here
    present = sum(r["workers"] for r in load)
    huaxi = next(r for r in result["shortfall"] if r["code"] == HUAXI)
    assert (huaxi["workers_needed"], huaxi["workers_present"]) == (needed, present)
    assert huaxi["shortfall"] == needed - present > 0
    for figure in (needed, present, needed - present):
        assert str(figure) in huaxi["message"]["zh"] and str(figure) in huaxi["message"]["en"]
    assert "华西街道" in huaxi["message"]["zh"]
    district = result["shortfall"][-1]
    assert district["level"] == "district" and district["workers_present"] >= present
    assert sum(r["new_workers"] for r in result["staffing"]["communities"]) == 15
    assert {r["subdistrict_code"] for r in result["staffing"]["communities"]} == {HUAXI}
    assert "15" in result["plan"]["zh"] and "15 new community workers" in result["plan"]["en"]


def test_workers_go_with_a_move_only_where_both_sides_get_closer_to_the_norm() -> None:
    options = LoadOptions()
    per = 10_000 / options.norm
    table = pd.DataFrame({  # A gives territory to B; B is then far over, A far under: workers should follow
        "code": ["A", "B"], "kind": ["urban", "urban"], "workers": [10, 2],
        "workload_after": [4 * per, 6 * per],
    })
    move = Move("A", "甲", "B", "乙", ("g",), 100, 30, 100.0)
    carried = carry_workers([move], table, options, allowance=5)
    assert carried[0].workers_moved == 5  # A 0.80, B 0.86: the worse of the two as near 1 as can be
    assert carry_workers([move], table, options, allowance=0)[0].workers_moved == 0
    assert carry_workers([move], table, options, allowance=2)[0].workers_moved == 2
    request = ProposalRequest(from_code="A", to_code="B", effective_date=dt.date(2025, 1, 1), author="x")
    out = requests_with_workers([request], carried)[0]
    assert getattr(out, "workers_moved", 5) == 5  # set when proposals know the field, else left as it was


def test_shortfall_rounds_needed_workers_up_and_names_each_level() -> None:
    table = pd.DataFrame({"subdistrict_code": ["s1", "s1", "s2"], "subdistrict_name": ["<b>一</b>", "<b>一</b>", "二"],
                          "target_workers": [3.2, 1.0, 2.0], "workers": [3, 1, 4]})
    rows = shortfall(table, options=LoadOptions())
    assert [(r["code"], r["workers_needed"], r["workers_present"], r["shortfall"]) for r in rows] == [
        ("s1", 5, 4, 1), ("s2", 2, 4, 0), (None, 7, 8, 0)]
    assert "缺1名" in rows[0]["message"]["zh"] and "shortfall of 1" in rows[0]["message"]["en"]
    assert "足够" in rows[1]["message"]["zh"]


def test_a_refused_draft_is_skipped_with_its_reason_and_the_others_are_stored(tiny_db_url: str) -> None:
    day = dt.date(2025, 3, 1)
    good = ProposalRequest(from_code="520499001001", to_code="520499001002", effective_date=day, author="t",
                           child_codes=("520499001001002",))
    bad = ProposalRequest(from_code="520499001001", to_code="520499009009", effective_date=day, author="t",
                          child_codes=("520499001001001",))
    from geo.db import make_engine

    ids, skipped = store_drafts(make_engine(tiny_db_url), [bad, good])
    assert ids[0] is None and isinstance(ids[1], int)
    assert skipped[0]["index"] == 0 and skipped[0]["to_code"] == "520499009009" and skipped[0]["reason"]


def test_applying_drafts_skips_a_refused_one_and_applies_the_rest(client) -> None:
    def draft(body: dict) -> int:
        made = client.post("/proposals", headers=PLANNER, json={"effective_date": "2025-03-01", "author": "x", **body})
        assert made.status_code == 201, made.text
        return made.json()["proposal"]["id"]

    merge = draft({"kind": "merge", "to_code": "520499001001001", "merge_codes": ["520499001001002"]})
    split = draft({"kind": "split", "from_code": "520499001001002",
                   "parts": [{"type": "Polygon", "coordinates": [[[106.011, 26.011], [106.015, 26.011],
                                                                  [106.015, 26.015], [106.011, 26.011]]]}]})
    move = draft({"from_code": "520499002001", "to_code": "520499002002", "child_codes": ["520499002001002"]})
    done = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": [merge, split, move]})
    assert done.status_code == 200, done.text
    body = done.json()
    assert [a["proposal_id"] for a in body["applied"]] == [merge, move]
    assert [s["proposal_id"] for s in body["skipped"]] == [split] and body["skipped"][0]["reason"]
    assert client.get(f"/proposals/{split}").json()["proposal"]["status"] == "draft"
