"""Plots of purchase models: the checks Fader, Hardie & Lee (2005) show, named as in lifetimes.

Every number drawn is a fitted model's own prediction (``expected_purchases``, ``p_alive``,
``expected_repeat_purchase_counts``, :func:`crmcore.value.transaction_tracking`) or a count
of the data; the plots compute nothing of their own beyond grouping.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crmcore._base import CalibrationHoldout, CustomerBase
from crmcore._errors import InvalidValueError
from crmcore._time import unit_name
from crmcore.plotting._axes import axes, time_label

__all__ = [
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cumulative_transactions",
    "plot_frequency_recency_matrix",
    "plot_incremental_transactions",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
]


def _unit(model: Any, base: CustomerBase | None) -> str | None:
    unit = getattr(model, "time_unit_", None)
    if unit is None and base is not None:
        unit = base.time_unit
    return unit if isinstance(unit, str) else None


def _grid(model: Any, base: CustomerBase | None, T: float | None, max_frequency: int | None,
          max_recency: float | None) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    if T is None:
        if base is None:
            raise InvalidValueError("give T (the customers' observation length) or a base",
                                    field="T")
        T = float(np.max(base.T))
    if max_frequency is None:
        if base is None:
            raise InvalidValueError("give max_frequency or a base", field="max_frequency")
        max_frequency = int(np.max(base.frequency))
    if max_recency is None:
        max_recency = T
    if max_recency > T:
        raise InvalidValueError(f"max_recency ({max_recency:g}) cannot exceed T ({T:g})",
                                field="max_recency")
    frequency = np.arange(int(max_frequency) + 1, dtype=np.float64)
    recency = np.arange(int(np.floor(max_recency)) + 1, dtype=np.float64)
    return frequency, recency, T


def _matrix(values: Any, frequency: NDArray[np.float64], recency: NDArray[np.float64],
            T: float) -> NDArray[np.float64]:
    """``values(x, t_x, T)`` on the grid; cells no customer can be in (no repeat purchase but
    a recency above 0) are NaN and drawn blank."""
    x, r = np.meshgrid(frequency, recency, indexing="ij")
    possible = (x > 0) | (r == 0)
    out = np.full(x.shape, np.nan)
    out[possible] = values(x[possible], r[possible], np.full(int(possible.sum()), T))
    return out


def _observed(T: float, unit: str | None) -> str:
    length = f"{T:.4g} {unit_name(unit)}s" if unit else f"T = {T:.4g}"
    return f"(customers observed for {length})"


def _draw_matrix(ax: Any, matrix: NDArray[np.float64], title: str, colour_label: str,
                 unit: str | None, style: dict[str, Any]) -> Any:
    options = {"cmap": "viridis", "aspect": "auto", "origin": "lower",
               "interpolation": "nearest", **style}
    image = ax.imshow(np.ma.masked_invalid(matrix), **options)
    ax.figure.colorbar(image, ax=ax, label=colour_label)
    ax.set_xlabel(time_label("recency: time from first to last purchase", unit))
    ax.set_ylabel("frequency: repeat purchases")
    ax.set_title(title)
    return ax


def plot_frequency_recency_matrix(
    model: Any, base: CustomerBase | None = None, *, t: float = 1.0, T: float | None = None,
    max_frequency: int | None = None, max_recency: float | None = None, ax: Any = None,
    **style: Any,
) -> Any:
    """Expected purchases in the next ``t`` by frequency (rows) and recency (columns).

    Parameters
    ----------
    model:
        A fitted purchase model with ``expected_purchases(t, frequency, recency, T)``.
    base:
        Supplies the defaults: ``T`` its longest observation, ``max_frequency`` its highest
        frequency.
    t:
        Forecast horizon in the model's time unit.
    T, max_frequency, max_recency:
        The customers' observation length and the grid's extent (``max_recency`` defaults to
        ``T``), in the model's time unit.
    ax, **style:
        Axes to draw on (default: a new figure) and options for ``Axes.imshow``.
    """
    frequency, recency, T = _grid(model, base, T, max_frequency, max_recency)
    matrix = _matrix(lambda x, r, obs: model.expected_purchases(t, x, r, obs), frequency,
                     recency, T)
    unit = _unit(model, base)
    name = f"{t:g} {unit_name(unit)}s" if unit else f"t = {t:g}"
    return _draw_matrix(axes(ax), matrix,
                        f"Expected purchases in the next {name}\n{_observed(T, unit)}",
                        "expected purchases", unit, style)


def plot_probability_alive_matrix(
    model: Any, base: CustomerBase | None = None, *, T: float | None = None,
    max_frequency: int | None = None, max_recency: float | None = None, ax: Any = None,
    **style: Any,
) -> Any:
    """P(alive) by frequency (rows) and recency (columns) for customers observed for ``T``.

    Parameters as for :func:`plot_frequency_recency_matrix`; ``model`` needs
    ``p_alive(frequency, recency, T)``.
    """
    frequency, recency, T = _grid(model, base, T, max_frequency, max_recency)
    matrix = _matrix(model.p_alive, frequency, recency, T)
    options = {"vmin": 0.0, "vmax": 1.0, **style}
    unit = _unit(model, base)
    return _draw_matrix(axes(ax), matrix, f"Probability alive\n{_observed(T, unit)}",
                        "P(alive)", unit, options)


def _repeat_counts(model: Any, base: CustomerBase, max_frequency: int) -> NDArray[np.float64]:
    method = model.expected_repeat_purchase_counts
    if "max_k" in inspect.signature(method).parameters:
        return np.asarray(method(base, max_k=max_frequency), dtype=np.float64)
    full = np.asarray(method(base), dtype=np.float64)  # every count up to the longest T
    head = np.zeros(max_frequency + 1)
    head[:min(len(full), max_frequency)] = full[:max_frequency]
    head[max_frequency] = full[max_frequency:].sum()
    return head


def plot_period_transactions(
    model: Any, base: CustomerBase, *, max_frequency: int = 7, ax: Any = None, **style: Any
) -> Any:
    """Customers by number of repeat purchases: as observed in ``base`` and as the model
    expects (``model.expected_repeat_purchase_counts``), the last bar being
    ``max_frequency`` or more (Fader, Hardie & Lee 2005, figure 1).

    Returns the Axes; its two bar containers are ``ax.containers[0]`` (actual) and
    ``ax.containers[1]`` (model).
    """
    if isinstance(max_frequency, bool) or not isinstance(max_frequency, int) or max_frequency < 1:
        raise InvalidValueError(f"max_frequency must be a whole number >= 1, got "
                                f"{max_frequency!r}", field="max_frequency")
    ax = axes(ax)
    observed = np.bincount(np.minimum(base.frequency, max_frequency),
                           minlength=max_frequency + 1).astype(np.float64)
    expected = _repeat_counts(model, base, max_frequency)
    positions = np.arange(max_frequency + 1)
    width = 0.4
    ax.bar(positions - width / 2, observed, width, label="actual", **style)
    ax.bar(positions + width / 2, expected, width, label=type(model).__name__, **style)
    ax.set_xticks(positions, [*map(str, range(max_frequency)), f"{max_frequency}+"])
    ax.set_xlabel("repeat purchases in the period")
    ax.set_ylabel("customers")
    ax.set_title("Frequency of repeat purchases: actual and model")
    ax.legend()
    return ax


def plot_calibration_purchases_vs_holdout_purchases(
    model: Any, split: CalibrationHoldout, *, max_frequency: int = 7, ax: Any = None,
    **style: Any,
) -> Any:
    """Mean repeat purchases in the holdout, actual and forecast
    (``model.expected_purchases(duration_holdout, calibration)``), for customers grouped by
    their repeat purchases in the calibration period (the last group: ``max_frequency`` or
    more; Fader, Hardie & Lee 2005, figure 4).

    ``ax.lines[0]`` holds the actual means and ``ax.lines[1]`` the model's, at the groups that
    have customers.
    """
    ax = axes(ax)
    calibration = split.calibration
    forecast = np.asarray(model.expected_purchases(split.duration_holdout, calibration))
    group = np.minimum(calibration.frequency, max_frequency)
    size = np.bincount(group, minlength=max_frequency + 1).astype(np.float64)
    present = size > 0
    actual = np.bincount(group, weights=split.frequency_holdout,
                         minlength=max_frequency + 1)[present] / size[present]
    expected = np.bincount(group, weights=forecast,
                           minlength=max_frequency + 1)[present] / size[present]
    groups = np.arange(max_frequency + 1)[present]
    ax.plot(groups, actual, marker="o", label="actual", **style)
    ax.plot(groups, expected, marker="s", linestyle="--", label=type(model).__name__, **style)
    ax.set_xticks(np.arange(max_frequency + 1),
                  [*map(str, range(max_frequency)), f"{max_frequency}+"])
    unit = calibration.time_unit
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel(f"mean repeat purchases in the {split.duration_holdout:g}-"
                  f"{unit_name(unit)} holdout")
    ax.set_title("Holdout purchases by calibration purchases")
    ax.legend()
    return ax


def _tracking(model: Any, split: CalibrationHoldout, step: float, cumulative: bool,
              ax: Any, style: dict[str, Any]) -> Any:
    from crmcore.value._tracking import transaction_tracking

    tracking = transaction_tracking(model, split, step=step)
    ax = axes(ax)
    actual = tracking.cumulative_actual if cumulative else tracking.actual
    expected = tracking.cumulative_expected if cumulative else tracking.expected
    ax.plot(tracking.time, actual, label="actual", **style)
    ax.plot(tracking.time, expected, linestyle="--", label=tracking.model, **style)
    ax.axvline(tracking.split_time, color="grey", linestyle=":",
               label="end of calibration")
    ax.set_xlabel(time_label("time since the first purchase in the data",
                             tracking.time_unit))
    per = f" per {step:g} {unit_name(tracking.time_unit)}" if not cumulative else ""
    ax.set_ylabel(("cumulative " if cumulative else "") + f"repeat purchases{per}")
    ax.set_title(("Cumulative" if cumulative else "Incremental")
                 + " repeat purchases: actual and model")
    ax.legend()
    return ax


def plot_cumulative_transactions(
    model: Any, split: CalibrationHoldout, *, step: float = 1.0, ax: Any = None, **style: Any
) -> Any:
    """Cumulative repeat purchases of the cohort, actual and expected, through calibration
    and holdout, with the end of calibration marked (Fader, Hardie & Lee 2005, figure 2).

    The numbers are :func:`crmcore.value.transaction_tracking`'s; ``step`` is the tracking
    step in the base's time unit. ``ax.lines[0]`` is actual, ``ax.lines[1]`` the model.
    """
    return _tracking(model, split, step, True, ax, style)


def plot_incremental_transactions(
    model: Any, split: CalibrationHoldout, *, step: float = 1.0, ax: Any = None, **style: Any
) -> Any:
    """Repeat purchases per tracking step (weekly for a base in weeks), actual and expected,
    through calibration and holdout (Fader, Hardie & Lee 2005, figure 3); as
    :func:`plot_cumulative_transactions` otherwise."""
    return _tracking(model, split, step, False, ax, style)
