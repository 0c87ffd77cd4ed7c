"""Satisfaction models: what the plugin registry hands out for kind ``"satisfaction"``.

Every model turns survey answers into a satisfaction index per respondent (0-100) with
``score(answers)``; a firm plugs in its own index by offering another class with the same
method through the ``crmcore_satisfaction_models`` hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from crmcore._errors import InvalidValueError, SerializationError
from crmcore._serialization import dump_document, load_document
from crmcore.protocols import SatisfactionModel
from crmcore.satisfaction._answers import Answers, answers_matrix
from crmcore.satisfaction._fuzzy import (
    FUZZY_OPERATORS,
    FuzzyOperator,
    fuzzy_evaluate_tree,
    membership_from_answers,
)
from crmcore.satisfaction._indices import acsi_index
from crmcore.satisfaction._satisfaction_index import (
    Missing,
    SatisfactionIndex,
    ScaleSpec,
    satisfaction_index,
)
from crmcore.satisfaction._templates import satisfaction_factors_tree
from crmcore.satisfaction._tree import IndicatorTree

__all__ = ["ACSIModel", "FuzzySatisfactionIndex", "SatisfactionModel",
           "WeightedSatisfactionIndex"]

FloatArray: TypeAlias = npt.NDArray[np.float64]


def _default_tree() -> IndicatorTree:
    return satisfaction_factors_tree().with_equal_weights()


def _check_tree(tree: object) -> IndicatorTree:
    if not isinstance(tree, IndicatorTree):
        raise InvalidValueError(f"tree must be an IndicatorTree, got {type(tree).__name__}",
                                field="tree")
    tree.global_weights()  # raises, naming the parents, when weights are missing
    return tree


class WeightedSatisfactionIndex:
    """Weighted satisfaction index through an indicator tree
    (:func:`crmcore.satisfaction.satisfaction_index`); the default satisfaction model.

    Parameters
    ----------
    tree:
        A fully weighted :class:`IndicatorTree`. Default: the course texts' five satisfaction
        factors (:func:`crmcore.satisfaction.satisfaction_factors_tree`) with equal weights, rated
        1-5.
    scale:
        Scale for leaves without one.
    missing:
        ``"raise"`` or ``"reweight"`` (see :func:`crmcore.satisfaction.satisfaction_index`).

    Examples
    --------
    >>> import crmcore
    >>> model = crmcore.get_model("satisfaction")
    >>> model.score([[5, 4, 4, 3, 5]]).round(6).tolist()
    [80.0]
    """

    name = "weighted-index"

    def __init__(self, tree: IndicatorTree | None = None, *,
                 scale: ScaleSpec = None, missing: Missing = "raise") -> None:
        self.tree = _default_tree() if tree is None else _check_tree(tree)
        self.scale = scale
        self.missing: Missing = missing

    def evaluate(self, answers: Answers) -> SatisfactionIndex:
        """Index per respondent and overall, with sub-indices per node."""
        return satisfaction_index(self.tree, answers, scale=self.scale, missing=self.missing)

    def score(self, answers: Answers) -> FloatArray:
        """Satisfaction index (0-100) per respondent."""
        return self.evaluate(answers).index

    def to_json(self) -> str:
        """The model (tree and settings) as JSON."""
        return dump_document("WeightedSatisfactionIndex", 1, {
            "tree": self.tree.to_json(),
            "scale": list(self.scale) if isinstance(self.scale, tuple) else self.scale,
            "missing": self.missing,
        })

    @classmethod
    def from_json(cls, text: str | bytes) -> WeightedSatisfactionIndex:
        """Read a model written by :meth:`to_json`."""
        payload = load_document(text, "WeightedSatisfactionIndex", (1,))
        if set(payload) != {"tree", "scale", "missing"}:
            raise SerializationError("saved WeightedSatisfactionIndex must hold 'tree', "
                                     f"'scale' and 'missing', found {sorted(payload)!r}")
        raw = payload["scale"]
        scale: ScaleSpec
        if raw is None or raw == "observed":
            scale = raw
        elif isinstance(raw, list) and len(raw) == 2:
            scale = (float(raw[0]), float(raw[1]))
        else:
            raise SerializationError(f"saved WeightedSatisfactionIndex has an invalid scale "
                                     f"{raw!r}")
        if payload["missing"] not in ("raise", "reweight"):
            raise SerializationError(f"saved WeightedSatisfactionIndex has an invalid missing "
                                     f"policy {payload['missing']!r}")
        return cls(IndicatorTree.from_json(payload["tree"]), scale=scale,
                   missing=payload["missing"])


class FuzzySatisfactionIndex:
    """Satisfaction index by multi-level fuzzy comprehensive evaluation
    (:func:`crmcore.satisfaction.fuzzy_evaluate_tree`), per respondent.

    Each respondent's answers become 0/1 memberships of the answer grades; the goal's
    normalised evaluation is scored with the grade values and rescaled to 0-100 between the
    lowest and highest grade. With ``operator="weighted-average"`` this equals the weighted
    index; the max-based operators let the dominant indicator decide.

    Parameters
    ----------
    tree:
        A fully weighted :class:`IndicatorTree` (default as for
        :class:`WeightedSatisfactionIndex`).
    grades:
        The answer values, one per grade (default 1-5).
    operator:
        Composition operator (see :func:`crmcore.satisfaction.fuzzy_evaluate`).
    """

    name = "fuzzy"

    def __init__(self, tree: IndicatorTree | None = None, *,
                 grades: Sequence[float] = (5, 4, 3, 2, 1),
                 operator: FuzzyOperator = "weighted-average") -> None:
        self.tree = _default_tree() if tree is None else _check_tree(tree)
        self.grades = tuple(float(g) for g in grades)
        if len(self.grades) < 2 or len(set(self.grades)) != len(self.grades):
            raise InvalidValueError(f"grades: expected at least two distinct values, got "
                                    f"{grades!r}", field="grades")
        if operator not in FUZZY_OPERATORS:
            raise InvalidValueError(f"operator: unknown fuzzy operator {operator!r}",
                                    field="operator")
        self.operator: FuzzyOperator = operator

    def score(self, answers: Answers) -> FloatArray:
        """Satisfaction index (0-100) per respondent."""
        items = self.tree.leaves
        x, _ = answers_matrix(answers, items)
        r = membership_from_answers(x, self.grades, items=items, per_respondent=True)
        missing = np.isnan(x)
        if missing.any():
            col = int(np.flatnonzero(missing.any(axis=0))[0])
            raise InvalidValueError(f"answers: item {items[col]!r} is missing for some "
                                    "respondents; the fuzzy index needs every answer",
                                    field=f"answers[{items[col]!r}]")
        values = np.asarray(self.grades)
        result = fuzzy_evaluate_tree(self.tree, r, self.operator, grade_values=values)
        score = np.asarray(result[self.tree.root.name].score, dtype=np.float64)
        low, high = values.min(), values.max()
        return np.asarray(100.0 * (score - low) / (high - low), dtype=np.float64).reshape(-1)


class ACSIModel:
    """ACSI-form index of a few satisfaction measures (:func:`crmcore.satisfaction.acsi_index`).

    Parameters
    ----------
    weights:
        Weight of each measure (item name -> weight), e.g. PLS outer weights.
    scale:
        Answer scale (1-10 in the ACSI).
    """

    name = "acsi"

    def __init__(self, weights: dict[str, float] | None = None, *,
                 scale: tuple[float, float] = (1, 10)) -> None:
        if weights is None:
            weights = {"overall": 1.0, "expectations": 1.0, "ideal": 1.0}
        if not isinstance(weights, dict) or not weights:
            raise InvalidValueError("weights: expected a mapping of item name -> weight",
                                    field="weights")
        self.weights = dict(weights)
        self.scale = scale

    def score(self, answers: Answers) -> FloatArray:
        """ACSI (0-100) per respondent."""
        items = list(self.weights)
        x, _ = answers_matrix(answers, items)
        return acsi_index(x, [self.weights[i] for i in items], scale=self.scale).per_respondent
