"""Grids outside the household band: splits of big grids and merges of tiny neighbours.

A grid above the band (default 300–500 households) is cut by recursive bisection of its buildings:
split the buildings where the households, counted along the direction of their widest spread, reach
the right share, and cut the grid's polygon with the line half-way between the two buildings either
side. A cut that would leave a part in several pieces is tried again along other directions, so
every part is one contiguous polygon. Tiny grids (below the band) are grouped with adjacent grids of
the same community while the group stays within the band's top.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from geo import store
from geo.balance.graph import adjacency
from geo.balance.load import check_codes
from geo.domain import Level
from geo.errors import InvalidInput

ANGLES = tuple(np.deg2rad(np.arange(0, 180, 15)))


@dataclass(frozen=True)
class Band:
    """Households per grid: at least ``low``, at most ``high``."""

    low: int = 300
    high: int = 500

    def __post_init__(self) -> None:
        if self.low < 0 or self.high <= 0 or self.low >= self.high:
            raise InvalidInput(f"the household band must have 0 <= min < max, not {self.low}–{self.high}",
                               field="min_households")


def village_band_of(band: Band, low: int | None, high: int | None) -> Band | None:
    """Villages' band from optional ends (a missing end is the general band's), or None when neither is given."""
    if low is None and high is None:
        return None
    return Band(band.low if low is None else low, band.high if high is None else high)


@dataclass
class SplitPart:
    """One part of a split grid (the first keeps the grid's code)."""

    geometry: BaseGeometry  # EPSG:4326
    buildings: list[str]
    households: int
    residents: int

    def as_dict(self) -> dict[str, Any]:
        return {"households": self.households, "residents": self.residents, "buildings": len(self.buildings),
                "building_codes": self.buildings, "geometry": mapping(self.geometry)}


@dataclass
class GridSplit:
    """A suggested split of one grid."""

    grid_code: str
    community_code: str
    households: int
    parts: list[SplitPart]
    within_band: bool
    note: str | None = None
    proposal_id: int | None = None  # the draft split, when drafts were asked for

    def as_dict(self) -> dict[str, Any]:
        return {"grid_code": self.grid_code, "community_code": self.community_code, "households": self.households,
                "within_band": self.within_band, "note": self.note, "proposal_id": self.proposal_id,
                "parts": [p.as_dict() for p in self.parts]}


@dataclass
class GridMerge:
    """Adjacent tiny grids of one community to join (the first code is kept)."""

    community_code: str
    grid_codes: list[str]
    households: int
    within_band: bool
    proposal_id: int | None = None  # the draft merge, when drafts were asked for

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class GridPlan:
    """Splits and merges for the grids in scope."""

    band: Band
    grids: int
    splits: list[GridSplit] = field(default_factory=list)
    merges: list[GridMerge] = field(default_factory=list)
    village_band: Band | None = None  # villages' own band, where it differs

    def as_dict(self) -> dict[str, Any]:
        village = self.village_band
        return {"band": {"min_households": self.band.low, "max_households": self.band.high},
                "village_band": {"min_households": village.low, "max_households": village.high} if village else None,
                "grids": self.grids,
                "splits": [s.as_dict() for s in self.splits], "merges": [m.as_dict() for m in self.merges]}


def _halfplane(origin: np.ndarray, direction: np.ndarray, at: float, extent: float, *, below: bool) -> BaseGeometry:
    """The side (below or above ``at`` along ``direction``) of a line, as a big rectangle."""
    normal = np.array([-direction[1], direction[0]])
    base = origin + direction * at
    far = direction * (-extent if below else extent)
    corners = [base + normal * extent, base - normal * extent, base - normal * extent + far,
               base + normal * extent + far]
    return shapely.Polygon(corners)


def _bisect(polygon: BaseGeometry, xy: np.ndarray, weight: np.ndarray, share: float) -> tuple[Any, Any, Any] | None:
    """Cut ``polygon`` into two single pieces holding about ``share`` and ``1 - share`` of ``weight``.

    Returns (mask of the points on the first side, first piece, second piece), the most even cut
    over the directions tried, or None when no direction gives two single pieces.
    """
    centre = xy.mean(axis=0)
    cov = np.cov((xy - centre).T, aweights=np.maximum(weight, 1e-9)) if len(xy) > 1 else np.eye(2)
    main = float(np.arctan2(*np.linalg.eigh(cov)[1][:, -1][::-1]))
    minx, miny, maxx, maxy = polygon.bounds
    extent = 4 * max(maxx - minx, maxy - miny, 1e-9)
    best = None
    for angle in (main, *[(main + a) % math.pi for a in ANGLES[1:]]):
        direction = np.array([math.cos(angle), math.sin(angle)])
        along = (xy - centre) @ direction
        order = np.argsort(along, kind="stable")
        cumulative = np.cumsum(weight[order])
        k = int(np.argmin(np.abs(cumulative[:-1] - share * cumulative[-1]))) + 1 if len(order) > 1 else 1
        if k >= len(order):
            continue
        at = (along[order[k - 1]] + along[order[k]]) / 2.0
        first = shapely.intersection(polygon, _halfplane(centre, direction, at, extent, below=True))
        second = shapely.intersection(polygon, _halfplane(centre, direction, at, extent, below=False))
        if first.geom_type != "Polygon" or second.geom_type != "Polygon" or first.is_empty or second.is_empty:
            continue
        mask = along <= at
        error = abs(float(weight[mask].sum()) - share * float(weight.sum()))
        if best is None or error < best[0] - 1e-9:
            best = (error, mask, first, second)
        if angle == main and error <= 0.05 * float(weight.sum()):
            break  # the main direction is good enough
    return None if best is None else best[1:]


def split_polygon(polygon: BaseGeometry, xy: np.ndarray, households: np.ndarray, high: int
                  ) -> list[tuple[BaseGeometry, np.ndarray]] | None:
    """Parts (polygon, indices of the points in it) with at most ``high`` households where possible."""
    total = int(households.sum())
    k = max(1, math.ceil(total / high))
    if k == 1 or len(xy) < 2:
        return [(polygon, np.arange(len(xy)))]
    k1 = k // 2
    cut = _bisect(polygon, xy, households.astype(float), k1 / k)
    if cut is None:
        return None
    mask, first, second = cut
    out = []
    for side, piece in ((mask, first), (~mask, second)):
        idx = np.flatnonzero(side)
        sub = split_polygon(piece, xy[idx], households[idx], high)
        if sub is None:
            return None
        out += [(poly, idx[i]) for poly, i in sub]
    return out


def plan_grids(grids: gpd.GeoDataFrame, buildings: pd.DataFrame, band: Band,
               village_band: Band | None = None) -> GridPlan:
    """Splits of grids above the band and merges of tiny neighbours, for the grids given.

    With ``village_band``, grids whose ``kind`` (their community's) is village are judged by it.
    """
    households = buildings.groupby("grid_code")["households"].sum()
    grids = grids.reset_index(drop=True).assign(households=lambda g: g["code"].map(households).fillna(0).astype(int))
    village = grids["kind"].eq("village") if "kind" in grids.columns else pd.Series(False, index=grids.index)
    bands = [village_band if is_village and village_band else band for is_village in village]
    plan = GridPlan(band=band, grids=len(grids), village_band=village_band)
    for i, row in enumerate(grids.itertuples()):
        if row.households > bands[i].high:
            plan.splits.append(_split(row, buildings[buildings["grid_code"] == row.code], bands[i]))
    plan.merges = _merges(grids, bands)
    return plan


def _split(row: Any, buildings: pd.DataFrame, band: Band) -> GridSplit:
    # Cut in lon/lat scaled by cos(latitude): an affine map, so straight cuts stay straight and the
    # parts tile the grid exactly, while distances along both axes are comparable.
    polygon = row.geometry
    if polygon.geom_type == "MultiPolygon" and len(polygon.geoms) == 1:
        polygon = polygon.geoms[0]
    factor = math.cos(math.radians(polygon.centroid.y))
    scaled = shapely.affinity.scale(polygon, xfact=factor, yfact=1.0, origin=(0, 0))
    xy = np.column_stack([buildings.geometry.x.to_numpy() * factor, buildings.geometry.y.to_numpy()])
    hh = buildings["households"].to_numpy(dtype=np.int64)
    parts = split_polygon(scaled, xy, hh, band.high) if scaled.geom_type == "Polygon" else None
    if parts is None:
        return GridSplit(row.code, row.parent_code, int(row.households), [], False,
                         note="no straight cut gives contiguous parts; split by hand")
    codes = buildings["code"].to_numpy()
    residents = buildings["residents"].to_numpy(dtype=np.int64)
    out = [SplitPart(geometry=shapely.affinity.scale(g, xfact=1.0 / factor, yfact=1.0, origin=(0, 0)),
                     buildings=sorted(codes[i].tolist()), households=int(hh[i].sum()),
                     residents=int(residents[i].sum()))
           for g, i in parts]
    within = all(band.low <= p.households <= band.high for p in out)
    note = None if within else "a building alone exceeds the band, or the households cannot be shared evenly"
    return GridSplit(row.code, row.parent_code, int(row.households), out, within, note)


def _merges(grids: gpd.GeoDataFrame, bands: list[Band]) -> list[GridMerge]:
    """Grow groups from the smallest tiny grid, adding the adjacent grid of its community that fits best."""
    edges = adjacency(grids)
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(grids))}
    parent = grids["parent_code"].to_numpy()
    for i, j in edges:
        if parent[i] == parent[j]:
            neighbours[int(i)].add(int(j))
            neighbours[int(j)].add(int(i))
    hh = grids["households"].to_numpy()
    used: set[int] = set()
    merges = []
    tiny = [i for i in range(len(grids)) if hh[i] < bands[i].low]
    for start in sorted(tiny, key=lambda i: (hh[i], grids["code"].iloc[i])):
        if start in used:
            continue
        band = bands[start]  # one community, so one kind, per group
        group, total = [int(start)], int(hh[start])
        while total < band.low:
            options = [j for g in group for j in neighbours[g] if j not in used and j not in group
                       and total + hh[j] <= band.high]
            if not options:
                break
            pick = max(options, key=lambda j: (hh[j], -j))
            group.append(pick)
            total += int(hh[pick])
        if len(group) > 1:
            used.update(group)
            codes = sorted(grids["code"].iloc[group])
            merges.append(GridMerge(str(parent[start]), codes, total, band.low <= total <= band.high))
    return merges


def read_grid_plan(conn: Connection, *, as_of: dt.date, band: Band, subdistricts: tuple[str, ...] = (),
                   communities: tuple[str, ...] = (), village_band: Band | None = None) -> GridPlan:
    """Splits and merges for the grids of the given sub-districts or communities (default all)."""
    units = store.read_units(conn, as_of=as_of)
    check_codes(units, subdistricts, Level.subdistrict, field="subdistricts")
    check_codes(units, communities, Level.community, field="communities")
    coms = units[units["level"] == Level.community.value]
    if subdistricts:
        coms = coms[coms["parent_code"].isin(subdistricts)]
    if communities:
        coms = coms[coms["code"].isin(communities)]
    grids = units[(units["level"] == Level.grid.value) & units["parent_code"].isin(set(coms["code"]))]
    buildings = store.read_buildings(conn, as_of=as_of)
    buildings = buildings[buildings["grid_code"].isin(set(grids["code"]))]
    grids = grids.assign(kind=grids["parent_code"].map(coms.set_index("code")["kind"]))
    return plan_grids(gpd.GeoDataFrame(grids[["code", "parent_code", "kind", "geometry"]], crs=units.crs), buildings,
                      band, village_band)
