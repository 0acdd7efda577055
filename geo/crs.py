"""Coordinate systems: GCJ-02 <-> WGS84, reprojection of input layers, and metric measures.

GCJ-02 ("Mars coordinates", used by AMap/Gaode and Tencent) is an obfuscated offset of WGS84 that
no EPSG code describes, so pyproj cannot convert it. The forward offset is the published formula;
the inverse is computed by fixed-point iteration to millimetre level. Everything is vectorised with
numpy so that whole layers convert at once (the small PyPI packages for this are scalar-only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Geod
from pyproj.exceptions import CRSError

from geo.errors import InvalidInput

WGS84 = CRS.from_epsg(4326)
GEOD = Geod(ellps="WGS84")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared


def _offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shift WGS84 lon/lat to GCJ-02 (the forward, published formula)."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lon, d_lat = _offset(lon_a, lat_a)
    return lon_a + d_lon, lat_a + d_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert GCJ-02 to WGS84 by fixed-point iteration (error well under 1 mm after a few steps)."""
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(30):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if max(np.max(np.abs(e_lon), initial=0.0), np.max(np.abs(e_lat), initial=0.0)) < 1e-10:
            break
    return w_lon, w_lat


def _transform_geometries(geoms: Any, func: Any) -> Any:
    def apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, apply)


def geometries_gcj02_to_wgs84(geoms: Any) -> Any:
    """Convert shapely geometries (a scalar or an array) from GCJ-02 to WGS84."""
    return _transform_geometries(geoms, gcj02_to_wgs84)


def geometries_wgs84_to_gcj02(geoms: Any) -> Any:
    """Convert shapely geometries (a scalar or an array) from WGS84 to GCJ-02 (for AMap basemaps)."""
    return _transform_geometries(geoms, wgs84_to_gcj02)


def parse_crs(value: str, *, field: str) -> CRS:
    """A CRS from anything pyproj understands (``EPSG:4490``, WKT, PROJ); unknown input names ``field``."""
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise InvalidInput(f"unknown CRS {value!r}: {exc}", field=field) from exc


def to_wgs84(geom: Any, crs: str, *, field: str = "area_crs") -> Any:
    """A geometry given in ``crs`` (any CRS pyproj knows, or GCJ-02 for AMap) in EPSG:4326 lon/lat."""
    name = crs.strip().upper()
    if name in ("GCJ-02", "GCJ02"):
        return geometries_gcj02_to_wgs84(geom)
    if name in ("EPSG:4326", "EPSG:4490", "CRS84", "OGC:CRS84"):  # CGCS2000 is WGS84 within centimetres
        return geom
    from pyproj import Transformer

    transformer = Transformer.from_crs(parse_crs(crs, field=field), 4326, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS containing a point: a metric CRS for local areas and overlays."""
    zone = int((lon + 180.0) // 6.0) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def geodesic_area_m2(geom: Any) -> float:
    """Area of a lon/lat (multi)polygon on the WGS84 ellipsoid, in square metres."""
    if geom is None or geom.is_empty:
        return 0.0
    area, _ = GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


def geodesic_distance_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Any:
    """Geodesic distance(s) on the WGS84 ellipsoid, in metres."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return dist
