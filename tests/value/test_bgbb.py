"""BG/BB (Fader, Hardie & Shang 2010) against the paper's donations estimates and lifetimes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifetimes import BetaGeoBetaBinomFitter
from scipy.special import betaln

import crmcore
from crmcore import CustomerBase, InvalidValueError, NotFittedError, SerializationError
from crmcore.datasets import load_donations
from crmcore.value import BGBB
from crmcore.value._bgbb import log_likelihood_terms


def _params(values: Any) -> dict[str, Any]:
    return {str(k): float(v) for k, v in dict(values).items()}


@pytest.fixture(scope="module")
def donations_model() -> BGBB:
    return BGBB().fit(load_donations())


@pytest.fixture(scope="module")
def lifetimes_model() -> BetaGeoBetaBinomFitter:
    data = load_donations()
    return BetaGeoBetaBinomFitter().fit(
        pd.Series(data.frequency), pd.Series(data.recency), pd.Series(data.n_periods),
        weights=pd.Series(data.weights))


def test_reproduces_published_donations_estimates(donations_model: BGBB) -> None:
    # Fader, Hardie & Shang (2010), Marketing Science 29(6), section 4 (the 1995 cohort of
    # 11,104 donors, six annual opportunities 1996-2001): alpha = 1.204, beta = 0.750,
    # gamma = 0.657, delta = 2.783, LL = -33,225.6.
    params = donations_model.params_
    assert params["alpha"] == pytest.approx(1.204, abs=5e-4)
    assert params["beta"] == pytest.approx(0.750, abs=5e-4)
    assert params["gamma"] == pytest.approx(0.657, abs=5e-4)
    assert params["delta"] == pytest.approx(2.783, abs=5e-4)
    assert donations_model.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert donations_model.n_obs_ == 11104


def test_expected_repeat_counts_sum_to_cohort(donations_model: BGBB) -> None:
    data = load_donations()
    expected = donations_model.expected_repeat_purchase_counts(data)
    observed = np.bincount(data.frequency, weights=data.weights, minlength=7)
    assert expected.sum() == pytest.approx(11104)
    # As in the paper's histogram comparison: the fit is close for every count (within 3%
    # of the cohort).
    assert np.max(np.abs(expected - observed)) < 0.03 * 11104
    mean_repeat = float(np.arange(7) @ expected) / 11104
    unconditional = donations_model.expected_purchases_unconditional(6)[0]
    assert mean_repeat == pytest.approx(float(unconditional))


def test_pmf_equals_the_papers_sum_and_scales_to_many_cohorts() -> None:
    # FHS (2010) eq. 7 term by term for random pairs, against the tabulated implementation
    a, b, g, d = 1.2, 0.75, 0.66, 2.78
    model = BGBB.from_params(alpha=a, beta=b, gamma=g, delta=d)
    rng = np.random.default_rng(5)
    n = rng.integers(0, 120, 40)
    x = np.floor(rng.uniform(0, 1, 40) * (n + 1))
    got = model.probability_of_purchases(x, n)

    def log_choose(top: float, bottom: float) -> float:
        return math.lgamma(top + 1) - math.lgamma(bottom + 1) - math.lgamma(top - bottom + 1)

    for k, (xi, ni) in enumerate(zip(x, n, strict=True)):
        total = math.exp(log_choose(ni, xi) + betaln(a + xi, b + ni - xi) - betaln(a, b)
                         + betaln(g, d + ni) - betaln(g, d))
        total += sum(math.exp(log_choose(i, xi) + betaln(a + xi, b + i - xi) - betaln(a, b)
                              + betaln(g + 1, d + i) - betaln(g, d))
                     for i in range(int(xi), int(ni)))
        assert got[k] == pytest.approx(total, rel=1e-11, abs=1e-300)
    # the histogram of 2,000 cohorts (n = 1 .. 2,000): one customer each, so the expected
    # counts add up to 2,000 and their mean is the unconditional expectation
    cohorts = np.arange(1, 2_001)
    counts = model.expected_repeat_purchase_counts(cohorts)
    assert counts.sum() == pytest.approx(2_000, rel=1e-12)
    mean = np.arange(len(counts)) @ counts
    assert mean == pytest.approx(model.expected_purchases_unconditional(cohorts).sum(),
                                 rel=1e-10)


def test_agrees_with_lifetimes(donations_model: BGBB,
                               lifetimes_model: BetaGeoBetaBinomFitter) -> None:
    for name, value in donations_model.params_.items():
        assert value == pytest.approx(lifetimes_model.params_[name], rel=1e-4)
    data = load_donations()
    x, tx, n = data.frequency, data.recency, data.n_periods
    lx, ltx, ln = (pd.Series(a) for a in (x, tx, n))
    fixed = BGBB.from_params(**_params(lifetimes_model.params_))
    for ahead in (0, 1, 5):
        np.testing.assert_allclose(fixed.p_alive(x, tx, n, periods_ahead=ahead),
                                   lifetimes_model.conditional_probability_alive(ahead, lx, ltx,
                                                                                 ln),
                                   rtol=1e-10)
    for t in (1, 5, 10):
        np.testing.assert_allclose(
            fixed.expected_purchases(t, x, tx, n),
            lifetimes_model.conditional_expected_number_of_purchases_up_to_time(t, lx, ltx, ln),
            rtol=1e-10)


def test_dert_matches_direct_sum(donations_model: BGBB) -> None:
    data = load_donations()
    x, tx, n = (a.astype(float) for a in (data.frequency, data.recency, data.n_periods))
    a, b, g, d = donations_model._param_array()
    ll, _ = log_likelihood_terms(donations_model._param_array(), x, tx, n, gradient=False)
    lead = np.exp(betaln(a + x + 1, b + n - x) - betaln(a, b) - ll)
    i = np.arange(1, 5000, dtype=float)[:, None]
    direct = lead * (np.exp(betaln(g, d + n + i) - betaln(g, d)) / 1.1**i).sum(axis=0)
    np.testing.assert_allclose(donations_model.dert(0.1, x, tx, n), direct, rtol=1e-10)


def test_closed_form_expectation_matches_sum_over_opportunities(donations_model: BGBB) -> None:
    # the conditional expectation is sum_{i=1}^{t} P(transaction at n + i | data): it starts
    # at 0 and increases with t
    x, tx, n = np.array([3.0]), np.array([4.0]), np.array([6.0])
    steps = [donations_model.expected_purchases(t, x, tx, n)[0] for t in range(8)]
    assert steps[0] == 0
    assert np.all(np.diff(steps) > 0)


def test_gamma_near_one_uses_the_limit() -> None:
    near = BGBB.from_params(alpha=1.0, beta=1.0, gamma=1.0 + 1e-12, delta=2.0)
    off = BGBB.from_params(alpha=1.0, beta=1.0, gamma=1.0 + 1e-5, delta=2.0)
    a = near.expected_purchases(10, [2], [3], [6])
    b = off.expected_purchases(10, [2], [3], [6])
    assert np.isfinite(a).all()
    assert a[0] == pytest.approx(b[0], rel=1e-4)
    assert near.expected_purchases_unconditional(5)[0] == pytest.approx(
        off.expected_purchases_unconditional(5)[0], rel=1e-4)


def test_gradient_is_exact() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(1, 12, 40).astype(float)
    tx = np.floor(rng.uniform(0, 1, 40) * (n + 1))
    x = np.where(tx > 0, np.maximum(1, np.floor(rng.uniform(0, 1, 40) * (tx + 1))), 0)
    x = np.minimum(x, tx)
    params = np.array([1.3, 0.8, 0.6, 2.5])
    _, grad = log_likelihood_terms(params, x, tx, n)
    assert grad is not None
    for k in range(4):
        h = 1e-6 * params[k]
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        numeric = (log_likelihood_terms(up, x, tx, n, gradient=False)[0]
                   - log_likelihood_terms(down, x, tx, n, gradient=False)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, k], numeric, rtol=1e-5, atol=1e-7)


@st.composite
def patterns(draw: st.DrawFn) -> tuple[int, int, int]:
    n = draw(st.integers(0, 2000))
    tx = draw(st.integers(0, n))
    x = 0 if tx == 0 else draw(st.integers(1, tx))
    return x, tx, n


@given(pattern=patterns(),
       params=st.tuples(*[st.floats(0.05, 50.0)] * 4),
       ahead=st.integers(0, 50))
def test_probabilities_and_expectations_are_sane(
        pattern: tuple[int, int, int], params: tuple[float, float, float, float],
        ahead: int) -> None:
    model = BGBB.from_params(**_params(dict(zip(BGBB.param_names, params, strict=True))))
    x, tx, n = ([float(v)] for v in pattern)
    ll, grad = log_likelihood_terms(np.array(params), np.array(x), np.array(tx), np.array(n))
    assert np.isfinite(ll).all()
    assert ll[0] <= 0
    assert grad is not None
    assert np.isfinite(grad).all()
    alive_now = model.p_alive(x, tx, n)[0]
    alive_later = model.p_alive(x, tx, n, periods_ahead=ahead)[0]
    assert 0 <= alive_later <= alive_now <= 1
    e5, e10 = model.expected_purchases(5, x, tx, n)[0], model.expected_purchases(10, x, tx, n)[0]
    assert 0 <= e5 <= e10 <= 10
    assert np.isfinite(model.dert(0.1, x, tx, n)).all()


def test_customer_base_input_matches_arrays() -> None:
    base = CustomerBase.from_summary(np.arange(4), [0, 1, 3, 2], [0, 2, 5, 6], [6, 6, 6, 6],
                                     time_unit="Y")
    model = BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
    np.testing.assert_allclose(model.p_alive(base), model.p_alive([0, 1, 3, 2], [0, 2, 5, 6],
                                                                  [6, 6, 6, 6]))
    fitted = BGBB().fit(load_donations())
    assert fitted.time_unit_ is None


@pytest.mark.parametrize(
    ("frequency", "recency", "n_periods", "field", "words"),
    [
        ([-1], [0], [6], "frequency", "whole number"),
        ([1.5], [2], [6], "frequency", "whole number"),
        ([float("nan")], [0], [6], "frequency", "NaN"),
        ([3], [2], [6], "frequency", "cannot exceed recency"),
        ([2], [7], [6], "recency", "cannot exceed n_periods"),
        ([0], [2], [6], "recency", "must be 0 when frequency is 0"),
        ([1, 2], [1, 2, 3], [6, 6], "n_periods", "one value per customer"),
    ],
)
def test_bad_input_raises_named_errors(frequency: list[float], recency: list[float],
                                       n_periods: list[float], field: str, words: str) -> None:
    with pytest.raises(InvalidValueError, match=words) as info:
        BGBB().fit(frequency, recency, n_periods)
    assert info.value.field == field


def test_unfitted_and_bad_arguments() -> None:
    with pytest.raises(NotFittedError, match="BGBB is not fitted"):
        BGBB().p_alive([1], [1], [6])
    model = BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
    with pytest.raises(InvalidValueError, match="discount_rate") as info:
        model.dert(0.0, [1], [1], [6])
    assert info.value.field == "discount_rate"
    with pytest.raises(InvalidValueError, match="periods_ahead"):
        model.p_alive([1], [1], [6], periods_ahead=-1)
    with pytest.raises(InvalidValueError, match="recency"):
        model.fit([1, 2, 3])
    assert model.probability_of_purchases(7, 6)[0] == 0


def test_json_round_trip(donations_model: BGBB, tmp_path: Path) -> None:
    path = tmp_path / "bgbb.json"
    donations_model.save(path)
    loaded = BGBB.load(path)
    assert loaded.params_ == donations_model.params_
    assert loaded.log_likelihood_ == donations_model.log_likelihood_
    assert loaded.standard_errors_ == pytest.approx(donations_model.standard_errors_)
    with pytest.raises(SerializationError):
        crmcore.value.GammaGamma.from_json(donations_model.to_json())


def test_p_alive_interval_brackets_estimate(donations_model: BGBB) -> None:
    interval = donations_model.interval(lambda m: m.p_alive([3, 0], [5, 0], [6, 6]),
                                        n_draws=100, seed=1)
    assert np.all(interval.lower <= interval.estimate)
    assert np.all(interval.estimate <= interval.upper)
    assert np.all((interval.lower >= 0) & (interval.upper <= 1))


def test_registered_under_bgbb(plugin_manager: pluggy.PluginManager) -> None:
    model = crmcore.get_model("value", "bgbb", plugin_manager=plugin_manager)
    assert isinstance(model, BGBB)


@pytest.mark.parametrize("seed", [11, 12])
def test_fit_recovers_simulated_parameters(seed: int) -> None:
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    x, tx, n = crmcore.value.simulate_bgbb(20000, n_periods=12, seed=seed, **truth)
    model = BGBB().fit(x, tx, n)
    se = model.standard_errors_
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 3.5 * se[name], name


def test_simulator_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidValueError, match="n_periods") as info:
        crmcore.value.simulate_bgbb(10, alpha=1, beta=1, gamma=1, delta=1,
                                    n_periods=2.5)  # type: ignore[arg-type]
    assert info.value.field == "n_periods"
    with pytest.raises(InvalidValueError, match="gamma") as info:
        crmcore.value.simulate_bgbb(10, alpha=1, beta=1, gamma=-1, delta=1, n_periods=3)
    assert info.value.field == "gamma"


def test_unidentified_data_raise_convergence_error() -> None:
    # Nobody ever transacts again: the transaction and dropout processes cannot be told apart.
    with pytest.raises(crmcore.ConvergenceError) as info:
        BGBB().fit([0, 0, 0], [0, 0, 0], [6, 6, 6])
    runaway = info.value.diagnostics["runaway"]
    assert runaway
    assert set(runaway) <= set(BGBB.param_names)
    assert set(runaway.values()) <= {"0", "infinity"}


def test_likelihood_equals_the_papers_sum_term_by_term() -> None:
    # Fader, Hardie & Shang (2010), eq. 5, each term from its own beta functions: the
    # implementation builds the died-after-t_x+i terms by a running product instead.
    rng = np.random.default_rng(11)
    n = rng.integers(0, 900, 60).astype(float)
    tx = np.floor(rng.uniform(0, 1, 60) * (n + 1))
    x = np.where(tx > 0, np.maximum(1, np.floor(rng.uniform(0, 1, 60) * (tx + 1))), 0)
    for a, b, g, d in ((1.2, 0.75, 0.66, 2.78), (0.05, 30.0, 5.0, 0.1), (40.0, 2.0, 0.02, 50.0)):
        ll, _ = log_likelihood_terms(np.array([a, b, g, d]), x, tx, n, gradient=False)
        for row in range(len(x)):
            xi, ti, ni = x[row], tx[row], n[row]
            i = np.arange(ni - ti)
            terms = np.concatenate([
                [betaln(a + xi, b + ni - xi) + betaln(g, d + ni)],
                betaln(a + xi, b + ti - xi + i) + betaln(g + 1, d + ti + i),
            ]) - betaln(a, b) - betaln(g, d)
            expected = np.log(np.sum(np.exp(terms - terms.max()))) + terms.max()
            assert ll[row] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_p_alive_after_a_transaction_at_the_last_opportunity() -> None:
    # A customer who transacted at opportunity n was alive there, so P(alive at n + 1) is one
    # more survival: B(g, d+n+1) / B(g, d+n) = (d+n)/(g+d+n), whatever x. (lifetimes 0.11.3
    # gives 0.0038 for x = 26, n = 52: its likelihood floors the terms at 1e-15.)
    model = BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.78)
    for x, n in ((26, 52), (1, 1), (300, 1000), (1000, 1000)):
        p = model.p_alive([x], [n], [n], periods_ahead=1)[0]
        assert p == pytest.approx((2.78 + n) / (0.66 + 2.78 + n), rel=1e-12)
        assert model.p_alive([x], [n], [n])[0] == pytest.approx(1.0, rel=1e-12)


def test_predictions_per_pattern_equal_predictions_per_row() -> None:
    # the public methods evaluate each distinct (x, t_x, n) once and spread the result back
    from crmcore.value import _bgbb

    x, tx, n = crmcore.value.simulate_bgbb(3_000, alpha=1.2, beta=0.75, gamma=0.66, delta=2.78,
                                           n_periods=8, seed=9)
    xf = x.astype(np.float64)
    model = BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.78)
    params = model._param_array()
    horizon = np.random.default_rng(2).integers(0, 5, len(xf)).astype(float)
    np.testing.assert_array_equal(model.p_alive(xf, tx, n, periods_ahead=2),
                                  _bgbb.p_alive(params, xf, tx, n, 2.0))
    np.testing.assert_array_equal(model.expected_purchases(horizon, xf, tx, n),
                                  _bgbb.conditional_expected_purchases(params, horizon, xf, tx, n))
    np.testing.assert_array_equal(model.dert(0.1, xf, tx, n), _bgbb.dert(params, 0.1, xf, tx, n))


def test_long_histories_are_evaluated_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcore.value import _bgbb

    x, tx, n = crmcore.value.simulate_bgbb(400, alpha=1.2, beta=0.75, gamma=0.3, delta=20.0,
                                           n_periods=300, seed=4)
    params = np.array([1.2, 0.75, 0.3, 20.0])
    whole, whole_grad = log_likelihood_terms(params, x.astype(float), tx, n)
    monkeypatch.setattr(_bgbb, "_CHUNK_CELLS", 1000)
    blocks, blocks_grad = log_likelihood_terms(params, x.astype(float), tx, n)
    np.testing.assert_allclose(blocks, whole, rtol=1e-12)
    assert whole_grad is not None
    assert blocks_grad is not None
    np.testing.assert_allclose(blocks_grad, whole_grad, rtol=1e-10)
    assert np.isfinite(whole).all()


@given(params=st.tuples(*[st.floats(1e-3, 1e3)] * 4))
def test_json_round_trip_of_any_parameters(params: tuple[float, float, float, float]) -> None:
    model = BGBB.from_params(**_params(dict(zip(BGBB.param_names, params, strict=True))))
    loaded = BGBB.from_json(model.to_json())
    assert loaded.params_ == model.params_
    np.testing.assert_array_equal(loaded.p_alive([1, 0], [3, 0], [6, 6]),
                                  model.p_alive([1, 0], [3, 0], [6, 6]))
