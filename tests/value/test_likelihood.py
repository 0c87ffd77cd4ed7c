"""Tests of the shared likelihood base class, on a negative binomial (NBD) count model.

The NBD (Ehrenberg 1959; gamma-mixed Poisson counts over exposure ``T``) is simple enough that
an independent reference is at hand: ``scipy.stats.nbinom`` with ``n = r`` and
``p = alpha / (alpha + T)``, maximised by Nelder-Mead, and a finite-difference Hessian of that
reference for the standard errors.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import optimize, special, stats

import crmcore
from crmcore.value._likelihood import LikelihoodModel, ParameterSummary, PredictionInterval

FloatArray = NDArray[np.float64]
# two-sided 5-sigma coverage: a recovery test that fails by chance once in ~2 million fits
FIVE_SIGMA = 1 - 5.733e-7


class NBD(LikelihoodModel):
    """Counts ``x`` over exposure ``T``: Poisson(lambda T), lambda ~ Gamma(r, alpha)."""

    param_names = ("r", "alpha")

    def fit(self, x: FloatArray, T: FloatArray, weights: FloatArray | None = None) -> NBD:
        return self._fit_patterns((x, T), weights)

    def _log_likelihood_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        r, alpha = params
        x, T = data
        ll = (special.gammaln(r + x) - special.gammaln(r) - special.gammaln(x + 1)
              + r * np.log(alpha / (alpha + T)) + x * np.log(T / (alpha + T)))
        if not gradient:
            return ll, None
        d_r = special.digamma(r + x) - special.digamma(r) + np.log(alpha / (alpha + T))
        d_alpha = r / alpha - (r + x) / (alpha + T)
        return ll, np.column_stack([d_r, d_alpha])

    def mean(self, t: float) -> FloatArray:
        r, alpha = self._param_array()
        return np.asarray([r * t / alpha])


def _simulate(n: int, r: float, alpha: float, seed: int) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    T = rng.choice([10.0, 20.0, 30.0], size=n)
    lam = rng.gamma(r, 1 / alpha, size=n)
    return rng.poisson(lam * T).astype(float), T


def _reference_nll(theta: FloatArray, x: FloatArray, T: FloatArray) -> float:
    r, alpha = np.exp(theta)
    return -float(stats.nbinom.logpmf(x, r, alpha / (alpha + T)).sum())


@pytest.fixture(scope="module")
def data() -> tuple[FloatArray, FloatArray]:
    return _simulate(3000, r=0.8, alpha=4.0, seed=1)


@pytest.fixture(scope="module")
def fitted(data: tuple[FloatArray, FloatArray]) -> NBD:
    return NBD().fit(*data)


def test_matches_scipy_reference(data: tuple[FloatArray, FloatArray], fitted: NBD) -> None:
    x, T = data
    ref = optimize.minimize(_reference_nll, np.zeros(2), args=(x, T), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    r, alpha = np.exp(ref.x)
    assert fitted.params_["r"] == pytest.approx(r, rel=1e-5)
    assert fitted.params_["alpha"] == pytest.approx(alpha, rel=1e-5)
    assert fitted.log_likelihood_ == pytest.approx(-ref.fun, abs=1e-6)
    assert fitted.n_obs_ == 3000
    assert fitted.aic_ == pytest.approx(4 + 2 * ref.fun)
    assert fitted.bic_ == pytest.approx(2 * math.log(3000) + 2 * ref.fun)


def test_standard_errors_match_finite_difference_hessian(
    data: tuple[FloatArray, FloatArray], fitted: NBD
) -> None:
    x, T = data
    p = np.array([fitted.params_["r"], fitted.params_["alpha"]])

    def nll(q: FloatArray) -> float:
        return -float(stats.nbinom.logpmf(x, q[0], q[1] / (q[1] + T)).sum())

    hess = np.empty((2, 2))
    h = 1e-4 * p
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            hess[i, j] = (nll(p + e_i + e_j) - nll(p + e_i - e_j) - nll(p - e_i + e_j)
                          + nll(p - e_i - e_j)) / (4 * h[i] * h[j])
    cov = np.linalg.inv(hess)
    se = fitted.standard_errors_
    assert se["r"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-3)
    assert se["alpha"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-3)
    assert fitted.covariance_["r"]["alpha"] == pytest.approx(cov[0, 1], rel=1e-3)


def test_compression_and_weights_give_the_same_fit(data: tuple[FloatArray, FloatArray],
                                                   fitted: NBD) -> None:
    x, T = data
    (ux, uT), weights, _ = crmcore.compress_rows(x, T)
    weighted = NBD().fit(ux, uT, weights=weights)
    assert weighted.params_["r"] == pytest.approx(fitted.params_["r"], rel=1e-8)
    assert weighted.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-12)
    assert weighted.n_obs_ == 3000


def test_fit_returns_self_and_hyperparameters_untouched() -> None:
    model = NBD(penalizer=0.25)
    assert model.penalizer == 0.25
    assert model.get_params() == {"penalizer": 0.25}
    x, T = _simulate(200, 1.0, 2.0, seed=3)
    assert model.fit(x, T) is model


def test_penalizer_shrinks_parameters(data: tuple[FloatArray, FloatArray],
                                      fitted: NBD) -> None:
    shrunk = NBD(penalizer=0.1).fit(*data)
    assert shrunk.params_["alpha"] < fitted.params_["alpha"]


@pytest.mark.parametrize("penalizer", [-1.0, math.nan, "a lot"])
def test_bad_penalizer_is_named(penalizer: object) -> None:
    x, T = _simulate(50, 1.0, 2.0, seed=3)
    with pytest.raises(crmcore.InvalidValueError, match="penalizer"):
        NBD(penalizer=penalizer).fit(x, T)  # type: ignore[arg-type]


def test_bad_weights_are_named() -> None:
    x, T = _simulate(50, 1.0, 2.0, seed=3)
    with pytest.raises(crmcore.InvalidValueError, match="weights has 3 values"):
        NBD().fit(x, T, weights=np.ones(3))
    w = np.ones(50)
    w[7] = -1
    with pytest.raises(crmcore.InvalidValueError, match="weights must be finite.*row 7"):
        NBD().fit(x, T, weights=w)


def test_unfitted_model_raises_not_fitted() -> None:
    model = NBD()
    for name in ("params_", "log_likelihood_", "standard_errors_", "aic_", "covariance_"):
        with pytest.raises(crmcore.NotFittedError, match="NBD is not fitted"):
            getattr(model, name)
    with pytest.raises(crmcore.NotFittedError):
        model.summary()


def test_from_params_predicts_but_has_no_fit_statistics() -> None:
    model = NBD.from_params(r=2.0, alpha=4.0)
    assert model.params_ == {"r": 2.0, "alpha": 4.0}
    assert model.mean(2.0)[0] == pytest.approx(1.0)
    with pytest.raises(crmcore.NotFittedError, match="from_params"):
        model.log_likelihood_
    with pytest.raises(crmcore.InvalidValueError, match="missing alpha"):
        NBD.from_params(r=1.0)
    with pytest.raises(crmcore.InvalidValueError, match="unknown beta"):
        NBD.from_params(r=1.0, alpha=1.0, beta=2.0)
    with pytest.raises(crmcore.InvalidValueError, match="alpha must be finite and > 0"):
        NBD.from_params(r=1.0, alpha=-1.0)


def test_summary_and_confidence_intervals(fitted: NBD) -> None:
    summary = fitted.summary(level=0.9)
    assert isinstance(summary, ParameterSummary)
    assert summary.names == ("r", "alpha")
    intervals = fitted.confidence_intervals(0.9)
    for name in ("r", "alpha"):
        lo, hi = intervals[name]
        assert lo < fitted.params_[name] < hi
        # log-scale Wald interval: the estimate is the geometric mean of the limits
        assert math.sqrt(lo * hi) == pytest.approx(fitted.params_[name])
        se_log = fitted.standard_errors_[name] / fitted.params_[name]
        assert math.log(hi / lo) == pytest.approx(2 * stats.norm.ppf(0.95) * se_log)
    text = str(summary)
    assert "log-likelihood" in text
    assert "alpha" in text
    frame = summary.to_frame()
    assert list(frame["parameter"]) == ["r", "alpha"]
    assert summary.to_dict()["r"]["estimate"] == fitted.params_["r"]
    with pytest.raises(crmcore.InvalidValueError, match="level"):
        fitted.confidence_intervals(1.5)


def test_json_round_trip(fitted: NBD, tmp_path: Path) -> None:
    path = tmp_path / "nbd.json"
    fitted.save(path)
    document = json.loads(path.read_text())
    assert document["crmcore"].endswith(".NBD")
    assert document["schema_version"] == 1
    loaded = NBD.load(path)
    assert loaded.params_ == fitted.params_
    assert loaded.standard_errors_ == fitted.standard_errors_
    assert loaded.log_likelihood_ == fitted.log_likelihood_
    fresh = NBD.from_json(NBD.from_params(r=1.0, alpha=2.0).to_json())
    assert fresh.params_ == {"r": 1.0, "alpha": 2.0}
    with pytest.raises(crmcore.SerializationError, match="schema version"):
        NBD.from_json(json.dumps({**document, "schema_version": 99}))
    with pytest.raises(crmcore.SerializationError, match="malformed"):
        NBD.from_json(json.dumps({k: v for k, v in document.items() if k != "params"}))
    # parameters a model could never have been fitted to are refused, naming the parameter
    for params, message in (({"r": -1.0, "alpha": 2.0}, "parameter r must be finite and > 0"),
                            ({"r": 1.0, "alpha": 0.0}, "parameter alpha must be finite and > 0"),
                            ({"r": 1.0}, "missing alpha"),
                            ({"r": 1.0, "alpha": 2.0, "s": 1.0}, "unknown s")):
        with pytest.raises(crmcore.SerializationError, match=message) as info:
            NBD.from_json(json.dumps({**document, "params": params}))
        assert info.value.field in {"r", "alpha", "s"}


def test_parametric_bootstrap_interval(fitted: NBD) -> None:
    interval = fitted.interval(lambda m: m.mean(10.0), n_draws=400, seed=5, level=0.95)
    assert isinstance(interval, PredictionInterval)
    assert interval.lower[0] < interval.estimate[0] < interval.upper[0]
    # delta method for r t / alpha on the log scale: var(log r - log alpha)
    cov = fitted.covariance_
    p = fitted.params_
    var_log = (cov["r"]["r"] / p["r"] ** 2 + cov["alpha"]["alpha"] / p["alpha"] ** 2
               - 2 * cov["r"]["alpha"] / (p["r"] * p["alpha"]))
    half = stats.norm.ppf(0.975) * math.sqrt(var_log)
    assert math.log(interval.upper[0] / interval.estimate[0]) == pytest.approx(half, rel=0.15)
    draws = fitted._draw_params(5, np.random.default_rng(0))
    assert draws.shape == (5, 2)
    assert np.all(draws > 0)
    with pytest.raises(crmcore.InvalidValueError, match="n_draws"):
        fitted.interval(lambda m: m.mean(1.0), n_draws=1)


def test_non_finite_likelihood_raises_convergence_error() -> None:
    class Broken(NBD):
        def _log_likelihood_terms(
            self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
        ) -> tuple[FloatArray, FloatArray | None]:
            n = len(data[0])
            return np.full(n, np.nan), np.full((n, 2), np.nan)

    x, T = _simulate(50, 1.0, 2.0, seed=3)
    with pytest.raises(crmcore.ConvergenceError) as info:
        Broken().fit(x, T)
    assert "attempts" in info.value.diagnostics
    assert len(info.value.diagnostics["attempts"]) == 4


def test_unidentified_parameter_raises_convergence_error() -> None:
    # equal counts per unit exposure: no heterogeneity, r and alpha run off to infinity
    T = np.array([10.0, 20.0, 30.0] * 20)
    x = T / 10.0
    with pytest.raises(crmcore.ConvergenceError) as info:
        NBD().fit(x, T)
    assert info.value.diagnostics["runaway"] == {"r": "infinity", "alpha": "infinity"}


@given(r=st.floats(0.2, 5.0), alpha=st.floats(0.5, 20.0), seed=st.integers(0, 1000))
def test_fit_recovers_simulated_parameters(r: float, alpha: float, seed: int) -> None:
    x, T = _simulate(4000, r, alpha, seed)
    model = NBD().fit(x, T)
    assert math.isfinite(model.log_likelihood_)
    ci = model.confidence_intervals(FIVE_SIGMA)
    assert ci["r"][0] < r < ci["r"][1]
    assert ci["alpha"][0] < alpha < ci["alpha"][1]
