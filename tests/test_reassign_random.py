"""Fifty random valid changes in a row on the Xixiu demo: moves (whole grids or drawn areas), grid
splits and grid merges; the whole database's invariants checked every few changes and at the end
(each apply also verifies what it wrote before it commits)."""

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
CHECK_EVERY = 5  # the whole-database check takes about 1.4 s on the demo


def _neighbour_pairs(engine) -> list[tuple[object, object]]:  # noqa: ANN001
    with engine.connect() as conn:
        communities = read_latest(conn, "units", where_in={"parent_code": URBAN})
    geoms = communities.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="touches")
    return [(communities.iloc[i], communities.iloc[j]) for i, j in zip(left, right, strict=True)
            if i != j and shared_edge_m(geoms[i], geoms[j]) > 50 * MIN_SHARED_EDGE_M]


def _blob(point: Point, radius_m: float, segments: int) -> object:
    """A round polygon of ``radius_m`` around a lon/lat point, drawn in a metric CRS."""
    metric = utm_crs_for(point.x, point.y)
    centre = gpd.GeoSeries([point], crs=4326).to_crs(metric).iloc[0]
    return gpd.GeoSeries([centre.buffer(radius_m, quad_segs=segments)], crs=metric).to_crs(4326).iloc[0]


def _reshape_request(engine, rng: random.Random, day: dt.date, a) -> ProposalRequest:  # noqa: ANN001
    """A split of one of A's grids (a round part inside it) or a merge of two adjacent grids of A."""
    with engine.connect() as conn:
        grids = read_latest(conn, "units", where_in={"parent_code": [a["code"]]})
    grid = grids.iloc[rng.randrange(len(grids))]
    if rng.random() < 0.5:
        part = _blob(grid.geometry.representative_point(), rng.uniform(40, 150), rng.choice([3, 8]))
        return ProposalRequest(kind="split", from_code=grid["code"], to_code=None, effective_date=day,
                               author="random", parts=(part,))
    beside = [c for c, g in zip(grids["code"], grids.geometry, strict=True)
              if c != grid["code"] and shared_edge_m(g, grid.geometry) > MIN_SHARED_EDGE_M]
    if not beside:
        raise InvalidInput("no adjacent grid to merge")
    gone = rng.choice(beside)
    return ProposalRequest(kind="merge", from_code=gone, to_code=grid["code"], effective_date=day, author="random",
                           merge_codes=(gone,))


def _random_request(engine, rng: random.Random, day: dt.date) -> ProposalRequest:  # noqa: ANN001
    a, b = rng.choice(_neighbour_pairs(engine))
    if rng.random() < 0.2:
        return _reshape_request(engine, rng, day, a)
    if rng.random() < 0.4:  # a whole grid of A along the shared edge
        with engine.connect() as conn:
            grids = read_latest(conn, "units", where_in={"parent_code": [a["code"]]})
        edge = grids[grids.geometry.apply(lambda g: shared_edge_m(g, b.geometry) > MIN_SHARED_EDGE_M)]
        pick = edge if len(edge) else grids
        return ProposalRequest(from_code=a["code"], to_code=b["code"], effective_date=day, author="random",
                               child_codes=(rng.choice(list(pick["code"])),))
    # a round shape drawn across the shared edge
    touching = shapely.get_parts(shapely.intersection(a.geometry.boundary, b.geometry.boundary))
    lines = shapely.MultiLineString([g for g in touching if g.geom_type == "LineString"])  # not points they touch at
    edge = max(shapely.get_parts(shapely.line_merge(lines)), key=lambda g: g.length)
    point = edge.interpolate(rng.random(), normalized=True)
    area = _blob(Point(point.x, point.y), rng.uniform(60, 300), rng.choice([3, 8, 16]))
    return ProposalRequest(from_code=a["code"], to_code=b["code"], effective_date=day, author="random", area=area)


def test_fifty_random_changes_keep_every_invariant(demo_db_url: str) -> None:
    engine = make_engine(demo_db_url)
    rng = random.Random(2025)
    day, applied, refused = dt.date(2025, 1, 1), 0, 0
    kinds: dict[str, int] = {}
    since_check: list[ProposalRequest] = []
    while applied < MOVES:
        day += dt.timedelta(days=1)
        try:
            request = _random_request(engine, rng, day)
            pid = create_proposal(engine, request)
        except InvalidInput:  # e.g. the move would empty A: refused, nothing written
            refused += 1
            assert refused < MOVES, "too many refusals: the generator of changes is broken"
            continue
        apply_proposal(engine, pid, author="random")
        applied += 1
        kinds[request.kind] = kinds.get(request.kind, 0) + 1
        since_check.append(request)
        if applied % CHECK_EVERY == 0 or applied == MOVES:
            report = check_database(engine, as_of=day)
            assert report.ok, f"after changes {applied - len(since_check) + 1}–{applied} ({since_check}):\n" + \
                "\n".join(report.lines())
            since_check = []
    assert set(kinds) == {"move", "split", "merge"}, kinds
