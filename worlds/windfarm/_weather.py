"""Weather access windows: a seasonal two-state Markov chain over days, many futures at once.

Day ``d`` of a future is accessible (a crew may go out) or not. Day 0 is drawn from the
chain's stationary law for its month; day ``d >= 1`` stays accessible with ``stay_good[m]``
and stays inaccessible with ``stay_bad[m]``, ``m`` the month of day ``d``. Each day uses one
uniform ``u[:, d]``: from good, next is good iff ``u < stay_good``; from bad, next is good iff
``u >= stay_bad``.

`access_days` evaluates the chain for all futures without a loop over days: a day whose
outcome is the same from both states ("constant") restarts the chain, and between restarts
every day either keeps the state or flips it, so the state is the last restart's value XOR
the parity of the flips since (two running scans and one gather). `access_days_loop` is the
plain day-by-day reference it is tested against (exact equality).
"""

from __future__ import annotations

import numpy as np

__all__ = ["access_days", "access_days_loop", "day_months", "next_access", "stationary_good"]


def day_months(start_doy: int, n_days: int) -> np.ndarray:
    """(n_days,) month index 0..11 of each day of a run starting on day-of-year `start_doy`."""
    doy = (start_doy + np.arange(n_days)) % 365
    return doy * 12 // 365


def stationary_good(stay_good: np.ndarray, stay_bad: np.ndarray) -> np.ndarray:
    """Stationary chance of an accessible day per month, (1 - sb) / ((1 - sg) + (1 - sb))."""
    return (1 - stay_bad) / np.maximum((1 - stay_good) + (1 - stay_bad), 1e-12)


def access_days(u: np.ndarray, months: np.ndarray, stay_good: np.ndarray,
                stay_bad: np.ndarray) -> np.ndarray:
    """Accessible days of many futures.

    Args:
        u: (S, D) uniforms in [0, 1).
        months: (D,) month of each day.
        stay_good: (12,) chance good stays good.
        stay_bad: (12,) chance bad stays bad.

    Returns:
        (S, D) bool, True where a crew may go out.
    """
    n_samples, n_days = u.shape
    p0 = stationary_good(stay_good, stay_bad)[months[0]]
    if_good = u < stay_good[months]          # next state if today is good
    if_bad = u >= stay_bad[months]           # next state if today is bad
    if_good[:, 0] = if_bad[:, 0] = u[:, 0] < p0
    # flipped[d]: parity of the flips on days 1..d; the state on a restart day r is
    # if_good[r], so the state on day d >= r is if_good[r] ^ flipped[r] ^ flipped[d].
    flipped = np.bitwise_xor.accumulate(if_bad & ~if_good, axis=1)
    last = np.multiply(if_good == if_bad, np.arange(n_days, dtype=np.int32), dtype=np.int32)
    np.maximum.accumulate(last, axis=1, out=last)
    last += (np.arange(n_samples, dtype=np.int32) * n_days)[:, None]
    return (if_good ^ flipped).ravel()[last] ^ flipped


def access_days_loop(u: np.ndarray, months: np.ndarray, stay_good: np.ndarray,
                     stay_bad: np.ndarray) -> np.ndarray:
    """Reference for `access_days`: the chain stepped day by day."""
    p0 = stationary_good(stay_good, stay_bad)[months[0]]
    out = np.zeros(u.shape, dtype=bool)
    for s in range(u.shape[0]):
        good = bool(u[s, 0] < p0)
        out[s, 0] = good
        for d in range(1, u.shape[1]):
            m = months[d]
            good = bool(u[s, d] < stay_good[m]) if good else bool(u[s, d] >= stay_bad[m])
            out[s, d] = good
    return out


def next_access(good: np.ndarray) -> np.ndarray:
    """(S, D + 1) int16: the first good day >= d, or D if there is none left (D < 32768).

    One running minimum, right to left, over ``d`` where good and ``D`` elsewhere.
    """
    n_rows, n_days = good.shape
    out = np.empty((n_rows, n_days + 1), dtype=np.int16)
    out[:, n_days] = n_days
    rev = out[:, n_days - 1::-1]                      # a view: rev[:, j] is day D-1-j
    days = np.arange(n_days - 1, -1, -1, dtype=np.int16)
    np.multiply(good[:, ::-1], days - n_days, out=rev, casting="unsafe")
    rev += np.int16(n_days)                           # d where good, D elsewhere
    np.minimum.accumulate(rev, axis=1, out=rev)
    return out
