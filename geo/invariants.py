"""The five invariants of ARCHITECTURE.md, checked on a database as of a date.

``gridgov check`` prints the report; the reassignment code runs the same checks inside its
transaction before committing. Each check returns violations with the unit and figures involved.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from geo import store
from geo.coverage import coverage_edge_problems, coverage_report, points_in_polygons
from geo.domain import LEVELS, POPULATION_FIELDS, Level
from geo.totals import unit_totals

INVARIANTS = ("coverage", "nesting", "conservation", "history", "atomicity")
PLURAL = {Level.district: "districts", Level.subdistrict: "sub-districts", Level.community: "communities",
          Level.grid: "grids"}


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which, where, and the figures."""

    invariant: str
    subject: str
    detail: str


@dataclass
class InvariantReport:
    """What was checked and what broke."""

    as_of: dt.date
    counts: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def broken(self, invariant: str) -> list[Violation]:
        return [v for v in self.violations if v.invariant == invariant]

    def lines(self) -> list[str]:
        """Human-readable report, one line per invariant and per violation."""
        shown = ", ".join(f"{n} {k}" for k, n in self.counts.items())
        out = [f"as of {self.as_of.isoformat()}: {shown}"]
        for name in INVARIANTS:
            broken = self.broken(name)
            out.append(f"{name:13s} {'OK' if not broken else f'BROKEN ({len(broken)})'}")
            out.extend(f"  - {v.subject}: {v.detail}" for v in broken[:50])
            if len(broken) > 50:
                out.append(f"  … and {len(broken) - 50} more")
        return out


def check_database(engine: Engine, *, as_of: dt.date) -> InvariantReport:
    """Check every invariant on the data valid on ``as_of``, plus the whole history."""
    with engine.connect() as conn:
        return check_connection(conn, as_of=as_of)


def check_connection(conn: Connection, *, as_of: dt.date) -> InvariantReport:
    """Like :func:`check_database`, inside an open connection or transaction."""
    units = store.read_units(conn, as_of=as_of)
    # Two current versions of one unit are a history violation (reported below); measure the newest.
    units = units[~units["code"].duplicated(keep="last")]
    buildings = store.read_buildings(conn, as_of=as_of)
    stations = store.read_stations(conn, as_of=as_of)
    report = InvariantReport(as_of=as_of)
    for level in LEVELS:
        report.counts[PLURAL[level]] = int((units["level"] == level.value).sum())
    report.counts["buildings"] = len(buildings)
    report.counts["stations"] = len(stations)
    report.violations += _coverage_and_nesting(units)
    report.violations += _conservation(conn, units, buildings, stations)
    report.violations += _history(conn)
    report.violations += _atomicity(conn)
    return report


def _coverage_and_nesting(units: gpd.GeoDataFrame) -> list[Violation]:
    out: list[Violation] = []
    codes = set(units["code"])
    for _, unit in units[units["level"] != Level.district.value].iterrows():
        if unit["parent_code"] not in codes:
            out.append(Violation("nesting", unit["code"], f"parent {unit['parent_code']} is not a current unit"))
    for level in LEVELS:
        same = units[units["level"] == level.value]
        out += [Violation("coverage", issue.children[0], str(issue))
                for issue in coverage_edge_problems(same["code"], same.geometry.values)]
    for level in LEVELS[1:]:
        parents = units[units["level"] == level.parent]
        children = units[units["level"] == level.value]
        if parents.empty or children.empty:
            continue
        for issue in coverage_report(parents, children):
            if issue.kind == "outside":
                out.append(Violation("nesting", issue.children[0], str(issue)))
            else:
                out.append(Violation("coverage", str(issue.parent), str(issue)))
    return out


def _conservation(
    conn: Connection, units: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, stations: gpd.GeoDataFrame
) -> list[Violation]:
    out: list[Violation] = []
    grids = units[units["level"] == Level.grid.value]
    communities = units[units["level"] == Level.community.value]
    grid_codes = set(grids["code"])
    orphans = buildings[~buildings["grid_code"].isin(grid_codes)]
    out += [
        Violation("conservation", b.code, f"assigned to {b.grid_code}, which is not a current grid")
        for b in orphans.itertuples()
    ]
    # Each building lies in (or on the edge of) the grid it is assigned to; with nesting and
    # coverage this makes every unit's total the sum of the buildings inside it.
    assigned = buildings[buildings["grid_code"].isin(grid_codes)]
    shapes = grids.set_index("code").geometry.reindex(assigned["grid_code"]).to_numpy()
    outside = assigned[~shapely.covers(shapes, assigned.geometry.to_numpy())]
    if len(outside):
        located = points_in_polygons(outside.geometry, grids)
        out += [
            Violation("conservation", b.code, f"assigned to grid {b.grid_code} but lies in {loc or 'no grid'}")
            for b, loc in zip(outside.itertuples(), located, strict=True)
        ]
    for code, n in Counter(buildings["code"]).items():
        if n > 1:
            out.append(Violation("conservation", code, f"{n} current versions of one building"))
    bad_stations = stations[~stations["community_code"].isin(set(communities["code"]))]
    out += [
        Violation("conservation", s.code, f"responsible community {s.community_code} is not current")
        for s in bad_stations.itertuples()
    ]
    out += _district_totals_unchanged(conn, units, buildings)
    return out


def _district_totals_unchanged(
    conn: Connection, units: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> list[Violation]:
    """A district's population only changes by import, never by boundary changes."""
    rows = conn.execute(text("SELECT summary FROM change_log WHERE kind = 'import' ORDER BY id")).scalars()
    imported: dict[str, dict[str, int]] = {}
    for summary in rows:
        for code, totals in (_json(summary).get("districts") or {}).items():
            imported[code] = totals
    rolled = unit_totals(units, buildings)
    out: list[Violation] = []
    for code, totals in imported.items():
        if code not in rolled.index:
            continue
        for name in POPULATION_FIELDS:
            if name in totals and int(rolled.loc[code, name]) != int(totals[name]):
                out.append(Violation(
                    "conservation", code,
                    f"{name} is {int(rolled.loc[code, name])}, but {totals[name]} were imported",
                ))
    return out


def _json(value: object) -> dict[str, Any]:
    import json

    if isinstance(value, dict):
        return value
    return json.loads(str(value)) if value else {}


def _history(conn: Connection) -> list[Violation]:
    """Versions of one code follow each other without overlap; at most one is current.

    A cancelled version (its change erased by 撤销) has an empty interval and is in no as-of view.
    """
    out: list[Violation] = []
    for table in ("units", "buildings", "stations"):
        rows = conn.execute(
            text(f"SELECT code, version, valid_from, valid_to FROM {table} WHERE cancelled_by IS NULL "
                 "ORDER BY code, version")
        ).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=["code", "version", "valid_from", "valid_to"])
        out += _version_chain_violations(table, frame)
    return out


def _version_chain_violations(table: str, frame: pd.DataFrame) -> list[Violation]:
    """Vectorised over all versions of a table (ordered by code, version)."""
    out: list[Violation] = []
    start = pd.to_datetime(frame["valid_from"].map(store.as_date))
    end = pd.to_datetime(frame["valid_to"].map(store.as_date))
    current = end.isna().groupby(frame["code"]).sum()
    out += [
        Violation("history", f"{table}/{code}", f"{n} current versions") for code, n in current[current > 1].items()
    ]
    backwards = frame[end.notna() & (end < start)]
    out += [Violation("history", f"{table}/{r.code}", f"version {r.version} ends before it starts")
            for r in backwards.itertuples()]
    same_code = frame["code"].eq(frame["code"].shift())
    previous_end = end.shift()
    overlaps = frame[same_code & (previous_end.isna() | (start < previous_end))]
    out += [Violation("history", f"{table}/{r.code}", f"version {r.version} overlaps the one before")
            for r in overlaps.itertuples()]
    return out


def _atomicity(conn: Connection) -> list[Violation]:
    """Every version and proposal points at a logged change, and applied proposals were logged."""
    out: list[Violation] = []
    logged = {r[0] for r in conn.execute(text("SELECT id FROM change_log"))}
    for table in ("units", "buildings", "stations"):
        rows = conn.execute(text(f"SELECT DISTINCT change_id FROM {table} WHERE change_id IS NOT NULL"))
        out += [
            Violation("atomicity", f"{table}", f"versions made by change {r[0]}, which is not in the change log")
            for r in rows if r[0] not in logged
        ]
    proposals = conn.execute(
        text("SELECT id, status, applied_change_id, reverted_change_id FROM proposals")
    ).all()
    for pid, status, applied, reverted in proposals:
        if status in ("applied", "reverted", "cancelled") and applied not in logged:
            out.append(Violation("atomicity", f"proposal {pid}", f"{status} but its apply is not logged"))
        if status == "reverted" and reverted not in logged:
            out.append(Violation("atomicity", f"proposal {pid}", "reverted but its revert is not logged"))
    return out
