"""On the Xixiu demo (both databases): the suggestions fix Nanjiao, apply cleanly and keep every invariant."""

from __future__ import annotations

import datetime as dt

from conftest import PLANNER_KEY, make_client

from geo.db import make_engine
from geo.invariants import check_database

PLANNER = {"X-API-Key": PLANNER_KEY}
HUAXI, NANJIAO = "520402006", "520402006006"


def test_suggested_moves_fix_nanjiao_and_every_invariant_holds_after_applying(demo_db_url: str) -> None:
    with make_client(demo_db_url) as client:
        before = {r["code"]: r for r in client.get("/load", params={"subdistrict": HUAXI}).json()["rows"]}
        assert before[NANJIAO]["flag"] == "over" and before[NANJIAO]["ratio"] > 2.5
        response = client.post("/balance", headers=PLANNER, json={
            "subdistricts": [HUAXI], "required": [NANJIAO], "max_grids_lost": 8, "time_limit": 20,
            "reason": "南郊社区体量过大，部分网格划入周边社区", "document_ref": "西华办发〔2025〕12号",
        })
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["status"] == "optimal", result["solves"]
        assert any(m["from_code"] == NANJIAO for m in result["moves"])
        predicted = {r["code"]: r for r in result["communities"]}
        assert predicted[NANJIAO]["flag_after"] == "ok"
        ids = [m["proposal_id"] for m in result["moves"]]
        applied = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": ids})
        assert applied.status_code == 200, applied.text
        assert len(applied.json()["applied"]) == len(ids)
        after = {r["code"]: r for r in client.get("/load", params={"subdistrict": HUAXI}).json()["rows"]}
    assert after[NANJIAO]["flag"] == "ok"
    assert 0.8 <= after[NANJIAO]["ratio"] <= 1.2
    for code, row in predicted.items():  # the summary said what applying does
        assert after[code]["residents"] == row["residents_after"]
        assert after[code]["flag"] == row["flag_after"]
    assert sum(r["residents"] for r in after.values()) == sum(r["residents"] for r in before.values())
    report = check_database(make_engine(demo_db_url), as_of=dt.date.today())
    assert report.ok, "\n".join(report.lines())


def test_nanjiao_cannot_be_fixed_when_its_neighbours_are_locked(demo_db_url: str) -> None:
    with make_client(demo_db_url) as client:
        load = client.get("/load", params={"subdistrict": HUAXI}).json()["rows"]
        others = [r["code"] for r in load if r["code"] != NANJIAO]
        response = client.post("/balance", headers=PLANNER, json={
            "subdistricts": [HUAXI], "required": [NANJIAO], "locked_communities": others, "time_limit": 10,
        })
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert "南郊社区" in message and "locked" in message
