"""The loyalty index over seed 001's eight indicators.

No published numeric reference exists for a loyalty index built from these indicators, so the
numbers are checked against cases computed by hand (the arithmetic is in each test), and the
invariants (bounds, monotonicity, weight-scale invariance, re-weighting of missing indicators)
are checked as hypothesis properties.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import crmcore
from crmcore.loyalty import (
    INDICATOR_NAMES,
    INDICATORS,
    IndicatorScaleError,
    UnknownIndicatorError,
    indicator,
    loyalty_breakdown,
    loyalty_index,
)

AGAINST = {"price_sensitivity", "choice_time"}


def test_the_eight_indicators_and_their_directions() -> None:
    # Seed 001: eight indicators; price sensitivity and choice time count against loyalty.
    # Seed 004 adds word of mouth (口碑) as a measure of loyalty.
    assert INDICATOR_NAMES == (
        "repeat_purchases", "category_share", "brand_attention", "choice_time",
        "price_sensitivity", "competitor_attitude", "incident_tolerance",
        "product_identification", "referrals",  # then referrals (口碑, seed 004)
    )
    assert {s.name for s in INDICATORS if not s.favours_loyalty} == AGAINST
    assert indicator("choice_time").seed_term == "客户购买时的挑选时间"
    assert all(s.scale == (0.0, 1.0) for s in INDICATORS)


def test_hand_computed_two_customers() -> None:
    # Weights 3:1:1 -> 0.6, 0.2, 0.2.
    # Customer 0: repeat 0.5, share 1.0, price sensitivity 0.25 (reversed: 0.75)
    #   100 * (0.6*0.5 + 0.2*1.0 + 0.2*0.75) = 100 * (0.30 + 0.20 + 0.15) = 65.
    # Customer 1: repeat 1.0, share 0.0, price sensitivity 1.0 (reversed: 0)
    #   100 * (0.6 + 0 + 0) = 60.
    result = loyalty_breakdown(
        {"repeat_purchases": [0.5, 1.0], "category_share": [1.0, 0.0],
         "price_sensitivity": [0.25, 1.0]},
        weights={"repeat_purchases": 3, "category_share": 1, "price_sensitivity": 1},
    )
    np.testing.assert_allclose(result.index, [65.0, 60.0])
    np.testing.assert_allclose(result.contribution("repeat_purchases"), [30.0, 60.0])
    np.testing.assert_allclose(result.contribution("category_share"), [20.0, 0.0])
    np.testing.assert_allclose(result.contribution("price_sensitivity"), [15.0, 0.0])
    np.testing.assert_allclose(result.coverage, [1.0, 1.0])
    assert result.weights == pytest.approx({"repeat_purchases": 0.6, "category_share": 0.2,
                                            "price_sensitivity": 0.2})


def test_missing_indicator_reweights_and_reports_coverage() -> None:
    # Equal weights over all eight (1/8 each). Customer 0 has brand_attention 0.8 and
    # choice_time 0.4 (reversed 0.6): index = 100 * (0.8 + 0.6) / 2 = 70, coverage 2/8.
    # Customer 1 lacks choice_time: index = 100 * 0.2 = 20 on brand_attention alone, 1/8.
    result = loyalty_breakdown({"brand_attention": [0.8, 0.2],
                                "choice_time": [0.4, np.nan]})
    np.testing.assert_allclose(result.index, [70.0, 20.0])
    np.testing.assert_allclose(result.coverage, [0.25, 0.125])
    np.testing.assert_allclose(result.contributions, [[40.0, 30.0], [20.0, 0.0]])
    assert math.isnan(result.scores[1, 1])


def test_declared_scales_min_max_normalise() -> None:
    # repeat count 6 on (0, 12) -> 0.5; a 1-7 answer of 7 for choice time -> 1, reversed 0.
    # Equal weights: 100 * (0.5 + 0) / 2 = 25.
    index = loyalty_index({"repeat_purchases": [6], "choice_time": [7]},
                          weights=[1, 1], scales={"repeat_purchases": (0, 12),
                                                  "choice_time": (1, 7)})
    np.testing.assert_allclose(index, [25.0])


def test_weights_from_an_object_with_a_weights_attribute() -> None:
    class Result:
        weights = np.array([0.75, 0.25])

    # 100 * (0.75 * 1.0 + 0.25 * 0.0) = 75.
    index = loyalty_index({"product_identification": [1.0], "incident_tolerance": [0.0]},
                          Result())
    np.testing.assert_allclose(index, [75.0])


def test_frames_work_as_input() -> None:
    pandas = pytest.importorskip("pandas")
    polars = pytest.importorskip("polars")
    data = {"repeat_purchases": [0.2, 0.9], "price_sensitivity": [0.5, 0.1]}
    expected = loyalty_index(data)
    np.testing.assert_allclose(loyalty_index(pandas.DataFrame(data)), expected)
    np.testing.assert_allclose(loyalty_index(polars.DataFrame(data)), expected)
    frame = loyalty_breakdown(data).to_frame("pandas")
    assert list(frame.columns) == ["loyalty_index", "coverage", "contribution_repeat_purchases",
                                   "contribution_price_sensitivity"]


# -- properties ---------------------------------------------------------------------------------

unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, float]]:
    names = draw(st.lists(st.sampled_from(INDICATOR_NAMES), min_size=1, max_size=8,
                          unique=True))
    n = draw(st.integers(1, 6))
    values = {name: np.array(draw(st.lists(unit, min_size=n, max_size=n))) for name in names}
    weights = {name: draw(st.floats(0.01, 10.0)) for name in names}
    return values, weights


@given(cases())
def test_index_is_bounded_and_contributions_add_up(
    case: tuple[dict[str, np.ndarray[Any, Any]], dict[str, float]],
) -> None:
    values, weights = case
    result = loyalty_breakdown(values, weights)
    assert np.all((result.index >= 0) & (result.index <= 100))
    np.testing.assert_allclose(result.contributions.sum(axis=1), result.index, atol=1e-9)
    np.testing.assert_allclose(sum(result.weights.values()), 1.0)


@given(cases(), st.floats(1e-3, 1e3))
def test_index_is_invariant_to_weight_scaling(
    case: tuple[dict[str, np.ndarray[Any, Any]], dict[str, float]], factor: float,
) -> None:
    values, weights = case
    scaled = {name: w * factor for name, w in weights.items()}
    np.testing.assert_allclose(loyalty_index(values, scaled), loyalty_index(values, weights),
                               atol=1e-9)


@given(cases(), st.data())
def test_index_is_monotone_in_each_indicator(
    case: tuple[dict[str, np.ndarray[Any, Any]], dict[str, float]], data: st.DataObject,
) -> None:
    values, weights = case
    name = data.draw(st.sampled_from(sorted(values)))
    before = loyalty_index(values, weights)
    raised = {k: v.copy() for k, v in values.items()}
    step = data.draw(st.floats(0.01, 1.0))
    raised[name] = np.minimum(raised[name] + step, 1.0)
    moved = raised[name] - values[name] > 1e-6  # smaller steps can vanish in rounding
    assume(np.any(moved))
    raised[name] = np.where(moved, raised[name], values[name])
    after = loyalty_index(raised, weights)
    if name in AGAINST:  # counts against loyalty: strictly down where the value went up
        assert np.all(after[moved] < before[moved])
    else:
        assert np.all(after[moved] > before[moved])
    np.testing.assert_allclose(after[~moved], before[~moved])


@given(cases(), st.data())
def test_a_missing_indicator_equals_leaving_it_out(
    case: tuple[dict[str, np.ndarray[Any, Any]], dict[str, float]], data: st.DataObject,
) -> None:
    values, weights = case
    assume(len(values) >= 2)
    name = data.draw(st.sampled_from(sorted(values)))
    with_nan = {k: (np.full_like(v, np.nan) if k == name else v) for k, v in values.items()}
    without = {k: v for k, v in values.items() if k != name}
    full = loyalty_breakdown(with_nan, weights)
    np.testing.assert_allclose(full.index, loyalty_index(without, weights), atol=1e-9)
    np.testing.assert_allclose(full.coverage, 1.0 - weights[name] / sum(weights.values()))


# -- bad input ----------------------------------------------------------------------------------


def test_unknown_indicator_name_is_named() -> None:
    with pytest.raises(UnknownIndicatorError, match=r"indicators: unknown indicator 'loyalty'"):
        loyalty_index({"loyalty": [0.5]})
    with pytest.raises(UnknownIndicatorError, match=r"weights: unknown indicator 'nps'"):
        loyalty_index({"category_share": [0.5]}, {"category_share": 1, "nps": 1})
    with pytest.raises(UnknownIndicatorError, match=r"scales: unknown indicator 'visits'"):
        loyalty_index({"category_share": [0.5]}, scales={"visits": (0, 9)})
    error = UnknownIndicatorError("x", INDICATOR_NAMES, field="indicators")
    assert isinstance(error, crmcore.DataError)
    assert isinstance(error, LookupError)


def test_value_outside_its_scale_is_named_with_rows() -> None:
    with pytest.raises(IndicatorScaleError,
                       match=r"'repeat_purchases'\] is outside its scale \[0, 1\] at rows 1, 2 "
                             r"\(first: 3.0\)") as caught:
        loyalty_index({"repeat_purchases": [0.5, 3, 4], "category_share": [0.1, 0.2, 0.3]})
    assert caught.value.indicator == "repeat_purchases"
    assert caught.value.scale == (0.0, 1.0)
    assert caught.value.rows == (1, 2)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(IndicatorScaleError, match=r"'choice_time'\] is outside its scale "
                                                  r"\[1, 7\] at row 0"):
        loyalty_index({"choice_time": [0]}, scales={"choice_time": (1, 7)})


@pytest.mark.parametrize(
    ("indicators", "weights", "scales", "message"),
    [
        ({"category_share": [0.1, 0.2], "brand_attention": [0.3]}, None, None,
         r"indicators\['brand_attention'\] has 1 values but indicators\['category_share'\] "
         r"has 2"),
        ({"category_share": [np.inf]}, None, None, r"'category_share'\] is infinite at row 0"),
        ({"category_share": ["high"]}, None, None, r"'category_share'\] must be numeric"),
        ({"category_share": [[0.1]]}, None, None, r"must be one-dimensional"),
        ({}, None, None, r"indicators is empty"),
        ({"category_share": []}, None, None, r"indicators holds no customers"),
        ({"category_share": [0.1]}, {"category_share": -1}, None,
         r"weights\['category_share'\] must be finite and >= 0"),
        ({"category_share": [0.1]}, {"category_share": 0}, None, r"weights are all zero"),
        ({"category_share": [0.1], "brand_attention": [0.2]}, {"category_share": 1}, None,
         r"weights gives no weight to 'brand_attention'"),
        ({"category_share": [0.1]}, [1, 2], None, r"one weight per input given"),
        ({"category_share": [0.1]}, None, {"category_share": (1, 0)},
         r"scales\['category_share'\] must be finite with low < high"),
        ({"category_share": [np.nan]}, None, None,
         r"no input with a positive weight is present at row 0"),
        ({"category_share": [0.4], "brand_attention": [0.2]},
         {"category_share": 0, "brand_attention": 0, "choice_time": 1}, None,
         r"no input with a positive weight is present at row 0"),
    ],
)
def test_bad_input_is_refused_with_a_named_error(
    indicators: dict[str, Any], weights: Any, scales: Any, message: str,
) -> None:
    with pytest.raises(crmcore.DataError, match=message):
        loyalty_index(indicators, weights, scales=scales)


def test_not_a_table() -> None:
    with pytest.raises(crmcore.DataError, match=r"indicators must be a mapping"):
        loyalty_index(42)


def test_contribution_of_an_indicator_not_given() -> None:
    result = loyalty_breakdown({"category_share": [0.5]})
    with pytest.raises(UnknownIndicatorError, match=r"contribution: unknown indicator "
                                                    r"'choice_time'"):
        result.contribution("choice_time")
