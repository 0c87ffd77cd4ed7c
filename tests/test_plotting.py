"""crmcore.plotting: what each plot draws is crmcore's own numbers (and lifetimes' where it has
the same quantity), its axes carry units, and it works headless."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from crmcore import CalibrationHoldout, CustomerBase, InvalidValueError
from crmcore.datasets import CDNOW_CALIBRATION_END, load_cdnow
from crmcore.lifecycle import classify, stage_migration
from crmcore.plotting import (
    plot_ahp_weights,
    plot_calibration_purchases_vs_holdout_purchases,
    plot_cumulative_transactions,
    plot_frequency_recency_matrix,
    plot_importance_performance,
    plot_incremental_transactions,
    plot_lifecycle_stages,
    plot_period_transactions,
    plot_portfolio,
    plot_probability_alive_matrix,
    plot_pyramid,
)
from crmcore.satisfaction import (
    IndicatorTree,
    Node,
    ahp,
    importance_performance,
)
from crmcore.value import (
    BGNBD,
    PortfolioQuadrant,
    PyramidTier,
    portfolio,
    pyramid,
    transaction_tracking,
)


@pytest.fixture(scope="module")
def cdnow() -> tuple[CustomerBase, CalibrationHoldout, BGNBD]:
    base = load_cdnow()
    split = base.calibration_holdout(CDNOW_CALIBRATION_END)
    return base, split, BGNBD().fit(split.calibration)


@pytest.fixture
def ax() -> Any:
    return Figure().add_subplot()  # no pyplot: nothing global, nothing shown


@pytest.fixture(scope="module")
def lifetimes_bgnbd(cdnow: tuple[CustomerBase, CalibrationHoldout, BGNBD]) -> Any:
    from lifetimes import BetaGeoFitter

    reference = BetaGeoFitter()
    params = cdnow[2].params_
    reference.params_ = {k: params[k] for k in ("r", "alpha", "a", "b")}
    return reference


def _bars(container: Any, attribute: str = "height") -> np.ndarray:
    return np.array([getattr(patch, f"get_{attribute}")() for patch in container])


def test_period_transactions_bars_are_counts(cdnow: Any, ax: Any) -> None:
    _, split, model = cdnow
    calibration = split.calibration
    assert plot_period_transactions(model, calibration, ax=ax) is ax
    observed = np.bincount(np.minimum(calibration.frequency, 7), minlength=8)
    np.testing.assert_array_equal(_bars(ax.containers[0]), observed)
    assert _bars(ax.containers[0])[0] == 1411  # FHL 2005 figure 1: 1,411 with no repeat
    np.testing.assert_allclose(_bars(ax.containers[1]),
                               model.expected_repeat_purchase_counts(calibration, max_k=7))
    assert _bars(ax.containers[1]).sum() == pytest.approx(len(calibration))
    assert ax.get_ylabel() == "customers"


def test_calibration_vs_holdout_lines_are_group_means(cdnow: Any, ax: Any) -> None:
    _, split, model = cdnow
    plot_calibration_purchases_vs_holdout_purchases(model, split, max_frequency=5, ax=ax)
    group = np.minimum(split.calibration.frequency, 5)
    forecast = model.expected_purchases(split.duration_holdout, split.calibration)
    actual = [split.frequency_holdout[group == k].mean() for k in range(6)]
    expected = [forecast[group == k].mean() for k in range(6)]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), actual)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), expected)
    assert "39-week holdout" in ax.get_ylabel()


def test_cumulative_tracking_against_the_data_and_lifetimes(
        cdnow: Any, ax: Any, lifetimes_bgnbd: Any) -> None:
    _, split, model = cdnow
    plot_cumulative_transactions(model, split, ax=ax)
    tracking = transaction_tracking(model, split)
    actual, expected = ax.lines[0].get_ydata(), ax.lines[1].get_ydata()
    np.testing.assert_array_equal(actual, tracking.cumulative_actual)
    np.testing.assert_array_equal(expected, tracking.cumulative_expected)
    at_split = int(np.flatnonzero(ax.lines[0].get_xdata() == tracking.split_time)[0])
    assert actual[at_split] == split.calibration.frequency.sum() == 2457
    assert actual[-1] == 2457 + split.frequency_holdout.sum()
    # lifetimes' unconditional expectation for each customer over their whole 78 weeks
    whole = split.calibration.T + split.duration_holdout
    reference = lifetimes_bgnbd.expected_number_of_purchases_up_to_time(whole).sum()
    assert expected[-1] == pytest.approx(reference, rel=1e-6)
    assert ax.lines[2].get_xdata()[0] == pytest.approx(tracking.split_time)  # the split
    assert ax.get_xlabel().endswith("(weeks)")


def test_incremental_tracking_is_per_week(cdnow: Any, ax: Any) -> None:
    _, split, model = cdnow
    plot_incremental_transactions(model, split, ax=ax)
    tracking = transaction_tracking(model, split)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), tracking.actual)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.diff(tracking.cumulative_expected,
                                                                prepend=0.0))
    assert np.diff(ax.lines[0].get_xdata())[1:-1] == pytest.approx(1.0)  # weekly steps
    assert "per 1 week" in ax.get_ylabel()


def test_tracking_refuses_a_split_without_history(cdnow: Any) -> None:
    import attrs

    from crmcore import DataError

    _, split, model = cdnow
    with pytest.raises(DataError, match="history"):
        transaction_tracking(model, attrs.evolve(split, history=None))


def test_frequency_recency_matrix_is_the_models_forecast(
        cdnow: Any, ax: Any, lifetimes_bgnbd: Any) -> None:
    _, split, model = cdnow
    plot_frequency_recency_matrix(model, split.calibration, t=1.0, ax=ax)
    image = ax.images[0].get_array()
    T = float(split.calibration.T.max())
    assert image.shape == (int(split.calibration.frequency.max()) + 1, int(T) + 1)
    for x, r in [(1, 5), (3, 20), (10, 38), (0, 0)]:
        ours = np.asarray(model.expected_purchases(1.0, x, r, T)).reshape(-1)[0]
        assert image[x, r] == pytest.approx(ours)
        assert image[x, r] == pytest.approx(
            lifetimes_bgnbd.conditional_expected_number_of_purchases_up_to_time(1.0, x, r, T),
            rel=1e-6)
    assert np.ma.is_masked(image[0, 5])  # no repeat purchase, yet a recency: nobody is there
    assert "weeks" in ax.get_xlabel()


def test_probability_alive_matrix_is_the_models_p_alive(
        cdnow: Any, ax: Any, lifetimes_bgnbd: Any) -> None:
    _, _split, model = cdnow
    plot_probability_alive_matrix(model, T=38.0, max_frequency=12, ax=ax)
    image = ax.images[0].get_array()
    assert image.shape == (13, 39)
    for x, r in [(1, 1), (4, 30), (12, 38)]:
        assert image[x, r] == pytest.approx(
            lifetimes_bgnbd.conditional_probability_alive(x, r, 38.0), rel=1e-6)
    with pytest.raises(InvalidValueError, match="max_recency"):
        plot_probability_alive_matrix(model, T=10.0, max_frequency=3, max_recency=11.0, ax=ax)


def test_pyramid_bar_widths_are_counts(ax: Any) -> None:
    rng = np.random.default_rng(3)
    segmentation = pyramid(rng.gamma(2.0, 50.0, 400), rng.gamma(1.5, 30.0, 400))
    plot_pyramid(segmentation, ax=ax)
    counts = segmentation.counts()
    order = [PyramidTier.LEAD, PyramidTier.IRON, PyramidTier.GOLD, PyramidTier.PLATINUM]
    np.testing.assert_array_equal(_bars(ax.containers[0], "width"), [counts[t] for t in order])
    # centred: each bar spans -count/2 .. count/2
    np.testing.assert_allclose(_bars(ax.containers[0], "x"),
                               [-counts[t] / 2 for t in order])
    assert ax.get_xlabel().startswith("customers")
    with pytest.raises(InvalidValueError, match="pyramid"):
        plot_pyramid(portfolio([1.0, 2.0], [2.0, 1.0]), ax=ax)


def test_portfolio_cells_are_counts(ax: Any) -> None:
    rng = np.random.default_rng(4)
    segmentation = portfolio(rng.gamma(2.0, 50.0, 300), rng.gamma(1.5, 30.0, 300))
    plot_portfolio(segmentation, ax=ax)
    counts = segmentation.counts()
    Q = PortfolioQuadrant
    np.testing.assert_array_equal(ax.images[0].get_array(),
                                  [[counts[Q.ABANDON], counts[Q.MAINTAIN]],
                                   [counts[Q.CULTIVATE], counts[Q.INVEST]]])
    cut = float(segmentation.cut_offs["historical_value"])
    assert f"{cut:,.2f}" in ax.get_xlabel()


def test_lifecycle_stage_bars_and_lines_are_counts(cdnow: Any, ax: Any) -> None:
    base, _, _ = cdnow
    result = classify(base)
    plot_lifecycle_stages(result, ax=ax)
    np.testing.assert_array_equal(_bars(ax.containers[0]), list(result.counts().values()))
    assert _bars(ax.containers[0]).sum() == len(base)

    migration = stage_migration(base, ["1997-06-30", "1997-12-31", "1998-06-30"])
    over_time = Figure().add_subplot()
    plot_lifecycle_stages(migration, ax=over_time)
    assert len(over_time.lines) == 5
    for order, line in enumerate(over_time.lines):
        np.testing.assert_array_equal(line.get_ydata(), (migration.code == order).sum(axis=0))
    last = np.array([np.asarray(line.get_ydata())[-1] for line in over_time.lines])
    np.testing.assert_array_equal(last, list(result.counts().values()))


def test_ahp_weight_bars(ax: Any) -> None:
    matrix = np.array([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]])
    result = ahp(matrix, labels=["price", "speed", "care"])
    plot_ahp_weights(result, ax=ax)
    np.testing.assert_allclose(_bars(ax.containers[0], "width"), result.weights)
    tree = IndicatorTree(Node("goal", children=[
        Node("A", children=[Node("a1"), Node("a2")]), Node("B")]))
    tree = tree.with_ahp(None, np.array([[1, 3], [1 / 3, 1]])).with_weights("A", [0.25, 0.75])
    tree_ax = Figure().add_subplot()
    plot_ahp_weights(tree, ax=tree_ax)
    np.testing.assert_allclose(_bars(tree_ax.containers[0], "width"), tree.leaf_weights())
    np.testing.assert_allclose(_bars(tree_ax.containers[0], "width"),
                               [0.75 * 0.25, 0.75 * 0.75, 0.25])
    ticks = sorted(zip(tree_ax.get_yticks(), (t.get_text() for t in tree_ax.get_yticklabels()),
                       strict=True), reverse=True)
    assert [label for _, label in ticks] == ["a1", "a2", "B"]  # the tree's order, from the top


def test_importance_performance_points(ax: Any) -> None:
    result = importance_performance([4.5, 3.0, 4.0, 2.0], [3.0, 4.5, 4.2, 2.5],
                                    labels=["price", "speed", "care", "app"])
    plot_importance_performance(result, ax=ax)
    np.testing.assert_allclose(ax.collections[0].get_offsets(),
                               np.column_stack([result.performance, result.importance]))
    assert "performance" in ax.get_xlabel()
    assert "importance" in ax.get_ylabel()


def test_default_axes_work_headless(cdnow: Any) -> None:
    import matplotlib.pyplot as plt

    _, split, model = cdnow
    ax = plot_period_transactions(model, split.calibration)
    try:
        assert ax.figure is not None
        ax.figure.canvas.draw()  # renders without a display
    finally:
        plt.close(ax.figure)
