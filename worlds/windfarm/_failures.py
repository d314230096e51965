"""Time to failure of components, drawn for many futures at once (Weibull and gamma process).

Weibull: the residual life of a component of age ``a`` that is still working is
``eta * ((a/eta)^k - ln U)^(1/k) - a`` (inverse transform of ``R(a + t) / R(a)``).

Gamma process: with ``tau(t) = rate * ((age + t)^b - age^b)`` (years), the wear gained by
time ``t`` is ``scale * Gamma(tau(t))``. Rather than walking the path on a grid, one draw gives
the wear at the end of the window; where it reaches the failure level, the first passage is
found by bisection on the *gamma bridge* (given the wear at ``lo`` and ``hi``, the wear at the
midpoint is ``X_lo + (X_hi - X_lo) * Beta(tau(mid) - tau(lo), tau(hi) - tau(mid))``), which is
exact in law; halvings down to a bracket of at most `BRIDGE_RESOLUTION_H` hours, then linear
interpolation inside it, place the crossing. Components that do not fail within the window get
`NEVER`.
"""

from __future__ import annotations

import numpy as np

from worlds.windfarm._farm import HOUR_MS, HOURS_PER_YEAR

__all__ = ["BRIDGE_RESOLUTION_H", "NEVER", "gamma_lives_h", "to_ms", "weibull_lives_h"]

NEVER = np.int64(1) << 62
BRIDGE_RESOLUTION_H = 24.0
_TINY = 1e-300


def weibull_lives_h(u: np.ndarray, age_h: np.ndarray, shape: np.ndarray,
                    scale_h: np.ndarray) -> np.ndarray:
    """Residual lives in hours of working components of age `age_h` (arrays broadcast)."""
    a = age_h / scale_h
    return scale_h * (a ** shape - np.log1p(-u)) ** (1.0 / shape) - age_h


def gamma_lives_h(rng: np.random.Generator, wear: np.ndarray, age_h: np.ndarray,
                  rate_per_y: np.ndarray, exp: np.ndarray, scale: np.ndarray,
                  failure_wear: np.ndarray, window_h: float) -> np.ndarray:
    """Hours until the wear of each component reaches `failure_wear`, or inf past the window.

    Args:
        rng: the stream to draw from (one gamma draw per element, then Beta draws only for
            the elements that fail, level by level, in element order).
        wear: (N,) current wear; age_h: (N,) current age; rate_per_y, exp, scale,
            failure_wear: (N,) process parameters.
        window_h: how far ahead to look.

    Returns:
        (N,) float hours, `np.inf` where the component survives the window.
    """
    need = (failure_wear - wear).astype(np.float64)
    age_y = age_h / HOURS_PER_YEAR

    def tau(t_h: np.ndarray) -> np.ndarray:
        return rate_per_y * ((age_y + t_h / HOURS_PER_YEAR) ** exp - age_y ** exp)

    hi = np.full(need.shape, float(window_h))
    x_hi = scale * rng.standard_gamma(np.maximum(tau(hi), _TINY))
    out = np.full(need.shape, np.inf)
    out[need <= 0] = 0.0
    idx = np.flatnonzero((x_hi >= need) & (need > 0))
    if not len(idx):
        return out
    need, hi, x_hi = need[idx], hi[idx], x_hi[idx]
    rate_per_y, exp, age_y = rate_per_y[idx], exp[idx], age_y[idx]
    lo = np.zeros(len(idx))
    x_lo = np.zeros(len(idx))
    t_lo, t_hi = tau(lo), tau(hi)
    for _ in range(max(int(np.ceil(np.log2(window_h / BRIDGE_RESOLUTION_H))), 0)):
        mid = 0.5 * (lo + hi)
        t_mid = tau(mid)
        frac = rng.beta(np.maximum(t_mid - t_lo, _TINY), np.maximum(t_hi - t_mid, _TINY))
        x_mid = x_lo + (x_hi - x_lo) * frac
        up = x_mid >= need
        hi, x_hi, t_hi = np.where(up, mid, hi), np.where(up, x_mid, x_hi), np.where(up, t_mid,
                                                                                   t_hi)
        lo, x_lo, t_lo = np.where(up, lo, mid), np.where(up, x_lo, x_mid), np.where(up, t_lo,
                                                                                   t_mid)
    gap = np.maximum(x_hi - x_lo, _TINY)
    out[idx] = lo + (hi - lo) * np.clip((need - x_lo) / gap, 0.0, 1.0)
    return out


def to_ms(life_h: np.ndarray, window_ms: int) -> np.ndarray:
    """Hours to int64 ms (floored), `NEVER` for lives at or beyond `window_ms`."""
    ms = np.floor(np.minimum(life_h, window_ms / HOUR_MS + 1.0) * HOUR_MS)
    out = ms.astype(np.int64)
    out[~(ms < window_ms)] = NEVER
    return out
