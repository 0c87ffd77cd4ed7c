"""BG/NBD (Fader, Hardie & Lee 2005): published CDNOW figures, lifetimes side by side,
stability and properties.

References
----------
FHL 2005: P. S. Fader, B. G. S. Hardie and K. L. Lee, "'Counting Your Customers' the Easy
Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284. The paper
reports, for the 2,357 CDNOW customers over 39 weeks, r = 0.243, alpha = 4.414, a = 0.793,
b = 2.426 with log-likelihood -9582.4.
Note 004: Fader, Hardie & Lee, "Implementing the BG/NBD Model for Customer Base Analysis in
Excel" (brucehardie.com/notes/004): customer ID 1 (x = 2, t_x = 30.43, T = 38.86) is expected
to make 1.226 purchases in the next 39 weeks at those parameters.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from lifetimes import BetaGeoFitter
from numpy.typing import NDArray
from scipy import integrate, optimize, special, stats

import crmcore
from crmcore.datasets import load_cdnow_summary
from crmcore.value import BGNBD, simulate_bgnbd

FloatArray = NDArray[np.float64]
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow() -> crmcore.CustomerBase:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow: crmcore.CustomerBase) -> BGNBD:
    return BGNBD().fit(cdnow)


@pytest.fixture(scope="module")
def reference(cdnow: crmcore.CustomerBase) -> BetaGeoFitter:
    return BetaGeoFitter().fit(cdnow.frequency, cdnow.recency, cdnow.T)


def test_reproduces_published_cdnow_estimates(fitted: BGNBD) -> None:
    # FHL 2005: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    for name, value in PUBLISHED.items():
        assert round(fitted.params_[name], 3) == value
    assert round(fitted.log_likelihood_, 1) == -9582.4
    assert fitted.n_obs_ == 2357
    assert fitted.time_unit_ == "W"
    assert fitted.aic_ == pytest.approx(2 * 4 + 2 * 9582.4256, abs=0.01)


def test_reproduces_note_004_conditional_expectation() -> None:
    # Note 004 (Excel implementation): E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226
    model = BGNBD.from_params(**PUBLISHED)
    assert model.expected_purchases(39, 2, 30.43, 38.86)[0] == pytest.approx(1.226, abs=5e-4)


def test_parameters_and_predictions_agree_with_lifetimes(
    cdnow: crmcore.CustomerBase, fitted: BGNBD, reference: BetaGeoFitter
) -> None:
    for name in PUBLISHED:
        assert fitted.params_[name] == pytest.approx(reference.params_[name], rel=1e-4)
    x, tx, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_allclose(fitted.p_alive(cdnow), reference.conditional_probability_alive(
        x, tx, T), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        fitted.expected_purchases(39, cdnow),
        reference.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T),
        rtol=1e-4, atol=1e-6)
    times = np.array([1.0, 10.0, 39.0, 78.0])
    np.testing.assert_allclose(fitted.expected_purchases_unconditional(times),
                               reference.expected_number_of_purchases_up_to_time(times),
                               rtol=1e-4)
    for k in range(5):
        assert fitted.probability_of_purchases(k, 39.0) == pytest.approx(
            reference.probability_of_n_purchases_up_to_time(39.0, k), rel=1e-4)


def test_same_predictions_as_lifetimes_at_equal_parameters(cdnow: crmcore.CustomerBase) -> None:
    reference = BetaGeoFitter()
    reference.params_ = __import__("pandas").Series(PUBLISHED)
    model = BGNBD.from_params(**PUBLISHED)
    x, tx, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_allclose(model.p_alive(x, tx, T),
                               reference.conditional_probability_alive(x, tx, T), rtol=1e-10)
    np.testing.assert_allclose(
        model.expected_purchases(52.0, x, tx, T),
        reference.conditional_expected_number_of_purchases_up_to_time(52.0, x, tx, T),
        rtol=1e-8)


def test_agrees_with_lifetimes_on_simulated_data() -> None:
    rng = np.random.default_rng(11)
    T = rng.integers(30, 366, size=5000) / 7.0
    x, tx, T = simulate_bgnbd(5000, r=0.6, alpha=3.0, a=0.9, b=3.0, T=T, seed=12,
                              precision=1 / 7)
    ours = BGNBD().fit(x, tx, T)
    theirs = BetaGeoFitter().fit(x, tx, T)
    for name in PUBLISHED:
        assert ours.params_[name] == pytest.approx(theirs.params_[name], rel=2e-3)
    assert ours.log_likelihood_ >= -theirs._negative_log_likelihood(
        theirs.params_.to_numpy(), x, tx, T, np.ones(len(x)), 0.0) * len(x) - 1e-6


def test_exact_gradient_matches_finite_differences(cdnow: crmcore.CustomerBase) -> None:
    model = BGNBD()
    data = (cdnow.frequency.astype(float), cdnow.recency, cdnow.T)
    for params in ([0.243, 4.414, 0.793, 2.426], [2.0, 0.5, 3.0, 0.7], [0.1, 30.0, 0.4, 9.0]):
        p = np.array(params)
        _, grad = model._log_likelihood_terms(p, data, gradient=True)
        assert grad is not None

        def total(q: FloatArray) -> float:
            return float(model._log_likelihood_terms(q, data, gradient=False)[0].sum())

        numeric = optimize.approx_fprime(p, total, 1e-7 * p)
        np.testing.assert_allclose(grad.sum(axis=0), numeric, rtol=1e-4, atol=1e-3)


def test_dert_matches_posterior_integral() -> None:
    # Independent route: DERT = P(alive) E[lambda / (delta + p lambda)] with
    # lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x) given alive (the BG/NBD story):
    # generalised Gauss-Laguerre over lambda inside adaptive quadrature over p.
    model = BGNBD.from_params(**PUBLISHED)
    delta = math.log(1.15) / 52
    r, alpha, a, b = PUBLISHED.values()
    for x, tx, T in [(2, 30.43, 38.86), (0, 0.0, 38.86), (10, 35.0, 38.86)]:
        y, w = special.roots_genlaguerre(80, r + x - 1)
        w = w / w.sum()
        lam = y / (alpha + T)

        def integrand(q: float, lam: FloatArray = lam, w: FloatArray = w, x: int = x) -> float:
            return float(w @ (lam / (delta + q * lam))) * float(stats.beta.pdf(q, a, b + x))

        inner, _ = integrate.quad(integrand, 0, 1, epsabs=1e-12, epsrel=1e-10, limit=200)
        expected = model.p_alive(x, tx, T)[0] * inner
        assert model.dert(delta, x, tx, T)[0] == pytest.approx(expected, rel=1e-6)


def test_probabilities_sum_to_one_and_match_the_mean(fitted: BGNBD) -> None:
    k = np.arange(400)
    probs = fitted.probability_of_purchases(k, 39.0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-8)
    assert (k * probs).sum() == pytest.approx(fitted.expected_purchases_unconditional(39.0),
                                              rel=1e-8)


def test_expected_repeat_purchase_counts(cdnow: crmcore.CustomerBase, fitted: BGNBD) -> None:
    counts = fitted.expected_repeat_purchase_counts(cdnow, max_k=7)
    assert counts.shape == (8,)
    assert counts.sum() == pytest.approx(2357)
    direct = fitted.probability_of_purchases(0, cdnow.T).sum()
    assert counts[0] == pytest.approx(direct)
    # as in FHL 2005's fit histogram, the model tracks the observed zero class (1,411
    # customers) closely
    assert counts[0] == pytest.approx(np.sum(cdnow.frequency == 0), rel=0.02)


def test_customer_base_and_arrays_give_the_same_predictions(cdnow: crmcore.CustomerBase,
                                                            fitted: BGNBD) -> None:
    x, tx, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_array_equal(fitted.p_alive(cdnow), fitted.p_alive(x, tx, T))
    np.testing.assert_array_equal(fitted.expected_purchases(5, cdnow),
                                  fitted.expected_purchases(5, x, tx, T))
    some = cdnow.take(np.arange(50))
    np.testing.assert_array_equal(fitted.dert(0.01, some), fitted.dert(
        0.01, some.frequency, some.recency, some.T))


def test_large_histories_stay_finite_and_sensible() -> None:
    model = BGNBD.from_params(**PUBLISHED)
    x = np.array([0, 1, 1000, 5000, 20000, 1000])
    T = np.array([5000.0, 5000.0, 5000.0, 5000.0, 5000.0, 1000.0])
    tx = np.array([0.0, 5000.0, 5000.0, 4999.0, 5000.0, 1000.0])
    alive = model.p_alive(x, tx, T)
    assert np.all(np.isfinite(alive))
    assert np.all((alive >= 0) & (alive <= 1))
    expected = model.expected_purchases(1.0, x, tx, T)
    assert np.all(np.isfinite(expected))
    # a heavy, recent buyer is alive and buys at about (r + x) / (alpha + T) per unit of time
    assert alive[2] > 0.999
    assert expected[2] == pytest.approx((0.243 + 1000) / (4.414 + 5000), rel=0.01)
    ll, grad = model._log_likelihood_terms(model._param_array(), (x.astype(float), tx, T),
                                           gradient=True)
    assert np.all(np.isfinite(ll))
    assert grad is not None
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(model.dert(0.001, x, tx, T)))


def test_a_equal_to_one_is_the_limit() -> None:
    # c0 / (a - 1) [...] is 0/0 at a = 1; the prediction there is the limit from both sides
    x, tx, T = np.array([0, 3]), np.array([0.0, 20.0]), np.array([30.0, 30.0])
    at_one = BGNBD.from_params(r=0.5, alpha=4.0, a=1.0, b=2.0)
    below = BGNBD.from_params(r=0.5, alpha=4.0, a=1.0 - 1e-4, b=2.0)
    above = BGNBD.from_params(r=0.5, alpha=4.0, a=1.0 + 1e-4, b=2.0)
    value = at_one.expected_purchases(20.0, x, tx, T)
    assert np.all(np.isfinite(value))
    np.testing.assert_allclose(value, 0.5 * (below.expected_purchases(20.0, x, tx, T)
                                             + above.expected_purchases(20.0, x, tx, T)),
                               rtol=1e-6)
    assert np.isfinite(at_one.expected_purchases_unconditional(10.0))


def test_bad_input_is_named() -> None:
    model = BGNBD()
    with pytest.raises(crmcore.InvalidValueError, match="recency exceeds T at row 1"):
        model.fit([1, 2], [1.0, 5.0], [2.0, 4.0])
    with pytest.raises(crmcore.InvalidValueError, match="frequency is negative at row 0"):
        model.fit([-1, 2], [0.0, 1.0], [2.0, 4.0])
    with pytest.raises(crmcore.InvalidValueError, match="T is NaN or infinite at row 1"):
        model.fit([1, 2], [1.0, 1.0], [2.0, math.nan])
    with pytest.raises(crmcore.InvalidValueError, match="recency and T are required"):
        model.fit([1, 2])
    with pytest.raises(crmcore.InvalidValueError, match="either a CustomerBase"):
        model.fit(load_cdnow_summary(), [1.0])
    fitted = BGNBD.from_params(**PUBLISHED)
    with pytest.raises(crmcore.InvalidValueError, match="t must be finite and >= 0"):
        fitted.expected_purchases(-1.0, 1, 1.0, 2.0)
    with pytest.raises(crmcore.InvalidValueError, match="discount_rate"):
        fitted.dert(0.0, 1, 1.0, 2.0)
    with pytest.raises(crmcore.InvalidValueError, match="k must be whole"):
        fitted.probability_of_purchases(1.5, 2.0)
    with pytest.raises(crmcore.InvalidValueError, match="recency exceeds T"):
        fitted.p_alive(1, 3.0, 2.0)


def test_unfitted_model_raises() -> None:
    with pytest.raises(crmcore.NotFittedError, match="BGNBD is not fitted"):
        BGNBD().p_alive(1, 1.0, 2.0)


def test_save_load_round_trip(fitted: BGNBD, cdnow: crmcore.CustomerBase,
                              tmp_path: Path) -> None:
    path = tmp_path / "bgnbd.json"
    fitted.save(path)
    assert json.loads(path.read_text())["crmcore"] == "crmcore.value.BGNBD"
    loaded = BGNBD.load(path)
    assert loaded.params_ == fitted.params_
    assert loaded.time_unit_ == "W"
    np.testing.assert_array_equal(loaded.p_alive(cdnow), fitted.p_alive(cdnow))
    assert loaded.summary().standard_errors == fitted.summary().standard_errors


def test_prediction_interval_for_p_alive(fitted: BGNBD, cdnow: crmcore.CustomerBase) -> None:
    some = cdnow.take(np.arange(20))
    interval = fitted.interval(lambda m: m.p_alive(some), n_draws=100, seed=1)
    assert np.all(interval.lower <= interval.estimate + 1e-12)
    assert np.all(interval.estimate <= interval.upper + 1e-12)
    assert np.all((interval.lower >= 0) & (interval.upper <= 1))


def test_registered_as_default_value_model(plugin_manager: object) -> None:
    assert crmcore.default_model_name("value", plugin_manager=plugin_manager) == "bgnbd"  # type: ignore[arg-type]
    model = crmcore.get_model("value", plugin_manager=plugin_manager, penalizer=0.0)  # type: ignore[arg-type]
    assert isinstance(model, BGNBD)
    assert {"bgnbd", "mbgnbd", "pareto-nbd"} <= set(
        crmcore.available_models("value", plugin_manager=plugin_manager))  # type: ignore[arg-type]
