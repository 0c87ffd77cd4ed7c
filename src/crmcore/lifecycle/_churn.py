"""Churn (客户流失), retention (客户挽留) and win-back (客户挽回).

The course texts define churn as a customer no longer buying and turning to another firm, and
name its five kinds (:class:`ChurnReason`). A firm acts on churn in two places: *before* it,
retaining valuable customers about to leave (:func:`plan_retention`), and *after* it, winning
back lost customers worth the effort once it knows why they left
(:func:`winback_candidates`).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._checks import as_column, as_numeric, require_finite
from crmcore._domain import Relationship
from crmcore._errors import DataError, EmptyDataError, InvalidValueError
from crmcore._frames import FrameBackend, _frame
from crmcore._strategies import Strategy, strategies_for
from crmcore.lifecycle._classify import classify
from crmcore.lifecycle._protocols import (
    NoPurchaseModel,
    PAliveModel,
    checked_p_alive,
    checked_p_none,
    model_name,
)
from crmcore.lifecycle._stage_result import StageResult
from crmcore.lifecycle._stages import LifecycleStage

__all__ = [
    "ONE_YEAR",
    "ChurnMeasure",
    "ChurnReason",
    "ChurnRecord",
    "ChurnRisk",
    "ChurnSummary",
    "RetentionOffer",
    "RetentionPlan",
    "WinBackList",
    "churn_risk",
    "plan_retention",
    "summarise_churn",
    "winback_candidates",
]

_FloatArray = NDArray[np.float64]

_READING = " (crmcore's reading: the course texts name the reason without describing it)"
_REASONS: Final[dict[str, tuple[str, str, str]]] = {
    "natural": (
        "自然流失",
        "not caused by the firm: the customer moves away, their needs or circumstances change "
        "(the course texts' case: money suddenly needed for a son's wedding), or the customer "
        "ceases to exist" + _READING,
        "little to prevent; keep in touch and fit the offer to the changed need, as the course "
        "texts' adviser did (情感营销), so the customer returns when the need comes back",
    ),
    "competitive": (
        "竞争流失",
        "a competitor drew the customer away with a better product, price or service" + _READING,
        "compare the offer with the competitor's; raise perceived value and switching cost"
        + _READING,
    ),
    "fault": (
        "过失流失",
        "the firm's own failing: poor quality or service, complaints handled badly, broken "
        "promises" + _READING,
        "find and fix the failure (the course texts' churn prevention: total quality management, "
        "complaint management) and apologise; the most preventable kind",
    ),
    "malicious": (
        "恶意流失",
        "the customer leaves on purpose for their own gain at the firm's cost, e.g. leaving "
        "with unpaid bills" + _READING,
        "not worth retaining or winning back; recover what is owed and screen such customers "
        "out" + _READING,
    ),
    "other": (
        "其他流失",
        "any other or unknown reason",
        "find out the reason before acting (the course texts: to win a customer back, first find "
        "why the relationship broke)",
    ),
}


class ChurnReason(enum.Enum):
    """Why a customer left (客户流失的原因).

    Each member carries the course texts' term (``chinese``), what it covers (``description``) and
    what the firm can do about it (``response``).
    """

    NATURAL = "natural"
    COMPETITIVE = "competitive"
    FAULT = "fault"
    MALICIOUS = "malicious"
    OTHER = "other"

    @property
    def chinese(self) -> str:
        """The course texts' term."""
        return _REASONS[self.value][0]

    @property
    def description(self) -> str:
        """What the reason covers."""
        return _REASONS[self.value][1]

    @property
    def response(self) -> str:
        """What the firm can do about it."""
        return _REASONS[self.value][2]

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The course texts' strategies attached to this reason (:func:`crmcore.strategies_for`),
        e.g. churn prevention and complaint handling for fault churn."""
        return strategies_for(f"churn-reason:{self.value}")

    @classmethod
    def parse(cls, value: ChurnReason | str) -> ChurnReason:
        """A reason from a member, its value (``"fault"``) or its name (``"FAULT"``).

        Raises
        ------
        InvalidValueError
            Not a known reason; the message lists the known ones.
        """
        if isinstance(value, ChurnReason):
            return value
        if isinstance(value, str):
            key = value.strip().lower()
            for member in cls:
                if key in (member.value, member.name.lower(), member.chinese):
                    return member
        raise InvalidValueError(
            f"unknown churn reason {value!r}; known: "
            + ", ".join(m.value for m in cls),
            field="reason",
        )


def _reason(value: Any) -> ChurnReason:
    return ChurnReason.parse(value)


@attrs.frozen
class ChurnRecord:
    """That one customer left, when, and why.

    Parameters
    ----------
    customer_id:
        Who left.
    reason:
        Why (a :class:`ChurnReason`, or its value such as ``"competitive"``).
    at:
        When the firm learnt or decided the customer had left, if known.
    note:
        Free text (what the customer said, what was found).
    """

    customer_id: str | int
    reason: ChurnReason = attrs.field(converter=_reason)
    at: dt.datetime | None = None
    note: str | None = None

    @classmethod
    def for_relationship(
        cls, relationship: Relationship, reason: ChurnReason | str, *,
        at: dt.datetime | None = None, note: str | None = None,
    ) -> ChurnRecord:
        """Record that the customer of ``relationship`` left; ``at`` defaults to their last
        purchase."""
        if not isinstance(relationship, Relationship):
            raise DataError(f"expected a Relationship, got {type(relationship).__name__}",
                            field="relationship")
        when = at if at is not None else relationship.last_purchase_at
        return cls(relationship.customer.id, ChurnReason.parse(reason), at=when, note=note)


@attrs.frozen
class ChurnSummary:
    """How many customers left for each reason.

    Attributes
    ----------
    counts:
        Every reason, in :class:`ChurnReason` order, with its count (zero included).
    """

    counts: Mapping[ChurnReason, int]

    @property
    def total(self) -> int:
        """Customers recorded as lost."""
        return sum(self.counts.values())

    def shares(self) -> dict[ChurnReason, float]:
        """Share of each reason among the recorded losses (sums to 1).

        Raises
        ------
        EmptyDataError
            Nothing was recorded.
        """
        if self.total == 0:
            raise EmptyDataError("no churn recorded, so no shares", field="reason")
        return {reason: count / self.total for reason, count in self.counts.items()}

    def most_common(self) -> list[tuple[ChurnReason, int]]:
        """Reasons by count, largest first (ties in :class:`ChurnReason` order)."""
        return sorted(self.counts.items(), key=lambda item: -item[1])


def summarise_churn(records: Iterable[ChurnRecord | ChurnReason | str]) -> ChurnSummary:
    """Count losses by reason, from :class:`ChurnRecord` objects or bare reasons.

    Raises
    ------
    InvalidValueError
        An entry is neither a record nor a known reason (its position is named).
    """
    tally = dict.fromkeys(ChurnReason, 0)
    for position, record in enumerate(records):
        try:
            reason = record.reason if isinstance(record, ChurnRecord) else ChurnReason.parse(
                record)
        except InvalidValueError as exc:
            raise InvalidValueError(f"records[{position}]: {exc}", field="reason",
                                    rows=[position]) from exc
        tally[reason] += 1
    return ChurnSummary(counts=tally)


# -- churn risk -------------------------------------------------------------------------------


ONE_YEAR: Final = {"D": 365.0, "W": 52.0, "M": 12.0, "Q": 4.0, "Y": 1.0}
"""The default churn horizon, one year, in each time unit."""

ChurnMeasure = Literal["auto", "no_purchase", "p_alive", "lifecycle"]
_CHURN_MEASURES: Final = ("auto", "no_purchase", "p_alive", "lifecycle")


@attrs.frozen(eq=False)
class ChurnRisk:
    """Each customer's risk of being lost, aligned with ``customer_id``.

    Attributes
    ----------
    risk:
        In [0, 1]. With ``source == "no_purchase"`` (the default) it is the value model's
        probability that the customer makes no purchase in the next ``horizon``,
        P(Y(horizon) = 0 | x, t_x, T): a number a firm can check, by waiting ``horizon``
        and counting who did not buy (:func:`crmcore.lifecycle.backtest` does it on a
        holdout). With ``"p_alive"`` it is ``1 - P(alive)``; with ``"lifecycle"`` a score
        read from the lifecycle evidence (see :func:`churn_risk`), ordered like a probability
        but not calibrated as one.
    source:
        ``"no_purchase"``, ``"p_alive"`` or ``"lifecycle"``.
    stages:
        The stages the risk was read from or computed beside it (or passed in).
    p_alive:
        P(alive) from the value model, its own column (``None`` without a model). From
        BG/NBD it is 1 for every customer without a repeat purchase, because the model lets
        a customer drop out only right after a purchase; those one-time buyers are the
        customers *least* likely to come back, so ``1 - P(alive)`` from BG/NBD ranks churners
        worse than chance on CDNOW (ROC AUC 0.32). The probability of no purchase has no
        such artefact.
    horizon, time_unit:
        The horizon of ``"no_purchase"``, in ``time_unit`` (the base's).
    model:
        Name of the value model used, if any.
    """

    customer_id: NDArray[Any]
    risk: _FloatArray
    source: str
    stages: StageResult | None = None
    p_alive: _FloatArray | None = None
    horizon: float | None = None
    time_unit: str | None = None
    model: str | None = None

    def __len__(self) -> int:
        return len(self.customer_id)

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The risk (and P(alive) and stage where known) as a data frame, one row per
        customer."""
        columns: dict[str, NDArray[Any]] = {"customer_id": self.customer_id,
                                            "churn_risk": self.risk}
        if self.p_alive is not None:
            columns["p_alive"] = self.p_alive
        if self.stages is not None:
            names = np.array([s.value for s in LifecycleStage] + [""], dtype=object)
            columns["stage"] = names[self.stages.code]
        return _frame(columns, backend)


def churn_risk(
    base: CustomerBase,
    *,
    value_model: object | None = None,
    stages: StageResult | None = None,
    horizon: float | None = None,
    measure: ChurnMeasure = "auto",
) -> ChurnRisk:
    """Risk that each customer is lost: by default the probability of no purchase in the
    next ``horizon``.

    ``"no_purchase"`` (the default, ``"auto"``, whenever the value model has a conditional
    purchase-count distribution) is P(Y(t) = 0 | x, t_x, T), the value model's conditional
    PMF at zero (BG/NBD: :meth:`crmcore.value.BGNBD.conditional_probability_of_purchases`;
    Pareto/NBD: Fader & Hardie 2006). Without a value model the registry's default value
    model (BG/NBD) is fitted on ``base``. This is the default because it is a claim a firm
    can check (wait ``horizon``, count who bought) and because it ranks who does not come
    back well on real data: on CDNOW (calibration to 30 September 1997, 39-week holdout) its
    ROC AUC is about 0.76 on the 1/10 sample and 0.75 on the full file of 23,570 customers,
    where ``1 - P(alive)`` from the same BG/NBD scores 0.32 (worse than chance: P(alive) is
    1 for every one-time buyer, see :class:`ChurnRisk`) and from Pareto/NBD 0.72-0.73.

    ``"p_alive"`` is ``1 - P(alive)`` (for a model with ``p_alive`` only). ``"lifecycle"`` is
    read from the lifecycle evidence: 1 for a terminated relationship, else

    $$\\text{risk} = 1 - e^{-\\max(r - 1,\\,0)} \\cdot \\min(\\max(\\tau, 0), 1)$$

    where $r$ is the gap ratio (silence over the usual gap) and $\\tau$ the trend (1 where
    undefined): no risk while the customer is within their usual gap and trading at their
    usual rate, rising as the silence stretches beyond it or as trade falls. It ranks CDNOW's
    churners less well (ROC AUC about 0.6) and is kept for bases without a usable model.

    Parameters
    ----------
    base:
        The customers.
    value_model:
        A fitted value model: with ``conditional_probability_of_purchases`` (BG/NBD,
        MBG/NBD, Pareto/NBD) and/or ``p_alive``. Default: the registry's default value model,
        fitted on ``base`` (not for ``measure="lifecycle"``).
    stages:
        Stages already computed for ``base`` (default: :func:`classify` with the default
        classifier and the value model's P(alive) when it has one).
    horizon:
        Horizon of ``"no_purchase"`` in the base's ``time_unit`` (default: one year, e.g.
        52 weeks).
    measure:
        ``"auto"`` (``"no_purchase"`` if the model has the PMF, else ``"p_alive"``),
        ``"no_purchase"``, ``"p_alive"`` or ``"lifecycle"``.

    Raises
    ------
    InvalidValueError
        ``stages`` are not aligned with ``base``, a bad ``horizon`` or ``measure``, or a value
        model without what the measure needs.
    PluginError
        The value model's answer is not one probability per customer.
    ConvergenceError
        The default value model could not be fitted.
    """
    if measure not in _CHURN_MEASURES:
        raise InvalidValueError(
            f"measure must be one of {', '.join(map(repr, _CHURN_MEASURES))}, got {measure!r}",
            field="measure")
    if stages is not None:
        _check_aligned(stages.customer_id, base.customer_id, "stages")
    if measure == "lifecycle":
        if stages is None:
            stages = classify(base, value_model=value_model if isinstance(
                value_model, PAliveModel) else None)
        gap = np.nan_to_num(stages.gap_ratio, nan=0.0)
        trend = np.clip(np.nan_to_num(stages.trend, nan=1.0), 0.0, 1.0)
        keep = np.exp(-np.maximum(gap - 1.0, 0.0)) * trend
        risk = np.where(stages.code == LifecycleStage.TERMINATED.order, 1.0, 1.0 - keep)
        return ChurnRisk(customer_id=base.customer_id, risk=risk, source="lifecycle",
                         stages=stages)
    t = ONE_YEAR.get(base.time_unit, 1.0) if horizon is None else horizon
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t <= 0:
        raise InvalidValueError(f"horizon must be a finite number > 0, got {horizon!r}",
                                field="horizon")
    if value_model is None:
        from crmcore._registry import get_model

        value_model = get_model("value", None)
        value_model.fit(base)  # type: ignore[union-attr]
    frequency = np.asarray(base.frequency, dtype=np.float64)
    has_pmf = isinstance(value_model, NoPurchaseModel)
    has_alive = isinstance(value_model, PAliveModel)
    source = ("no_purchase" if has_pmf else "p_alive") if measure == "auto" else measure
    p_alive = (checked_p_alive(value_model, frequency, base.recency, base.T)
               if has_alive or source == "p_alive" else None)
    if source == "no_purchase":
        risk = checked_p_none(value_model, float(t), frequency, base.recency, base.T)
    else:
        assert p_alive is not None
        risk = 1.0 - p_alive
    if stages is None:
        stages = classify(base, value_model=value_model if isinstance(
            value_model, PAliveModel) else None)
    return ChurnRisk(customer_id=base.customer_id, risk=risk, source=source, stages=stages,
                     p_alive=p_alive, horizon=float(t) if source == "no_purchase" else None,
                     time_unit=base.time_unit, model=model_name(value_model))


def _check_aligned(ids: NDArray[Any], expected: NDArray[Any], name: str) -> None:
    if len(ids) != len(expected) or not np.array_equal(ids, expected):
        raise InvalidValueError(
            f"{name} are for {len(ids)} customers not aligned with the base's "
            f"{len(expected)} customer ids; compute them from the same base",
            field=name,
        )


def _values(values: ArrayLike, n: int, name: str) -> _FloatArray:
    array = as_column(as_numeric(values, name).reshape(-1), name, n=n)
    require_finite(array, name)
    return array


# -- retention --------------------------------------------------------------------------------


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value) or value < 0:
        raise InvalidValueError(
            f"RetentionOffer.{attribute.name} must be a finite number >= 0, got {value!r}",
            field=attribute.name,
        )


def _rate(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidValueError(
            f"RetentionOffer.{attribute.name} is a probability and must lie in [0, 1], got "
            f"{value!r}",
            field=attribute.name,
        )


@attrs.frozen
class RetentionOffer:
    """A retention action (客户挽留): what it costs per customer and how often it works.

    Offered to a customer who would otherwise leave with probability ``risk`` and is worth
    ``value`` if kept, it keeps them with probability ``success_rate``, so

    $$\\text{expected retained value} = s \\cdot \\text{risk} \\cdot \\text{value}, \\qquad
    \\text{net} = s \\cdot \\text{risk} \\cdot \\text{value} - c,$$

    and it pays when the net is positive. (A customer who would have stayed anyway gains the
    firm nothing from the offer, hence the factor ``risk``; the cost is spent either way.)

    Parameters
    ----------
    cost:
        Cost of making the offer to one customer (``c``).
    success_rate:
        Probability the offer keeps a customer who was about to leave (``s``).
    """

    cost: float = attrs.field(validator=_non_negative)
    success_rate: float = attrs.field(validator=_rate)

    def expected_gain(self, risk: ArrayLike, value: ArrayLike) -> _FloatArray:
        """Expected retained value ``success_rate * risk * value`` per customer."""
        return self.success_rate * np.asarray(risk, dtype=np.float64) * np.asarray(
            value, dtype=np.float64)

    def net_value(self, risk: ArrayLike, value: ArrayLike) -> _FloatArray:
        """Expected retained value minus the offer's cost, per customer."""
        return self.expected_gain(risk, value) - self.cost

    def pays(self, risk: ArrayLike, value: ArrayLike) -> NDArray[np.bool_]:
        """Whether the offer's expected retained value exceeds its cost, per customer."""
        return self.net_value(risk, value) > 0

    def break_even_value(self, risk: ArrayLike) -> _FloatArray:
        """The value a customer at ``risk`` must have for the offer to break even
        (``cost / (success_rate * risk)``; infinite where nothing can be gained)."""
        denominator = self.success_rate * np.asarray(risk, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.where(denominator > 0, self.cost / np.where(denominator > 0,
                                                                  denominator, 1.0), np.inf)


@attrs.frozen(eq=False)
class RetentionPlan:
    """At-risk customers ranked by value at stake, largest first, and whom to act on.

    Attributes
    ----------
    customer_id, risk, value:
        The at-risk customers, their churn risk and their value if kept.
    value_at_stake:
        ``risk * value``: the value expected to be lost without action.
    expected_gain, net_value, act:
        With an offer: expected retained value, net of the offer's cost, and whether to make
        the offer (net > 0). Without an offer ``act`` is all ``True`` and the others are
        ``None``.
    offer:
        The offer evaluated, if any.
    """

    customer_id: NDArray[Any]
    risk: _FloatArray
    value: _FloatArray
    value_at_stake: _FloatArray
    act: NDArray[np.bool_]
    expected_gain: _FloatArray | None = None
    net_value: _FloatArray | None = None
    offer: RetentionOffer | None = None

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The course texts' ways to retain customers about to leave (客户挽留策略), with
        their Chinese terms (:func:`crmcore.strategies_for`)."""
        return strategies_for("retention")

    @property
    def total_cost(self) -> float:
        """Cost of making the offer to every customer marked ``act``."""
        return 0.0 if self.offer is None else self.offer.cost * int(self.act.sum())

    @property
    def total_net_value(self) -> float:
        """Expected retained value minus cost, over the customers marked ``act``."""
        return 0.0 if self.net_value is None else float(self.net_value[self.act].sum())

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The plan as a data frame, in rank order."""
        columns: dict[str, NDArray[Any]] = {
            "customer_id": self.customer_id, "risk": self.risk, "value": self.value,
            "value_at_stake": self.value_at_stake, "act": self.act,
        }
        if self.expected_gain is not None and self.net_value is not None:
            columns["expected_gain"] = self.expected_gain
            columns["net_value"] = self.net_value
        return _frame(columns, backend)


def plan_retention(
    risk: ChurnRisk,
    value: ArrayLike,
    *,
    offer: RetentionOffer | None = None,
    min_risk: float = 0.5,
    stages: StageResult | None = None,
) -> RetentionPlan:
    """Whom to act on: at-risk customers ranked by value at stake.

    Parameters
    ----------
    risk:
        Churn risk per customer (:func:`churn_risk`).
    value:
        Each customer's value if kept (e.g. residual CLV given the customer stays), aligned
        with ``risk.customer_id``.
    offer:
        A retention offer to evaluate per customer; ``act`` then marks those for whom it pays.
    min_risk:
        Customers at or above this risk are at risk (default 0.5).
    stages:
        Lifecycle stages (default: those inside ``risk``, if any). Terminated customers are
        left out: they are lost already, a case for win-back, not retention.

    Raises
    ------
    InvalidValueError
        ``value`` is not one finite number per customer, ``min_risk`` is not in [0, 1], or
        ``stages`` are not aligned.
    """
    if isinstance(min_risk, bool) or not isinstance(min_risk, int | float) or not (
            0 <= min_risk <= 1):
        raise InvalidValueError(f"min_risk must lie in [0, 1], got {min_risk!r}",
                                field="min_risk")
    n = len(risk)
    values = _values(value, n, "value")
    stages = stages if stages is not None else risk.stages
    at_risk = risk.risk >= min_risk
    if stages is not None:
        _check_aligned(stages.customer_id, risk.customer_id, "stages")
        at_risk &= stages.code != LifecycleStage.TERMINATED.order
    rows = np.flatnonzero(at_risk)
    stake = risk.risk[rows] * values[rows]
    order = rows[np.argsort(-stake, kind="stable")]
    r, v = risk.risk[order], values[order]
    if offer is None:
        return RetentionPlan(customer_id=risk.customer_id[order], risk=r, value=v,
                             value_at_stake=r * v, act=np.ones(len(order), dtype=bool))
    gain = offer.expected_gain(r, v)
    net = gain - offer.cost
    return RetentionPlan(customer_id=risk.customer_id[order], risk=r, value=v,
                         value_at_stake=r * v, act=net > 0, expected_gain=gain,
                         net_value=net, offer=offer)


# -- win-back ---------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class WinBackList:
    """Terminated customers worth trying to win back (客户挽回), most valuable first.

    Attributes
    ----------
    customer_id, past_value:
        The customers and the value they brought (by default their total spend).
    silence:
        Time since their last purchase, in ``time_unit``.
    reason, advice, priority:
        With recorded churn reasons: each customer's reason (``None`` if not recorded), what
        to do given it, and the ranking key ``past_value * weight(reason)``.
    excluded, excluded_reason:
        Customers left out because win-back is not advised for their reason (malicious churn
        by default), and why.
    """

    customer_id: NDArray[Any]
    past_value: _FloatArray
    silence: _FloatArray
    time_unit: str
    reason: NDArray[Any] | None = None
    advice: NDArray[Any] | None = None
    priority: _FloatArray | None = None
    excluded: NDArray[Any] | None = None
    excluded_reason: NDArray[Any] | None = None

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The course texts' ways of winning a customer back (:func:`crmcore.strategies_for`)."""
        return strategies_for("win-back")

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The list as a data frame, in rank order."""
        columns: dict[str, NDArray[Any]] = {"customer_id": self.customer_id,
                                            "past_value": self.past_value,
                                            "silence": self.silence}
        if self.reason is not None and self.advice is not None and self.priority is not None:
            columns["reason"] = np.array([None if r is None else r.value for r in self.reason],
                                         dtype=object)
            columns["advice"] = self.advice
            columns["priority"] = self.priority
        return _frame(columns, backend)


def winback_candidates(
    base: CustomerBase,
    stages: StageResult,
    *,
    past_value: ArrayLike | None = None,
    min_value: float = 0.0,
    top: int | None = None,
    reasons: Iterable[ChurnRecord] | Mapping[Any, ChurnReason | str] | None = None,
    reason_weights: Mapping[ChurnReason | str, float] | None = None,
) -> WinBackList:
    """Terminated customers ranked by the value they brought in the past and, where recorded,
    by why they left (the course texts: find the cause first).

    Parameters
    ----------
    base:
        The customers.
    stages:
        Their stages (:func:`classify` on ``base``).
    past_value:
        Value per customer to rank by, aligned with ``base.customer_id`` (e.g. historical
        value from :mod:`crmcore.value`). Default: ``base.total_spend``.
    min_value:
        Leave out customers whose past value is below this.
    top:
        Keep only the first ``top`` customers.
    reasons:
        Recorded churn reasons (:class:`ChurnRecord` objects, or a mapping customer id ->
        reason). Customers are then ranked by ``past_value * weight(reason)``, those whose
        reason has weight 0 (malicious churn by default) are left out and listed in
        ``excluded``, and each customer's ``advice`` says what to do given the reason.
    reason_weights:
        Weights per reason overriding :data:`crmcore.lifecycle.DEFAULT_WINBACK_WEIGHTS`
        (crmcore's reading: fault and competitive 1, other 0.75, natural 0.5, malicious 0;
        an unrecorded reason counts as 0.75).

    Raises
    ------
    DataError
        No ``past_value`` and the base records no spend.
    InvalidValueError
        Misaligned stages or values, a bad ``top``, an unknown reason or a weight outside
        [0, 1].
    """
    _check_aligned(stages.customer_id, base.customer_id, "stages")
    if past_value is None:
        if base.total_spend is None:
            raise DataError("winback_candidates needs past_value: the base records no spend",
                            field="past_value")
        values = np.asarray(base.total_spend, dtype=np.float64)
    else:
        values = _values(past_value, len(base), "past_value")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InvalidValueError(f"top must be a whole number >= 1, got {top!r}", field="top")
    rows = np.flatnonzero((stages.code == LifecycleStage.TERMINATED.order)
                          & (values >= min_value))
    if reasons is not None:
        from crmcore.lifecycle._winback import rank_by_reason

        ranked, why, advice, priority, excluded = rank_by_reason(
            base.customer_id[rows], values[rows], reasons, reason_weights)
        order = rows[ranked][:top]
        kept = ranked[:top]
        return WinBackList(
            customer_id=base.customer_id[order], past_value=values[order],
            silence=stages.silence[order], time_unit=stages.time_unit, reason=why[kept],
            advice=advice[kept], priority=priority[kept],
            excluded=base.customer_id[rows[excluded]], excluded_reason=advice[excluded])
    order = rows[np.argsort(-values[rows], kind="stable")]
    if top is not None:
        order = order[:top]
    return WinBackList(customer_id=base.customer_id[order], past_value=values[order],
                       silence=stages.silence[order], time_unit=stages.time_unit)
