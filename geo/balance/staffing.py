"""Allocating new community workers so that the worst load is as low as it can be.

The load of a community is its workload per worker against its target (the ratio of
:mod:`geo.balance.load`; with the default weights and one norm it is residents per worker, scaled).
Giving each new worker, one at a time, to the community with the highest load is optimal for the
worst load: the worst after any allocation of N workers is at least the N-th largest of the values
``load(c, w_c + k)``, and greedy attains exactly that (it is the classic min-max apportionment).
A community at its cap (``caps``: most workers in all; ``max_new``: most new ones) takes no more;
if the worst community is capped, the rest still get workers, from the most loaded down.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.balance.load import LoadOptions, flag_of, records
from geo.errors import InvalidInput

MAX_NEW_WORKERS = 100_000


@dataclass
class StaffingResult:
    """New workers per community and the load before and after."""

    new_workers: int
    allocated: int
    communities: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, *, only_allocated: bool = False) -> dict[str, Any]:
        table = self.communities
        if only_allocated:
            table = table[table["new_workers"] > 0]
        return {"new_workers": self.new_workers, "allocated": self.allocated, "summary": self.summary,
                "communities": records(table)}


def _load(workload: float, workers: int, per_worker: float) -> float:
    if workers <= 0:
        return math.inf if workload > 0 else 0.0
    return workload / (workers * per_worker)


def allocate(table: pd.DataFrame, new_workers: int, *, options: LoadOptions | None = None,
             caps: Mapping[str, int] | None = None, max_new: int | None = None) -> StaffingResult:
    """Allocate ``new_workers`` among the communities of ``table`` (a community load table)."""
    options = options or LoadOptions()
    caps = dict(caps or {})
    if not isinstance(new_workers, int) or new_workers < 0:
        raise InvalidInput(f"new_workers must be a whole number of 0 or more, not {new_workers}", field="new_workers")
    if new_workers > MAX_NEW_WORKERS:
        raise InvalidInput(f"new_workers is more than {MAX_NEW_WORKERS:,}", field="new_workers")
    if max_new is not None and max_new < 0:
        raise InvalidInput(f"max_new_per_community must be 0 or more, not {max_new}", field="max_new_per_community")
    unknown = sorted(set(caps) - set(table["code"]))
    if unknown:
        raise InvalidInput(f"caps name communities that are not in scope: {', '.join(unknown)}", field="caps")
    bad = sorted(code for code, cap in caps.items() if cap < 0)
    if bad:
        raise InvalidInput(f"caps must be 0 or more (communities {', '.join(bad)})", field="caps")
    codes = table["code"].tolist()
    workers = table["workers"].to_numpy(dtype=np.int64).copy()
    workload = table["workload"].to_numpy(dtype=float)
    per_worker = np.array([10_000.0 / options.norm_for(k) for k in table["kind"]])
    room = np.full(len(codes), np.iinfo(np.int64).max, dtype=np.int64)
    for i, code in enumerate(codes):
        if code in caps:
            room[i] = max(0, caps[code] - workers[i])
        if max_new is not None:
            room[i] = min(room[i], max_new)
    added = np.zeros(len(codes), dtype=np.int64)
    heap = [(-_load(workload[i], workers[i], per_worker[i]), codes[i], i) for i in range(len(codes)) if room[i] > 0]
    heapq.heapify(heap)
    left = new_workers
    while left and heap:
        _, code, i = heapq.heappop(heap)
        added[i] += 1
        left -= 1
        if added[i] < room[i]:
            heapq.heappush(heap, (-_load(workload[i], workers[i] + added[i], per_worker[i]), code, i))
    return _result(table, options, new_workers, added, per_worker)


def _result(table: pd.DataFrame, options: LoadOptions, new_workers: int, added: np.ndarray,
            per_worker: np.ndarray) -> StaffingResult:
    before = table["workers"].to_numpy(dtype=np.int64)
    after = before + added
    workload = table["workload"].to_numpy(dtype=float)
    out = pd.DataFrame({
        "code": table["code"], "name": table["name"], "kind": table["kind"],
        "subdistrict_code": table["subdistrict_code"], "residents": table["residents"],
        "workload": workload, "workers_before": before, "new_workers": added, "workers_after": after,
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        out["residents_per_worker_before"] = np.where(before > 0, table["residents"] / before, np.nan)
        out["residents_per_worker_after"] = np.where(after > 0, table["residents"] / after, np.nan)
    ratio_before = np.array([_load(w, n, p) for w, n, p in zip(workload, before, per_worker, strict=True)])
    ratio_after = np.array([_load(w, n, p) for w, n, p in zip(workload, after, per_worker, strict=True)])
    out["ratio_before"] = ratio_before
    out["ratio_after"] = ratio_after
    out["flag_before"] = [flag_of(r, w, options.tolerance) for r, w in zip(ratio_before, workload, strict=True)]
    out["flag_after"] = [flag_of(r, w, options.tolerance) for r, w in zip(ratio_after, workload, strict=True)]
    worst = int(np.argmax(ratio_after)) if len(out) else None
    summary: dict[str, Any] = {
        "communities": len(out),
        "worst_ratio_before": _finite(ratio_before.max()) if len(out) else None,
        "worst_ratio_after": _finite(ratio_after.max()) if len(out) else None,
        "worst_after": out["code"].iloc[worst] if worst is not None else None,
        "worst_residents_per_worker_before": _max(out["residents_per_worker_before"]),
        "worst_residents_per_worker_after": _max(out["residents_per_worker_after"]),
        "over_before": int((out["flag_before"] == "over").sum()),
        "over_after": int((out["flag_after"] == "over").sum()),
        "unallocated": int(new_workers - added.sum()),
    }
    out = out.sort_values(["new_workers", "ratio_before"], ascending=[False, False]).reset_index(drop=True)
    return StaffingResult(new_workers=new_workers, allocated=int(added.sum()), communities=out, summary=summary)


def _finite(value: float) -> float | None:
    """None for the infinite load of a community with residents and no workers."""
    return float(value) if math.isfinite(value) else None


def _max(values: pd.Series) -> float | None:
    finite = values[np.isfinite(values.astype(float))]
    return float(finite.max()) if len(finite) else None
