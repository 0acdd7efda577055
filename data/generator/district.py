"""Generation of one district: grids, communities, sub-districts, buildings and stations.

Everything is laid out in the district's UTM frame; the grids go back to WGS84 once, on the output
precision grid, and every parent is the coverage union of its children there, so that the children tile
their parent exactly. Random streams are split per stage so each stage is reproducible on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import shapely
from numpy.typing import NDArray

from data.generator.layout import (
    Community,
    balanced_seats,
    community_adjacency,
    partition_communities,
    partition_subdistricts,
)
from data.generator.names import (
    BASHI,
    CAIHONG,
    CENTRAL_STREETS,
    LIDA,
    MACAOJING,
    NANJIAO,
    STORY_HOMES,
    SUBDISTRICTS,
    CommunityNamer,
    community_name,
)
from data.generator.outline import MetricFrame
from data.generator.placement import interior_points
from data.generator.population import Buildings, allocate_workers, generate_buildings
from data.generator.regions import reading_order
from data.generator.seeds import DensityField, relaxed_seeds
from data.generator.stations import Station, plan_stations
from data.generator.tessellation import shared_edges, voronoi_grids

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

GRIDS_PER_DISTRICT = 2_500
RESIDENTS_TARGET = (765_000, 785_000)
# Mean households per building: high-rise blocks in the old centre, smaller blocks in the other streets
# and town seats, courtyards (院落) of a few households in the villages.
HOUSEHOLDS_PER_BUILDING = {"central": 24.0, "street": 14.0, "seat": 8.0, "village": 2.3}


@dataclass(frozen=True)
class DistrictSpec:
    """What to generate: the district's code, names, outline (WGS84), centre and random seed."""

    code: str
    name: str
    name_en: str
    outline: shapely.MultiPolygon
    centre: tuple[float, float]
    real_outline: bool
    entropy: tuple[int, ...]


@dataclass(frozen=True)
class District:
    """A generated district in WGS84: grids, communities and stations with everything needed to write."""

    spec: DistrictSpec
    grids: NDArray[np.object_]  # WGS84 polygons on the precision grid, indexed like the layout
    grid_codes: list[str]
    grid_names: list[tuple[str, str]]
    communities: list[Community]
    workers: IntArray
    buildings: Buildings
    building_points: NDArray[np.object_]
    building_codes: list[str]
    stations: list[Station]
    station_points: NDArray[np.object_]


def _assign_story(
    communities: list[Community], adjacency: dict[tuple[int, int], float], rng: np.random.Generator
) -> None:
    """Pick 利达 (Nanjiao's neighbour along the longest edge) and the homes of 马槽井, 彩虹 and 把士."""
    nanjiao = next(i for i, c in enumerate(communities) if c.role == NANJIAO[0])
    huaxi = communities[nanjiao].subdistrict
    shared = {
        (j if i == nanjiao else i): length
        for (i, j), length in adjacency.items()
        if nanjiao in (i, j) and communities[j if i == nanjiao else i].subdistrict == huaxi
    }
    lida = max(sorted(shared), key=lambda k: shared[k])
    communities[lida].role = LIDA[0]
    seq_index = {s.seq: k for k, s in enumerate(SUBDISTRICTS)}
    for stem, kind in ((MACAOJING, "urban"), (CAIHONG, "urban"), (BASHI, "village")):
        home = seq_index[STORY_HOMES[stem]]
        pool = [i for i, c in enumerate(communities) if c.subdistrict == home and c.kind == kind and not c.role]
        communities[pool[int(rng.integers(len(pool)))]].role = stem[0]


def _code_and_name(
    spec: DistrictSpec, communities: list[Community], xy: FloatArray, area: FloatArray, rng: np.random.Generator
) -> list[Community]:
    """Code communities (urban 001.., villages 201.., in reading order), name them, order their grids.

    Grids are put in reading order (north to south in rows of about one grid, west to east), which is
    the order of their codes.
    """
    story = {s[0]: s for s in (NANJIAO, LIDA, MACAOJING, CAIHONG, BASHI)}
    seats = {s.short: s.pinyin for s in SUBDISTRICTS if s.kind == "town"}
    namer = CommunityNamer(rng, reserved=set(story) | set(seats))
    ordered: list[Community] = []
    for k, sub in enumerate(SUBDISTRICTS):
        for kind, first, band in (("urban", 1, 1_500.0), ("village", 201, 4_000.0)):
            members = [c for c in communities if c.subdistrict == k and c.kind == kind]
            if not members:
                continue
            centres = np.array([xy[c.grids].mean(axis=0) for c in members])
            for n, idx in enumerate(reading_order(centres, band).tolist()):
                c = members[idx]
                c.code = f"{spec.code}{sub.seq}{first + n:03d}"
                if c.role:
                    c.stem, c.stem_en = story[c.role]
                elif c.seat:
                    c.stem, c.stem_en = sub.short, seats[sub.short]
                else:
                    c.stem, c.stem_en = namer.draw(kind)
                c.name, c.name_en = community_name(c.stem, c.stem_en, kind)
                grid_band = float(np.sqrt(np.median(area[c.grids])))
                c.grids = c.grids[reading_order(xy[c.grids], grid_band)]
                ordered.append(c)
    return ordered


def _coded_buildings(buildings: Buildings, grid_codes: list[str]) -> tuple[Buildings, list[str]]:
    """Sort buildings by grid code, then north to south in 60 m rows, west to east; code them grid + 4 digits."""
    rank = np.empty(len(grid_codes), dtype=np.int64)
    rank[np.argsort(np.array(grid_codes), kind="stable")] = np.arange(len(grid_codes))
    grid_rank = rank[buildings.grid]
    order = np.lexsort((buildings.xy[:, 0], np.floor(-buildings.xy[:, 1] / 60.0), grid_rank))
    ordered = Buildings(**{f.name: getattr(buildings, f.name)[order] for f in fields(Buildings)})
    sorted_rank = grid_rank[order]
    sequence = np.arange(len(order)) - np.searchsorted(sorted_rank, sorted_rank)
    codes = [f"{grid_codes[g]}{s + 1:04d}" for g, s in zip(ordered.grid.tolist(), sequence.tolist(), strict=True)]
    return ordered, codes


def _centre_grids(communities: list[Community], xy: FloatArray) -> list[int]:
    """For each community, its grid nearest to the community's mean grid centre (home of its centre)."""
    result = []
    for c in communities:
        centre = xy[c.grids].mean(axis=0)
        result.append(int(c.grids[np.argmin(np.hypot(*(xy[c.grids] - centre).T))]))
    return result


def _grid_layout(
    spec: DistrictSpec, frame: MetricFrame, rng_seats: np.random.Generator, rng_grids: np.random.Generator
) -> tuple[NDArray[np.object_], DensityField, FloatArray]:
    """Grids (metric polygons) tiling the outline, the density field behind them and the seats."""
    outline = frame.to_metric(spec.outline)
    centre = frame.xy_to_metric(*spec.centre)
    rural = np.array([s.kind != "street" for s in SUBDISTRICTS])
    seats = centre + np.array([s.anchor_km for s in SUBDISTRICTS]) * 1_000.0
    seats[rural] = balanced_seats(seats[rural], outline, centre, rng_seats)
    strength = np.array([1.0 if s.kind == "town" else 0.6 for s in SUBDISTRICTS])[rural]
    field = DensityField.create(centre, seats[rural], strength, rng_grids)
    seeds, integral = relaxed_seeds(field, outline, GRIDS_PER_DISTRICT, rng_grids)
    expected_area = integral / (GRIDS_PER_DISTRICT * field.density(seeds[:, 0], seeds[:, 1]))
    return voronoi_grids(seeds, outline, expected_area), field, seats


def _grid_labels(communities: list[Community], n_grids: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Code (community code + 3 digits) and names (南郊社区第3网格 / Nanjiao Community Grid 3) of each grid."""
    codes = [""] * n_grids
    names = [("", "")] * n_grids
    for c in communities:
        for n, g in enumerate(c.grids.tolist(), start=1):
            codes[g] = f"{c.code}{n:03d}"
            names[g] = (f"{c.name}第{n}网格", f"{c.name_en} Grid {n}")
    return codes, names


def _housing(communities: list[Community], n_grids: int) -> tuple[NDArray[np.bool_], FloatArray]:
    """Which grids are urban, and the mean households per building of each grid."""
    urban = np.zeros(n_grids, dtype=bool)
    profile = np.full(n_grids, HOUSEHOLDS_PER_BUILDING["village"])
    for c in communities:
        if c.kind == "urban":
            urban[c.grids] = True
            central = SUBDISTRICTS[c.subdistrict].seq in CENTRAL_STREETS
            profile[c.grids] = HOUSEHOLDS_PER_BUILDING["seat" if c.seat else "central" if central else "street"]
    return urban, profile


def generate_district(spec: DistrictSpec) -> District:
    """Generate one district (see the module docstring)."""
    rng_seats, rng_grids, rng_regions, rng_names, rng_people, rng_stations = (
        np.random.default_rng(s) for s in np.random.SeedSequence(spec.entropy).spawn(6)
    )
    frame = MetricFrame(*spec.centre)
    grids_m, field, seats = _grid_layout(spec, frame, rng_seats, rng_grids)
    edges = shared_edges(grids_m)
    neighbours = edges.neighbours()
    xy = shapely.get_coordinates(shapely.centroid(grids_m))
    urban_zone = field.urban_factor(xy[:, 0], xy[:, 1]) < 1.0
    subdistrict_of_grid, seat_grids = partition_subdistricts(neighbours, xy, urban_zone, seats)
    communities = partition_communities(neighbours, xy, subdistrict_of_grid, seat_grids, rng_regions)
    _assign_story(communities, community_adjacency(communities, edges), rng_names)
    communities = _code_and_name(spec, communities, xy, shapely.area(grids_m), rng_names)
    grid_codes, grid_names = _grid_labels(communities, len(grids_m))

    urban_grid, profile = _housing(communities, len(grids_m))
    target = int(rng_people.integers(*RESIDENTS_TARGET))
    buildings = generate_buildings(grids_m, urban_grid, profile, target, rng_people)
    buildings, building_codes = _coded_buildings(buildings, grid_codes)
    community_of_grid = np.zeros(len(grids_m), dtype=np.int64)
    for i, c in enumerate(communities):
        community_of_grid[c.grids] = i
    residents = np.bincount(community_of_grid[buildings.grid], buildings.residents, minlength=len(communities))
    roles = {c.role: i for i, c in enumerate(communities) if c.role}
    is_urban = np.array([c.kind == "urban" for c in communities])
    workers = allocate_workers(residents.astype(np.int64), is_urban, roles[NANJIAO[0]], roles[LIDA[0]], rng_people)

    stations = plan_stations(communities, residents, _centre_grids(communities, xy), rng_stations)
    station_grids = grids_m[[s.grid for s in stations]]
    station_xy = interior_points(station_grids, np.ones(len(stations), dtype=np.int64), rng_stations, 10.0)
    return District(
        spec=spec,
        grids=frame.to_wgs84(grids_m),
        grid_codes=grid_codes,
        grid_names=grid_names,
        communities=communities,
        workers=workers,
        buildings=buildings,
        building_points=frame.points_to_wgs84(buildings.xy),
        building_codes=building_codes,
        stations=stations,
        station_points=frame.points_to_wgs84(station_xy),
    )
