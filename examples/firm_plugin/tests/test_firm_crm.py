"""The firm's own tests: its models are right, and crmcore accepts and uses them.

Run from this folder after ``pip install -e .[test]``: ``pytest``.
"""

from __future__ import annotations

import firm_crm.plugin
import numpy as np
import pytest
from firm_crm import PoissonExponential, RFMLoyalty
from scipy.integrate import quad

import crmcore
from crmcore.datasets import load_cdnow
from crmcore.testing import check_model_plugin, plugin_manager_with
from crmcore.value import ParetoNBD


@pytest.fixture(scope="module")
def base() -> crmcore.CustomerBase:
    return load_cdnow()  # crmcore's bundled CDNOW sample, daily periods in weeks


# -- crmcore's contract ------------------------------------------------------------------------


def test_the_plugin_follows_crmcores_protocols(base: crmcore.CustomerBase) -> None:
    report = check_model_plugin(firm_crm.plugin, base=base)
    assert report.ok, str(report)
    assert report.names() == ["poisson-exponential", "rfm-rank"]
    value = next(m for m in report.models if m.name == "poisson-exponential")
    # continuous time (no ``discrete``) and no purchase-count distribution (crmcore's churn
    # risk is then 1 - p_alive); it has dert and params_
    assert value.optional_missing == ("conditional_probability_of_purchases", "discrete")


def test_crmcore_scores_with_the_firms_models(base: crmcore.CustomerBase) -> None:
    manager = plugin_manager_with(firm_crm.plugin)
    assert crmcore.default_model_name("loyalty", plugin_manager=manager) == "rfm-rank"
    scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W", horizon=52,
                           value_model="poisson-exponential", plugin_manager=manager)
    assert scores.model.startswith("PoissonExponential")
    assert scores.loyalty is not None
    np.testing.assert_allclose(scores.loyalty, RFMLoyalty().score(base))
    assert np.all((scores.p_alive >= 0) & (scores.p_alive <= 1))


# -- the value model ---------------------------------------------------------------------------


def test_it_is_the_pareto_nbd_without_heterogeneity(base: crmcore.CustomerBase) -> None:
    """Pareto/NBD with gamma(lam k, k) and gamma(mu k, k) rates tends to this model as k grows
    (the rates' variances lam/k and mu/k vanish); the gap shrinks like 1/k."""
    model = PoissonExponential().fit(base)
    lam, mu = model.params_["lam"], model.params_["mu"]
    f, r, t = base.frequency, base.recency, base.T
    k = 1e5
    reference = ParetoNBD.from_params(r=lam * k, alpha=k, s=mu * k, beta=k)
    np.testing.assert_allclose(model.p_alive(f, r, t), reference.p_alive(f, r, t), atol=2e-3)
    np.testing.assert_allclose(model.expected_purchases(10.0, f, r, t),
                               reference.expected_purchases(10.0, f, r, t), atol=1e-2)


def test_dert_is_the_discounted_integral_of_expected_purchases() -> None:
    model = PoissonExponential.from_params(0.3, 0.05)
    f, r, t = np.array([3.0]), np.array([20.0]), np.array([30.0])
    delta = 0.01

    def discounted_rate(s: float) -> float:  # e^(-delta s) d/ds E[Y(s)], numerically
        step = (model.expected_purchases(s + 1e-6, f, r, t)
                - model.expected_purchases(s, f, r, t))[0] / 1e-6
        return float(np.exp(-delta * s) * step)

    integral: float = quad(discounted_rate, 0, np.inf, limit=200)[0]
    assert model.dert(delta, f, r, t)[0] == pytest.approx(integral, rel=1e-4)


def test_fit_recovers_the_rates_of_simulated_customers() -> None:
    rng = np.random.default_rng(7)
    lam, mu, n, horizon = 0.5, 0.05, 4000, 40.0
    death = np.minimum(rng.exponential(1 / mu, n), horizon)
    first = rng.uniform(0.0, 10.0, n)  # customers join over the first ten periods
    T = horizon - first
    life = np.minimum(death, T)
    x = rng.poisson(lam * life)
    # given x purchases in (0, life], their times are uniform: the last is the maximum
    tx = np.where(x > 0, life * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    base = crmcore.CustomerBase.from_summary(np.arange(n), x, tx, T, time_unit="W")
    fitted = PoissonExponential().fit(base).params_
    assert fitted["lam"] == pytest.approx(lam, rel=0.05)
    assert fitted["mu"] == pytest.approx(mu, rel=0.15)


def test_an_unfitted_model_says_so() -> None:
    with pytest.raises(crmcore.NotFittedError):
        _ = PoissonExponential().params_


# -- the loyalty model -------------------------------------------------------------------------


def test_rfm_rank_by_hand() -> None:
    # three customers observed 10 weeks: last bought at 9, 5 and 0 weeks; 4, 2 and 0 repeats;
    # spend 30, 10 and 20 per purchase.
    base = crmcore.CustomerBase.from_summary(["a", "b", "c"], [4, 2, 0], [9.0, 5.0, 0.0],
                                             [10.0, 10.0, 10.0], [30.0, 10.0, 20.0],
                                             time_unit="W")
    # ranks on [0, 1]: recency 1, 0.5, 0; frequency 1, 0.5, 0; monetary 1, 0, 0.5
    np.testing.assert_allclose(RFMLoyalty().score(base), [100.0, 100 / 3, 50 / 3])
    np.testing.assert_allclose(RFMLoyalty(monetary=0).score(base), [100.0, 50.0, 0.0])


def test_rfm_rank_rises_with_each_part(base: crmcore.CustomerBase) -> None:
    index = RFMLoyalty().score(base)
    assert index.shape == (len(base),)
    assert np.all((index >= 0) & (index <= 100))
    silence = base.T - base.recency
    recent, lapsed = silence <= np.quantile(silence, 0.2), silence >= np.quantile(silence, 0.8)
    assert index[recent].mean() > index[lapsed].mean()


def test_bad_weights_are_named() -> None:
    with pytest.raises(crmcore.InvalidValueError, match="frequency"):
        RFMLoyalty(frequency=-1)
