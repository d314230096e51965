"""The tick's phases driven by hand (an external controller, an RL trainer) are the tick:
they advance the clock, give the same bytes as `step()`, and refuse to run out of order."""

from __future__ import annotations

import pytest

import scenarios
from economy import EconomyError


def _tables(model) -> dict[str, str]:
    """Every table's rows, as text (NaN equals NaN there, as bytes on disk do)."""
    model.finish()
    return {name: repr(table.to_arrow().to_pylist())
            for name, table in model.recorder.tables.items()}


def _build(small_market, write_toml):
    return scenarios.build(scenarios.load_scenario(write_toml(small_market, "phases")))


def test_phases_by_hand_advance_the_clock_and_the_ledger(small_market, write_toml) -> None:
    """begin_tick / observe / resolve / end_tick three times leaves the model and the ledger
    at tick 3 (the documented external-controller API moves time, as step() does)."""
    model = _build(small_market, write_toml).model
    assert (model.tick, model.ledger.now) == (0, 0)
    for expected in (1, 2, 3):
        model.begin_tick()
        decisions = [(p, p.decide(model.observe(p))) for p in model.participants]
        model.resolve(decisions)
        model.end_tick()
        assert (model.tick, model.ledger.now) == (expected, expected)
        assert model.observe(model.participants[0]).tick == expected


@pytest.mark.parametrize("backend", ["memory", "evm"])
def test_phases_by_hand_give_the_same_bytes_as_step(small_market, write_toml,
                                                     backend) -> None:
    """Every table and the summary of a run driven phase by phase equal those of step()."""
    small_market["ledger"]["backend"] = backend
    small_market["ticks"] = 12
    stepped = _build(small_market, write_toml).model
    by_hand = _build(small_market, write_toml).model
    for _ in range(12):
        stepped.step()
        by_hand.begin_tick()
        by_hand.resolve([(p, p.decide(by_hand.observe(p))) for p in by_hand.participants])
        by_hand.end_tick()
    assert stepped.summary()["jobs_completed"] > 0  # something happened worth comparing
    assert _tables(stepped) == _tables(by_hand)
    assert stepped.summary() == by_hand.summary()


def test_observe_is_the_same_within_a_tick(small_market, write_toml) -> None:
    """Observing twice in one tick shows the same state, results included (a controller may
    look before it decides)."""
    model = _build(small_market, write_toml).model
    for _ in range(8):
        model.step()
    model.begin_tick()
    for p in model.participants:
        first, second = model.observe(p), model.observe(p)
        assert (first.results, first.jobs, first.orders, first.balance) == (
            second.results, second.jobs, second.orders, second.balance)
    model.resolve([(p, p.decide(model.observe(p))) for p in model.participants])
    model.end_tick()


def test_phases_out_of_order_are_refused(small_market, write_toml) -> None:
    """resolve or end_tick without an open tick, or begin_tick twice, raise EconomyError
    naming the call to make; the run can go on afterwards."""
    model = _build(small_market, write_toml).model
    with pytest.raises(EconomyError, match=r"begin_tick\(\) first"):
        model.resolve([])
    with pytest.raises(EconomyError, match=r"begin_tick\(\) first"):
        model.end_tick()
    model.begin_tick()
    with pytest.raises(EconomyError, match=r"call end_tick\(\)"):
        model.begin_tick()
    model.resolve([])
    model.end_tick()
    model.step()
    assert model.tick == 2
