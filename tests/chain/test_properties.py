"""Property tests of the reference ledger: chain.checks.check_ledger on MemoryLedger itself.

The checker drives random action sequences of every op kind from a small cast (valid and
invalid: wrong actor, wrong job or lease state, amounts beyond balances, stakes and the supply
cap, overflowing products, bad nonces, expired deadlines, wrong chain ids, wrong signers,
replays) while the clock advances, under protocol rules drawn per example (fees, both royalty
modes, the evaluator paid on reject or not, min expiry, min stake, slash reward, data fee), and
after every step checks the ledger's invariants from the outside: conservation; events
reconstruct balances; jobs, leases and stakes move only along their rules and their money
exactly (paid + refunded = locked, claims within locks, no double payout); the compute module
holds exactly open locks plus stakes; royalty splits sum to the service paid and follow
chain.royalty; data uses split exactly and consume each usage record once; the asset graph
stays acyclic and within its bounds. At the end it replays the action log on a fresh ledger:
same state hash, same events. (The rules themselves: chain/_check_driver.py.)
"""

from __future__ import annotations

from chain import MemoryLedger, check_ledger


def test_reference_ledger_keeps_every_rule():
    """MemoryLedger keeps every rule the checker knows, signatures off (many long runs)."""
    check_ledger(MemoryLedger, reference=False, signatures="off", max_examples=150, steps=50,
                 seed=1)


def test_reference_ledger_keeps_every_rule_with_verified_signatures():
    """The same with every action signed and verified (wrong signers included)."""
    check_ledger(MemoryLedger, reference=False, signatures="verify", max_examples=6, steps=30,
                 seed=2)
