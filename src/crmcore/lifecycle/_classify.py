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
from typing import Any

import attrs
import numpy as np
import pluggy
from numpy.typing import NDArray

from crmcore._base import CustomerBase
from crmcore._deprecation import positional_fields, warn_deprecated
from crmcore._domain import Relationship
from crmcore._errors import DataError, EmptyDataError, InvalidValueError, PluginError
from crmcore._time import unit_factor
from crmcore.lifecycle._evidence import _evidence, _history_at
from crmcore.lifecycle._lapse import _lapse_limits
from crmcore.lifecycle._protocols import PAliveModel, checked_p_alive, model_name
from crmcore.lifecycle._rules import (
    _MEASURES,
    _QUARTER_IN_PERIODS,
    NOT_ACQUIRED,
    RULES,
    Measure,
    _FloatArray,
)
from crmcore.lifecycle._stage_result import StageExplanation, StageResult
from crmcore.lifecycle._stages import STAGES
from crmcore.protocols import LifecycleModel

__all__ = ["LifecycleClassifier", "classify", "classify_relationship"]

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
