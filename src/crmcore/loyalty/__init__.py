"""crmcore.loyalty: how loyal each customer is, in what form, of what type, and why.

* The **loyalty index** (0-100) over the eight indicators of the course texts and referrals (口碑,
  :func:`referral_rate`)
  (:func:`loyalty_index`, :func:`loyalty_breakdown`), with the indicators derived from
  purchases and survey answers (:func:`behavioural_indicators`,
  :func:`attitudinal_indicators`).
* The **forms** of loyalty, behavioural, emotional and sustainable (:class:`LoyaltyForm`,
  :func:`loyalty_form`; Dick & Basu 1994).
* The **types** of loyalty of the course texts (:class:`LoyaltyType`,
:func:`classify_loyalty_type`).
* The **determinants** of the course texts weighted by lifecycle stage (:func:`determinant_index`),
  and trust from repeated satisfaction (:func:`trust_index`, crmcore's reading).
* The pluggable loyalty model (:class:`WeightedLoyaltyIndex`, registry name
  ``"weighted-index"``).
"""

from typing import TYPE_CHECKING, Any

from crmcore._deprecation import moved_name
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
from crmcore.loyalty._determinant_index import (
    DEFAULT_STAGE_WEIGHTS,
    DETERMINANT_NAMES,
    STAGE_NAMES,
    DeterminantBreakdown,
    determinant_index,
    stage_weights,
)
from crmcore.loyalty._forms import LoyaltyForm, loyalty_form
from crmcore.loyalty._index import LoyaltyBreakdown, loyalty_breakdown, loyalty_index
from crmcore.loyalty._indicators import INDICATOR_NAMES, INDICATORS, IndicatorSpec, indicator
from crmcore.loyalty._model import WeightedLoyaltyIndex
from crmcore.loyalty._trust import trust_index
from crmcore.loyalty._typology import (
    DEFAULT_PRECEDENCE,
    LoyaltyType,
    LoyaltyTypeAssignment,
    classify_loyalty_type,
)

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

_MOVED = {"LoyaltyDeterminant": "crmcore.LoyaltyDeterminant"}

if not TYPE_CHECKING:  # type checkers flag the old paths; at run time they warn

    def __getattr__(name: str) -> Any:
        # LoyaltyDeterminant has one home, the core; the old paths work for one release.
        return moved_name(__name__, name, _MOVED)
