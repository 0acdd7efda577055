"""What every ``gridgov`` command shares: the ``--database`` and ``--as-of`` options, settings, error reporting.

The command modules import only this (never :mod:`cli.main`), so :mod:`cli.main` can compose their Typer
apps without an import circle.
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
