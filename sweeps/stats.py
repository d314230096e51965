"""The statistics of replicated runs, in one place for `twinecon analyze` and `twinecon report`.

Every interval is a two-sided t interval of a mean at a stated `confidence` (the exact t
quantile at any number of seeds, never the normal 1.96), and carries that level with it.
A paired comparison of two points over the same seeds (common random numbers) gets:

* the mean difference and its t interval;
* two p-values for "no difference": the paired t test, and an exact sign-flip permutation
  test (all 2^n sign patterns up to n = 16 seeds, else 20,000 drawn with a fixed seed), which
  assumes only that a difference is as likely to be + as - under no effect, so it holds at
  the small n a sweep has where the t test's normality cannot be checked;
* the effect size d_z = mean difference / standard deviation of the differences (Cohen's d for
  paired samples: the difference in units of its own seed-to-seed noise);
* the seeds needed for a half-width of at most `precision`: the smallest n with
  t_{(1+c)/2, n-1} * sd / sqrt(n) <= precision, at the differences' observed sd.

Functions take plain arrays; `sweeps.analysis` applies them per point and metric.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twinecon.errors import TwineconError

__all__ = ["DEFAULT_CONFIDENCE", "EXACT_UP_TO", "AnalysisError", "Interval", "PairedTest",
           "interval", "level_text", "paired_test", "seeds_needed", "sign_flip_p",
           "t_halfwidth", "t_test_p"]

#: The confidence of every interval unless one is asked for.
DEFAULT_CONFIDENCE = 0.95
#: The sign-flip test enumerates all 2^n patterns up to this many seeds (65,536 patterns).
EXACT_UP_TO = 16
_DRAWS = 20_000


class AnalysisError(TwineconError, ValueError):
    """A sweep folder cannot be analysed as asked, or a statistic was asked with a level or a
    precision that has no meaning; the message names the file, metric or value and says what
    to do. (`sweeps.analysis.AnalysisError` is this class.)"""


def check_confidence(confidence: float) -> None:
    """Raise StatsError unless 0 < confidence < 1."""
    if not 0.0 < confidence < 1.0:
        raise AnalysisError(f"confidence must lie strictly between 0 and 1, got {confidence} "
                         "(for example 0.95 for 95 % intervals)")


def level_text(confidence: float) -> str:
    """`0.95` -> "95 %" (as the tables and the report print the level)."""
    pct = confidence * 100
    return f"{pct:.0f} %" if abs(pct - round(pct)) < 1e-9 else f"{pct:g} %"


def t_halfwidth(std: object, n: object, confidence: float = DEFAULT_CONFIDENCE) -> np.ndarray:
    """Half-width of the two-sided t interval of a mean: t_{(1+c)/2, n-1} * std / sqrt(n), with
    the exact t quantile at every n; NaN where n < 2.

    Args:
        std: sample standard deviations (ddof 1), a scalar or an array.
        n: the number of values behind each, broadcastable to `std`.
        confidence: the interval's coverage, strictly between 0 and 1.

    Returns:
        The half-widths, float64, of the broadcast shape (0-d for scalars).
    """
    check_confidence(confidence)
    from scipy import stats

    n_arr = np.asarray(n, dtype="float64")
    std_arr = np.asarray(std, dtype="float64")
    enough = n_arr >= 2
    safe_n = np.where(enough, n_arr, 2.0)
    q = stats.t.ppf((1.0 + confidence) / 2.0, safe_n - 1.0)
    return np.where(enough, q * std_arr / np.sqrt(safe_n), np.nan)


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A mean over replicates and its two-sided t interval at `confidence`: `lo` = mean -
    half, `hi` = mean + half, except that `lo` stops at `floor` where one was given (a
    quantity that cannot go below it, such as a count); `std`, `half`, `lo` and `hi` are NaN
    when n < 2 (and `mean` too when n == 0)."""

    n: int
    mean: float
    std: float
    half: float
    lo: float
    hi: float
    confidence: float = DEFAULT_CONFIDENCE


def interval(values: Sequence[float] | np.ndarray, confidence: float = DEFAULT_CONFIDENCE,
             floor: float | None = None) -> Interval:
    """The mean of `values` (NaN left out) with its `confidence` t interval.

    Args:
        values: (n,) replicates of one quantity, e.g. one metric over a point's seeds.
        confidence: the interval's coverage, strictly between 0 and 1.
        floor: the least value the quantity can take (0 for a count or a price): `lo` is
            not reported below it.
    """
    v = np.asarray(values, dtype="float64")
    v = v[~np.isnan(v)]
    n = len(v)
    mean = float(v.mean()) if n else math.nan
    std = float(v.std(ddof=1)) if n > 1 else math.nan
    half = float(t_halfwidth(std, n, confidence))
    lo = mean - half
    if floor is not None and not math.isnan(lo):
        lo = max(lo, floor)
    return Interval(n=n, mean=mean, std=std, half=half, lo=lo, hi=mean + half,
                    confidence=confidence)


def t_test_p(diffs: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value of the paired t test that the mean difference is 0 (NaN for n < 2;
    1 when every difference is 0; 0 when they are all equal and not 0)."""
    d = _finite(diffs)
    n = len(d)
    if n < 2:
        return math.nan
    sd = float(d.std(ddof=1))
    mean = float(d.mean())
    if sd == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    from scipy import stats

    t = mean / (sd / math.sqrt(n))
    return float(2.0 * stats.t.sf(abs(t), n - 1))


def sign_flip_p(diffs: Sequence[float] | np.ndarray, *, seed: int = 0) -> float:
    """Two-sided p-value of the sign-flip permutation test that the differences are symmetric
    about 0: the share of sign patterns whose |mean| is at least the observed |mean|. Exact
    (every pattern) up to `EXACT_UP_TO` differences, else 20,000 patterns drawn with `seed`
    (the observed pattern counted, so p is never 0). NaN for n == 0. With n seeds the least
    p it can give is 2 / 2^n (0.25 at 3 seeds, 0.0078 at 8): fewer seeds cannot show an
    effect at 5 %."""
    d = _finite(diffs)
    n = len(d)
    if n == 0:
        return math.nan
    observed = abs(float(d.mean()))
    tol = 1e-12 * max(1.0, float(np.abs(d).max()))
    if n <= EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        means = np.abs(signs @ d) / n
        return float(np.mean(means >= observed - tol))
    rng = np.random.default_rng(seed)
    signs = rng.choice((1.0, -1.0), size=(_DRAWS, n))
    means = np.abs(signs @ d) / n
    return float((1 + np.sum(means >= observed - tol)) / (_DRAWS + 1))


def seeds_needed(std: float, precision: float,
                 confidence: float = DEFAULT_CONFIDENCE, at_most: int = 100_000) -> float:
    """The fewest seeds whose t interval has a half-width of at most `precision`, at standard
    deviation `std`: min n >= 2 with t_{(1+c)/2, n-1} * std / sqrt(n) <= precision. 2 when
    std is 0; NaN when std or precision is NaN or precision <= 0; inf beyond `at_most`."""
    check_confidence(confidence)
    if math.isnan(std) or math.isnan(precision) or precision <= 0:
        return math.nan
    if std == 0:
        return 2.0
    from scipy import stats

    z = stats.norm.ppf((1.0 + confidence) / 2.0)
    n = max(2, math.ceil((z * std / precision) ** 2))  # the normal answer: a lower bound
    if n > at_most:
        return math.inf
    # t's answer lies a few seeds above the normal one ((z^2 + 1) / 2 for large n), except at
    # very small n: step one seed at a time
    while n <= at_most:
        if stats.t.ppf((1.0 + confidence) / 2.0, n - 1) * std / math.sqrt(n) <= precision:
            return float(n)
        n += 1
    return math.inf


@dataclass(frozen=True, slots=True, kw_only=True)
class PairedTest:
    """A paired comparison over seeds: differences (point - baseline) seed by seed.

    Attributes:
        n: seeds both points ran.
        diff, std: the mean and standard deviation (ddof 1) of the differences.
        lo, hi: the `confidence` t interval of the mean difference.
        p_t: two-sided p of the paired t test of no difference.
        p_perm: two-sided p of the sign-flip permutation test (exact up to 16 seeds).
        effect: d_z = diff / std (NaN when std is 0 or n < 2).
        seeds_needed: seeds for a half-width of at most the asked precision (NaN if none).
    """

    n: int
    diff: float
    std: float
    lo: float
    hi: float
    p_t: float
    p_perm: float
    effect: float
    seeds_needed: float
    confidence: float = DEFAULT_CONFIDENCE


def paired_test(diffs: Sequence[float] | np.ndarray, confidence: float = DEFAULT_CONFIDENCE,
                precision: float = math.nan) -> PairedTest:
    """The paired comparison of one metric: `diffs` are (point - baseline) per seed (NaN
    left out); `precision` the half-width `seeds_needed` aims at, in the metric's unit."""
    d = _finite(diffs)
    ci = interval(d, confidence)
    effect = (ci.mean / ci.std if ci.n > 1 and ci.std > 0 else math.nan)
    return PairedTest(n=ci.n, diff=ci.mean, std=ci.std, lo=ci.lo, hi=ci.hi, p_t=t_test_p(d),
                      p_perm=sign_flip_p(d), effect=effect,
                      seeds_needed=seeds_needed(ci.std, precision, confidence)
                      if ci.n > 1 else math.nan, confidence=confidence)


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype="float64")
    return v[~np.isnan(v)]
