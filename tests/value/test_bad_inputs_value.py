"""The value package's catalogue of bad and awkward inputs: each gets a named CRMError or a
right answer, never a silent NaN (issue 11). Assertions are on stable things: error classes,
fields, structured diagnostics, numbers to a tolerance."""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifetimes import BetaGeoFitter

import crmcore
from crmcore.datasets import load_cdnow_summary
from crmcore.value import BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmcore.value._simulate import simulate_bgnbd_log

HISTORY = (np.array([0.0, 1.0, 5.0, 40.0]), np.array([0.0, 3.0, 20.0, 30.0]),
           np.full(4, 39.0))


def _all_predictions(model: BGNBD | ParetoNBD) -> np.ndarray:
    """Every prediction a continuous BTYD model offers, for the history above."""
    x, tx, T = HISTORY
    return np.concatenate([
        model.p_alive(x, tx, T),
        model.expected_purchases(np.array([[1.0], [52.0], [500.0]]), x, tx, T).ravel(),
        model.expected_purchases_unconditional(np.array([1.0, 52.0])),
        model.conditional_probability_of_purchases(np.arange(4)[:, None], 10.0, x, tx,
                                                   T).ravel(),
        model.probability_of_purchases(np.arange(4), 10.0),
        model.dert(0.01, x, tx, T),
    ])


# -- the catalogue: input -> the named error it must raise ---------------------------------


def _saved_cdnow_gamma_gamma() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(GammaGamma().fit(load_cdnow_summary()).to_json())
    return document


def _wrong_shape() -> None:
    document = _saved_cdnow_gamma_gamma()
    document["log_covariance"] = [[1.0, 0.0], [0.0, 1.0]]
    GammaGamma.from_json(json.dumps(document))


def _not_symmetric() -> None:
    document = _saved_cdnow_gamma_gamma()
    cov = np.eye(3)
    cov[0, 1] = 0.5
    document["log_covariance"] = cov.tolist()
    GammaGamma.from_json(json.dumps(document))


def _ragged() -> None:
    document = _saved_cdnow_gamma_gamma()
    document["log_covariance"] = [[1.0, 0.0, 0.0], [0.0, 1.0]]
    GammaGamma.from_json(json.dumps(document))


def _gamma_gamma_runaway(n: int = 2_000) -> object:
    x, _, _ = crmcore.value.simulate_bgbb(n, alpha=1.2, beta=0.75, gamma=0.66,
                                          delta=2.78, n_periods=6, seed=3)
    m = 50.0 + np.random.default_rng(1).gamma(5.0, 2.0, n)
    return GammaGamma().fit(x[x > 0], m[x > 0])


CATALOGUE: list[tuple[str, Callable[[], object], type[Exception], str | None]] = [
    ("saved log_covariance of the wrong shape", _wrong_shape, crmcore.SerializationError,
     "log_covariance"),
    ("saved log_covariance not symmetric", _not_symmetric, crmcore.SerializationError,
     "log_covariance"),
    ("saved log_covariance ragged", _ragged, crmcore.SerializationError, "log_covariance"),
    ("BG/NBD parameter infinite", lambda: BGNBD.from_params(r=1.0, alpha=1.0, a=np.inf, b=1.0),
     crmcore.InvalidValueError, "a"),
    ("BG/NBD parameter zero", lambda: BGNBD.from_params(r=1.0, alpha=1.0, a=1.0, b=0.0),
     crmcore.InvalidValueError, "b"),
    ("Pareto/NBD parameter infinite",
     lambda: ParetoNBD.from_params(r=1.0, alpha=1.0, s=np.inf, beta=1.0),
     crmcore.InvalidValueError, "s"),
    ("Pareto/NBD parameter NaN",
     lambda: ParetoNBD.from_params(r=1.0, alpha=np.nan, s=1.0, beta=1.0),
     crmcore.InvalidValueError, "alpha"),
    ("Pareto/NBD DERT at a zero discount rate",
     lambda: ParetoNBD.from_params(r=1.0, alpha=1.0, s=1e12, beta=1e13).dert(0.0, [1], [2.0],
                                                                               [5.0]),
     crmcore.InvalidValueError, "continuous_rate"),
    ("Pareto/NBD negative penalizer",
     lambda: ParetoNBD(penalizer=-1.0).fit([1, 2], [1.0, 2.0], [5.0, 5.0]),
     crmcore.InvalidValueError, "penalizer"),
]


@pytest.mark.parametrize(("case", "call", "error", "field"), CATALOGUE,
                         ids=[row[0] for row in CATALOGUE])
def test_catalogue(case: str, call: Callable[[], object], error: type[Exception],
                   field: str | None) -> None:
    with pytest.raises(error) as info:
        call()
    if field is not None:
        assert getattr(info.value, "field", None) == field


def test_runaway_diagnostics_name_the_parameters() -> None:
    with pytest.warns(crmcore.ConvergenceWarning, match="boundary"):
        model = _gamma_gamma_runaway()
    assert isinstance(model, GammaGamma)
    assert model.boundary_ is not None
    assert {"p": "infinity", "v": "0"}.items() <= model.boundary_["runaway"].items()


def test_fit_without_a_usable_limit_raises_one_error_naming_the_runaway() -> None:
    with pytest.raises(crmcore.ConvergenceError) as info:
        crmcore.value.BGBB().fit([0, 0, 0], [0, 0, 0], [6, 6, 6])
    assert info.value.diagnostics["runaway"]
    assert set(info.value.diagnostics["end_point"]) == set(crmcore.value.BGBB.param_names)


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1.0, 1e3, 1e6, 1e12])
def test_gamma_gamma_estimates_scale_with_the_currency_unit(scale: float) -> None:
    base = load_cdnow_summary()
    repeat = base.frequency > 0
    x, m = base.frequency[repeat], base.monetary_value[repeat]
    reference = GammaGamma().fit(x, m)
    scaled = GammaGamma().fit(x, m * scale)
    assert scaled.params_["p"] == pytest.approx(reference.params_["p"], rel=1e-6)
    assert scaled.params_["q"] == pytest.approx(reference.params_["q"], rel=1e-6)
    assert scaled.params_["v"] == pytest.approx(reference.params_["v"] * scale, rel=1e-6)
    assert scaled.standard_errors_["v"] == pytest.approx(
        reference.standard_errors_["v"] * scale, rel=1e-5)
    assert scaled.log_likelihood_ == pytest.approx(
        reference.log_likelihood_ - len(x) * np.log(scale), rel=1e-9, abs=1e-6)


# -- predictions stay finite and fast for any parameters --------------------------------


def test_issue_example_is_finite_and_matches_the_limit() -> None:
    model = BGNBD.from_params(r=1.1, alpha=28.37, a=1e5, b=1e6)
    value = model.expected_purchases(1.0, [1], [5.0], [10.0])
    assert np.all(np.isfinite(value))
    # a/(a+b) = 1/11: within O(1/a) of the constant-dropout limit
    # P(alive) (1 - (1 + pi u)^-(r+x)) / pi with u = t/(alpha+T), pi = 1/11
    pi, u, m = 1.0 / 11.0, 1.0 / 38.37, 2.1
    alive = model.p_alive([1], [5.0], [10.0])[0]
    limit = alive * -np.expm1(-m * np.log1p(pi * u)) / pi
    assert value[0] == pytest.approx(limit, rel=1e-4)


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
@pytest.mark.parametrize(("a", "b"), [(1e5, 1e6), (7.2e10, 6.9e11), (1e13, 1e14), (1.4e-11, 3.0),
                                  (1.4e-11, 6e-11), (0.5, 1e8), (300.0, 1000.0),
                                  (1000.0, 1e4)])
def test_predictions_finite_for_extreme_parameters(cls: type[BGNBD], a: float,
                                                   b: float) -> None:
    values = _all_predictions(cls.from_params(r=0.8, alpha=5.0, a=a, b=b))
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)


@pytest.mark.parametrize("cls", [BGNBD, MBGNBD])
def test_limit_is_continuous(cls: type[BGNBD]) -> None:
    # As a, b grow with a/(a+b) fixed, predictions converge to the constant-dropout limit;
    # the three ways of computing E[Y(t)] (hypergeometric below a = 50, Gauss-Jacobi up to
    # 1e4, expansion beyond) join without a jump.
    pi = 0.2
    rows = [_all_predictions(cls.from_params(r=0.8, alpha=5.0, a=k * pi, b=k * (1 - pi)))
            for k in (40.0, 400.0, 4e3, 4e4, 4e6, 4e10)]
    for coarse, fine in itertools.pairwise(rows):
        # successive differences shrink like 1/a
        assert np.max(np.abs(fine - rows[-1])) <= np.max(np.abs(coarse - rows[-1])) + 1e-12
    np.testing.assert_allclose(rows[-2], rows[-1], rtol=1e-4, atol=1e-12)  # a = 8e5


@pytest.mark.parametrize("a", [20.0, 50.0, 300.0, 1e4, 3e4])
@pytest.mark.parametrize("b", [0.5, 30.0, 1e4])
def test_ways_of_computing_expected_purchases_agree(monkeypatch: pytest.MonkeyPatch, a: float,
                                                    b: float) -> None:
    # Each way of computing E[Y(t)] against another where both are valid, so the switches
    # between them cannot hide a jump: hypergeometric vs quadrature below a = 50 (moderate b),
    # quadrature vs expansion from a = 1e4.
    from crmcore.value import _bgnbd

    model = BGNBD.from_params(r=1.1, alpha=8.0, a=a, b=b)
    x, tx, T = HISTORY
    t = np.array([[1.0], [52.0], [500.0]])

    def compute(quadrature_a: float, asymptotic_a: float, quadrature_b: float) -> np.ndarray:
        with monkeypatch.context() as patch:
            patch.setattr(_bgnbd, "_QUADRATURE_A", quadrature_a)
            patch.setattr(_bgnbd, "_ASYMPTOTIC_A", asymptotic_a)
            patch.setattr(_bgnbd, "_QUADRATURE_B", quadrature_b)
            return model.expected_purchases(t, x, tx, T)

    quadrature = compute(0.0, np.inf, 0.0)
    if a >= 1e4:
        np.testing.assert_allclose(compute(0.0, 0.0, 0.0), quadrature, rtol=1e-10)
    if a <= 50 and b <= 30:
        np.testing.assert_allclose(compute(np.inf, np.inf, np.inf), quadrature, rtol=1e-10)
    np.testing.assert_allclose(model.expected_purchases(t, x, tx, T), quadrature, rtol=1e-10)


@pytest.mark.parametrize(("a", "b"), [(0.8, 2.4), (80.0, 240.0), (2000.0, 500.0)])
def test_agrees_with_lifetimes_at_moderate_large_parameters(a: float, b: float) -> None:
    reference = BetaGeoFitter()
    reference.params_ = pd.Series({"r": 0.8, "alpha": 5.0, "a": a, "b": b})
    ours = BGNBD.from_params(r=0.8, alpha=5.0, a=a, b=b)
    x, tx, T = HISTORY
    np.testing.assert_allclose(
        ours.p_alive(x, tx, T),
        reference.conditional_probability_alive(x, tx, T), rtol=1e-9)
    with np.errstate(all="ignore"):
        theirs = np.asarray(
            reference.conditional_expected_number_of_purchases_up_to_time(10.0, x, tx, T))
    finite = np.isfinite(theirs)  # lifetimes' 2F1 overflows for larger a
    assert finite.any()
    np.testing.assert_allclose(ours.expected_purchases(10.0, x, tx, T)[finite],
                               theirs[finite], rtol=1e-7)


# -- boundary fits -----------------------------------------------------------------------


def _constant_dropout_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Every customer drops out with the same probability 0.3 after each purchase: the
    # likelihood rises towards a, b -> infinity with a/(a+b) = 0.3
    x, tx, T = crmcore.value.simulate_bgnbd(150, r=1.0, alpha=5.0, a=3e7, b=7e7, T=30.0,
                                            seed=11)
    return x.astype(float), tx, T


def test_boundary_fit_warns_and_predicts_the_limit() -> None:
    x, tx, T = _constant_dropout_data()
    with pytest.warns(crmcore.ConvergenceWarning, match="boundary") as record:
        model = BGNBD().fit(x, tx, T)
    assert len(record) == 1
    boundary = model.boundary_
    assert boundary is not None
    assert boundary["runaway"] == {"a": "infinity", "b": "infinity"}
    assert "a" in boundary["pinned"]
    p = model.params_["a"] / (model.params_["a"] + model.params_["b"])
    assert 0.05 < p < 0.8
    assert np.isnan(model.standard_errors_["a"])
    assert np.isfinite(model.standard_errors_["r"])
    predictions = _all_predictions(model)
    assert np.all(np.isfinite(predictions))
    # the fit is the limit's maximum: it beats the parameters the data were drawn from
    truth = BGNBD()._log_likelihood_terms(np.array([1.0, 5.0, 3e7, 7e7]), (x, tx, T),
                                          gradient=False)[0].sum()
    assert model.log_likelihood_ >= truth - 1e-6
    loaded = BGNBD.from_json(model.to_json())
    assert loaded.boundary_ == model.boundary_
    np.testing.assert_allclose(loaded.standard_errors_["r"], model.standard_errors_["r"])
    interval = model.interval(lambda m: m.p_alive(x[:5], tx[:5], T[:5]), n_draws=20, seed=1)
    assert np.all(np.isfinite(interval.lower))


def test_identified_fit_does_not_warn() -> None:
    x, tx, T = crmcore.value.simulate_bgnbd(3000, r=0.5, alpha=4.0, a=0.8, b=2.5, T=40.0,
                                            seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", crmcore.CRMWarning)
        model = BGNBD().fit(x, tx, T)
    assert model.boundary_ is None


# -- the whole path on small random logs -------------------------------------------------


def _small_log(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    log = simulate_bgnbd_log(
        n, r=float(rng.uniform(0.2, 2.0)), alpha=float(rng.uniform(5.0, 200.0)),
        a=float(rng.uniform(0.2, 3.0)), b=float(rng.uniform(0.5, 6.0)),
        days=int(rng.integers(60, 366)), seed=rng)
    return pd.DataFrame(log)


def score_small_log(seed: int, n: int, value_model: str = "bgnbd") -> crmcore.Scores:
    """log -> CustomerBase -> BG/NBD or Pareto/NBD (+ gamma-gamma when spend varies) ->
    score, with boundary warnings recorded (not errors)."""
    log = _small_log(seed, n)
    base = crmcore.CustomerBase.from_transactions(
        log, monetary_value="amount", freq="D", time_unit="W",
        observation_end="2021-01-01")
    repeat = base.frequency > 0
    spend: float | None = 30.0
    if repeat.sum() >= 2 and np.ptp(base.monetary_value[repeat]) > 0:
        spend = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmcore.ConvergenceWarning)
        return crmcore.score(base, margin=0.3, discount_rate=0.002, time_unit="W",
                             horizon=52.0, value_model=value_model, spend_model=spend,
                             lifecycle_model=False, loyalty_model=False)


@pytest.mark.parametrize("value_model", ["bgnbd", "pareto-nbd"])
@settings(max_examples=15)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(30, 200))
def test_small_random_logs_score_or_raise_a_named_error(value_model: str, seed: int,
                                                        n: int) -> None:
    try:
        scores = score_small_log(seed, n, value_model)
    except crmcore.CRMError as exc:
        named = type(exc) is not crmcore.CRMError  # a named subclass
        assert named
        return
    assert np.all(np.isfinite(scores.clv))
    assert np.all(np.isfinite(scores.current_value))
    assert np.all((scores.p_alive >= 0) & (scores.p_alive <= 1))
    assert scores.expected_purchases is not None
    assert np.all(np.isfinite(scores.expected_purchases))


@pytest.mark.parametrize("blas_threads", [1, None])
def test_runaway_diagnosis_does_not_depend_on_blas_threads(blas_threads: int | None) -> None:
    # With one BLAS thread the optimiser used to stop on a plateau at p ~ 6e8, v ~ 2e-5 with a
    # positive definite information (an "interior" fit); with several it ran on to the
    # runaway. Both now end on the same boundary.
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=blas_threads, user_api="blas"), \
            pytest.warns(crmcore.ConvergenceWarning, match="boundary"):
        model = _gamma_gamma_runaway(5_000)
    assert isinstance(model, GammaGamma)
    assert model.boundary_ is not None
    assert {"p": "infinity", "v": "0"}.items() <= model.boundary_["runaway"].items()
