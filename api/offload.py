"""Expensive computations as module-level functions that a child process can run (see ``run_bounded``).

Each opens its own engine from the database URL: the server's pool is never held while they compute,
and killing the child (time budget spent, client gone) leaves the server's connections untouched.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def grid_plan(database_url: str, body_json: str) -> dict[str, Any]:
    """POST /grid-splits: the plan as its JSON dict."""
    from api.routes.balance import GridSplitRequest
    from geo.db import make_engine

    engine = make_engine(database_url)
    try:
        return GridSplitRequest.model_validate_json(body_json).grid_plan(engine).as_dict()
    finally:
        engine.dispose()


def grid_plan_drafts(database_url: str, body_json: str, author: str, key_name: str, key_role: str) -> dict[str, Any]:
    """POST /grid-splits/drafts: the plan; each suggestion a draft of the caller's key (refused ones skipped)."""
    from api.routes.balance import GridDraftRequest
    from geo.access import Actor
    from geo.balance.drafts import draft_grid_plan
    from geo.db import make_engine

    engine = make_engine(database_url)
    try:
        body = GridDraftRequest.model_validate_json(body_json)
        plan = body.grid_plan(engine)
        _, skipped = draft_grid_plan(engine, plan, effective_date=body.effective_date or dt.date.today(),
                                     author=author, reason=body.reason, document_ref=body.document_ref,
                                     actor=Actor(key_name, key_role))
        return {**plan.as_dict(), "skipped": skipped}
    finally:
        engine.dispose()


def report(database_url: str, proposal_id: int, norms: Any, fmt: str, lang: str,
           households: bool = True) -> tuple[bytes, str, str]:
    """An impact report rendered as ``fmt`` (the PDF takes seconds: WeasyPrint); ``households``: with the list."""
    from geo.db import make_engine
    from geo.impact import compute_impact
    from maps.report import render

    engine = make_engine(database_url)
    try:
        report = compute_impact(engine, proposal_id, norms=norms)
        if not households:
            report = report.model_copy(update={"households": []})
        return render(report, fmt, lang)
    finally:
        engine.dispose()


def import_file(database_url: str, path: str, crs: str | None, gcj02: bool, author: str, valid_from: dt.date,
                document_ref: str | None) -> dict[str, Any]:
    """POST /imports: read and load a dataset (all or nothing); the summary as a dict."""
    from geo.db import make_engine
    from geo.importer import import_dataset
    from geo.io import read_dataset

    engine = make_engine(database_url)
    try:
        dataset = read_dataset(path, crs=crs, gcj02=gcj02)
        return import_dataset(engine, dataset, author=author, valid_from=valid_from,
                              document_ref=document_ref).as_dict()
    finally:
        engine.dispose()
