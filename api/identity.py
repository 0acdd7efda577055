"""Who is calling, for reads whose answer depends on it: the key's name and role (``anonymous`` without one).

Household lists (residents' data) need the planner role and every access is logged with this identity
(:mod:`geo.access_log`). The same :class:`geo.access.Actor` the write dependencies give (api/security.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from geo.access import Actor, actor_of

Identity = Actor  # the name the report routes use
NOBODY = Actor(name="anonymous", role="anonymous")


async def caller(request: Request, x_api_key: Annotated[str | None, Header(
        description="API key; household lists need the planner role.")] = None) -> Actor:
    """The caller's identity; 401 for a key that is not valid."""
    if not x_api_key:
        return NOBODY
    settings = request.app.state.settings

    def lookup() -> Actor | None:
        with request.app.state.engine.connect() as conn:
            return actor_of(x_api_key, configured=settings.api_keys, conn=conn)

    found = await run_in_threadpool(lookup)
    if found is None:
        raise HTTPException(401, "the API key is not valid")
    return found


CallerDep = Annotated[Actor, Depends(caller)]
