"""Conditional PMF P(Y(t) = k | x, t_x, T) of BG/NBD, MBG/NBD and Pareto/NBD.

References
----------
Note 028: P. S. Fader and B. G. S. Hardie (2006), "Deriving the Conditional PMF of the
Pareto/NBD Model", brucehardie.com/notes/028; lifetimes' ``ParetoNBDFitter.
conditional_probability_of_n_purchases_up_to_time`` implements its closed form (Gauss
hypergeometric functions) and is run side by side here.
FHL 2005: P. S. Fader, B. G. S. Hardie and K. L. Lee, "'Counting Your Customers' the Easy
Way", Marketing Science 24(2), 275-284: eq. 8 (the unconditional BG/NBD PMF) and the CDNOW
estimates r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 used as test parameters; the
Pareto/NBD CDNOW estimates r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67 (FHL 2005, JMR).
lifetimes has no conditional PMF for the BG/NBD family: there the references are the
model's own story (Monte Carlo), normalisation and the conditional mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifetimes import ParetoNBDFitter
from numpy.typing import NDArray

import crmcore
from crmcore.datasets import load_cdnow_summary
from crmcore.value import BGNBD, MBGNBD, ParetoNBD

FloatArray = NDArray[np.float64]
Model = BGNBD | MBGNBD | ParetoNBD

BG_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO_PARAMS = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}

# histories (x, t_x, T), weeks: new, one-off, CDNOW customer ID 1 (note 004), heavy,
# long-gone, and 1,000 purchases over 1,000 weeks
X = np.array([0, 1, 2, 10, 20, 1000])
TX = np.array([0.0, 5.0, 30.43, 38.0, 2.0, 999.0])
T = np.array([39.0, 39.0, 38.86, 39.0, 39.0, 1000.0])


def _models() -> list[Model]:
    return [BGNBD.from_params(**BG_PARAMS), MBGNBD.from_params(**BG_PARAMS),
            ParetoNBD.from_params(**PARETO_PARAMS)]


MODELS = pytest.mark.parametrize("model", _models(), ids=["bgnbd", "mbgnbd", "pareto-nbd"])


def test_pareto_matches_lifetimes_closed_form() -> None:
    # note 028's closed form, as lifetimes implements it, at equal parameters
    ours = ParetoNBD.from_params(**PARETO_PARAMS)
    theirs = ParetoNBDFitter()
    theirs.params_ = pd.Series(PARETO_PARAMS)
    x, tx, t_obs = X[:5], TX[:5], T[:5]
    for t in (0.5, 10.0, 39.0, 200.0):
        for k in range(6):
            expected = [theirs.conditional_probability_of_n_purchases_up_to_time(
                k, t, xi, ti, Ti) for xi, ti, Ti in zip(x, tx, t_obs, strict=True)]
            got = ours.conditional_probability_of_purchases(k, t, x, tx, t_obs)
            np.testing.assert_allclose(got, np.asarray(expected, dtype=float), rtol=1e-9,
                                       atol=1e-13)


@MODELS
@pytest.mark.parametrize("t", [0.5, 39.0, 1000.0])
def test_sums_to_one_and_mean_is_expected_purchases(model: Model, t: float) -> None:
    k = np.arange(12_000, dtype=float)[:, None]
    probs = model.conditional_probability_of_purchases(k, t, X, TX, T)
    assert probs.shape == (len(k), len(X))
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, rtol=0, atol=1e-8)
    mean = (k * probs).sum(axis=0)
    np.testing.assert_allclose(mean, model.expected_purchases(t, X, TX, T), rtol=1e-8,
                               atol=1e-10)


@MODELS
def test_no_time_means_no_purchases(model: Model) -> None:
    for t in (0.0, 1e-9):
        probs = model.conditional_probability_of_purchases(np.arange(4)[:, None], t, X, TX, T)
        np.testing.assert_allclose(probs[0], 1.0, atol=1e-6)
        np.testing.assert_allclose(probs[1:], 0.0, atol=1e-6)


@MODELS
def test_a_customer_seen_for_no_time_is_a_new_customer(model: Model) -> None:
    # x = t_x = T = 0: the conditional PMF is the unconditional one (FHL 2005 eq. 8 for the
    # BG/NBD; for the MBG/NBD P(alive at 0) = b/(a+b) and p | alive ~ Beta(a, b+1)).
    k = np.arange(8)
    for t in (1.0, 39.0):
        np.testing.assert_allclose(model.conditional_probability_of_purchases(k, t, 0, 0.0, 0.0),
                                   model.probability_of_purchases(k, t), rtol=1e-7, atol=1e-12)


@MODELS
def test_dead_customers_buy_nothing(model: Model) -> None:
    # P(Y = 0) >= 1 - P(alive), and P(Y > 0) <= P(alive)
    probs = model.conditional_probability_of_purchases(np.arange(5)[:, None], 52.0, X, TX, T)
    alive = model.p_alive(X, TX, T)
    assert np.all(probs[0] >= 1.0 - alive - 1e-12)
    assert np.all(probs[1:].sum(axis=0) <= alive + 1e-12)


@MODELS
def test_accepts_a_customer_base(model: Model) -> None:
    base = load_cdnow_summary()
    from_base = model.conditional_probability_of_purchases(2, 39.0, base)
    from_arrays = model.conditional_probability_of_purchases(2, 39.0, base.frequency,
                                                             base.recency, base.T)
    assert from_base.shape == (len(base.frequency),)
    np.testing.assert_array_equal(from_base, from_arrays)


# -- Monte Carlo: the model's story over (0, T + t], split at T ------------------------------

def _event_times(rng: np.random.Generator, rate: FloatArray, end: FloatArray) -> FloatArray:
    """Poisson event times on (0, end] per customer, sorted, padded with inf."""
    n_events = rng.poisson(rate * end)
    width = max(int(n_events.max()), 1)
    times = np.sort(np.where(np.arange(width)[None, :] < n_events[:, None],
                             rng.random((len(rate), width)) * end[:, None], np.inf), axis=1)
    return np.asarray(times, dtype=np.float64)


def _simulate(model: Model, n: int, t: float, seed: int) -> tuple[FloatArray, ...]:
    """(x, t_x, T, Y): histories at T and purchases in (T, T + t], drawn from the story."""
    rng = np.random.default_rng(seed)
    params = model.params_
    t_obs = rng.uniform(5.0, 40.0, n)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    if isinstance(model, ParetoNBD):
        lifetime = rng.standard_exponential(n) / rng.gamma(params["s"], 1.0 / params["beta"], n)
        times = _event_times(rng, lam, np.minimum(lifetime, t_obs + t))
    else:
        p = rng.beta(params["a"], params["b"], n)
        # repeat purchases made before dropping out (MBG/NBD: a coin also at time 0)
        limit = rng.geometric(p) - (1 if isinstance(model, MBGNBD) else 0)
        times = _event_times(rng, lam, t_obs + t)
        times = np.where(np.arange(times.shape[1])[None, :] < limit[:, None], times, np.inf)
    x = (times <= t_obs[:, None]).sum(axis=1)
    tx = np.where(x > 0, times[np.arange(n), np.maximum(x - 1, 0)], 0.0)
    y = ((times > t_obs[:, None]) & (times <= (t_obs + t)[:, None])).sum(axis=1)
    return x.astype(float), tx, t_obs, y.astype(float)


@MODELS
def test_matches_simulation_of_the_story(model: Model) -> None:
    # Given each simulated history, 1[Y_i = k] is Bernoulli(P_i(k)) under the model, so
    # sum_i 1[Y_i = k] - sum_i P_i(k) has standard deviation sqrt(sum_i P_i (1 - P_i)). Checked
    # per stratum of x (12 comparisons) at 5 standard errors.
    t = 20.0
    x, tx, t_obs, y = _simulate(model, 40_000, t, seed=2006)
    k = np.arange(4)[:, None]
    probs = model.conditional_probability_of_purchases(k, t, x, tx, t_obs)
    for stratum in (x == 0, (x >= 1) & (x <= 2), x >= 3):
        assert stratum.sum() > 1000
        expected = probs[:, stratum].sum(axis=1)
        observed = (y[stratum][None, :] == k).sum(axis=1)
        sd = np.sqrt((probs[:, stratum] * (1.0 - probs[:, stratum])).sum(axis=1))
        assert np.all(np.abs(observed - expected) < 5.0 * sd), (observed, expected, sd)


# -- stability and properties -----------------------------------------------------------------

@MODELS
def test_extreme_histories_stay_finite(model: Model) -> None:
    x = np.array([0, 5000, 5000, 3, 1])
    tx = np.array([0.0, 4999.9, 10.0, 1.0, 3000.0])
    t_obs = np.array([5000.0, 5000.0, 5000.0, 5000.0, 3000.0])
    probs = model.conditional_probability_of_purchases(np.array([0, 1, 10, 5000])[:, None],
                                                       np.array([[1.0], [100.0], [1e4], [5e3]]),
                                                       x, tx, t_obs)
    assert np.all(np.isfinite(probs))
    assert np.all((probs >= 0) & (probs <= 1))


@MODELS
@given(k=st.integers(0, 400), t=st.floats(0.0, 2000.0),
       x=st.integers(0, 2000), share=st.floats(0.0, 1.0), t_obs=st.floats(0.0, 3000.0))
def test_probabilities_are_in_unit_interval(model: Model, k: int, t: float, x: int,
                                             share: float, t_obs: float) -> None:
    tx = share * t_obs if x > 0 else 0.0
    p = model.conditional_probability_of_purchases(k, t, x, tx, t_obs)
    assert p.shape == (1,)
    assert np.isfinite(p[0])
    assert 0.0 <= p[0] <= 1.0


@MODELS
def test_bad_input_is_named(model: Model) -> None:
    args = (X, TX, T)
    with pytest.raises(crmcore.InvalidValueError, match="k must be whole numbers >= 0"):
        model.conditional_probability_of_purchases(-1, 1.0, *args)
    with pytest.raises(crmcore.InvalidValueError, match="k must be whole numbers >= 0; not at "
                                                         "row 1"):
        model.conditional_probability_of_purchases([1, 1.5], 1.0, 1, 0.5, 1.0)
    with pytest.raises(crmcore.InvalidValueError, match="t must be finite and >= 0"):
        model.conditional_probability_of_purchases(1, -2.0, *args)
    with pytest.raises(crmcore.InvalidValueError, match="t must be finite and >= 0"):
        model.conditional_probability_of_purchases(1, np.nan, *args)
    with pytest.raises(crmcore.InvalidValueError, match="recency exceeds T at row 1"):
        model.conditional_probability_of_purchases(1, 1.0, [1, 1], [1.0, 3.0], [2.0, 2.0])
    with pytest.raises(crmcore.InvalidValueError, match="recency and T are required"):
        model.conditional_probability_of_purchases(1, 1.0, X)
    with pytest.raises(crmcore.InvalidValueError, match="either a CustomerBase"):
        model.conditional_probability_of_purchases(1, 1.0, load_cdnow_summary(), TX)


def test_pareto_quadrature_size_is_checked() -> None:
    model = ParetoNBD.from_params(**PARETO_PARAMS)
    with pytest.raises(crmcore.InvalidValueError, match="n_nodes"):
        model.conditional_probability_of_purchases(1, 1.0, X, TX, T, n_nodes=8)


def test_pareto_quadrature_refines_sharp_peaks() -> None:
    # 1,318 purchases in under 2 weeks: the posterior purchase rate is so sharp that 8 x 32
    # nodes alone are off by ~4e-5; the automatic refinement must match 8 x 2048 nodes.
    model = ParetoNBD.from_params(r=0.3556, alpha=0.1308, s=5.089, beta=96.13)
    k = np.arange(0, 400, 7)
    args = (k, 81.08, 1318, 1.87, 1.8738)
    np.testing.assert_allclose(model.conditional_probability_of_purchases(*args),
                               model.conditional_probability_of_purchases(*args, n_nodes=2048),
                               rtol=1e-8, atol=1e-12)
