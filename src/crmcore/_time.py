"""Periods and time units, with no hidden day counts.

Purchases are bucketed into periods of ``freq``; recency and T are reported in ``time_unit``.
Two families of units exist. Fixed-length units (``"D"`` day, ``"W"`` week of 7 days) convert
into each other exactly. Calendar units (``"M"`` month, ``"Q"`` quarter, ``"Y"`` year) convert
into each other exactly but not into days, since months differ in length: asking for a daily
period in months is refused (:class:`crmcore.TimeUnitError`) rather than approximated.

Weeks run Monday to Sunday, as pandas' ``"W"`` periods (and so lifetimes) do.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
from numpy.typing import NDArray

from crmcore._errors import TimeUnitError

__all__ = ["FREQUENCIES", "period_index", "period_start", "to_datetime64", "unit_factor"]

_FIXED: Final = {"D": 1, "W": 7}  # length in days
_CALENDAR: Final = {"M": 1, "Q": 3, "Y": 12}  # length in months
FREQUENCIES: Final = ("D", "W", "M", "Q", "Y")
_NAMES: Final = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
# 1970-01-01 was a Thursday; shifting by 3 days makes week 0 start on Monday 1969-12-29.
_WEEK_SHIFT: Final = 3


def check_unit(unit: str, *, argument: str) -> str:
    """Return ``unit`` if it is one of ``FREQUENCIES``, else raise naming the argument."""
    if unit not in FREQUENCIES:
        raise TimeUnitError(
            f"{argument}={unit!r} is not a period crmcore knows; use one of "
            + ", ".join(f"{u!r} ({_NAMES[u]})" for u in FREQUENCIES)
        )
    return unit


def unit_name(unit: str) -> str:
    """The English name of a unit: ``"W"`` -> ``"week"``."""
    return _NAMES[check_unit(unit, argument="unit")]


def unit_factor(freq: str, time_unit: str) -> float:
    """How many ``time_unit`` one period of ``freq`` lasts (``unit_factor("D", "W") == 1/7``).

    Raises
    ------
    TimeUnitError
        Either is unknown, or they are of different families (days and months), where no
        exact conversion exists.
    """
    check_unit(freq, argument="freq")
    check_unit(time_unit, argument="time_unit")
    if freq in _FIXED and time_unit in _FIXED:
        return _FIXED[freq] / _FIXED[time_unit]
    if freq in _CALENDAR and time_unit in _CALENDAR:
        return _CALENDAR[freq] / _CALENDAR[time_unit]
    raise TimeUnitError(
        f"cannot express periods of freq={freq!r} ({_NAMES[freq]}) in time_unit={time_unit!r} "
        f"({_NAMES[time_unit]}): a {_NAMES[time_unit]} is not a fixed number of "
        f"{_NAMES[freq]}s. Bucket by freq={time_unit!r} instead, or pick a time_unit in the "
        f"same family ({', '.join(_FIXED) if freq in _FIXED else ', '.join(_CALENDAR)})"
    )


def period_index(times: NDArray[np.datetime64], freq: str) -> NDArray[np.int64]:
    """The number of the ``freq`` period each time falls in (consecutive periods differ by 1)."""
    check_unit(freq, argument="freq")
    if freq == "D":
        return times.astype("datetime64[D]").view(np.int64)
    if freq == "W":
        days = times.astype("datetime64[D]").view(np.int64)
        return np.floor_divide(days + _WEEK_SHIFT, 7)
    months = _months(times)
    if freq == "M":
        return months
    if freq == "Q":
        return np.floor_divide(months, 3)
    return np.floor_divide(months, 12)


def _months(times: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """Months since 1970-01 of each time: numpy's calendar conversion, done once per distinct
    day of a log that spans few days compared with its length (a table, then a lookup), else
    per element."""
    if len(times) > 4096 and not np.isnat(times).any():
        days = times.astype("datetime64[D]").view(np.int64)
        low, high = int(days.min()), int(days.max())
        if high - low < len(days) // 4:
            table = np.arange(low, high + 1).astype("datetime64[D]").astype("datetime64[M]")
            result: NDArray[np.int64] = table.astype(np.int64)[days - low]
            return result
    return times.astype("datetime64[M]").astype(np.int64)


def period_start(periods: NDArray[np.int64], freq: str) -> NDArray[np.datetime64]:
    """The first day of each numbered period, inverse of :func:`period_index`."""
    check_unit(freq, argument="freq")
    periods = np.asarray(periods, dtype=np.int64)
    if freq == "D":
        return periods.astype("datetime64[D]")
    if freq == "W":
        return (periods * 7 - _WEEK_SHIFT).astype("datetime64[D]")
    months = periods * {"M": 1, "Q": 3, "Y": 12}[freq]
    return months.astype("datetime64[M]").astype("datetime64[D]")


def to_datetime64(value: dt.datetime | dt.date | str | np.datetime64) -> np.datetime64:
    """A single date or date-time as ``datetime64[us]`` (naive; the caller handles zones)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    result: np.datetime64 = np.datetime64(value, "us")  # type: ignore[call-overload]
    return result
