"""Command line: ``python -m data.generate --out data/build/xixiu.gpkg [--seed N] [--scale K]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from data.generator import DEFAULT_SEED, DatasetSummary, build_dataset

__all__ = ["DatasetSummary", "build_dataset", "main"]


def main(argv: list[str] | None = None) -> int:
    """Build the demo GeoPackage and print a summary of what was generated."""
    parser = argparse.ArgumentParser(prog="python -m data.generate", description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path("data/build/xixiu.gpkg"), help="GeoPackage to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same data)")
    parser.add_argument("--scale", type=int, default=1, help="1 = the Xixiu demo; K = K districts side by side")
    args = parser.parse_args(argv)
    print(build_dataset(args.out, seed=args.seed, scale=args.scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
