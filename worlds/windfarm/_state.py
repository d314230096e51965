"""Draw the current state of turbines' components: ages and the observed wear."""

from __future__ import annotations

import numpy as np

from worlds.windfarm._farm import HOURS_PER_YEAR, Farm

__all__ = ["draw_states", "wear_after"]

_WEAR_REDRAWS = 3


def wear_after(farm: Farm, rng: np.random.Generator, age_h: np.ndarray,
               comp: np.ndarray) -> np.ndarray:
    """Wear of gamma-process components `comp` after `age_h` hours from new (floats)."""
    shape = farm.g_rate_per_y[comp] * (age_h / HOURS_PER_YEAR) ** farm.g_exp[comp]
    return farm.g_scale[comp] * rng.standard_gamma(np.maximum(shape, 1e-300))


def draw_states(farm: Farm, rng: np.random.Generator,
                n_turbines: int) -> tuple[np.ndarray, np.ndarray]:
    """Ages and wear of every component of `n_turbines` turbines.

    Each age is uniform in ``0..initial_age_max_h``. A gamma-process component's wear is
    drawn from its process at that age; if that is at or past the failure level (it would
    have failed), the age is redrawn uniformly below it and the wear again, up to three
    times, then the wear is kept just below the failure level. Weibull components have wear 0.

    Returns:
        (age_h, wear): two (n_turbines, C) int64 arrays.
    """
    age = rng.integers(0, farm.age_max_h + 1, size=(n_turbines, farm.n_components))
    wear = np.zeros(age.shape, dtype=np.int64)
    gamma = np.flatnonzero(farm.is_gamma)
    if len(gamma):
        a = age[:, gamma]
        limit = np.broadcast_to(farm.failure_wear[gamma], a.shape)
        w = wear_after(farm, rng, a, gamma)
        for _ in range(_WEAR_REDRAWS):
            redo = w >= limit
            if not redo.any():
                break
            a[redo] = rng.integers(0, a[redo] + 1)
            w[redo] = wear_after(farm, rng, a[redo], gamma[np.nonzero(redo)[1]])
        age[:, gamma] = a
        wear[:, gamma] = np.minimum(np.floor(w), limit - 1).astype(np.int64)
    return age.astype(np.int64), wear
