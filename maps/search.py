"""Search for the page's search box: units, stations, building addresses (楼栋地址, "南郊社区1组1栋").

Units are matched by name or code in the prepared layers; stations and buildings by SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, text

from geo.store import AS_OF
from maps.layers import UnitLayer

_LEVEL_RANK = {"subdistricts": 0, "communities": 1, "grids": 2}


def _score(query: str, props: dict[str, Any]) -> int | None:
    """Lower is better; None when the unit does not match."""
    name = props.get("name") or ""
    name_en = (props.get("name_en") or "").lower()
    code = props.get("code") or ""
    q = query.lower()
    if name == query or name_en == q or code == query:
        return 0
    if name.startswith(query) or name_en.startswith(q):
        return 1
    if code.startswith(query):
        return 2
    if query in name or q in name_en:
        return 3
    return None


def search_units(layers: dict[str, UnitLayer], query: str, *, limit: int) -> list[dict[str, Any]]:
    """Units whose name (Chinese or English) or code matches ``query``, best first, with their bounds."""
    query = query.strip()
    if not query:
        return []
    hits: list[tuple[int, int, str, dict[str, Any]]] = []
    for layer_id, layer in layers.items():
        for i, props in enumerate(layer.properties):
            score = _score(query, props)
            if score is not None:
                hit = {"type": "unit", "layer": layer_id, "code": props["code"], "name": props["name"],
                       "name_en": props.get("name_en"), "parent_code": props.get("parent_code"),
                       "bbox": layer.bounds_of(i)}
                hits.append((score, _LEVEL_RANK.get(layer_id, 9), props["code"], hit))
    hits.sort(key=lambda h: h[:3])
    return [h[3] for h in hits[:limit]]


def _like(query: str) -> str:
    return query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_buildings(conn: Connection, query: str, *, as_of: dt.date, limit: int) -> list[dict[str, Any]]:
    """Buildings whose address contains ``query`` or whose code starts with it, shortest address first.

    The shortest address containing the words is the closest match ("1组1栋" before "1组11栋").
    """
    query = query.strip()
    if not query:
        return []
    literal = _like(query)
    rows = conn.execute(
        text(f"SELECT code, address, grid_code, ST_X(geom), ST_Y(geom), households, residents FROM buildings "
             f"WHERE {AS_OF} AND (address LIKE :pattern ESCAPE '\\' OR code LIKE :prefix ESCAPE '\\') "
             "ORDER BY length(coalesce(address, code)), code LIMIT :limit"),
        {"as_of": as_of, "pattern": f"%{literal}%", "prefix": f"{literal}%", "limit": limit},
    ).all()
    return [{"type": "building", "layer": "buildings", "code": r[0], "name": r[1] or r[0], "name_en": None,
             "grid_code": r[2], "households": r[5], "residents": r[6], "bbox": [r[3], r[4], r[3], r[4]]}
            for r in rows]


def search_stations(conn: Connection, query: str, *, as_of: dt.date, limit: int) -> list[dict[str, Any]]:
    """Stations whose name or code contains ``query``."""
    query = query.strip()
    if not query:
        return []
    literal = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        text(f"SELECT code, name, name_en, kind, ST_X(geom), ST_Y(geom) FROM stations WHERE {AS_OF} "
             "AND (name LIKE :pattern ESCAPE '\\' OR lower(name_en) LIKE :pattern_en ESCAPE '\\' "
             "OR code LIKE :prefix ESCAPE '\\') ORDER BY code LIMIT :limit"),
        {"as_of": as_of, "pattern": f"%{literal}%", "pattern_en": f"%{literal.lower()}%", "prefix": f"{literal}%",
         "limit": limit},
    ).all()
    return [{"type": "station", "layer": "stations", "code": r[0], "name": r[1], "name_en": r[2], "kind": r[3],
             "bbox": [r[4], r[5], r[4], r[5]]} for r in rows]
