"""Workload per community and per sub-district, against the community-worker norm.

The norm (国办发〔2021〕56号) is 18 community workers per 10,000 urban residents, i.e. about 556
residents per worker. Workload is residents plus optional extra weights for the groups that need more
care (elderly 60+, children under 14, special-care residents); with the default weights of 0 it is
the resident count, so the ratio reads directly against the norm. ``ratio`` is workload per worker
divided by the target per worker: 1.0 is on target, above ``1 + tolerance`` over-loaded, below
``1 - tolerance`` under-loaded. Villages may have their own norm.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from geo import store
from geo.domain import Level
from geo.errors import InvalidInput
from geo.totals import read_totals
from geo.vocabulary import NORM_WORKERS_PER_10K, TOLERANCE, flag_of_ratio

DEFAULT_NORM = NORM_WORKERS_PER_10K  # community workers per 10,000 residents (geo.vocabulary)
FLAGS = ("over", "under", "ok")

COMMUNITY_COLUMNS = (
    "code", "name", "kind", "subdistrict_code", "subdistrict_name", "grids", "buildings", "residents",
    "households", "elderly", "children", "special_care", "workers", "residents_per_worker",
    "households_per_grid", "workload", "target_workers", "ratio", "flag",
)
# Optional columns when the events layer is weighed in (see geo/events/workload.py).
EVENT_COLUMNS = ("events_open", "events_overdue", "events_weighted")
SUBDISTRICT_COLUMNS = (
    "code", "name", "kind", "communities", "grids", "buildings", "residents", "households", "elderly",
    "children", "special_care", "workers", "residents_per_worker", "households_per_grid", "workload",
    "target_workers", "ratio", "flag", "over", "under",
)


@dataclass(frozen=True)
class LoadOptions:
    """How workload is weighed and judged. Norms are workers per 10,000 (weighted) residents."""

    norm: float = DEFAULT_NORM
    village_norm: float | None = None  # None: villages use ``norm`` too
    tolerance: float = TOLERANCE
    elderly_weight: float = 0.0
    children_weight: float = 0.0
    special_care_weight: float = 0.0
    events_weight: float = 0.0  # residents-equivalent of one weighted open event (when events are given)

    def __post_init__(self) -> None:
        if not (isinstance(self.tolerance, int | float) and 0.0 < self.tolerance < 1.0):
            raise InvalidInput(f"tolerance must be strictly between 0 and 1, not {self.tolerance}",
                               field="tolerance")
        for name in ("norm", "village_norm"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InvalidInput(f"{name} must be a positive number of workers per 10,000 residents, "
                                   f"not {value}", field=name)
        for name in ("elderly_weight", "children_weight", "special_care_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 100):
                raise InvalidInput(f"{name} must be between 0 and 100, not {value}", field=name)
        if not (math.isfinite(self.events_weight) and 0 <= self.events_weight <= 10_000):
            raise InvalidInput(f"events_weight must be between 0 and 10000, not {self.events_weight}",
                               field="events_weight")

    def norm_for(self, kind: str | None) -> float:
        """Workers per 10,000 residents expected of a community of ``kind`` (urban/village)."""
        return self.village_norm if kind == "village" and self.village_norm is not None else self.norm

    def workload(self, totals: pd.DataFrame) -> pd.Series:
        """Weighted workload of rows that have residents, elderly, children and special_care."""
        return (totals["residents"] + self.elderly_weight * totals["elderly"]
                + self.children_weight * totals["children"]
                + self.special_care_weight * totals["special_care"]).astype(float)

    def band(self, workers: np.ndarray, kinds: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest workload within tolerance for communities with ``workers`` of ``kinds``."""
        per_worker = np.array([10_000.0 / self.norm_for(k) for k in kinds], dtype=float)
        capacity = np.asarray(workers, dtype=float) * per_worker
        return capacity * (1.0 - self.tolerance), capacity * (1.0 + self.tolerance)


def flag_of(ratio: float | None, workload: float, tolerance: float) -> str:
    """The flag (over, under or ok) of a ratio (None = no workers: over if there is any workload)."""
    if ratio is None or not math.isfinite(ratio):
        return "over" if workload > 0 else "ok"
    return flag_of_ratio(ratio, tolerance)


def _judge(frame: pd.DataFrame, norms: pd.Series, options: LoadOptions) -> pd.DataFrame:
    """Add the per-worker figures, the ratio and the flag to a frame of sums."""
    workers = frame["workers"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["residents_per_worker"] = (frame["residents"] / workers).where(workers > 0)
        frame["households_per_grid"] = (frame["households"] / frame["grids"]).where(frame["grids"] > 0)
        frame["target_workers"] = frame["workload"] * norms / 10_000.0
        frame["ratio"] = (frame["target_workers"] / workers).where(workers > 0)
    frame["flag"] = [flag_of(None if pd.isna(r) else float(r), float(w), options.tolerance)
                     for r, w in zip(frame["ratio"], frame["workload"], strict=True)]
    return frame


def community_load(units: pd.DataFrame, totals: pd.DataFrame, options: LoadOptions,
                   events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load of every community in ``units`` (versions valid on one date), one row per community.

    ``totals`` is indexed by unit code, as :func:`geo.totals.read_totals` or ``unit_totals`` give it.
    ``events`` (optional, indexed by community code, :data:`EVENT_COLUMNS`) adds the open events and
    ``options.events_weight`` residents-equivalent per weighted event to the workload.
    """
    coms = units[units["level"] == Level.community.value]
    subs = units[units["level"] == Level.subdistrict.value].set_index("code")["name"]
    grid_count = units[units["level"] == Level.grid.value].groupby("parent_code").size()
    frame = pd.DataFrame({
        "code": coms["code"].to_numpy(), "name": coms["name"].to_numpy(),
        "kind": coms["kind"].to_numpy(), "subdistrict_code": coms["parent_code"].to_numpy(),
    })
    frame["subdistrict_name"] = frame["subdistrict_code"].map(subs)
    frame["grids"] = frame["code"].map(grid_count).fillna(0).astype(int)
    for col in ("buildings", "residents", "households", "elderly", "children", "special_care", "workers"):
        frame[col] = totals.loc[frame["code"], col].to_numpy().astype(int)
    frame["workload"] = options.workload(frame)
    columns = list(COMMUNITY_COLUMNS)
    if events is not None:
        for col in EVENT_COLUMNS:
            frame[col] = frame["code"].map(events[col]).fillna(0).to_numpy() if col in events else 0
        frame["workload"] += options.events_weight * frame["events_weighted"].astype(float)
        columns += EVENT_COLUMNS
    norms = pd.Series([options.norm_for(k) for k in frame["kind"]], index=frame.index)
    return _judge(frame, norms, options)[columns].sort_values("code").reset_index(drop=True)


def subdistrict_load(communities: pd.DataFrame, units: pd.DataFrame, options: LoadOptions) -> pd.DataFrame:
    """Roll the community rows up per sub-district, with counts of over- and under-loaded ones."""
    sums = ["grids", "buildings", "residents", "households", "elderly", "children", "special_care",
            "workers", "workload", "target_workers"]
    grouped = communities.groupby("subdistrict_code")
    frame = grouped[sums].sum()
    frame["communities"] = grouped.size()
    frame["over"] = grouped["flag"].apply(lambda f: int((f == "over").sum()))
    frame["under"] = grouped["flag"].apply(lambda f: int((f == "under").sum()))
    subs = units[units["level"] == Level.subdistrict.value].set_index("code")
    frame = frame.reset_index().rename(columns={"subdistrict_code": "code"})
    frame["name"] = frame["code"].map(subs["name"])
    frame["kind"] = frame["code"].map(subs["kind"])
    with np.errstate(divide="ignore", invalid="ignore"):
        norms = frame["target_workers"] * 10_000.0 / frame["workload"].where(frame["workload"] > 0)
    frame = _judge(frame, norms.fillna(options.norm), options)
    return frame[list(SUBDISTRICT_COLUMNS)].sort_values("code").reset_index(drop=True)


@dataclass(frozen=True)
class LoadQuery:
    """Which rows of the load table to return."""

    level: str = "community"  # community | subdistrict
    subdistricts: tuple[str, ...] = ()
    kind: str | None = None  # urban | village
    flag: str | None = None  # over | under | ok


def read_load(conn: Connection, *, as_of: dt.date, options: LoadOptions | None = None,
              query: LoadQuery | None = None, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The load table as of a date: one row per community (or sub-district), filtered by ``query``."""
    options = options or LoadOptions()
    query = query or LoadQuery()
    if query.level not in ("community", "subdistrict"):
        raise InvalidInput(f"level must be community or subdistrict, not {query.level!r}", field="level")
    if query.kind not in (None, "urban", "village"):
        raise InvalidInput(f"kind must be urban or village, not {query.kind!r}", field="kind")
    if query.flag not in (None, *FLAGS):
        raise InvalidInput(f"flag must be one of {', '.join(FLAGS)}, not {query.flag!r}", field="flag")
    units = store.read_units(conn, as_of=as_of)
    check_codes(units, query.subdistricts, Level.subdistrict, field="subdistrict")
    table = community_load(units, read_totals(conn, as_of), options, events)
    if query.kind:
        table = table[table["kind"] == query.kind]
    if query.level == "subdistrict":
        table = subdistrict_load(table, units, options)
        if query.subdistricts:
            table = table[table["code"].isin(query.subdistricts)]
    elif query.subdistricts:
        table = table[table["subdistrict_code"].isin(query.subdistricts)]
    if query.flag:
        table = table[table["flag"] == query.flag]
    return table.reset_index(drop=True)


def check_codes(units: pd.DataFrame, codes: Sequence[str], level: Level, *, field: str) -> None:
    """InvalidInput naming the codes that are no current unit of ``level``."""
    known = set(units.loc[units["level"] == level.value, "code"])
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(f"unknown {level.value} code(s) {', '.join(unknown)} (not a current {level.value})",
                           field=field)


def records(table: pd.DataFrame) -> list[dict[str, object]]:
    """JSON-safe rows: NaN becomes None, numpy scalars become Python numbers, ratios are rounded."""
    out = []
    for row in table.to_dict("records"):
        clean: dict[str, object] = {}
        for key, value in row.items():
            if isinstance(value, float | np.floating):
                clean[key] = None if not math.isfinite(value) else round(float(value), 4)
            elif isinstance(value, np.integer):
                clean[key] = int(value)
            else:
                clean[key] = None if value is None or (isinstance(value, float) and pd.isna(value)) else value
        out.append(clean)
    return out
