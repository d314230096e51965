"""The `rpc` backend: the ledger contracts on any JSON-RPC node, through web3.py.

Every transaction is signed here, by the sending agent's own eth-account key, as a raw
transaction (EIP-155, the node's chain id) with nonces managed locally; the node only ever
sees signed bytes. Agents' gas is funded at genesis (`enroll`) from a funder account: the
key in `$TWINECON_RPC_FUNDER_KEY`, or else the node's first unlocked account (hardhat, anvil
and geth --dev all have one). An action whose sender has no enrolled key is relayed by the
deployer account, and the Hub then requires the sender's EIP-712 signature on-chain.

This module is the only one that imports web3.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from eth_account import Account
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)

from chain.contract_ledger import ContractLedger, Outcome
from chain.deployment import DEPLOYER
from chain.errors import ChainError
from chain.identity import Address, Identity
from chain.protocols import LedgerParams

__all__ = ["RpcLedger", "Web3Transport"]

#: Gas each enrolled account receives at genesis (10 ETH: tens of thousands of transactions at
#: a dev node's gas price; a hardhat node's funder holds 10,000 ETH, enough for 1,000 agents),
#: and the gas limit of each transaction: half a default 30M block, room for a data use paying
#: 64 contributors (about 2M gas) or a completion paying some 400 royalty rows (about 30k
#: each). A royalty walk beyond it runs out of gas on a node and is rejected (invalid_state),
#: where the reference ledger and pyrevm, which have no gas limit, pay it.
GAS_FUNDING_WEI = 10**19
GAS_LIMIT = 15_000_000


class Web3Transport:
    """Signed raw transactions to a JSON-RPC node, one receipt awaited per transaction."""

    exclusive = False

    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
        self._timeout = timeout
        try:
            self.chain_id = self.w3.eth.chain_id
            gas_price = self.w3.eth.gas_price
        except (OSError, Web3Exception, ValueError) as e:
            raise ChainError(f"cannot reach a JSON-RPC node at {url} ({e}); start one with "
                             "`twinecon node start` or pass --rpc-url") from e
        self._gas_price = max(2 * gas_price, 10**9)
        self._keys: dict[Address, Identity] = {}
        self._nonces: dict[Address, int] = {}
        self._funded: set[Address] = set()
        self.enroll([DEPLOYER])

    # -- keys and gas ------------------------------------------------------------------------
    def enroll(self, identities: Iterable[Identity]) -> None:
        """Hold these keys for signing, and fund each account's gas once."""
        for identity in identities:
            self._keys[identity.address] = identity
            if identity.address not in self._funded:
                self._fund(identity.address)

    def _fund(self, address: Address) -> None:
        if self.w3.eth.get_balance(address) >= GAS_FUNDING_WEI // 10:
            self._funded.add(address)
            return
        key = os.environ.get("TWINECON_RPC_FUNDER_KEY")
        tx = {"to": address, "value": GAS_FUNDING_WEI, "gas": 21_000,
              "gasPrice": self._gas_price, "chainId": self.chain_id}
        if key:
            funder = Account.from_key(key)
            tx["nonce"] = self.w3.eth.get_transaction_count(funder.address, "pending")
            tx_hash = self.w3.eth.send_raw_transaction(
                funder.sign_transaction(tx).raw_transaction)
        else:
            accounts = self.w3.eth.accounts
            if not accounts:
                raise ChainError(f"the node at {self.url} has no unlocked account to fund gas "
                                 "from; set TWINECON_RPC_FUNDER_KEY to a funded private key")
            tx_hash = self.w3.eth.send_transaction({**tx, "from": accounts[0]})
        if self._receipt(tx_hash)["status"] != 1:
            raise ChainError(f"funding gas for {address} failed on {self.url}")
        self._funded.add(address)

    # -- transactions ------------------------------------------------------------------------
    def _sign_and_send(self, sender: Identity, tx: dict) -> dict:
        address = sender.address
        nonce = self._nonces.get(address)
        if nonce is None:
            nonce = self.w3.eth.get_transaction_count(address, "pending")
        tx = {**tx, "nonce": nonce, "gas": GAS_LIMIT, "gasPrice": self._gas_price,
              "chainId": self.chain_id, "value": 0}
        raw = sender.account.sign_transaction(tx).raw_transaction
        try:
            tx_hash = self.w3.eth.send_raw_transaction(raw)
        except Web3RPCError as e:
            # hardhat's automine mines a reverting transaction and answers with an error that
            # carries its hash and revert data; anything else was not accepted at all
            info = e.rpc_response.get("error", {}).get("data") if e.rpc_response else None
            if not isinstance(info, dict) or "txHash" not in info:
                self._nonces.pop(address, None)
                raise ChainError(f"the node at {self.url} refused a transaction from "
                                 f"{address}: {e}") from e
            self._nonces[address] = nonce + 1
            receipt = dict(self._receipt(info["txHash"]))
            raw_data = info.get("data")
            if isinstance(raw_data, str) and raw_data.startswith("0x"):
                receipt["revertData"] = bytes.fromhex(raw_data[2:])
            return receipt
        self._nonces[address] = nonce + 1
        return self._receipt(tx_hash)

    def _receipt(self, tx_hash: bytes) -> dict:
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                pass
            if time.monotonic() > deadline:
                raise ChainError(f"no receipt for {tx_hash.hex()} from {self.url} within "
                                 f"{self._timeout} s; is the node mining?")
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def deploy(self, deployer: Identity, initcode: bytes) -> Address:
        self.enroll([deployer])
        receipt = self._sign_and_send(deployer, {"data": initcode})
        if receipt["status"] != 1 or not receipt["contractAddress"]:
            raise ChainError(f"deploying a ledger contract to {self.url} failed")
        return receipt["contractAddress"]

    def send(self, sender: Address, to: Address, data: bytes) -> Outcome:
        identity = self._keys.get(sender, DEPLOYER)  # no key: relayed, signature checked
        receipt = self._sign_and_send(identity, {"to": to, "data": data})
        if receipt["status"] != 1:
            output = receipt.get("revertData")
            if output is None:
                output = self._revert_data(identity.address, to, data,
                                           receipt["blockNumber"] - 1)
            return Outcome(False, output, [])
        logs = [(log["address"], [bytes(t) for t in log["topics"]], bytes(log["data"]))
                for log in receipt["logs"]]
        return Outcome(True, b"", logs)

    def _revert_data(self, sender: Address, to: Address, data: bytes, block: int) -> bytes:
        """Why a mined transaction reverted: replay it on the state before its block."""
        try:
            self.w3.eth.call({"from": sender, "to": to, "data": data, "gas": GAS_LIMIT},
                             block_identifier=block)
        except ContractLogicError as e:
            raw = e.data if isinstance(e.data, str) else ""
            return bytes.fromhex(raw[2:]) if raw.startswith("0x") else b""
        return b""

    def call(self, to: Address, data: bytes) -> bytes:
        return bytes(self.w3.eth.call({"to": to, "data": data}))

    # -- snapshots (hardhat, anvil and ganache dev methods) ------------------------------------
    def snapshot(self) -> object:
        return self.w3.provider.make_request("evm_snapshot", [])["result"]

    def revert(self, snapshot: object) -> None:
        result = self.w3.provider.make_request("evm_revert", [snapshot])
        if not result.get("result"):
            raise ChainError(f"the node at {self.url} could not revert to snapshot {snapshot}")
        self._nonces.clear()  # account nonces went back too: re-read them

    def settle(self) -> None:
        """A node settles its own history."""


class RpcLedger(ContractLedger):
    """The ledger contracts on a JSON-RPC node at `url`."""

    backend = "rpc"

    def __init__(self, params: LedgerParams, *, protocol: Address, treasury: Address,
                 url: str) -> None:
        super().__init__(params, protocol=protocol, treasury=treasury,
                         transport=Web3Transport(url))
