"""Change history under sequences (issue #11): undo in any sensible order, cancel vs reverse, scheduled
changes, draft lifecycle, guards, identity over time and who may act. Each reproduction of the issue is a
test here that failed on the code before it; all run on SpatiaLite and PostGIS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import PLANNER_KEY, make_client
from shapely.geometry import box, mapping
from sqlalchemy import Engine, text
from test_reassign import assert_invariants, assert_same_map, snapshot

from geo.access import Actor
from geo.errors import Conflict, Forbidden, InvalidInput
from geo.reassign import (
    ProposalRequest,
    apply_proposal,
    cancel_proposal,
    create_proposal,
    edit_proposal,
    preview_proposal,
    revert_proposal,
    withdraw_proposal,
)

C11, C12, C21, C22 = "520499001001", "520499001002", "520499002001", "520499002002"
G112, G121 = "520499001001002", "520499001002001"  # C11 east grid (borders C12); C12 west grid (borders C11)
DAY = dt.date(2025, 3, 1)
FAR = dt.date(2099, 1, 1)
NEXT_YEAR = dt.date(dt.date.today().year + 1, 1, 1)
PLANNER = {"X-API-Key": PLANNER_KEY}


@pytest.fixture
def tiny(tiny_db_url: str) -> Engine:
    from geo.db import make_engine

    return make_engine(tiny_db_url)


def move(a: str, b: str, day: dt.date = DAY, **kw: Any) -> ProposalRequest:
    return ProposalRequest(from_code=a, to_code=b, effective_date=day, author="planner", reason="test", **kw)


def applied(engine: Engine, request: ProposalRequest, **kw: Any) -> int:
    pid = create_proposal(engine, request, **kw)
    apply_proposal(engine, pid, author="planner", **kw)
    return pid


def statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, status FROM proposals")).all())


# 1. Reverting in reverse order, and cascades ------------------------------------------------------

def test_changes_are_reversed_newest_first_back_to_the_start(tiny: Engine) -> None:
    start = snapshot(tiny, FAR)
    first = applied(tiny, move(C11, C12, child_codes=(G112,)))
    second = applied(tiny, move(C12, C11, DAY + dt.timedelta(days=1), child_codes=(G121,)))
    revert_proposal(tiny, second, author="planner", effective_date=dt.date(2025, 6, 1))
    revert_proposal(tiny, first, author="planner", effective_date=dt.date(2025, 6, 2))  # 409 before the fix
    assert statuses(tiny) == {first: "reverted", second: "reverted"}
    assert_same_map(start, snapshot(tiny, FAR))
    assert_invariants(tiny, FAR)
    assert snapshot(tiny, dt.date(2025, 4, 1))["parents"] != start["parents"]  # history keeps what happened


def test_reversing_under_a_standing_later_change_names_it_and_cascade_reverses_both(tiny: Engine) -> None:
    start = snapshot(tiny, FAR)
    first = applied(tiny, move(C11, C12, child_codes=(G112,)))
    second = applied(tiny, move(C12, C11, DAY + dt.timedelta(days=1), child_codes=(G121,)))
    with pytest.raises(Conflict, match=f"still stand: proposal {second}"):
        revert_proposal(tiny, first, author="planner")
    done = revert_proposal(tiny, first, author="planner", cascade=True)
    assert done["also_reversed"] == [second]
    assert statuses(tiny) == {first: "reverted", second: "reverted"}
    assert_same_map(start, snapshot(tiny, FAR))


# 2. Scheduled changes, cancel vs reverse -------------------------------------------------------------

def test_a_scheduled_change_leaves_today_alone_and_shows_from_its_date(tiny: Engine) -> None:
    today = snapshot(tiny, dt.date.today())
    pid = applied(tiny, move(C11, C12, NEXT_YEAR, child_codes=(G112,)))
    assert_same_map(today, snapshot(tiny, dt.date.today()))
    assert G112 not in snapshot(tiny, NEXT_YEAR)["parents"]  # moved (re-coded) from its date
    record = preview_proposal(tiny, pid)["proposal"]
    assert record["status"] == "applied" and record["scheduled"] is True
    with pytest.raises(Conflict, match="cancel it"):  # not in effect: it is cancelled, not reversed
        revert_proposal(tiny, pid, author="planner")


def test_cancelling_a_scheduled_change_frees_its_units_for_earlier_changes(tiny: Engine) -> None:
    before = {day: snapshot(tiny, day) for day in (DAY, NEXT_YEAR, FAR)}
    pid = applied(tiny, move(C11, C12, NEXT_YEAR, child_codes=(G112,)))
    with pytest.raises(InvalidInput, match="reason"):
        cancel_proposal(tiny, pid, author="planner", reason=" ")
    cancel_proposal(tiny, pid, author="区社会工作部", reason="entered by mistake")
    for day, seen in before.items():  # as if it never happened, on every date
        assert_same_map(seen, snapshot(tiny, day))
    assert statuses(tiny)[pid] == "cancelled"
    applied(tiny, move(C11, C12, DAY, child_codes=("520499001001001",)))  # refused before the fix
    assert_invariants(tiny, FAR)
    with tiny.connect() as conn:
        kind, author, reason = conn.execute(text(
            "SELECT kind, author, reason FROM change_log WHERE undoes IS NOT NULL")).one()
    assert (kind, author, reason) == ("cancel", "区社会工作部", "entered by mistake")


def test_an_earlier_change_goes_under_a_scheduled_one_which_is_recomputed(tiny: Engine) -> None:
    scheduled = applied(tiny, move(C11, C12, NEXT_YEAR, child_codes=(G112,)))
    earlier = applied(tiny, move(C12, C11, DAY, child_codes=(G121,)))
    assert statuses(tiny) == {scheduled: "applied", earlier: "applied"}
    now, later = snapshot(tiny, dt.date.today()), snapshot(tiny, NEXT_YEAR)
    assert G121 not in now["parents"] and G112 in now["parents"]  # today: only the earlier change
    assert G112 not in later["parents"]  # from next year: both
    assert_invariants(tiny, dt.date.today())
    assert_invariants(tiny, NEXT_YEAR)
    events = [e["action"] for e in preview_proposal(tiny, scheduled)["events"]]
    assert events == ["create", "apply", "recompute"]


def test_an_earlier_change_that_the_scheduled_one_cannot_survive_is_refused_naming_it(tiny: Engine) -> None:
    scheduled = applied(tiny, move(C11, C12, NEXT_YEAR, child_codes=(G112,)))
    clash = create_proposal(tiny, move(C11, C21, DAY, child_codes=(G112,)))  # the same grid, elsewhere, earlier
    with pytest.raises(Conflict, match=f"proposal {scheduled}"):
        apply_proposal(tiny, clash, author="planner")
    assert statuses(tiny) == {scheduled: "applied", clash: "draft"}
    assert_invariants(tiny, NEXT_YEAR)


def test_cancelling_an_applied_and_reversed_change_erases_both(tiny: Engine) -> None:
    before = {day: snapshot(tiny, day) for day in (DAY, dt.date(2025, 7, 1), FAR)}
    pid = applied(tiny, move(C11, C12, child_codes=(G112,)))
    revert_proposal(tiny, pid, author="planner", effective_date=dt.date(2025, 6, 1))
    cancel_proposal(tiny, pid, author="planner", reason="both entered by mistake")
    for day, seen in before.items():
        assert_same_map(seen, snapshot(tiny, day))
    from geo.reassign.history import unit_history

    with tiny.connect() as conn:
        versions = unit_history(conn, C11)
    assert [v["cancelled"] is not None for v in versions] == [False, True, True]  # kept for the audit


def test_cancelling_under_a_later_change_needs_cascade(tiny: Engine) -> None:
    start = snapshot(tiny, FAR)
    first = applied(tiny, move(C11, C12, child_codes=(G112,)))
    second = applied(tiny, move(C12, C11, DAY + dt.timedelta(days=1), child_codes=(G121,)))
    with pytest.raises(Conflict, match=f"proposal {second}"):
        cancel_proposal(tiny, first, author="planner", reason="mistake")
    assert cancel_proposal(tiny, first, author="planner", reason="mistake", cascade=True)["also_cancelled"] == [second]
    assert_same_map(start, snapshot(tiny, FAR))
    assert_same_map(start, snapshot(tiny, DAY + dt.timedelta(days=5)))


# 4. Drafts have a lifecycle ---------------------------------------------------------------------------

def test_a_draft_can_be_edited_and_withdrawn(tiny: Engine) -> None:
    pid = create_proposal(tiny, move(C11, C12, child_codes=(G112,)))
    edited = edit_proposal(tiny, pid, {"effective_date": dt.date(2025, 5, 1), "child_codes": ["520499001001001"],
                                       "document_ref": "西华办〔2025〕9号"}, author="planner")
    assert edited["proposal"]["effective_date"] == "2025-05-01"
    assert edited["proposal"]["child_codes"] == ["520499001001001"]
    assert edited["preview"]["grids_moved_whole"] == ["520499001001001"]
    with pytest.raises(InvalidInput) as bad:
        edit_proposal(tiny, pid, {"to_code": "nope"}, author="planner")
    assert bad.value.field == "to_code"
    withdraw_proposal(tiny, pid, author="planner", reason="superseded")
    with pytest.raises(Conflict, match="withdrawn"):
        apply_proposal(tiny, pid, author="planner")
    assert [e["action"] for e in preview_proposal(tiny, pid)["events"]] == ["create", "edit", "withdraw"]


def test_drafts_over_http_edit_withdraw_delete_and_filter(client) -> None:  # noqa: ANN001
    body = {"from_code": C11, "to_code": C12, "child_codes": [G112], "effective_date": "2025-03-01",
            "author": "王规划"}
    first = client.post("/proposals", json=body, headers=PLANNER).json()["proposal"]["id"]
    second = client.post("/proposals", json=body, headers=PLANNER).json()["proposal"]["id"]
    patched = client.patch(f"/proposals/{first}", json={"author": "王规划", "reason": "改为五月",
                                                       "effective_date": "2025-05-01"}, headers=PLANNER)
    assert patched.status_code == 200, patched.text
    assert patched.json()["proposal"]["effective_date"] == "2025-05-01"
    assert client.patch(f"/proposals/{first}", json={"author": "x"}, headers=PLANNER).status_code == 422
    assert client.delete(f"/proposals/{second}", headers=PLANNER).status_code == 200
    assert client.get(f"/proposals/{second}").json()["proposal"]["status"] == "withdrawn"
    listed = client.get("/proposals", params={"status": "draft"}).json()
    assert [p["id"] for p in listed["proposals"]] == [first] and listed["numberMatched"] == 1
    assert client.post(f"/proposals/{first}/apply", json={"author": "x"}, headers=PLANNER).status_code == 200
    cancelled = client.post(f"/proposals/{first}/cancel", json={"author": "x", "reason": "录入错误"}, headers=PLANNER)
    assert cancelled.status_code == 200, cancelled.text
    assert client.get("/proposals", params={"status": "cancelled"}).json()["numberMatched"] == 1
    assert client.post(f"/proposals/{first}/cancel", json={"author": "x", "reason": "again"},
                       headers=PLANNER).status_code == 409


def test_lists_are_paged_with_next_links(client) -> None:  # noqa: ANN001
    body = {"from_code": C11, "to_code": C12, "child_codes": [G112], "effective_date": "2025-03-01", "author": "x"}
    for _ in range(5):
        assert client.post("/proposals", json=body, headers=PLANNER).status_code == 201
    page = client.get("/proposals", params={"limit": 2, "unit": C11}).json()
    assert page["numberMatched"] == 5 and page["numberReturned"] == 2
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert len(client.get(following).json()["proposals"]) == 2
    assert client.get("/changes", params={"unit": "%"}).json()["changes"] == []  # LIKE wildcards are literal
    assert client.get("/changes", params={"unit": "_"}).json()["numberMatched"] == 0


# 5. Guards that guard ----------------------------------------------------------------------------------

def test_an_exclave_is_refused_unless_allowed(tiny: Engine) -> None:
    far = box(106.001, 26.015, 106.004, 26.018)  # inside C11's west grid, away from C12
    with pytest.raises(InvalidInput, match="exclave") as refused:
        create_proposal(tiny, move(C11, C12, area=far))
    assert refused.value.field == "area"
    create_proposal(tiny, move(C11, C12, area=far, allow_non_adjacent=True))


def test_a_unit_left_in_pieces_is_refused_naming_it(tiny: Engine) -> None:
    band = box(106.004, 26.0099, 106.006, 26.0201)  # a north-south strip through C11's west grid, touching C12
    with pytest.raises(InvalidInput, match="separate parts"):
        create_proposal(tiny, move(C11, C12, area=band))


def test_a_stray_speck_that_moves_nobody_is_refused(tiny: Engine) -> None:
    speck = box(106.0049, 26.00995, 106.00492, 26.01002)  # a few m², on the C11-C12 edge
    with pytest.raises(InvalidInput, match="moves no residents") as refused:
        create_proposal(tiny, move(C11, C12, area=speck))
    assert refused.value.field == "area"


def test_a_drawing_over_several_units_names_them(client) -> None:  # noqa: ANN001
    body = {"to_code": C22, "area": mapping(box(106.015, 26.005, 106.025, 26.015)), "effective_date": "2025-03-01",
            "author": "x"}
    answer = client.post("/proposals/preview", json=body, headers=PLANNER)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "from_code"
    assert C11 in answer.json()["error"]["message"] and C21 in answer.json()["error"]["message"]


# 6. Identity over time ---------------------------------------------------------------------------------

def test_a_grid_moved_whole_is_recoded_under_its_new_community_and_keeps_its_old_code_as_alias(client) -> None:  # noqa: ANN001
    body = {"from_code": C11, "to_code": C12, "child_codes": [G112], "effective_date": "2025-03-01", "author": "x"}
    pid = client.post("/proposals", json=body, headers=PLANNER).json()["proposal"]["id"]
    result = client.post(f"/proposals/{pid}/apply", json={"author": "x"}, headers=PLANNER).json()
    (recoded,) = result["summary"]["recoded"]
    new = recoded["new_code"]
    assert new == C12 + "003" and recoded["name"] == "网格112"  # a name that does not carry its parent's is kept
    lineage = client.get(f"/units/{new}/lineage").json()
    assert lineage["aliases"] == [G112] and lineage["predecessors"][0]["relation"] == "recode"
    assert client.get(f"/units/{G112}/history").json()["current_code"] == new
    located = client.get("/locate", params={"lon": 106.015, "lat": 26.015}).json()
    assert new in str(located)


def test_recoded_names_follow_the_receiving_community() -> None:
    from geo.reassign.plan import recoded_name

    assert recoded_name("南郊社区第1网格", "南郊社区", "利达社区", "520402006009012") == "利达社区第12网格"
    assert recoded_name("滨江一格", "南郊社区", "利达社区", "520402006009012") == "滨江一格"


# Who may act (issue #12, item 10) ---------------------------------------------------------------------

def test_only_the_proposer_or_an_approver_applies_a_proposal_and_the_log_names_the_key(tiny: Engine) -> None:
    alice, bob = Actor("alice", "planner"), Actor("bob", "planner")
    pid = create_proposal(tiny, move(C11, C12, child_codes=(G112,)), actor=alice)
    with pytest.raises(Forbidden, match="alice"):
        apply_proposal(tiny, pid, author="区社会工作部部长", actor=bob)
    apply_proposal(tiny, pid, author="区社会工作部部长", actor=Actor("chief", "approver"))
    with tiny.connect() as conn:
        row = conn.execute(text("SELECT author, key_name, key_role FROM change_log WHERE kind = 'apply'")).one()
    assert tuple(row) == ("区社会工作部部长", "chief", "approver")
    with pytest.raises(Forbidden):
        revert_proposal(tiny, pid, author="Alice", actor=bob)


def test_the_api_records_the_key_behind_every_change(tiny_db_url: str) -> None:
    with make_client(tiny_db_url) as client:
        body = {"from_code": C11, "to_code": C12, "child_codes": [G112], "effective_date": "2025-03-01",
                "author": "随便写的名字"}
        created = client.post("/proposals", json=body, headers=PLANNER).json()["proposal"]
        assert created["key_role"] == "planner" and created["key_name"].startswith("key:")
        client.post(f"/proposals/{created['id']}/apply", json={"author": "x"}, headers=PLANNER)
        change = client.get("/changes").json()["changes"][0]
        assert change["key_name"] == created["key_name"] and change["author"] == "x"


def test_the_cli_edits_withdraws_cancels_and_reverses(tiny_db_url: str) -> None:
    from typer.testing import CliRunner

    from cli.main import app as cli_app

    runner = CliRunner()
    db = ["--database", tiny_db_url]

    def run(*args: str) -> Any:
        return runner.invoke(cli_app, [*args, *db])

    assert run("propose", "--from", C11, "--to", C12, "--grids", G112, "--effective-date", "2025-03-01",
               "--author", "cli").exit_code == 0
    edited = run("edit", "1", "--author", "cli", "--effective-date", "2025-04-01")
    assert edited.exit_code == 0 and '"effective_date": "2025-04-01"' in edited.output
    assert run("edit", "1", "--author", "cli").exit_code == 2  # nothing to edit
    assert run("apply", "1", "--author", "cli").exit_code == 0
    refused = run("cancel", "1", "--author", "cli")  # the reason is required
    assert refused.exit_code != 0
    assert run("reverse", "1", "--author", "cli", "--effective-date", "2025-06-01").exit_code == 0
    cancelled = run("cancel", "1", "--author", "cli", "--reason", "录入错误")
    assert cancelled.exit_code == 0 and '"status": "cancelled"' in cancelled.output
    assert run("propose", "--from", C11, "--to", C12, "--grids", G112, "--effective-date", "2025-03-01",
               "--author", "cli").exit_code == 0
    assert '"status": "withdrawn"' in run("withdraw", "2", "--author", "cli").output
    assert '"aliases": []' in run("lineage", G112).output


def test_reports_stay_reproducible_after_cancel_and_reverse(client) -> None:  # noqa: ANN001
    body = {"from_code": C11, "to_code": C12, "child_codes": [G112], "effective_date": "2025-03-01", "author": "x"}
    pid = client.post("/proposals", json=body, headers=PLANNER).json()["proposal"]["id"]
    client.post(f"/proposals/{pid}/apply", json={"author": "x"}, headers=PLANNER)
    applied = client.get(f"/proposals/{pid}/impact").json()
    client.post(f"/proposals/{pid}/cancel", json={"author": "x", "reason": "录入错误"}, headers=PLANNER)
    cancelled = client.get(f"/proposals/{pid}/impact")
    assert cancelled.status_code == 200, cancelled.text
    report = cancelled.json()
    assert report["proposal"]["status"] == "cancelled"
    assert any(w["code"] == "cancelled" for w in report["warnings"])
    assert report["summary"] == applied["summary"] and report["units"] == applied["units"]  # as it was
    other = client.post("/proposals", json=body, headers=PLANNER).json()["proposal"]["id"]
    client.post(f"/proposals/{other}/withdraw", json={"author": "x"}, headers=PLANNER)
    assert client.get(f"/proposals/{other}/impact").status_code == 409
