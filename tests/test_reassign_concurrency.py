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
