"""The stages of the customer relationship lifecycle and the loyalty determinants at each.

The course texts (客户关系生命周期) divide a relationship into an exploration period (考察期),
a formation period (形成期), a stability period (稳定期) and a decline period (退化期); the course
texts add its end (关系终止), after which only win-back (客户挽回) is left. The course texts name
four determinants of loyalty and where in the lifecycle each acts: perceived value throughout,
satisfaction early, trust in the middle, switching cost in the middle and late stages as a buffer
against decline.
"""

from __future__ import annotations

import enum

from crmcore._determinants import STAGE_DETERMINANT_EMPHASIS, LoyaltyDeterminant
from crmcore._strategies import Strategy, strategies_for

__all__ = ["LifecycleStage"]


_STAGES: dict[str, tuple[str, str, str, int]] = {
    "exploration": (
        "考察期",
        "the relationship is being explored and tried out: both sides test whether their goals "
        "fit, the other side's sincerity and performance, and what obligations a long-term "
        "relationship would bring; little trade",
        "assess the other side's potential value and reduce uncertainty",
        0,
    ),
    "formation": (
        "形成期",
        "the relationship develops fast: the rewards both sides draw from it keep rising, "
        "their interdependence widens and deepens, each sees the other can deliver satisfying "
        "value and meet its obligations, and trade keeps growing",
        "raise the customer's loyalty through brand image, quality service, price offers and "
        "emotional investment",
        1,
    ),
    "stability": (
        "稳定期",
        "the highest level of the relationship: both sides are highly satisfied with the value "
        "the other provides, both have made large tangible and intangible investments to keep "
        "it, and trade is large",
        "provide quality service and customer care together with value-added services, and "
        "realise the customer's full value",
        2,
    ),
    "decline": (
        "退化期",
        "the level of the relationship turns back: trade volume falls, one or both sides are "
        "considering ending it, even looking for alternative partners",
        "re-analyse the customer's lifetime value, retain valuable customers (客户挽留) and "
        "analyse churn (客户流失分析)",
        3,
    ),
    "terminated": (
        "关系终止",
        "the relationship has ended: the customer no longer buys and has turned elsewhere",
        "find why the relationship broke and, where the customer is worth it, act on that "
        "cause to win the customer back (客户挽回)",
        4,
    ),
}

class LifecycleStage(enum.Enum):
    """A stage of the customer relationship lifecycle (客户关系生命周期).

    Each member carries the course texts' term (``chinese``), the stage's ``characteristics``, the
    firm's ``management_focus``, the ``key_determinants`` of loyalty there (most
    important first) and its ``order`` in the lifecycle (0 exploration ... 4 terminated).
    """

    EXPLORATION = "exploration"
    FORMATION = "formation"
    STABILITY = "stability"
    DECLINE = "decline"
    TERMINATED = "terminated"

    @property
    def chinese(self) -> str:
        """The course texts' term."""
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
        """Loyalty determinants acting in this stage, most important first (from
        :data:`crmcore._determinants.STAGE_DETERMINANT_EMPHASIS`, the table the loyalty package
        weights by). After the relationship ends only perceived value is left: it decides
        whether winning the customer back is worth it."""
        emphasis = STAGE_DETERMINANT_EMPHASIS.get(self.value)
        if emphasis is None:
            return (LoyaltyDeterminant.PERCEIVED_VALUE,)
        acting = [d for d in LoyaltyDeterminant if emphasis[d.value] > 0]
        return tuple(sorted(acting, key=lambda d: -emphasis[d.value]))

    @property
    def order(self) -> int:
        """Position in the lifecycle, 0 (exploration) to 4 (terminated)."""
        return _STAGES[self.value][3]

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The course texts' strategies attached to this stage (:func:`crmcore.strategies_for`):
        ways to keep customers in formation, to prevent churn and retain customers in decline,
        to win them back once terminated, each with the course texts' term."""
        return strategies_for(f"stage:{self.value}")

    @property
    def is_active(self) -> bool:
        """Whether the relationship is still going (every stage but ``TERMINATED``)."""
        return self is not LifecycleStage.TERMINATED


STAGES: tuple[LifecycleStage, ...] = tuple(LifecycleStage)
"""The stages in lifecycle order; a stage's position here is its integer code."""
