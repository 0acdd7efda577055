"""Unit history and the change log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ReadEngineDep
from api.security import ReaderDep
from geo.reassign.history import find_changes, unit_history

router = APIRouter(tags=["history"])


@router.get("/units/{code}/history", summary="Versions of a unit")
def history(code: str, engine: ReadEngineDep, _: ReaderDep) -> dict[str, Any]:
    """Every version of the unit, oldest first, with the change (who, when, why, 文件号) that made it."""
    with engine.connect() as conn:
        return {"code": code, "versions": unit_history(conn, code)}


@router.get("/changes", summary="The change log")
def changes(
    engine: ReadEngineDep,
    _: ReaderDep,
    unit: Annotated[str | None, Query(description="Changes that touched this unit.")] = None,
    since: Annotated[dt.date | None, Query(description="Effective on or after this date.")] = None,
    until: Annotated[dt.date | None, Query(description="Effective on or before this date.")] = None,
    author: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Imports, applied and reverted proposals, newest first."""
    with engine.connect() as conn:
        return {"changes": find_changes(conn, unit=unit, since=since, until=until, author=author)}
