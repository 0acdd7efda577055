"""The gridgov command: import, export and check end to end; bad input gives a message and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from factories import tiny_dataset
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from geo.db import make_engine
from geo.io import write_dataset

runner = CliRunner()


def gridgov(*args: str):  # noqa: ANN201 - click Result
    return runner.invoke(app, list(args))


@pytest.fixture
def tiny_gpkg(tmp_path: Path) -> Path:
    return write_dataset(tiny_dataset(), tmp_path / "tiny.gpkg", fmt="gpkg")


def test_import_export_check_round_trip(db_url: str, tiny_gpkg: Path, tmp_path: Path) -> None:
    result = gridgov("import", str(tiny_gpkg), "--database", db_url, "--valid-from", "2024-01-01",
                     "--author", "王工", "--document-ref", "西府发〔2024〕1号")
    assert result.exit_code == 0, result.output
    assert "residents=1300" in result.output
    out = tmp_path / "export"
    result = gridgov("export", str(out), "--database", db_url, "--format", "geojson", "--level", "community")
    assert result.exit_code == 0, result.output
    assert (out / "units.geojson").exists()
    result = gridgov("check", "--database", db_url)
    assert result.exit_code == 0, result.output
    for name in ("coverage", "nesting", "conservation", "history", "atomicity"):
        assert any(line.startswith(name) and line.endswith("OK") for line in result.output.splitlines())


def test_a_broken_dataset_is_refused_with_every_problem(db_url: str, tmp_path: Path) -> None:
    ds = tiny_dataset()
    ds.buildings.loc[3, "households"] = -1
    ds.stations.loc[0, "kind"] = "spaceport"
    path = write_dataset(ds, tmp_path / "broken.gpkg", fmt="gpkg")
    result = gridgov("import", str(path), "--database", db_url)
    assert result.exit_code == 2
    assert "households" in result.output and "spaceport" in result.output
    assert "Traceback" not in result.output
    with make_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM units")).scalar_one() == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["import", "/nonexistent/x.gpkg"], "does not exist"),
        (["export", "/tmp/x", "--format", "kml"], "unknown format"),
        (["export", "/tmp/x", "--level", "province"], "unknown level"),
        (["key", "add", "--name", "x", "--role", "king"], "unknown role"),
    ],
)
def test_bad_arguments_give_a_message_not_a_traceback(db_url: str, args: list[str], words: str) -> None:
    result = gridgov(*args, "--database", db_url)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_unreachable_database_is_a_clear_error() -> None:
    result = gridgov("check", "--database", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 2
    assert "cannot reach the database" in result.output


BREAKS = {
    "coverage": "UPDATE units SET geom = (SELECT geom FROM units WHERE code = '520499001001001') "
                "WHERE code = '520499001001002'",
    "nesting": "UPDATE units SET parent_code = '520499009' WHERE code = '520499001002'",
    "conservation": "UPDATE buildings SET grid_code = '520499002002002' WHERE code = '5204990010010010001'",
    # (two open versions of a code are refused by the database itself: see test_schema)
    "history": "INSERT INTO units (code, version, valid_from, valid_to, synthetic, name, level, parent_code, geom) "
               "SELECT code, 0, '2023-01-01', '2024-06-01', synthetic, name, level, parent_code, geom FROM units "
               "WHERE code = '520499001001001'",
    "atomicity": "INSERT INTO proposals (status, level, from_code, to_code, effective_date, author, base_versions) "
                 "VALUES ('applied', 'grid', 'a', 'b', '2024-02-01', 'x', '{}')",
}


@pytest.mark.parametrize("invariant", BREAKS)
def test_check_catches_a_broken_database(tiny_db_url: str, invariant: str) -> None:
    with make_engine(tiny_db_url).begin() as conn:
        conn.execute(text(BREAKS[invariant]))
    result = gridgov("check", "--database", tiny_db_url)
    assert result.exit_code == 1, result.output
    broken = [line for line in result.output.splitlines() if "BROKEN" in line]
    assert any(line.startswith(invariant) for line in broken), result.output


def test_the_installed_command_runs() -> None:
    done = subprocess.run([Path(sys.executable).with_name("gridgov"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "import" in done.stdout
