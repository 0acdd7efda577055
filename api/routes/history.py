"""Unit history, lineage (predecessors, successors, old codes) and the change log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import ReadEngineDep
from api.paging import page_links
from api.security import ReaderDep
from geo.reassign.history import count_changes, find_changes, unit_history
from geo.reassign.lineage import current_code, unit_lineage

router = APIRouter(tags=["history"])


@router.get("/units/{code}/history", summary="Versions of a unit")
def history(code: str, engine: ReadEngineDep, _: ReaderDep) -> dict[str, Any]:
    """Every version of the unit, oldest first, with the change (who, when, why, 文件号) that made it.

    A unit's old code (before it was moved whole under another parent) finds it too: the answer names
    the code it has now.
    """
    with engine.connect() as conn:
        return {"code": code, "current_code": current_code(conn, code), "versions": unit_history(conn, code)}


@router.get("/units/{code}/lineage", summary="What a unit came from and became")
def lineage(code: str, engine: ReadEngineDep, _: ReaderDep) -> dict[str, Any]:
    """Predecessors (move, split, merge, recode) and successors of a unit, each with its change, and its aliases."""
    with engine.connect() as conn:
        return unit_lineage(conn, code)


@router.get("/changes", summary="The change log")
def changes(
    request: Request,
    engine: ReadEngineDep,
    _: ReaderDep,
    unit: Annotated[str | None, Query(max_length=32, description="Changes that touched this unit.")] = None,
    since: Annotated[dt.date | None, Query(description="Effective on or after this date.")] = None,
    until: Annotated[dt.date | None, Query(description="Effective on or before this date.")] = None,
    author: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Imports, applied, reversed and cancelled changes, newest first, a page at a time (``next`` link)."""
    with engine.connect() as conn:
        rows = find_changes(conn, unit=unit, since=since, until=until, author=author, limit=limit, offset=offset)
        matched = count_changes(conn, unit=unit, since=since, until=until, author=author)
    return {"changes": rows, "numberMatched": matched, "numberReturned": len(rows),
            "links": page_links(request, offset=offset, limit=limit, matched=matched)}
