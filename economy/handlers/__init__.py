"""One handler per market, each turning its actions into ledger operations.

A handler (`economy.protocols.Handler`) says which action types it takes and applies each for
a participant: it checks the market's rules (raising `ActionRejected` with a stable code),
has the participant's key sign the ledger operations (through the `Settler`) and keeps its
market's book. The model dispatches each action to the one handler that takes its type.

- `jobs`: PostJob, Bid, Submit, Complete, Reject, ClaimRefund; awards and expiries.
- `compute`: Offer, BuyCompute, Stake, Unstake, Simulate.
- `data`: UseData, Contribute.
- `transfers`: Pay.
"""

from economy.handlers.compute import ComputeHandler
from economy.handlers.data import DataHandler
from economy.handlers.jobs import JobHandler
from economy.handlers.transfers import TransferHandler

__all__ = ["ComputeHandler", "DataHandler", "JobHandler", "TransferHandler"]
