"""The light commands start fast: `twinecon --help`, `list`, `schema` and `validate` import no
heavy library they do not use, and the packages' re-exports are imported on first use.

Each command runs in a fresh interpreter through `twinecon.cli.main`, which then reports the
modules it loaded (`sys.modules`). No wall time is asserted (machines are noisy): what makes a
command slow is what it imports, and that is what these tests pin. `bench/bench_cli_start.py`
measures the times.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Libraries no light command may import: each costs from tens of milliseconds to seconds.
HEAVY = frozenset({"pandas", "pyarrow", "matplotlib", "web3", "vyper", "pyrevm", "mujoco",
                   "eth_account", "eth_keyfile", "py_ecc", "ray", "optuna", "scipy", "SALib",
                   "duckdb", "pettingzoo", "gymnasium", "hypothesis", "mesa",
                   "eth_utils", "eth_abi"})  # keccak and checksums: chain.hashing

#: `validate` builds a stand-in of the economy (`scenarios.build.check`), whose model records
#: its tables as Arrow schemas (economy.recorder, economy.tables): pyarrow is what it uses.
VALIDATE_USES = frozenset({"pyarrow"})

#: Runs `twinecon.cli.main(argv)` and writes its exit code and loaded modules to a file.
_RUNNER = """\
import json, sys
from twinecon.cli import main
report, argv = sys.argv[1], sys.argv[2:]
try:
    code = main(argv)
except SystemExit as e:
    code = e.code
with open(report, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _run(argv: list[str], tmp_path: Path) -> tuple[int, str, set[str]]:
    """(exit code, stdout, loaded modules) of `twinecon ARGV` in a fresh interpreter."""
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-c", _RUNNER, str(report), *argv],
                          capture_output=True, text=True, env=_env(), cwd=tmp_path,
                          timeout=300, check=False)
    assert report.exists(), done.stderr
    result = json.loads(report.read_text())
    return result["code"], done.stdout, set(result["modules"])


def _heavy(modules: set[str]) -> set[str]:
    """The heavy libraries among `modules` (by top-level package)."""
    return {m.split(".")[0] for m in modules} & HEAVY


def test_help_imports_no_package_below_the_command_line(tmp_path: Path) -> None:
    """`--help` lists every verb and imports only the verb modules and what they need to add
    their options: no scenario loading, ledger, economy, twin or pydantic."""
    code, out, modules = _run(["--help"], tmp_path)
    assert code == 0
    assert out.startswith("usage: twinecon ")
    for verb in ("run", "validate", "schema", "list", "node", "sweep", "query", "analyze",
                 "report", "rerun"):
        assert f"    {verb} " in out
    assert _heavy(modules) == set()
    roots = {m.split(".")[0] for m in modules}
    assert roots & {"worlds", "economy", "agents", "pydantic", "numpy", "networkx",
                    "eth_utils", "coincurve"} == set()
    assert modules & {"chain.identity", "chain.protocols", "scenarios.loading",
                      "scenarios.schema", "scenarios.build", "sweeps.engine",
                      "sweeps.plan"} == set()


def test_list_names_every_builtin_without_heavy_imports(tmp_path: Path) -> None:
    """`list` prints each built-in scenario with its description, loading only the schema."""
    from scenarios.loading import builtin_names

    code, out, modules = _run(["list"], tmp_path)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(builtin_names())
    assert _heavy(modules) == set()
    assert "scenarios.build" not in modules and "economy.model" not in modules


def test_schema_prints_the_json_schema_without_heavy_imports(tmp_path: Path) -> None:
    """`schema` prints the scenario JSON Schema, loading only the schema."""
    from scenarios.schema import Scenario

    code, out, modules = _run(["schema"], tmp_path)
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps(Scenario.model_json_schema()))
    assert _heavy(modules) == set()
    assert "scenarios.build" not in modules and "economy.model" not in modules


def test_validate_a_builtin_without_heavy_imports(tmp_path: Path) -> None:
    """`validate` checks a built-in (policies, twin, memory ledger and genesis) without the
    contract backends, the node client, eth-account's keystores or the sweep libraries."""
    code, out, modules = _run(["validate", "warehouse-market"], tmp_path)
    assert code == 0
    assert out.startswith(str(ROOT / "scenarios" / "warehouse-market.toml") + ": ok "
                          "(warehouse-market, ")
    assert _heavy(modules) - VALIDATE_USES == set()
    assert "scenarios.build" in modules  # it did check


def test_choices_equal_the_enums_they_name() -> None:
    """The plain tuples the command line offers equal chain's enums and the sweep engine's
    executors, in order."""
    import chain
    import sweeps.engine
    from chain import choices
    from sweeps.choices import EXECUTORS

    assert choices.BACKENDS == tuple(b.value for b in chain.Backend)
    assert choices.SIGNATURE_MODES == tuple(m.value for m in chain.SignatureMode)
    assert EXECUTORS == sweeps.engine.EXECUTORS


LAZY_PACKAGES = ("scenarios", "sweeps", "chain", "economy", "agents")


def test_importing_a_package_imports_none_of_its_modules() -> None:
    """`import scenarios` (and sweeps, chain, economy, agents) loads no submodule: each
    re-export is imported when first used."""
    code = (f"import sys, {', '.join(LAZY_PACKAGES)}\n"
            "print(','.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_env(), timeout=120, check=True).stdout
    loaded = set(out.strip().split(","))
    assert {m for m in loaded if m.split(".")[0] in LAZY_PACKAGES} == set(LAZY_PACKAGES)
    assert _heavy(loaded) == set()


def _type_checking_imports(package: str) -> dict[str, str]:
    """name -> module of the `from module import name` lines under `if TYPE_CHECKING:` in
    the package's `__init__.py` (what type checkers see)."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If)
                 and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING")
    return {a.name: n.module or "" for n in block.body if isinstance(n, ast.ImportFrom)
            for a in n.names}


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_to_its_module_s_object(package: str) -> None:
    """Every name in `__all__` is re-exported lazily, is the object its module defines, and is
    what the `TYPE_CHECKING` imports tell type checkers; `dir()` lists it."""
    module = importlib.import_module(package)
    declared = _type_checking_imports(package)
    assert sorted(declared) == sorted(module.__all__)
    for name, source in declared.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name), name
    assert set(module.__all__) <= set(dir(module))
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)
    assert set(module.__all__) <= set(namespace)
    with pytest.raises(AttributeError):
        _ = module.no_such_name


def test_a_function_named_like_its_module_stays_the_function() -> None:
    """`scenarios.build` is the function and `sweeps.plan` too, as with eager imports, even
    after their modules are imported (which binds a submodule on its package)."""
    import scenarios
    import scenarios.build
    import sweeps
    import sweeps.plan
    from scenarios.build import check

    assert callable(check)
    assert scenarios.build is sys.modules["scenarios.build"].build
    assert sweeps.plan is sys.modules["sweeps.plan"].plan
