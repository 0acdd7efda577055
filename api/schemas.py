"""Response models: the documented shapes of the API (also used by tests to validate bodies)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class UnitRef(BaseModel):
    """A unit as named in answers."""

    code: str = Field(examples=["520402006001"])
    name: str = Field(examples=["南郊社区"])
    name_en: str | None = Field(default=None, examples=["Nanjiao Community"])
    level: Literal["district", "subdistrict", "community", "grid"]


class LocateResponse(BaseModel):
    """The units containing a point, one per level, top down."""

    lon: float
    lat: float
    as_of: str = Field(description="The day the answer is valid for (YYYY-MM-DD).")
    units: list[UnitRef]
    district: UnitRef | None = None
    subdistrict: UnitRef | None = None
    community: UnitRef | None = None
    grid: UnitRef | None = None


class StationProperties(BaseModel):
    """Properties of a station in a nearest-station answer."""

    code: str
    name: str
    name_en: str | None
    kind: str
    capacity: int | None
    community_code: str
    community_name: str | None
    distance_m: float = Field(description="Geodesic distance on the WGS84 ellipsoid, metres.")
    rank: int


class GeoJSONPoint(BaseModel):
    """A GeoJSON point."""

    type: Literal["Point"]
    coordinates: list[float]


class StationFeature(BaseModel):
    """A GeoJSON feature of a station."""

    type: Literal["Feature"]
    id: str
    geometry: GeoJSONPoint
    properties: StationProperties


class NearestResponse(BaseModel):
    """Stations sorted by distance from the query point."""

    type: Literal["FeatureCollection"]
    query: dict[str, Any]
    features: list[StationFeature]


class BatchPoint(BaseModel):
    """One query point of a batch."""

    lon: float
    lat: float
    id: str | None = Field(default=None, description="Your identifier, echoed back.")


class BatchRequest(BaseModel):
    """Many points, each answered like GET /stations/nearest."""

    points: list[BatchPoint] = Field(examples=[[{"lon": 105.9437, "lat": 26.2455, "id": "a"}]])
    k: int = Field(default=3, ge=1, le=100)
    kind: list[str] | None = None
    max_distance_m: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    datetime: str | None = None


class BatchAnswer(BaseModel):
    """The nearest stations of one batch point."""

    index: int
    id: str | None
    lon: float
    lat: float
    stations: list[StationProperties]


class BatchResponse(BaseModel):
    """Answers in the order of the points."""

    results: list[BatchAnswer]
