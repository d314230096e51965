"""Built-in policies: a reasonable agent for every role, and the baselines users compare to."""

from agents.builtin.adaptive import AdaptiveProvider
from agents.builtin.compute import ComputeSeller
from agents.builtin.contributor import DataContributor
from agents.builtin.customer import Customer
from agents.builtin.evaluator import Evaluator
from agents.builtin.idle import Idle
from agents.builtin.llm import LLMPolicy
from agents.builtin.priced_evaluator import PricedEvaluator
from agents.builtin.provider import ServiceProvider
from agents.builtin.utilisation_compute import UtilisationSeller
from agents.builtin.value_customer import ValueCustomer

__all__ = [
    "BUILTIN", "AdaptiveProvider", "ComputeSeller", "Customer", "DataContributor", "Evaluator",
    "Idle", "LLMPolicy", "PricedEvaluator", "ServiceProvider", "UtilisationSeller", "ValueCustomer",
]

#: Policies by the short names scenarios use.
BUILTIN: dict[str, type] = {
    "customer": Customer,
    "provider": ServiceProvider,
    "cost-plus": ServiceProvider,
    "adaptive": AdaptiveProvider,
    "value-customer": ValueCustomer,
    "evaluator": Evaluator,
    "priced-evaluator": PricedEvaluator,
    "compute": ComputeSeller,
    "utilisation-compute": UtilisationSeller,
    "idle": Idle,
    "contributor": DataContributor,
    "llm": LLMPolicy,
}
