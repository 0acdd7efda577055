"""``gridgov db init`` and ``gridgov check``."""

from __future__ import annotations

import typer

from cli.common import DatabaseOption, DateOption, as_date, reports_errors, settings_for
from geo.db import make_engine, migrate

app = typer.Typer()
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("init")
@reports_errors
def init(database: DatabaseOption = None) -> None:
    """Create or upgrade the schema (SpatiaLite file or PostGIS database)."""
    settings = settings_for(database)
    migrate(make_engine(settings.database_url))
    typer.echo(f"schema is current in {settings.database_url}")


@app.command()
@reports_errors
def check(database: DatabaseOption = None, as_of: DateOption = None) -> None:
    """Verify the invariants (coverage, nesting, conservation, history, atomicity); exit 1 if any break."""
    from geo.invariants import check_database

    settings = settings_for(database)
    report = check_database(make_engine(settings.database_url), as_of=as_date(as_of))
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)

