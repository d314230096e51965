"""The MJCF text of the warehouse's L2 scene, generated from the spec's geometry alone.

**Scene** (`scene_mjcf`): a floor plane; one static box
per rack run (between neighbouring aisles a double-depth rack, single-depth racks outside
the first and last aisle, each spanning the slots plus half a slot pitch at both ends, with
an aisle clear width of ``AISLE_CLEAR_MM``), all in a body named ``shelves``; and
``n_robots`` differential-drive robots: a chassis on a free joint whose origin is the
midpoint of the wheel axle, two sphere wheels on hinges driven by velocity actuators
(``kv``, torque limited, with rotor armature), and one frictionless front caster (a tripod:
statically determinate). ``integrator="implicitfast"``, ``timestep = 1/hz``. Robot 0 starts
at the depot facing +y; further robots park to its right. Sensors per robot: both wheel
actuator torques and joint speeds, and a contact sensor counting robot-shelf contacts.

The text is generated without mujoco: it depends only on the spec, the rate and the robot
count, so its sha256 identifies the L2 model together with the engine version.
`worlds.warehouse.physics.L2Evaluator` compiles and drives it.

**Physics rate**: ``HZ_CHOICES`` are the rates a market offers (200 economy, 500 default,
1000 premium) and ``DEFAULT_HZ`` the one used when none is named; any int >= ``MIN_HZ`` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from worlds.errors import InvalidPlan, InvalidSpec

if TYPE_CHECKING:
    from worlds.warehouse.twin import WarehouseTwin

__all__ = ["DEFAULT_HZ", "HZ_CHOICES", "MIN_HZ", "check_hz", "scene_mjcf"]

#: The physics rates (Hz) the L2 tier is offered at: economy, default, premium.
HZ_CHOICES: tuple[int, ...] = (200, 500, 1000)
#: The rate of an L2 evaluator built without one.
DEFAULT_HZ = 500
#: The lowest rate the wheeled contact model is stable at.
MIN_HZ = 100

# Robot and scene constants (mm, kg, N m): part of the engine version and of the MJCF text.
AISLE_CLEAR_MM = 1200
RACK_HEIGHT_MM = 2000
WHEEL_RADIUS_MM = 80
HALF_TRACK_MM = 230
CHASSIS_HALF_MM = (250, 200, 50)
CHASSIS_OFFSET_MM = 100  # chassis centre ahead of the axle
CASTER_X_MM = 280
CASTER_RADIUS_MM = 30
CHASSIS_KG = 20
WHEEL_KG = 1
WHEEL_KV = 5  # velocity servo gain, N m per rad/s
WHEEL_TORQUE_NM = 4
WHEEL_DAMPING = "0.05"  # N m s/rad: bearing and rolling losses, so cruising costs energy
PARK_PITCH_MM = 800


def _m(mm: float) -> str:
    """Millimetres as a metre string with fixed precision (stable MJCF text)."""
    return f"{mm / 1000:.4f}"


def _geometry(twin: WarehouseTwin) -> dict[str, int]:
    geo = twin.spec.body["geometry"]
    pitch, slot, cross = geo["aisle_pitch_mm"], geo["slot_pitch_mm"], geo["cross_aisle_mm"]
    if pitch < AISLE_CLEAR_MM + 100:
        raise InvalidSpec(
            f"aisle_pitch_mm is {pitch}; the L2 scene needs at least {AISLE_CLEAR_MM + 100} "
            f"(a {AISLE_CLEAR_MM} mm clear aisle plus racks): widen the aisles"
        )
    if cross - slot // 2 < 500:
        raise InvalidSpec(
            f"cross_aisle_mm - slot_pitch_mm / 2 is {cross - slot // 2}; the L2 scene needs "
            "at least 500 mm between a rack end and the cross aisle for the robot to turn: "
            "raise cross_aisle_mm"
        )
    return dict(geo)


def scene_mjcf(twin: WarehouseTwin, *, hz: int = DEFAULT_HZ, n_robots: int = 1) -> str:
    """Generate the MJCF text of the L2 scene for a twin.

    Args:
        twin: the L1 twin whose spec fixes the layout.
        hz: physics rate; the timestep is ``1 / hz`` s.
        n_robots: number of robots; robot 0 starts at the depot, the others park beside it.

    Returns:
        MJCF text, byte-identical for the same spec, hz and n_robots.

    Raises:
        InvalidSpec: the layout is too tight for the robot.
        InvalidPlan: hz or n_robots out of range.
    """
    hz = check_hz(hz)
    if isinstance(n_robots, bool) or not isinstance(n_robots, int) or n_robots < 1:
        raise InvalidPlan(f"n_robots is {n_robots!r}; expected an int >= 1")
    g = _geometry(twin)
    n, s_max = g["n_aisles"], g["slots_per_aisle"]
    pitch, slot, cross = g["aisle_pitch_mm"], g["slot_pitch_mm"], g["cross_aisle_mm"]
    half_clear = AISLE_CLEAR_MM // 2
    face = (pitch - AISLE_CLEAR_MM) // 2  # depth of one rack face
    y0 = cross - slot // 2
    y1 = cross + (s_max - 1) * slot + slot // 2
    depot = twin.graph.nodes[twin.depot]
    dx, dy = depot["x_mm"], depot["y_mm"]

    shelves = []
    for a in range(-1, n):
        left = a * pitch + half_clear if a >= 0 else -half_clear - face
        right = (a + 1) * pitch - half_clear if a < n - 1 else (n - 1) * pitch + half_clear + face
        cx2, hx2 = left + right, right - left  # twice the centre and size, kept integer
        shelves.append(
            f'      <geom name="shelf_{a + 1}" type="box" '
            f'pos="{_m(cx2 / 2)} {_m((y0 + y1) / 2)} {_m(RACK_HEIGHT_MM / 2)}" '
            f'size="{_m(hx2 / 2)} {_m((y1 - y0) / 2)} {_m(RACK_HEIGHT_MM / 2)}" '
            'contype="2" conaffinity="2" rgba="0.6 0.45 0.3 1"/>'
        )
    span_x = max(abs(-pitch), abs(n * pitch)) + 10_000
    span_y = max(abs(dy), abs(y1)) + 10_000
    floor = max(span_x, span_y)

    hx, hy, hz_mm = CHASSIS_HALF_MM
    robots, actuators, sensors = [], [], []
    for i in range(n_robots):
        r = f"r{i}"
        robots.append(
            f'    <body name="{r}" pos="{_m(dx + i * PARK_PITCH_MM)} {_m(dy)} '
            f'{_m(WHEEL_RADIUS_MM)}" euler="0 0 90">\n'
            f'      <freejoint name="{r}_root"/>\n'
            f'      <geom name="{r}_chassis" type="box" pos="{_m(CHASSIS_OFFSET_MM)} 0 '
            f'{_m(hz_mm - 30)}" size="{_m(hx)} {_m(hy)} {_m(hz_mm)}" mass="{CHASSIS_KG}" '
            'contype="2" conaffinity="2"/>\n'
            f'      <geom name="{r}_caster" type="sphere" pos="{_m(CASTER_X_MM)} 0 '
            f'{_m(CASTER_RADIUS_MM - WHEEL_RADIUS_MM)}" size="{_m(CASTER_RADIUS_MM)}" '
            'mass="0.2" condim="1" priority="1" contype="1" conaffinity="1"/>\n'
            + "".join(
                f'      <body name="{r}_w{side}" pos="0 {_m(sign * HALF_TRACK_MM)} 0">\n'
                f'        <joint name="{r}_j{side}" type="hinge" axis="0 1 0" armature="0.01" '
                f'damping="{WHEEL_DAMPING}"/>\n'
                f'        <geom name="{r}_wheel_{side}" type="sphere" '
                f'size="{_m(WHEEL_RADIUS_MM)}" mass="{WHEEL_KG}" contype="3" conaffinity="3"/>\n'
                "      </body>\n"
                for side, sign in (("l", 1), ("r", -1))
            )
            + "    </body>"
        )
        for side in ("l", "r"):
            actuators.append(
                f'    <velocity name="{r}_m{side}" joint="{r}_j{side}" kv="{WHEEL_KV}" '
                f'forcerange="-{WHEEL_TORQUE_NM} {WHEEL_TORQUE_NM}" ctrlrange="-40 40"/>'
            )
        sensors += [f'    <actuatorfrc name="{r}_tau_{s}" actuator="{r}_m{s}"/>' for s in "lr"]
        sensors += [f'    <jointvel name="{r}_speed_{s}" joint="{r}_j{s}"/>' for s in "lr"]
        sensors.append(f'    <contact name="{r}_hits" subtree1="{r}" body2="shelves" '
                       'data="found"/>')
    return "\n".join([
        f'<mujoco model="{twin.spec.name}-l2">',
        '  <compiler angle="degree" autolimits="true"/>',
        f'  <option timestep="{1 / hz:.9f}" integrator="implicitfast"/>',
        "  <worldbody>",
        f'    <geom name="floor" type="plane" size="{_m(floor)} {_m(floor)} 0.1" '
        'contype="1" conaffinity="1" friction="1 0.005 0.0001"/>',
        '    <body name="shelves">',
        *shelves,
        "    </body>",
        *robots,
        "  </worldbody>",
        "  <actuator>",
        *actuators,
        "  </actuator>",
        "  <sensor>",
        *sensors,
        "  </sensor>",
        "</mujoco>",
        "",
    ])


def check_hz(hz: Any) -> int:
    """`hz` as an int if it is a physics rate the scene runs at (an int >= `MIN_HZ`).

    Raises:
        InvalidPlan: not an int, or below `MIN_HZ`.
    """
    if isinstance(hz, bool) or not isinstance(hz, int | np.integer):
        raise InvalidPlan(f"hz is {hz!r} ({type(hz).__name__}); expected an int >= {MIN_HZ}, "
                          f"e.g. one of {HZ_CHOICES}")
    if hz < MIN_HZ:
        raise InvalidPlan(
            f"hz is {hz}; wheeled contact models need at least {MIN_HZ} Hz (below it the "
            "wheels' contacts go unstable and errors reach decimetres): use one of "
            f"{HZ_CHOICES} (economy, default, premium)"
        )
    return int(hz)
