"""sweeps.stats: the one set of statistics `analyze` and `report` share, checked against scipy
and against hand-countable cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sp

from sweeps import analysis, stats


def test_interval_is_the_exact_t_interval_at_the_level_asked() -> None:
    values = [3.0, 5.0, 4.0, 6.0]
    for level in (0.8, 0.95, 0.99):
        ci = stats.interval(values, level)
        q = sp.t.ppf((1 + level) / 2, 3)
        assert ci.half == pytest.approx(q * np.std(values, ddof=1) / 2)
        assert ci.confidence == level and ci.lo < ci.mean < ci.hi
    assert stats.level_text(0.95) == "95 %" and stats.level_text(0.975) == "97.5 %"


def test_a_quantity_that_cannot_go_below_zero_keeps_its_interval_above_it() -> None:
    """Three seeds of a count (0, 0, 9): the t interval would reach below zero; with the floor
    it stops at 0, and the upper bound is unchanged."""
    raw = stats.interval([0.0, 0.0, 9.0])
    floored = stats.interval([0.0, 0.0, 9.0], floor=0.0)
    assert raw.lo < 0 and floored.lo == 0.0 and floored.hi == raw.hi


def test_summarize_floors_only_metrics_never_below_zero() -> None:
    import pandas as pd

    rows = [{"run_id": f"r{s}", "point_id": "p", "point_index": 0, "seed": s, "status": "ok",
             "jobs": [0, 0, 9][s], "profit": [-1.0, 0.0, 9.0][s]} for s in range(3)]
    df = pd.DataFrame(rows)
    out = analysis.summarize(df, {"params": [], "runs": []}).set_index("metric")
    assert out.at["jobs", "lo"] == 0.0
    assert out.at["profit", "lo"] < 0
    assert out.attrs["confidence"] == 0.95


@pytest.mark.parametrize("diffs", [[1.0, 2.0, 3.0], [0.5, -0.2, 0.9, 1.1, -0.3, 0.4]])
def test_sign_flip_p_counts_every_pattern(diffs: list[float]) -> None:
    """Exact: the share of the 2^n sign patterns whose |mean| is at least the observed one."""
    d = np.asarray(diffs)
    observed = abs(d.mean())
    patterns = [abs(np.dot(s, d)) / len(d) >= observed - 1e-12
                for s in itertools.product((1, -1), repeat=len(d))]
    assert stats.sign_flip_p(d) == pytest.approx(np.mean(patterns))
    if len(d) == 3:
        assert stats.sign_flip_p(d) == 0.25  # 2 of 8: three seeds can never reach 5 %


def test_sign_flip_p_for_many_seeds_is_drawn_reproducibly() -> None:
    rng = np.random.default_rng(1)
    d = rng.normal(0.5, 1.0, 40)
    p = stats.sign_flip_p(d)
    assert p == stats.sign_flip_p(d) and 0 < p < 0.05
    assert stats.sign_flip_p(rng.normal(0.0, 1.0, 40)) > 0.01


def test_t_test_p_is_scipys_paired_t_test() -> None:
    rng = np.random.default_rng(2)
    d = rng.normal(0.3, 1.0, 7)
    assert stats.t_test_p(d) == pytest.approx(sp.ttest_1samp(d, 0.0).pvalue)
    assert stats.t_test_p([0.0, 0.0, 0.0]) == 1.0
    assert stats.t_test_p([2.0, 2.0]) == 0.0
    assert math.isnan(stats.t_test_p([1.0]))


def test_seeds_needed_is_the_smallest_n_that_reaches_the_precision() -> None:
    for sd, precision in ((1.0, 0.5), (2.0, 0.1), (0.3, 1.0)):
        n = int(stats.seeds_needed(sd, precision))
        def half(k: int, sd: float = sd) -> float:
            return sp.t.ppf(0.975, k - 1) * sd / math.sqrt(k)

        assert half(n) <= precision
        assert n == 2 or half(n - 1) > precision
    assert stats.seeds_needed(0.0, 1.0) == 2
    assert math.isnan(stats.seeds_needed(1.0, 0.0))


def test_paired_test_effect_size_is_d_z() -> None:
    d = np.array([1.0, 2.0, 3.0, 2.0])
    t = stats.paired_test(d)
    assert t.n == 4 and t.diff == 2.0
    assert t.effect == pytest.approx(2.0 / np.std(d, ddof=1))
    assert t.lo < 2.0 < t.hi and t.p_perm == 0.125  # 2 of 16 patterns


def test_a_meaningless_level_is_refused_with_the_fix() -> None:
    with pytest.raises(analysis.AnalysisError, match=r"between 0 and 1.*0\.95"):
        stats.interval([1.0, 2.0], 95)
