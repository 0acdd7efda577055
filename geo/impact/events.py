"""Events in the territory a boundary change moves: the last 12 months, and who takes the open ones.

A planner deciding a change wants to know what the moved area asks of its workers (how many
reports, of which kinds) and which open events change hands on the effective date. Stored events
keep their reporting-day units; the hand-over itself happens by date (see geo/events/lifecycle.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from geo.events import store
from geo.events.catalogue import OPEN_STATUSES


class EventHandOver(BaseModel):
    """An open event in the moved area and who answers for it before and after the change."""

    event_id: int
    category: str
    status: str
    reported_day: dt.date
    grid_before: str
    community_before: str
    grid_after: str | None
    community_after: str | None


class EventsImpact(BaseModel):
    """Events reported in the moved territory over 12 months, and the open ones' hand-over."""

    since: dt.date
    until: dt.date
    total: int = Field(description="Events reported in the territory from ``since`` to ``until``.")
    by_category: dict[str, int]
    open: int = Field(description="Open events in the territory (any age).")
    effective_date: dt.date
    hand_over: list[EventHandOver] = Field(description="Open events whose grid or community changes.")


def events_impact(conn: Connection, territory: Any, after_grids: Any, effective_date: dt.date,
                  *, today: dt.date | None = None) -> EventsImpact | None:
    """The events section; None when the database has no events table rows in the area.

    ``after_grids``: a frame of grid rows (code, parent_code, geometry) on the change's after side.
    """
    today = today or dt.date.today()
    since = today - dt.timedelta(days=365)
    bounds = tuple(float(v) for v in shapely.bounds(territory))
    rows = store.read_events(conn, store.EventFilter(bbox=bounds),  # type: ignore[arg-type]
                             columns=("id", "category", "status", "reported_day", "lon", "lat",
                                      "assignee_code", "assignee_community"))
    if rows:
        lons, lats = np.array([r["lon"] for r in rows]), np.array([r["lat"] for r in rows])
        inside = shapely.intersects_xy(territory, lons, lats)
        rows = [r for r, keep in zip(rows, inside, strict=True) if keep]
    if not rows:
        return None
    recent = [r for r in rows if since <= r["reported_day"] <= today]
    open_rows = [r for r in rows if r["status"] in OPEN_STATUSES]
    hand_over = []
    if open_rows and len(after_grids):
        grids = after_grids.sort_values("code").reset_index(drop=True)
        tree = shapely.STRtree(grids.geometry.values)
        pi, gi = tree.query(shapely.points([r["lon"] for r in open_rows], [r["lat"] for r in open_rows]),
                            predicate="intersects")
        first: dict[int, int] = {}
        for p, g in zip(pi.tolist(), gi.tolist(), strict=True):
            first[p] = min(first.get(p, g), g)
        for p, r in enumerate(open_rows):
            g = first.get(p)
            grid_after = None if g is None else str(grids.loc[g, "code"])
            community_after = None if g is None else str(grids.loc[g, "parent_code"])
            if (grid_after, community_after) != (r["assignee_code"], r["assignee_community"]):
                hand_over.append(EventHandOver(
                    event_id=r["id"], category=r["category"], status=r["status"], reported_day=r["reported_day"],
                    grid_before=r["assignee_code"], community_before=r["assignee_community"],
                    grid_after=grid_after, community_after=community_after))
    return EventsImpact(since=since, until=today, total=len(recent),
                        by_category=dict(Counter(r["category"] for r in recent)), open=len(open_rows),
                        effective_date=effective_date, hand_over=hand_over)
