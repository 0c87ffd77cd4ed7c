"""The course texts' strategy lists as data, attached to what they apply to.

The course texts give lists of things a firm can do: ways to keep customers (客户保持的方法),
to prevent churn (防范客户流失的策略), to retain customers about to leave (客户挽留策略), to raise
satisfaction (提高客户满意度), to build loyalty, to handle a complaint and to win a lost customer
back. Each entry here is one :class:`Strategy` with the course texts' Chinese term and an English
rendering, the course text it comes from, and the targets it is attached to: a lifecycle stage
(``"stage:decline"``), a churn reason (``"churn-reason:fault"``), a segment class
(``"segment:bank:B"``), a loyalty form (``"loyalty-form:behavioural"``), a loyalty ladder rung
(``"segment:loyalty-ladder:new"``) or a decision (``"retention"``, ``"win-back"``, ``"complaint"``).

Where the course texts themselves tie a list to a target (brand image, quality service, offers
and emotional investment are the formation stage's task; retention acts on customers about to
leave; win-back starts from the cause), the attachment is theirs. Every other attachment is
crmcore's reading of which list serves which target, and says so
(:attr:`Strategy.attachment_is_reading`). Texts written by crmcore where the course texts give none
are marked likewise (:attr:`Strategy.crmcore_reading`).

The table lives in the core because the lifecycle, value and loyalty packages each list from
it (``LifecycleStage.strategies``, ``ChurnReason.strategies``, ``Segmentation.strategies``,
``LoyaltyForm.strategies``) and may not import each other.
"""

from __future__ import annotations

from typing import Final

import attrs

from crmcore._errors import InvalidValueError

__all__ = ["STRATEGIES", "STRATEGY_GROUPS", "Strategy", "StrategyGroup", "strategies_for"]


@attrs.frozen
class StrategyGroup:
    """One of the course texts' lists: its key, its Chinese heading, an English heading, its
    source."""

    key: str
    chinese: str
    english: str
    source: str


@attrs.frozen
class Strategy:
    """One strategy of a list of the course texts.

    Attributes
    ----------
    group:
        Key of the list it belongs to (see :data:`STRATEGY_GROUPS`).
    chinese:
        The course texts' term, as they write it.
    english:
        An English rendering.
    source:
        The seed it comes from (``"seed 001"`` ...).
    applies_to:
        The targets it is attached to (``"stage:decline"``, ``"churn-reason:fault"`` ...).
    crmcore_reading:
        ``True`` when the text is crmcore's, written where the course texts give none.
    attachment_is_reading:
        ``True`` when the course texts do not tie the strategy to its targets itself and the
        attachment is crmcore's reading.
    """

    group: str
    chinese: str
    english: str
    source: str
    applies_to: tuple[str, ...]
    crmcore_reading: bool = False
    attachment_is_reading: bool = True

    def __str__(self) -> str:
        mark = " (crmcore's reading)" if self.crmcore_reading else ""
        return f"{self.english} ({self.chinese}, {self.source}){mark}"


STRATEGY_GROUPS: Final[dict[str, StrategyGroup]] = {
    g.key: g for g in (
        StrategyGroup("keeping", "客户保持的方法", "ways to keep customers", "seed 001"),
        StrategyGroup("churn-prevention", "防范客户流失的策略", "ways to prevent churn",
                      "seed 001"),
        StrategyGroup("retention", "客户挽留策略", "ways to retain customers about to leave",
                      "seed 001"),
        StrategyGroup("satisfaction", "提高客户满意度", "ways to raise satisfaction",
                      "seed 001"),
        StrategyGroup("loyalty", "客户忠诚策略", "ways to build loyalty", "seed 004"),
        StrategyGroup("complaint", "客户抱怨处理", "handling a complaint", "seeds 000, 004"),
        StrategyGroup("win-back", "客户挽回", "winning a lost customer back", "seed 004"),
    )
}
"""The course texts' lists, by key."""

# Targets used below, spelled once.
_FORMATION, _STABILITY, _DECLINE = "stage:formation", "stage:stability", "stage:decline"
_EXPLORATION, _TERMINATED = "stage:exploration", "stage:terminated"
_LADDER = "segment:loyalty-ladder:"
_BANK = "segment:bank:"


def _s(group: str, chinese: str, english: str, *targets: str, seed_attached: bool = False,
       reading: bool = False) -> Strategy:
    return Strategy(group=group, chinese=chinese, english=english,
                    source=STRATEGY_GROUPS[group].source, applies_to=tuple(targets),
                    crmcore_reading=reading, attachment_is_reading=not seed_attached)


# The keeping list: the course texts name brand image, quality service, offers and emotional
# investment as the formation stage's task, so that attachment is the course texts'.
_KEEPING = tuple(
    _s("keeping", c, e, _FORMATION, _LADDER + "new", _LADDER + "regular", seed_attached=True)
    for c, e in (
        ("注意质量", "attend to quality"),
        ("优质服务", "quality service"),
        ("品牌形象", "brand image"),
        ("价格优惠", "price offers"),
        ("情感投资", "emotional investment"),
    )
)

_PREVENTION = (
    _s("churn-prevention", "实施全面质量管理", "total quality management",
       "churn-reason:fault", _DECLINE),
    _s("churn-prevention", "重视客户抱怨管理", "take complaint management seriously",
       "churn-reason:fault", "complaint", _DECLINE),
    _s("churn-prevention", "建立内部客户体制,提升员工满意度",
       "treat staff as internal customers and raise staff satisfaction",
       "churn-reason:fault", _DECLINE),
    _s("churn-prevention", "建立以客户为中心的组织机构", "a customer-centred organisation",
       "churn-reason:competitive", _DECLINE),
    _s("churn-prevention", "建立客户关系的评价体系",
       "a system for evaluating customer relationships",
       "churn-reason:competitive", _DECLINE),
)

# The course texts define retention (客户挽留) as acting on valuable customers about to leave, and
# the course texts put it in the decline stage: the attachment is the course texts'.
_RETENTION = tuple(
    _s("retention", c, e, "retention", _DECLINE, seed_attached=True)
    for c, e in (
        ("服务第一、客户为先", "service first, the customer first"),
        ("关系的培育和积累", "nurture and build up the relationship"),
        ("客户关怀可以成为核心竞争力", "make customer care a core competence"),
        ("别忽略潜在的优质客户", "do not overlook potential high-quality customers"),
    )
)

# Satisfaction is decisive early in the lifecycle (the course texts' determinants).
_SATISFACTION = tuple(
    _s("satisfaction", c, e, _EXPLORATION, _FORMATION, "loyalty-form:none")
    for c, e in (
        ("树立以客户为中心的思想", "put the customer at the centre of the firm's thinking"),
        ("把提高客户满意度纳入企业战略范畴", "make raising satisfaction part of strategy"),
        ("客户数据的建立", "build customer data"),
        ("加强客户沟通和关怀", "more communication with and care for customers"),
        ("分析客户满意原因,采取针对性措施",
         "analyse why customers are (dis)satisfied and act on it"),
        ("经常性客户的满意度调查", "survey customer satisfaction regularly"),
    )
)

_LOYALTY = (
    _s("loyalty", "努力实现客户完全满意", "strive for complete customer satisfaction",
       "loyalty-form:none", "loyalty-form:behavioural", _BANK + "D"),
    _s("loyalty", "提供财务利益,奖励忠诚", "give financial benefits and reward loyalty",
       "loyalty-form:emotional", _BANK + "B", _LADDER + "regular"),
    _s("loyalty", "提高转移成本", "raise switching costs",
       "loyalty-form:emotional", "loyalty-form:sustainable", _STABILITY, _DECLINE,
       _LADDER + "established"),
    _s("loyalty", "增加客户对企业的信任与情感牵挂",
       "build the customer's trust in and emotional attachment to the firm",
       "loyalty-form:behavioural", _STABILITY, _BANK + "B", _LADDER + "established"),
    _s("loyalty", "加强企业内部管理,提高员工忠诚",
       "strengthen internal management and staff loyalty", "loyalty-form:sustainable"),
    _s("loyalty", "建立客户组织,稳定客户队伍",
       "build customer organisations (clubs) to keep the customer base stable",
       "loyalty-form:sustainable", _BANK + "A", _BANK + "C", _LADDER + "loyal"),
)

_COMPLAINT = (
    _s("complaint", "投诉的建立、分配、解决、跟踪、反馈、回访",
       "record, assign, resolve, track, report back and revisit each complaint",
       "complaint", "churn-reason:fault", seed_attached=True),
    _s("complaint", "倾听客户需求,稳定客户情绪并致歉",
       "listen to the customer, calm them and apologise", "complaint", "churn-reason:fault",
       seed_attached=True),
    _s("complaint", "第一时间解决问题,设法消除客户的不满",
       "solve the problem at once and remove the customer's dissatisfaction", "complaint",
       "churn-reason:fault", seed_attached=True),
    _s("complaint", "站在客户的角度考虑问题", "see the problem from the customer's side",
       "complaint", seed_attached=True),
)

# As the course texts teach: to win a customer back, first find why the relationship broke,
# then act on that cause. Malicious churn is left out: crmcore's reading is that such a customer is
# not to be won back (see ChurnReason).
_WINBACK = (
    _s("win-back", "找到客户关系破裂的原因", "find why the relationship broke", "win-back",
       _TERMINATED, _BANK + "lapsed", seed_attached=True),
    _s("win-back", "根据原因采取必要措施加以改进", "act on that cause and improve", "win-back",
       _TERMINATED, "churn-reason:fault", "churn-reason:competitive", _BANK + "lapsed",
       seed_attached=True),
    _s("win-back", "情感营销", "emotional marketing (keep in touch, help at the right moment)",
       "win-back", "churn-reason:natural", _BANK + "inactive", seed_attached=True),
    _s("win-back", "根据客户需求的变化配置产品", "fit the offer to the customer's changed needs",
       "win-back", "churn-reason:natural", _BANK + "inactive", seed_attached=True),
)

STRATEGIES: Final[tuple[Strategy, ...]] = (
    _KEEPING + _PREVENTION + _RETENTION + _SATISFACTION + _LOYALTY + _COMPLAINT + _WINBACK
)
"""Every strategy of the course texts' lists, group by group in the course texts' order."""

_KINDS: Final = ("stage", "churn-reason", "segment", "loyalty-form", "retention", "win-back",
                 "complaint")


def strategies_for(target: str, *, group: str | None = None) -> tuple[Strategy, ...]:
    """The strategies attached to ``target``, in the course texts' order.

    Parameters
    ----------
    target:
        ``"stage:<stage value>"``, ``"churn-reason:<reason value>"``,
        ``"segment:<scheme>:<class value>"``, ``"loyalty-form:<form value>"``, or one of
        ``"retention"``, ``"win-back"``, ``"complaint"``. A known kind with no strategy
        attached gives an empty tuple.
    group:
        Only the strategies of this list (a key of :data:`STRATEGY_GROUPS`).

    Raises
    ------
    InvalidValueError
        ``target`` is not of a known kind, or ``group`` is not a known list.
    """
    kind = target.split(":", 1)[0] if isinstance(target, str) else None
    if kind not in _KINDS:
        raise InvalidValueError(
            f"unknown strategy target {target!r}; targets start with one of "
            + ", ".join(repr(k) for k in _KINDS), field="target")
    if group is not None and group not in STRATEGY_GROUPS:
        raise InvalidValueError(f"unknown strategy group {group!r}; groups: "
                                + ", ".join(STRATEGY_GROUPS), field="group")
    return tuple(s for s in STRATEGIES
                 if target in s.applies_to and (group is None or s.group == group))
