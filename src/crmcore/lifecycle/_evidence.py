"""The evidence behind a lifecycle stage, per customer, from the purchase history: tenure,
usual gap between purchases, silence, trend and level (array operations over the compressed
history), and the history as it stood at a cut-off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crmcore._base import CustomerBase, PurchaseHistory
from crmcore._errors import DataError, EmptyDataError, InvalidValueError
from crmcore._time import period_index, to_datetime64


def _history_at(
    base: CustomerBase, as_of: dt.datetime | dt.date | str | np.datetime64 | None
) -> tuple[PurchaseHistory, int, np.datetime64]:
    if not isinstance(base, CustomerBase):
        raise DataError(f"expected a CustomerBase, got {type(base).__name__}", field="base")
    if base.history is None or base.freq is None or base.observation_end is None:
        raise DataError(
            "lifecycle stages need each customer's purchase history: build the base with "
            "CustomerBase.from_transactions (a base from from_summary has none)",
            field="history",
        )
    history = base.history
    end_period = int(period_index(np.asarray([base.observation_end]), base.freq)[0])
    if as_of is None:
        return history, end_period, base.observation_end
    try:
        cut = to_datetime64(as_of)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"as_of {as_of!r} is not a date: {exc}", field="as_of") from exc
    cut_period = int(period_index(np.asarray([cut]), base.freq)[0])
    if cut_period > end_period:
        raise InvalidValueError(
            f"as_of ({np.datetime_as_string(cut, unit='D')}) is after the observation end "
            f"({np.datetime_as_string(base.observation_end, unit='D')})",
            field="as_of",
        )
    truncated = history.until(cut_period)
    if len(truncated.period) == 0:
        raise EmptyDataError(
            f"no customer had bought by as_of ({np.datetime_as_string(cut, unit='D')})",
            field="as_of",
        )
    return truncated, cut_period, cut


def _evidence(
    history: PurchaseHistory,
    end_period: int,
    *,
    window: int,
    gap_multiple: float,
    measure: str,
    default_gap: float | None,
    min_purchases: int,
) -> dict[str, NDArray[Any]]:
    """Per-customer evidence, in periods of the history's ``freq`` (see the module notes)."""
    indptr, period = history.indptr, history.period
    purchases = np.diff(indptr)
    n = len(purchases)
    has = purchases > 0
    rows = np.flatnonzero(has)
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first[rows] = period[indptr[rows]]
    last[rows] = period[indptr[rows + 1] - 1]
    span = last - first
    age = end_period - first
    silence = end_period - last

    repeat = purchases >= 2
    gap = np.full(n, np.nan)
    gap[repeat] = span[repeat] / (purchases[repeat] - 1)
    if default_gap is None:
        # A single purchase says nothing about the customer's pace; judge the silence against
        # at least the window, since repeat buyers' gaps lean towards the frequent buyers.
        typical = float(np.median(gap[repeat])) if bool(np.any(repeat)) else 0.0
        default_gap = max(float(window), typical)
    usual_gap = np.where(repeat, gap, default_gap)
    chosen_gap = float(default_gap)
    # One or two gaps are too few to know a pace by: a customer still exploring is held to at
    # least the default gap, so two purchases a day apart do not make a week's silence an end.
    few = purchases < min_purchases
    usual_gap[few] = np.maximum(np.nan_to_num(usual_gap[few], nan=default_gap), default_gap)
    usual_gap[~has] = np.nan
    with np.errstate(invalid="ignore"):
        gap_ratio = silence / usual_gap
        wanted = np.ceil(gap_multiple * np.nan_to_num(usual_gap, nan=1.0))
    # At least `window`, at least a few usual gaps, but never more than half the tenure, so an
    # infrequent buyer of long standing still has an earlier window to compare with.
    size = np.clip(wanted, window, np.maximum(window, age // 2)).astype(np.int64)

    if measure == "amount":
        value = np.asarray(history.amount, dtype=np.float64)  # read only: no copy
    elif measure == "count":
        value = history.count.astype(np.float64)
    else:
        value = np.ones(len(period))
    owner = history.customer_of_entry()
    entry_bin = end_period - period
    np.floor_divide(entry_bin, np.repeat(size, purchases), out=entry_bin)  # size[owner]
    is_first = np.zeros(len(period), dtype=bool)
    is_first[indptr[rows]] = True
    in_recent = entry_bin == 0
    recent = np.bincount(owner, weights=value * in_recent, minlength=n)
    before = np.logical_or(in_recent, is_first, out=is_first)  # ~in_recent & ~is_first
    np.logical_not(before, out=before)
    earlier = np.bincount(owner, weights=value * before, minlength=n)
    del before, is_first
    earlier_span = end_period - size - first  # periods after the first purchase, before W
    comparable = has & (age >= 2 * window) & (earlier_span >= size)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        recent_rate = recent / size
        earlier_rate = earlier / np.maximum(earlier_span, 1)
        trend = np.where(comparable, recent_rate / earlier_rate, np.nan)
    trend[comparable & (earlier_rate == 0) & (recent_rate == 0)] = np.nan

    peak = np.zeros(n)
    if len(period):
        new_group = np.ones(len(period), dtype=bool)
        np.not_equal(entry_bin[1:], entry_bin[:-1], out=new_group[1:])
        new_group[indptr[rows]] = True  # each customer's first entry starts a group
        starts = np.flatnonzero(new_group)
        sums = np.add.reduceat(value, starts)
        # each customer's first group: the number of groups begun before her first entry
        customer_start = np.cumsum(new_group)[indptr[rows]] - 1
        peak[rows] = np.maximum.reduceat(sums, customer_start)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(has & (peak > 0), recent / np.where(peak > 0, peak, 1.0), np.nan)

    return {
        "purchases": purchases.astype(np.int64),
        "span": span.astype(np.float64),
        "age": age.astype(np.float64),
        "silence": silence.astype(np.float64),
        "usual_gap": usual_gap,
        "gap_ratio": np.where(has, gap_ratio, np.nan),
        "window": size.astype(np.float64),
        "trend": trend,
        "level": level,
        "comparable": comparable,
        "default_gap": np.asarray(chosen_gap),
    }
