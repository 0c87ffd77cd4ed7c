"""Summaries computed inside the engine that holds the log (DuckDB, Dask, polars' lazy frames).

A lazy frame (anything ``narwhals`` reads as a ``LazyFrame``: a DuckDB relation, a Dask
DataFrame, a polars ``LazyFrame``, ...) is never collected whole. The engine checks the columns
(one aggregate query: missing values, negative or non-finite amounts), numbers each purchase's
period and groups the log by ``(customer, period)``; only those per-customer-period rows
(count, amount, margin, first and last time) come back, and :class:`crmcore.CustomerBase` is
built from them exactly as from an eager log. With Dask the group-by runs on the cluster; with
DuckDB out of core, so a log larger than memory becomes a summary without being loaded.

Periods are numbered from the calendar fields (year, month, day), which every engine offers, with
the proleptic Gregorian day count of H. Hinnant's ``days_from_civil`` for days and weeks, so
the numbers equal :func:`crmcore._time.period_index` (tests compare the two).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from crmcore._errors import (
    DataError,
    DateError,
    EmptyDataError,
    InvalidValueError,
    UnknownColumnError,
)
from crmcore._frames import _read_ids, _read_times

__all__ = ["PeriodRows", "is_lazy", "period_rows", "scan_parquet"]

_EPOCH_DAYS = 719_468  # days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar


def is_lazy(data: object) -> bool:
    """Whether narwhals reads ``data`` as a lazy frame (DuckDB, Dask, polars LazyFrame...)."""
    try:
        frame = nw.from_native(cast(Any, data))
    except TypeError:
        return False
    return isinstance(frame, nw.LazyFrame)


def scan_parquet(path: str | os.PathLike[str]) -> Any:
    """A lazy scan of a Parquet file or of every ``*.parquet`` file under a directory.

    DuckDB (embedded, out of core) when installed, else polars' lazy scan, else pyarrow (which
    reads the files into memory).
    """
    location = Path(path)
    if not location.exists():
        raise DataError(f"no Parquet file or directory at {str(location)!r}", field="data")
    source = str(location / "**" / "*.parquet") if location.is_dir() else str(location)
    for backend in ("duckdb", "polars"):
        try:
            return nw.scan_parquet(source, backend=backend).to_native()
        except ModuleNotFoundError:
            continue
    try:
        import pyarrow.dataset as ds
    except ModuleNotFoundError as exc:
        raise DataError("reading Parquet needs duckdb, polars or pyarrow", field="data") from exc
    return ds.dataset(str(location), format="parquet").to_table()


class PeriodRows:
    """One row per (customer, period) with a purchase, as numpy arrays, plus the log's zone."""

    def __init__(self, customer_id: NDArray[Any], period: NDArray[np.int64],
                 count: NDArray[np.int64], amount: NDArray[np.float64],
                 margin: NDArray[np.float64] | None, first: NDArray[np.datetime64],
                 last: NDArray[np.datetime64], time_zone: str | None) -> None:
        self.customer_id = customer_id
        self.period = period
        self.count = count
        self.amount = amount
        self.margin = margin
        self.first = first
        self.last = last
        self.time_zone = time_zone


def _day_number(at: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 from calendar fields (Hinnant's ``days_from_civil``; years >= 0,
    so every integer division below is of non-negative numbers)."""
    year, month, day = at.dt.year(), at.dt.month(), at.dt.day()
    shifted_year = year.cast(nw.Int64) - (month <= 2).cast(nw.Int64)
    era = shifted_year // 400
    year_of_era = shifted_year - era * 400
    month_from_march = nw.when(month > 2).then(month - 3).otherwise(month + 9).cast(nw.Int64)
    day_of_year = (153 * month_from_march + 2) // 5 + day.cast(nw.Int64) - 1
    day_of_era = (year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year)
    return era * 146_097 + day_of_era - _EPOCH_DAYS


def _period(at: nw.Expr, freq: str) -> nw.Expr:
    if freq in ("D", "W"):
        days = _day_number(at)
        # + 3 + 7 * 10**6 keeps the dividend positive (week 0 starts Monday 1969-12-29)
        return days if freq == "D" else (days + 3 + 7_000_000) // 7 - 1_000_000
    months = (at.dt.year().cast(nw.Int64) - 1970) * 12 + at.dt.month().cast(nw.Int64) - 1
    if freq == "M":
        return months
    size = 3 if freq == "Q" else 12
    return (months + size * 1_000_000) // size - 1_000_000


def _as_datetime(frame: Any, column: str, datetime_format: str | None
                 ) -> tuple[Any, nw.Expr, str | None]:
    dtype = frame.collect_schema()[column]
    at = nw.col(column)
    if isinstance(dtype, nw.Datetime):
        zone = dtype.time_zone
        return frame, (at.dt.replace_time_zone(None) if zone is not None else at), zone
    if dtype == nw.Date:
        return frame, at.cast(nw.Datetime("us")), None
    if dtype == nw.String:
        parsed = at.str.to_datetime(format=datetime_format)
        return frame, parsed, None
    raise DateError(
        f"column {column!r} (datetime) has type {dtype}; in a lazy frame it must hold "
        "date-times, dates or strings", field=column)


def period_rows(
    data: object,
    *,
    customer_id: str,
    datetime: str,
    monetary_value: str | None,
    freq: str,
    datetime_format: str | None = None,
    margin: str | None = None,
) -> PeriodRows:
    """Check a lazy log inside its engine and bring back one row per (customer, period)."""
    frame: Any = nw.from_native(data)
    columns = list(frame.collect_schema().names())
    for role, name in (("customer_id", customer_id), ("datetime", datetime),
                       ("monetary_value", monetary_value), ("margin", margin)):
        if name is not None and name not in columns:
            raise UnknownColumnError(name, columns, role=role)
    frame, at, zone = _as_datetime(frame, datetime, datetime_format)
    _check(frame, customer_id=customer_id, datetime=datetime, at=at,
           monetary_value=monetary_value, margin=margin)

    # elementary aggregations of prepared columns (what every engine's group-by accepts)
    prepared = {"__period": _period(at, freq), "__at": at}
    aggregates = [nw.len().alias("__count"), nw.col("__at").min().alias("__first"),
                  nw.col("__at").max().alias("__last")]
    for name, key in ((monetary_value, "__amount"), (margin, "__margin")):
        if name is not None:
            prepared[key] = nw.col(name).cast(nw.Float64)
            aggregates.append(nw.col(key).sum())
    grouped = (frame.with_columns(**prepared)
               .group_by(customer_id, "__period").agg(*aggregates)
               .collect())
    ids = _read_ids(grouped[customer_id], customer_id)
    first, _ = _read_times(grouped["__first"], datetime, None)
    last, _ = _read_times(grouped["__last"], datetime, None)
    n = len(ids)
    amount = (np.asarray(grouped["__amount"].to_numpy(), dtype=np.float64)
              if monetary_value is not None else np.full(n, np.nan))
    margins = (np.asarray(grouped["__margin"].to_numpy(), dtype=np.float64)
               if margin is not None else None)
    return PeriodRows(
        customer_id=ids,
        period=np.asarray(grouped["__period"].to_numpy(), dtype=np.int64),
        count=np.asarray(grouped["__count"].to_numpy(), dtype=np.int64),
        amount=amount, margin=margins, first=first, last=last, time_zone=zone)


def _scalar(value: Any) -> float:
    number = float(0 if value is None else value)
    return 0.0 if np.isnan(number) else number


def _count(condition: nw.Expr) -> nw.Expr:
    """How many rows meet ``condition`` (as integers: DuckDB, through narwhals 2.0, has no sum
    of booleans)."""
    return condition.cast(nw.Int64).sum()


def _check(frame: Any, *, customer_id: str, datetime: str, at: nw.Expr,
           monetary_value: str | None, margin: str | None) -> None:
    """The eager reader's checks as one aggregate query; rows are counted, not listed (a
    lazy or distributed frame has no row positions)."""
    checks = [nw.len().alias("rows"),
              _count(nw.col(customer_id).is_null()).alias("missing_id"),
              _count(at.is_null()).alias("missing_at")]
    for name, role in ((monetary_value, "amount"), (margin, "margin")):
        if name is None:
            continue
        value = nw.col(name).cast(nw.Float64)
        bad = value.is_null() | value.is_nan() | (value.abs() == float("inf"))
        checks.append(_count(bad).alias(f"bad_{role}"))
        if role == "amount":
            checks.append(_count(value < 0).alias("negative_amount"))
    result = frame.select(*checks).collect()
    counts = {name: _scalar(result[name].to_list()[0]) for name in result.columns}
    if counts["rows"] == 0:
        raise EmptyDataError("the transaction log has no rows", field="data")
    if counts["missing_id"]:
        raise InvalidValueError(
            f"column {customer_id!r} (customer_id) is missing in {counts['missing_id']:.0f} "
            "rows", field=customer_id)
    if counts["missing_at"]:
        raise DateError(
            f"column {datetime!r} (datetime) is missing or unparsable in "
            f"{counts['missing_at']:.0f} rows", field=datetime)
    if counts.get("bad_amount"):
        raise InvalidValueError(
            f"column {monetary_value!r} (monetary_value) is missing or not finite in "
            f"{counts['bad_amount']:.0f} rows", field=str(monetary_value))
    if counts.get("negative_amount"):
        raise InvalidValueError(
            f"column {monetary_value!r} (monetary_value) is negative in "
            f"{counts['negative_amount']:.0f} rows; amounts must be >= 0 (record returns apart "
            "from purchases)", field=str(monetary_value))
    if counts.get("bad_margin"):
        raise InvalidValueError(
            f"column {margin!r} (margin) is missing or not finite in "
            f"{counts['bad_margin']:.0f} rows", field=str(margin))
