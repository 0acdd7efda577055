"""Preview and apply time of the Nanjiao -> Lida change (a drawn area, a third of Nanjiao's residents).

Each run creates the proposal, previews it, applies it and reverts it (so the database ends as it
began, with two more changes in its history). Baseline in the same run: reading the two units'
current versions (the least any change must do). Target: preview and apply under 1 s on the demo,
and at --scale 20 no more than 1.5x slower (cost follows the units touched, not the database).

    .venv/bin/python bench/reassign.py [--scale 1 20] [--backends spatialite postgis] [-n 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from common import database_url

from geo.db import make_engine
from geo.reassign import ProposalRequest, apply_proposal, create_proposal, preview_proposal, revert_proposal
from geo.store import read_latest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from scenarios import nanjiao_third_polygon  # noqa: E402


def run(backend: str, scale: int, n: int) -> dict[str, float]:
    engine = make_engine(database_url(backend, scale))
    polygon, nanjiao, lida = nanjiao_third_polygon(engine)
    times: dict[str, list[float]] = {"read A and B (baseline)": [], "create": [], "preview": [], "apply": [],
                                     "revert": []}
    def timed(name: str, call):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        result = call()
        times[name].append(time.perf_counter() - started)
        return result

    for _ in range(n):
        with engine.connect() as conn:
            current = timed("read A and B (baseline)",
                            lambda: read_latest(conn, "units", where_in={"code": [nanjiao.code, lida.code]}))
        day = max(current["valid_from"]) + dt.timedelta(days=1)  # after earlier runs' history
        # The reference band cuts a corner off Nanjiao: allowed here (refused by default), as in the acceptance test.
        request = ProposalRequest(from_code=nanjiao.code, to_code=lida.code, author="bench", area=polygon,
                                  effective_date=day, allow_non_adjacent=True)
        pid = timed("create", lambda: create_proposal(engine, request))  # noqa: B023 - called at once
        timed("preview", lambda: preview_proposal(engine, pid))  # noqa: B023
        timed("apply", lambda: apply_proposal(engine, pid, author="bench"))  # noqa: B023
        timed("revert", lambda: revert_proposal(engine, pid, author="bench",  # noqa: B023
                                                effective_date=day + dt.timedelta(days=1)))  # noqa: B023
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("--backends", nargs="+", default=["spatialite", "postgis"])
    parser.add_argument("-n", type=int, default=5, help="repetitions (median reported)")
    args = parser.parse_args()
    print(f"{'backend':10} {'scale':>5}  {'step':26} {'median s':>9}")
    for scale in args.scale:
        for backend in args.backends:
            for name, seconds in run(backend, scale, args.n).items():
                print(f"{backend:10} {scale:>5}  {name:26} {seconds:9.3f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
