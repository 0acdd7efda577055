"""``gridgov`` commands.

Each reads settings once, calls :mod:`geo`, and turns domain errors into a clear message on stderr
with a non-zero exit code (never a traceback).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import OperationalError

from geo.config import Settings
from geo.errors import GridgovError, ImportRejected

app = typer.Typer(help="gridgov: the spatial base for grid-based community governance.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The Xixiu demo dataset (synthetic inside the real district outline).",
                       no_args_is_help=True)
key_app = typer.Typer(help="API keys for the HTTP service.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(key_app, name="key")
app.add_typer(demo_app, name="demo")

F = TypeVar("F", bound=Callable[..., Any])

DatabaseOption = Annotated[
    str | None, typer.Option("--database", "-d", help="Database URL (default: $GRIDGOV_DATABASE_URL).")
]
DateOption = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="As of this date (YYYY-MM-DD); default today.")
]


def reports_errors(func: F) -> F:
    """Print domain errors as messages and exit 2; bad input must never show a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ImportRejected as exc:
            typer.echo(f"error: {exc.message}", err=True)
            for problem in exc.problems:
                typer.echo(f"  - {problem}", err=True)
            raise typer.Exit(2) from None
        except GridgovError as exc:
            field = f" [{exc.field}]" if exc.field else ""
            typer.echo(f"error{field}: {exc.message}", err=True)
            raise typer.Exit(2) from None
        except OperationalError as exc:
            typer.echo(f"error: cannot reach the database: {exc.orig}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def settings_for(database: str | None) -> Settings:
    """Settings from the environment, with the database URL overridden by ``--database``."""
    settings = Settings()
    if database:
        settings = settings.model_copy(update={"database_url": database})
    return settings


def as_date(value: dt.datetime | None) -> dt.date:
    """The date of a ``--as-of`` option; today when absent."""
    return value.date() if value else dt.date.today()


# The commands live in small modules; importing them registers them on the apps above.
from cli import (  # noqa: E402,E501,F401
    balance_commands,
    data_commands,
    db_commands,
    events_commands,
    key_commands,
    proposal_commands,
    report_commands,
    serve_commands,
)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
