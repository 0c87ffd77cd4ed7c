"""crmcore.loyalty: how loyal each customer is, in what form, of what type, and why.

* The **loyalty index** (0-100) over the eight indicators of seed 001 and referrals (口碑,
  seed 004, :func:`referral_rate`)
  (:func:`loyalty_index`, :func:`loyalty_breakdown`), with the indicators derived from
  purchases and survey answers (:func:`behavioural_indicators`,
  :func:`attitudinal_indicators`).
* The **forms** of loyalty, behavioural, emotional and sustainable (:class:`LoyaltyForm`,
  :func:`loyalty_form`; Dick & Basu 1994).
* The **types** of loyalty of seed 000 (:class:`LoyaltyType`, :func:`classify_loyalty_type`).
* The **determinants** of seed 001 weighted by lifecycle stage (:func:`determinant_index`),
  and trust from repeated satisfaction (:func:`trust_index`, crmcore's reading).
* The pluggable loyalty model (:class:`WeightedLoyaltyIndex`, registry name
  ``"weighted-index"``).
"""

from crmcore._errors import IndicatorScaleError, UnknownIndicatorError
from crmcore.loyalty._derive import (
    attitudinal_indicators,
    behavioural_indicators,
    category_share,
    interpurchase_cv,
    promotion_share,
    referral_rate,
    repeat_purchase_rate,
)
from crmcore.loyalty._determinants import (
    DEFAULT_STAGE_WEIGHTS,
    DETERMINANT_NAMES,
    STAGE_NAMES,
    DeterminantBreakdown,
    LoyaltyDeterminant,
    determinant_index,
    stage_weights,
)
from crmcore.loyalty._forms import LoyaltyForm, loyalty_form
from crmcore.loyalty._index import LoyaltyBreakdown, loyalty_breakdown, loyalty_index
from crmcore.loyalty._indicators import INDICATOR_NAMES, INDICATORS, IndicatorSpec, indicator
from crmcore.loyalty._loyalty_types import (
    DEFAULT_PRECEDENCE,
    LoyaltyType,
    LoyaltyTypeAssignment,
    classify_loyalty_type,
)
from crmcore.loyalty._model import WeightedLoyaltyIndex
from crmcore.loyalty._trust import trust_index

__all__ = [
    "DEFAULT_PRECEDENCE",
    "DEFAULT_STAGE_WEIGHTS",
    "DETERMINANT_NAMES",
    "INDICATORS",
    "INDICATOR_NAMES",
    "STAGE_NAMES",
    "DeterminantBreakdown",
    "IndicatorScaleError",
    "IndicatorSpec",
    "LoyaltyBreakdown",
    "LoyaltyDeterminant",
    "LoyaltyForm",
    "LoyaltyType",
    "LoyaltyTypeAssignment",
    "UnknownIndicatorError",
    "WeightedLoyaltyIndex",
    "attitudinal_indicators",
    "behavioural_indicators",
    "category_share",
    "classify_loyalty_type",
    "determinant_index",
    "indicator",
    "interpurchase_cv",
    "loyalty_breakdown",
    "loyalty_form",
    "loyalty_index",
    "promotion_share",
    "referral_rate",
    "repeat_purchase_rate",
    "stage_weights",
    "trust_index",
]
