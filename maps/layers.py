"""Map layers served by viewport: unit coverages simplified per zoom level, buildings as heat or points.

Each level's current units are read once per (date, change-log stamp) and kept in memory with an
STR-tree; a request answers only the features meeting its box. At low zooms the whole level is
simplified *as a coverage* with :func:`shapely.coverage_simplify` (the shared edges of neighbours are
simplified once, so neighbours stay edge-matched: no gaps or overlaps appear on screen), with a
tolerance of about one screen pixel at that zoom, and coordinates are rounded to a fraction of a
pixel. Buildings are binned into a heat grid below :data:`BUILDING_POINTS_ZOOM` and sent as points
above it. Any write appends to the change log, which changes the stamp and so refreshes the cache.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection, text

from geo.store import AS_OF
from maps.styles import residents_per_worker

BBox = tuple[float, float, float, float]

UNIT_LAYERS: dict[str, str] = {"subdistricts": "subdistrict", "communities": "community", "grids": "grid"}
LAYER_IDS: tuple[str, ...] = (*UNIT_LAYERS, "buildings")
FULL_DETAIL_ZOOM = 16  # from here on geometries are sent as stored
MIN_ZOOM, MAX_ZOOM = 4, 20
GRIDS_MIN_ZOOM = 12  # the page shows grids from this zoom on
BUILDING_POINTS_ZOOM = 15  # buildings as points from this zoom on, as a heat grid below it
MAX_BUILDING_POINTS = 6000  # more points than this in the box: answer with the heat grid instead
HEAT_CELL_PIXELS = 4
# What the building heat map can weigh: residents, or one of the groups that weigh on workload.
HEAT_WEIGHTS: tuple[str, ...] = ("residents", "elderly", "children", "special_care")
SIMPLIFY_PIXELS = 1.0
TOTAL_FIELDS = ("residents", "households", "buildings", "workers", "elderly", "children", "special_care")


def pixel_degrees(zoom: int) -> float:
    """Degrees of longitude covered by one 256-px-tile pixel at ``zoom`` (Web Mercator)."""
    return cast(float, 360.0 / (256 * 2**zoom))


def tolerance_for_zoom(zoom: int) -> float | None:
    """The coverage-simplification tolerance (degrees) for ``zoom``; None = no simplification."""
    if zoom >= FULL_DETAIL_ZOOM:
        return None
    return SIMPLIFY_PIXELS * pixel_degrees(zoom)


def decimals_for_zoom(zoom: int) -> int:
    """Decimal places that keep coordinates within a quarter pixel at ``zoom`` (4 to 7)."""
    return max(4, min(7, math.ceil(-math.log10(pixel_degrees(zoom) / 4))))


def clamp_zoom(zoom: int) -> int:
    """``zoom`` within the zooms the layers are prepared for."""
    return max(MIN_ZOOM, min(MAX_ZOOM, zoom))


def _rounded(geoms: NDArray[Any], decimals: int) -> NDArray[Any]:
    return cast(NDArray[Any], shapely.transform(geoms, lambda coords: np.round(coords, decimals)))


def _clean(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def feature_collection(geometries: list[str], properties: list[dict[str, Any]], **members: Any) -> bytes:
    """A GeoJSON FeatureCollection from GeoJSON geometry strings and property dicts, as UTF-8 bytes."""
    feats = [
        '{"type":"Feature","id":' + json.dumps(p.get("code")) + ',"geometry":' + g + ',"properties":'
        + json.dumps(p, ensure_ascii=False, separators=(",", ":")) + "}"
        for g, p in zip(geometries, properties, strict=True)
    ]
    head = json.dumps({"type": "FeatureCollection", **members}, ensure_ascii=False, separators=(",", ":"))
    return (head[:-1] + ',"features":[' + ",".join(feats) + "]}").encode("utf-8")


@dataclass
class UnitLayer:
    """The current units of one level with their totals, indexed for box queries."""

    layer: str
    properties: list[dict[str, Any]]
    geoms: NDArray[Any]
    tree: shapely.STRtree = field(init=False)
    _simplified: dict[int, NDArray[Any]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.geoms)

    def geometries(self, zoom: int, *, simplify: bool = True) -> NDArray[Any]:
        """Every geometry of the level for ``zoom``: coverage-simplified and rounded (cached per zoom)."""
        zoom = clamp_zoom(zoom)
        tolerance = tolerance_for_zoom(zoom) if simplify else None
        key = zoom if tolerance is not None else -decimals_for_zoom(zoom)
        with self._lock:
            if key not in self._simplified:
                geoms = self.geoms if tolerance is None else shapely.coverage_simplify(self.geoms, tolerance)
                self._simplified[key] = _rounded(geoms, decimals_for_zoom(zoom))
            return self._simplified[key]

    def indices(self, bbox: BBox | None) -> NDArray[np.intp]:
        """Indices of the units meeting ``bbox`` (all when None), in code order."""
        if bbox is None:
            return np.arange(len(self.geoms))
        return np.sort(self.tree.query(shapely.box(*bbox), predicate="intersects"))

    def query(self, bbox: BBox | None, zoom: int, *, simplify: bool = True) -> bytes:
        """The units meeting ``bbox`` as GeoJSON for display at ``zoom``."""
        idx = self.indices(bbox)
        geoms = self.geometries(zoom, simplify=simplify)[idx]
        tolerance = tolerance_for_zoom(clamp_zoom(zoom)) if simplify else None
        return feature_collection(
            [str(g) for g in shapely.to_geojson(geoms)], [self.properties[i] for i in idx],
            layer=self.layer, zoom=zoom, numberMatched=int(len(idx)),
            simplified=tolerance is not None, tolerance_deg=tolerance,
        )

    def bounds_of(self, index: int) -> list[float]:
        """[minx, miny, maxx, maxy] of one unit."""
        return [float(v) for v in shapely.bounds(self.geoms[index])]


def read_unit_layer(conn: Connection, layer: str, as_of: dt.date, totals: pd.DataFrame) -> UnitLayer:
    """The units of ``layer`` valid on ``as_of`` with their totals and load (residents per worker)."""
    rows = conn.execute(
        text(f"SELECT code, name, name_en, kind, parent_code, ST_AsBinary(geom) FROM units "
             f"WHERE level = :level AND {AS_OF} ORDER BY code"),
        {"level": UNIT_LAYERS[layer], "as_of": as_of},
    ).all()
    codes = [r[0] for r in rows]
    table = totals.reindex(codes).fillna(0)
    properties = []
    for row, (_, sums) in zip(rows, table.iterrows(), strict=True):
        props: dict[str, Any] = {"code": row[0], "name": row[1], "name_en": row[2], "kind": row[3],
                                 "parent_code": row[4]}
        props.update({k: _clean(sums[k]) for k in TOTAL_FIELDS if k in sums.index})
        load = residents_per_worker(props.get("residents", 0), props.get("workers"))
        props["load"] = None if load is None else round(load, 1)
        properties.append(props)
    geoms = np.asarray(shapely.from_wkb([bytes(r[5]) for r in rows]) if rows else [], dtype=object)
    # Where the page writes the unit's name: a point inside it (centroids can fall outside).
    label_points = shapely.get_coordinates(shapely.point_on_surface(geoms)) if len(geoms) else np.empty((0, 2))
    for props, (x, y) in zip(properties, np.round(label_points, 5).tolist(), strict=True):
        props["label_point"] = [x, y]
    return UnitLayer(layer, properties, geoms)


@dataclass
class BuildingPoints:
    """The current buildings as arrays (code, grid, position, households, residents and groups)."""

    codes: NDArray[Any]
    grid_codes: NDArray[Any]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    households: NDArray[np.int64]
    residents: NDArray[np.int64]
    elderly: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    children: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    special_care: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def weights(self, weight: str) -> NDArray[np.int64]:
        """The count ``weight`` (one of :data:`HEAT_WEIGHTS`) per building (zeros where it is unknown)."""
        if weight not in HEAT_WEIGHTS:
            raise ValueError(f"unknown heat weight {weight!r}")
        values: NDArray[np.int64] = getattr(self, weight)
        return values if len(values) == len(self.codes) else np.zeros(len(self.codes), dtype=np.int64)

    def mask(self, bbox: BBox | None) -> NDArray[np.bool_]:
        """Which buildings lie in ``bbox``."""
        if bbox is None:
            return np.ones(len(self.codes), dtype=bool)
        return (self.lon >= bbox[0]) & (self.lon <= bbox[2]) & (self.lat >= bbox[1]) & (self.lat <= bbox[3])

    def heat(self, bbox: BBox | None, zoom: int, weight: str = "residents") -> dict[str, Any]:
        """``weight`` (residents, elderly…) binned on a fixed grid of cells ``HEAT_CELL_PIXELS`` wide: [lat, lon, n].

        Cells are aligned on the globe, not on the box, so panning never shifts them; each cell's point
        is its residents-weighted centre.
        """
        m = self.mask(bbox)
        lon, lat, counts = self.lon[m], self.lat[m], self.weights(weight)[m].astype(float)
        cell = HEAT_CELL_PIXELS * pixel_degrees(clamp_zoom(zoom))
        points: list[list[float]] = []
        peak = 0.0
        if len(lon):
            keys = np.stack([np.floor(lon / cell), np.floor(lat / cell)], axis=1)
            _, inverse = np.unique(keys, axis=0, return_inverse=True)
            inverse = inverse.ravel()
            sums = np.bincount(inverse, weights=counts)
            w = np.maximum(counts, 1e-9)  # empty buildings still place their cell
            w_sum = np.bincount(inverse, weights=w)
            c_lon = np.bincount(inverse, weights=lon * w) / w_sum
            c_lat = np.bincount(inverse, weights=lat * w) / w_sum
            decimals = decimals_for_zoom(clamp_zoom(zoom))
            points = [[y, x, int(w)] for y, x, w in zip(np.round(c_lat, decimals).tolist(),
                                                        np.round(c_lon, decimals).tolist(), sums.tolist(), strict=True)]
            peak = float(np.quantile(sums, 0.98))
        return {"cell_deg": cell, "max": max(peak, 1.0), "points": points, "buildings": int(m.sum()),
                "weight": weight, "total": int(counts.sum()), "residents": int(self.residents[m].sum())}

    def features(self, bbox: BBox | None, zoom: int) -> tuple[bytes | None, int]:
        """Buildings in ``bbox`` as GeoJSON points (None when more than ``MAX_BUILDING_POINTS``) and their count."""
        idx = np.flatnonzero(self.mask(bbox))
        if len(idx) > MAX_BUILDING_POINTS:
            return None, int(len(idx))
        decimals = decimals_for_zoom(clamp_zoom(zoom))
        geometries = [f'{{"type":"Point","coordinates":[{x:.{decimals}f},{y:.{decimals}f}]}}'
                      for x, y in zip(self.lon[idx], self.lat[idx], strict=True)]
        groups = {k: self.weights(k) for k in HEAT_WEIGHTS[1:]}
        props = [{"code": self.codes[i], "grid_code": self.grid_codes[i], "households": int(self.households[i]),
                  "residents": int(self.residents[i]), **{k: int(v[i]) for k, v in groups.items()}} for i in idx]
        return feature_collection(geometries, props, layer="buildings", mode="points", zoom=zoom,
                                  numberMatched=int(len(idx))), int(len(idx))

    def query(self, bbox: BBox | None, zoom: int, weight: str = "residents") -> bytes:
        """Points from ``BUILDING_POINTS_ZOOM`` on (when few enough), otherwise the heat grid of ``weight``."""
        if zoom >= BUILDING_POINTS_ZOOM:
            body, _ = self.features(bbox, zoom)
            if body is not None:
                return body
        heat = self.heat(bbox, zoom, weight)
        return feature_collection([], [], layer="buildings", mode="heat", zoom=zoom, heat=heat,
                                  numberMatched=heat["buildings"])


def read_buildings(conn: Connection, as_of: dt.date) -> BuildingPoints:
    """The buildings valid on ``as_of``."""
    rows = conn.execute(
        text(f"SELECT code, grid_code, ST_X(geom), ST_Y(geom), households, residents, coalesce(elderly, 0), "
             f"coalesce(children, 0), coalesce(special_care, 0) FROM buildings WHERE {AS_OF} ORDER BY code"),
        {"as_of": as_of},
    ).all()
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 9
    ints = [np.asarray(c, dtype=np.int64) for c in cols[4:]]
    return BuildingPoints(
        np.asarray(cols[0], dtype=object), np.asarray(cols[1], dtype=object),
        np.asarray(cols[2], dtype=float), np.asarray(cols[3], dtype=float), *ints,
    )


def change_stamp(conn: Connection) -> int:
    """The newest change-log id: it grows with every import, apply and revert."""
    return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM change_log")).scalar_one())


T = TypeVar("T")


class LayerCache:
    """Prepared layers per (layer, date, change stamp), least recently used dropped first."""

    def __init__(self, max_entries: int = 24) -> None:
        self._entries: OrderedDict[tuple[str, dt.date, int], Any] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def _get(self, key: tuple[str, dt.date, int], build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return cast(T, self._entries[key])
        with self._build_lock:  # one build at a time: concurrent first requests wait instead of repeating it
            with self._lock:
                if key in self._entries:
                    return cast(T, self._entries[key])
            value = build()
            with self._lock:
                self._entries[key] = value
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
            return value

    def units(self, conn: Connection, layer: str, as_of: dt.date, totals: Callable[[], pd.DataFrame]) -> UnitLayer:
        """The prepared units of ``layer`` on ``as_of`` (``totals`` is called only when building)."""
        key = (layer, as_of, change_stamp(conn))
        return self._get(key, lambda: read_unit_layer(conn, layer, as_of, totals()))

    def buildings(self, conn: Connection, as_of: dt.date) -> BuildingPoints:
        """The prepared buildings on ``as_of``."""
        key = ("buildings", as_of, change_stamp(conn))
        return self._get(key, lambda: read_buildings(conn, as_of))
