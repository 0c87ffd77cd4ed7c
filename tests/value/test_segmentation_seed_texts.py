"""The bank's classes by wealth (seed 004), the loyalty ladder with lapse, segment strategies."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crmcore
from crmcore.value import (
    BANK_SEED_SHARES,
    BANK_WEALTH_THRESHOLDS,
    BankClass,
    LoyaltyLadder,
    PyramidTier,
    bank_classes,
    bank_classes_by_wealth,
    loyalty_ladder,
    pyramid,
)


def test_bank_classes_by_wealth_as_the_seed_writes_them() -> None:
    # A: over 10亿; B: over 100万 (the seed's garbled "10。万元"); C: over 2万; D: 2万 and below
    assert BANK_WEALTH_THRESHOLDS == {BankClass.TOP: 1e9, BankClass.LARGE: 1e6,
                                      BankClass.MEDIUM: 2e4}
    wealth = [1e9 + 1, 1e9, 1e6 + 1, 1e6, 20_001, 20_000, 0.0, math.nan]
    seg = bank_classes_by_wealth(wealth, inactive=[False] * 7 + [True])
    assert [c.value for c in seg.labels()] == ["A", "B", "B", "C", "C", "D", "D", "inactive"]
    assert seg.scheme == "bank-wealth"
    assert seg.cut_offs == {"A": 1e9, "B": 1e6, "C": 2e4}
    # A base built to the seed's shares reproduces them; the shares are data to compare with.
    rng = np.random.default_rng(4)
    held = np.concatenate([rng.uniform(1.1e9, 2e9, 5), rng.uniform(1.1e6, 9e8, 15),
                           rng.uniform(2.1e4, 9e5, 60), rng.uniform(0, 2e4, 20)])
    shares = bank_classes_by_wealth(held).customer_shares()
    for cls, share in BANK_SEED_SHARES.items():
        assert shares[cls] == pytest.approx(share)
    own = bank_classes_by_wealth([150_000.0], thresholds={BankClass.TOP: 1e6,
                                                          BankClass.LARGE: 1e5,
                                                          BankClass.MEDIUM: 2e4})
    assert own[0] is BankClass.LARGE
    with pytest.raises(crmcore.InvalidValueError, match="strictly decrease"):
        bank_classes_by_wealth([1.0], thresholds={BankClass.TOP: 1, BankClass.LARGE: 2,
                                                  BankClass.MEDIUM: 0})
    with pytest.raises(crmcore.InvalidValueError, match="wealth is negative"):
        bank_classes_by_wealth([-1.0])
    with pytest.raises(crmcore.EmptyDataError):
        bank_classes_by_wealth([])


def test_quantile_grid_does_not_fix_the_seed_shares() -> None:
    # The docstring's correction: quantile splits fix the margins only. Same margins (20% high
    # value, 65% high loyalty), different joint shares depending on how the two go together.
    value = np.arange(100.0)
    together = bank_classes(value, value, value_split=crmcore.value.Split.quantile(0.8),
                            loyalty_split=crmcore.value.Split.quantile(0.35))
    opposed = bank_classes(value, -value, value_split=crmcore.value.Split.quantile(0.8),
                           loyalty_split=crmcore.value.Split.quantile(0.35))
    assert together.customer_shares()[BankClass.TOP] == pytest.approx(0.20)
    assert opposed.customer_shares()[BankClass.TOP] == pytest.approx(0.0)
    assert "no choice of :class:`Split` guarantees" in (bank_classes.__doc__ or "")


def test_ladder_accounts_for_lapse() -> None:
    tenure = [0.0, 3.0, 10.0, 100.0, 100.0, 100.0]
    purchases = [0, 1, 4, 3, 20, 20]
    silence = [0.0, 1.0, 2.0, 1.0, 1.0, 30.0]  # the last stopped buying 30 weeks ago
    plain = loyalty_ladder(tenure, purchases, established_after=52.0, loyal_purchases=10)
    assert plain[5] is LoyaltyLadder.LOYAL
    seg = loyalty_ladder(tenure, purchases, established_after=52.0, loyal_purchases=10,
                         silence=silence, lapsed_after=26.0)
    assert seg.labels().tolist() == [
        LoyaltyLadder.PROSPECT, LoyaltyLadder.NEW, LoyaltyLadder.REGULAR,
        LoyaltyLadder.ESTABLISHED, LoyaltyLadder.LOYAL, LoyaltyLadder.LAPSED]
    assert seg.cut_offs["silence"] == 26.0
    assert LoyaltyLadder.LAPSED.chinese == "流失客户"
    assert "crmcore's reading" in LoyaltyLadder.LAPSED.strategy
    with pytest.raises(crmcore.InvalidValueError, match="together"):
        loyalty_ladder(tenure, purchases, established_after=52.0, loyal_purchases=10,
                       silence=silence)
    with pytest.raises(crmcore.InvalidValueError, match="silence is negative"):
        loyalty_ladder([1.0], [2], established_after=1.0, loyal_purchases=2, silence=[-1.0],
                       lapsed_after=1.0)


def test_segment_results_list_strategies() -> None:
    seg = pyramid([1.0, 10.0], [1.0, 10.0])
    strategies = seg.strategies()
    assert strategies[PyramidTier.LEAD][0].chinese == "铅质客户"
    assert not strategies[PyramidTier.LEAD][0].crmcore_reading  # the seed's own advice
    bank = bank_classes_by_wealth([2e9, 10.0])
    top = bank.strategies()[BankClass.TOP]
    assert top[0].crmcore_reading  # the seed gives A no advice: marked as crmcore's reading
    assert "建立客户组织,稳定客户队伍" in [s.chinese for s in top]
    assert BankClass.LARGE.chinese == BankClass.LARGE.term
    ladder = loyalty_ladder([1.0], [1], established_after=5.0, loyal_purchases=3)
    new = ladder.strategies()[LoyaltyLadder.NEW]
    assert {"注意质量", "优质服务"} <= {s.chinese for s in new}
