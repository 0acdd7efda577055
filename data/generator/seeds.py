"""Seed points of the grids: dense and small in the city, sparse and large in the countryside.

A density field (inverse square of the wanted grid spacing) is high inside an irregular urban blob
around the city centre, a little higher around each township seat and mildly noisy elsewhere. Seeds are
drawn from it and relaxed by a few rounds of k-means on density samples, which approximates a centroidal
Voronoi tessellation of that density: cells come out compact, with sizes following the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DensityField:
    """Wanted grid spacing (m) over the metric frame of one district."""

    centre: FloatArray
    urban_radius: float
    blob_waves: FloatArray  # rows: amplitude, angular frequency, phase
    seats: FloatArray  # (k, 2) metric seat positions of towns and townships
    seat_strength: FloatArray  # (k,) 0..1
    noise_waves: FloatArray  # rows: kx, ky, phase, amplitude (1/m, 1/m, rad, 1)
    urban_spacing: float = 330.0
    rural_spacing: float = 880.0

    @classmethod
    def create(
        cls, centre: FloatArray, seats: FloatArray, seat_strength: FloatArray, rng: np.random.Generator
    ) -> DensityField:
        """A field with random blob shape and noise around the given centre and seats."""
        blob = np.column_stack([rng.uniform(0.06, 0.14, 3), [2.0, 3.0, 5.0], rng.uniform(0, 2 * np.pi, 3)])
        angles = rng.uniform(0, np.pi, 4)
        wavelengths = rng.uniform(9_000, 25_000, 4)
        noise = np.column_stack(
            [
                np.cos(angles) * 2 * np.pi / wavelengths,
                np.sin(angles) * 2 * np.pi / wavelengths,
                rng.uniform(0, 2 * np.pi, 4),
                np.full(4, 0.09),
            ]
        )
        return cls(centre, 3_900.0, blob, seats, seat_strength, noise)

    def urban_factor(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Distance from the centre relative to the blob radius in that direction (< 1 inside)."""
        dx, dy = x - self.centre[0], y - self.centre[1]
        theta = np.arctan2(dy, dx)
        radius = np.ones_like(theta)
        for amplitude, frequency, phase in self.blob_waves:
            radius = radius + amplitude * np.sin(frequency * theta + phase)
        return cast(NDArray[np.float64], np.hypot(dx, dy) / (self.urban_radius * radius))

    def spacing(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Wanted distance between neighbouring grid seeds at the given points."""
        noise = np.zeros_like(x)
        for kx, ky, phase, amplitude in self.noise_waves:
            noise = noise + amplitude * np.sin(kx * x + ky * y + phase)
        d2 = (x[:, None] - self.seats[None, :, 0]) ** 2 + (y[:, None] - self.seats[None, :, 1]) ** 2
        pull = np.max(self.seat_strength[None, :] * np.exp(-d2 / (2 * 1_300.0**2)), axis=1, initial=0.0)
        rural = self.rural_spacing * (1 + noise) * (1 - 0.45 * pull)
        t = np.clip((self.urban_factor(x, y) - 1.0) / 0.7, 0.0, 1.0)
        t = t * t * (3 - 2 * t)
        return cast(NDArray[np.float64], self.urban_spacing + (rural - self.urban_spacing) * t)

    def density(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Relative number of grid seeds per unit area."""
        return 1.0 / self.spacing(x, y) ** 2


def sample_density(
    field: DensityField, outline: shapely.Geometry, n: int, rng: np.random.Generator
) -> tuple[FloatArray, float]:
    """Draw n points inside the outline with probability proportional to the density.

    Also returns the integral of the density over the outline, so callers can tell the expected area of
    a cell at any point: integral / (n_cells * density).
    """
    shapely.prepare(outline)
    minx, miny, maxx, maxy = outline.bounds
    top = 1.0 / field.urban_spacing**2
    kept: list[FloatArray] = []
    inside_density: list[FloatArray] = []
    total = 0
    while total < n:
        batch = max(4 * (n - total), 20_000)
        x, y = rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(outline, x, y)
        x, y = x[inside], y[inside]
        rho = field.density(x, y)
        inside_density.append(rho)
        accept = rng.uniform(0, top, len(x)) < rho
        kept.append(np.column_stack([x[accept], y[accept]]))
        total += int(accept.sum())
    integral = float(np.mean(np.concatenate(inside_density))) * outline.area
    return np.concatenate(kept)[:n], integral


def relaxed_seeds(
    field: DensityField, outline: shapely.Geometry, n: int, rng: np.random.Generator, rounds: int = 5
) -> tuple[FloatArray, float]:
    """Seeds of n grids inside the outline, relaxed towards a centroidal Voronoi layout of the density."""
    samples, integral = sample_density(field, outline, n * 25, rng)
    seeds = samples[rng.choice(len(samples), n, replace=False)]
    sample_points = shapely.points(samples)
    for _ in range(rounds):
        _, nearest = shapely.STRtree(shapely.points(seeds)).query_nearest(sample_points, all_matches=False)
        counts = np.bincount(nearest, minlength=n)
        filled = counts > 0
        mean = np.column_stack(
            [
                np.bincount(nearest, samples[:, 0], minlength=n),
                np.bincount(nearest, samples[:, 1], minlength=n),
            ]
        )
        seeds[filled] = mean[filled] / counts[filled, None]
    outside = ~shapely.contains_xy(outline, seeds[:, 0], seeds[:, 1])
    for i in np.flatnonzero(outside):
        seeds[i] = samples[np.argmin(np.hypot(*(samples - seeds[i]).T))]
    return seeds, integral
