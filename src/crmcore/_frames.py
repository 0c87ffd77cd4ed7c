"""Data frames in and out: reading transaction logs, writing result columns.

Reading: any data frame (through narwhals) or a sequence of ``Transaction`` objects becomes
three aligned numpy arrays: customer ids, naive ``datetime64[us]`` times and (optionally)
amounts, after the checks that guarantee nothing downstream meets a missing, unparsable or
negative value. Rows are named by their 0-based position in the input.

Writing: every ``to_frame`` of the library hands its named numpy columns to :func:`_frame`,
which builds a pandas, polars or pyarrow frame through narwhals; nothing else touches a frame
library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from crmcore._checks import check_backend, customer_ids
from crmcore._domain import Transaction
from crmcore._errors import (
    DataError,
    DateError,
    EmptyDataError,
    InvalidValueError,
    TimeZoneError,
    UnknownColumnError,
    describe_rows,
)
from crmcore._time import ISO_OFFSET_PATTERN, has_offset, zone_name

__all__ = ["FrameBackend", "TransactionColumns", "read_transactions"]

FrameBackend = Literal["pandas", "polars", "pyarrow"]


@attrs.frozen(eq=False)
class TransactionColumns:
    """A transaction log as aligned columns."""

    customer_id: NDArray[Any]
    at: NDArray[np.datetime64]
    amount: NDArray[np.float64] | None
    time_zone: str | None
    margin: NDArray[np.float64] | None = None


def read_transactions(
    data: object,
    *,
    customer_id: str,
    datetime: str,
    monetary_value: str | None,
    datetime_format: str | None = None,
    margin: str | None = None,
) -> TransactionColumns:
    """Read and check a transaction log; see :meth:`crmcore.CustomerBase.from_transactions`."""
    if isinstance(data, list | tuple | Iterator):
        return _from_objects(data, with_margin=margin is not None)
    try:
        frame: Any = nw.from_native(data)
    except TypeError as exc:
        raise DataError(
            f"cannot read transactions from a {type(data).__name__}: pass a pandas, polars, "
            "pyarrow or Dask frame, or an iterable of crmcore.Transaction",
            field="data",
        ) from exc
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    columns = list(frame.columns)
    for role, name in (("customer_id", customer_id), ("datetime", datetime),
                       ("monetary_value", monetary_value), ("margin", margin)):
        if name is not None and name not in columns:
            raise UnknownColumnError(name, columns, role=role)
    if len(frame) == 0:
        raise EmptyDataError("the transaction log has no rows", field="data")

    ids = _read_ids(frame[customer_id], customer_id)
    times, zone = _read_times(frame[datetime], datetime, datetime_format)
    amounts = None if monetary_value is None else _read_amounts(frame[monetary_value],
                                                                 monetary_value)
    margins = None if margin is None else _read_margins(frame[margin], margin)
    return TransactionColumns(customer_id=ids, at=times, amount=amounts, time_zone=zone,
                              margin=margins)


def _from_objects(records: Iterable[object], *, with_margin: bool) -> TransactionColumns:
    items = list(records)
    if not items:
        raise EmptyDataError("no transactions given", field="data")
    for position, item in enumerate(items):
        if not isinstance(item, Transaction):
            raise DataError(
                f"item {position} is a {type(item).__name__}, not a crmcore.Transaction",
                field="data", rows=(position,),
            )
    transactions: list[Transaction] = items  # type: ignore[assignment]  # checked just above
    ids = _id_array([t.customer_id for t in transactions], "customer_id")
    times, zone = _python_datetimes([t.at for t in transactions], "at")
    amounts = np.fromiter((t.amount for t in transactions), dtype=np.float64,
                          count=len(transactions))
    margins = None
    if with_margin:
        missing = [i for i, t in enumerate(transactions) if t.margin is None]
        if missing:
            raise InvalidValueError(
                f"Transaction.margin is missing at {describe_rows(missing)}; give every "
                "transaction a margin, or none of them",
                field="margin", rows=missing,
            )
        margins = np.asarray([t.margin for t in transactions], dtype=np.float64)
    return TransactionColumns(customer_id=ids, at=times, amount=amounts, time_zone=zone,
                              margin=margins)


def _id_array(values: list[Any], column: str) -> NDArray[Any]:
    return customer_ids(values, column)


def _refuse_nulls(series: Any, column: str, role: str,
                  error: type[InvalidValueError] | type[DateError]) -> None:
    """One check for a column with missing values in every reader, naming the rows."""
    nulls = _positions(series.is_null())
    if len(nulls):
        raise error(f"column {column!r} ({role}) is missing at {describe_rows(nulls)}",
                    field=column, rows=nulls.tolist())


def _read_ids(series: Any, column: str) -> NDArray[Any]:
    _refuse_nulls(series, column, "customer_id", InvalidValueError)
    dtype = series.dtype
    if dtype.is_integer():  # int64, or uint64 for ids beyond 2**63 - 1: never wrapped
        return customer_ids(np.asarray(series.to_numpy()), column)
    if dtype == nw.String:
        return np.asarray(series.to_numpy(), dtype=object)
    # categoricals keep the type of their categories (integer ids stay integers)
    return _id_array(series.to_list(), column)


def _positions(mask: Any) -> NDArray[np.int64]:
    return np.flatnonzero(np.asarray(mask.to_numpy(), dtype=bool))


def _read_times(
    series: Any, column: str, datetime_format: str | None
) -> tuple[NDArray[np.datetime64], str | None]:
    _refuse_nulls(series, column, "datetime", DateError)
    dtype = series.dtype
    if isinstance(dtype, nw.Datetime):
        zone = dtype.time_zone
        if zone is not None:
            series = series.dt.replace_time_zone(None)  # local wall-clock time in that zone
        # read only from here on: no copy when the column already holds microseconds
        return np.asarray(series.to_numpy()).astype("datetime64[us]", copy=False), zone
    if dtype == nw.Date:
        return np.asarray(series.cast(nw.Datetime("us")).to_numpy()).astype(
            "datetime64[us]"), None
    if dtype == nw.String:
        if datetime_format is None:
            with_offset = _positions(series.str.contains(ISO_OFFSET_PATTERN))
            if len(with_offset):
                return _parse_offset_strings(series.to_list(), with_offset, column)
        return _parse_strings(series.to_list(), column, datetime_format)
    if dtype.is_integer() and datetime_format is not None:
        return _parse_strings([str(v) for v in series.to_list()], column, datetime_format)
    values = series.to_list()
    if all(isinstance(v, dt.datetime | dt.date) for v in values):
        return _python_datetimes(values, column)
    raise DateError(
        f"column {column!r} (datetime) has type {dtype}; expected date-times, dates, or "
        "strings (give datetime_format for non-ISO strings and for integers like 19970101)",
        field=column,
    )


def parse_time_strings(
    values: list[str], column: str, datetime_format: str | None
) -> tuple[NDArray[np.datetime64], str | None]:
    """Purchase times given as text (a CSV file, a string column): ISO 8601 (with or without a
    UTC offset, one rule for both) or ``datetime_format``; returns the local times and the
    data's time zone (``None``: naive)."""
    if datetime_format is None:
        with_offset = np.flatnonzero([has_offset(v) for v in values]).astype(np.int64)
        if len(with_offset):
            return _parse_offset_strings(values, with_offset, column)
    return _parse_strings(values, column, datetime_format)


def _parse_offset_strings(
    values: list[str], with_offset: NDArray[np.int64], column: str
) -> tuple[NDArray[np.datetime64], str | None]:
    """ISO strings with UTC offsets: the same rule as aware date-times (one zone, local time)."""
    if len(with_offset) < len(values):
        naive = np.setdiff1d(np.arange(len(values)), with_offset)
        raise TimeZoneError(
            f"column {column!r} (datetime) mixes strings with a UTC offset "
            f"({describe_rows(with_offset)}, first: {values[with_offset[0]]!r}) and without one "
            f"({describe_rows(naive)}, first: {values[naive[0]]!r}); give every time an offset, "
            "or none",
            field=column, rows=naive.tolist(),
        )
    parsed: list[dt.datetime] = []
    bad: list[int] = []
    for i, v in enumerate(values):
        try:
            parsed.append(dt.datetime.fromisoformat(v.strip()))
        except ValueError:
            bad.append(i)
    if bad:
        raise DateError(
            f"column {column!r} (datetime) cannot be parsed as ISO 8601 at "
            f"{describe_rows(bad)} (first: {values[bad[0]]!r}); give datetime_format",
            field=column, rows=bad,
        )
    return _python_datetimes(parsed, column)


def _parse_strings(
    values: list[str], column: str, datetime_format: str | None
) -> tuple[NDArray[np.datetime64], str | None]:
    if datetime_format is None:
        try:
            return np.asarray(values, dtype="datetime64[us]"), None
        except ValueError:
            bad = [i for i, v in enumerate(values) if not _iso_ok(v)]
            raise DateError(
                f"column {column!r} (datetime) cannot be parsed as ISO 8601 at "
                f"{describe_rows(bad)} (first: {values[bad[0]]!r}); give datetime_format",
                field=column, rows=bad,
            ) from None
    parsed: list[dt.datetime] = []
    bad = []
    for i, v in enumerate(values):
        try:
            parsed.append(dt.datetime.strptime(v, datetime_format))
        except ValueError:
            bad.append(i)
    if bad:
        raise DateError(
            f"column {column!r} (datetime) does not match format {datetime_format!r} at "
            f"{describe_rows(bad)} (first: {values[bad[0]]!r})",
            field=column, rows=bad,
        )
    return _python_datetimes(parsed, column)  # %z gives aware times: the same zone rule


def _iso_ok(value: str) -> bool:
    try:
        np.datetime64(value, "us")
    except ValueError:
        return False
    return True


def _python_datetimes(
    values: list[Any], column: str
) -> tuple[NDArray[np.datetime64], str | None]:
    zones: dict[str, list[int]] = {}
    naive: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, dt.datetime) and v.tzinfo is not None:
            zones.setdefault(zone_name(v.tzinfo), []).append(i)
        else:
            naive.append(i)
    if zones and naive:
        aware_rows = next(iter(zones.values()))
        raise TimeZoneError(
            f"column {column!r} (datetime) mixes naive date-times ({describe_rows(naive)}) "
            f"with time-zone-aware ones ({describe_rows(aware_rows)})",
            field=column, rows=naive,
        )
    if len(zones) > 1:
        listing = "; ".join(f"{zone}: {describe_rows(rows)}" for zone, rows in zones.items())
        raise TimeZoneError(
            f"column {column!r} (datetime) mixes time zones or UTC offsets ({listing}); convert "
            "them to one zone first (a named zone such as 'Europe/Berlin' keeps its summer "
            "time), as the local date of a purchase depends on it",
            field=column, rows=[r for rows in zones.values() for r in rows],
        )
    local = [v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in values]
    zone = next(iter(zones)) if zones else None
    return np.asarray(local, dtype="datetime64[us]"), zone


def _read_finite(series: Any, column: str, role: str) -> NDArray[np.float64]:
    """A numeric column, present and finite at every row (the rows at fault named)."""
    if not series.dtype.is_numeric():
        raise InvalidValueError(
            f"column {column!r} ({role}) has type {series.dtype}; expected numbers",
            field=column,
        )
    nulls = _positions(series.is_null())
    values = np.asarray(series.cast(nw.Float64).to_numpy(), dtype=np.float64)
    missing = np.union1d(nulls, np.flatnonzero(~np.isfinite(values)))
    if len(missing):
        raise InvalidValueError(
            f"column {column!r} ({role}) is missing or not finite at {describe_rows(missing)}",
            field=column, rows=missing.tolist(),
        )
    return values


def _read_amounts(series: Any, column: str) -> NDArray[np.float64]:
    values = _read_finite(series, column, "monetary_value")
    negative = np.flatnonzero(values < 0)
    if len(negative):
        raise InvalidValueError(
            f"column {column!r} (monetary_value) is negative at {describe_rows(negative)} "
            f"(first: {values[negative[0]]!r}); amounts must be >= 0 (record returns apart "
            "from purchases)",
            field=column, rows=negative.tolist(),
        )
    return values


def _read_margins(series: Any, column: str) -> NDArray[np.float64]:
    """Margins may be negative (a sale below cost) but must be present and finite."""
    return _read_finite(series, column, "margin")


def _frame(columns: Mapping[str, NDArray[Any]], backend: FrameBackend) -> Any:
    """Write named columns into a native frame of ``backend`` (the ``to_frame`` methods)."""
    check_backend(backend)
    data: dict[str, Sequence[Any] | NDArray[Any]] = {}
    for name, values in columns.items():
        data[name] = values.tolist() if values.dtype == object else np.asarray(values)
    try:
        return nw.from_dict(data, backend=backend).to_native()
    except ModuleNotFoundError as exc:
        raise DataError(f"to_frame(backend={backend!r}) needs {exc.name}, which is not "
                        "installed", field="backend") from exc
