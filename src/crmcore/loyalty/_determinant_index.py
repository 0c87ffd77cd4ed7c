"""The four determinants of loyalty and their weight at each lifecycle stage.

The course texts (客户忠诚的决定因素在客户关系生命周期不同阶段中的作用) name four determinants that
drive a relationship from low to high, on two levels:

* basic (基本因素): perceived value (客户的认知价值), the inner driver that runs through the whole
  lifecycle, and switching cost (转移成本), which builds up during the relationship and acts
  mainly in its middle and late stages as a buffer against decline;
* derived (派生因素): satisfaction (客户的满意) and trust (客户的信任). A series of satisfactions
  produces trust and lasting trust produces loyalty (satisfaction -> trust -> loyalty); the two
  are milestones on the road to loyalty and matter most in the early and the middle stage.

:data:`DEFAULT_STAGE_WEIGHTS` turns those statements into numbers. Each determinant gets an
emphasis of 2 where the course texts say it is crucial, 1 where it acts, 0 where it does not act
yet; the early stage is exploration, the middle stages formation and stability, the late stage
decline. The numbers are an encoding of the course texts' qualitative text, not an estimate from
data: a firm with its own evidence passes its own table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._determinants import STAGE_DETERMINANT_EMPHASIS, LoyaltyDeterminant
from crmcore._errors import InvalidValueError, UnknownIndicatorError, describe_rows
from crmcore.loyalty._indicators import resolve_scales
from crmcore.loyalty._weighted import aggregate, as_mapping, orient, read_table

__all__ = [
    "DEFAULT_STAGE_WEIGHTS",
    "DETERMINANT_NAMES",
    "STAGE_NAMES",
    "DeterminantBreakdown",
    "determinant_index",
    "stage_weights",
]


DETERMINANT_NAMES: Final[tuple[str, ...]] = tuple(d.value for d in LoyaltyDeterminant)
"""``("perceived_value", "satisfaction", "trust", "switching_cost")``."""

STAGE_NAMES: Final[tuple[str, ...]] = ("exploration", "formation", "stability", "decline")
"""Lifecycle stages with determinant weights (考察期, 形成期, 稳定期, 退化期), as the ``value``
strings of the lifecycle package's stage enum."""

DEFAULT_STAGE_WEIGHTS: Final[Mapping[str, Mapping[str, float]]] = STAGE_DETERMINANT_EMPHASIS
"""Emphasis of each determinant at each stage (2 crucial, 1 acting, 0 not yet acting), from
the course texts; the same table gives the lifecycle stages their key determinants.
:func:`stage_weights` normalises a row to sum 1."""

_ALL_FAVOUR = dict.fromkeys(DETERMINANT_NAMES, True)


def _name(key: object) -> object:
    """A determinant or stage key as crmcore spells it here: enum members by their ``value``,
    hyphens as underscores (so the lifecycle package's ``"perceived-value"`` reads too)."""
    key = getattr(key, "value", key)
    return key.replace("-", "_") if isinstance(key, str) else key


def _check_table(table: Mapping[Any, Mapping[Any, float]]) -> NDArray[np.float64]:
    """The stage table as a ``(stage, determinant)`` matrix of weights summing to 1 per row."""
    matrix = np.zeros((len(STAGE_NAMES), len(DETERMINANT_NAMES)))
    table = {_name(stage): {_name(k): v for k, v in row.items()} for stage, row in table.items()}
    for stage, row in table.items():
        if stage not in STAGE_NAMES:
            raise InvalidValueError(f"stage_weights: unknown stage {stage!r}; stages: "
                                    f"{', '.join(STAGE_NAMES)}", field="stage_weights")
        for name, weight in row.items():
            if name not in DETERMINANT_NAMES:
                raise UnknownIndicatorError(name, DETERMINANT_NAMES, noun="determinant",
                                            field=f"stage_weights[{stage!r}]")
            value = float(weight)
            if not np.isfinite(value) or value < 0:
                raise InvalidValueError(f"stage_weights[{stage!r}][{name!r}] must be finite "
                                        f"and >= 0, got {weight!r}", field="stage_weights")
            matrix[STAGE_NAMES.index(stage), DETERMINANT_NAMES.index(name)] = value
    missing = [s for s in STAGE_NAMES if s not in table]
    if missing:
        raise InvalidValueError(f"stage_weights gives no row for {', '.join(missing)}",
                                field="stage_weights")
    totals = matrix.sum(axis=1)
    zero = [STAGE_NAMES[i] for i in np.flatnonzero(totals <= 0)]
    if zero:
        raise InvalidValueError(f"stage_weights for {', '.join(zero)} are all zero",
                                field="stage_weights")
    normalised: NDArray[np.float64] = matrix / totals[:, None]
    return normalised


def stage_weights(
    stage: object, table: Mapping[Any, Mapping[Any, float]] | None = None
) -> dict[str, float]:
    """The weight of each determinant at one lifecycle stage, summing to 1.

    Parameters
    ----------
    stage:
        A stage name of :data:`STAGE_NAMES`, or an enum member whose ``value`` is one.
    table:
        Stage -> determinant -> emphasis; default :data:`DEFAULT_STAGE_WEIGHTS`.

    Examples
    --------
    >>> from crmcore.loyalty import stage_weights
    >>> stage_weights("exploration")["satisfaction"]
    0.6666666666666666
    """
    matrix = _check_table(DEFAULT_STAGE_WEIGHTS if table is None else table)
    row = _stage_codes(np.array([stage], dtype=object))[0]
    return dict(zip(DETERMINANT_NAMES, matrix[row].tolist(), strict=True))


def _stage_codes(stages: NDArray[Any]) -> NDArray[np.int64]:
    as_text = np.frompyfunc(lambda s: getattr(s, "value", s), 1, 1)(stages).astype(object)
    codes = np.full(len(as_text), -1, dtype=np.int64)
    for k, name in enumerate(STAGE_NAMES):
        codes[as_text == name] = k
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        raise InvalidValueError(
            f"stages: {as_text[bad[0]]!r} at {describe_rows(bad)} is not a stage with loyalty "
            f"determinant weights; stages: {', '.join(STAGE_NAMES)}",
            field="stages", rows=bad.tolist(),
        )
    return codes


@attrs.frozen(eq=False)
class DeterminantBreakdown:
    """A stage-weighted determinant index with everything behind it, one row per customer.

    Attributes
    ----------
    index:
        The index, 0-100, shape ``(n,)``.
    names:
        The determinants given, in the order of the columns below.
    contributions:
        Each determinant's part of the index, ``(n, k)``; a row sums to ``index``.
    scores:
        Each determinant normalised onto ``[0, 1]``, ``(n, k)``; NaN where missing.
    weights:
        The weight each determinant had for each customer's stage, ``(n, k)``.
    coverage:
        Share of the stage's weight present for each customer, ``(n,)``.
    stages:
        Each customer's stage name, ``(n,)``.
    """

    index: NDArray[np.float64]
    names: tuple[str, ...]
    contributions: NDArray[np.float64]
    scores: NDArray[np.float64]
    weights: NDArray[np.float64]
    coverage: NDArray[np.float64]
    stages: NDArray[Any]


def determinant_index(
    determinants: object,
    stages: ArrayLike,
    *,
    stage_weights: Mapping[Any, Mapping[Any, float]] | None = None,
    scales: Mapping[Any, tuple[float, float]] | None = None,
) -> DeterminantBreakdown:
    """Loyalty drive (0-100) from the four determinants, weighted by each customer's stage.

    With determinant scores :math:`d_{ij}` min-max normalised from their scales onto
    ``[0, 1]`` (Nardo et al. 2008, section 5.2) and :math:`w_{s(i)j}` the weight of determinant
    :math:`j` at customer :math:`i`'s stage (:data:`DEFAULT_STAGE_WEIGHTS`, from the course texts),

    .. math::

        D_i = 100 \\frac{\\sum_j w_{s(i)j} m_{ij} d_{ij}}{\\sum_j w_{s(i)j} m_{ij}},

    the same weighted linear aggregation as the loyalty index, missing determinants
    (:math:`m_{ij} = 0`) re-weighting the rest. All four determinants favour loyalty.

    Parameters
    ----------
    determinants:
        Determinant name -> values per customer (mapping or data frame); names from
        :data:`DETERMINANT_NAMES` (or enum members whose ``value`` is such a name, hyphens
        read as underscores, as in the lifecycle package's determinant enum), any subset;
        NaN marks a missing value. Satisfaction can be
        an index from :mod:`crmcore.satisfaction` on ``scales={"satisfaction": (0, 100)}``.
    stages:
        Each customer's lifecycle stage: names of :data:`STAGE_NAMES` or the lifecycle enum's
        members (their ``value``); a single stage applies to everyone.
    stage_weights:
        Stage -> determinant -> emphasis; default :data:`DEFAULT_STAGE_WEIGHTS`.
    scales:
        Determinant -> ``(low, high)``, overriding the default ``(0, 1)``.

    Raises
    ------
    UnknownIndicatorError
        An unknown determinant name.
    IndicatorScaleError
        A value outside its determinant's scale.
    InvalidValueError
        An unknown stage (``"terminated"`` included: an ended relationship has no drive),
        lengths that differ, or a customer whose stage gives no weight to any determinant
        present.
    """
    columns_in = {_name(k): v for k, v in as_mapping(determinants, field="determinants").items()}
    names, matrix = read_table(columns_in, known=DETERMINANT_NAMES, field="determinants",
                               noun="determinant")
    table = _check_table(DEFAULT_STAGE_WEIGHTS if stage_weights is None else stage_weights)
    all_scales = resolve_scales(None if scales is None else {_name(k): v for k, v in
                                                             scales.items()},
                                known=DETERMINANT_NAMES, field="scales",
                                noun="determinant")
    stage_array = np.asarray(stages, dtype=object)
    if stage_array.ndim == 0:
        stage_array = np.full(len(matrix), stage_array.item(), dtype=object)
    if stage_array.shape != (len(matrix),):
        raise InvalidValueError(f"stages has shape {stage_array.shape}; expected one stage per "
                                f"customer ({len(matrix)})", field="stages")
    codes = _stage_codes(stage_array)
    columns = [DETERMINANT_NAMES.index(name) for name in names]
    weights = table[codes][:, columns]
    scores = orient(matrix, names, {n: all_scales[n] for n in names}, _ALL_FAVOUR,
                    field="determinants")
    index, contributions, coverage = aggregate(scores, weights, field="determinants")
    return DeterminantBreakdown(
        index=index, names=names, contributions=contributions, scores=scores, weights=weights,
        coverage=coverage, stages=np.array(STAGE_NAMES, dtype=object)[codes],
    )
