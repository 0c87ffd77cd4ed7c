"""Lapse limits learnt once and handed to the classifier (the Dask path's way of classifying a
partition with the limits of the whole base)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore import InvalidValueError
from crmcore.datasets import load_cdnow
from crmcore.lifecycle import LifecycleClassifier, lapse_limits
from crmcore.lifecycle._lapse import _weighted_quantile


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 5)), min_size=1, max_size=40),
       st.floats(0.0, 1.0))
def test_weighted_quantile_is_the_quantile_of_the_repeated_values(
        pairs: list[tuple[int, int]], q: float) -> None:
    values = np.array([v for v, _ in pairs], dtype=np.float64)
    weights = np.array([w for _, w in pairs], dtype=np.float64)
    expected = np.quantile(np.repeat(values, weights.astype(int)), q)
    assert _weighted_quantile(values, weights, q) == pytest.approx(expected, abs=1e-9)


def test_given_limits_reproduce_the_learnt_stages() -> None:
    base = load_cdnow()
    learnt = LifecycleClassifier().score(base)
    limits = lapse_limits(base)
    given_limits = LifecycleClassifier(lapse_limits=limits).score(base)
    assert list(given_limits.stage) == list(learnt.stage)
    assert given_limits.lapse_limit is not None
    assert learnt.lapse_limit is not None
    np.testing.assert_allclose(given_limits.lapse_limit, learnt.lapse_limit, equal_nan=True)


def test_given_limits_of_a_larger_base_decide_a_part_of_it() -> None:
    base = load_cdnow()
    part = base.take(np.arange(200))
    whole = LifecycleClassifier().score(base)
    alone = LifecycleClassifier(lapse_limits=lapse_limits(base)).score(part)
    assert list(alone.stage) == list(whole.stage[:200])


@pytest.mark.parametrize("limits", [{1: 10.0, 2: 12.0}, {1: 1.0, 2: -1.0, 3: 2.0},
                                    {1: 1.0, 2: float("nan"), 3: 2.0}, "soon"])
def test_limits_must_cover_each_count_with_a_positive_number(limits: object) -> None:
    with pytest.raises(InvalidValueError) as info:
        LifecycleClassifier(lapse_limits=limits)
    assert info.value.field == "lapse_limits"
