"""The `evm` backend: the ledger contracts on an in-process pyrevm EVM.

pyrevm runs revm (Rust) in this process: no node, no sockets, no blocks to wait for. Agents'
actions become message calls from their own addresses; the contracts' events become the
reference ledger's event rows. This module is the only one that imports pyrevm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyrevm import EVM, BlockEnv, CfgEnv, Env

from chain.contract_ledger import ContractLedger, Outcome
from chain.deployment import DEPLOYER
from chain.errors import ChainError
from chain.identity import Address, Identity
from chain.protocols import LedgerParams

__all__ = ["EvmLedger", "PyrevmTransport"]

_REVERT_OUTPUT = re.compile(r"output: 0x([0-9a-fA-F]*)")


class PyrevmTransport:
    """Calls into a pyrevm EVM (Cancun rules, as Vyper 0.4 targets), the sole writer."""

    exclusive = True

    def __init__(self, chain_id: int) -> None:
        self.chain_id = chain_id
        self.evm = EVM(env=Env(cfg=CfgEnv(chain_id=chain_id),
                               block=BlockEnv(number=1, timestamp=1)), spec_id="CANCUN")

    def deploy(self, deployer: Identity, initcode: bytes) -> Address:
        try:
            return self.evm.deploy(deployer.address, initcode)
        except RuntimeError as e:
            raise ChainError(f"deploying a ledger contract failed: {e}") from e

    def send(self, sender: Address, to: Address, data: bytes) -> Outcome:
        evm = self.evm
        try:
            output = evm.message_call(sender, to, data)
        except RuntimeError as e:
            found = _REVERT_OUTPUT.search(str(e))
            if found is None:  # a halt (out of gas, invalid opcode): no revert data
                return Outcome(False, b"", [])
            return Outcome(False, bytes.fromhex(found.group(1)), [])
        # log.address is skipped: pyrevm checksums it (a keccak a log), and only the ledger's
        # contracts have code in this EVM, so no one else can emit a log
        return Outcome(True, bytes(output), [(None, *log.data) for log in evm.result.logs])

    def call(self, to: Address, data: bytes) -> bytes:
        return bytes(self.evm.message_call(DEPLOYER.address, to, data, is_static=True))

    def storage(self, address: Address, slot: int) -> int:
        """One storage word, read straight from the EVM's state (no call frame)."""
        return self.evm.storage(address, slot)

    def snapshot(self) -> object:
        return self.evm.snapshot()

    def settle(self) -> None:
        """Nothing to settle: pyrevm keeps every call's journal so any snapshot can be reverted
        to (its `commit` pops a checkpoint, it does not fold the journal)."""

    def enroll(self, identities: Iterable[Identity]) -> None:
        """In-process calls come from any address: no keys or gas needed."""

    def revert(self, snapshot: object) -> None:
        self.evm.revert(snapshot)  # type: ignore[arg-type]


class EvmLedger(ContractLedger):
    """The ledger contracts executed in-process by pyrevm."""

    backend = "evm"

    def __init__(self, params: LedgerParams, *, protocol: Address, treasury: Address) -> None:
        super().__init__(params, protocol=protocol, treasury=treasury,
                         transport=PyrevmTransport(params.chain_id))
