"""BG/NBD and MBG/NBD with static covariates (CLVTools' ``bgnbd`` parameterisation:
``alpha_i = alpha exp(-gamma_trans x_i)``, ``a_i = a exp(gamma_life x_i)``,
``b_i = b exp(gamma_life x_i)``): the likelihood against the covariate-free models per group,
exact gradients, recovery of simulated coefficients, predictions and scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmcore
from crmcore import CustomerBase
from crmcore.value import BGNBD, MBGNBD, ParetoNBD, simulate_bgnbd, simulate_mbgnbd

DATA = Path(__file__).resolve().parents[1] / "data"
COEF = {"life.Gender": 0.5, "life.Channel": -0.6, "trans.Gender": 0.3, "trans.Channel": 0.7}


def _core(base: CustomerBase) -> tuple[np.ndarray, ...]:
    return (np.asarray(base.frequency, dtype=float), np.asarray(base.recency),
            np.asarray(base.T))


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_likelihood_and_predictions_are_the_plain_model_per_group(
        cls: type[BGNBD], apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    model = cls.from_params(r=0.7, alpha=25.0, a=0.9, b=4.0, customer_id="Id", **COEF)
    design = model.covariates_
    assert design is not None
    life, trans = model._matrices(design, static_cov, np.asarray(apparel.customer_id))
    theta = np.log(model._state().params)
    ll, _ = model._row_terms(theta, (*_core(apparel), *life.T, *trans.T), gradient=False)
    p_alive = model.p_alive(apparel, covariates=static_cov, customer_id="Id")
    expected = model.expected_purchases(20.0, apparel, covariates=static_cov)
    total = 0.0
    for g in (0.0, 1.0):
        for c in (0.0, 1.0):
            rows = np.flatnonzero((life[:, 0] == g) & (life[:, 1] == c))
            scale_life = np.exp(0.5 * g - 0.6 * c)
            plain = cls.from_params(r=0.7, alpha=25.0 * np.exp(-(0.3 * g + 0.7 * c)),
                                    a=0.9 * scale_life, b=4.0 * scale_life)
            sub = apparel.take(rows)
            ll_g, _ = plain._log_likelihood_terms(plain._param_array(), _core(sub),
                                                  gradient=False)
            total += float(ll_g.sum())
            np.testing.assert_allclose(p_alive[rows], plain.p_alive(sub), rtol=1e-12)
            np.testing.assert_allclose(expected[rows], plain.expected_purchases(20.0, sub),
                                       rtol=1e-12)
    assert float(ll.sum()) == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_gradient_is_exact(cls: type[BGNBD], apparel: CustomerBase,
                           static_cov: pd.DataFrame) -> None:
    model = cls.from_params(r=0.7, alpha=25.0, a=0.9, b=4.0, customer_id="Id", **COEF)
    design = model.covariates_
    assert design is not None
    life, trans = model._matrices(design, static_cov, np.asarray(apparel.customer_id))
    data = (*_core(apparel), *life.T, *trans.T)
    theta = np.log(model._state().params)
    _, grad = model._row_terms(theta, data, gradient=True)
    assert grad is not None
    for j in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[j] += 1e-6
        down[j] -= 1e-6
        numeric = (model._row_terms(up, data, gradient=False)[0]
                   - model._row_terms(down, data, gradient=False)[0]) / 2e-6
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("cls", "simulate"), [(BGNBD, simulate_bgnbd),
                                               (MBGNBD, simulate_mbgnbd)])
def test_recovers_simulated_coefficients(cls: type[BGNBD], simulate: object) -> None:
    truth = {"r": 0.9, "alpha": 8.0, "a": 0.8, "b": 2.5, "life.group": 0.7,
             "trans.group": -0.5}
    parts, ids, groups = [], [], []
    start = 0
    for g, n in ((0.0, 2500), (1.0, 2500)):
        x, tx, t_obs = simulate(  # type: ignore[operator]
            n, r=truth["r"], alpha=truth["alpha"] * np.exp(-truth["trans.group"] * g),
            a=truth["a"] * np.exp(truth["life.group"] * g),
            b=truth["b"] * np.exp(truth["life.group"] * g), T=40.0, seed=int(10 + g))
        parts.append((x, tx, t_obs))
        ids.append(np.arange(start, start + n))
        groups.append(np.full(n, g))
        start += n
    x, tx, t_obs = (np.concatenate([p[i] for p in parts]) for i in range(3))
    base = CustomerBase.from_summary(np.concatenate(ids), x, tx, t_obs, time_unit="W")
    cov = pd.DataFrame({"id": np.concatenate(ids), "group": np.concatenate(groups)})
    fit = cls().fit(base, covariates=cov, customer_id="id")
    est, se = fit.params_, fit.standard_errors_
    for name, value in truth.items():
        assert abs(est[name] - value) < 4 * se[name], (name, est[name], se[name])


def test_fit_on_apparel_with_purchase_covariates(apparel: CustomerBase,
                                                 static_cov: pd.DataFrame) -> None:
    fit = BGNBD().fit(apparel, covariates=static_cov, customer_id="Id", life=[])
    assert list(fit.params_) == ["r", "alpha", "a", "b", "trans.Gender", "trans.Channel"]
    # the covariates improve on the covariate-free fit by a likelihood-ratio-sized amount
    plain = BGNBD().fit(apparel)
    assert fit.log_likelihood_ > plain.log_likelihood_ + 5
    loaded = BGNBD.from_json(fit.to_json())
    # coefficients are saved as themselves and held as exp(coefficient): the round trip is
    # exact to the last bit or two, not bit for bit on every numpy
    np.testing.assert_allclose(loaded.dert(0.002, apparel, covariates=static_cov),
                               fit.dert(0.002, apparel, covariates=static_cov), rtol=1e-12)


@pytest.mark.parametrize("name", ["pareto-nbd", "bgnbd", "mbgnbd"])
def test_score_with_covariates(name: str, apparel: CustomerBase,
                               static_cov: pd.DataFrame) -> None:
    kwargs: dict[str, list[str]] = {"life": []} if name != "pareto-nbd" else {}
    model = crmcore.get_model("value", name)
    model.fit(apparel, covariates=static_cov, customer_id="Id", **kwargs)
    scores = crmcore.score(apparel, margin=0.3, discount_rate=0.002, time_unit="W",
                           horizon=52.0, value_model=model, covariates=static_cov,
                           customer_id="Id", loyalty_model=False)
    assert len(scores) == 600
    np.testing.assert_allclose(scores.p_alive,
                               model.p_alive(apparel, covariates=static_cov), rtol=1e-12)
    assert scores.expected_purchases is not None
    np.testing.assert_allclose(scores.expected_purchases,
                               model.expected_purchases(52.0, apparel, covariates=static_cov),
                               rtol=1e-9)
    # churn_risk and the stage use each customer's own parameters (issue 16): nothing is
    # left out for the covariates
    assert not any("covariates" in note for note in scores.notes)
    assert scores.churn_risk is not None
    np.testing.assert_allclose(
        scores.churn_risk, model._by_covariates("conditional_probability_of_purchases",
                                                (0, 52.0), apparel, static_cov, "Id"),
        rtol=1e-12)


def test_score_fits_an_unfitted_model_with_the_covariates(apparel: CustomerBase,
                                                          static_cov: pd.DataFrame) -> None:
    model = ParetoNBD()
    scores = crmcore.score(apparel, margin=0.3, discount_rate=0.002, time_unit="W",
                           horizon=None, value_model=model, covariates=static_cov,
                           customer_id="Id", loyalty_model=False)
    assert "trans.Channel" in model.params_
    assert np.all(np.isfinite(scores.clv))
    with pytest.raises(crmcore.InvalidValueError, match="covariates"):
        crmcore.score(apparel, margin=0.3, discount_rate=0.002, time_unit="W", horizon=52.0,
                      value_model=model, loyalty_model=False)


@settings(max_examples=10)
@given(
    cls=st.sampled_from([ParetoNBD, BGNBD, MBGNBD]),
    coefs=st.lists(st.floats(-2.0, 2.0), min_size=2, max_size=2),
    values=st.lists(st.tuples(st.integers(0, 20), st.floats(0.0, 1.0), st.floats(0.5, 60.0),
                              st.floats(-1.5, 1.5)), min_size=1, max_size=8),
)
def test_each_customer_is_the_plain_model_at_its_own_parameters(
        cls: type[ParetoNBD], coefs: list[float],
        values: list[tuple[int, float, float, float]]) -> None:
    x = np.array([v[0] for v in values], dtype=float)
    t_obs = np.array([v[2] for v in values])
    tx = np.where(x > 0, np.array([v[1] for v in values]) * t_obs, 0.0)
    z = np.array([v[3] for v in values])
    base = CustomerBase.from_summary(np.arange(len(x)), x, tx, t_obs, time_unit="W")
    cov = pd.DataFrame({"id": np.arange(len(x)), "z": z})
    names = cls.param_names
    core = dict(zip(names, (0.8, 9.0, 0.7, 12.0) if cls is ParetoNBD else (0.8, 9.0, 0.9, 3.0),
                    strict=True))
    model = cls.from_params(**core, customer_id="id",
                            **{"life.z": coefs[0], "trans.z": coefs[1]})
    alive = model.p_alive(base, covariates=cov)
    for i in range(len(x)):
        own = dict(core)
        own["alpha"] *= np.exp(-coefs[1] * z[i])
        for name, (process, sign) in cls._covariate_targets.items():
            if process == "life":
                own[name] *= np.exp(sign * coefs[0] * z[i])
        plain = cls.from_params(**own)
        assert alive[i] == pytest.approx(float(plain.p_alive(x[i:i + 1], tx[i:i + 1],
                                                             t_obs[i:i + 1])[0]), rel=1e-12)
