"""Input checks shared by every package, so a bad column gets the same named error everywhere.

Each helper raises :class:`crmcore.InvalidValueError` naming the field and, where rows are at
fault, the rows (0-based) and the first offending value.
"""

from __future__ import annotations

import numbers
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._errors import DataError, InvalidValueError, PluginError, describe_rows

__all__ = [
    "FRAME_BACKENDS",
    "as_column",
    "as_numeric",
    "check_backend",
    "customer_ids",
    "discount_rate",
    "discount_rates",
    "finite_non_negative",
    "model_output",
    "require_finite",
    "require_non_negative",
]

FRAME_BACKENDS: Final = ("pandas", "polars", "pyarrow")
_INT64_MAX: Final = np.iinfo(np.int64).max
_UINT64_MAX: Final = np.iinfo(np.uint64).max

FloatArray = NDArray[np.float64]


def as_numeric(values: ArrayLike, field: str) -> FloatArray:
    """``values`` as a float array of any shape, or an error naming ``field``."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{field} must be numeric: {exc}", field=field) from exc


def as_column(
    values: ArrayLike, field: str, *, n: int | None = None, scalar: bool = True
) -> FloatArray:
    """``values`` as a one-dimensional float array (one value per customer).

    A scalar becomes a column of one when ``scalar`` is true. With ``n`` the length must be
    ``n``.
    """
    array = as_numeric(values, field)
    if array.ndim == 0 and scalar:
        array = array.reshape(1)
    if array.ndim != 1:
        raise InvalidValueError(f"{field} must be one-dimensional, got shape {array.shape}",
                                field=field)
    if n is not None and len(array) != n:
        raise InvalidValueError(
            f"{field} has {len(array)} values, expected {n} (one per customer)", field=field
        )
    return array


def require_finite(array: FloatArray, field: str, *, advice: str = "") -> None:
    """Refuse NaN and infinite entries, naming the rows (``advice`` is appended)."""
    bad = np.flatnonzero(~np.isfinite(array.reshape(-1)))
    if len(bad):
        raise InvalidValueError(
            f"{field} is NaN or infinite at {describe_rows(bad)}{advice}",
            field=field, rows=bad.tolist(),
        )


def require_non_negative(array: FloatArray, field: str) -> None:
    """Refuse negative entries, naming the rows and the first value."""
    flat = array.reshape(-1)
    bad = np.flatnonzero(flat < 0)
    if len(bad):
        raise InvalidValueError(
            f"{field} is negative at {describe_rows(bad)} (first: {flat[bad[0]]!r})",
            field=field, rows=bad.tolist(),
        )


def finite_non_negative(values: ArrayLike, field: str) -> FloatArray:
    """``values`` as a float array of any shape, finite and ``>= 0``, or an error naming
    ``field`` and the rows (of the flattened array) at fault."""
    array = as_numeric(values, field)
    flat = array.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(flat) | (flat < 0))
    if len(bad):
        raise InvalidValueError(f"{field} must be finite and >= 0; not at {describe_rows(bad)}",
                                field=field, rows=bad.tolist())
    return array


def check_backend(backend: object) -> str:
    """``backend`` if it is a frame library crmcore writes to, else an error naming it."""
    if backend not in FRAME_BACKENDS:
        raise InvalidValueError(
            f"backend={backend!r} is not a frame library crmcore writes to; use one of "
            + ", ".join(map(repr, FRAME_BACKENDS)),
            field="backend",
        )
    return str(backend)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and bool(np.isnan(value)))


def customer_ids(values: ArrayLike, field: str) -> NDArray[Any]:
    """Customer ids as one array: ``int64`` (``uint64`` for ids beyond ``2**63 - 1``) or
    ``object`` holding ``str``, with every id kept exactly as given.

    The one rule for ids everywhere (transaction logs, summaries): all integers or all strings.

    Raises
    ------
    InvalidValueError
        Ids missing (``None``, NaN) at the rows named, or not one-dimensional.
    DataError
        Ids of other types (floats, booleans, dates), integers mixed with strings, or integers
        outside the 64-bit range (rows named).
    """
    if isinstance(values, list | tuple):
        array = np.empty(len(values), dtype=object)  # no guessing of a common type
        array[:] = values
    else:
        array = np.asarray(values)  # numpy arrays, pandas series: their own dtype
    if array.ndim != 1:
        raise InvalidValueError(f"{field} must be one-dimensional, got shape {array.shape}",
                                field=field)
    kind = array.dtype.kind
    if kind == "i":
        return array.astype(np.int64)
    if kind == "u":
        fits = len(array) == 0 or int(array.max()) <= _INT64_MAX
        return array.astype(np.int64 if fits else np.uint64)
    if kind in "US":
        return np.asarray(array.astype(str).tolist(), dtype=object) if len(array) else (
            np.zeros(0, dtype=object))
    if kind == "f":
        missing = np.flatnonzero(np.isnan(array))
        if len(missing):
            raise InvalidValueError(f"{field} is missing at {describe_rows(missing)}",
                                    field=field, rows=missing.tolist())
    if kind != "O":
        raise DataError(
            f"{field} holds {array.dtype} values; customer ids must be integers or strings",
            field=field,
        )
    items = array.tolist()
    missing_rows = [i for i, v in enumerate(items) if _is_missing(v)]
    if missing_rows:
        raise InvalidValueError(f"{field} is missing at {describe_rows(missing_rows)}",
                                field=field, rows=missing_rows)
    ints = [i for i, v in enumerate(items)
            if isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)]
    strs = [i for i, v in enumerate(items) if isinstance(v, str)]
    if len(strs) == len(items):
        return np.asarray(items, dtype=object) if items else np.zeros(0, dtype=object)
    if len(ints) == len(items):
        numbers = [int(v) for v in items]
        low, high = min(numbers), max(numbers)
        if low >= -_INT64_MAX - 1 and high <= _INT64_MAX:
            return np.asarray(numbers, dtype=np.int64)
        if low >= 0 and high <= _UINT64_MAX:
            return np.asarray(numbers, dtype=np.uint64)
        outside = [i for i, v in enumerate(numbers) if not -_INT64_MAX - 1 <= v <= _UINT64_MAX]
        raise DataError(
            f"{field} holds integers outside the 64-bit range at {describe_rows(outside)}; "
            "give such ids as strings",
            field=field, rows=outside,
        )
    kinds = sorted({type(v).__name__ for v in items})
    odd = sorted(set(range(len(items))) - set(ints if len(ints) >= len(strs) else strs))
    what = f"mixes id types ({', '.join(kinds)})" if len(kinds) > 1 else f"holds {kinds[0]} ids"
    raise DataError(
        f"{field} {what}, e.g. at {describe_rows(odd)}; customer ids must be all integers or "
        "all strings",
        field=field, rows=odd,
    )


def model_output(values: object, *, n: int, what: str, plugin: str) -> FloatArray:
    """A model's per-customer output as ``n`` floats, or a :class:`PluginError` naming the
    plugin (``what`` names the method, e.g. ``"BGNBD.p_alive"``)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PluginError(
            f"{what} (plugin {plugin!r}) returned values that are not numbers: {exc}",
            plugin=plugin,
        ) from exc
    if array.shape != (n,):
        raise PluginError(
            f"{what} (plugin {plugin!r}) returned shape {array.shape}; expected one value per "
            f"customer ({n},)",
            plugin=plugin,
        )
    return array


def model_probabilities(values: object, *, n: int, noun: str, plugin: str) -> FloatArray:
    """A value model's per-customer probabilities (``noun``: ``"P(alive)"``, ...) as ``n``
    floats in [0, 1], or a :class:`PluginError` naming the model and the rows out of range. A
    scalar answer for one customer counts as one value."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"value model {plugin} returned {noun} values that are not numbers: "
                          f"{exc}", plugin=plugin) from exc
    array = array.reshape(-1) if array.ndim == 0 else array
    if array.shape != (n,):
        raise PluginError(
            f"value model {plugin} returned {array.shape[0] if array.ndim else 1} {noun} "
            f"values for {n} customers", plugin=plugin)
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0) | (array > 1))
    if len(bad):
        raise PluginError(
            f"value model {plugin} returned {noun} outside [0, 1] or not finite at "
            f"{describe_rows(bad)} (first: {array[bad[0]]!r})", plugin=plugin)
    return array


def discount_rates(values: object, *, per: str = "time_unit", to_infinity: bool = False,
                   field: str = "discount_rate") -> FloatArray:
    """Discount rates by the one rule crmcore has for them: real numbers, finite and ``>= 0``.

    A discount rate is compounded per unit of time (a cash flow ``t`` units ahead is worth
    ``(1 + d)^-t`` today); ``per`` names the unit in messages (``"week"``, ``"period"``).
    With ``to_infinity`` (a value summed over an unbounded future) the rate must also be
    ``> 0``. Booleans and strings are refused, not converted. Returns the rates as a float
    array of the input's shape.

    Raises
    ------
    InvalidValueError
        ``field`` is not a number, not finite, negative, or zero where ``to_infinity``
        (rows named for arrays).
    """
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{field} must be a number (a rate compounded per {per}): "
                                f"{exc}", field=field) from exc
    kind = raw.dtype.kind
    real = kind in "iuf" or (kind == "O" and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in raw.reshape(-1)))
    if not real:
        raise InvalidValueError(
            f"{field} must be a number (a rate compounded per {per}), got {values!r}",
            field=field)
    try:
        rates = raw.astype(np.float64)
    except OverflowError:  # a Python int beyond the float range
        rates = np.full(raw.shape, np.inf)
    flat = rates.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(flat) | (flat < 0))
    if len(bad):
        where = f"got {values!r}" if rates.ndim == 0 else (
            f"it is {float(flat[bad[0]])!r} at {describe_rows(bad)}")
        raise InvalidValueError(
            f"{field} must be a finite number >= 0 (a rate compounded per {per}); {where}",
            field=field, rows=() if rates.ndim == 0 else bad.tolist())
    zero = np.flatnonzero(flat == 0) if to_infinity else np.zeros(0, dtype=np.int64)
    if len(zero):
        where = "" if rates.ndim == 0 else f" (0 at {describe_rows(zero)})"
        raise InvalidValueError(
            f"{field} must be > 0 for a value summed to infinity{where}: undiscounted, the sum "
            f"has no limit (a rate compounded per {per}); give a finite horizon or a rate > 0",
            field=field, rows=() if rates.ndim == 0 else zero.tolist())
    return rates


def discount_rate(value: object, *, per: str = "time_unit", to_infinity: bool = False,
                  field: str = "discount_rate") -> float:
    """One discount rate by the rule of :func:`discount_rates`, as a float; an array is
    refused."""
    try:
        shape: object = np.shape(value)  # type: ignore[call-overload]
    except ValueError:  # nested sequences of different lengths
        shape = "ragged"
    if shape != ():
        raise InvalidValueError(
            f"{field} must be a single number (a rate compounded per {per}), got shape "
            f"{shape}", field=field)
    return float(discount_rates(value, per=per, to_infinity=to_infinity, field=field))
