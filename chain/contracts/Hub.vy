# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title twinecon Hub: the one door every signed action comes through
@notice Authenticates an EIP-712 `Intent` (sender, nonce, deadline, kind, params hash), consumes
        its nonce and dispatches it to the module that owns the operation (Token, Escrow,
        Registry, Compute, Assets, or this contract for `post`). The rules, as in the reference ledger:
        - an action whose authentication fails (reserved sender, bad signature, wrong nonce,
          deadline passed) reverts: nothing changes, not even the nonce;
        - an authenticated action that breaks a module's rule consumes its nonce and nothing
          else: the module call is reverted and a `Rejected` event keeps its reason.
        The sender's signature is checked on-chain when the hub verifies signatures, and always
        when the caller is not the sender (a relayed meta-transaction).
        The clock (`now`, the simulation tick) is set by the owner and never goes back.
"""

import ops

from snekmate.auth import ownable
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator

initializes: ownable
initializes: eip712_domain_separator

exports: (ownable.owner, eip712_domain_separator.eip712Domain)


interface TokenAdmin:
    def set_modules(escrow: address, compute: address, assets: address): nonpayable


interface EscrowAdmin:
    def set_modules(compute: address, assets: address): nonpayable


MAX_REASON: constant(uint256) = 256
RUN_SELECTOR: constant(Bytes[4]) = method_id("run(uint8,address,uint256,uint256,bytes)")

INTENT_TYPEHASH: constant(bytes32) = keccak256(
    "Intent(address sender,uint256 nonce,uint256 deadline,string kind,bytes32 params)"
)
verify_signatures: public(immutable(bool))
nonces: public(HashMap[address, uint256])
now: public(uint256)
token: public(address)
registry: public(address)
escrow: public(address)
compute: public(address)
assets: public(address)


event Rejected:
    sender: indexed(address)
    nonce: uint256
    kind: uint8
    reason: Bytes[MAX_REASON]


event Posted:
    sender: indexed(address)
    topic: String[ops.MAX_TOPIC]
    ref: uint256
    data: bytes32


event Clock:
    now: uint256


event Wired:
    token: address
    registry: address
    escrow: address
    compute: address
    assets: address


@deploy
def __init__(verify_signatures_: bool):
    ownable.__init__()
    eip712_domain_separator.__init__("twinecon", "1")
    verify_signatures = verify_signatures_


@external
def wire(token_: address, registry_: address, escrow_: address, compute_: address,
         assets_: address):
    """
    @dev Connects the modules, once, right after deployment (owner only).
    """
    ownable._check_owner()
    assert self.token == empty(address), "invalid_state"
    assert token_ != empty(address) and registry_ != empty(address), "invalid_state"
    assert escrow_ != empty(address) and compute_ != empty(address), "invalid_state"
    assert assets_ != empty(address), "invalid_state"
    self.token = token_
    self.registry = registry_
    self.escrow = escrow_
    self.compute = compute_
    self.assets = assets_
    extcall TokenAdmin(token_).set_modules(escrow_, compute_, assets_)
    extcall EscrowAdmin(escrow_).set_modules(compute_, assets_)
    log Wired(token=token_, registry=registry_, escrow=escrow_, compute=compute_, assets=assets_)


@external
def set_time(tick: uint256):
    """
    @dev Advances the ledger clock to the simulation tick `tick` (owner only).
    """
    ownable._check_owner()
    assert tick >= self.now, "invalid_state"
    self.now = tick
    log Clock(now=tick)


@external
@view
def digest(sender: address, nonce: uint256, deadline: uint256, kind: uint8,
           params: Bytes[ops.MAX_PARAMS]) -> bytes32:
    """
    @dev The EIP-712 digest a sender signs for this intent (for wallets and tests).
    """
    return self._digest(sender, nonce, deadline, kind, params)


@internal
@view
def _digest(sender: address, nonce: uint256, deadline: uint256, kind: uint8,
            params: Bytes[ops.MAX_PARAMS]) -> bytes32:
    struct_hash: bytes32 = keccak256(
        abi_encode(INTENT_TYPEHASH, sender, nonce, deadline, ops.KIND_HASHES[kind],
                   keccak256(params))
    )
    return eip712_domain_separator._hash_typed_data_v4(struct_hash)


@external
def execute(sender: address, nonce: uint256, deadline: uint256, kind: uint8,
            params: Bytes[ops.MAX_PARAMS], signature: Bytes[65]) -> bool:
    """
    @dev Authenticates and applies one signed action.
    @return bool True if the action was applied, False if a rule rejected it (nonce consumed).
    """
    assert kind < ops.N_KINDS, "unknown_op"
    # no key exists for the zero address or a module account
    assert sender != empty(address) and sender != self.escrow, "bad_signature"
    assert sender != self.compute and sender != self.assets, "bad_signature"
    if verify_signatures or msg.sender != sender:
        assert len(signature) == 65, "bad_signature"
        signer: address = ecdsa._recover_sig(
            self._digest(sender, nonce, deadline, kind, params), signature
        )
        assert signer == sender, "bad_signature"
    assert nonce == self.nonces[sender], "bad_nonce"
    assert self.now <= deadline, "deadline_passed"
    self.nonces[sender] = nonce + 1

    # the module that runs the kind (chain.ops.TABLE); `post` runs here
    module: uint8 = ops.MODULE_OF[kind]
    target: address = self
    if module == ops.MODULE_TOKEN:
        target = self.token
    elif module == ops.MODULE_ESCROW:
        target = self.escrow
    elif module == ops.MODULE_REGISTRY:
        target = self.registry
    elif module == ops.MODULE_COMPUTE:
        target = self.compute
    elif module == ops.MODULE_ASSETS:
        target = self.assets
    ok: bool = False
    reason: Bytes[MAX_REASON] = b""
    ok, reason = raw_call(
        target,
        concat(RUN_SELECTOR, abi_encode(kind, sender, nonce, self.now, params)),
        max_outsize=MAX_REASON,
        revert_on_failure=False,
    )
    if not ok:
        log Rejected(sender=sender, nonce=nonce, kind=kind, reason=reason)
    return ok


@external
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[ops.MAX_PARAMS]):
    """
    @dev The hub's own operation, `post`: a message that moves nothing but the nonce.
    """
    assert msg.sender == self, "unauthorized"
    assert kind == ops.KIND_POST, "unknown_op"
    topic: String[ops.MAX_TOPIC] = ""
    ref: uint256 = 0
    data: bytes32 = empty(bytes32)
    topic, ref, data = abi_decode(params, (String[ops.MAX_TOPIC], uint256, bytes32))
    log Posted(sender=sender, topic=topic, ref=ref, data=data)
