"""From the database to balancing problems: grids, loads, seats, adjacency and the planner's rules.

The data are read once (:func:`read_balance_data`); :func:`build_problems` then turns them into
independent :class:`~geo.balance.problem.Problem` s: one per sub-district, or per group of
sub-districts linked by allowed moves when moves across sub-districts are allowed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection

from geo import store
from geo.balance.graph import adjacency, components
from geo.balance.load import LoadOptions, check_codes, community_load
from geo.balance.problem import GUARANTEES, Problem
from geo.coverage import points_in_polygons
from geo.domain import Level
from geo.errors import InvalidInput
from geo.totals import read_totals


@dataclass(frozen=True)
class BalanceOptions:
    """What the planner asks of the suggestions."""

    load: LoadOptions = field(default_factory=LoadOptions)
    subdistricts: tuple[str, ...] = ()  # scope; empty = every sub-district
    cross_subdistrict: bool = False
    locked_communities: tuple[str, ...] = ()
    locked_grids: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # communities that must end within tolerance
    max_grids_lost: int | None = None
    allow_worse: bool = False  # may a community outside tolerance be pushed further out?
    relax: tuple[str, ...] = ()  # guarantees not enforced, by name (geo.balance.problem.GUARANTEES)
    time_limit: float = 30.0  # seconds for all solves together

    def __post_init__(self) -> None:
        if self.max_grids_lost is not None and self.max_grids_lost < 0:
            raise InvalidInput(f"max_grids_lost must be 0 or more, not {self.max_grids_lost}",
                               field="max_grids_lost")
        unknown = [name for name in self.relax if name not in GUARANTEES]
        if unknown:
            raise InvalidInput(f"relax: unknown guarantee(s) {', '.join(map(str, unknown))}; the guarantees are "
                               f"{', '.join(GUARANTEES)}", field="relax")
        if not (0 < self.time_limit <= 600):
            raise InvalidInput(f"time_limit must be between 0 and 600 seconds, not {self.time_limit}",
                               field="time_limit")


@dataclass
class BalanceData:
    """Everything the problems are built from, as of one date."""

    as_of: dt.date
    communities: pd.DataFrame  # load table (geo.balance.load.community_load), indexed 0..n-1
    grids: gpd.GeoDataFrame  # code, name, parent_code, residents, households, workload, geometry
    edges: np.ndarray  # adjacent grid pairs (positions in ``grids``)
    seats: dict[str, str]  # community code -> seat grid code
    warnings: list[str] = field(default_factory=list)
    district: pd.DataFrame | None = None  # load table of every community, in scope or not (for the shortfall)


def read_balance_data(conn: Connection, *, as_of: dt.date, options: BalanceOptions) -> BalanceData:
    """Read units, totals and stations valid on ``as_of`` and derive what the problems need."""
    units = store.read_units(conn, as_of=as_of)
    check_codes(units, options.subdistricts, Level.subdistrict, field="subdistricts")
    check_codes(units, options.locked_communities, Level.community, field="locked_communities")
    check_codes(units, options.required, Level.community, field="required")
    check_codes(units, options.locked_grids, Level.grid, field="locked_grids")
    totals = read_totals(conn, as_of)
    table = district = community_load(units, totals, options.load)
    if options.subdistricts:
        table = table[table["subdistrict_code"].isin(options.subdistricts)].reset_index(drop=True)
    outside = sorted(set(options.required) - set(table["code"]))
    if outside:
        raise InvalidInput(f"required communities {', '.join(outside)} are outside the chosen sub-districts",
                           field="required")
    grids = units[(units["level"] == Level.grid.value) & units["parent_code"].isin(set(table["code"]))]
    grids = grids[["code", "name", "parent_code", "geometry"]].sort_values("code").reset_index(drop=True)
    for col in ("residents", "households", "elderly", "children", "special_care"):
        grids[col] = totals[col].reindex(grids["code"]).fillna(0).to_numpy().astype(int)
    grids["workload"] = options.load.workload(grids).to_numpy()
    stations = store.read_stations(conn, as_of=as_of)
    return BalanceData(as_of=as_of, communities=table, grids=gpd.GeoDataFrame(grids, crs=units.crs),
                       edges=adjacency(grids), seats=_seats(grids, stations), district=district)


def _seats(grids: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> dict[str, str]:
    """Each community's seat grid: where its party service centre stands, else its most populous grid."""
    seats: dict[str, str] = {}
    centres = stations[stations["kind"] == "party_service_center"]
    if len(centres):
        located = points_in_polygons(centres.geometry, grids)
        parent = grids.set_index("code")["parent_code"]
        for community, grid in zip(centres["community_code"], located, strict=True):
            if grid is not None and parent.get(grid) == community and community not in seats:
                seats[community] = grid
    fallback = grids.sort_values(["residents", "code"], ascending=[False, True]).drop_duplicates("parent_code")
    for community, grid in zip(fallback["parent_code"], fallback["code"], strict=True):
        seats.setdefault(community, grid)
    return seats


def build_problems(data: BalanceData, options: BalanceOptions) -> tuple[list[Problem], list[str]]:
    """Independent problems (largest first) and warnings about communities left as they are."""
    coms = data.communities
    code_index = {c: i for i, c in enumerate(coms["code"])}
    home = data.grids["parent_code"].map(code_index).to_numpy(dtype=np.int64)
    n_grids, edges = len(home), data.edges
    warnings: list[str] = []
    locked = coms["code"].isin(options.locked_communities).to_numpy()
    # Pieces of each community: components of the graph of edges between grids of one community.
    inner = edges[home[edges[:, 0]] == home[edges[:, 1]]] if len(edges) else edges
    _, piece = components(n_grids, inner)
    pieces = pd.Series(piece).groupby(home).nunique()
    for i in pieces.index[pieces.to_numpy() > 1]:
        if not locked[i]:
            locked[i] = True
            warnings.append(f"{coms['code'][i]} ({coms['name'][i]}) is not contiguous in the data: it is left as it is")
    sub = coms["subdistrict_code"].to_numpy()
    cross = home[edges[:, 0]] != home[edges[:, 1]] if len(edges) else np.zeros(0, dtype=bool)
    links: set[tuple[int, int]] = set()
    for a, b in {(int(home[i]), int(home[j])) for i, j in edges[cross]}:
        if locked[a] or locked[b] or (sub[a] != sub[b] and not options.cross_subdistrict):
            continue
        links |= {(a, b), (b, a)}
    seat_codes = {data.seats[c] for c in coms["code"] if c in data.seats}
    grid_codes = data.grids["code"]  # pandas isin hashes; numpy's isin on strings sorts (slow at scale)
    movable = ~(grid_codes.isin(seat_codes) | grid_codes.isin(options.locked_grids)).to_numpy() & ~locked[home]
    givers = {a for a, _ in links}
    movable &= pd.Series(home).isin(givers).to_numpy()
    lower, upper = options.load.band(coms["workers"].to_numpy(), list(coms["kind"]))
    required = coms["code"].isin(options.required).to_numpy()
    link_array = np.array(sorted(links), dtype=np.int64).reshape(-1, 2)
    _, group = components(len(coms), link_array)
    grid_group = group[home]
    grid_order = np.argsort(grid_group, kind="stable")
    grid_bounds = np.searchsorted(grid_group[grid_order], np.arange(group.max() + 2))
    same = grid_group[edges[:, 0]] == grid_group[edges[:, 1]] if len(edges) else np.zeros(0, dtype=bool)
    group_edges = pd.Series(np.flatnonzero(same)).groupby(grid_group[edges[same, 0]]).apply(np.asarray)
    group_links: dict[int, list[tuple[int, int]]] = {}
    for a, b in links:
        group_links.setdefault(int(group[a]), []).append((a, b))
    problems = []
    for label in np.unique(group):
        parts = _Parts(
            members=np.flatnonzero(group == label),
            grids=np.sort(grid_order[grid_bounds[label]:grid_bounds[label + 1]]),
            edges=edges[group_edges[label]] if label in group_edges.index else np.zeros((0, 2), dtype=np.int64),
            links=group_links.get(int(label), []),
        )
        problems.append(_subproblem(data, parts, home, movable, lower, upper, required, options))
    problems.sort(key=lambda p: -p.n_grids)
    return problems, warnings


@dataclass
class _Parts:
    """What belongs to one problem: communities, grids (positions), edges and links among them."""

    members: np.ndarray
    grids: np.ndarray
    edges: np.ndarray
    links: list[tuple[int, int]]


def _subproblem(data: BalanceData, parts: _Parts, home: np.ndarray, movable: np.ndarray, lower: np.ndarray,
                upper: np.ndarray, required: np.ndarray, options: BalanceOptions) -> Problem:
    """The problem restricted to one group of communities and their grids (re-indexed from 0)."""
    members, grid_pos = parts.members, parts.grids
    local = {int(c): k for k, c in enumerate(members)}
    grid_local = {int(g): k for k, g in enumerate(grid_pos)}
    grids = data.grids.iloc[grid_pos]
    codes = data.communities["code"].to_numpy()
    position = {code: k for k, code in enumerate(grids["code"])}
    anchor = np.array([position.get(data.seats.get(codes[c], ""), -1) for c in members], dtype=np.int64)
    edges = np.array([(grid_local[int(i)], grid_local[int(j)]) for i, j in parts.edges], dtype=np.int64)
    return Problem(
        grid_codes=tuple(grids["code"]),
        community_codes=tuple(codes[members]),
        home=np.array([local[int(h)] for h in home[grid_pos]], dtype=np.int64),
        residents=grids["residents"].to_numpy(dtype=np.int64),
        workload=grids["workload"].to_numpy(dtype=float),
        movable=movable[grid_pos],
        anchor=anchor,
        lower=lower[members],
        upper=upper[members],
        edges=edges.reshape(-1, 2),
        links=frozenset((local[a], local[b]) for a, b in parts.links),
        required=required[members],
        max_lost=options.max_grids_lost,
        allow_worse=options.allow_worse,
        relax=frozenset(options.relax),
    )
