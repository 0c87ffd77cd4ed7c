"""Entropy, given and combined weights.

The entropy weights are checked against the method's definition worked by hand (Zeleny 1982;
Hwang & Yoon 1981: p = z / sum z, e = -sum p ln p / ln m, d = 1 - e, w = d / sum d), with the
arithmetic written out in each test, and against scipy.stats.entropy on random matrices. No
published worked example with min-max normalisation was reachable, so the invariants the method
must satisfy (weights sum to 1, invariance to positive affine rescaling of an indicator, cost
reversal) are hypothesis properties. The shares form (normalisation="sum") is run side by side
with pymcdm's ``entropy_weights``, an established MCDM library.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from crmcore import InvalidValueError
from crmcore.satisfaction import combine_weights, entropy_weights, normalise_weights


def test_entropy_weights_by_hand() -> None:
    # Column 1: 1, 2, 3 -> z = 0, 1/2, 1 -> p = 0, 1/3, 2/3.
    # Column 2: 10, 10, 40 -> z = 0, 0, 1 -> p = 0, 0, 1 -> e = 0.
    x = [[1, 10], [2, 10], [3, 40]]
    e1 = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3)) / math.log(3)
    d = np.array([1 - e1, 1.0])
    result = entropy_weights(x)
    np.testing.assert_allclose(result.entropy, [e1, 0.0])
    np.testing.assert_allclose(result.divergence, d)
    np.testing.assert_allclose(result.weights, d / d.sum())
    np.testing.assert_allclose(result.normalised, np.array([[0, 0], [0.5, 0], [1, 1]]))


def test_cost_columns_are_reversed() -> None:
    # As a cost, column 2 becomes z = 1, 1, 0 -> p = 1/2, 1/2, 0 -> e = ln 2 / ln 3.
    x = [[1, 10], [2, 10], [3, 40]]
    by_mask = entropy_weights(x, cost=[False, True])
    by_index = entropy_weights(x, cost=[1])
    np.testing.assert_allclose(by_mask.weights, by_index.weights)
    assert by_mask.entropy[1] == pytest.approx(math.log(2) / math.log(3))
    np.testing.assert_allclose(by_mask.normalised[:, 1], [1, 1, 0])


def test_constant_indicator_gets_zero_weight() -> None:
    result = entropy_weights([[1, 5, 2], [2, 5, 9], [3, 5, 4]])
    assert result.weights[1] == 0.0
    assert result.entropy[1] == 1.0
    assert result.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("matrix", "cost", "message"),
    [
        ([[1, 2]], None, "at least two rows"),
        ([1, 2, 3], None, "at least two rows"),
        ([[1, 2], [np.inf, 3]], None, "row 1 are not"),
        ([[1, 2], [1, 2]], None, "no indicator varies"),
        ([[1, 2], [2, 3]], [True], "one entry per indicator"),
        ([[1, 2], [2, 3]], [5], r"outside 0\.\.1"),
        ([[1, 2], [2, 3]], [0.5], "boolean mask or integer column indices"),
    ],
)
def test_entropy_errors(matrix: object, cost: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        entropy_weights(matrix, cost=cost)  # type: ignore[arg-type]


matrices = hnp.arrays(
    np.float64, st.tuples(st.integers(2, 12), st.integers(1, 6)),
    elements=st.floats(-1e3, 1e3, allow_nan=False),
).filter(lambda a: _resolvable(a))


def _resolvable(a: np.ndarray) -> bool:
    """Some column varies, and no column varies by mere rounding noise (a spread of 1e-15 is
    lost when a change of units shifts the column, and the weights rightly change with it)."""
    spread = np.ptp(a, axis=0)
    visible = spread > 1e-6 * (1 + np.abs(a).max())
    return bool(visible.any() and np.all(visible | (spread == 0)))


@given(matrices)
def test_entropy_weights_sum_to_one_and_lie_in_unit_interval(x: np.ndarray) -> None:
    result = entropy_weights(x)
    assert result.weights.sum() == pytest.approx(1.0)
    assert np.all((result.weights >= 0) & (result.weights <= 1))
    assert np.all((result.entropy >= 0) & (result.entropy <= 1))


@given(matrices, st.floats(0.01, 100), st.floats(-100, 100))
def test_entropy_weights_ignore_units(x: np.ndarray, scale: float, shift: float) -> None:
    # Min-max normalisation makes the weights invariant to a positive affine change of units.
    rescaled = x.copy()
    rescaled[:, 0] = scale * x[:, 0] + shift
    np.testing.assert_allclose(entropy_weights(rescaled).weights, entropy_weights(x).weights,
                               atol=1e-7)



@given(matrices)
def test_cost_is_benefit_of_the_negated_column(x: np.ndarray) -> None:
    negated = x.copy()
    negated[:, 0] = -x[:, 0]
    np.testing.assert_allclose(entropy_weights(x, cost=[0]).weights,
                               entropy_weights(negated).weights, atol=1e-9)


@given(matrices)
def test_entropy_agrees_with_scipy(x: np.ndarray) -> None:
    # scipy.stats.entropy normalises each column of z to p and returns -sum p ln p; divided by
    # ln m it is e_j (columns that do not vary have e_j = 1 by the method's convention).
    result = entropy_weights(x)
    z = result.normalised
    varies = np.ptp(x, axis=0) > 0
    expected = np.where(varies, stats.entropy(np.where(varies, z, 1.0), axis=0)
                        / np.log(x.shape[0]), 1.0)
    np.testing.assert_allclose(result.entropy, expected, atol=1e-12)
    d = 1 - expected
    np.testing.assert_allclose(result.weights, d / d.sum(), atol=1e-12)


def test_normalise_weights() -> None:
    np.testing.assert_allclose(normalise_weights([2, 1, 1]), [0.5, 0.25, 0.25])
    with pytest.raises(InvalidValueError, match=r"finite and >= 0; row 1 are \[-1.0\]"):
        normalise_weights([1, -1])
    with pytest.raises(InvalidValueError, match="all zero"):
        normalise_weights([0, 0])
    with pytest.raises(InvalidValueError, match="non-empty vector"):
        normalise_weights([])


@given(st.lists(st.floats(0.001, 1000), min_size=1, max_size=10), st.floats(0.001, 1000))
def test_given_weights_are_scale_invariant(raw: list[float], k: float) -> None:
    w = normalise_weights(raw)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(normalise_weights(np.array(raw) * k), w)


def test_combine_weights_by_hand() -> None:
    s, o = [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]
    # multiplicative: 0.10, 0.06, 0.12 -> / 0.28
    np.testing.assert_allclose(combine_weights(s, o), np.array([0.10, 0.06, 0.12]) / 0.28)
    np.testing.assert_allclose(combine_weights(s, o, method="linear", alpha=0.25),
                               [0.275, 0.225, 0.5])


@given(st.lists(st.floats(0.01, 10), min_size=2, max_size=8).flatmap(
    lambda s: st.tuples(st.just(s), st.lists(st.floats(0.01, 10), min_size=len(s),
                                             max_size=len(s)))),
       st.floats(0, 1), st.sampled_from(["multiplicative", "linear"]))
def test_combined_weights_sum_to_one(pair: tuple[list[float], list[float]], alpha: float,
                                     method: str) -> None:
    w = combine_weights(pair[0], pair[1], method=method, alpha=alpha)  # type: ignore[arg-type]
    assert w.sum() == pytest.approx(1.0)
    assert np.all(w >= 0)


def test_combine_errors() -> None:
    with pytest.raises(InvalidValueError, match="subjective has 2 weights but objective has 3"):
        combine_weights([1, 1], [1, 1, 1])
    with pytest.raises(InvalidValueError, match="alpha"):
        combine_weights([1, 1], [1, 1], method="linear", alpha=2)
    with pytest.raises(InvalidValueError, match="unknown combination"):
        combine_weights([1, 1], [1, 1], method="mean")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="no indicator in common"):
        combine_weights([1, 0], [0, 1])


@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 6)),
                  elements=st.floats(0.01, 1e4)))
def test_sum_normalisation_agrees_with_pymcdm(matrix: np.ndarray) -> None:
    weights = pytest.importorskip("pymcdm.weights")
    if not np.any(matrix.max(axis=0) > matrix.min(axis=0)):
        return  # no column varies: both refuse (crmcore names the matrix)
    ours = entropy_weights(matrix, normalisation="sum").weights
    theirs = weights.entropy_weights(matrix)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_sum_normalisation_refuses_cost_and_non_positive_values() -> None:
    with pytest.raises(InvalidValueError, match="do not depend on an indicator's direction"):
        entropy_weights([[1.0, 2.0], [2.0, 3.0]], cost=[1], normalisation="sum")
    with pytest.raises(InvalidValueError, match="strictly positive values; not at row 1"):
        entropy_weights([[1.0, 2.0], [0.0, 3.0]], normalisation="sum")
    with pytest.raises(InvalidValueError, match="normalisation='z-score'"):
        entropy_weights([[1.0, 2.0], [2.0, 3.0]], normalisation="z-score")  # type: ignore[arg-type]
