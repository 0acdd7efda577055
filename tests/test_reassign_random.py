"""Fifty random valid moves in a row on the Xixiu demo, every invariant checked after each."""

from __future__ import annotations

import datetime as dt
import random

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point

from geo.crs import utm_crs_for
from geo.db import make_engine
from geo.errors import InvalidInput
from geo.invariants import check_database
from geo.reassign import ProposalRequest, apply_proposal, create_proposal
from geo.reassign.geometry import MIN_SHARED_EDGE_M, shared_edge_m
from geo.store import read_latest

pytestmark = pytest.mark.slow
URBAN = ["520402001", "520402002", "520402003", "520402004", "520402005", "520402006"]  # city sub-districts
MOVES = 50


def _neighbour_pairs(engine) -> list[tuple[object, object]]:  # noqa: ANN001
    with engine.connect() as conn:
        communities = read_latest(conn, "units", where_in={"parent_code": URBAN})
    geoms = communities.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="touches")
    return [(communities.iloc[i], communities.iloc[j]) for i, j in zip(left, right, strict=True)
            if i != j and shared_edge_m(geoms[i], geoms[j]) > 50 * MIN_SHARED_EDGE_M]


def _random_request(engine, rng: random.Random, day: dt.date) -> ProposalRequest:  # noqa: ANN001
    a, b = rng.choice(_neighbour_pairs(engine))
    if rng.random() < 0.4:  # a whole grid of A along the shared edge
        with engine.connect() as conn:
            grids = read_latest(conn, "units", where_in={"parent_code": [a["code"]]})
        edge = grids[grids.geometry.apply(lambda g: shared_edge_m(g, b.geometry) > MIN_SHARED_EDGE_M)]
        pick = edge if len(edge) else grids
        return ProposalRequest(from_code=a["code"], to_code=b["code"], effective_date=day, author="random",
                               child_codes=(rng.choice(list(pick["code"])),))
    # a round shape drawn across the shared edge
    edge = shapely.intersection(a.geometry.boundary, b.geometry.boundary)
    point = edge.interpolate(rng.random(), normalized=True)
    metric = utm_crs_for(point.x, point.y)
    centre = gpd.GeoSeries([Point(point.x, point.y)], crs=4326).to_crs(metric).iloc[0]
    blob = centre.buffer(rng.uniform(60, 300), quad_segs=rng.choice([3, 8, 16]))
    area = gpd.GeoSeries([blob], crs=metric).to_crs(4326).iloc[0]
    return ProposalRequest(from_code=a["code"], to_code=b["code"], effective_date=day, author="random", area=area)


def test_fifty_random_moves_keep_every_invariant(demo_db_url: str) -> None:
    engine = make_engine(demo_db_url)
    rng = random.Random(2025)
    day, applied, refused = dt.date(2025, 1, 1), 0, 0
    while applied < MOVES:
        day += dt.timedelta(days=1)
        request = _random_request(engine, rng, day)
        try:
            pid = create_proposal(engine, request)
        except InvalidInput:  # e.g. the move would empty A: refused, nothing written
            refused += 1
            assert refused < MOVES, "too many refusals: the generator of moves is broken"
            continue
        apply_proposal(engine, pid, author="random")
        applied += 1
        report = check_database(engine, as_of=day)
        assert report.ok, f"after move {applied} ({request}):\n" + "\n".join(report.lines())
