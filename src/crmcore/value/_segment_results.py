"""What a segmentation scheme works with and returns: splits, checked columns, results.

How a column is cut into "low" and "high" is the caller's choice, through :class:`Split`:
by the median, the mean, a quantile, or an absolute threshold. A customer is *high* when the
value lies strictly above a median, mean or quantile cut-off (so a block of tied values at the
cut-off goes wholly to *low*, and a column of equal values is all *low*), and when it is at or
above an absolute threshold (a tier is "reached", as with a bank's card tiers).

A scheme returns a :class:`Segmentation`: each customer's class plus counts, each class's
share of customers and of value, and the Pareto view (the share of value held by the top
fifth of customers); RFM scoring returns :class:`RFMScores`. The input checks shared by the
schemes (numeric, one value per customer, finite) are here too.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Hashable, Mapping
from typing import Any, Generic, Literal, TypeVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._errors import EmptyDataError, InvalidValueError, describe_rows
from crmcore._strategies import Strategy
from crmcore.value._segments import Segment

__all__ = ["RFMScores", "SegmentRow", "Segmentation", "Split"]

_FloatArray = NDArray[np.float64]
_BoolArray = NDArray[np.bool_]
L = TypeVar("L", bound=Hashable)


# -- splitting a column -----------------------------------------------------------------------


SplitMethod = Literal["median", "mean", "quantile", "threshold"]


def _check_at(instance: Split, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if instance.method == "quantile":
        if value is None or not 0.0 < value < 1.0:
            raise InvalidValueError(f"Split.quantile needs 0 < q < 1, got {value!r}",
                                    field="q")
    elif instance.method == "threshold":
        if value is None or not math.isfinite(value):
            raise InvalidValueError(f"Split.threshold needs a finite number, got {value!r}",
                                    field="threshold")
    elif value is not None:
        raise InvalidValueError(f"Split.{instance.method} takes no value, got {value!r}",
                                field="at")


@attrs.frozen
class Split:
    """How to cut one column into low and high.

    Build one with :meth:`median`, :meth:`mean`, :meth:`quantile` or :meth:`threshold`; a plain
    number given where a ``Split`` is expected is taken as a threshold. A value is high when it
    lies strictly above a median, mean or quantile cut-off, and when it is at or above a
    threshold.
    """

    method: SplitMethod
    at: float | None = attrs.field(default=None, validator=_check_at)

    @classmethod
    def median(cls) -> Split:
        """High means above the median."""
        return cls("median")

    @classmethod
    def mean(cls) -> Split:
        """High means above the mean."""
        return cls("mean")

    @classmethod
    def quantile(cls, q: float) -> Split:
        """High means above the ``q``-quantile (``quantile(0.8)``: roughly the top fifth)."""
        return cls("quantile", float(q))

    @classmethod
    def threshold(cls, value: float) -> Split:
        """High means at or above ``value``."""
        return cls("threshold", float(value))

    def cut_off(self, values: ArrayLike) -> float:
        """The cut-off this split puts on ``values`` (which must not be empty)."""
        array = np.asarray(values, dtype=np.float64)
        if self.method == "threshold":
            assert self.at is not None
            return self.at
        if len(array) == 0:
            raise EmptyDataError(f"cannot take the {self.method} of no values", field="values")
        if self.method == "median":
            return float(np.median(array))
        if self.method == "mean":
            return float(np.mean(array))
        assert self.at is not None
        return float(np.quantile(array, self.at))

    def high(self, values: ArrayLike) -> tuple[_BoolArray, float]:
        """Which ``values`` are high, and the cut-off used."""
        array = np.asarray(values, dtype=np.float64)
        cut = self.cut_off(array)
        mask = array >= cut if self.method == "threshold" else array > cut
        return mask, cut


def _as_split(split: Split | float, *, field: str) -> Split:
    if isinstance(split, Split):
        return split
    if isinstance(split, bool) or not isinstance(split, int | float):
        raise InvalidValueError(
            f"{field} must be a Split or a number (a threshold), got {split!r}", field=field)
    return Split.threshold(float(split))


# -- the result -------------------------------------------------------------------------------


@attrs.frozen
class SegmentRow(Generic[L]):
    """One class in a segmentation's summary.

    ``value`` and ``value_share`` are ``None`` when the segmentation carries no value column, or
    (for the share) when the total value is not positive.
    """

    segment: L
    count: int
    customer_share: float
    value: float | None
    value_share: float | None


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


@attrs.frozen(eq=False)
class Segmentation(Generic[L]):
    """Customers sorted into the classes of one scheme.

    Attributes
    ----------
    scheme:
        Name of the scheme (``"portfolio"``, ``"pyramid"``, ...).
    classes:
        The scheme's classes, in a fixed order.
    codes:
        Per customer, the position of its class in ``classes`` (aligned with the input).
    value:
        The value column behind the value shares (``None`` if there is none).
    cut_offs:
        The cut-off used on each input column, by column name.
    """

    scheme: str
    classes: tuple[L, ...]
    codes: NDArray[np.int16]
    value: _FloatArray | None
    cut_offs: Mapping[str, float]

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        from crmcore._repr import segmentation_text

        return segmentation_text(self)

    def _repr_html_(self) -> str:
        from crmcore._repr import segmentation_html

        return segmentation_html(self)

    def __getitem__(self, row: int) -> L:
        return self.classes[int(self.codes[row])]

    def labels(self) -> NDArray[np.object_]:
        """Each customer's class, as an object array aligned with the input."""
        table = np.empty(len(self.classes), dtype=object)
        table[:] = list(self.classes)
        result: NDArray[np.object_] = table[self.codes]
        return result

    def mask(self, segment: L) -> _BoolArray:
        """Which customers are in ``segment``."""
        return np.asarray(self.codes == self._position(segment))

    def _position(self, segment: L) -> int:
        try:
            return self.classes.index(segment)
        except ValueError:
            raise InvalidValueError(
                f"{segment!r} is not a class of the {self.scheme} scheme; classes: "
                f"{', '.join(map(repr, self.classes))}", field="segment") from None

    def counts(self) -> dict[L, int]:
        """Number of customers in each class (every class listed, zero included)."""
        counts = np.bincount(self.codes, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts, strict=True)}

    def customer_shares(self) -> dict[L, float]:
        """Each class's share of the customers (sums to 1)."""
        n = len(self.codes)
        return {c: k / n for c, k in self.counts().items()}

    def value_totals(self) -> dict[L, float] | None:
        """Total value in each class, or ``None`` without a value column."""
        if self.value is None:
            return None
        totals = np.bincount(self.codes, weights=self.value, minlength=len(self.classes))
        return {c: float(v) for c, v in zip(self.classes, totals, strict=True)}

    def value_shares(self) -> dict[L, float] | None:
        """Each class's share of the total value, or ``None`` without a value column or when
        the total is not positive (a share of a zero or negative total means nothing)."""
        totals = self.value_totals()
        if totals is None:
            return None
        total = math.fsum(totals.values())
        if total <= 0:
            return None
        return {c: v / total for c, v in totals.items()}

    def pareto_share(self, top: float = 0.2) -> float | None:
        """Share of the total value held by the ``top`` fraction of customers by value.

        The top fraction is ``ceil(top * n)`` customers. ``None`` without a value column or when
        the total is not positive.
        """
        if not 0.0 < top <= 1.0:
            raise InvalidValueError(f"top must lie in (0, 1], got {top!r}", field="top")
        if self.value is None:
            return None
        total = float(np.sum(self.value))
        if total <= 0:
            return None
        n = len(self.value)
        k = max(1, math.ceil(top * n - 1e-9))
        largest = np.partition(self.value, n - k)[n - k:]
        return float(np.sum(largest)) / total

    def strategies(self) -> dict[L, tuple[Strategy, ...]]:
        """Each class's strategies (:attr:`Segment.strategies`: its own advice, then the
        course texts' lists attached to it, each with the Chinese term); empty for classes that are
        not :class:`Segment` members."""
        return {c: c.strategies if isinstance(c, Segment) else () for c in self.classes}

    def summary(self) -> list[SegmentRow[L]]:
        """One row per class: count, share of customers, total value and share of value."""
        counts = self.counts()
        shares = self.customer_shares()
        totals = self.value_totals()
        value_shares = self.value_shares()
        return [
            SegmentRow(
                segment=c, count=counts[c], customer_share=shares[c],
                value=None if totals is None else totals[c],
                value_share=None if value_shares is None else value_shares[c],
            )
            for c in self.classes
        ]

    def summary_frame(self, backend: Literal["pandas", "polars", "pyarrow"] = "pandas") -> Any:
        """The summary as a data frame (one row per class; enum classes by member name)."""
        from crmcore._frames import _frame

        rows = self.summary()
        names = [c.name if isinstance(c, enum.Enum) else str(c) for c in self.classes]
        columns: dict[str, NDArray[Any]] = {
            "segment": np.asarray(names, dtype=object),
            "count": np.asarray([r.count for r in rows], dtype=np.int64),
            "customer_share": np.asarray([r.customer_share for r in rows]),
        }
        if self.value is not None:
            columns["value"] = np.asarray([r.value for r in rows], dtype=np.float64)
            columns["value_share"] = np.asarray(
                [np.nan if r.value_share is None else r.value_share for r in rows])
        return _frame(columns, backend)



# -- RFM scores ------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class RFMScores:
    """Quintile scores 1-5 for recency, frequency and monetary value (5 = best: most recent,
    most frequent, highest spending), aligned with the input."""

    recency: NDArray[np.int8]
    frequency: NDArray[np.int8]
    monetary: NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.recency)

    def cells(self) -> NDArray[np.int16]:
        """The RFM cell as a three-digit number (``r * 100 + f * 10 + m``, e.g. 555)."""
        return (self.recency.astype(np.int16) * 100 + self.frequency.astype(np.int16) * 10
                + self.monetary.astype(np.int16))


# -- input checks -----------------------------------------------------------------------------


def _column(values: ArrayLike, *, field: str, n: int | None = None,
            allow_nan: _BoolArray | None = None) -> _FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{field} must be numeric: {exc}", field=field) from exc
    if array.ndim != 1:
        raise InvalidValueError(f"{field} must be one-dimensional, got shape {array.shape}",
                                field=field)
    if len(array) == 0:
        raise EmptyDataError(f"{field} is empty: there are no customers to segment",
                             field=field)
    if n is not None and len(array) != n:
        raise InvalidValueError(f"{field} has {len(array)} values, expected {n} (one per "
                                "customer, aligned with the other columns)", field=field)
    bad = ~np.isfinite(array)
    if allow_nan is not None:
        bad &= ~(allow_nan & np.isnan(array))
    rows = np.flatnonzero(bad)
    if len(rows):
        raise InvalidValueError(
            f"{field} is NaN or infinite at {describe_rows(rows)}; a customer whose value is "
            "unknown cannot be placed: leave such customers out (e.g. where "
            "PotentialValue.estimated is False) or supply the value",
            field=field, rows=rows.tolist())
    return array


def _mask(values: ArrayLike | None, *, field: str, n: int) -> _BoolArray:
    if values is None:
        return np.zeros(n, dtype=bool)
    array = np.asarray(values)
    if array.dtype != np.bool_:
        raise InvalidValueError(f"{field} must be a boolean mask, got dtype {array.dtype}",
                                field=field)
    if array.shape != (n,):
        raise InvalidValueError(f"{field} has shape {array.shape}, expected ({n},)",
                                field=field)
    return array


def _codes(array: NDArray[Any]) -> NDArray[np.int16]:
    return _readonly(np.asarray(array, dtype=np.int16))


def _value_column(value: ArrayLike | None, default: _FloatArray, *, n: int) -> _FloatArray:
    if value is None:
        return _readonly(default.copy())
    return _readonly(_column(value, field="value", n=n))
