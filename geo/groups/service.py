"""Residents' groups stored and versioned like units: read as of a date, re-proposed, written.

A community's groups are rows of ``residents_groups`` valid on ``valid_from <= day < valid_to``. Storing
a proposal closes the versions of groups that change or disappear and opens new ones; groups that are
kept whole are not touched (their leader stays). Codes are the community code, ``G`` and a number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, Table, select, update

from geo import store
from geo.domain import Level
from geo.errors import InvalidInput, NotFound
from geo.groups.partition import Group, GroupBand, contiguous, repropose
from geo.models import ResidentsGroup

TABLE = cast(Table, ResidentsGroup.__table__)


@dataclass
class CommunityGroups:
    """A community's groups as of a date: stored ones, or a proposal (``stored`` False)."""

    community_code: str
    community_name: str
    as_of: dt.date
    band: GroupBand
    groups: list[dict[str, Any]]
    stored: bool
    kept: int = 0
    new: int = 0
    retired: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        sizes = [g["households"] for g in self.groups]
        return {
            "community_code": self.community_code, "community_name": self.community_name,
            "as_of": self.as_of.isoformat(), "stored": self.stored,
            "band": {"min_households": self.band.min_households, "max_households": self.band.max_households},
            "count": len(self.groups), "kept": self.kept, "new": self.new, "retired": self.retired,
            "within_band": sum(self.band.holds(s) for s in sizes),
            "contiguous": sum(bool(g["contiguous"]) for g in self.groups),
            "groups": self.groups,
        }


def _community(conn: Connection, code: str, as_of: dt.date) -> pd.Series:
    units = store.read_units(conn, as_of=as_of, codes=[code])
    rows = units[units["level"] == Level.community.value]
    if not len(rows):
        raise NotFound(f"no community {code} on {as_of.isoformat()}", field="community")
    return rows.iloc[0]


def community_buildings(conn: Connection, code: str, as_of: dt.date) -> pd.DataFrame:
    """The buildings of a community as of a date: code, households, residents, lon, lat."""
    grids = store.read_filtered(conn, "units", as_of=as_of, where_in={"parent_code": [code]})
    grids = grids[grids["level"] == Level.grid.value]
    buildings = store.read_filtered(conn, "buildings", as_of=as_of, where_in={"grid_code": list(grids["code"])})
    buildings = buildings.sort_values("code").reset_index(drop=True)
    return pd.DataFrame({"code": buildings["code"], "households": buildings["households"].fillna(0).astype(int),
                         "residents": buildings["residents"].fillna(0).astype(int),
                         "lon": shapely.get_x(buildings.geometry.values),
                         "lat": shapely.get_y(buildings.geometry.values)})


def stored_groups(conn: Connection, code: str, as_of: dt.date | None) -> list[dict[str, Any]]:
    """Rows of the community's groups valid on ``as_of`` (the current ones when None)."""
    query = select(TABLE).where(TABLE.c.community_code == code)
    if as_of is None:
        query = query.where(TABLE.c.valid_to.is_(None))
    else:
        query = query.where(TABLE.c.valid_from <= as_of,
                            (TABLE.c.valid_to.is_(None)) | (TABLE.c.valid_to > as_of))
    return [dict(r._mapping) for r in conn.execute(query.order_by(TABLE.c.code))]


def _shape(points: np.ndarray) -> dict[str, Any]:
    """A group's outline for the map: the hull of its buildings, padded by about 15 m."""
    hull = shapely.convex_hull(shapely.multipoints(points)).buffer(0.00015, quad_segs=2)
    shape: dict[str, Any] = shapely.geometry.mapping(hull)
    return shape


def _describe(groups: list[dict[str, Any]], buildings: pd.DataFrame) -> list[dict[str, Any]]:
    pos = {c: i for i, c in enumerate(buildings["code"])}
    labels = np.full(len(buildings), -1)
    for k, g in enumerate(groups):
        for c in g["building_codes"]:
            if c in pos:
                labels[pos[c]] = k
    points = buildings[["lon", "lat"]].to_numpy()
    inside = labels >= 0
    ok = contiguous(points[inside], labels[inside]) if inside.any() else np.zeros(0, bool)
    flags = dict(zip(np.unique(labels[inside]).tolist(), ok.tolist(), strict=True))
    out = []
    for k, g in enumerate(groups):
        idx = [pos[c] for c in g["building_codes"] if c in pos]
        out.append({**g, "buildings": len(g["building_codes"]), "contiguous": bool(flags.get(k, False)),
                    "whole": len(idx) == len(g["building_codes"]),
                    "geometry": _shape(points[idx]) if idx else None})
    return out


def read_groups(conn: Connection, code: str, *, as_of: dt.date, band: GroupBand | None = None) -> CommunityGroups:
    """The stored groups valid on ``as_of``; when there are none, a proposal (not stored)."""
    band = band or GroupBand()
    community = _community(conn, code, as_of)
    buildings = community_buildings(conn, code, as_of)
    rows = stored_groups(conn, code, as_of)
    if rows:
        groups = [{"code": r["code"], "name": r["name"], "households": r["households"], "residents": r["residents"],
                   "building_codes": list(r["building_codes"]), "leader": r["leader"], "version": r["version"],
                   "valid_from": r["valid_from"].isoformat() if r["valid_from"] else None} for r in rows]
        return CommunityGroups(code, str(community["name"]), as_of, band, _describe(groups, buildings), stored=True)
    return propose_groups(conn, code, as_of=as_of, band=band)


def propose_groups(conn: Connection, code: str, *, as_of: dt.date, band: GroupBand | None = None) -> CommunityGroups:
    """Groups for the community's buildings as of ``as_of``, keeping every current group still whole and in band."""
    band = band or GroupBand()
    community = _community(conn, code, as_of)
    buildings = community_buildings(conn, code, as_of)
    current = {r["code"]: r for r in stored_groups(conn, code, None)}
    proposal = repropose(list(buildings["code"]), buildings["lon"].to_numpy(), buildings["lat"].to_numpy(),
                         buildings["households"].to_numpy(), buildings["residents"].to_numpy(), band,
                         {c: list(r["building_codes"]) for c, r in current.items()})
    groups = _number(code, proposal, current)
    kept = {g["code"] for g in groups if g["kept"]}
    return CommunityGroups(code, str(community["name"]), as_of, band, _describe(groups, buildings), stored=False,
                           kept=len(kept), new=len(groups) - len(kept), retired=sorted(set(current) - kept))


def _number(community: str, proposal: list[Group], current: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    used = {int(c.rsplit("G", 1)[1]) for c in current if "G" in c and c.rsplit("G", 1)[1].isdigit()}
    next_n = max(used, default=0) + 1
    out = []
    for g in proposal:
        if g.code is None:
            g.code, next_n = f"{community}G{next_n:03d}", next_n + 1
        number = int(g.code.rsplit("G", 1)[1])
        old = current.get(g.code, {})
        out.append({"code": g.code, "name": old.get("name") or f"第{number}居民小组", "households": g.households,
                    "residents": g.residents, "building_codes": list(g.building_codes), "kept": g.kept,
                    "leader": old.get("leader") if g.kept else None})
    return out


def store_groups(engine: Engine, code: str, *, effective_date: dt.date, band: GroupBand | None = None,
                 change_id: int | None = None) -> CommunityGroups:
    """Re-propose the community's groups as of ``effective_date`` and store them (one transaction).

    Kept groups stay as they are; the others' current versions close on ``effective_date`` and the new
    groups open on it. A community's groups cannot be re-stored before their latest ``valid_from``.
    """
    with engine.begin() as conn:
        current = stored_groups(conn, code, None)
        latest = max((r["valid_from"] for r in current), default=None)
        if latest is not None and effective_date < latest:
            raise InvalidInput(f"the groups of {code} were last changed on {latest.isoformat()}; a new grouping "
                               f"must be effective on or after it", field="effective_date")
        result = propose_groups(conn, code, as_of=effective_date, band=band)
        kept = {g["code"] for g in result.groups if g["kept"]}
        versions = {r["code"]: r["version"] for r in current}
        closing = [c for c in versions if c not in kept]
        if closing:
            conn.execute(update(TABLE).where(TABLE.c.code.in_(closing), TABLE.c.valid_to.is_(None))
                         .values(valid_to=effective_date))
        rows = [{"code": g["code"], "version": versions.get(g["code"], 0) + 1, "valid_from": effective_date,
                 "valid_to": None, "change_id": change_id, "synthetic": False, "community_code": code,
                 "name": g["name"], "households": g["households"], "residents": g["residents"],
                 "building_codes": g["building_codes"], "leader": g["leader"]}
                for g in result.groups if not g["kept"]]
        if rows:
            conn.execute(TABLE.insert(), rows)
    result.stored = True
    return result


def communities_touched(engine: Engine, change_id: int) -> list[str]:
    """Communities a boundary change touched (from the change log's unit codes)."""
    from geo.models import ChangeLog

    with engine.connect() as conn:
        units = conn.execute(select(ChangeLog.units).where(ChangeLog.id == change_id)).scalar_one_or_none()
    return sorted({u[:12] for u in units or [] if len(u) >= 12})


def repropose_after_change(engine: Engine, change_id: int, effective_date: dt.date) -> dict[str, dict[str, Any]]:
    """Re-propose and store the groups of every community the change touched that has stored groups.

    Communities without stored groups are left alone: reading them proposes groups afresh anyway.
    Returns, per community, how many groups were kept, are new and were retired.
    """
    out: dict[str, dict[str, Any]] = {}
    for code in communities_touched(engine, change_id):
        with engine.connect() as conn:
            if not stored_groups(conn, code, None):
                continue
        try:
            done = store_groups(engine, code, effective_date=effective_date, change_id=change_id)
        except (InvalidInput, NotFound) as exc:  # e.g. the community was merged away
            out[code] = {"skipped": exc.message}
            continue
        out[code] = {"kept": done.kept, "new": done.new, "retired": done.retired}
    return out


def export_groups(conn: Connection, *, as_of: dt.date) -> pd.DataFrame:
    """Every stored group valid on ``as_of`` (one row each, building codes joined by ';')."""
    query = select(TABLE).where(TABLE.c.valid_from <= as_of,
                                (TABLE.c.valid_to.is_(None)) | (TABLE.c.valid_to > as_of)).order_by(TABLE.c.code)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["code", "community_code", "name", "households", "residents", "leader",
                                        "version", "valid_from", "building_codes"])
    frame["building_codes"] = [";".join(b or []) for b in frame["building_codes"]]
    return frame
