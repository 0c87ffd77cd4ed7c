"""What customers did in a holdout, grouped, and how well a score ranks an outcome.

The shared ground of every backtest: a label a firm acts on (a lifecycle stage, a churn risk,
a segment) is a claim about the future, checked by calibrating on the part of a log before a
split and looking at what each group of customers did after it. Lifecycle's
:func:`crmcore.lifecycle.backtest` and value's :func:`crmcore.value.backtest_segments` both
read the holdout through :func:`holdout_outcomes`, group it with :func:`group_means` and rank
with :func:`roc_auc` and :func:`lift`; they live in the core because the two packages may not
import each other.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CalibrationHoldout
from crmcore._errors import DataError, InvalidValueError

__all__ = ["HoldoutOutcomes", "group_means", "holdout_outcomes", "lift", "plot_returned",
           "roc_auc"]

_FloatArray = NDArray[np.float64]


@attrs.frozen(eq=False)
class HoldoutOutcomes:
    """Per calibration customer, what they did in the holdout.

    Attributes
    ----------
    bought:
        Bought again (at least one purchase period in the holdout).
    purchases:
        Purchase periods in the holdout.
    spend:
        Spend in the holdout (purchase periods times their mean value; NaN when the base
        records no spend).
    """

    bought: NDArray[np.bool_]
    purchases: _FloatArray
    spend: _FloatArray


def holdout_outcomes(split: CalibrationHoldout) -> HoldoutOutcomes:
    """Read the holdout of ``split``, aligned with its calibration base.

    Raises
    ------
    DataError
        ``split`` is not a :class:`crmcore.CalibrationHoldout`.
    """
    if not isinstance(split, CalibrationHoldout):
        raise DataError(f"expected a CalibrationHoldout, got {type(split).__name__}",
                        field="split")
    purchases = np.asarray(split.frequency_holdout, dtype=np.float64)
    spend = purchases * np.asarray(split.monetary_value_holdout, dtype=np.float64)
    return HoldoutOutcomes(bought=purchases > 0, purchases=purchases, spend=spend)


def group_means(group: NDArray[np.int64], n_groups: int,
                **columns: NDArray[np.float64] | NDArray[np.bool_]
                ) -> tuple[NDArray[np.int64], dict[str, _FloatArray]]:
    """Customers per group and each column's mean per group.

    ``group`` holds each customer's group number (``0 .. n_groups - 1``; a negative number
    leaves the customer out). An empty group's means are NaN.
    """
    counted = group >= 0
    g = group[counted]
    customers = np.bincount(g, minlength=n_groups).astype(np.int64)
    means: dict[str, _FloatArray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, values in columns.items():
            weights = np.asarray(values, dtype=np.float64)[counted]
            means[name] = np.bincount(g, weights=weights, minlength=n_groups) / customers
    return customers, means


def _scores_and_labels(score: ArrayLike, positive: ArrayLike) -> tuple[_FloatArray,
                                                                      NDArray[np.bool_]]:
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    y = np.asarray(positive).reshape(-1)
    if y.dtype != bool:
        raise InvalidValueError("positive must be a boolean array (True: the event happened)",
                                field="positive")
    if len(s) != len(y):
        raise InvalidValueError(f"score has {len(s)} values, positive {len(y)}",
                                field="score")
    if not np.all(np.isfinite(s)):
        raise InvalidValueError("score must be finite", field="score")
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        raise InvalidValueError(
            "ROC AUC and lift need both outcomes: "
            + ("no customer had the event" if n_pos == 0 else "every customer had the event"),
            field="positive")
    return s, y


def roc_auc(score: ArrayLike, positive: ArrayLike) -> float:
    """Area under the ROC curve: the probability that a random positive scores higher than a
    random negative, ties counting one half.

    Computed by the Mann-Whitney rank formula ``(R+ - n+ (n+ + 1) / 2) / (n+ n-)``, with ``R+``
    the sum of the positives' ranks among all scores (tied scores get their mean rank).

    Parameters
    ----------
    score:
        Higher means more likely positive (e.g. churn risk).
    positive:
        Boolean per customer: the event happened (e.g. no purchase in the holdout).

    Raises
    ------
    InvalidValueError
        Misaligned or non-finite input, a non-boolean outcome, or only one outcome present.
    """
    from scipy.stats import rankdata  # scipy.stats is slow to import; only here

    s, y = _scores_and_labels(score, positive)
    ranks = rankdata(s)
    n_pos = float(y.sum())
    n_neg = float(len(y)) - n_pos
    return float((ranks[y].sum() - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))


def lift(score: ArrayLike, positive: ArrayLike, share: float) -> float:
    """Rate of positives among the ``share`` of customers with the highest scores, over the
    rate among all customers (1: no better than picking at random).

    Customers tied at the cut-off are taken in proportion, so the result does not depend on
    the order of ties.

    Raises
    ------
    InvalidValueError
        ``share`` not in (0, 1], or bad input as for :func:`roc_auc`.
    """
    s, y = _scores_and_labels(score, positive)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise InvalidValueError(f"share must lie in (0, 1], got {share!r}", field="share")
    k = share * len(s)
    cut = np.sort(s)[::-1][max(math.ceil(k - 1e-9), 1) - 1]
    above = s > cut
    tied = s == cut
    taken_tied = k - float(above.sum())
    positives = float(y[above].sum()) + taken_tied * float(y[tied].mean())
    return (positives / k) / float(y.mean())


def plot_returned(
    ax: Any, labels: list[str], returned: ArrayLike, customers: ArrayLike, overall: float, *,
    holdout: float, time_unit: str, title: str, rotate: bool = False, **bar_style: Any,
) -> Any:
    """The chart every backtest draws: per group the share who bought again in the holdout
    (bars labelled with the share and the group's size), the whole base's share as a dashed
    line. Draws on ``ax`` (default: a new figure's axes, matplotlib imported here) and returns
    it."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 3.8))
    x = np.arange(len(labels))
    heights = np.nan_to_num(np.asarray(returned, dtype=np.float64), nan=0.0)
    bars = ax.bar(x, heights, **{"color": "#1f5f8b", **bar_style})
    ax.bar_label(bars, labels=[f"{r:.0%}\n{c:,}" if c else "none"
                               for r, c in zip(heights, np.asarray(customers), strict=True)],
                 padding=2, fontsize=8)
    ax.axhline(overall, color="0.3", linestyle="--", linewidth=1,
               label=f"all customers ({overall:.0%})")
    if rotate:
        ax.set_xticks(x, labels, rotation=30, ha="right")
    else:
        ax.set_xticks(x, labels)
    ax.set_ylim(0, min(1.0, float(np.max(heights, initial=overall)) * 1.25 + 0.05))
    ax.set_ylabel(f"bought again within {holdout:g} {time_unit} (share)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return ax
