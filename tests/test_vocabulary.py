"""One vocabulary (issue 14): one rule for discount rates at every public surface, one name for
the purchase period (``freq``) and the unit of a rate or horizon (``time_unit``), and the old
names kept for one release with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
import crmcore.lifecycle
import crmcore.loyalty
from crmcore import CustomerBase, InvalidValueError
from crmcore._checks import discount_rate, discount_rates
from crmcore.lifecycle import MarkovCLV
from crmcore.value import (
    BGBB,
    BGNBD,
    ParetoNBD,
    ShiftedBetaGeometric,
    historical_value,
    lifetime_value,
    retention_clv,
    sbg_clv,
)

pd = pytest.importorskip("pandas")

BGNBD_PARAMS = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}


def _base(time_unit: str = "W") -> CustomerBase:
    frame = pd.DataFrame({
        "customer_id": [1, 1, 2, 3, 3, 3],
        "at": ["2020-01-01", "2020-02-03", "2020-01-05", "2020-01-10", "2020-03-01",
               "2020-03-20"],
        "amount": [10.0, 20.0, 5.0, 7.0, 8.0, 9.0]})
    return CustomerBase.from_transactions(frame, monetary_value="amount",
                                          time_unit=time_unit,
                                          observation_end="2020-04-01")


def _sbg() -> ShiftedBetaGeometric:
    return ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326])


# Every public function or method that takes a discount rate, called with ``rate``.
SURFACES: dict[str, Callable[[Any], object]] = {
    "lifetime_value": lambda d: lifetime_value(
        BGNBD.from_params(**BGNBD_PARAMS), 10.0, _base(), margin=0.3, discount_rate=d,
        time_unit="W", horizon=12.0),
    "score": lambda d: crmcore.score(
        _base(), value_model=BGNBD.from_params(**BGNBD_PARAMS), spend_model=10.0,
        margin=0.3, discount_rate=d, time_unit="W", horizon=12.0, lifecycle_model=False,
        loyalty_model=False),
    "historical_value": lambda d: historical_value(_base(), margin=0.3, discount_rate=d),
    "retention_clv": lambda d: retention_clv(100.0, retention_rate=0.8, discount_rate=d),
    "sbg_clv": lambda d: sbg_clv(_sbg(), margin=10.0, discount_rate=d),
    "sbg_derl": lambda d: _sbg().derl(d, 2),
    "MarkovCLV": lambda d: MarkovCLV([[0.8, 0.2], [0.0, 1.0]], [1.0, 0.0], d).values(),
    "BGBB.dert": lambda d: BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66,
                                            delta=2.8).dert(d, [1], [1], [6]),
}

BAD_RATES = [-0.1, -1.0, math.nan, math.inf, "0.1", True, None]


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("rate", BAD_RATES, ids=repr)
def test_every_surface_refuses_the_same_bad_rates(surface: str, rate: object) -> None:
    with pytest.raises(InvalidValueError) as info:
        SURFACES[surface](rate)
    assert info.value.field == "discount_rate"


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("rate", [0.05, 1, np.float32(0.02)], ids=repr)
def test_every_surface_takes_the_same_good_rates(surface: str, rate: object) -> None:
    SURFACES[surface](rate)


def test_a_zero_rate_is_refused_only_for_a_sum_to_infinity() -> None:
    model = BGNBD.from_params(**BGNBD_PARAMS)
    finite = lifetime_value(model, 10.0, _base(), margin=0.3, discount_rate=0.0,
                            time_unit="W", horizon=12.0)
    assert np.all(np.isfinite(finite.clv))
    with pytest.raises(InvalidValueError) as info:
        lifetime_value(model, 10.0, _base(), margin=0.3, discount_rate=0.0, time_unit="W")
    assert info.value.field == "discount_rate"
    with pytest.raises(InvalidValueError) as info:
        crmcore.score(_base(), value_model=model, spend_model=10.0, margin=0.3,
                      discount_rate=0.0, time_unit="W", horizon=None, lifecycle_model=False,
                      loyalty_model=False)
    assert info.value.field == "discount_rate"


def test_array_rates_name_the_rows() -> None:
    with pytest.raises(InvalidValueError) as info:
        retention_clv([100.0, 100.0, 100.0], retention_rate=0.8,
                      discount_rate=[0.1, -0.2, np.nan])
    assert info.value.field == "discount_rate"
    assert info.value.rows == (1, 2)
    with pytest.raises(InvalidValueError) as info:
        _sbg().discounted_expected_lifetime([0.1, 0.1, -1.0])
    assert info.value.rows == (2,)


@given(st.one_of(st.floats(0.0, 1e6), st.integers(0, 10**6)))
def test_the_rule_keeps_a_valid_rate(rate: float) -> None:
    assert discount_rate(rate) == float(rate)
    assert discount_rates([rate, rate]).tolist() == [float(rate)] * 2


@given(st.floats(max_value=0.0, exclude_max=True) | st.just(math.nan)
       | st.just(math.inf))
def test_the_rule_refuses_a_negative_or_non_finite_rate(rate: float) -> None:
    with pytest.raises(InvalidValueError):
        discount_rate(rate)


def test_one_rate_is_not_an_array() -> None:
    with pytest.raises(InvalidValueError) as info:
        discount_rate([0.1, 0.2])
    assert info.value.field == "discount_rate"


# -- the continuous rate a model's DERT takes -----------------------------------------------


@pytest.mark.parametrize("model", [BGNBD.from_params(**BGNBD_PARAMS),
                                   ParetoNBD.from_params(r=0.55, alpha=10.58, s=0.61,
                                                         beta=11.67)],
                         ids=["bgnbd", "pareto"])
def test_dert_takes_a_continuous_rate_named_so(model: Any) -> None:
    f, r, t = [0, 2, 5], [0.0, 10.0, 30.0], [40.0, 40.0, 40.0]
    new = model.dert(0.01, f, r, t)
    assert np.allclose(model.dert(continuous_rate=0.01, base_or_frequency=f, recency=r, T=t),
                       new)
    with pytest.warns(DeprecationWarning, match="continuous_rate"):
        old = model.dert(discount_rate=0.01, base_or_frequency=f, recency=r, T=t)
    assert np.allclose(old, new)
    with pytest.raises(TypeError):
        model.dert(discount_rate=0.01, continuous_rate=0.01, base_or_frequency=f)
    with pytest.raises(InvalidValueError) as info:
        model.dert(0.0, f, r, t)
    assert info.value.field == "continuous_rate"


def test_lifetime_value_converts_the_rate_for_dert_in_one_place() -> None:
    """A weekly rate on daily data reaches the model as log(1 + d) / 7 per day."""
    model = BGNBD.from_params(**BGNBD_PARAMS)
    base = _base("D")
    weekly = 0.01
    clv = lifetime_value(model, 1.0, base, margin=1.0, discount_rate=weekly, time_unit="W")
    delta = math.log1p(weekly) / 7.0
    assert np.allclose(clv.discounted_purchases,
                       model.dert(delta, base.frequency, base.recency, base.T), rtol=1e-12)


def test_no_warning_for_the_new_names() -> None:
    model = BGNBD.from_params(**BGNBD_PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.dert(continuous_rate=0.01, base_or_frequency=[1], recency=[1.0], T=[3.0])


# -- time: freq is the purchase period, time_unit the unit of a rate or horizon ---------------


def _daily() -> CustomerBase:
    days = pd.to_datetime(["2023-01-05", "2023-02-10", "2023-05-01", "2024-01-03",
                           "2023-01-20", "2023-01-25", "2023-03-01", "2024-06-01"])
    frame = pd.DataFrame({"customer_id": [1, 1, 1, 1, 2, 2, 3, 3], "at": days,
                          "amount": [5.0] * 8})
    return CustomerBase.from_transactions(frame, monetary_value="amount",
                                          observation_end="2024-06-30")


def _same(old: object, new: object) -> None:
    if isinstance(new, dict):
        assert isinstance(old, dict)
        assert old.keys() == new.keys()
        for key in new:
            _same(old[key], new[key])
    else:
        np.testing.assert_array_equal(np.asarray(old), np.asarray(new))


def _complaints() -> Any:
    import datetime as dt

    from crmcore.lifecycle import complaint_summary

    records = [crmcore.Complaint(customer_id=1, opened_at=dt.datetime(2023, 2, 1),
                                 assigned_at=dt.datetime(2023, 2, 2)),
               crmcore.Complaint(customer_id=3, opened_at=dt.datetime(2023, 3, 5),
                                 assigned_at=dt.datetime(2023, 3, 8))]
    return complaint_summary(records, _daily())


RENAMED: dict[str, tuple[Callable[..., Any], str, str, object]] = {
    # name: (call taking the keyword, old name, new name, value)
    "repeat_purchase_rate": (lambda **kw: crmcore.loyalty.repeat_purchase_rate(_daily(), **kw),
                             "period", "freq", "M"),
    "behavioural_indicators": (
        lambda **kw: crmcore.loyalty.behavioural_indicators(_daily(), **kw),
        "repeat_period", "repeat_freq", "Q"),
    "WeightedLoyaltyIndex": (
        lambda **kw: crmcore.loyalty.WeightedLoyaltyIndex(**kw).score(_daily()).index,
        "repeat_period", "repeat_freq", "W"),
    "retention_rates": (lambda **kw: crmcore.lifecycle.retention_rates(_daily(), **kw)
                        .retention_rate, "period", "freq", "Q"),
    "inactive_customers": (lambda **kw: crmcore.lifecycle.inactive_customers(_daily(), **kw),
                           "period", "freq", "M"),
    "ComplaintSummary.by_period": (lambda **kw: _complaints().by_period(**kw).complaints,
                                   "period", "freq", "W"),
    "ComplaintSummary.logistics_indicators": (
        lambda **kw: _complaints().logistics_indicators(**kw), "period", "freq", "M"),
}


@pytest.mark.parametrize("name", sorted(RENAMED))
def test_old_time_names_warn_and_mean_the_same(name: str) -> None:
    call, old, new, value = RENAMED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        expected = call(**{new: value})
    with pytest.warns(DeprecationWarning, match=new):
        given = call(**{old: value})
    _same(given, expected)
    with pytest.raises(TypeError):
        call(**{old: value, new: value})


def test_results_name_the_purchase_period_freq() -> None:
    rates = crmcore.lifecycle.retention_rates(_daily(), freq="Q")
    assert rates.freq == "Q"
    with pytest.warns(DeprecationWarning, match="freq"):
        assert rates.period_unit == "Q"
    model = crmcore.loyalty.WeightedLoyaltyIndex(repeat_freq="W")
    with pytest.warns(DeprecationWarning, match="repeat_freq"):
        assert model.repeat_period == "W"


def test_a_loyalty_model_saved_with_the_old_name_loads() -> None:
    model = crmcore.loyalty.WeightedLoyaltyIndex(weights={"repeat_purchases": 1},
                                                 repeat_freq="Q")
    saved = model.to_json()
    assert '"repeat_freq"' in saved
    assert '"repeat_period"' not in saved
    version_1 = (saved.replace('"repeat_freq"', '"repeat_period"')
                 .replace('"schema_version": 2', '"schema_version": 1'))
    assert '"schema_version": 1' in version_1
    loaded = crmcore.loyalty.WeightedLoyaltyIndex.from_json(version_1)
    assert loaded.repeat_freq == "Q"
    np.testing.assert_array_equal(loaded.score(_daily()).index, model.score(_daily()).index)


def test_classify_relationship_default_freq_is_announced() -> None:
    import datetime as dt

    start = dt.datetime(2024, 1, 3)
    ada = crmcore.Relationship(
        customer=crmcore.Customer("ada"),
        transactions=[crmcore.Transaction("ada", start + dt.timedelta(weeks=w), amount=50.0)
                      for w in range(0, 60, 2)])
    end = dt.datetime(2025, 2, 20)
    with pytest.warns(DeprecationWarning, match="freq='D'"):
        default = crmcore.lifecycle.classify_relationship(ada, observation_end=end)
    weekly = crmcore.lifecycle.classify_relationship(ada, freq="W", observation_end=end)
    assert default.stage is weekly.stage
    assert default.reason == weekly.reason
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        crmcore.lifecycle.classify_relationship(ada, freq="D", observation_end=end)


def test_every_base_builder_defaults_to_daily_periods() -> None:
    import inspect

    from crmcore.datasets import load_cdnow

    builders: list[Callable[..., Any]] = [
        CustomerBase.from_transactions, crmcore.Relationship.to_base,
        crmcore.Relationship.repeat_purchases,
        crmcore.loyalty.WeightedLoyaltyIndex.score_relationship, load_cdnow]
    for builder in builders:
        assert inspect.signature(builder).parameters["freq"].default == "D", builder


# -- result objects, not float | ndarray ------------------------------------------------------


def test_btyd_simulators_return_named_customers() -> None:
    from crmcore.value import (
        SimulatedCustomers,
        simulate_bgbb,
        simulate_bgnbd,
        simulate_mbgnbd,
        simulate_pareto_nbd,
    )

    results = [simulate_bgnbd(50, T=30.0, seed=1, **BGNBD_PARAMS),
               simulate_mbgnbd(50, T=30.0, seed=1, **BGNBD_PARAMS),
               simulate_pareto_nbd(50, r=0.55, alpha=10.58, s=0.61, beta=11.67, T=30.0,
                                   seed=1),
               simulate_bgbb(50, alpha=1.2, beta=0.75, gamma=0.66, delta=2.8, n_periods=6,
                             seed=1)]
    for result in results:
        assert isinstance(result, SimulatedCustomers)
        frequency, recency, T = result  # the old tuple access
        assert frequency is result.frequency
        assert recency is result.recency
        assert T is result.T
        base = result.to_base(time_unit="W")
        np.testing.assert_array_equal(base.frequency, result.frequency)
        np.testing.assert_array_equal(base.T, result.T)


def test_sbg_simulator_returns_a_cohort_that_reads_as_its_counts() -> None:
    from crmcore.value import SimulatedCohort, simulate_sbg

    cohort = simulate_sbg(400, alpha=0.7, beta=1.2, n_periods=6, seed=3)
    assert isinstance(cohort, SimulatedCohort)
    alive = cohort.alive
    assert cohort[0] == 400
    assert len(cohort) == 7
    assert list(cohort) == alive.tolist()
    np.testing.assert_array_equal(np.diff(cohort), np.diff(alive))
    np.testing.assert_array_equal(cohort / 400, alive / 400)
    by_object = ShiftedBetaGeometric().fit(cohort).params_
    by_counts = ShiftedBetaGeometric().fit(alive).params_
    assert by_object == by_counts


def test_acsi_index_is_a_result_that_reads_as_before() -> None:
    from crmcore.satisfaction import ACSIIndex, acsi_index

    one = acsi_index([8, 7, 9], [0.3, 0.3, 0.4])
    assert isinstance(one, ACSIIndex)
    assert one.index == pytest.approx(100 * 7.1 / 9)
    assert one.per_respondent.shape == (1,)
    assert float(one) == pytest.approx(100 * 7.1 / 9)
    assert one == pytest.approx(100 * 7.1 / 9)
    assert f"{one:.1f}" == "78.9"
    many = acsi_index([[8, 7, 9], [10, 10, 10], [1, 1, 1]], [3, 3, 4])
    np.testing.assert_allclose(many.per_respondent, [100 * 7.1 / 9, 100.0, 0.0])
    np.testing.assert_allclose(np.asarray(many), many.per_respondent)
    assert many.index == pytest.approx(float(many.per_respondent.mean()))
    assert many[1] == pytest.approx(100.0)
    assert len(many) == 3
    np.testing.assert_allclose(many.weights, [0.3, 0.3, 0.4])


def test_one_non_negative_check_serves_times_and_weights() -> None:
    from crmcore._checks import finite_non_negative
    from crmcore.value import BGBB

    np.testing.assert_array_equal(finite_non_negative([0, 1.5], "t"), [0.0, 1.5])
    with pytest.raises(InvalidValueError) as info:
        finite_non_negative([1.0, -1.0, np.inf], "t")
    assert (info.value.field, info.value.rows) == ("t", (1, 2))
    model = BGNBD.from_params(**BGNBD_PARAMS)
    for call in (lambda: model.expected_purchases([1.0, -2.0], [1, 1], [1.0, 1.0], [3.0, 3.0]),
                 lambda: BGBB.from_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8)
                 .expected_purchases([1, -2], [1, 1], [1, 1], [6, 6]),
                 lambda: BGNBD().fit([1, 2], [1.0, 1.0], [3.0, 3.0], weights=[1.0, -1.0])):
        with pytest.raises(InvalidValueError) as info:
            call()
        assert info.value.rows == (1,)


@pytest.mark.parametrize("rate", [-0.1, "0.1", math.nan])
def test_dask_score_checks_the_rate_before_any_work(rate: object) -> None:
    dd = pytest.importorskip("dask.dataframe")
    from crmcore import dask as crm_dask

    frame = pd.DataFrame({"customer_id": [1, 1, 2], "at": pd.to_datetime(
        ["2020-01-01", "2020-02-01", "2020-01-15"]), "amount": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidValueError) as info:
        crm_dask.score(dd.from_pandas(frame, npartitions=1), margin=0.3, discount_rate=rate,  # type: ignore[arg-type]
                       time_unit="W", horizon=10.0, monetary_value="amount")
    assert info.value.field == "discount_rate"
