# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title twinecon Token: the simulation's native ERC-20
@notice snekmate's audited ERC-20 with the protocol's rules on top:
        - a transfer fee in basis points, paid out of the amount sent, split between the
          treasury and a burn;
        - minting by the protocol account only, never beyond the supply cap;
        - flows: every movement of tokens also logs `Moved(payer, payee, amount, flow, ref)`,
          the purpose the value-flow accounting is built from (mint: payer is the zero address;
          burn: payee is the zero address).
        Token state changes only through the Hub (signed actions) and the Escrow (job payouts);
        the standard `transfer`/`approve` entry points are deliberately not exported, so no
        movement can bypass the fee, the nonce or the flow record.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20
from snekmate.utils import math

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.balanceOf,
    erc20.totalSupply,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    ownable.owner,
)

MAX_PARAMS: constant(uint256) = 320
BPS: constant(uint256) = 10_000
KIND_TRANSFER: constant(uint8) = 0
KIND_MINT: constant(uint8) = 1
# Flows only the ledger's own rules may record (chain.memory._RESERVED_FLOWS).
RESERVED_FLOWS: constant(bytes32[9]) = [
    keccak256("genesis"),
    keccak256("mint"),
    keccak256("transfer_fee"),
    keccak256("burn"),
    keccak256("escrow_fund"),
    keccak256("service"),
    keccak256("platform_fee"),
    keccak256("evaluator_fee"),
    keccak256("refund"),
]

HUB: public(immutable(address))
PROTOCOL: public(immutable(address))
TREASURY: public(immutable(address))
SUPPLY_CAP: public(immutable(uint256))
TRANSFER_FEE_BPS: public(immutable(uint256))
FEE_BURN_BPS: public(immutable(uint256))

escrow: public(address)
minted: public(uint256)
burned: public(uint256)


event Moved:
    payer: indexed(address)
    payee: indexed(address)
    amount: uint256
    flow: String[32]
    ref: uint256


@deploy
def __init__(hub_: address, protocol_: address, treasury_: address, supply_cap_: uint256,
             transfer_fee_bps_: uint256, fee_burn_bps_: uint256, decimals_: uint8):
    assert transfer_fee_bps_ <= BPS and fee_burn_bps_ <= BPS, "invalid_state"
    ownable.__init__()
    erc20.__init__("twinecon", "TWC", decimals_, "twinecon token", "1")
    HUB = hub_
    PROTOCOL = protocol_
    TREASURY = treasury_
    SUPPLY_CAP = supply_cap_
    TRANSFER_FEE_BPS = transfer_fee_bps_
    FEE_BURN_BPS = fee_burn_bps_


@external
def set_escrow(escrow_: address):
    """
    @dev The escrow module account, named once by the hub while wiring.
    """
    assert msg.sender == HUB, "unauthorized"
    assert self.escrow == empty(address), "invalid_state"
    self.escrow = escrow_


@external
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[MAX_PARAMS]):
    """
    @dev Applies an authenticated `transfer` or `mint` (hub only); reverts with the rule's code.
    """
    assert msg.sender == HUB, "unauthorized"
    if kind == KIND_TRANSFER:
        to: address = empty(address)
        amount: uint256 = 0
        flow: String[32] = ""
        ref: uint256 = 0
        to, amount, flow, ref = abi_decode(params, (address, uint256, String[32], uint256))
        self._transfer_op(sender, to, amount, flow, ref)
    elif kind == KIND_MINT:
        to: address = empty(address)
        amount: uint256 = 0
        flow: String[32] = ""
        to, amount, flow = abi_decode(params, (address, uint256, String[32]))
        self._mint_op(sender, to, amount, flow)
    else:
        raise "unknown_op"


@external
def escrow_move(payer: address, payee: address, amount: uint256, flow: String[32], ref: uint256):
    """
    @dev Moves escrowed or escrow-bound tokens without a fee (escrow only).
    """
    assert msg.sender == self.escrow, "unauthorized"
    assert erc20.balanceOf[payer] >= amount, "insufficient_funds"
    self._move(payer, payee, amount, flow, ref)


@internal
def _move(payer: address, payee: address, amount: uint256, flow: String[32], ref: uint256):
    if amount != 0:
        erc20._transfer(payer, payee, amount)
        log Moved(payer=payer, payee=payee, amount=amount, flow=flow, ref=ref)


@internal
def _transfer_op(sender: address, to: address, amount: uint256, flow: String[32], ref: uint256):
    assert amount != 0, "invalid_state"
    assert to != empty(address) and to != self.escrow, "invalid_state"
    flow_hash: bytes32 = keccak256(flow)
    for reserved: bytes32 in RESERVED_FLOWS:
        assert flow_hash != reserved, "invalid_state"
    assert erc20.balanceOf[sender] >= amount, "insufficient_funds"
    fee: uint256 = 0
    burn: uint256 = 0
    if TRANSFER_FEE_BPS != 0:
        fee = math._mul_div(amount, TRANSFER_FEE_BPS, BPS, False)
        burn = math._mul_div(fee, FEE_BURN_BPS, BPS, False)
    erc20._transfer(sender, to, amount - fee)
    log Moved(payer=sender, payee=to, amount=amount - fee, flow=flow, ref=ref)
    self._move(sender, TREASURY, fee - burn, "transfer_fee", ref)
    if burn != 0:
        erc20._burn(sender, burn)
        self.burned += burn
        log Moved(payer=sender, payee=empty(address), amount=burn, flow="burn", ref=ref)


@internal
def _mint_op(sender: address, to: address, amount: uint256, flow: String[32]):
    assert sender == PROTOCOL, "unauthorized"
    assert amount != 0, "invalid_state"
    assert to != empty(address) and to != self.escrow, "invalid_state"
    assert amount <= SUPPLY_CAP and self.minted <= SUPPLY_CAP - amount, "cap_exceeded"
    self.minted += amount
    erc20._mint(to, amount)
    log Moved(payer=empty(address), payee=to, amount=amount, flow=flow, ref=0)
