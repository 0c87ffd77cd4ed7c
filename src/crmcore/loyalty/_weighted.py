"""One engine for weighted 0-100 indices over named, scaled inputs.

The loyalty index (eight indicators) and the loyalty-determinant model (four determinants) are
the same computation: min-max normalise each input onto ``[0, 1]`` from its declared scale,
reverse the inputs that count against the goal, and aggregate linearly with weights (the
normalisation and linear aggregation of the OECD/JRC *Handbook on Constructing Composite
Indicators*, Nardo et al. 2008, sections 5.2 and 6.1; simple additive weighting, Hwang & Yoon
1981). Inputs missing for a customer (NaN or ``None``) drop out and the remaining weights are
renormalised for that customer; the share of the full weight that was present is the
customer's *coverage*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from crmcore._errors import (
    DataError,
    EmptyDataError,
    IndicatorScaleError,
    InvalidValueError,
    UnknownIndicatorError,
    describe_rows,
)

__all__ = ["aggregate", "as_mapping", "orient", "read_table", "read_weights", "unwrap_weights"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def read_table(
    values: object, *, known: Sequence[str], field: str, noun: str = "indicator"
) -> tuple[tuple[str, ...], FloatArray]:
    """Named columns as a float matrix ``(n, k)``, NaN where a value is missing.

    ``values`` is a mapping of name -> array (one value per customer) or a data frame that
    narwhals reads (pandas, polars, pyarrow), whose columns are the names.
    """
    columns = as_mapping(values, field=field)
    if not columns:
        raise EmptyDataError(f"{field} is empty; give at least one of: {', '.join(known)}",
                             field=field)
    names: list[str] = []
    arrays: list[FloatArray] = []
    for name, raw in columns.items():
        if name not in known:
            raise UnknownIndicatorError(name, known, field=field, noun=noun)
        try:
            array = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"{field}[{name!r}] must be numeric: {exc}",
                                    field=name) from exc
        if array.ndim == 0:
            array = array.reshape(1)
        if array.ndim != 1:
            raise InvalidValueError(
                f"{field}[{name!r}] must be one-dimensional (one value per customer), got "
                f"shape {array.shape}", field=name,
            )
        bad = np.flatnonzero(np.isinf(array))
        if len(bad):
            raise InvalidValueError(
                f"{field}[{name!r}] is infinite at {describe_rows(bad)}; use NaN for a "
                "missing value", field=name, rows=bad.tolist(),
            )
        names.append(name)
        arrays.append(array)
    n = len(arrays[0])
    for name, array in zip(names, arrays, strict=True):
        if len(array) != n:
            raise InvalidValueError(
                f"{field}[{name!r}] has {len(array)} values but {field}[{names[0]!r}] has "
                f"{n}; give one value per customer", field=name,
            )
    if n == 0:
        raise EmptyDataError(f"{field} holds no customers", field=field)
    return tuple(names), np.column_stack(arrays)


def as_mapping(values: object, *, field: str) -> Mapping[Any, Any]:
    """A mapping as it is; a data frame (narwhals-readable) as column name -> numpy array."""
    if isinstance(values, Mapping):
        return values
    import narwhals.stable.v2 as nw

    try:
        frame: Any = nw.from_native(values, eager_only=True)
    except TypeError:
        raise DataError(
            f"{field} must be a mapping of name -> values or a data frame, got "
            f"{type(values).__name__}", field=field,
        ) from None
    return {str(name): frame[name].to_numpy() for name in frame.columns}


def unwrap_weights(weights: object, *, known: Sequence[str]) -> object:
    """The weights inside a result object (anything with a ``weights`` attribute, such as an
    AHP or entropy result): a mapping by label when its ``labels`` are all known input names,
    else the bare weights. Anything else is returned as it is."""
    if weights is None or isinstance(weights, Mapping) or not hasattr(weights, "weights"):
        return weights
    labels = getattr(weights, "labels", None)
    values = weights.weights
    if labels is not None and len(labels) > 0 and all(label in known for label in labels):
        return dict(zip(labels, np.asarray(values, dtype=np.float64).tolist(), strict=True))
    return values


def read_weights(
    weights: object, given: tuple[str, ...], *, known: Sequence[str], field: str
) -> tuple[FloatArray, dict[str, float]]:
    """Weights of the ``given`` inputs, and the whole weighting scheme normalised to sum 1.

    ``weights`` is ``None`` (equal weights over every known input), a mapping name ->
    weight, an array aligned with ``given``, or an object with a ``weights`` attribute holding
    one of those (such as an AHP result; when its ``labels`` are all input names, the weights
    are read by label). Weights are finite and non-negative; only their ratios matter.
    """
    weights = unwrap_weights(weights, known=known)
    if weights is None:
        scheme = dict.fromkeys(known, 1.0)
    elif isinstance(weights, Mapping):
        scheme = {}
        for name, value in weights.items():
            if name not in known:
                raise UnknownIndicatorError(name, known, field=field)
            scheme[name] = _weight(value, name, field=field)
        missing = [name for name in given if name not in scheme]
        if missing:
            raise InvalidValueError(
                f"{field} gives no weight to {', '.join(map(repr, missing))}; give each input "
                "a weight (0 to leave it out)", field=field,
            )
    else:
        try:
            array = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"{field} must be numeric: {exc}", field=field) from exc
        if array.ndim != 1 or len(array) != len(given):
            raise InvalidValueError(
                f"{field} as an array must hold one weight per input given, in their order "
                f"({', '.join(given)}): expected {len(given)}, got shape {array.shape}",
                field=field,
            )
        scheme = {name: _weight(v, name, field=field) for name, v in zip(given, array.tolist(),
                                                                         strict=True)}
    total = sum(scheme.values())
    if not total > 0:
        raise InvalidValueError(f"{field} are all zero; at least one must be positive",
                                field=field)
    normalised = {name: value / total for name, value in scheme.items()}
    return np.array([normalised[name] for name in given], dtype=np.float64), normalised


def _weight(value: object, name: str, *, field: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidValueError(f"{field}[{name!r}] must be a number, got {value!r}",
                                field=field) from None
    if not np.isfinite(number) or number < 0:
        raise InvalidValueError(f"{field}[{name!r}] must be finite and >= 0, got {value!r}",
                                field=field)
    return number


def orient(
    matrix: FloatArray,
    names: tuple[str, ...],
    scales: Mapping[str, tuple[float, float]],
    favours: Mapping[str, bool],
    *,
    field: str,
) -> FloatArray:
    """Min-max normalise each column from its scale onto ``[0, 1]``, reversing the columns
    that count against the goal; NaN stays NaN (missing).

    Raises
    ------
    IndicatorScaleError
        A present value lies outside its column's scale; the message names the column, the
        scale and the rows.
    """
    low = np.array([scales[name][0] for name in names])
    high = np.array([scales[name][1] for name in names])
    with np.errstate(invalid="ignore"):
        outside = (matrix < low) | (matrix > high)
    if outside.any():
        column = int(np.flatnonzero(outside.any(axis=0))[0])
        name = names[column]
        rows = np.flatnonzero(outside[:, column])
        raise IndicatorScaleError(
            f"{field}[{name!r}] is outside its scale [{low[column]:g}, {high[column]:g}] at "
            f"{describe_rows(rows)} (first: {float(matrix[rows[0], column])!r}); rescale it or "
            f"declare its scale with scales={{{name!r}: (low, high)}}",
            indicator=name, scale=(float(low[column]), float(high[column])), rows=rows.tolist(),
        )
    scores: FloatArray = (matrix - low) / (high - low)
    against = np.array([not favours[name] for name in names])
    scores[:, against] = 1.0 - scores[:, against]
    return scores


def aggregate(
    scores: FloatArray, weights: FloatArray, *, field: str,
    uncovered: Literal["raise", "nan"] = "raise",
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted 0-100 index over the present inputs.

    For customer :math:`i` with oriented scores :math:`s_{ik}`, presence :math:`m_{ik}` and
    weights :math:`w_k` (normalised over the whole scheme),
    :math:`I_i = 100 \\sum_k w_k m_{ik} s_{ik} / \\sum_k w_k m_{ik}`; the contribution of input
    :math:`k` is its term of that sum, and the coverage is :math:`\\sum_k w_k m_{ik}`.

    ``uncovered`` says what happens to a customer with no input of positive weight:
    ``"raise"`` refuses them, ``"nan"`` gives them a NaN index with coverage 0 (and zero
    contributions), which the coverage states openly.

    Returns
    -------
    index, contributions, coverage
        Shapes ``(n,)``, ``(n, k)`` and ``(n,)``.

    Raises
    ------
    InvalidValueError
        With ``uncovered="raise"``, a customer has no input with positive weight.
    """
    present = ~np.isnan(scores)
    covered = present * weights
    coverage = covered.sum(axis=1)
    empty = coverage <= 0
    if uncovered == "raise" and empty.any():
        rows = np.flatnonzero(empty)
        raise InvalidValueError(
            f"{field}: no input with a positive weight is present at {describe_rows(rows)}; "
            "no index can be formed for them",
            field=field, rows=rows.tolist(),
        )
    safe = np.where(empty, 1.0, coverage)
    contributions = 100.0 * np.where(present, scores, 0.0) * covered / safe[:, None]
    # A convex combination of [0, 1] scores; clip only the last-bit rounding.
    index = np.where(empty, np.nan, np.clip(contributions.sum(axis=1), 0.0, 100.0))
    return index, contributions, np.clip(coverage, 0.0, 1.0)
