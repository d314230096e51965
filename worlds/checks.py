"""A compliance checker a twin author runs on their own twin (and env) before registering it.

``check_twin(twin)`` checks: that the twin has the `ServiceTwin` surface, the spec's JSON
round trip and hash stability, that a twin rebuilt from the round-tripped spec has the same
id, determinism of `orders`, `solve` and `evaluate` for fixed seeds, that `cu_for` matches the
CU `evaluate` charges, that every reference solver returns a valid plan, and the tiers: L1 is
offered and `evaluator("L1")` answers as `evaluate` does, every other offered tier's
evaluator names its tier and is deterministic with its `cu_for` charged, and a tier the twin
does not offer raises `UnknownTier`. It uses only the twin's public surface, so any twin with
that surface can be checked. ``check_env(factory)`` checks a PettingZoo parallel env.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from worlds.errors import UnknownTier, WorldError
from worlds.spec import TwinSpec
from worlds.tier import Tier

__all__ = ["check_env", "check_twin"]


def _fail(what: str, expected: Any, got: Any, fix: str) -> WorldError:
    return WorldError(f"check_twin: {what}: expected {expected!r}, got {got!r}; {fix}")


#: What `check_twin` reads of a twin (the `ServiceTwin` protocol).
_SURFACE = ("spec", "twin_id", "solvers", "baseline_method", "plan_type", "tiers", "tier", "hz",
            "orders", "solve", "cu_for", "evaluate", "baseline", "evaluator")


def check_twin(twin: Any, *, seed: int = 12345, tick_ms: int = 3_600_000,
               n_orders: int = 5, env: Any = None, tiers: Sequence[str] | None = None) -> None:
    """Run the twin compliance checks; return None if all pass.

    Args:
        twin: the twin to check.
        seed: seed for the order draw and the evaluations.
        tick_ms: tick length used to draw orders (long enough to get some).
        n_orders: how many drawn orders to solve and evaluate at most.
        env: the twin's PettingZoo `parallel_env` factory, to check as well (`check_env`).
        tiers: the offered tiers whose evaluators to exercise (None: all of them; an L2
            physics tier runs MuJoCo). The unknown-tier check runs either way.

    Raises:
        WorldError: the first check that fails, saying what was expected and what was got.
    """
    missing = [name for name in _SURFACE if not hasattr(twin, name)]
    if missing:
        raise _fail("the ServiceTwin surface", "all of " + ", ".join(_SURFACE),
                    f"{type(twin).__name__} lacks {', '.join(missing)}",
                    "implement worlds.protocols.ServiceTwin (or build on a shipped twin)")
    spec = twin.spec
    if not isinstance(spec, TwinSpec):
        raise _fail("twin.spec type", "TwinSpec", type(spec).__name__,
                    "expose the TwinSpec the twin was built from")
    again = TwinSpec.from_json(spec.to_json())
    if again != spec or again.sha256 != spec.sha256:
        raise _fail("spec JSON round trip", spec.sha256, again.sha256,
                    "keep the spec body to ints, strs, bools, lists and dicts")
    if spec.canonical_json() != again.canonical_json():
        raise _fail("canonical JSON stability", "identical bytes", "different bytes",
                    "do not mutate spec.body after building the spec")
    if twin.twin_id != spec.id:
        raise _fail("twin_id", spec.id, twin.twin_id, "derive twin_id from spec.id")
    rebuilt = type(twin)(again)
    if rebuilt.twin_id != twin.twin_id:
        raise _fail("twin rebuilt from round-tripped spec", twin.twin_id, rebuilt.twin_id,
                    "build every twin attribute from the spec alone")

    if twin.baseline_method not in twin.solvers:
        raise _fail("baseline_method", f"one of {twin.solvers}", twin.baseline_method,
                    "name one of the twin's own solvers as its baseline")

    orders = twin.orders(np.random.default_rng(seed), tick_ms)
    orders_again = rebuilt.orders(np.random.default_rng(seed), tick_ms)
    if orders != orders_again:
        raise _fail("orders() determinism for a fixed rng", orders[:1], orders_again[:1],
                    "draw only from the rng passed in")
    if not orders:
        raise _fail(f"orders drawn in tick_ms={tick_ms}", ">= 1", 0,
                    "raise the order rate or pass a longer tick_ms")

    for order in orders[:n_orders]:
        for method in twin.solvers:
            plan = twin.solve(order, method)
            if not isinstance(plan, twin.plan_type):
                raise _fail(f"solve({method!r}) result type", twin.plan_type.__name__,
                            type(plan).__name__, "return the twin's plan_type from solve")
            if rebuilt.solve(order, method) != plan:
                raise _fail(f"solve({order.order_id}, {method!r}) determinism", plan,
                            rebuilt.solve(order, method), "make solvers deterministic")
            ev = twin.evaluate(plan, order, seed)
            if not ev.valid:
                raise _fail(f"solver {method!r} on {order.order_id}", "a valid plan",
                            ev.reason, "fix the solver so its route is a valid walk")
            ev_again = rebuilt.evaluate(plan, order, seed)
            if ev_again != ev:
                raise _fail(f"evaluate determinism ({method!r}, seed {seed})", ev.receipt,
                            ev_again.receipt, "draw randomness only from the seed")
            cu = twin.cu_for(plan, order)
            if cu != ev.cu or cu != ev.receipt.cu or cu != rebuilt.cu_for(plan, order):
                raise _fail(f"CU for {method!r}", cu, ev.cu,
                            "compute CU from the request and the spec's metering only")
    _check_tiers(twin, orders[0], seed, tiers)
    if env is not None:
        check_env(lambda: env(spec=spec))


def _check_tiers(twin: Any, order: Any, seed: int, tiers: Sequence[str] | None) -> None:
    """The tier surface: offered tiers, each tier's evaluator, unknown tiers refused."""
    offered = tuple(map(str, twin.tiers))
    if Tier.L1 not in offered or not all(t in tuple(Tier) for t in offered):
        raise _fail("tiers", "a tuple of Tier values including 'L1'", offered,
                    "list the tiers evaluator() offers, L1 (the twin itself) among them")
    if twin.tier != Tier.L1 or twin.hz != 0:
        raise _fail("the twin's own tier and hz", ("L1", 0), (str(twin.tier), twin.hz),
                    "evaluate() is the L1 tier: set tier = Tier.L1 and hz = 0")
    plan = twin.solve(order, twin.baseline_method)
    for tier in map(str, offered if tiers is None else tiers):
        if tier not in offered:
            raise _fail(f"check_twin(tiers=...) names {tier!r}", f"one of {offered}", tier,
                        "ask only for tiers the twin offers")
        ev = twin.evaluator(tier)
        if ev.tier != tier:
            raise _fail(f"evaluator({tier!r}).tier", tier, str(ev.tier),
                        "return the evaluator of the tier asked for")
        cu = ev.cu_for(plan, order)
        got = ev.evaluate(plan, order, seed)
        if tier == Tier.L1 and got != twin.evaluate(plan, order, seed):
            raise _fail("evaluator('L1').evaluate", "what twin.evaluate gives", got.receipt,
                        "return the twin itself (or an equal evaluator) for L1")
        receipt = got.receipt
        if (receipt.tier, receipt.hz, receipt.twin_id) != (tier, ev.hz, twin.twin_id):
            raise _fail(f"the {tier} receipt", (tier, ev.hz, twin.twin_id),
                        (receipt.tier, receipt.hz, receipt.twin_id),
                        "record the evaluator's tier, hz and the twin id in its receipts")
        if cu != got.cu or cu != receipt.cu:
            raise _fail(f"{tier} CU", cu, got.cu, "charge exactly what cu_for quotes")
        again = ev.evaluate(plan, order, seed)
        if again != got:
            raise _fail(f"{tier} evaluate determinism (seed {seed})", got.receipt,
                        again.receipt, "draw randomness only from the seed")
    unoffered = [t.value for t in Tier if t not in offered]
    for bad in [*unoffered[:1], "L9"]:
        try:
            twin.evaluator(bad)
        except UnknownTier:
            continue
        except Exception as exc:  # any other error is the finding: report which it was
            raise _fail(f"evaluator({bad!r}) for a tier not offered", "UnknownTier",
                        type(exc).__name__, "raise worlds.errors.UnknownTier") from exc
        raise _fail(f"evaluator({bad!r}) for a tier not offered", "UnknownTier", "no error",
                    "raise worlds.errors.UnknownTier naming the tiers offered")


def _actions(env: Any, observations: dict, rng: np.random.Generator) -> dict:
    """One seeded random valid action per live agent (respecting an action mask if given)."""
    actions = {}
    for agent in env.agents:
        space = env.action_space(agent)
        obs = observations.get(agent)
        mask = obs.get("action_mask") if isinstance(obs, dict) else None
        if mask is not None and np.any(mask):
            actions[agent] = int(rng.choice(np.flatnonzero(mask)))
        elif hasattr(space, "n"):
            actions[agent] = int(space.start + rng.integers(space.n))
        else:
            space.seed(int(rng.integers(2**31)))
            actions[agent] = space.sample()
    return actions


def _trajectory(factory: Any, seed: int, steps: int) -> list:
    env = factory()
    observations, _ = env.reset(seed=seed)
    rng = np.random.default_rng(0)  # the same actions whatever the seed: the env must differ
    out = [repr(sorted(observations.items(), key=lambda kv: kv[0]))]
    for _ in range(steps):
        if not env.agents:
            break
        observations, rewards, terms, truncs, _ = env.step(_actions(env, observations, rng))
        out.append(repr((sorted(observations.items(), key=lambda kv: kv[0]),
                         sorted(rewards.items()), sorted(terms.items()),
                         sorted(truncs.items()))))
    env.close()
    return out


def check_env(factory: Any, *, seed: int = 7, steps: int = 30) -> None:
    """Run the PettingZoo parallel API test on `factory()` and a multi-step determinism check
    (PettingZoo 1.27's own seed test compares one step only): two environments reset with the
    same seed and driven by the same seeded valid actions agree for `steps` steps, and another
    seed gives another trajectory.

    Raises:
        WorldError: the API test or the determinism check fails.
    """
    from pettingzoo.test import parallel_api_test

    try:
        parallel_api_test(factory(), num_cycles=steps)
    except AssertionError as e:
        raise WorldError(f"check_env: the PettingZoo parallel API test failed: {e}") from e
    first, again = _trajectory(factory, seed, steps), _trajectory(factory, seed, steps)
    if first != again:
        step = next(i for i, (a, b) in enumerate(zip(first, again, strict=False)) if a != b)
        raise _fail(f"env determinism at step {step} (seed {seed})", "identical trajectories",
                    "different", "draw every random number from the reset seed")
    if _trajectory(factory, seed + 1, steps) == first:
        raise _fail("env seeding", "another trajectory for another seed", "the same",
                    "use the reset seed for the environment's randomness")
