"""Random sequences of boundary changes, undone in any order the rules allow (issue #11).

A Hypothesis state machine drives whole and drawn moves, splits, merges, scheduled changes, draft edits
and withdrawals, cancellations and reversals (in and out of order, with and without cascade) on the tiny
county, on SpatiaLite and PostGIS. After every step: the five invariants (exact coverage at every level
included) today and far ahead, and the map as of every earlier date unchanged except from the date a
step changed it. At the end, cancelling everything restores the starting map exactly.

The default run is small enough for ``make test``; the same machine with many more and longer sequences is
marked ``slow`` (``make test-slow``, CI's second step), and ``GRIDGOV_HYPOTHESIS=long`` makes it longer still.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
import shapely
from conftest import BACKENDS, tiny_copy
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from shapely.geometry import box
from sqlalchemy import Engine, text

from geo.db import make_engine
from geo.errors import Conflict, InvalidInput
from geo.invariants import check_database
from geo.reassign import (
    ProposalRequest,
    apply_proposal,
    cancel_proposal,
    create_proposal,
    edit_proposal,
    revert_proposal,
    withdraw_proposal,
)
from geo.reassign.geometry import MIN_SHARED_EDGE_M, shared_edge_m
from geo.store import read_buildings, read_latest, read_units

LONG = os.environ.get("GRIDGOV_HYPOTHESIS") == "long"
TODAY = dt.date.today()
PROBES = (dt.date(2024, 6, 1), dt.date(2025, 1, 1), dt.date(2025, 6, 1), dt.date(2026, 1, 1),
          dt.date(TODAY.year + 1, 6, 1), dt.date(TODAY.year + 3, 1, 1))
FAR = dt.date(2099, 1, 1)
REFUSED = (InvalidInput, Conflict)


def view(engine: Engine, day: dt.date) -> dict[str, Any]:
    """The map as of ``day``: every unit's parent and exact geometry (WKB), every building's grid."""
    with engine.connect() as conn:
        units = read_units(conn, as_of=day)
        buildings = read_buildings(conn, as_of=day)
    return {"units": {c: (p, shapely.to_wkb(g)) for c, p, g in zip(units["code"], units["parent_code"],
                                                                    units.geometry, strict=True)},
            "buildings": dict(zip(buildings["code"], buildings["grid_code"], strict=True))}


def exact_coverage(engine: Engine, day: dt.date) -> list[str]:
    """Levels that are not a valid polygonal coverage in the exact GEOS sense (T-junctions included)."""
    with engine.connect() as conn:
        units = read_units(conn, as_of=day)
    return [level for level in ("subdistrict", "community", "grid")
            if not shapely.coverage_is_valid(units[units["level"] == level].geometry.values)]


class History(RuleBasedStateMachine):
    """One county, one sequence of changes and undos."""

    backend: str = "spatialite"
    template: str | Path = ""
    directory: Path = Path(".")

    @initialize(seed=st.integers(0, 2**16))
    def start(self, seed: int) -> None:
        self.url, self.drop = tiny_copy(self.backend, self.template, self.directory)
        self.engine = make_engine(self.url)
        self.seed = seed
        self.clock = dt.date(2024, 3, 1)  # changes in effect come in date order; scheduled ones lie ahead
        self.start_views = {day: view(self.engine, day) for day in (*PROBES, FAR)}
        self.views = dict(self.start_views)
        self.touched_from: dt.date | None = None

    def teardown(self) -> None:
        if not hasattr(self, "engine"):
            return
        try:
            self._cancel_everything()
        finally:
            self.engine.dispose()
            self.drop()

    # --- helpers --------------------------------------------------------------------------------------

    def _latest(self, level: str) -> Any:
        with self.engine.connect() as conn:
            units = read_latest(conn, "units")
        return units[units["level"] == level]

    def _neighbours(self, pick: int) -> tuple[Any, Any, Any] | None:
        """A grid of community A on A's edge with community B: (grid, A, B)."""
        communities, grids = self._latest("community"), self._latest("grid")
        pairs = []
        for a in communities.itertuples():
            for b in communities.itertuples():
                if a.code != b.code and shared_edge_m(a.geometry, b.geometry) > MIN_SHARED_EDGE_M:
                    for g in grids[grids["parent_code"] == a.code].itertuples():
                        if shared_edge_m(g.geometry, b.geometry) > MIN_SHARED_EDGE_M:
                            pairs.append((g, a, b))
        return pairs[pick % len(pairs)] if pairs else None

    def _next_day(self, gap: int) -> dt.date:
        self.clock = min(self.clock + dt.timedelta(days=gap), TODAY)
        return self.clock

    def _apply(self, request: ProposalRequest) -> None:
        try:
            pid = create_proposal(self.engine, request)
        except REFUSED:
            return
        try:
            result = apply_proposal(self.engine, pid, author="hypothesis")
        except REFUSED:
            return
        self._touched(request.effective_date)
        if result["recomputed"]:
            self._touched(request.effective_date)

    def _touched(self, day: dt.date) -> None:
        self.touched_from = day if self.touched_from is None else min(self.touched_from, day)

    def _proposals(self, *statuses: str) -> list[tuple[int, dt.date]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, effective_date, status FROM proposals ORDER BY id")).all()
        return [(int(i), dt.date.fromisoformat(str(d)[:10])) for i, d, s in rows if s in statuses]

    def _cancel_everything(self) -> None:
        while standing := self._proposals("applied", "reverted"):
            cancel_proposal(self.engine, standing[-1][0], author="hypothesis", reason="undo everything", cascade=True)
        for day, seen in self.start_views.items():
            assert view(self.engine, day) == seen, f"cancelling everything did not restore the map of {day}"

    # --- rules ----------------------------------------------------------------------------------------

    @rule(pick=st.integers(0, 99), gap=st.integers(1, 60))
    def move_whole_grid(self, pick: int, gap: int) -> None:
        found = self._neighbours(pick)
        if found:
            g, a, b = found
            self._apply(ProposalRequest(from_code=a.code, to_code=b.code, child_codes=(g.code,),
                                        effective_date=self._next_day(gap), author="hypothesis"))

    @rule(pick=st.integers(0, 99), gap=st.integers(1, 60), size=st.floats(0.2, 0.8), along=st.floats(0.1, 0.9))
    def move_drawn_area(self, pick: int, gap: int, size: float, along: float) -> None:
        found = self._neighbours(pick)
        if not found:
            return
        g, a, b = found
        edge = shapely.line_merge(shapely.intersection(g.geometry.boundary, b.geometry.boundary))
        lines = [p for p in shapely.get_parts(edge) if p.geom_type == "LineString"]
        if not lines:
            return
        point = max(lines, key=lambda line: line.length).interpolate(along, normalized=True)
        minx, miny, maxx, maxy = g.geometry.bounds
        half = size * min(maxx - minx, maxy - miny) / 2
        area = box(point.x - half, point.y - half, point.x + half, point.y + half)
        self._apply(ProposalRequest(from_code=a.code, to_code=b.code, area=area, allow_non_adjacent=False,
                                    effective_date=self._next_day(gap), author="hypothesis"))

    @rule(pick=st.integers(0, 99), gap=st.integers(1, 60), share=st.floats(0.2, 0.6))
    def split_grid(self, pick: int, gap: int, share: float) -> None:
        grids = self._latest("grid")
        g = grids.iloc[pick % len(grids)]
        minx, miny, maxx, maxy = g.geometry.bounds
        part = box(minx, miny, minx + share * (maxx - minx), maxy)
        self._apply(ProposalRequest(kind="split", from_code=g["code"], to_code=None, parts=(part,),
                                    effective_date=self._next_day(gap), author="hypothesis"))

    @rule(pick=st.integers(0, 99), gap=st.integers(1, 60))
    def merge_grids(self, pick: int, gap: int) -> None:
        grids = self._latest("grid")
        pairs = [(k.code, m.code) for k in grids.itertuples() for m in grids.itertuples()
                 if k.code != m.code and k.parent_code == m.parent_code
                 and shared_edge_m(k.geometry, m.geometry) > MIN_SHARED_EDGE_M]
        if pairs:
            keep, gone = pairs[pick % len(pairs)]
            self._apply(ProposalRequest(kind="merge", from_code=gone, to_code=keep, merge_codes=(gone,),
                                        effective_date=self._next_day(gap), author="hypothesis"))

    @rule(pick=st.integers(0, 99), ahead=st.integers(30, 900))
    def schedule_a_move(self, pick: int, ahead: int) -> None:
        found = self._neighbours(pick)
        if found:
            g, a, b = found
            self._apply(ProposalRequest(from_code=a.code, to_code=b.code, child_codes=(g.code,),
                                        effective_date=TODAY + dt.timedelta(days=ahead), author="hypothesis"))

    @rule(pick=st.integers(0, 99), cascade=st.booleans())
    def cancel(self, pick: int, cascade: bool) -> None:
        done = self._proposals("applied", "reverted")
        if not done:
            return
        pid, day = done[pick % len(done)]
        earliest = min([day] + [d for p, d in done if p > pid]) if cascade else day
        try:
            cancel_proposal(self.engine, pid, author="hypothesis", reason="mistake", cascade=cascade)
        except REFUSED:
            return
        self._touched(min(earliest, day))

    @rule(pick=st.integers(0, 99), cascade=st.booleans(), gap=st.integers(1, 60))
    def reverse(self, pick: int, cascade: bool, gap: int) -> None:
        in_force = [(p, d) for p, d in self._proposals("applied") if d <= TODAY]
        if not in_force:
            return
        pid, _ = in_force[pick % len(in_force)]
        day = self._next_day(gap)
        try:
            revert_proposal(self.engine, pid, author="hypothesis", effective_date=day, cascade=cascade)
        except REFUSED:
            return
        self._touched(day)

    @rule(pick=st.integers(0, 99), gap=st.integers(1, 60), withdraw=st.booleans())
    def edit_or_withdraw_a_draft(self, pick: int, gap: int, withdraw: bool) -> None:
        found = self._neighbours(pick)
        if not found:
            return
        g, a, b = found
        try:
            pid = create_proposal(self.engine, ProposalRequest(from_code=a.code, to_code=b.code, child_codes=(g.code,),
                                                               effective_date=self.clock, author="hypothesis"))
            if withdraw:
                withdraw_proposal(self.engine, pid, author="hypothesis")
            else:
                edit_proposal(self.engine, pid, {"effective_date": self._next_day(gap)}, author="hypothesis")
        except REFUSED:
            return

    # --- invariants -----------------------------------------------------------------------------------

    @invariant()
    def the_map_holds(self) -> None:
        if not hasattr(self, "engine"):
            return
        for day in (TODAY, FAR):
            report = check_database(self.engine, as_of=day)
            assert report.ok, "\n".join(report.lines())
            assert not exact_coverage(self.engine, day), f"un-noded coverage as of {day}"

    @invariant()
    def earlier_dates_are_unchanged(self) -> None:
        if not hasattr(self, "engine"):
            return
        for day in (*PROBES, FAR):
            now = view(self.engine, day)
            if self.touched_from is None or day < self.touched_from:
                assert now == self.views[day], f"the map as of {day} changed"
            self.views[day] = now
        self.touched_from = None


def _run(backend: str, request: pytest.FixtureRequest, tmp_path: Path, *, examples: int, steps: int,
         shrink: bool) -> None:
    History.backend = backend
    History.template = request.getfixturevalue(f"tiny_{backend}_template")
    History.directory = tmp_path
    History.TestCase.settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, suppress_health_check=list(HealthCheck),
        derandomize=not LONG,
        # Shrinking a sequence can take minutes; the quick run reports the failing sequence as found.
        phases=list(Phase) if shrink else [Phase.explicit, Phase.reuse, Phase.generate])
    History.TestCase().runTest()


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_sequences_of_changes_and_undos_keep_every_invariant(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    _run(backend, request, tmp_path, examples=6, steps=8, shrink=False)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_long_random_sequences_of_changes_and_undos(backend: str, request: pytest.FixtureRequest,
                                                   tmp_path: Path) -> None:
    _run(backend, request, tmp_path, examples=60 if LONG else 20, steps=30 if LONG else 20, shrink=True)
