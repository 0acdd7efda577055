"""Event counts per grid and per community, and the events each worker answers for.

Counts of reported events use the units that held each point on its day (what happened where);
open and overdue counts use who answers for the event today (what is on whose desk). Weighted
events per worker add category weights (a 信访 counts more than a litter report) for ``/load``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, func, select, text

from geo.events import store
from geo.events.catalogue import OPEN_STATUSES, Catalogue
from geo.events.lifecycle import overdue_flags, responsible_now
from geo.events.routing import units_stamp

COUNT_FIELDS = ("events", "open", "overdue", "weighted_open")


_CACHE: dict[tuple[Any, ...], dict[str, dict[str, dict[str, Any]]]] = {}
_LOCK = threading.Lock()


def event_counts(conn: Connection, *, catalogue: Catalogue, since: dt.date | None = None,
                 until: dt.date | None = None, categories: tuple[str, ...] = (),
                 now: dt.datetime) -> dict[str, dict[str, dict[str, Any]]]:
    """Counts per unit: ``{"grid": {code: {...}}, "community": {...}, "subdistrict": {...}}``.

    ``events`` and ``by_category`` count reports in the window by the units of their day; ``open``,
    ``overdue`` and ``weighted_open`` count every open event by the unit responsible today.
    The map asks for this on every pan, so answers are cached until an event, a transition or a
    unit changes, or the minute (overdue flags) turns. The answer is shared: read it, do not change it.
    """
    stamp = conn.execute(text("SELECT (SELECT max(id) FROM event_transitions), (SELECT count(*) FROM events)"))
    key = (conn.engine.url.render_as_string(hide_password=True), tuple(stamp.one()), units_stamp(conn),
           tuple(sorted(catalogue.weights().items())), since, until, categories, now.replace(second=0, microsecond=0))
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    counts = _event_counts(conn, catalogue=catalogue, since=since, until=until, categories=categories, now=now)
    with _LOCK:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = counts
    return counts


def _event_counts(conn: Connection, *, catalogue: Catalogue, since: dt.date | None, until: dt.date | None,
                  categories: tuple[str, ...], now: dt.datetime) -> dict[str, dict[str, dict[str, Any]]]:
    weights = catalogue.weights()
    out: dict[str, dict[str, dict[str, Any]]] = {lv: {} for lv in ("grid", "community", "subdistrict")}

    def slot(level: str, code: str) -> dict[str, Any]:
        return out[level].setdefault(code, {"events": 0, "open": 0, "overdue": 0, "weighted_open": 0.0,
                                            "by_category": defaultdict(int)})

    c = store.EVENTS.c
    flt = store.EventFilter(categories=categories, since=since, until=until)
    for level in ("grid", "community", "subdistrict"):
        column = c[f"{level}_code"]
        stmt = (select(column, c.category, func.count()).where(and_(True, *flt.clauses()))
                .group_by(column, c.category))
        for code, category, n in conn.execute(stmt):
            s = slot(level, str(code))
            s["events"] += int(n)
            s["by_category"][str(category)] += int(n)
    cols_open = ("id", "category", "lon", "lat", "reported_day", "status", "due_at", "closed_at",
                 "grid_code", "community_code", "subdistrict_code")
    open_rows = store.read_events(conn, store.EventFilter(categories=categories, statuses=OPEN_STATUSES),
                                  columns=cols_open)
    for r, place in zip(open_rows, responsible_now(conn, open_rows, now.date()), strict=True):
        codes = ((place.grid_code, place.community_code, place.subdistrict_code) if place is not None
                 else (r["grid_code"], r["community_code"], r["subdistrict_code"]))
        late = overdue_flags(r, now)["overdue"]
        for level, code in zip(("grid", "community", "subdistrict"), codes, strict=True):
            s = slot(level, code)
            s["open"] += 1
            s["overdue"] += int(late)
            s["weighted_open"] += weights.get(r["category"], 1.0)
    for per_level in out.values():
        for s in per_level.values():
            s["by_category"] = dict(s["by_category"])
            s["weighted_open"] = round(s["weighted_open"], 2)
    return out


def community_event_load(conn: Connection, *, catalogue: Catalogue, now: dt.datetime,
                         weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Per community: open events, overdue ones and their weighted sum (index: community code).

    The optional ``events`` columns of ``/load`` come from here; ``weights`` override the catalogue's.
    """
    cat = catalogue.with_weights(weights) if weights else catalogue
    counts = event_counts(conn, catalogue=cat, now=now)["community"]
    frame = pd.DataFrame.from_dict(
        {code: {k: s[k] for k in ("open", "overdue", "weighted_open")} for code, s in counts.items()},
        orient="index", columns=["open", "overdue", "weighted_open"])
    return frame.rename(columns={"open": "events_open", "overdue": "events_overdue",
                                 "weighted_open": "events_weighted"})
