"""Lifetime value: side by side with lifetimes on CDNOW, DERT to infinity, contractual CLV."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifetimes import BetaGeoFitter, GammaGammaFitter

from crmcore import CRMError, InvalidValueError, TimeUnitError, ValueScore
from crmcore.datasets import load_cdnow_summary, load_donations
from crmcore.value import (
    BGBB,
    GammaGamma,
    ShiftedBetaGeometric,
    lifetime_value,
    retention_clv,
    sbg_clv,
)
from crmcore.value._lifetimes_plugin import LifetimesBGNBD


def _params(values: Any) -> dict[str, Any]:
    return {str(k): float(v) for k, v in dict(values).items()}


@pytest.fixture(scope="module")
def cdnow() -> tuple[LifetimesBGNBD, GammaGamma, GammaGammaFitter, BetaGeoFitter]:
    base = load_cdnow_summary()
    purchase = LifetimesBGNBD().fit(base)
    spend = GammaGamma().fit(base)
    repeat = base.frequency > 0
    reference = GammaGammaFitter().fit(base.frequency[repeat], base.monetary_value[repeat])
    return purchase, spend, reference, purchase.fitter_


def _lifetimes_clv(reference: GammaGammaFitter, bgf: BetaGeoFitter, freq: str) -> np.ndarray:
    base = load_cdnow_summary()
    series = [pd.Series(a) for a in (base.frequency, base.recency, base.T,
                                     base.monetary_value)]
    return np.asarray(reference.customer_lifetime_value(bgf, *series, time=12,
                                                        discount_rate=0.01, freq=freq))


def test_matches_lifetimes_customer_lifetime_value_in_weeks(cdnow: tuple[Any, ...]) -> None:
    # lifetimes' customer_lifetime_value(freq="W") steps 4.345 weeks per "month" and discounts
    # 1% per such month. Stated explicitly in crmcore: 12 steps of 4.345 weeks, the weekly rate
    # that compounds to 1% over 4.345 weeks.
    purchase, _spend, reference, bgf = cdnow
    fixed_spend = GammaGamma.from_params(**_params(reference.params_))
    ours = lifetime_value(purchase, fixed_spend, load_cdnow_summary(), margin=1.0,
                          discount_rate=1.01 ** (1 / 4.345) - 1, time_unit="W",
                          horizon=12 * 4.345, step=4.345)
    np.testing.assert_allclose(ours.clv, _lifetimes_clv(reference, bgf, "W"), rtol=1e-9)
    assert ours.expected_purchases is not None
    base = load_cdnow_summary()
    np.testing.assert_allclose(
        ours.expected_purchases,
        bgf.conditional_expected_number_of_purchases_up_to_time(12 * 4.345, base.frequency,
                                                                base.recency, base.T),
        rtol=1e-12)


def test_matches_lifetimes_with_days_and_a_stated_30_day_step(cdnow: tuple[Any, ...]) -> None:
    # lifetimes' freq="D" hides a 30-day month; here it is stated: the data in days (weeks x 7
    # is exact), steps of 30 days, the daily rate compounding to 1% over 30 days.
    _purchase, _, reference, _ = cdnow
    base = load_cdnow_summary()
    daily = LifetimesBGNBD().fit(base.frequency, base.recency * 7, base.T * 7)
    fixed_spend = GammaGamma.from_params(**_params(reference.params_))
    ours = lifetime_value(daily, fixed_spend,
                          (base.frequency, base.recency * 7, base.T * 7, base.monetary_value),
                          margin=1.0, discount_rate=1.01 ** (1 / 30) - 1, time_unit="D",
                          horizon=360, step=30, data_time_unit="D")
    series = [pd.Series(a) for a in (base.frequency, base.recency * 7, base.T * 7,
                                     base.monetary_value)]
    expected = reference.customer_lifetime_value(daily.fitter_, *series, time=12,
                                                 discount_rate=0.01, freq="D")
    np.testing.assert_allclose(ours.clv, np.asarray(expected), rtol=1e-9)


def test_time_units_convert_exactly(cdnow: tuple[Any, ...]) -> None:
    purchase, spend, _, _ = cdnow
    base = load_cdnow_summary()
    weekly = lifetime_value(purchase, spend, base, margin=0.3, discount_rate=0.002,
                            time_unit="W", horizon=52, step=1)
    daily = lifetime_value(purchase, spend, base, margin=0.3,
                           discount_rate=1.002 ** (1 / 7) - 1, time_unit="D", horizon=364,
                           step=7)
    np.testing.assert_allclose(weekly.clv, daily.clv, rtol=1e-10)
    with pytest.raises(TimeUnitError, match="month"):
        lifetime_value(purchase, spend, base, margin=0.3, discount_rate=0.01, time_unit="M",
                       horizon=12)


def test_value_scores_and_frame(cdnow: tuple[Any, ...]) -> None:
    purchase, spend, _, _ = cdnow
    result = lifetime_value(purchase, spend, load_cdnow_summary(), margin=0.25,
                            discount_rate=0.002, time_unit="W", horizon=52)
    scores = result.value_scores()
    assert len(scores) == 2357
    assert isinstance(scores[0], ValueScore)
    assert scores[0].customer_id == 1
    assert scores[0].clv == pytest.approx(result.clv[0])
    assert scores[0].current_value == scores[0].clv
    assert scores[0].horizon == 52
    assert scores[0].time_unit == "W"
    frame = result.to_frame()
    assert list(frame.columns[:3]) == ["customer_id", "clv", "p_alive"]
    assert np.all(result.clv >= 0)


def test_bgbb_dert_to_infinity_equals_a_long_horizon() -> None:
    donations = load_donations()
    model = BGBB().fit(donations)
    data = (donations.frequency, donations.recency, donations.n_periods)
    infinite = lifetime_value(model, 50.0, data, margin=1.0, discount_rate=0.1, time_unit="Y",
                              data_time_unit="Y")
    np.testing.assert_allclose(infinite.discounted_purchases,
                               model.dert(0.1, *data))
    np.testing.assert_allclose(infinite.clv, 50.0 * model.dert(0.1, *data))
    long = lifetime_value(model, 50.0, data, margin=1.0, discount_rate=0.1, time_unit="Y",
                          horizon=400, data_time_unit="Y")
    np.testing.assert_allclose(long.clv, infinite.clv, rtol=1e-8)
    with pytest.raises(InvalidValueError, match="whole numbers") as info:
        lifetime_value(model, 50.0, data, margin=1.0, discount_rate=0.1, time_unit="Y",
                       horizon=3, step=0.5, data_time_unit="Y")
    assert info.value.field == "step"


def test_infinite_horizon_needs_dert(cdnow: tuple[Any, ...]) -> None:
    purchase, spend, _, _ = cdnow
    with pytest.raises(CRMError, match="has no discounted expected residual transactions"):
        lifetime_value(purchase, spend, load_cdnow_summary(), margin=0.3, discount_rate=0.01,
                       time_unit="W")


def test_bootstrap_interval_brackets_estimate() -> None:
    donations = load_donations()
    model = BGBB().fit(donations)
    data = (donations.frequency, donations.recency, donations.n_periods)
    result = lifetime_value(model, 50.0, data, margin=0.8, discount_rate=0.1, time_unit="Y",
                            data_time_unit="Y", level=0.9, n_draws=60, seed=7)
    assert result.method == "parametric bootstrap"
    assert result.lower is not None
    assert result.upper is not None
    assert np.all(result.lower <= result.clv + 1e-9)
    assert np.all(result.clv <= result.upper + 1e-9)
    assert np.all(result.upper > result.lower)


def test_bootstrap_needs_likelihood_models(cdnow: tuple[Any, ...]) -> None:
    purchase, spend, _, _ = cdnow
    with pytest.raises(CRMError, match="LifetimesBGNBD has no parameter covariance"):
        lifetime_value(purchase, spend, load_cdnow_summary(), margin=0.3, discount_rate=0.01,
                       time_unit="W", horizon=4, level=0.9, n_draws=10)


def test_bad_arguments(cdnow: tuple[Any, ...]) -> None:
    purchase, spend, _, _ = cdnow
    base = load_cdnow_summary()
    with pytest.raises(InvalidValueError, match="discount_rate") as info:
        lifetime_value(purchase, spend, base, margin=0.3, discount_rate=-0.1, time_unit="W",
                       horizon=4)
    assert info.value.field == "discount_rate"
    with pytest.raises(InvalidValueError, match="horizon"):
        lifetime_value(purchase, spend, base, margin=0.3, discount_rate=0.1, time_unit="W",
                       horizon=0)
    with pytest.raises(TimeUnitError, match="time_unit"):
        lifetime_value(purchase, spend, base, margin=0.3, discount_rate=0.1, time_unit="fortnight",
                       horizon=4)
    with pytest.raises(TimeUnitError, match="data_time_unit"):
        lifetime_value(BGBB.from_params(alpha=1, beta=1, gamma=1, delta=1), 10.0,
                       ([1], [1], [2]), margin=1, discount_rate=0.1, time_unit="Y")
    with pytest.raises(InvalidValueError, match="monetary_value"):
        lifetime_value(purchase, spend, (base.frequency, base.recency, base.T), margin=0.3,
                       discount_rate=0.1, time_unit="W", horizon=4)


def test_retention_clv_textbook_values() -> None:
    # m (1+d)/(1+d-r): m = 100, r = 0.8, d = 0.1 -> 100 * 1.1 / 0.3
    assert retention_clv(100, retention_rate=0.8, discount_rate=0.1)[0] == pytest.approx(
        366.6666667)
    assert retention_clv(100, retention_rate=0.8, discount_rate=0.1,
                         include_current=False)[0] == pytest.approx(100 * 0.8 / 0.3)
    with pytest.raises(InvalidValueError, match="retention_rate"):
        retention_clv(100, retention_rate=1.2, discount_rate=0.1)
    with pytest.raises(InvalidValueError, match="discount_rate"):
        retention_clv(100, retention_rate=1.0, discount_rate=0.0)


@given(m=st.floats(0.0, 1e4), r=st.floats(0.0, 0.99), d=st.floats(0.0, 1.0))
def test_retention_clv_is_the_geometric_sum(m: float, r: float, d: float) -> None:
    t = np.arange(0, 5000)
    direct = float(np.sum(m * (r / (1 + d)) ** t))
    assert retention_clv(m, retention_rate=r, discount_rate=d)[0] == pytest.approx(
        direct, rel=1e-9, abs=1e-9)


def test_sbg_clv() -> None:
    model = ShiftedBetaGeometric().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    new = sbg_clv(model, margin=100.0, discount_rate=0.1)
    assert new[0] == pytest.approx(100 * model.discounted_expected_lifetime(0.1)[0])
    residual = sbg_clv(model, margin=100.0, discount_rate=0.1, renewals=[0, 7])
    np.testing.assert_allclose(residual, 100 * model.derl(0.1, [0, 7]))
    # Fader & Hardie (2010)'s "perils of ignoring heterogeneity": a constant retention rate
    # (here the first-year rate, S(1)) undervalues a tenured customer, whose own retention
    # has risen . DERL takes the next payment undiscounted, hence the factor 1.1.
    naive = 1.1 * retention_clv(100.0, retention_rate=model.retention_rate([1])[0],
                                discount_rate=0.1, include_current=False)
    assert residual[1] > naive[0]


def test_continuous_dert_to_infinity_lies_between_step_discountings() -> None:
    # Pareto/NBD DERT (continuous discounting at log(1 + d) per week) against the finite-horizon
    # sum with weekly steps: discounting each week's purchases at its end undervalues, at its
    # start overvalues, and the continuous answer lies between (about (1 + d)^(1/2) above).
    from crmcore.value import ParetoNBD

    base = load_cdnow_summary()
    model = ParetoNBD().fit(base)
    d = 0.05
    infinite = lifetime_value(model, 40.0, base, margin=1.0, discount_rate=d, time_unit="W")
    steps = lifetime_value(model, 40.0, base, margin=1.0, discount_rate=d, time_unit="W",
                           horizon=400, step=1)
    assert np.all(steps.clv <= infinite.clv)
    assert np.all(infinite.clv <= steps.clv * (1 + d))
    np.testing.assert_allclose(infinite.clv / steps.clv, np.sqrt(1 + d), rtol=1e-3)
    days = lifetime_value(model, 40.0, base, margin=1.0, discount_rate=(1 + d) ** (1 / 7) - 1,
                          time_unit="D")
    np.testing.assert_allclose(days.clv, infinite.clv, rtol=1e-10)


@pytest.mark.parametrize("horizon", [26.0, None])
def test_a_customer_is_valued_alike_alone_or_in_a_crowd(horizon: float | None) -> None:
    # Predictions run once per distinct (frequency, recency, T) pattern and are spread back
    # over the customers: a customer's value must not depend on who else is in the batch.
    from crmcore.value import BGNBD

    base = load_cdnow_summary()
    purchases = BGNBD().fit(base)
    spend = GammaGamma().fit(base)
    kwargs: dict[str, Any] = {"margin": 0.3, "discount_rate": 0.002, "time_unit": "W",
                              "horizon": horizon}
    crowd = lifetime_value(purchases, spend, base, **kwargs)
    rows = np.array([0, 1, 5, 1234, 2356])
    for row in rows:
        alone = lifetime_value(purchases, spend, base.take([row]), **kwargs)
        assert alone.clv[0] == pytest.approx(crowd.clv[row], rel=1e-12, abs=1e-12)
        assert alone.p_alive[0] == pytest.approx(crowd.p_alive[row], rel=1e-12)
    if horizon is None:
        direct = purchases.dert(np.log1p(0.002), base.take(rows))
        np.testing.assert_allclose(crowd.discounted_purchases[rows], direct, rtol=1e-12)
