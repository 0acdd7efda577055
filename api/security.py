"""API keys and roles: ``X-API-Key`` checked in constant time against settings and the key table.

Roles are ordered reader < planner < admin. Reads are open unless ``read_requires_key``; every
write needs planner or admin.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import text

from api.deps import EngineDep
from api.settings import ROLES, ApiSettings


def hash_key(key: str) -> str:
    """SHA-256 of a key: the table stores hashes, never keys."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _role_of(key: str, settings: ApiSettings, engine: EngineDep) -> str | None:
    role: str | None = None
    for known, known_role in settings.api_keys.items():
        # compare_digest on every key, without early exit, so timing reveals nothing.
        if hmac.compare_digest(known.encode("utf-8"), key.encode("utf-8")):
            role = known_role
    if role is None:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT key_hash, role FROM api_keys WHERE revoked = false")).all()
        digest = hash_key(key)
        for key_hash, key_role in rows:
            if hmac.compare_digest(key_hash, digest):
                role = key_role
    return role


def require_role(minimum: str):
    """A dependency that admits callers whose key has at least ``minimum`` role."""
    needed = ROLES.index(minimum)

    def check(
        request: Request,
        engine: EngineDep,
        x_api_key: Annotated[str | None, Header(description="API key (planner or admin for writes).")] = None,
    ) -> str:
        settings: ApiSettings = request.app.state.settings
        if minimum == "reader" and not settings.read_requires_key:
            return "anonymous"
        if not x_api_key:
            raise HTTPException(401, "this endpoint needs an API key in the X-API-Key header")
        role = _role_of(x_api_key, settings, engine)
        if role is None:
            raise HTTPException(401, "the API key is not valid")
        if ROLES.index(role) < needed:
            raise HTTPException(403, f"this needs the {minimum} role; the key has the {role} role")
        return role

    return check


ReaderDep = Annotated[str, Depends(require_role("reader"))]
PlannerDep = Annotated[str, Depends(require_role("planner"))]
AdminDep = Annotated[str, Depends(require_role("admin"))]
