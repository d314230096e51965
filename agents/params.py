"""The kinds of a policy's params: annotate a constructor's params with these, and the values a
scenario gives them are checked when the policy loads (`agents.load_policy`), with the same unit
and range rules as the scenario's own keys.

    from agents.params import BaseUnits, Bps, Count, Tier

    class MyProvider:
        def __init__(self, base_fee: BaseUnits = 10**16, markup_bps: Bps = 2_000,
                     max_jobs: Count = 3, tier: Tier | None = None) -> None: ...

A scenario then writes a money param in tokens, like its other amounts: `base_fee = 1`,
`base_fee = "0.01"` or `base_fee = "0.01 tokens"`, or in base units with the unit spelled out,
`base_fee = "10000000000000000 base units"` (converted to base units with the ledger's
decimals before the check: `agents.units`; a bare int above 10^9, the old base-unit form, is
refused). `base_fee = "0.01 ETH"`, `base_fee = -1`, `base_fee = 0.01` (a float) or
`markup_bps = 20000` are refused by `twinecon validate` and `twinecon run` (exit 2, one line
naming `agents[i].params.<name>` and what to write), instead of a run whose every action is
rejected. The checks are pydantic's, in strict mode: a string is not taken for a number, a
float not for an int (an int is a fine float), a bool not for either. The policy receives the
values as written (after the conversion to base units), never a coerced copy.

Every kind is `typing.Annotated` with `annotated_types` bounds, and an `Expected` saying in
words what it takes and an example (the error message's "expected ..." and "write ..."). Any
other annotation pydantic understands (`int`, `str`, `list[str]`, `Literal[...]`, a model) is
checked as pydantic checks it; an annotation it cannot handle, and an unannotated param, is
not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import AllowInfNan

__all__ = ["BaseUnits", "Bps", "ComputeUnits", "Count", "Expected", "MarginBps", "NonNegative",
           "PositiveCount", "Share", "Ticks", "Tier"]

_UINT256 = 2**256 - 1


@dataclass(frozen=True, slots=True)
class Expected:
    """What a param kind takes, in words, for the message refusing a value.

    Args:
        text: what it takes (after "expected").
        example: a value to write in the scenario (after "write name = ").
    """

    text: str
    example: str


#: An amount of money: the constructor receives base units (10^-decimals of a token), an int
#: from 0 to 2^256 - 1 (the ledger's word). A scenario writes it in tokens (an int up to 10^9,
#: "0.06" or "0.06 tokens") or "<n> base units" (`agents.units`).
BaseUnits = Annotated[int, Ge(0), Le(_UINT256), Expected(
    'tokens, as an integer up to 10^9 or a decimal string ("0.06" or "0.06 tokens"), or '
    '"<n> base units"', '"0.06 tokens"')]
#: Basis points of a whole (a share, a probability): an int from 0 to 10,000 (= 100 %).
Bps = Annotated[int, Ge(0), Le(10_000), Expected(
    "basis points, an integer from 0 to 10000 (10000 = 100 %)", "500")]
#: Basis points over a cost (a markup, a relative change), which may pass 100 %: an int >= 0.
MarginBps = Annotated[int, Ge(0), Le(_UINT256), Expected(
    "basis points, an integer >= 0 (10000 = 100 %)", "2000")]
#: A number of things (jobs, candidates, units, jobs remembered): an int >= 0.
Count = Annotated[int, Ge(0), Le(_UINT256), Expected("a whole number >= 0", "2")]
#: A number of things that must be at least one: an int >= 1.
PositiveCount = Annotated[int, Ge(1), Le(_UINT256), Expected("a whole number >= 1", "100")]
#: Compute units: an int from 0 to 2^256 - 1.
ComputeUnits = Annotated[int, Ge(0), Le(_UINT256), Expected(
    "compute units, a whole number >= 0", "2000000")]
#: A number of ticks: an int from 0 to 2^32 (what an action's `expires_in` may be).
Ticks = Annotated[int, Ge(0), Le(2**32), Expected(
    "a number of ticks, a whole number from 0 to 4294967296", "12")]
#: A share, a probability or a rate: a number from 0 to 1 (an int 0 or 1 is fine too).
Share = Annotated[float, Ge(0), Le(1), Expected("a number from 0 to 1", "0.5")]
#: A margin or a multiple: a finite number >= 0 (0.3 = 30 %).
NonNegative = Annotated[float, Ge(0), AllowInfNan(False), Expected(
    "a finite number >= 0", "0.3")]
#: A fidelity tier (`worlds.Tier`): "L0", "L1" or "L2"; whether the twin offers it is the
#: economy's check (a job at a tier it does not offer is rejected with `bad_tier`).
Tier = Annotated[Literal["L0", "L1", "L2"], Expected('one of "L0", "L1" or "L2"', '"L1"')]
