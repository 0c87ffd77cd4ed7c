"""Objective (entropy), given and combined weights.

The entropy weight method (Zeleny 1982; Hwang & Yoon 1981) gives more weight to an indicator
whose values differ more between the objects (or respondents) measured: after min-max
normalisation, :math:`p_{ij} = z_{ij} / \\sum_i z_{ij}`, the entropy
:math:`e_j = -\\frac{1}{\\ln m} \\sum_i p_{ij} \\ln p_{ij}` (with :math:`0 \\ln 0 = 0`), the
divergence :math:`d_j = 1 - e_j` and the weight :math:`w_j = d_j / \\sum_k d_k`.

References
----------
Shannon, C. E. (1948). A mathematical theory of communication. *Bell System Technical Journal*
27, 379-423.
Hwang, C.-L. & Yoon, K. (1981). *Multiple Attribute Decision Making: Methods and
Applications*. Springer, Berlin (section on the entropy method).
Zeleny, M. (1982). *Multiple Criteria Decision Making*. McGraw-Hill, New York.
Ma, J., Fan, Z.-P. & Huang, L.-H. (1999). A subjective and objective integrated approach to
determine attribute weights. *European Journal of Operational Research* 112(2), 397-404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore._deprecation import keyword_only_options
from crmcore._errors import InvalidValueError, describe_rows

__all__ = ["EntropyResult", "combine_weights", "entropy_weights", "normalise_weights"]

FloatArray: TypeAlias = npt.NDArray[np.float64]


def normalise_weights(weights: npt.ArrayLike, *, name: str = "weights") -> FloatArray:
    """Given weights scaled to sum to 1.

    Raises
    ------
    InvalidValueError
        Weights that are empty, not one-dimensional, negative or not finite, or all zero.
    """
    try:
        w = np.array(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{name}: not numeric: {exc}", field=name) from exc
    if w.ndim != 1 or w.size == 0:
        raise InvalidValueError(f"{name}: expected a non-empty vector, got shape {w.shape}",
                                field=name)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        raise InvalidValueError(
            f"{name}: weights must be finite and >= 0; {describe_rows(bad.tolist())} are "
            f"{w[bad].tolist()}",
            field=name, rows=bad.tolist(),
        )
    total = w.sum()
    if total <= 0:
        raise InvalidValueError(f"{name}: weights are all zero", field=name)
    return np.asarray(w / total, dtype=np.float64)


def cost_mask(cost: npt.ArrayLike | Sequence[int] | None, n: int) -> npt.NDArray[np.bool_]:
    """A boolean mask of cost columns from a mask or from column indices."""
    if cost is None:
        return np.zeros(n, dtype=bool)
    c = np.asarray(cost)
    if c.dtype == bool:
        if c.shape != (n,):
            raise InvalidValueError(
                f"cost: a boolean mask must have one entry per indicator ({n}), got shape "
                f"{c.shape}",
                field="cost",
            )
        return c.copy()
    if c.size == 0:
        return np.zeros(n, dtype=bool)
    if not np.issubdtype(c.dtype, np.integer) or c.ndim != 1:
        raise InvalidValueError(
            f"cost: expected a boolean mask or integer column indices, got {cost!r}",
            field="cost",
        )
    out_of_range = c[(c < -n) | (c >= n)]
    if out_of_range.size:
        raise InvalidValueError(
            f"cost: column indices {out_of_range.tolist()} are outside 0..{n - 1}", field="cost"
        )
    mask = np.zeros(n, dtype=bool)
    mask[c] = True
    return mask


@attrs.frozen(eq=False)
class EntropyResult:
    """Entropy weights and the quantities behind them.

    Attributes
    ----------
    weights:
        :math:`w_j = d_j / \\sum_k d_k`, summing to 1.
    entropy:
        :math:`e_j` in [0, 1] (1 for an indicator that does not vary).
    divergence:
        :math:`d_j = 1 - e_j`.
    normalised:
        The min-max normalised matrix :math:`z_{ij}` in [0, 1], cost columns reversed.
    """

    weights: FloatArray
    entropy: FloatArray
    divergence: FloatArray
    normalised: FloatArray


EntropyNormalisation: TypeAlias = Literal["min-max", "sum"]


def entropy_weights(
    matrix: npt.ArrayLike,
    cost: npt.ArrayLike | Sequence[int] | None = None,
    *,
    normalisation: EntropyNormalisation = "min-max",
) -> EntropyResult:
    """Objective weights of indicators by the entropy method (Zeleny 1982).

    Parameters
    ----------
    matrix:
        ``(m, k)`` values: rows are respondents or objects, columns indicators. At least two
        rows.
    cost:
        Which indicators are costs (smaller is better): a boolean mask of length ``k`` or the
        column indices. Benefit columns are normalised :math:`(x - \\min) / (\\max - \\min)`,
        cost columns :math:`(\\max - x) / (\\max - \\min)`.
    normalisation:
        ``"min-max"`` (default; the common form in Chinese evaluation practice, with cost
        columns reversed) or ``"sum"``: the shares :math:`p_{ij} = x_{ij} / \\sum_i x_{ij}`
        of the raw, strictly positive values, as in Zeleny's original formulation and in
        pymcdm's ``entropy_weights``. The entropy of shares does not depend on an indicator's
        direction, so ``"sum"`` refuses a ``cost`` argument rather than ignore it.

    Returns
    -------
    EntropyResult

    Notes
    -----
    An indicator with the same value in every row carries no information: its entropy is
    taken as 1 and its weight is 0.

    Raises
    ------
    InvalidValueError
        Not a 2-D matrix with at least two rows, values that are not finite (rows named),
        a bad ``cost``, or no indicator that varies at all.
    """
    try:
        x = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"matrix: not numeric: {exc}", field="matrix") from exc
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise InvalidValueError(
            f"matrix: expected rows (respondents or objects) x columns (indicators) with at "
            f"least two rows, got shape {x.shape}",
            field="matrix",
        )
    m, k = x.shape
    bad_rows = np.flatnonzero(~np.all(np.isfinite(x), axis=1))
    if len(bad_rows):
        raise InvalidValueError(
            f"matrix: values must be finite; {describe_rows(bad_rows.tolist())} are not",
            field="matrix", rows=bad_rows.tolist(),
        )
    if normalisation not in ("min-max", "sum"):
        raise InvalidValueError(f"normalisation={normalisation!r}; use 'min-max' or 'sum'",
                                field="normalisation")
    is_cost = cost_mask(cost, k)
    # Both normalisations are invariant to a column's scale: dividing each column by its
    # largest magnitude first keeps spans and sums of values near 1e308 from overflowing.
    magnitude = np.abs(x).max(axis=0)
    x = x / np.where(magnitude > 0, magnitude, 1.0)
    low, high = x.min(axis=0), x.max(axis=0)
    span = high - low
    varies = span > 0
    if not varies.any():
        raise InvalidValueError("matrix: no indicator varies between rows, so entropy weights "
                                "are undefined", field="matrix")
    if normalisation == "sum":
        if is_cost.any():
            raise InvalidValueError(
                "cost: entropy weights of shares (normalisation='sum') do not depend on an "
                "indicator's direction; leave cost out, or use normalisation='min-max'",
                field="cost")
        bad_rows = np.flatnonzero(~np.all(x > 0, axis=1))
        if len(bad_rows):
            raise InvalidValueError(
                "matrix: normalisation='sum' needs strictly positive values; not at "
                f"{describe_rows(bad_rows.tolist())}",
                field="matrix", rows=bad_rows.tolist())
        z = x.copy()
    else:
        safe_span = np.where(varies, span, 1.0)
        z = np.where(is_cost, high - x, x - low) / safe_span
        z[:, ~varies] = 0.0
    totals = z.sum(axis=0)
    p = np.divide(z, totals, out=np.zeros_like(z), where=totals > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(m)
    e = np.where(varies, np.clip(e, 0.0, 1.0), 1.0)
    d = 1.0 - e
    return EntropyResult(weights=d / d.sum(), entropy=e, divergence=d, normalised=z)


CombineMethod: TypeAlias = Literal["multiplicative", "linear"]


@keyword_only_options(2)
def combine_weights(
    subjective: npt.ArrayLike,
    objective: npt.ArrayLike,
    *,
    method: CombineMethod = "multiplicative",
    alpha: float = 0.5,
) -> FloatArray:
    """Combine subjective (e.g. AHP) and objective (e.g. entropy) weights.

    ``"multiplicative"``: :math:`w_j = s_j o_j / \\sum_k s_k o_k`; ``"linear"``:
    :math:`w_j = \\alpha s_j + (1 - \\alpha) o_j`, the convex combination (both inputs are
    normalised first). Both are standard ways of integrating the two kinds of weights
    (see Ma, Fan & Huang 1999 for the problem and an optimisation-based alternative).

    Raises
    ------
    InvalidValueError
        Weights of different lengths or otherwise invalid (see :func:`normalise_weights`),
        ``alpha`` outside [0, 1], an unknown method, or multiplicative weights whose products
        are all zero.
    """
    s = normalise_weights(subjective, name="subjective")
    o = normalise_weights(objective, name="objective")
    if s.shape != o.shape:
        raise InvalidValueError(
            f"subjective has {s.size} weights but objective has {o.size}", field="objective"
        )
    if method == "multiplicative":
        product = s * o
        if product.sum() <= 0:
            raise InvalidValueError("subjective and objective weights have no indicator in "
                                    "common with a positive weight", field="objective")
        return np.asarray(product / product.sum(), dtype=np.float64)
    if method == "linear":
        if not (np.isfinite(alpha) and 0.0 <= alpha <= 1.0):
            raise InvalidValueError(f"alpha must lie in [0, 1], got {alpha!r}", field="alpha")
        return np.asarray(alpha * s + (1.0 - alpha) * o, dtype=np.float64)
    raise InvalidValueError(
        f"method: unknown combination {method!r}; choose 'multiplicative' or 'linear'",
        field="method",
    )
