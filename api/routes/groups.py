"""Residents' groups (居民小组): list per community as of a date, re-propose and store, the groups in a box."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.deps import EngineDep, ReadEngineDep
from api.params import AsOfDep, parse_bbox
from api.security import PlannerDep, ReaderDep
from geo import store
from geo.domain import Level
from geo.errors import InvalidInput
from geo.groups import GroupBand, export_groups, propose_groups, read_groups, store_groups
from geo.vocabulary import GROUP_MAX_HOUSEHOLDS, GROUP_MIN_HOUSEHOLDS

router = APIRouter(tags=["residents' groups"])

MAX_COMMUNITIES_IN_BOX = 12  # the map asks at high zoom only; a wide box is refused rather than slow
CSV_COLUMNS = ["code", "community_code", "name", "households", "residents", "leader", "version", "valid_from",
               "building_codes"]


def _band(min_households: int, max_households: int) -> GroupBand:
    if min_households > max_households:
        raise InvalidInput(f"min_households {min_households} is above max_households {max_households}",
                           field="min_households")
    return GroupBand(min_households, max_households)


MinH = Annotated[int, Query(ge=1, le=10_000, description="Fewest households of a group.")]
MaxH = Annotated[int, Query(ge=1, le=10_000, description="Most households of a group.")]


def _feature(community: str, group: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in group.items() if k not in ("geometry", "building_codes")}
    return {"type": "Feature", "geometry": group["geometry"], "properties": {**props, "community_code": community}}


@router.get("/communities/{code}/groups", response_model=None, summary="A community's residents' groups")
def community_groups(code: str, engine: ReadEngineDep, as_of: AsOfDep, _: ReaderDep,
                     min_households: MinH = GROUP_MIN_HOUSEHOLDS, max_households: MaxH = GROUP_MAX_HOUSEHOLDS,
                     format: Annotated[str, Query(pattern="^(json|geojson|csv)$")] = "json") -> Response:
    """The stored groups valid on the date (``stored`` true), or, if none are stored, a proposal.

    Each group: code, name (第N居民小组), households, residents, buildings, leader slot, whether it is
    contiguous and whole, and its outline (the hull of its buildings).
    """
    with engine.connect() as conn:
        result = read_groups(conn, code, as_of=as_of, band=_band(min_households, max_households))
    if format == "geojson":
        meta = {k: v for k, v in result.as_dict().items() if k != "groups"}
        features = [_feature(code, g) for g in result.groups]
        return JSONResponse({"type": "FeatureCollection", **meta, "features": features})
    if format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for g in result.groups:
            writer.writerow({**g, "community_code": code, "building_codes": ";".join(g["building_codes"])})
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse(result.as_dict())


class ReproposeRequest(BaseModel):
    """When the new grouping takes effect, the household band, and whether to store it."""

    effective_date: dt.date | None = Field(default=None, description="Default today.")
    min_households: int = Field(default=GROUP_MIN_HOUSEHOLDS, ge=1, le=10_000)
    max_households: int = Field(default=GROUP_MAX_HOUSEHOLDS, ge=1, le=10_000)
    store: bool = Field(default=True, description="Store it (else only the proposal is returned).")


@router.post("/communities/{code}/groups", response_model=None,
             summary="Re-propose (and store) a community's groups")
def repropose_groups(code: str, body: ReproposeRequest, engine: EngineDep, _: PlannerDep) -> JSONResponse:
    """Keep every current group still whole in the community and within the band; group the rest.

    The answer says how many groups were kept, how many are new and which were retired.
    """
    band = _band(body.min_households, body.max_households)
    day = body.effective_date or dt.date.today()
    if body.store:
        return JSONResponse(store_groups(engine, code, effective_date=day, band=band).as_dict())
    with engine.connect() as conn:
        return JSONResponse(propose_groups(conn, code, as_of=day, band=band).as_dict())


@router.get("/groups", response_model=None, summary="Residents' groups in a box (GeoJSON, for the map at high zoom)")
def groups_in_box(engine: ReadEngineDep, as_of: AsOfDep, _: ReaderDep,
                  bbox: Annotated[str, Query(description="minLon,minLat,maxLon,maxLat")]) -> JSONResponse:
    """The groups (stored, else proposed) of every community meeting the box; at most 12 communities."""
    box = parse_bbox(bbox)
    if box is None:
        raise InvalidInput("bbox is required (minLon,minLat,maxLon,maxLat)", field="bbox")
    with engine.connect() as conn:
        units = store.read_filtered(conn, "units", as_of=as_of, bbox=box)
        communities = sorted(units.loc[units["level"] == Level.community.value, "code"])
        if len(communities) > MAX_COMMUNITIES_IN_BOX:  # a map layer asking too wide: nothing to draw, not an error
            return JSONResponse({"type": "FeatureCollection", "features": [], "communities": [],
                                 "too_wide": {"communities": len(communities), "most": MAX_COMMUNITIES_IN_BOX,
                                              "message": "zoom in to see residents' groups",
                                              "message_zh": "放大地图以显示居民小组"}})
        features = []
        for code in communities:
            features += [_feature(code, g) for g in read_groups(conn, code, as_of=as_of).groups]
    return JSONResponse({"type": "FeatureCollection", "features": features, "communities": communities})


@router.get("/groups.csv", response_model=None, summary="Every stored residents' group as of a date (CSV export)")
def groups_csv(engine: ReadEngineDep, as_of: AsOfDep, _: ReaderDep) -> Response:
    """One row per group valid on the date: code, community, name, households, residents, leader, buildings."""
    with engine.connect() as conn:
        frame = export_groups(conn, as_of=as_of)
    return Response(frame.to_csv(index=False), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="groups-{as_of.isoformat()}.csv"'})
