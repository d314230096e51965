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
        Token state changes only through the Hub (signed actions) and the modules (Escrow:
        job budgets and payouts; Compute: stakes, lease locks and slashes; Assets: data use
        payments), each by its own rules; the standard `transfer`/`approve` entry points are
        deliberately not exported, so no movement can bypass the fee, the nonce or the flow
        record. Module accounts receive tokens only through their modules.
"""

import ops

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

BPS: constant(uint256) = 10_000
# Flows only the ledger's own rules may record (chain._memory_token._RESERVED_FLOWS).
RESERVED_FLOWS: constant(bytes32[20]) = [
    keccak256("genesis"),
    keccak256("mint"),
    keccak256("transfer_fee"),
    keccak256("burn"),
    keccak256("escrow_fund"),
    keccak256("service"),
    keccak256("platform_fee"),
    keccak256("evaluator_fee"),
    keccak256("refund"),
    keccak256("royalty"),
    keccak256("dust"),
    keccak256("lease_lock"),
    keccak256("licence"),
    keccak256("lease_refund"),
    keccak256("stake"),
    keccak256("unstake"),
    keccak256("slash"),
    keccak256("data"),
    keccak256("data_fee"),
    keccak256("pool_fee"),
]

HUB: public(immutable(address))
PROTOCOL: public(immutable(address))
TREASURY: public(immutable(address))
SUPPLY_CAP: public(immutable(uint256))
TRANSFER_FEE_BPS: public(immutable(uint256))
FEE_BURN_BPS: public(immutable(uint256))

escrow: public(address)
compute: public(address)
assets: public(address)
minted: public(uint256)
burned: public(uint256)


event Moved:
    payer: indexed(address)
    payee: indexed(address)
    amount: uint256
    flow: String[ops.MAX_FLOW]
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
def set_modules(escrow_: address, compute_: address, assets_: address):
    """
    @dev The module accounts, named once by the hub while wiring.
    """
    assert msg.sender == HUB, "unauthorized"
    assert self.escrow == empty(address), "invalid_state"
    self.escrow = escrow_
    self.compute = compute_
    self.assets = assets_


@external
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[ops.MAX_PARAMS]):
    """
    @dev Applies an authenticated `transfer` or `mint` (hub only); reverts with the rule's code.
    """
    assert msg.sender == HUB, "unauthorized"
    if kind == ops.KIND_TRANSFER:
        to: address = empty(address)
        amount: uint256 = 0
        flow: String[ops.MAX_FLOW] = ""
        ref: uint256 = 0
        to, amount, flow, ref = abi_decode(
            params, (address, uint256, String[ops.MAX_FLOW], uint256))
        self._transfer_op(sender, to, amount, flow, ref)
    elif kind == ops.KIND_MINT:
        to: address = empty(address)
        amount: uint256 = 0
        flow: String[ops.MAX_FLOW] = ""
        to, amount, flow = abi_decode(params, (address, uint256, String[ops.MAX_FLOW]))
        self._mint_op(sender, to, amount, flow)
    else:
        raise "unknown_op"


@external
def module_move(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW],
                ref: uint256):
    """
    @dev Moves tokens without a fee, by a module's rule (escrow, compute, assets only): from
         the action's sender into the module, from the module out, or (data use) from the
         sender to the pool's parties.
    """
    assert msg.sender == self.escrow or msg.sender == self.compute or \
        msg.sender == self.assets, "unauthorized"
    assert erc20.balanceOf[payer] >= amount, "insufficient_funds"
    self._move(payer, payee, amount, flow, ref)


@external
def module_pay(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW],
               ref: uint256):
    """
    @dev Pays `amount` less the transfer fee (treasury and burn shares), as a transfer would
         (compute only: a lease claim's payment for the compute used).
    """
    assert msg.sender == self.compute, "unauthorized"
    assert erc20.balanceOf[payer] >= amount, "insufficient_funds"
    if amount != 0:
        self._pay_with_fee(payer, payee, amount, flow, ref)


@external
def module_burn(amount: uint256, ref: uint256):
    """
    @dev Burns `amount` of the compute module's own tokens (the burned share of a slash).
    """
    assert msg.sender == self.compute, "unauthorized"
    if amount != 0:
        erc20._burn(msg.sender, amount)
        self.burned += amount
        log Moved(payer=msg.sender, payee=empty(address), amount=amount, flow="burn", ref=ref)


@internal
def _move(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW],
          ref: uint256):
    if amount != 0:
        erc20._transfer(payer, payee, amount)
        log Moved(payer=payer, payee=payee, amount=amount, flow=flow, ref=ref)


@internal
@view
def _is_module(account: address) -> bool:
    return account == empty(address) or account == self.escrow or \
        account == self.compute or account == self.assets


@internal
def _transfer_op(sender: address, to: address, amount: uint256, flow: String[ops.MAX_FLOW],
                 ref: uint256):
    assert amount != 0, "invalid_state"
    assert not self._is_module(to), "invalid_state"
    flow_hash: bytes32 = keccak256(flow)
    for reserved: bytes32 in RESERVED_FLOWS:
        assert flow_hash != reserved, "invalid_state"
    assert erc20.balanceOf[sender] >= amount, "insufficient_funds"
    self._pay_with_fee(sender, to, amount, flow, ref)


@internal
def _pay_with_fee(payer: address, to: address, amount: uint256, flow: String[ops.MAX_FLOW],
                  ref: uint256):
    fee: uint256 = 0
    burn: uint256 = 0
    if TRANSFER_FEE_BPS != 0:
        fee = math._mul_div(amount, TRANSFER_FEE_BPS, BPS, False)
        burn = math._mul_div(fee, FEE_BURN_BPS, BPS, False)
    erc20._transfer(payer, to, amount - fee)
    log Moved(payer=payer, payee=to, amount=amount - fee, flow=flow, ref=ref)
    self._move(payer, TREASURY, fee - burn, "transfer_fee", ref)
    if burn != 0:
        erc20._burn(payer, burn)
        self.burned += burn
        log Moved(payer=payer, payee=empty(address), amount=burn, flow="burn", ref=ref)


@internal
def _mint_op(sender: address, to: address, amount: uint256, flow: String[ops.MAX_FLOW]):
    assert sender == PROTOCOL, "unauthorized"
    assert amount != 0, "invalid_state"
    assert not self._is_module(to), "invalid_state"
    assert amount <= SUPPLY_CAP and self.minted <= SUPPLY_CAP - amount, "cap_exceeded"
    self.minted += amount
    erc20._mint(to, amount)
    log Moved(payer=empty(address), payee=to, amount=amount, flow=flow, ref=0)
