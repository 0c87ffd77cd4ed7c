"""Plots of the course texts' concepts: pyramid, portfolio, lifecycle stages, AHP weights, IPA.

Each draws a crmcore result object as it is: counts, shares, cut-offs and weights are read
from the object, never recomputed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crmcore._errors import InvalidValueError
from crmcore.plotting._axes import axes

__all__ = [
    "plot_ahp_weights",
    "plot_importance_performance",
    "plot_lifecycle_stages",
    "plot_portfolio",
    "plot_pyramid",
]


def _scheme(segmentation: Any, scheme: str, function: str) -> None:
    if getattr(segmentation, "scheme", None) != scheme:
        raise InvalidValueError(f"{function} draws a {scheme!r} segmentation (from "
                                f"crmcore.value.{scheme}), got "
                                f"{getattr(segmentation, 'scheme', type(segmentation).__name__)!r}",
                                field="segmentation")


def _share(shares: dict[Any, float] | None, key: Any) -> str:
    return "" if shares is None else f", {shares[key]:.0%} of value"


def plot_pyramid(segmentation: Any, *, ax: Any = None, **style: Any) -> Any:
    """The customer pyramid: one centred bar per tier, platinum on top, its width
    the number of customers, labelled with the tier's share of value.

    ``segmentation`` comes from :func:`crmcore.value.pyramid`. ``ax.containers[0]`` holds the
    bars from the bottom (lead) to the top (platinum).
    """
    from crmcore.value._segments import PyramidTier

    _scheme(segmentation, "pyramid", "plot_pyramid")
    ax = axes(ax)
    order = [PyramidTier.LEAD, PyramidTier.IRON, PyramidTier.GOLD, PyramidTier.PLATINUM]
    counts = segmentation.counts()
    shares = segmentation.value_shares()
    widths = np.array([counts[tier] for tier in order], dtype=np.float64)
    positions = np.arange(len(order))
    options = {"height": 0.8, **style}
    ax.barh(positions, widths, left=-widths / 2, **options)
    for y, tier, width in zip(positions, order, widths, strict=True):
        # English names only: the course texts' Chinese terms need a CJK font to draw (they are in
        # the segmentation's notebook display).
        ax.annotate(f"{int(width):,} customers{_share(shares, tier)}", (0, y), ha="center",
                    va="center")
    ax.set_yticks(positions, [tier.value for tier in order])
    ax.set_xticks([])
    ax.set_xlabel("customers (bar width)")
    ax.set_ylabel("tier")
    ax.set_title("Customer pyramid: current value x growth potential")
    return ax


def plot_portfolio(segmentation: Any, *, ax: Any = None, **style: Any) -> Any:
    """Customer portfolio analysis as a two-by-two grid of customer counts:
    historical value across, potential value up, each cell labelled with its quadrant, count
    and share of value.

    ``segmentation`` comes from :func:`crmcore.value.portfolio`; the image's data
    (``ax.images[0].get_array()``) is the counts, row 0 low potential, column 0 low history.
    """
    from crmcore.value._segments import PortfolioQuadrant as Q

    _scheme(segmentation, "portfolio", "plot_portfolio")
    ax = axes(ax)
    counts = segmentation.counts()
    shares = segmentation.value_shares()
    grid = [[Q.ABANDON, Q.MAINTAIN], [Q.CULTIVATE, Q.INVEST]]  # [potential][historical]
    matrix = np.array([[counts[q] for q in row] for row in grid], dtype=np.float64)
    options = {"cmap": "Blues", "origin": "lower", **style}
    image = ax.imshow(matrix, **options)
    ax.figure.colorbar(image, ax=ax, label="customers")
    for i, row in enumerate(grid):
        for j, quadrant in enumerate(row):
            share = "" if shares is None else f"\n{shares[quadrant]:.0%} of value"
            ax.annotate(f"{quadrant.value}\n{counts[quadrant]:,} customers{share}", (j, i),
                        ha="center", va="center", fontsize="small",
                        color="white" if matrix[i, j] > matrix.mean() else "black")
    cuts = segmentation.cut_offs
    ax.set_xticks([0, 1], ["low", "high"])
    ax.set_yticks([0, 1], ["low", "high"])
    ax.set_xlabel(f"historical value (money; split at {cuts['historical_value']:,.2f})")
    ax.set_ylabel(f"potential value (money; split at {cuts['potential_value']:,.2f})")
    ax.set_title("Customer portfolio")
    return ax


def plot_lifecycle_stages(result: Any, *, ax: Any = None, **style: Any) -> Any:
    """Customers per lifecycle stage: bars for one cut-off (a
    :class:`crmcore.lifecycle.StageResult` or :class:`crmcore.Scores`), one line per stage
    across cut-off dates for a :class:`crmcore.lifecycle.StageMigration`.

    Bars: ``ax.containers[0]``, in lifecycle order; lines: ``ax.lines[k]`` for the stage of
    order ``k``, over ``result.cutoffs``.
    """
    from crmcore.lifecycle._migration import StageMigration
    from crmcore.lifecycle._stages import LifecycleStage

    ax = axes(ax)
    stages = sorted(LifecycleStage, key=lambda s: s.order)
    if isinstance(result, StageMigration):
        for stage in stages:
            counts = (result.code == stage.order).sum(axis=0)
            ax.plot(result.cutoffs, counts, marker="o", label=stage.value, **style)
        ax.set_xlabel("cut-off date")
        ax.set_ylabel("customers")
        ax.set_title("Lifecycle stages over time")
        ax.legend()
        ax.figure.autofmt_xdate()
        return ax
    if hasattr(result, "counts") and callable(result.counts):  # StageResult
        by_stage = result.counts()
        counts = [by_stage[stage] for stage in stages]
    else:
        stage_counts = result.summary().stage_counts if hasattr(result, "summary") else None
        if stage_counts is None:
            raise InvalidValueError("plot_lifecycle_stages needs a StageResult, a "
                                    "StageMigration, or Scores with a lifecycle stage",
                                    field="result")
        counts = [stage_counts.get(stage.value, 0) for stage in stages]
    ax.bar([stage.value for stage in stages], counts, **style)
    ax.set_xlabel("lifecycle stage")
    ax.set_ylabel("customers")
    ax.set_title("Customers by lifecycle stage")
    return ax


def plot_ahp_weights(result: Any, *, ax: Any = None, **style: Any) -> Any:
    """Weights as horizontal bars: an :class:`crmcore.satisfaction.IndicatorTree`'s global
    weights of its indicators (leaves; they sum to 1), or an
    :class:`crmcore.satisfaction.AHPResult`'s priority weights.

    ``ax.containers[0]`` holds one bar per indicator, in the tree's (or matrix's) order from
    the top.
    """
    ax = axes(ax)
    if hasattr(result, "leaf_weights"):
        names = list(result.leaves)
        weights = np.asarray(result.leaf_weights(), dtype=np.float64)
        title, label = "Global weights of the indicators", "global weight (share of the goal)"
    elif hasattr(result, "weights_by_label"):
        names = list(result.labels)
        weights = np.asarray(result.weights, dtype=np.float64)
        title = f"AHP weights (CR = {result.consistency_ratio:.3f})"
        label = "priority weight (sum = 1)"
    else:
        raise InvalidValueError("plot_ahp_weights needs an IndicatorTree or an AHPResult",
                                field="result")
    positions = np.arange(len(names))[::-1]  # first item on top
    ax.barh(positions, weights, **style)
    ax.set_yticks(positions, names)
    ax.set_xlabel(label)
    ax.set_title(title)
    return ax


def plot_importance_performance(result: Any, *, ax: Any = None, **style: Any) -> Any:
    """Importance-performance grid (Martilla & James 1977): performance across, importance
    up, the grid split at the result's centres, each attribute labelled.

    ``result`` is a :class:`crmcore.satisfaction.IPAResult`; ``ax.collections[0]`` holds the
    points ``(performance, importance)``.
    """
    ax = axes(ax)
    ax.scatter(result.performance, result.importance, **style)
    for label, x, y in zip(result.labels, result.performance, result.importance, strict=True):
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 4))
    ax.axvline(result.performance_centre, color="grey", linestyle=":")
    ax.axhline(result.importance_centre, color="grey", linestyle=":")
    corners = [("concentrate here", 0.02, 0.98, "left"), ("keep up the good work", 0.98, 0.98,
                                                         "right"),
               ("low priority", 0.02, 0.02, "left"), ("possible overkill", 0.98, 0.02, "right")]
    for text, x, y, align in corners:
        ax.text(x, y, text, transform=ax.transAxes, ha=align,
                va="top" if y > 0.5 else "bottom", color="grey")
    ax.margins(0.15)  # room for the labels and the quadrant names
    ax.set_xlabel("performance (mean rating on the survey's scale)")
    ax.set_ylabel("importance (mean rating on the survey's scale)")
    ax.set_title("Importance-performance analysis")
    return ax
