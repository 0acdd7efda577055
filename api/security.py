"""``X-API-Key`` checks: reads are open unless ``read_requires_key``; writes need planner or admin."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep
from api.settings import ApiSettings
from geo.access import ROLES, role_of


def require_role(minimum: str) -> Callable[..., Coroutine[Any, Any, str]]:
    """A dependency that admits callers whose key has at least the ``minimum`` role."""
    needed = ROLES.index(minimum)

    async def check(
        request: Request,
        engine: EngineDep,
        x_api_key: Annotated[str | None, Header(description="API key (planner or admin for writes).")] = None,
    ) -> str:
        settings: ApiSettings = request.app.state.settings
        if minimum == "reader" and not settings.read_requires_key:
            return "anonymous"
        if not x_api_key:
            raise HTTPException(401, "this endpoint needs an API key in the X-API-Key header")
        def lookup() -> str | None:
            with engine.connect() as conn:
                return role_of(x_api_key, configured=settings.api_keys, conn=conn)

        role = await run_in_threadpool(lookup)
        if role is None:
            raise HTTPException(401, "the API key is not valid")
        if ROLES.index(role) < needed:
            raise HTTPException(403, f"this needs the {minimum} role; the key has the {role} role")
        return role

    return check


ReaderDep = Annotated[str, Depends(require_role("reader"))]
PlannerDep = Annotated[str, Depends(require_role("planner"))]
AdminDep = Annotated[str, Depends(require_role("admin"))]
