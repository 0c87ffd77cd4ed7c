"""Satisfaction indices: disconfirmation, SERVQUAL gaps, IPA, ACSI, NPS, CSAT and CES.

References
----------
Oliver, R. L. (1980). A cognitive model of the antecedents and consequences of satisfaction
decisions. *Journal of Marketing Research* 17(4), 460-469.
Parasuraman, A., Zeithaml, V. A. & Berry, L. L. (1988). SERVQUAL: a multiple-item scale for
measuring consumer perceptions of service quality. *Journal of Retailing* 64(1), 12-40.
Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of Marketing*
41(1), 77-79.
Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J. & Bryant, B. E. (1996). The American
Customer Satisfaction Index: nature, purpose, and findings. *Journal of Marketing* 60(4), 7-18.
Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review* 81(12),
46-54.
Dixon, M., Freeman, K. & Toman, N. (2010). Stop trying to delight your customers. *Harvard
Business Review* 88(7/8), 116-122.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt
from numpy.lib.mixins import NDArrayOperatorsMixin

from crmcore._deprecation import keyword_only_options
from crmcore._errors import InvalidValueError, describe_rows
from crmcore.satisfaction._weights import normalise_weights

__all__ = [
    "ACSIIndex",
    "CSATResult",
    "Disconfirmation",
    "EffortResult",
    "IPAQuadrant",
    "IPAResult",
    "NPSResult",
    "ServqualGap",
    "acsi_index",
    "ces",
    "csat",
    "disconfirmation",
    "importance_performance",
    "nps",
    "servqual_gap",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]


def _array(values: npt.ArrayLike, field: str, *, allow_nan: bool = False) -> FloatArray:
    try:
        x = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{field}: not numeric: {exc}", field=field) from exc
    if x.size == 0:
        raise InvalidValueError(f"{field}: no values", field=field)
    bad = np.isinf(x) if allow_nan else ~np.isfinite(x)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(x.shape[0], -1).any(axis=1) if x.ndim > 1
                              else bad).tolist()
        raise InvalidValueError(f"{field}: values must be finite; {describe_rows(rows)} are not",
                                field=field, rows=rows)
    return x


def _in_scale(x: FloatArray, scale: tuple[float, float], field: str) -> None:
    low, high = float(scale[0]), float(scale[1])
    if not low < high:
        raise InvalidValueError(f"scale: low ({low:g}) must be below high ({high:g})",
                                field="scale")
    with np.errstate(invalid="ignore"):
        outside = (x < low) | (x > high)
    if outside.any():
        rows = np.flatnonzero(outside.reshape(x.shape[0], -1).any(axis=1) if x.ndim > 1
                              else outside).tolist()
        raise InvalidValueError(
            f"{field}: answers outside the scale [{low:g}, {high:g}] in {describe_rows(rows)}",
            field=field, rows=rows,
        )


# -- expectation-disconfirmation ------------------------------------------------------------


@attrs.frozen(eq=False)
class Disconfirmation:
    """Perceived performance against expectation, per respondent and attribute (Oliver 1980).

    Attributes
    ----------
    gap:
        Perceived minus expected: positive = expectations exceeded (satisfaction), negative =
        expectations not met.
    ratio:
        Perceived over expected: above 1 = expectations exceeded.
    """

    gap: FloatArray
    ratio: FloatArray

    @property
    def mean_gap(self) -> FloatArray:
        """Gap per attribute averaged over respondents (for 2-D input), else the gap."""
        return np.asarray(self.gap.mean(axis=0) if self.gap.ndim == 2 else self.gap,
                          dtype=np.float64)


def disconfirmation(perceived: npt.ArrayLike, expected: npt.ArrayLike) -> Disconfirmation:
    """Expectation-disconfirmation: perceived minus expected, and perceived over expected.

    The course texts define satisfaction as the perceived actual experience compared with the
    expectation (客户满意是可感知的实际体验与期望值之间的比较); Oliver (1980) gives the model.
    Arrays broadcast (e.g. respondents x attributes against one expectation per attribute).

    Raises
    ------
    InvalidValueError
        Values that are not finite, shapes that do not broadcast, or an expectation that is not
        positive (the ratio is then undefined).
    """
    p = _array(perceived, "perceived")
    e = _array(expected, "expected")
    try:
        p, e = np.broadcast_arrays(p, e)
    except ValueError as exc:
        raise InvalidValueError(f"perceived {p.shape} and expected {e.shape} do not match",
                                field="expected") from exc
    if np.any(e <= 0):
        raise InvalidValueError("expected: expectations must be positive for the ratio "
                                "perceived / expected", field="expected")
    return Disconfirmation(gap=np.asarray(p - e, dtype=np.float64),
                           ratio=np.asarray(p / e, dtype=np.float64))


@attrs.frozen(eq=False)
class ServqualGap:
    """SERVQUAL gap scores (Parasuraman, Zeithaml & Berry 1988).

    Attributes
    ----------
    gaps:
        Mean P - E per attribute (dimension).
    weighted:
        Weighted gap per respondent, :math:`\\sum_j w_j (P_j - E_j)`.
    overall:
        Mean weighted gap over respondents (negative: service falls short of expectations).
    weights:
        The attribute weights used (summing to 1).
    """

    gaps: FloatArray
    weighted: FloatArray
    overall: float
    weights: FloatArray


def servqual_gap(
    perceived: npt.ArrayLike, expected: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> ServqualGap:
    """SERVQUAL-style weighted gap: :math:`\\sum_j w_j (P_j - E_j)` per respondent.

    ``perceived`` and ``expected`` are respondents x attributes (or one respondent's vector);
    ``weights`` the importance of each attribute (equal by default; scaled to sum to 1), as in
    the weighted SERVQUAL score of Parasuraman et al. (1988).

    Raises
    ------
    InvalidValueError
        Shapes that differ, values that are not finite, or invalid weights.
    """
    p = _array(perceived, "perceived")
    e = _array(expected, "expected")
    p = p[np.newaxis, :] if p.ndim == 1 else p
    e = e[np.newaxis, :] if e.ndim == 1 else e
    if p.shape != e.shape or p.ndim != 2:
        raise InvalidValueError(f"perceived {p.shape} and expected {e.shape} must have the same "
                                "respondents x attributes shape", field="expected")
    k = p.shape[1]
    w = np.full(k, 1.0 / k) if weights is None else normalise_weights(weights)
    if w.size != k:
        raise InvalidValueError(f"weights: {w.size} weights for {k} attributes",
                                field="weights")
    gap = p - e
    weighted = gap @ w
    return ServqualGap(gaps=gap.mean(axis=0), weighted=weighted, overall=float(weighted.mean()),
                       weights=w)


# -- importance-performance analysis ----------------------------------------------------------


class IPAQuadrant(enum.Enum):
    """Quadrants of the importance-performance grid (Martilla & James 1977)."""

    CONCENTRATE_HERE = "concentrate-here"
    """High importance, low performance."""
    KEEP_UP_THE_GOOD_WORK = "keep-up-the-good-work"
    """High importance, high performance."""
    LOW_PRIORITY = "low-priority"
    """Low importance, low performance."""
    POSSIBLE_OVERKILL = "possible-overkill"
    """Low importance, high performance."""


@attrs.frozen(eq=False)
class IPAResult:
    """Importance-performance analysis of attributes.

    Attributes
    ----------
    quadrants:
        The quadrant of each attribute.
    importance, performance:
        Mean importance and performance per attribute.
    importance_centre, performance_centre:
        Where the grid is split (values on the line count as high).
    labels:
        Attribute labels.
    """

    quadrants: tuple[IPAQuadrant, ...]
    importance: FloatArray
    performance: FloatArray
    importance_centre: float
    performance_centre: float
    labels: tuple[str, ...]

    def by_quadrant(self) -> dict[IPAQuadrant, list[str]]:
        """Attribute labels grouped by quadrant."""
        out: dict[IPAQuadrant, list[str]] = {q: [] for q in IPAQuadrant}
        for label, q in zip(self.labels, self.quadrants, strict=True):
            out[q].append(label)
        return out


def importance_performance(
    importance: npt.ArrayLike,
    performance: npt.ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    centre: Literal["mean", "median"] | tuple[float, float] = "mean",
) -> IPAResult:
    """Importance-performance analysis quadrants (Martilla & James 1977).

    Parameters
    ----------
    importance, performance:
        Per attribute (vectors) or per respondent and attribute (matrices, averaged over
        respondents, ignoring NaN).
    labels:
        Attribute names.
    centre:
        Where to split the grid: the ``"mean"`` or ``"median"`` of the attribute means, or
        explicit ``(importance, performance)`` values such as the scale midpoints.

    Raises
    ------
    InvalidValueError
        Shapes that differ, an attribute without answers, labels that do not match, or an
        unknown centre.
    """
    imp = _array(importance, "importance", allow_nan=True)
    perf = _array(performance, "performance", allow_nan=True)
    if imp.ndim == 2:
        imp = np.nanmean(imp, axis=0) if np.isfinite(imp).any(axis=0).all() else imp[0] * np.nan
    if perf.ndim == 2:
        perf = (np.nanmean(perf, axis=0) if np.isfinite(perf).any(axis=0).all()
                else perf[0] * np.nan)
    if imp.shape != perf.shape or imp.ndim != 1:
        raise InvalidValueError(f"importance {imp.shape} and performance {perf.shape} must "
                                "describe the same attributes", field="performance")
    if not (np.all(np.isfinite(imp)) and np.all(np.isfinite(perf))):
        raise InvalidValueError("importance/performance: an attribute has no answers",
                                field="importance")
    k = imp.size
    names = tuple(str(i) for i in range(k)) if labels is None else tuple(labels)
    if len(names) != k:
        raise InvalidValueError(f"labels: {len(names)} labels for {k} attributes",
                                field="labels")
    if centre == "mean":
        ci, cp = float(imp.mean()), float(perf.mean())
    elif centre == "median":
        ci, cp = float(np.median(imp)), float(np.median(perf))
    elif isinstance(centre, tuple) and len(centre) == 2:
        ci, cp = float(centre[0]), float(centre[1])
    else:
        raise InvalidValueError(f"centre must be 'mean', 'median' or (importance, performance),"
                                f" got {centre!r}", field="centre")
    high_i, high_p = imp >= ci, perf >= cp
    quadrants = tuple(
        (IPAQuadrant.KEEP_UP_THE_GOOD_WORK if hp else IPAQuadrant.CONCENTRATE_HERE) if hi
        else (IPAQuadrant.POSSIBLE_OVERKILL if hp else IPAQuadrant.LOW_PRIORITY)
        for hi, hp in zip(high_i, high_p, strict=True)
    )
    return IPAResult(quadrants=quadrants, importance=imp, performance=perf,
                     importance_centre=ci, performance_centre=cp, labels=names)


# -- ACSI ----------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class ACSIIndex(NDArrayOperatorsMixin):
    """The ACSI-form satisfaction index of :func:`acsi_index`, 0-100.

    It still reads as the number (one vector of scores) or the array (one row per respondent)
    :func:`acsi_index` used to return: ``float(result)``, ``numpy.asarray(result)``,
    comparisons and numpy functions work on it.

    Attributes
    ----------
    index:
        The index of the sample: of the mean scores, which equals the mean of the
        per-respondent indices.
    per_respondent:
        One index per row of scores (one value for a vector of scores).
    weights:
        The measures' weights, normalised to sum to 1.
    scale:
        The answer scale.
    batch:
        Whether the scores were a matrix (one row per respondent).
    """

    index: float
    per_respondent: FloatArray
    weights: FloatArray
    scale: tuple[float, float]
    batch: bool

    def __float__(self) -> float:
        return self.index

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> FloatArray:
        values = self.per_respondent if self.batch else np.asarray(self.index)
        return values if dtype is None else np.asarray(values.astype(dtype))

    def __getitem__(self, index: Any) -> Any:
        return np.asarray(self)[index]

    def __len__(self) -> int:
        return len(np.asarray(self))

    def __format__(self, spec: str) -> str:
        return format(self.index, spec) if not self.batch else format(self.per_respondent)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        plain = tuple(np.asarray(x) if isinstance(x, ACSIIndex) else x for x in inputs)
        return getattr(ufunc, method)(*plain, **kwargs)


def acsi_index(
    scores: npt.ArrayLike, weights: npt.ArrayLike, scale: tuple[float, float] = (1, 10)
) -> ACSIIndex:
    """The ACSI-form satisfaction index, 0-100 (Fornell et al. 1996).

    :math:`ACSI = 100\\,(E[\\xi] - \\min \\xi) / (\\max \\xi - \\min \\xi)` with
    :math:`\\xi = \\sum_i w_i x_i` over the satisfaction measures :math:`x_i` (overall
    satisfaction, confirmation of expectations, distance from the ideal) and their weights
    :math:`w_i`; on a ``(low, high)`` scale this is
    :math:`100 \\sum_i w_i (x_i - low) / ((high - low) \\sum_i w_i)`.

    Parameters
    ----------
    scores:
        ``(k,)`` one respondent's (or the mean) answers, or ``(n, k)`` per respondent.
    weights:
        The ``k`` measures' weights (e.g. PLS outer weights), non-negative.
    scale:
        The answer scale, 1-10 in the ACSI.

    Returns
    -------
    ACSIIndex
        ``index`` (the sample's), ``per_respondent`` (one per row of a matrix; one value for a
        vector of scores), the normalised weights. It reads as the float (vector) or array
        (matrix) returned before.

    Raises
    ------
    InvalidValueError
        Scores outside the scale (rows named), weights that are negative or do not match.
    """
    x = _array(scores, "scores")
    _in_scale(x, scale, "scores")
    w = normalise_weights(weights)
    if x.ndim == 0 or x.ndim > 2 or x.shape[-1] != w.size:
        raise InvalidValueError(f"scores: expected {w.size} measures per respondent, got shape "
                                f"{x.shape}", field="scores")
    low, high = float(scale[0]), float(scale[1])
    # answers are inside the scale and the weights sum to 1, so the index is in [0, 100]
    # exactly; clipping only removes rounding (100.00000000000003 for all-top answers)
    index = np.atleast_1d(np.clip(100.0 * ((x - low) @ w) / (high - low), 0.0, 100.0))
    per_respondent = np.asarray(index, dtype=np.float64)
    return ACSIIndex(index=float(per_respondent.mean()), per_respondent=per_respondent,
                     weights=w, scale=(low, high), batch=x.ndim == 2)


# -- NPS, CSAT, CES --------------------------------------------------------------------------------


def _integers(x: FloatArray, field: str) -> None:
    if np.any(x != np.round(x)):
        rows = np.flatnonzero((x != np.round(x)).reshape(-1)).tolist()
        raise InvalidValueError(f"{field}: answers must be whole numbers; "
                                f"{describe_rows(rows)} are not", field=field, rows=rows)


def _box_scores(scores: npt.ArrayLike, scale: tuple[int, int], top: int
                ) -> tuple[FloatArray, int, int]:
    """Whole-number answers on ``scale`` and a top box of ``top`` categories, checked once for
    CSAT and CES: the answers flattened, and the scale's ends."""
    x = _array(scores, "scores").reshape(-1)
    _in_scale(x, scale, "scores")
    _integers(x, "scores")
    low, high = int(scale[0]), int(scale[1])
    if not 1 <= top <= high - low + 1:
        raise InvalidValueError(f"top must be between 1 and {high - low + 1}, got {top}",
                                field="top")
    return x, low, high


@attrs.frozen
class NPSResult:
    """Net Promoter Score (Reichheld 2003): percentage of promoters minus detractors."""

    nps: float
    """-100 to 100."""
    promoters: float
    """Share answering 9 or 10."""
    passives: float
    """Share answering 7 or 8."""
    detractors: float
    """Share answering 0 to 6."""
    n: int


def nps(scores: npt.ArrayLike) -> NPSResult:
    """Net Promoter Score from 0-10 likelihood-to-recommend answers (Reichheld 2003).

    Raises
    ------
    InvalidValueError
        Answers that are not whole numbers from 0 to 10 (rows named), or no answers.
    """
    x = _array(scores, "scores").reshape(-1)
    _in_scale(x, (0, 10), "scores")
    _integers(x, "scores")
    promoters = float(np.mean(x >= 9))
    detractors = float(np.mean(x <= 6))
    return NPSResult(nps=100.0 * (promoters - detractors), promoters=promoters,
                     passives=1.0 - promoters - detractors, detractors=detractors, n=x.size)


@attrs.frozen
class CSATResult:
    """Customer satisfaction score."""

    top_box: float
    """Percentage (0-100) of answers in the top ``top`` categories (top-two-box by default)."""
    mean: float
    """Mean answer on the survey scale."""
    mean_index: float
    """The mean rescaled to 0-100: 100 (mean - low) / (high - low)."""
    n: int


@keyword_only_options(1)
def csat(scores: npt.ArrayLike, *, scale: tuple[int, int] = (1, 5), top: int = 2) -> CSATResult:
    """CSAT: top-box percentage and mean of satisfaction ratings.

    With the default five-point scale and ``top=2`` the top box is "satisfied" or "very
    satisfied" (answers 4 and 5).

    Raises
    ------
    InvalidValueError
        Answers outside the scale or not whole numbers (rows named), ``top`` not between 1 and
        the number of categories.
    """
    x, low, high = _box_scores(scores, scale, top)
    mean = float(x.mean())
    return CSATResult(top_box=100.0 * float(np.mean(x > high - top)), mean=mean,
                      mean_index=100.0 * (mean - low) / (high - low), n=x.size)


@attrs.frozen
class EffortResult:
    """Customer Effort Score."""

    mean: float
    """Mean answer on the survey scale."""
    easy: float
    """Percentage (0-100) of answers saying the task was easy (the top ``top`` categories when
    higher means easier, the bottom ones otherwise)."""
    mean_index: float
    """Ease on 0-100: 100 = every answer at the easiest end of the scale."""
    n: int


def ces(
    scores: npt.ArrayLike,
    scale: tuple[int, int] = (1, 7),
    *,
    higher_is_easier: bool = True,
    top: int = 3,
) -> EffortResult:
    """Customer Effort Score (Dixon, Freeman & Toman 2010).

    The default is the 1-7 agreement form ("the company made it easy for me to handle my
    issue", higher = easier) with the top three answers (5-7) counted as easy; pass
    ``higher_is_easier=False`` for the original 1-5 effort form ("how much effort did you
    personally have to put forth", higher = more effort).

    Raises
    ------
    InvalidValueError
        Answers outside the scale or not whole numbers (rows named), or a bad ``top``.
    """
    x, low, high = _box_scores(scores, scale, top)
    mean = float(x.mean())
    ease = (mean - low) / (high - low)
    easy = np.mean(x > high - top) if higher_is_easier else np.mean(x < low + top)
    return EffortResult(mean=mean, easy=100.0 * float(easy),
                        mean_index=100.0 * (ease if higher_is_easier else 1.0 - ease), n=x.size)
