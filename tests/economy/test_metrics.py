"""Properties of the inequality and concentration measures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from economy import gini, hhi

amounts = st.lists(st.integers(min_value=0, max_value=10**30), min_size=1, max_size=40)


@given(amounts)
def test_gini_is_in_unit_interval(xs: list[int]) -> None:
    """Gini of non-negative amounts lies in [0, 1)."""
    assert 0.0 <= gini(xs) < 1.0


@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=1, max_value=50))
def test_gini_of_equal_amounts_is_zero(x: int, n: int) -> None:
    """Everyone holding the same amount gives a Gini of exactly 0."""
    assert gini([x] * n) == 0.0


@given(amounts, st.randoms(use_true_random=False))
def test_gini_is_permutation_invariant(xs: list[int], rnd) -> None:
    """Reordering the holders does not change the Gini."""
    shuffled = list(xs)
    rnd.shuffle(shuffled)
    assert gini(shuffled) == gini(xs)


@given(st.integers(min_value=2, max_value=50), st.integers(min_value=1, max_value=10**30))
def test_gini_of_one_holder_is_one_minus_one_over_n(n: int, x: int) -> None:
    """One holder of everything among n gives the maximum, 1 - 1/n."""
    assert gini([0] * (n - 1) + [x]) == pytest.approx(1 - 1 / n)


@given(st.integers(min_value=1, max_value=10**30), st.integers(min_value=0, max_value=30))
def test_hhi_of_a_monopoly_is_one(x: int, zeros: int) -> None:
    """One seller with every sale: HHI = 1, however many sellers sold nothing."""
    assert hhi([x] + [0] * zeros) == pytest.approx(1.0)


@given(st.integers(min_value=1, max_value=10**30), st.integers(min_value=1, max_value=50))
def test_hhi_of_equal_shares_is_one_over_n(x: int, n: int) -> None:
    """n sellers with equal shares: HHI = 1/n."""
    assert hhi([x] * n) == pytest.approx(1 / n)


@given(st.lists(st.integers(min_value=0, max_value=10**30), min_size=1, max_size=40)
       .filter(lambda xs: sum(xs) > 0))
def test_hhi_lies_between_one_over_n_and_one(xs: list[int]) -> None:
    """HHI of any sales is in [1/n, 1]; nothing sold gives 0."""
    assert 1 / len(xs) - 1e-12 <= hhi(xs) <= 1 + 1e-12
    assert hhi([0] * len(xs)) == 0.0
