"""The district outline and the metric frame in which a district is laid out.

The outline is the only real geometry: it is read from ``data/source/520402.gcj02.geojson`` (GCJ-02, see
data/README.md) and converted to WGS84 here, so nothing at run time needs cnmaps. Layout happens in the
UTM zone of the district; everything goes back to EPSG:4326 once, onto one precision grid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, cast

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import shape

from geo.crs import WGS84, geometries_gcj02_to_wgs84, utm_crs_for

SOURCE = Path(__file__).resolve().parent.parent / "source" / "520402.gcj02.geojson"
CITY_CENTRE = (105.94, 26.25)  # Anshun city centre, lon/lat (about 26°15'N, 105°56'E)
PRECISION = 1e-7  # degrees (about 1 cm): the one grid every output coordinate is rounded to


@cache
def xixiu_outline() -> shapely.MultiPolygon:
    """The real outline of Xixiu District in WGS84 (converted from the GCJ-02 source)."""
    raw = shape(json.loads(SOURCE.read_text(encoding="utf-8")))
    converted = geometries_gcj02_to_wgs84(raw)
    if converted.geom_type == "Polygon":
        converted = shapely.MultiPolygon([converted])
    return shapely.make_valid(converted)


def to_precision(geoms: Any) -> Any:
    """Round every vertex to the output grid, pointwise, so that shared vertices stay shared."""
    return shapely.remove_repeated_points(shapely.set_precision(geoms, PRECISION, mode="pointwise"))


@dataclass(frozen=True)
class MetricFrame:
    """The UTM frame of one district: forward/back transforms for geometries and coordinates."""

    lon: float
    lat: float

    @cached_property
    def _forward(self) -> Transformer:
        return Transformer.from_crs(WGS84, utm_crs_for(self.lon, self.lat), always_xy=True)

    @cached_property
    def _back(self) -> Transformer:
        return Transformer.from_crs(utm_crs_for(self.lon, self.lat), WGS84, always_xy=True)

    def to_metric(self, geoms: Any) -> Any:
        """WGS84 geometries to the metric frame."""
        return shapely.transform(geoms, lambda c: np.column_stack(self._forward.transform(c[:, 0], c[:, 1])))

    def to_wgs84(self, geoms: Any) -> Any:
        """Metric geometries back to WGS84, rounded to the output precision grid."""
        back = shapely.transform(geoms, lambda c: np.column_stack(self._back.transform(c[:, 0], c[:, 1])))
        return to_precision(back)

    def xy_to_metric(self, lon: float, lat: float) -> NDArray[np.float64]:
        """One lon/lat pair to metric x, y."""
        x, y = self._forward.transform(lon, lat)
        return np.array([x, y], dtype=float)

    def points_to_wgs84(self, xy: NDArray[np.float64]) -> NDArray[np.object_]:
        """Metric coordinates (n, 2) to WGS84 points on the output precision grid."""
        lon, lat = self._back.transform(xy[:, 0], xy[:, 1])
        return cast(NDArray[np.object_], to_precision(shapely.points(lon, lat)))
