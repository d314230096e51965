"""Tests of the tier surface every shipped twin offers: tiers, evaluator(), UnknownTier."""

from __future__ import annotations

import pytest

from worlds import (
    Evaluator,
    InvalidPlan,
    ServiceTwin,
    Tier,
    UnknownTier,
    WorldError,
    registry,
)

_SMALL = {  # specs that build fast
    "warehouse": {"n_aisles": 3, "slots_per_aisle": 4, "n_skus": 20},
    "logistics": {"grid_cols": 6, "grid_rows": 6},
    "windfarm": {"n_turbines": 4},
    "toy": {},
}
_TIERS = {"warehouse": ("L1", "L2"), "logistics": ("L1",), "windfarm": ("L1",),
          "toy": ("L0", "L1")}


@pytest.fixture(scope="module", params=sorted(_SMALL))
def twin(request: pytest.FixtureRequest) -> ServiceTwin:
    return registry.make(request.param, **_SMALL[request.param])


def test_each_twin_lists_its_tiers_and_is_its_own_l1(twin: ServiceTwin) -> None:
    """tiers lists what the twin offers (L1 always); evaluator() and evaluator("L1") are the
    twin itself, an Evaluator of tier L1 with no physics step."""
    assert twin.tiers == _TIERS[twin.spec.kind]
    assert all(isinstance(t, Tier) for t in twin.tiers)
    assert isinstance(twin, ServiceTwin) and isinstance(twin, Evaluator)
    assert twin.evaluator() is twin and twin.evaluator(Tier.L1) is twin
    assert (twin.tier, twin.hz) == ("L1", 0)


def test_a_tier_not_offered_raises_unknown_tier(twin: ServiceTwin) -> None:
    """Asking for a tier the twin lacks raises UnknownTier (a WorldError and a ValueError)
    naming the kind, the tier asked and the tiers offered."""
    kind = twin.spec.kind
    missing = next(t for t in ("L2", "L0") if t not in twin.tiers)
    offered = ", ".join(twin.tiers)
    with pytest.raises(UnknownTier, match=f"the {kind} twin has no tier '{missing}'; "
                                          f"it offers {offered}") as info:
        twin.evaluator(missing)
    assert isinstance(info.value, WorldError) and isinstance(info.value, ValueError)
    assert (info.value.kind, info.value.tier, info.value.offered) == (kind, missing,
                                                                      twin.tiers)
    with pytest.raises(UnknownTier, match="did you mean 'L1'"):
        twin.evaluator("l1")


def test_l1_takes_no_physics_rate(twin: ServiceTwin) -> None:
    """A physics rate for a tier without one is refused rather than ignored."""
    with pytest.raises(InvalidPlan, match="no physics step"):
        twin.evaluator("L1", hz=500)
    assert twin.evaluator("L1", hz=0) is twin
