"""GET /load, POST /staffing, POST /balance and POST /grid-splits on the tiny dataset (both databases).

Expected figures are computed here from tests/factories.py, not from gridgov's own totals.
"""

from __future__ import annotations

import csv
import io

import pytest
from conftest import PLANNER_KEY
from factories import tiny_dataset

PLANNER = {"X-API-Key": PLANNER_KEY}
# A norm under which the tiny communities (about 320 residents, 11–22 workers) straddle the band.
NORM = 344.0


def expected_rows() -> dict[str, dict[str, float]]:
    ds = tiny_dataset()
    units = ds.units.set_index("code")
    grids = units[units["level"] == "grid"]
    by_grid = ds.buildings.assign(grid=ds.buildings["code"].str[:15]).groupby("grid")
    per_grid = by_grid[["residents", "households"]].sum()
    rows = {}
    for code, unit in units[units["level"] == "community"].iterrows():
        mine = per_grid.loc[grids.index[grids["parent_code"] == code]]
        residents, workers = int(mine["residents"].sum()), int(unit["workers"])
        rows[code] = {"residents": residents, "households": int(mine["households"].sum()), "workers": workers,
                      "ratio": residents * NORM / 10_000 / workers}
    return rows


def test_load_per_community_matches_the_buildings(client) -> None:
    body = client.get("/load", params={"norm": NORM}).json()
    expected = expected_rows()
    assert body["count"] == 4
    for row in body["rows"]:
        want = expected[row["code"]]
        assert row["residents"] == want["residents"] and row["workers"] == want["workers"]
        assert row["households"] == want["households"]
        assert row["ratio"] == pytest.approx(want["ratio"], abs=1e-4)
        assert row["residents_per_worker"] == pytest.approx(want["residents"] / want["workers"], abs=1e-4)
        assert row["households_per_grid"] == pytest.approx(want["households"] / 2, abs=1e-4)
        assert row["flag"] == ("over" if want["ratio"] > 1.2 else "under" if want["ratio"] < 0.8 else "ok")
    assert {r["flag"] for r in body["rows"]} == {"ok", "under"}


def test_load_per_subdistrict_and_as_csv(client) -> None:
    expected = expected_rows()
    subs = client.get("/load", params={"norm": NORM, "level": "subdistrict"}).json()["rows"]
    for row in subs:
        mine = [v for k, v in expected.items() if k.startswith(row["code"])]
        assert row["residents"] == sum(m["residents"] for m in mine)
        assert row["workers"] == sum(m["workers"] for m in mine)
        assert row["communities"] == 2
    text = client.get("/load", params={"norm": NORM, "format": "csv", "flag": "under"})
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert {r["code"] for r in rows} == {k for k, v in expected.items() if v["ratio"] < 0.8}
    assert all(int(r["residents"]) == expected[r["code"]]["residents"] for r in rows)


def test_weights_raise_the_workload(client) -> None:
    plain = {r["code"]: r for r in client.get("/load").json()["rows"]}
    weighted = {r["code"]: r for r in client.get("/load", params={"elderly_weight": 0.5}).json()["rows"]}
    ds = tiny_dataset()
    for code, row in weighted.items():
        elderly = int(ds.buildings[ds.buildings["code"].str.startswith(code)]["elderly"].sum())
        assert row["workload"] == pytest.approx(plain[code]["workload"] + 0.5 * elderly)


@pytest.mark.parametrize(("params", "field"), [
    ({"tolerance": 1.5}, "tolerance"), ({"tolerance": 0}, "tolerance"), ({"subdistrict": "520499999"}, "subdistrict"),
    ({"level": "province"}, "level"), ({"elderly_weight": -1}, "elderly_weight"),
])
def test_bad_load_queries_are_422_naming_the_field(client, params: dict, field: str) -> None:
    response = client.get("/load", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_staffing_gives_workers_where_the_load_is_worst(client) -> None:
    response = client.post("/staffing", json={"new_workers": 3, "norm": NORM})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["allocated"] == 3
    given = {r["code"]: r["new_workers"] for r in body["communities"]}
    assert given["520499001001"] >= 1  # the most loaded (11 workers for the most residents per worker)
    assert body["summary"]["worst_ratio_after"] < body["summary"]["worst_ratio_before"]
    bad = client.post("/staffing", json={"new_workers": -1})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "new_workers"


def test_balance_needs_the_planner_role(client) -> None:
    assert client.post("/balance", json={}).status_code == 401


def test_balance_drafts_cross_subdistrict_moves_and_reports_the_solve(client) -> None:
    body = {"norm": NORM, "cross_subdistrict": True, "required": ["520499002001"], "time_limit": 10}
    refused = client.post("/balance", json=body, headers=PLANNER)  # fixing it would push a neighbour out
    assert refused.status_code == 422 and "guarantees" in refused.json()["error"]["message"], refused.text
    response = client.post("/balance", json={**body, "relax": ["keep_in_band", "no_further", "receiver_cap"]},
                           headers=PLANNER)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "optimal"
    assert result["moves"] and all(m["proposal_id"] for m in result["moves"])
    solve = result["solves"][0]
    assert solve["status"] == "optimal" and solve["gap"] == 0.0
    assert solve["moved_residents"] == solve["moved_residents_bound"] == result["summary"]["moved_residents"]
    after = {r["code"]: r for r in result["communities"]}
    assert after["520499002001"]["flag_after"] == "ok"
    draft = client.get(f"/proposals/{result['moves'][0]['proposal_id']}").json()
    assert draft["proposal"]["status"] == "draft"


@pytest.mark.parametrize(("extra", "words"), [
    ({}, "across sub-districts"),
    ({"cross_subdistrict": True, "locked_communities": ["520499001001", "520499001002"]}, "locked"),
])
def test_infeasible_requirements_are_422_naming_the_constraint(client, extra: dict, words: str) -> None:
    body = {"norm": NORM, "required": ["520499002001"], "draft": False,  # the guarantees relaxed: see above
            "relax": ["keep_in_band", "no_further", "receiver_cap"], **extra}
    response = client.post("/balance", json=body, headers=PLANNER)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert words in error["message"] and error["field"] == "required"


def test_grid_splits_on_the_tiny_grids(client) -> None:
    response = client.post("/grid-splits", json={"min_households": 100, "max_households": 150})
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["grids"] == 8 and not plan["splits"]  # every tiny grid has 60 households
    merged = [c for m in plan["merges"] for c in m["grid_codes"]]
    assert len(merged) == len(set(merged)) and all(m["households"] <= 150 for m in plan["merges"])
    split = client.post("/grid-splits", json={"min_households": 20, "max_households": 40}).json()
    assert len(split["splits"]) == 8
    assert all(sum(p["households"] for p in s["parts"]) == s["households"] for s in split["splits"])
    bad = client.post("/grid-splits", json={"min_households": 500, "max_households": 300})
    assert bad.status_code == 422
    assert client.post("/grid-splits/drafts", json={"min_households": 20, "max_households": 40}).status_code == 401
    drafts = client.post("/grid-splits/drafts", headers=PLANNER,
                         json={"min_households": 20, "max_households": 40, "effective_date": "2025-03-01"}).json()
    ids = [s["proposal_id"] for s in drafts["splits"]]
    assert len(ids) == 8 and all(ids)
    applied = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": ids})
    assert applied.status_code == 200, applied.text
    assert client.post("/grid-splits", json={"min_households": 20, "max_households": 40}).json()["splits"] == []


def test_the_cli_prints_load_staffing_and_balance(tiny_db_url: str) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    done = runner.invoke(app, ["load", "--database", tiny_db_url, "--format", "csv", "--norm", str(NORM)])
    assert done.exit_code == 0, done.output
    assert list(csv.DictReader(io.StringIO(done.output)))[0]["code"] == "520499001001"
    done = runner.invoke(app, ["staffing", "--new-workers", "5", "--database", tiny_db_url])
    assert done.exit_code == 0 and "allocated 5 of 5" in done.output
    done = runner.invoke(app, ["balance", "--database", tiny_db_url, "--norm", str(NORM), "--cross-subdistrict"])
    assert done.exit_code == 0 and "status optimal" in done.output, done.output
    done = runner.invoke(app, ["staffing", "--new-workers", "-1", "--database", tiny_db_url])
    assert done.exit_code == 2 and "new_workers" in done.output
    done = runner.invoke(app, ["balance", "--database", tiny_db_url, "--tolerance", "1.5"])
    assert done.exit_code == 2 and "tolerance" in done.output
    done = runner.invoke(app, ["grid-splits", "--database", tiny_db_url, "--min-households", "20",
                               "--max-households", "40"])
    assert done.exit_code == 0 and "8 above the band" in done.output
    assert "draft proposal" not in done.output
    done = runner.invoke(app, ["grid-splits", "--database", tiny_db_url, "--min-households", "20",
                               "--max-households", "40", "--draft", "--effective-date", "2025-03-01"])
    assert done.exit_code == 0 and done.output.count("→ draft proposal") == 8, done.output
    done = runner.invoke(app, ["grid-splits", "--database", tiny_db_url, "--village-min-households", "90",
                               "--village-max-households", "50"])
    assert done.exit_code == 2 and "household band" in done.output


def test_a_batch_of_drafts_is_checked_first_and_a_refusal_says_what_was_applied(client) -> None:
    def draft(body: dict) -> int:
        made = client.post("/proposals", headers=PLANNER, json={"effective_date": "2025-03-01", "author": "x", **body})
        assert made.status_code == 201, made.text
        return made.json()["proposal"]["id"]

    merge = draft({"kind": "merge", "to_code": "520499001001001", "merge_codes": ["520499001001002"]})
    split = draft({"kind": "split", "from_code": "520499001001002",
                   "parts": [{"type": "Polygon", "coordinates": [[[106.011, 26.011], [106.015, 26.011],
                                                                  [106.015, 26.015], [106.011, 26.011]]]}]})
    unknown = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": [merge, 999]})
    assert unknown.status_code == 404
    twice = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": [merge, merge]})
    assert twice.status_code == 422 and twice.json()["error"]["field"] == "proposal_ids"
    assert client.get(f"/proposals/{merge}").json()["proposal"]["status"] == "draft"  # nothing applied
    refused = client.post("/balance/apply", headers=PLANNER,
                          json={"proposal_ids": [merge, split], "stop_on_refusal": True})
    assert refused.status_code == 422, refused.text  # the split's grid was merged away by the first draft
    message = refused.json()["error"]["message"]
    assert f"proposal {split} was refused" in message and f"Applied before it: {merge}" in message
    assert client.get(f"/proposals/{merge}").json()["proposal"]["status"] == "applied"
    # Sent again after a crash part-way (issue #12 item 12): the applied member is reported, the rest go on.
    third = draft({"kind": "merge", "to_code": "520499002001001", "merge_codes": ["520499002001002"]})
    again = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": [merge, third]})
    assert again.status_code == 200, again.text
    assert again.json()["applied"][0] == {"proposal_id": merge, "already_applied": True}
    assert client.get(f"/proposals/{third}").json()["proposal"]["status"] == "applied"
    client.post(f"/proposals/{third}/withdraw", json={"author": "x"}, headers=PLANNER)  # applied: refused, 409
    withdrawn = draft({"kind": "merge", "to_code": "520499002002001", "merge_codes": ["520499002002002"]})
    client.post(f"/proposals/{withdrawn}/withdraw", json={"author": "x"}, headers=PLANNER)
    refused = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": [withdrawn]})
    assert refused.status_code == 409 and "nothing was applied" in refused.json()["error"]["message"]
