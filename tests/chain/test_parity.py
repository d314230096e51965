"""Differential, model-based tests: the contracts (evm, rpc) against the reference ledger.

The property machine of test_properties drives random action sequences, valid and invalid
(wrong actors and states, amounts beyond balances and the cap, bad nonces, expired deadlines,
wrong chain ids, wrong signers, replays), through the reference `MemoryLedger`, whose own
invariants it checks, with the same signed actions executed alongside by the contracts on
pyrevm and, with a hardhat node (always in CI), on a JSON-RPC node. After every action the
backends must agree on the decision (ok and code) and on every event row; after every step
(at the end, for the node) on balances, supply, nonces, jobs, twins and the state hash.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from chain.evm import EvmLedger
from chain.node import rpc_request
from chain.rpc import RpcLedger
from tests.chain.test_properties import CAST, PROTOCOL, TREASURY, LedgerMachine


class EvmParityMachine(LedgerMachine):
    """Reference ledger and the contracts on pyrevm, side by side."""

    def _new_mirrors(self) -> list:
        evm = EvmLedger(self.params, protocol=PROTOCOL.address, treasury=TREASURY.address)
        # the contracts sit at the canonical addresses the reference ledger uses
        assert (evm.domain, evm.escrow) == (self.ledger.domain, self.ledger.escrow)
        return [evm]


class VerifiedEvmParityMachine(EvmParityMachine):
    """The same with every signature checked: by eth-account in memory, on-chain by the Hub."""

    SIGNATURES = "verify"


TestEvmParity = EvmParityMachine.TestCase
TestEvmParity.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestVerifiedEvmParity = VerifiedEvmParityMachine.TestCase
TestVerifiedEvmParity.settings = settings(
    max_examples=6, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def fresh_node(hardhat_installed):
    """A node of this module's own, with a snapshot of its empty chain to go back to, so
    each example deploys the contracts at their canonical addresses (deployer nonce 0)."""
    from chain.node import LocalNode

    node = LocalNode.start()
    try:
        yield node, rpc_request(node.url, "evm_snapshot", [])
    finally:
        node.stop()


@pytest.mark.rpc
def test_rpc_parity(fresh_node):
    """Random action sequences give the same decisions, events and state on a hardhat node."""
    node, empty = fresh_node
    snapshot = [empty]

    class RpcParityMachine(LedgerMachine):
        SIGNATURES = "verify"
        COMPARE_EVERY_STEP = False  # each view costs dozens of calls; compared at the end

        def _new_mirrors(self) -> list:
            assert rpc_request(node.url, "evm_revert", [snapshot[0]])
            snapshot[0] = rpc_request(node.url, "evm_snapshot", [])
            ledger = RpcLedger(self.params, protocol=PROTOCOL.address,
                               treasury=TREASURY.address, url=node.url)
            ledger.enroll(CAST)
            assert (ledger.domain, ledger.escrow) == (self.ledger.domain, self.ledger.escrow)
            return [ledger]

    run = RpcParityMachine.TestCase
    run.settings = settings(max_examples=5, stateful_step_count=25, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])
    run().runTest()
