"""Typed dependencies.

Dependencies that do no I/O are ``async def`` so FastAPI runs them on the event loop instead of
handing each to the thread pool; endpoints that query the database are plain ``def`` (one thread
hop) and open their connection themselves with ``with engine.connect() as conn``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine


async def get_engine(request: Request) -> Engine:
    """The engine created in the app's lifespan."""
    engine: Engine = request.app.state.engine
    return engine


async def get_read_engine(request: Request) -> Engine:
    """The same pool in autocommit mode, for single-statement reads: no BEGIN/ROLLBACK round trips."""
    engine: Engine = request.app.state.read_engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]
ReadEngineDep = Annotated[Engine, Depends(get_read_engine)]
