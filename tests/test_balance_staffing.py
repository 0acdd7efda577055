"""Staffing: the greedy allocation of new workers against an exhaustive search on small cases."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from geo.balance.load import LoadOptions
from geo.balance.staffing import allocate
from geo.errors import InvalidInput


def table(residents: list[int], workers: list[int], kinds: list[str] | None = None) -> pd.DataFrame:
    n = len(residents)
    return pd.DataFrame({
        "code": [f"52049900100{i}" for i in range(n)], "name": [f"社区{i}" for i in range(n)],
        "kind": kinds or ["urban"] * n, "subdistrict_code": ["520499001"] * n, "residents": residents,
        "workload": [float(r) for r in residents], "workers": workers,
    })


def worst(residents: list[int], workers: list[int], norms: list[float]) -> float:
    return max(r * n / 10_000 / w if w else (np.inf if r else 0.0)
               for r, w, n in zip(residents, workers, norms, strict=True))


def exhaustive(residents: list[int], workers: list[int], new: int, norms: list[float],
               room: list[int]) -> float:
    best = np.inf
    for split in itertools.product(*(range(min(new, r) + 1) for r in room)):
        if sum(split) != min(new, sum(min(new, r) for r in room)):
            continue
        best = min(best, worst(residents, [w + s for w, s in zip(workers, split, strict=True)], norms))
    return best


CASES = [
    ([11567, 2067, 5137, 4500], [7, 5, 4, 9], 6),
    ([900, 120, 1800, 640, 0], [1, 1, 2, 0, 1], 5),
    ([3000, 3000, 3000], [1, 2, 3], 7),
]


@pytest.mark.parametrize(("residents", "workers", "new"), CASES)
def test_greedy_matches_the_exhaustive_minimum_of_the_worst_load(residents: list[int], workers: list[int],
                                                                 new: int) -> None:
    result = allocate(table(residents, workers), new)
    assert result.allocated == new
    after = result.communities.set_index("code").loc[table(residents, workers)["code"], "workers_after"].tolist()
    assert sum(after) == sum(workers) + new
    norms = [18.0] * len(residents)
    assert worst(residents, after, norms) == pytest.approx(exhaustive(residents, workers, new, norms,
                                                                      [new] * len(residents)))


def test_caps_and_village_norms_are_respected_and_still_optimal() -> None:
    residents, workers = [11567, 2067, 5137, 900], [7, 5, 4, 1]
    kinds = ["urban", "urban", "urban", "village"]
    t = table(residents, workers, kinds)
    options = LoadOptions(village_norm=12.0)
    caps = {t["code"][0]: 9}  # Nanjiao may have at most 9 workers: 2 new
    result = allocate(t, 6, options=options, caps=caps, max_new=3)
    after = result.communities.set_index("code").loc[t["code"], "workers_after"].tolist()
    added = [a - w for a, w in zip(after, workers, strict=True)]
    assert after[0] <= 9 and max(added) <= 3 and sum(added) == 6
    norms = [18.0, 18.0, 18.0, 12.0]
    room = [2, 3, 3, 3]
    assert worst(residents, after, norms) == pytest.approx(exhaustive(residents, workers, 6, norms, room))


def test_workers_left_over_when_every_community_is_capped() -> None:
    t = table([1000, 2000], [1, 1])
    result = allocate(t, 10, max_new=2)
    assert result.allocated == 4 and result.summary["unallocated"] == 6


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"new_workers": -1}, "new_workers"),
    ({"new_workers": 3, "caps": {"999": 1}}, "caps"),
    ({"new_workers": 3, "max_new": -2}, "max_new_per_community"),
])
def test_bad_input_is_refused_with_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        allocate(table([100, 200], [1, 1]), **kwargs)
    assert err.value.field == field
