"""The stages of the customer relationship lifecycle and the loyalty determinants at each.

Seeds 000 and 001 (客户关系生命周期) divide a relationship into an exploration period (考察期),
a formation period (形成期), a stability period (稳定期) and a decline period (退化期); seed 000
and 004 add its end (关系终止), after which only win-back (客户挽回) is left. Seed 001 names four
determinants of loyalty and where in the lifecycle each acts: perceived value throughout,
satisfaction early, trust in the middle, switching cost in the middle and late stages as a
buffer against decline.
"""

from __future__ import annotations

import enum

__all__ = ["LifecycleStage", "LoyaltyDeterminant"]


_DETERMINANTS: dict[str, tuple[str, bool, str]] = {
    "perceived-value": (
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
    "switching-cost": (
        "转移成本", True,
        "built up naturally and deliberately as the relationship develops; acts in the middle "
        "and late stages as a buffer that stops the relationship sliding back",
    ),
}


class LoyaltyDeterminant(enum.Enum):
    """A determinant of customer loyalty (seed 001, 客户忠诚的决定因素).

    Basic factors (perceived value, switching cost) act on their own; derived ones
    (satisfaction, trust) grow out of repeated good experience. Each member carries the seed's
    term (``chinese``), whether it is ``basic`` and its ``role``.
    """

    PERCEIVED_VALUE = "perceived-value"
    SATISFACTION = "satisfaction"
    TRUST = "trust"
    SWITCHING_COST = "switching-cost"

    @property
    def chinese(self) -> str:
        """The seed's term."""
        return _DETERMINANTS[self.value][0]

    @property
    def basic(self) -> bool:
        """Whether this is a basic factor (else a derived one)."""
        return _DETERMINANTS[self.value][1]

    @property
    def role(self) -> str:
        """What the seed says the factor does."""
        return _DETERMINANTS[self.value][2]


_PV = LoyaltyDeterminant.PERCEIVED_VALUE
_SAT = LoyaltyDeterminant.SATISFACTION
_TRUST = LoyaltyDeterminant.TRUST
_SWITCH = LoyaltyDeterminant.SWITCHING_COST

_STAGES: dict[str, tuple[str, str, str, tuple[LoyaltyDeterminant, ...], int]] = {
    "exploration": (
        "考察期",
        "the relationship is being explored and tried out: both sides test whether their goals "
        "fit, the other side's sincerity and performance, and what obligations a long-term "
        "relationship would bring; little trade",
        "assess the other side's potential value and reduce uncertainty",
        (_PV, _SAT),
        0,
    ),
    "formation": (
        "形成期",
        "the relationship develops fast: the rewards both sides draw from it keep rising, "
        "their interdependence widens and deepens, each sees the other can deliver satisfying "
        "value and meet its obligations, and trade keeps growing",
        "raise the customer's loyalty through brand image, quality service, price offers and "
        "emotional investment",
        (_SAT, _TRUST, _PV),
        1,
    ),
    "stability": (
        "稳定期",
        "the highest level of the relationship: both sides are highly satisfied with the value "
        "the other provides, both have made large tangible and intangible investments to keep "
        "it, and trade is large",
        "provide quality service and customer care together with value-added services, and "
        "realise the customer's full value",
        (_TRUST, _SWITCH, _PV),
        2,
    ),
    "decline": (
        "退化期",
        "the level of the relationship turns back: trade volume falls, one or both sides are "
        "considering ending it, even looking for alternative partners",
        "re-analyse the customer's lifetime value, retain valuable customers (客户挽留) and "
        "analyse churn (客户流失分析)",
        (_SWITCH, _PV),
        3,
    ),
    "terminated": (
        "关系终止",
        "the relationship has ended: the customer no longer buys and has turned elsewhere",
        "find why the relationship broke and, where the customer is worth it, act on that "
        "cause to win the customer back (客户挽回)",
        (_PV,),
        4,
    ),
}

class LifecycleStage(enum.Enum):
    """A stage of the customer relationship lifecycle (seeds 000, 001; 客户关系生命周期).

    Each member carries the seed's term (``chinese``), the stage's ``characteristics``, the
    firm's ``management_focus``, the ``key_determinants`` of loyalty there (seed 001, most
    important first) and its ``order`` in the lifecycle (0 exploration ... 4 terminated).
    """

    EXPLORATION = "exploration"
    FORMATION = "formation"
    STABILITY = "stability"
    DECLINE = "decline"
    TERMINATED = "terminated"

    @property
    def chinese(self) -> str:
        """The seed's term."""
        return _STAGES[self.value][0]

    @property
    def characteristics(self) -> str:
        """How the relationship looks in this stage."""
        return _STAGES[self.value][1]

    @property
    def management_focus(self) -> str:
        """What the firm should do in this stage."""
        return _STAGES[self.value][2]

    @property
    def key_determinants(self) -> tuple[LoyaltyDeterminant, ...]:
        """Loyalty determinants that matter most here, most important first."""
        return _STAGES[self.value][3]

    @property
    def order(self) -> int:
        """Position in the lifecycle, 0 (exploration) to 4 (terminated)."""
        return _STAGES[self.value][4]

    @property
    def is_active(self) -> bool:
        """Whether the relationship is still going (every stage but ``TERMINATED``)."""
        return self is not LifecycleStage.TERMINATED


STAGES: tuple[LifecycleStage, ...] = tuple(LifecycleStage)
"""The stages in lifecycle order; a stage's position here is its integer code."""
