"""The migrated schema: tables, spatial indexes, versioning constraints, append-only change log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from geo.db import migrate

TABLES = {"units", "buildings", "stations", "proposals", "change_log", "api_keys", "alembic_version",
          "residents_groups", "unit_lineage", "proposal_events", "data_access_log", "events", "event_transitions"}
HEAD = "0009"


def test_migration_creates_every_table(engine: Engine) -> None:
    assert TABLES <= set(inspect(engine).get_table_names())


def test_migration_is_idempotent(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD


def test_proposals_survive_the_split_and_merge_migration_both_ways(engine: Engine) -> None:
    """0005 lets a split have no to_code; on SQLite by editing the stored schema (see the migration)."""
    from alembic import command

    from geo.db import _alembic_config

    command.downgrade(_alembic_config(engine), "0004")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO proposals (status, level, from_code, to_code, effective_date, author, base_versions) "
            "VALUES ('draft', 'grid', 'a', 'b', '2025-03-01', 'x', '{}')"))
    migrate(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT kind, to_code FROM proposals")).one() == ("move", "b")
        conn.execute(text(
            "INSERT INTO proposals (status, level, kind, from_code, to_code, effective_date, author, base_versions) "
            "VALUES ('draft', 'grid', 'split', 'c', NULL, '2025-03-01', 'x', '{}')"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert conn.execute(text("SELECT count(*) FROM geometry_columns WHERE f_table_name = 'proposals'")
                                ).scalar_one() == 1  # SpatiaLite still knows the area column
    command.downgrade(_alembic_config(engine), "0004")  # drops the split, keeps the move
    with engine.connect() as conn:
        assert conn.execute(text("SELECT from_code FROM proposals")).scalars().all() == ["a"]
    migrate(engine)


def _spatially_indexed(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                text("SELECT f_table_name FROM geometry_columns WHERE spatial_index_enabled = 1")
            )
        else:
            rows = conn.execute(
                text("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
            )
        return {r[0] for r in rows}


def test_every_feature_geometry_has_a_spatial_index(engine: Engine) -> None:
    assert {"units", "buildings", "stations"} <= _spatially_indexed(engine)


def _log_entry(conn) -> int:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO change_log (kind, author, effective_date, units, summary) "
            "VALUES ('import', 'test', :d, '[]', '{}')"
        ),
        {"d": dt.date(2024, 1, 1)},
    )
    return int(conn.execute(text("SELECT max(id) FROM change_log")).scalar_one())


@pytest.mark.parametrize("statement", ["UPDATE change_log SET author = 'x'", "DELETE FROM change_log"])
def test_change_log_is_append_only(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        _log_entry(conn)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT author FROM change_log")).scalars().all() == ["test"]


def test_negative_population_is_refused_by_the_database(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO buildings (code, version, valid_from, synthetic, grid_code, households, residents,"
                " elderly, children, special_care, geom) VALUES ('b', 1, :d, false, 'g', 1, -5, 0, 0, 0,"
                " ST_GeomFromText('POINT(105.9 26.2)', 4326))"
            ),
            {"d": dt.date(2024, 1, 1)},
        )


def test_two_open_versions_of_one_code_are_refused(engine: Engine) -> None:
    insert = text(
        "INSERT INTO stations (code, version, valid_from, synthetic, name, kind, community_code, geom) "
        "VALUES ('s1', :v, :d, false, 'x', 'volunteer_station', 'c', ST_GeomFromText('POINT(105.9 26.2)', 4326))"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"v": 1, "d": dt.date(2024, 1, 1)})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"v": 2, "d": dt.date(2024, 2, 1)})


def test_an_older_schema_is_refused_by_the_server_with_how_to_upgrade(engine: Engine) -> None:
    from alembic import command
    from typer.testing import CliRunner

    from cli.main import app
    from geo.db import _alembic_config, schema_problem

    assert schema_problem(engine) is None
    command.downgrade(_alembic_config(engine), "0004")
    url = engine.url.render_as_string(hide_password=False)
    refused = CliRunner().invoke(app, ["serve", "--database", url])
    assert refused.exit_code == 2, refused.output
    assert f"schema revision 0004, this gridgov needs {HEAD}: run 'gridgov db init'" in refused.output
    assert CliRunner().invoke(app, ["db", "init", "--database", url]).exit_code == 0
    assert schema_problem(engine) is None
