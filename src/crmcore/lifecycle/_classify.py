"""Lifecycle stage per customer from the customer's own purchase history.

The stages are those of the relationship lifecycle in the course texts (客户关系生命周期,
:class:`LifecycleStage`). The rule reads each customer's per-period purchases
(:class:`crmcore.PurchaseHistory`) and compares the customer with *themself*, never with
other customers, so a light buyer and a heavy buyer each get the stage of their own
relationship:

* **usual gap** ``g``: the customer's mean time between purchase periods, ``(last - first) /
  (purchase periods - 1)``. A customer with fewer than ``min_purchases`` purchase periods is held
  to at least ``default_gap`` (by default the longer of the window and the median usual gap of
  the repeat customers): one or two gaps are too few to know a pace by;
* **gap ratio**: time since the last purchase divided by ``g``;
* **window** ``W``: ``max(window, ceil(gap_multiple * g))`` periods, but at most half the
  customer's tenure (and never below ``window``), so the recent window holds a few of the
  customer's own purchases and an infrequent buyer of long standing still has an earlier
  window to compare with;
* **trend**: purchase rate (or value) per period in the last ``W`` periods divided by the rate
  over the earlier part of the relationship (repeat purchases only, so the first purchase does
  not inflate a short early span); undefined until there are two windows of history;
* **level**: the value of the last window divided by the customer's own peak over windows of
  ``W`` periods aligned on the cut-off;

* **lapse limit**: how long the base's customers with as many purchases took to come back, a
  quantile (``lapse_quantile``, default 0.9) of the time from the base's ``k``-th to its
  ``(k+1)``-th purchase periods among those who made one, for a customer with ``k`` purchase
  periods (``k >= min_purchases`` pooled). Read in customer terms: "90% of the base's
  customers who made a ``(k+1)``-th purchase made it within this time". Never shorter than
  the window, so every customer has at least a quarter to come back; learnt from the base at
  the cut-off (see :func:`lapse_limits`);
* **P(alive)** from a value model, when one is given.

Rules, first match wins (each threshold is a parameter of :class:`LifecycleClassifier`; the
names are those of :data:`RULES`):

1. TERMINATED: a customer past exploration silent for at least ``terminated_gap`` usual gaps
   *and* beyond the lapse limit (``long-silence``: far beyond their own rhythm and beyond what
   the base's returning customers waited); P(alive) ``< terminated_p_alive``
   (``p-alive-very-low``: the model gives at least ``1 - terminated_p_alive`` that the
   customer never buys again); or a customer still exploring (next rule) silent beyond the
   lapse limit (``lapsed-exploration``: a trial that went quiet);
2. EXPLORATION: fewer than ``min_purchases`` purchase periods (``few-purchases``), or less than
   two windows of history, so nothing yet to compare with (``short-history``);
3. DECLINE: trend ``<= decline_trend``, level ``<= decline_level``, gap ratio
   ``>= decline_gap``, or P(alive) ``< decline_p_alive``;
4. FORMATION: trend ``>= growth_trend`` (trade growing fast);
5. STABILITY: otherwise (trade steady, near its peak, on the usual rhythm).

The thresholds were chosen by stated arguments, not fitted to one data set, and are checked
after the fact by :func:`crmcore.lifecycle.backtest`: calibrate, then see who bought again in
a holdout (docs/lifecycle/stages.md shows it on both CDNOW files).

Everything is computed with array operations over the compressed history: a million
customers take seconds, not minutes (``benchmarks/bench_lifecycle.py``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Final, Literal

import attrs
import numpy as np
import pluggy
from numpy.typing import NDArray

from crmcore._base import CustomerBase, PurchaseHistory
from crmcore._deprecation import positional_fields, warn_deprecated
from crmcore._domain import Relationship
from crmcore._errors import DataError, EmptyDataError, InvalidValueError, PluginError
from crmcore._frames import FrameBackend, _frame
from crmcore._time import period_index, to_datetime64, unit_factor
from crmcore.lifecycle._protocols import PAliveModel, checked_p_alive, model_name
from crmcore.lifecycle._stages import STAGES, LifecycleStage
from crmcore.protocols import LifecycleModel

__all__ = [
    "RULES",
    "LifecycleClassifier",
    "StageExplanation",
    "StageResult",
    "classify",
    "classify_relationship",
    "lapse_limits",
]

Measure = Literal["auto", "amount", "count", "periods"]
_MEASURES: Final = ("auto", "amount", "count", "periods")

NOT_ACQUIRED: Final = -1
"""Stage code of a customer who had not bought yet at the cut-off."""

_QUARTER_IN_PERIODS: Final = {"D": 91, "W": 13, "M": 3, "Q": 1, "Y": 1}

MIN_GAPS: Final = 30
"""Fewest observed gaps a lapse limit is learnt from; with fewer at a purchase count the gaps
of all counts are pooled, and with fewer in the whole base the limit falls back to
``decline_gap`` default gaps (the base is too small to say how long customers take)."""

_E = LifecycleStage.EXPLORATION.order
_F = LifecycleStage.FORMATION.order
_S = LifecycleStage.STABILITY.order
_D = LifecycleStage.DECLINE.order
_T = LifecycleStage.TERMINATED.order

RULES: Final[tuple[tuple[str, int], ...]] = (
    ("no-purchase-yet", NOT_ACQUIRED),
    ("long-silence", _T),
    ("p-alive-very-low", _T),
    ("lapsed-exploration", _T),
    ("few-purchases", _E),
    ("short-history", _E),
    ("falling-trend", _D),
    ("low-level", _D),
    ("silence", _D),
    ("p-alive-low", _D),
    ("rising-trend", _F),
    ("steady", _S),
)
"""The rules of :class:`LifecycleClassifier` in the order they are tried, each as (name, stage
code). ``StageResult.rule`` holds each customer's position in this tuple."""

_FloatArray = NDArray[np.float64]
_IntArray = NDArray[np.int64]
_STAGE_OBJECTS: Final = np.array([*STAGES, None], dtype=object)  # code -1 picks None


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value) or value <= 0:
        raise InvalidValueError(
            f"LifecycleClassifier.{attribute.name} must be a finite number > 0, got {value!r}",
            field=attribute.name,
        )


def _probability(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidValueError(
            f"LifecycleClassifier.{attribute.name} is a probability and must lie in [0, 1], "
            f"got {value!r}",
            field=attribute.name,
        )


def _open_probability(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise InvalidValueError(
            f"LifecycleClassifier.{attribute.name} is a quantile and must lie in (0, 1), "
            f"got {value!r}",
            field=attribute.name,
        )


def _limit_items(value: Any) -> tuple[tuple[int, float], ...] | None:
    """``{k: limit}`` (as :func:`lapse_limits` returns) as sorted, hashable pairs."""
    if value is None:
        return None
    items = value.items() if hasattr(value, "items") else value
    try:
        pairs = tuple(sorted((k, float(v)) for k, v in items))
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(
            "LifecycleClassifier.lapse_limits must map purchase counts to limits, as "
            f"crmcore.lifecycle.lapse_limits returns, got {value!r}", field="lapse_limits",
        ) from exc
    return pairs


def _limit_values(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    counts = [k for k, _ in value]
    wanted = list(range(1, instance.min_purchases + 1))  # type: ignore[attr-defined]
    if counts != wanted or not all(math.isfinite(v) and v > 0 for _, v in value):
        raise InvalidValueError(
            f"LifecycleClassifier.lapse_limits needs a finite limit > 0 for each purchase count "
            f"{wanted} (as crmcore.lifecycle.lapse_limits returns), got {dict(value)!r}",
            field="lapse_limits",
        )


def _whole(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValueError(
            f"LifecycleClassifier.{attribute.name} must be a whole number >= 1, got {value!r}",
            field=attribute.name,
        )


def _measure(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in _MEASURES:
        raise InvalidValueError(
            f"LifecycleClassifier.measure must be one of {', '.join(map(repr, _MEASURES))}, "
            f"got {value!r}",
            field="measure",
        )


@attrs.frozen(kw_only=True)
class LifecycleClassifier:
    """The built-in lifecycle-stage rule (lifecycle model ``"rules"``).

    Every parameter is keyword-only (passing them by position still works, with a
    :class:`DeprecationWarning`, until the next release).

    Parameters
    ----------
    window:
        Shortest recent window, in periods of the base's ``freq``. Default ``None``: one
        quarter (91 days, 13 weeks, 3 months, 1 quarter; 1 year for yearly periods).
    gap_multiple:
        The window is at least this many of the customer's usual gaps (default 4), so that it
        holds several of the customer's purchases.
    min_purchases:
        Purchase periods needed to leave exploration (default 3: a first purchase and two
        repeats).
    growth_trend:
        Trend at or above which trade is growing: formation (default 1.75; a steady buyer's
        trend, being a ratio of two counts, scatters around 1 by about +-0.3 on a quarter's
        window).
    decline_trend:
        Trend at or below which trade is falling: decline (default 0.5).
    decline_level:
        Recent value relative to the customer's own peak at or below which the relationship is
        in decline (default 0.25).
    decline_gap:
        Silence, in usual gaps, from which the relationship is in decline (default 3; a
        customer buying at random at a steady rate is that silent about 5% of the time).
    terminated_gap:
        Silence, in usual gaps, from which a relationship past exploration may be taken as
        ended (default 6; by chance about 0.25% of the time for a steady random buyer). It
        takes the lapse limit too: silence far beyond the customer's own rhythm *and* longer
        than the base's returning customers waited, since a burst of purchases days apart
        says little about a customer's rhythm.
    lapse_quantile:
        Quantile of the base's time between a ``k``-th and a ``(k+1)``-th purchase that makes
        the lapse limit of a customer with ``k`` purchase periods (default 0.9: a customer
        silent longer than 90% of the base's returning customers took to come back). A
        customer still exploring who is silent beyond it has lapsed (TERMINATED); one past
        exploration needs ``terminated_gap`` usual gaps as well. See :func:`lapse_limits`.
    decline_p_alive, terminated_p_alive:
        With a value model: P(alive) below these means decline (default 0.5) or end (default
        0.1: the model gives at least 90% that the customer never buys again). Note that
        BG/NBD's P(alive) is 1 for every customer without a repeat purchase (the model only
        lets a customer drop out right after a purchase); those customers are judged by the
        lapse limit instead.
    measure:
        What trend and level compare: ``"amount"`` (spend), ``"count"`` (transactions),
        ``"periods"`` (periods with a purchase) or ``"auto"`` (default: amount when the base
        records any spend, else periods).
    default_gap:
        Usual gap, in periods, for customers with a single purchase, and the least usual gap
        of customers with fewer than ``min_purchases`` purchase periods (one or two gaps are
        too few to know a pace by). Default ``None``: the longer of the window and the median
        usual gap of the base's repeat customers. A base with fewer than :data:`MIN_GAPS`
        gaps between purchases (e.g. one customer) has no lapse limit to learn; then the limit
        is ``decline_gap`` default gaps.
    lapse_limits:
        The lapse limits to use, ``{k: limit}`` in the base's ``time_unit`` as
        :func:`lapse_limits` returns them, instead of learning them from the base being
        classified (``lapse_quantile`` is then unused). For classifying a part of a larger base
        (e.g. one Dask partition, :func:`crmcore.dask.score`) with the limits of the whole.

    Raises
    ------
    InvalidValueError
        A threshold is out of range, or thresholds contradict each other (e.g.
        ``decline_gap >= terminated_gap``); the message names them.
    """

    window: int | None = attrs.field(default=None, validator=_whole)
    gap_multiple: float = attrs.field(default=4.0, validator=_positive)
    min_purchases: int = attrs.field(default=3, validator=_whole)
    growth_trend: float = attrs.field(default=1.75, validator=_positive)
    decline_trend: float = attrs.field(default=0.5, validator=_positive)
    decline_level: float = attrs.field(default=0.25, validator=_probability)
    decline_gap: float = attrs.field(default=3.0, validator=_positive)
    terminated_gap: float = attrs.field(default=6.0, validator=_positive)
    decline_p_alive: float = attrs.field(default=0.5, validator=_probability)
    terminated_p_alive: float = attrs.field(default=0.1, validator=_probability)
    measure: Measure = attrs.field(default="auto", validator=_measure)
    default_gap: float | None = attrs.field(default=None, validator=_positive)
    lapse_quantile: float = attrs.field(default=0.9, validator=_open_probability)
    lapse_limits: tuple[tuple[int, float], ...] | None = attrs.field(
        default=None, converter=_limit_items, validator=_limit_values)

    def __attrs_post_init__(self) -> None:
        pairs = (
            ("decline_trend", self.decline_trend, "growth_trend", self.growth_trend),
            ("decline_gap", self.decline_gap, "terminated_gap", self.terminated_gap),
            ("terminated_p_alive", self.terminated_p_alive, "decline_p_alive",
             self.decline_p_alive),
        )
        for low_name, low, high_name, high in pairs:
            if not low < high:
                raise InvalidValueError(
                    f"LifecycleClassifier: {low_name} ({low!r}) must be below {high_name} "
                    f"({high!r})",
                    field=low_name,
                )
        if not self.decline_trend < 1 < self.growth_trend:
            raise InvalidValueError(
                f"LifecycleClassifier: need decline_trend < 1 < growth_trend (a trend of 1 is "
                f"steady), got {self.decline_trend!r} and {self.growth_trend!r}",
                field="decline_trend",
            )

    # -- classification -------------------------------------------------------------------

    def classify(
        self,
        base: CustomerBase,
        *,
        value_model: PAliveModel | None = None,
        as_of: dt.datetime | dt.date | str | np.datetime64 | None = None,
    ) -> StageResult:
        """Deprecated name of :meth:`score` (lifecycle models produce their output with
        ``score``, as every model kind but value does); removed in the next release."""
        warn_deprecated("LifecycleClassifier.classify() is deprecated; call score() (or the "
                        "function crmcore.lifecycle.classify())")
        return self.score(base, value_model=value_model, as_of=as_of)

    def score(
        self,
        base: CustomerBase,
        *,
        value_model: PAliveModel | None = None,
        as_of: dt.datetime | dt.date | str | np.datetime64 | None = None,
    ) -> StageResult:
        """One lifecycle stage per customer of ``base``, with the evidence behind it
        (:class:`crmcore.protocols.LifecycleModel`).

        Parameters
        ----------
        base:
            A base built with :meth:`crmcore.CustomerBase.from_transactions` (the rule needs
            the per-period purchase history).
        value_model:
            A fitted model with ``p_alive(frequency, recency, T)`` (e.g. BG/NBD); adds P(alive)
            to the evidence and to the rules.
        as_of:
            Cut-off date: classify on the history up to and including its period, as the firm
            would have seen it then. Default: the base's observation end. Customers who had not
            bought by then get no stage (``None``).

        Raises
        ------
        DataError
            The base has no purchase history.
        InvalidValueError
            ``as_of`` is after the observation end, or ``value_model`` has no ``p_alive``.
        EmptyDataError
            Nobody had bought by ``as_of``.
        PluginError
            The value model's P(alive) is not one probability per customer.
        """
        history, end_period, end_date = _history_at(base, as_of)
        factor = unit_factor(history.freq, base.time_unit)
        measure = self.measure
        if measure == "auto":
            measure = "amount" if bool(np.any(history.amount > 0)) else "periods"
        window = self.window if self.window is not None else _QUARTER_IN_PERIODS[history.freq]
        ev = _evidence(history, end_period, window=window, gap_multiple=self.gap_multiple,
                       measure=measure, default_gap=self.default_gap,
                       min_purchases=self.min_purchases)
        if self.lapse_limits is None:
            limits = _lapse_limits(history, min_purchases=self.min_purchases,
                                   quantile=self.lapse_quantile, window=window,
                                   fallback=self.decline_gap * ev["default_gap"])
        else:  # given in the base's time unit, as lapse_limits() returns them
            limits = np.array([np.nan, *(v / factor for _, v in self.lapse_limits)])
        ev["lapse_limit"] = np.where(
            ev["purchases"] > 0, limits[np.minimum(ev["purchases"], self.min_purchases)], np.nan)
        has = ev["purchases"] > 0
        p_alive: _FloatArray | None = None
        if value_model is not None:
            p_alive = np.full(len(has), np.nan)
            rows = np.flatnonzero(has)
            p_alive[rows] = checked_p_alive(
                value_model,
                (ev["purchases"][rows] - 1).astype(np.float64),
                ev["span"][rows] * factor,
                ev["age"][rows] * factor,
            )
        rule = self._rules(ev, p_alive, has)
        codes = np.array([code for _, code in RULES], dtype=np.int8)[rule]
        return StageResult(
            customer_id=base.customer_id,
            code=codes,
            rule=rule.astype(np.int8),
            purchases=ev["purchases"],
            tenure=np.where(has, ev["age"] * factor, np.nan),
            trend=ev["trend"],
            level=ev["level"],
            gap_ratio=ev["gap_ratio"],
            usual_gap=ev["usual_gap"] * factor,
            silence=np.where(has, ev["silence"] * factor, np.nan),
            window=np.where(has, ev["window"] * factor, np.nan),
            p_alive=p_alive,
            as_of=end_date,
            time_unit=base.time_unit,
            measure=measure,
            classifier=self,
            lapse_limit=ev["lapse_limit"] * factor,
        )

    def _rules(
        self, ev: dict[str, NDArray[Any]], p_alive: _FloatArray | None, has: NDArray[np.bool_]
    ) -> NDArray[np.int64]:
        n = len(has)
        never = np.zeros(n, dtype=bool)
        exploring = (ev["purchases"] < self.min_purchases) | ~ev["comparable"]
        with np.errstate(invalid="ignore"):
            p = p_alive if p_alive is not None else np.full(n, np.nan)
            lapsed = ev["silence"] > ev["lapse_limit"]
            conditions = (
                ~has,
                ~exploring & (ev["gap_ratio"] >= self.terminated_gap) & lapsed,
                p < self.terminated_p_alive if p_alive is not None else never,
                exploring & lapsed,
                ev["purchases"] < self.min_purchases,
                ~ev["comparable"],
                ev["trend"] <= self.decline_trend,
                ev["level"] <= self.decline_level,
                ev["gap_ratio"] >= self.decline_gap,
                p < self.decline_p_alive if p_alive is not None else never,
                ev["trend"] >= self.growth_trend,
            )
        rule = np.full(n, len(RULES) - 1, dtype=np.int64)
        # Walk the rules from last to first so the first matching rule is the one that stays.
        for position in range(len(conditions) - 1, -1, -1):
            rule[conditions[position]] = position
        return rule


positional_fields(LifecycleClassifier)


def _history_at(
    base: CustomerBase, as_of: dt.datetime | dt.date | str | np.datetime64 | None
) -> tuple[PurchaseHistory, int, np.datetime64]:
    if not isinstance(base, CustomerBase):
        raise DataError(f"expected a CustomerBase, got {type(base).__name__}", field="base")
    if base.history is None or base.freq is None or base.observation_end is None:
        raise DataError(
            "lifecycle stages need each customer's purchase history: build the base with "
            "CustomerBase.from_transactions (a base from from_summary has none)",
            field="history",
        )
    history = base.history
    end_period = int(period_index(np.asarray([base.observation_end]), base.freq)[0])
    if as_of is None:
        return history, end_period, base.observation_end
    try:
        cut = to_datetime64(as_of)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"as_of {as_of!r} is not a date: {exc}", field="as_of") from exc
    cut_period = int(period_index(np.asarray([cut]), base.freq)[0])
    if cut_period > end_period:
        raise InvalidValueError(
            f"as_of ({np.datetime_as_string(cut, unit='D')}) is after the observation end "
            f"({np.datetime_as_string(base.observation_end, unit='D')})",
            field="as_of",
        )
    truncated = history.until(cut_period)
    if len(truncated.period) == 0:
        raise EmptyDataError(
            f"no customer had bought by as_of ({np.datetime_as_string(cut, unit='D')})",
            field="as_of",
        )
    return truncated, cut_period, cut


def _evidence(
    history: PurchaseHistory,
    end_period: int,
    *,
    window: int,
    gap_multiple: float,
    measure: str,
    default_gap: float | None,
    min_purchases: int,
) -> dict[str, NDArray[Any]]:
    """Per-customer evidence, in periods of the history's ``freq`` (see the module notes)."""
    indptr, period = history.indptr, history.period
    purchases = np.diff(indptr)
    n = len(purchases)
    has = purchases > 0
    rows = np.flatnonzero(has)
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first[rows] = period[indptr[rows]]
    last[rows] = period[indptr[rows + 1] - 1]
    span = last - first
    age = end_period - first
    silence = end_period - last

    repeat = purchases >= 2
    gap = np.full(n, np.nan)
    gap[repeat] = span[repeat] / (purchases[repeat] - 1)
    if default_gap is None:
        # A single purchase says nothing about the customer's pace; judge the silence against
        # at least the window, since repeat buyers' gaps lean towards the frequent buyers.
        typical = float(np.median(gap[repeat])) if bool(np.any(repeat)) else 0.0
        default_gap = max(float(window), typical)
    usual_gap = np.where(repeat, gap, default_gap)
    chosen_gap = float(default_gap)
    # One or two gaps are too few to know a pace by: a customer still exploring is held to at
    # least the default gap, so two purchases a day apart do not make a week's silence an end.
    few = purchases < min_purchases
    usual_gap[few] = np.maximum(np.nan_to_num(usual_gap[few], nan=default_gap), default_gap)
    usual_gap[~has] = np.nan
    with np.errstate(invalid="ignore"):
        gap_ratio = silence / usual_gap
        wanted = np.ceil(gap_multiple * np.nan_to_num(usual_gap, nan=1.0))
    # At least `window`, at least a few usual gaps, but never more than half the tenure, so an
    # infrequent buyer of long standing still has an earlier window to compare with.
    size = np.clip(wanted, window, np.maximum(window, age // 2)).astype(np.int64)

    if measure == "amount":
        value = np.asarray(history.amount, dtype=np.float64)  # read only: no copy
    elif measure == "count":
        value = history.count.astype(np.float64)
    else:
        value = np.ones(len(period))
    owner = history.customer_of_entry()
    entry_bin = end_period - period
    np.floor_divide(entry_bin, np.repeat(size, purchases), out=entry_bin)  # size[owner]
    is_first = np.zeros(len(period), dtype=bool)
    is_first[indptr[rows]] = True
    in_recent = entry_bin == 0
    recent = np.bincount(owner, weights=value * in_recent, minlength=n)
    before = np.logical_or(in_recent, is_first, out=is_first)  # ~in_recent & ~is_first
    np.logical_not(before, out=before)
    earlier = np.bincount(owner, weights=value * before, minlength=n)
    del before, is_first
    earlier_span = end_period - size - first  # periods after the first purchase, before W
    comparable = has & (age >= 2 * window) & (earlier_span >= size)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        recent_rate = recent / size
        earlier_rate = earlier / np.maximum(earlier_span, 1)
        trend = np.where(comparable, recent_rate / earlier_rate, np.nan)
    trend[comparable & (earlier_rate == 0) & (recent_rate == 0)] = np.nan

    peak = np.zeros(n)
    if len(period):
        new_group = np.ones(len(period), dtype=bool)
        np.not_equal(entry_bin[1:], entry_bin[:-1], out=new_group[1:])
        new_group[indptr[rows]] = True  # each customer's first entry starts a group
        starts = np.flatnonzero(new_group)
        sums = np.add.reduceat(value, starts)
        # each customer's first group: the number of groups begun before her first entry
        customer_start = np.cumsum(new_group)[indptr[rows]] - 1
        peak[rows] = np.maximum.reduceat(sums, customer_start)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(has & (peak > 0), recent / np.where(peak > 0, peak, 1.0), np.nan)

    return {
        "purchases": purchases.astype(np.int64),
        "span": span.astype(np.float64),
        "age": age.astype(np.float64),
        "silence": silence.astype(np.float64),
        "usual_gap": usual_gap,
        "gap_ratio": np.where(has, gap_ratio, np.nan),
        "window": size.astype(np.float64),
        "trend": trend,
        "level": level,
        "comparable": comparable,
        "default_gap": np.asarray(chosen_gap),
    }


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


@attrs.frozen
class StageExplanation:
    """Why one customer got their stage: the evidence and the rule that decided.

    Attributes
    ----------
    customer_id, stage:
        The customer and their stage (``None`` if they had not bought by the cut-off).
    rule:
        Name of the deciding rule (one of :data:`crmcore.lifecycle.RULES`).
    reason:
        The rule in words, with the customer's numbers and the threshold.
    purchases, tenure, trend, level, gap_ratio, p_alive:
        The evidence (``None`` where not defined, e.g. no trend without enough history).
    management_focus:
        What the seed advises for this stage.
    silence, lapse_limit:
        Time since the last purchase and the customer's lapse limit (how long 90% of the
        base's customers with as many purchases took to come back, see
        :func:`crmcore.lifecycle.lapse_limits`), in the result's time unit; ``None`` where
        not known.

    Notes
    -----
    ``p_alive`` from BG/NBD is 1 for every customer without a repeat purchase: the model lets
    a customer drop out only right after a purchase, so one who never came back cannot have
    dropped out in it. It is not evidence that a one-time buyer is still active; the lapse
    limit is.
    """

    customer_id: Any
    stage: LifecycleStage | None
    rule: str
    reason: str
    purchases: int
    tenure: float | None
    trend: float | None
    level: float | None
    gap_ratio: float | None
    p_alive: float | None
    management_focus: str | None
    silence: float | None = None
    lapse_limit: float | None = None


@attrs.frozen(eq=False)
class StageResult:
    """Lifecycle stages of many customers, aligned with ``customer_id``, with their evidence.

    Attributes
    ----------
    customer_id:
        The customers, as in the base.
    code:
        Stage code per customer: ``LifecycleStage.order`` (0 exploration ... 4 terminated), or
        -1 for a customer who had not bought by the cut-off.
    rule:
        Position in :data:`crmcore.lifecycle.RULES` of the rule that decided.
    purchases:
        Purchase periods up to the cut-off.
    tenure, usual_gap, silence, window:
        Time since the first purchase, mean time between purchases, time since the last
        purchase and length of the recent window, in ``time_unit``.
    trend:
        Recent purchase rate (or value) over the earlier rate; ``NaN`` without a full earlier
        window to compare with.
    level:
        Recent window's value over the customer's peak window.
    gap_ratio:
        ``silence / usual_gap``.
    p_alive:
        P(alive) from the value model, or ``None`` when none was given (BG/NBD gives 1 to
        every customer without a repeat purchase; see :class:`StageExplanation`).
    as_of:
        The cut-off date.
    measure:
        What trend and level measured (``"amount"``, ``"count"`` or ``"periods"``).
    classifier:
        The classifier (with its thresholds) that produced the result.
    lapse_limit:
        Per customer, the lapse limit the customer was judged against, in ``time_unit``
        (``None`` from a classifier without one).
    """

    customer_id: NDArray[Any]
    code: NDArray[np.int8]
    rule: NDArray[np.int8]
    purchases: _IntArray
    tenure: _FloatArray
    trend: _FloatArray
    level: _FloatArray
    gap_ratio: _FloatArray
    usual_gap: _FloatArray
    silence: _FloatArray
    window: _FloatArray
    p_alive: _FloatArray | None
    as_of: np.datetime64
    time_unit: str
    measure: str
    classifier: Any
    lapse_limit: _FloatArray | None = None

    def __len__(self) -> int:
        return len(self.customer_id)

    def __repr__(self) -> str:
        from crmcore._repr import stages_text

        return stages_text(self)

    def _repr_html_(self) -> str:
        from crmcore._repr import stages_html

        return stages_html(self)

    @property
    def stage(self) -> NDArray[Any]:
        """:class:`LifecycleStage` per customer (``None`` where not yet acquired)."""
        return _STAGE_OBJECTS[self.code]

    def counts(self) -> dict[LifecycleStage, int]:
        """Customers per stage, every stage listed (in lifecycle order)."""
        tally = np.bincount(self.code[self.code >= 0], minlength=len(STAGES))
        return {stage: int(tally[stage.order]) for stage in STAGES}

    def shares(self) -> dict[LifecycleStage, float]:
        """Share of the classified customers in each stage (sums to 1)."""
        counts = self.counts()
        total = sum(counts.values())
        if total == 0:
            raise EmptyDataError("no customer has a stage to take shares of", field="code")
        return {stage: count / total for stage, count in counts.items()}

    def customers_in(self, stage: LifecycleStage) -> NDArray[Any]:
        """Ids of the customers in ``stage``."""
        if not isinstance(stage, LifecycleStage):
            raise InvalidValueError(f"stage must be a LifecycleStage, got {stage!r}",
                                    field="stage")
        chosen: NDArray[Any] = self.customer_id[self.code == stage.order]
        return chosen

    def explain(self, customer_id: Any) -> StageExplanation:
        """Why ``customer_id`` got their stage.

        Raises
        ------
        DataError
            The customer is not in the result.
        """
        rows = np.flatnonzero(self.customer_id == customer_id)
        if len(rows) == 0:
            raise DataError(f"customer {customer_id!r} is not in the result",
                            field="customer_id", rows=[customer_id])
        i = int(rows[0])
        stage = self.stage[i]
        name = RULES[int(self.rule[i])][0]
        p = None if self.p_alive is None else _maybe(self.p_alive[i])
        return StageExplanation(
            customer_id=self.customer_id[i].item() if hasattr(self.customer_id[i], "item")
            else self.customer_id[i],
            stage=stage,
            rule=name,
            reason=self._reason(i, name),
            purchases=int(self.purchases[i]),
            tenure=_maybe(self.tenure[i]),
            trend=_maybe(self.trend[i]),
            level=_maybe(self.level[i]),
            gap_ratio=_maybe(self.gap_ratio[i]),
            p_alive=p,
            management_focus=None if stage is None else stage.management_focus,
            silence=_maybe(self.silence[i]),
            lapse_limit=None if self.lapse_limit is None else _maybe(self.lapse_limit[i]),
        )

    def _reason(self, i: int, rule: str) -> str:
        classifier = self.classifier

        def get(name: str) -> Any:
            # A plugin's classifier may not have the built-in rule's thresholds.
            return getattr(classifier, name, "?")

        unit = self.time_unit
        silence = f"{self.silence[i]:.1f} {unit}"
        limit = ("?" if self.lapse_limit is None else f"{self.lapse_limit[i]:.1f} {unit}")
        share = f"{round(100 * float(get('lapse_quantile')))}%" if isinstance(
            get("lapse_quantile"), int | float) else "most"
        bought = int(self.purchases[i])
        texts = {
            "no-purchase-yet": "no purchase up to the cut-off",
            "long-silence": f"silent for {silence}, {self.gap_ratio[i]:.1f} times the "
                            f"customer's usual gap of {self.usual_gap[i]:.1f} {unit} "
                            f"(>= terminated_gap {get('terminated_gap')}) and longer than "
                            f"{share} of the base's customers with as many purchases took to "
                            f"come back ({limit})",
            "p-alive-very-low": f"P(alive) {_fmt(self.p_alive, i)}: the value model gives "
                                f"the customer less than a {get('terminated_p_alive')} chance "
                                f"of ever buying again (< terminated_p_alive)",
            "lapsed-exploration": f"{bought} purchase period(s), then silent for {silence}: "
                                  f"{share} of the base's customers who made a purchase "
                                  f"number {bought + 1} made it within {limit}; a trial that "
                                  f"went quiet",
            "few-purchases": f"{bought} purchase period(s) (< min_purchases "
                             f"{get('min_purchases')}), last one {silence} ago, within the "
                             f"time ({limit}) in which {share} of the base's returning "
                             f"customers came back",
            "short-history": f"tenure {self.tenure[i]:.2f} {unit} is too short to compare a "
                             f"recent window of {self.window[i]:.2f} {unit} with an earlier one",
            "falling-trend": f"buying at {self.trend[i]:.2f} times the earlier rate in the last "
                             f"{self.window[i]:.1f} {unit} (<= decline_trend "
                             f"{get('decline_trend')})",
            "low-level": f"the last {self.window[i]:.1f} {unit} brought {self.level[i]:.2f} of "
                         f"the customer's best such window (<= decline_level "
                         f"{get('decline_level')})",
            "silence": f"silent for {silence}, {self.gap_ratio[i]:.1f} times the customer's "
                       f"usual gap of {self.usual_gap[i]:.1f} {unit} (>= decline_gap "
                       f"{get('decline_gap')})",
            "p-alive-low": f"P(alive) {_fmt(self.p_alive, i)} (< decline_p_alive "
                           f"{get('decline_p_alive')})",
            "rising-trend": f"buying at {self.trend[i]:.2f} times the earlier rate in the last "
                            f"{self.window[i]:.1f} {unit} (>= growth_trend "
                            f"{get('growth_trend')})",
            "steady": f"trend {self.trend[i]:.2f}, level {self.level[i]:.2f}, silent for "
                      f"{self.gap_ratio[i]:.2f} usual gaps: none beyond a threshold",
        }
        return texts.get(rule, rule)

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The stages and their evidence as a data frame of ``backend``, one row per customer
        (``stage`` as the stage's value, e.g. ``"stability"``)."""
        names = np.array([s.value for s in STAGES] + [""], dtype=object)
        rule_names = np.array([name for name, _ in RULES], dtype=object)
        columns: dict[str, NDArray[Any]] = {
            "customer_id": self.customer_id,
            "stage": names[self.code],
            "rule": rule_names[self.rule],
            "purchases": self.purchases,
            "tenure": self.tenure,
            "trend": self.trend,
            "level": self.level,
            "gap_ratio": self.gap_ratio,
            "usual_gap": self.usual_gap,
            "silence": self.silence,
        }
        if self.lapse_limit is not None:
            columns["lapse_limit"] = self.lapse_limit
        if self.p_alive is not None:
            columns["p_alive"] = self.p_alive
        return _frame(columns, backend)


def _maybe(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _fmt(values: _FloatArray | None, i: int) -> str:
    return "n/a" if values is None else f"{values[i]:.3f}"


# -- entry point ------------------------------------------------------------------------------


def classify(
    base: CustomerBase,
    *,
    model: str | LifecycleModel | None = None,
    value_model: PAliveModel | None = None,
    as_of: dt.datetime | dt.date | str | np.datetime64 | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
    **hyperparameters: Any,
) -> StageResult:
    """Lifecycle stage of every customer in ``base`` (aligned with ``base.customer_id``).

    Parameters
    ----------
    base:
        A base built from transactions (:meth:`crmcore.CustomerBase.from_transactions`).
    model:
        The classifier: ``None`` for the default lifecycle model (``"rules"``, i.e.
        :class:`LifecycleClassifier`, unless a plugin names another through
        ``crmcore_default_model``), the name of a lifecycle model offered by a plugin, or a
        :class:`crmcore.protocols.LifecycleModel` object (with a ``score`` method; one with
        only the former ``classify`` method still works, with a :class:`DeprecationWarning`).
    value_model:
        A fitted model with ``p_alive(frequency, recency, T)``, e.g. BG/NBD.
    as_of:
        Cut-off date (default: the observation end).
    plugin_manager:
        Manager to look models up in (default: a fresh one).
    **hyperparameters:
        Passed to the model's factory, e.g. ``decline_gap=2.5`` for the built-in rule.

    Raises
    ------
    UnknownModelError
        No plugin offers a lifecycle model of that name.
    PluginError
        The classifier does not return a :class:`StageResult` aligned with the base.
    """
    if model is None or isinstance(model, str):
        from crmcore._registry import get_model

        classifier = get_model("lifecycle", model, plugin_manager=plugin_manager,
                               **hyperparameters)
    else:
        if hyperparameters:
            raise InvalidValueError(
                f"hyperparameters {sorted(hyperparameters)} apply to a model named by string; "
                f"{model_name(model)} is already built",
                field="hyperparameters",
            )
        classifier = model
    name = model if isinstance(model, str) else model_name(classifier)
    produce = getattr(classifier, "score", None)
    if not callable(produce):
        produce = getattr(classifier, "classify", None)
        if not callable(produce):
            raise PluginError(f"lifecycle model {name!r} has no classify(base) or score(base) "
                              "method; lifecycle models give their stages with score "
                              "(crmcore.protocols.LifecycleModel)", plugin=str(name))
        warn_deprecated(f"lifecycle model {name!r} offers classify(base) but not score(base); "
                        "rename it score (crmcore.protocols.LifecycleModel): classify stops "
                        "working in the next release")
    result: object = produce(base, value_model=value_model, as_of=as_of)
    return _check_result(result, base, str(name))


def _check_result(result: object, base: CustomerBase, name: str) -> StageResult:
    if not isinstance(result, StageResult):
        raise PluginError(
            f"lifecycle model {name!r} returned {type(result).__name__}; expected a "
            "crmcore.lifecycle.StageResult",
            plugin=name,
        )
    if len(result.customer_id) != len(base) or not np.array_equal(
            result.customer_id, base.customer_id):
        raise PluginError(
            f"lifecycle model {name!r} returned stages for {len(result.customer_id)} customers "
            f"not aligned with the base's {len(base)} customer ids",
            plugin=name,
        )
    bad = np.flatnonzero((result.code < NOT_ACQUIRED) | (result.code >= len(STAGES)))
    if len(bad):
        raise PluginError(
            f"lifecycle model {name!r} returned stage codes outside -1..{len(STAGES) - 1}",
            plugin=name,
        )
    return result


def classify_relationship(
    relationship: Relationship,
    *,
    freq: str | None = None,
    observation_end: dt.datetime | None = None,
    model: str | LifecycleModel | None = None,
    value_model: PAliveModel | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
    **hyperparameters: Any,
) -> StageExplanation:
    """The lifecycle stage of one customer's relationship, with the evidence and the reason.

    The relationship goes through the same batch code as a million customers (a one-customer
    base from :meth:`crmcore.Relationship.to_base`). With no other customers to learn a typical
    pace from, a customer with fewer than ``min_purchases`` purchase periods is judged against
    the window (pass ``default_gap`` to say otherwise).

    Parameters
    ----------
    relationship:
        The customer and their transactions (at least one).
    freq:
        Purchase period purchases are bucketed into. Not given, it is ``"W"`` (weeks) with a
        :class:`DeprecationWarning`: from the next release the default is ``"D"``, the
        purchase period every other function that builds a base defaults to; pass ``freq``
        to choose and silence the warning.
    observation_end:
        When the relationship is looked at (default: the last transaction).
    model, value_model, plugin_manager, **hyperparameters:
        As for :func:`classify`.

    Raises
    ------
    EmptyDataError
        The relationship has no transactions.
    """
    if not isinstance(relationship, Relationship):
        raise DataError(f"expected a Relationship, got {type(relationship).__name__}",
                        field="relationship")
    if not relationship.transactions:
        raise EmptyDataError(
            f"customer {relationship.customer.id!r} has no transactions, so no lifecycle stage",
            field="transactions",
        )
    if freq is None:
        warn_deprecated(
            "classify_relationship() buckets purchases by week when freq is not given; from "
            "the next release it uses days (freq='D'), like every other function that builds "
            "a base: pass freq='W' to keep weeks or freq='D'")
        freq = "W"
    base = relationship.to_base(freq=freq, observation_end=observation_end)
    result = classify(base, model=model, value_model=value_model,
                      plugin_manager=plugin_manager, **hyperparameters)
    return result.explain(relationship.customer.id)
