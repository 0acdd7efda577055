"""The territory a proposal moves: whole child units, or a drawn area clipped to the losing unit."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from geo.domain import Level
from geo.errors import InvalidInput
from geo.reassign.geometry import GRID, NOISE_M2, area_m2, common, cut, join, polygonal
from geo.reassign.model import ProposalRequest
from geo.store import read_latest


def check_area(area: Any, field: str = "area") -> BaseGeometry:
    """A drawn area must be a valid, non-empty polygon or multipolygon in lon/lat (errors name ``field``)."""
    if not isinstance(area, BaseGeometry):
        raise InvalidInput(f"{field} must be a GeoJSON Polygon or MultiPolygon", field=field)
    if area.is_empty:
        raise InvalidInput(f"{field} is empty", field=field)
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(f"{field} must be a Polygon or MultiPolygon, not a {area.geom_type}", field=field)
    if not area.is_valid:
        raise InvalidInput(f"{field} is not a valid polygon: {shapely.is_valid_reason(area)}", field=field)
    minx, miny, maxx, maxy = area.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput(f"{field} coordinates are not lon/lat in EPSG:4326 (declare its CRS)", field=field)
    return shapely.set_precision(area, GRID)


def resolve_territory(conn: Connection, request: ProposalRequest, a: Any) -> tuple[BaseGeometry, float]:
    """T within A, and the area (m²) of a drawn polygon that lay outside A and is ignored."""
    if (request.child_codes is None) == (request.area is None):
        raise InvalidInput("give either child_codes (units to move whole) or area (a drawn polygon)",
                           field="child_codes")
    if request.child_codes is not None:
        territory, outside = _children(conn, request.child_codes, a), 0.0
    else:
        area = check_area(request.area)
        territory, outside = common(area, a.geometry), area_m2(cut(area, a.geometry))
    if area_m2(territory) < NOISE_M2:
        raise InvalidInput(f"nothing to move: the area does not overlap {a['name']} ({a['code']})", field="area")
    if area_m2(cut(a.geometry, territory)) < NOISE_M2:
        raise InvalidInput(f"this would move all of {a['name']}; a unit cannot be emptied by a move",
                           field="area" if request.area is not None else "child_codes")
    return polygonal(territory), outside


def _children(conn: Connection, codes: tuple[str, ...], a: Any) -> BaseGeometry:
    level = Level(a["level"])
    if level.child is None or level == Level.grid:
        raise InvalidInput("grids have no child units: draw an area to move part of a grid", field="child_codes")
    if not codes:
        raise InvalidInput("child_codes is empty: name at least one unit to move", field="child_codes")
    rows = read_latest(conn, "units", where_in={"code": list(codes)})
    found = dict(zip(rows["code"], rows["parent_code"], strict=True))
    wrong = [c for c in codes if found.get(c) != a["code"]]
    if wrong:
        raise InvalidInput(f"not current {level.child.value}s of {a['code']}: {', '.join(sorted(wrong))}",
                           field="child_codes")
    return join(*rows.geometry.values)


def losing_unit_for(conn: Connection, area: Any, to_code: str) -> str:
    """The unit a drawn move takes ground from when the planner named none.

    That is the one unit of ``to_code``'s level (other than it) the drawing overlaps; over several, the
    error names them all.
    """
    area = check_area(area)
    target = read_latest(conn, "units", where_in={"code": [to_code]})
    if target.empty:
        raise InvalidInput(f"no current unit with code {to_code!r}", field="to_code")
    level = target.iloc[0]["level"]
    rows = read_latest(conn, "units", bbox=area.bounds)
    rows = rows[(rows["level"] == level) & (rows["code"] != to_code)]
    hits = [(r.code, r.name) for r in rows.itertuples() if area_m2(common(area, r.geometry)) >= NOISE_M2]
    if len(hits) == 1:
        return str(hits[0][0])
    if not hits:
        raise InvalidInput(f"the drawn area overlaps no {level} other than {to_code}", field="area")
    named = ", ".join(f"{name} ({code})" for code, name in sorted(hits))
    raise InvalidInput(f"the drawn area overlaps {len(hits)} {level} units: {named}; say which gives the ground "
                       "with from_code", field="from_code")
