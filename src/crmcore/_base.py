"""``CustomerBase``: the columnar summary of many customers that every batch model takes.

One row per customer, in numpy arrays aligned with ``customer_id`` (sorted ascending):

* ``frequency``: repeat purchases, i.e. periods with a purchase after the first one;
* ``recency``: time from the first to the last purchase period, in ``time_unit``;
* ``T``: time from the first purchase period to the observation end, in ``time_unit``;
* ``monetary_value``: mean value of the repeat purchase periods (0 without repeats), as in the
  buy-till-you-die literature (Fader, Hardie & Lee 2005);
* ``total_spend`` and ``first_purchase``.

These definitions are those of lifetimes' ``summary_data_from_transaction_data``, and the tests
check the two agree. A base built from transactions also keeps each customer's purchase
history per period (:class:`PurchaseHistory`, compressed sparse rows: one entry per period with
a purchase, so memory grows with purchases, not with customers x periods), from which
calibration/holdout splits and lifecycle trends are read without going back to the raw log.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._checks import (
    as_column,
    customer_ids,
    require_finite,
    require_non_negative,
)
from crmcore._errors import (
    DataError,
    DuplicateCustomerError,
    EmptyDataError,
    InvalidValueError,
    LateTransactionError,
    describe_rows,
)
from crmcore._frames import FrameBackend, TransactionColumns, _frame, read_transactions
from crmcore._time import check_unit, local_datetime64, period_index, period_start, unit_factor

__all__ = ["CalibrationHoldout", "CustomerBase", "PurchaseHistory", "compress_rows"]

_FloatArray = NDArray[np.float64]
_IntArray = NDArray[np.int64]


def _frozen_array(values: ArrayLike, dtype: Any) -> NDArray[Any]:
    array = np.array(values, dtype=dtype, copy=True)
    array.flags.writeable = False
    return array


@attrs.frozen(eq=False)
class PurchaseHistory:
    """Each customer's purchases per period, as compressed sparse rows.

    Customer ``i``'s periods are ``period[indptr[i]:indptr[i + 1]]`` (ascending, absolute
    period numbers of ``freq``; :func:`period_start` turns them into dates), with
    ``count`` transactions worth ``amount`` in each, and their contribution ``margin`` when the
    log recorded one (``None`` otherwise).
    """

    indptr: _IntArray
    period: _IntArray
    count: _IntArray
    amount: _FloatArray
    freq: str
    margin: _FloatArray | None = None

    @property
    def n_customers(self) -> int:
        """Number of customers (rows)."""
        return len(self.indptr) - 1

    def customer_of_entry(self) -> _IntArray:
        """For each stored period, the row of the customer it belongs to."""
        return np.repeat(np.arange(self.n_customers, dtype=np.int64), np.diff(self.indptr))

    def period_dates(self) -> NDArray[np.datetime64]:
        """The first day of each stored period."""
        return period_start(self.period, self.freq)

    def take(self, rows: _IntArray) -> PurchaseHistory:
        """The histories of the customers at ``rows``, in that order."""
        starts, stops = self.indptr[rows], self.indptr[rows + 1]
        lengths = stops - starts
        entries = _ranges(starts, lengths)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return PurchaseHistory(
            indptr=indptr, period=self.period[entries], count=self.count[entries],
            amount=self.amount[entries], freq=self.freq,
            margin=None if self.margin is None else self.margin[entries],
        )

    def until(self, last_period: int) -> PurchaseHistory:
        """Only the periods up to and including ``last_period`` (customers keep their rows)."""
        keep = self.period <= last_period
        kept = np.add.reduceat(keep.astype(np.int64), self.indptr[:-1]) if len(keep) else (
            np.zeros(self.n_customers, dtype=np.int64))
        kept = np.where(np.diff(self.indptr) > 0, kept, 0)
        indptr = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
        return PurchaseHistory(indptr=indptr, period=self.period[keep], count=self.count[keep],
                               amount=self.amount[keep], freq=self.freq,
                               margin=None if self.margin is None else self.margin[keep])


def _ranges(starts: _IntArray, lengths: _IntArray) -> _IntArray:
    """Concatenated ``arange(start, start + length)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    result: _IntArray = np.arange(total, dtype=np.int64) + offsets
    return result


def compress_rows(
    *columns: ArrayLike,
) -> tuple[tuple[NDArray[Any], ...], _FloatArray, _IntArray]:
    """Collapse identical rows of aligned columns into unique patterns with weights.

    Returns ``(unique_columns, weights, inverse)`` such that ``unique_columns[k][inverse]``
    restores column ``k`` and ``weights`` counts each pattern's rows. Likelihoods of BTYD models
    depend on a customer only through ``(frequency, recency, T)``, so fitting on patterns gives
    the same answer for far less work.
    """
    arrays = [np.asarray(c) for c in columns]
    if not arrays:
        raise InvalidValueError("compress_rows needs at least one column", field="columns")
    fast = _compress_by_codes(arrays)
    if fast is not None:
        return fast
    stacked = np.column_stack([a.astype(np.float64) for a in arrays])
    unique, inverse, counts = np.unique(stacked, axis=0, return_inverse=True,
                                        return_counts=True)
    restored = tuple(unique[:, k].astype(arrays[k].dtype) for k in range(len(arrays)))
    return restored, counts.astype(np.float64), inverse.reshape(-1).astype(np.int64)


def _compress_by_codes(
    arrays: list[NDArray[Any]],
) -> tuple[tuple[NDArray[Any], ...], _FloatArray, _IntArray] | None:
    """``compress_rows`` through one integer key per row (each column's rank among its own
    unique values, combined in mixed radix): 1-D sorts instead of a sort of whole rows, several
    times faster at a million rows. ``None`` when the key would overflow or values are NaN."""
    values = [np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays]
    if any(np.isnan(v).any() for v in values):
        return None
    uniques, codes = [], []
    for v in values:
        u, c = column_codes(v)
        uniques.append(u)
        codes.append(c)
    if float(np.prod([float(len(u)) for u in uniques])) >= 2.0**62:
        return None
    key = codes[0]  # column_codes' own array: combined in place
    for u, c in zip(uniques[1:], codes[1:], strict=True):
        key *= len(u)
        key += c
    unique_key, inverse, counts = _unique_key(key, int(np.prod([len(u) for u in uniques])))
    restored = []
    for k in range(len(arrays) - 1, -1, -1):
        radix = len(uniques[k])
        restored.append(uniques[k][unique_key % radix].astype(arrays[k].dtype))
        unique_key = unique_key // radix
    return (tuple(reversed(restored)), counts.astype(np.float64),
            inverse.reshape(-1).astype(np.int64, copy=False))


def _unique_key(key: _IntArray, n_keys: int) -> tuple[_IntArray, _IntArray, _IntArray]:
    """``np.unique(key, return_inverse=True, return_counts=True)`` for keys in ``[0,
    n_keys)``. When a key and a row number fit in 63 bits together, each row's key and row
    number are packed into one integer and sorted by value (several times faster than the
    ``argsort`` inside ``np.unique``); the order found is the same."""
    n = len(key)
    index_bits = max(1, int(n - 1).bit_length())
    if n == 0 or int(max(n_keys - 1, 1)).bit_length() + index_bits > 63:
        unique, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        return unique, inverse.reshape(-1), counts
    packed = np.sort((key.astype(np.int64) << index_bits) | np.arange(n, dtype=np.int64))
    order = packed & ((1 << index_bits) - 1)
    packed >>= index_bits  # the sorted keys
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(packed[1:], packed[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    counts = np.diff(np.append(starts, n))
    return packed[starts], inverse, counts


def _integer_codes(ids: NDArray[Any]) -> tuple[NDArray[Any], _IntArray]:
    """``np.unique(ids, return_inverse=True)`` for integer ids, by counting when their range is
    not much wider than their number (ids 1..n), by sorting otherwise."""
    if len(ids):
        low, high = int(ids.min()), int(ids.max())
        if high - low <= 2 * len(ids) + 1024:
            shifted = (ids - low).astype(np.int64, copy=False)
            present = np.bincount(shifted) > 0
            rank = np.cumsum(present) - 1
            unique = (np.flatnonzero(present) + low).astype(ids.dtype)
            return unique, np.take(rank, shifted).astype(np.int64, copy=False)
    u, c = np.unique(ids, return_inverse=True)
    return u, c.reshape(-1).astype(np.int64)


def column_codes(values: NDArray[Any]) -> tuple[_FloatArray, _IntArray]:
    """``(unique, codes)`` with ``unique[codes] == values`` (``np.unique(values,
    return_inverse=True)``) for a float column without NaN. Whole numbers in a range not much
    wider than the column (purchase counts, day counts) are counted in one pass
    (``bincount``) instead of sorted, and so are whole multiples of ``1/q`` for a whole ``q``
    (days counted in weeks: ``k/7``; see :func:`_grid_codes`)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(v):
        low, high = float(v.min()), float(v.max())
        # whole numbers only (a whole low): then v - low and back are exact
        if (high - low <= 2 * len(v) + 1024 and abs(low) < 2.0**52 and abs(high) < 2.0**52
                and low.is_integer()):
            shifted = v - low
            whole = shifted.astype(np.int64)
            if np.array_equal(whole, shifted):
                present = np.bincount(whole) > 0
                rank = np.cumsum(present) - 1
                unique: _FloatArray = np.flatnonzero(present).astype(np.float64) + low
                return unique, np.take(rank, whole)
        grid = _grid_codes(v, low, high)
        if grid is not None:
            return grid
    u, c = np.unique(v, return_inverse=True)
    return u, c.reshape(-1).astype(np.int64)


def _grid_codes(v: _FloatArray, low: float, high: float
                ) -> tuple[_FloatArray, _IntArray] | None:
    """``column_codes`` for a column whose values are all ``k / q``, ``k`` whole and ``q`` a
    whole number read off the spacing of a sample (recency and T in weeks with daily
    precision are ``k / 7``), by counting ``k``; ``None`` for any other column.

    Exact: ``k = rint(v q)`` is accepted only if every ``k`` stands for one value (checked bit
    for bit), so two values share a code exactly when they are equal, and the codes rise with
    the values (``rint`` is monotone), as ``np.unique``'s would."""
    sample = np.unique(v[:: max(1, len(v) // 4096)])
    gaps = np.diff(sample)
    step = float(gaps.min()) if len(gaps) else 0.0
    if not 1e-6 <= step <= 0.5:
        return None
    q = round(1.0 / step)
    if abs(q * step - 1.0) > 1e-9:
        return None
    if (high - low) * q > 2 * len(v) + 1024 or max(abs(low), abs(high)) * q >= 2.0**52:
        return None
    k = v * q
    np.rint(k, out=k)
    k_low = float(np.rint(low * q))  # rint is monotone: the smallest k and the largest
    k -= k_low
    whole = k.astype(np.int64)
    del k
    value_of = np.empty(int(np.rint(high * q) - k_low) + 1)
    value_of[whole] = v
    if not np.array_equal(np.take(value_of, whole), v):
        return None
    present = np.bincount(whole, minlength=len(value_of)) > 0
    rank = np.cumsum(present) - 1
    unique: _FloatArray = value_of[present]
    return unique, np.take(rank, whole)


@attrs.frozen(eq=False)
class CalibrationHoldout:
    """A base split at a date: the calibration base and what each of its customers did after.

    ``frequency_holdout`` counts periods with a purchase in the holdout (after the split, up to
    the observation end), ``monetary_value_holdout`` is their mean value (0 without any), and
    ``duration_holdout`` is the holdout's length in ``time_unit``. Customers whose first purchase
    falls after the split are not in the calibration base; ``n_excluded`` counts them.
    ``history`` is the calibration customers' purchase history over both periods (what
    tracking plots compare a model's forecast with, period by period).
    """

    calibration: CustomerBase
    frequency_holdout: _IntArray
    monetary_value_holdout: _FloatArray
    duration_holdout: float
    n_excluded: int
    history: PurchaseHistory | None = None

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """Calibration summary and holdout columns in one frame (lifetimes' column names)."""
        columns = self.calibration._columns()
        renamed = {("customer_id" if k == "customer_id" else f"{k}_cal"): v
                   for k, v in columns.items()}
        renamed["frequency_holdout"] = self.frequency_holdout
        renamed["monetary_value_holdout"] = self.monetary_value_holdout
        renamed["duration_holdout"] = np.full(len(self.frequency_holdout),
                                              self.duration_holdout)
        return _frame(renamed, backend)


@attrs.frozen(eq=False)
class CustomerBase:
    """Many customers' purchase summaries as aligned numpy arrays (read-only).

    Build one with :meth:`from_transactions` (from a transaction log) or :meth:`from_summary`
    (from columns already summarised, such as a published data set).
    """

    customer_id: NDArray[Any]
    frequency: _IntArray
    recency: _FloatArray
    T: _FloatArray
    monetary_value: _FloatArray
    time_unit: str
    total_spend: _FloatArray | None = None
    first_purchase: NDArray[np.datetime64] | None = None
    freq: str | None = None
    observation_end: np.datetime64 | None = None
    history: PurchaseHistory | None = None
    time_zone: str | None = None

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_transactions(
        cls,
        data: object,
        *,
        customer_id: str = "customer_id",
        datetime: str = "at",
        monetary_value: str | None = None,
        freq: str = "D",
        time_unit: str | None = None,
        observation_end: dt.datetime | dt.date | str | np.datetime64 | None = None,
        datetime_format: str | None = None,
        margin: str | None = None,
    ) -> CustomerBase:
        """Summarise a transaction log, one row per customer.

        Parameters
        ----------
        data:
            A pandas, polars or Dask frame, a pyarrow table (anything narwhals reads), or a list
            of :class:`crmcore.Transaction` (whose amounts are then always used).
        customer_id, datetime, monetary_value:
            Column names. Without ``monetary_value`` spend is unknown: ``monetary_value`` and
            ``history.amount`` are NaN and ``total_spend`` is ``None``, so no spend model or
            value part can take it for zero.
        freq:
            Period purchases are bucketed into: ``"D"``, ``"W"`` (Monday to Sunday), ``"M"``,
            ``"Q"`` or ``"Y"``. Purchases in one period count once.
        time_unit:
            Unit of ``recency`` and ``T`` (default ``freq``): ``freq="D", time_unit="W"`` gives
            daily precision expressed in weeks. Days and weeks convert into each other, as do
            months, quarters and years; days into months do not (no hidden day counts).
        observation_end:
            End of the observation window (default: the last purchase). A purchase in a later
            period raises :class:`crmcore.LateTransactionError`; split a log with
            :meth:`calibration_holdout` instead.
        datetime_format:
            ``strptime`` format for date strings that are not ISO 8601, or for integer dates
            such as ``19970101`` (``"%Y%m%d"``).
        margin:
            Column of contribution margin per transaction (revenue minus variable cost; may be
            negative). Summed per period into ``history.margin`` for historical value. With a
            list of :class:`crmcore.Transaction`, pass any non-``None`` value (e.g.
            ``"margin"``) to use ``Transaction.margin``, which every transaction must then have.

        Raises
        ------
        UnknownColumnError, EmptyDataError, DateError, TimeZoneError, InvalidValueError,
        LateTransactionError, TimeUnitError
            Each names the column, the offending rows (0-based positions) and what was
            expected. Nothing is dropped silently.
        """
        check_unit(freq, argument="freq")
        unit = freq if time_unit is None else time_unit
        unit_factor(freq, unit)  # refuse an inexact unit before reading the data
        from crmcore import _lazy

        if isinstance(data, str | os.PathLike):
            data = _lazy.scan_parquet(data)
        if _lazy.is_lazy(data):  # summarised inside its engine; only period rows come back
            rows = _lazy.period_rows(data, customer_id=customer_id, datetime=datetime,
                                     monetary_value=monetary_value, freq=freq,
                                     datetime_format=datetime_format, margin=margin)
            return cls._from_period_rows(rows, freq=freq, time_unit=unit,
                                         observation_end=observation_end, datetime=datetime,
                                         customer_id=customer_id)
        columns = read_transactions(
            data, customer_id=customer_id, datetime=datetime, monetary_value=monetary_value,
            datetime_format=datetime_format, margin=margin,
        )
        return cls._from_columns(columns, freq=freq, time_unit=unit,
                                 observation_end=observation_end, datetime=datetime,
                                 customer_id=customer_id,
                                 monetary_value=monetary_value or "monetary_value",
                                 margin=margin)

    @classmethod
    def _from_columns(
        cls,
        columns: TransactionColumns,
        *,
        freq: str,
        time_unit: str,
        observation_end: dt.datetime | dt.date | str | np.datetime64 | None,
        datetime: str = "at",
        customer_id: str = "customer_id",
        monetary_value: str | None = "monetary_value",
        margin: str | None = "margin",
    ) -> CustomerBase:
        """The summary of checked columns (the part of :meth:`from_transactions` after
        reading); the column names only name the columns in messages."""
        unit = time_unit
        factor = unit_factor(freq, unit)
        ids, times = columns.customer_id, columns.at
        # Without an amount column spend is unknown, not zero: NaN keeps it from passing for
        # a number (spend models refuse it by name; total_spend becomes None).
        amounts = columns.amount if columns.amount is not None else np.full(len(ids), np.nan)
        periods = period_index(times, freq)

        if observation_end is None:
            end = times.max()
        else:
            end = local_datetime64(observation_end, zone=columns.time_zone,
                                   field="observation_end")
        end_period = int(period_index(np.asarray([end]), freq)[0])
        late = np.flatnonzero(periods > end_period)
        if len(late):
            raise LateTransactionError(
                f"column {datetime!r} has {len(late)} purchase(s) in periods after the "
                f"observation end {np.datetime_as_string(end, unit='D')} at "
                f"{describe_rows(late)}; use calibration_holdout() to split a log, or a later "
                "observation_end",
                field=datetime, rows=late.tolist(),
            )

        try:
            unique_ids, row = (_integer_codes(ids) if ids.dtype.kind in "iu" else
                               np.unique(ids, return_inverse=True))
        except TypeError as exc:
            raise DataError(f"column {customer_id!r} holds ids that cannot be ordered: {exc}",
                            field=customer_id) from exc
        row = row.reshape(-1).astype(np.int64, copy=False)  # a fresh array: ours to change
        n = len(unique_ids)

        # One sort on a combined (customer, period) key, stable: within a key the log's order
        # (so amounts are summed in the order of the log).
        lowest = int(periods.min())
        span = int(periods.max()) - lowest + 1
        key = row  # row is this function's own copy: the key is built in place
        key *= span
        key += periods
        key -= lowest
        del row, periods  # only the key from here on (memory: a log has many rows)
        order, key = _stable_order(key, n * span)
        new_entry = np.ones(len(order), dtype=bool)
        np.not_equal(key[1:], key[:-1], out=new_entry[1:])
        starts = np.flatnonzero(new_entry)
        del new_entry
        entry_key = key[starts]
        del key
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(entry_key // span, minlength=n), out=indptr[1:])
        bounds = np.append(starts, len(order))  # entry j is rows bounds[j]:bounds[j + 1]
        history = PurchaseHistory(
            indptr=indptr,
            period=entry_key % span + lowest,
            count=np.diff(bounds).astype(np.int64, copy=False),
            amount=np.add.reduceat(amounts[order], starts),
            freq=freq,
            margin=None if columns.margin is None else np.add.reduceat(columns.margin[order],
                                                                       starts),
        )
        _require_finite_sums(history, order, bounds, names={
            "monetary_value": None if columns.amount is None else monetary_value,
            "margin": margin})
        # Each customer's first purchase time: the earliest of their purchases (all in their
        # first period's entry: periods rise with time).
        first_purchase = _segment_min(times[order], bounds[indptr[:-1]], bounds[indptr[1:]])
        return cls._from_history(
            unique_ids, history, end_period=end_period, time_unit=unit, factor=factor,
            first_purchase=first_purchase, observation_end=end, time_zone=columns.time_zone,
        )

    @classmethod
    def _from_period_rows(
        cls,
        rows: Any,
        *,
        freq: str,
        time_unit: str,
        observation_end: dt.datetime | dt.date | str | np.datetime64 | None,
        datetime: str = "at",
        customer_id: str = "customer_id",
    ) -> CustomerBase:
        """The summary of per-(customer, period) rows (:class:`crmcore._lazy.PeriodRows`)
        aggregated by an engine: the same base as :meth:`_from_columns` on the raw log."""
        factor = unit_factor(freq, time_unit)
        end = rows.last.max() if observation_end is None else local_datetime64(
            observation_end, zone=rows.time_zone, field="observation_end")
        end_period = int(period_index(np.asarray([end]), freq)[0])
        late = np.flatnonzero(rows.period > end_period)
        if len(late):
            customers = np.unique(rows.customer_id[late])
            raise LateTransactionError(
                f"column {datetime!r} has purchases in periods after the observation end "
                f"{np.datetime_as_string(end, unit='D')} (customers "
                f"{describe_rows(customers.tolist(), noun='id')}); use calibration_holdout() "
                "to split a log, or a later observation_end",
                field=datetime, rows=customers.tolist(),
            )
        try:
            unique_ids, row = np.unique(rows.customer_id, return_inverse=True)
        except TypeError as exc:
            raise DataError(f"column {customer_id!r} holds ids that cannot be ordered: {exc}",
                            field=customer_id) from exc
        row = row.reshape(-1).astype(np.int64)
        order = np.lexsort((rows.period, row))
        indptr = np.searchsorted(row[order], np.arange(len(unique_ids) + 1)).astype(np.int64)
        history = PurchaseHistory(
            indptr=indptr, period=rows.period[order], count=rows.count[order],
            amount=rows.amount[order], freq=freq,
            margin=None if rows.margin is None else rows.margin[order],
        )
        first_purchase = rows.first[order][indptr[:-1]]
        return cls._from_history(
            unique_ids, history, end_period=end_period, time_unit=time_unit, factor=factor,
            first_purchase=first_purchase, observation_end=end, time_zone=rows.time_zone,
        )

    @classmethod
    def _from_history(
        cls,
        customer_id: NDArray[Any],
        history: PurchaseHistory,
        *,
        end_period: int,
        time_unit: str,
        factor: float,
        first_purchase: NDArray[np.datetime64],
        observation_end: np.datetime64,
        time_zone: str | None = None,
    ) -> CustomerBase:
        indptr = history.indptr
        n_periods = np.diff(indptr)
        first = history.period[indptr[:-1]]
        last = history.period[indptr[1:] - 1]
        frequency = n_periods - 1
        totals = np.add.reduceat(history.amount, indptr[:-1])
        first_amount = history.amount[indptr[:-1]]
        spend_known = not np.isnan(history.amount).any()
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary = np.where(frequency > 0, (totals - first_amount) / np.maximum(frequency, 1),
                                0.0 if spend_known else np.nan)
        return cls(
            customer_id=_frozen_array(customer_id, customer_id.dtype),
            frequency=_frozen_array(frequency, np.int64),
            recency=_frozen_array((last - first) * factor, np.float64),
            T=_frozen_array((end_period - first) * factor, np.float64),
            monetary_value=_frozen_array(monetary, np.float64),
            time_unit=time_unit,
            total_spend=_frozen_array(totals, np.float64) if spend_known else None,
            first_purchase=_frozen_array(first_purchase, "datetime64[us]"),
            freq=history.freq,
            observation_end=observation_end,
            history=history,
            time_zone=time_zone,
        )

    @classmethod
    def from_summary(
        cls,
        customer_id: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike | None = None,
        *,
        time_unit: str = "D",
    ) -> CustomerBase:
        """A base from columns already summarised (one row per customer).

        Raises
        ------
        DuplicateCustomerError
            An id appears more than once (all duplicated ids are named).
        InvalidValueError
            Lengths differ; a value is NaN, infinite or negative; ``frequency`` is not a whole
            number; ``recency > T``; or ``recency > 0`` with no repeat purchase.
        """
        check_unit(time_unit, argument="time_unit")
        ids = customer_ids(customer_id, "customer_id")  # the rule of from_transactions
        n = len(ids)
        if n == 0:
            raise EmptyDataError("the summary has no customers", field="customer_id")
        unique, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            dupes = unique[counts > 1]
            raise DuplicateCustomerError(
                f"customer_id holds duplicates: {describe_rows(dupes.tolist(), noun='id')} appear "
                "more than once; a summary has one row per customer",
                field="customer_id", rows=dupes.tolist(),
            )
        arrays = check_summary(frequency, recency, T, monetary_value, n=n)
        order = np.argsort(ids, kind="stable")
        return cls(
            customer_id=_frozen_array(ids[order], ids.dtype),
            frequency=_frozen_array(arrays[0][order], np.int64),
            recency=_frozen_array(arrays[1][order], np.float64),
            T=_frozen_array(arrays[2][order], np.float64),
            monetary_value=_frozen_array(arrays[3][order], np.float64),
            time_unit=time_unit,
        )

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.customer_id)

    def __repr__(self) -> str:
        span = "" if self.observation_end is None else (
            f", observation_end={np.datetime_as_string(self.observation_end, unit='D')}")
        return (f"<CustomerBase: {len(self)} customers, time_unit={self.time_unit!r}, "
                f"freq={self.freq!r}{span}>")

    def index_of(self, customer_ids: ArrayLike) -> _IntArray:
        """Rows of the given customer ids; raises naming any id not in the base.

        An id of another type than the base's (``"1"`` in a base of integer ids, ``None``) is
        simply not in the base.
        """
        wanted = _id_query(customer_ids)
        flat = wanted.reshape(-1)
        base_ids = self.customer_id
        if len(flat) == 0:
            return np.zeros(wanted.shape, dtype=np.int64)
        if _comparable(base_ids, flat):
            rows = np.clip(np.searchsorted(base_ids, flat), 0, max(len(self) - 1, 0))
            found = (base_ids[rows] == flat) if len(self) else np.zeros(len(flat), bool)
        else:  # mixed or foreign types: look each up by (kind, value), never by ordering
            lookup = {_id_key(v): i for i, v in enumerate(base_ids.tolist())}
            hits = [lookup.get(_id_key(v), -1) for v in flat.tolist()]
            rows = np.asarray(hits, dtype=np.int64)
            found = rows >= 0
        if not np.all(found):
            missing = [v.item() if isinstance(v, np.generic) else v
                       for v in flat[~np.asarray(found, dtype=bool)]]
            raise DataError(
                "customer ids not in the base: " + describe_rows(missing, noun="id"),
                field="customer_id", rows=missing,
            )
        return np.asarray(rows, dtype=np.int64).reshape(wanted.shape)

    def take(self, rows: ArrayLike) -> CustomerBase:
        """The customers at ``rows`` (positions or a boolean mask), kept in id order.

        Raises
        ------
        InvalidValueError
            Positions out of range or not whole numbers, or a mask of the wrong length.
        """
        index = _positions_of(rows, len(self))

        def pick(a: NDArray[Any]) -> NDArray[Any]:
            return _frozen_array(a[index], a.dtype)

        def pick_optional(a: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if a is None else pick(a)

        return attrs.evolve(
            self,
            customer_id=pick(self.customer_id),
            frequency=pick(self.frequency),
            recency=pick(self.recency),
            T=pick(self.T),
            monetary_value=pick(self.monetary_value),
            total_spend=pick_optional(self.total_spend),
            first_purchase=pick_optional(self.first_purchase),
            history=None if self.history is None else self.history.take(index),
        )

    def _columns(self) -> dict[str, NDArray[Any]]:
        columns: dict[str, NDArray[Any]] = {
            "customer_id": self.customer_id,
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
            "monetary_value": self.monetary_value,
        }
        if self.total_spend is not None:
            columns["total_spend"] = self.total_spend
        if self.first_purchase is not None:
            columns["first_purchase"] = self.first_purchase
        return columns

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The summary as a data frame of ``backend`` (``"pandas"``, ``"polars"`` or
        ``"pyarrow"``), one row per customer."""
        return _frame(self._columns(), backend)

    # -- splitting -------------------------------------------------------------------------

    def calibration_holdout(
        self, split_at: dt.datetime | dt.date | str | np.datetime64
    ) -> CalibrationHoldout:
        """Split at ``split_at``: a calibration base observed up to the split, and each of its
        customers' purchases after it (same numbers as lifetimes'
        ``calibration_and_holdout_data``)."""
        if self.history is None or self.freq is None or self.observation_end is None:
            raise DataError(
                "calibration_holdout needs the purchase history: build the base with "
                "CustomerBase.from_transactions",
                field="history",
            )
        split = local_datetime64(split_at, zone=self.time_zone, field="split_at")
        split_period = int(period_index(np.asarray([split]), self.freq)[0])
        end_period = int(period_index(np.asarray([self.observation_end]), self.freq)[0])
        if split_period >= end_period:
            raise InvalidValueError(
                f"split_at ({np.datetime_as_string(split, unit='D')}) must fall in a period "
                "before the observation end "
                f"({np.datetime_as_string(self.observation_end, unit='D')})",
                field="split_at",
            )
        history = self.history
        first = history.period[history.indptr[:-1]]
        keep = np.flatnonzero(first <= split_period)
        if len(keep) == 0:
            raise EmptyDataError(
                f"no customer made a first purchase by split_at "
                f"({np.datetime_as_string(split, unit='D')})",
                field="split_at",
            )
        kept = history.take(keep)
        factor = unit_factor(self.freq, self.time_unit)
        assert self.first_purchase is not None
        calibration = CustomerBase._from_history(
            self.customer_id[keep], kept.until(split_period), end_period=split_period,
            time_unit=self.time_unit, factor=factor,
            first_purchase=self.first_purchase[keep], observation_end=split,
            time_zone=self.time_zone,
        )
        after = kept.period > split_period
        owner = kept.customer_of_entry()
        frequency_holdout = np.bincount(owner[after], minlength=len(keep)).astype(np.int64)
        value_holdout = np.bincount(owner[after], weights=kept.amount[after],
                                    minlength=len(keep))
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary_holdout = np.where(frequency_holdout > 0,
                                        value_holdout / np.maximum(frequency_holdout, 1), 0.0)
        if np.isnan(kept.amount).any():  # spend unknown (no amount column), not zero
            monetary_holdout = np.full(len(keep), np.nan)
        return CalibrationHoldout(
            calibration=calibration,
            frequency_holdout=_frozen_array(frequency_holdout, np.int64),
            monetary_value_holdout=_frozen_array(monetary_holdout, np.float64),
            duration_holdout=float((end_period - split_period) * factor),
            n_excluded=len(self) - len(keep),
            history=kept,
        )


def check_summary(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike | None = None,
    *,
    n: int | None = None,
) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray]:
    """Check BTYD summary columns and return them as float arrays.

    Models call this on the arrays they are given, so ``fit(frequency, recency, T)`` and
    ``CustomerBase.from_summary`` refuse the same bad input with the same messages.
    """
    named = {"frequency": frequency, "recency": recency, "T": T}
    if monetary_value is not None:
        named["monetary_value"] = monetary_value
    arrays = {name: as_column(values, name) for name, values in named.items()}
    length = n if n is not None else len(arrays["frequency"])
    for name, array in arrays.items():
        as_column(array, name, n=length)
        require_finite(array, name)
        require_non_negative(array, name)
    freq_, rec, t = arrays["frequency"], arrays["recency"], arrays["T"]
    bad = np.flatnonzero(freq_ != np.round(freq_))
    if len(bad):
        raise InvalidValueError(
            f"frequency must count whole repeat purchases; not whole at {describe_rows(bad)}",
            field="frequency", rows=bad.tolist(),
        )
    bad = np.flatnonzero(freq_ >= 2.0**53)  # beyond, floats no longer count one by one
    if len(bad):
        raise InvalidValueError(
            f"frequency is too large to count purchases exactly (at least 2**53) at "
            f"{describe_rows(bad)} (first: {float(freq_[bad[0]])!r})",
            field="frequency", rows=bad.tolist(),
        )
    bad = np.flatnonzero(rec > t * (1 + 1e-12))
    if len(bad):
        raise InvalidValueError(
            f"recency exceeds T at {describe_rows(bad)} (first: recency={rec[bad[0]]!r}, "
            f"T={t[bad[0]]!r}); the last purchase cannot come after the observation end",
            field="recency", rows=bad.tolist(),
        )
    bad = np.flatnonzero((freq_ == 0) & (rec != 0))
    if len(bad):
        raise InvalidValueError(
            f"recency must be 0 when frequency is 0; it is not at {describe_rows(bad)}",
            field="recency", rows=bad.tolist(),
        )
    money = arrays.get("monetary_value", np.zeros(length))
    return freq_, rec, t, money


def _require_finite_sums(history: PurchaseHistory, order: _IntArray, bounds: _IntArray, *,
                         names: Mapping[str, str | None]) -> None:
    """Sums of finite amounts (or margins) that overflow to infinity are refused, naming the
    transactions of the customers concerned, rather than stored as inf."""
    customer_totals = [] if names["monetary_value"] is None else [
        (names["monetary_value"], history.amount)]
    if history.margin is not None:
        customer_totals.append((names["margin"] or "margin", history.margin))
    owner = history.customer_of_entry()
    for field, per_period in customer_totals:
        totals = np.bincount(owner, weights=per_period, minlength=history.n_customers)
        bad = np.flatnonzero(~np.isfinite(totals))
        if len(bad):
            # the log's rows of those customers: their entries' rows in the sorted order
            indptr = history.indptr
            rows = np.sort(np.concatenate([
                order[bounds[indptr[c]]:bounds[indptr[c + 1]]] for c in bad]))
            raise InvalidValueError(
                f"{field}: the amounts of {len(bad)} customer(s) sum beyond the largest "
                f"float ({np.finfo(np.float64).max:.3g}) at {describe_rows(rows)}; record "
                "amounts in a larger currency unit (thousands, say)",
                field=field, rows=rows.tolist(),
            )


def _id_query(values: ArrayLike) -> NDArray[Any]:
    """Ids asked for, without numpy turning ``[1, "a"]`` into strings."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, list | tuple) and not any(
            isinstance(v, list | tuple | np.ndarray) for v in values):
        array = np.empty(len(values), dtype=object)
        array[:] = values
        kinds = {type(v) for v in values}
        if kinds and kinds <= {int}:
            try:
                return np.asarray(values, dtype=np.int64)
            except OverflowError:
                return array
        return array
    return np.asarray(values)


def _comparable(base_ids: NDArray[Any], wanted: NDArray[Any]) -> bool:
    """Whether a sorted search may compare the two arrays directly."""
    if base_ids.dtype.kind in "iu":
        return wanted.dtype.kind == base_ids.dtype.kind
    if wanted.dtype.kind == "U":
        return True
    return wanted.dtype == object and all(isinstance(v, str) for v in wanted.tolist())


def _id_key(value: object) -> tuple[str, object]:
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return ("int", int(value))
    return ("other", id(value))  # found nowhere


def _positions_of(rows: ArrayLike, n: int) -> _IntArray:
    """Sorted unique positions from positions or a boolean mask, or an error naming them."""
    array = np.asarray(rows)
    if array.dtype == bool:
        if array.shape != (n,):
            raise InvalidValueError(
                f"rows: a boolean mask needs one entry per customer ({n}), got shape "
                f"{array.shape}", field="rows")
        return np.flatnonzero(array).astype(np.int64)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise InvalidValueError(
            f"rows: expected positions (whole numbers) or a boolean mask, got {array.dtype} "
            f"of shape {array.shape}", field="rows")
    outside = np.flatnonzero((array < -n) | (array >= n))
    if len(outside):
        raise InvalidValueError(
            f"rows: positions {array[outside][:5].tolist()} are outside the base's "
            f"{n} customers", field="rows", rows=array[outside].tolist())
    return np.unique(np.where(array < 0, array + n, array)).astype(np.int64)


def _segment_min(values: NDArray[np.datetime64], starts: _IntArray, stops: _IntArray
                 ) -> NDArray[np.datetime64]:
    """Minimum of ``values[starts[i]:stops[i]]`` for each i (non-empty, ascending segments).
    Segments that tile the array (each stop the next start, the last the end) take one
    ``reduceat`` over the starts, on a view of the values."""
    as_int = values.view(np.int64)
    if len(starts) and int(stops[-1]) == len(values) and np.array_equal(starts[1:], stops[:-1]):
        mins = np.minimum.reduceat(as_int, starts)
    else:
        as_int = np.append(as_int, 0)  # a sentinel so a stop may equal len
        bounds = np.empty(2 * len(starts), dtype=np.int64)
        bounds[0::2], bounds[1::2] = starts, stops
        mins = np.minimum.reduceat(as_int, bounds)[0::2]
    result: NDArray[np.datetime64] = mins.view(values.dtype)
    return result


def _stable_order(key: _IntArray, n_keys: int) -> tuple[_IntArray, _IntArray]:
    """``(order, key[order])`` with ``order = np.argsort(key, kind="stable")``, for integer
    keys (int64, overwritten) in ``[0, n_keys)``. When a key and a row number fit in 63 bits
    together they are packed into one integer and sorted by value (several times faster than
    an argsort, and the sorted keys come out of the same array)."""
    n = len(key)
    index_bits = max(1, int(n - 1).bit_length())
    if n == 0 or int(max(n_keys - 1, 1)).bit_length() + index_bits > 63:
        order: _IntArray = np.argsort(key, kind="stable")
        return order, key[order]
    packed = key
    packed <<= index_bits
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    order = packed & ((1 << index_bits) - 1)
    packed >>= index_bits
    return order, packed
