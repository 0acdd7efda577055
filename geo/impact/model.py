"""The impact report of a boundary change: one pydantic model, rendered as JSON, HTML, PDF and CSV.

The model is the documented JSON schema of ``GET /proposals/{id}/impact``. Texts meant for people
(headline, boundary description, warnings) carry both languages (:class:`Text`); the renderers pick
one. Distances are geodesic metres on the WGS84 ellipsoid, areas geodesic km² or m².
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo.impact.events import EventsImpact

SCHEMA_VERSION = "1"

# new: a unit the change creates (a split's new grid); retired: a unit a merge retires.
Role = Literal["from", "to", "from_ancestor", "to_ancestor", "new", "retired"]
Kind = Literal["move", "split", "merge"]
Direction = Literal["north", "east", "south", "west"]
Severity = Literal["error", "warning", "info"]
# A value outside a norm: understaffed (more residents per worker than the norm allows), no_workers,
# grids_small / grids_large (households per grid outside the band), not_contiguous, empty (no residents).
Flag = Literal["understaffed", "no_workers", "grids_small", "grids_large", "not_contiguous", "empty"]

# Walking minutes of the life circles of GB 50180-2018, for the default radii.
LIFE_CIRCLE_MINUTES = {300: 5, 500: 10, 1000: 15}


class Text(BaseModel):
    """A text in Chinese and in English."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``zh`` or ``en``)."""
        return self.en if lang == "en" else self.zh


class Norms(BaseModel):
    """The norms a report judges against (DOMAIN.md); all configurable."""

    model_config = ConfigDict(frozen=True)

    workers_per_10k: float = Field(default=18.0, gt=0, le=1000,
                                   description="Community workers per 10,000 residents (国办发〔2021〕56号).")
    grid_households_min: int = Field(default=300, ge=0, description="Lower end of the households-per-grid band.")
    grid_households_max: int = Field(default=500, gt=0, description="Upper end of the households-per-grid band.")
    life_circles_m: tuple[int, ...] = Field(default=(300, 500, 1000), min_length=1, max_length=6,
                                            description="Life-circle radii in metres (5/10/15 minutes).")

    @field_validator("life_circles_m")
    @classmethod
    def _radii(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(r <= 0 or r > 50_000 for r in value):
            raise ValueError("life-circle radii must be between 1 and 50,000 m")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _band(self) -> Norms:
        if self.grid_households_min >= self.grid_households_max:
            raise ValueError("grid_households_min must be below grid_households_max")
        return self

    @property
    def residents_per_worker(self) -> float:
        """The most residents one worker should serve (about 556 at 18 per 10,000)."""
        return 10_000.0 / self.workers_per_10k

    def workers_needed(self, residents: int) -> int:
        """Workers the norm asks for ``residents``."""
        return math.ceil(residents * self.workers_per_10k / 10_000 - 1e-9)


class UnitRef(BaseModel):
    """A unit (or a station's responsible community) by code and name."""

    code: str
    name: str
    name_en: str | None = None


class ProposalInfo(BaseModel):
    """What the proposal is and where it stands."""

    id: int
    status: Literal["draft", "applied", "reverted", "cancelled"]
    kind: Kind = Field(default="move", description="move: territory of from_unit goes to to_unit; split: grid "
                       "from_unit is cut into new grids; merge: the retired units join to_unit.")
    level: str
    from_unit: UnitRef = Field(description="move: the unit that gives; split: the grid split; merge: the first "
                               "unit merged.")
    to_unit: UnitRef | None = Field(description="move: the unit that receives; merge: the unit that stays; "
                                    "split: None.")
    effective_date: dt.date
    reason: str | None
    document_ref: str | None
    author: str
    created_at: str | None
    applied_change_id: int | None
    reverted_change_id: int | None
    drawn_area: bool = Field(description="True when the territory was drawn; false when whole child units move.")


class MovedFigures(BaseModel):
    """What moves: the territory's geodesic area and the sums over the moved buildings."""

    area_km2: float
    buildings: int
    households: int
    residents: int
    elderly: int
    children: int
    special_care: int


class SplitUnit(BaseModel):
    """A unit the change cuts in two: the part inside the territory becomes ``new_code`` on B's side."""

    code: str
    name: str
    level: str
    new_code: str
    moved_area_m2: float
    residents_moved: int


class StationMove(BaseModel):
    """A station whose responsible community changes."""

    code: str
    name: str
    name_en: str | None
    kind: str
    community_before: UnitRef
    community_after: UnitRef


class Summary(BaseModel):
    """Section 1: what moves."""

    moved: MovedFigures
    created: list[UnitRef] = Field(default_factory=list, description="Units the change creates (a split's grids).")
    retired: list[UnitRef] = Field(default_factory=list, description="Units the change retires (a merge's).")
    grids_moved_whole: list[UnitRef]
    grids_split: list[SplitUnit] = Field(description="Every unit below the moved level that the change cuts.")
    stations: list[StationMove]


class UnitFigures(BaseModel):
    """One unit's figures on one side of the change, with the norms it breaks (``flags``)."""

    exists: bool = Field(default=True, description="False on the side where the unit does not exist (before a "
                         "split creates it, after a merge retires it): its figures are then zero.")
    residents: int
    households: int
    elderly: int
    children: int
    special_care: int
    buildings: int
    workers: int | None = Field(description="Community workers (summed for sub-districts; None for grids).")
    residents_per_worker: float | None
    workers_needed: int | None = Field(description="Workers the norm asks for these residents.")
    grids: int
    households_per_grid: float | None
    grids_below_band: int
    grids_above_band: int
    empty_grids: int
    area_km2: float
    parts: int
    contiguous: bool
    compactness: float = Field(description="Polsby-Popper 4πA/P² (geodesic): 1 for a circle.")
    flags: list[Flag]


class Crossing(BaseModel):
    """A norm the change breaks (``new``) or mends (``resolved``) for a unit."""

    flag: Flag
    change: Literal["new", "resolved"]


class UnitImpact(BaseModel):
    """Section 2: one changed unit (A, B, an ancestor the change crosses, a new or a retired unit)."""

    code: str
    name: str
    name_en: str | None
    level: str
    kind: str | None = Field(description="street/town/township, urban/village; None for grids.")
    role: Role
    before: UnitFigures
    after: UnitFigures
    crossings: list[Crossing]


class Median(BaseModel):
    """District medians over the units of one level and kind, before the change, for comparison."""

    level: str
    kind: str | None
    units_counted: int
    residents: float
    households: float
    workers: float | None
    residents_per_worker: float | None
    grids: float
    households_per_grid: float | None
    area_km2: float
    compactness: float


class DistanceStats(BaseModel):
    """Resident-weighted distances (m) of moved buildings to their community's party service centre."""

    mean_m: float | None
    median_m: float | None
    p90_m: float | None
    max_m: float | None
    residents: int = Field(description="Moved residents with a centre (the weights).")
    residents_without_centre: int


class LifeCircle(BaseModel):
    """Share of moved residents living within ``radius_m`` of their centre, before and after."""

    radius_m: int
    minutes: int | None
    residents_before: int
    share_before: float
    residents_after: int
    share_after: float


class CentreUse(BaseModel):
    """The centre that serves moved buildings of one community, before or after the change."""

    side: Literal["before", "after"]
    community: UnitRef
    centre_code: str | None
    centre_name: str | None
    centre_name_en: str | None
    lon: float | None
    lat: float | None
    buildings: int
    residents: int


class StationUse(BaseModel):
    """A station that is the nearest of its kind for some moved buildings."""

    code: str
    name: str
    name_en: str | None
    community_code: str
    buildings: int
    residents: int


class NearestKind(BaseModel):
    """Nearest station of one kind to the moved buildings (does not change with the boundary)."""

    kind: str
    label: Text
    mean_m: float | None
    median_m: float | None
    max_m: float | None
    stations: list[StationUse]


class Access(BaseModel):
    """Section 3: access to services for the residents who move."""

    centres: list[CentreUse]
    before: DistanceStats
    after: DistanceStats
    life_circles: list[LifeCircle]
    nearest: list[NearestKind]


class AffectedBuilding(BaseModel):
    """Section 5: one moved building, for notifying its residents."""

    code: str
    address: str | None
    households: int
    residents: int
    elderly: int
    children: int
    special_care: int
    lon: float
    lat: float
    community_before: UnitRef
    community_after: UnitRef
    grid_before: UnitRef
    grid_after: UnitRef
    distance_before_m: float | None = Field(description="To the party service centre of the community before.")
    distance_after_m: float | None = Field(description="To the party service centre of the community after.")


class Neighbour(BaseModel):
    """A neighbour along one side, with the geodesic length of boundary shared on that side."""

    code: str | None = Field(description="None for the district's outer boundary.")
    name: str
    name_en: str | None
    length_m: float


class Side(BaseModel):
    """What lies to one side of a unit."""

    direction: Direction
    neighbours: list[Neighbour]


class UnitBoundary(BaseModel):
    """A changed unit's neighbours after the change, by side."""

    code: str
    name: str
    sides: list[Side]
    text: Text


class BoundaryEnd(BaseModel):
    """One end of the new A/B boundary and the units meeting there."""

    direction: str = Field(description="Compass point of this end seen from the boundary's middle (8 points).")
    lon: float
    lat: float
    junction: list[UnitRef] = Field(description="Other units meeting A and B here; empty at the district edge.")


class SharedBoundary(BaseModel):
    """The boundary between two units (A and B of a move), before and after."""

    a: UnitRef | None = Field(default=None, description="One of the two units.")
    b: UnitRef | None = Field(default=None, description="The other.")
    length_before_m: float
    length_after_m: float
    pieces: int
    ends: list[BoundaryEnd]
    text: Text


class Boundary(BaseModel):
    """Section 6: the new boundary in words."""

    units: list[UnitBoundary]
    shared: SharedBoundary | None = Field(description="A move: the boundary between A and B; None otherwise.")
    lines: list[SharedBoundary] = Field(
        default_factory=list, description="A split: the new lines between the grid and its new grids; a merge: the "
        "lines that disappear between the unit that stays and the retired ones.")


class ImpactWarning(BaseModel):
    """Section 7: an invariant or norm issue."""

    code: str
    severity: Severity
    unit_code: str | None
    message: Text


class MapData(BaseModel):
    """Geometries for the maps (GeoJSON, EPSG:4326, coordinates rounded to 1e-6°)."""

    bbox: tuple[float, float, float, float]
    territory: dict[str, Any] = Field(description="GeoJSON geometry of the moved territory.")
    before: dict[str, Any] = Field(description="FeatureCollection: the changed units (and their grids) before; "
                                   "property role: from, to, new, retired or grid_of_<role>.")
    after: dict[str, Any] = Field(description="FeatureCollection: the changed units (and their grids) after.")
    context: dict[str, Any] = Field(description="FeatureCollection: neighbouring units of the same level.")
    centres: dict[str, Any] = Field(description="FeatureCollection: party service centres of the changed units.")


class ImpactReport(BaseModel):
    """Everything a boundary change does, computed once; every form of the report renders this."""

    schema_version: str = SCHEMA_VERSION
    generated_at: dt.datetime
    basis: Literal["live_preview", "recorded_change"] = Field(
        description="live_preview: a draft computed against the current map; recorded_change: an applied (or "
                    "reverted) proposal, from the unit versions before and after its change.")
    database_change: int = Field(
        default=0, description="The state of the database the report was computed from: the newest change-log id "
        "then. A recorded change's report regenerates the same from any later state; a draft's is live.")
    synthetic_data: bool = Field(description="True when any unit involved is synthetic (the demo dataset).")
    proposal: ProposalInfo
    stale: list[str] = Field(description="For a draft: units that changed since it was made.")
    norms: Norms
    headline: Text
    summary: Summary
    units: list[UnitImpact]
    medians: list[Median]
    access: Access
    households: list[AffectedBuilding]
    boundary: Boundary
    warnings: list[ImpactWarning]
    preview_warnings: list[Text] = Field(description="The reassignment preview's own warnings.")
    map: MapData
    residents_groups: list[dict[str, Any]] = Field(default_factory=list, description=(
        "居民小组调整: per community losing buildings, its stored residents' groups unchanged, moving whole "
        "or split (geo.impact.groups)."))
    events: EventsImpact | None = Field(default=None, description="Events in the moved area (geo/impact/events.py).")
