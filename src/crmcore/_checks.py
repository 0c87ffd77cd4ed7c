"""Input checks shared by every package, so a bad column gets the same named error everywhere.

Each helper raises :class:`crmcore.InvalidValueError` naming the field and, where rows are at
fault, the rows (0-based) and the first offending value.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._errors import InvalidValueError, describe_rows

__all__ = ["as_column", "as_numeric", "require_finite", "require_non_negative"]

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
