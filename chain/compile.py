"""Compiling the ledger contracts with the pip-installed Vyper, cached by source hash.

Nothing is downloaded: the compiler is the `vyper` package and the building blocks are the
`snekmate` package, both installed with twinecon. Artifacts (ABI, init code, runtime code) are
cached as JSON under `$TWINECON_CACHE` (default `~/.cache/twinecon`), keyed by the sha256 of
the sources, the compiler version and the snekmate version, so an edited contract recompiles
and an unchanged one loads in milliseconds.

A compile (a cold cache: a fresh install, or new contract sources or compiler) takes about a
minute, so it says so on stderr, one line before and one after; a cache hit prints nothing.
The lines are plain stderr, terminal or not (no logging, no warnings): a compile happens once
per install and contract version, and a piped run, a CI log or a sweep's worker log is where
an unexplained minute is hardest to understand. stdout is never written to.
"""

from __future__ import annotations

import hashlib
import json
import os
import site
import sys
import time
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from chain.errors import ChainError

__all__ = ["CONTRACTS_DIR", "Artifact", "artifact", "cache_dir", "compile_all", "contract_names"]

CONTRACTS_DIR = Path(__file__).parent / "contracts"
#: The EVM rules the contracts are compiled for: pyrevm, hardhat 2 and current chains run them.
EVM_VERSION = "cancun"


@dataclass(frozen=True, slots=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict]
    initcode: bytes
    runtime: bytes
    source_hash: str
    storage: dict  # the compiler's storage layout: variable -> {"slot": n, "type": ...}


def cache_dir() -> Path:
    root = os.environ.get("TWINECON_CACHE") or Path.home() / ".cache" / "twinecon"
    return Path(root) / "contracts"


def contract_names() -> list[str]:
    """The contracts to compile and deploy: each `*.vy` named in CapWords. A lowercase one
    (`ops.vy`, the constants rendered from the operations table) is a module the contracts
    import, never deployed; its text still counts in the cache key."""
    return sorted(p.stem for p in CONTRACTS_DIR.glob("*.vy") if p.stem[:1].isupper())


def _sources_hash() -> str:
    h = hashlib.sha256(f"artifact=2;evm={EVM_VERSION};".encode())
    for name in ("vyper", "snekmate"):
        h.update(f"{name}={metadata.version(name)};".encode())
    for path in sorted(CONTRACTS_DIR.glob("*.vy")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _search_paths() -> list[Path]:
    paths = [CONTRACTS_DIR, *(Path(p) for p in site.getsitepackages())]
    paths += [Path(p) for p in sys.path if p and Path(p).is_dir()]
    return list(dict.fromkeys(paths))


def _compile(name: str) -> dict:
    try:
        from vyper.compiler import compile_code
        from vyper.compiler.input_bundle import FilesystemInputBundle
    except ImportError as e:  # pragma: no cover - vyper is a dependency
        raise ChainError(f"the vyper compiler is not installed ({e}); run `make test` or "
                         "`pip install -e .`") from e
    from vyper.compiler.settings import Settings

    path = CONTRACTS_DIR / f"{name}.vy"
    out = compile_code(
        path.read_text(), contract_path=path.name, resolved_path=path,
        input_bundle=FilesystemInputBundle(_search_paths()),
        output_formats=["abi", "bytecode", "bytecode_runtime", "layout"],
        settings=Settings(evm_version=EVM_VERSION),
    )
    return {"abi": out["abi"], "initcode": out["bytecode"][2:],
            "runtime": out["bytecode_runtime"][2:], "storage": out["layout"]["storage_layout"]}


def _say(line: str) -> None:
    """One line to stderr, what the user sees of a compile (never stdout)."""
    print(f"twinecon: {line}", file=sys.stderr, flush=True)


def _compile_said(names: list[str], folder: Path) -> dict[str, dict]:
    """`_compile` of each of `names`, announced on stderr before and timed after."""
    _say(f"compiling the ledger contracts with vyper {metadata.version('vyper')} (once; "
         f"cached in {folder})...")
    start = time.perf_counter()
    data = {name: _compile(name) for name in names}
    _say(f"compiled the ledger contracts in {time.perf_counter() - start:.1f} s")
    return data


@cache
def compile_all() -> dict[str, Artifact]:
    """Every contract in `chain/contracts/`, compiled or loaded from the cache. A compile says
    so on stderr (one line before, one after with its time); a cache hit prints nothing."""
    digest = _sources_hash()
    target = cache_dir() / f"{digest}.json"
    try:
        data = json.loads(target.read_text())
    except (OSError, ValueError):
        data = _compile_said(contract_names(), target.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, target)  # atomic: a concurrent compile writes the same bytes
    return {
        name: Artifact(name=name, abi=d["abi"], initcode=bytes.fromhex(d["initcode"]),
                       runtime=bytes.fromhex(d["runtime"]), source_hash=digest,
                       storage=d["storage"])
        for name, d in data.items()
    }


def artifact(name: str) -> Artifact:
    """The compiled contract `name` (Hub, Token, Registry, Escrow, Compute, Assets)."""
    return compile_all()[name]
