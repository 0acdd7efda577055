"""Matching hotline addresses to building addresses.

Hotline operators type addresses freely: full-width digits, spaces, a province-city-district prefix.
Both sides are normalised (NFKC, no spaces or punctuation); an exact match wins, else the one
building whose address ends the given text (the prefix dropped). Several candidates is ambiguous
and reported as such, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import shapely
from sqlalchemy import Connection, text

_NOISE = re.compile(r"[\s\-_,.;:，。；：、()（）\[\]【】#号]+")


def normalise(address: str) -> str:
    """Comparable form of an address: NFKC, lower case, without spaces, punctuation or 号."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", address).lower())


@dataclass(frozen=True)
class Building:
    """A current building that has an address."""

    code: str
    address: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Match:
    """The building an address matched, or why none did."""

    building: Building | None
    reason: str | None = None


class AddressBook:
    """Current buildings by normalised address."""

    def __init__(self, conn: Connection) -> None:
        rows = conn.execute(text(
            "SELECT code, address, ST_AsBinary(geom) FROM buildings WHERE valid_to IS NULL AND address IS NOT NULL"
        )).all()
        points = shapely.from_wkb([bytes(r[2]) for r in rows]) if rows else []
        self.by_key: dict[str, list[Building]] = {}
        for (code, address, _), point in zip(rows, points, strict=True):
            key = normalise(address)
            if key:
                self.by_key.setdefault(key, []).append(Building(code, address, float(point.x), float(point.y)))

    def match(self, address: str) -> Match:
        """The one building ``address`` names."""
        key = normalise(address)
        if not key:
            return Match(None, "empty address / 地址为空")
        exact = self.by_key.get(key)
        if exact is not None:
            if len(exact) == 1:
                return Match(exact[0])
            return Match(None, f"address matches {len(exact)} buildings / 地址对应多栋楼")
        for start in range(1, len(key) - 3):  # the longest known address the text ends with
            found = self.by_key.get(key[start:])
            if found is not None:
                if len(found) == 1:
                    return Match(found[0])
                return Match(None, f"address matches {len(found)} buildings / 地址对应多栋楼")
        return Match(None, "no building has this address / 未匹配到楼栋地址")
