"""Vocabulary of the domain: levels of the hierarchy, kinds of units and stations, code formats."""

from __future__ import annotations

import re
from enum import StrEnum


class Level(StrEnum):
    """Levels of the administrative hierarchy, from the top down."""

    district = "district"  # 区/县
    subdistrict = "subdistrict"  # 街道/镇/乡
    community = "community"  # 社区/村
    grid = "grid"  # 网格

    @property
    def depth(self) -> int:
        return LEVELS.index(self)

    @property
    def parent(self) -> Level | None:
        return LEVELS[self.depth - 1] if self.depth else None

    @property
    def child(self) -> Level | None:
        return LEVELS[self.depth + 1] if self.depth + 1 < len(LEVELS) else None

    @property
    def code_length(self) -> int:
        return CODE_LENGTH[self]


LEVELS: tuple[Level, ...] = (Level.district, Level.subdistrict, Level.community, Level.grid)

# National statistical division scheme: district 6 digits, +3 per level below.
CODE_LENGTH: dict[Level, int] = {
    Level.district: 6,
    Level.subdistrict: 9,
    Level.community: 12,
    Level.grid: 15,
}

# Kinds allowed per level (None = the level has no kinds).
UNIT_KINDS: dict[Level, frozenset[str]] = {
    Level.district: frozenset(),
    Level.subdistrict: frozenset({"street", "town", "township"}),  # 街道 / 镇 / 乡
    Level.community: frozenset({"urban", "village"}),  # 社区(居委会) / 村(村委会)
    Level.grid: frozenset(),
}


class StationKind(StrEnum):
    """Kinds of service stations."""

    party_service_center = "party_service_center"  # 党群服务中心
    new_employment_station = "new_employment_station"  # 新就业群体服务驿站
    volunteer_station = "volunteer_station"  # 志愿服务站
    health_station = "health_station"  # 社区卫生服务站
    grid_service_point = "grid_service_point"  # 网格服务点
    elderly_care_station = "elderly_care_station"  # 养老服务站


STATION_KINDS: frozenset[str] = frozenset(k.value for k in StationKind)

# Populations counted per building; all are non-negative integers.
POPULATION_FIELDS: tuple[str, ...] = ("households", "residents", "elderly", "children", "special_care")

_DIGITS = re.compile(r"^[0-9]+$")


def level_of_code(code: str) -> Level | None:
    """The level a unit code belongs to by its length, or None if it is no unit code."""
    if not _DIGITS.match(code):
        return None
    for level, length in CODE_LENGTH.items():
        if len(code) == length:
            return level
    return None
