"""Roles agents play, and the provider class each role's income and spending count under."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FlowClass", "Role"]


class Role(StrEnum):
    """What an agent does in the economy."""

    CUSTOMER = "customer"  # operates a warehouse; posts jobs for its orders
    PROVIDER = "provider"  # sells plans (a behaviour provider)
    EVALUATOR = "evaluator"  # checks deliverables in the twin for a fee
    COMPUTE = "compute"  # sells sim time (compute units)
    WORLD = "world"  # owns and publishes twins
    DATA = "data"  # owns datasets (royalties arrive with the economy issue)


class FlowClass(StrEnum):
    """The parties of the value-flow matrix (DESIGN.md, "The economy")."""

    CUSTOMER = "customer"
    WORLD = "world"
    DATA = "data"
    COMPUTE = "compute"
    BEHAVIOUR = "behaviour"
    EVALUATOR = "evaluator"
    TREASURY = "treasury"
    BURN = "burn"
    PROTOCOL = "protocol"  # the minting authority (genesis, emissions)

    @classmethod
    def of(cls, role: Role) -> FlowClass:
        return _ROLE_CLASS[role]


_ROLE_CLASS = {
    Role.CUSTOMER: FlowClass.CUSTOMER,
    Role.PROVIDER: FlowClass.BEHAVIOUR,
    Role.EVALUATOR: FlowClass.EVALUATOR,
    Role.COMPUTE: FlowClass.COMPUTE,
    Role.WORLD: FlowClass.WORLD,
    Role.DATA: FlowClass.DATA,
}
