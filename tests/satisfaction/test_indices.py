"""Disconfirmation, SERVQUAL gaps, importance-performance analysis, ACSI, NPS, CSAT, CES.

Each index is a published formula applied to small cases worked by hand in the test (the
sources are cited in crmcore.satisfaction._indices); bounds are hypothesis properties.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from crmcore import InvalidValueError
from crmcore.satisfaction import (
    IPAQuadrant,
    acsi_index,
    ces,
    csat,
    disconfirmation,
    importance_performance,
    nps,
    servqual_gap,
)


def test_disconfirmation() -> None:
    result = disconfirmation([[4, 3], [5, 2]], [4, 4])
    np.testing.assert_allclose(result.gap, [[0, -1], [1, -2]])
    np.testing.assert_allclose(result.ratio, [[1, 0.75], [1.25, 0.5]])
    np.testing.assert_allclose(result.mean_gap, [0.5, -1.5])


def test_disconfirmation_errors() -> None:
    with pytest.raises(InvalidValueError, match="expectations must be positive"):
        disconfirmation([1, 2], [1, 0])
    with pytest.raises(InvalidValueError, match="do not match"):
        disconfirmation([1, 2, 3], [1, 2])
    with pytest.raises(InvalidValueError, match="row 1 are not"):
        disconfirmation([1, np.nan], [1, 1])


def test_servqual_weighted_gap() -> None:
    # Respondent 0: gaps (-1, 0, +2) weighted (0.5, 0.3, 0.2): -0.5 + 0 + 0.4 = -0.1.
    # Respondent 1: gaps (-2, -1, 0): -1.0 - 0.3 = -1.3.
    p = [[4, 5, 7], [3, 4, 5]]
    e = [[5, 5, 5], [5, 5, 5]]
    result = servqual_gap(p, e, weights=[50, 30, 20])
    np.testing.assert_allclose(result.weighted, [-0.1, -1.3])
    np.testing.assert_allclose(result.gaps, [-1.5, -0.5, 1.0])
    assert result.overall == pytest.approx(-0.7)
    np.testing.assert_allclose(servqual_gap(p, e).weights, [1 / 3] * 3)
    with pytest.raises(InvalidValueError, match="same respondents x attributes shape"):
        servqual_gap(p, [[5, 5]])
    with pytest.raises(InvalidValueError, match="2 weights for 3 attributes"):
        servqual_gap(p, e, weights=[1, 1])


def test_importance_performance_quadrants() -> None:
    # Means: importance 3.5, performance 3.5.
    result = importance_performance([5, 5, 2, 2], [2, 5, 2, 5],
                                    labels=["price", "speed", "colour", "wrapping"])
    assert result.quadrants == (IPAQuadrant.CONCENTRATE_HERE,
                                IPAQuadrant.KEEP_UP_THE_GOOD_WORK,
                                IPAQuadrant.LOW_PRIORITY, IPAQuadrant.POSSIBLE_OVERKILL)
    assert result.by_quadrant()[IPAQuadrant.CONCENTRATE_HERE] == ["price"]
    # Per-respondent answers are averaged; an explicit centre (scale midpoints) is allowed.
    per_respondent = importance_performance([[5, 1], [3, 1]], [[2, 4], [2, 4]],
                                            centre=(3, 3))
    assert per_respondent.quadrants == (IPAQuadrant.CONCENTRATE_HERE,
                                        IPAQuadrant.POSSIBLE_OVERKILL)
    median = importance_performance([1, 2, 10], [1, 2, 10], centre="median")
    assert median.importance_centre == 2.0


def test_importance_performance_errors() -> None:
    with pytest.raises(InvalidValueError, match="same attributes"):
        importance_performance([1, 2], [1, 2, 3])
    with pytest.raises(InvalidValueError, match="1 labels for 2 attributes"):
        importance_performance([1, 2], [1, 2], labels=["a"])
    with pytest.raises(InvalidValueError, match="centre must be"):
        importance_performance([1, 2], [1, 2], centre="mode")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="has no answers"):
        importance_performance([[1, np.nan]], [[1, 2]])


def test_acsi_by_hand() -> None:
    # Fornell et al. (1996): 100 (sum w x - min) / (max - min) on 1-10 with weights
    # (0.3, 0.3, 0.4) and answers (8, 7, 9): (0.3*7 + 0.3*6 + 0.4*8) / 9 = 7.1 / 9.
    assert acsi_index([8, 7, 9], [0.3, 0.3, 0.4]) == pytest.approx(100 * 7.1 / 9)
    batch = acsi_index([[8, 7, 9], [10, 10, 10], [1, 1, 1]], [3, 3, 4])
    np.testing.assert_allclose(batch, [100 * 7.1 / 9, 100, 0])


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.just(3)),
                  elements=st.integers(1, 10).map(float)),
       st.lists(st.floats(0.01, 10), min_size=3, max_size=3), st.floats(0.01, 100))
def test_acsi_bounds_and_weight_scale_invariance(x: np.ndarray, w: list[float], k: float
                                                 ) -> None:
    index = np.asarray(acsi_index(x, w))
    assert np.all((index >= -1e-9) & (index <= 100 + 1e-9))
    np.testing.assert_allclose(acsi_index(x, [k * v for v in w]), index)
    # The index of the mean answers is the mean of the indices.
    assert acsi_index(x.mean(axis=0), w) == pytest.approx(float(index.mean()))


def test_acsi_errors() -> None:
    with pytest.raises(InvalidValueError, match=r"outside the scale \[1, 10\] in row 1"):
        acsi_index([[5, 5, 5], [0, 5, 5]], [1, 1, 1])
    with pytest.raises(InvalidValueError, match="expected 3 measures"):
        acsi_index([[5, 5]], [1, 1, 1])
    with pytest.raises(InvalidValueError, match="expected 1 measures"):
        acsi_index(5, [1])


def test_nps_by_hand() -> None:
    # 10 answers: promoters 9, 10, 10 (3); passives 7, 8 (2); detractors 0, 3, 5, 6, 6 (5).
    result = nps([9, 10, 10, 7, 8, 0, 3, 5, 6, 6])
    assert result.nps == pytest.approx(-20.0)
    assert (result.promoters, result.passives, result.detractors) == pytest.approx((0.3, 0.2,
                                                                                    0.5))
    assert result.n == 10


@pytest.mark.parametrize(("scores", "message"),
                         [([5, 11], r"outside the scale \[0, 10\] in row 1"),
                          ([5, 7.5], "whole numbers; row 1"),
                          ([], "no values")])
def test_nps_errors(scores: Any, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        nps(scores)


def test_csat_by_hand() -> None:
    # Answers 5, 4, 3, 2, 4: top-two-box = 3/5; mean 3.6 -> (3.6 - 1) / 4 = 65 %.
    result = csat([5, 4, 3, 2, 4])
    assert result.top_box == pytest.approx(60.0)
    assert result.mean == pytest.approx(3.6)
    assert result.mean_index == pytest.approx(65.0)
    assert csat([5, 4, 3, 2, 4], top=1).top_box == pytest.approx(20.0)
    with pytest.raises(InvalidValueError, match="outside the scale"):
        csat([6])
    with pytest.raises(InvalidValueError, match="top must be between 1 and 5"):
        csat([5], top=6)


def test_ces_by_hand() -> None:
    # 1-7 agreement: answers 7, 6, 5, 2 -> easy (5-7) 3/4; mean 5 -> (5 - 1) / 6.
    result = ces([7, 6, 5, 2])
    assert result.easy == pytest.approx(75.0)
    assert result.mean == pytest.approx(5.0)
    assert result.mean_index == pytest.approx(100 * 4 / 6)
    # 1-5 effort form, higher = more effort: answers 1, 2, 5 -> easy (1-2) 2/3; mean 8/3,
    # ease 1 - (8/3 - 1) / 4.
    effort = ces([1, 2, 5], scale=(1, 5), higher_is_easier=False, top=2)
    assert effort.easy == pytest.approx(200 / 3)
    assert effort.mean_index == pytest.approx(100 * (1 - (8 / 3 - 1) / 4))
    with pytest.raises(InvalidValueError, match="outside the scale"):
        ces([8])


@given(st.lists(st.integers(0, 10), min_size=1, max_size=50))
def test_nps_bounds(scores: list[int]) -> None:
    result = nps(scores)
    assert -100 <= result.nps <= 100
    assert result.promoters + result.passives + result.detractors == pytest.approx(1.0)
