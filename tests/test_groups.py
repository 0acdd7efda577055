"""Residents' groups (居民小组): the grouping (property tests), storing and versioning, re-proposal after a
boundary change keeping the groups that are still whole, the API and the CLI (both databases)."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from conftest import PLANNER_KEY
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.groups.partition import GroupBand, contiguous, group_count, propose, repropose

PLANNER = {"X-API-Key": PLANNER_KEY}
A, B = "520499002001", "520499002002"
MOVED_GRID = "520499002001002"


def _random(seed: int, n: int) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return ([f"b{i:03d}" for i in range(n)], 106 + rng.random(n) * 0.01, 26 + rng.random(n) * 0.01,
            rng.integers(1, 16, n))  # 1–15 households a building, as in the demo


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 150), low=st.integers(15, 40), width=st.integers(30, 60))
def test_every_building_is_in_one_group_and_groups_keep_to_the_band(seed: int, n: int, low: int, width: int) -> None:
    codes, x, y, households = _random(seed, n)
    band = GroupBand(low, low + width)
    groups = propose(codes, x, y, households, households * 3, band)
    members = [c for g in groups for c in g.building_codes]
    assert sorted(members) == codes  # each building exactly once
    assert sum(g.households for g in groups) == households.sum()
    assert all(g.households <= band.max_households or len(g.building_codes) == 1 for g in groups)
    total = int(households.sum())
    if math.ceil(total / band.max_households) <= total // band.min_households:  # some count of groups fits
        within = sum(band.holds(g.households) for g in groups)
        assert within >= 0.8 * len(groups)


def test_the_number_of_groups_puts_the_mean_nearest_the_middle_of_the_band() -> None:
    band = GroupBand(30, 80)
    assert group_count(110, band) == 2 and group_count(550, band) == 10 and group_count(10, band) == 1


def test_re_proposal_keeps_every_group_still_whole() -> None:
    codes, x, y, households = _random(7, 120)
    band = GroupBand()
    first = propose(codes, x, y, households, households, band)
    existing = {f"G{i:03d}": list(g.building_codes) for i, g in enumerate(first)}
    gone = set(first[0].building_codes) | set(first[1].building_codes[:1])  # two groups lose buildings
    keep = [i for i, c in enumerate(codes) if c not in gone]
    again = repropose([codes[i] for i in keep], x[keep], y[keep], households[keep], households[keep], band, existing)
    kept = {g.code for g in again if g.kept}
    assert kept == {c for c, m in existing.items() if not set(m) & gone}
    assert sorted(c for g in again for c in g.building_codes) == sorted(codes[i] for i in keep)


def test_contiguity_is_checked_on_the_delaunay_graph() -> None:
    points = np.array([[0, 0], [1, 0], [2, 0], [3, 0.1]], dtype=float)
    assert contiguous(points, np.array([0, 0, 1, 1])).all()
    assert not contiguous(points, np.array([0, 1, 0, 1])).all()


def test_groups_are_stored_versioned_and_re_proposed_after_a_move(client) -> None:
    proposal = client.get(f"/communities/{A}/groups", params={"datetime": "2025-01-01"}).json()
    assert proposal["stored"] is False and proposal["count"] >= 1
    stored = client.post(f"/communities/{A}/groups", headers=PLANNER, json={"effective_date": "2025-01-01"})
    assert stored.status_code == 200, stored.text
    assert client.post(f"/communities/{B}/groups", headers=PLANNER, json={"effective_date": "2025-01-01"}
                       ).status_code == 200
    before = client.get(f"/communities/{A}/groups", params={"datetime": "2025-02-01"}).json()
    assert before["stored"] is True and before["count"] == stored.json()["count"]
    draft = client.post("/proposals", headers=PLANNER, json={
        "from_code": A, "to_code": B, "child_codes": [MOVED_GRID], "effective_date": "2025-03-01", "author": "t"})
    assert draft.status_code == 201, draft.text
    pid = draft.json()["proposal"]["id"]
    impact = client.get(f"/proposals/{pid}/impact").json()["residents_groups"]
    section = next(c for c in impact if c["community_code"] == A)
    assert section["groups"] == before["count"]
    assert section["unchanged"] + len(section["moving_whole"]) + len(section["split"]) == before["count"]
    assert section["moving_whole"] or section["split"]
    assert "居民小组调整" in client.get(f"/proposals/{pid}/report.html").text
    applied = client.post("/balance/apply", headers=PLANNER, json={"proposal_ids": [pid]}).json()
    groups_step = applied["applied"][0]["groups"]
    assert set(groups_step) == {A, B}
    after_a = client.get(f"/communities/{A}/groups", params={"datetime": "2025-03-01"}).json()
    after_b = client.get(f"/communities/{B}/groups", params={"datetime": "2025-03-01"}).json()
    grid_buildings = {g["code"]: set(g["building_codes"]) for g in before["groups"]}
    whole = [code for code, members in grid_buildings.items() if all(not m.startswith(MOVED_GRID) for m in members)]
    assert groups_step[A]["kept"] == len(whole)  # every group that lost nothing is kept, with its code
    assert {g["code"] for g in after_a["groups"]} >= set(whole)
    assert groups_step[B]["kept"] >= 1 and groups_step[B]["new"] >= 1
    assert all(not m.startswith(MOVED_GRID) for g in after_a["groups"] for m in g["building_codes"])
    assert any(m.startswith(MOVED_GRID) for g in after_b["groups"] for m in g["building_codes"])
    old = client.get(f"/communities/{A}/groups", params={"datetime": "2025-02-01"}).json()  # as of: the old groups
    assert [g["code"] for g in old["groups"]] == [g["code"] for g in before["groups"]]
    box = client.get("/groups", params={"bbox": "106.0,26.0,106.04,26.02", "datetime": "2025-03-01"}).json()
    assert box["type"] == "FeatureCollection" and {f["properties"]["community_code"] for f in box["features"]} >= {A, B}
    exported = list(csv.DictReader(io.StringIO(client.get("/groups.csv", params={"datetime": "2025-03-01"}).text)))
    assert {r["community_code"] for r in exported} == {A, B}
    assert sum(int(r["households"]) for r in exported if r["community_code"] == B) == sum(
        g["households"] for g in after_b["groups"])


@pytest.mark.parametrize(("path", "params", "status", "field"), [
    (f"/communities/{A}/groups", {"min_households": 90, "max_households": 50}, 422, "min_households"),
    ("/communities/520499009009/groups", {}, 404, "community"),
    ("/groups", {"bbox": "1,2,3"}, 422, "bbox"),
])
def test_bad_requests_name_the_field(client, path: str, params: dict, status: int, field: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field


def test_the_cli_lists_stores_and_exports(tiny_db_url: str, tmp_path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    done = runner.invoke(app, ["groups", "list", A, "--database", tiny_db_url])
    assert done.exit_code == 0 and "proposed (not stored)" in done.output, done.output
    done = runner.invoke(app, ["groups", "propose", A, "--store", "--effective-date", "2025-01-01",
                               "--database", tiny_db_url])
    assert done.exit_code == 0 and "stored" in done.output, done.output
    done = runner.invoke(app, ["groups", "export", str(tmp_path / "g.csv"), "--database", tiny_db_url,
                               "--as-of", "2025-06-01"])
    assert done.exit_code == 0 and (tmp_path / "g.csv").read_text().startswith("code,community_code")
    done = runner.invoke(app, ["groups", "list", A, "--min-households", "9", "--max-households", "3",
                               "--database", tiny_db_url])
    assert done.exit_code == 2 and "min_households" in done.output
