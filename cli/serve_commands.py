"""``gridgov serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.common import DatabaseOption, reports_errors

app = typer.Typer()


@app.command()
@reports_errors
def serve(
    database: DatabaseOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default $GRIDGOV_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default $GRIDGOV_PORT or 8000).")] = None,
) -> None:
    """Serve the API and the planner's map."""
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings
    from geo.db import make_engine, schema_problem
    from geo.errors import DatabaseUnavailable

    settings = _settings(ApiSettings)
    if database:
        settings = settings.model_copy(update={"database_url": database})
    if host:
        settings = settings.model_copy(update={"host": host})
    if port:
        settings = settings.model_copy(update={"port": port})
    problem = schema_problem(make_engine(settings.database_url))
    if problem:
        raise DatabaseUnavailable(problem)
    typer.echo(f"gridgov serving {settings.database_url}")
    typer.echo(f"  map:      http://{settings.host}:{settings.port}/map")
    typer.echo(f"  API docs: http://{settings.host}:{settings.port}/docs")
    typer.echo(f"  health:   http://{settings.host}:{settings.port}/health")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


def _settings(cls: type) -> Any:
    """The settings from the environment, or one line naming the bad setting (exit 2, no traceback)."""
    from pydantic import ValidationError

    from geo.errors import InvalidInput

    try:
        return cls()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "GRIDGOV_" + str(first["loc"][0]).upper() if first.get("loc") else "a GRIDGOV_ setting"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"bad setting {name}: {message}", field=name) from None
