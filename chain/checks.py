"""A conformance checker a backend author runs on their own ledger: `check_ledger(factory)`.

It drives random sequences of valid and invalid signed actions of every op kind (jobs, twins,
stakes, leases, slashes, the royalty graph, data pools; wrong actors and states, amounts beyond
balances and the cap, overflowing products, bad nonces, expired deadlines, wrong chain ids,
wrong signers, replays) under protocol rules drawn per example, through fresh ledgers made by
`factory`. After every action it checks the decision, the nonces and the event rows; after
every step the ledger's invariants, from the outside (conservation; events reconstruct
balances; jobs, leases, stakes, pools and the asset graph follow their rules and move their
money exactly); at the end it replays the action log on a fresh ledger and requires the same
events and state. With `reference=True` the reference `MemoryLedger` runs beside it and the
backend must make the same decisions, record the same events and hold the same state.

It uses only the `Ledger` protocol (chain.protocols), so any ledger with that surface can be
checked. Its accounts must sit at the canonical addresses (chain.deployment), as on a fresh
chain: the module accounts appear in the event rows, and the Hub is the verifying contract of
every signature. On a node, have the factory go back to a snapshot of the empty chain before it
deploys (tests/chain/test_parity.py does). The first broken rule raises `LedgerCheckFailed`
naming the rule, what was expected and got, and the (shrunk) steps that led there.

hypothesis drives it and is imported only when `check_ledger` is called.
"""

from __future__ import annotations

from collections.abc import Callable

from chain.errors import ChainError
from chain.protocols import Ledger

__all__ = ["check_ledger"]


def check_ledger(factory: Callable[..., Ledger], *, max_examples: int = 50, steps: int = 40,
                 seed: int | None = 0, reference: bool = True, signatures: str | None = None,
                 every_step: bool = True, shrink: bool = True) -> None:
    """Check a ledger backend against the Ledger protocol's rules; return None if it passes.

    Args:
        factory: `factory(params: LedgerParams, *, protocol: Address, treasury: Address)`
            returns a fresh ledger of the backend under test (`MemoryLedger`, `EvmLedger`,
            `lambda p, **kw: RpcLedger(p, url=url, **kw)`); it is called once an example and
            once more to replay it.
        max_examples: how many random runs (each a fresh ledger and rule set).
        steps: the most steps (rules, each one or a few actions) in a run.
        seed: the random seed (the same seed, the same runs); None draws one.
        reference: run `MemoryLedger` beside the backend and require the same decisions,
            events and state (pass False to check the reference itself, or a ledger whose
            rules differ on purpose).
        signatures: "verify" or "off" for every run; None draws one per run.
        every_step: check invariants and compare with the reference after every step; False
            checks them after the last step only (for a ledger whose reads are slow, a node).
        shrink: on a failure, search for the shortest steps that still fail (slower; the
            message then shows those).

    Raises:
        LedgerCheckFailed: the first rule the ledger broke (what, expected, got, the steps).
        ChainError: an argument out of range.
    """
    if not callable(factory):
        raise ChainError(f"check_ledger: factory must be callable, got {factory!r}; pass a "
                         "ledger class or a function (params, *, protocol, treasury) -> Ledger")
    if type(max_examples) is not int or max_examples < 1 or type(steps) is not int or steps < 1:
        raise ChainError(f"check_ledger: max_examples and steps must be ints >= 1, got "
                         f"{max_examples!r} and {steps!r}")
    if signatures not in (None, "verify", "off"):
        raise ChainError(f"check_ledger: signatures must be 'verify', 'off' or None (both), "
                         f"got {signatures!r}")
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as with_seed
    from hypothesis.stateful import run_state_machine_as_test

    from chain._check_rules import LedgerMachine

    machine = type("CheckedLedger", (LedgerMachine,), {
        "FACTORY": staticmethod(factory), "REFERENCE": reference, "EVERY_STEP": every_step,
        "SIGNATURES": None if signatures is None else str(signatures)})
    if seed is not None:
        machine = with_seed(seed)(machine)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=max_examples, stateful_step_count=steps, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
        print_blob=False, phases=[p for p in Phase if shrink or p is not Phase.shrink]))
