"""Award: how the job market picks a winner among a job's bids, and what it pays.

- "lowest-price" (`lowest-price-v1`): the lowest qualified bid wins and is paid its bid; any
  quality that passes the customer's rule earns nothing more.
- "scoring" (`scoring-v1`, a scoring auction): each bid is scored as the value of the quality
  its provider is expected to deliver less its price, and the best score wins. Expected
  quality is the provider's reputation: the improvement over the baseline plan its evaluated
  deliverables achieved (a rejected one counts as none), averaged with a prior of
  `prior_gain_bps` weighted as `prior_weight` jobs; its value is that share of the job's
  baseline time at the economy's `time_value_per_h`. With "first" pricing the winner is paid
  its bid; with "second" (second-score, Che 1993) it is paid the price that would make its
  score equal the second-best one (or 0, with one bid), never below its bid nor above the
  job's budget: bidding its true cost becomes a dominant strategy.

Under either rule a provider whose failures (jobs rejected, or awarded and never delivered)
exceed its completions by more than the economy's `max_strikes` does not qualify.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from economy.rules._params import check, param

__all__ = ["AWARD_RULES", "AwardRule", "AwardRuleName", "ScorePricing"]


class AwardRuleName(StrEnum):
    """Which bid wins."""

    LOWEST_PRICE = "lowest-price"
    SCORING = "scoring"


class ScorePricing(StrEnum):
    """What the winner of a scoring auction is paid."""

    FIRST = "first"  # its bid
    SECOND = "second"  # the price that matches the second-best score (Che 1993)


AWARD_RULES = tuple(AwardRuleName)


@dataclass(frozen=True, slots=True, kw_only=True)
class AwardRule:
    """The job market's award rule."""

    rule: str = param(AwardRuleName.LOWEST_PRICE.value, choices=AwardRuleName, doc=(
        "lowest-price: the lowest qualified bid wins; scoring: the best value of expected "
        "quality (the provider's evaluated improvement) less price wins"))
    pricing: str = param(ScorePricing.FIRST.value, choices=ScorePricing, doc=(
        "scoring rule: the winner is paid its bid (first) or the price that gives it the "
        "second-best score (second-score, Che 1993)"))
    prior_gain_bps: int = param(500, unit="bps", doc=(
        "scoring rule: the improvement over the baseline expected of a provider with no "
        "evaluated job yet"))
    prior_weight: int = param(3, ge=0, le=1_000, doc=(
        "scoring rule: how many jobs' worth of evidence the prior counts as"))

    def __post_init__(self) -> None:
        check(self)

    @property
    def scoring(self) -> bool:
        return self.rule == AwardRuleName.SCORING
