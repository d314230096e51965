"""A contract compile says what it is doing: one stderr line before (the vyper version and
the cache folder) and one after (how long it took), only when a compile happens; a cache hit
is silent. Each test uses a cache folder of its own (`$TWINECON_CACHE`)."""

from __future__ import annotations

from importlib import metadata

import pytest

from chain import compile as compiling


@pytest.fixture
def cold_cache(tmp_path, monkeypatch):
    """An empty contract cache, and `compile_all`'s in-process memo cleared before and after
    (so later tests load the real artifacts from the usual cache again)."""
    monkeypatch.setenv("TWINECON_CACHE", str(tmp_path))
    compiling.compile_all.cache_clear()
    yield tmp_path / "contracts"
    compiling.compile_all.cache_clear()


def _stub_compile(monkeypatch) -> list[str]:
    """Replace vyper with a stand-in artifact per contract; returns the names compiled."""
    compiled: list[str] = []

    def fake(name: str) -> dict:
        compiled.append(name)
        return {"abi": [], "initcode": "00", "runtime": "00", "storage": {}}

    monkeypatch.setattr(compiling, "_compile", fake)
    return compiled


def test_cold_cache_says_so_and_warm_cache_is_silent(cold_cache, monkeypatch, capfd) -> None:
    """Vyper stubbed (the real compile is `test_real_compile_...` below, marked slow)."""
    compiled = _stub_compile(monkeypatch)
    artifacts = compiling.compile_all()
    assert compiled == compiling.contract_names() and set(artifacts) == set(compiled)
    out, err = capfd.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2, err
    version = metadata.version("vyper")
    assert lines[0] == (f"twinecon: compiling the ledger contracts with vyper {version} "
                        f"(once; cached in {cold_cache})...")
    assert lines[1].startswith("twinecon: compiled the ledger contracts in ")
    assert lines[1].endswith(" s")

    compiled.clear()
    compiling.compile_all.cache_clear()  # a new process: the memo is gone, the file is not
    assert set(compiling.compile_all()) == set(artifacts)
    assert compiled == []
    assert capfd.readouterr() == ("", "")


def test_a_failed_compile_says_only_that_it_started(cold_cache, monkeypatch, capfd) -> None:
    def broken(name: str) -> dict:
        raise RuntimeError("vyper broke")

    monkeypatch.setattr(compiling, "_compile", broken)
    with pytest.raises(RuntimeError, match="vyper broke"):
        compiling.compile_all()
    out, err = capfd.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith("twinecon: compiling the ledger contracts")


@pytest.mark.slow
def test_real_compile_on_a_cold_cache_says_so_then_not_again(cold_cache, capfd) -> None:
    """The real vyper compile (10 s to a minute, by the machine)."""
    compiling.compile_all()
    out, err = capfd.readouterr()
    assert out == "" and len(err.splitlines()) == 2, err
    assert "compiling the ledger contracts with vyper" in err
    assert str(cold_cache) in err
    compiling.compile_all.cache_clear()
    compiling.compile_all()
    assert capfd.readouterr() == ("", "")
