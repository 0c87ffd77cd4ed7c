"""Pareto/NBD at extreme parameters and on the boundary of its parameter space (issue 11).

The limits are checked against their own closed forms (one dropout rate for everyone; one
purchase rate too), the stable evaluation against the hypergeometric one where both hold and
against lifetimes where lifetimes is finite, and every prediction for finiteness over the
whole range a fit can return (``e^-30`` to ``e^30``)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifetimes import ParetoNBDFitter
from scipy import integrate

import crmcore
from crmcore.datasets import load_cdnow_summary
from crmcore.value import ParetoNBD, _pareto

from .test_bad_inputs_value import HISTORY
from .test_bad_inputs_value import _all_predictions as _predictions


def _terms(params: tuple[float, ...], data: tuple[np.ndarray, ...]
           ) -> tuple[np.ndarray, np.ndarray]:
    ll, grad = ParetoNBD()._log_likelihood_terms(np.array(params), data, gradient=True)
    assert grad is not None
    return ll, grad


# -- the limits against their closed forms ----------------------------------------------


def test_constant_dropout_limit_matches_its_closed_form() -> None:
    # s, beta -> infinity with s/beta = mu: every customer's lifetime is exponential(mu).
    # L = Gamma(r+x)/Gamma(r) alpha^r [(alpha+T)^-(r+x) e^(-mu T)
    #     + mu integral_tx^T (alpha+tau)^-(r+x) e^(-mu tau) dtau]
    r, alpha, mu, delta, horizon = 0.8, 5.0, 0.05, 0.01, 10.0
    x, tx, T = HISTORY
    log_alive = -(r + x) * np.log(alpha + T) - mu * T
    dead = np.array([
        mu * integrate.quad(lambda u, xi=xi: (alpha + u) ** -(r + xi) * math.exp(-mu * u),
                            a, b, epsabs=0.0, epsrel=1e-12)[0]
        for xi, a, b in zip(x, tx, T, strict=True)])
    p_alive = 1.0 / (1.0 + dead / np.exp(log_alive))
    rate = (r + x) / (alpha + T)  # E[lambda | alive, x, T]
    expected = p_alive * rate * -math.expm1(-mu * horizon) / mu
    dert = p_alive * rate / (delta + mu)
    ll = (np.array([math.lgamma(r + xi) - math.lgamma(r) for xi in x]) + r * np.log(alpha)
          + np.log(np.exp(log_alive) + dead))
    for scale in (1e11, 7.2e12, 1e13):  # s = mu scale >= 5e9: within 1e-9 of the limit
        model = ParetoNBD.from_params(r=r, alpha=alpha, s=mu * scale, beta=scale)
        np.testing.assert_allclose(model.p_alive(x, tx, T), p_alive, rtol=1e-7)
        np.testing.assert_allclose(model.expected_purchases(horizon, x, tx, T), expected,
                                   rtol=1e-7)
        np.testing.assert_allclose(model.dert(delta, x, tx, T), dert, rtol=1e-7)
        np.testing.assert_allclose(_terms((r, alpha, mu * scale, scale), HISTORY)[0], ll,
                                   rtol=1e-8)


def test_constant_rates_limit_matches_its_closed_form() -> None:
    # r, alpha and s, beta -> infinity: one purchase rate lambda and one dropout rate mu.
    # L = lambda^x [e^-(lambda+mu) T + mu/(lambda+mu) (e^-(lambda+mu) tx - e^-(lambda+mu) T)]
    lam, mu = 0.4, 0.05
    x, tx, T = HISTORY
    both = lam + mu
    alive = np.exp(-both * T)
    dead = mu / both * (np.exp(-both * tx) - np.exp(-both * T))
    ll = x * math.log(lam) + np.log(alive + dead)
    scale = 7.2e10
    model = ParetoNBD.from_params(r=lam * scale, alpha=scale, s=mu * scale, beta=scale)
    np.testing.assert_allclose(_terms((lam * scale, scale, mu * scale, scale), HISTORY)[0],
                               ll, rtol=1e-8)
    np.testing.assert_allclose(model.p_alive(x, tx, T), alive / (alive + dead), rtol=1e-7)
    # a new customer's purchases: Poisson(lambda) over an exponential(mu) lifetime
    t, k = 10.0, np.arange(4)
    through = np.exp(-mu * t) * np.exp(-lam * t) * (lam * t) ** k / np.array(
        [math.factorial(int(i)) for i in k])
    died = np.array([integrate.quad(
        lambda u, i=i: mu * math.exp(-mu * u) * math.exp(-lam * u) * (lam * u) ** i
        / math.factorial(int(i)), 0.0, t, epsabs=0.0, epsrel=1e-12)[0] for i in k])
    np.testing.assert_allclose(model.probability_of_purchases(k, t), through + died,
                               rtol=1e-7)


def test_predictions_converge_to_the_limit() -> None:
    # as s, beta grow with s/beta fixed, every prediction approaches the constant-dropout
    # limit (differences shrink like 1/s), across the switch between the hypergeometric and
    # the stable evaluation
    mu = 0.05
    rows = [_predictions(ParetoNBD.from_params(r=0.8, alpha=5.0, s=mu * k, beta=k))
            for k in (40.0, 400.0, 4e3, 4e4, 4e6, 4e10)]
    for coarse, fine in itertools.pairwise(rows):
        assert np.max(np.abs(fine - rows[-1])) <= np.max(np.abs(coarse - rows[-1])) + 1e-12
    np.testing.assert_allclose(rows[-2], rows[-1], rtol=1e-4, atol=1e-12)


# -- the stable evaluation against the hypergeometric one and against lifetimes ----------


@pytest.mark.parametrize("params", [(0.55, 10.6, 0.61, 11.7), (2.0, 5.0, 30.0, 60.0),
                                    (40.0, 300.0, 45.0, 20.0), (0.2, 10.0, 0.1, 0.6),
                                    (0.01, 0.1, 0.01, 0.1), (3.0, 2.0, 8.0, 30.0)])
def test_stable_evaluation_agrees_with_the_hypergeometric_one(
        monkeypatch: pytest.MonkeyPatch, params: tuple[float, ...]) -> None:
    base = load_cdnow_summary()
    data = (base.frequency.astype(float), base.recency.astype(float), base.T.astype(float))
    exact, exact_grad = _terms(params, data)
    assert not _pareto._needs_stable(*params)
    monkeypatch.setattr(_pareto, "_STABLE_SHAPE", 0.0)
    stable, stable_grad = _terms(params, data)
    np.testing.assert_allclose(stable, exact, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(stable_grad, exact_grad, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("params", [(0.8, 5.0, 3e3, 6e4), (1e5, 2e5, 0.6, 12.0),
                                    (7.2e10, 1.4e11, 7.2e10, 1.4e12), (0.5, 1e-3, 1.0, 1e3)])
def test_stable_gradient_is_the_derivative_of_the_value(params: tuple[float, ...]) -> None:
    theta = np.log(np.array(params))
    grad = _terms(params, HISTORY)[1] * np.exp(theta)  # d ll / d log(param)
    for i in range(4):
        h = 1e-6
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        numeric = (_terms(tuple(np.exp(up)), HISTORY)[0]
                   - _terms(tuple(np.exp(down)), HISTORY)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, i], numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("s", "beta"), [(0.61, 11.7), (5.0, 60.0), (30.0, 300.0),
                                         (200.0, 2000.0), (2000.0, 2e4)])
def test_agrees_with_lifetimes_where_lifetimes_is_finite(s: float, beta: float) -> None:
    reference = ParetoNBDFitter()
    reference.params_ = pd.Series({"r": 0.8, "alpha": 5.0, "s": s, "beta": beta})
    ours = ParetoNBD.from_params(r=0.8, alpha=5.0, s=s, beta=beta)
    x, tx, T = HISTORY
    with np.errstate(all="ignore"):
        alive = np.asarray(reference.conditional_probability_alive(x, tx, T))
        expected = np.asarray(
            reference.conditional_expected_number_of_purchases_up_to_time(10.0, x, tx, T))
    finite = np.isfinite(alive) & np.isfinite(expected)  # lifetimes' 2F1 fails for large s
    if s <= 30:
        assert finite.all()
    assert np.all(np.isfinite(ours.p_alive(x, tx, T)))
    np.testing.assert_allclose(ours.p_alive(x, tx, T)[finite], alive[finite], rtol=1e-9)
    np.testing.assert_allclose(ours.expected_purchases(10.0, x, tx, T)[finite],
                               expected[finite], rtol=1e-9)


@pytest.mark.parametrize(("delta", "s", "mu"), [(0.5, 0.1, 2.0), (0.01, 49.9, 0.05),
                                                (0.002, 1e5, 0.01), (0.01, 7.2e10, 0.05)])
def test_dert_discount_is_the_laplace_transform(delta: float, s: float, mu: float) -> None:
    c = s / mu + np.array([0.5, 39.0])
    expected = [integrate.quad(lambda u, ci=ci: math.exp(-delta * u - s * math.log1p(u / ci)),
                               0.0, np.inf, epsabs=0.0, epsrel=1e-12, limit=200)[0]
                for ci in c]
    np.testing.assert_allclose(_pareto._mean_discount(delta, s, c), expected, rtol=1e-10)


# -- finite for any parameters a fit can return -----------------------------------------

_LOG_PARAM = st.floats(-30.0, 30.0, allow_nan=False)


@settings(max_examples=25)
@given(log_r=_LOG_PARAM, log_alpha=_LOG_PARAM, log_s=_LOG_PARAM, log_beta=_LOG_PARAM)
def test_predictions_finite_for_any_parameters(log_r: float, log_alpha: float, log_s: float,
                                               log_beta: float) -> None:
    model = ParetoNBD.from_params(r=math.exp(log_r), alpha=math.exp(log_alpha),
                                  s=math.exp(log_s), beta=math.exp(log_beta))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        values = _predictions(model)
        ll = _terms(tuple(model.params_.values()), HISTORY)
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)
    x, tx, T = HISTORY
    assert np.all(model.p_alive(x, tx, T) <= 1.0)
    assert np.all(np.isfinite(ll[0]))
    assert np.all(np.isfinite(ll[1]))


# -- fits on the boundary ----------------------------------------------------------------


def _constant_dropout_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # every customer's lifetime is exponential with the same rate 0.03 per week
    x, tx, T = crmcore.value.simulate_pareto_nbd(150, r=1.2, alpha=6.0, s=3e8, beta=1e10,
                                                 T=40.0, seed=1)
    return x.astype(float), tx, T


def test_boundary_fit_warns_and_predicts_the_limit() -> None:
    x, tx, T = _constant_dropout_data()
    with pytest.warns(crmcore.ConvergenceWarning, match="boundary") as record:
        model = ParetoNBD().fit(x, tx, T)
    assert len(record) == 1
    boundary = model.boundary_
    assert boundary is not None
    assert {"s": "infinity", "beta": "infinity"}.items() <= boundary["runaway"].items()
    assert "s" in boundary["pinned"]
    mu = model.params_["s"] / model.params_["beta"]
    assert 0.005 < mu < 0.2
    assert np.isnan(model.standard_errors_["s"])
    assert np.isfinite(model.standard_errors_["alpha"])
    assert np.all(np.isfinite(_predictions(model)))
    # the limit's maximum beats the parameters the data were drawn from
    truth = _terms((1.2, 6.0, 3e8, 1e10), (x, tx, T))[0].sum()
    assert model.log_likelihood_ >= truth - 1e-6
    loaded = ParetoNBD.from_json(model.to_json())
    assert loaded.boundary_ == model.boundary_
    interval = model.interval(lambda m: m.p_alive(x[:5], tx[:5], T[:5]), n_draws=20, seed=1)
    assert np.all(np.isfinite(interval.lower))


def test_identified_fit_is_unchanged_and_does_not_warn() -> None:
    # the published CDNOW estimates (Fader, Hardie & Lee 2005): r=0.55, alpha=10.58,
    # s=0.61, beta=11.67
    with warnings.catch_warnings():
        warnings.simplefilter("error", crmcore.CRMWarning)
        model = ParetoNBD().fit(load_cdnow_summary())
    assert model.boundary_ is None
    params = model.params_
    assert params["r"] == pytest.approx(0.5534, abs=2e-3)
    assert params["alpha"] == pytest.approx(10.58, abs=0.05)
    assert params["s"] == pytest.approx(0.6061, abs=2e-3)
    assert params["beta"] == pytest.approx(11.67, abs=0.1)


def test_score_notes_a_boundary_fit() -> None:
    x, tx, T = _constant_dropout_data()
    base = crmcore.CustomerBase.from_summary(
        np.arange(len(x)), frequency=x, recency=tx, T=T, time_unit="W")
    with pytest.warns(crmcore.ConvergenceWarning):
        scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W",
                               horizon=52.0, value_model="pareto-nbd", spend_model=20.0,
                               lifecycle_model=False, loyalty_model=False)
    notes = [n for n in scores.notes if "boundary" in n]
    assert len(notes) == 1
    assert "ParetoNBD" in notes[0]
    assert "s" in notes[0]
    assert np.all(np.isfinite(scores.clv))


def test_scipy_2f1_overflow_near_one_falls_back_to_the_series() -> None:
    # SciPy's hyp2f1(1, 2; 101; 20/21) is inf (scipy 1.11 to 1.17 at least): the history
    # x = 98 with t_x = T found it (P(alive) was NaN). The direct sum is exact there.
    from scipy.special import hyp2f1

    from crmcore.value._pareto import _direct_series

    z = np.array([20 / 21, 0.5, 0.99])
    m, c = np.array([2.0, 2.0, 5.0]), np.array([101.0, 101.0, 30.0])
    expected = [float(sum(np.prod([(mm + j) / (cc + j) * zz for j in range(n)])
                          for n in range(4000))) for mm, cc, zz in zip(m, c, z, strict=True)]
    np.testing.assert_allclose(_direct_series(m, c, z), expected, rtol=1e-12)
    assert np.isfinite(hyp2f1(1.0, 5.0, 30.0, 0.99))  # where SciPy is finite, they agree
    np.testing.assert_allclose(_direct_series(m[2:], c[2:], z[2:]), hyp2f1(1.0, 5.0, 30.0, 0.99),
                               rtol=1e-10)
    model = ParetoNBD.from_params(r=1.0, alpha=1.0, s=1.0, beta=21.0)
    assert model.p_alive([98], [0.0], [0.0])[0] == pytest.approx(1.0)
    assert np.isfinite(model.expected_purchases(1.0, [98], [0.0], [1e-9])[0])


def test_a_weakly_identified_maximum_is_not_traded_for_a_worse_limit() -> None:
    # 82 simulated Pareto/NBD customers: the optimiser ends at a maximum (gradient zero)
    # whose log(beta) has a standard error above 10, so the runaway diagnosis names
    # beta -> infinity; that face ("no dropout") is 14 nats less likely than the end point
    # and was once returned as the fit. Now no face qualifies and the error says so.
    data = crmcore.value.simulate_pareto_nbd(
        82, r=0.5, alpha=5.0, s=1.5211149655354237, beta=69.5250435687211, T=30.0, seed=157)
    with pytest.raises(crmcore.ConvergenceError, match="no limit model") as info:
        ParetoNBD().fit(*data)
    diagnostics = info.value.diagnostics
    assert diagnostics["runaway"] == {"beta": "infinity"}
    assert diagnostics["end_log_likelihood"] == pytest.approx(-531.496, abs=1e-3)
    faces = diagnostics["faces"]
    assert all(f.get("below_end_point") for f in faces if f["log_likelihood"] is not None)
    assert max(f["log_likelihood"] for f in faces
               if f["log_likelihood"] is not None) < -540.0
