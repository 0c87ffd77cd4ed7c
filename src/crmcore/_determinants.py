"""The four determinants of customer loyalty and their weight at each lifecycle stage.

Both the lifecycle package (which determinants matter in a stage) and the loyalty package
(weighting determinant scores by stage) read this one table, so the two never disagree.

The course texts (客户忠诚的决定因素在客户关系生命周期不同阶段中的作用) name four determinants that
drive a relationship from low to high, on two levels:

* basic (基本因素): perceived value (客户的认知价值), the inner driver that runs through the whole
  lifecycle, and switching cost (转移成本), built up during the relationship and acting mainly in
  its middle and late stages as a buffer against decline;
* derived (派生因素): satisfaction (客户的满意) and trust (客户的信任). A series of satisfactions
  produces trust and lasting trust produces loyalty (satisfaction -> trust -> loyalty); the two
  are milestones on the road to loyalty and matter most in the early and the middle stage.

:data:`STAGE_DETERMINANT_EMPHASIS` turns those statements into numbers: 2 where the course texts
say a determinant is crucial, 1 where it acts, 0 where it does not act yet. It is an encoding of
the course texts' qualitative text, not an estimate from data; a firm with evidence passes its own
table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

__all__ = ["STAGE_DETERMINANT_EMPHASIS", "LoyaltyDeterminant"]

_FACTS: Final[dict[str, tuple[str, bool, str]]] = {
    "perceived_value": (
        "客户的认知价值", True,
        "the inner driver of keeping the relationship; acts through the whole lifecycle",
    ),
    "satisfaction": (
        "客户的满意", False,
        "satisfaction of the customer's value expectations; decisive in the early stages; "
        "repeated satisfaction builds trust",
    ),
    "trust": (
        "客户的信任", False,
        "grows from a series of satisfactions and, held long, becomes loyalty; decisive in the "
        "middle stages",
    ),
    "switching_cost": (
        "转移成本", True,
        "built up naturally and deliberately as the relationship develops; acts in the middle "
        "and late stages as a buffer that stops the relationship sliding back",
    ),
}


class LoyaltyDeterminant(enum.Enum):
    """A determinant of customer loyalty (客户忠诚的决定因素).

    Basic factors (perceived value, switching cost) act on their own; derived ones
    (satisfaction, trust) grow out of repeated good experience. Each member carries the course
    texts' term (``chinese``), whether it is ``basic`` and its ``role``.
    """

    PERCEIVED_VALUE = "perceived_value"
    SATISFACTION = "satisfaction"
    TRUST = "trust"
    SWITCHING_COST = "switching_cost"

    @property
    def chinese(self) -> str:
        """The course texts' term."""
        return _FACTS[self.value][0]

    @property
    def basic(self) -> bool:
        """Whether the course texts count it as basic (基本因素) rather than derived (派生因素)."""
        return _FACTS[self.value][1]

    @property
    def role(self) -> str:
        """What the course texts say the determinant does."""
        return _FACTS[self.value][2]


STAGE_DETERMINANT_EMPHASIS: Final[Mapping[str, Mapping[str, float]]] = {
    # 考察期: value acts; satisfaction is crucial; no trust or switching cost built up yet.
    "exploration": {"perceived_value": 1, "satisfaction": 2, "trust": 0, "switching_cost": 0},
    # 形成期: satisfaction still crucial, trust forming from it, switching costs start to build.
    "formation": {"perceived_value": 1, "satisfaction": 2, "trust": 1, "switching_cost": 1},
    # 稳定期: trust crucial (middle stage), switching cost a main buffer, satisfaction acts.
    "stability": {"perceived_value": 1, "satisfaction": 1, "trust": 2, "switching_cost": 2},
    # 退化期: switching cost is the buffer against decline; trust and satisfaction still act.
    "decline": {"perceived_value": 1, "satisfaction": 1, "trust": 1, "switching_cost": 2},
}
"""Emphasis of each determinant (by ``LoyaltyDeterminant.value``) at each active lifecycle stage
(by the lifecycle stage's ``value``): 2 crucial, 1 acting, 0 not yet acting."""
