"""Incremental update: a base updated with new purchases equals the base recomputed from the
whole log, for any split of the log."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore

pd = pytest.importorskip("pandas")
START = np.datetime64("2022-01-01T00:00", "us")


def _frame(rows: list[tuple[int, int, int, float]]) -> Any:
    return pd.DataFrame({
        "customer_id": np.asarray([r[0] for r in rows], dtype=np.int64),
        "at": START + np.asarray([r[1] * 24 + r[2] for r in rows]).astype("timedelta64[h]"),
        "amount": np.asarray([r[3] for r in rows], dtype=np.float64),
        "margin": np.asarray([r[3] * 0.25 - 1 for r in rows], dtype=np.float64),
    })


def _same(a: crmcore.CustomerBase, b: crmcore.CustomerBase) -> None:
    for column in ("customer_id", "frequency", "recency", "T", "first_purchase"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)
    np.testing.assert_allclose(a.monetary_value, b.monetary_value, rtol=1e-12)
    assert a.total_spend is not None
    assert b.total_spend is not None
    np.testing.assert_allclose(a.total_spend, b.total_spend, rtol=1e-12)
    assert a.history is not None
    assert b.history is not None
    for column in ("indptr", "period", "count"):
        np.testing.assert_array_equal(getattr(a.history, column), getattr(b.history, column))
    np.testing.assert_allclose(a.history.amount, b.history.amount, rtol=1e-12)
    assert a.history.margin is not None
    assert b.history.margin is not None
    np.testing.assert_allclose(a.history.margin, b.history.margin, rtol=1e-12, atol=1e-12)
    assert a.observation_end == b.observation_end
    assert (a.freq, a.time_unit) == (b.freq, b.time_unit)


ROW = st.tuples(st.integers(0, 12), st.integers(0, 120), st.integers(0, 23),
                st.floats(0, 500, allow_nan=False).map(lambda v: round(v, 2)))
KWARGS: dict[str, Any] = {"datetime": "at", "monetary_value": "amount", "margin": "margin"}


@given(st.lists(ROW, min_size=2, max_size=60), st.data(),
       st.sampled_from([("D", "W"), ("W", "W"), ("M", "M")]), st.integers(0, 40))
def test_update_equals_recomputing(rows: list[tuple[int, int, int, float]], data: Any,
                                   units: tuple[str, str], extra_days: int) -> None:
    freq, unit = units
    by_time = data.draw(st.booleans(), label="split by time")
    if by_time:  # old purchases up to a day, new ones after it (the usual case)
        cut = data.draw(st.integers(0, 120), label="cut day")
        old = [r for r in rows if r[1] <= cut]
        new = [r for r in rows if r[1] > cut]
    else:  # any split: late-arriving purchases of earlier periods too
        mask = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
        old = [r for r, keep in zip(rows, mask, strict=True) if keep]
        new = [r for r, keep in zip(rows, mask, strict=True) if not keep]
    if not old:
        old, new = new[:1], new[1:]
    everything = _frame(rows)
    end = everything["at"].max() + np.timedelta64(extra_days, "D")
    old_frame = _frame(old)
    base = crmcore.CustomerBase.from_transactions(old_frame, freq=freq, time_unit=unit,
                                                  observation_end=old_frame["at"].max(),
                                                  **KWARGS)
    updated = crmcore.update_base(base, _frame(new) if new else None, observation_end=end,
                                  **KWARGS)
    expected = crmcore.CustomerBase.from_transactions(everything, freq=freq, time_unit=unit,
                                                      observation_end=end, **KWARGS)
    _same(updated, expected)


def test_new_customer_and_end_only() -> None:
    old = _frame([(1, 0, 9, 10.0), (1, 5, 9, 20.0), (2, 3, 9, 5.0)])
    new = _frame([(3, 20, 9, 7.5), (1, 21, 9, 1.0)])  # customer 3 first buys in the batch
    base = crmcore.CustomerBase.from_transactions(old, freq="D", time_unit="D", **KWARGS)
    updated = crmcore.update_base(base, new, **KWARGS)
    _same(updated, crmcore.CustomerBase.from_transactions(pd.concat([old, new]), freq="D",
                                                          time_unit="D", **KWARGS))
    assert list(updated.customer_id) == [1, 2, 3]
    assert updated.frequency.tolist() == [2, 0, 0]
    # a batch with no purchases only moves the observation end: T grows, nothing else
    later = crmcore.update_base(updated, observation_end="2022-02-01")
    np.testing.assert_array_equal(later.T, updated.T + 10)
    np.testing.assert_array_equal(later.recency, updated.recency)
    assert later.observation_end == np.datetime64("2022-02-01T00:00", "us")


def test_update_refuses_what_it_cannot_merge() -> None:
    old = _frame([(1, 0, 9, 10.0), (2, 3, 9, 5.0)])
    base = crmcore.CustomerBase.from_transactions(old, **KWARGS)
    with pytest.raises(crmcore.InvalidValueError) as info:
        crmcore.update_base(base, observation_end="2021-12-01")
    assert info.value.field == "observation_end"
    with pytest.raises(crmcore.InvalidValueError) as spend:
        crmcore.update_base(base, _frame([(3, 9, 1, 1.0)]), datetime="at", margin="margin")
    assert spend.value.field == "monetary_value"
    summary = crmcore.CustomerBase.from_summary([1], [0], [0.0], [3.0])
    with pytest.raises(crmcore.DataError):
        crmcore.update_base(summary, old, **KWARGS)
    with pytest.raises(crmcore.LateTransactionError):
        crmcore.update_base(base, _frame([(3, 30, 1, 1.0)]), observation_end="2022-01-05",
                            **KWARGS)
