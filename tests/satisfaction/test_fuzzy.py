"""Fuzzy comprehensive evaluation with the four composition operators.

Published example: the clothing evaluation (服装评判) of Si Shoukui 司守奎 & Sun Zhaoliang,
数学建模算法与应用 (National Defense Industry Press), chapter on fuzzy mathematics, example 4
(reproduced at e-com-net.com/article/1276296104417181696.htm): factors colour/pattern, style,
durability, price; grades very welcome, fairly welcome, not very welcome, unwelcome;

    R = [[0.2, 0.5, 0.2, 0.1], [0.7, 0.2, 0.1, 0], [0, 0.4, 0.5, 0.1], [0.2, 0.3, 0.5, 0]]

with the weights of two kinds of customer, A1 = (0.1, 0.2, 0.3, 0.4) and
A2 = (0.4, 0.35, 0.15, 0.1). The book's M(∧, ∨) results are B1 = (0.2, 0.3, 0.4, 0.1)
("not very welcome") and B2 = (0.35, 0.4, 0.2, 0.1) ("fairly welcome"). The other three operators
are applied to the same published data and checked against the arithmetic written out below.

Established library side by side: scikit-fuzzy (0.5.0) implements the max-min and max-product
compositions of fuzzy relations (``skfuzzy.fuzzymath.maxmin_composition`` and
``maxprod_composition``); ``B = A o R`` with M(∧, ∨) and M(·, ∨) is exactly those compositions
of the weight vector with the membership matrix, checked on random cases. The two bounded-sum
operators have no counterpart there (M(·, ⊕) with weights summing to 1 is the matrix product).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skfuzzy.fuzzymath import maxmin_composition, maxprod_composition

from crmcore import CRMError, InvalidValueError
from crmcore.satisfaction import (
    FUZZY_OPERATORS,
    IndicatorTree,
    Node,
    fuzzy_evaluate,
    fuzzy_evaluate_tree,
    logistics_satisfaction_tree,
    membership_from_answers,
    satisfaction_index,
)

R = np.array([[0.2, 0.5, 0.2, 0.1], [0.7, 0.2, 0.1, 0.0], [0.0, 0.4, 0.5, 0.1],
              [0.2, 0.3, 0.5, 0.0]])
A1 = [0.1, 0.2, 0.3, 0.4]
A2 = [0.4, 0.35, 0.15, 0.1]
GRADES = ["very welcome", "fairly welcome", "not very welcome", "unwelcome"]


def test_published_min_max_clothing_example() -> None:
    first = fuzzy_evaluate(A1, R, "min-max", grades=GRADES)
    np.testing.assert_allclose(first.memberships, [0.2, 0.3, 0.4, 0.1])
    assert first.grade_label == "not very welcome"
    second = fuzzy_evaluate(A2, R, "min-max", grades=GRADES)
    np.testing.assert_allclose(second.memberships, [0.35, 0.4, 0.2, 0.1])
    assert second.grade_label == "fairly welcome"


def test_product_max_on_the_clothing_data() -> None:
    # a_i r_ij: row 1 x 0.1 = .02 .05 .02 .01; row 2 x 0.2 = .14 .04 .02 0;
    # row 3 x 0.3 = 0 .12 .15 .03; row 4 x 0.4 = .08 .12 .20 0; column maxima .14 .12 .20 .03.
    result = fuzzy_evaluate(A1, R, "product-max", grades=GRADES)
    np.testing.assert_allclose(result.memberships, [0.14, 0.12, 0.20, 0.03])
    np.testing.assert_allclose(result.normalised, np.array([0.14, 0.12, 0.20, 0.03]) / 0.49)
    assert result.grade_label == "not very welcome"


def test_min_bounded_sum_on_the_clothing_data() -> None:
    # min(a_i, r_ij): row 1 .1 .1 .1 .1; row 2 .2 .2 .1 0; row 3 0 .3 .3 .1; row 4 .2 .3 .4 0;
    # column sums .5 .9 .9 .2 (all below 1, so the bound does not bite).
    result = fuzzy_evaluate(A1, R, "min-bounded-sum")
    np.testing.assert_allclose(result.memberships, [0.5, 0.9, 0.9, 0.2])
    assert int(result.grade) == 1  # tie between grades 1 and 2: the first wins
    # With A2 the first column sums to .2 + .35 + 0 + .1 = .65, the second to
    # .4 + .2 + .15 + .1 = .85, the third .2 + .1 + .15 + .1 = .55, the fourth .1 + 0 + .1 + 0.
    np.testing.assert_allclose(fuzzy_evaluate(A2, R, "min-bounded-sum").memberships,
                               [0.65, 0.85, 0.55, 0.2])


def test_bounded_sum_reaches_but_never_exceeds_one() -> None:
    # Weights (1/3, 1/3, 1/3) and r_i1 = 1: sum_i min(1/3, 1) = 1, the bound itself; since the
    # weights sum to 1, sum_i min(a_i, r_ij) <= sum_i a_i = 1 always.
    result = fuzzy_evaluate([1, 1, 1], [[1.0, 0.0], [1.0, 0.0], [1.0, 0.5]], "min-bounded-sum")
    np.testing.assert_allclose(result.memberships, [1.0, 1 / 3])


def test_weighted_average_on_the_clothing_data() -> None:
    # sum_i a_i r_ij: .02 + .14 + 0 + .08 = .24; .05 + .04 + .12 + .12 = .33;
    # .02 + .02 + .15 + .20 = .39; .01 + 0 + .03 + 0 = .04.
    result = fuzzy_evaluate(A1, R, "weighted-average", grades=GRADES,
                            grade_values=[90, 75, 60, 40])
    np.testing.assert_allclose(result.memberships, [0.24, 0.33, 0.39, 0.04])
    assert result.grade_label == "not very welcome"
    assert result.score == pytest.approx(0.24 * 90 + 0.33 * 75 + 0.39 * 60 + 0.04 * 40)


def test_batch_evaluation_matches_one_by_one() -> None:
    batch = np.stack([R, R[::-1]])
    for op in FUZZY_OPERATORS:
        together = fuzzy_evaluate(A1, batch, op, grades=GRADES, grade_values=[4, 3, 2, 1])
        for k in range(2):
            alone = fuzzy_evaluate(A1, batch[k], op, grades=GRADES, grade_values=[4, 3, 2, 1])
            np.testing.assert_allclose(together.memberships[k], alone.memberships)
            assert isinstance(together.grade_label, tuple)
            assert together.grade_label[k] == alone.grade_label
            assert isinstance(together.score, np.ndarray)
            assert together.score[k] == pytest.approx(alone.score)


memberships = st.integers(1, 6).flatmap(lambda m: st.integers(2, 5).flatmap(
    lambda g: st.tuples(
        hnp.arrays(np.float64, (m,), elements=st.floats(0.01, 10)),
        hnp.arrays(np.float64, (m, g), elements=st.floats(0, 1)).filter(
            lambda r: bool(np.all(r.sum(axis=1) > 0.05))),
    )))


@given(memberships)
def test_max_compositions_equal_scikit_fuzzy(case: tuple[np.ndarray, np.ndarray]) -> None:
    a, r = case
    weights = a / a.sum()
    np.testing.assert_allclose(fuzzy_evaluate(a, r, "min-max").memberships,
                               maxmin_composition(weights, r)[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fuzzy_evaluate(a, r, "product-max").memberships,
                               maxprod_composition(weights, r)[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fuzzy_evaluate(a, r, "weighted-average").memberships,
                               np.minimum(weights @ r, 1.0), rtol=1e-12, atol=1e-15)


@given(memberships, st.sampled_from(FUZZY_OPERATORS))
def test_memberships_in_unit_interval_and_normalised_sum_to_one(
    case: tuple[np.ndarray, np.ndarray], operator: Any
) -> None:
    a, r = case
    result = fuzzy_evaluate(a, r, operator, grade_values=np.arange(r.shape[1], 0, -1))
    assert np.all((result.memberships >= 0) & (result.memberships <= 1 + 1e-12))
    assert result.normalised.sum() == pytest.approx(1.0)
    assert isinstance(result.score, float)
    assert 1 - 1e-9 <= result.score <= r.shape[1] + 1e-9


@given(memberships, st.sampled_from(["product-max", "weighted-average"]), st.floats(0.01, 100))
def test_product_operators_ignore_the_scale_of_the_weights(
    case: tuple[np.ndarray, np.ndarray], operator: Any, k: float
) -> None:
    a, r = case
    np.testing.assert_allclose(fuzzy_evaluate(a * k, r, operator).normalised,
                               fuzzy_evaluate(a, r, operator).normalised)


@pytest.mark.parametrize(
    ("weights", "membership", "kwargs", "message"),
    [
        (A1, R, {"operator": "max-min"}, "unknown fuzzy operator 'max-min'"),
        (A1, R[:3], {}, r"expected shape \(4, grades\)"),
        (A1, R * 2, {}, r"must lie in \[0, 1\]"),
        (A1, R, {"grades": ["a", "b"]}, "2 labels for 4 grades"),
        (A1, R, {"grade_values": [1, 2]}, "expected 4 finite values"),
        ([1, 1], np.zeros((2, 3)), {}, "all grades have zero membership for row 0"),
        ([1, -1], np.ones((2, 3)), {}, "finite and >= 0"),
    ],
)
def test_bad_inputs_are_named(weights: Any, membership: Any, kwargs: dict[str, Any],
                              message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        fuzzy_evaluate(weights, membership, **kwargs)


# -- membership from answers ----------------------------------------------------------------------


def test_membership_from_answers_shares() -> None:
    answers = np.array([[5, 4], [4, 4], [5, 1], [3, np.nan]])
    r = membership_from_answers(answers, [5, 4, 3, 2, 1])
    np.testing.assert_allclose(r, [[0.5, 0.25, 0.25, 0, 0], [0, 2 / 3, 0, 0, 1 / 3]])
    per = membership_from_answers(answers[:3], [5, 4, 3, 2, 1], per_respondent=True)
    assert per.shape == (3, 2, 5)
    np.testing.assert_allclose(per.mean(axis=0), membership_from_answers(answers[:3],
                                                                          [5, 4, 3, 2, 1]))


def test_membership_from_answers_errors() -> None:
    with pytest.raises(InvalidValueError,
                       match=r"item 'q2' has answers that are not grades .* in row 1: \[3.5\]"):
        membership_from_answers({"q1": [5, 4], "q2": [1, 3.5]}, [1, 2, 3, 4, 5],
                                items=["q1", "q2"])
    with pytest.raises(InvalidValueError, match="nobody answered item '1'"):
        membership_from_answers(np.array([[5, np.nan]]), [1, 2, 3, 4, 5])
    with pytest.raises(InvalidValueError, match="pass items= for mappings"):
        membership_from_answers({"q1": [5]}, [1, 2, 3, 4, 5])
    with pytest.raises(InvalidValueError, match="distinct answer values"):
        membership_from_answers(np.array([[5]]), [5, 5])


# -- multi-level evaluation ------------------------------------------------------------------


def two_level() -> IndicatorTree:
    return IndicatorTree(Node("goal", children=(
        Node("c1", children=(Node("u1"), Node("u2"))),
        Node("c2", children=(Node("u3"), Node("u4"))),
    ))).with_weights(None, [0.6, 0.4]).with_weights("c1", [0.1, 0.2]) \
        .with_weights("c2", [0.3, 0.4])


def test_two_level_evaluation_by_hand() -> None:
    # c1: weights (1/3, 2/3) on R rows 1-2: (.2/3 + .7 * 2/3, .5/3 + .2 * 2/3, .2/3 + .1 * 2/3,
    # .1/3) = (.5333, .3, .1333, .0333); c2: weights (3/7, 4/7) on rows 3-4:
    # (.8/7, 2.4/7, 3.5/7, .3/7). goal = .6 c1 + .4 c2.
    results = fuzzy_evaluate_tree(two_level(), R, "weighted-average")
    c1 = np.array([1.6 / 3, 0.9 / 3, 0.4 / 3, 0.1 / 3])
    c2 = np.array([0.8, 2.4, 3.5, 0.3]) / 7
    np.testing.assert_allclose(results["c1"].memberships, c1)
    np.testing.assert_allclose(results["c2"].memberships, c2)
    np.testing.assert_allclose(results["goal"].memberships, 0.6 * c1 + 0.4 * c2)
    as_mapping = fuzzy_evaluate_tree(two_level(), dict(zip(["u1", "u2", "u3", "u4"], R,
                                                           strict=True)))
    np.testing.assert_allclose(as_mapping["goal"].memberships, results["goal"].memberships)


def test_tree_evaluation_errors() -> None:
    with pytest.raises(InvalidValueError, match=r"no membership row for leaves \['u4'\]"):
        fuzzy_evaluate_tree(two_level(), {"u1": R[0], "u2": R[1], "u3": R[2]})
    with pytest.raises(InvalidValueError, match=r"expected \(4 leaves, grades\)"):
        fuzzy_evaluate_tree(two_level(), R[:3])
    unweighted = IndicatorTree(Node("g", children=(Node("a"), Node("b"))))
    with pytest.raises(CRMError, match="have no weights"):
        fuzzy_evaluate_tree(unweighted, R[:2])


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.just(20)),
                  elements=st.integers(1, 5).map(float)),
       st.lists(st.floats(0.01, 10), min_size=5, max_size=5))
def test_weighted_average_of_one_respondent_is_the_weighted_index(x: np.ndarray,
                                                                  w: list[float]) -> None:
    # With 0/1 memberships the M(·, ⊕) score with grade values equal to the answers is the
    # weighted mean answer, i.e. the weighted index on the 1-5 scale.
    tree = logistics_satisfaction_tree().with_weights("Z", w).with_equal_weights()
    grades = [5.0, 4.0, 3.0, 2.0, 1.0]
    r = membership_from_answers(x, grades, per_respondent=True)
    result = fuzzy_evaluate_tree(tree, r, "weighted-average", grade_values=grades)
    score = np.asarray(result["Z"].score)
    np.testing.assert_allclose(100 * (score - 1) / 4, satisfaction_index(tree, x).index)
