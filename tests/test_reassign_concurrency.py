"""Two planners applying at once, on two real connections: exactly one change lands."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text

from geo.db import make_engine
from geo.errors import Conflict
from geo.invariants import check_database
from geo.reassign import ProposalRequest, apply_proposal, create_proposal
from geo.reassign import service as reassign_service

C11, C12 = "520499001001", "520499001002"


def test_concurrent_applies_on_the_same_units_cannot_both_succeed(
    tiny_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(tiny_db_url)
    day = dt.date(2025, 3, 1)
    make = lambda grid: create_proposal(engine, ProposalRequest(  # noqa: E731
        from_code=C11, to_code=C12, effective_date=day, author="p", child_codes=(grid,)))
    first, second = make("520499001001002"), make("520499001001001")

    real_write = reassign_service.write_plan
    inside = threading.Event()

    def slow_write(conn, plan, change_id):  # noqa: ANN001, ANN202 - holds the locks a while
        inside.set()
        time.sleep(0.8)
        return real_write(conn, plan, change_id)

    monkeypatch.setattr(reassign_service, "write_plan", slow_write)
    outcomes: dict[int, str] = {}

    def run(pid: int) -> None:
        try:
            apply_proposal(engine, pid, author=f"planner {pid}")
            outcomes[pid] = "applied"
        except Conflict as exc:
            outcomes[pid] = f"conflict: {exc.message}"

    t1 = threading.Thread(target=run, args=(first,))
    t1.start()
    assert inside.wait(5)  # the first holds its locks, mid-transaction
    t2 = threading.Thread(target=run, args=(second,))
    t2.start()
    t1.join(20)
    t2.join(20)
    assert outcomes[first] == "applied"
    assert outcomes[second].startswith("conflict") and "changed since" in outcomes[second]
    with engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT id, status FROM proposals")).all())
    assert statuses == {first: "applied", second: "draft"}
    assert check_database(engine, as_of=dt.date(2025, 6, 1)).ok


def _in_threads(engine, pids: list[int]) -> dict[int, str]:  # noqa: ANN001
    """Apply every proposal at once, one thread each; what happened to each."""
    outcomes: dict[int, str] = {}
    start = threading.Barrier(len(pids))

    def run(pid: int) -> None:
        start.wait(10)
        try:
            apply_proposal(engine, pid, author=f"planner {pid}")
            outcomes[pid] = "applied"
        except Conflict as exc:
            outcomes[pid] = f"conflict: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - anything else is the defect under test
            outcomes[pid] = f"error: {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(pid,)) for pid in pids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return outcomes


def test_concurrent_splits_in_one_community_get_distinct_codes(tiny_db_url: str) -> None:
    """Issue #12 item 4: two splits under one parent picked the same next free code (500 on PostGIS)."""
    from shapely.geometry import box

    engine = make_engine(tiny_db_url)
    day = dt.date(2025, 3, 1)
    splits = [create_proposal(engine, ProposalRequest(
        kind="split", from_code=grid, to_code=None, effective_date=day, author="p",
        parts=(box(x0, 26.011, x0 + 0.004, 26.019),))) for grid, x0 in (("520499001001001", 106.001),
                                                                          ("520499001001002", 106.011))]
    outcomes = _in_threads(engine, splits)
    assert set(outcomes.values()) == {"applied"}, outcomes
    with engine.connect() as conn:
        new = conn.execute(text("SELECT code FROM units WHERE version = 1 AND change_id > 1")).scalars().all()
    assert len(new) == len(set(new)) == 2
    assert check_database(engine, as_of=dt.date(2025, 6, 1)).ok


def test_many_writers_at_once_are_queued_not_refused(tiny_db_url: str) -> None:
    """Issue #12 item 5: SQLite answered 'database is locked' (503) when a transaction read before it wrote."""
    engine = make_engine(tiny_db_url)
    day = dt.date(2025, 3, 1)
    moves = [("520499001001", "520499001002", "520499001001002"), ("520499002001", "520499002002", "520499002001002"),
             ("520499002002", "520499002001", "520499002002001"), ("520499001002", "520499001001", "520499001002001")]
    pids = [create_proposal(engine, ProposalRequest(from_code=a, to_code=b, effective_date=day, author="p",
                                                    child_codes=(g,))) for a, b, g in moves]
    outcomes = _in_threads(engine, pids)
    assert not [o for o in outcomes.values() if o.startswith("error")], outcomes
    assert "applied" in outcomes.values()
    assert check_database(engine, as_of=dt.date(2025, 6, 1)).ok
