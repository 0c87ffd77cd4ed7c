"""Observed retention and churn rates (客户保持率, 客户流失率) and cohort tables."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import crmcore
from crmcore.lifecycle import inactive_customers, retention_rates
from crmcore.value import ShiftedBetaGeometric, bank_classes


def _log(months: dict[str, list[int]], year: int = 2024) -> list[crmcore.Transaction]:
    return [crmcore.Transaction(c, dt.datetime(year + (m - 1) // 12, (m - 1) % 12 + 1, 5), 1.0)
            for c, ms in months.items() for m in ms]


# a: Jan Feb Mar; b: Jan Feb; c: Jan; d: Feb Apr (returns after a gap)
HAND = {"a": [1, 2, 3], "b": [1, 2], "c": [1], "d": [2, 4]}


def _hand_base(end: str = "2024-04-30") -> crmcore.CustomerBase:
    return crmcore.CustomerBase.from_transactions(_log(HAND), freq="D", observation_end=end)


def test_hand_built_rates() -> None:
    r = retention_rates(_hand_base())
    assert r.period.astype(str).tolist() == ["2024-01-01", "2024-02-01", "2024-03-01",
                                             "2024-04-01"]
    assert r.active.tolist() == [3, 3, 1, 1]
    assert r.new.tolist() == [3, 1, 0, 0]
    # Feb: a, b of {a, b, c}; Mar: a of {a, b, d}; Apr: nobody of {a}
    assert r.retained.tolist() == [0, 2, 1, 0]
    assert r.lost.tolist() == [0, 1, 2, 1]
    assert r.returned.tolist() == [0, 0, 0, 1]  # d comes back in April
    np.testing.assert_allclose(r.retention_rate, [np.nan, 2 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(r.churn_rate, [np.nan, 1 / 3, 2 / 3, 1.0])
    assert r.complete.all()
    assert r.overall_retention_rate() == pytest.approx(3 / 7)


def test_hand_built_cohort_table() -> None:
    r = retention_rates(_hand_base())
    assert r.cohort.astype(str).tolist() == ["2024-01-01", "2024-02-01"]
    assert r.cohort_size.tolist() == [3, 1]
    np.testing.assert_array_equal(r.cohort_active, [[3, 2, 1, 0], [1, 0, 1, np.nan]])
    np.testing.assert_allclose(r.cohort_share_active[0], [1, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(r.cohort_retention[0], [np.nan, 2 / 3, 1 / 2, 0])
    np.testing.assert_allclose(r.cohort_retention[1], [np.nan, 0, np.nan, np.nan])
    assert r.cohort_counts(0).tolist() == [3, 2, 1, 0]
    assert r.cohort_counts(1).tolist() == [1, 0, 1]
    frame = r.cohort_frame()
    assert len(frame) == 7
    assert frame["period"].astype(str).tolist()[-1] == "2024-04-01"
    periods = r.to_frame()
    assert periods["retained"].tolist() == [0, 2, 1, 0]


def test_inactive_after_two_periods() -> None:
    r = retention_rates(_hand_base(), inactive_after=2)
    # A customer stays active one period after their last purchase.
    assert r.active.tolist() == [3, 4, 3, 2]
    np.testing.assert_allclose(r.retention_rate, [np.nan, 1.0, 0.75, 2 / 3])
    assert r.returned.tolist() == [0, 0, 0, 0]  # d's one-month gap is no longer a lapse
    assert r.inactive_after == 2


def test_incomplete_last_period_is_flagged() -> None:
    r = retention_rates(_hand_base(end="2024-04-10"))
    assert r.complete.tolist() == [True, True, True, False]
    assert r.overall_retention_rate() == pytest.approx(3 / 6)
    assert r.overall_retention_rate(complete_only=False) == pytest.approx(3 / 7)


def test_coarser_period_rebuckets_history() -> None:
    r = retention_rates(_hand_base(end="2024-06-30"), freq="Q")
    assert r.active.tolist() == [4, 1]  # Q1: a b c d; Q2: d
    np.testing.assert_allclose(r.retention_rate, [np.nan, 0.25])


def test_inactive_customers_bank_rule() -> None:
    # Seed 004: an account unused for two years or more is inactive.
    log = _log({"recent": [1, 30], "old": [1], "edge": [13]}, year=2020)
    base = crmcore.CustomerBase.from_transactions(log, freq="D", observation_end="2022-12-31")
    flags = inactive_customers(base)  # two calendar years by default
    assert dict(zip(base.customer_id.tolist(), flags.tolist(), strict=True)) == {
        "edge": False, "old": True, "recent": False}
    # The same definition as the last period of retention_rates(freq="Y", inactive_after=2)
    r = retention_rates(base, freq="Y", inactive_after=2)
    assert r.active[-1] == int((~flags).sum())
    seg = bank_classes([10.0, 1.0, 5.0], [1.0, 2.0, 3.0], inactive=flags)
    assert seg.labels().tolist()[base.index_of(["old"])[0]] is crmcore.value.BankClass.INACTIVE


def test_simulated_sbg_cohort_converges_to_the_model() -> None:
    # A contractual cohort: each customer pays every month until they cancel (sBG, Fader &
    # Hardie 2007); the observed share still active converges to S(t).
    rng = np.random.default_rng(17)
    alpha, beta, n, months = 0.8, 2.5, 6000, 12
    theta = rng.beta(alpha, beta, size=n)
    lifetime = np.minimum(rng.geometric(theta), months)  # periods paid, the first included
    ids = np.repeat(np.arange(n), lifetime)
    offsets = np.arange(len(ids)) - np.repeat(np.cumsum(lifetime) - lifetime, lifetime)
    month_start = (np.datetime64("2023-01") + offsets.astype("timedelta64[M]")).astype(
        "datetime64[D]") + np.timedelta64(4, "D")
    import pandas as pd

    frame = pd.DataFrame({"customer_id": ids, "at": month_start})
    base = crmcore.CustomerBase.from_transactions(frame, freq="M",
                                                  observation_end="2023-12-31")
    rates = retention_rates(base)
    t = np.arange(months)
    expected = np.exp(_betaln(alpha, beta + t) - _betaln(alpha, beta))
    np.testing.assert_allclose(rates.cohort_share_active[0], expected, atol=0.02)
    # The model's retention curve r(t) = (beta + t - 1)/(alpha + beta + t - 1)
    np.testing.assert_allclose(rates.retention_rate[1:],
                               (beta + t[1:] - 1) / (alpha + beta + t[1:] - 1), atol=0.03)
    # and the observed counts, fitted, give back the model's survival
    fitted = ShiftedBetaGeometric().fit(rates.cohort_counts(0), time_unit="M")
    np.testing.assert_allclose(fitted.survival(t), expected, atol=0.02)


def _betaln(a: float, b: float | np.ndarray) -> np.ndarray:
    from scipy.special import betaln

    return np.asarray(betaln(a, b), dtype=np.float64)


def test_bad_input_is_named() -> None:
    base = _hand_base()
    with pytest.raises(crmcore.InvalidValueError, match="inactive_after"):
        retention_rates(base, inactive_after=0)
    with pytest.raises(crmcore.TimeUnitError):
        retention_rates(base, freq="X")
    monthly = crmcore.CustomerBase.from_transactions(_log(HAND), freq="M")
    with pytest.raises(crmcore.TimeUnitError, match="finer"):
        retention_rates(monthly, freq="D")
    summary = crmcore.CustomerBase.from_summary(["x"], [2], [3.0], [4.0])
    with pytest.raises(crmcore.DataError, match="purchase history"):
        retention_rates(summary)
    r = retention_rates(base)
    with pytest.raises(crmcore.InvalidValueError, match="cohort=5"):
        r.cohort_counts(5)
