"""Decoding the ledger contracts' event logs into the reference ledger's event rows.

Each log the contracts emit (Token's `Moved`, the Hub's `Rejected` and `Posted`, the modules'
state events) becomes the row `MemoryLedger` records for the same action, and tells the
`ContractLedger` which accounts, jobs, leases, twins, assets and pools it must mirror to read
the state back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from chain.flows import Flow
from chain.identity import Address
from chain.ops import Op, ref_of
from chain.protocols import BURN_ADDRESS

if TYPE_CHECKING:
    from chain.contract_ledger import ContractLedger

__all__ = ["Decoder", "address_of", "build_decoders", "dyn_at", "revert_code", "selector",
           "uint_at"]

#: A log's decoder: the address of the contract that logs it (lowercase) and the function
#: that records its rows, given the log's topics and data and the action's op; it returns the
#: rule code of a `Rejected` log, None for any other.
Decoder = tuple[str, Callable[[list[bytes], bytes, Op], "str | None"]]

#: How a Moved event's `ref` word reads, by flow (any other flow: a number, "" for 0): the
#: stake flows name the staker, the data flows the pool (a dust row not from the escrow is a
#: data use's); a burn by the compute module after a Slashed event names the offender.
_REF_ADDRESS = frozenset({Flow.STAKE, Flow.UNSTAKE, Flow.SLASH})
_REF_POOL = frozenset({Flow.DATA, Flow.DATA_FEE, Flow.POOL_FEE})
_REF_SPECIAL = _REF_ADDRESS | _REF_POOL | {Flow.BURN, Flow.DUST}
_TERMINAL_EVENTS = ("job_completed", "job_rejected", "job_expired")
_CODES = frozenset({"bad_signature", "bad_nonce", "deadline_passed", "unauthorized",
                    "insufficient_funds", "invalid_state", "cap_exceeded", "unknown_op"})


@lru_cache(maxsize=256)
def selector(signature: str) -> bytes:
    """The 4-byte selector of a function signature."""
    return keccak(text=signature)[:4]


def _topic(signature: str) -> bytes:
    return keccak(text=signature)


_ERROR = selector("Error(string)")


@lru_cache(maxsize=65_536)
def address_of(word_: bytes) -> Address:
    """The checksummed address in an ABI word."""
    return to_checksum_address(word_[-20:])


def uint_at(data: bytes, i: int) -> int:
    """ABI word `i` of `data` as an unsigned int."""
    return int.from_bytes(data[32 * i: 32 * i + 32], "big")


def dyn_at(data: bytes, i: int) -> bytes:
    """The dynamic `bytes`/`string` value whose offset is head word `i`."""
    offset = uint_at(data, i)
    length = int.from_bytes(data[offset: offset + 32], "big")
    return data[offset + 32: offset + 32 + length]


def revert_code(output: bytes) -> str:
    """The rule code a contract reverted with (empty revert data: an undecodable argument)."""
    if output[:4] == _ERROR:
        try:
            (text,) = abi_decode(["string"], output[4:])
        except (DecodingError, UnicodeDecodeError):  # garbled reason: no rule code to report
            return "invalid_state"
        if text.startswith("ecdsa:"):  # snekmate refused the signature's form (s, v, r)
            return "bad_signature"
        return text if text in _CODES else "invalid_state"
    return "invalid_state"


def build_decoders(ledger: ContractLedger) -> dict[bytes, Decoder]:
    """The decoder of each event the contracts log, by its topic: the contract that logs it
    and a function that turns one log into the ledger's event rows (and notes what the ledger
    mirrors: accounts, job, lease, twin, asset and pool ids). It returns the rule code of a
    `Rejected` log, None for any other."""
    hub, token = ledger.hub.lower(), ledger.token.lower()
    escrow, registry = ledger.escrow.lower(), ledger.registry.lower()
    compute, assets = ledger.compute.lower(), ledger.assets.lower()
    escrow_account, compute_account = ledger.escrow, ledger.compute
    zero = BURN_ADDRESS
    pool_by_id = ledger._pool_by_id

    def moved(topics: list[bytes], data: bytes, op: Op) -> None:
        payer, payee = address_of(topics[1]), address_of(topics[2])
        amount = uint_at(data, 0)
        flow = dyn_at(data, 1).decode()
        kind = "mint" if payer == zero else "burn" if payee == zero else "transfer"
        ledger._accounts.update((payer, payee))
        if flow in _REF_SPECIAL:
            ref = _special_ref(flow, payer, data[64:96])
        else:
            number = uint_at(data, 2)
            ref = str(number) if number else ""
        ledger._emit(kind, payer, payee, amount, flow, ref,
                     "funded" if flow == Flow.ESCROW_FUND else "")

    def _special_ref(flow: str, payer: str, ref: bytes) -> str:
        if flow in _REF_ADDRESS:
            if flow == Flow.STAKE:
                ledger._stakers.add(payer)
            return address_of(ref)
        if flow in _REF_POOL or (flow == Flow.DUST and payer != escrow_account):
            return pool_by_id[ref]
        if flow == Flow.BURN and payer == compute_account and ledger._slashed:
            return ledger._slashed  # a slash's burned share (its Slashed event came first)
        number = int.from_bytes(ref, "big")
        return str(number) if number else ""

    def rejected(topics: list[bytes], data: bytes, op: Op) -> str:
        code = revert_code(dyn_at(data, 2))
        ledger._emit("rejected", address_of(topics[1]), zero, 0, "", ref_of(op),
                     f"{op.KIND}:{code}")
        return code

    def posted(topics: list[bytes], data: bytes, op: Op) -> None:
        ledger._emit("post", address_of(topics[1]), zero, 0, dyn_at(data, 0).decode(),
                     str(uint_at(data, 1)), data[64:96].hex())

    def job_event(kind: str, detail: Callable[[bytes], str]) -> Callable:
        def decode(topics: list[bytes], data: bytes, op: Op) -> None:
            job_id = uint_at(topics[1], 0)
            if kind == "job_created":
                ledger._job_ids.add(job_id)
                ledger._open_jobs.add(job_id)
            elif kind in _TERMINAL_EVENTS:
                ledger._open_jobs.discard(job_id)
            ledger._emit(kind, address_of(topics[2]), address_of(data[:32]), 0, "", str(job_id),
                         detail(data))
        return decode

    def twin_event(kind: str) -> Callable:
        def decode(topics: list[bytes], data: bytes, op: Op) -> None:
            owner = address_of(topics[2])  # topics[1] is the twin's token id
            if kind == "twin_transferred":
                key = dyn_at(data, 0).decode()
                ledger._emit(kind, owner, address_of(topics[3]), 0, "", key, "")
                return
            if kind == "licence_set":
                ledger._emit(kind, owner, owner, 0, "", dyn_at(data, 0).decode(),
                             str(uint_at(data, 1)))
                return
            key, version = dyn_at(data, 0).decode(), dyn_at(data, 1).decode()
            ledger._twin_keys.add(key)
            ledger._emit(kind, owner, owner, 0, "", key, version)
        return decode

    def lease_event(kind: str, detail: Callable[[bytes], str]) -> Callable:
        def decode(topics: list[bytes], data: bytes, op: Op) -> None:
            lease_id = uint_at(topics[1], 0)
            if kind == "lease_opened":
                ledger._lease_ids.add(lease_id)
                ledger._open_leases.add(lease_id)
            else:
                ledger._open_leases.discard(lease_id)
            ledger._emit(kind, address_of(topics[2]), address_of(data[:32]), 0, "",
                         str(lease_id), detail(data))
        return decode

    def slashed(topics: list[bytes], data: bytes, op: Op) -> None:
        ref = uint_at(data, 1)
        ledger._slashed = offender = address_of(topics[1])
        ledger._emit("slashed", offender, address_of(topics[2]), 0, "",
                     str(ref) if ref else "", str(uint_at(data, 0)))

    def asset_registered(topics: list[bytes], data: bytes, op: Op) -> None:
        owner, key = address_of(topics[2]), dyn_at(data, 0).decode()
        ledger._asset_keys.add(key)
        ledger._emit("asset_registered", owner, owner, 0, "", key,
                     f"{dyn_at(data, 1).decode()}:{uint_at(data, 2)}")

    def asset_linked(topics: list[bytes], data: bytes, op: Op) -> None:
        owner = address_of(topics[2])
        ledger._emit("asset_linked", owner, owner, 0, "", dyn_at(data, 0).decode(),
                     dyn_at(data, 1).decode())

    def pool_created(topics: list[bytes], data: bytes, op: Op) -> None:
        owner, key = address_of(topics[2]), dyn_at(data, 0).decode()
        pool_by_id[topics[1]] = key
        ledger._pool_keys.add(key)
        ledger._emit("pool_created", owner, owner, 0, "", key, str(uint_at(data, 1)))

    def pool_event(kind: str) -> Callable:
        def decode(topics: list[bytes], data: bytes, op: Op) -> None:
            key = dyn_at(data, 1).decode()
            if kind == "data_used":
                record = data[64:96]
                ledger._records.add(record)
                detail = record.hex()
            else:
                detail = str(uint_at(data, 2))
            ledger._emit(kind, address_of(topics[2]), address_of(data[:32]), 0, "", key, detail)
        return decode

    return {
        _topic("Moved(address,address,uint256,string,uint256)"): (token, moved),
        _topic("Rejected(address,uint256,uint8,bytes)"): (hub, rejected),
        _topic("Posted(address,string,uint256,bytes32)"): (hub, posted),
        _topic("JobCreated(uint64,address,address,uint256)"):
            (escrow, job_event("job_created", lambda d: str(uint_at(d, 1)))),
        _topic("ProviderSet(uint64,address,address,uint256)"):
            (escrow, job_event("job_provider_set", lambda d: str(uint_at(d, 1)))),
        _topic("JobSubmitted(uint64,address,address,bytes32)"):
            (escrow, job_event("job_submitted", lambda d: d[32:64].hex())),
        _topic("JobCompleted(uint64,address,address,bytes32)"):
            (escrow, job_event("job_completed", lambda d: d[32:64].hex())),
        _topic("JobRejected(uint64,address,address,bytes32)"):
            (escrow, job_event("job_rejected", lambda d: d[32:64].hex())),
        _topic("JobExpired(uint64,address,address)"):
            (escrow, job_event("job_expired", lambda d: "")),
        _topic("TwinRegistered(uint256,address,string,string,bytes32)"):
            (registry, twin_event("twin_registered")),
        _topic("TwinVersion(uint256,address,string,string,bytes32)"):
            (registry, twin_event("twin_version")),
        _topic("TwinTransferred(uint256,address,address,string)"):
            (registry, twin_event("twin_transferred")),
        _topic("LicenceSet(uint256,address,string,uint256)"):
            (registry, twin_event("licence_set")),
        _topic("LeaseOpened(uint64,address,address,uint256)"):
            (compute, lease_event("lease_opened", lambda d: str(uint_at(d, 1)))),
        _topic("LeaseClaimed(uint64,address,address,bytes32)"):
            (compute, lease_event("lease_claimed", lambda d: d[32:64].hex())),
        _topic("LeaseExpired(uint64,address,address)"):
            (compute, lease_event("lease_expired", lambda d: "")),
        _topic("Slashed(address,address,uint256,uint256)"): (compute, slashed),
        _topic("AssetRegistered(bytes32,address,string,string,uint256)"):
            (assets, asset_registered),
        _topic("AssetLinked(bytes32,address,string,string)"): (assets, asset_linked),
        _topic("PoolCreated(bytes32,address,string,uint256)"): (assets, pool_created),
        _topic("Contributed(bytes32,address,address,string,uint256)"):
            (assets, pool_event("contributed")),
        _topic("DataUsed(bytes32,address,address,string,bytes32)"):
            (assets, pool_event("data_used")),
    }

