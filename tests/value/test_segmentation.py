"""Segmentation matrices of seeds 001, 003 and 004 on cases whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import crmcore
from crmcore.value import (
    FAMILY_CARD_THRESHOLDS,
    BankClass,
    CardTier,
    ImportanceTier,
    InvestmentQuadrant,
    LoyaltyLadder,
    PortfolioQuadrant,
    PyramidTier,
    RFMSegment,
    Segment,
    Split,
    bank_classes,
    card_tier,
    importance,
    investment_quadrant,
    loyalty_ladder,
    portfolio,
    pyramid,
    rfm_scores,
    rfm_segments,
    threshold_tiers,
)

P = PortfolioQuadrant

# -- the classes carry the seeds' terms and advice --------------------------------------------


@pytest.mark.parametrize(
    "enum_class",
    [PortfolioQuadrant, PyramidTier, InvestmentQuadrant, ImportanceTier, LoyaltyLadder,
     BankClass, CardTier, RFMSegment],
)
def test_every_member_has_term_strategy_and_description(enum_class: type[Segment]) -> None:
    for member in enum_class:
        assert member.term
        assert member.description
        # the strategy names the Chinese term it translates
        assert any("\u4e00" <= ch <= "\u9fff" for ch in member.strategy)


def test_seed_terms() -> None:
    # seed 003, knowledge point 5: 培育 / 投资 / 维持 / 放弃
    assert [q.term for q in PortfolioQuadrant] == ["培育", "投资", "维持", "放弃"]
    # seed 001: the four pyramid tiers and the lead tier's advice
    assert PyramidTier.LEAD.term == "铅质客户"
    assert "果断舍弃" in PyramidTier.LEAD.strategy
    assert "不遗余力增长客户关系" in PyramidTier.PLATINUM.strategy
    # seed 003 knowledge point 4 (and its exercise 4: high investment, low profit = expected)
    assert "投资大" in InvestmentQuadrant.EXPECTED.strategy
    assert BankClass.TOP.term.startswith("A类")


# -- splits -----------------------------------------------------------------------------------


def test_split_rules() -> None:
    values = np.array([1.0, 2.0, 2.0, 3.0])
    high, cut = Split.median().high(values)
    assert cut == 2.0
    assert high.tolist() == [False, False, False, True]  # ties at the median go low
    high, cut = Split.threshold(2.0).high(values)
    assert high.tolist() == [False, True, True, True]  # a threshold is reached with >=
    high, cut = Split.mean().high(values)
    assert cut == 2.0
    high, cut = Split.quantile(0.25).high(values)
    assert cut == pytest.approx(1.75)
    assert high.tolist() == [False, True, True, True]


@pytest.mark.parametrize(
    ("make", "message"),
    [(lambda: Split.quantile(1.0), "0 < q < 1"),
     (lambda: Split.quantile(0.0), "0 < q < 1"),
     (lambda: Split.threshold(math.nan), "finite number"),
     (lambda: Split("median", 3.0), "takes no value")],
)
def test_split_bad_arguments(make: object, message: str) -> None:
    with pytest.raises(crmcore.InvalidValueError, match=message):
        make()  # type: ignore[operator]


# -- two-by-two matrices ----------------------------------------------------------------------


def test_portfolio_known_quadrants() -> None:
    historical = [1.0, 9.0, 9.0, 1.0]
    potential = [9.0, 9.0, 1.0, 1.0]
    seg = portfolio(historical, potential)
    assert seg.labels().tolist() == [P.CULTIVATE, P.INVEST, P.MAINTAIN, P.ABANDON]
    assert seg.cut_offs == {"historical_value": 5.0, "potential_value": 5.0}
    assert seg.counts() == {P.ABANDON: 1, P.CULTIVATE: 1, P.MAINTAIN: 1, P.INVEST: 1}
    # value shares default to historical value: 20 in all, INVEST and MAINTAIN hold 9 each
    shares = seg.value_shares()
    assert shares is not None
    assert shares[P.INVEST] == pytest.approx(0.45)
    assert shares[P.CULTIVATE] == pytest.approx(0.05)
    assert seg[1] is P.INVEST
    assert len(seg) == 4


def test_portfolio_thresholds_and_own_splits() -> None:
    seg = portfolio([0.0, 10.0, 100.0], [5.0, 5.0, 0.0], historical_split=10.0,
                    potential_split=Split.threshold(5.0))
    assert seg.labels().tolist() == [P.CULTIVATE, P.INVEST, P.MAINTAIN]
    # a threshold of zero is a threshold, not "no split given"
    seg = portfolio([0.0, -1.0], [0.0, 0.0], split=Split.threshold(0.0))
    assert seg.labels().tolist() == [P.INVEST, P.CULTIVATE]


def test_all_equal_values_are_all_low() -> None:
    seg = portfolio([3.0] * 5, [2.0] * 5)
    assert seg.counts()[P.ABANDON] == 5
    shares = seg.value_shares()
    assert shares is not None
    assert shares[P.ABANDON] == 1.0


def test_one_customer() -> None:
    seg = pyramid([10.0], [4.0])
    assert seg.labels().tolist() == [PyramidTier.LEAD]  # nothing lies above its own median
    assert seg.pareto_share() == 1.0
    seg = pyramid([10.0], [4.0], split=Split.threshold(1.0))
    assert seg[0] is PyramidTier.PLATINUM


def test_pyramid_and_investment_corners() -> None:
    cur = [0.0, 0.0, 10.0, 10.0]
    growth = [0.0, 10.0, 0.0, 10.0]
    assert pyramid(cur, growth).labels().tolist() == [
        PyramidTier.LEAD, PyramidTier.IRON, PyramidTier.GOLD, PyramidTier.PLATINUM]
    investment, profit = cur, growth
    seg = investment_quadrant(investment, profit)
    assert seg.labels().tolist() == [
        InvestmentQuadrant.ORDINARY, InvestmentQuadrant.LOYAL, InvestmentQuadrant.EXPECTED,
        InvestmentQuadrant.REPEAT]
    shares = seg.value_shares()  # shares of profit
    assert shares is not None
    assert shares[InvestmentQuadrant.LOYAL] == 0.5


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: portfolio([], []), crmcore.EmptyDataError, "historical_value is empty"),
        (lambda: portfolio([1.0, 2.0], [1.0]), crmcore.InvalidValueError,
         "potential_value has 1 values, expected 2"),
        (lambda: portfolio([1.0, math.nan], [1.0, 2.0]), crmcore.InvalidValueError,
         "historical_value is NaN or infinite at row 1"),
        (lambda: pyramid([1.0], [math.inf]), crmcore.InvalidValueError,
         "growth_potential is NaN or infinite at row 0"),
        (lambda: portfolio([[1.0]], [[1.0]]), crmcore.InvalidValueError, "one-dimensional"),
        (lambda: portfolio(["a"], [1.0]), crmcore.InvalidValueError, "must be numeric"),
        (lambda: portfolio([1.0], [1.0], historical_split="median"),  # type: ignore[arg-type]
         crmcore.InvalidValueError, "historical_value_split must be a Split"),
        (lambda: importance([]), crmcore.EmptyDataError, "value is empty"),
        (lambda: portfolio([1.0], [1.0], value=[1.0, 2.0]), crmcore.InvalidValueError,
         "value has 2 values"),
    ],
)
def test_bad_input(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        portfolio([], [])


# -- tiers ------------------------------------------------------------------------------------


def test_importance_top_fifth() -> None:
    value = np.arange(1.0, 101.0)  # 1..100
    seg = importance(value)
    counts = seg.counts()
    assert counts == {ImportanceTier.VIP: 5, ImportanceTier.KEY: 15, ImportanceTier.ORDINARY: 80}
    assert seg.labels()[-1] is ImportanceTier.VIP
    # top fifth holds (81 + ... + 100) / 5050 of the value
    assert seg.pareto_share() == pytest.approx(sum(range(81, 101)) / 5050)
    assert importance([7.0] * 10).counts()[ImportanceTier.ORDINARY] == 10


def test_importance_thresholds() -> None:
    seg = importance([50.0, 100.0, 1000.0], vip=1000.0, key=100.0)
    assert seg.labels().tolist() == [ImportanceTier.ORDINARY, ImportanceTier.KEY,
                                     ImportanceTier.VIP]


def test_card_tiers_from_seed_004() -> None:
    assets = [0.0, 99_999.99, 100_000.0, 299_999.0, 300_000.0, 999_999.0, 1_000_000.0, 5e6]
    seg = card_tier(assets)
    assert seg.labels().tolist() == [
        CardTier.SILVER, CardTier.SILVER, CardTier.GOLD, CardTier.GOLD, CardTier.PLATINUM,
        CardTier.PLATINUM, CardTier.BLACK_GOLD, CardTier.BLACK_GOLD]
    family = card_tier([80_000.0, 250_000.0, 800_000.0, 79_999.0], family=True)
    assert family.labels().tolist() == [CardTier.GOLD, CardTier.PLATINUM, CardTier.BLACK_GOLD,
                                        CardTier.SILVER]
    assert FAMILY_CARD_THRESHOLDS[CardTier.BLACK_GOLD] == 800_000.0
    with pytest.raises(crmcore.InvalidValueError, match=r"row 1 .*below the lowest tier"):
        card_tier([10.0, -1.0])


def test_threshold_tiers_generic() -> None:
    seg = threshold_tiers([5.0, -3.0, 12.0], [("high", 10.0), ("mid", 0.0), ("low", -math.inf)])
    assert seg.labels().tolist() == ["mid", "low", "high"]
    assert seg.counts() == {"high": 1, "mid": 1, "low": 1}
    with pytest.raises(crmcore.InvalidValueError, match="strictly decrease"):
        threshold_tiers([1.0], {"a": 1.0, "b": 1.0})
    with pytest.raises(crmcore.InvalidValueError, match="thresholds is empty"):
        threshold_tiers([1.0], {})


def test_loyalty_ladder_rules() -> None:
    tenure = [0.0, 3.0, 10.0, 100.0, 100.0, 52.0]
    purchases = [0, 1, 4, 3, 20, 10]
    seg = loyalty_ladder(tenure, purchases, established_after=52.0, loyal_purchases=10)
    assert seg.labels().tolist() == [
        LoyaltyLadder.PROSPECT, LoyaltyLadder.NEW, LoyaltyLadder.REGULAR,
        LoyaltyLadder.ESTABLISHED, LoyaltyLadder.LOYAL, LoyaltyLadder.LOYAL]
    assert seg.value is None
    assert seg.value_shares() is None
    assert seg.pareto_share() is None
    with pytest.raises(crmcore.InvalidValueError, match="purchases must be whole"):
        loyalty_ladder([1.0], [1.5], established_after=1.0, loyal_purchases=2)
    with pytest.raises(crmcore.InvalidValueError, match="tenure is negative at row 0"):
        loyalty_ladder([-1.0], [1], established_after=1.0, loyal_purchases=2)


def test_bank_seven_classes() -> None:
    value = [10.0, 10.0, 1.0, 1.0, math.nan, 5.0, math.nan]
    loyalty = [9.0, 1.0, 9.0, 1.0, math.nan, 5.0, math.nan]
    inactive = np.array([False, False, False, False, True, False, False])
    lapsed = np.array([False, False, False, False, False, True, False])
    suspect = np.array([False, False, False, False, False, True, True])
    seg = bank_classes(value, loyalty, inactive=inactive, lapsed=lapsed, suspect=suspect,
                       value_split=5.0, loyalty_split=5.0)
    assert seg.labels().tolist() == [
        BankClass.TOP, BankClass.LARGE, BankClass.MEDIUM, BankClass.SMALL, BankClass.INACTIVE,
        BankClass.SUSPECT, BankClass.SUSPECT]  # suspect wins over lapsed
    assert len(seg.classes) == 7
    with pytest.raises(crmcore.InvalidValueError, match="value is NaN or infinite at row 0"):
        bank_classes([math.nan], [1.0])
    with pytest.raises(crmcore.InvalidValueError, match="inactive must be a boolean mask"):
        bank_classes([1.0], [1.0], inactive=[1])


def test_bank_cut_offs_over_grid_customers_only() -> None:
    # the flagged customer's huge value must not move the median of the others
    seg = bank_classes([1.0, 2.0, 3.0, 1e9], [1.0, 2.0, 3.0, 1.0],
                       inactive=np.array([False, False, False, True]))
    assert seg.cut_offs["value"] == 2.0


def test_bank_seed_shares_with_quantile_split() -> None:
    # seed 004: A 5%, B 15%, C 60%, D 20% is a value split at the 80th percentile and a
    # loyalty split that differs within each value group; here checked on its value side only.
    value = np.arange(100.0)
    loyalty = np.where(value % 4 == 0, 1.0, 0.0)
    seg = bank_classes(value, loyalty, value_split=Split.quantile(0.8),
                       loyalty_split=Split.threshold(1.0))
    counts = seg.counts()
    assert counts[BankClass.TOP] + counts[BankClass.LARGE] == 20
    assert counts[BankClass.TOP] == 5


# -- RFM --------------------------------------------------------------------------------------


def _reference_quintiles(values: list[float], bins: int = 5) -> list[int]:
    """Plain-Python mid-rank quintiles, written independently of the library."""
    n = len(values)
    scores = []
    for v in values:
        below = sum(1 for w in values if w < v)
        tied = sum(1 for w in values if w == v)
        average_rank = below + (tied + 1) / 2
        scores.append(max(1, min(bins, math.ceil((average_rank - 0.5) / n * bins))))
    return scores


def test_rfm_known_scores() -> None:
    scores = rfm_scores([1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 3, 4, 5], [5.0, 4.0, 3.0, 2.0, 1.0])
    assert scores.recency.tolist() == [5, 4, 3, 2, 1]  # most recent scores best
    assert scores.frequency.tolist() == [1, 2, 3, 4, 5]
    assert scores.cells().tolist() == [515, 424, 333, 242, 151]
    ten = rfm_scores(np.arange(10.0), np.arange(10.0), np.arange(10.0))
    assert ten.frequency.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    same = rfm_scores([2.0] * 4, [1.0] * 4, [3.0] * 4)
    assert same.cells().tolist() == [333] * 4
    assert rfm_scores([1.0], [1.0], [1.0]).cells().tolist() == [333]


@given(st.lists(st.integers(0, 6), min_size=1, max_size=40))
def test_rfm_scores_match_reference_with_ties(values: list[int]) -> None:
    floats = [float(v) for v in values]
    scores = rfm_scores(floats, floats, floats)
    assert scores.frequency.tolist() == _reference_quintiles(floats)
    assert scores.recency.tolist() == _reference_quintiles([-v for v in floats])


def test_rfm_segments() -> None:
    scores = rfm_scores([1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 3, 4, 5], [5.0, 4.0, 3.0, 2.0, 1.0])
    seg = rfm_segments(scores, value=[50.0, 40.0, 30.0, 20.0, 10.0])
    assert seg.labels().tolist() == [
        RFMSegment.IMPORTANT_DEVELOPMENT, RFMSegment.IMPORTANT_DEVELOPMENT,
        RFMSegment.GENERAL_RETENTION, RFMSegment.GENERAL_MAINTENANCE,
        RFMSegment.GENERAL_MAINTENANCE]
    best = rfm_segments(rfm_scores([0.0, 9.0], [9, 0], [9.0, 0.0]))
    assert best.labels().tolist() == [RFMSegment.IMPORTANT_VALUE, RFMSegment.GENERAL_RETENTION]
    with pytest.raises(crmcore.InvalidValueError, match="bins must be"):
        rfm_scores([1.0], [1.0], [1.0], bins=1)
    with pytest.raises(crmcore.EmptyDataError, match="recency is empty"):
        rfm_scores([], [], [])


# -- results ----------------------------------------------------------------------------------


def test_pareto_and_non_positive_totals() -> None:
    seg = portfolio([0.0, 0.0], [1.0, 2.0])
    assert seg.value_shares() is None
    assert seg.pareto_share() is None
    seg = portfolio([1.0, 2.0, 3.0, 4.0, 90.0], [0.0] * 5)
    assert seg.pareto_share() == 0.9
    assert seg.pareto_share(top=0.4) == pytest.approx(0.94)
    with pytest.raises(crmcore.InvalidValueError, match="top must lie"):
        seg.pareto_share(top=0.0)


def test_summary_and_frames() -> None:
    seg = portfolio([1.0, 9.0, 9.0, 1.0], [9.0, 9.0, 1.0, 1.0])
    rows = seg.summary()
    assert [r.segment for r in rows] == list(seg.classes)
    assert sum(r.count for r in rows) == 4
    frame = seg.summary_frame()
    assert list(frame["segment"]) == ["ABANDON", "CULTIVATE", "MAINTAIN", "INVEST"]
    assert frame["value_share"].sum() == pytest.approx(1.0)
    polars_frame = seg.summary_frame("polars")
    assert polars_frame.shape == (4, 5)
    assert seg.mask(P.INVEST).tolist() == [False, True, False, False]
    with pytest.raises(crmcore.InvalidValueError, match="not a class of the portfolio"):
        seg.mask(PyramidTier.GOLD)  # type: ignore[arg-type]


def test_codes_are_read_only() -> None:
    seg = portfolio([1.0, 2.0], [2.0, 1.0])
    with pytest.raises(ValueError, match="read-only"):
        seg.codes[0] = 3


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(arrays(np.float64, st.integers(1, 60), elements=finite),
       arrays(np.float64, st.integers(1, 60), elements=finite))
def test_portfolio_properties(a: np.typing.NDArray[np.float64],
                              b: np.typing.NDArray[np.float64]) -> None:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    seg = portfolio(a, b, value=np.abs(a))
    assert sum(seg.counts().values()) == n
    assert math.isclose(sum(seg.customer_shares().values()), 1.0)
    shares = seg.value_shares()
    if shares is not None:
        assert math.isclose(sum(shares.values()), 1.0)
    labels = seg.labels()
    high_a = a > np.median(a)
    high_b = b > np.median(b)
    assert all(lab in (P.INVEST, P.MAINTAIN) for lab in labels[high_a])
    assert all(lab in (P.INVEST, P.CULTIVATE) for lab in labels[high_b])
    pareto = seg.pareto_share()
    if pareto is not None:
        # the top fifth holds at least a fifth of the value
        assert pareto >= math.ceil(0.2 * n - 1e-9) / n - 1e-9


@given(arrays(np.float64, st.integers(1, 50), elements=st.floats(0, 1e7)))
def test_card_tiers_monotone(assets: np.typing.NDArray[np.float64]) -> None:
    seg = card_tier(assets)
    rank = {CardTier.SILVER: 0, CardTier.GOLD: 1, CardTier.PLATINUM: 2, CardTier.BLACK_GOLD: 3}
    order = np.argsort(assets, kind="stable")
    ranks = [rank[lab] for lab in seg.labels()[order]]
    assert ranks == sorted(ranks)


def test_extreme_values() -> None:
    seg = portfolio([-1e300, 1e300, 0.0], [1e300, -1e300, 0.0])
    assert seg.labels().tolist() == [P.CULTIVATE, P.MAINTAIN, P.ABANDON]
    tiers = importance([0.0] * 99 + [1e12])
    assert tiers.counts()[ImportanceTier.VIP] == 1
    assert tiers.pareto_share() == 1.0


@pytest.mark.parametrize(
    "call",
    [lambda: loyalty_ladder([], [], established_after=1.0, loyal_purchases=2),
     lambda: bank_classes([], []),
     lambda: card_tier([]),
     lambda: pyramid([], []),
     lambda: investment_quadrant([], [])],
)
def test_every_scheme_refuses_empty_input(call: object) -> None:
    with pytest.raises(crmcore.EmptyDataError, match="empty: there are no customers"):
        call()  # type: ignore[operator]
