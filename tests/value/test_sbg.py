"""Shifted-beta-geometric model (Fader & Hardie 2007, 2010) against the published figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore import ConvergenceError, EmptyDataError, InvalidValueError, NotFittedError
from crmcore.value import ShiftedBetaGeometric
from crmcore.value._sbg import hyp2f1_one

# Fader & Hardie (2007), "How to Project Customer Retention", J. Interactive Marketing 21(1),
# Table 1: customers (of 1,000) still active at the start of years 0-12. The models are
# calibrated on years 0-7 and the later years are a holdout.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


def _params(values: Any) -> dict[str, Any]:
    return {str(k): float(v) for k, v in dict(values).items()}


@pytest.fixture(scope="module")
def regular() -> ShiftedBetaGeometric:
    return ShiftedBetaGeometric().fit(REGULAR[:8], time_unit="Y")


@pytest.fixture(scope="module")
def high_end() -> ShiftedBetaGeometric:
    return ShiftedBetaGeometric().fit(HIGH_END[:8], time_unit="Y")


def test_reproduces_published_estimates(regular: ShiftedBetaGeometric,
                                        high_end: ShiftedBetaGeometric) -> None:
    # Fader & Hardie (2007), the estimates for the two cohorts: regular
    # alpha = 0.704, beta = 1.182 (LL = -1,680.3); high end alpha = 0.668, beta = 3.806
    # (LL = -1,611.2).
    assert regular.params_["alpha"] == pytest.approx(0.704, abs=5e-4)
    assert regular.params_["beta"] == pytest.approx(1.182, abs=5e-4)
    assert regular.log_likelihood_ == pytest.approx(-1680.3, abs=0.05)
    assert high_end.params_["alpha"] == pytest.approx(0.668, abs=5e-4)
    assert high_end.params_["beta"] == pytest.approx(3.806, abs=5e-4)
    assert high_end.log_likelihood_ == pytest.approx(-1611.2, abs=0.05)
    assert regular.time_unit_ == "Y"


def test_holdout_projection_is_close(regular: ShiftedBetaGeometric,
                                     high_end: ShiftedBetaGeometric) -> None:
    # The paper's point: the sBG fitted on 7 years projects years 8-12 well.
    years = np.arange(8, 13)
    for model, actual in ((regular, REGULAR), (high_end, HIGH_END)):
        projected = model.expected_alive(1000, years)
        np.testing.assert_allclose(projected, np.array(actual[8:], dtype=float), rtol=0.05)


def test_curves_are_consistent(regular: ShiftedBetaGeometric) -> None:
    t = np.arange(1, 30)
    survival = regular.survival(np.arange(0, 30))
    assert survival[0] == 1
    np.testing.assert_allclose(survival[1:] / survival[:-1], regular.retention_rate(t))
    np.testing.assert_allclose(-np.diff(survival), regular.churn_probability(t))
    # retention rises with tenure , the paper's "increasing retention rates"
    assert np.all(np.diff(regular.retention_rate(t)) > 0)
    assert regular.expected_lifetime_ == np.inf  # alpha < 1: heavy tail


def test_derl_matches_independent_reference(high_end: ShiftedBetaGeometric) -> None:
    # jdmaturen/shifted_beta_geometric_py (README) reports DERL = 7.530 at d = 10% for the
    # survivors of the high-end cohort after 7 years (7 renewals), fitted on the same data.
    assert high_end.derl(0.1, 7)[0] == pytest.approx(7.530, abs=5e-4)


def test_derl_and_del_match_direct_sums(regular: ShiftedBetaGeometric) -> None:
    d = 0.1
    t = np.arange(0, 4000, dtype=float)
    s = regular.survival(t)
    assert regular.discounted_expected_lifetime(d)[0] == pytest.approx(
        float(np.sum(s / (1 + d) ** t)), rel=1e-10)
    for renewals in (0, 3, 7):
        n = renewals + 1
        k = np.arange(1, 4000, dtype=float)
        future = regular.survival(n - 1 + k) / regular.survival(n - 1)
        assert regular.derl(d, renewals)[0] == pytest.approx(
            float(np.sum(future / (1 + d) ** (k - 1))), rel=1e-10)


def test_homogeneous_limit_is_the_constant_retention_formula() -> None:
    # With theta the same for everyone (alpha, beta -> infinity, beta/(alpha+beta) = r), DEL
    # tends to (1+d)/(1+d-r), the textbook constant-retention multiplier.
    r, d = 0.8, 0.1
    model = ShiftedBetaGeometric.from_params(alpha=2e5 * (1 - r), beta=2e5 * r)
    assert model.discounted_expected_lifetime(d)[0] == pytest.approx((1 + d) / (1 + d - r),
                                                                      rel=1e-4)
    assert model.expected_lifetime_ == pytest.approx(1 / (1 - r), rel=1e-4)


def test_zero_discount_rate_gives_expected_lifetime() -> None:
    model = ShiftedBetaGeometric.from_params(alpha=3.0, beta=4.0)
    assert model.discounted_expected_lifetime(0.0)[0] == pytest.approx(model.expected_lifetime_)
    k = np.arange(1, 200000, dtype=float)
    assert model.derl(0.0, 2)[0] == pytest.approx(
        float(np.sum(model.survival(2 + k) / model.survival(2))), rel=1e-4)


@given(alpha=st.floats(0.05, 100.0), beta=st.floats(0.05, 100.0),
       t=st.integers(0, 5000), d=st.floats(0.001, 1.0))
def test_survival_decreasing_and_probabilities_in_range(alpha: float, beta: float, t: int,
                                                        d: float) -> None:
    model = ShiftedBetaGeometric.from_params(alpha=alpha, beta=beta)
    s = model.survival([t, t + 1])
    assert 0 <= s[1] <= s[0] <= 1
    r = model.retention_rate([t + 1])[0]
    assert 0 <= r <= 1
    value = model.derl(d, t)[0]
    assert np.isfinite(value)
    assert value >= 0


@given(b=st.floats(0.01, 5000.0), extra=st.floats(0.01, 50.0), d=st.floats(0.01, 1.0))
def test_hypergeometric_series(b: float, extra: float, d: float) -> None:
    z = 1 / (1 + d)
    k = np.arange(0, 20000, dtype=float)
    log_terms = np.cumsum(np.log((b + k) / (b + extra + k) * z))
    direct = 1 + float(np.sum(np.exp(log_terms)))
    assert hyp2f1_one(b, b + extra, z)[()] == pytest.approx(direct, rel=1e-8)


@pytest.mark.parametrize(
    ("alive", "error", "words"),
    [
        ([1000], EmptyDataError, "at least one later count"),
        ([0, 0, 0], EmptyDataError, "cohort size, is 0"),
        ([1000, 800, 900], InvalidValueError, "must not increase"),
        ([1000, -1], InvalidValueError, "whole numbers"),
        ([1000, 500.5], InvalidValueError, "whole numbers"),
        ([1000, float("nan")], InvalidValueError, "whole numbers"),
        ([[1000, 900]], InvalidValueError, "one-dimensional"),
    ],
)
def test_bad_alive_raises(alive: list[float], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words) as info:
        ShiftedBetaGeometric().fit(alive)
    assert getattr(info.value, "field", None) == "alive"


def test_nobody_churning_does_not_converge() -> None:
    with pytest.raises(ConvergenceError) as info:
        ShiftedBetaGeometric().fit([100, 100, 100])
    assert info.value.diagnostics


def test_unfitted_and_bad_arguments(regular: ShiftedBetaGeometric) -> None:
    with pytest.raises(NotFittedError):
        ShiftedBetaGeometric().survival(3)
    with pytest.raises(InvalidValueError, match="whole number") as info:
        regular.survival(1.5)
    assert info.value.field == "t"
    with pytest.raises(InvalidValueError, match="discount_rate"):
        regular.derl(-0.1, 2)
    with pytest.raises(InvalidValueError, match="renewals"):
        regular.derl(0.1, -1)


def test_json_round_trip(regular: ShiftedBetaGeometric, tmp_path: Path) -> None:
    path = tmp_path / "sbg.json"
    regular.save(path)
    loaded = ShiftedBetaGeometric.load(path)
    assert loaded.params_ == regular.params_
    assert loaded.time_unit_ == "Y"
    assert loaded.summary().to_dict() == regular.summary().to_dict()


def test_registered_under_sbg(plugin_manager: pluggy.PluginManager) -> None:
    model = crmcore.get_model("value", "sbg", plugin_manager=plugin_manager)
    assert isinstance(model, ShiftedBetaGeometric)


@pytest.mark.parametrize("seed", [21, 22])
def test_fit_recovers_simulated_parameters(seed: int) -> None:
    truth = {"alpha": 0.7, "beta": 1.2}
    alive = crmcore.value.simulate_sbg(5000, n_periods=10, seed=seed, **truth)
    assert alive[0] == 5000
    assert np.all(np.diff(alive) <= 0)
    model = ShiftedBetaGeometric().fit(alive)
    se = model.standard_errors_
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 3.5 * se[name], name


@given(alpha=st.floats(1e-3, 1e3), beta=st.floats(1e-3, 1e3))
def test_json_round_trip_of_any_parameters(alpha: float, beta: float) -> None:
    model = ShiftedBetaGeometric.from_params(alpha=alpha, beta=beta)
    loaded = ShiftedBetaGeometric.from_json(model.to_json())
    assert loaded.params_ == model.params_
    np.testing.assert_array_equal(loaded.survival([0, 5]), model.survival([0, 5]))


def test_customer_base_is_refused_with_a_reason() -> None:
    from crmcore.datasets import load_cdnow_summary

    with pytest.raises(InvalidValueError, match="contractual model") as info:
        ShiftedBetaGeometric().fit(load_cdnow_summary())  # type: ignore[arg-type]
    assert info.value.field == "alive"
