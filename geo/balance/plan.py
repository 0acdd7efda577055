"""A plan a sub-district can sign: moves with the workers they carry, new workers, and the shortfall.

* :func:`carry_workers` — how many community workers go with each move (0 unless the planner allows
  some): the number, up to the planner's allowance, that brings the giving and the receiving community
  closest to their targets together (the worse of the two ratios as low as it can be).
* :func:`shortfall` — per sub-district and for the whole scope, workers needed at the norm, workers
  present and the shortfall, in one sentence (zh and en). No boundary inside a sub-district changes
  its total: a shortfall there is for the district to fill.
* :func:`staffing_after` — new workers placed on the load *after* the moves ("move these grids and
  place these N new workers").
* :func:`store_drafts` — each draft stored on its own: one that is refused is skipped with its reason,
  the rest stand (the answer says which).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from geo.access import Actor
from geo.balance.load import LoadOptions, flag_of
from geo.balance.moves import BalanceResult, Move
from geo.balance.staffing import StaffingResult, allocate
from geo.errors import GridgovError, InvalidInput
from geo.reassign import ProposalRequest, create_proposals
from geo.vocabulary import sentence

CARRIES_WORKERS = "workers_moved" in {f.name for f in fields(ProposalRequest)}


def _ratio(workload: float, workers: int, per_worker: float) -> float:
    if workers <= 0:
        return math.inf if workload > 0 else 0.0
    return workload / (workers * per_worker)


def carry_workers(moves: Sequence[Move], table: pd.DataFrame, options: LoadOptions,
                  allowance: int) -> list[Move]:
    """The moves with ``workers_moved`` set; ``table`` is the before/after table of :mod:`.moves`.

    Moves are taken in order and each sees the workers the ones before it moved; a community always
    keeps at least one worker. ``allowance`` is the most workers one move may carry (0: none).
    """
    if allowance <= 0 or not len(table):
        return list(moves)
    rows = table.set_index("code")
    workers = rows["workers"].astype(int).to_dict()
    workload = rows["workload_after"].astype(float).to_dict()
    kinds = rows["kind"].to_dict() if "kind" in rows else {}
    per = {c: 10_000.0 / options.norm_for(kinds.get(c)) for c in rows.index}
    out = []
    for m in moves:
        a, b = m.from_code, m.to_code
        best, best_score = 0, None
        for k in range(0, min(allowance, max(0, workers[a] - 1)) + 1):
            score = max(abs(_ratio(workload[a], workers[a] - k, per[a]) - 1),
                        abs(_ratio(workload[b], workers[b] + k, per[b]) - 1))
            if best_score is None or score < best_score - 1e-12:
                best, best_score = k, score
        workers[a] -= best
        workers[b] += best
        out.append(replace(m, workers_moved=best))
    return out


def workers_after(table: pd.DataFrame, moves: Sequence[Move], options: LoadOptions) -> pd.DataFrame:
    """The before/after table with ``workers_after`` and ratios and flags recomputed for the workers moved."""
    out = table.copy()
    delta = pd.Series(0, index=out["code"])
    for m in moves:
        if m.from_code in delta.index and m.to_code in delta.index:
            delta[m.from_code] -= m.workers_moved
            delta[m.to_code] += m.workers_moved
    out["workers_after"] = out["workers"].to_numpy() + delta.reindex(out["code"]).to_numpy()
    norms = np.array([options.norm_for(k) for k in out.get("kind", pd.Series([None] * len(out)))])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out["workload_after"] * norms / 10_000.0 / out["workers_after"].astype(float)
    out["ratio_after"] = ratio.where(out["workers_after"] > 0)
    out["flag_after"] = [flag_of(None if pd.isna(r) else float(r), float(w), options.tolerance)
                         for r, w in zip(out["ratio_after"], out["workload_after"], strict=True)]
    return out


def shortfall(table: pd.DataFrame, *, options: LoadOptions, subdistricts: Sequence[str] = (),
              scope_name: tuple[str, str] = ("全区", "The district")) -> list[dict[str, Any]]:
    """Workers needed at the norm, present and short, per sub-district and for the whole district.

    Sub-districts are those in ``subdistricts`` (all when empty).
    ``table`` is the district's community load table (``target_workers``, ``workers``, ``subdistrict_code``
    and ``subdistrict_name``). Needed is rounded up (whole workers). Sub-districts first, then the district.
    """
    out = []
    names = dict(zip(table["subdistrict_code"], table["subdistrict_name"], strict=True))
    groups = [(code, group) for code, group in table.groupby("subdistrict_code", sort=True)
              if not subdistricts or code in subdistricts]
    for code, group in [*groups, (None, table)]:
        needed = int(math.ceil(float(group["target_workers"].sum()) - 1e-9))
        present = int(group["workers"].sum())
        short = max(0, needed - present)
        label = scope_name if code is None else (str(names.get(code) or code),) * 2
        out.append({
            "level": "district" if code is None else "subdistrict", "code": code, "name": label[0],
            "workers_needed": needed, "workers_present": present, "shortfall": short,
            "message": {lang: sentence("shortfall" if short else "staffed", lang, name=label[i], needed=needed,
                                       present=present, short=short, norm=f"{options.norm:g}")
                        for i, lang in enumerate(("zh", "en"))},
        })
    return out


def finish(result: BalanceResult, options: LoadOptions, *, workers_per_move: int = 0, new_workers: int = 0,
           subdistricts: Sequence[str] = ()) -> BalanceResult:
    """Complete the suggestion into a plan: workers with the moves, new workers, the shortfall in one sentence."""
    if workers_per_move < 0:
        raise InvalidInput("workers_per_move must be 0 or more", field="workers_per_move")
    if new_workers < 0:
        raise InvalidInput("new_workers must be 0 or more", field="new_workers")
    result.moves = carry_workers(result.moves, result.communities, options, workers_per_move)
    before = result.communities["flag_after"].value_counts()
    result.communities = workers_after(result.communities, result.moves, options)
    change = result.communities["flag_after"].value_counts().sub(before, fill_value=0)
    for flag, key in (("ok", "within_after"), ("over", "over_after"), ("under", "under_after")):
        if key in result.summary:
            result.summary[key] = int(result.summary[key] + change.get(flag, 0))
    result.summary["workers_moved"] = sum(m.workers_moved for m in result.moves)
    if result.load_table is not None:
        result.shortfall = shortfall(result.load_table, options=options, subdistricts=subdistricts)
    carried = sum(m.workers_moved for m in result.moves)
    if new_workers:
        full = _after_table(result, subdistricts)
        staffing = staffing_after(full, new_workers, options)
        result.staffing = staffing.as_dict(only_allocated=True)
    result.plan = {lang: sentence("combined_plan", lang, moves=len(result.moves), carried=carried, new=new_workers,
                                  residents=f"{result.summary.get('moved_residents', 0):,}")
                   for lang in ("zh", "en")}
    return result


def _after_table(result: BalanceResult, subdistricts: Sequence[str]) -> pd.DataFrame:
    """Every community in scope after the moves: the touched ones from the result, the rest as they are."""
    table = result.load_table if result.load_table is not None else pd.DataFrame()
    table = table[table["subdistrict_code"].isin(set(result.communities["subdistrict_code"]) | set(
        table["subdistrict_code"] if not subdistricts else subdistricts))]
    base = pd.DataFrame({
        "code": table["code"], "name": table["name"], "kind": table["kind"],
        "subdistrict_code": table["subdistrict_code"], "residents_after": table["residents"],
        "workload_after": table["workload"], "workers_after": table["workers"],
    }).set_index("code")
    touched = result.communities.set_index("code")
    for col in ("residents_after", "workload_after", "workers_after"):
        base.loc[touched.index, col] = touched[col].to_numpy()
    return base.reset_index()


def staffing_after(table: pd.DataFrame, new_workers: int, options: LoadOptions) -> StaffingResult:
    """New workers placed against the load after the moves (and the workers they carry)."""
    after = pd.DataFrame({
        "code": table["code"], "name": table["name"], "kind": table["kind"],
        "subdistrict_code": table["subdistrict_code"], "residents": table["residents_after"],
        "workload": table["workload_after"], "workers": table["workers_after"],
    })
    return allocate(after.reset_index(drop=True), new_workers, options=options)


def requests_with_workers(requests: Sequence[ProposalRequest], moves: Sequence[Move]) -> list[ProposalRequest]:
    """The requests carrying each move's workers, once proposals know ``workers_moved``."""
    if not CARRIES_WORKERS:
        return list(requests)
    return [replace(r, workers_moved=m.workers_moved) if m.workers_moved else r
            for r, m in zip(requests, moves, strict=True)]


def store_drafts(engine: Engine, requests: Sequence[ProposalRequest], *,
                 actor: Actor | None = None) -> tuple[list[int | None], list[dict[str, Any]]]:
    """Store each request as its own draft (owned by ``actor``'s key); a refused one is skipped, the rest stand.

    Returns the id of each draft (None where skipped) and the skipped ones: position, codes, reason.
    """
    ids: list[int | None] = []
    skipped: list[dict[str, Any]] = []
    for n, request in enumerate(requests):
        try:
            ids.append(create_proposals(engine, [request], actor=actor)[0])
        except GridgovError as exc:
            ids.append(None)
            skipped.append({"index": n, "kind": request.kind, "from_code": request.from_code,
                            "to_code": request.to_code, "reason": exc.message, "field": exc.field})
    return ids, skipped
