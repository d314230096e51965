"""Signed intents: the fast EIP-712 digest against eth-account's generic encoder."""

from __future__ import annotations

import dataclasses

import pytest
from eth_abi import encode
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import OPS, Domain, Intent, Post, Transfer, params_hash

FAST = settings(max_examples=40, deadline=None)

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
uint256 = st.one_of(st.integers(0, 2**256 - 1), st.sampled_from([0, 1, 2**256 - 1]))
FIELD = {
    "address": addresses,
    "uint256": uint256,
    "uint64": st.integers(0, 2**64 - 1),
    "string": st.text(max_size=40),
    "bytes32": st.binary(min_size=32, max_size=32),
}


def op_fields(cls):
    return [f for f in dataclasses.fields(cls) if f.name not in ("KIND", "ABI")]


def ops_of(cls):
    """Any instance of the op class, each field drawn from its ABI type's full range."""
    fields = op_fields(cls)
    return st.builds(cls, **{f.name: FIELD[abi] for f, abi in zip(fields, cls.ABI, strict=True)})


domains = st.builds(
    Domain,
    name=st.text(max_size=20),
    version=st.text(max_size=5),
    chain_id=uint256,
    verifying_contract=addresses,
)


def intents(op_strategy):
    return st.builds(
        Intent, sender=addresses, nonce=uint256, deadline=uint256, op=op_strategy
    )


def reference_digest(intent: Intent, domain: Domain) -> bytes:
    """eth-account's generic EIP-712 encoding of the full typed-data message."""
    return _hash_eip191_message(encode_typed_data(full_message=domain.typed_data(intent)))


@pytest.mark.parametrize("kind", sorted(OPS))
def test_every_op_declares_one_abi_type_per_field(kind):
    """Each op's KIND is its key in OPS and its ABI lists one Solidity type per field, in order."""
    cls = OPS[kind]
    assert cls.KIND == kind
    assert len(op_fields(cls)) == len(cls.ABI)
    assert set(cls.ABI) <= set(FIELD)


@pytest.mark.parametrize("kind", sorted(OPS))
@FAST
@given(data=st.data())
def test_fast_digest_equals_eth_account_encoder(kind, data):
    """Intent.digest (hand-rolled EIP-712) equals eth-account's encode_typed_data hash."""
    intent = data.draw(intents(ops_of(OPS[kind])), label="intent")
    domain = data.draw(domains, label="domain")
    expected = reference_digest(intent, domain)
    assert intent.digest(domain) == expected


@FAST
@given(intent=intents(ops_of(Transfer)), a=uint256, b=uint256)
def test_chain_id_separates_digests(intent, a, b):
    """A signature for one chain id is worthless on another: the digests differ."""
    if a == b:
        b = (a + 1) % 2**256
    assert intent.digest(Domain(chain_id=a)) != intent.digest(Domain(chain_id=b))


@FAST
@given(op=ops_of(Post), other=ops_of(Post), nonce=uint256)
def test_params_hash_commits_to_every_field(op, other, nonce):
    """params_hash is keccak of the ABI encoding, so different params give different digests."""
    assert params_hash(op) == keccak(encode(list(Post.ABI), [op.topic, op.ref, op.data]))
    domain = Domain()
    sender = "0x" + "11" * 20
    mine = Intent(sender=sender, nonce=nonce, deadline=1, op=op)
    theirs = Intent(sender=sender, nonce=nonce, deadline=1, op=other)
    assert (mine.digest(domain) == theirs.digest(domain)) == (op == other)


def test_kind_separates_ops_with_equal_encodings():
    """Two op kinds with identical field encodings still sign different digests (kind is hashed)."""
    from chain import CompleteJob, RejectJob

    a = Intent(sender="0x" + "22" * 20, nonce=0, deadline=0, op=CompleteJob(job_id=5))
    b = Intent(sender="0x" + "22" * 20, nonce=0, deadline=0, op=RejectJob(job_id=5))
    assert params_hash(a.op) == params_hash(b.op)
    assert a.digest(Domain()) != b.digest(Domain())
    assert a.digest(Domain()) == reference_digest(a, Domain())


@given(secret=st.integers(1, 2**256 - 2**129), digest=st.binary(min_size=32, max_size=32))
@settings(max_examples=60, deadline=None)
def test_signing_and_recovery_equal_eth_account(secret, digest):
    """Signing through libsecp256k1 directly gives eth-account's bytes (RFC 6979, low s), and
    recovery names the same signer eth-account recovers."""
    from eth_account import Account

    from chain import Identity, SignedIntent, recover

    identity = Identity(secret.to_bytes(32, "big"))
    ours = identity.sign_digest(digest)
    assert ours == bytes(Account.unsafe_sign_hash(digest, identity._secret).signature)
    intent = Intent(sender=identity.address, nonce=0, deadline=1, op=Post(topic="t", ref=1))
    domain = Domain()
    signed = SignedIntent(intent=intent, signature=identity.sign_digest(intent.digest(domain)),
                          chain_id=domain.chain_id)
    assert recover(signed, domain) == identity.address == Account._recover_hash(
        intent.digest(domain), signature=signed.signature)


@given(values=st.lists(st.integers(0, 2**256 - 1), min_size=4, max_size=4),
       to=st.binary(min_size=20, max_size=20), flow=st.text(max_size=40),
       blob=st.binary(max_size=32))
def test_fast_abi_encoder_equals_eth_abi(values, to, flow, blob):
    """chain.abi.encode is eth_abi.encode for the types operations use."""
    from chain.abi import encode as fast

    address = to_checksum_address(to)
    types = ["address", "uint256", "string", "uint64", "bytes32", "string", "uint256"]
    row = [address, values[0], flow, values[1] % 2**64, blob, flow[::-1], values[2]]
    assert fast(types, row) == encode(types, row)
