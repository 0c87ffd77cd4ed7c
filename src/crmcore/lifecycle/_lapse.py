"""Lapse limits: how long a base's customers took to come back, by purchase count (the
thresholds of the lifecycle rule that are learnt from the base, and tabulated per part for a
base split across machines)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crmcore._base import CustomerBase, PurchaseHistory
from crmcore._time import unit_factor
from crmcore.lifecycle._evidence import _evidence, _history_at
from crmcore.lifecycle._rules import _QUARTER_IN_PERIODS, MIN_GAPS, _FloatArray

__all__ = ["gap_observations", "lapse_limits", "limits_from_gaps"]


def _lapse_limits(
    history: PurchaseHistory, *, min_purchases: int, quantile: float, window: int,
    fallback: Any,
) -> _FloatArray:
    """Lapse limit, in periods, by purchase count ``k = 0 .. min_purchases`` (index
    ``min_purchases`` for every count from there on; index 0 unused). See :func:`lapse_limits`."""
    count, gaps = gap_observations(history, min_purchases=min_purchases)
    return limits_from_gaps(count, gaps, np.ones(len(gaps)), min_purchases=min_purchases,
                            quantile=quantile, window=window, fallback=fallback)


def gap_observations(history: PurchaseHistory, *, min_purchases: int
                     ) -> tuple[NDArray[np.int64], _FloatArray]:
    """Every gap between two consecutive purchase periods of one customer, in periods, with
    the count ``k`` of the purchase it starts from (1 for first to second), capped at
    ``min_purchases``. The lapse limits are quantiles of these per ``k``; a base split into
    parts (e.g. Dask partitions by customer) can tabulate them per part and add the tables."""
    indptr, period = history.indptr, history.period
    owner = history.customer_of_entry()
    if len(period) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    same = owner[1:] == owner[:-1]
    gaps = np.diff(period)[same].astype(np.float64)
    count = (np.arange(len(period)) - indptr[owner] + 1)[:-1][same]
    return np.minimum(count, min_purchases).astype(np.int64), gaps


def _weighted_quantile(values: _FloatArray, weights: _FloatArray, q: float) -> float:
    """``np.quantile`` (linear interpolation) of ``values`` each repeated ``weights`` times
    (whole numbers), without repeating them."""
    if bool(np.all(weights == 1.0)):
        return float(np.quantile(values, q))  # each seen once: numpy's (partition, no sort)
    order = np.argsort(values, kind="stable")
    v, w = values[order], np.asarray(weights, dtype=np.float64)[order]
    cumulative = np.cumsum(w)
    position = (cumulative[-1] - 1) * q  # 0-based index into the repeated, sorted values
    low = int(np.floor(position))
    at_low = v[np.searchsorted(cumulative, low, side="right")]
    at_high = v[np.searchsorted(cumulative, min(low + 1, cumulative[-1] - 1), side="right")]
    return float(at_low + (position - low) * (at_high - at_low))


def limits_from_gaps(
    count: NDArray[np.int64], gaps: _FloatArray, weights: _FloatArray, *, min_purchases: int,
    quantile: float, window: int, fallback: Any,
) -> _FloatArray:
    """The lapse limits (as :func:`_lapse_limits`) from gap observations
    (:func:`gap_observations`) each seen ``weights`` times."""
    limits = np.full(min_purchases + 1, np.nan)
    if float(np.sum(weights)) < MIN_GAPS:
        limits[:] = max(float(fallback), float(window))
        return limits
    pooled = _weighted_quantile(gaps, weights, quantile)
    for k in range(1, min_purchases + 1):
        rows = count == k
        enough = float(np.sum(weights[rows])) >= MIN_GAPS
        value = _weighted_quantile(gaps[rows], weights[rows], quantile) if enough else pooled
        limits[k] = max(value, float(window))
    return limits


def lapse_limits(
    base: CustomerBase,
    *,
    quantile: float = 0.9,
    min_purchases: int = 3,
    as_of: dt.datetime | dt.date | str | np.datetime64 | None = None,
) -> dict[int, float]:
    """How long the base's customers took to come back: the lapse limits of the default rule.

    For a customer with ``k`` purchase periods the limit is the ``quantile`` of the time from
    the ``k``-th to the ``(k+1)``-th purchase period over the base's customers who made a
    ``(k+1)``-th one (for ``k >= min_purchases``, of every gap from the
    ``min_purchases``-th purchase on, pooled). With the default 0.9 it reads: "90% of the
    customers who came back for another purchase did so within this time", so a customer
    silent for longer is unlikely to be one who is about to come back. The limit is at least
    the window (one quarter), and a count with fewer than :data:`MIN_GAPS` observed gaps
    takes the quantile of all gaps. It is learnt on the history up to ``as_of`` only, so it
    leans towards short gaps when the history is short (a long gap can only be seen in a
    long history); the backtest (:func:`crmcore.lifecycle.backtest`) is how a firm checks that
    the result still ranks its customers.

    Parameters
    ----------
    base:
        A base built from transactions.
    quantile:
        The quantile, in (0, 1).
    min_purchases:
        Purchase periods from which the gaps are pooled (as in
        :class:`LifecycleClassifier`).
    as_of:
        Cut-off date (default: the observation end).

    Returns
    -------
    dict
        ``{k: limit}`` for ``k = 1 .. min_purchases`` (the last for every count from
        ``min_purchases`` on), in the base's ``time_unit``.

    Raises
    ------
    DataError
        The base has no purchase history.
    """
    from crmcore.lifecycle._classify import LifecycleClassifier  # the rule's own defaults

    classifier = LifecycleClassifier(lapse_quantile=quantile, min_purchases=min_purchases)
    history, end_period, _ = _history_at(base, as_of)
    window = _QUARTER_IN_PERIODS[history.freq]
    ev = _evidence(history, end_period, window=window, gap_multiple=classifier.gap_multiple,
                   measure="periods", default_gap=None, min_purchases=min_purchases)
    limits = _lapse_limits(history, min_purchases=min_purchases, quantile=quantile,
                           window=window, fallback=classifier.decline_gap * ev["default_gap"])
    factor = unit_factor(history.freq, base.time_unit)
    return {k: float(limits[k]) * factor for k in range(1, min_purchases + 1)}


# -- the result -------------------------------------------------------------------------------
