"""chain.checks.check_ledger: it passes the shipped backends and names the rule a broken
ledger breaks."""

from __future__ import annotations

import pytest

from chain import ChainError, LedgerCheckFailed, MemoryLedger, check_ledger
from chain.evm import EvmLedger


class UnburnedLedger(MemoryLedger):
    """Forgets to count the burned share of fees: reports nothing ever burned."""

    @property
    def burned(self) -> int:
        return 0


class NonceReusingLedger(MemoryLedger):
    """Lets every sender use its first nonce twice."""

    def execute(self, signed):
        result = super().execute(signed)
        if signed.intent.nonce == 0 and result.code not in (
                "wrong_domain", "bad_signature", "bad_nonce", "deadline_passed", "malformed"):
            self._state.nonces[signed.intent.sender] = 0
        return result


def test_check_ledger_passes_the_shipped_backends():
    """The reference ledger alone and the contracts on pyrevm beside it pass (a few runs;
    the long runs are test_properties and test_parity)."""
    assert check_ledger(MemoryLedger, reference=False, max_examples=10, steps=25) is None
    assert check_ledger(EvmLedger, max_examples=4, steps=25, seed=7) is None


def test_a_ledger_that_forgets_burns_breaks_conservation():
    """A ledger whose burns go uncounted fails a conservation rule, with what was expected
    and got and the steps that led there."""
    conservation = r'rule "(supply is conserved|events reconstruct balances)" broken'
    with pytest.raises(LedgerCheckFailed, match=conservation) as caught:
        check_ledger(UnburnedLedger, reference=False, signatures="off", max_examples=60,
                     steps=30, shrink=False)
    message = str(caught.value)
    assert "UnburnedLedger" in message and "expected" in message and "got" in message
    assert "steps that led there" in message and "Mint(" in message
    assert caught.value.code == "ledger_check_failed"


def test_a_ledger_that_reuses_nonces_is_caught():
    """A ledger that lets a nonce be used again fails the one-nonce-per-action rule, and
    beside the reference it fails as a backend that decides differently."""
    with pytest.raises(LedgerCheckFailed,
                       match="an authenticated action consumes exactly one nonce"):
        check_ledger(NonceReusingLedger, reference=False, signatures="off", max_examples=30,
                     steps=10, shrink=False)
    with pytest.raises(LedgerCheckFailed, match='rule "the backend decides as the reference"'):
        check_ledger(NonceReusingLedger, signatures="off", max_examples=30, steps=10,
                     shrink=False)


def test_a_factory_must_make_a_ledger():
    """A factory returning something without the Ledger surface is refused by name."""
    with pytest.raises(LedgerCheckFailed, match="the factory makes a Ledger"):
        check_ledger(lambda params, **kw: object(), max_examples=1, steps=1, shrink=False)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(max_examples=0), "max_examples and steps must be ints >= 1"),
    (dict(signatures="maybe"), "signatures must be 'verify', 'off' or None"),
])
def test_bad_arguments_are_refused(kwargs, match):
    """Out-of-range arguments raise ChainError before anything runs."""
    with pytest.raises(ChainError, match=match):
        check_ledger(MemoryLedger, **kwargs)
