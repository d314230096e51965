"""Built-in policies: a reasonable agent for every role, and the baselines users compare to."""

from agents.builtin.compute import ComputeSeller
from agents.builtin.contributor import DataContributor
from agents.builtin.customer import Customer
from agents.builtin.evaluator import Evaluator
from agents.builtin.idle import Idle
from agents.builtin.provider import ServiceProvider

__all__ = ["BUILTIN", "ComputeSeller", "Customer", "DataContributor", "Evaluator", "Idle",
           "ServiceProvider"]

#: Policies by the short names scenarios use.
BUILTIN: dict[str, type] = {
    "customer": Customer,
    "provider": ServiceProvider,
    "evaluator": Evaluator,
    "compute": ComputeSeller,
    "idle": Idle,
    "contributor": DataContributor,
}
