"""Backtest of segment labels: calibrate, then see what each class's customers did next.

A segment a firm acts on is a claim about the future: VIP customers will bring more than key
ones, loyal customers will keep buying, a lapsed customer comes back less than an established
one. :func:`backtest_segments` checks such claims the way :func:`crmcore.lifecycle.backtest`
checks the lifecycle stages: it segments the calibration base of a
:class:`crmcore.CalibrationHoldout` split and reports, per class, how many customers bought
again in the holdout, how often and for how much, then judges each claimed order
(:class:`Claim`) against those numbers.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CalibrationHoldout, CustomerBase
from crmcore._errors import InvalidValueError
from crmcore._frames import FrameBackend, _frame
from crmcore._outcomes import group_means, holdout_outcomes, plot_returned
from crmcore.value._segment_results import Segmentation
from crmcore.value._segments import (
    BankClass,
    ImportanceTier,
    LoyaltyLadder,
    PyramidTier,
    RFMSegment,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SEGMENT_CLAIMS", "Claim", "ClaimCheck", "SegmentBacktest", "backtest_segments"]

_FloatArray = NDArray[np.float64]

Measure = Literal["returned", "mean_purchases", "mean_spend"]
_MEASURES: tuple[str, ...] = ("returned", "mean_purchases", "mean_spend")


def _check_measure(instance: Claim, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in _MEASURES:
        raise InvalidValueError(f"a claim's measure must be one of {', '.join(_MEASURES)}, "
                                f"got {value!r}", field="measure")


@attrs.frozen
class Claim:
    """A claimed order: customers of class ``higher`` do better on ``measure`` in the holdout
    than customers of class ``lower``.

    Attributes
    ----------
    higher, lower:
        Two classes of the segmentation.
    measure:
        ``"returned"`` (share who bought again), ``"mean_purchases"`` or ``"mean_spend"``.
    reason:
        Where the claim comes from (the class texts that make it).
    """

    higher: Hashable
    lower: Hashable
    measure: Measure = attrs.field(default="returned", validator=_check_measure)
    reason: str = ""


@attrs.frozen
class ClaimCheck:
    """A :class:`Claim` set against the holdout.

    ``holds`` is ``None`` when either class has no customers (nothing to judge).
    """

    claim: Claim
    higher_value: float
    lower_value: float
    holds: bool | None


def _name(segment: Hashable) -> str:
    return segment.name if isinstance(segment, enum.Enum) else str(segment)


def _chain(classes: Sequence[Hashable], measure: Measure, reason: str) -> tuple[Claim, ...]:
    return tuple(Claim(a, b, measure, reason) for a, b in itertools.pairwise(classes))


_RFM_PAIRS: dict[str, tuple[tuple[RFMSegment, RFMSegment], ...]] = {
    # classes that differ in one letter only: (high, low)
    "recency": (
        (RFMSegment.IMPORTANT_VALUE, RFMSegment.IMPORTANT_MAINTENANCE),
        (RFMSegment.IMPORTANT_DEVELOPMENT, RFMSegment.IMPORTANT_RETENTION),
        (RFMSegment.GENERAL_VALUE, RFMSegment.GENERAL_MAINTENANCE),
        (RFMSegment.GENERAL_DEVELOPMENT, RFMSegment.GENERAL_RETENTION),
    ),
    "frequency": (
        (RFMSegment.IMPORTANT_VALUE, RFMSegment.IMPORTANT_DEVELOPMENT),
        (RFMSegment.IMPORTANT_MAINTENANCE, RFMSegment.IMPORTANT_RETENTION),
        (RFMSegment.GENERAL_VALUE, RFMSegment.GENERAL_DEVELOPMENT),
        (RFMSegment.GENERAL_MAINTENANCE, RFMSegment.GENERAL_RETENTION),
    ),
    "monetary": (
        (RFMSegment.IMPORTANT_VALUE, RFMSegment.GENERAL_VALUE),
        (RFMSegment.IMPORTANT_DEVELOPMENT, RFMSegment.GENERAL_DEVELOPMENT),
        (RFMSegment.IMPORTANT_MAINTENANCE, RFMSegment.GENERAL_MAINTENANCE),
        (RFMSegment.IMPORTANT_RETENTION, RFMSegment.GENERAL_RETENTION),
    ),
}


def _rfm_claims() -> tuple[Claim, ...]:
    claims = [Claim(high, low, "returned", "a recent buyer comes back more often "
                    "(high R: 'slipping away' is the low-R classes' text)")
              for high, low in _RFM_PAIRS["recency"]]
    claims += [Claim(high, low, "returned", "a frequent buyer keeps buying (high F)")
               for high, low in _RFM_PAIRS["frequency"]]
    claims += [Claim(high, low, "mean_spend", "a high spender spends more (high M)")
               for high, low in _RFM_PAIRS["monetary"]]
    best, worst = RFMSegment.IMPORTANT_VALUE, RFMSegment.GENERAL_RETENTION
    others = [c for c in RFMSegment if c not in (best, worst)]
    for measure in ("returned", "mean_spend"):
        claims += [Claim(best, c, measure, "important value: 'the best customers'")
                   for c in others]
        claims += [Claim(c, worst, measure, "general retention: 'lowest priority'")
                   for c in others]
    return tuple(claims)


SEGMENT_CLAIMS: Mapping[str, tuple[Claim, ...]] = {
    "importance": (
        *_chain((ImportanceTier.VIP, ImportanceTier.KEY, ImportanceTier.ORDINARY),
                "mean_spend", "tiers by rank of value: VIP above key above ordinary"),
        *_chain((ImportanceTier.VIP, ImportanceTier.KEY, ImportanceTier.ORDINARY),
                "returned", "tiers by rank of value: VIP above key above ordinary"),
    ),
    "loyalty-ladder": (
        *_chain((LoyaltyLadder.LOYAL, LoyaltyLadder.ESTABLISHED, LoyaltyLadder.REGULAR,
                 LoyaltyLadder.NEW), "returned",
                "the ladder's rungs: loyal above established above regular above new"),
        Claim(LoyaltyLadder.ESTABLISHED, LoyaltyLadder.LAPSED, "returned",
              "a customer silent long ago comes back less than an established one"),
        Claim(LoyaltyLadder.LOYAL, LoyaltyLadder.LAPSED, "returned",
              "a customer silent long ago comes back less than a loyal one"),
    ),
    "rfm": _rfm_claims(),
    "pyramid": _chain((PyramidTier.PLATINUM, PyramidTier.GOLD, PyramidTier.IRON,
                       PyramidTier.LEAD), "mean_spend",
                      "resources by tier: platinum first, gold as a priority, iron in "
                      "moderation, lead none"),
    "bank": (
        Claim(BankClass.TOP, BankClass.LARGE, "returned",
              "the loyalty axis: A (loyal) above B (valuable, 'raise loyalty before they "
              "leave')"),
        Claim(BankClass.MEDIUM, BankClass.SMALL, "returned",
              "the loyalty axis: C (loyal) above D"),
        Claim(BankClass.TOP, BankClass.MEDIUM, "mean_spend",
              "the value axis: A above C ('lower value')"),
        Claim(BankClass.LARGE, BankClass.SMALL, "mean_spend", "the value axis: B above D"),
        *(Claim(c, BankClass.INACTIVE, "returned", "an unused account comes back least")
          for c in (BankClass.TOP, BankClass.LARGE, BankClass.MEDIUM, BankClass.SMALL)),
    ),
}
"""The orders each scheme's class texts claim, by scheme name (:attr:`Segmentation.scheme`).

``importance``: VIP above key above ordinary, in spend and in return. ``loyalty-ladder``:
loyal above established above regular above new in return (the rungs of a rising tendency to
rebuy), and lapsed below established and loyal. ``rfm``: within each pair of classes that
differ in one letter, high recency and high frequency come back more often and high monetary
value spends more; important value is best and general retention lowest in both. ``pyramid``:
platinum above gold above iron above lead in spend (the order in which the course texts give them
resources). ``bank`` (the value x loyalty grid): one axis at a time, the loyal class comes back
more often (A above B, C above D) and the valuable one spends more (A above C, B above D);
inactive customers come back least. Schemes whose classes claim nothing the holdout shows
(portfolio and investment quadrants, which turn on potential value and the cost to serve) have
no entry.
"""


@attrs.frozen(eq=False)
class SegmentBacktest:
    """A segmentation set against what its customers did in the holdout.

    Attributes
    ----------
    scheme:
        The segmentation's scheme (or the name given for plain labels).
    segments:
        The classes, in the segmentation's order (empty classes included).
    customers:
        Customers per class.
    returned:
        Share of the class who bought again in the holdout (NaN for an empty class).
    mean_purchases:
        Mean purchase periods per customer in the holdout.
    mean_spend:
        Mean spend per customer in the holdout (NaN when the base records no spend).
    spend_share:
        The class's share of all holdout spend (NaN without spend or when nobody spent).
    mean_value:
        Mean of the segmentation's own value column (the calibration value it sorted on;
        NaN without one).
    claims:
        Each claimed order checked against the holdout.
    total_customers, total_returned, total_mean_purchases, total_mean_spend:
        The same over the whole calibration base (the base rate a class is compared with).
    holdout, time_unit:
        Length of the holdout and its unit.
    """

    scheme: str
    segments: tuple[Hashable, ...]
    customers: NDArray[np.int64]
    returned: _FloatArray
    mean_purchases: _FloatArray
    mean_spend: _FloatArray
    spend_share: _FloatArray
    mean_value: _FloatArray
    claims: tuple[ClaimCheck, ...]
    total_customers: int
    total_returned: float
    total_mean_purchases: float
    total_mean_spend: float
    holdout: float
    time_unit: str

    def _column(self, measure: str) -> _FloatArray:
        if measure not in ("returned", "mean_purchases", "mean_spend", "spend_share",
                           "mean_value"):
            raise InvalidValueError(f"unknown measure {measure!r}", field="measure")
        column: _FloatArray = getattr(self, measure)
        return column

    def by_segment(self, measure: str = "returned") -> dict[Hashable, float]:
        """One measure (``"returned"``, ``"mean_purchases"``, ``"mean_spend"``,
        ``"spend_share"`` or ``"mean_value"``) by class."""
        return {s: float(v) for s, v in zip(self.segments, self._column(measure), strict=True)}

    def claims_hold(self) -> bool:
        """Whether every claim that could be judged holds (``True`` when there are none)."""
        return all(c.holds is not False for c in self.claims)

    def failed_claims(self) -> tuple[ClaimCheck, ...]:
        """The claims the holdout contradicts."""
        return tuple(c for c in self.claims if c.holds is False)

    def to_frame(self, backend: FrameBackend = "pandas", *,
                 by: Literal["segment", "claim"] = "segment") -> Any:
        """The backtest as a data frame of ``backend``: one row per class ending with an
        ``"all customers"`` row (``by="segment"``, classes by enum member name), or one row
        per claim (``by="claim"``)."""
        if by == "claim":
            checks = self.claims
            return _frame({
                "higher": np.array([_name(c.claim.higher) for c in checks], dtype=object),
                "lower": np.array([_name(c.claim.lower) for c in checks], dtype=object),
                "measure": np.array([c.claim.measure for c in checks], dtype=object),
                "higher_value": np.array([c.higher_value for c in checks], dtype=np.float64),
                "lower_value": np.array([c.lower_value for c in checks], dtype=np.float64),
                "holds": np.array([c.holds for c in checks], dtype=object),
                "reason": np.array([c.claim.reason for c in checks], dtype=object),
            }, backend)
        if by != "segment":
            raise InvalidValueError(f"by must be 'segment' or 'claim', got {by!r}", field="by")
        total_share = 1.0 if np.isfinite(self.spend_share).any() else np.nan
        return _frame({
            "segment": np.array([_name(s) for s in self.segments] + ["all customers"],
                                dtype=object),
            "customers": np.append(self.customers, self.total_customers).astype(np.int64),
            "returned": np.append(self.returned, self.total_returned),
            "mean_purchases": np.append(self.mean_purchases, self.total_mean_purchases),
            "mean_spend": np.append(self.mean_spend, self.total_mean_spend),
            "spend_share": np.append(self.spend_share, total_share),
            "mean_value": np.append(self.mean_value, np.nan),
        }, backend)

    def plot(self, ax: Axes | None = None, **bar_style: Any) -> Axes:
        """Each class's share of customers who bought again in the holdout, with the base's
        share as a line and each bar labelled with its share and customers.

        Needs matplotlib (the ``plot`` extra); draws on ``ax`` (default: a new figure's axes)
        and returns it.
        """
        failed = len(self.failed_claims())
        judged = sum(c.holds is not None for c in self.claims)
        drawn: Axes = plot_returned(
            ax, [_name(s) for s in self.segments], self.returned, self.customers,
            self.total_returned, holdout=self.holdout, time_unit=self.time_unit,
            title=(f"{self.scheme} classes at the split and the holdout "
                   f"({judged - failed} of {judged} claims hold)"),
            rotate=True, **bar_style)
        return drawn


SegmentationInput = (Segmentation[Any] | Callable[[CustomerBase], Segmentation[Any]]
                     | ArrayLike)


def backtest_segments(
    split: CalibrationHoldout,
    segmentation: SegmentationInput,
    *,
    claims: Sequence[Claim] | None = None,
    classes: Sequence[Hashable] | None = None,
    scheme: str | None = None,
) -> SegmentBacktest:
    """Segment the calibration base of ``split`` and see what each class did in the holdout.

    Parameters
    ----------
    split:
        A calibration/holdout split (:meth:`crmcore.CustomerBase.calibration_holdout`, e.g.
        :func:`crmcore.datasets.load_cdnow_calibration`).
    segmentation:
        The segments of the calibration base, aligned with it: a :class:`Segmentation`, a
        function that makes one from a base (``lambda base: importance(...)``), or one label
        per customer (any hashable values, e.g. ``"habitual"`` / ``"irregular"``).
    claims:
        The orders to check; default :data:`SEGMENT_CLAIMS` of the segmentation's scheme
        (none for plain labels or a scheme without claims).
    classes:
        For plain labels: the classes in the order to report them (default: the labels
        found, sorted by their text). Every label must be among them.
    scheme:
        Name to report (default: the segmentation's scheme, or ``"labels"``).

    Returns
    -------
    SegmentBacktest

    Raises
    ------
    DataError
        ``split`` is not a :class:`crmcore.CalibrationHoldout`.
    InvalidValueError
        Segments not aligned with the calibration base, a label outside ``classes``, or a
        claim naming a class the segmentation does not have.
    """
    outcomes = holdout_outcomes(split)
    base = split.calibration
    n = len(base)
    if callable(segmentation) and not isinstance(segmentation, Segmentation):
        segmentation = segmentation(base)
    value: _FloatArray | None = None
    if isinstance(segmentation, Segmentation):
        if classes is not None:
            raise InvalidValueError("classes orders plain labels; a Segmentation has its own",
                                    field="classes")
        if len(segmentation) != n:
            raise InvalidValueError(
                f"the segmentation has {len(segmentation)} customers, the calibration base "
                f"{n}: segment split.calibration, in its order", field="segmentation")
        found: tuple[Hashable, ...] = tuple(segmentation.classes)
        codes = np.asarray(segmentation.codes, dtype=np.int64)
        value = segmentation.value
        name = segmentation.scheme if scheme is None else scheme
    else:
        labels = np.asarray(segmentation, dtype=object)
        if labels.shape != (n,):
            raise InvalidValueError(
                f"segmentation has shape {labels.shape}, expected ({n},): one label per "
                "customer of split.calibration, in its order", field="segmentation")
        found = tuple(sorted(set(labels.tolist()), key=str)) if classes is None else tuple(
            classes)
        position = {c: k for k, c in enumerate(found)}
        unknown = sorted({str(x) for x in labels.tolist() if x not in position})
        if unknown:
            raise InvalidValueError(f"labels {', '.join(unknown)} are not among classes",
                                    field="classes")
        codes = np.fromiter((position[x] for x in labels.tolist()), dtype=np.int64, count=n)
        name = "labels" if scheme is None else scheme
    k = len(found)
    customers, means = group_means(codes, k, returned=outcomes.bought,
                                   mean_purchases=outcomes.purchases,
                                   mean_spend=outcomes.spend,
                                   mean_value=np.full(n, np.nan) if value is None else value)
    total_spend = float(np.sum(outcomes.spend))
    with np.errstate(invalid="ignore", divide="ignore"):
        spend_share = (means["mean_spend"] * customers / total_spend if total_spend > 0
                       else np.full(k, np.nan))
    wanted = SEGMENT_CLAIMS.get(name, ()) if claims is None else tuple(claims)
    checks = []
    for claim in wanted:
        if not isinstance(claim, Claim):
            raise InvalidValueError(f"claims must be Claim objects, got {claim!r}",
                                    field="claims")
        for side in (claim.higher, claim.lower):
            if side not in found:
                raise InvalidValueError(f"the claim names {side!r}, which is not a class of "
                                        f"the {name} segments", field="claims")
        column = means[claim.measure]
        high = float(column[found.index(claim.higher)])
        low = float(column[found.index(claim.lower)])
        judged = np.isfinite(high) and np.isfinite(low)
        checks.append(ClaimCheck(claim=claim, higher_value=high, lower_value=low,
                                 holds=bool(high > low) if judged else None))
    return SegmentBacktest(
        scheme=name, segments=found, customers=customers, returned=means["returned"],
        mean_purchases=means["mean_purchases"], mean_spend=means["mean_spend"],
        spend_share=spend_share, mean_value=means["mean_value"], claims=tuple(checks),
        total_customers=n, total_returned=float(outcomes.bought.mean()),
        total_mean_purchases=float(outcomes.purchases.mean()),
        total_mean_spend=float(outcomes.spend.mean()),
        holdout=float(split.duration_holdout), time_unit=base.time_unit,
    )
