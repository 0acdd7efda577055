"""Who is reading: the caller's role for reads whose content depends on it (residents' data).

Unlike the plain reader check, a key sent to an open server is still looked up, so a planner sees
residents' data on buildings while anonymous callers and reader keys see the public fields only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep
from api.settings import ApiSettings
from geo.access import role_of


async def viewer_role(
    request: Request,
    engine: EngineDep,
    x_api_key: Annotated[str | None, Header(description="API key; planners also see residents' data.")] = None,
) -> str:
    """``anonymous`` without a key on an open server, else the role of the key (401 when it is not valid)."""
    settings: ApiSettings = request.app.state.settings
    if not x_api_key:
        if settings.read_requires_key:
            raise HTTPException(401, "this endpoint needs an API key in the X-API-Key header")
        return "anonymous"

    def lookup() -> str | None:
        with engine.connect() as conn:
            return role_of(x_api_key, configured=settings.api_keys, conn=conn)

    role = await run_in_threadpool(lookup)
    if role is None:
        raise HTTPException(401, "the API key is not valid")
    return role


ViewerDep = Annotated[str, Depends(viewer_role)]
