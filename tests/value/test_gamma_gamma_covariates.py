"""Gamma-Gamma with static covariates: ``v_i = v exp(gamma_spend . x_i)`` (the spend-rate scale
of Colombo & Jiang 1999 / Fader, Hardie & Lee 2005 with CLVTools' exponential link), checked
against numerical integration, the covariate-free model (crmcore's and lifetimes'), simulated
truths, finite differences, and through ``lifetime_value`` and ``crmcore.score``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

import crmcore
from crmcore import CustomerBase
from crmcore.value import BGNBD, GammaGamma, ParetoNBD, lifetime_value
from crmcore.value._gamma_gamma import log_likelihood_terms

DATA = Path(__file__).resolve().parents[1] / "data"
CORE = {"p": 2.5, "q": 4.0, "v": 60.0}


@pytest.fixture(scope="module")
def apparel() -> CustomerBase:
    log = pd.read_csv(DATA / "apparelTrans.csv")
    return CustomerBase.from_transactions(log, customer_id="Id", datetime="Date",
                                          monetary_value="Price", freq="D", time_unit="W")


def _simulate(n: int, coef: dict[str, float], seed: int, core: dict[str, float] = CORE,
              ) -> tuple[CustomerBase, pd.DataFrame]:
    """``n`` customers with 1 + Poisson(3) repeat transactions, a 0/1 covariate ``group``
    and a standard normal ``z``; each transaction ``~ gamma(p, nu_i)``,
    ``nu_i ~ gamma(q, v exp(gamma . x_i))`` (rates)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n).astype(float)
    z = rng.normal(size=n)
    scale_i = core["v"] * np.exp(coef.get("spend.group", 0.0) * group
                                 + coef.get("spend.z", 0.0) * z)
    nu = rng.gamma(core["q"], 1.0 / scale_i)
    x = 1 + rng.poisson(3.0, n)
    # the sum of x gamma(p, nu) amounts is gamma(p x, nu)
    m = rng.gamma(core["p"] * x, 1.0 / nu) / x
    ids = np.arange(n) + 100
    base = CustomerBase.from_summary(ids, x, np.full(n, 30.0), np.full(n, 40.0), m,
                                     time_unit="W")
    return base, pd.DataFrame({"id": ids, "group": group, "z": z})


def _columns(model: GammaGamma, base: CustomerBase, cov: pd.DataFrame,
             ) -> tuple[np.ndarray, ...]:
    design = model.covariates_
    assert design is not None
    matrices = model._process_matrices(design, cov, np.asarray(base.customer_id))
    return (np.asarray(base.frequency, dtype=float), np.asarray(base.monetary_value),
            *matrices["spend"].T)


# -- (a) the likelihood against numerical integration over the spend rate -------------------

def test_likelihood_is_the_integral_over_the_spend_rate() -> None:
    coef = {"spend.group": 0.4, "spend.z": -0.3}
    model = GammaGamma.from_params(**CORE, customer_id="id", **coef)
    x = np.array([1.0, 2.0, 5.0, 12.0])
    m = np.array([35.0, 7.5, 61.0, 20.0])
    group = np.array([0.0, 1.0, 1.0, 0.0])
    z = np.array([0.3, -1.2, 0.0, 2.0])
    theta = np.log(model._state().params)
    ll, _ = model._row_terms(theta, (x, m, group, z), gradient=False)
    for i in range(len(x)):
        v_i = CORE["v"] * np.exp(0.4 * group[i] - 0.3 * z[i])
        p, q = CORE["p"], CORE["q"]

        def integrand(nu: float, i: int = i, v_i: float = v_i, p: float = p,
                      q: float = q) -> float:
            # density of the mean x_i m_i / x_i given nu, times the density of nu
            return float(x[i] * stats.gamma.pdf(x[i] * m[i], p * x[i], scale=1.0 / nu)
                         * stats.gamma.pdf(nu, q, scale=1.0 / v_i))

        # the integrand peaks at the posterior mode of nu: integrate on either side of it
        mode = (p * x[i] + q - 1.0) / (x[i] * m[i] + v_i)
        value = sum(integrate.quad(integrand, lo, hi, epsabs=0.0, epsrel=1e-13, limit=500)[0]
                    for lo, hi in ((0.0, mode), (mode, 20 * mode), (20 * mode, np.inf)))
        assert ll[i] == pytest.approx(np.log(value), abs=1e-8)


# -- (b) zero effects are the plain model; an uninformative covariate changes nothing ------

def test_zero_coefficients_are_the_plain_likelihood() -> None:
    base, cov = _simulate(400, {}, seed=1)
    model = GammaGamma.from_params(**CORE, customer_id="id", **{"spend.group": 0.0,
                                                                "spend.z": 0.0})
    theta = np.log(model._state().params)
    ll, _ = model._row_terms(theta, _columns(model, base, cov), gradient=False)
    plain, _ = log_likelihood_terms(np.array(list(CORE.values())),
                                    np.asarray(base.frequency, dtype=float),
                                    np.asarray(base.monetary_value), gradient=False)
    np.testing.assert_allclose(ll, plain, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        model.expected_spend(base, covariates=cov),
        GammaGamma.from_params(**CORE).expected_spend(base), rtol=1e-14)


def test_an_uninformative_covariate_gives_a_zero_coefficient_and_the_plain_fit() -> None:
    base, cov = _simulate(3000, {}, seed=2)
    fit = GammaGamma().fit(base, covariates=cov, customer_id="id", spend=["group"])
    plain = GammaGamma().fit(base)
    assert abs(fit.params_["spend.group"]) < 3 * fit.standard_errors_["spend.group"]
    for name in ("p", "q", "v"):
        assert fit.params_[name] == pytest.approx(plain.params_[name], rel=0.05)
    assert 0 <= fit.log_likelihood_ - plain.log_likelihood_ < 5  # LR statistic ~ chi2(1)


# -- (c) nesting: pooled <= covariate <= separate fits (lifetimes as the reference) -------

def test_nesting_between_the_pooled_and_the_separate_fits() -> None:
    lifetimes = pytest.importorskip("lifetimes")
    base, cov = _simulate(2000, {"spend.group": 0.5}, seed=3)
    fit = GammaGamma().fit(base, covariates=cov, customer_id="id", spend=["group"])
    pooled = GammaGamma().fit(base)
    x = np.asarray(base.frequency, dtype=float)
    m = np.asarray(base.monetary_value)
    separate = 0.0
    for g in (0.0, 1.0):
        rows = np.asarray(cov["group"]) == g
        ref = lifetimes.GammaGammaFitter().fit(pd.Series(x[rows]), pd.Series(m[rows]))
        log_params = np.log(np.asarray(ref.params_[["p", "q", "v"]], dtype=float))
        mean_nll = ref._negative_log_likelihood(log_params, x[rows], m[rows],
                                                np.ones(rows.sum()), 0.0)
        separate += -mean_nll * rows.sum()
    assert pooled.log_likelihood_ <= fit.log_likelihood_ + 1e-9
    assert fit.log_likelihood_ <= separate + 1e-6
    # the group effect is real here: the covariate fit gains much over the pooled one
    assert fit.log_likelihood_ - pooled.log_likelihood_ > 10


# -- (d) recovery of known coefficients ----------------------------------------------------

def test_recovers_simulated_coefficients() -> None:
    truth = {"spend.group": 0.6, "spend.z": -0.35}
    base, cov = _simulate(5000, truth, seed=4)
    fit = GammaGamma().fit(base, covariates=cov, customer_id="id")
    assert list(fit.params_) == ["p", "q", "v", "spend.group", "spend.z"]
    est, se = fit.params_, fit.standard_errors_
    for name, value in {**truth, **CORE}.items():
        assert abs(est[name] - value) < 3.5 * se[name], (name, est[name], se[name])
    intervals = fit.confidence_intervals(0.95)
    lo, hi = intervals["spend.group"]
    assert lo == pytest.approx(est["spend.group"] - 1.959964 * se["spend.group"], rel=1e-6)
    assert lo < hi
    summary = fit.summary()
    assert "spend.z" in summary.names
    cov_matrix = fit.covariance_
    assert cov_matrix["spend.z"]["spend.z"] == pytest.approx(se["spend.z"] ** 2)
    # the amounts' unit moves v only: dollars to cents
    cents = CustomerBase.from_summary(base.customer_id, base.frequency, base.recency, base.T,
                                      np.asarray(base.monetary_value) * 100, time_unit="W")
    in_cents = GammaGamma().fit(cents, covariates=cov, customer_id="id")
    assert in_cents.params_["v"] == pytest.approx(100 * est["v"], rel=1e-5)
    assert in_cents.params_["spend.z"] == pytest.approx(est["spend.z"], abs=1e-6)


def test_the_penalty_shrinks_the_coefficients() -> None:
    base, cov = _simulate(1500, {"spend.group": 0.6}, seed=5)
    free = GammaGamma().fit(base, covariates=cov, customer_id="id", spend=["group"])
    shrunk = GammaGamma().fit(base, covariates=cov, customer_id="id", spend=["group"],
                              reg_lambdas={"spend": 0.5})
    assert 0 < shrunk.params_["spend.group"] < free.params_["spend.group"]
    assert shrunk.log_likelihood_ < free.log_likelihood_  # unpenalised LL at the penalised fit


# -- (e) the analytic gradient ---------------------------------------------------------------

def test_gradient_matches_finite_differences(
        central_differences: Callable[..., np.ndarray]) -> None:
    base, cov = _simulate(300, {"spend.group": 0.3}, seed=6)
    model = GammaGamma.from_params(p=1.7, q=3.2, v=45.0, customer_id="id",
                                   **{"spend.group": 0.2, "spend.z": -0.4})
    data = _columns(model, base, cov)
    theta = np.log(model._state().params)
    _, grad = model._row_terms(theta, data, gradient=True)
    assert grad is not None
    numeric = central_differences(lambda th: model._row_terms(th, data, gradient=False)[0],
                                  theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)
    # the prepared helpers (as in the fit) give the same values and gradient
    prepared = model._prepare_data(data)
    ll2, grad2 = model._row_terms(theta, prepared, gradient=True)
    np.testing.assert_allclose(ll2, model._row_terms(theta, data, gradient=False)[0],
                               rtol=1e-14)
    assert grad2 is not None
    np.testing.assert_allclose(grad2, grad, rtol=1e-13)


# -- (f) bad inputs ----------------------------------------------------------------------------

def test_bad_covariates_are_named_errors() -> None:
    base, cov = _simulate(50, {}, seed=7)
    gg = GammaGamma()
    with pytest.raises(crmcore.DataError, match="without covariates") as missing:
        gg.fit(base, covariates=cov.iloc[1:], customer_id="id")
    assert list(missing.value.rows) == [100]
    text = cov.assign(group=cov["group"].map({0.0: "f", 1.0: "m"}))
    with pytest.raises(crmcore.InvalidValueError, match="'group' is not numeric"):
        gg.fit(base, covariates=text, customer_id="id")
    with pytest.raises(crmcore.InvalidValueError, match="constant") as constant:
        gg.fit(base, covariates=cov.assign(one=1.0), customer_id="id")
    assert constant.value.field == "one"
    nan = cov.copy()
    nan.loc[3, "z"] = np.nan
    with pytest.raises(crmcore.InvalidValueError, match="missing or not finite") as bad:
        gg.fit(base, covariates=nan, customer_id="id")
    assert bad.value.field == "z"
    with pytest.raises(crmcore.DuplicateCustomerError):
        gg.fit(base, covariates=pd.concat([cov, cov.iloc[:1]]), customer_id="id")
    with pytest.raises(crmcore.UnknownColumnError):
        gg.fit(base, covariates=cov, customer_id="id", spend=["age"])
    with pytest.raises(crmcore.InvalidValueError, match="customer_id"):
        gg.fit(base, covariates=cov)
    with pytest.raises(crmcore.InvalidValueError, match="not a string"):
        gg.fit(base, covariates=cov, customer_id="id", spend="group")
    with pytest.raises(crmcore.InvalidValueError, match="reg_lambdas"):
        gg.fit(base, covariates=cov, customer_id="id", reg_lambdas={"life": 0.1})
    with pytest.raises(crmcore.InvalidValueError, match="reg_lambdas"):
        gg.fit(base, covariates=cov, customer_id="id", reg_lambdas={"spend": -1.0})
    with pytest.raises(crmcore.InvalidValueError, match="given without covariates"):
        gg.fit(base, spend=["group"])
    with pytest.raises(crmcore.InvalidValueError, match="CustomerBase"):
        gg.fit(base.frequency, base.monetary_value, covariates=cov, customer_id="id")
    with pytest.raises(crmcore.InvalidValueError, match="no life process"):
        GammaGamma.from_params(**CORE, customer_id="id", **{"life.group": 0.1})
    with pytest.raises(crmcore.InvalidValueError, match="no spend process"):
        ParetoNBD.from_params(r=1.0, alpha=2.0, s=1.0, beta=3.0, customer_id="id",
                              **{"spend.group": 0.1})
    # predictions: covariates are required by a model fitted with them, refused otherwise
    fitted = GammaGamma.from_params(**CORE, customer_id="id", **{"spend.group": 0.2})
    with pytest.raises(crmcore.InvalidValueError, match="pass covariates="):
        fitted.expected_spend(base)
    with pytest.raises(crmcore.InvalidValueError, match="CustomerBase"):
        fitted.expected_spend(base.frequency, base.monetary_value, covariates=cov)
    with pytest.raises(crmcore.DataError, match="without covariates"):
        fitted.expected_spend(base, covariates=cov.iloc[:-1])
    with pytest.raises(crmcore.InvalidValueError, match="fitted without covariates"):
        GammaGamma.from_params(**CORE).expected_spend(base, covariates=cov)


def test_only_repeat_buyers_need_covariates_to_fit() -> None:
    base, cov = _simulate(200, {"spend.group": 0.3}, seed=8)
    once = CustomerBase.from_summary([1], [0], [0.0], [40.0], [0.0], time_unit="W")
    both = CustomerBase.from_summary(
        np.concatenate([base.customer_id, once.customer_id]),
        np.concatenate([base.frequency, once.frequency]),
        np.concatenate([base.recency, once.recency]), np.concatenate([base.T, once.T]),
        np.concatenate([base.monetary_value, once.monetary_value]), time_unit="W")
    fit = GammaGamma().fit(both, covariates=cov, customer_id="id")
    assert fit.n_excluded_ == 1
    reference = GammaGamma().fit(base, covariates=cov, customer_id="id")
    assert fit.params_ == pytest.approx(reference.params_, rel=1e-9)
    # a customer without repeat purchases gets her covariates' population mean p v_i/(q-1)
    frame = pd.concat([cov, pd.DataFrame({"id": [1], "group": [1.0], "z": [0.5]})])
    spend = fit.expected_spend(both, covariates=frame)
    p, q, v = (fit.params_[n] for n in ("p", "q", "v"))
    v_i = v * np.exp(fit.params_["spend.group"] + 0.5 * fit.params_["spend.z"])
    row = int(np.flatnonzero(np.asarray(both.customer_id) == 1)[0])
    assert spend[row] == pytest.approx(p * v_i / (q - 1), rel=1e-12)


# -- (g) saving ----------------------------------------------------------------------------------

def test_json_round_trip(tmp_path: Path) -> None:
    base, cov = _simulate(800, {"spend.group": 0.4, "spend.z": 0.2}, seed=9)
    fit = GammaGamma().fit(base, covariates=cov, customer_id="id",
                           reg_lambdas={"spend": 0.01})
    loaded = GammaGamma.from_json(fit.to_json())
    # a coefficient is saved as itself and held as exp(coefficient): the round trip is exact
    # to the last bit or two, not bit for bit on every numpy
    assert loaded.params_ == pytest.approx(fit.params_, rel=1e-12, abs=1e-15)
    assert loaded.standard_errors_ == pytest.approx(fit.standard_errors_, rel=1e-12)
    assert loaded.covariates_ == fit.covariates_
    assert loaded.log_likelihood_ == fit.log_likelihood_
    np.testing.assert_allclose(loaded.expected_spend(base, covariates=cov),
                               fit.expected_spend(base, covariates=cov), rtol=1e-12)
    payload = json.loads(fit.to_json())
    document = payload.get("payload", payload)
    assert document["covariates"]["spend"] == ["group", "z"]
    fit.save(tmp_path / "gg.json")
    assert GammaGamma.load(tmp_path / "gg.json").params_ == pytest.approx(fit.params_,
                                                                         rel=1e-14)
    given = GammaGamma.from_params(**CORE, customer_id="id", **{"spend.z": -0.2})
    again = GammaGamma.from_json(given.to_json())
    assert again.params_ == pytest.approx(given.params_, rel=1e-14)
    # a model without covariates still saves and loads as before
    plain = GammaGamma().fit(base)
    assert "covariates" not in plain.to_json()
    assert GammaGamma.from_json(plain.to_json()).params_ == plain.params_


def test_purchase_model_documents_have_no_spend_keys() -> None:
    model = BGNBD.from_params(r=0.7, alpha=25.0, a=0.9, b=4.0, customer_id="Id",
                              **{"trans.Gender": 0.3})
    text = model.to_json()
    assert '"spend"' not in text
    assert BGNBD.from_json(text).params_ == pytest.approx(model.params_, rel=1e-14)


# -- (h) through lifetime_value and score ---------------------------------------------------------

def test_lifetime_value_takes_a_per_customer_spend(apparel: CustomerBase) -> None:
    purchases = ParetoNBD().fit(apparel)
    spend = GammaGamma().fit(apparel)
    by_model = lifetime_value(purchases, spend, apparel, margin=0.3, discount_rate=0.002,
                              time_unit="W", horizon=52.0)
    by_array = lifetime_value(purchases, spend.expected_spend(apparel), apparel, margin=0.3,
                              discount_rate=0.002, time_unit="W", horizon=52.0)
    np.testing.assert_array_equal(by_array.clv, by_model.clv)
    assert "given spend" in by_array.model
    with pytest.raises(crmcore.InvalidValueError, match="one per customer"):
        lifetime_value(purchases, np.ones(3), apparel, margin=0.3, discount_rate=0.002,
                       time_unit="W", horizon=52.0)
    with pytest.raises(crmcore.InvalidValueError, match="spend_model"):
        lifetime_value(purchases, np.full(len(apparel), np.nan), apparel, margin=0.3,
                       discount_rate=0.002, time_unit="W", horizon=52.0)
    cov_model = GammaGamma.from_params(p=2.5, q=9.8, v=134.0, customer_id="Id",
                                       **{"spend.Gender": 0.1})
    with pytest.raises(crmcore.InvalidValueError, match="fitted with covariates"):
        lifetime_value(purchases, cov_model, apparel, margin=0.3, discount_rate=0.002,
                       time_unit="W", horizon=52.0)


def test_fit_on_apparel(apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    fit = GammaGamma().fit(apparel, covariates=static_cov, customer_id="Id")
    plain = GammaGamma().fit(apparel)
    # the numbers on the docs page (docs/value/gamma-gamma.md)
    assert fit.params_["spend.Gender"] == pytest.approx(-0.0308, abs=5e-4)
    assert fit.params_["spend.Channel"] == pytest.approx(0.0003, abs=5e-4)
    assert fit.standard_errors_["spend.Gender"] == pytest.approx(0.0464, abs=5e-4)
    assert fit.log_likelihood_ == pytest.approx(-1781.81, abs=0.01)
    assert plain.log_likelihood_ <= fit.log_likelihood_ < plain.log_likelihood_ + 1
    # bootstrap intervals draw the coefficients with p, q, v
    band = fit.interval(lambda m: m.expected_spend(apparel, covariates=static_cov),
                        n_draws=40, seed=1)
    assert np.all(band.lower <= band.estimate)
    assert np.all(band.estimate <= band.upper)
    assert np.all(band.upper - band.lower > 0)


def test_a_groups_amounts_times_c_move_its_coefficient_by_log_c(
        apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    # exact equivariance: if every amount of the Gender = 1 customers is multiplied by c, the
    # likelihood at (gamma_Gender + log c) equals the old one shifted by a constant, so the
    # maximum moves by exactly log c and nothing else changes
    log = pd.read_csv(DATA / "apparelTrans.csv").merge(static_cov, on="Id")
    log["Price"] = log["Price"] * np.where(log["Gender"] == 1, 1.5, 1.0)
    scaled = CustomerBase.from_transactions(log[["Id", "Date", "Price"]], customer_id="Id",
                                            datetime="Date", monetary_value="Price",
                                            freq="D", time_unit="W")
    before = GammaGamma().fit(apparel, covariates=static_cov, customer_id="Id")
    after = GammaGamma().fit(scaled, covariates=static_cov, customer_id="Id")
    assert after.params_["spend.Gender"] == pytest.approx(
        before.params_["spend.Gender"] + np.log(1.5), abs=1e-6)
    for name in ("p", "q", "v", "spend.Channel"):
        assert after.params_[name] == pytest.approx(before.params_[name], rel=1e-5, abs=1e-6)
    women = static_cov.set_index("Id").loc[apparel.customer_id, "Gender"].to_numpy() == 1
    n_women = int((women & (np.asarray(apparel.frequency) > 0)).sum())
    assert after.log_likelihood_ == pytest.approx(
        before.log_likelihood_ - n_women * np.log(1.5), abs=1e-6)


def test_score_gives_each_group_its_own_spend(apparel: CustomerBase,
                                              static_cov: pd.DataFrame) -> None:
    # women (Gender = 1) pay half as much again for each purchase
    log = pd.read_csv(DATA / "apparelTrans.csv").merge(static_cov, on="Id")
    log["Price"] = log["Price"] * np.where(log["Gender"] == 1, 1.5, 1.0)
    base = CustomerBase.from_transactions(log[["Id", "Date", "Price"]], customer_id="Id",
                                          datetime="Date", monetary_value="Price", freq="D",
                                          time_unit="W")
    spend_model = GammaGamma()
    scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W", horizon=52.0,
                           value_model=ParetoNBD(), spend_model=spend_model,
                           covariates=static_cov, customer_id="Id", lifecycle_model=False,
                           loyalty_model=False)
    assert list(spend_model.params_)[3:] == ["spend.Gender", "spend.Channel"]
    assert spend_model.params_["spend.Gender"] == pytest.approx(0.3747, abs=5e-4)
    np.testing.assert_allclose(scores.expected_spend,
                               spend_model.expected_spend(base, covariates=static_cov),
                               rtol=1e-12)
    gender = static_cov.set_index("Id").loc[base.customer_id, "Gender"].to_numpy()
    women, men = scores.expected_spend[gender == 1], scores.expected_spend[gender == 0]
    assert women.mean() > 1.3 * men.mean()
    assert "ParetoNBD with covariates + GammaGamma with covariates" in scores.model
    # with the same (covariate-free) purchase model, the CLV moves with each customer's spend
    purchases = ParetoNBD().fit(base)
    kwargs = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W", "horizon": 52.0,
              "value_model": purchases, "lifecycle_model": False, "loyalty_model": False}
    plain = crmcore.score(base, spend_model=GammaGamma(), **kwargs)  # type: ignore[arg-type]
    with_cov = crmcore.score(base, spend_model=GammaGamma(), covariates=static_cov,
                             customer_id="Id", **kwargs)  # type: ignore[arg-type]
    np.testing.assert_allclose(with_cov.expected_spend, scores.expected_spend, rtol=1e-12)
    np.testing.assert_allclose(with_cov.clv / with_cov.expected_spend,
                               plain.clv / plain.expected_spend, rtol=1e-12)
    # without covariates the occasional buyers all get one spend; with them, their group's
    once = np.asarray(base.frequency) == 0
    assert once.sum() > 10
    assert np.ptp(plain.expected_spend[once]) == pytest.approx(0.0, abs=1e-9)
    assert np.all(scores.expected_spend[once & (gender == 1)]
                  > scores.expected_spend[once & (gender == 0)].max())


def test_score_with_a_covariate_spend_model_and_a_plain_purchase_model(
        apparel: CustomerBase, static_cov: pd.DataFrame) -> None:
    purchases = BGNBD().fit(apparel)
    spend = GammaGamma().fit(apparel, covariates=static_cov, customer_id="Id")
    scores = crmcore.score(apparel, margin=0.3, discount_rate=0.002, time_unit="W",
                           horizon=52.0, value_model=purchases, spend_model=spend,
                           covariates=static_cov, customer_id="Id", lifecycle_model=False,
                           loyalty_model=False)
    expected = lifetime_value(purchases, spend.expected_spend(apparel, covariates=static_cov),
                              apparel, margin=0.3, discount_rate=0.002, time_unit="W",
                              horizon=52.0)
    np.testing.assert_allclose(scores.clv, expected.clv, rtol=1e-12)
    assert scores.model.startswith("BGNBD + GammaGamma with covariates")


# -- a property ----------------------------------------------------------------------------------

@given(coef=st.floats(0.01, 3.0), x=st.integers(0, 30), m=st.floats(0.5, 500.0),
       tenths=st.lists(st.integers(-30, 30), min_size=2, max_size=6, unique=True))
def test_expected_spend_rises_with_a_positively_weighted_covariate(
        coef: float, x: int, m: float, tenths: list[int]) -> None:
    values = [t / 10 for t in tenths]
    n = len(values)
    base = CustomerBase.from_summary(np.arange(n), np.full(n, x), np.full(n, 5.0 if x else 0.0),
                                     np.full(n, 10.0), np.full(n, m if x else 0.0),
                                     time_unit="W")
    cov = pd.DataFrame({"id": np.arange(n), "z": values})
    model = GammaGamma.from_params(**CORE, customer_id="id", **{"spend.z": coef})
    spend = model.expected_spend(base, covariates=cov)
    assert np.all(spend > 0)
    order = np.argsort(values)
    assert np.all(np.diff(spend[order]) > 0)
    # and falls with a negative one
    negative = GammaGamma.from_params(**CORE, customer_id="id", **{"spend.z": -coef})
    assert np.all(np.diff(negative.expected_spend(base, covariates=cov)[order]) < 0)


def test_score_gives_free_item_buyers_their_groups_population_spend() -> None:
    base, cov = _simulate(300, {"spend.group": 0.5}, seed=10)
    free = np.asarray(base.customer_id)[:2]  # repeat buyers whose purchases cost nothing
    money = np.asarray(base.monetary_value).copy()
    money[:2] = 0.0
    base = CustomerBase.from_summary(base.customer_id, base.frequency, base.recency, base.T,
                                     money, time_unit="W")
    spend = GammaGamma()
    scores = crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W", horizon=52.0,
                           value_model=ParetoNBD.from_params(r=1.0, alpha=10.0, s=1.0,
                                                             beta=20.0),
                           spend_model=spend, covariates=cov, customer_id="id",
                           lifecycle_model=False, loyalty_model=False)
    assert spend.n_obs_ == 298  # fitted without them
    p, q, v = (spend.params_[n] for n in ("p", "q", "v"))
    frame = cov.set_index("id").loc[free]
    v_i = v * np.exp(spend.params_["spend.group"] * frame["group"].to_numpy()
                     + spend.params_["spend.z"] * frame["z"].to_numpy())
    rows = np.searchsorted(np.asarray(base.customer_id), free)
    np.testing.assert_allclose(scores.expected_spend[rows], p * v_i / (q - 1), rtol=1e-12)
    assert any("mean spend of 0" in note for note in scores.notes)


def test_a_fit_on_the_boundary_keeps_its_coefficients_and_pins_p() -> None:
    # mean spends that vary as much after six purchases as after one (see test_gamma_gamma):
    # the likelihood rises towards p -> infinity, v -> 0; the group effect is still estimated
    x, _, _ = crmcore.value.simulate_bgbb(5_000, alpha=1.2, beta=0.75, gamma=0.66,
                                          delta=2.78, n_periods=6, seed=3)
    m = 50.0 + np.random.default_rng(1).gamma(5.0, 2.0, 5_000)
    x, m = x[x > 0], m[x > 0]
    n = len(x)
    group = np.random.default_rng(2).integers(0, 2, n).astype(float)
    base = CustomerBase.from_summary(np.arange(n), x, np.full(n, 5.0), np.full(n, 10.0),
                                     m * np.exp(0.2 * group), time_unit="W")
    cov = pd.DataFrame({"id": np.arange(n), "group": group})
    with pytest.warns(crmcore.ConvergenceWarning, match="boundary"):
        fit = GammaGamma().fit(base, covariates=cov, customer_id="id")
    assert fit.boundary_ is not None
    assert {"p": "infinity", "v": "0"}.items() <= fit.boundary_["runaway"].items()
    assert np.isnan(fit.standard_errors_["p"])
    se = fit.standard_errors_["spend.group"]
    assert abs(fit.params_["spend.group"] - 0.2) < 4 * se
    loaded = GammaGamma.from_json(fit.to_json())
    assert np.isnan(loaded.standard_errors_["p"])
    assert loaded.standard_errors_["spend.group"] == se
