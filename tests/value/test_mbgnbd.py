"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): lifetimes side by side, internal
consistency, simulation and stability.

Batislam et al. fitted the model to Turkish grocery data that is not public; we found no
published MBG/NBD estimates for CDNOW, so the reference here is lifetimes'
``ModifiedBetaGeoFitter`` on CDNOW and on simulated data, plus simulation of the model's story.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifetimes import ModifiedBetaGeoFitter
from numpy.typing import NDArray

import crmcore
from crmcore.datasets import load_cdnow_summary
from crmcore.value import BGNBD, MBGNBD, simulate_mbgnbd

FloatArray = NDArray[np.float64]
NAMES = ("r", "alpha", "a", "b")


@pytest.fixture(scope="module")
def cdnow() -> crmcore.CustomerBase:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow: crmcore.CustomerBase) -> MBGNBD:
    return MBGNBD().fit(cdnow)


def test_agrees_with_lifetimes_on_cdnow(cdnow: crmcore.CustomerBase, fitted: MBGNBD) -> None:
    theirs = ModifiedBetaGeoFitter().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    for name in NAMES:
        assert fitted.params_[name] == pytest.approx(theirs.params_[name], rel=1e-3)
    x, tx, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_allclose(fitted.p_alive(cdnow),
                               theirs.conditional_probability_alive(x, tx, T), rtol=1e-3)
    np.testing.assert_allclose(
        fitted.expected_purchases(39.0, cdnow),
        theirs.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T), rtol=1e-3)
    # CDNOW fit (our figures): r = 0.525, alpha = 6.183, a = 0.891, b = 1.614, LL = -9582.1,
    # a hair better than the BG/NBD's -9582.4
    assert round(fitted.log_likelihood_, 1) == -9582.1
    assert fitted.log_likelihood_ > BGNBD().fit(cdnow).log_likelihood_


def test_same_predictions_as_lifetimes_at_equal_parameters(cdnow: crmcore.CustomerBase) -> None:
    params = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    ours = MBGNBD.from_params(**params)
    theirs = ModifiedBetaGeoFitter()
    theirs.params_ = pd.Series(params)
    x, tx, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_allclose(ours.p_alive(x, tx, T),
                               theirs.conditional_probability_alive(x, tx, T), rtol=1e-10)
    np.testing.assert_allclose(
        ours.expected_purchases(52.0, x, tx, T),
        theirs.conditional_expected_number_of_purchases_up_to_time(52.0, x, tx, T), rtol=1e-8)
    times = np.array([1.0, 39.0, 78.0])
    np.testing.assert_allclose(ours.expected_purchases_unconditional(times),
                               theirs.expected_number_of_purchases_up_to_time(times), rtol=1e-8)
    for k in range(5):
        assert ours.probability_of_purchases(k, 39.0) == pytest.approx(
            theirs.probability_of_n_purchases_up_to_time(39.0, k), rel=1e-8)


def test_agrees_with_lifetimes_on_simulated_data() -> None:
    rng = np.random.default_rng(21)
    T = rng.integers(30, 366, size=5000) / 7.0
    x, tx, T = simulate_mbgnbd(5000, r=0.6, alpha=3.0, a=0.9, b=3.0, T=T, seed=22,
                               precision=1 / 7)
    ours = MBGNBD().fit(x, tx, T)
    theirs = ModifiedBetaGeoFitter().fit(x, tx, T)
    for name in NAMES:
        assert ours.params_[name] == pytest.approx(theirs.params_[name], rel=2e-3)


def test_exact_gradient_matches_finite_differences(cdnow: crmcore.CustomerBase) -> None:
    model = MBGNBD()
    data = (cdnow.frequency.astype(float), cdnow.recency, cdnow.T)
    for params in ([0.525, 6.183, 0.891, 1.614], [2.0, 0.5, 3.0, 0.7], [0.1, 30.0, 0.4, 9.0]):
        p = np.array(params)
        _, grad = model._log_likelihood_terms(p, data, gradient=True)
        assert grad is not None

        def total(q: FloatArray) -> float:
            return float(model._log_likelihood_terms(q, data, gradient=False)[0].sum())

        step = 1e-6 * p
        numeric = np.array([(total(p + np.eye(4)[i] * step[i])
                             - total(p - np.eye(4)[i] * step[i])) / (2 * step[i])
                            for i in range(4)])
        np.testing.assert_allclose(grad.sum(axis=0), numeric, rtol=1e-5, atol=1e-4)


def test_customers_without_repeat_purchases_may_be_dead(fitted: MBGNBD) -> None:
    # the modification: P(alive | x = 0) = 1 / (1 + a/b (...)) < 1, unlike the BG/NBD
    _, _, a, b = fitted.params_.values()
    assert fitted.p_alive(0, 0.0, 0.0)[0] == pytest.approx(b / (a + b))
    assert fitted.p_alive(0, 0.0, 38.0)[0] < b / (a + b)


def test_probabilities_sum_to_one_and_match_the_mean(fitted: MBGNBD) -> None:
    k = np.arange(400)
    probs = fitted.probability_of_purchases(k, 39.0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-8)
    assert (k * probs).sum() == pytest.approx(fitted.expected_purchases_unconditional(39.0),
                                              rel=1e-8)


def test_probabilities_and_mean_match_simulation() -> None:
    params = {"r": 0.7, "alpha": 3.0, "a": 1.5, "b": 4.0}
    x, _, _ = simulate_mbgnbd(200_000, T=25.0, seed=4, **params)
    model = MBGNBD.from_params(**params)
    observed = np.bincount(x, minlength=6)[:6] / len(x)
    np.testing.assert_allclose(observed, model.probability_of_purchases(np.arange(6), 25.0),
                               atol=4e-3)
    assert x.mean() == pytest.approx(float(model.expected_purchases_unconditional(25.0)),
                                     rel=0.02)


def test_dert_is_the_discounted_sum_of_expected_purchases(fitted: MBGNBD) -> None:
    from scipy import integrate

    delta = 0.005
    for x, tx, T in [(2, 30.43, 38.86), (0, 0.0, 38.86)]:
        value, _ = integrate.quad(
            lambda t, x=x, tx=tx, T=T: math.exp(-delta * t)
            * fitted.expected_purchases(t, x, tx, T)[0], 0, np.inf, epsrel=1e-10, limit=500)
        assert fitted.dert(delta, x, tx, T)[0] == pytest.approx(delta * value, rel=1e-6)


def test_registered_by_name(plugin_manager: object) -> None:
    model = crmcore.get_model("value", "mbgnbd", plugin_manager=plugin_manager)  # type: ignore[arg-type]
    assert isinstance(model, MBGNBD)


def test_bad_input_is_named() -> None:
    with pytest.raises(crmcore.InvalidValueError, match="recency must be 0 when frequency is 0"):
        MBGNBD().fit([0, 1], [1.0, 1.0], [2.0, 2.0])
