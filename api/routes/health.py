"""Liveness and database readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service and database status")
def health(engine: EngineDep) -> dict[str, Any]:
    """``ok`` with the database dialect and the number of current units, or 503 if unreachable."""
    with engine.connect() as conn:
        units = conn.execute(text("SELECT count(*) FROM units WHERE valid_to IS NULL")).scalar_one()
    return {"status": "ok", "database": engine.dialect.name, "current_units": int(units)}
