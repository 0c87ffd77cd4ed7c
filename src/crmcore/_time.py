"""Periods and time units, with no hidden day counts.

Purchases are bucketed into periods of ``freq``; recency and T are reported in ``time_unit``.
Two families of units exist. Fixed-length units (``"D"`` day, ``"W"`` week of 7 days) convert
into each other exactly. Calendar units (``"M"`` month, ``"Q"`` quarter, ``"Y"`` year) convert
into each other exactly but not into days, since months differ in length: asking for a daily
period in months is refused (:class:`crmcore.TimeUnitError`) rather than approximated.

Weeks run Monday to Sunday, as pandas' ``"W"`` periods (and so lifetimes) do.

Time zones follow one rule (see docs/architecture.md): a purchase is dated by its local
wall-clock time in the one zone the data carry (a time-zone-aware column, aware date-times, or
ISO strings with an offset, all alike); data mixing zones or offsets, or aware with naive
values, are refused. A date later given to a base (``observation_end``, ``split_at``) is read in
the data's zone: an aware one is converted into it, a naive one is taken as local time there,
and an aware one for naive data is refused (:func:`local_datetime64`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

import numpy as np
from numpy.typing import NDArray

from crmcore._errors import DateError, TimeUnitError, TimeZoneError

__all__ = [
    "FREQUENCIES",
    "ISO_OFFSET_PATTERN",
    "local_datetime64",
    "period_index",
    "period_start",
    "to_datetime64",
    "unit_factor",
    "zone_info",
    "zone_name",
]

ISO_OFFSET_PATTERN: Final = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d*)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
"""An ISO 8601 date-time string ending in a UTC offset (``...T01:00+05:00``, ``...Z``); the
regular expression is plain enough for Python, polars and pyarrow alike."""
_ISO_OFFSET: Final = re.compile(ISO_OFFSET_PATTERN)
_FIXED_OFFSET: Final = re.compile(r"^(UTC)?([+-])(\d{2}):?(\d{2})$")

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


def zone_name(zone: dt.tzinfo) -> str:
    """The name a zone is kept under: ``"Europe/Berlin"``, ``"UTC"``, ``"UTC+05:00"``."""
    return str(zone)


def zone_info(name: str, *, field: str) -> dt.tzinfo:
    """The time zone a base's data carry, from its name (as :func:`zone_name` gives it, or as
    pandas, polars and pyarrow name zones: ``"UTC"``, ``"+05:00"``, ``"Asia/Shanghai"``)."""
    if name in ("UTC", "utc", "Z"):
        return dt.UTC
    fixed = _FIXED_OFFSET.match(name)
    if fixed is not None:
        _, sign, hours, minutes = fixed.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        return dt.timezone(-offset if sign == "-" else offset)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeZoneError(f"unknown time zone {name!r} in the purchase times",
                            field=field) from exc


def has_offset(text: str) -> bool:
    """Whether an ISO 8601 date-time string ends in a UTC offset."""
    return _ISO_OFFSET.search(text.strip()) is not None


def local_datetime64(
    value: object, *, zone: str | None, field: str
) -> np.datetime64:
    """A date given to a base, as local wall-clock time in the zone of the base's data.

    ``value`` may be a date, a date-time (naive or aware), a ``numpy.datetime64`` or an ISO 8601
    string (with or without an offset). An aware value (or a string with an offset) is
    converted into ``zone``; a naive one is taken as local time in ``zone``.

    Raises
    ------
    DateError
        ``value`` is not a date (``"yesterday"``, a number, ...).
    TimeZoneError
        ``value`` is aware (or has an offset) but the data are naive, so there is no zone to
        convert it into.
    """
    if isinstance(value, str):
        if has_offset(value):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError as exc:
                raise DateError(f"{field}={value!r} is not an ISO 8601 date-time: {exc}",
                                field=field) from exc
        else:
            try:
                parsed: np.datetime64 = np.datetime64(value, "us")
            except ValueError as exc:
                raise DateError(f"{field}={value!r} is not an ISO 8601 date or date-time",
                                field=field) from exc
            if np.isnat(parsed):
                raise DateError(f"{field}={value!r} is not a date", field=field)
            return parsed
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        if zone is None:
            raise TimeZoneError(
                f"{field} is time-zone-aware ({value.isoformat()}) but the purchase times are "
                "naive; give a naive date-time (local time of the data)",
                field=field,
            )
        value = value.astimezone(zone_info(zone, field=field)).replace(tzinfo=None)
    if not isinstance(value, dt.date | np.datetime64):
        raise DateError(f"{field}={value!r} is not a date; give a date, a date-time or an ISO "
                        "8601 string", field=field)
    try:
        result = to_datetime64(value)
    except ValueError as exc:
        raise DateError(f"{field}={value!r} is not a date: {exc}", field=field) from exc
    if np.isnat(result):
        raise DateError(f"{field} is not a date (NaT)", field=field)
    return result
