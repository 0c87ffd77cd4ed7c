"""The classes of the segmentation schemes, each with its name and management advice.

Each class is an enum member whose ``term`` is the course texts' Chinese name, ``strategy``
their management advice (in English, with the Chinese term) and ``description`` who falls
into it. Where the texts name a class but give no advice, the text says that the advice is
crmcore's reading, not theirs. :attr:`Segment.strategies` adds the strategy lists of the core
(:func:`crmcore.strategies_for`) attached to the class.

The schemes that assign these classes are in :mod:`crmcore.value._segmentation`; the result
they return (:class:`~crmcore.value.Segmentation`) in :mod:`crmcore.value._segment_results`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from crmcore._strategies import Strategy, strategies_for

__all__ = [
    "BankClass",
    "CardTier",
    "ImportanceTier",
    "InvestmentQuadrant",
    "LoyaltyLadder",
    "PortfolioQuadrant",
    "PyramidTier",
    "RFMSegment",
    "Segment",
]


# -- classes with strategies ------------------------------------------------------------------


@attrs.frozen
class _SegmentText:
    term: str
    strategy: str
    description: str


_TEXTS: dict[Segment, _SegmentText] = {}


class Segment(enum.Enum):
    """Base class of every segmentation class: members carry the course texts' term and advice."""

    @property
    def term(self) -> str:
        """The course texts' (Chinese) name of the class."""
        return _TEXTS[self].term

    @property
    def strategy(self) -> str:
        """The management advice for the class, in English with the course texts' Chinese term."""
        return _TEXTS[self].strategy

    @property
    def description(self) -> str:
        """Which customers fall into the class."""
        return _TEXTS[self].description

    @property
    def chinese(self) -> str:
        """The course texts' (Chinese) name of the class; the same as :attr:`term`."""
        return _TEXTS[self].term

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """What to do with the class: its own advice (:attr:`strategy`, marked as crmcore's
        reading where the course texts give none), then the course texts' strategy lists attached
        to it (:func:`crmcore.strategies_for`, target ``"segment:<scheme>:<value>"``)."""
        scheme, source = _SCHEMES.get(type(self), ("", "RFM practice"))
        target = f"segment:{scheme}:{self.value}"
        own = Strategy(group="segment", chinese=self.term, english=self.strategy,
                       source=source, applies_to=(target,),
                       crmcore_reading="crmcore's reading" in self.strategy,
                       attachment_is_reading=False)
        return (own, *strategies_for(target)) if scheme else (own,)


def _describe(texts: Mapping[Segment, tuple[str, str, str]]) -> None:
    for member, (term, strategy, description) in texts.items():
        _TEXTS[member] = _SegmentText(term, strategy, description)


class PortfolioQuadrant(Segment):
    """Customer portfolio analysis (客户组合分析法): historical x potential value."""

    CULTIVATE = "cultivate"
    INVEST = "invest"
    MAINTAIN = "maintain"
    ABANDON = "abandon"


_describe({
    PortfolioQuadrant.CULTIVATE: (
        "培育", "Cultivate (培育): develop the relationship so that the potential is realised.",
        "Low historical value, high potential value."),
    PortfolioQuadrant.INVEST: (
        "投资", "Invest (投资): put resources into the relationship.",
        "High historical value, high potential value."),
    PortfolioQuadrant.MAINTAIN: (
        "维持", "Maintain (维持): keep the relationship as it is.",
        "High historical value, low potential value."),
    PortfolioQuadrant.ABANDON: (
        "放弃", "Abandon (放弃): give up spending on the relationship.",
        "Low historical value, low potential value."),
})


class PyramidTier(Segment):
    """The customer pyramid (客户金字塔): current value x growth potential.

    The tier names are those of Zeithaml, Rust & Lemon (2001), "The customer pyramid: creating
    and serving profitable customers", *California Management Review* 43(4), 118-142, who rank
    customers by profitability; the course texts turn them into a two-by-two of current value and
    growth potential, which is what :func:`pyramid` implements.
    """

    PLATINUM = "platinum"
    GOLD = "gold"
    IRON = "iron"
    LEAD = "lead"


_describe({
    PyramidTier.PLATINUM: (
        "铂金客户",
        "Platinum (铂金客户): the first priority for resources (重中之重投入资源); spare no "
        "effort to grow the relationship (不遗余力增长客户关系).",
        "High current value, high growth potential."),
    PyramidTier.GOLD: (
        "黄金客户",
        "Gold (黄金客户): commit resources as a priority (重点投入资源) and make every effort "
        "to keep the relationship at a high level (全力维持高水平客户关系).",
        "High current value, low growth potential."),
    PyramidTier.IRON: (
        "铁质客户",
        "Iron (铁质客户): commit resources in moderation (适当投入资源) and rebuild the "
        "relationship (进行关系再造).",
        "Low current value, high growth potential."),
    PyramidTier.LEAD: (
        "铅质客户",
        "Lead (铅质客户): commit no resources (不投入资源), end the relationship (关系解除) "
        "and let go decisively (果断舍弃).",
        "Low current value, low growth potential."),
})


class InvestmentQuadrant(Segment):
    """Customer investment and profit analysis (客户投资与利润分析).

    The course texts fix two corners: loyal customers (low investment, rich return) and expected
    customers (high investment, little return). crmcore places repeat buyers at high investment
    and high profit and ordinary customers at low investment and low profit; that placement is
    crmcore's reading, not the course texts'.
    """

    LOYAL = "loyal"
    REPEAT = "repeat"
    ORDINARY = "ordinary"
    EXPECTED = "expected"


_describe({
    InvestmentQuadrant.LOYAL: (
        "忠诚的客户",
        "Loyal (忠诚的客户): the firm invests little and the return is rich (企业投资少,回报"
        "丰厚); keep them.",
        "Low investment to serve, high profit."),
    InvestmentQuadrant.REPEAT: (
        "重复购买的客户",
        "Repeat buyers (重复购买的客户): profitable but costly to serve; lower the cost of "
        "serving them (crmcore's reading: the course texts give no advice for this class).",
        "High investment to serve, high profit (placement is crmcore's reading)."),
    InvestmentQuadrant.ORDINARY: (
        "普通的客户",
        "Ordinary (普通的客户): serve in a standard, low-cost way (crmcore's reading: the course "
        "texts give no advice for this class).",
        "Low investment to serve, low profit (placement is crmcore's reading)."),
    InvestmentQuadrant.EXPECTED: (
        "期望的客户",
        "Expected (期望的客户): the firm invests much and gets little back (企业投资大,得到的"
        "回报少); review what is spent on them.",
        "High investment to serve, low profit."),
})


class ImportanceTier(Segment):
    """Classification by importance (按客户的重要性分类), by rank of value."""

    VIP = "vip"
    KEY = "key"
    ORDINARY = "ordinary"


_describe({
    ImportanceTier.VIP: (
        "贵宾型客户",
        "VIP (贵宾型客户): dedicated staff and the firm's best service; the course texts note that "
        "such customers need people assigned to them (需要企业安排专职人员负责).",
        "The customers of highest value (by default the top 5%)."),
    ImportanceTier.KEY: (
        "重要型客户",
        "Key (重要型客户): priority service and resources, and moves to raise them to VIP "
        "(crmcore's reading: the course texts name the class without advice).",
        "The next customers by value (by default the next 15%)."),
    ImportanceTier.ORDINARY: (
        "普通型客户",
        "Ordinary (普通型客户): standardised, low-cost service (crmcore's reading: the course "
        "texts name the class without advice).",
        "Everyone else."),
})


class LoyaltyLadder(Segment):
    """Classification by loyalty (按客户忠诚度划分): tenure and repeat buying."""

    PROSPECT = "prospect"
    NEW = "new"
    REGULAR = "regular"
    ESTABLISHED = "established"
    LOYAL = "loyal"
    LAPSED = "lapsed"


_describe({
    LoyaltyLadder.PROSPECT: (
        "潜在客户",
        "Prospect (潜在客户): win the first purchase; do not overlook potential high-quality "
        "customers (别忽略潜在的优质客户).",
        "Known to the firm but has not bought yet."),
    LoyaltyLadder.NEW: (
        "新客户",
        "New (新客户): turn the first purchase into a second one through quality and service "
        "(客户保持: 注意质量, 优质服务).",
        "Has made one purchase, no repeat yet."),
    LoyaltyLadder.REGULAR: (
        "常客户",
        "Regular (常客户): build satisfaction and trust so that repeat buying lasts; offers "
        "and emotional investment (价格优惠, 情感投资).",
        "Buys repeatedly, but the relationship is still young."),
    LoyaltyLadder.ESTABLISHED: (
        "老客户",
        "Established (老客户): care and value-added service; raise switching costs, which "
        "guard against decline in the later stages (转移成本).",
        "A long relationship with repeat buying below the loyal level."),
    LoyaltyLadder.LOYAL: (
        "忠诚客户",
        "Loyal (忠诚客户): realise the customer's full value and keep the relationship; a "
        "lasting tendency to rebuy (客户忠诚).",
        "A long relationship with frequent repeat buying."),
    LoyaltyLadder.LAPSED: (
        "流失客户",
        "Lapsed (流失客户, crmcore's reading: the course texts' ladder has no such rung): the "
        "customer has stopped buying; find out why before trying to win them back (客户挽回).",
        "Has bought, but not for longer than the lapse threshold (only when silence is given)."),
})


class BankClass(Segment):
    """The bank's seven classes of customer: a value x loyalty grid plus
    inactive, lapsed and suspect customers."""

    TOP = "A"
    LARGE = "B"
    MEDIUM = "C"
    SMALL = "D"
    INACTIVE = "inactive"
    LAPSED = "lapsed"
    SUSPECT = "suspect"


_describe({
    BankClass.TOP: (
        "A类 顶级客户",
        "Top, class A (顶级客户): the bank's first-rank wealth clients; the most resources "
        "and personal service (crmcore's reading: the course texts name the class without advice).",
        "High loyalty, high value (5% of customers in the course texts' bank)."),
    BankClass.LARGE: (
        "B类 大型客户",
        "Large, class B (大型客户): valuable but not loyal; raise loyalty before they leave "
        "(crmcore's reading: the course texts name the class without advice).",
        "Low loyalty, high value (15% of customers in the course texts' bank)."),
    BankClass.MEDIUM: (
        "C类 中型客户",
        "Medium, class C (中型客户): loyal, lower value; the largest group, to be grown in "
        "value (crmcore's reading: the course texts name the class without advice).",
        "High loyalty, low value (60% of customers in the course texts' bank)."),
    BankClass.SMALL: (
        "D类 小型客户",
        "Small, class D (小型客户): low loyalty and low value; serve at low cost (crmcore's "
        "reading: the course texts name the class without advice).",
        "Low loyalty, low value (20% of customers in the course texts' bank)."),
    BankClass.INACTIVE: (
        "非活跃客户",
        "Inactive (非活跃客户): reactivate where worth it, or close (crmcore's reading: the "
        "course texts name the class without advice).",
        "The account has not been used for two years or more, or has been settled."),
    BankClass.LAPSED: (
        "潜在客户",
        "Lapsed (潜在客户 in the course texts): former customers the bank still holds data on and "
        "keeps in touch with; candidates for win-back (客户挽回; crmcore's reading: the course "
        "texts name the class without advice).",
        "Had an account that is now closed; still reachable."),
    BankClass.SUSPECT: (
        "怀疑客户",
        "Suspect (怀疑客户): another bank's customers the bank knows of but has never "
        "contacted; prospects for acquisition (crmcore's reading: the course texts name the class "
        "without advice).",
        "Known only from information; no relationship yet."),
})


class CardTier(Segment):
    """Asset-tiered cards (分级卡, the Industrial Bank case): tiers by balance."""

    BLACK_GOLD = "black-gold"
    PLATINUM = "platinum"
    GOLD = "gold"
    SILVER = "silver"


_describe({
    CardTier.BLACK_GOLD: (
        "黑金卡",
        "Black-gold (黑金卡): resources are tilted towards this tier (保证了资源对黑金卡、"
        "白金卡客户的倾斜) to raise the value key customers create.",
        "Personal assets of at least 1,000,000 (family cards: 800,000)."),
    CardTier.PLATINUM: (
        "白金卡",
        "Platinum (白金卡): resources are tilted towards this tier, with the black-gold tier.",
        "Personal assets of at least 300,000 (family cards: 250,000)."),
    CardTier.GOLD: (
        "金卡",
        "Gold (金卡): premium service to draw these customers to upgrade (吸引金卡客户消费"
        "升级).",
        "Personal assets of at least 100,000 (family cards: 80,000)."),
    CardTier.SILVER: (
        "银卡",
        "Silver (银卡): managing this tier well keeps market share (有效保证市场占有率).",
        "Anyone may open one with a valid identity document."),
})


class RFMSegment(Segment):
    """The eight RFM classes of Chinese CRM practice (RFM 模型八类客户).

    Each of recency (R: how recently), frequency (F) and monetary value (M) is judged high or
    low against a cut-off (by default the mean score); the eight combinations are named as in
    Chinese CRM teaching, where the scheme is standard. "High R" means a *recent* last purchase.
    """

    IMPORTANT_VALUE = "important-value"
    IMPORTANT_DEVELOPMENT = "important-development"
    IMPORTANT_MAINTENANCE = "important-maintenance"
    IMPORTANT_RETENTION = "important-retention"
    GENERAL_VALUE = "general-value"
    GENERAL_DEVELOPMENT = "general-development"
    GENERAL_MAINTENANCE = "general-maintenance"
    GENERAL_RETENTION = "general-retention"


_describe({
    RFMSegment.IMPORTANT_VALUE: (
        "重要价值客户", "Important value (重要价值客户): the best customers; keep them with "
        "personal, premium service.", "Recent, frequent, high spending."),
    RFMSegment.IMPORTANT_DEVELOPMENT: (
        "重要发展客户", "Important development (重要发展客户): spend much but seldom; raise "
        "their frequency.", "Recent, infrequent, high spending."),
    RFMSegment.IMPORTANT_MAINTENANCE: (
        "重要保持客户", "Important maintenance (重要保持客户): valuable but not seen lately; "
        "contact them actively to keep the relationship.", "Not recent, frequent, high "
        "spending."),
    RFMSegment.IMPORTANT_RETENTION: (
        "重要挽留客户", "Important retention (重要挽留客户): spent much but are slipping away; "
        "find out why and act to retain them (客户挽留).", "Not recent, infrequent, high "
        "spending."),
    RFMSegment.GENERAL_VALUE: (
        "一般价值客户", "General value (一般价值客户): loyal small spenders; up-sell.",
        "Recent, frequent, low spending."),
    RFMSegment.GENERAL_DEVELOPMENT: (
        "一般发展客户", "General development (一般发展客户): new or occasional buyers; "
        "encourage a second purchase.", "Recent, infrequent, low spending."),
    RFMSegment.GENERAL_MAINTENANCE: (
        "一般保持客户", "General maintenance (一般保持客户): low-cost reminders.",
        "Not recent, frequent, low spending."),
    RFMSegment.GENERAL_RETENTION: (
        "一般挽留客户", "General retention (一般挽留客户): lowest priority; spend little.",
        "Not recent, infrequent, low spending."),
})


_SCHEMES: dict[type[Segment], tuple[str, str]] = {
    PortfolioQuadrant: ("portfolio", "seed 003"),
    PyramidTier: ("pyramid", "seed 001"),
    InvestmentQuadrant: ("investment", "seed 003"),
    ImportanceTier: ("importance", "seed 001"),
    LoyaltyLadder: ("loyalty-ladder", "seed 001"),
    BankClass: ("bank", "seed 004"),
    CardTier: ("card", "seed 004"),
}
"""Each class family's strategy-target scheme and the course text it comes from."""
