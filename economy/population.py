"""Who takes part in a run: the participants, their provider classes, every address's name,
and whose money each module account holds."""

from __future__ import annotations

from chain import ASSETS_ADDRESS, BURN_ADDRESS, COMPUTE_ADDRESS, Address, Identity, Ledger
from economy.errors import EconomyError
from economy.protocols import Participant
from economy.roles import FlowClass, Role

__all__ = ["EXTERNAL", "Population"]

#: The name of an address outside the run (no participant, system or module account).
EXTERNAL: tuple[str, str] = ("", "external")


class Population:
    """The participants of a run, in index order, and what the flow book needs to know of them.

    `names` maps every address the run knows to (label, role): a participant's label and role;
    the system accounts ("protocol", "treasury", "market", role "system"); the ledger's module
    accounts ("escrow", "compute", "assets", role "module"); the zero address ("", "").

    Args:
        ledger: the run's ledger (its treasury is a flow class of its own).
        protocol, market: the system identities (the minting authority, the market operator).
    """

    def __init__(self, ledger: Ledger, protocol: Identity, market: Identity) -> None:
        self.participants: list[Participant] = []
        self.by_address: dict[Address, Participant] = {}
        self.evaluators: tuple[Address, ...] = ()
        self._class: dict[Address, FlowClass] = {
            ledger.treasury: FlowClass.TREASURY,
            protocol.address: FlowClass.PROTOCOL,
            market.address: FlowClass.PROTOCOL,
        }
        self._holders: dict[str, Address] = {}  # job or lease id -> whose money a module holds
        self.names: dict[Address, tuple[str, str]] = {
            BURN_ADDRESS: ("", ""),
            ledger.escrow: ("escrow", "module"),
            COMPUTE_ADDRESS: ("compute", "module"),
            ASSETS_ADDRESS: ("assets", "module"),
            ledger.treasury: ("treasury", "system"),
            protocol.address: ("protocol", "system"),
            market.address: ("market", "system"),
        }

    def __len__(self) -> int:
        return len(self.participants)

    def add(self, participant: Participant) -> None:
        """Admit a participant (in index order: 0, 1, 2, ...).

        Raises:
            EconomyError: out of index order, or an address already taken.
        """
        if participant.index != len(self.participants):
            raise EconomyError(f"participants must be added in index order; expected "
                               f"{len(self.participants)}, got {participant.index}")
        if participant.address in self.by_address:
            raise EconomyError(f"two participants share the address {participant.address}")
        self.participants.append(participant)
        self.by_address[participant.address] = participant
        self._class[participant.address] = FlowClass.of(participant.role)
        self.names[participant.address] = (participant.label, participant.role.value)
        if participant.role is Role.EVALUATOR:
            self.evaluators = (*self.evaluators, participant.address)

    def class_of(self, address: Address) -> FlowClass:
        """The provider class an address's income and spending count under (customer for an
        address outside the run)."""
        return self._class.get(address, FlowClass.CUSTOMER)

    def name_of(self, address: Address) -> tuple[str, str]:
        """(label, role) of an address (`EXTERNAL` for one the run does not know)."""
        return self.names.get(address, EXTERNAL)

    def hold(self, ref: str, holder: Address) -> None:
        """Record that a module account holds `holder`'s money under `ref` (a job, a lease)."""
        self._holders[ref] = holder

    def release(self, ref: str) -> None:
        """`ref`'s money has left the module (its flows are booked)."""
        self._holders.pop(ref, None)

    def holder_of(self, ref: str) -> Address | None:
        """Whose money a module account moves under `ref`: a job's client, a lease's buyer, a
        staker (stake rows name the staker)."""
        holder = self._holders.get(ref)
        if holder is None and ref in self.by_address:
            return ref
        return holder
