"""Fuzzy comprehensive evaluation (模糊综合评价): weights composed with a membership matrix.

Indicators :math:`u_1..u_m` are each judged against grades :math:`v_1..v_g` ("very satisfied"
... "very dissatisfied"): :math:`r_{ij}` is the degree to which indicator *i* belongs to grade *j*,
usually the share of respondents who gave it that grade. With indicator weights :math:`a_i`,
the evaluation :math:`B = A \\circ R` is composed by one of four operators (Wang 1983; the
M(., .) notation of Chinese textbooks):

========================  =================  ================================================
operator                  model              :math:`b_j`
========================  =================  ================================================
``"min-max"``             M(∧, ∨)            :math:`\\max_i \\min(a_i, r_{ij})`
``"product-max"``         M(·, ∨)            :math:`\\max_i a_i r_{ij}`
``"min-bounded-sum"``     M(∧, ⊕)            :math:`\\min(1, \\sum_i \\min(a_i, r_{ij}))`
``"weighted-average"``    M(·, ⊕)            :math:`\\min(1, \\sum_i a_i r_{ij})`
========================  =================  ================================================

The first two let the dominant indicator decide; the last uses every indicator in proportion to
its weight. :math:`B` is normalised to sum to 1; the grade is the one of maximum membership, and
with numeric grade values :math:`c_j` the score is :math:`\\sum_j \\bar b_j c_j`.

References
----------
Zadeh, L. A. (1965). Fuzzy sets. *Information and Control* 8(3), 338-353.
Wang Peizhuang 汪培庄 (1983). 模糊集合论及其应用 (Fuzzy Set Theory and Its Applications).
Shanghai Scientific and Technical Publishers.
Si Shoukui 司守奎 & Sun Zhaoliang (2011). 数学建模算法与应用 (Mathematical Modelling
Algorithms and Applications). National Defense Industry Press (chapter on fuzzy evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore._errors import InvalidValueError, describe_rows
from crmcore.satisfaction._answers import Answers, answers_matrix
from crmcore.satisfaction._tree import IndicatorTree, Node
from crmcore.satisfaction._weights import normalise_weights

__all__ = [
    "FUZZY_OPERATORS",
    "FuzzyEvaluation",
    "FuzzyOperator",
    "fuzzy_evaluate",
    "fuzzy_evaluate_tree",
    "membership_from_answers",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

FuzzyOperator: TypeAlias = Literal["min-max", "product-max", "min-bounded-sum",
                                   "weighted-average"]
FUZZY_OPERATORS: tuple[FuzzyOperator, ...] = ("min-max", "product-max", "min-bounded-sum",
                                              "weighted-average")


@attrs.frozen(eq=False)
class FuzzyEvaluation:
    """Result of a fuzzy comprehensive evaluation.

    For a batch (membership of shape ``(n, m, g)``) every attribute has a leading axis ``n``.

    Attributes
    ----------
    memberships:
        :math:`B = A \\circ R`, the raw memberships of the grades.
    normalised:
        :math:`B / \\sum_j b_j`.
    grade:
        Index of the grade of maximum membership (the first, on ties).
    grade_label:
        Its label, when grade labels were given.
    score:
        :math:`\\sum_j \\bar b_j c_j` with grade values :math:`c_j`, when given.
    operator:
        The composition operator used.
    """

    memberships: FloatArray
    normalised: FloatArray
    grade: npt.NDArray[np.intp]
    grade_label: tuple[str, ...] | str | None
    score: FloatArray | float | None
    operator: FuzzyOperator


def _compose(a: FloatArray, r: FloatArray, operator: FuzzyOperator) -> FloatArray:
    """``a``: (m,), ``r``: (..., m, g) -> (..., g)."""
    aw = a[:, np.newaxis]
    if operator == "min-max":
        return np.asarray(np.minimum(aw, r).max(axis=-2), dtype=np.float64)
    if operator == "product-max":
        return np.asarray((aw * r).max(axis=-2), dtype=np.float64)
    if operator == "min-bounded-sum":
        return np.asarray(np.minimum(1.0, np.minimum(aw, r).sum(axis=-2)), dtype=np.float64)
    return np.asarray(np.minimum(1.0, (aw * r).sum(axis=-2)), dtype=np.float64)


def fuzzy_evaluate(
    weights: npt.ArrayLike,
    membership: npt.ArrayLike,
    operator: FuzzyOperator = "weighted-average",
    *,
    grades: Sequence[str] | None = None,
    grade_values: npt.ArrayLike | None = None,
) -> FuzzyEvaluation:
    """Fuzzy comprehensive evaluation :math:`B = A \\circ R`.

    Parameters
    ----------
    weights:
        Indicator weights :math:`A`, length ``m`` (scaled to sum to 1).
    membership:
        Membership matrix :math:`R` of shape ``(m, g)`` (indicators x grades, entries in [0, 1]),
        or ``(n, m, g)`` to evaluate ``n`` objects (e.g. respondents) at once. Entries are
        degrees of membership and are used as given: a row need not sum to 1 (membership
        functions give such rows) and is never rescaled; only the result :math:`B` is
        normalised. Rows of survey shares (:func:`membership_from_answers`) sum to 1; with
        the additive operators a row summing to more than 1 gives its indicator more than
        its weight, so rescale rounded shares yourself (``r / r.sum(axis=-1,
        keepdims=True)``) if that is not meant.
    operator:
        ``"min-max"``, ``"product-max"``, ``"min-bounded-sum"`` or ``"weighted-average"``.
    grades:
        Grade labels, length ``g``.
    grade_values:
        Numeric value of each grade (e.g. ``[95, 85, 75, 65, 55]`` or ``[5, 4, 3, 2, 1]``) for
        the score.

    Raises
    ------
    InvalidValueError
        Unknown operator; memberships outside [0, 1] or of the wrong shape; weights that do not
        match the indicators; grade labels or values that do not match the grades; an object
        whose memberships are all zero (no grade to normalise to; rows named).
    """
    if operator not in FUZZY_OPERATORS:
        raise InvalidValueError(
            f"operator: unknown fuzzy operator {operator!r}; choose one of "
            f"{', '.join(map(repr, FUZZY_OPERATORS))}",
            field="operator",
        )
    a = normalise_weights(weights)
    try:
        r = np.array(membership, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"membership: not numeric: {exc}", field="membership") from exc
    if r.ndim not in (2, 3) or r.shape[-2] != a.size or r.shape[-1] == 0:
        raise InvalidValueError(
            f"membership: expected shape ({a.size}, grades) or (objects, {a.size}, grades) "
            f"for {a.size} weights, got {r.shape}",
            field="membership",
        )
    if not np.all(np.isfinite(r)) or r.min() < 0 or r.max() > 1:
        raise InvalidValueError("membership: degrees of membership must lie in [0, 1]",
                                field="membership")
    g = r.shape[-1]
    if grades is not None and len(grades) != g:
        raise InvalidValueError(f"grades: {len(grades)} labels for {g} grades", field="grades")
    values = None
    if grade_values is not None:
        values = np.asarray(grade_values, dtype=np.float64)
        if values.shape != (g,) or not np.all(np.isfinite(values)):
            raise InvalidValueError(f"grade_values: expected {g} finite values, got "
                                    f"{grade_values!r}", field="grade_values")
    b = _compose(a, r, operator)
    totals = b.sum(axis=-1, keepdims=True)
    if np.any(totals <= 0):
        rows = np.flatnonzero(totals.reshape(-1) <= 0).tolist()
        raise InvalidValueError(
            f"membership: all grades have zero membership for {describe_rows(rows)}, so the "
            "evaluation cannot be normalised",
            field="membership", rows=rows,
        )
    normalised = b / totals
    grade = np.argmax(b, axis=-1)
    label: tuple[str, ...] | str | None = None
    if grades is not None:
        label = grades[int(grade)] if grade.ndim == 0 else tuple(grades[i] for i in grade)
    score: FloatArray | float | None = None
    if values is not None:
        s = normalised @ values
        score = float(s) if np.ndim(s) == 0 else np.asarray(s, dtype=np.float64)
    return FuzzyEvaluation(memberships=b, normalised=normalised, grade=np.asarray(grade),
                           grade_label=label, score=score, operator=operator)


def membership_from_answers(
    answers: Answers,
    grades: Sequence[float],
    *,
    items: Sequence[str] | None = None,
    per_respondent: bool = False,
) -> FloatArray:
    """Membership matrix from survey answers: the share of respondents giving each grade.

    Parameters
    ----------
    answers:
        Answers per respondent and item (see :data:`crmcore.satisfaction.Answers`); each answer
        must equal one of ``grades``. Missing answers (NaN) are left out of that item's shares.
    grades:
        The answer value of each grade, in the order of the membership columns (e.g.
        ``[5, 4, 3, 2, 1]`` for very satisfied ... very dissatisfied).
    items:
        Item names (needed for mappings and survey responses; for arrays the column count).
    per_respondent:
        Instead of shares, one 0/1 membership matrix per respondent, shape ``(n, m, g)``.

    Returns
    -------
    ndarray
        ``(m, g)`` shares :math:`r_{ij}` = respondents giving item *i* grade *j* / respondents
        answering item *i*; or ``(n, m, g)`` indicator memberships.

    Raises
    ------
    InvalidValueError
        An answer that is not one of the grades (item and rows named), an item nobody answered,
        or duplicate grades.
    """
    levels = np.asarray(grades, dtype=np.float64)
    if levels.ndim != 1 or levels.size == 0 or len(np.unique(levels)) != levels.size:
        raise InvalidValueError(f"grades: expected distinct answer values, got {grades!r}",
                                field="grades")
    if items is None:
        try:
            x = np.array(answers, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(
                "answers: expected a respondents x items array of numbers (pass items= for "
                f"mappings, data frames or survey responses): {exc}",
                field="answers",
            ) from exc
        if x.ndim != 2:
            raise InvalidValueError(f"answers: expected respondents x items, got shape {x.shape}"
                                    " (pass items= for mappings or survey responses)",
                                    field="answers")
        names: Sequence[str] = [str(j) for j in range(x.shape[1])]
    else:
        names = list(items)
        x, _ = answers_matrix(answers, names)
    onehot = x[:, :, np.newaxis] == levels[np.newaxis, np.newaxis, :]
    answered = ~np.isnan(x)
    unknown = answered & ~onehot.any(axis=-1)
    if unknown.any():
        col = int(np.flatnonzero(unknown.any(axis=0))[0])
        rows = np.flatnonzero(unknown[:, col]).tolist()
        raise InvalidValueError(
            f"answers: item {names[col]!r} has answers that are not grades "
            f"{levels.tolist()} in {describe_rows(rows)}: {x[rows[:5], col].tolist()}",
            field=f"answers[{names[col]!r}]", rows=rows,
        )
    if per_respondent:
        return np.asarray(onehot, dtype=np.float64)
    counts = answered.sum(axis=0)
    nobody = np.flatnonzero(counts == 0)
    if len(nobody):
        raise InvalidValueError(f"answers: nobody answered item {names[int(nobody[0])]!r}",
                                field="answers")
    return np.asarray(onehot.sum(axis=0) / counts[:, np.newaxis], dtype=np.float64)


def fuzzy_evaluate_tree(
    tree: IndicatorTree,
    membership: Mapping[str, npt.ArrayLike] | npt.ArrayLike,
    operator: FuzzyOperator = "weighted-average",
    *,
    grades: Sequence[str] | None = None,
    grade_values: npt.ArrayLike | None = None,
) -> dict[str, FuzzyEvaluation]:
    """Multi-level fuzzy evaluation through a weighted indicator tree.

    Leaves take their rows of the membership matrix; each parent is evaluated on the
    *normalised* evaluations of its children with their local weights, bottom up (the
    multi-level model of Wang 1983).

    Parameters
    ----------
    membership:
        ``(leaves, g)`` in ``tree.leaves`` order, or ``(n, leaves, g)`` for a batch, or a
        mapping leaf name -> membership row.

    Returns
    -------
    dict
        Node name -> :class:`FuzzyEvaluation` for every non-leaf node; the goal's is the
        overall evaluation.

    Raises
    ------
    InvalidValueError
        Memberships missing for a leaf, or of the wrong shape.
    CRMError
        The tree is not fully weighted.
    """
    tree.global_weights()  # raises, naming the parents, if the tree is not fully weighted
    items = tree.leaves
    if isinstance(membership, Mapping):
        missing = [item for item in items if item not in membership]
        if missing:
            raise InvalidValueError(f"membership: no membership row for leaves {missing[:8]!r}",
                                    field="membership")
        r = np.stack([np.asarray(membership[item], dtype=np.float64) for item in items],
                     axis=-2)
    else:
        r = np.asarray(membership, dtype=np.float64)
    if r.ndim not in (2, 3) or r.shape[-2] != len(items):
        raise InvalidValueError(
            f"membership: expected ({len(items)} leaves, grades) or (objects, {len(items)}, "
            f"grades), got shape {r.shape}",
            field="membership",
        )
    rows = {item: r[..., j, :] for j, item in enumerate(items)}
    results: dict[str, FuzzyEvaluation] = {}

    def evaluate(node: Node) -> FloatArray:
        if node.is_leaf:
            return rows[node.name]
        child_rows = np.stack([evaluate(child) for child in node.children], axis=-2)
        weights = np.array([0.0 if child.weight is None else child.weight
                            for child in node.children])
        result = fuzzy_evaluate(weights, child_rows, operator, grades=grades,
                                grade_values=grade_values)
        results[node.name] = result
        return result.normalised

    evaluate(tree.root)
    return results
