"""Weights for the loyalty index from the satisfaction package (AHP and entropy).

The AHP weights themselves are checked against ahpy in the satisfaction tests; here the loyalty
index is checked to use them as the weights they are, by label or by position, and the AHP
example matrix is cross-checked against ahpy once more so that the numbers in the loyalty docs
rest on an independent reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from crmcore.loyalty import loyalty_breakdown, loyalty_index
from crmcore.satisfaction import ahp, entropy_weights

NAMES = ("repeat_purchases", "category_share", "price_sensitivity")
# repeat purchases 3x as important as category share and 5x price sensitivity; category share
# 2x price sensitivity (a consistent-enough 3x3 judgement matrix, CR < 0.1).
MATRIX: list[list[float]] = [[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]]
VALUES = {"repeat_purchases": [0.2, 0.9, 0.5], "category_share": [0.4, 0.8, 0.1],
          "price_sensitivity": [0.9, 0.1, 0.5]}


def test_ahp_weights_by_label() -> None:
    result = ahp(MATRIX, labels=NAMES)
    w = dict(zip(NAMES, result.weights, strict=True))
    expected = 100 * np.array([
        w["repeat_purchases"] * r + w["category_share"] * c + w["price_sensitivity"] * (1 - p)
        for r, c, p in zip(*(VALUES[n] for n in NAMES), strict=True)
    ])
    # Labels make the order of the indicators irrelevant.
    shuffled = {n: VALUES[n] for n in reversed(NAMES)}
    np.testing.assert_allclose(loyalty_index(shuffled, result), expected)
    breakdown = loyalty_breakdown(VALUES, result)
    assert breakdown.weights == pytest.approx(w)


def test_ahp_weights_match_ahpy() -> None:
    ahpy = pytest.importorskip("ahpy")
    comparisons = {("repeat_purchases", "category_share"): 3,
                   ("repeat_purchases", "price_sensitivity"): 5,
                   ("category_share", "price_sensitivity"): 2}
    reference = ahpy.Compare("loyalty", comparisons, precision=10).target_weights
    ours = ahp(MATRIX, labels=NAMES).weights_by_label()
    for name in NAMES:
        assert ours[name] == pytest.approx(reference[name], abs=1e-6)


def test_unlabelled_ahp_weights_follow_the_order_of_the_indicators() -> None:
    result = ahp(MATRIX)  # labels "0", "1", "2": not indicator names
    by_position = loyalty_index(VALUES, result)
    by_label = loyalty_index(VALUES, ahp(MATRIX, labels=NAMES))
    np.testing.assert_allclose(by_position, by_label)


def test_entropy_weights_on_the_indicator_matrix() -> None:
    matrix = np.column_stack([VALUES[n] for n in NAMES])
    # price_sensitivity counts against loyalty: a cost column for the entropy method.
    result = entropy_weights(matrix, cost=[2])
    index = loyalty_index(VALUES, result)
    w = result.weights / result.weights.sum()
    expected = 100 * (w[0] * matrix[:, 0] + w[1] * matrix[:, 1] + w[2] * (1 - matrix[:, 2]))
    np.testing.assert_allclose(index, expected)


def test_a_model_with_ahp_weights_scores_saves_and_loads() -> None:
    import crmcore
    from crmcore.loyalty import WeightedLoyaltyIndex

    judgements = ahp(MATRIX, labels=NAMES)
    model = WeightedLoyaltyIndex(weights=judgements)
    again = WeightedLoyaltyIndex.from_json(model.to_json())
    np.testing.assert_allclose(again.index(VALUES), model.index(VALUES))
    base = crmcore.CustomerBase.from_summary(["a"], [1], [2.0], [4.0])
    with pytest.raises(crmcore.SerializationError, match=r"only weights that name"):
        WeightedLoyaltyIndex(weights=ahp(MATRIX)).to_json()
    with pytest.raises(crmcore.InvalidValueError, match=r"must name them"):
        WeightedLoyaltyIndex(weights=ahp(MATRIX)).score(base)
