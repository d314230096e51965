"""Process isolation (`isolation = "process"`): attacks by untrusted policies, as an attacker
would write them, each a recorded fault while the run goes on, on the reference ledger and on
the contracts; the same run as in-process for a deterministic policy; workers that start,
restart, and die with the simulator.

Workers here take a fork server start (about a second, once per test process) and a fork per
worker (milliseconds); hangs are stopped at a time budget of 1 s, far above what the honest
calls take and far below the hour the hostile ones would.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import scenarios
from agents import (
    Isolation,
    PolicyFault,
    PolicyLimits,
    PolicyLoadError,
    ProcessPolicy,
    make_policy,
)
from agents.process import MAX_FAILED_STARTS
from economy import Observation, Role
from scenarios.errors import ScenarioError
from twinecon.seeds import SeedTree, Stream
from worlds.toy import toy_spec

BACKENDS = ["memory", "evm"]
ROOT = Path(__file__).resolve().parents[2]

ATTACKS = '''
import gc, os, sys, time
from economy import Pay


class Sleeper:
    def act(self, obs):
        time.sleep(3600)
        return []


class Spinner:
    def act(self, obs):
        while True:
            pass


class Exit3:
    def act(self, obs):
        os._exit(3)


class Exiter:
    def act(self, obs):
        raise SystemExit(0)


class Based:
    def act(self, obs):
        raise BaseException("not an Exception")


class Hog:
    """Asks for memory until none is left (bytes() is calloc: fast, until the cap)."""

    def act(self, obs):
        hoard = []
        while True:
            hoard.append(bytes(256 * 2**20))


class Printer:
    """Prints garbage to its stdout, then pays the first evaluator one base unit."""

    def act(self, obs):
        print("}{ not json\\n" * 100, flush=True)
        os.write(1, b'{"type": "actions", "actions": []}\\n')
        return [Pay(to=obs.evaluators[0], amount=1)]


class Forger:
    """Writes a forged answer straight into every descriptor it has beyond stdio."""

    def act(self, obs):
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd > 2:
                try:
                    os.write(fd, b'{"type": "actions", "actions": [{"type": "Pay"}]}\\n')
                except OSError:
                    pass
        return []


class Nester:
    """Answers on the protocol's socket with arrays nested 200,000 deep: a JSON parser
    recursing in C under the recursion limit the simulator's libraries set would crash."""

    def act(self, obs):
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd > 2:
                try:
                    os.write(fd, b"[" * 200_000 + b"\\n")
                except OSError:
                    pass
        time.sleep(3600)


class Closer:
    """Closes its end of the protocol and carries on (sleeping)."""

    def act(self, obs):
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd > 2:
                try:
                    os.close(fd)
                except OSError:
                    pass
        time.sleep(3600)


class EvilList(list):
    def __iter__(self):
        raise SystemExit("iterated")

    def __len__(self):
        raise SystemExit("measured")


class Lister:
    def act(self, obs):
        return EvilList([Pay(to=obs.evaluators[0], amount=1)])


class KeyHunter:
    """Looks through its own process for a key, a ledger or the model, and reports them."""

    NAMES = {"Identity", "LocalAccount", "MemoryLedger", "EvmLedger", "ContractLedger",
             "RpcLedger", "EconomyModel", "EconAgent", "Settler"}

    def act(self, obs):
        found = sorted({type(o).__name__ for o in gc.get_objects()
                        if type(o).__name__ in self.NAMES})
        raise RuntimeError(f"found {found}")


class Probe:
    """Reports its reset seed, its calls since it was built and a draw of obs.rng; on the
    tick named, it hangs instead."""

    def __init__(self, hang_at=-1):
        self.hang_at = hang_at
        self.seed = None
        self.calls = 0

    def reset(self, seed):
        self.seed = seed

    def act(self, obs):
        self.calls += 1
        if obs.tick == self.hang_at:
            time.sleep(3600)
        raise RuntimeError(f"seed={self.seed} calls={self.calls} "
                           f"draw={obs.rng.integers(1 << 62)}")
'''

#: attacker -> what its recorded fault says (None: no fault at all)
EXPECTED = {
    "Sleeper": "act timed out after 1000 ms (time_limit_ms)",
    "Spinner": "act timed out after 1000 ms (time_limit_ms)",
    "Exit3": "its worker exited with code 3 during act",
    "Exiter": "act raised SystemExit: 0",
    "Based": "act raised BaseException: not an Exception",
    "Hog": "act raised MemoryError (its memory limit is 1024 MB above the",
    "Forger": "answered something that is not twinecon-policy-wire/1",
    "Nester": "nested at most 64 deep",
    "Lister": "act returned EvilList, not a list of actions",
    "KeyHunter": "act raised RuntimeError: found []",
    "Printer": None,
}


def _scenario(small_market, write_toml, tmp_path, groups, *, backend, ticks, name="iso",
              **extra):
    (tmp_path / "attacks.py").write_text(ATTACKS)
    data = copy.deepcopy(small_market)
    data["ledger"] = {**data["ledger"], "backend": backend}
    data["ticks"] = ticks
    data["agents"][2:2] = groups
    data.update(extra)
    return write_toml(data, name)


def _attacker(name: str) -> dict:
    group = {"role": "provider", "label": name.lower(), "policy": f"attacks.py:{name}",
             "isolation": "process", "memory_limit_mb": 1024, "balance": 5}
    if name in ("Sleeper", "Spinner"):
        group["time_limit_ms"] = 1000
    return group


def _gone(pid: int, timeout_s: float = 20.0) -> bool:
    """Whether process `pid` has ended (or is a zombie) within a generous timeout."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("backend", BACKENDS)
def test_attacks_are_recorded_faults_and_the_run_goes_on(small_market, write_toml, tmp_path,
                                                         run, read_table, backend) -> None:
    """Policies in workers that sleep forever, busy-loop, call os._exit(3), raise SystemExit or
    a bare BaseException, allocate far beyond their memory cap, forge an answer on the
    protocol's socket or answer with JSON nested 200,000 deep, return a list subclass whose
    __iter__ raises, or look through their own process for keys, a ledger or the model (and
    find none): each call is a recorded policy_fault saying what happened, and the run
    finishes with every output. A policy that
    prints garbage to its stdout corrupts nothing: its actions still arrive."""
    groups = [_attacker(name) for name in EXPECTED]
    small_market["twin"]["params"]["order_rate_per_h"] = 600  # jobs from the first tick on
    result = run(_scenario(small_market, write_toml, tmp_path, groups, backend=backend,
                           ticks=2))
    assert all((result.out_dir / name).is_file() for name in scenarios.OUTPUTS)
    events = read_table(result, "events")
    faults = events[events.kind == "policy_fault"]
    address = dict(read_table(result, "agents")[["label", "address"]].drop_duplicates().values)
    ticks = result.summary["ticks"]
    for name, says in EXPECTED.items():
        mine = faults[faults.payer == address[f"{name.lower()}-0"]].detail
        if says is None:
            assert mine.empty, (name, list(mine))
            continue
        assert len(mine) == ticks, (name, list(mine))
        assert mine.str.contains(says, regex=False).all(), (name, list(mine))
    paid = events[(events.payer == address["printer-0"]) & (events.kind != "policy_fault")]
    assert len(paid) == ticks and (paid.amount == 1).all()
    assert result.summary["policy_faults"] == ticks * (len(EXPECTED) - 1)
    assert result.summary["bids"] > 0  # the honest agents traded on


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_process_isolated_run_is_the_in_process_run(small_market, write_toml, tmp_path, run,
                                                      backend) -> None:
    """A built-in policy group (the thorough providers, which draw on obs.rng and the
    planner) run with isolation = "process" gives the same summary.json as in-process: the
    same jobs, prices, events digest and ledger state, byte for byte."""
    path = _scenario(small_market, write_toml, tmp_path, [], backend=backend, ticks=20)
    inprocess = run(path)
    isolated = copy.deepcopy(small_market)
    thorough = next(g for g in isolated["agents"] if g.get("label") == "thorough")
    thorough["isolation"] = "process"
    process = run(_scenario(isolated, write_toml, tmp_path, [], backend=backend, ticks=20,
                            name="isolated"))
    a = json.loads((inprocess.out_dir / "summary.json").read_text())
    b = json.loads((process.out_dir / "summary.json").read_text())
    assert a["jobs_completed"] > 0 and a["bids"] > 0
    assert a == b


def test_a_restarted_worker_rebuilds_and_resets_its_policy(small_market, write_toml,
                                                           tmp_path, run, read_table) -> None:
    """The worker's policy gets the agent's reset seed and its obs.rng is the run's POLICY
    stream at the agent's index, as in-process; after a call over its budget the next call
    has a fresh worker, whose policy is rebuilt and reset with the same seed (its calls count
    from 1 again, its generator starts its stream over)."""
    group = {**_attacker("Probe"), "time_limit_ms": 1000, "params": {"hang_at": 2}}
    result = run(_scenario(small_market, write_toml, tmp_path, [group], backend="memory",
                           ticks=3))
    faults = read_table(result, "events").query("kind == 'policy_fault'").detail.tolist()
    agents = read_table(result, "agents")
    index = int(agents[agents.label == "probe-0"].agent.iloc[0])
    seed = SeedTree(small_market["seed"]).integer(Stream.POLICY_RESET, index)
    draw = SeedTree(small_market["seed"]).rng(Stream.POLICY, index).integers(1 << 62)
    raised = f"seed={seed} calls=1 draw={draw} (at attacks.py:"  # and the line that raised
    assert raised in faults[0]
    assert "act timed out after 1000 ms" in faults[1]
    assert raised in faults[2]


def test_bad_params_are_build_errors_not_faults(small_market, write_toml, tmp_path) -> None:
    """Under process isolation a param the policy does not take is an error at build time
    naming the group's key: a built-in's checked here, a file policy's in a short-lived
    worker (its code never runs in this process)."""
    for policy, params in (("provider", {"candidatez": 3}),
                           ("attacks.py:Probe", {"hang_att": 2})):
        group = {**_attacker("Probe"), "policy": policy, "params": params}
        path = _scenario(small_market, write_toml, tmp_path, [group], backend="memory",
                         ticks=2)
        with pytest.raises(ScenarioError, match=r"agents\[2\]\.policy.*does not accept"):
            scenarios.build(scenarios.load_scenario(path))


def _toy_policy(ref: str = "idle", **limits: int) -> ProcessPolicy:
    policy = make_policy(ref, {}, limits=PolicyLimits(isolation=Isolation.PROCESS, **limits),
                         twin_spec=toy_spec(), seed=1, index=0)
    assert isinstance(policy, ProcessPolicy)
    return policy


def test_the_memory_limit_is_the_policy_budget_above_its_worker(tmp_path) -> None:
    """memory_limit_mb is what the policy may take above what its worker maps when it starts
    (the interpreter, numpy and the simulator): with 64 MB a policy runs and may take 32 MB,
    and asking for 128 MB is a MemoryError saying so."""
    (tmp_path / "alloc.py").write_text(
        "class Alloc:\n"
        "    def __init__(self, mb):\n"
        "        self.mb = mb\n"
        "    def act(self, obs):\n"
        "        keep = bytearray(self.mb * 2**20)  # touched: really taken\n"
        "        return []\n")
    limits = PolicyLimits(isolation=Isolation.PROCESS, memory_limit_mb=64)
    for mb, fails in ((32, False), (128, True)):
        with ProcessPolicy("alloc.py:Alloc", {"mb": mb}, base_dir=tmp_path, limits=limits,
                           twin_spec=toy_spec()) as policy:
            if fails:
                with pytest.raises(PolicyFault, match=r"MemoryError .*its memory limit is 64 MB"):
                    policy.act(_observation())
            else:
                assert policy.act(_observation()) == []


def test_unknown_policy_in_a_worker_is_a_load_error(tmp_path) -> None:
    """A file policy that does not exist is a PolicyLoadError naming it, found by the
    worker."""
    with pytest.raises(PolicyLoadError, match="not found"):
        _toy_policy(str(tmp_path / "nowhere.py") + ":Cls")


def test_workers_stop_on_close_and_when_the_policy_is_dropped(small_market, write_toml,
                                                               tmp_path) -> None:
    """close() stops the worker (a later call starts a fresh one); a policy that is garbage
    collected takes its worker with it."""
    built = scenarios.build(scenarios.load_scenario(_scenario(
        small_market, write_toml, tmp_path, [_attacker("Printer")], backend="memory",
        ticks=2)))
    built.model.step()
    agent = next(a for a in built.agents if a.label == "printer-0")
    policy = agent.policy
    first = policy.pid
    assert first is not None and not _gone(first, 0.2)
    policy.close()
    assert policy.pid is None and _gone(first)
    built.model.step()
    second = policy.pid
    assert second is not None and second != first and policy.n_starts == 2
    del agent, policy, built
    import gc

    gc.collect()
    assert _gone(second)


def test_workers_die_with_the_simulator(tmp_path) -> None:
    """When the simulator's process is killed (SIGKILL: no atexit, no finalizer), the fork
    server sees its socket close and kills every worker, itself included."""
    script = tmp_path / "victim.py"
    script.write_text(
        "import os, signal\n"
        "from agents import Isolation, PolicyLimits, make_policy\n"
        "from economy import Observation, Role\n"
        "from worlds.toy import toy_spec\n"
        "p = make_policy('idle', {}, limits=PolicyLimits(isolation=Isolation.PROCESS),\n"
        "                twin_spec=toy_spec(), seed=1, index=0)\n"
        "p.act(Observation(tick=1, address='0x' + '00' * 20, role=Role.WORLD, balance=0,\n"
        "      nonce=0, orders=(), jobs=(), open_jobs=(), quotes=(), results=(),\n"
        "      evaluators=(), planner=None, rng=None))\n"
        "server = open(f'/proc/{p.pid}/stat').read().rsplit(')', 1)[1].split()[1]\n"
        "print(p.pid, server, flush=True)  # the worker and its parent, the fork server\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    worker, server = map(int, out.stdout.split())
    assert _gone(worker) and _gone(server)


def _observation() -> Observation:
    return Observation(tick=1, address="0x" + "00" * 20, role=Role.PROVIDER, balance=0,
                       nonce=0, orders=(), jobs=(), open_jobs=(), quotes=(), results=(),
                       evaluators=("0x" + "11" * 20,), planner=None, rng=None)


def test_called_directly_a_failure_is_a_policy_fault(tmp_path) -> None:
    """Outside a run, a worker's failure is raised as agents.PolicyFault saying what
    happened, and each call starts a fresh worker; a worker that closes its end of the
    protocol but runs on is stopped; a worker that cannot start (its policy file gone) is
    retried MAX_FAILED_STARTS times, then no longer started."""
    (tmp_path / "attacks.py").write_text(ATTACKS)
    limits = PolicyLimits(isolation=Isolation.PROCESS)
    with ProcessPolicy("attacks.py:Exit3", base_dir=tmp_path, limits=limits,
                       twin_spec=toy_spec()) as policy:
        for _ in range(2):
            with pytest.raises(PolicyFault, match="exited with code 3 during act"):
                policy.act(_observation())
        assert policy.n_starts == 2
    with ProcessPolicy("attacks.py:Closer", base_dir=tmp_path, limits=limits,
                       twin_spec=toy_spec()) as policy:
        with pytest.raises(PolicyFault, match="closed its end of the protocol but kept running"):
            policy.act(_observation())
    (tmp_path / "gone.py").write_text(ATTACKS)
    policy = ProcessPolicy("gone.py:Printer", base_dir=tmp_path, limits=limits,
                           twin_spec=toy_spec())
    assert policy.act(_observation())[0].amount == 1
    policy.close()
    (tmp_path / "gone.py").unlink()
    for _ in range(MAX_FAILED_STARTS):
        with pytest.raises(PolicyFault, match=r"policy file .* not found"):
            policy.act(_observation())
    with pytest.raises(PolicyFault, match="is not started again"):
        policy.act(_observation())
    assert policy.n_starts == 1 + MAX_FAILED_STARTS
