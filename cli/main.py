"""``gridgov`` commands.

Each command module owns a Typer app; this module only composes them (top-level commands first, then the
``db``, ``key`` and ``demo`` groups). Each command reads settings once, calls :mod:`geo`, and turns domain
errors into a clear message on stderr with a non-zero exit code (never a traceback): see :mod:`cli.common`.
"""

from __future__ import annotations

import typer

from cli import (
    balance_commands,
    data_commands,
    db_commands,
    events_commands,
    group_commands,
    key_commands,
    proposal_commands,
    report_commands,
    serve_commands,
)

app = typer.Typer(help="gridgov: the spatial base for grid-based community governance.", no_args_is_help=True)
for commands in (balance_commands, data_commands, db_commands, proposal_commands, report_commands, serve_commands):
    app.add_typer(commands.app)  # no name: its commands are top-level (`gridgov propose`, `gridgov load`, …)
app.add_typer(db_commands.db_app, name="db")
app.add_typer(key_commands.app, name="key")
app.add_typer(data_commands.demo_app, name="demo")
app.add_typer(group_commands.groups_app, name="groups")
app.add_typer(events_commands.events_app, name="events")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
