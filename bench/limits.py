"""The timings that used to be assertions in the tests, each beside a floor or peer measured in the same run.

A test on a shared 2-core machine cannot judge time (a loaded machine made them fail), so the figures live
here and in RESULTS.md, and the tests check only the answers:

- ``validate_dataset`` on the large synthetic dataset (tests/test_validate.py; the test used to want < 15 s),
  beside building that dataset in memory (its peer: the same data, no checks);
- the balancing solver with a 0.05 s time limit (tests/test_balance_optimizer.py; used to want < 2 s), beside
  the limit itself (its floor);
- building the Xixiu demo GeoPackage (tests/test_generator.py; used to want < 60 s), beside reading it back.

    .venv/bin/python bench/limits.py [-n 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import scaled_dataset  # noqa: E402
from test_balance_optimizer import lattice  # noqa: E402

from data.generator import build_dataset  # noqa: E402
from geo.balance.optimizer import solve  # noqa: E402
from geo.io import read_dataset  # noqa: E402
from geo.validate import validate_dataset  # noqa: E402


def timed(func: Callable[[], object], runs: int) -> float:
    """Median wall seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="runs per figure (median)")
    runs = parser.parse_args().n
    rows: list[tuple[str, str, float]] = []

    ds = scaled_dataset()
    rows.append(("validate", "peer: build the large dataset in memory", timed(scaled_dataset, runs)))
    rows.append(("validate", "validate_dataset, 3,161 units and 60,000 buildings", timed(lambda: validate_dataset(ds),
                                                                                            runs)))
    blocks = [[(r // 3) * 3 + min(c // 3, 2) for c in range(10)] for r in range(6)]
    problem = lattice(6, 10, blocks, seed=11)
    rows.append(("solve", "floor: the time limit", 0.05))
    rows.append(("solve", "solve(time_limit=0.05), 6x10 lattice", timed(lambda: solve(problem, time_limit=0.05,
                                                                                         method="flow"), runs)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "xixiu.gpkg"
        rows.append(("demo", "build the Xixiu demo GeoPackage", timed(lambda: build_dataset(path, seed=20250415), 1)))
        rows.append(("demo", "peer: read it back (read_dataset)", timed(lambda: read_dataset(path), runs)))

    print("| figure | what | wall s |")
    print("|---|---|---:|")
    for group, what, seconds in rows:
        print(f"| {group} | {what} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
