"""Identities: seeded derivation, addresses, keystores, signing, and never printing a key."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_utils import is_checksum_address, keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import Domain, Identity, Intent, KeystoreError, Post, recover, sign
from chain.identity import address_of_key

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
FAST = settings(max_examples=60, deadline=None)
SECRET = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")

seeds = st.integers(min_value=0, max_value=2**256 - 1)
indices = st.integers(min_value=0, max_value=2**32)
secrets = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))


@FAST
@given(seed=seeds, index=indices)
def test_derivation_is_deterministic(seed, index):
    """The same (seed, index) always derives the same key, address and signatures."""
    a, b = Identity.derive(seed, index), Identity.derive(seed, index, label="other label")
    assert a.address == b.address
    assert is_checksum_address(a.address)
    digest = keccak(b"same message")
    assert a.sign_digest(digest) == b.sign_digest(digest)  # RFC 6979: deterministic k


@FAST
@given(seed=seeds, index=indices, other=indices)
def test_different_index_gives_a_different_identity(seed, index, other):
    """Two agents of one run (different indices) never share an address."""
    if index == other:
        other = index + 1
    assert Identity.derive(seed, index).address != Identity.derive(seed, other).address


@FAST
@given(seed=seeds, other=seeds, index=indices)
def test_different_seed_gives_a_different_identity(seed, other, index):
    """The same agent index in runs with different seeds has different addresses."""
    if seed == other:
        other = (seed + 1) % 2**256
    assert Identity.derive(seed, index).address != Identity.derive(other, index).address


def test_derivation_golden():
    """Derivation is a stable function of (seed, index): changing it changes every run's keys."""
    identity = Identity.derive(0, 0)
    material = b"twinecon/identity/v1" + bytes(32) + bytes(32) + bytes(4)
    assert identity.address == Account.from_key(keccak(material)).address


@FAST
@given(secret=secrets)
def test_address_of_key_matches_eth_account(secret):
    """address_of_key (coincurve + keccak) equals eth-account's address for the same key."""
    expected = Account.from_key(secret).address
    assert address_of_key(secret) == expected
    identity = Identity(secret)
    assert identity.address == expected
    assert identity.account.address == expected


@pytest.mark.parametrize(
    "secret",
    [bytes(32), SECP256K1_N.to_bytes(32, "big"), (2**256 - 1).to_bytes(32, "big"), b"\x01" * 31],
    ids=["zero", "n", "max", "short"],
)
def test_invalid_private_keys_are_refused(secret):
    """A private key must be 32 bytes in [1, n) of secp256k1."""
    with pytest.raises(KeystoreError, match=r"32 bytes in \[1, n\)"):
        Identity(secret)


def test_keystore_round_trip(tmp_path):
    """A key written to a keystore loads back as the same identity, labelled by file stem."""
    identity = Identity(SECRET, label="alice")
    path = identity.to_keystore(tmp_path / "alice.json", "correct horse", iterations=2**4)
    assert path == tmp_path / "alice.json"
    blob = json.loads(path.read_text())
    assert blob["crypto"]["kdf"] == "scrypt"
    assert SECRET.hex() not in path.read_text()
    loaded = Identity.from_keystore(path, "correct horse")
    assert loaded.address == identity.address
    assert loaded.label == "alice"
    assert Identity.from_keystore(path, "correct horse", label="a2").label == "a2"
    digest = keccak(b"x")
    assert loaded.sign_digest(digest) == identity.sign_digest(digest)


def test_keystore_wrong_password(tmp_path):
    """A wrong password raises KeystoreError naming the file, with no chained traceback."""
    path = Identity(SECRET).to_keystore(tmp_path / "k.json", "right", iterations=2**4)
    with pytest.raises(KeystoreError, match="cannot decrypt keystore") as info:
        Identity.from_keystore(path, "wrong")
    assert str(path) in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert info.value.code == "keystore"
    assert "right" not in str(info.value) and SECRET.hex() not in str(info.value)


def test_keystore_missing_and_corrupt_files(tmp_path):
    """A missing or corrupt keystore file raises KeystoreError, not a raw OSError/JSON error."""
    with pytest.raises(KeystoreError, match="no such keystore file"):
        Identity.from_keystore(tmp_path / "absent.json", "pw")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(KeystoreError, match="cannot decrypt"):
        Identity.from_keystore(bad, "pw")
    bad.write_text("{}")
    with pytest.raises(KeystoreError, match="cannot decrypt"):
        Identity.from_keystore(bad, "pw")


@FAST
@given(secret=secrets, label=st.text(max_size=20))
def test_repr_never_shows_the_private_key(secret, label):
    """repr and str of an identity show its label and address, never the private key."""
    identity = Identity(secret, label=label)
    for text in (repr(identity), str(identity), f"{identity}", repr([identity])):
        assert secret.hex() not in text.lower()
        assert identity.address in text
    assert not hasattr(identity, "__dict__")  # slots: no stray attribute can leak it


@settings(max_examples=25, deadline=None)
@given(seed=seeds, index=indices, nonce=st.integers(0, 2**64), chain_id=st.integers(1, 2**32))
def test_signature_recovers_to_signer(seed, index, nonce, chain_id):
    """sign() makes a signature that recovers to the signer's address, and only under its domain."""
    identity = Identity.derive(seed, index)
    domain = Domain(chain_id=chain_id)
    intent = Intent(sender=identity.address, nonce=nonce, deadline=7, op=Post(topic="t", ref=1))
    signed = sign(intent, identity, domain)
    assert signed.chain_id == chain_id
    assert len(signed.signature) == 65
    assert recover(signed, domain) == identity.address
    assert Account._recover_hash(intent.digest(domain), signature=signed.signature) == (
        identity.address
    )
    assert recover(signed, Domain(chain_id=chain_id + 1)) != identity.address
