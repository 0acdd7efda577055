"""The interchange format: three layers, units, buildings and stations.

They come as a GeoPackage, a folder of GeoJSON files or Shapefiles, or CSV (WKT or lon/lat columns
for points).

This module only names the layers and their columns; reading, validating and loading live in
:mod:`geo.io` (files), :mod:`geo.validate` (problems) and :mod:`geo.importer` (database).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerSpec:
    """Columns of one interchange layer."""

    name: str
    geometry_types: frozenset[str]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    integer_fields: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


UNITS = LayerSpec(
    name="units",
    geometry_types=frozenset({"Polygon", "MultiPolygon"}),
    required=("code", "name", "level"),
    # parent_code is required for every level but the district (checked by validation).
    optional=("parent_code", "kind", "name_en", "workers", "synthetic"),
    integer_fields=("workers",),
)

BUILDINGS = LayerSpec(
    name="buildings",
    geometry_types=frozenset({"Point"}),
    required=("code", "households", "residents"),
    # grid_code is derived from the geometry on import; when given it must agree.
    optional=("elderly", "children", "special_care", "address", "grid_code", "synthetic"),
    integer_fields=("households", "residents", "elderly", "children", "special_care"),
)

STATIONS = LayerSpec(
    name="stations",
    geometry_types=frozenset({"Point"}),
    required=("code", "name", "kind"),
    # community_code is derived from the geometry on import when absent.
    optional=("name_en", "capacity", "community_code", "synthetic"),
    integer_fields=("capacity",),
)

LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in (UNITS, BUILDINGS, STATIONS)}
