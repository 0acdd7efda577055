"""Which grid, community and sub-district held a point on a day, and who answers for it.

Routing many events one SQL query each would cap ingest at a few hundred a second, so every unit
version (closed ones too) of the three levels goes into one shapely STRtree; a batch is one
vectorised query, filtered by each event's day. On a boundary shared by two units the lowest code
wins, as in :func:`geo.locate.locate`. The index is cached per database and rebuilt when the units
table changes (its row count, newest id or closed versions differ), so no hook in the code that
changes boundaries is needed.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, text

from geo.store import read_table

LEVELS = ("subdistrict", "community", "grid")
_FAR = dt.date(9999, 12, 31).toordinal()


@dataclass(frozen=True)
class Placement:
    """Where a point lay on a day, and who was responsible for it then."""

    grid_code: str
    community_code: str
    subdistrict_code: str
    grid_name: str
    community_name: str
    assignee_level: str  # grid (its 网格员) or community (when the grid has no worker)
    assignee_code: str
    since: dt.date  # the day the grid version holding the point took effect
    change_id: int | None  # the change that made that version

    @property
    def assignee_key(self) -> str:
        """``community/grid`` for a grid's worker, the community code alone otherwise."""
        return UnitIndex.key(self.assignee_code, self.community_code)


class UnitIndex:
    """Every version of the sub-districts, communities and grids, for point lookups on any day."""

    def __init__(self, conn: Connection) -> None:
        units = read_table(conn, "units", as_of=None, where=["level IN ('subdistrict', 'community', 'grid')"])
        self.codes = units["code"].to_numpy(dtype=object)
        self.names = units["name"].to_numpy(dtype=object)
        self.level = np.array([LEVELS.index(lv) for lv in units["level"]], dtype=np.int8)
        self.valid_from = np.array([d.toordinal() for d in units["valid_from"]], dtype=np.int64)
        self.valid_to = np.array([d.toordinal() if d is not None else _FAR for d in units["valid_to"]],
                                 dtype=np.int64)
        self.workers = [None if w is None or w != w else int(w) for w in units["workers"]]
        self.change_id = [None if c is None or c != c else int(c) for c in units["change_id"]]
        self.rank = np.argsort(np.argsort(self.codes.astype(str), kind="stable"), kind="stable")
        self.tree = shapely.STRtree(units.geometry.values)

    def locate_rows(self, lons: Any, lats: Any, days: Any) -> np.ndarray:
        """Row index of the unit at each level (columns: sub-district, community, grid); -1 when none."""
        lons = np.asarray(lons, dtype=float)
        lats = np.asarray(lats, dtype=float)
        day_ord = np.array([d.toordinal() for d in days], dtype=np.int64)
        out = np.full((len(lons), len(LEVELS)), -1, dtype=np.int64)
        if not len(lons):
            return out
        pi, gi = self.tree.query(shapely.points(lons, lats), predicate="intersects")
        keep = (self.valid_from[gi] <= day_ord[pi]) & (day_ord[pi] < self.valid_to[gi])
        pi, gi = pi[keep], gi[keep]
        for lv in range(len(LEVELS)):
            mask = self.level[gi] == lv
            p, g = pi[mask], gi[mask]
            order = np.lexsort((self.rank[g], p))
            p, g = p[order], g[order]
            first = np.unique(p, return_index=True)[1]
            out[p[first], lv] = g[first]
        return out

    @staticmethod
    def key(assignee_code: str, community_code: str) -> str:
        """Who answers: ``community/grid`` for a grid's worker, the community code alone otherwise."""
        return assignee_code if assignee_code == community_code else f"{community_code}/{assignee_code}"

    def placement(self, rows: np.ndarray) -> Placement | None:
        """The placement for one row of :meth:`locate_rows`; None when the point is in no grid."""
        sub, com, grid = (int(r) for r in rows)
        if min(sub, com, grid) < 0:
            return None
        has_worker = self.workers[grid] != 0  # unknown (NULL) means the grid's own 网格员
        return Placement(
            grid_code=str(self.codes[grid]), community_code=str(self.codes[com]),
            subdistrict_code=str(self.codes[sub]), grid_name=str(self.names[grid]),
            community_name=str(self.names[com]),
            assignee_level="grid" if has_worker else "community",
            assignee_code=str(self.codes[grid] if has_worker else self.codes[com]),
            since=dt.date.fromordinal(int(self.valid_from[grid])), change_id=self.change_id[grid],
        )

    def place_many(self, lons: Any, lats: Any, days: Any) -> list[Placement | None]:
        """Placements of many points, each on its own day."""
        return [self.placement(r) for r in self.locate_rows(lons, lats, days)]


_CACHE: dict[str, tuple[tuple[Any, ...], UnitIndex]] = {}
_LOCK = threading.Lock()


def units_stamp(conn: Connection) -> tuple[Any, ...]:
    """A cheap stamp that changes whenever the units table does (rows added, versions closed)."""
    row = conn.execute(text(
        "SELECT count(*), max(id), count(valid_to), max(valid_to), min(valid_from) FROM units"
    )).one()
    return tuple(str(v) for v in row)


def unit_index(conn: Connection) -> UnitIndex:
    """The index of the database behind ``conn``, rebuilt only when its units changed."""
    key = conn.engine.url.render_as_string(hide_password=True)
    stamp = units_stamp(conn)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    index = UnitIndex(conn)
    with _LOCK:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = (stamp, index)
    return index
