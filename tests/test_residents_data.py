"""Residents' data (issue #12 item 11): household lists need the planner role, and every access is logged.

On both databases: anonymous and reader callers get the aggregated report without the building list,
households.csv refuses them, a planner gets everything and each access is a row in the append-only
``data_access_log`` with the key's name and role.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import PLANNER_KEY, READER_KEY, make_client
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.access import create_key
from geo.access_log import read_access_log
from geo.db import make_engine
from geo.reassign import ProposalRequest, create_proposal


@pytest.fixture
def proposal_db(tiny_db_url: str) -> str:
    engine = make_engine(tiny_db_url)
    create_proposal(engine, ProposalRequest(from_code="520499001001", to_code="520499001002",
                                            child_codes=("520499001001001",), effective_date=dt.date(2025, 3, 1),
                                            author="t", reason="t", document_ref="t"))
    engine.dispose()
    return tiny_db_url


def test_household_lists_need_the_planner_role_and_are_logged(proposal_db: str) -> None:
    engine = make_engine(proposal_db)
    with engine.begin() as conn:
        named_key = create_key(conn, name="王规划", role="planner")
    with make_client(proposal_db) as client:
        assert client.get("/proposals/1/households.csv").status_code == 401
        refused = client.get("/proposals/1/households.csv", headers={"X-API-Key": READER_KEY})
        assert refused.status_code == 403 and refused.json()["error"]["message_zh"]
        assert client.get("/proposals/1/report", params={"format": "csv"}).status_code == 401
        public = client.get("/proposals/1/impact").json()
        assert public["households"] == [] and public["summary"]["moved"]["buildings"] == 5
        page = client.get("/proposals/1/report.html", headers={"X-API-Key": READER_KEY}).text
        assert "520499001001001" in page  # the grid and its totals are public
        assert "网格111 1栋" not in page  # no building address for a reader
        assert read_access_log(engine) == []
        planner = {"X-API-Key": named_key}
        csv_answer = client.get("/proposals/1/households.csv", headers=planner)
        assert csv_answer.status_code == 200 and "网格111 1栋" in csv_answer.content.decode("utf-8-sig")
        full = client.get("/proposals/1/impact", headers={"X-API-Key": PLANNER_KEY}).json()
        assert len(full["households"]) == 5
        assert client.get("/proposals/1/impact", headers={"X-API-Key": "not-a-valid-key-123"}).status_code == 401
    log = read_access_log(engine)
    assert [(e["key_name"], e["role"], e["what"], e["proposal_id"]) for e in log] == [
        (log[0]["key_name"], "planner", "impact json", 1), ("王规划", "planner", "households.csv", 1)]
    assert log[0]["key_name"].startswith("key:") and PLANNER_KEY not in log[0]["key_name"]
    assert log[1]["rows"] == 5 and log[1]["at"] is not None
    for statement in ("UPDATE data_access_log SET role = 'x'", "DELETE FROM data_access_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()
