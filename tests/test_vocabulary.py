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
