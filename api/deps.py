"""Typed dependencies: the engine and a connection per request, from ``app.state``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine


def get_engine(request: Request) -> Engine:
    """The engine created in the app's lifespan."""
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def get_connection(engine: EngineDep) -> Iterator[Connection]:
    """One connection per request, returned to the pool afterwards."""
    with engine.connect() as conn:
        yield conn


ConnectionDep = Annotated[Connection, Depends(get_connection)]
