"""The seeds' segmentation matrices: customers sorted into classes, each with a strategy.

Every scheme takes plain numpy-compatible columns (one value per customer), is vectorised
(a million customers take a few tens of milliseconds) and returns a :class:`Segmentation`:
each customer's class plus counts, each class's share of customers and of value, and the
Pareto view (the share of value held by the top fifth of customers).

How a column is cut into "low" and "high" is the caller's choice, through :class:`Split`:
by the median, the mean, a quantile, or an absolute threshold. A customer is *high* when the
value lies strictly above a median, mean or quantile cut-off (so a block of tied values at the
cut-off goes wholly to *low*, and a column of equal values is all *low*), and when it is at or
above an absolute threshold (a tier is "reached", as in seed 004's card tiers).

Each class is an enum member whose ``term`` is the seed's Chinese name, ``strategy`` the
seed's management advice (in English, with the Chinese term) and ``description`` who falls
into it. Where a seed names a class but gives no advice, the text says that the advice is
crmcore's reading, not the seed's.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._checks import as_column
from crmcore._errors import EmptyDataError, InvalidValueError, describe_rows
from crmcore._strategies import Strategy, strategies_for

__all__ = [
    "BANK_SEED_SHARES",
    "BANK_WEALTH_THRESHOLDS",
    "FAMILY_CARD_THRESHOLDS",
    "PERSONAL_CARD_THRESHOLDS",
    "BankClass",
    "CardTier",
    "ImportanceTier",
    "InvestmentQuadrant",
    "LoyaltyLadder",
    "PortfolioQuadrant",
    "PyramidTier",
    "RFMScores",
    "RFMSegment",
    "Segment",
    "SegmentRow",
    "Segmentation",
    "Split",
    "bank_classes",
    "bank_classes_by_wealth",
    "card_tier",
    "importance",
    "investment_quadrant",
    "loyalty_ladder",
    "portfolio",
    "pyramid",
    "rfm_scores",
    "rfm_segments",
    "threshold_tiers",
]

_FloatArray = NDArray[np.float64]
_BoolArray = NDArray[np.bool_]
L = TypeVar("L", bound=Hashable)


# -- classes with strategies ------------------------------------------------------------------


@attrs.frozen
class _SegmentText:
    term: str
    strategy: str
    description: str


_TEXTS: dict[Segment, _SegmentText] = {}


class Segment(enum.Enum):
    """Base class of every segmentation class: members carry the seed's term and advice."""

    @property
    def term(self) -> str:
        """The seed's (Chinese) name of the class."""
        return _TEXTS[self].term

    @property
    def strategy(self) -> str:
        """The management advice for the class, in English with the seed's Chinese term."""
        return _TEXTS[self].strategy

    @property
    def description(self) -> str:
        """Which customers fall into the class."""
        return _TEXTS[self].description

    @property
    def chinese(self) -> str:
        """The seed's (Chinese) name of the class; the same as :attr:`term`."""
        return _TEXTS[self].term

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """What to do with the class: its own advice (:attr:`strategy`, marked as crmcore's
        reading where the seed gives none), then the seeds' strategy lists attached to it
        (:func:`crmcore.strategies_for`, target ``"segment:<scheme>:<value>"``)."""
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
    """Customer portfolio analysis (客户组合分析法, seed 003): historical x potential value."""

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
    """The customer pyramid (客户金字塔, seed 001): current value x growth potential.

    The tier names are those of Zeithaml, Rust & Lemon (2001), "The customer pyramid: creating
    and serving profitable customers", *California Management Review* 43(4), 118-142, who rank
    customers by profitability; seed 001 turns them into a two-by-two of current value and
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
    """Customer investment and profit analysis (客户投资与利润分析, seed 003).

    The seed fixes two corners: loyal customers (low investment, rich return) and expected
    customers (high investment, little return). crmcore places repeat buyers at high investment
    and high profit and ordinary customers at low investment and low profit; that placement is
    crmcore's reading, not the seed's.
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
        "serving them (crmcore's reading: the seed gives no advice for this class).",
        "High investment to serve, high profit (placement is crmcore's reading)."),
    InvestmentQuadrant.ORDINARY: (
        "普通的客户",
        "Ordinary (普通的客户): serve in a standard, low-cost way (crmcore's reading: the seed "
        "gives no advice for this class).",
        "Low investment to serve, low profit (placement is crmcore's reading)."),
    InvestmentQuadrant.EXPECTED: (
        "期望的客户",
        "Expected (期望的客户): the firm invests much and gets little back (企业投资大,得到的"
        "回报少); review what is spent on them.",
        "High investment to serve, low profit."),
})


class ImportanceTier(Segment):
    """Classification by importance (按客户的重要性分类, seed 001), by rank of value."""

    VIP = "vip"
    KEY = "key"
    ORDINARY = "ordinary"


_describe({
    ImportanceTier.VIP: (
        "贵宾型客户",
        "VIP (贵宾型客户): dedicated staff and the firm's best service; seed 001 notes that "
        "such customers need people assigned to them (需要企业安排专职人员负责).",
        "The customers of highest value (by default the top 5%)."),
    ImportanceTier.KEY: (
        "重要型客户",
        "Key (重要型客户): priority service and resources, and moves to raise them to VIP "
        "(crmcore's reading: the seed names the class without advice).",
        "The next customers by value (by default the next 15%)."),
    ImportanceTier.ORDINARY: (
        "普通型客户",
        "Ordinary (普通型客户): standardised, low-cost service (crmcore's reading: the seed "
        "names the class without advice).",
        "Everyone else."),
})


class LoyaltyLadder(Segment):
    """Classification by loyalty (按客户忠诚度划分, seed 001): tenure and repeat buying."""

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
        "customers (别忽略潜在的优质客户, seed 001).",
        "Known to the firm but has not bought yet."),
    LoyaltyLadder.NEW: (
        "新客户",
        "New (新客户): turn the first purchase into a second one through quality and service "
        "(客户保持: 注意质量, 优质服务, seed 001).",
        "Has made one purchase, no repeat yet."),
    LoyaltyLadder.REGULAR: (
        "常客户",
        "Regular (常客户): build satisfaction and trust so that repeat buying lasts; offers "
        "and emotional investment (价格优惠, 情感投资, seed 001).",
        "Buys repeatedly, but the relationship is still young."),
    LoyaltyLadder.ESTABLISHED: (
        "老客户",
        "Established (老客户): care and value-added service; raise switching costs, which "
        "guard against decline in the later stages (转移成本, seed 001).",
        "A long relationship with repeat buying below the loyal level."),
    LoyaltyLadder.LOYAL: (
        "忠诚客户",
        "Loyal (忠诚客户): realise the customer's full value and keep the relationship; a "
        "lasting tendency to rebuy (客户忠诚, seed 001).",
        "A long relationship with frequent repeat buying."),
    LoyaltyLadder.LAPSED: (
        "流失客户",
        "Lapsed (流失客户, crmcore's reading: the seed's ladder has no such rung): the customer "
        "has stopped buying; find out why before trying to win them back (客户挽回, seed 004).",
        "Has bought, but not for longer than the lapse threshold (only when silence is given)."),
})


class BankClass(Segment):
    """The bank's seven classes of customer (seed 004, HSBC case): a value x loyalty grid plus
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
        "and personal service (crmcore's reading: the seed names the class without advice).",
        "High loyalty, high value (in the seed 5% of customers)."),
    BankClass.LARGE: (
        "B类 大型客户",
        "Large, class B (大型客户): valuable but not loyal; raise loyalty before they leave "
        "(crmcore's reading: the seed names the class without advice).",
        "Low loyalty, high value (in the seed 15% of customers)."),
    BankClass.MEDIUM: (
        "C类 中型客户",
        "Medium, class C (中型客户): loyal, lower value; the largest group, to be grown in "
        "value (crmcore's reading: the seed names the class without advice).",
        "High loyalty, low value (in the seed 60% of customers)."),
    BankClass.SMALL: (
        "D类 小型客户",
        "Small, class D (小型客户): low loyalty and low value; serve at low cost (crmcore's "
        "reading: the seed names the class without advice).",
        "Low loyalty, low value (in the seed 20% of customers)."),
    BankClass.INACTIVE: (
        "非活跃客户",
        "Inactive (非活跃客户): reactivate where worth it, or close (crmcore's reading: the "
        "seed names the class without advice).",
        "The account has not been used for two years or more, or has been settled."),
    BankClass.LAPSED: (
        "潜在客户",
        "Lapsed (潜在客户 in the seed): former customers the bank still holds data on and "
        "keeps in touch with; candidates for win-back (客户挽回; crmcore's reading: the seed "
        "names the class without advice).",
        "Had an account that is now closed; still reachable."),
    BankClass.SUSPECT: (
        "怀疑客户",
        "Suspect (怀疑客户): another bank's customers the bank knows of but has never "
        "contacted; prospects for acquisition (crmcore's reading: the seed names the class "
        "without advice).",
        "Known only from information; no relationship yet."),
})


class CardTier(Segment):
    """Asset-tiered cards (分级卡, seed 004, Industrial Bank case): tiers by balance."""

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
"""Each class family's strategy-target scheme and the seed it comes from."""


# -- splitting a column -----------------------------------------------------------------------


SplitMethod = Literal["median", "mean", "quantile", "threshold"]


def _check_at(instance: Split, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if instance.method == "quantile":
        if value is None or not 0.0 < value < 1.0:
            raise InvalidValueError(f"Split.quantile needs 0 < q < 1, got {value!r}",
                                    field="q")
    elif instance.method == "threshold":
        if value is None or not math.isfinite(value):
            raise InvalidValueError(f"Split.threshold needs a finite number, got {value!r}",
                                    field="threshold")
    elif value is not None:
        raise InvalidValueError(f"Split.{instance.method} takes no value, got {value!r}",
                                field="at")


@attrs.frozen
class Split:
    """How to cut one column into low and high.

    Build one with :meth:`median`, :meth:`mean`, :meth:`quantile` or :meth:`threshold`; a plain
    number given where a ``Split`` is expected is taken as a threshold. A value is high when it
    lies strictly above a median, mean or quantile cut-off, and when it is at or above a
    threshold.
    """

    method: SplitMethod
    at: float | None = attrs.field(default=None, validator=_check_at)

    @classmethod
    def median(cls) -> Split:
        """High means above the median."""
        return cls("median")

    @classmethod
    def mean(cls) -> Split:
        """High means above the mean."""
        return cls("mean")

    @classmethod
    def quantile(cls, q: float) -> Split:
        """High means above the ``q``-quantile (``quantile(0.8)``: roughly the top fifth)."""
        return cls("quantile", float(q))

    @classmethod
    def threshold(cls, value: float) -> Split:
        """High means at or above ``value``."""
        return cls("threshold", float(value))

    def cut_off(self, values: ArrayLike) -> float:
        """The cut-off this split puts on ``values`` (which must not be empty)."""
        array = np.asarray(values, dtype=np.float64)
        if self.method == "threshold":
            assert self.at is not None
            return self.at
        if len(array) == 0:
            raise EmptyDataError(f"cannot take the {self.method} of no values", field="values")
        if self.method == "median":
            return float(np.median(array))
        if self.method == "mean":
            return float(np.mean(array))
        assert self.at is not None
        return float(np.quantile(array, self.at))

    def high(self, values: ArrayLike) -> tuple[_BoolArray, float]:
        """Which ``values`` are high, and the cut-off used."""
        array = np.asarray(values, dtype=np.float64)
        cut = self.cut_off(array)
        mask = array >= cut if self.method == "threshold" else array > cut
        return mask, cut


def _as_split(split: Split | float, *, field: str) -> Split:
    if isinstance(split, Split):
        return split
    if isinstance(split, bool) or not isinstance(split, int | float):
        raise InvalidValueError(
            f"{field} must be a Split or a number (a threshold), got {split!r}", field=field)
    return Split.threshold(float(split))


# -- the result -------------------------------------------------------------------------------


@attrs.frozen
class SegmentRow(Generic[L]):
    """One class in a segmentation's summary.

    ``value`` and ``value_share`` are ``None`` when the segmentation carries no value column, or
    (for the share) when the total value is not positive.
    """

    segment: L
    count: int
    customer_share: float
    value: float | None
    value_share: float | None


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


@attrs.frozen(eq=False)
class Segmentation(Generic[L]):
    """Customers sorted into the classes of one scheme.

    Attributes
    ----------
    scheme:
        Name of the scheme (``"portfolio"``, ``"pyramid"``, ...).
    classes:
        The scheme's classes, in a fixed order.
    codes:
        Per customer, the position of its class in ``classes`` (aligned with the input).
    value:
        The value column behind the value shares (``None`` if there is none).
    cut_offs:
        The cut-off used on each input column, by column name.
    """

    scheme: str
    classes: tuple[L, ...]
    codes: NDArray[np.int16]
    value: _FloatArray | None
    cut_offs: Mapping[str, float]

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        from crmcore._repr import segmentation_text

        return segmentation_text(self)

    def _repr_html_(self) -> str:
        from crmcore._repr import segmentation_html

        return segmentation_html(self)

    def __getitem__(self, row: int) -> L:
        return self.classes[int(self.codes[row])]

    def labels(self) -> NDArray[np.object_]:
        """Each customer's class, as an object array aligned with the input."""
        table = np.empty(len(self.classes), dtype=object)
        table[:] = list(self.classes)
        result: NDArray[np.object_] = table[self.codes]
        return result

    def mask(self, segment: L) -> _BoolArray:
        """Which customers are in ``segment``."""
        return np.asarray(self.codes == self._position(segment))

    def _position(self, segment: L) -> int:
        try:
            return self.classes.index(segment)
        except ValueError:
            raise InvalidValueError(
                f"{segment!r} is not a class of the {self.scheme} scheme; classes: "
                f"{', '.join(map(repr, self.classes))}", field="segment") from None

    def counts(self) -> dict[L, int]:
        """Number of customers in each class (every class listed, zero included)."""
        counts = np.bincount(self.codes, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts, strict=True)}

    def customer_shares(self) -> dict[L, float]:
        """Each class's share of the customers (sums to 1)."""
        n = len(self.codes)
        return {c: k / n for c, k in self.counts().items()}

    def value_totals(self) -> dict[L, float] | None:
        """Total value in each class, or ``None`` without a value column."""
        if self.value is None:
            return None
        totals = np.bincount(self.codes, weights=self.value, minlength=len(self.classes))
        return {c: float(v) for c, v in zip(self.classes, totals, strict=True)}

    def value_shares(self) -> dict[L, float] | None:
        """Each class's share of the total value, or ``None`` without a value column or when
        the total is not positive (a share of a zero or negative total means nothing)."""
        totals = self.value_totals()
        if totals is None:
            return None
        total = math.fsum(totals.values())
        if total <= 0:
            return None
        return {c: v / total for c, v in totals.items()}

    def pareto_share(self, top: float = 0.2) -> float | None:
        """Share of the total value held by the ``top`` fraction of customers by value.

        The top fraction is ``ceil(top * n)`` customers. ``None`` without a value column or when
        the total is not positive.
        """
        if not 0.0 < top <= 1.0:
            raise InvalidValueError(f"top must lie in (0, 1], got {top!r}", field="top")
        if self.value is None:
            return None
        total = float(np.sum(self.value))
        if total <= 0:
            return None
        n = len(self.value)
        k = max(1, math.ceil(top * n - 1e-9))
        largest = np.partition(self.value, n - k)[n - k:]
        return float(np.sum(largest)) / total

    def strategies(self) -> dict[L, tuple[Strategy, ...]]:
        """Each class's strategies (:attr:`Segment.strategies`: its own advice, then the
        seeds' lists attached to it, each with the Chinese term); empty for classes that are
        not :class:`Segment` members."""
        return {c: c.strategies if isinstance(c, Segment) else () for c in self.classes}

    def summary(self) -> list[SegmentRow[L]]:
        """One row per class: count, share of customers, total value and share of value."""
        counts = self.counts()
        shares = self.customer_shares()
        totals = self.value_totals()
        value_shares = self.value_shares()
        return [
            SegmentRow(
                segment=c, count=counts[c], customer_share=shares[c],
                value=None if totals is None else totals[c],
                value_share=None if value_shares is None else value_shares[c],
            )
            for c in self.classes
        ]

    def summary_frame(self, backend: Literal["pandas", "polars", "pyarrow"] = "pandas") -> Any:
        """The summary as a data frame (one row per class; enum classes by member name)."""
        from crmcore._frames import _frame

        rows = self.summary()
        names = [c.name if isinstance(c, enum.Enum) else str(c) for c in self.classes]
        columns: dict[str, NDArray[Any]] = {
            "segment": np.asarray(names, dtype=object),
            "count": np.asarray([r.count for r in rows], dtype=np.int64),
            "customer_share": np.asarray([r.customer_share for r in rows]),
        }
        if self.value is not None:
            columns["value"] = np.asarray([r.value for r in rows], dtype=np.float64)
            columns["value_share"] = np.asarray(
                [np.nan if r.value_share is None else r.value_share for r in rows])
        return _frame(columns, backend)


# -- input checks -----------------------------------------------------------------------------


def _column(values: ArrayLike, *, field: str, n: int | None = None,
            allow_nan: _BoolArray | None = None) -> _FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{field} must be numeric: {exc}", field=field) from exc
    if array.ndim != 1:
        raise InvalidValueError(f"{field} must be one-dimensional, got shape {array.shape}",
                                field=field)
    if len(array) == 0:
        raise EmptyDataError(f"{field} is empty: there are no customers to segment",
                             field=field)
    if n is not None and len(array) != n:
        raise InvalidValueError(f"{field} has {len(array)} values, expected {n} (one per "
                                "customer, aligned with the other columns)", field=field)
    bad = ~np.isfinite(array)
    if allow_nan is not None:
        bad &= ~(allow_nan & np.isnan(array))
    rows = np.flatnonzero(bad)
    if len(rows):
        raise InvalidValueError(
            f"{field} is NaN or infinite at {describe_rows(rows)}; a customer whose value is "
            "unknown cannot be placed: leave such customers out (e.g. where "
            "PotentialValue.estimated is False) or supply the value",
            field=field, rows=rows.tolist())
    return array


def _mask(values: ArrayLike | None, *, field: str, n: int) -> _BoolArray:
    if values is None:
        return np.zeros(n, dtype=bool)
    array = np.asarray(values)
    if array.dtype != np.bool_:
        raise InvalidValueError(f"{field} must be a boolean mask, got dtype {array.dtype}",
                                field=field)
    if array.shape != (n,):
        raise InvalidValueError(f"{field} has shape {array.shape}, expected ({n},)",
                                field=field)
    return array


def _codes(array: NDArray[Any]) -> NDArray[np.int16]:
    return _readonly(np.asarray(array, dtype=np.int16))


def _value_column(value: ArrayLike | None, default: _FloatArray, *, n: int) -> _FloatArray:
    if value is None:
        return _readonly(default.copy())
    return _readonly(_column(value, field="value", n=n))


# -- two-by-two matrices ----------------------------------------------------------------------


def _grid(
    scheme: str,
    first: ArrayLike, first_name: str, first_split: Split | float,
    second: ArrayLike, second_name: str, second_split: Split | float,
    order: tuple[L, L, L, L],
    value: ArrayLike | None,
) -> Segmentation[L]:
    """Shared engine of the two-by-two schemes. ``order`` lists the classes for
    (low, low), (low, high), (high, low), (high, high) of (first, second)."""
    a = _column(first, field=first_name)
    b = _column(second, field=second_name, n=len(a))
    high_a, cut_a = _as_split(first_split, field=f"{first_name}_split").high(a)
    high_b, cut_b = _as_split(second_split, field=f"{second_name}_split").high(b)
    cell = 2 * high_a.astype(np.int16) + high_b.astype(np.int16)
    return Segmentation(
        scheme=scheme, classes=order, codes=_codes(cell),
        value=_value_column(value, a, n=len(a)),
        cut_offs={first_name: cut_a, second_name: cut_b},
    )


def portfolio(
    historical_value: ArrayLike,
    potential_value: ArrayLike,
    *,
    historical_split: Split | float | None = None,
    potential_split: Split | float | None = None,
    split: Split = Split.median(),  # noqa: B008 - a frozen value object
    value: ArrayLike | None = None,
) -> Segmentation[PortfolioQuadrant]:
    """Customer portfolio analysis (客户组合分析法, seed 003).

    Low historical and high potential value -> CULTIVATE (培育); high and high -> INVEST
    (投资); high and low -> MAINTAIN (维持); low and low -> ABANDON (放弃).

    Parameters
    ----------
    historical_value, potential_value:
        One value per customer (finite).
    historical_split, potential_split:
        How each column is cut (a :class:`Split` or a threshold); default ``split``.
    split:
        The split used for a column without its own (default: the median).
    value:
        The value behind the value shares (default: ``historical_value``).

    Raises
    ------
    EmptyDataError
        No customers.
    InvalidValueError
        A value is NaN or infinite, or the columns differ in length (named).
    """
    return _grid(
        "portfolio",
        historical_value, "historical_value",
        split if historical_split is None else historical_split,
        potential_value, "potential_value", split if potential_split is None else potential_split,
        (PortfolioQuadrant.ABANDON, PortfolioQuadrant.CULTIVATE, PortfolioQuadrant.MAINTAIN,
         PortfolioQuadrant.INVEST),
        value,
    )


def pyramid(
    current_value: ArrayLike,
    growth_potential: ArrayLike,
    *,
    current_split: Split | float | None = None,
    growth_split: Split | float | None = None,
    split: Split = Split.median(),  # noqa: B008 - a frozen value object
    value: ArrayLike | None = None,
) -> Segmentation[PyramidTier]:
    """The customer pyramid (客户金字塔, seed 001; Zeithaml, Rust & Lemon 2001).

    High current value and high growth potential -> PLATINUM; high and low -> GOLD; low and
    high -> IRON; low and low -> LEAD. Splits as in :func:`portfolio`; the value shares are of
    ``current_value`` unless ``value`` is given.
    """
    return _grid(
        "pyramid",
        current_value, "current_value", split if current_split is None else current_split,
        growth_potential, "growth_potential", split if growth_split is None else growth_split,
        (PyramidTier.LEAD, PyramidTier.IRON, PyramidTier.GOLD, PyramidTier.PLATINUM),
        value,
    )


def investment_quadrant(
    investment: ArrayLike,
    profit: ArrayLike,
    *,
    investment_split: Split | float | None = None,
    profit_split: Split | float | None = None,
    split: Split = Split.median(),  # noqa: B008 - a frozen value object
    value: ArrayLike | None = None,
) -> Segmentation[InvestmentQuadrant]:
    """Customer investment and profit analysis (客户投资与利润分析, seed 003).

    Low investment and high profit -> LOYAL; high investment and low profit -> EXPECTED (both
    from the seed); high and high -> REPEAT; low and low -> ORDINARY (crmcore's placement of the
    two classes the seed names without placing). The value shares are of ``profit`` unless
    ``value`` is given.
    """
    inv = _column(investment, field="investment")
    prof = _column(profit, field="profit", n=len(inv))
    return _grid(
        "investment",
        inv, "investment", split if investment_split is None else investment_split,
        prof, "profit", split if profit_split is None else profit_split,
        (InvestmentQuadrant.ORDINARY, InvestmentQuadrant.LOYAL, InvestmentQuadrant.EXPECTED,
         InvestmentQuadrant.REPEAT),
        prof if value is None else value,
    )


# -- tiers ------------------------------------------------------------------------------------


def importance(
    value: ArrayLike,
    *,
    vip: Split | float = Split.quantile(0.95),  # noqa: B008 - a frozen value object
    key: Split | float = Split.quantile(0.80),  # noqa: B008 - a frozen value object
) -> Segmentation[ImportanceTier]:
    """Importance tiers by value (按客户的重要性分类, seed 001): VIP, KEY, ORDINARY.

    A customer high by the ``vip`` split is VIP, else one high by the ``key`` split is KEY,
    else ORDINARY. The defaults put roughly the top 5% in VIP and the next 15% in KEY (the
    top fifth together, the Pareto view); ties at a cut-off all fall to the lower tier, so a
    column of equal values is all ORDINARY.
    """
    v = _column(value, field="value")
    is_vip, cut_vip = _as_split(vip, field="vip").high(v)
    is_key, cut_key = _as_split(key, field="key").high(v)
    codes = np.where(is_vip, 0, np.where(is_key, 1, 2))
    return Segmentation(
        scheme="importance",
        classes=(ImportanceTier.VIP, ImportanceTier.KEY, ImportanceTier.ORDINARY),
        codes=_codes(codes), value=_readonly(v.copy()),
        cut_offs={"vip": cut_vip, "key": cut_key},
    )


def loyalty_ladder(
    tenure: ArrayLike,
    purchases: ArrayLike,
    *,
    established_after: Split | float,
    loyal_purchases: Split | float,
    value: ArrayLike | None = None,
    silence: ArrayLike | None = None,
    lapsed_after: float | ArrayLike | None = None,
) -> Segmentation[LoyaltyLadder]:
    """The loyalty ladder (按客户忠诚度划分, seed 001) by tenure and repeat buying.

    Rules, in order: no purchase -> PROSPECT; with ``silence`` and ``lapsed_after`` given, a
    customer silent for at least ``lapsed_after`` -> LAPSED (a customer who stopped buying
    months ago is not established or loyal, however long and busy the past relationship was;
    crmcore's reading, the seed's ladder has no such rung); one purchase -> NEW; repeat buyers
    whose tenure is below ``established_after`` -> REGULAR; longer relationships -> LOYAL when
    ``purchases`` reaches ``loyal_purchases``, else ESTABLISHED.

    Parameters
    ----------
    tenure:
        Length of each relationship so far, in the caller's time unit (for a
        :class:`crmcore.CustomerBase`: ``base.T``).
    purchases:
        Number of purchases (whole, >= 0; for a base: ``base.frequency + 1``).
    established_after:
        Tenure from which a repeat buyer counts as established (a threshold in the same unit,
        or a :class:`Split` on ``tenure``). Required: there is no unit-free default.
    loyal_purchases:
        Purchases from which an established customer counts as loyal (threshold or split).
    value:
        Optional value column for the value shares.
    silence:
        Time since each customer's last purchase, in the unit of ``tenure`` (for a base:
        ``base.T - base.recency``).
    lapsed_after:
        Silence from which a customer counts as LAPSED (same unit); give it with ``silence``.
        One number for everyone, or one per customer, so that the limit can depend on the
        customer's purchases as the lifecycle stages' does: with
        ``limits = crmcore.lifecycle.lapse_limits(base)``, ``[limits[min(k, 3)] for k in
        purchases]`` reads "silent for longer than 90% of the base's customers with as many
        purchases took to come back" (``cut_offs`` then records no ``"silence"`` entry).
    """
    t = _column(tenure, field="tenure")
    p = _column(purchases, field="purchases", n=len(t))
    for name, array in (("tenure", t), ("purchases", p)):
        rows = np.flatnonzero(array < 0)
        if len(rows):
            raise InvalidValueError(f"{name} is negative at {describe_rows(rows)}",
                                    field=name, rows=rows.tolist())
    rows = np.flatnonzero(p != np.round(p))
    if len(rows):
        raise InvalidValueError(f"purchases must be whole numbers; not at {describe_rows(rows)}",
                                field="purchases", rows=rows.tolist())
    long, cut_t = _as_split(established_after, field="established_after").high(t)
    frequent, cut_p = _as_split(loyal_purchases, field="loyal_purchases").high(p)
    cut_offs = {"tenure": cut_t, "purchases": cut_p}
    lapsed = np.zeros(len(t), dtype=bool)
    if (silence is None) != (lapsed_after is None):
        raise InvalidValueError("give silence and lapsed_after together",
                                field="silence" if silence is None else "lapsed_after")
    if silence is not None and lapsed_after is not None:
        quiet = _column(silence, field="silence", n=len(t))
        rows = np.flatnonzero(quiet < 0)
        if len(rows):
            raise InvalidValueError(f"silence is negative at {describe_rows(rows)}",
                                    field="silence", rows=rows.tolist())
        if isinstance(lapsed_after, int | float) and not isinstance(lapsed_after, bool):
            if not lapsed_after > 0:
                raise InvalidValueError(
                    f"lapsed_after must be a number > 0, got {lapsed_after!r}",
                    field="lapsed_after")
            lapsed = quiet >= lapsed_after
            cut_offs["silence"] = float(lapsed_after)
        else:
            limit = _column(lapsed_after, field="lapsed_after", n=len(t))
            rows = np.flatnonzero(~(limit > 0))
            if len(rows):
                raise InvalidValueError(f"lapsed_after must be > 0; not at "
                                        f"{describe_rows(rows)}", field="lapsed_after",
                                        rows=rows.tolist())
            lapsed = quiet >= limit
    codes = np.select(
        [p == 0, lapsed, p == 1, ~long, frequent],
        [0, 5, 1, 2, 4],
        default=3,
    )
    return Segmentation(
        scheme="loyalty-ladder",
        classes=(LoyaltyLadder.PROSPECT, LoyaltyLadder.NEW, LoyaltyLadder.REGULAR,
                 LoyaltyLadder.ESTABLISHED, LoyaltyLadder.LOYAL, LoyaltyLadder.LAPSED),
        codes=_codes(codes),
        value=None if value is None else _readonly(_column(value, field="value", n=len(t))),
        cut_offs=cut_offs,
    )


def bank_classes(
    value: ArrayLike,
    loyalty: ArrayLike,
    *,
    inactive: ArrayLike | None = None,
    lapsed: ArrayLike | None = None,
    suspect: ArrayLike | None = None,
    value_split: Split | float = Split.median(),  # noqa: B008 - a frozen value object
    loyalty_split: Split | float = Split.median(),  # noqa: B008 - a frozen value object
) -> Segmentation[BankClass]:
    """The bank's seven classes (seed 004) read as a value x loyalty grid plus three flags.

    Flagged customers are classed by their flag, in the order SUSPECT, LAPSED, INACTIVE (a
    customer with two flags takes the first); their ``value`` and ``loyalty`` may be NaN. The
    rest fall into the grid: high loyalty and high value -> TOP (A); low loyalty, high value ->
    LARGE (B); high loyalty, low value -> MEDIUM (C); low and low -> SMALL (D). Median, mean and
    quantile cut-offs are taken over the grid customers only.

    This grid is crmcore's reading of the seed's labels (高/低忠诚度, 高/低价值). The seed itself
    defines A to D by wealth held (全面理财总值) against fixed thresholds, which
    :func:`bank_classes_by_wealth` implements as written. Its shares (5%, 15%, 60%, 20% of
    customers) are the bank's outcome, not a rule: quantile splits fix only the margins (the
    share of high-value and of high-loyalty customers), and how those combine into A to D
    depends on how value and loyalty go together, so no choice of :class:`Split` guarantees
    the seed's four shares.

    Parameters
    ----------
    value, loyalty:
        Per customer (e.g. assets held and a loyalty index).
    inactive, lapsed, suspect:
        Boolean masks: account unused for two years or settled; closed but still reachable;
        another firm's customer known only from information.
    """
    v = as_column(value, "value", scalar=False)
    n = len(v)
    if n == 0:
        raise EmptyDataError("value is empty: there are no customers to segment",
                             field="value")
    is_suspect = _mask(suspect, field="suspect", n=n)
    is_lapsed = _mask(lapsed, field="lapsed", n=n) & ~is_suspect
    is_inactive = _mask(inactive, field="inactive", n=n) & ~is_suspect & ~is_lapsed
    flagged = is_suspect | is_lapsed | is_inactive
    v = _column(v, field="value", allow_nan=flagged)
    loy = _column(loyalty, field="loyalty", n=n, allow_nan=flagged)
    grid = ~flagged
    cut_offs: dict[str, float] = {}
    high_v = np.zeros(n, dtype=bool)
    high_l = np.zeros(n, dtype=bool)
    if grid.any():
        hv, cut_offs["value"] = _as_split(value_split, field="value_split").high(v[grid])
        hl, cut_offs["loyalty"] = _as_split(loyalty_split, field="loyalty_split").high(
            loy[grid])
        high_v[grid] = hv
        high_l[grid] = hl
    codes = np.select(
        [is_suspect, is_lapsed, is_inactive, high_v & high_l, high_v, high_l],
        [6, 5, 4, 0, 1, 2],
        default=3,
    )
    return Segmentation(
        scheme="bank",
        classes=(BankClass.TOP, BankClass.LARGE, BankClass.MEDIUM, BankClass.SMALL,
                 BankClass.INACTIVE, BankClass.LAPSED, BankClass.SUSPECT),
        codes=_codes(codes), value=_readonly(np.where(flagged & np.isnan(v), 0.0, v)),
        cut_offs=cut_offs,
    )


BANK_WEALTH_THRESHOLDS: Mapping[BankClass, float] = {
    BankClass.TOP: 1_000_000_000.0,
    BankClass.LARGE: 1_000_000.0,
    BankClass.MEDIUM: 20_000.0,
}
"""Seed 004's classes by wealth held (全面理财总值), as the seed writes them: A exceeds 10亿元
(1,000,000,000), B exceeds "10。万元", C exceeds 2万元 (20,000), D is 2万元 and below. The
seed's B figure is garbled: a full stop stands where a digit should; crmcore reads it as
100万元 (1,000,000), the one-character slip of "100万元". Pass other thresholds where the
bank's own figures differ."""

BANK_SEED_SHARES: Mapping[BankClass, float] = {
    BankClass.TOP: 0.05, BankClass.LARGE: 0.15, BankClass.MEDIUM: 0.60, BankClass.SMALL: 0.20,
}
"""The shares of customers the seed reports in classes A to D (5%, 15%, 60%, 20%): the bank's
outcome, to compare a base's :meth:`Segmentation.customer_shares` with."""


def bank_classes_by_wealth(
    wealth: ArrayLike,
    *,
    inactive: ArrayLike | None = None,
    lapsed: ArrayLike | None = None,
    suspect: ArrayLike | None = None,
    thresholds: Mapping[BankClass, float] = BANK_WEALTH_THRESHOLDS,
) -> Segmentation[BankClass]:
    """The bank's seven classes as seed 004 defines them: A to D by wealth held.

    A customer whose wealth held (全面理财总值) exceeds (超过) the TOP threshold is class A,
    else above the LARGE threshold class B, else above the MEDIUM threshold class C, else
    (at or below it, 以下) class D. Flags come first, as in :func:`bank_classes`: SUSPECT,
    LAPSED, INACTIVE (:func:`crmcore.lifecycle.inactive_customers` derives the seed's "unused
    for two years or more" from purchase history); flagged customers' wealth may be NaN.

    Parameters
    ----------
    wealth:
        Wealth held with the bank per customer (>= 0).
    inactive, lapsed, suspect:
        Boolean masks, as for :func:`bank_classes`.
    thresholds:
        Minimums (exclusive) for TOP, LARGE and MEDIUM; default
        :data:`BANK_WEALTH_THRESHOLDS`, the seed's figures.

    Raises
    ------
    InvalidValueError
        Wealth missing or negative for an unflagged customer, flags not boolean, or
        thresholds not strictly decreasing from TOP to MEDIUM.
    EmptyDataError
        No customers.

    Examples
    --------
    >>> from crmcore.value import bank_classes_by_wealth
    >>> seg = bank_classes_by_wealth([2e9, 5e6, 30_000, 20_000, 0.0])
    >>> [c.value for c in seg.labels()]
    ['A', 'B', 'C', 'D', 'D']
    """
    try:
        w = np.asarray(wealth, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"wealth must be numeric: {exc}", field="wealth") from exc
    if w.ndim != 1:
        raise InvalidValueError(f"wealth must be one-dimensional, got shape {w.shape}",
                                field="wealth")
    n = len(w)
    if n == 0:
        raise EmptyDataError("wealth is empty: there are no customers to segment",
                             field="wealth")
    try:
        cuts = [float(thresholds[c]) for c in (BankClass.TOP, BankClass.LARGE,
                                               BankClass.MEDIUM)]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidValueError(f"thresholds must give a number for TOP, LARGE and MEDIUM: "
                                f"{exc!r}", field="thresholds") from exc
    if not (cuts[0] > cuts[1] > cuts[2]):
        raise InvalidValueError(f"thresholds must strictly decrease from TOP to MEDIUM, got "
                                f"{cuts}", field="thresholds")
    is_suspect = _mask(suspect, field="suspect", n=n)
    is_lapsed = _mask(lapsed, field="lapsed", n=n) & ~is_suspect
    is_inactive = _mask(inactive, field="inactive", n=n) & ~is_suspect & ~is_lapsed
    flagged = is_suspect | is_lapsed | is_inactive
    w = _column(w, field="wealth", allow_nan=flagged)
    rows = np.flatnonzero(w < 0)
    if len(rows):
        raise InvalidValueError(f"wealth is negative at {describe_rows(rows)}", field="wealth",
                                rows=rows.tolist())
    codes = np.select(
        [is_suspect, is_lapsed, is_inactive, w > cuts[0], w > cuts[1], w > cuts[2]],
        [6, 5, 4, 0, 1, 2],
        default=3,
    )
    return Segmentation(
        scheme="bank-wealth",
        classes=(BankClass.TOP, BankClass.LARGE, BankClass.MEDIUM, BankClass.SMALL,
                 BankClass.INACTIVE, BankClass.LAPSED, BankClass.SUSPECT),
        codes=_codes(codes), value=_readonly(np.where(flagged & np.isnan(w), 0.0, w)),
        cut_offs={"A": cuts[0], "B": cuts[1], "C": cuts[2]},
    )


def threshold_tiers(
    values: ArrayLike,
    thresholds: Mapping[L, float] | Sequence[tuple[L, float]],
    *,
    scheme: str = "tiers",
) -> Segmentation[L]:
    """Tiers from a table of minimums: each customer gets the highest tier whose minimum its
    value reaches (``>=``).

    Parameters
    ----------
    values:
        One value per customer (e.g. average daily assets).
    thresholds:
        Tier -> minimum, from the highest tier down; minimums must strictly decrease. The last
        tier's minimum is the floor (use ``-math.inf`` for none); a value below it is an error.
    scheme:
        Name reported on the result.

    Raises
    ------
    InvalidValueError
        Minimums not strictly decreasing or not numbers; a value below the floor (rows named).
    """
    v = _column(values, field="values")
    table = list(thresholds.items()) if isinstance(thresholds, Mapping) else list(thresholds)
    if not table:
        raise InvalidValueError("thresholds is empty: give at least one tier", field="thresholds")
    minima = np.asarray([float(m) for _, m in table], dtype=np.float64)
    if np.isnan(minima).any() or (np.diff(minima) >= 0).any():
        raise InvalidValueError(
            f"tier minimums must strictly decrease from the highest tier down, got "
            f"{[(t, m) for t, m in table]!r}", field="thresholds")
    reached = np.searchsorted(minima[::-1], v, side="right")
    below = np.flatnonzero(reached == 0)
    if len(below):
        raise InvalidValueError(
            f"values at {describe_rows(below)} are below the lowest tier's minimum "
            f"({table[-1][0]!r} >= {minima[-1]!r})", field="values", rows=below.tolist())
    codes = len(table) - reached
    return Segmentation(
        scheme=scheme, classes=tuple(t for t, _ in table), codes=_codes(codes),
        value=_readonly(v.copy()), cut_offs={str(t): float(m) for t, m in table},
    )


PERSONAL_CARD_THRESHOLDS: Mapping[CardTier, float] = {
    CardTier.BLACK_GOLD: 1_000_000.0, CardTier.PLATINUM: 300_000.0, CardTier.GOLD: 100_000.0,
    CardTier.SILVER: 0.0,
}
"""Seed 004's personal card tiers: minimum assets per tier."""

FAMILY_CARD_THRESHOLDS: Mapping[CardTier, float] = {
    CardTier.BLACK_GOLD: 800_000.0, CardTier.PLATINUM: 250_000.0, CardTier.GOLD: 80_000.0,
    CardTier.SILVER: 0.0,
}
"""Seed 004's family card tiers: minimum average assets of the family members per tier."""


def card_tier(assets: ArrayLike, *, family: bool = False) -> Segmentation[CardTier]:
    """Seed 004's card tiers (分级卡): black-gold >= 1,000,000, platinum >= 300,000, gold >=
    100,000, silver otherwise (family cards: 800,000 / 250,000 / 80,000 on the members'
    average assets). Assets must be >= 0."""
    table = FAMILY_CARD_THRESHOLDS if family else PERSONAL_CARD_THRESHOLDS
    return threshold_tiers(assets, table, scheme="family-card" if family else "card")


# -- RFM --------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class RFMScores:
    """Quintile scores 1-5 for recency, frequency and monetary value (5 = best: most recent,
    most frequent, highest spending), aligned with the input."""

    recency: NDArray[np.int8]
    frequency: NDArray[np.int8]
    monetary: NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.recency)

    def cells(self) -> NDArray[np.int16]:
        """The RFM cell as a three-digit number (``r * 100 + f * 10 + m``, e.g. 555)."""
        return (self.recency.astype(np.int16) * 100 + self.frequency.astype(np.int16) * 10
                + self.monetary.astype(np.int16))


def _quintiles(values: _FloatArray, bins: int) -> NDArray[np.int8]:
    # Mid-rank percentiles: tied customers share their average rank, hence a score, and equal
    # values all score the middle bin.
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    before = np.cumsum(counts) - counts
    average_rank = before + (counts + 1) / 2.0
    percentile = (average_rank[inverse.reshape(-1)] - 0.5) / len(values)
    scores = np.ceil(percentile * bins).clip(1, bins)
    return _readonly(scores.astype(np.int8))


def rfm_scores(
    recency: ArrayLike, frequency: ArrayLike, monetary: ArrayLike, *, bins: int = 5
) -> RFMScores:
    """RFM quintile scores (Hughes 1994, *Strategic Database Marketing*, ch. on RFM coding).

    Each column is ranked and cut into ``bins`` groups of equal size by mid-rank percentile
    ``(rank - 0.5) / n``: score ``ceil(percentile * bins)``. Tied customers share a score;
    a column of equal values scores the middle bin.

    Parameters
    ----------
    recency:
        Time since the last purchase (smaller is better, so it is scored in reverse). For a
        :class:`crmcore.CustomerBase`: ``base.T - base.recency``.
    frequency, monetary:
        Number of purchases and spend (larger is better).
    bins:
        Number of score levels (default 5: quintiles).
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 9:
        raise InvalidValueError(f"bins must be a whole number from 2 to 9, got {bins!r}",
                                field="bins")
    r = _column(recency, field="recency")
    f = _column(frequency, field="frequency", n=len(r))
    m = _column(monetary, field="monetary", n=len(r))
    return RFMScores(recency=_quintiles(-r, bins), frequency=_quintiles(f, bins),
                     monetary=_quintiles(m, bins))


def rfm_segments(
    scores: RFMScores,
    *,
    split: Split | float = Split.mean(),  # noqa: B008 - a frozen value object
    value: ArrayLike | None = None,
) -> Segmentation[RFMSegment]:
    """The eight RFM classes (RFM 模型八类客户): R, F and M scores each high or low.

    ``split`` cuts each score column (default: above its mean is high); ``value`` (e.g. total
    spend) feeds the value shares.
    """
    s = _as_split(split, field="split")
    high_r, cut_r = s.high(scores.recency)
    high_f, cut_f = s.high(scores.frequency)
    high_m, cut_m = s.high(scores.monetary)
    # index = 4 * (1 - M) + 2 * (1 - R) + (1 - F) in the order of the classes below
    cell = 4 * (~high_m) + 2 * (~high_r) + (~high_f)
    classes = (RFMSegment.IMPORTANT_VALUE, RFMSegment.IMPORTANT_DEVELOPMENT,
               RFMSegment.IMPORTANT_MAINTENANCE, RFMSegment.IMPORTANT_RETENTION,
               RFMSegment.GENERAL_VALUE, RFMSegment.GENERAL_DEVELOPMENT,
               RFMSegment.GENERAL_MAINTENANCE, RFMSegment.GENERAL_RETENTION)
    if len(scores) == 0:
        raise EmptyDataError("the RFM scores are empty: there are no customers to segment",
                             field="scores")
    return Segmentation(
        scheme="rfm", classes=classes, codes=_codes(cell),
        value=None if value is None else _readonly(
            _column(value, field="value", n=len(scores))),
        cut_offs={"recency": cut_r, "frequency": cut_f, "monetary": cut_m},
    )
