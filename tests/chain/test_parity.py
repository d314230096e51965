"""Differential, model-based tests: the contracts (evm, rpc) against the reference ledger.

chain.checks.check_ledger drives random action sequences of every op kind (jobs, twins, stakes,
leases, slashes, the royalty graph, data pools), valid and invalid (wrong actors and states,
amounts beyond balances, stakes and the cap, overflowing products, bad nonces, expired
deadlines, wrong chain ids, wrong signers, replays), under protocol rules drawn per example
(both royalty modes, evaluator paid on reject or not, ...), through the reference
`MemoryLedger`, whose own invariants it checks, with the same signed actions executed alongside
by the contracts on pyrevm and, with a hardhat node (always in CI), on a JSON-RPC node. After
every action the backends must agree on the decision (ok and code) and on every event row;
after every step (at the end, for the node) on balances, supply, nonces, jobs, twins, leases,
stakes, assets, pools and the state hash; replaying the log on a fresh backend reproduces it.
"""

from __future__ import annotations

import pytest

from chain import (
    ASSETS_ADDRESS,
    BURN_ADDRESS,
    COMPUTE_ADDRESS,
    CompleteJob,
    CreateJob,
    FundJob,
    Identity,
    Intent,
    LedgerParams,
    LinkAsset,
    MemoryLedger,
    Mint,
    RegisterAsset,
    RegisterTwin,
    SetProvider,
    SignedIntent,
    SubmitJob,
    TransferTwin,
    check_ledger,
    job_id_for,
)
from chain.evm import EvmLedger
from chain.node import rpc_request
from chain.rpc import RpcLedger

CAST = [Identity.derive(77, i, label=name)
        for i, name in enumerate(("protocol", "treasury", "ann", "ben", "cat"))]
PROTOCOL, TREASURY = CAST[0], CAST[1]


def _at_canonical_addresses(ledger):
    """The contracts sit at the canonical addresses the reference ledger uses."""
    reference = MemoryLedger(ledger.params, protocol=PROTOCOL.address,
                             treasury=TREASURY.address)
    assert (ledger.domain, ledger.escrow) == (reference.domain, reference.escrow)
    assert (ledger.compute, ledger.assets) == (COMPUTE_ADDRESS, ASSETS_ADDRESS)
    return ledger


def _evm(params, **kw):
    return _at_canonical_addresses(EvmLedger(params, **kw))


def test_evm_parity():
    """Random action sequences give the reference's decisions, events and state on pyrevm."""
    check_ledger(_evm, signatures="off", max_examples=50, steps=40, seed=3)


def test_verified_evm_parity():
    """The same with every signature checked: by eth-account in memory, on-chain by the Hub."""
    check_ledger(_evm, signatures="verify", max_examples=6, steps=30, seed=4)


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

    def on_node(params, **kw):
        assert rpc_request(node.url, "evm_revert", [snapshot[0]])
        snapshot[0] = rpc_request(node.url, "evm_snapshot", [])
        return _at_canonical_addresses(RpcLedger(params, url=node.url, **kw))

    # each view costs dozens of calls: compared after the last step
    check_ledger(on_node, signatures="verify", max_examples=3, steps=25, every_step=False,
                 seed=5)


@pytest.mark.parametrize("mode", ["lrp", "lap"])
def test_densest_royalty_graph_pays_identically(mode):
    """The royalty graph at its bounds (16 ancestors, each linking the 4 before it, 625 bps
    each: 42,743 paths up the graph): the contracts pay exactly the reference's rows, in
    order, in both modes, one row per ancestor (lrp sums what reaches an asset over its
    children and splits it once, so the paths never multiply)."""
    params = LedgerParams(signatures="off", supply_cap=2**255, royalty_mode=mode,
                          platform_fee_bps=0, evaluator_fee_bps=0)
    owners = [Identity.derive(606, i) for i in range(18)]
    ledgers = [MemoryLedger(params, protocol=PROTOCOL.address, treasury=TREASURY.address),
               EvmLedger(params, protocol=PROTOCOL.address, treasury=TREASURY.address)]
    keys = [f"dense/{i}" for i in range(17)]
    client, evaluator, provider = owners[0], owners[17], CAST[2]
    job = job_id_for(client.address, 1)
    actions = [(PROTOCOL, Mint(to=client.address, amount=10**39))]
    for i, key in enumerate(keys):
        actions.append((owners[i], RegisterAsset(key=key, kind="data", content_hash=b"",
                                                 royalty_bps=625 if i < 16 else 0)))
        actions += [(owners[i], LinkAsset(child=key, parent=keys[j]))
                    for j in range(max(0, i - 4), i)]
    actions += [(client, CreateJob(evaluator=evaluator.address, assigner=BURN_ADDRESS,
                                   budget=10**39, expires_at=100)),
                (client, FundJob(job_id=job, expected_budget=10**39)),
                (client, SetProvider(job_id=job, provider=provider.address)),
                (provider, SubmitJob(job_id=job, deliverable=b"", policy=keys[-1])),
                (evaluator, CompleteJob(job_id=job))]
    for who, op in actions:
        results, events = [], []
        for ledger in ledgers:
            intent = Intent(sender=who.address, nonce=ledger.nonce_of(who.address),
                            deadline=10, op=op)
            result = ledger.execute(SignedIntent(intent=intent, signature=None,
                                                 chain_id=params.chain_id))
            results.append((result.ok, result.code))
            events.append(ledger.drain_events())
        assert results[0] == results[1] == (True, "ok"), op
        assert events[0] == events[1], op
    royalties = sum(1 for e in events[0] if e[6] == "royalty")
    assert royalties == 16
    assert ledgers[0].state_hash() == ledgers[1].state_hash()
    ledgers[1].check_invariants()


def test_strings_over_their_limits_are_refused_alike():
    """An action too long to send (fields over 320 bytes encoded) is malformed on both
    backends, its nonce unused; a string just over its limit breaks a rule on both, its nonce
    used; and a twin asset is linked by the twin's current owner on both."""
    params = LedgerParams(signatures="off")
    ledgers = [MemoryLedger(params, protocol=PROTOCOL.address, treasury=TREASURY.address),
               EvmLedger(params, protocol=PROTOCOL.address, treasury=TREASURY.address)]
    ann, ben = CAST[2], CAST[3]
    steps = [
        (ann, LinkAsset(child="x" * 200, parent="y"), (False, "malformed")),
        (ann, LinkAsset(child="x" * 65, parent="y"), (False, "invalid_state")),
        (ann, RegisterAsset(key="k" * 300, kind="data", content_hash=b"", royalty_bps=0),
         (False, "malformed")),
        (ann, RegisterTwin(key="w/a", version="1", spec_hash=b"")),
        (ann, RegisterAsset(key="w/a", kind="twin", content_hash=b"", royalty_bps=100)),
        (ben, RegisterAsset(key="d/b", kind="data", content_hash=b"", royalty_bps=100)),
        (ann, TransferTwin(key="w/a", to=ben.address)),
        (ann, LinkAsset(child="w/a", parent="d/b"), (False, "unauthorized")),
        (ben, LinkAsset(child="w/a", parent="d/b")),
    ]
    for who, op, *expected in steps:
        outcomes = []
        for ledger in ledgers:
            intent = Intent(sender=who.address, nonce=ledger.nonce_of(who.address),
                            deadline=10, op=op)
            result = ledger.execute(SignedIntent(intent=intent, signature=None,
                                                 chain_id=params.chain_id))
            outcomes.append(((result.ok, result.code), ledger.drain_events(),
                             ledger.nonce_of(who.address)))
        assert outcomes[0] == outcomes[1], op
        assert outcomes[0][0] == (expected[0] if expected else (True, "ok")), op
    assert ledgers[0].state_hash() == ledgers[1].state_hash()
