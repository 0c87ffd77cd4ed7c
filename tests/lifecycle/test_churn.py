"""Churn reasons, churn risk, retention arithmetic and win-back ranking."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore import CustomerBase, DataError, EmptyDataError, InvalidValueError
from crmcore.lifecycle import (
    ChurnReason,
    ChurnRecord,
    ChurnRisk,
    LifecycleClassifier,
    LifecycleStage,
    RetentionOffer,
    churn_risk,
    plan_retention,
    summarise_churn,
    winback_candidates,
)

# -- reasons ----------------------------------------------------------------------------------


def test_reasons_are_the_seed_taxonomy() -> None:
    # Seed 001 (客户流失的原因): 自然流失, 竞争流失, 过失流失, 恶意流失, 其他流失.
    assert [r.chinese for r in ChurnReason] == ["自然流失", "竞争流失", "过失流失", "恶意流失",
                                                "其他流失"]
    assert ChurnReason.parse("Competitive") is ChurnReason.COMPETITIVE
    assert ChurnReason.parse("FAULT") is ChurnReason.FAULT
    assert ChurnReason.parse("恶意流失") is ChurnReason.MALICIOUS
    assert "firm's own failing" in ChurnReason.FAULT.description
    with pytest.raises(InvalidValueError, match="unknown churn reason 'bored'; known: natural"):
        ChurnReason.parse("bored")


def test_records_summarise_by_reason() -> None:
    records = [
        ChurnRecord(1, "competitive", at=dt.datetime(2024, 3, 1), note="cheaper elsewhere"),
        ChurnRecord(2, ChurnReason.FAULT),
        ChurnRecord("c3", "competitive"),
        ChurnRecord(4, "natural", note="moved abroad"),
    ]
    summary = summarise_churn([*records, "fault", ChurnReason.OTHER])
    assert summary.total == 6
    assert summary.counts[ChurnReason.COMPETITIVE] == 2
    assert summary.counts[ChurnReason.MALICIOUS] == 0
    assert list(summary.counts) == list(ChurnReason)
    assert summary.shares()[ChurnReason.FAULT] == pytest.approx(2 / 6)
    assert summary.most_common()[0] == (ChurnReason.COMPETITIVE, 2)
    assert crmcore.from_json(crmcore.to_json(records[0]), ChurnRecord) == records[0]
    with pytest.raises(InvalidValueError, match=r"records\[1\]: unknown churn reason 'moon'"):
        summarise_churn(["fault", "moon"])
    with pytest.raises(EmptyDataError, match="no churn recorded"):
        summarise_churn([]).shares()
    with pytest.raises(InvalidValueError, match="unknown churn reason"):
        ChurnRecord(5, "boredom")


# -- churn risk -------------------------------------------------------------------------------


def test_risk_from_a_value_model_is_one_minus_p_alive(
    synthetic: tuple[CustomerBase, dict[int, Any]], fake_value_model: Any,
) -> None:
    base, _ = synthetic
    risk = churn_risk(base, value_model=fake_value_model)
    expected = 1 - fake_value_model.p_alive(base.frequency, base.recency, base.T)
    np.testing.assert_allclose(risk.risk, expected)
    assert risk.source == "p_alive"
    assert np.array_equal(risk.customer_id, base.customer_id)


def test_risk_from_lifecycle_evidence(synthetic: tuple[CustomerBase, dict[int, Any]]) -> None:
    base, truth = synthetic
    stages = LifecycleClassifier().classify(base)
    risk = churn_risk(base, stages=stages, measure="lifecycle")
    assert risk.source == "lifecycle"
    assert np.all((risk.risk >= 0) & (risk.risk <= 1))
    terminated = stages.code == LifecycleStage.TERMINATED.order
    assert np.all(risk.risk[terminated] == 1.0)
    true = np.array([truth[int(c)] for c in base.customer_id])
    mean = {s: float(risk.risk[true == s].mean()) for s in LifecycleStage}
    assert mean[LifecycleStage.DECLINE] > mean[LifecycleStage.STABILITY]
    assert mean[LifecycleStage.STABILITY] > mean[LifecycleStage.FORMATION] - 0.05
    # By hand for one declining customer: 1 - exp(-max(r - 1, 0)) * min(trend, 1).
    row = int(np.flatnonzero((stages.code == LifecycleStage.DECLINE.order)
                             & ~np.isnan(stages.trend))[0])
    keep = np.exp(-max(stages.gap_ratio[row] - 1, 0)) * min(stages.trend[row], 1)
    assert risk.risk[row] == pytest.approx(1 - keep)
    # Computed without stages, the default classifier gives the same.
    np.testing.assert_allclose(churn_risk(base, measure="lifecycle").risk, risk.risk)


def test_misaligned_stages_are_refused(synthetic: tuple[CustomerBase, dict[int, Any]]) -> None:
    base, _ = synthetic
    other = LifecycleClassifier().classify(base.take(np.arange(10)))
    with pytest.raises(InvalidValueError, match="stages are for 10 customers not aligned"):
        churn_risk(base, stages=other, measure="lifecycle")


# -- retention arithmetic ---------------------------------------------------------------------


def test_offer_arithmetic_by_hand() -> None:
    offer = RetentionOffer(cost=20.0, success_rate=0.25)
    # 0.25 * 0.8 * 500 = 100 expected retained value, net 80: pays.
    assert offer.expected_gain(0.8, 500.0) == pytest.approx(100.0)
    assert offer.net_value(0.8, 500.0) == pytest.approx(80.0)
    assert bool(offer.pays(0.8, 500.0))
    # 0.25 * 0.5 * 100 = 12.5 < 20: does not pay.
    assert not bool(offer.pays(0.5, 100.0))
    # Break-even value at risk 0.5: 20 / (0.25 * 0.5) = 160.
    assert offer.break_even_value(0.5) == pytest.approx(160.0)
    assert offer.break_even_value(0.0) == np.inf
    assert not bool(offer.pays(0.5, 160.0))
    assert bool(offer.pays(0.5, 160.01))


@given(st.floats(0, 100), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1e4))
def test_an_offer_pays_exactly_above_break_even(cost: float, success: float, risk: float,
                                                value: float) -> None:
    offer = RetentionOffer(cost=cost, success_rate=success)
    pays = bool(offer.pays(risk, value))
    assert pays == (success * risk * value > cost)
    if pays:
        assert value > float(offer.break_even_value(risk)) * (1 - 1e-12)


def test_plan_ranks_at_risk_customers_by_value_at_stake() -> None:
    ids = np.array(["a", "b", "c", "d", "e"])
    risk = ChurnRisk(customer_id=ids, risk=np.array([0.9, 0.2, 0.6, 0.7, 0.5]),
                     source="p_alive")
    value = np.array([100.0, 1000.0, 300.0, 50.0, 400.0])
    plan = plan_retention(risk, value, min_risk=0.5)
    # At risk: a (90), c (180), d (35), e (200); b's risk 0.2 is below 0.5.
    assert plan.customer_id.tolist() == ["e", "c", "a", "d"]
    np.testing.assert_allclose(plan.value_at_stake, [200.0, 180.0, 90.0, 35.0])
    assert plan.act.all()
    offer = RetentionOffer(cost=30.0, success_rate=0.25)
    plan = plan_retention(risk, value, offer=offer, min_risk=0.5)
    assert plan.expected_gain is not None
    assert plan.net_value is not None
    np.testing.assert_allclose(plan.expected_gain, np.array([50.0, 45.0, 22.5, 8.75]))
    np.testing.assert_allclose(plan.net_value, np.array([20.0, 15.0, -7.5, -21.25]))
    assert plan.act.tolist() == [True, True, False, False]
    assert plan.total_cost == 60.0
    assert plan.total_net_value == pytest.approx(35.0)
    frame = plan.to_frame()
    assert frame["customer_id"].tolist() == ["e", "c", "a", "d"]


def test_plan_leaves_terminated_customers_to_win_back(
    synthetic: tuple[CustomerBase, dict[int, Any]],
) -> None:
    base, _ = synthetic
    # (BG/NBD, the default value model, is not identified on these steady Poisson buyers, so
    # the risk is read from the lifecycle evidence here)
    risk = churn_risk(base, measure="lifecycle")
    assert base.total_spend is not None
    plan = plan_retention(risk, base.total_spend, min_risk=0.0)
    stages = risk.stages
    assert stages is not None
    terminated = set(stages.customers_in(LifecycleStage.TERMINATED).tolist())
    assert terminated
    assert not terminated & set(plan.customer_id.tolist())
    assert np.all(np.diff(plan.value_at_stake) <= 0)


def test_bad_retention_input_is_named() -> None:
    with pytest.raises(InvalidValueError, match="success_rate is a probability"):
        RetentionOffer(cost=1.0, success_rate=1.5)
    with pytest.raises(InvalidValueError, match="cost must be a finite number >= 0"):
        RetentionOffer(cost=-1.0, success_rate=0.5)
    risk = ChurnRisk(customer_id=np.array([1, 2]), risk=np.array([0.5, 0.9]), source="p_alive")
    with pytest.raises(InvalidValueError, match="value has 3 values, expected 2"):
        plan_retention(risk, [1.0, 2.0, 3.0])
    with pytest.raises(InvalidValueError, match="value is NaN or infinite at row 1"):
        plan_retention(risk, [1.0, np.nan])
    with pytest.raises(InvalidValueError, match="min_risk must lie in"):
        plan_retention(risk, [1.0, 2.0], min_risk=2.0)


# -- win-back ---------------------------------------------------------------------------------


def test_winback_ranks_terminated_customers_by_past_value(
    synthetic: tuple[CustomerBase, dict[int, Any]],
) -> None:
    base, _ = synthetic
    stages = LifecycleClassifier().classify(base)
    candidates = winback_candidates(base, stages)
    assert base.total_spend is not None
    terminated = stages.code == LifecycleStage.TERMINATED.order
    assert len(candidates) == int(terminated.sum())
    assert np.all(np.diff(candidates.past_value) <= 0)
    assert candidates.past_value[0] == pytest.approx(base.total_spend[terminated].max())
    top = winback_candidates(base, stages, top=3)
    assert top.customer_id.tolist() == candidates.customer_id[:3].tolist()
    rich = winback_candidates(base, stages, min_value=float(np.median(candidates.past_value)))
    assert 0 < len(rich) < len(candidates)
    custom = winback_candidates(base, stages, past_value=-base.total_spend, min_value=-np.inf)
    assert custom.customer_id[0] == candidates.customer_id[-1]
    assert candidates.to_frame().shape == (len(candidates), 3)
    with pytest.raises(InvalidValueError, match="top must be a whole number >= 1"):
        winback_candidates(base, stages, top=0)
    summary = CustomerBase.from_summary([1], [0], [0.0], [3.0])
    with pytest.raises(InvalidValueError, match="stages are for"):
        winback_candidates(summary, stages)


def test_winback_without_spend_needs_past_value(
    synthetic_frame: tuple[Any, dict[int, Any], str],
) -> None:
    frame, _, end = synthetic_frame
    base = CustomerBase.from_transactions(frame, freq="W", observation_end=end)
    stages = LifecycleClassifier().classify(base)
    object.__setattr__(base, "total_spend", None)
    with pytest.raises(DataError, match="needs past_value"):
        winback_candidates(base, stages)


def test_lifecycle_risk_ranks_repeat_buyers_like_bgnbd() -> None:
    # Independent check on CDNOW: among repeat buyers, the rule's evidence-based risk and
    # BG/NBD's 1 - P(alive) (Fader, Hardie & Lee 2005) order customers alike. (One-time buyers
    # differ by design: BG/NBD holds them alive.)
    from scipy.stats import spearmanr

    from crmcore.datasets import load_cdnow
    from crmcore.value import BGNBD

    base = load_cdnow()
    stages = LifecycleClassifier().classify(base)
    evidence = churn_risk(base, stages=stages, measure="lifecycle").risk
    model = churn_risk(base, value_model=BGNBD().fit(base), measure="p_alive").risk
    repeat = base.frequency > 0
    rho = spearmanr(evidence[repeat], model[repeat]).statistic
    assert rho > 0.8


def test_churn_is_recorded_on_a_relationship() -> None:
    customer = crmcore.Customer("ada")
    last = dt.datetime(2024, 5, 1, 10, 0)
    relationship = crmcore.Relationship(customer=customer, transactions=[
        crmcore.Transaction("ada", dt.datetime(2024, 1, 2), amount=10.0),
        crmcore.Transaction("ada", last, amount=20.0),
    ])
    record = ChurnRecord.for_relationship(relationship, "competitive", note="moved to rival")
    assert record == ChurnRecord("ada", ChurnReason.COMPETITIVE, at=last, note="moved to rival")
    with pytest.raises(DataError, match="expected a Relationship"):
        ChurnRecord.for_relationship(customer, "fault")  # type: ignore[arg-type]
