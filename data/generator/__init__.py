"""Deterministic generator of the synthetic Xixiu demo dataset (see data/README.md)."""

from data.generator.build import DEFAULT_SEED, DatasetSummary, build_dataset, build_layers

__all__ = ["DEFAULT_SEED", "DatasetSummary", "build_dataset", "build_layers"]
