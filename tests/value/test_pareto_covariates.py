"""Pareto/NBD with static covariates: CLVTools' published fits, the likelihood against the
covariate-free model, exact gradients, recovery of simulated coefficients, predictions aligned
by id, saving, and the named errors.

References
----------
CLVTools: P. Bachmann, N. Kuebler, M. Meierer, J. Naef, E. S. Oblander, P. Schilter, R package
CLVTools 0.12.1, vignette "Advanced techniques" (``vignettes/CLVTools_advanced_techniques.pdf``,
commit 38b4b84 of https://github.com/bachmannpatrick/CLVTools), sections 2 and 4: Pareto/NBD
on ``apparelTrans`` with ``apparelStaticCov`` (Gender, Channel on both processes), weekly,
estimation split 104 weeks. Parameterisation ``alpha_i = alpha exp(-gamma_trans x_i)``,
``beta_i = beta exp(-gamma_life x_i)`` (CLVTools ``pnbd_staticcov_alpha_i``/``beta_i``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmcore
from crmcore import CustomerBase
from crmcore.value import ParetoNBD

DATA = Path(__file__).resolve().parents[1] / "data"

# CLVTools vignette "Advanced techniques", section 4, summary(est.pnbd.full)
FULL = {"r": 1.8378, "alpha": 92.9123, "s": 0.5920, "beta": 49.6227,
        "life.Gender": -0.6430, "life.Channel": 0.7907,
        "trans.Gender": 0.2859, "trans.Channel": 0.6241}
FULL_SE = {"r": 0.3455, "alpha": 16.9670, "s": 0.2609, "beta": 36.2509,
           "life.Gender": 0.2955, "life.Channel": 0.3059,
           "trans.Gender": 0.1041, "trans.Channel": 0.1050}
FULL_LL = -5821.0627
# same section, summary(est.pnbd.constr) with names.cov.constr = "Gender"
CONSTR = {"r": 1.7939, "alpha": 94.7223, "s": 0.4287, "beta": 59.0743,
          "life.Channel": 1.0228, "trans.Channel": 0.6384, "constr.Gender": 0.3283}
CONSTR_SE = {"r": 0.3318, "alpha": 17.2216, "s": 0.1418, "beta": 34.5098,
             "life.Channel": 0.3542, "trans.Channel": 0.1064, "constr.Gender": 0.1074}
CONSTR_LL = -5826.5342
# section 2, summary(est.pnbd.regularization), reg.lambdas = c(trans = 0.1, life = 0.2); its
# "LL" line is the optimiser's objective, mean LL minus the penalty (-9.7313)
REG = {"r": 1.73887, "alpha": 69.85288, "s": 0.53350, "beta": 39.68346,
       "life.Gender": -0.04437, "life.Channel": 0.02465,
       "trans.Gender": 0.17178, "trans.Channel": 0.23676}
REG_OBJECTIVE = -9.7313


@pytest.fixture(scope="module")
def full_fit(apparel: CustomerBase, static_cov: pd.DataFrame) -> ParetoNBD:
    return ParetoNBD().fit(apparel, covariates=static_cov, customer_id="Id",
                           life=["Gender", "Channel"], trans=["Gender", "Channel"])


def _log_likelihood(model: ParetoNBD, base: CustomerBase, cov: pd.DataFrame) -> float:
    """Total log-likelihood of ``model``'s parameters on ``base`` (the fit's own function)."""
    design = model.covariates_
    assert design is not None
    life, trans = model._matrices(design, cov, np.asarray(base.customer_id))
    data = (np.asarray(base.frequency, dtype=float), np.asarray(base.recency),
            np.asarray(base.T), *life.T, *trans.T)
    ll, _ = model._row_terms(np.log(model._state().params), data, gradient=False)
    return float(ll.sum())


def test_reproduces_clvtools_full_model(full_fit: ParetoNBD, apparel: CustomerBase,
                                        static_cov: pd.DataFrame) -> None:
    assert len(apparel) == 600
    assert full_fit.log_likelihood_ == pytest.approx(FULL_LL, abs=1e-3)
    est, se = full_fit.params_, full_fit.standard_errors_
    assert list(est) == list(FULL)
    for name, value in FULL.items():
        # CLVTools stops its L-BFGS-B a little before the top of this flat likelihood (the
        # same LL to its 4 printed decimals), so the last digits differ
        assert est[name] == pytest.approx(value, rel=5e-3, abs=2e-3), name
        assert se[name] == pytest.approx(FULL_SE[name], rel=1e-2), name
    # CLVTools' own estimates, put into our likelihood, give its printed LL: the same function
    published = ParetoNBD.from_params(**FULL, customer_id="Id")
    assert _log_likelihood(published, apparel, static_cov) == pytest.approx(FULL_LL, abs=2e-3)
    assert full_fit.aic_ == pytest.approx(11658.1254, abs=1e-2)
    assert full_fit.bic_ == pytest.approx(11693.3009, abs=1e-2)


def test_reproduces_clvtools_constrained_model(apparel: CustomerBase,
                                               static_cov: pd.DataFrame) -> None:
    fit = ParetoNBD().fit(apparel, covariates=static_cov, customer_id="Id",
                          constrain=["Gender"])
    assert fit.log_likelihood_ == pytest.approx(CONSTR_LL, abs=1e-3)
    est, se = fit.params_, fit.standard_errors_
    assert set(est) == set(CONSTR)
    for name, value in CONSTR.items():
        assert est[name] == pytest.approx(value, rel=5e-3, abs=2e-3), name
        assert se[name] == pytest.approx(CONSTR_SE[name], rel=1e-2), name
    summary = fit.summary()
    assert "constr.Gender" in summary.names
    assert summary.aic == pytest.approx(11667.0684, abs=1e-2)


def test_reproduces_clvtools_regularised_model(apparel: CustomerBase,
                                               static_cov: pd.DataFrame) -> None:
    fit = ParetoNBD().fit(apparel, covariates=static_cov, customer_id="Id",
                          reg_lambdas={"trans": 0.1, "life": 0.2})
    est = fit.params_
    for name, value in REG.items():
        assert est[name] == pytest.approx(value, rel=5e-3, abs=2e-4), name
    gl = np.array([est["life.Gender"], est["life.Channel"]])
    gt = np.array([est["trans.Gender"], est["trans.Channel"]])
    objective = fit.log_likelihood_ / 600 - 0.2 * gl @ gl - 0.1 * gt @ gt
    assert objective == pytest.approx(REG_OBJECTIVE, abs=1e-4)


def test_likelihood_is_the_plain_model_per_group(apparel: CustomerBase,
                                                 static_cov: pd.DataFrame) -> None:
    """With 0/1 covariates each group is a plain Pareto/NBD at its own alpha_g, beta_g: the
    covariate likelihood equals the sum of the (separately tested) covariate-free one."""
    coef = {"life.Gender": -0.4, "life.Channel": 0.9, "trans.Gender": 0.3,
            "trans.Channel": -0.7}
    model = ParetoNBD.from_params(r=0.9, alpha=20.0, s=0.7, beta=30.0, **coef, customer_id="Id")
    cov = static_cov.set_index("Id").loc[np.asarray(apparel.customer_id)]
    total = 0.0
    for key, _ in cov.groupby(["Gender", "Channel"]):
        g, c = (float(v) for v in key)  # type: ignore[arg-type]
        rows = np.flatnonzero((cov["Gender"] == g).to_numpy() & (cov["Channel"] == c).to_numpy())
        alpha = 20.0 * np.exp(-(0.3 * g - 0.7 * c))
        beta = 30.0 * np.exp(-(-0.4 * g + 0.9 * c))
        plain = ParetoNBD.from_params(r=0.9, alpha=alpha, s=0.7, beta=beta)
        sub = apparel.take(rows)
        ll, _ = plain._log_likelihood_terms(
            plain._param_array(), (np.asarray(sub.frequency, dtype=float),
                                   np.asarray(sub.recency), np.asarray(sub.T)), gradient=False)
        total += float(ll.sum())
        # and each group's predictions are the plain model's
        np.testing.assert_allclose(
            model.p_alive(apparel, covariates=static_cov, customer_id="Id")[rows],
            plain.p_alive(sub), rtol=1e-12)
    assert _log_likelihood(model, apparel, static_cov) == pytest.approx(total, rel=1e-12)


def test_gradient_is_exact(apparel: CustomerBase, static_cov: pd.DataFrame,
                           central_differences: Callable[..., np.ndarray]) -> None:
    model = ParetoNBD.from_params(r=1.5, alpha=60.0, s=0.6, beta=45.0, customer_id="Id",
                                  **{"life.Gender": -0.5, "life.Channel": 0.6,
                                     "trans.Gender": 0.2, "trans.Channel": 0.5})
    design = model.covariates_
    assert design is not None
    life, trans = model._matrices(design, static_cov, np.asarray(apparel.customer_id))
    data = (np.asarray(apparel.frequency, dtype=float), np.asarray(apparel.recency),
            np.asarray(apparel.T), *life.T, *trans.T)
    theta = np.log(model._state().params)
    # both branches of the integral (alpha_i >= beta_i and below) occur
    rows, *_ = model._rows(theta, data)
    assert (rows[:, 1] >= rows[:, 3]).any()
    assert (rows[:, 1] < rows[:, 3]).any()
    _, grad = model._row_terms(theta, data, gradient=True)
    assert grad is not None
    numeric = central_differences(lambda th: model._row_terms(th, data, gradient=False)[0],
                                  theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_recovers_simulated_coefficients() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    gender = rng.integers(0, 2, n).astype(float)
    spend = rng.normal(0.0, 1.0, n)
    truth = {"r": 0.8, "alpha": 6.0, "s": 0.7, "beta": 12.0, "life.gender": 0.6,
             "life.spend": -0.3, "trans.gender": -0.4, "trans.spend": 0.5}
    alpha_i = truth["alpha"] * np.exp(-(truth["trans.gender"] * gender
                                        + truth["trans.spend"] * spend))
    beta_i = truth["beta"] * np.exp(-(truth["life.gender"] * gender
                                      + truth["life.spend"] * spend))
    lam = rng.gamma(truth["r"], 1.0 / alpha_i)
    mu = rng.gamma(truth["s"], 1.0 / beta_i)
    t_obs = np.full(n, 52.0)
    end = np.minimum(rng.standard_exponential(n) / mu, t_obs)
    x = rng.poisson(lam * end)
    # recency: the last of x uniform purchase times in (0, end]
    tx = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    base = CustomerBase.from_summary(np.arange(n), x, tx, t_obs, time_unit="W")
    cov = pd.DataFrame({"id": np.arange(n), "gender": gender, "spend": spend})
    fit = ParetoNBD().fit(base, covariates=cov, customer_id="id")
    est, se = fit.params_, fit.standard_errors_
    for name, value in truth.items():
        assert abs(est[name] - value) < 4 * se[name], (name, est[name], se[name])


def test_predictions_align_by_id(full_fit: ParetoNBD, apparel: CustomerBase,
                                 static_cov: pd.DataFrame) -> None:
    shuffled = static_cov.sample(frac=1.0, random_state=3).reset_index(drop=True)
    for method, args in (("p_alive", ()), ("expected_purchases", (26.0,)),
                         ("dert", (0.002,))):
        a = getattr(full_fit, method)(*args, apparel, covariates=static_cov, customer_id="Id")
        b = getattr(full_fit, method)(*args, apparel, covariates=shuffled, customer_id="Id")
        np.testing.assert_array_equal(a, b)
        assert a.shape == (600,)
        assert np.all(np.isfinite(a))
    # extra customers in the frame are ignored; a polars frame works the same
    pl = pytest.importorskip("polars")
    extra = pd.concat([static_cov, pd.DataFrame({"Id": [99999], "Gender": [1.0],
                                                 "Channel": [0.0]})])
    np.testing.assert_array_equal(full_fit.p_alive(apparel, covariates=pl.from_pandas(extra),
                                                   customer_id="Id"),
                                  full_fit.p_alive(apparel, covariates=static_cov))


def test_zero_coefficients_are_the_plain_model(apparel: CustomerBase,
                                               static_cov: pd.DataFrame) -> None:
    plain = ParetoNBD.from_params(r=0.8, alpha=8.0, s=0.5, beta=20.0)
    cov_model = ParetoNBD.from_params(r=0.8, alpha=8.0, s=0.5, beta=20.0, customer_id="Id",
                                      **{"life.Gender": 0.0, "trans.Channel": 0.0})
    np.testing.assert_allclose(cov_model.p_alive(apparel, covariates=static_cov),
                               plain.p_alive(apparel), rtol=1e-13)
    np.testing.assert_allclose(
        cov_model.expected_purchases_new_customer([4.0, 52.0], covariates=static_cov[:2]),
        np.stack([plain.expected_purchases_unconditional([4.0, 52.0])] * 2), rtol=1e-13)
    np.testing.assert_allclose(plain.expected_purchases_new_customer(52.0),
                               plain.expected_purchases_unconditional(52.0))


def test_new_customer_prediction_moves_with_covariates(full_fit: ParetoNBD) -> None:
    prospects = pd.DataFrame({"Gender": [0.0, 0.0], "Channel": [0.0, 1.0]})
    values = full_fit.expected_purchases_new_customer(52.0, covariates=prospects)
    # trans.Channel > 0 raises the purchase rate; life.Channel > 0 shortens the lifetime,
    # but over one year the purchase effect dominates for these estimates
    assert values.shape == (2,)
    p = full_fit.params_
    expected = [ParetoNBD.from_params(
        r=p["r"], alpha=p["alpha"] * np.exp(-p["trans.Channel"] * c), s=p["s"],
        beta=p["beta"] * np.exp(-p["life.Channel"] * c)).expected_purchases_unconditional(52.0)
        for c in (0.0, 1.0)]
    np.testing.assert_allclose(values, expected, rtol=1e-13)


def test_save_load_round_trip(full_fit: ParetoNBD, apparel: CustomerBase,
                              static_cov: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "pnbd.json"
    full_fit.save(path)
    loaded = ParetoNBD.load(path)
    # a coefficient is saved as itself and held as exp(coefficient): equal to the last bit
    # or two, not bit for bit on every numpy
    assert loaded.params_ == pytest.approx(full_fit.params_, rel=1e-14)
    assert loaded.standard_errors_ == pytest.approx(full_fit.standard_errors_)
    assert loaded.covariates_ == full_fit.covariates_
    np.testing.assert_allclose(loaded.p_alive(apparel, covariates=static_cov),
                               full_fit.p_alive(apparel, covariates=static_cov), rtol=1e-12)
    interval = full_fit.interval(lambda m: m.p_alive(apparel, covariates=static_cov),
                                 n_draws=20, seed=1)
    assert np.all(interval.lower <= interval.upper)


def test_refit_without_covariates_drops_them(apparel: CustomerBase,
                                             static_cov: pd.DataFrame) -> None:
    model = ParetoNBD().fit(apparel, covariates=static_cov, customer_id="Id", life=[],
                            trans=["Channel"])
    assert list(model.params_) == ["r", "alpha", "s", "beta", "trans.Channel"]
    model.fit(apparel)
    assert list(model.params_) == ["r", "alpha", "s", "beta"]
    assert model.covariates_ is None


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        (lambda c: c.drop(index=3), crmcore.DataError, "Id"),
        (lambda c: c.assign(Gender=np.where(c["Id"] == 7, np.nan, c["Gender"])),
         crmcore.InvalidValueError, "Gender"),
        (lambda c: c.assign(Gender="female"), crmcore.InvalidValueError, "Gender"),
        (lambda c: c.assign(Channel=1.0), crmcore.InvalidValueError, "Channel"),
        (lambda c: pd.concat([c, c.iloc[:1]]), crmcore.DuplicateCustomerError, "Id"),
        (lambda c: c.rename(columns={"Id": "id"}), crmcore.UnknownColumnError, "customer_id"),
    ],
)
def test_bad_covariates_are_named_errors(apparel: CustomerBase, static_cov: pd.DataFrame,
                                         change: object, error: type[Exception],
                                         field: str) -> None:
    bad = change(static_cov)  # type: ignore[operator]
    with pytest.raises(error) as info:
        ParetoNBD().fit(apparel, covariates=bad, customer_id="Id")
    assert info.value.field == field  # type: ignore[attr-defined]


def test_a_frame_of_periods_points_to_the_time_varying_model(
        apparel: CustomerBase, dyncov: pd.DataFrame, static_cov: pd.DataFrame) -> None:
    """Rows per customer and week given as static covariates: the error says what they are
    (a slip of one duplicated row does not get that hint)."""
    weekly = dyncov.drop(columns=["Cov.Date"])
    with pytest.raises(crmcore.DuplicateCustomerError, match="pareto-nbd-dynamic") as info:
        ParetoNBD().fit(apparel, covariates=weekly, customer_id="Id")
    assert info.value.field == "Id"
    with pytest.raises(crmcore.DuplicateCustomerError) as slip:
        ParetoNBD().fit(apparel, covariates=pd.concat([static_cov, static_cov.iloc[:1]]),
                        customer_id="Id")
    assert "pareto-nbd-dynamic" not in str(slip.value)


def test_misuse_is_a_named_error(full_fit: ParetoNBD, apparel: CustomerBase,
                                 static_cov: pd.DataFrame) -> None:
    with pytest.raises(crmcore.InvalidValueError, match="covariates"):
        full_fit.p_alive(apparel)
    with pytest.raises(crmcore.InvalidValueError):
        ParetoNBD.from_params(r=1, alpha=1, s=1, beta=1).p_alive(apparel, covariates=static_cov)
    with pytest.raises(crmcore.InvalidValueError, match="constrain"):
        ParetoNBD().fit(apparel, covariates=static_cov, customer_id="Id", life=["Channel"],
                        constrain=["Gender"])
    with pytest.raises(crmcore.InvalidValueError, match="reg_lambdas"):
        ParetoNBD().fit(apparel, covariates=static_cov, customer_id="Id",
                        reg_lambdas={"trans": -1.0})
    with pytest.raises(crmcore.UnknownColumnError):
        ParetoNBD().fit(apparel, covariates=static_cov, customer_id="Id", life=["Age"])
    with pytest.raises(crmcore.InvalidValueError, match="customer_id"):
        ParetoNBD().fit(apparel, covariates=static_cov)


def test_a_saved_covariate_model_is_checked_like_any_other(
        full_fit: ParetoNBD, apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    """The saved document round-trips, and a damaged one is refused naming the field: a
    covariance that is not one row and column per parameter and coefficient, or a
    coefficient that is not finite."""
    loaded = ParetoNBD.from_json(full_fit.to_json())
    assert loaded.params_ == pytest.approx(full_fit.params_, rel=1e-12)
    assert loaded.standard_errors_ == pytest.approx(full_fit.standard_errors_, rel=1e-12)
    np.testing.assert_allclose(loaded.p_alive(apparel, covariates=static_cov),
                               full_fit.p_alive(apparel, covariates=static_cov), rtol=1e-12)
    payload = json.loads(full_fit.to_json())
    assert list(payload)[:4] == ["crmcore", "schema_version", "hyperparameters", "params"]
    short = dict(payload, log_covariance=np.eye(4).tolist())
    with pytest.raises(crmcore.SerializationError) as info:
        ParetoNBD.from_json(json.dumps(short))
    assert info.value.field == "log_covariance"
    bad = dict(payload, params=dict(payload["params"], **{"life.Gender": None}))
    with pytest.raises(crmcore.SerializationError):
        ParetoNBD.from_json(json.dumps(bad))
