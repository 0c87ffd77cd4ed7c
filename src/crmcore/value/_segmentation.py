"""The segmentation schemes of the course texts: customers sorted into classes.

Every scheme takes plain numpy-compatible columns (one value per customer), is vectorised
(a million customers take a few tens of milliseconds) and returns a
:class:`~crmcore.value.Segmentation`: each customer's class plus counts, each class's share
of customers and of value, and the Pareto view (the share of value held by the top fifth of
customers).

The classes, with their names and advice, are in :mod:`crmcore.value._segments`; how a
column is cut (:class:`~crmcore.value.Split`), the results and the input checks in
:mod:`crmcore.value._segment_results`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._checks import as_column
from crmcore._errors import EmptyDataError, InvalidValueError, describe_rows
from crmcore.value._segment_results import (
    RFMScores,
    Segmentation,
    Split,
    _as_split,
    _codes,
    _column,
    _mask,
    _readonly,
    _value_column,
)
from crmcore.value._segments import (
    BankClass,
    CardTier,
    ImportanceTier,
    InvestmentQuadrant,
    LoyaltyLadder,
    PortfolioQuadrant,
    PyramidTier,
    RFMSegment,
)

__all__ = [
    "BANK_SEED_SHARES",
    "BANK_WEALTH_THRESHOLDS",
    "FAMILY_CARD_THRESHOLDS",
    "PERSONAL_CARD_THRESHOLDS",
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
    """Customer portfolio analysis (客户组合分析法).

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
    """The customer pyramid (客户金字塔; Zeithaml, Rust & Lemon 2001).

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
    """Customer investment and profit analysis (客户投资与利润分析).

    Low investment and high profit -> LOYAL; high investment and low profit -> EXPECTED (both
    from the course texts); high and high -> REPEAT; low and low -> ORDINARY (crmcore's placement
    of the two classes the course texts name without placing). The value shares are of ``profit``
    unless ``value`` is given.
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
    """Importance tiers by value (按客户的重要性分类): VIP, KEY, ORDINARY.

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
    """The loyalty ladder (按客户忠诚度划分) by tenure and repeat buying.

    Rules, in order: no purchase -> PROSPECT; with ``silence`` and ``lapsed_after`` given, a
    customer silent for at least ``lapsed_after`` -> LAPSED (a customer who stopped buying
    months ago is not established or loyal, however long and busy the past relationship was;
    crmcore's reading, the course texts' ladder has no such rung); one purchase -> NEW; repeat
    buyers whose tenure is below ``established_after`` -> REGULAR; longer relationships -> LOYAL
    when ``purchases`` reaches ``loyal_purchases``, else ESTABLISHED.

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
    """The bank's seven classes read as a value x loyalty grid plus three flags.

    Flagged customers are classed by their flag, in the order SUSPECT, LAPSED, INACTIVE (a
    customer with two flags takes the first); their ``value`` and ``loyalty`` may be NaN. The
    rest fall into the grid: high loyalty and high value -> TOP (A); low loyalty, high value ->
    LARGE (B); high loyalty, low value -> MEDIUM (C); low and low -> SMALL (D). Median, mean and
    quantile cut-offs are taken over the grid customers only.

    This grid is crmcore's reading of the course texts' labels (高/低忠诚度, 高/低价值). The course
    texts themselves define A to D by wealth held (全面理财总值) against fixed thresholds, which
    :func:`bank_classes_by_wealth` implements as written. Its shares (5%, 15%, 60%, 20% of
    customers) are the bank's outcome, not a rule: quantile splits fix only the margins (the
    share of high-value and of high-loyalty customers), and how those combine into A to D
    depends on how value and loyalty go together, so no choice of :class:`Split` guarantees
    the course texts' four shares.

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
"""The course texts' classes by wealth held (全面理财总值), as they write them: A
exceeds 10亿元 (1,000,000,000), B exceeds "10。万元", C exceeds 2万元 (20,000), D is 2万元 and
below. The course texts' B figure is garbled: a full stop stands where a digit should; crmcore reads
it as 100万元 (1,000,000), the one-character slip of "100万元". Pass other thresholds where the
bank's own figures differ."""

BANK_SEED_SHARES: Mapping[BankClass, float] = {
    BankClass.TOP: 0.05, BankClass.LARGE: 0.15, BankClass.MEDIUM: 0.60, BankClass.SMALL: 0.20,
}
"""The shares of customers the course texts report in classes A to D (5%, 15%, 60%, 20%): the bank's
outcome, to compare a base's :meth:`Segmentation.customer_shares` with."""


def bank_classes_by_wealth(
    wealth: ArrayLike,
    *,
    inactive: ArrayLike | None = None,
    lapsed: ArrayLike | None = None,
    suspect: ArrayLike | None = None,
    thresholds: Mapping[BankClass, float] = BANK_WEALTH_THRESHOLDS,
) -> Segmentation[BankClass]:
    """The bank's seven classes as the course texts define them: A to D by wealth held.

    A customer whose wealth held (全面理财总值) exceeds (超过) the TOP threshold is class A,
    else above the LARGE threshold class B, else above the MEDIUM threshold class C, else
    (at or below it, 以下) class D. Flags come first, as in :func:`bank_classes`: SUSPECT,
    LAPSED, INACTIVE (:func:`crmcore.lifecycle.inactive_customers` derives the course texts' "unused
    for two years or more" from purchase history); flagged customers' wealth may be NaN.

    Parameters
    ----------
    wealth:
        Wealth held with the bank per customer (>= 0).
    inactive, lapsed, suspect:
        Boolean masks, as for :func:`bank_classes`.
    thresholds:
        Minimums (exclusive) for TOP, LARGE and MEDIUM; default
        :data:`BANK_WEALTH_THRESHOLDS`, the course texts' figures.

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
"""The course texts' personal card tiers: minimum assets per tier."""

FAMILY_CARD_THRESHOLDS: Mapping[CardTier, float] = {
    CardTier.BLACK_GOLD: 800_000.0, CardTier.PLATINUM: 250_000.0, CardTier.GOLD: 80_000.0,
    CardTier.SILVER: 0.0,
}
"""The course texts' family card tiers: minimum average assets of the family members per tier."""


def card_tier(assets: ArrayLike, *, family: bool = False) -> Segmentation[CardTier]:
    """The course texts' card tiers (分级卡): black-gold >= 1,000,000, platinum >= 300,000, gold >=
    100,000, silver otherwise (family cards: 800,000 / 250,000 / 80,000 on the members'
    average assets). Assets must be >= 0."""
    table = FAMILY_CARD_THRESHOLDS if family else PERSONAL_CARD_THRESHOLDS
    return threshold_tiers(assets, table, scheme="family-card" if family else "card")


# -- RFM --------------------------------------------------------------------------------------


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
