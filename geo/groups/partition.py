"""Grouping a community's buildings into residents' groups (居民小组) within a household band.

Groups are made by recursive coordinate bisection: the buildings are cut across their longer side
at the point that leaves each half a share of the households in proportion to the groups it must
hold, until each part is one group. Parts of a bisection are compact (short, fat boxes) and, for
buildings spread over a community, contiguous: no other group's building lies between two of a
group's (checked on the Delaunay graph of the buildings by :func:`contiguous`).

The number of groups is the one whose mean size is nearest the middle of the band among the numbers
that can keep every group within it; a building with more households than the band's top is a group
of its own.

Re-proposing after a boundary change (:func:`repropose`) keeps every existing group whose buildings
all still belong to the community and whose size is still within the band, and groups only the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from geo.errors import InvalidInput
from geo.vocabulary import GROUP_MAX_HOUSEHOLDS, GROUP_MIN_HOUSEHOLDS


@dataclass(frozen=True)
class GroupBand:
    """Households per residents' group (default from geo.vocabulary)."""

    min_households: int = GROUP_MIN_HOUSEHOLDS
    max_households: int = GROUP_MAX_HOUSEHOLDS

    def __post_init__(self) -> None:
        if not (0 < self.min_households <= self.max_households):
            raise InvalidInput(f"the household band of a residents' group must have 0 < min <= max, not "
                               f"{self.min_households}–{self.max_households}", field="min_households")

    def holds(self, households: int) -> bool:
        return self.min_households <= households <= self.max_households


def group_count(households: int, band: GroupBand) -> int:
    """How many groups: mean size nearest the band's middle, among counts that can keep all within it."""
    if households <= 0:
        return 1
    fewest = max(1, math.ceil(households / band.max_households))
    most = max(fewest, households // band.min_households)
    middle = (band.min_households + band.max_households) / 2
    return min(range(fewest, most + 1), key=lambda k: (abs(households / k - middle), k))


def bisect(x: np.ndarray, y: np.ndarray, weight: np.ndarray, k: int) -> list[np.ndarray]:
    """Indices of ``k`` compact parts with weights as even as the buildings allow."""
    index = np.arange(len(x))
    out: list[np.ndarray] = []
    stack = [(index, k)]
    while stack:
        part, n = stack.pop()
        if n <= 1 or len(part) <= 1:
            out.append(part)
            continue
        px, py = x[part], y[part]
        # Longer side in metres (a degree of longitude is shorter by cos(latitude)).
        wide = (px.max() - px.min()) * math.cos(math.radians(float(py.mean()))) >= py.max() - py.min()
        key = px if wide else py
        order = part[np.lexsort((py if wide else px, key))]
        left_n = n // 2
        cum = np.cumsum(weight[order])
        cut = int(np.argmin(np.abs(cum[:-1] - cum[-1] * left_n / n))) + 1  # nearest the share of left_n groups
        stack.append((order[cut:], n - left_n))
        stack.append((order[:cut], left_n))
    return out


def contiguous(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per label, whether its buildings are connected in the Delaunay graph of all the buildings."""
    labels = np.asarray(labels)
    unique = np.unique(labels)
    if len(points) < 3:
        return np.ones(len(unique), dtype=bool)
    tri = shapely.delaunay_triangles(shapely.multipoints(points), only_edges=True)
    edges = shapely.get_coordinates(shapely.get_parts(tri)).reshape(-1, 2, 2)
    lookup = {(round(float(px), 9), round(float(py), 9)): i for i, (px, py) in enumerate(points)}
    pairs = [(lookup.get((round(float(a[0]), 9), round(float(a[1]), 9))),
              lookup.get((round(float(b[0]), 9), round(float(b[1]), 9)))) for a, b in edges]
    out = []
    for label in unique:
        members = set(np.flatnonzero(labels == label).tolist())
        seen, todo = set(), [next(iter(members))]
        adj: dict[int, list[int]] = {}
        for i, j in pairs:
            if i in members and j in members:
                adj.setdefault(i, []).append(j)
                adj.setdefault(j, []).append(i)
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo.extend(adj.get(node, []))
        out.append(seen == members or len({tuple(points[m]) for m in members}) == 1)
    return np.array(out, dtype=bool)


@dataclass
class Group:
    """A proposed residents' group: its buildings and sizes, and the code it keeps (None = new)."""

    building_codes: tuple[str, ...]
    households: int
    residents: int
    code: str | None = None
    kept: bool = False


def propose(codes: Sequence[str], x: np.ndarray, y: np.ndarray, households: np.ndarray, residents: np.ndarray,
            band: GroupBand) -> list[Group]:
    """Group the buildings (codes with lon/lat and sizes) afresh."""
    households = np.asarray(households, dtype=np.int64)
    residents = np.asarray(residents, dtype=np.int64)
    if not len(codes):
        return []
    big = households > band.max_households
    out = [Group((codes[int(i)],), int(households[i]), int(residents[i])) for i in np.flatnonzero(big)]
    rest = np.flatnonzero(~big)
    if len(rest):
        k = min(len(rest), group_count(int(households[rest].sum()), band))
        parts = [rest[p] for p in bisect(np.asarray(x)[rest], np.asarray(y)[rest], households[rest].astype(float), k)]
        parts = _split_big(parts, np.asarray(x), np.asarray(y), households, band)
        for members in _merge_small(parts, np.asarray(x), np.asarray(y), households, band):
            out.append(Group(tuple(codes[int(i)] for i in members), int(households[members].sum()),
                             int(residents[members].sum())))
    return out


def _split_big(parts: list[np.ndarray], x: np.ndarray, y: np.ndarray, households: np.ndarray,
               band: GroupBand) -> list[np.ndarray]:
    """Cut again every group above the band (uneven buildings can leave one there)."""
    out: list[np.ndarray] = []
    for part in parts:
        size = int(households[part].sum())
        if size <= band.max_households or len(part) < 2:
            out.append(part)
            continue
        k = min(len(part), math.ceil(size / band.max_households))
        out += [part[p] for p in bisect(x[part], y[part], households[part].astype(float), k)]
    return out


def _merge_small(parts: list[np.ndarray], x: np.ndarray, y: np.ndarray, households: np.ndarray,
                 band: GroupBand) -> list[np.ndarray]:
    """Join a group below the band to its nearest neighbour group when the two together stay within it."""
    parts = list(parts)
    while True:
        sizes = [int(households[p].sum()) for p in parts]
        small = [i for i, s in enumerate(sizes) if s < band.min_households]
        centres = np.array([(x[p].mean(), y[p].mean()) for p in parts])
        done = True
        for i in small:
            gaps = np.hypot(*(centres - centres[i]).T)
            gaps[i] = np.inf
            for j in np.argsort(gaps)[:3]:
                if np.isfinite(gaps[j]) and sizes[i] + sizes[j] <= band.max_households:
                    parts[j] = np.concatenate([parts[j], parts[i]])
                    del parts[i]
                    done = False
                    break
            if not done:
                break
        if done:
            return parts


def repropose(codes: Sequence[str], x: np.ndarray, y: np.ndarray, households: np.ndarray, residents: np.ndarray,
              band: GroupBand, existing: Mapping[str, Sequence[str]]) -> list[Group]:
    """Keep every existing group (code → building codes) still whole and within the band; group the rest."""
    position = {c: i for i, c in enumerate(codes)}
    households = np.asarray(households, dtype=np.int64)
    residents = np.asarray(residents, dtype=np.int64)
    kept: list[Group] = []
    taken: set[str] = set()
    for code, members in sorted(existing.items()):
        if not members or any(m not in position for m in members):
            continue
        idx = [position[m] for m in members]
        size = int(households[idx].sum())
        if band.holds(size) or (len(idx) == 1 and size > band.max_households):
            kept.append(Group(tuple(members), size, int(residents[idx].sum()), code=code, kept=True))
            taken.update(members)
    rest = [i for i, c in enumerate(codes) if c not in taken]
    fresh = propose([codes[i] for i in rest], np.asarray(x)[rest], np.asarray(y)[rest], households[rest],
                    residents[rest], band) if rest else []
    return kept + fresh
