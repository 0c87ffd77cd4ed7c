"""Complaints over a base (客户抱怨): how many, how fast they are answered, and churn.

The course texts' service suite handles each complaint from creation to revisit
(投诉的建立、分配、解决、 跟踪、反馈、回访); the course texts count complaint management
(重视客户抱怨管理) among the ways to prevent churn, and churn the firm caused itself is fault churn
(过失流失). The course texts measure complaints in its logistics systems: the customer complaint
ratio Y21 (客户抱怨比率) of service quality, and the complaints criterion Z5 (顾客抱怨) of customer
satisfaction, whose Z55 is the time taken to respond to a complaint (对顾客抱怨做出反应的时间).

:func:`complaint_summary` computes those figures from :class:`crmcore.Complaint` records, for
the whole base, by channel and by period; :meth:`ComplaintSummary.logistics_indicators` lays
them out under the course texts' indicator names so that they are computed from records instead of
typed in; :func:`fault_churn_evidence` reads each lost customer's complaints against the
recorded churn reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs
import numpy as np
from numpy.typing import NDArray

from crmcore._base import CustomerBase
from crmcore._deprecation import renamed_parameters
from crmcore._domain import Complaint
from crmcore._errors import DataError, EmptyDataError, InvalidValueError
from crmcore._frames import FrameBackend, _frame
from crmcore._strategies import Strategy, strategies_for
from crmcore._time import check_unit, period_index, period_start
from crmcore.lifecycle._churn import ChurnReason, ChurnRecord

__all__ = [
    "ComplaintSummary",
    "ComplaintTable",
    "FaultChurnEvidence",
    "complaint_summary",
    "fault_churn_evidence",
]

_FloatArray = NDArray[np.float64]
_DAYS: Final = {"D": 1.0, "W": 7.0}
_QUANTILES: Final = (0.5, 0.75, 0.9)


def _naive(at: dt.datetime) -> np.datetime64:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(at, "us")


@attrs.frozen(eq=False)
class _Records:
    customer_id: NDArray[Any]
    opened: NDArray[np.datetime64]
    response: _FloatArray  # days; NaN while nobody responded
    resolution: _FloatArray  # days; NaN while unresolved
    escalated: _FloatArray  # 1, 0, NaN unknown
    channel: NDArray[Any]  # Channel value or "unknown"


def _records(complaints: Iterable[Complaint]) -> _Records:
    items = list(complaints)
    for position, item in enumerate(items):
        if not isinstance(item, Complaint):
            raise DataError(f"complaints[{position}] is a {type(item).__name__}, not a "
                            "crmcore.Complaint", field="complaints", rows=(position,))

    def days(delta: dt.timedelta | None) -> float:
        return np.nan if delta is None else delta.total_seconds() / 86400.0

    return _Records(
        customer_id=np.array([c.customer_id for c in items], dtype=object),
        opened=np.array([_naive(c.opened_at) for c in items], dtype="datetime64[us]"),
        response=np.array([days(c.time_to_response) for c in items], dtype=np.float64),
        resolution=np.array([days(c.time_to_resolution) for c in items], dtype=np.float64),
        escalated=np.array([np.nan if c.escalated is None else float(c.escalated)
                            for c in items], dtype=np.float64),
        channel=np.array(["unknown" if c.channel is None else c.channel.value for c in items],
                         dtype=object),
    )


def _quantiles(values: _FloatArray, scale: float) -> tuple[float, float, float, float]:
    """Median, 75th and 90th percentile and mean of the known values, NaN when none."""
    known = values[~np.isnan(values)] / scale
    if len(known) == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    q = np.quantile(known, _QUANTILES)
    return (float(q[0]), float(q[1]), float(q[2]), float(np.mean(known)))


@attrs.frozen(eq=False)
class ComplaintTable:
    """Complaint figures per group (channel or period), aligned with ``group``.

    Attributes
    ----------
    by:
        ``"channel"`` or ``"period"``.
    group:
        The channel values (``"unknown"`` for complaints without one) or period starts.
    complaints, complaining:
        Complaints and distinct complaining customers in each group.
    customers:
        By period: customers acquired by the end of the period (the base at the time); by
        channel: all customers of the base. ``None`` without a base.
    purchases:
        By period: transactions in the period; ``None`` by channel or without a base.
    complaint_ratio:
        ``complaining / customers`` (NaN without a base).
    per_100_purchases:
        ``100 * complaints / purchases`` (NaN where not known).
    share_resolved:
        Resolved complaints over complaints.
    median_response, median_resolution:
        Median times to first response and to resolution, in ``time_unit``.
    escalated_share:
        Escalated complaints over those whose escalation is recorded (NaN when none is).
    """

    by: str
    group: NDArray[Any]
    complaints: NDArray[np.int64]
    complaining: NDArray[np.int64]
    customers: NDArray[np.int64] | None
    purchases: NDArray[np.int64] | None
    complaint_ratio: _FloatArray
    per_100_purchases: _FloatArray
    share_resolved: _FloatArray
    median_response: _FloatArray
    median_resolution: _FloatArray
    escalated_share: _FloatArray
    time_unit: str

    def __len__(self) -> int:
        return len(self.group)

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """One row per group."""
        columns: dict[str, NDArray[Any]] = {
            self.by: self.group, "complaints": self.complaints,
            "complaining": self.complaining,
        }
        if self.customers is not None:
            columns["customers"] = self.customers
        if self.purchases is not None:
            columns["purchases"] = self.purchases
        columns.update({
            "complaint_ratio": self.complaint_ratio,
            "per_100_purchases": self.per_100_purchases,
            "share_resolved": self.share_resolved,
            "median_response": self.median_response,
            "median_resolution": self.median_resolution,
            "escalated_share": self.escalated_share,
        })
        return _frame(columns, backend)


@attrs.frozen(eq=False)
class ComplaintSummary:
    """Complaints over a base: ratios, handling times, resolution, escalation.

    Attributes
    ----------
    n_complaints, n_complaining:
        Complaints, and distinct customers who complained.
    n_customers, n_purchases:
        Customers and transactions of the base (``None`` without one).
    complaint_ratio:
        Customer complaint ratio (客户抱怨比率, the course texts' Y21): complaining customers over
        customers; ``None`` without a base.
    per_100_purchases:
        Complaints per 100 transactions; ``None`` without a base.
    response, resolution:
        Median, 75th percentile, 90th percentile and mean time to the first response
        (``assigned_at``) and to resolution, in ``time_unit``, over the complaints that
        reached that step (NaN when none did).
    n_responded, n_resolved:
        Complaints that reached each step.
    share_resolved:
        Resolved complaints over complaints.
    n_escalated, escalated_share:
        Escalated complaints, and their share among those whose escalation is recorded
        (``None`` when none is).
    time_unit:
        ``"D"`` (days) or ``"W"`` (weeks).
    """

    n_complaints: int
    n_complaining: int
    n_customers: int | None
    n_purchases: int | None
    complaint_ratio: float | None
    per_100_purchases: float | None
    response: tuple[float, float, float, float]
    resolution: tuple[float, float, float, float]
    n_responded: int
    n_resolved: int
    share_resolved: float
    n_escalated: int
    escalated_share: float | None
    time_unit: str
    _records: _Records = attrs.field(repr=False)
    _base: CustomerBase | None = attrs.field(repr=False)

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        """The course texts' ways of handling a complaint (:func:`crmcore.strategies_for`)."""
        return strategies_for("complaint")

    def by_channel(self) -> ComplaintTable:
        """The figures per channel the complaints came in through (``Complaint.channel``)."""
        r = self._records
        names = np.array(sorted(set(r.channel.tolist())), dtype=object)
        code = np.searchsorted(names, r.channel)
        n = None if self._base is None else np.full(len(names), len(self._base), np.int64)
        return self._table("channel", names, code, n, None)

    @renamed_parameters(period="freq")
    def by_period(self, freq: str = "M") -> ComplaintTable:
        """The figures per period of ``freq`` the complaints were opened in, from the first
        period with a complaint or a purchase to the last; with a base, the customer complaint
        ratio of each period is over the customers acquired by its end. (``freq`` was
        ``period``, which still works until the next release with a
        :class:`DeprecationWarning`.)"""
        check_unit(freq, argument="freq")
        r = self._records
        opened = period_index(r.opened, freq)
        low, high = int(opened.min()), int(opened.max())
        customers = purchases = None
        base = self._base
        if base is not None and base.first_purchase is not None and base.history is not None:
            first = period_index(base.first_purchase.astype("datetime64[us]"), freq)
            bought = period_index(base.history.period_dates().astype("datetime64[us]"), freq)
            low, high = min(low, int(first.min())), max(high, int(bought.max()))
            customers = np.cumsum(np.bincount(first - low, minlength=high - low + 1)
                                  ).astype(np.int64)
            purchases = np.bincount(bought - low, weights=base.history.count,
                                    minlength=high - low + 1).astype(np.int64)
        groups = period_start(np.arange(low, high + 1, dtype=np.int64), freq)
        return self._table("period", groups, opened - low, customers, purchases)

    def _table(self, by: str, groups: NDArray[Any], code: NDArray[np.int64],
               customers: NDArray[np.int64] | None,
               purchases: NDArray[np.int64] | None) -> ComplaintTable:
        r, k = self._records, len(groups)
        count = np.bincount(code, minlength=k).astype(np.int64)
        complaining = np.zeros(k, dtype=np.int64)
        response, resolution, escalated = (np.full(k, np.nan) for _ in range(3))
        resolved = np.zeros(k)
        for g in np.flatnonzero(count):
            rows = code == g
            complaining[g] = len(set(r.customer_id[rows].tolist()))
            response[g] = _quantiles(r.response[rows], _DAYS[self.time_unit])[0]
            resolution[g] = _quantiles(r.resolution[rows], _DAYS[self.time_unit])[0]
            resolved[g] = np.count_nonzero(~np.isnan(r.resolution[rows]))
            known = r.escalated[rows][~np.isnan(r.escalated[rows])]
            escalated[g] = float(known.mean()) if len(known) else np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = (np.full(k, np.nan) if customers is None
                     else np.where(customers > 0, complaining / np.maximum(customers, 1),
                                   np.nan))
            per_100 = (np.full(k, np.nan) if purchases is None
                       else np.where(purchases > 0, 100.0 * count / np.maximum(purchases, 1),
                                     np.nan))
            share = np.where(count > 0, resolved / np.maximum(count, 1), np.nan)
        return ComplaintTable(
            by=by, group=groups, complaints=count, complaining=complaining,
            customers=customers, purchases=purchases, complaint_ratio=ratio,
            per_100_purchases=per_100, share_resolved=share, median_response=response,
            median_resolution=resolution, escalated_share=escalated, time_unit=self.time_unit)

    @renamed_parameters(period="freq")
    def logistics_indicators(self, freq: str | None = None) -> dict[str, Any]:
        """The complaint indicators of the course texts' logistics systems, computed from the
        records.

        ``Y21`` is the customer complaint ratio (客户抱怨比率) of the service-quality system Y;
        ``Z55`` the time to respond to a complaint (对顾客抱怨做出反应的时间, the measurable half
        of Z55; the other half, satisfaction with the outcome, is a survey rating), in
        ``time_unit``, here the median time to the first response. Both are measurements where
        less is better: :func:`crmcore.satisfaction.logistics_service_quality_tree` with
        ``rated=False`` declares Y21 a cost indicator; Z55 comes in the satisfaction tree as a
        rating, so a measured Z55 needs the cost direction.

        Parameters
        ----------
        freq:
            ``None``: one number each for the whole base. A period (``"M"`` ...): one value
            per period of :meth:`by_period`, ready as the alternatives of a measured indicator
            matrix (e.g. for entropy weights). Formerly ``period``, which still works until
            the next release with a :class:`DeprecationWarning`.

        Raises
        ------
        DataError
            Y21 needs the customers: the summary was made without a base.
        """
        if self._base is None:
            raise DataError("the complaint ratio Y21 needs the customers: pass the base to "
                            "complaint_summary", field="base")
        if freq is None:
            return {"Y21": self.complaint_ratio, "Z55": self.response[0]}
        table = self.by_period(freq)
        return {"period": table.group, "Y21": table.complaint_ratio,
                "Z55": table.median_response}

    def per_customer(self) -> NDArray[np.int64]:
        """Complaints per customer of the base, aligned with ``base.customer_id``.

        Raises
        ------
        DataError
            The summary was made without a base.
        """
        if self._base is None:
            raise DataError("per_customer needs the base: pass it to complaint_summary",
                            field="base")
        rows = self._base.index_of(self._records.customer_id)
        return np.bincount(rows, minlength=len(self._base)).astype(np.int64)


def complaint_summary(
    complaints: Iterable[Complaint],
    base: CustomerBase | None = None,
    *,
    time_unit: str = "D",
) -> ComplaintSummary:
    """Summarise complaints: complaint ratio, complaints per 100 purchases, response and
    resolution times, share resolved and escalations (group them with
    :meth:`ComplaintSummary.by_channel` and :meth:`ComplaintSummary.by_period`).

    Parameters
    ----------
    complaints:
        :class:`crmcore.Complaint` records over the same window as ``base``.
    base:
        The customers (built from transactions for the purchase counts). Without it the ratios
        over customers and purchases are ``None``.
    time_unit:
        Unit of the handling times: ``"D"`` (days, default) or ``"W"`` (weeks).

    Raises
    ------
    EmptyDataError
        No complaints.
    DataError
        A record is not a Complaint, or names a customer not in ``base``.
    TimeUnitError, InvalidValueError
        ``time_unit`` is not days or weeks.

    Examples
    --------
    >>> import datetime as dt, crmcore
    >>> from crmcore.lifecycle import complaint_summary
    >>> day = lambda d, h=0: dt.datetime(2024, 1, d, h)
    >>> records = [crmcore.Complaint("a", day(1), assigned_at=day(1, 12), resolved_at=day(3)),
    ...            crmcore.Complaint("b", day(2), assigned_at=day(3))]
    >>> s = complaint_summary(records)
    >>> s.share_resolved, s.response[0], s.resolution[0]
    (0.5, 0.75, 2.0)
    """
    check_unit(time_unit, argument="time_unit")
    if time_unit not in _DAYS:
        raise InvalidValueError(f"time_unit={time_unit!r}: handling times are in days ('D') or "
                                "weeks ('W')", field="time_unit")
    records = _records(complaints)
    n = len(records.customer_id)
    if n == 0:
        raise EmptyDataError("there are no complaints to summarise", field="complaints")
    n_customers = n_purchases = None
    complaining = len(set(records.customer_id.tolist()))
    ratio = per_100 = None
    if base is not None:
        try:
            base.index_of(records.customer_id)
        except (DataError, InvalidValueError) as exc:
            raise DataError(f"complaints name customers not in the base: {exc}",
                            field="customer_id") from exc
        n_customers = len(base)
        ratio = complaining / n_customers
        if base.history is not None:
            n_purchases = int(base.history.count.sum())
            per_100 = 100.0 * n / n_purchases if n_purchases else None
    scale = _DAYS[time_unit]
    known = records.escalated[~np.isnan(records.escalated)]
    return ComplaintSummary(
        n_complaints=n, n_complaining=complaining, n_customers=n_customers,
        n_purchases=n_purchases, complaint_ratio=ratio, per_100_purchases=per_100,
        response=_quantiles(records.response, scale),
        resolution=_quantiles(records.resolution, scale),
        n_responded=int(np.count_nonzero(~np.isnan(records.response))),
        n_resolved=int(np.count_nonzero(~np.isnan(records.resolution))),
        share_resolved=float(np.count_nonzero(~np.isnan(records.resolution))) / n,
        n_escalated=int(known.sum()),
        escalated_share=float(known.mean()) if len(known) else None,
        time_unit=time_unit, records=records, base=base,
    )


# -- complaints and fault churn -----------------------------------------------------------------


@attrs.frozen(eq=False)
class FaultChurnEvidence:
    """Each lost customer's complaints read against the recorded churn reason.

    Attributes
    ----------
    customer_id, recorded:
        The churn records' customers and reasons, in the records' order.
    complaints:
        Complaints the customer opened before leaving (all of them when the record has no
        date).
    unresolved:
        Of those, complaints not resolved by the time the customer left.
    suggested:
        The reason the evidence points to: fault churn (过失流失) for a customer recorded as
        OTHER (reason unknown) who left with an unresolved complaint; the recorded reason
        otherwise. The suggestion is crmcore's reading: complaints are evidence of the
        firm's failing, not proof that it caused the loss.
    """

    customer_id: NDArray[Any]
    recorded: NDArray[Any]
    complaints: NDArray[np.int64]
    unresolved: NDArray[np.int64]
    suggested: NDArray[Any]

    def __len__(self) -> int:
        return len(self.customer_id)

    def complained_share(self, reason: ChurnReason | str) -> float:
        """Share of the customers recorded with ``reason`` who complained before leaving
        (NaN when none was recorded with it)."""
        wanted = ChurnReason.parse(reason)
        rows = np.array([r is wanted for r in self.recorded], dtype=bool)
        return float(np.mean(self.complaints[rows] > 0)) if rows.any() else np.nan

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """One row per churn record."""
        return _frame({
            "customer_id": self.customer_id,
            "recorded": np.array([r.value for r in self.recorded], dtype=object),
            "complaints": self.complaints, "unresolved": self.unresolved,
            "suggested": np.array([r.value for r in self.suggested], dtype=object),
        }, backend)


def fault_churn_evidence(
    complaints: Iterable[Complaint], records: Sequence[ChurnRecord],
) -> FaultChurnEvidence:
    """Link each lost customer's complaints to fault churn (过失流失).

    For every churn record: how many complaints the customer opened before leaving
    (``ChurnRecord.at``; all of them when it is unknown) and how many of those were still
    unresolved then; a customer recorded as OTHER (unknown reason) who left with an unresolved
    complaint is suggested as FAULT. :meth:`FaultChurnEvidence.complained_share` tells how far
    the recorded reasons agree with the complaints (most fault churners should have
    complained).

    Raises
    ------
    DataError
        A record is not a :class:`ChurnRecord`, or a complaint not a Complaint.
    """
    r = _records(complaints)
    items = list(records)
    for position, item in enumerate(items):
        if not isinstance(item, ChurnRecord):
            raise DataError(f"records[{position}] is a {type(item).__name__}, not a "
                            "ChurnRecord", field="records", rows=(position,))
    resolved_at = r.opened + np.where(np.isnan(r.resolution), 0,
                                      r.resolution * 86400e6).astype("timedelta64[us]")
    by_customer: dict[Any, list[int]] = {}
    for row, cid in enumerate(r.customer_id.tolist()):
        by_customer.setdefault(cid, []).append(row)
    count = np.zeros(len(items), dtype=np.int64)
    open_ = np.zeros(len(items), dtype=np.int64)
    suggested = np.empty(len(items), dtype=object)
    for i, record in enumerate(items):
        rows = np.asarray(by_customer.get(record.customer_id, []), dtype=np.int64)
        if record.at is not None and len(rows):
            left = _naive(record.at)
            rows = rows[r.opened[rows] <= left]
            unresolved = np.isnan(r.resolution[rows]) | (resolved_at[rows] > left)
        else:
            unresolved = np.isnan(r.resolution[rows])
        count[i] = len(rows)
        open_[i] = int(np.count_nonzero(unresolved))
        suggested[i] = (ChurnReason.FAULT if record.reason is ChurnReason.OTHER and open_[i]
                        else record.reason)
    return FaultChurnEvidence(
        customer_id=np.array([x.customer_id for x in items], dtype=object),
        recorded=np.array([x.reason for x in items], dtype=object),
        complaints=count, unresolved=open_, suggested=suggested)
