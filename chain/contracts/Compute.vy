# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title twinecon Compute: provider stakes and lock-then-claim leases of sim time
@notice A compute provider stakes tokens here; a buyer opens a lease of `cu` compute units of
        sim time in a registered twin from a provider holding at least `MIN_STAKE`, locking its
        worst case, cu x (price per CU + the twin's licence per CU, fixed at opening). Before
        `expires_at` only the provider claims the CU actually used (at most the lock), paying
        itself its price (less the transfer fee, as a transfer would be), the twin's current
        owner the licence and the buyer the rest; from
        `expires_at` on anyone may close an unclaimed lease, returning the whole lock. A
        provider cannot unstake while it provides an open lease. Only the protocol slashes a
        stake (never more than it holds): `SLASH_REWARD_BPS` of the slash to the beneficiary,
        the rest burned. This contract's token balance is always the open locks plus the
        stakes. A lease's id is derived like a job's: keccak256(buyer ++ uint256(nonce))[:8].
"""

import ops

from snekmate.utils import math

BPS: constant(uint256) = 10_000


# Lease states (0: no such lease).
OPEN: constant(uint8) = 1
CLAIMED: constant(uint8) = 2
EXPIRED: constant(uint8) = 3


interface Token:
    def module_move(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW],
                    ref: uint256): nonpayable
    def module_pay(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW],
                   ref: uint256): nonpayable
    def module_burn(amount: uint256, ref: uint256): nonpayable


interface Registry:
    def licence_of(key: String[ops.MAX_KEY]) -> (address, uint256): view


interface Hub:
    def escrow() -> address: view
    def assets() -> address: view


struct Lease:
    buyer: address
    provider: address
    twin: String[ops.MAX_KEY]
    cu: uint256
    price_per_cu: uint256
    licence_per_cu: uint256
    expires_at: uint256
    state: uint8
    cu_used: uint256


HUB: public(immutable(address))
TOKEN: public(immutable(address))
REGISTRY: public(immutable(address))
PROTOCOL: public(immutable(address))
MIN_STAKE: public(immutable(uint256))
SLASH_REWARD_BPS: public(immutable(uint256))

stakes: public(HashMap[address, uint256])
providing: public(HashMap[address, uint256])  # open leases each provider provides
leases: public(HashMap[uint64, Lease])
locked: public(uint256)  # the locks of all open leases
staked: public(uint256)  # all stakes


event LeaseOpened:
    lease_id: indexed(uint64)
    buyer: indexed(address)
    provider: address
    cu: uint256


event LeaseClaimed:
    lease_id: indexed(uint64)
    provider: indexed(address)
    buyer: address
    receipt: bytes32


event LeaseExpired:
    lease_id: indexed(uint64)
    by: indexed(address)
    buyer: address


event Slashed:
    offender: indexed(address)
    beneficiary: indexed(address)
    amount: uint256
    ref: uint256


@deploy
def __init__(hub_: address, token_: address, registry_: address, protocol_: address,
             min_stake_: uint256, slash_reward_bps_: uint256):
    assert slash_reward_bps_ <= BPS, "invalid_state"
    HUB = hub_
    TOKEN = token_
    REGISTRY = registry_
    PROTOCOL = protocol_
    MIN_STAKE = min_stake_
    SLASH_REWARD_BPS = slash_reward_bps_


@external
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[ops.MAX_PARAMS]):
    """
    @dev Applies an authenticated stake or lease action (hub only); reverts with the rule's
         code.
    """
    assert msg.sender == HUB, "unauthorized"
    if kind == ops.KIND_STAKE or kind == ops.KIND_UNSTAKE:
        amount: uint256 = abi_decode(params, uint256)
        if kind == ops.KIND_STAKE:
            self._stake(sender, amount)
        else:
            self._unstake(sender, amount)
    elif kind == ops.KIND_SLASH:
        offender: address = empty(address)
        amount: uint256 = 0
        beneficiary: address = empty(address)
        ref: uint256 = 0
        offender, amount, beneficiary, ref = abi_decode(
            params, (address, uint256, address, uint256))
        self._slash(sender, offender, amount, beneficiary, ref)
    elif kind == ops.KIND_OPEN_LEASE:
        provider: address = empty(address)
        twin: String[ops.MAX_KEY] = ""
        cu: uint256 = 0
        price_per_cu: uint256 = 0
        expires_at: uint256 = 0
        provider, twin, cu, price_per_cu, expires_at = abi_decode(
            params, (address, String[ops.MAX_KEY], uint256, uint256, uint256))
        self._open(sender, nonce, now, provider, twin, cu, price_per_cu, expires_at)
    elif kind == ops.KIND_CLAIM_LEASE:
        lease_id: uint64 = 0
        cu: uint256 = 0
        receipt: bytes32 = empty(bytes32)
        lease_id, cu, receipt = abi_decode(params, (uint64, uint256, bytes32))
        self._claim(sender, now, lease_id, cu, receipt)
    elif kind == ops.KIND_CLOSE_LEASE:
        self._close(sender, now, abi_decode(params, uint64))
    else:
        raise "unknown_op"


@internal
@view
def _is_module(account: address) -> bool:
    return account == empty(address) or account == self or \
        account == staticcall Hub(HUB).escrow() or account == staticcall Hub(HUB).assets()


# -- stakes ----------------------------------------------------------------------------------
@internal
def _stake(sender: address, amount: uint256):
    assert amount != 0, "invalid_state"
    # move first: beyond the balance is insufficient_funds, and the sums then cannot overflow
    extcall Token(TOKEN).module_move(sender, self, amount, "stake",
                                     convert(convert(sender, uint160), uint256))
    self.stakes[sender] += amount
    self.staked += amount


@internal
def _unstake(sender: address, amount: uint256):
    assert amount != 0, "invalid_state"
    assert amount <= self.stakes[sender], "insufficient_funds"
    assert self.providing[sender] == 0, "invalid_state"
    self.stakes[sender] -= amount
    self.staked -= amount
    extcall Token(TOKEN).module_move(self, sender, amount, "unstake",
                                     convert(convert(sender, uint160), uint256))


@internal
def _slash(sender: address, offender: address, amount: uint256, beneficiary: address,
           ref: uint256):
    assert sender == PROTOCOL, "unauthorized"
    assert amount != 0, "invalid_state"
    assert not self._is_module(beneficiary), "invalid_state"
    assert amount <= self.stakes[offender], "insufficient_funds"
    reward: uint256 = math._mul_div(amount, SLASH_REWARD_BPS, BPS, False)
    self.stakes[offender] -= amount
    self.staked -= amount
    log Slashed(offender=offender, beneficiary=beneficiary, amount=amount, ref=ref)
    who: uint256 = convert(convert(offender, uint160), uint256)
    if reward != 0:
        extcall Token(TOKEN).module_move(self, beneficiary, reward, "slash", who)
    extcall Token(TOKEN).module_burn(amount - reward, who)


# -- leases ----------------------------------------------------------------------------------
@internal
@pure
def _lease_id(buyer: address, nonce: uint256) -> uint64:
    digest: bytes32 = keccak256(concat(convert(buyer, bytes20), convert(nonce, bytes32)))
    return convert(convert(digest, uint256) >> 192, uint64)


@internal
@pure
def _locked(lease: Lease) -> uint256:
    return lease.cu * (lease.price_per_cu + lease.licence_per_cu)


@internal
def _open(sender: address, nonce: uint256, now: uint256, provider: address,
          twin: String[ops.MAX_KEY],
          cu: uint256, price_per_cu: uint256, expires_at: uint256):
    assert provider != sender and not self._is_module(provider), "invalid_state"
    owner: address = empty(address)
    licence: uint256 = 0
    owner, licence = staticcall Registry(REGISTRY).licence_of(twin)
    assert owner != empty(address), "invalid_state"
    assert cu != 0, "invalid_state"
    assert expires_at > now, "invalid_state"
    assert self.stakes[provider] >= MIN_STAKE, "invalid_state"
    lease_id: uint64 = self._lease_id(sender, nonce)
    assert self.leases[lease_id].state == 0, "invalid_state"
    # a worst case beyond 2**256 - 1 is beyond any balance
    assert licence <= max_value(uint256) - price_per_cu, "insufficient_funds"
    per_cu: uint256 = price_per_cu + licence
    assert per_cu == 0 or cu <= max_value(uint256) // per_cu, "insufficient_funds"
    lock: uint256 = cu * per_cu
    self.leases[lease_id] = Lease(
        buyer=sender, provider=provider, twin=twin, cu=cu, price_per_cu=price_per_cu,
        licence_per_cu=licence, expires_at=expires_at, state=OPEN, cu_used=0,
    )
    self.providing[provider] += 1
    log LeaseOpened(lease_id=lease_id, buyer=sender, provider=provider, cu=cu)
    if lock != 0:
        extcall Token(TOKEN).module_move(sender, self, lock, "lease_lock",
                                         convert(lease_id, uint256))
        self.locked += lock


@internal
@view
def _open_lease(lease_id: uint64) -> Lease:
    lease: Lease = self.leases[lease_id]
    assert lease.state == OPEN, "invalid_state"
    return lease


@internal
def _end(lease_id: uint64, lease: Lease, state: uint8, cu_used: uint256) -> uint256:
    self.leases[lease_id].state = state
    self.leases[lease_id].cu_used = cu_used
    self.providing[lease.provider] -= 1
    lock: uint256 = self._locked(lease)
    self.locked -= lock
    return lock


@internal
def _claim(sender: address, now: uint256, lease_id: uint64, cu: uint256, receipt: bytes32):
    lease: Lease = self._open_lease(lease_id)
    assert sender == lease.provider, "unauthorized"
    assert now < lease.expires_at, "invalid_state"
    assert cu <= lease.cu, "invalid_state"
    lock: uint256 = self._end(lease_id, lease, CLAIMED, cu)
    log LeaseClaimed(lease_id=lease_id, provider=sender, buyer=lease.buyer, receipt=receipt)
    ref: uint256 = convert(lease_id, uint256)
    compute: uint256 = cu * lease.price_per_cu
    licence: uint256 = cu * lease.licence_per_cu
    if compute != 0:  # less the transfer fee, as the transfer it replaces would be
        extcall Token(TOKEN).module_pay(self, lease.provider, compute, "compute", ref)
    if licence != 0:
        owner: address = empty(address)
        fee: uint256 = 0
        owner, fee = staticcall Registry(REGISTRY).licence_of(lease.twin)
        self._pay(owner, licence, "licence", ref)
    self._pay(lease.buyer, lock - compute - licence, "lease_refund", ref)


@internal
def _close(sender: address, now: uint256, lease_id: uint64):
    lease: Lease = self._open_lease(lease_id)
    assert now >= lease.expires_at, "invalid_state"
    lock: uint256 = self._end(lease_id, lease, EXPIRED, 0)
    log LeaseExpired(lease_id=lease_id, by=sender, buyer=lease.buyer)
    self._pay(lease.buyer, lock, "lease_refund", convert(lease_id, uint256))


@internal
def _pay(payee: address, amount: uint256, flow: String[ops.MAX_FLOW], ref: uint256):
    if amount != 0:
        extcall Token(TOKEN).module_move(self, payee, amount, flow, ref)
