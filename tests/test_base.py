"""CustomerBase: agreement with lifetimes and the published CDNOW summary, and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

import crmcore
from crmcore.datasets import load_cdnow, load_cdnow_summary, load_cdnow_transactions

COLUMNS = ("frequency", "recency", "T", "monetary_value")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    frame: pd.DataFrame = load_cdnow_transactions("pandas")
    return frame


def _base(data: object, **kwargs: Any) -> crmcore.CustomerBase:
    return crmcore.CustomerBase.from_transactions(
        data, customer_id="customer_id", datetime="date", monetary_value="amount", **kwargs
    )


@pytest.mark.parametrize("freq", ["D", "W"])
def test_summary_equals_lifetimes(cdnow: pd.DataFrame, freq: str) -> None:
    expected = summary_data_from_transaction_data(
        cdnow, "customer_id", "date", monetary_value_col="amount", freq=freq
    )
    base = _base(cdnow, freq=freq)
    np.testing.assert_array_equal(base.customer_id, expected.index.to_numpy())
    for column in COLUMNS:
        np.testing.assert_allclose(getattr(base, column), expected[column].to_numpy(),
                                   rtol=0, atol=1e-9, err_msg=column)


def test_daily_precision_in_weeks_equals_lifetimes_freq_multiplier(cdnow: pd.DataFrame) -> None:
    expected = summary_data_from_transaction_data(
        cdnow, "customer_id", "date", monetary_value_col="amount", freq="D", freq_multiplier=7
    )
    base = _base(cdnow, freq="D", time_unit="W")
    for column in COLUMNS:
        np.testing.assert_allclose(getattr(base, column), expected[column].to_numpy(),
                                   rtol=0, atol=1e-9, err_msg=column)


def test_calibration_reproduces_published_cdnow_summary() -> None:
    # Fader, Hardie & Lee (2005) distribute the 39-week calibration summary of the 2,357
    # CDNOW customers with t_x and T in weeks rounded to 2 decimals and zbar to cents.
    published = load_cdnow_summary()
    calibration = load_cdnow().calibration_holdout("1997-09-30").calibration
    assert len(calibration) == len(published) == 2357
    np.testing.assert_array_equal(calibration.customer_id, published.customer_id)
    np.testing.assert_array_equal(calibration.frequency, published.frequency)
    np.testing.assert_allclose(calibration.recency, published.recency, atol=0.005 + 1e-9)
    np.testing.assert_allclose(calibration.T, published.T, atol=0.005 + 1e-9)
    np.testing.assert_allclose(calibration.monetary_value, published.monetary_value,
                               atol=0.005 + 1e-9)
    # "1,411 of the 2,357 customers made no repeat purchase" in the 39 weeks (FHL 2005, §4).
    assert int((calibration.frequency == 0).sum()) == 1411
    assert calibration.T.max() == pytest.approx(38.86, abs=0.005)


@pytest.mark.parametrize(("freq", "split"), [("D", "1997-09-30"), ("W", "1997-09-28")])
def test_calibration_holdout_equals_lifetimes(cdnow: pd.DataFrame, freq: str, split: str
                                              ) -> None:
    expected = calibration_and_holdout_data(
        cdnow, "customer_id", "date", calibration_period_end=split,
        monetary_value_col="amount", freq=freq,
    )
    split_base = _base(cdnow, freq=freq).calibration_holdout(split)
    frame = split_base.to_frame()
    for column in ("frequency_cal", "recency_cal", "T_cal", "monetary_value_cal",
                   "frequency_holdout", "duration_holdout"):
        np.testing.assert_allclose(frame[column].to_numpy(), expected[column].to_numpy(),
                                   atol=1e-9, err_msg=column)
    assert split_base.n_excluded == 0


def test_holdout_monetary_value_is_mean_per_purchase_period() -> None:
    # Deliberately unlike lifetimes (mean per raw transaction): spend per purchase *period*,
    # the same definition as the calibration monetary value that Gamma-Gamma models.
    log = pd.DataFrame({
        "customer_id": [1, 1, 1, 1],
        "date": pd.to_datetime(["2020-01-01", "2020-01-05", "2020-01-05", "2020-01-09"]),
        "amount": [10.0, 4.0, 6.0, 30.0],
    })
    split = _base(log).calibration_holdout("2020-01-02")
    assert split.frequency_holdout.tolist() == [2]
    assert split.monetary_value_holdout.tolist() == [20.0]  # (4 + 6 + 30) / 2 periods
    assert split.duration_holdout == 7.0


def test_customers_new_after_the_split_are_counted_not_lost() -> None:
    log = pd.DataFrame({
        "customer_id": ["a", "a", "b"],
        "date": pd.to_datetime(["2020-01-01", "2020-01-10", "2020-01-08"]),
        "amount": [1.0, 2.0, 3.0],
    })
    split = _base(log).calibration_holdout("2020-01-05")
    assert split.calibration.customer_id.tolist() == ["a"]
    assert split.n_excluded == 1


@pytest.mark.parametrize("backend", ["polars", "pyarrow"])
def test_every_frame_backend_gives_the_same_base(cdnow: pd.DataFrame, backend: str) -> None:
    reference = _base(cdnow, freq="W")
    other = pl.from_pandas(cdnow) if backend == "polars" else pa.Table.from_pandas(cdnow)
    base = _base(other, freq="W")
    for column in ("customer_id", *COLUMNS, "total_spend"):
        np.testing.assert_array_equal(getattr(base, column), getattr(reference, column))


def test_transaction_objects_give_the_same_base() -> None:
    t0 = dt.datetime(2021, 3, 1, 9, 30)
    records = [
        crmcore.Transaction("x", t0, 10.0),
        crmcore.Transaction("x", t0 + dt.timedelta(days=3), 5.0),
        crmcore.Transaction("y", t0 + dt.timedelta(days=1), 7.0),
    ]
    base = crmcore.CustomerBase.from_transactions(records, observation_end="2021-03-11")
    frame = pd.DataFrame({"customer_id": ["x", "x", "y"],
                          "at": [r.at for r in records], "amount": [10.0, 5.0, 7.0]})
    from_frame = crmcore.CustomerBase.from_transactions(frame, monetary_value="amount",
                                                        observation_end="2021-03-11")
    for column in ("customer_id", *COLUMNS, "total_spend"):
        np.testing.assert_array_equal(getattr(base, column), getattr(from_frame, column))
    assert base.frequency.tolist() == [1, 0]
    assert base.recency.tolist() == [3.0, 0.0]
    assert base.T.tolist() == [10.0, 9.0]


def test_monthly_periods_and_history() -> None:
    log = pd.DataFrame({
        "customer_id": [7, 7, 7, 7],
        "date": pd.to_datetime(["2020-01-03", "2020-01-30", "2020-03-01", "2020-06-15"]),
        "amount": [1.0, 2.0, 3.0, 4.0],
    })
    base = _base(log, freq="M", time_unit="Q")
    assert base.frequency.tolist() == [2]  # January counts once
    assert base.recency.tolist() == pytest.approx([5 / 3])
    history = base.history
    assert history is not None
    assert history.count.tolist() == [2, 1, 1]
    assert history.amount.tolist() == [3.0, 3.0, 4.0]
    assert history.period_dates().astype(str).tolist() == ["2020-01-01", "2020-03-01",
                                                           "2020-06-01"]


def test_weeks_run_monday_to_sunday() -> None:
    log = pd.DataFrame({
        "customer_id": [1, 1, 1],
        "date": pd.to_datetime(["2024-01-01", "2024-01-07", "2024-01-08"]),  # Mon, Sun, Mon
    })
    base = crmcore.CustomerBase.from_transactions(log, datetime="date", freq="W")
    assert base.frequency.tolist() == [1]
    assert base.history is not None
    assert base.history.period_dates().astype(str).tolist() == ["2024-01-01", "2024-01-08"]


def test_take_and_index_of_keep_history_aligned() -> None:
    base = load_cdnow()
    rows = base.index_of([5, 2, 1000])
    subset = base.take(rows)
    assert subset.customer_id.tolist() == [2, 5, 1000]
    assert subset.history is not None
    assert base.history is not None
    for i, customer in enumerate(subset.customer_id):
        j = int(base.index_of([customer])[0])
        a = slice(subset.history.indptr[i], subset.history.indptr[i + 1])
        b = slice(base.history.indptr[j], base.history.indptr[j + 1])
        np.testing.assert_array_equal(subset.history.period[a], base.history.period[b])
        assert subset.frequency[i] == base.frequency[j]
    with pytest.raises(crmcore.DataError, match="not in the base: id 999999"):
        base.index_of([999999])


def test_to_frame_backends() -> None:
    base = load_cdnow_summary()
    pandas_frame = base.to_frame()
    polars_frame = base.to_frame("polars")
    assert list(pandas_frame.columns) == ["customer_id", *COLUMNS]
    assert polars_frame.shape == (2357, 5)
    assert len(base) == 2357


def test_arrays_are_read_only() -> None:
    base = load_cdnow_summary()
    with pytest.raises(ValueError, match="read-only"):
        base.frequency[0] = 3


# -- bad input --------------------------------------------------------------------------------

LOG = pd.DataFrame({
    "customer_id": [1, 1, 2, 3],
    "date": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-01-15", "2020-03-01"]),
    "amount": [10.0, 20.0, 5.0, 8.0],
})


def test_unknown_column_names_it_and_the_alternatives() -> None:
    with pytest.raises(crmcore.UnknownColumnError,
                       match="column 'spend' \\(given as monetary_value\\).*'amount'") as info:
        crmcore.CustomerBase.from_transactions(LOG, datetime="date", monetary_value="spend")
    assert info.value.field == "monetary_value"
    assert isinstance(info.value, ValueError)


def test_negative_amount_names_rows() -> None:
    log = LOG.assign(amount=[10.0, -20.0, 5.0, -1.0])
    with pytest.raises(crmcore.InvalidValueError,
                       match="'amount' \\(monetary_value\\) is negative at rows 1, 3") as info:
        _base(log.rename(columns={"date": "date"}))
    assert info.value.rows == (1, 3)


def test_nan_amount_names_rows() -> None:
    log = LOG.assign(amount=[10.0, np.nan, 5.0, 8.0])
    with pytest.raises(crmcore.InvalidValueError, match="missing or not finite at row 1"):
        _base(log)


def test_missing_dates_name_rows() -> None:
    log = LOG.assign(date=pd.Series([LOG.date[0], pd.NaT, LOG.date[2], pd.NaT]))
    with pytest.raises(crmcore.DateError, match="'date' \\(datetime\\) is missing at rows 1, 3"):
        _base(log)


def test_unparsable_dates_name_rows() -> None:
    log = LOG.assign(date=["2020-01-01", "2020-02-31", "yesterday", "2020-03-01"])
    with pytest.raises(crmcore.DateError, match="cannot be parsed as ISO 8601 at rows 1, 2"):
        _base(log)
    with pytest.raises(crmcore.DateError, match="does not match format '%Y%m%d' at rows 0"):
        _base(log, datetime_format="%Y%m%d")


def test_integer_dates_with_a_format() -> None:
    log = LOG.assign(date=[19970101, 19970102, 19970105, 19970110])
    base = _base(log, datetime_format="%Y%m%d")
    assert base.recency.tolist() == [1.0, 0.0, 0.0]


def test_missing_customer_ids_name_rows() -> None:
    log = LOG.assign(customer_id=pd.Series(["a", None, "b", "c"], dtype=object))
    with pytest.raises(crmcore.InvalidValueError, match="customer_id\\) is missing at row 1"):
        _base(log)


def test_purchases_after_observation_end_name_rows() -> None:
    with pytest.raises(crmcore.LateTransactionError,
                       match="2 purchase\\(s\\) in periods after the observation end 2020-01-31 "
                             "at rows 1, 3") as info:
        _base(LOG, observation_end="2020-01-31")
    assert info.value.rows == (1, 3)


def test_empty_data() -> None:
    with pytest.raises(crmcore.EmptyDataError, match="no rows"):
        _base(LOG.iloc[:0])
    with pytest.raises(crmcore.EmptyDataError, match="no transactions"):
        crmcore.CustomerBase.from_transactions([])


def test_mixed_time_zones_are_refused() -> None:
    times = [
        pd.Timestamp("2020-01-01 10:00", tz="Europe/Berlin"),
        pd.Timestamp("2020-01-02 10:00", tz="Asia/Shanghai"),
        pd.Timestamp("2020-01-03 10:00", tz="Asia/Shanghai"),
    ]
    log = pd.DataFrame({"customer_id": [1, 1, 2], "date": pd.Series(times, dtype=object),
                        "amount": [1.0, 2.0, 3.0]})
    with pytest.raises(crmcore.TimeZoneError, match="mixes time zones.*Europe/Berlin: row 0"):
        _base(log)


def test_naive_and_aware_mixed_are_refused() -> None:
    records = [
        crmcore.Transaction(1, dt.datetime(2020, 1, 1), 1.0),
        crmcore.Transaction(1, dt.datetime(2020, 1, 2, tzinfo=dt.UTC), 1.0),
    ]
    with pytest.raises(crmcore.TimeZoneError, match="mixes naive date-times \\(row 0\\)"):
        crmcore.CustomerBase.from_transactions(records)


def test_one_time_zone_uses_local_dates() -> None:
    # 23:30 in Shanghai on 1 January is 15:30 UTC: the purchase day is the local one.
    log = pd.DataFrame({
        "customer_id": [1, 1],
        "date": pd.to_datetime(["2020-01-01 23:30", "2020-01-03 00:30"]).tz_localize(
            "Asia/Shanghai"),
    })
    base = crmcore.CustomerBase.from_transactions(log, datetime="date")
    assert base.recency.tolist() == [2.0]


def test_days_in_months_are_refused() -> None:
    with pytest.raises(crmcore.TimeUnitError, match="a month is not a fixed number of days"):
        _base(LOG, freq="D", time_unit="M")
    with pytest.raises(crmcore.TimeUnitError, match="freq='H' is not a period"):
        _base(LOG, freq="H")


def test_duplicate_customers_in_a_summary() -> None:
    with pytest.raises(crmcore.DuplicateCustomerError,
                       match="duplicates: ids 'b', 'c' appear more than once") as info:
        crmcore.CustomerBase.from_summary(["a", "b", "b", "c", "c"], [0] * 5, [0] * 5, [1] * 5)
    assert info.value.rows == ("b", "c")


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, 2], [3.0, 1.0], [2.0, 4.0], "recency exceeds T at row 0"),
        ([1, -2], [1.0, 1.0], [2.0, 4.0], "frequency is negative at row 1"),
        ([1, 2], [np.nan, 1.0], [2.0, 4.0], "recency is NaN or infinite at row 0"),
        ([1.5, 2], [1.0, 1.0], [2.0, 4.0], "not whole at row 0"),
        ([0, 2], [1.0, 1.0], [2.0, 4.0], "recency must be 0 when frequency is 0"),
        ([0, 2, 3], [0.0, 1.0], [2.0, 4.0], "recency has 2 values, expected 3"),
    ],
)
def test_bad_summaries(frequency: list[float], recency: list[float], T: list[float],
                       message: str) -> None:
    with pytest.raises(crmcore.InvalidValueError, match=message):
        crmcore.CustomerBase.from_summary(list(range(len(frequency))), frequency, recency, T)


# -- properties -------------------------------------------------------------------------------

_day = st.integers(min_value=0, max_value=400)


@given(st.lists(st.tuples(st.integers(0, 20), _day, st.floats(0, 1e4)), min_size=1,
                max_size=60),
       st.sampled_from(["D", "W", "M"]))
def test_summary_invariants(rows: list[tuple[int, int, float]], freq: str) -> None:
    start = np.datetime64("2020-01-01", "D")
    log = pd.DataFrame({
        "customer_id": [r[0] for r in rows],
        "date": [pd.Timestamp(start + np.timedelta64(r[1], "D")) for r in rows],
        "amount": [r[2] for r in rows],
    })
    base = _base(log, freq=freq)
    assert len(base) == len({r[0] for r in rows})
    assert np.all(base.frequency >= 0)
    assert np.all((base.recency >= 0) & (base.recency <= base.T))
    assert np.all(base.recency[base.frequency == 0] == 0)
    np.testing.assert_allclose(base.total_spend.sum() if base.total_spend is not None else 0,
                               sum(r[2] for r in rows), rtol=1e-9, atol=1e-6)
    assert base.history is not None
    assert int(base.history.count.sum()) == len(rows)
    assert np.all(np.diff(base.history.indptr) == base.frequency + 1)


def test_first_purchase_is_the_earliest_time_whatever_the_row_order() -> None:
    log = pd.DataFrame({
        "customer_id": ["b", "a", "a", "a", "b"],
        "at": pd.to_datetime(["2020-01-05 08:00", "2020-01-02 15:00", "2020-01-02 09:00",
                              "2020-01-01 23:00", "2020-01-05 07:00"]),
    })
    base = crmcore.CustomerBase.from_transactions(log)
    assert base.first_purchase is not None
    assert base.first_purchase.astype(str).tolist() == ["2020-01-01T23:00:00.000000",
                                                        "2020-01-05T07:00:00.000000"]
    assert base.frequency.tolist() == [1, 0]


def test_margin_is_summed_per_period_and_follows_splits() -> None:
    log = LOG.assign(margin=[2.0, -1.0, 1.5, 0.5])
    base = _base(log, margin="margin", freq="M")
    assert base.history is not None
    assert base.history.margin is not None
    assert base.history.margin.tolist() == [2.0, -1.0, 1.5, 0.5]
    split = base.calibration_holdout("2020-01-31")
    assert split.calibration.history is not None
    assert split.calibration.history.margin is not None
    assert split.calibration.history.margin.tolist() == [2.0, 1.5]
    assert _base(log).history is not None
    assert _base(log).history.margin is None  # type: ignore[union-attr]


def test_margin_problems_are_named() -> None:
    with pytest.raises(crmcore.InvalidValueError, match="'margin' \\(margin\\) is missing or not "
                                                        "finite at row 2"):
        _base(LOG.assign(margin=[1.0, 2.0, np.nan, 1.0]), margin="margin")
    records = [crmcore.Transaction(1, dt.datetime(2020, 1, 1), 5.0, margin=1.0),
               crmcore.Transaction(1, dt.datetime(2020, 1, 2), 5.0)]
    with pytest.raises(crmcore.InvalidValueError, match="Transaction.margin is missing at row 1"):
        crmcore.CustomerBase.from_transactions(records, margin="margin")
    with pytest.raises(crmcore.UnknownColumnError, match="'profit' \\(given as margin\\)"):
        _base(LOG, margin="profit")


def test_without_amounts_spend_is_unknown_not_zero() -> None:
    from crmcore.value import GammaGamma

    base = crmcore.CustomerBase.from_transactions(LOG, datetime="date")
    assert base.total_spend is None
    assert np.isnan(base.monetary_value).all()
    assert base.history is not None
    assert np.isnan(base.history.amount).all()
    split = base.calibration_holdout("2020-01-31")
    assert np.isnan(split.monetary_value_holdout).all()
    with pytest.raises(crmcore.InvalidValueError,
                       match="monetary_value is unknown for every customer"):
        GammaGamma().fit(base)
