"""The weighted satisfaction index through indicator trees.

Cases are computed by hand (arithmetic in each test); bounds, weight-scale invariance and
monotonicity are hypothesis properties.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from crmcore import CRMError, InvalidValueError, SurveyResponse
from crmcore.satisfaction import (
    Direction,
    IndicatorTree,
    Node,
    logistics_customer_value_tree,
    logistics_satisfaction_tree,
    logistics_service_quality_tree,
    normalise_answers,
    satisfaction_index,
)


def tree() -> IndicatorTree:
    """goal -> a (0.75: a1 0.5, a2 cost 0.5), b (0.25); scales 1-5, 1-5, 0-10."""
    return IndicatorTree(Node("goal", children=(
        Node("a", children=(Node("a1", scale=(1, 5)),
                            Node("a2", direction=Direction.COST, scale=(1, 5)))),
        Node("b", scale=(0, 10)),
    ))).with_weights(None, [3, 1]).with_equal_weights()


def test_index_by_hand() -> None:
    # Respondent 0: a1 = 5 -> 1, a2 = 2 (cost) -> (5 - 2) / 4 = 0.75, b = 5 -> 0.5.
    #   index = 100 (0.375 * 1 + 0.375 * 0.75 + 0.25 * 0.5) = 78.125; a = 100 (1 + 0.75) / 2.
    # Respondent 1: a1 = 1 -> 0, a2 = 5 -> 0, b = 10 -> 1: index 25.
    result = satisfaction_index(tree(), [[5, 2, 5], [1, 5, 10]])
    np.testing.assert_allclose(result.index, [78.125, 25.0])
    assert result.overall == pytest.approx(51.5625)
    np.testing.assert_allclose(result.nodes["a"], [87.5, 0.0])
    np.testing.assert_allclose(result.nodes["goal"], result.index)
    np.testing.assert_allclose(result.nodes["a2"], [75.0, 0.0])
    assert result.node_overall()["a"] == pytest.approx(43.75)
    assert result.respondents is None


def test_normalise_answers() -> None:
    z = normalise_answers(tree(), [[5, 2, 5]])
    np.testing.assert_allclose(z, [[1.0, 0.75, 0.5]])


def test_answers_as_mapping_frame_and_survey_responses() -> None:
    expected = satisfaction_index(tree(), [[5, 2, 5], [1, 5, 10]]).index
    mapping = {"a1": [5, 1], "a2": [2, 5], "b": [5, 10], "unrelated": [0, 0]}
    np.testing.assert_allclose(satisfaction_index(tree(), mapping).index, expected)
    frame = pd.DataFrame(mapping)
    np.testing.assert_allclose(satisfaction_index(tree(), frame).index, expected)
    at = dt.datetime(2026, 1, 1)
    responses = [SurveyResponse("c1", at, {"a1": 5, "a2": 2, "b": 5, "other": 3}),
                 SurveyResponse("c2", at, {"a1": 1, "a2": 5, "b": 10})]
    result = satisfaction_index(tree(), responses)
    np.testing.assert_allclose(result.index, expected)
    assert result.respondents == ("c1", "c2")


def test_missing_answers() -> None:
    answers = [[5, np.nan, 5], [1, 5, 10]]
    with pytest.raises(InvalidValueError, match="item 'a2' is missing in row 0") as info:
        satisfaction_index(tree(), answers)
    assert info.value.rows == (0,)
    # Reweighted: respondent 0 has a1 (0.375) and b (0.25): 100 (0.375 + 0.125) / 0.625 = 80.
    result = satisfaction_index(tree(), answers, missing="reweight")
    np.testing.assert_allclose(result.index, [80.0, 25.0])
    np.testing.assert_allclose(result.nodes["a"], [100.0, 0.0])
    zero = tree().with_weights("a", [1, 0])
    with pytest.raises(InvalidValueError, match="row 0 answered only indicators of weight 0"):
        satisfaction_index(zero, [[np.nan, 3, np.nan]], missing="reweight")
    with pytest.raises(InvalidValueError, match="row 0 answered no item"):
        satisfaction_index(tree(), [[np.nan] * 3], missing="reweight")


def test_answers_out_of_scale_are_named() -> None:
    with pytest.raises(InvalidValueError,
                       match=r"item 'b' has answers outside its scale \[0, 10\] in row 1") as info:
        satisfaction_index(tree(), [[5, 2, 5], [1, 5, 11]])
    assert info.value.field == "answers['b']"
    assert info.value.rows == (1,)
    with pytest.raises(InvalidValueError, match="item 'a1' .* rows 0, 1"):
        satisfaction_index(tree(), [[0, 2, 5], [6, 5, 1]])


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([[1, 2]], r"one column per item \(3: a1, a2, b\)"),
        ({"x": [1]}, "no column is named after an item"),
        ({"a1": [1, 2], "b": [1]}, "different lengths"),
        ([[1, 2, np.inf]], "infinite answers in row 0"),
        ([["x", 1, 2]], "must be numbers"),
    ],
)
def test_bad_answers(answers: Any, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        satisfaction_index(tree(), answers)


def test_bad_settings() -> None:
    with pytest.raises(InvalidValueError, match="missing must be"):
        satisfaction_index(tree(), [[1, 1, 1]], missing="ignore")  # type: ignore[arg-type]
    unscaled = IndicatorTree(Node("g", children=(Node("a"), Node("b")))).with_equal_weights()
    with pytest.raises(InvalidValueError, match="indicator 'a' has no scale"):
        satisfaction_index(unscaled, [[1, 2]])
    np.testing.assert_allclose(satisfaction_index(unscaled, [[1, 2]], scale=(0, 4)).index, [37.5])
    with pytest.raises(CRMError, match="have no weights"):
        satisfaction_index(IndicatorTree(Node("g", children=(Node("a"),))), [[1]], scale=(0, 1))


Z = logistics_satisfaction_tree().with_equal_weights()
answers_z = hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.just(len(Z.leaves))),
                       elements=st.integers(1, 5).map(float))
weights_z = st.lists(st.floats(0.01, 100), min_size=5, max_size=5)


@given(answers_z, weights_z)
def test_index_inside_bounds(x: np.ndarray, w: list[float]) -> None:
    result = satisfaction_index(Z.with_weights("Z", w), x)
    assert np.all((result.index >= 0) & (result.index <= 100))
    for values in result.nodes.values():
        assert np.all((values >= -1e-9) & (values <= 100 + 1e-9))


@given(answers_z, weights_z, st.floats(0.001, 1000))
def test_index_invariant_to_scaling_the_weights(x: np.ndarray, w: list[float], k: float
                                                ) -> None:
    base = satisfaction_index(Z.with_weights("Z", w), x).index
    scaled = satisfaction_index(Z.with_weights("Z", [k * v for v in w]), x).index
    np.testing.assert_allclose(scaled, base, atol=1e-9)


@given(answers_z, st.integers(0, len(Z.leaves) - 1))
def test_better_answers_never_lower_the_index(x: np.ndarray, j: int) -> None:
    better = x.copy()
    better[:, j] = np.minimum(better[:, j] + 1, 5)
    assert np.all(satisfaction_index(Z, better).index >= satisfaction_index(Z, x).index - 1e-9)


def test_extreme_answers_give_extreme_index() -> None:
    n = len(Z.leaves)
    result = satisfaction_index(Z, [[5] * n, [1] * n])
    np.testing.assert_allclose(result.index, [100.0, 0.0])


def test_observed_scale_min_max_normalises_measurements() -> None:
    # Three firms measured on seed 002's Y2 (complaint ratio Y21 is a cost, retention Y22 a
    # benefit): observed ranges [0.02, 0.10] and [0.6, 0.9].
    tree = logistics_service_quality_tree().with_equal_weights()
    y2 = tree.node("Y2")
    sub = IndicatorTree(y2).with_equal_weights()
    data = {"Y21": [0.02, 0.06, 0.10], "Y22": [0.9, 0.6, 0.75]}
    # Firm 0: (0.10 - 0.02) / 0.08 = 1 and (0.9 - 0.6) / 0.3 = 1 -> 100; firm 1: 0.5, 0 -> 25;
    # firm 2: 0, 0.5 -> 25.
    np.testing.assert_allclose(satisfaction_index(sub, data, scale="observed").index,
                               [100.0, 25.0, 25.0])
    with pytest.raises(InvalidValueError, match="'Y21' has no scale and its observed values do "
                                                "not vary"):
        satisfaction_index(sub, {"Y21": [0.05, 0.05], "Y22": [0.6, 0.9]}, scale="observed")


def test_customer_value_tree_with_entropy_weights_ranks_customers() -> None:
    # Seed 002's system X over four customers; the indicators weighted by entropy on the data.
    data = np.array([[120, 0.8, 0.7, 0.9, 0.5, 0.4],
                     [40, 0.5, 0.6, 0.7, 0.9, 0.8],
                     [200, 0.9, 0.9, 0.95, 0.3, 0.2],
                     [10, 0.2, 0.3, 0.4, 0.2, 0.1]])
    tree = (logistics_customer_value_tree().with_entropy("x1", data[:, :4])
            .with_entropy("x2", data[:, 4:]).with_weights("X", [0.6, 0.4]))
    result = satisfaction_index(tree, data, scale="observed")
    assert np.argmax(result.index) == 2
    assert np.argmin(result.index) == 3
    assert np.all((result.index >= 0) & (result.index <= 100))
