"""Who is reading: the caller's role for reads whose content depends on it (residents' data).

Unlike the plain reader check, a key sent to an open server is still looked up, so a planner sees
residents' data on buildings while anonymous callers and reader keys see the public fields only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from api.identity import caller


async def viewer_role(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="API key; planners also see residents' data.")] = None,
) -> str:
    """``anonymous`` without a key on an open server, else the role of the key (401 when it is not valid)."""
    if not x_api_key and request.app.state.settings.read_requires_key:
        raise HTTPException(401, "this endpoint needs an API key in the X-API-Key header")
    return (await caller(request, x_api_key)).role


ViewerDep = Annotated[str, Depends(viewer_role)]
