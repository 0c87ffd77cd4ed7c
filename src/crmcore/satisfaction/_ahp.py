"""The analytic hierarchy process: weights from pairwise judgements, and their consistency.

A pairwise comparison matrix :math:`A` holds judgements :math:`a_{ij}` ("criterion *i* is
:math:`a_{ij}` times as important as *j*", Saaty's 1-9 scale) with :math:`a_{ii} = 1` and
:math:`a_{ji} = 1 / a_{ij}`. Weights are its principal right eigenvector (Saaty 1977, 1980) or
the normalised row geometric means (Crawford & Williams 1985); consistency is measured by
:math:`CI = (\\lambda_{max} - n) / (n - 1)` and :math:`CR = CI / RI_n`, with :math:`RI_n` the mean
CI of random reciprocal matrices of order *n*, which differs by source (see
:data:`RANDOM_INDEX_TABLES`).

References
----------
Saaty, T. L. (1977). A scaling method for priorities in hierarchical structures. *Journal of
Mathematical Psychology* 15(3), 234-281.
Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill, New York.
Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process. *European Journal
of Operational Research* 48(1), 9-26.
Saaty, T. L. (2003). Decision-making with the AHP: why is the principal eigenvector necessary.
*European Journal of Operational Research* 145(1), 85-91.
Crawford, G. & Williams, C. (1985). A note on the analysis of subjective judgment matrices.
*Journal of Mathematical Psychology* 29(4), 387-405.
Aczél, J. & Saaty, T. L. (1983). Procedures for synthesizing ratio judgements. *Journal of
Mathematical Psychology* 27(1), 93-102.
Forman, E. & Peniwati, K. (1998). Aggregating individual judgments and priorities with the
analytic hierarchy process. *European Journal of Operational Research* 108(1), 165-169.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore._deprecation import keyword_only_options
from crmcore._errors import ConsistencyError, InvalidValueError

__all__ = [
    "RANDOM_INDEX_TABLES",
    "AHPMethod",
    "AHPResult",
    "Judgement",
    "ahp",
    "group_judgements",
    "pairwise_matrix",
    "random_index",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

AHPMethod: TypeAlias = Literal["eigenvector", "geometric-mean"]
"""How weights are derived from a pairwise matrix."""

AHP_METHODS: tuple[AHPMethod, ...] = ("eigenvector", "geometric-mean")

RANDOM_INDEX_TABLES: Mapping[str, Mapping[int, float]] = {
    # Saaty (1980), The Analytic Hierarchy Process, McGraw-Hill: random consistency index for
    # n = 1..15; the table of Saaty (1990, EJOR 48): the house example's CR 0.169 = 0.238/1.41.
    "saaty1980": {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
                  9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59},
    # The table printed in Chinese AHP textbooks (Xu Shubai 许树柏 (1988), 实用决策方法:
    # 层次分析法原理, Tianjin University Press).
    "chinese-textbook": {1: 0.0, 2: 0.0, 3: 0.52, 4: 0.89, 5: 1.12, 6: 1.26, 7: 1.36, 8: 1.41,
                         9: 1.46, 10: 1.49, 11: 1.52, 12: 1.54, 13: 1.56, 14: 1.58, 15: 1.59},
    # Saaty (2005), Theory and Applications of the Analytic Network Process, RWS Publications,
    # p. 31; the table of Saaty (2008, Int. J. Services Sciences 1(1)), whose drinks example
    # has CR 0.022 = CI 0.0294 / 1.35.
    "saaty2005": {1: 0.0, 2: 0.0, 3: 0.52, 4: 0.89, 5: 1.11, 6: 1.25, 7: 1.35, 8: 1.40,
                  9: 1.45, 10: 1.49, 11: 1.52, 12: 1.54, 13: 1.56, 14: 1.58, 15: 1.59},
    # Donegan, H. A. & Dodd, F. J. (1991). A note on Saaty's random indexes. Mathematical and
    # Computer Modelling 15(10), 135-137 (also ahpy's default table, random_index="dd").
    "donegan-dodd1991": {1: 0.0, 2: 0.0, 3: 0.4914, 4: 0.8286, 5: 1.0591, 6: 1.1797,
                         7: 1.2519, 8: 1.3171, 9: 1.3733, 10: 1.4055, 11: 1.4213, 12: 1.4497,
                         13: 1.4643, 14: 1.4822, 15: 1.4969},
}
"""Random consistency indices :math:`RI_n` by source, for orders 1 to 15."""

_RECIPROCAL_RTOL = 0.025  # admits judgements typed as rounded fractions (0.33, 0.14, 0.11)


def random_index(n: int, table: str = "saaty1980") -> float:
    """The random consistency index :math:`RI_n` of ``table`` for an ``n`` x ``n`` matrix.

    Raises
    ------
    InvalidValueError
        ``table`` is not one of :data:`RANDOM_INDEX_TABLES`, or it has no value for ``n``.
    """
    values = RANDOM_INDEX_TABLES.get(table)
    if values is None:
        raise InvalidValueError(
            f"ri: unknown random-index table {table!r}; choose one of "
            f"{', '.join(map(repr, RANDOM_INDEX_TABLES))}",
            field="ri",
        )
    if n not in values:
        raise InvalidValueError(
            f"ri: random-index table {table!r} covers matrices of order 1 to {max(values)}, "
            f"not {n}",
            field="ri",
        )
    return values[n]


Judgement: TypeAlias = tuple[str, str, float, float]
"""A judgement worth revisiting: (row item, column item, given value, value the weights imply)."""


@attrs.frozen(eq=False)
class AHPResult:
    """Weights derived from one pairwise comparison matrix, with its consistency.

    Attributes
    ----------
    weights:
        Priority weights, positive and summing to 1, in the matrix's row order.
    lambda_max:
        Principal eigenvalue (``method="eigenvector"``) or its estimate
        :math:`\\frac1n\\sum_i (Aw)_i / w_i` (``method="geometric-mean"``).
    consistency_index:
        :math:`CI = (\\lambda_{max} - n) / (n - 1)` (0 for n <= 2).
    consistency_ratio:
        :math:`CR = CI / RI_n` (0 when :math:`RI_n = 0`, i.e. n <= 2).
    random_index:
        :math:`RI_n` from table ``ri``.
    labels:
        Names of the compared items (``("0", "1", ...)`` when none were given).
    matrix:
        The (exactly reciprocal) matrix the weights were derived from.
    method, ri:
        How the weights were derived and which random-index table was used.
    """

    weights: FloatArray
    lambda_max: float
    consistency_index: float
    consistency_ratio: float
    random_index: float
    labels: tuple[str, ...]
    matrix: FloatArray
    method: AHPMethod
    ri: str

    @property
    def n(self) -> int:
        """Order of the matrix."""
        return int(self.weights.shape[0])

    def __repr__(self) -> str:
        from crmcore._repr import ahp_text

        return ahp_text(self)

    def _repr_html_(self) -> str:
        from crmcore._repr import ahp_html

        return ahp_html(self)

    def weights_by_label(self) -> dict[str, float]:
        """Weights keyed by item label."""
        return {label: float(w) for label, w in zip(self.labels, self.weights, strict=True)}

    def judgement_errors(self) -> FloatArray:
        """:math:`\\varepsilon_{ij} = a_{ij} w_j / w_i`: 1 where a judgement agrees with the
        weights, above 1 where it overstates row *i* against column *j* (Saaty 2003)."""
        w = self.weights
        return np.asarray(self.matrix * w[np.newaxis, :] / w[:, np.newaxis], dtype=np.float64)

    def worst_judgements(self, k: int = 3) -> list[Judgement]:
        """The ``k`` judgements that disagree most with the derived weights.

        Ranked by :math:`|\\ln \\varepsilon_{ij}|` over the upper triangle; each entry is
        ``(row label, column label, given a_ij, w_i / w_j)``. Saaty (2003) revises the
        judgement with the largest :math:`\\varepsilon_{ij}` towards :math:`w_i / w_j` first.
        """
        n = self.n
        if n < 2:
            return []
        rows, cols = np.triu_indices(n, k=1)
        deviation = np.abs(np.log(self.judgement_errors()[rows, cols]))
        order = np.argsort(-deviation, kind="stable")[:k]
        w = self.weights
        return [
            (self.labels[rows[i]], self.labels[cols[i]], float(self.matrix[rows[i], cols[i]]),
             float(w[rows[i]] / w[cols[i]]))
            for i in order
        ]

    @property
    def is_consistent(self) -> bool:
        """Whether CR is at most Saaty's customary limit of 0.1."""
        return self.consistency_ratio <= 0.1


def _labels(n: int, labels: Sequence[str] | None) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(i) for i in range(n))
    result = tuple(str(label) for label in labels)
    if len(result) != n:
        raise InvalidValueError(
            f"labels: {len(result)} labels given for a {n} x {n} matrix", field="labels"
        )
    if len(set(result)) != n:
        raise InvalidValueError(f"labels: duplicate labels in {list(result)!r}", field="labels")
    return result


def _pairs(positions: npt.NDArray[np.intp], labels: tuple[str, ...], limit: int = 5) -> str:
    shown = [f"({labels[i]}, {labels[j]})" for i, j in positions[:limit]]
    more = f", ... ({len(positions)} in all)" if len(positions) > limit else ""
    return ", ".join(shown) + more


def check_pairwise_matrix(
    matrix: npt.ArrayLike, labels: Sequence[str] | None = None, *, name: str = "matrix"
) -> tuple[FloatArray, tuple[str, ...]]:
    """Validate a pairwise comparison matrix; return it made exactly reciprocal, with labels.

    Each pair is reconciled by the geometric mean :math:`\\sqrt{a_{ij} / a_{ji}}`, so a matrix
    typed with rounded fractions (0.33 for 1/3) yields the weights of the intended one.
    """
    try:
        a = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{name}: not a numeric matrix: {exc}", field=name) from exc
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise InvalidValueError(
            f"{name}: a pairwise comparison matrix must be square and non-empty, got shape "
            f"{a.shape}",
            field=name,
        )
    n = a.shape[0]
    names = _labels(n, labels)
    bad = np.argwhere(~np.isfinite(a) | (a <= 0))
    if len(bad):
        raise InvalidValueError(
            f"{name}: judgements must be finite and positive; offending entries at "
            f"{_pairs(bad, names)}",
            field=name,
        )
    diagonal = np.flatnonzero(np.abs(np.diag(a) - 1.0) > 1e-9)
    if len(diagonal):
        raise InvalidValueError(
            f"{name}: the diagonal must be 1 (an item is as important as itself); found "
            + ", ".join(f"{names[i]}: {a[i, i]:g}" for i in diagonal[:5]),
            field=name,
        )
    product = a * a.T
    upper = np.triu(np.abs(product - 1.0) > _RECIPROCAL_RTOL, k=1)
    wrong = np.argwhere(upper)
    if len(wrong):
        details = ", ".join(
            f"a[{names[i]}, {names[j]}] = {a[i, j]:g} but a[{names[j]}, {names[i]}] = "
            f"{a[j, i]:g}"
            for i, j in wrong[:3]
        )
        raise InvalidValueError(
            f"{name}: not reciprocal (a_ji must be 1 / a_ij): {details}"
            + (f", ... ({len(wrong)} pairs in all)" if len(wrong) > 3 else ""),
            field=name,
        )
    log_a = np.log(a)
    reconciled = np.exp(0.5 * (log_a - log_a.T))  # sqrt(a / a.T) without overflowing
    return reconciled, names


def _balanced(a: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(log g, B)``: the row geometric means in logs (largest 0) and the similar matrix
    :math:`B = G^{-1} A G`, :math:`b_{ij} = a_{ij} g_j / g_i`, formed in logs.

    ``B`` has the eigenvalues of ``A`` and eigenvectors :math:`G^{-1} v`; its entries are the
    judgement errors of the geometric-mean weights (1 for a consistent matrix), so judgements
    of any magnitude (1e300 against 1e-300) neither overflow nor lose precision.
    """
    log_a = np.log(a)
    log_g = log_a.mean(axis=1)
    log_g = log_g - log_g.max()
    return log_g, np.exp(log_a + log_g[np.newaxis, :] - log_g[:, np.newaxis])


def _weights_from_logs(log_w: FloatArray) -> FloatArray:
    w = np.exp(log_w - log_w.max())
    return np.asarray(w / w.sum(), dtype=np.float64)


def _eigenvector(a: FloatArray) -> tuple[FloatArray, float]:
    log_g, b = _balanced(a)
    try:
        values, vectors = np.linalg.eig(b)
    except np.linalg.LinAlgError as exc:
        raise ConsistencyError(f"the principal eigenvector of the matrix cannot be computed "
                               f"({exc}); its judgements contradict each other beyond use"
                               ) from exc
    index = int(np.argmax(values.real))
    lam = float(values[index].real)
    vector = np.abs(vectors[:, index].real)
    if not (np.isfinite(lam) and np.all(np.isfinite(vector)) and np.all(vector > 0)):
        raise ConsistencyError("the principal eigenvector of the matrix is not positive and "
                               "finite; its judgements contradict each other beyond use")
    return _weights_from_logs(np.log(vector) + log_g), lam


def _geometric_mean(a: FloatArray) -> tuple[FloatArray, float]:
    log_g, b = _balanced(a)
    # lambda estimate (1/n) sum_i (A w)_i / w_i with w = g / sum(g): the row sums of B
    lam = float(np.mean(b.sum(axis=1)))
    return _weights_from_logs(log_g), lam


@keyword_only_options(1)
def ahp(
    matrix: npt.ArrayLike | Mapping[tuple[str, str], float],
    *,
    method: AHPMethod = "eigenvector",
    ri: str = "saaty1980",
    max_cr: float | None = 0.1,
    labels: Sequence[str] | None = None,
    name: str = "matrix",
) -> AHPResult:
    """Weights and consistency of a pairwise comparison matrix (Saaty 1980).

    Parameters
    ----------
    matrix:
        Square, positive, reciprocal matrix of judgements ``a[i, j]`` = importance of *i*
        relative to *j* (a reciprocal pair may differ from exact by 2.5 %, for rounded
        fractions), or judgements ``{(i, j): a_ij}`` by label (see :func:`pairwise_matrix`).
    method:
        ``"eigenvector"`` (principal right eigenvector, Saaty 1980) or ``"geometric-mean"``
        (normalised row geometric means, Crawford & Williams 1985).
    ri:
        Random-index table for the consistency ratio: ``"saaty1980"``, ``"chinese-textbook"``,
        ``"saaty2005"`` or ``"donegan-dodd1991"`` (see :data:`RANDOM_INDEX_TABLES`).
    max_cr:
        Largest acceptable consistency ratio; ``None`` accepts any.
    labels:
        Names of the compared items, used in results and messages.
    name:
        What the matrix is called in messages (e.g. the tree node it weighs).

    Returns
    -------
    AHPResult

    Raises
    ------
    InvalidValueError
        The matrix is not square, positive, with unit diagonal and reciprocal; unknown method
        or table. The message names the offending entries.
    ConsistencyError
        CR exceeds ``max_cr``; the message gives CR and the judgements that disagree most with
        the weights (with the values the weights imply).
    """
    if method not in AHP_METHODS:
        raise InvalidValueError(
            f"method: unknown AHP method {method!r}; choose one of "
            f"{', '.join(map(repr, AHP_METHODS))}",
            field="method",
        )
    if max_cr is not None and not (np.isfinite(max_cr) and max_cr >= 0):
        raise InvalidValueError(f"max_cr must be a number >= 0 or None, got {max_cr!r}",
                                field="max_cr")
    if isinstance(matrix, Mapping):
        matrix, labels = pairwise_matrix(matrix, labels)
    a, names = check_pairwise_matrix(matrix, labels, name=name)
    n = a.shape[0]
    rindex = random_index(n, ri)
    weights, lam = _eigenvector(a) if method == "eigenvector" else _geometric_mean(a)
    ci = max((lam - n) / (n - 1), 0.0) if n > 2 else 0.0
    cr = ci / rindex if rindex > 0 else 0.0
    result = AHPResult(weights=weights, lambda_max=lam, consistency_index=ci,
                       consistency_ratio=cr, random_index=rindex, labels=names, matrix=a,
                       method=method, ri=ri)
    if max_cr is not None and cr > max_cr:
        worst = "; ".join(
            f"{row} vs {col} = {given:.3g} (the weights imply {implied:.3g})"
            for row, col, given, implied in result.worst_judgements(3)
        )
        raise ConsistencyError(
            f"{name}: consistency ratio {cr:.3f} exceeds max_cr {max_cr:g} (lambda_max "
            f"{lam:.3f}, CI {ci:.3f}, RI {rindex:g} from {ri!r}); the judgements that disagree "
            f"most with the weights: {worst}. Revise them, or pass max_cr=None to accept.",
            ratio=cr,
            limit=max_cr,
        )
    return result


def pairwise_matrix(
    judgements: Mapping[tuple[str, str], float], labels: Sequence[str] | None = None
) -> tuple[FloatArray, tuple[str, ...]]:
    """Build a reciprocal matrix from judgements ``{(i, j): a_ij}`` over item labels.

    Each unordered pair must be judged exactly once (either way round); the diagonal is 1.
    ``labels`` fixes the order (default: first appearance).

    Raises
    ------
    InvalidValueError
        A pair is missing, judged twice, compares an item with itself, names an unknown label,
        or has a value that is not finite and positive.
    """
    if labels is None:
        seen: dict[str, None] = {}
        for i, j in judgements:
            seen.setdefault(str(i), None)
            seen.setdefault(str(j), None)
        names = tuple(seen)
    else:
        names = _labels(len(labels), labels)
    index = {label: k for k, label in enumerate(names)}
    n = len(names)
    a = np.ones((n, n))
    judged = np.zeros((n, n), dtype=bool)
    for (i, j), value in judgements.items():
        i, j = str(i), str(j)
        for label in (i, j):
            if label not in index:
                raise InvalidValueError(f"judgements: unknown item {label!r}; items are "
                                        f"{list(names)!r}", field="judgements")
        if i == j:
            raise InvalidValueError(f"judgements: ({i!r}, {j!r}) compares an item with itself",
                                    field="judgements")
        p, q = index[i], index[j]
        if judged[p, q]:
            raise InvalidValueError(f"judgements: the pair ({i!r}, {j!r}) is judged twice",
                                    field="judgements")
        v = float(value)
        if not np.isfinite(v) or v <= 0:
            raise InvalidValueError(
                f"judgements[({i!r}, {j!r})] must be finite and positive, got {value!r}",
                field="judgements",
            )
        a[p, q], a[q, p] = v, 1.0 / v
        judged[p, q] = judged[q, p] = True
    missing = [(names[p], names[q]) for p, q in zip(*np.triu_indices(n, k=1), strict=True)
               if not judged[p, q]]
    if missing:
        raise InvalidValueError(
            "judgements: pairs not judged: " + ", ".join(f"({p!r}, {q!r})" for p, q in
                                                         missing[:5])
            + (f", ... ({len(missing)} in all)" if len(missing) > 5 else ""),
            field="judgements",
        )
    return a, names


def group_judgements(
    matrices: Sequence[npt.ArrayLike] | npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """Combine several experts' pairwise matrices by the (weighted) geometric mean.

    :math:`a_{ij} = \\prod_k a_{ij}^{(k)\\,\\lambda_k}` with expert weights
    :math:`\\lambda_k` summing to 1 (equal by default): the only synthesis that keeps the
    result reciprocal (Aczél & Saaty 1983), the aggregation of individual judgements of
    Forman & Peniwati (1998).

    Raises
    ------
    InvalidValueError
        No matrices, matrices of different orders, an invalid matrix (named by its position),
        or expert weights that are negative, not finite, or do not match the matrices.
    """
    stack: list[FloatArray] = []
    try:
        items: list[Any] = list(matrices)  # type: ignore[arg-type]
    except TypeError as exc:
        raise InvalidValueError("matrices: expected a sequence of pairwise matrices",
                                field="matrices") from exc
    if not items:
        raise InvalidValueError("matrices: no matrices to combine", field="matrices")
    for k, m in enumerate(items):
        a, _ = check_pairwise_matrix(m, name=f"matrices[{k}]")
        if stack and a.shape != stack[0].shape:
            raise InvalidValueError(
                f"matrices[{k}] is {a.shape[0]} x {a.shape[1]}, but matrices[0] is "
                f"{stack[0].shape[0]} x {stack[0].shape[1]}",
                field="matrices",
            )
        stack.append(a)
    logs = np.log(np.stack(stack))
    if weights is None:
        lam = np.full(len(stack), 1.0 / len(stack))
    else:
        lam = np.asarray(weights, dtype=np.float64)
        if lam.shape != (len(stack),) or not np.all(np.isfinite(lam)) or np.any(lam < 0) \
                or lam.sum() <= 0:
            raise InvalidValueError(
                f"weights: expected {len(stack)} finite non-negative expert weights with a "
                f"positive sum, got {weights!r}",
                field="weights",
            )
        lam = lam / lam.sum()
    return np.asarray(np.exp(np.tensordot(lam, logs, axes=1)), dtype=np.float64)
