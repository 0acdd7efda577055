"""Who is calling: the name and role of the request's API key (``anonymous`` without one).

Household lists (residents' data) need the planner role and every access is logged with this
identity (:mod:`geo.access_log`). A key from ``GRIDGOV_API_KEYS`` has no stored name: it is named
by a short hash, so the log never holds a key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from geo.access import ROLES, hash_key


@dataclass(frozen=True)
class Identity:
    """The caller: key name and role (``anonymous`` / ``anonymous`` without a key)."""

    name: str
    role: str

    def has(self, minimum: str) -> bool:
        """Whether the role is at least ``minimum``."""
        return self.role in ROLES and ROLES.index(self.role) >= ROLES.index(minimum)


async def caller(request: Request, x_api_key: Annotated[str | None, Header(
        description="API key; household lists need the planner role.")] = None) -> Identity:
    """The caller's identity; 401 for a key that is not valid."""
    if not x_api_key:
        return Identity("anonymous", "anonymous")
    settings = request.app.state.settings
    key = x_api_key
    for known, role in settings.api_keys.items():
        if hmac.compare_digest(known.encode("utf-8"), key.encode("utf-8")):
            return Identity("configured:" + hashlib.sha256(key.encode()).hexdigest()[:8], role)

    def lookup() -> Identity | None:
        digest = hash_key(key)
        with request.app.state.engine.connect() as conn:
            for key_hash, name, role in conn.execute(
                    text("SELECT key_hash, name, role FROM api_keys WHERE revoked = false")):
                if hmac.compare_digest(key_hash, digest):
                    return Identity(str(name), str(role))
        return None

    found = await run_in_threadpool(lookup)
    if found is None:
        raise HTTPException(401, "the API key is not valid")
    return found


CallerDep = Annotated[Identity, Depends(caller)]
