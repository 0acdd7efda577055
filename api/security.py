"""``X-API-Key`` checks: reads are open unless ``read_requires_key``; writes need planner or admin.

Each dependency answers with the caller's :class:`geo.access.Actor` (the key's name and role), so every
write can be recorded against the key that made it, beside the free-text author.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep
from api.settings import ApiSettings
from geo.access import ROLES, Actor, actor_of

ANONYMOUS = Actor(name="anonymous", role="reader")


def require_role(minimum: str) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency that admits callers whose key has at least the ``minimum`` role; it returns the Actor."""
    needed = ROLES.index(minimum)

    async def check(
        request: Request,
        engine: EngineDep,
        x_api_key: Annotated[str | None, Header(description="API key (planner or admin for writes).")] = None,
    ) -> Actor:
        settings: ApiSettings = request.app.state.settings
        if minimum == "reader" and not settings.read_requires_key and not x_api_key:
            return ANONYMOUS
        if not x_api_key:
            raise HTTPException(401, "this endpoint needs an API key in the X-API-Key header")

        def lookup() -> Actor | None:
            with engine.connect() as conn:
                return actor_of(x_api_key, configured=settings.api_keys, conn=conn)

        actor = await run_in_threadpool(lookup)
        if actor is None:
            if minimum == "reader" and not settings.read_requires_key:
                return ANONYMOUS
            raise HTTPException(401, "the API key is not valid")
        if ROLES.index(actor.role) < needed:
            raise HTTPException(403, f"this needs the {minimum} role; the key has the {actor.role} role")
        return actor

    return check


ReaderDep = Annotated[Actor, Depends(require_role("reader"))]
PlannerDep = Annotated[Actor, Depends(require_role("planner"))]
ApproverDep = Annotated[Actor, Depends(require_role("approver"))]
AdminDep = Annotated[Actor, Depends(require_role("admin"))]
