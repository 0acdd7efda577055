"""``gridgov key add|list|revoke``: API keys stored as SHA-256 hashes in the database."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import text

from cli.common import DatabaseOption, reports_errors, settings_for
from geo.access import create_key, revoke_key
from geo.db import make_engine, migrate

app = typer.Typer(help="API keys for the HTTP service.", no_args_is_help=True)


@app.command("add")
@reports_errors
def add(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    role: Annotated[str, typer.Option(help="reader, planner, approver or admin.")] = "planner",
    database: DatabaseOption = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    engine = make_engine(settings_for(database).database_url)
    migrate(engine)
    with engine.begin() as conn:
        typer.echo(create_key(conn, name=name, role=role))


@app.command("list")
@reports_errors
def list_keys(database: DatabaseOption = None) -> None:
    """Key ids, names, roles and whether revoked (never the keys)."""
    engine = make_engine(settings_for(database).database_url)
    with engine.connect() as conn:
        for key_id, name, role, revoked in conn.execute(
            text("SELECT id, name, role, revoked FROM api_keys ORDER BY id")
        ):
            typer.echo(f"{key_id}\t{name}\t{role}\t{'revoked' if revoked else 'active'}")


@app.command("revoke")
@reports_errors
def revoke(key_id: Annotated[int, typer.Argument(help="Id from 'gridgov key list'.")],
           database: DatabaseOption = None) -> None:
    """Revoke a key by id."""
    with make_engine(settings_for(database).database_url).begin() as conn:
        revoke_key(conn, key_id)
    typer.echo(f"revoked key {key_id}")
