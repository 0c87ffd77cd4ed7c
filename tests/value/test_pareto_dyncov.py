"""Pareto/NBD with time-varying covariates: the static model as the special case (likelihood,
fit and predictions), the likelihood against adaptive quadrature, exact gradients, recovery
of simulated coefficients, the apparel data and the named errors.

References
----------
P. Bachmann, M. Meierer and J. Näf (2021), *Marketing Science* 40(4), 783-809 (the model);
CLVTools 0.12.1 (``apparelTrans``, ``apparelDynCov``, ``apparelStaticCov``; its static fit,
vignette "Advanced techniques" section 4: LL -5821.0627). CLVTools' materials print no
estimates of the time-varying model (its walkthrough's ``pnbd`` on ``apparelDynCov`` is not
evaluated), so the dynamic fit is checked by simulation and by its static special case.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import gammaln

from crmcore import (
    CalibrationHoldout,
    ConvergenceError,
    CustomerBase,
    DataError,
    InvalidValueError,
)
from crmcore.value import ParetoNBD, ParetoNBDDynamic, simulate_pareto_nbd_dynamic
from crmcore.value._covariates import CovariateDesign
from crmcore.value._pareto_dyncov import _read_paths

DATA = Path(__file__).resolve().parents[1] / "data"
STATIC = {"r": 1.8, "alpha": 90.0, "s": 0.6, "beta": 50.0, "life.Gender": -0.6,
          "life.Channel": 0.8, "trans.Gender": 0.3, "trans.Channel": 0.6}


@pytest.fixture(scope="module")
def apparel() -> CalibrationHoldout:
    log = pd.read_csv(DATA / "apparelTrans.csv")
    return CustomerBase.from_transactions(log, customer_id="Id", datetime="Date", freq="D",
                                          time_unit="W").calibration_holdout("2006-12-31")


def _theta(params: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    core = [math.log(params[n]) for n in ("r", "alpha", "s", "beta")]
    return np.array(core + [params[n] for n in names[4:]])


def test_constant_covariates_are_the_static_model(apparel: CalibrationHoldout,
                                                  constant: pd.DataFrame,
                                                  static: pd.DataFrame) -> None:
    base = apparel.calibration
    dynamic = ParetoNBDDynamic.from_params(**STATIC, customer_id="Id")
    plain = ParetoNBD.from_params(**STATIC, customer_id="Id")
    design = dynamic.covariates_
    assert design is not None
    paths = _read_paths(base, constant, "Id", "Cov.Date", design.life, design.trans)
    x = np.asarray(base.frequency, dtype=float)
    ll, _ = dynamic._terms(_theta(STATIC, dynamic.param_names), paths, x,
                           np.asarray(base.recency), np.asarray(base.T), gradient=False)
    rows = plain._customer_rows(static, np.asarray(base.customer_id))
    ref, _ = plain._row_log_likelihood_terms(rows, (x, np.asarray(base.recency),
                                                    np.asarray(base.T)), gradient=False)
    np.testing.assert_allclose(ll, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        dynamic.p_alive(base, covariates=constant, datetime="Cov.Date"),
        plain.p_alive(base, covariates=static), atol=1e-10)
    np.testing.assert_allclose(
        dynamic.expected_purchases(52.0, base, covariates=constant, datetime="Cov.Date"),
        plain.expected_purchases(52.0, base, covariates=static), rtol=1e-9, atol=1e-12)


def test_constant_covariates_fit_reproduces_clvtools_static_fit(
        apparel: CalibrationHoldout, constant: pd.DataFrame) -> None:
    model = ParetoNBDDynamic().fit(apparel.calibration, covariates=constant,
                                   customer_id="Id", datetime="Cov.Date")
    assert model.log_likelihood_ == pytest.approx(-5821.0627, abs=1e-3)  # CLVTools, printed
    published = {"r": 1.8378, "alpha": 92.9123, "s": 0.5920, "beta": 49.6227,
                 "life.Gender": -0.6430, "life.Channel": 0.7907, "trans.Gender": 0.2859,
                 "trans.Channel": 0.6241}
    for name, value in published.items():
        assert model.params_[name] == pytest.approx(value, rel=5e-3, abs=2e-3), name


def test_likelihood_is_the_integral(apparel: CalibrationHoldout, dyncov: pd.DataFrame) -> None:
    """One customer's likelihood by adaptive quadrature over her covariate path."""
    base = apparel.calibration
    design = CovariateDesign(customer_id="Id", life=("High.Season", "Gender"),
                             trans=("High.Season", "Channel"))
    model = ParetoNBDDynamic()
    model._set_design(design)
    paths = _read_paths(base, dyncov, "Id", "Cov.Date", design.life, design.trans)
    params = {"r": 1.5, "alpha": 60.0, "s": 0.7, "beta": 30.0}
    g_life, g_trans = np.array([0.8, -0.5]), np.array([0.6, 0.4])
    theta = np.concatenate([np.log(list(params.values())), g_life, g_trans])
    x, tx, t_obs = (np.asarray(v, dtype=float) for v in (base.frequency, base.recency, base.T))
    ll, _ = model._terms(theta, paths, x, tx, t_obs, gradient=False)
    r, alpha, s, beta = params.values()
    for i in np.flatnonzero(x > 0)[:3]:
        segs = np.flatnonzero(paths.seg_customer == i)
        starts, ends = paths.seg_start[segs], paths.seg_end[segs]
        a_rate = np.exp(paths.seg_trans[segs] @ g_trans)
        b_rate = np.exp(paths.seg_life[segs] @ g_life)

        def clock(u: float, rate: np.ndarray, starts: np.ndarray = starts,
                  ends: np.ndarray = ends) -> float:
            return float(np.sum(rate * np.clip(np.minimum(ends, u) - starts, 0, None)))

        def hazard(u: float, starts: np.ndarray = starts, b_rate: np.ndarray = b_rate) -> float:
            return float(b_rate[np.searchsorted(starts, u, side="right") - 1])

        def integrand(u: float, i: int = i, a_rate: np.ndarray = a_rate,
                      b_rate: np.ndarray = b_rate) -> float:
            return float((alpha + clock(u, a_rate)) ** -(r + x[i]) * s * beta**s * hazard(u)
                         * (beta + clock(u, b_rate)) ** -(s + 1))

        breaks = [b for b in starts if tx[i] < b < t_obs[i]]
        died, _ = integrate.quad(integrand, tx[i], t_obs[i], points=breaks or None,
                                 epsabs=0, epsrel=1e-12, limit=500)
        alive = ((alpha + clock(t_obs[i], a_rate)) ** -(r + x[i])
                 * (beta / (beta + clock(t_obs[i], b_rate))) ** s)
        ref = (paths.purchase_trans[i] @ g_trans + gammaln(r + x[i]) - gammaln(r)
               + r * math.log(alpha) + math.log(alive + died))
        assert ll[i] == pytest.approx(ref, abs=1e-9)


def test_gradient_is_exact(apparel: CalibrationHoldout, dyncov: pd.DataFrame) -> None:
    base = apparel.calibration
    design = CovariateDesign(customer_id="Id", life=("High.Season", "Gender", "Channel"),
                             trans=("High.Season", "Gender", "Channel"))
    model = ParetoNBDDynamic()
    model._set_design(design)
    paths = _read_paths(base, dyncov, "Id", "Cov.Date", design.life, design.trans)
    x, tx, t_obs = (np.asarray(v, dtype=float) for v in (base.frequency, base.recency, base.T))
    theta = np.array([0.5, 4.4, -0.5, 3.9, 0.2, -0.6, 0.8, 0.5, 0.3, 0.6])
    _, grad = model._terms(theta, paths, x, tx, t_obs, gradient=True)
    assert grad is not None
    for k in range(len(theta)):
        h = np.zeros(len(theta))
        h[k] = 1e-4
        up = model._terms(theta + h, paths, x, tx, t_obs, gradient=False)[0]
        down = model._terms(theta - h, paths, x, tx, t_obs, gradient=False)[0]
        np.testing.assert_allclose(grad[:, k], (up - down) / 2e-4, rtol=1e-5, atol=1e-6)


def _simulated(n: int, weeks: int, seed: int) -> tuple[CustomerBase, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    season = ((np.arange(weeks) % 26) < 8).astype(float)
    gender = rng.integers(0, 2, n).astype(float)
    cov = np.stack([np.broadcast_to(season, (n, weeks)),
                    np.broadcast_to(gender[:, None], (n, weeks))], axis=2)
    cust, when = simulate_pareto_nbd_dynamic(
        r=0.9, alpha=8.0, s=0.8, beta=12.0, gamma_life=[0.7, -0.4], gamma_trans=[0.9, 0.3],
        covariates=cov, acquired=rng.uniform(0, 20, n), seed=seed + 1)
    day0 = np.datetime64("2020-01-05")
    log = pd.DataFrame({"id": cust, "at": day0 + np.floor(when * 7).astype("timedelta64[D]")})
    base = CustomerBase.from_transactions(
        log, customer_id="id", datetime="at", freq="D", time_unit="W",
        observation_end=str(day0 + np.timedelta64(weeks * 7 - 1, "D")))
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), weeks),
                          "week": np.tile(day0 + np.arange(weeks) * np.timedelta64(7, "D"), n),
                          "season": cov[:, :, 0].reshape(-1), "gender": cov[:, :, 1].reshape(-1)})
    return base, frame


@pytest.mark.slow
def test_recovers_simulated_coefficients() -> None:
    base, frame = _simulated(3000, 80, seed=3)
    model = ParetoNBDDynamic().fit(base, covariates=frame, customer_id="id", datetime="week")
    truth = {"r": 0.9, "alpha": 8.0, "s": 0.8, "beta": 12.0, "life.season": 0.7,
             "life.gender": -0.4, "trans.season": 0.9, "trans.gender": 0.3}
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 3 * model.standard_errors_[name], name


@pytest.mark.slow
def test_apparel_seasonal_fit(apparel: CalibrationHoldout, dyncov: pd.DataFrame) -> None:
    """High season on the purchase process, Gender and Channel on both; the forecast over the
    207-week holdout against the actual purchases."""
    base = apparel.calibration
    model = ParetoNBDDynamic().fit(base, covariates=dyncov, customer_id="Id",
                                   datetime="Cov.Date", life=["Gender", "Channel"])
    assert model.params_["trans.High.Season"] > 0  # more purchases in high season
    se = model.standard_errors_["trans.High.Season"]
    assert model.params_["trans.High.Season"] > 5 * se
    forecast = model.expected_purchases(apparel.duration_holdout, base, covariates=dyncov)
    actual = float(np.asarray(apparel.frequency_holdout).sum())
    assert forecast.sum() == pytest.approx(actual, rel=0.1)


def test_named_errors(apparel: CalibrationHoldout, dyncov: pd.DataFrame) -> None:
    base = apparel.calibration
    short = dyncov[dyncov["Cov.Date"] <= "2006-06-30"]
    with pytest.raises(DataError) as info:
        ParetoNBDDynamic().fit(base, covariates=short, customer_id="Id", datetime="Cov.Date")
    assert info.value.field == "Id"
    model = ParetoNBDDynamic.from_params(**STATIC, customer_id="Id")
    near = dyncov[dyncov["Cov.Date"] <= "2007-03-31"]
    with pytest.raises(DataError):  # the forecast period is not covered
        model.expected_purchases(52.0, base, covariates=near, datetime="Cov.Date")


@pytest.mark.slow
def test_seasonal_dropout_is_not_identified(apparel: CalibrationHoldout,
                                            dyncov: pd.DataFrame) -> None:
    base = apparel.calibration
    with pytest.raises(ConvergenceError):
        # Gender and Channel on the dropout process, High.Season too: its coefficient runs
        # off to minus infinity on these data (no maximum)
        ParetoNBDDynamic().fit(base, covariates=dyncov, customer_id="Id",
                               datetime="Cov.Date", trans=["Gender"],
                               life=["High.Season", "Gender", "Channel"])


@pytest.mark.slow
def test_constraint_and_penalty_match_the_static_model(apparel: CalibrationHoldout,
                                                       constant: pd.DataFrame,
                                                       static: pd.DataFrame) -> None:
    """CLVTools' equality constraint and L2 penalty, through constant covariates: the same
    estimates as the static model's."""
    base = apparel.calibration
    for kwargs in ({"constrain": ["Gender"]}, {"reg_lambdas": {"trans": 0.1, "life": 0.2}}):
        dynamic = ParetoNBDDynamic().fit(base, covariates=constant, customer_id="Id",
                                         datetime="Cov.Date", **kwargs)
        plain = ParetoNBD().fit(base, covariates=static, customer_id="Id", **kwargs)
        assert dynamic.param_names == plain.param_names
        for name, value in plain.params_.items():
            assert dynamic.params_[name] == pytest.approx(value, rel=1e-4, abs=1e-5), name
        assert dynamic.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-4)


def test_save_load(apparel: CalibrationHoldout, constant: pd.DataFrame, tmp_path: Path) -> None:
    base = apparel.calibration
    model = ParetoNBDDynamic.from_params(**STATIC, customer_id="Id")
    model.save(tmp_path / "dyn.json")
    loaded = ParetoNBDDynamic.load(tmp_path / "dyn.json")
    # coefficients are held as exp(coefficient): equal to the last bit or two
    assert loaded.params_ == pytest.approx(model.params_, rel=1e-14)
    with pytest.raises(InvalidValueError) as info:
        loaded.p_alive(base, covariates=constant)
    assert info.value.field == "datetime"
    np.testing.assert_array_equal(
        loaded.p_alive(base, covariates=constant, datetime="Cov.Date"),
        model.p_alive(base, covariates=constant, datetime="Cov.Date"))


def test_new_customer_prediction(constant: pd.DataFrame, static: pd.DataFrame,
                                 dyncov: pd.DataFrame) -> None:
    """Prospects acquired at their first covariate row: constant covariates give the static
    model's new-customer expectation; a prospect acquired before high season expects more
    purchases over a quarter than one acquired after it when high season raises purchases."""
    dynamic = ParetoNBDDynamic.from_params(**STATIC, customer_id="Id")
    plain = ParetoNBD.from_params(**STATIC, customer_id="Id")
    prospects = constant[(constant["Id"] <= 5) & (constant["Cov.Date"] >= "2007-01-07")]
    ours = dynamic.expected_purchases_new_customer(52.0, prospects, datetime="Cov.Date",
                                                   time_unit="W")
    ref = plain.expected_purchases_new_customer(52.0, covariates=static[static["Id"] <= 5])
    np.testing.assert_allclose(ours, np.asarray(ref).reshape(-1), rtol=1e-10)
    seasonal = ParetoNBDDynamic.from_params(
        r=1.8, alpha=90.0, s=0.6, beta=50.0, **{"trans.High.Season": 1.0,
                                                "life.Gender": 0.0}, customer_id="Id")
    one = dyncov[dyncov["Id"] == 1]
    before = one[one["Cov.Date"] >= "2006-09-17"]  # high season ahead
    after = one[one["Cov.Date"] >= "2007-01-07"].assign(Id=2)  # high season behind
    both = pd.concat([before, after])
    values = seasonal.expected_purchases_new_customer(13.0, both, datetime="Cov.Date",
                                                      time_unit="W")
    assert values[0] > values[1]
    with pytest.raises(DataError):
        seasonal.expected_purchases_new_customer(10_000.0, both, datetime="Cov.Date",
                                                 time_unit="W")


def test_dect(apparel: CalibrationHoldout, dyncov: pd.DataFrame) -> None:
    """Without discounting DECT is the expected purchases; with it, it is the discounted
    integral (checked by a fine Riemann sum of the expectation's increments)."""
    base = apparel.calibration.take(np.arange(40))
    dyncov = dyncov[dyncov["Id"].isin(np.asarray(base.customer_id))]
    model = ParetoNBDDynamic.from_params(
        r=1.8, alpha=90.0, s=0.6, beta=50.0, **{"trans.High.Season": 1.0,
                                                "life.High.Season": -0.5}, customer_id="Id")
    undiscounted = model.dect(0.0, 52.0, base, covariates=dyncov, datetime="Cov.Date")
    np.testing.assert_allclose(
        undiscounted, model.expected_purchases(52.0, base, covariates=dyncov,
                                               datetime="Cov.Date"), rtol=1e-12)
    delta = 0.01
    grid = np.linspace(0.0, 52.0, 521)
    cumulative = np.stack([model.expected_purchases(g, base, covariates=dyncov,
                                                    datetime="Cov.Date") for g in grid])
    mid = (grid[1:] + grid[:-1]) / 2
    riemann = np.exp(-delta * mid) @ np.diff(cumulative, axis=0)
    np.testing.assert_allclose(model.dect(delta, 52.0, base, covariates=dyncov,
                                          datetime="Cov.Date"), riemann, rtol=1e-5)
