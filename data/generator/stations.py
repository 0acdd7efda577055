"""Service stations: a party-and-public service centre in every community, plus a few dozen others.

Station kinds follow geo.domain.StationKind. The new-employment station of 马槽井 carries its real name
"暖新护航·驿站有我"; 彩虹社区 and 把士村 host volunteer stations (their volunteer projects are real,
the stations' positions and capacities are not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.generator.layout import Community
from data.generator.names import BASHI, CAIHONG, MACAOJING, MACAOJING_STATION
from geo.domain import StationKind

# Extra stations per district besides one party-and-public service centre per community.
EXTRA_STATIONS: dict[StationKind, int] = {
    StationKind.new_employment_station: 30,
    StationKind.volunteer_station: 15,
    StationKind.health_station: 20,
    StationKind.grid_service_point: 20,
    StationKind.elderly_care_station: 10,
}
CAPACITY: dict[StationKind, tuple[int, int]] = {
    StationKind.party_service_center: (40, 300),
    StationKind.new_employment_station: (10, 30),
    StationKind.volunteer_station: (20, 60),
    StationKind.health_station: (20, 80),
    StationKind.grid_service_point: (10, 30),
    StationKind.elderly_care_station: (20, 60),
}


@dataclass(frozen=True)
class Station:
    """A planned station: code, names, kind, capacity, its community and the grid it stands in."""

    code: str
    name: str
    name_en: str
    kind: StationKind
    capacity: int
    community: int
    grid: int


def _label(c: Community, kind: StationKind, grid_seq: int) -> tuple[str, str]:
    if kind is StationKind.party_service_center:
        return f"{c.name}党群服务中心", f"{c.name_en} Party and Public Service Center"
    if kind is StationKind.new_employment_station:
        if c.role == MACAOJING[0]:
            return MACAOJING_STATION, "Nuanxin Escort · Station With Me (new employment groups)"
        return f"{c.name}暖新驿站", f"{c.name_en} New Employment Groups Service Station"
    if kind is StationKind.volunteer_station:
        if c.role == CAIHONG[0]:
            return f"{c.name}“靓丽楼栋长”志愿服务站", f"{c.name_en} Beautiful Building Stewards Volunteer Station"
        return f"{c.name}志愿服务站", f"{c.name_en} Volunteer Service Station"
    if kind is StationKind.health_station:
        if c.kind == "urban":
            return f"{c.name}卫生服务站", f"{c.name_en} Health Service Station"
        return f"{c.name}卫生室", f"{c.name_en} Clinic"
    if kind is StationKind.grid_service_point:
        return f"{c.name}第{grid_seq}网格服务点", f"{c.name_en} Grid {grid_seq} Service Point"
    return f"{c.name}养老服务站", f"{c.name_en} Elderly Care Station"


def _hosts(
    communities: list[Community], residents: np.ndarray, rng: np.random.Generator
) -> dict[int, list[StationKind]]:
    """Which communities host which extra stations (the story ones first, then by chance)."""
    urban = np.array([c.kind == "urban" for c in communities])
    role = {c.role: i for i, c in enumerate(communities) if c.role}
    fixed = {
        StationKind.new_employment_station: [role[MACAOJING[0]]],
        StationKind.volunteer_station: [role[CAIHONG[0]], role[BASHI[0]]],
    }
    hosts: dict[int, list[StationKind]] = {}
    for kind, total in EXTRA_STATIONS.items():
        chosen = list(fixed.get(kind, []))
        urban_only = kind in (StationKind.new_employment_station, StationKind.grid_service_point)
        pool = np.array([i for i in np.flatnonzero(urban if urban_only else np.ones_like(urban)) if i not in chosen])
        weight = residents[pool] / residents[pool].sum()
        chosen += rng.choice(pool, size=min(total - len(chosen), len(pool)), replace=False, p=weight).tolist()
        for i in chosen:
            hosts.setdefault(int(i), []).append(kind)
    return hosts


def plan_stations(
    communities: list[Community], residents: np.ndarray, centre_grid: list[int], rng: np.random.Generator
) -> list[Station]:
    """All stations of a district, coded community code + "S" + two digits, the centre first."""
    hosts = _hosts(communities, residents, rng)
    stations: list[Station] = []
    for i, c in enumerate(communities):
        kinds = [StationKind.party_service_center] + sorted(hosts.get(i, []), key=list(StationKind).index)
        for seq, kind in enumerate(kinds, start=1):
            grid_seq = int(rng.integers(len(c.grids))) + 1
            grid = centre_grid[i] if kind is StationKind.party_service_center else int(c.grids[grid_seq - 1])
            name, name_en = _label(c, kind, grid_seq)
            low, high = CAPACITY[kind]
            if c.kind == "village":  # village stations are smaller
                high = (low + high) // 2
            capacity = int(rng.integers(low, high + 1))
            stations.append(Station(f"{c.code}S{seq:02d}", name, name_en, kind, capacity, i, grid))
    return stations
