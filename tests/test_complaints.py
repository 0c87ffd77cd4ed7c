"""Complaints over a base (客户抱怨): ratios, handling times, channels, periods, fault churn."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import crmcore
from crmcore import Channel, Complaint, Transaction
from crmcore.lifecycle import (
    ChurnReason,
    ChurnRecord,
    complaint_summary,
    fault_churn_evidence,
)
from crmcore.satisfaction import logistics_satisfaction_tree, logistics_service_quality_tree


def _at(month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, day, hour)


# Four customers, ten transactions over January and February.
LOG = [Transaction(c, _at(m, d), 10.0) for c, m, d in [
    ("a", 1, 2), ("a", 1, 20), ("a", 2, 3), ("b", 1, 5), ("b", 2, 7), ("c", 1, 9),
    ("c", 2, 1), ("c", 2, 15), ("d", 2, 10), ("d", 2, 20)]]

COMPLAINTS = [
    # a: answered after 6 h, resolved after 2 days, by phone, escalated
    Complaint("a", _at(1, 10), assigned_at=_at(1, 10, 6), resolved_at=_at(1, 12),
              channel=Channel.PHONE, escalated=True),
    # a again: answered after 1 day, resolved after 4 days, by email, not escalated
    Complaint("a", _at(2, 4), assigned_at=_at(2, 5), resolved_at=_at(2, 8),
              channel=Channel.EMAIL, escalated=False),
    # b: answered after 2 days, never resolved, by phone, escalation unknown
    Complaint("b", _at(2, 8), assigned_at=_at(2, 10), channel=Channel.PHONE),
]


def _base() -> crmcore.CustomerBase:
    return crmcore.CustomerBase.from_transactions(LOG, freq="D", observation_end="2024-02-29")


def test_summary_over_a_base() -> None:
    s = complaint_summary(COMPLAINTS, _base())
    assert (s.n_complaints, s.n_complaining, s.n_customers, s.n_purchases) == (3, 2, 4, 10)
    assert s.complaint_ratio == pytest.approx(0.5)  # 客户抱怨比率: 2 of 4 customers
    assert s.per_100_purchases == pytest.approx(30.0)
    # response times 0.25, 1, 2 days; resolution times 2, 4 days
    assert s.response[0] == pytest.approx(1.0)
    assert s.response[3] == pytest.approx(3.25 / 3)
    assert s.response[1] == pytest.approx(1.5)  # numpy's linear 75th percentile
    assert s.resolution[0] == pytest.approx(3.0)
    assert (s.n_responded, s.n_resolved) == (3, 2)
    assert s.share_resolved == pytest.approx(2 / 3)
    assert s.n_escalated == 1
    assert s.escalated_share == pytest.approx(0.5)  # of the two whose escalation is known
    assert s.per_customer().tolist() == [2, 1, 0, 0]
    assert complaint_summary(COMPLAINTS, time_unit="W").response[0] == pytest.approx(1 / 7)


def test_by_channel_and_by_period() -> None:
    s = complaint_summary(COMPLAINTS, _base())
    ch = s.by_channel()
    assert ch.group.tolist() == ["email", "phone"]
    assert ch.complaints.tolist() == [1, 2]
    assert ch.complaining.tolist() == [1, 2]
    np.testing.assert_allclose(ch.complaint_ratio, [0.25, 0.5])
    np.testing.assert_allclose(ch.share_resolved, [1.0, 0.5])
    np.testing.assert_allclose(ch.median_response, [1.0, (0.25 + 2) / 2])
    np.testing.assert_allclose(ch.escalated_share, [0.0, 1.0])
    pe = s.by_period("M")
    assert pe.group.astype(str).tolist() == ["2024-01-01", "2024-02-01"]
    assert pe.complaints.tolist() == [1, 2]
    assert pe.customers is not None
    assert pe.customers.tolist() == [3, 4]
    assert pe.purchases is not None
    assert pe.purchases.tolist() == [4, 6]
    np.testing.assert_allclose(pe.complaint_ratio, [1 / 3, 2 / 4])
    np.testing.assert_allclose(pe.per_100_purchases, [25.0, 100 * 2 / 6])
    frame = pe.to_frame()
    assert list(frame["complaints"]) == [1, 2]
    assert "purchases" not in ch.to_frame().columns


def test_logistics_indicators_are_computed_from_records() -> None:
    s = complaint_summary(COMPLAINTS, _base())
    values = s.logistics_indicators()
    assert values == {"Y21": pytest.approx(0.5), "Z55": pytest.approx(1.0)}
    # The names are the seed's indicators in the logistics systems of crmcore.satisfaction.
    assert "Y21" in logistics_service_quality_tree().leaves
    assert "Z55" in logistics_satisfaction_tree().leaves
    monthly = s.logistics_indicators("M")
    np.testing.assert_allclose(monthly["Y21"], [1 / 3, 0.5])
    np.testing.assert_allclose(monthly["Z55"], [0.25, 1.5])
    with pytest.raises(crmcore.DataError, match="needs the customers"):
        complaint_summary(COMPLAINTS).logistics_indicators()


def test_complaint_strategies_listed() -> None:
    s = complaint_summary(COMPLAINTS)
    terms = [x.chinese for x in s.strategies]
    assert "投诉的建立、分配、解决、跟踪、反馈、回访" in terms
    assert s.complaint_ratio is None
    assert s.per_100_purchases is None


def test_fault_churn_evidence() -> None:
    records = [
        ChurnRecord("a", "fault", at=_at(2, 20)),   # complained twice, all resolved by then
        ChurnRecord("b", "other", at=_at(2, 20)),   # left with an unresolved complaint
        ChurnRecord("c", "other"),                  # never complained
        ChurnRecord("d", "competitive", at=_at(2, 20)),
    ]
    ev = fault_churn_evidence(COMPLAINTS, records)
    assert ev.complaints.tolist() == [2, 1, 0, 0]
    assert ev.unresolved.tolist() == [0, 1, 0, 0]
    assert [r.value for r in ev.suggested] == ["fault", "fault", "other", "competitive"]
    assert ev.complained_share(ChurnReason.FAULT) == 1.0
    assert ev.complained_share("competitive") == 0.0
    assert np.isnan(ev.complained_share("malicious"))
    # A complaint opened after the customer left does not count; one resolved after does.
    early = fault_churn_evidence(COMPLAINTS, [ChurnRecord("a", "other", at=_at(1, 11))])
    assert (early.complaints.tolist(), early.unresolved.tolist()) == ([1], [1])
    assert early.to_frame()["suggested"].tolist() == ["fault"]
    assert ChurnReason.FAULT.strategies  # prevention and complaint handling attach to it


def test_bad_input_is_named() -> None:
    with pytest.raises(crmcore.EmptyDataError):
        complaint_summary([])
    with pytest.raises(crmcore.DataError, match=r"complaints\[0\]"):
        complaint_summary(["not a complaint"])  # type: ignore[list-item]
    with pytest.raises(crmcore.DataError, match="not in the base"):
        complaint_summary([Complaint("zz", _at(1, 1))], _base())
    with pytest.raises(crmcore.InvalidValueError, match="days"):
        complaint_summary(COMPLAINTS, time_unit="M")
    with pytest.raises(crmcore.DataError, match="ChurnRecord"):
        fault_churn_evidence(COMPLAINTS, ["fault"])  # type: ignore[list-item]
