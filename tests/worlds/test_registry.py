"""Tests of worlds.registry: twin kinds by string entry point, built on demand."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from worlds import InvalidSpec, TwinSpec, UnknownKind, WorldError, check_twin, registry
from worlds.logistics import LogisticsTwin
from worlds.toy import ToyTwin, toy_spec
from worlds.warehouse import WarehouseTwin, warehouse_spec
from worlds.windfarm import WindfarmTwin


def test_the_shipped_kinds_are_registered() -> None:
    """warehouse, logistics, windfarm and toy are registered, listed sorted."""
    assert registry.kinds() == ("logistics", "toy", "warehouse", "windfarm")


@pytest.mark.parametrize(("kind", "cls"), [("warehouse", WarehouseTwin),
                                           ("logistics", LogisticsTwin),
                                           ("windfarm", WindfarmTwin), ("toy", ToyTwin)])
def test_make_builds_the_spec_then_the_registered_twin(kind: str, cls: type) -> None:
    """make(kind) is the registered class on the builder's default spec; twin_from_spec
    rebuilds the same twin from that spec."""
    twin = registry.make(kind)
    assert type(twin) is cls and twin.spec == registry.spec(kind)
    assert registry.twin_from_spec(twin.spec).twin_id == twin.twin_id


def test_make_passes_parameters_to_the_builder() -> None:
    """make(kind, **params) equals building the spec by hand with those parameters."""
    twin = registry.make("warehouse", name="wh-small", n_aisles=4, slots_per_aisle=5,
                         n_skus=20)
    assert twin.spec == warehouse_spec(name="wh-small", n_aisles=4, slots_per_aisle=5,
                                       n_skus=20)


def test_spec_params_are_the_builder_keywords_but_the_labels() -> None:
    """spec_params lists what [twin.params] may set: every builder keyword but name and
    version, in the builder's order."""
    params = registry.spec_params("warehouse")
    assert params[:2] == ("n_aisles", "slots_per_aisle")
    assert "name" not in params and "version" not in params and "l2_robot_step_cu" in params


def test_unknown_kind_suggests_a_near_match() -> None:
    """An unregistered kind raises UnknownKind (a WorldError) naming a near match."""
    with pytest.raises(UnknownKind, match="did you mean 'warehouse'") as info:
        registry.make("warehous")
    assert isinstance(info.value, WorldError) and "registered: logistics" in str(info.value)
    with pytest.raises(UnknownKind):
        registry.twin_from_spec(TwinSpec(kind="greenhouse", name="g", version="1", body={}))


def test_unknown_spec_parameter_suggests_a_near_match() -> None:
    """A parameter the builder does not take raises InvalidSpec with a near match."""
    with pytest.raises(InvalidSpec, match="did you mean 'n_aisles'"):
        registry.spec("warehouse", n_aisle=3)


def test_env_builds_the_kinds_parallel_env_on_a_spec() -> None:
    """env(kind, spec, **kw) is the kind's parallel env on that spec; a kind without an env,
    or a spec of another kind, is refused."""
    spec = warehouse_spec(name="wh-env", n_aisles=3, slots_per_aisle=4, n_skus=20)
    penv = registry.env("warehouse", spec, n_robots=2, max_cycles=5)
    assert penv.metadata["twin_id"] == spec.id and len(penv.possible_agents) == 2
    with pytest.raises(WorldError, match="no PettingZoo env"):
        registry.env("toy")
    with pytest.raises(InvalidSpec, match="kind 'logistics'"):
        registry.env("logistics", spec)


def test_register_checks_entry_points_and_refuses_a_conflict(monkeypatch) -> None:
    """Entry points must be 'module:attr'; re-registering a kind identically is a no-op,
    differently an error; a registered kind whose module is missing fails when used."""
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    with pytest.raises(WorldError, match="module:attr"):
        registry.register("bad", spec="worlds.toy.toy_spec", twin="worlds.toy:ToyTwin")
    registry.register("toy", spec="worlds.toy:toy_spec", twin="worlds.toy:ToyTwin")
    with pytest.raises(WorldError, match="already registered"):
        registry.register("toy", spec="worlds.toy:toy_spec", twin="worlds.toy:Other")
    registry.register("ghost", spec="no_such_module:ghost_spec", twin="worlds.toy:ToyTwin")
    with pytest.raises(WorldError, match="cannot be imported"):
        registry.make("ghost")


def test_a_registered_custom_kind_is_built_by_name(monkeypatch) -> None:
    """A twin author's kind, registered by entry point, is built, listed and checked like a
    shipped one: its module is imported only when the kind is first used."""
    module = types.ModuleType("courier_twin")

    class CourierTwin(ToyTwin):
        kind = "courier"

    def courier_spec(name: str = "c", version: str = "1.0.0", *, n_stops: int = 3) -> TwinSpec:
        toy = toy_spec(name=name, version=version, n_stops=n_stops, lines_max=1)
        return TwinSpec(kind="courier", name=name, version=version, body=toy.body)

    module.CourierTwin, module.courier_spec = CourierTwin, courier_spec
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    registry.register("courier", spec="courier_twin:courier_spec",
                      twin="courier_twin:CourierTwin")
    assert "courier" in registry.kinds()
    with pytest.raises(WorldError, match="cannot be imported"):
        registry.make("courier")
    monkeypatch.setitem(sys.modules, "courier_twin", module)
    twin = registry.make("courier", n_stops=4)
    assert type(twin) is CourierTwin and twin.n_stops == 4
    assert registry.spec_params("courier") == ("n_stops",)
    check_twin(twin)


def test_importing_worlds_imports_no_twin_module() -> None:
    """import worlds (registrations included) loads no twin package, env or physics."""
    code = ("import sys, worlds\n"
            "print(sorted(m for m in sys.modules if m.startswith(('worlds.warehouse', "
            "'worlds.logistics', 'worlds.windfarm', 'worlds.toy'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
