"""BG/BB and the shifted-beta-geometric model on the boundary of their parameter spaces
(issue 11): with small data the likelihood can rise towards one transaction, dropout or churn
probability for everyone (the beta distribution's parameters run off to infinity with their
ratio fixed). There the fit lands on that limit with a ConvergenceWarning, and the limit's
likelihood and predictions are checked against their closed forms."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmcore
from crmcore.value import BGBB, ShiftedBetaGeometric

SCALE = 7.2e10  # e^25, where the boundary fits hold the parameters that run off


# -- sBG ---------------------------------------------------------------------------------

# a small cohort (52 customers) whose churn looks the same for everyone
COHORT = [52, 42, 38, 30, 21, 16]


def _geometric(alive: list[int]) -> tuple[float, float]:
    """The geometric model's MLE of the churn probability and its log-likelihood."""
    counts = np.asarray(alive, dtype=float)
    lost = counts[:-1] - counts[1:]
    exposure = counts[:-1].sum()  # renewal decisions taken
    theta = lost.sum() / exposure
    periods = np.arange(1, len(counts))
    ll = (np.sum(lost * (math.log(theta) + (periods - 1) * math.log1p(-theta)))
          + counts[-1] * len(lost) * math.log1p(-theta))
    return float(theta), float(ll)


def test_sbg_boundary_fit_is_the_geometric_model() -> None:
    with pytest.warns(crmcore.ConvergenceWarning, match="same churn probability"):
        model = ShiftedBetaGeometric().fit(COHORT)
    boundary = model.boundary_
    assert boundary is not None
    assert boundary["runaway"] == {"alpha": "infinity", "beta": "infinity"}
    a, b = model.params_["alpha"], model.params_["beta"]
    theta, ll = _geometric(COHORT)
    assert a / (a + b) == pytest.approx(theta, rel=1e-7)
    assert model.log_likelihood_ == pytest.approx(ll, rel=1e-9)
    t = np.arange(0, 12)
    np.testing.assert_allclose(model.survival(t), (1 - theta) ** t, rtol=1e-8)
    np.testing.assert_allclose(model.churn_probability(t[1:]),
                               theta * (1 - theta) ** (t[1:] - 1), rtol=1e-8)
    d = 0.1
    assert model.discounted_expected_lifetime(d)[0] == pytest.approx(
        1 / (1 - (1 - theta) / (1 + d)), rel=1e-8)
    assert model.expected_lifetime_ == pytest.approx(1 / theta, rel=1e-8)
    assert np.isnan(model.standard_errors_["alpha"])


def test_sbg_published_fit_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", crmcore.CRMWarning)
        model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    assert model.boundary_ is None
    assert model.params_["alpha"] == pytest.approx(0.704, abs=1e-3)


@pytest.mark.parametrize(("a", "b"), [(1e5, 4e5), (SCALE, 4 * SCALE), (1e13, 4e13),
                                      (1.4e-11, 3.0), (0.5, 1e12)])
def test_sbg_predictions_finite_at_extreme_parameters(a: float, b: float) -> None:
    model = ShiftedBetaGeometric.from_params(alpha=a, beta=b)
    t = np.arange(0, 30)
    values = np.concatenate([model.survival(t), model.churn_probability(t[1:]),
                             model.retention_rate(t[1:]),
                             model.discounted_expected_lifetime([0.01, 0.1]),
                             model.derl(0.1, [0, 5, 20])])
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)


# -- BG/BB -------------------------------------------------------------------------------

HISTORY = (np.array([0.0, 1.0, 3.0, 6.0]), np.array([0.0, 2.0, 5.0, 6.0]),
           np.full(4, 6.0))


def _bgbb_predictions(model: BGBB) -> np.ndarray:
    x, tx, n = HISTORY
    return np.concatenate([
        model.p_alive(x, tx, n), model.p_alive(x, tx, n, periods_ahead=1),
        model.expected_purchases(5, x, tx, n),
        model.expected_purchases_unconditional(np.array([1.0, 6.0])),
        model.probability_of_purchases(np.arange(4), 6),
        model.dert(0.1, x, tx, n),
    ])


def test_bgbb_limit_matches_its_closed_form() -> None:
    # one transaction probability p and one dropout probability theta:
    # L = p^x (1-p)^(n-x) (1-theta)^n
    #     + sum_{i=0}^{n-tx-1} p^x (1-p)^(tx-x+i) theta (1-theta)^(tx+i)
    p, theta = 0.6, 0.2
    x, tx, n = HISTORY
    alive = p ** x * (1 - p) ** (n - x) * (1 - theta) ** n
    died = np.array([sum(p ** xi * (1 - p) ** (ti - xi + i) * theta * (1 - theta) ** (ti + i)
                         for i in range(int(ni - ti)))
                     for xi, ti, ni in zip(x, tx, n, strict=True)])
    params = np.array([p * SCALE, (1 - p) * SCALE, theta * SCALE, (1 - theta) * SCALE])
    ll, grad = BGBB()._log_likelihood_terms(params, HISTORY, gradient=True)
    np.testing.assert_allclose(ll, np.log(alive + died), rtol=1e-9)
    assert grad is not None
    assert np.all(np.isfinite(grad))
    model = BGBB.from_params(**dict(zip(BGBB.param_names, params, strict=True)))
    np.testing.assert_allclose(model.p_alive(x, tx, n), alive / (alive + died), rtol=1e-8)
    # E[X(n, n+5)] = P(alive) p sum_{i=1}^{5} (1-theta)^i
    expected = alive / (alive + died) * p * sum((1 - theta) ** i for i in range(1, 6))
    np.testing.assert_allclose(model.expected_purchases(5, x, tx, n), expected, rtol=1e-8)


def test_bgbb_predictions_converge_to_the_limit() -> None:
    p, theta = 0.6, 0.2
    rows = [_bgbb_predictions(BGBB.from_params(alpha=p * k, beta=(1 - p) * k,
                                               gamma=theta * k, delta=(1 - theta) * k))
            for k in (50.0, 5e2, 5e3, 5e4, 5e6, SCALE)]
    for coarse, fine in itertools.pairwise(rows):
        assert np.max(np.abs(fine - rows[-1])) <= np.max(np.abs(coarse - rows[-1])) + 1e-12
    np.testing.assert_allclose(rows[-2], rows[-1], rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("scale", [9e3, 1.1e4])
def test_bgbb_stable_and_betaln_forms_agree_at_the_switch(scale: float) -> None:
    # the likelihood switches to rising factorials above alpha + beta = 1e4: no jump
    from crmcore.value import _bgbb

    params = np.array([0.6 * scale, 0.4 * scale, 2.0, 5.0])
    plain = _bgbb._log_likelihood_block(params, *HISTORY, gradient=True)
    stable = _bgbb._stable_block(params, *HISTORY, gradient=True)
    np.testing.assert_allclose(stable[0], plain[0], rtol=1e-10)
    assert plain[1] is not None
    assert stable[1] is not None
    np.testing.assert_allclose(stable[1], plain[1], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize(("a", "b", "g", "d"), [
    (SCALE, SCALE, SCALE, 4 * SCALE), (1e13, 2e13, 0.5, 2.0), (1.4e-11, 3.0, SCALE, SCALE),
    (0.7, 1e12, 1.4e-11, 2.0), (1.2, 0.8, 1e5, 3e5)])
def test_bgbb_predictions_finite_at_extreme_parameters(a: float, b: float, g: float,
                                                       d: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        values = _bgbb_predictions(BGBB.from_params(alpha=a, beta=b, gamma=g, delta=d))
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)


def test_bgbb_boundary_fit_warns_and_predicts_the_limit() -> None:
    # every customer drops out with probability 0.2 after each opportunity
    x, tx, n = crmcore.value.simulate_bgbb(150, alpha=1.2, beta=0.8, gamma=2e9, delta=8e9,
                                           n_periods=6, seed=1)
    with pytest.warns(crmcore.ConvergenceWarning, match="same dropout probability"):
        model = BGBB().fit(x, tx, n)
    boundary = model.boundary_
    assert boundary is not None
    assert boundary["runaway"] == {"gamma": "infinity", "delta": "infinity"}
    g, d = model.params_["gamma"], model.params_["delta"]
    assert 0.05 < g / (g + d) < 0.5
    assert np.isfinite(model.standard_errors_["alpha"])
    assert np.all(np.isfinite(_bgbb_predictions(model)))
    data = (x.astype(float), tx.astype(float), n.astype(float))
    truth = BGBB()._log_likelihood_terms(np.array([1.2, 0.8, 2e9, 8e9]), data,
                                         gradient=False)[0].sum()
    assert model.log_likelihood_ >= truth - 1e-6


_LOG_PARAM = st.floats(-30.0, 30.0, allow_nan=False)


@settings(max_examples=25)
@given(la=_LOG_PARAM, lb=_LOG_PARAM, lg=_LOG_PARAM, ld=_LOG_PARAM)
def test_finite_for_any_parameters_a_fit_can_return(la: float, lb: float, lg: float,
                                                    ld: float) -> None:
    params = np.exp([la, lb, lg, ld])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        values = _bgbb_predictions(BGBB.from_params(
            **dict(zip(BGBB.param_names, params, strict=True))))
        ll, grad = BGBB()._log_likelihood_terms(params, HISTORY, gradient=True)
        sbg = ShiftedBetaGeometric.from_params(alpha=params[0], beta=params[1])
        t = np.arange(0.0, 20.0)
        contractual = np.concatenate([sbg.survival(t), sbg.churn_probability(t[1:]),
                                      sbg.discounted_expected_lifetime([0.01, 0.1]),
                                      sbg.derl(0.1, [0, 5])])
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)
    assert np.all(np.isfinite(ll))
    assert grad is not None
    assert np.all(np.isfinite(grad))
    assert np.all(np.isfinite(contractual))
    assert np.all(sbg.survival(t) <= 1.0)
