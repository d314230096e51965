"""Settled token transfers per second through the Ledger API (MemoryLedger).

Side by side in one run, on the same machine state:
- a bare dict update (the floor: what any Python ledger must at least do);
- `MemoryLedger.execute` with signatures off, without and with a transfer fee (nonce,
  deadline, fee split, one event row per movement);
- `MemoryLedger.execute` with signatures verified (EIP-712 recovery per action);
- signing itself (eth-account), which an agent pays before it submits.
Not a test: run `python bench/bench_ledger.py`.
"""

from __future__ import annotations

import gc
import time

from chain import Identity, Intent, LedgerParams, MemoryLedger, Mint, SignedIntent, Transfer, sign


def _ledger(signatures: str, fee_bps: int) -> tuple[MemoryLedger, Identity, Identity]:
    protocol, treasury = Identity.derive(0, 1), Identity.derive(0, 2)
    a, b = Identity.derive(0, 3), Identity.derive(0, 4)
    ledger = MemoryLedger(LedgerParams(signatures=signatures, transfer_fee_bps=fee_bps),
                          protocol=protocol.address, treasury=treasury.address)
    mint = Intent(sender=protocol.address, nonce=0, deadline=1, op=Mint(to=a.address,
                                                                         amount=10**26))
    ledger.execute(sign(mint, protocol, ledger.domain))
    return ledger, a, b


def bare(n: int) -> float:
    balances = {"a": 10**26, "b": 0}
    t0 = time.perf_counter()
    for _ in range(n):
        balances["a"] -= 1000
        balances["b"] += 1000
    return n / (time.perf_counter() - t0)


def execute(n: int, signatures: str, fee_bps: int = 50) -> tuple[float, float]:
    ledger, a, b = _ledger(signatures, fee_bps)
    t0 = time.perf_counter()
    actions = []
    for nonce in range(n):
        intent = Intent(sender=a.address, nonce=nonce, deadline=1,
                        op=Transfer(to=b.address, amount=1000))
        actions.append(sign(intent, a, ledger.domain) if signatures == "verify" else
                       SignedIntent(intent=intent, signature=None, chain_id=ledger.domain.chain_id))
    sign_rate = n / (time.perf_counter() - t0)
    gc.collect()
    gc.freeze()  # the prepared actions are not the subject: keep GC from rescanning them
    t0 = time.perf_counter()
    for action in actions:
        if not ledger.execute(action).ok:
            raise RuntimeError("a benchmark transfer was rejected")
    rate = n / (time.perf_counter() - t0)
    gc.unfreeze()
    ledger.check_invariants()
    return rate, sign_rate


def main() -> None:
    floor = bare(1_000_000)
    no_fee, _ = execute(200_000, "off", fee_bps=0)
    off, _ = execute(200_000, "off")
    verify, signing = execute(2_000, "verify")
    print(f"bare dict update          {floor:>12,.0f} /s")
    print(f"MemoryLedger, sigs off, no transfer fee "
          f"{no_fee:>10,.0f} transfers/s  ({floor / no_fee:.1f}x the floor)")
    print(f"MemoryLedger, sigs off, 50 bps fee      "
          f"{off:>10,.0f} transfers/s  ({floor / off:.1f}x the floor; 3 events per transfer)")
    print(f"MemoryLedger, sigs verify, 50 bps fee   {verify:>10,.0f} transfers/s  "
          f"({off / verify:.0f}x slower than off)")
    print(f"signing an action (eth-account)         {signing:>10,.0f} actions/s")


if __name__ == "__main__":
    main()
