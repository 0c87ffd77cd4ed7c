"""The weighted satisfaction index: survey answers through an indicator tree to 0-100.

Each answer is rescaled to [0, 1] on its indicator's scale, :math:`z = (x - low) / (high - low)`
for a benefit indicator and :math:`z = (high - x) / (high - low)` for a cost indicator, and
weighted by the indicator's global weight: :math:`S = 100 \\sum_j W_j z_j / \\sum_j W_j`. With
a 1-10 scale this is the 0-100 rescaling of the ACSI (Fornell et al. 1996); the same formula
gives a sub-index for every criterion of the tree from the indicators under it.

References
----------
Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J. & Bryant, B. E. (1996). The American
Customer Satisfaction Index: nature, purpose, and findings. *Journal of Marketing* 60(4), 7-18.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore._domain import CustomerId
from crmcore._errors import InvalidValueError, describe_rows
from crmcore.satisfaction._answers import Answers, answers_matrix, check_in_scale
from crmcore.satisfaction._tree import Direction, IndicatorTree, Scale

__all__ = ["SatisfactionIndex", "ScaleSpec", "normalise_answers", "satisfaction_index"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Missing: TypeAlias = Literal["raise", "reweight"]


ScaleSpec: TypeAlias = tuple[float, float] | Literal["observed"] | None


def _scales(tree: IndicatorTree, scale: ScaleSpec, x: FloatArray
            ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    default = None if scale is None or scale == "observed" else Scale(*scale)
    lows, highs, cost = [], [], []
    for j, leaf in enumerate(tree.leaf_nodes()):
        s = leaf.scale or default
        if s is None and scale == "observed":
            column = x[:, j][~np.isnan(x[:, j])]
            if column.size == 0 or column.min() == column.max():
                raise InvalidValueError(
                    f"indicator {leaf.name!r} has no scale and its observed values do not vary, "
                    "so they cannot be rescaled; give it a scale",
                    field="scale",
                )
            s = Scale(float(column.min()), float(column.max()))
        if s is None:
            raise InvalidValueError(
                f"indicator {leaf.name!r} has no scale; give the tree's leaves scales or pass "
                "scale=(low, high) or scale='observed'",
                field="scale",
            )
        lows.append(s.low)
        highs.append(s.high)
        cost.append(leaf.direction is Direction.COST)
    return np.array(lows), np.array(highs), np.array(cost)


def normalise_answers(
    tree: IndicatorTree, answers: Answers, *, scale: ScaleSpec = None
) -> FloatArray:
    """Answers rescaled to [0, 1] per indicator (cost indicators reversed), NaN where missing.

    ``scale`` applies to indicators that have none of their own: ``(low, high)``, or
    ``"observed"`` for the smallest and largest value observed for each such indicator (min-max
    normalisation, for measurements such as the course texts' systems X and Y compared across
    customers or firms).

    Raises
    ------
    InvalidValueError
        Answers outside an indicator's scale (the indicator and rows are named), an indicator
        without a scale (or, with ``"observed"``, whose values do not vary), or answers of the
        wrong shape.
    """
    items = tree.leaves
    x, _ = answers_matrix(answers, items)
    low, high, cost = _scales(tree, scale, x)
    check_in_scale(x, items, low, high)
    z = (x - low) / (high - low)
    return np.asarray(np.where(cost, 1.0 - z, z), dtype=np.float64)


@attrs.frozen(eq=False)
class SatisfactionIndex:
    """Satisfaction index per respondent and overall, with a sub-index per tree node.

    Attributes
    ----------
    index:
        0-100 per respondent.
    overall:
        Mean of ``index`` over respondents.
    nodes:
        Node name -> 0-100 sub-index per respondent: for a criterion, from the indicators
        under it (the goal's equals ``index``); for an indicator, the rescaled answer itself.
        NaN for a respondent who answered none of a node's indicators.
    respondents:
        The respondents' ids when the answers were survey responses, else ``None``.
    """

    index: FloatArray
    overall: float
    nodes: Mapping[str, FloatArray]
    respondents: tuple[CustomerId, ...] | None

    def node_overall(self) -> dict[str, float]:
        """Each node's sub-index averaged over the respondents who answered under it."""
        return {name: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
                for name, v in self.nodes.items()}


def satisfaction_index(
    tree: IndicatorTree,
    answers: Answers,
    *,
    scale: ScaleSpec = None,
    missing: Missing = "raise",
) -> SatisfactionIndex:
    """Weighted satisfaction index (0-100) per respondent and overall.

    Parameters
    ----------
    tree:
        A fully weighted indicator tree; answers are matched to its leaves by name.
    answers:
        See :data:`crmcore.satisfaction.Answers`: an array with one column per leaf (in
        ``tree.leaves`` order), a mapping or data frame keyed by leaf name, or survey responses.
    scale:
        Scale for leaves without one, e.g. ``(1, 5)``, or ``"observed"`` to min-max normalise
        them over the answers given (see :func:`normalise_answers`).
    missing:
        ``"raise"``: every respondent must answer every indicator. ``"reweight"``: a missing
        answer drops its indicator for that respondent and the remaining weights are rescaled
        to sum to 1; a respondent must still answer at least one indicator.

    Raises
    ------
    InvalidValueError
        Answers outside their scale, missing answers (with ``missing="raise"``; the indicators
        and rows are named), a respondent with no answers, or an unknown ``missing`` policy.
    CRMError
        The tree is not fully weighted.
    """
    if missing not in ("raise", "reweight"):
        raise InvalidValueError(f"missing must be 'raise' or 'reweight', got {missing!r}",
                                field="missing")
    items = tree.leaves
    weights = tree.leaf_weights()
    x, respondents = answers_matrix(answers, items)
    if x.shape[0] == 0:
        raise InvalidValueError("answers: no respondents", field="answers")
    z = normalise_answers(tree, x, scale=scale)
    answered = ~np.isnan(z)
    if missing == "raise" and not answered.all():
        col = int(np.flatnonzero(~answered.all(axis=0))[0])
        rows = np.flatnonzero(~answered[:, col]).tolist()
        raise InvalidValueError(
            f"answers: item {items[col]!r} is missing in {describe_rows(rows)}; pass "
            "missing='reweight' to score respondents on the items they answered",
            field=f"answers[{items[col]!r}]", rows=rows,
        )
    empty = np.flatnonzero(~answered.any(axis=1))
    if len(empty):
        raise InvalidValueError(f"answers: {describe_rows(empty.tolist())} answered no item",
                                field="answers", rows=empty.tolist())
    # One row per node: the global weights of the leaves under it (vectorised sub-indices).
    g = tree.global_weights()
    names = [node.name for node in tree.nodes() if not node.is_leaf]
    position = {item: j for j, item in enumerate(items)}
    under = np.zeros((len(names), len(items)))
    for r, name in enumerate(names):
        for _, node in tree.node(name).walk():
            if node.is_leaf:
                under[r, position[node.name]] = g[node.name]
    filled = np.where(answered, z, 0.0)
    numerator = filled @ under.T
    denominator = answered.astype(np.float64) @ under.T
    with np.errstate(invalid="ignore", divide="ignore"):
        sub = 100.0 * numerator / denominator
    sub = np.where(denominator > 0, sub, np.nan)
    nodes = {name: sub[:, r].copy() for r, name in enumerate(names)}
    for j, item in enumerate(items):
        nodes[item] = np.asarray(100.0 * z[:, j], dtype=np.float64)
    answered_weight = answered @ weights
    weightless = np.flatnonzero(answered_weight <= 0)
    if len(weightless):
        raise InvalidValueError(
            f"answers: {describe_rows(weightless.tolist())} answered only indicators of "
            "weight 0",
            field="answers", rows=weightless.tolist(),
        )
    index = np.asarray(100.0 * (filled @ weights) / answered_weight, dtype=np.float64)
    nodes[tree.root.name] = index
    return SatisfactionIndex(index=index, overall=float(index.mean()), nodes=nodes,
                             respondents=respondents)
