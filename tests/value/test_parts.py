"""Value parts (seed 003): historical value, potential value and the CLV drivers."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
import crmcore.datasets
from crmcore.value import (
    PotentialInputs,
    PotentialValueModel,
    WalletReferralPotential,
    clv_drivers,
    historical_value,
)


def _base(rows: list[tuple[str, str, float]], end: str) -> crmcore.CustomerBase:
    frame = pd.DataFrame(rows, columns=["customer_id", "at", "amount"])
    frame["at"] = pd.to_datetime(frame["at"])
    return crmcore.CustomerBase.from_transactions(
        frame, monetary_value="amount", freq="W", observation_end=end)


@pytest.fixture(scope="module")
def cdnow() -> crmcore.CustomerBase:
    return crmcore.datasets.load_cdnow_calibration().calibration


# -- historical value -------------------------------------------------------------------------


def test_historical_value_by_hand() -> None:
    # weekly periods; 2024-01-01 is a Monday. Customer a buys 100 four weeks before the end
    # week and 50 in it; customer b buys 10 in the end week.
    base = _base([("a", "2024-01-01", 100.0), ("a", "2024-01-29", 50.0),
                  ("b", "2024-01-30", 10.0)], end="2024-02-02")
    hv = historical_value(base, margin=0.4, discount_rate=0.01)
    assert hv[0] == pytest.approx(0.4 * (100.0 * 1.01**4 + 50.0))
    assert hv[1] == pytest.approx(4.0)
    # the same rate expressed per day (time_unit="D") compounds over 28 days
    hv_days = historical_value(base, margin=0.4, discount_rate=0.001, time_unit="D")
    assert hv_days[0] == pytest.approx(0.4 * (100.0 * 1.001**28 + 50.0))
    # per-customer margins
    hv = historical_value(base, margin=[0.5, 0.1], discount_rate=0.0)
    assert hv.tolist() == pytest.approx([75.0, 1.0])


def test_historical_value_from_recorded_margins() -> None:
    t0 = dt.datetime(2024, 1, 1)
    records = [
        crmcore.Transaction("a", t0, 100.0, margin=30.0),
        crmcore.Transaction("a", t0 + dt.timedelta(days=28), 50.0, margin=-5.0),
        crmcore.Transaction("b", t0 + dt.timedelta(days=29), 10.0, margin=2.0),
    ]
    base = crmcore.CustomerBase.from_transactions(records, freq="W", margin="margin",
                                                  observation_end="2024-02-02")
    hv = historical_value(base, discount_rate=0.01)
    assert hv.tolist() == pytest.approx([30.0 * 1.01**4 - 5.0, 2.0])
    without = crmcore.CustomerBase.from_transactions(records, freq="W")
    with pytest.raises(crmcore.DataError, match="has none: build it with from_transactions"):
        historical_value(without, discount_rate=0.01)


def test_historical_value_on_cdnow_against_the_raw_log(cdnow: crmcore.CustomerBase) -> None:
    # Independent reference: compound every raw transaction of the 39-week calibration
    # (Fader, Hardie & Lee 2005) to 1997-09-30 at 0.2% a week, with pandas.
    log = crmcore.datasets.load_cdnow_transactions()
    log = log[log["date"] <= pd.Timestamp(dt.date(1997, 9, 30))]
    weeks = (pd.Timestamp(dt.date(1997, 9, 30)) - log["date"]).dt.days / 7.0
    log = log.assign(pcv=0.3 * log["amount"] * 1.002**weeks)
    expected = log.groupby("customer_id")["pcv"].sum().reindex(cdnow.customer_id)
    hv = historical_value(cdnow, margin=0.3, discount_rate=0.002)
    assert np.allclose(hv, expected.to_numpy(), rtol=1e-12)
    assert np.all(np.isfinite(hv))
    # no discounting: the realised margin itself
    assert np.allclose(historical_value(cdnow, margin=0.3, discount_rate=0.0),
                       0.3 * np.asarray(cdnow.total_spend))


@given(st.floats(0.0, 0.2), st.floats(0.0, 0.2))
def test_historical_value_grows_with_the_rate(low: float, extra: float) -> None:
    base = _base([("a", "2024-01-01", 100.0), ("a", "2024-03-04", 20.0)], end="2024-03-08")
    hv_low = historical_value(base, margin=0.5, discount_rate=low)
    hv_high = historical_value(base, margin=0.5, discount_rate=low + extra)
    assert hv_high[0] >= hv_low[0] >= 60.0 - 1e-9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"margin": 0.3, "discount_rate": -1.0}, "discount_rate must be a finite number >= 0"),
     ({"margin": 0.3, "discount_rate": math.nan}, "discount_rate"),
     ({"margin": [0.3], "discount_rate": 0.0}, r"margin has shape \(1,\)"),
     ({"margin": [0.3, math.nan], "discount_rate": 0.0}, "margin is NaN or infinite at row 1"),
     ({"margin": 30, "discount_rate": 0.0}, r"cannot exceed 1; it is 30\.0 at rows 0, 1 \(for 30%"),
     ({"margin": [0.3, 1.5], "discount_rate": 0.0}, "cannot exceed 1; it is 1.5 at row 1"),
     ({"margin": 0.3, "discount_rate": 0.0, "time_unit": "fortnight"}, "time_unit='fortnight'")],
)
def test_historical_value_bad_input(kwargs: dict[str, object], message: str) -> None:
    base = _base([("a", "2024-01-01", 1.0), ("b", "2024-01-01", 1.0)], end="2024-01-05")
    with pytest.raises(crmcore.CRMError, match=message):
        historical_value(base, **kwargs)  # type: ignore[arg-type]


def test_historical_value_needs_history() -> None:
    base = crmcore.datasets.load_cdnow_summary()
    with pytest.raises(crmcore.DataError, match="needs each customer's purchase history"):
        historical_value(base, margin=0.3, discount_rate=0.0)


# -- potential value --------------------------------------------------------------------------


def test_potential_without_data_says_so() -> None:
    base = _base([("a", "2024-01-01", 10.0), ("b", "2024-01-01", 20.0)], end="2024-01-05")
    model = WalletReferralPotential()
    assert isinstance(model, PotentialValueModel)
    pv = model.estimate(base, margin=np.full(2, 0.3), inputs=PotentialInputs())
    assert np.isnan(pv.value).all()
    assert set(pv.reason.tolist()) == {"no share-of-wallet or referral data given"}
    assert not pv.estimated.any()


def test_potential_wallet_and_referrals() -> None:
    base = _base([("a", "2024-01-01", 10.0), ("b", "2024-01-01", 20.0),
                  ("c", "2024-01-01", 30.0)], end="2024-01-05")
    inputs = PotentialInputs(wallet=[100.0, 10.0, np.nan], referrals=[1.0, 0.0, 2.0],
                             referral_value=5.0)
    pv = WalletReferralPotential(capture=0.5).estimate(base, margin=np.full(3, 0.2),
                                                      inputs=inputs)
    # a: 0.5 * 0.2 * (100 - 10) + 1 * 5; b: spends more than the wallet -> no headroom
    assert pv.cross_buying[:2].tolist() == pytest.approx([9.0, 0.0])
    assert pv.value[:2].tolist() == pytest.approx([14.0, 0.0])
    # c: the wallet is unknown, so the potential is too (not the referral part alone)
    assert math.isnan(pv.value[2])
    assert pv.referral[2] == 10.0
    assert pv.reason.tolist() == ["", "", "wallet or spend unknown"]


def test_potential_per_category() -> None:
    base = _base([("a", "2024-01-01", 10.0)], end="2024-01-05")
    inputs = PotentialInputs(wallet=[[50.0, 30.0]], spend=[[10.0, 40.0]])
    pv = WalletReferralPotential().estimate(base, margin=np.full(1, 0.5), inputs=inputs)
    assert pv.value.tolist() == [20.0]  # headroom 40 in the first category, none in the second
    with pytest.raises(crmcore.InvalidValueError, match="spend per category is needed"):
        WalletReferralPotential().estimate(base, margin=np.full(1, 0.5),
                                           inputs=PotentialInputs(wallet=[[1.0, 2.0]]))


@pytest.mark.parametrize(
    ("inputs", "message"),
    [(PotentialInputs(referrals=[1.0]), "give referrals and referral_value together"),
     (PotentialInputs(wallet=[-1.0]), "wallet is negative or infinite at row 0"),
     (PotentialInputs(wallet=[1.0, 2.0]), r"wallet has shape \(2,\)"),
     (PotentialInputs(wallet=[1.0], spend=[[1.0, 2.0]]), "spend has shape")],
)
def test_potential_bad_input(inputs: PotentialInputs, message: str) -> None:
    base = _base([("a", "2024-01-01", 10.0)], end="2024-01-05")
    with pytest.raises(crmcore.InvalidValueError, match=message):
        WalletReferralPotential().estimate(base, margin=np.full(1, 0.5), inputs=inputs)


def test_capture_must_be_a_share() -> None:
    with pytest.raises(crmcore.InvalidValueError, match="capture must lie in"):
        WalletReferralPotential(capture=1.5)


# -- drivers ----------------------------------------------------------------------------------


def test_drivers_on_cdnow(cdnow: crmcore.CustomerBase) -> None:
    drivers = clv_drivers(cdnow, margin=0.3)
    assert cdnow.history is not None
    first = cdnow.history.amount[cdnow.history.indptr[:-1]]
    assert np.allclose(drivers.initial_margin, 0.3 * first)
    assert np.all(drivers.initial_margin <= 0.3 * np.asarray(cdnow.total_spend) + 1e-9)
    positive = cdnow.T > 0
    assert np.allclose(drivers.purchase_rate[positive],
                       cdnow.frequency[positive] / cdnow.T[positive])
    assert np.array_equal(drivers.tenure, cdnow.T)
    assert drivers.time_unit == "W"
    assert np.isnan(drivers.cross_buying).all()


def test_drivers_without_history_are_nan_for_the_first_purchase() -> None:
    drivers = clv_drivers(crmcore.datasets.load_cdnow_summary(), margin=0.3)
    assert np.isnan(drivers.initial_margin).all()
    assert np.isfinite(drivers.purchase_rate).all()


@given(st.lists(st.floats(0.0, 1e4), min_size=1, max_size=20), st.floats(0.0, 1e3),
       st.floats(0.0, 1.0))
def test_potential_grows_with_the_wallet(wallet: list[float], extra: float,
                                         capture: float) -> None:
    n = len(wallet)
    rows = [(f"c{i:02d}", "2024-01-01", 10.0) for i in range(n)]
    base = _base(rows, end="2024-01-05")
    model = WalletReferralPotential(capture=capture)
    margin = np.full(n, 0.3)
    low = model.estimate(base, margin=margin, inputs=PotentialInputs(wallet=wallet))
    high = model.estimate(base, margin=margin,
                          inputs=PotentialInputs(wallet=np.asarray(wallet) + extra))
    assert np.all(low.value >= 0.0)
    assert np.all(high.value >= low.value - 1e-9)
    assert np.all(low.value <= 0.3 * np.asarray(wallet) + 1e-9)
