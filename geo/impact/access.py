"""Section 3: access to services for the residents who move.

Each moved building is measured (geodesic, pyproj.Geod on WGS84) to the party service centre of the
community it belongs to before the change and after it. Statistics are weighted by residents: a
building of 60 people counts 60 times. The weighted median and 90th percentile are the
inverted-CDF quantiles (the smallest distance within which at least that share of residents live),
i.e. ``numpy.percentile(np.repeat(d, residents), q, method="inverted_cdf")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.crs import GEOD
from geo.domain import StationKind
from geo.impact.model import (
    LIFE_CIRCLE_MINUTES,
    Access,
    CentreUse,
    DistanceStats,
    LifeCircle,
    NearestKind,
    Norms,
    StationUse,
    Text,
    UnitRef,
)
from geo.impact.state import State
from geo.nearest import EARTH_EQUATORIAL_M, M_PER_DEG_LAT, nearest_batch
from geo.nulls import optional_text

CENTRE = StationKind.party_service_center.value
KIND_LABELS: dict[str, tuple[str, str]] = {
    "party_service_center": ("党群服务中心", "Party and public service centre"),
    "new_employment_station": ("新就业群体服务驿站", "New-employment workers' station"),
    "volunteer_station": ("志愿服务站", "Volunteer station"),
    "health_station": ("社区卫生服务站", "Community health station"),
    "grid_service_point": ("网格服务点", "Grid service point"),
    "elderly_care_station": ("养老服务站", "Elderly care station"),
}
NEAREST_MARGIN_M = 3000.0  # stations are first sought within this distance of the moved buildings' box


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float | None:
    """The smallest value v such that the weights of values <= v reach ``q`` of the total (inverted CDF)."""
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if not len(values):
        return None
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, q * cumulative[-1] - 1e-9, side="left"))
    return float(values[order][min(index, len(values) - 1)])


def distance_stats(distances: np.ndarray, residents: np.ndarray) -> DistanceStats:
    """Resident-weighted mean, median, 90th percentile and maximum; NaN distances mean no centre."""
    has = ~np.isnan(distances)
    d, w = distances[has], residents[has]
    people = int(w.sum())
    without = int(residents[~has].sum())
    if people == 0:
        return DistanceStats(mean_m=None, median_m=None, p90_m=None, max_m=None, residents=0,
                             residents_without_centre=without)
    return DistanceStats(
        mean_m=round(float(np.average(d, weights=w)), 1),
        median_m=_round(weighted_quantile(d, w, 0.5)), p90_m=_round(weighted_quantile(d, w, 0.9)),
        max_m=round(float(d[w > 0].max()), 1), residents=people, residents_without_centre=without,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def centre_distances(state: State, buildings: pd.DataFrame, community_column: str,
                     side: str) -> tuple[np.ndarray, list[CentreUse]]:
    """Distance from each building to the nearest party service centre of its community in ``state``."""
    communities = sorted(set(buildings[community_column]))
    stations = state.read("stations", where_in={"community_code": communities, "kind": [CENTRE]})
    names = state.read("units", where_in={"code": communities}).set_index("code")
    lon, lat = buildings["lon"].to_numpy(), buildings["lat"].to_numpy()
    distances = np.full(len(buildings), np.nan)
    chosen = np.full(len(buildings), None, dtype=object)
    for _, centre in stations.sort_values("code").iterrows():
        mine = (buildings[community_column] == centre["community_code"]).to_numpy()
        if not mine.any():
            continue
        _, _, d = GEOD.inv(lon[mine], lat[mine], np.full(mine.sum(), centre.geometry.x),
                           np.full(mine.sum(), centre.geometry.y))
        current = distances[mine]
        better = np.isnan(current) | (d < current)
        current[better] = d[better]
        distances[mine] = current
        picked = chosen[mine]
        picked[better] = centre["code"]
        chosen[mine] = picked
    by_code = stations.set_index("code") if not stations.empty else None
    uses = []
    for community in communities:
        mine = (buildings[community_column] == community).to_numpy()
        codes = sorted({c for c in chosen[mine] if c is not None})
        centre = by_code.loc[codes[0]] if codes and by_code is not None else None
        unit = names.loc[community] if community in names.index else None
        uses.append(CentreUse(
            side=side,  # type: ignore[arg-type]
            community=UnitRef(code=community, name=str(unit["name"]) if unit is not None else community,
                              name_en=optional_text(unit["name_en"]) if unit is not None else None),
            centre_code=codes[0] if codes else None,
            centre_name=str(centre["name"]) if centre is not None else None,
            centre_name_en=optional_text(centre["name_en"]) if centre is not None else None,
            lon=float(centre.geometry.x) if centre is not None else None,
            lat=float(centre.geometry.y) if centre is not None else None,
            buildings=int(mine.sum()), residents=int(buildings.loc[mine, "residents"].sum()),
        ))
    return distances, uses


def life_circles(before: np.ndarray, after: np.ndarray, residents: np.ndarray, norms: Norms) -> list[LifeCircle]:
    """Share of moved residents within each radius of their centre, before and after."""
    total = int(residents.sum())
    out = []
    for radius in norms.life_circles_m:
        within_before = int(residents[np.nan_to_num(before, nan=np.inf) <= radius].sum())
        within_after = int(residents[np.nan_to_num(after, nan=np.inf) <= radius].sum())
        out.append(LifeCircle(
            radius_m=radius, minutes=LIFE_CIRCLE_MINUTES.get(radius),
            residents_before=within_before, share_before=round(within_before / total, 4) if total else 0.0,
            residents_after=within_after, share_after=round(within_after / total, 4) if total else 0.0,
        ))
    return out


def _box(lon: np.ndarray, lat: np.ndarray, margin_m: float) -> tuple[float, float, float, float]:
    d_lat = margin_m / M_PER_DEG_LAT * 1.01
    top = min(89.0, float(np.max(np.abs(lat))) + d_lat)
    d_lon = margin_m / (math.pi / 180 * EARTH_EQUATORIAL_M * math.cos(math.radians(top))) * 1.01
    return (float(lon.min()) - d_lon, float(lat.min()) - d_lat, float(lon.max()) + d_lon, float(lat.max()) + d_lat)


def _rows(stations: pd.DataFrame) -> list[tuple[object, ...]]:
    """Stations as the rows :func:`geo.nearest.nearest_batch` takes."""
    return [(s.code, s.name, s.name_en, s.kind, s.capacity, s.community_code, None, s.geometry.x, s.geometry.y)
            for s in stations.itertuples()]


def nearest_by_kind(state: State, buildings: pd.DataFrame, kinds: Sequence[str] | None = None) -> list[NearestKind]:
    """For each station kind, the nearest station of that kind to each moved building (exact).

    Stations are read within a margin around the buildings; a kind whose nearest station lies
    beyond the margin for some building (or has none inside it) is read again without the box.
    """
    if buildings.empty:
        return []
    lon, lat = buildings["lon"].to_numpy(), buildings["lat"].to_numpy()
    weights = buildings["residents"].to_numpy()
    near = state.read("stations", bbox=_box(lon, lat, NEAREST_MARGIN_M))
    wanted = list(kinds) if kinds is not None else list(KIND_LABELS)
    out = []
    for kind in wanted:
        candidates = near[near["kind"] == kind]
        found = nearest_batch(_rows(candidates), lon, lat, k=1) if not candidates.empty else [[]]
        if candidates.empty or any(not f or f[0].distance_m > NEAREST_MARGIN_M for f in found):
            candidates = state.read("stations", where_in={"kind": [kind]})
            if candidates.empty:
                continue
            found = nearest_batch(_rows(candidates), lon, lat, k=1)
        distances = np.array([f[0].distance_m for f in found])
        codes = [f[0].code for f in found]
        use = pd.DataFrame({"code": codes, "residents": weights}).groupby("code").agg(
            buildings=("residents", "size"), residents=("residents", "sum"))
        info = candidates.set_index("code")
        stations = [StationUse(code=str(c), name=str(info.loc[c, "name"]),
                               name_en=optional_text(info.loc[c, "name_en"]),
                               community_code=str(info.loc[c, "community_code"]), buildings=int(r.buildings),
                               residents=int(r.residents))
                    for c, r in use.sort_values(["residents", "buildings"], ascending=False).iterrows()]
        stats = distance_stats(distances, weights)
        zh, en = KIND_LABELS.get(kind, (kind, kind))
        out.append(NearestKind(kind=kind, label=Text(zh=zh, en=en), mean_m=stats.mean_m, median_m=stats.median_m,
                               max_m=stats.max_m, stations=stations))
    return out


def access_section(before: State, after: State, buildings: pd.DataFrame, norms: Norms) -> tuple[Access, np.ndarray,
                                                                                                np.ndarray]:
    """Access figures, and each building's distance to its centre before and after (NaN: no centre)."""
    d_before, uses_before = centre_distances(before, buildings, "community_before", "before")
    d_after, uses_after = centre_distances(after, buildings, "community_after", "after")
    residents = buildings["residents"].to_numpy()
    access = Access(
        centres=uses_before + uses_after,
        before=distance_stats(d_before, residents), after=distance_stats(d_after, residents),
        life_circles=life_circles(d_before, d_after, residents, norms),
        nearest=nearest_by_kind(before, buildings),
    )
    return access, d_before, d_after
