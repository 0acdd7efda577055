"""Layer styles, load classes and station symbols of the planner page (one place for Python and JS).

The page's script receives these tables in its configuration, so the legend, the colours of the
communities and the station icons cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from geo import vocabulary
from geo.domain import StationKind

# Community workers: more than 18 per 10,000 residents (国办发〔2021〕56号), i.e. at most ~556 residents each.
WORKERS_PER_10K = vocabulary.NORM_WORKERS_PER_10K
RESIDENTS_PER_WORKER_NORM = vocabulary.RESIDENTS_PER_WORKER_NORM
LIFE_CIRCLE_RADII_M = (300, 500, 1000)  # 5/10/15-minute life circles (GB 50180-2018)


@dataclass(frozen=True)
class LoadClass:
    """A band of residents per community worker, with its colour and label key."""

    key: str
    upper: float  # exclusive upper bound of residents per worker (inf for the last band)
    color: str


# The classes of the load ratio (geo.vocabulary), in residents per worker at the norm: the band 80–120 %
# is exactly the two middle classes, so the map and the balancer agree on who is within it.
LOAD_CLASSES: tuple[LoadClass, ...] = tuple(
    LoadClass(c.key, c.upper * RESIDENTS_PER_WORKER_NORM, c.color) for c in vocabulary.ratio_classes())
NO_WORKERS = LoadClass("load_no_workers", math.nan, "#bdbdbd")


def residents_per_worker(residents: float, workers: float | None) -> float | None:
    """The community's load: residents per community worker, None without workers."""
    if not workers or workers <= 0:
        return None
    return residents / workers


def load_class(load: float | None) -> LoadClass:
    """The band a load (residents per worker) falls in."""
    if load is None or math.isnan(load):
        return NO_WORKERS
    for band in LOAD_CLASSES:
        if load < band.upper:
            return band
    return LOAD_CLASSES[-1]


@dataclass(frozen=True)
class StationStyle:
    """How one kind of station is drawn: colour and a one-glyph badge per language."""

    color: str
    glyph_zh: str
    glyph_en: str


STATION_STYLES: dict[str, StationStyle] = {
    StationKind.party_service_center: StationStyle("#c62828", "党", "P"),
    StationKind.new_employment_station: StationStyle("#ef6c00", "驿", "E"),
    StationKind.volunteer_station: StationStyle("#2e7d32", "志", "V"),
    StationKind.health_station: StationStyle("#1565c0", "卫", "H"),
    StationKind.grid_service_point: StationStyle("#6a1b9a", "网", "G"),
    StationKind.elderly_care_station: StationStyle("#795548", "老", "A"),
}
UNKNOWN_STATION = StationStyle("#546e7a", "站", "S")

# Leaflet path options per layer.
UNIT_STYLES: dict[str, dict[str, Any]] = {
    "subdistricts": {"color": "#263238", "weight": 2.5, "fill": False, "opacity": 0.9},
    "communities": {"color": "#ffffff", "weight": 1, "fillOpacity": 0.6, "opacity": 0.9},
    "grids": {"color": "#37474f", "weight": 0.8, "dashArray": "3 3", "fill": False, "opacity": 0.8},
    "selected": {"color": "#00b8d4", "weight": 4, "fill": False},
    "grid_picked": {"color": "#0091ea", "weight": 2, "fillColor": "#40c4ff", "fillOpacity": 0.45},
    "drawn": {"color": "#d500f9", "weight": 2, "fillOpacity": 0.15},
    "territory": {"color": "#aa00ff", "weight": 1, "fillColor": "#aa00ff", "fillOpacity": 0.35},
    "after": {"color": "#0d47a1", "weight": 3, "dashArray": "8 6", "fill": False},
    "created": {"color": "#1b7837", "weight": 3, "fillColor": "#b8e186", "fillOpacity": 0.45},
    "retired": {"color": "#616161", "weight": 2, "dashArray": "2 6", "fillColor": "#9e9e9e", "fillOpacity": 0.4},
    "pending": {"color": "#7b1fa2", "weight": 2, "dashArray": "4 4", "fillColor": "#ce93d8",
                "fillOpacity": 0.3},
    "building": {"radius": 3, "color": "#4e342e", "weight": 0.5, "fillColor": "#8d6e63", "fillOpacity": 0.8},
    "nearest_line": {"color": "#00796b", "weight": 2, "dashArray": "6 4"},
}
RING_COLORS = ("#00897b", "#f9a825", "#e65100")


def style_config() -> dict[str, Any]:
    """Everything the page's script needs to draw and explain the layers (JSON-safe)."""
    return {
        "loadClasses": [{"key": c.key, "upper": None if math.isinf(c.upper) else c.upper, "color": c.color}
                        for c in LOAD_CLASSES],
        "noWorkers": {"key": NO_WORKERS.key, "color": NO_WORKERS.color},
        "residentsPerWorkerNorm": round(RESIDENTS_PER_WORKER_NORM, 1),
        "tolerance": vocabulary.TOLERANCE,
        "villageBand": {"min": 300, "max": 500},  # households per village grid (POST /grid-splits default)
        "stations": {str(kind): asdict(style) for kind, style in STATION_STYLES.items()},
        "unknownStation": asdict(UNKNOWN_STATION),
        "units": UNIT_STYLES,
        "rings": [{"radius": r, "color": c} for r, c in zip(LIFE_CIRCLE_RADII_M, RING_COLORS, strict=True)],
    }
