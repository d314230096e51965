"""The checks `check_ledger` makes of a ledger after every action and step, from the outside.

`Driver` is the base of the rule-based state machine in `chain._check_rules`: it signs and
executes each action on the model ledger (and on the backend under test beside the reference
`MemoryLedger`, when there is one), and checks, through the Ledger protocol only: every
action's decision, nonce and event rows; every applied action's money rows; the invariants
(conservation, events reconstruct balances, job, lease, stake, pool and asset-graph rules);
that the backend agrees with the reference; and that replaying the action log on a fresh
ledger reproduces the run. A broken rule raises LedgerCheckFailed naming it. hypothesis is
imported here, so only `chain.checks.check_ledger` imports this module, when called.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from hypothesis.stateful import RuleBasedStateMachine, invariant

from chain.deployment import ASSETS_ADDRESS, COMPUTE_ADDRESS, ESCROW_ADDRESS
from chain.errors import LedgerCheckFailed
from chain.flows import Flow
from chain.identity import Identity
from chain.intents import Intent, SignedIntent, sign
from chain.memory import MemoryLedger
from chain.ops import CompleteJob, Contribute, Op, UseData
from chain.protocols import BURN_ADDRESS, JobState, LeaseState, Ledger, LedgerParams
from chain.royalty import MAX_ANCESTORS, MAX_PARENTS, ancestors, royalty_payouts

__all__ = ["ADDRESSES", "ASSET_KEYS", "CAST", "DIAMOND", "MODULES", "POOL_KEYS", "PROTOCOL",
           "TREASURY", "TWIN_KEYS", "Driver"]

CAST = [Identity.derive(77, i, label=name)
        for i, name in enumerate(("protocol", "treasury", "ann", "ben", "cat"))]
PROTOCOL, TREASURY = CAST[0], CAST[1]
ADDRESSES = [i.address for i in CAST]
MODULES = [BURN_ADDRESS, ESCROW_ADDRESS, COMPUTE_ADDRESS, ASSETS_ADDRESS]
TWIN_KEYS = ("warehouse/a", "fleet/b", "turbine/c")
#: Asset keys: the twins' keys (for twin assets) and keys of data and policy assets.
ASSET_KEYS = ("warehouse/a", "fleet/b", "data/x", "data/y", "policy/p", "policy/q", "policy/r")
#: The fixed graph the royalty_job rule builds: a diamond over a root, and a policy below it.
DIAMOND = ("royalty/root", "royalty/left", "royalty/right", "royalty/policy")
POOL_KEYS = ("pool/x", "pool/y")
AUTH_CODES = {"wrong_domain", "bad_signature", "bad_nonce", "deadline_passed"}
ESCROW_PAYOUTS = {Flow.SERVICE, Flow.PLATFORM_FEE, Flow.EVALUATOR_FEE, Flow.ROYALTY, Flow.DUST}
LEASE_PAYOUTS = {Flow.COMPUTE, Flow.LICENCE, Flow.TRANSFER_FEE, Flow.BURN}  # from the lock
BPS = 10_000
_FIX = "the steps below reproduce it; fix the ledger so the rule holds after every action"
_STEPS_SHOWN = 40

#: Listed escrow transitions (a step may also leave the state as it was).
ALLOWED = {
    None: {JobState.OPEN},
    JobState.OPEN: {JobState.OPEN, JobState.FUNDED, JobState.EXPIRED},
    JobState.FUNDED: {JobState.FUNDED, JobState.SUBMITTED, JobState.COMPLETED,
                      JobState.REJECTED, JobState.EXPIRED},
    JobState.SUBMITTED: {JobState.SUBMITTED, JobState.COMPLETED, JobState.REJECTED,
                         JobState.EXPIRED},
    JobState.COMPLETED: {JobState.COMPLETED},
    JobState.REJECTED: {JobState.REJECTED},
    JobState.EXPIRED: {JobState.EXPIRED},
}
#: The states a job may reach from each, in any number of steps (checks made at the end).
_REACHABLE = {a: {c for b in ALLOWED[a] for c in ALLOWED[b]} | ALLOWED[a] for a in ALLOWED}
_REACHABLE = {a: {c for b in _REACHABLE[a] for c in _REACHABLE[b]} for a in _REACHABLE}
LEASE_ALLOWED = {
    LeaseState.OPEN: {LeaseState.OPEN, LeaseState.CLAIMED, LeaseState.EXPIRED},
    LeaseState.CLAIMED: {LeaseState.CLAIMED},
    LeaseState.EXPIRED: {LeaseState.EXPIRED},
}

#: factory(params, *, protocol=, treasury=) -> a fresh ledger of the backend under test
Factory = Callable[..., Ledger]


class Driver(RuleBasedStateMachine):
    """Executes actions and checks the ledger's rules; `check_ledger` subclasses it with its
    options as class attributes."""

    FACTORY: Factory | None = None  # the backend under test; None: the reference alone
    REFERENCE = True  # run MemoryLedger alongside and require the same decisions and state
    EVERY_STEP = True  # invariants and comparisons after every step (False: at the end)
    SIGNATURES: str | None = "off"  # "verify", "off", or None: drawn per example

    # -- set-up ----------------------------------------------------------------------------
    def _start(self, params: LedgerParams) -> None:
        self.params = params
        self.signatures = params.signatures
        self.ledger = self._new_ledger()  # the model: driven, and its invariants checked
        self.mirrors = self._new_mirrors()  # beside it: same decisions, events and state
        self.log: list[tuple[str, Any]] = []
        self.steps: list[str] = []
        self.events: list[tuple] = []
        self.net: dict[str, int] = defaultdict(int)  # Σ incoming - Σ outgoing event amounts
        # money per job / lease ref, by direction
        self.paid_out: dict[str, int] = defaultdict(int)
        self.refunded: dict[str, int] = defaultdict(int)
        self.escrowed: dict[str, int] = defaultdict(int)
        self.lease_in: dict[str, int] = defaultdict(int)
        self.lease_paid: dict[str, int] = defaultdict(int)
        self.lease_back: dict[str, int] = defaultdict(int)
        self.staked: dict[str, int] = defaultdict(int)  # by stake, unstake and slash events
        self.records: set[str] = set()  # usage records consumed, from data_used events
        self.units: dict[str, dict[str, int]] = defaultdict(dict)  # pool -> contributor units
        self.jobs: list[int] = []
        self.first_seen: dict[int, Any] = {}
        self.prev_state: dict[int, JobState | None] = {}
        self.leases: list[int] = []
        self.lease_seen: dict[int, Any] = {}
        self.accepted: list[SignedIntent] = []

    def _make(self, factory: Factory) -> Ledger:
        ledger = factory(self.params, protocol=PROTOCOL.address, treasury=TREASURY.address)
        if not isinstance(ledger, Ledger):
            raise LedgerCheckFailed(
                "the factory makes a Ledger", "factory(params, protocol=, treasury=)",
                "an object with the Ledger protocol's attributes and methods",
                type(ledger).__name__, "return a fresh ledger (see chain.protocols.Ledger)")
        ledger.enroll(CAST)
        return ledger

    def _new_ledger(self) -> Ledger:
        if self.REFERENCE or self.FACTORY is None:
            return self._make(MemoryLedger)
        return self._make(self.FACTORY)

    def _new_mirrors(self) -> list[Ledger]:
        if self.REFERENCE and self.FACTORY is not None:
            return [self._make(self.FACTORY)]
        return []

    @property
    def _tested(self) -> Ledger:
        """The ledger under test (the mirror when a reference runs beside it)."""
        return self.mirrors[0] if self.mirrors else self.ledger

    # -- failing ---------------------------------------------------------------------------
    def _fail(self, rule: str, what: str, expected: object, got: object, fix: str = _FIX) -> None:
        shown = self.steps[-_STEPS_SHOWN:]
        skipped = len(self.steps) - len(shown)
        steps = "\n".join(([f"  ... {skipped} earlier steps"] if skipped else [])
                          + [f"  {s}" for s in shown])
        self._failed = True  # teardown must not hide this failure behind another
        raise LedgerCheckFailed(rule, f"{type(self._tested).__name__}: {what}", expected, got,
                                fix, steps)

    def _equal(self, rule: str, what: str, expected: object, got: object) -> None:
        if expected != got:
            self._fail(rule, what, expected, got)

    def _true(self, rule: str, what: str, ok: bool, got: object = False) -> None:
        if not ok:
            self._fail(rule, what, True, got)

    # -- executing and checking one action --------------------------------------------------
    def _advance(self, tick: int) -> None:
        self.ledger.set_time(tick)
        self.log.append(("time", tick))
        self.steps.append(f"set_time({tick})")
        for mirror in self.mirrors:
            mirror.set_time(tick)

    def _act(self, who: Identity, op: Op, auth: str = "ok") -> Any:
        ledger = self.ledger
        nonce, deadline, chain_id, signer = (ledger.nonce_of(who.address), ledger.now + 3,
                                             ledger.params.chain_id, who)
        expected = None
        if auth == "nonce_low" and nonce == 0:
            auth = "nonce_high"
        if auth == "nonce_low":
            nonce, expected = nonce - 1, "bad_nonce"
        elif auth == "nonce_high":
            nonce, expected = nonce + 1, "bad_nonce"
        elif auth == "expired":
            deadline, expected = ledger.now - 1, "deadline_passed"
        elif auth == "wrong_chain":
            chain_id, expected = chain_id + 1, "wrong_domain"
        elif auth == "wrong_signer" and self.signatures == "verify":
            signer = CAST[(CAST.index(who) + 1) % len(CAST)]
            expected = "bad_signature"
        intent = Intent(sender=who.address, nonce=nonce, deadline=deadline, op=op)
        signature = (sign(intent, signer, ledger.domain).signature
                     if self.signatures == "verify" else None)
        self.steps.append(f"{who.label}: {op!r}" + (f" [{auth}]" if auth != "ok" else ""))
        return self._run(SignedIntent(intent=intent, signature=signature, chain_id=chain_id),
                         expected, signer)

    def _balances(self, ledger: Ledger) -> dict[str, int]:
        """Every non-zero balance of an account tokens can reach (the cast and the modules)."""
        found = {a: ledger.balance_of(a) for a in (*ADDRESSES, *MODULES[1:])}
        return {a: b for a, b in found.items() if b}

    def _view(self) -> tuple:
        ledger = self.ledger
        return (self._balances(ledger), ledger.minted, ledger.burned,
                {j: ledger.job(j) for j in self.jobs}, {k: ledger.twin(k) for k in TWIN_KEYS},
                {i: ledger.lease(i) for i in self.leases},
                {a: ledger.stake_of(a) for a in ADDRESSES},
                {k: ledger.asset(k) for k in (*ASSET_KEYS, *DIAMOND)},
                {k: ledger.pool(k) for k in POOL_KEYS})

    def _run(self, signed: SignedIntent, expected_auth_failure: str | None,
             signer: Identity | None = None) -> Any:
        ledger, sender, op = self.ledger, signed.intent.sender, signed.intent.op
        nonces = {a: ledger.nonce_of(a) for a in ADDRESSES}
        view, state_hash = self._view(), ledger.state_hash()

        result = ledger.execute(signed)
        self.log.append(("exec", (signed, signer)))
        events = ledger.drain_events()
        self._absorb(events)
        for mirror in self.mirrors:  # same decision, same event rows
            got = mirror.execute(signed)
            self._equal("the backend decides as the reference", f"{op.KIND}'s (ok, code)",
                        (result.ok, result.code), (got.ok, got.code))
            self._equal("the backend records the reference's events", f"{op.KIND}'s rows",
                        events, mirror.drain_events())

        after = {a: ledger.nonce_of(a) for a in ADDRESSES}
        if expected_auth_failure is not None:
            rule = "authentication failures change nothing, not even the nonce"
            self._equal(rule, f"{op.KIND}'s (ok, code)", (False, expected_auth_failure),
                        (result.ok, result.code))
            self._equal(rule, "the nonces", nonces, after)
            self._equal(rule, "the state hash", state_hash, ledger.state_hash())
        else:
            self._true("an authenticated action is not refused as unauthenticated",
                       f"{op.KIND}'s code {result.code!r} is not an authentication code",
                       result.code not in AUTH_CODES, result.code)
            nonces[sender] += 1
            self._equal("an authenticated action consumes exactly one nonce", "the nonces",
                        nonces, after)
            self.accepted.append((signed, signer))
        if result.ok:
            self._true("an applied action records no rejection", f"{op.KIND}'s rows",
                       all(e[2] != "rejected" for e in events), events)
            self._check_applied(sender, op, events)
        else:
            rule = "a rejected action records one rejection and changes nothing else"
            self._equal(rule, f"{op.KIND}'s rows (kind, payer, amount, detail)",
                        [("rejected", sender, 0, f"{op.KIND}:{result.code}")],
                        [(e[2], e[3], e[5], e[8]) for e in events])
            self._equal(rule, "the state", view, self._view())
        return result

    def _absorb(self, events: list[tuple]) -> None:
        for event in events:
            self.events.append(event)
            (_tick, _tx, kind, payer, payee, amount, flow, ref, detail) = event
            if kind == "slashed":
                self.staked[payer] -= int(detail)
            elif kind == "data_used":
                self._true("a usage record is consumed once", f"record {detail} is new",
                           detail not in self.records, detail)
                self.records.add(detail)
            if not amount:
                continue
            self.net[payer] -= amount
            self.net[payee] += amount
            if payer == ESCROW_ADDRESS and flow in ESCROW_PAYOUTS:
                self.paid_out[ref] += amount
            elif payer == ESCROW_ADDRESS and flow == Flow.REFUND:
                self.refunded[ref] += amount
            elif payee == ESCROW_ADDRESS and flow == Flow.ESCROW_FUND:
                self.escrowed[ref] += amount
            elif payee == COMPUTE_ADDRESS and flow == Flow.LEASE_LOCK:
                self.lease_in[ref] += amount
            elif payer == COMPUTE_ADDRESS and flow in LEASE_PAYOUTS:
                self.lease_paid[ref] += amount
            elif payer == COMPUTE_ADDRESS and flow == Flow.LEASE_REFUND:
                self.lease_back[ref] += amount
            elif payee == COMPUTE_ADDRESS and flow == Flow.STAKE:
                self.staked[payer] += amount
            elif payer == COMPUTE_ADDRESS and flow == Flow.UNSTAKE:
                self.staked[payee] -= amount

    def _owner_of_asset(self, asset: Any) -> str:
        if asset.kind == "twin":
            return self.ledger.twin(asset.key).owner
        return asset.owner

    def _check_applied(self, sender: str, op: Op, events: list[tuple]) -> None:
        """What an applied action's money rows must be, computed from the outside."""
        money = [(e[3], e[4], e[5], e[6]) for e in events if e[5]]
        rule = "money moves exactly as the rules say"
        if isinstance(op, CompleteJob):
            job, params = self.ledger.job(op.job_id), self.params
            platform = job.budget * params.platform_fee_bps // BPS
            if params.evaluator_paid_on_reject:
                fee, service = job.eval_deposit, job.budget - platform
            else:
                fee = job.budget * params.evaluator_fee_bps // BPS
                service = job.budget - platform - fee
            rows = [(ESCROW_ADDRESS, self.ledger.treasury, platform, Flow.PLATFORM_FEE),
                    (ESCROW_ADDRESS, job.evaluator, fee, Flow.EVALUATOR_FEE)]
            split = [r for r in money if r[3] in (Flow.ROYALTY, Flow.DUST, Flow.SERVICE)]
            self._equal(rule, f"job {op.job_id}: royalties, dust and service sum to the service",
                        service, sum(r[2] for r in split))
            if job.policy:
                up = ancestors(job.policy, self.ledger.asset)
                payees = {self._owner_of_asset(self.ledger.asset(k)) for k in up}
                paid = {r[1] for r in split if r[3] == Flow.ROYALTY}
                self._true(rule, f"job {op.job_id}: royalties go to ancestors' owners only",
                           paid <= payees, paid - payees)
                receiver, royalties, dust = royalty_payouts(
                    service, job.policy, params.royalty_mode, self.ledger.asset,
                    self._owner_of_asset)
                rows += [(ESCROW_ADDRESS, owner, amount, Flow.ROYALTY)
                         for owner, amount in royalties]
                rows += [(ESCROW_ADDRESS, self.ledger.treasury, dust, Flow.DUST),
                         (ESCROW_ADDRESS, job.provider, receiver, Flow.SERVICE)]
            else:
                rows.append((ESCROW_ADDRESS, job.provider, service, Flow.SERVICE))
            self._equal(rule, f"complete_job {op.job_id}'s money rows",
                        [r for r in rows if r[2]], money)
        elif isinstance(op, UseData):
            pool = self.ledger.pool(op.pool)
            price = op.units * pool.price_per_unit
            fee = price * self.params.data_fee_bps // BPS
            owner_fee = price * pool.owner_fee_bps // BPS
            rest = price - fee - owner_fee
            parts = [(sender, a, rest * u // pool.total_units, Flow.DATA)
                     for a, u in pool.contributors]
            rows = [(sender, self.ledger.treasury, fee, Flow.DATA_FEE),
                    (sender, pool.owner, owner_fee, Flow.POOL_FEE), *parts,
                    (sender, self.ledger.treasury, rest - sum(p[2] for p in parts), Flow.DUST)]
            self._equal(rule, f"use_data of {op.pool}'s money rows",
                        [r for r in rows if r[2]], money)
            self._equal(rule, f"use_data of {op.pool}: the rows sum to the price", price,
                        sum(r[2] for r in money))
        elif isinstance(op, Contribute):
            units = self.units[op.pool]
            units[sender] = units.get(sender, 0) + op.units

    # -- invariants, after every step -------------------------------------------------------
    def _checking(self) -> bool:
        """Whether the model's invariants are checked now: after every step, unless the model
        is a slow backend under test checked only at the end (the reference is always cheap
        to read)."""
        return self.EVERY_STEP or bool(self.mirrors) or getattr(self, "_at_end", False)

    @invariant()
    def supply_is_conserved(self) -> None:
        """check_invariants passes; Σ balances == total supply == minted - burned; none < 0."""
        if not self._checking():
            return
        ledger, rule = self.ledger, "supply is conserved"
        ledger.check_invariants()
        balances = self._balances(ledger)
        self._equal(rule, "(Σ balances, total supply, minted - burned)",
                    (ledger.minted - ledger.burned,) * 3,
                    (sum(balances.values()), ledger.total_supply, ledger.minted - ledger.burned))
        self._true(rule, "no balance is negative", all(b > 0 for b in balances.values()),
                   balances)
        self._true(rule, "minted within the supply cap",
                   ledger.minted <= ledger.params.supply_cap, ledger.minted)
        self._equal(rule, "the assets module's balance", 0, ledger.balance_of(ASSETS_ADDRESS))

    @invariant()
    def events_reconstruct_balances(self) -> None:
        """Σ incoming - Σ outgoing event amounts of every address equals its balance."""
        if not self._checking():
            return
        rule, ledger = "events reconstruct balances", self.ledger
        for address in sorted(set(self.net) | set(self._balances(ledger))):
            if address != BURN_ADDRESS:
                self._equal(rule, f"{address}'s balance from its event rows",
                            ledger.balance_of(address), self.net[address])
        self._equal(rule, "minted - burned from the event rows", ledger.minted - ledger.burned,
                    -self.net[BURN_ADDRESS])

    @invariant()
    def jobs_follow_listed_transitions(self) -> None:
        """Each job moves only along listed transitions, terminal states absorb, its terms
        never change (its budget only lowered when its provider is named), and its money moved
        exactly as its state says: paid + refunded = escrowed, no double payout."""
        if not self._checking():
            return
        rule, paid_on_reject = "jobs follow their listed transitions", \
            self.params.evaluator_paid_on_reject
        for job_id in self.jobs:
            job, prev = self.ledger.job(job_id), self.prev_state[job_id]
            if job is None:
                self._equal(rule, f"job {job_id} exists once created", None, prev)
                continue
            allowed = ALLOWED if self.EVERY_STEP or self.mirrors else _REACHABLE
            self._true(rule, f"job {job_id} moves {prev} -> {job.state}",
                       job.state in allowed[prev], job.state)
            self.prev_state[job_id] = job.state
            first = self.first_seen.setdefault(job_id, job)
            self._equal(rule, f"job {job_id}'s terms", (first.client, first.evaluator,
                        first.assigner, first.expires_at), (job.client, job.evaluator,
                        job.assigner, job.expires_at))
            if first.provider is not None:
                self._equal(rule, f"job {job_id}'s provider and budget",
                            (first.provider, first.budget), (job.provider, job.budget))
            else:
                self._true(rule, f"job {job_id}'s budget only falls",
                           job.budget <= first.budget, job.budget)
                self.first_seen[job_id] = job
            ref = str(job_id)
            paid, refunded, escrowed = self.paid_out[ref], self.refunded[ref], self.escrowed[ref]
            deposit = job.budget * self.params.evaluator_fee_bps // BPS
            self._equal(rule, f"job {job_id}'s evaluator deposit",
                        deposit if paid_on_reject and escrowed else 0, job.eval_deposit)
            held = job.budget + job.eval_deposit
            money = (paid, refunded, escrowed)
            if job.state == JobState.COMPLETED:
                ok = paid == held and paid + refunded == escrowed
            elif job.state == JobState.REJECTED:
                ok = paid == job.eval_deposit and paid + refunded == escrowed
            elif job.state == JobState.EXPIRED:
                ok = paid == 0 and refunded == escrowed
            elif job.state in (JobState.FUNDED, JobState.SUBMITTED):
                ok = paid == 0 and escrowed - refunded == held
            else:
                ok = money == (0, 0, 0)
            self._true(rule, f"job {job_id} ({job.state}, holding {held}): its money "
                       "(paid, refunded, escrowed) matches its state", ok, money)
            if job.state in (JobState.SUBMITTED, JobState.COMPLETED) and job.policy:
                self._true(rule, f"job {job_id}'s policy {job.policy!r} is registered",
                           self.ledger.asset(job.policy) is not None, None)

    @invariant()
    def leases_claim_within_their_locks(self) -> None:
        """A lease moves open -> claimed | expired and stays; its terms never change; its lock
        is paid out exactly once: a claim pays cu_used x (price + licence) <= the lock and
        returns the rest, a close returns it all."""
        if not self._checking():
            return
        rule = "leases claim within their locks"
        for lease_id in self.leases:
            lease = self.ledger.lease(lease_id)
            first = self.lease_seen.setdefault(lease_id, lease)
            self._true(rule, f"lease {lease_id} moves {first.state} -> {lease.state}",
                       lease.state in LEASE_ALLOWED[first.state], lease.state)
            terms = ("buyer", "provider", "twin", "cu", "price_per_cu", "licence_per_cu",
                     "expires_at")
            self._equal(rule, f"lease {lease_id}'s terms",
                        [getattr(first, t) for t in terms], [getattr(lease, t) for t in terms])
            self.lease_seen[lease_id] = lease
            ref = str(lease_id)
            locked, paid, back = self.lease_in[ref], self.lease_paid[ref], self.lease_back[ref]
            self._equal(rule, f"lease {lease_id}'s lock", lease.locked, locked)
            self._true(rule, f"lease {lease_id} claims within its CU",
                       lease.cu_used <= lease.cu, lease.cu_used)
            if lease.state is LeaseState.OPEN:
                want = (0, 0, 0)
            elif lease.state is LeaseState.CLAIMED:
                used = lease.cu_used * (lease.price_per_cu + lease.licence_per_cu)
                want = (used, locked - used, lease.cu_used)
            else:
                want = (0, locked, 0)
            self._equal(rule, f"lease {lease_id} ({lease.state}): (paid, returned, cu_used)",
                        want, (paid, back, lease.cu_used))

    @invariant()
    def compute_holds_open_locks_and_stakes(self) -> None:
        """The compute module's balance is the open leases' locks plus the stakes, and each
        stake is what its stake, unstake and slash events say."""
        if not self._checking():
            return
        ledger, rule = self.ledger, "the compute module holds open locks and stakes"
        locks = sum(le.locked for le in map(ledger.lease, self.leases)
                    if le.state is LeaseState.OPEN)
        stakes = sum(ledger.stake_of(a) for a in ADDRESSES)
        self._equal(rule, "the compute module's balance", locks + stakes,
                    ledger.balance_of(COMPUTE_ADDRESS))
        for address in ADDRESSES:
            self._equal(rule, f"{address}'s stake from its events", self.staked[address],
                        ledger.stake_of(address))
            self._true(rule, f"{address}'s stake is not negative", self.staked[address] >= 0,
                       self.staked[address])

    @invariant()
    def pools_count_their_contributions(self) -> None:
        """A pool's contributors hold exactly the units they contributed, first come first,
        at most 64 of them."""
        if not self._checking():
            return
        for key in POOL_KEYS:
            pool = self.ledger.pool(key)
            if pool is not None:
                rule = "pools count their contributions"
                self._equal(rule, f"pool {key}'s contributors", self.units[key],
                            dict(pool.contributors))
                self._true(rule, f"pool {key} has at most 64 contributors",
                           len(pool.contributors) <= 64, len(pool.contributors))

    @invariant()
    def the_asset_graph_is_bounded(self) -> None:
        """No asset is its own ancestor; each has at most MAX_PARENTS parents and
        MAX_ANCESTORS ancestors whose shares stack to at most 10000 bps; children counts
        match the links."""
        if not self._checking():
            return
        ledger, rule = self.ledger, "the asset graph is acyclic and bounded"
        keys = [k for k in (*ASSET_KEYS, *DIAMOND) if ledger.asset(k) is not None]
        children: dict[str, int] = defaultdict(int)
        for key in keys:
            asset = ledger.asset(key)
            up = ancestors(key, ledger.asset)
            self._true(rule, f"{key} is not its own ancestor", key not in up, up)
            self._true(rule, f"{key}'s parents and ancestors within bounds",
                       len(asset.parents) <= MAX_PARENTS and len(up) <= MAX_ANCESTORS,
                       (len(asset.parents), len(up)))
            stack = sum(ledger.asset(k).royalty_bps for k in up)
            self._true(rule, f"{key}'s royalty stack within 10000 bps", stack <= BPS, stack)
            for parent in asset.parents:
                children[parent] += 1
        self._equal(rule, "children counts", {k: children[k] for k in keys},
                    {k: ledger.asset(k).children for k in keys})

    @invariant()
    def mirrors_agree(self) -> None:
        """The backend holds the reference's balances, supply, nonces, jobs, twins, leases,
        stakes, assets, pools and state hash, and passes its own invariant checks."""
        if self.EVERY_STEP:
            self._compare_mirrors()

    def _full_view(self, ledger: Ledger) -> tuple:
        return (self._balances(ledger), ledger.total_supply, ledger.minted, ledger.burned,
                {a: ledger.nonce_of(a) for a in ADDRESSES},
                {j: ledger.job(j) for j in self.jobs}, {k: ledger.twin(k) for k in TWIN_KEYS},
                {i: ledger.lease(i) for i in self.leases},
                {a: ledger.stake_of(a) for a in ADDRESSES},
                {k: ledger.asset(k) for k in (*ASSET_KEYS, *DIAMOND)},
                {k: ledger.pool(k) for k in POOL_KEYS})

    def _compare_mirrors(self) -> None:
        if not self.mirrors:
            return
        reference, state_hash = self._full_view(self.ledger), self.ledger.state_hash()
        rule = "the backend holds the reference's state"
        for mirror in self.mirrors:
            self._equal(rule, "(balances, supply, minted, burned, nonces, jobs, twins, leases, "
                        "stakes, assets, pools)", reference, self._full_view(mirror))
            self._equal(rule, "the state hash", state_hash, mirror.state_hash())
            mirror.check_invariants()

    # -- determinism ------------------------------------------------------------------------
    def _replay(self, fresh: Ledger, domain: Any) -> None:
        """Execute the action log on `fresh`, re-signing each action for its domain if it
        differs from the one the log was signed for."""
        for what, arg in self.log:
            if what == "time":
                fresh.set_time(arg)
                continue
            signed, signer = arg
            if fresh.domain != domain and signed.signature is not None and signer is not None:
                again = sign(signed.intent, signer, fresh.domain)
                signed = SignedIntent(intent=signed.intent, signature=again.signature,
                                      chain_id=signed.chain_id)
            fresh.execute(signed)

    def teardown(self) -> None:
        """Replaying the action log on a fresh ledger (each backend) reproduces the state
        hash and the events; the last step's checks run here when not after every step."""
        if not hasattr(self, "mirrors") or getattr(self, "_failed", False):
            return
        if not self._checking():
            self._at_end = True
            for check in (self.supply_is_conserved, self.events_reconstruct_balances,
                          self.jobs_follow_listed_transitions,
                          self.leases_claim_within_their_locks,
                          self.compute_holds_open_locks_and_stakes,
                          self.pools_count_their_contributions, self.the_asset_graph_is_bounded):
                check()
        self._compare_mirrors()
        rule = "replaying the action log reproduces the run"
        runs = [(self.ledger, self._new_ledger, self.events)]
        runs += [(m, lambda: self._make(self.FACTORY), self.events) for m in self.mirrors]
        for ran, fresh_ledger, events in runs:
            state_hash, balances, domain = ran.state_hash(), self._balances(ran), ran.domain
            fresh = fresh_ledger()
            self._replay(fresh, domain)
            replayed = fresh.drain_events()
            if events is not None:
                self._equal(rule, "the event rows", events, replayed)
            self._equal(rule, "the state hash", state_hash, fresh.state_hash())
            self._equal(rule, "the balances", balances, self._balances(fresh))
