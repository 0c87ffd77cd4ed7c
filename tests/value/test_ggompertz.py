"""Gamma-Gompertz/NBD: the likelihood against adaptive quadrature and against the Pareto/NBD
limit, exact gradients, CLVTools' published CDNOW fit, predictions against simulation,
recovery of simulated parameters, saving and the registry.

References
----------
CLVTools (P. Bachmann et al.), ``tests/testthat/test_correctness_ggomnbd_nocov.R``: GGompertz/NBD
on ``cdnow`` (weekly, CLVTools' default estimation split), coefficients ``r = 0.55313, alpha =
10.5758, b = 0.0000011, s = 0.60682, beta = 0.000013``, LL ``-9594.9762``: ``b`` and ``beta``
run to 0 with ``beta / b`` finite, the Pareto/NBD limit. CLVTools' ``cdnow`` is the 1/10
CDNOW sample bundled with crmcore (``load_cdnow_summary``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pluggy
import pytest
from scipy import integrate
from scipy.special import gammaln

import crmcore
from crmcore import ConvergenceError
from crmcore.datasets import load_cdnow_summary
from crmcore.value import GGompertzNBD, ParetoNBD, simulate_ggompertz_nbd

PARAMS = {"r": 0.8, "alpha": 5.0, "b": 0.3, "s": 1.5, "beta": 20.0}
CLVTOOLS = {"r": 0.55313, "alpha": 10.5758, "b": 0.0000011, "s": 0.60682, "beta": 0.000013}
CLVTOOLS_LL = -9594.9762


def _theta(params: dict[str, float]) -> np.ndarray:
    return np.array([params[n] for n in GGompertzNBD.param_names])


def test_likelihood_is_the_integral() -> None:
    x, tx, t_obs = simulate_ggompertz_nbd(40, **PARAMS, T=np.linspace(5, 90, 40), seed=4)
    model = GGompertzNBD.from_params(**PARAMS)
    ll, _ = model._log_likelihood_terms(_theta(PARAMS), (x.astype(float), tx, t_obs),
                                        gradient=False)
    r, alpha, b, s, beta = _theta(PARAMS)

    def density(u: float) -> float:
        return float(s * b * math.exp(b * u) * beta**s / (beta + math.expm1(b * u)) ** (s + 1))

    for i in range(len(x)):
        died, _ = integrate.quad(lambda u, i=i: (alpha + u) ** -(r + x[i]) * density(u),
                                 tx[i], t_obs[i], epsabs=0, epsrel=1e-12, limit=200)
        alive = (alpha + t_obs[i]) ** -(r + x[i]) * (beta / (beta + math.expm1(b * t_obs[i])))**s
        ref = gammaln(r + x[i]) - gammaln(r) + r * math.log(alpha) + math.log(alive + died)
        assert ll[i] == pytest.approx(ref, abs=1e-10)


def test_gradient_is_exact() -> None:
    x, tx, t_obs = simulate_ggompertz_nbd(200, **PARAMS, T=np.linspace(5, 90, 200), seed=5)
    model = GGompertzNBD()
    data = (x.astype(float), tx, t_obs)
    theta = np.array([0.6, 7.0, 0.08, 0.9, 3.0])
    _, grad = model._log_likelihood_terms(theta, data, gradient=True)
    assert grad is not None
    for i in range(5):
        h = np.zeros(5)
        h[i] = 1e-6 * theta[i]
        up = model._log_likelihood_terms(theta + h, data, gradient=False)[0]
        down = model._log_likelihood_terms(theta - h, data, gradient=False)[0]
        np.testing.assert_allclose(grad[:, i], (up - down) / (2 * h[i]), rtol=1e-5, atol=1e-6)


def test_small_b_is_the_pareto_nbd() -> None:
    """b -> 0 with beta / b fixed: the lifetime is Pareto(II), the model the Pareto/NBD."""
    base = load_cdnow_summary()
    pareto = ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.61, beta=11.7)
    b = 1e-9
    gg = GGompertzNBD.from_params(r=0.55, alpha=10.6, b=b, s=0.61, beta=11.7 * b)
    x, tx, t_obs = (np.asarray(v, dtype=float) for v in (base.frequency, base.recency, base.T))
    ll_gg, _ = gg._log_likelihood_terms(_theta(gg.params_), (x, tx, t_obs), gradient=False)
    ll_p, _ = pareto._log_likelihood_terms(np.array([0.55, 10.6, 0.61, 11.7]), (x, tx, t_obs),
                                           gradient=False)
    np.testing.assert_allclose(ll_gg, ll_p, atol=1e-6)
    np.testing.assert_allclose(gg.p_alive(base), pareto.p_alive(base), atol=1e-6)
    np.testing.assert_allclose(gg.expected_purchases(39.0, base),
                               pareto.expected_purchases(39.0, base), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gg.expected_purchases_unconditional([1.0, 39.0]),
                               pareto.expected_purchases_unconditional([1.0, 39.0]), rtol=1e-6)
    np.testing.assert_allclose(gg.dert(0.002, base), pareto.dert(0.002, base), rtol=1e-5)
    kk = np.arange(6.0)[:, None]
    np.testing.assert_allclose(gg.probability_of_purchases(kk, [10.0, 39.0]),
                               pareto.probability_of_purchases(kk, [10.0, 39.0]), atol=1e-6)


@pytest.mark.slow
def test_cdnow_is_clvtools_boundary_fit() -> None:
    """CLVTools' published CDNOW fit has b and beta at 1e-6: the likelihood rises towards the
    Pareto/NBD limit. crmcore follows it there and says that b, beta are not identified."""
    base = load_cdnow_summary()
    x, tx, t_obs = (np.asarray(v, dtype=float) for v in (base.frequency, base.recency, base.T))
    at_published, _ = GGompertzNBD()._log_likelihood_terms(_theta(CLVTOOLS), (x, tx, t_obs),
                                                           gradient=False)
    # the printed coefficients (2 significant digits for b, beta) reproduce the printed LL
    assert at_published.sum() == pytest.approx(CLVTOOLS_LL, abs=0.01)
    with pytest.raises(ConvergenceError) as info:
        GGompertzNBD().fit(base)
    end = dict(zip(GGompertzNBD.param_names, info.value.diagnostics["params"], strict=True))
    for name in ("r", "alpha", "s"):
        assert end[name] == pytest.approx(CLVTOOLS[name], rel=2e-3)
    assert end["b"] < 1e-5
    assert end["beta"] < 1e-4
    pareto = ParetoNBD().fit(base)
    assert end["beta"] / end["b"] == pytest.approx(pareto.params_["beta"], rel=0.01)
    best = min(a["fun"] for a in info.value.diagnostics["attempts"]) * -len(base)
    assert best >= CLVTOOLS_LL - 1e-3
    assert best == pytest.approx(pareto.log_likelihood_, abs=0.01)


def test_expectations_match_simulation() -> None:
    model = GGompertzNBD.from_params(**PARAMS)
    x, _, _ = simulate_ggompertz_nbd(40_000, **PARAMS, T=30.0, seed=6)
    assert float(model.expected_purchases_unconditional(30.0)) == pytest.approx(
        x.mean(), abs=4 * x.std() / math.sqrt(len(x)))
    histogram = model.expected_repeat_purchase_counts(np.full(len(x), 30.0), max_k=4)
    observed = np.bincount(np.minimum(x, 4), minlength=5)
    np.testing.assert_allclose(histogram, observed, rtol=0.05, atol=150)
    # conditional: calibration 30, holdout 20 from one simulation of 50 periods per customer
    rng = np.random.default_rng(8)
    n = 40_000
    lam = rng.gamma(PARAMS["r"], 1 / PARAMS["alpha"], n)
    eta = rng.gamma(PARAMS["s"], 1 / PARAMS["beta"], n)
    life = np.log1p(rng.standard_exponential(n) / eta) / PARAMS["b"]
    in_cal = rng.poisson(lam * np.minimum(life, 30.0))
    later = rng.poisson(lam * np.clip(life - 30.0, 0.0, 20.0))
    last = np.where(in_cal > 0, np.minimum(life, 30.0) * rng.beta(np.maximum(in_cal, 1), 1.0),
                    0.0)
    expected = model.expected_purchases(20.0, in_cal, last, np.full(n, 30.0))
    for group in (in_cal == 0, in_cal == 1, (in_cal >= 2) & (in_cal <= 5), in_cal > 5):
        se = later[group].std() / math.sqrt(group.sum())
        assert abs(expected[group].mean() - later[group].mean()) < 4 * se + 1e-3


@pytest.mark.slow
def test_recovers_simulated_parameters() -> None:
    x, tx, t_obs = simulate_ggompertz_nbd(4000, **PARAMS, T=np.linspace(20, 80, 4000), seed=1)
    model = GGompertzNBD().fit(x, tx, t_obs)
    for name, truth in PARAMS.items():
        assert abs(model.params_[name] - truth) < 3 * model.standard_errors_[name], name


def test_save_load_registry(tmp_path: Path, plugin_manager: pluggy.PluginManager) -> None:
    model = GGompertzNBD.from_params(**PARAMS)
    model.save(tmp_path / "gg.json")
    loaded = GGompertzNBD.load(tmp_path / "gg.json")
    assert loaded.params_ == model.params_
    assert isinstance(crmcore.get_model("value", "ggompertz-nbd", plugin_manager=plugin_manager),
                      GGompertzNBD)
    base = load_cdnow_summary()
    scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W", horizon=39.0,
                           step=13.0, value_model=model, spend_model=30.0,
                           lifecycle_model=False, loyalty_model=False,
                           plugin_manager=plugin_manager)
    np.testing.assert_allclose(scores.p_alive, model.p_alive(base))
    assert np.all(np.isfinite(scores.clv))
