"""What a boundary change is: the request a planner makes, and the plan gridgov computes from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shapely.geometry.base import BaseGeometry

KINDS = ("move", "split", "merge")


@dataclass(frozen=True)
class ProposalRequest:
    """A boundary change a planner asks for; ``kind`` says which of three.

    - ``move``: territory of ``from_code`` goes to ``to_code`` (same level), given as exactly one of
      ``child_codes`` (units one level below ``from_code``, moved whole) and ``area`` (a polygon in
      EPSG:4326, clipped to ``from_code``).
    - ``split``: each of ``parts`` (polygons within grid ``from_code``) becomes a new grid of the same
      community; what the parts leave keeps the code. ``to_code`` is None.
    - ``merge``: every unit of ``merge_codes`` joins ``to_code`` and is retired; their children move to
      ``to_code``. ``from_code`` is the first of ``merge_codes``.
    """

    from_code: str
    to_code: str | None
    effective_date: dt.date
    author: str
    child_codes: tuple[str, ...] | None = None
    area: BaseGeometry | None = None
    reason: str | None = None
    document_ref: str | None = None
    allow_non_adjacent: bool = False
    kind: str = "move"
    parts: tuple[BaseGeometry, ...] | None = None
    merge_codes: tuple[str, ...] | None = None
    workers_moved: int = 0  # community workers who move from A to B with the territory (communities only)
    min_area_m2: float = 100.0  # a drawn area smaller than this that moves no residents is refused


@dataclass
class UnitChange:
    """One unit's state before and after the change (geometry in EPSG:4326)."""

    code: str
    level: str
    name: str
    parent_before: str | None
    parent_after: str | None
    geom_before: BaseGeometry | None  # None for a unit the change creates
    geom_after: BaseGeometry | None  # None for a unit the change retires
    version_before: int | None
    source_code: str | None = None  # for a unit the change creates: the unit it was split from
    name_en: str | None = None  # for a unit the change creates (else the current version's is kept)
    workers_gained: int = 0  # community workers a merge brings (or a move carries; negative for the giver)
    recoded: bool = False  # a created unit that is ``source_code`` moved whole and given a code under its new parent

    @property
    def created(self) -> bool:
        return self.geom_before is None

    @property
    def retired(self) -> bool:
        return self.geom_after is None


class Notice(NamedTuple):
    """A warning of a preview, worded in English and in Chinese."""

    en: str
    zh: str


LEVEL_ZH = {"subdistrict": "街道", "community": "社区", "grid": "网格"}


@dataclass
class Plan:
    """Everything a proposal does, computed against the current versions (``base_versions``)."""

    request: ProposalRequest
    level: str
    territory: BaseGeometry  # what moves, within from_code
    outside_area_m2: float  # part of a drawn area that lay outside from_code and is ignored
    units: list[UnitChange] = field(default_factory=list)
    buildings: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (grid before, grid after)
    stations: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (community before, after)
    base_versions: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[Notice] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # names of units the plan creates, by code
