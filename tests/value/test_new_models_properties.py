"""Properties BG/CNBD-k, MBG/CNBD-k and the Gamma-Gompertz/NBD must have for any parameters
and any history: P(alive) in [0, 1], finite, non-negative and non-decreasing expected
purchases, a finite log-likelihood, a purchase-count distribution that sums to at most 1, and
a JSON round trip that changes nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.value import BGCNBD, MBGCNBD, GGompertzNBD

CNBD = st.fixed_dictionaries({
    "r": st.floats(0.05, 10.0), "alpha": st.floats(0.1, 100.0),
    "a": st.floats(0.05, 10.0), "b": st.floats(0.05, 10.0), "k": st.integers(1, 6),
})
GG = st.fixed_dictionaries({
    "r": st.floats(0.05, 10.0), "alpha": st.floats(0.1, 100.0), "b": st.floats(1e-4, 5.0),
    "s": st.floats(0.05, 10.0), "beta": st.floats(0.1, 100.0),
})
MODELS: list[tuple[Any, Any]] = [(BGCNBD, CNBD), (MBGCNBD, CNBD), (GGompertzNBD, GG)]


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, float, float]:
    T = draw(st.floats(0.0, 1000.0))
    x = draw(st.integers(0, 300))
    tx = 0.0 if x == 0 else draw(st.sampled_from([0.0, T, T / 2, T * 0.999]))
    return x, tx, T


@pytest.mark.parametrize(("model_class", "space"), MODELS,
                         ids=[m.__name__ for m, _ in MODELS])
@given(data=st.data(), history=histories(), t=st.floats(0.0, 100.0))
def test_predictions_are_valid_for_any_history(
    model_class: Any, space: Any, data: st.DataObject, history: tuple[int, float, float],
    t: float,
) -> None:
    model = model_class.from_params(**data.draw(space))
    x, tx, T = history
    alive = float(model.p_alive(np.array([x]), np.array([tx]), np.array([T]))[0])
    assert 0.0 <= alive <= 1.0
    now, later = model.expected_purchases(np.array([t, t + 10.0]), np.array([x, x]),
                                          np.array([tx, tx]), np.array([T, T]))
    assert math.isfinite(now)
    assert math.isfinite(later)
    assert now >= 0.0
    assert later >= now * (1 - 1e-9)
    data_cols: tuple[np.ndarray, ...] = (np.array([x], float), np.array([tx]), np.array([T]))
    if model_class is not GGompertzNBD:
        data_cols = (*data_cols, np.array([0.0]))
    ll, _ = model._log_likelihood_terms(model._param_array(), data_cols, gradient=False)
    assert np.isfinite(ll).all()
    pmf = model.probability_of_purchases(np.arange(40.0), t)
    assert np.all(pmf >= 0)
    assert pmf.sum() <= 1 + 1e-9
    again = model_class.from_json(model.to_json())
    assert again.params_ == model.params_
    np.testing.assert_array_equal(again.p_alive(np.array([x]), np.array([tx]), np.array([T])),
                                  model.p_alive(np.array([x]), np.array([tx]), np.array([T])))
