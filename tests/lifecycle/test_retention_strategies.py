"""Win-back by recorded churn reason, and the seeds' strategies on stages, reasons and plans."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import crmcore
from crmcore.lifecycle import (
    DEFAULT_WINBACK_WEIGHTS,
    ChurnReason,
    ChurnRecord,
    LifecycleStage,
    RetentionOffer,
    churn_risk,
    classify,
    plan_retention,
    winback_candidates,
)


def _lost_base() -> crmcore.CustomerBase:
    """Five customers who bought weekly for 10 weeks in early 2023 and stopped (terminated by
    March 2024), with total spend 100 (f), 200 (n), 300 (m), 400 (o), 500 (x); one live."""
    log = []
    for c, spend, weeks in [("f", 10, 10), ("n", 20, 10), ("m", 30, 10), ("o", 40, 10),
                            ("x", 50, 10), ("live", 60, 60)]:
        log += [crmcore.Transaction(c, dt.datetime(2023, 1, 2) + dt.timedelta(weeks=w),
                                    float(spend)) for w in range(weeks)]
    return crmcore.CustomerBase.from_transactions(log, freq="W", observation_end="2024-03-01")


def test_winback_reads_the_recorded_reasons() -> None:
    base = _lost_base()
    stages = classify(base)
    assert (stages.code == LifecycleStage.TERMINATED.order).sum() == 5
    records = [ChurnRecord("f", "fault"), ChurnRecord("n", "natural"),
               ChurnRecord("m", "malicious"), ChurnRecord("o", "competitive")]
    # x has no record: weight 0.75, advice to find the cause first (seed 004)
    wb = winback_candidates(base, stages, reasons=records)
    # priorities: x 500*0.75 = 375, o 400, f 100, n 200*0.5 = 100; m (malicious) left out
    assert wb.customer_id.tolist() == ["o", "x", "f", "n"]
    assert wb.priority is not None
    np.testing.assert_allclose(wb.priority, [400.0, 375.0, 100.0, 100.0])
    assert wb.reason is not None
    assert wb.advice is not None
    assert [None if r is None else r.value for r in wb.reason] == [
        "competitive", None, "fault", "natural"]
    assert "find why the relationship broke" in wb.advice[1]
    assert wb.excluded is not None
    assert wb.excluded.tolist() == ["m"]
    assert wb.excluded_reason is not None
    assert "not to be won back" in wb.excluded_reason[0]
    frame = wb.to_frame()
    assert frame["reason"].tolist()[:1] == ["competitive"]
    # A firm's own weights, by reason value or member; and the top-n cut keeps rank order
    chosen: dict[str, ChurnReason | str] = {"f": "fault", "x": ChurnReason.NATURAL}
    own = winback_candidates(base, stages, reasons=chosen,
                             reason_weights={"natural": 0.1, ChurnReason.MALICIOUS: 1.0},
                             top=2)
    assert own.customer_id.tolist() == ["o", "m"]  # unknown reasons 0.75: o 300, m 225
    assert DEFAULT_WINBACK_WEIGHTS[ChurnReason.MALICIOUS] == 0.0
    with pytest.raises(crmcore.InvalidValueError, match=r"reason_weights\['fault'\]"):
        winback_candidates(base, stages, reasons=records, reason_weights={"fault": 2})
    with pytest.raises(crmcore.InvalidValueError, match="unknown churn reason"):
        winback_candidates(base, stages, reasons={"f": "bored"})
    assert next(s.chinese for s in wb.strategies) == "找到客户关系破裂的原因"


def test_stage_reason_and_plan_list_strategies() -> None:
    formation = [s.chinese for s in LifecycleStage.FORMATION.strategies]
    # Seed 000's formation-stage task: brand image, quality service, offers, emotional
    # investment; seed 001's ways to keep customers.
    assert {"品牌形象", "优质服务", "价格优惠", "情感投资"} <= set(formation)
    decline = LifecycleStage.DECLINE.strategies
    assert {s.group for s in decline} >= {"churn-prevention", "retention"}
    assert all(s.english and s.chinese for s in decline)
    assert {s.chinese for s in ChurnReason.FAULT.strategies} >= {"实施全面质量管理",
                                                                "重视客户抱怨管理"}
    base = _lost_base()
    risk = churn_risk(base, measure="lifecycle")  # synthetic: no BG/NBD fit
    plan = plan_retention(risk, np.ones(len(base)) * 100, offer=RetentionOffer(1.0, 0.5),
                          min_risk=0.0)
    assert [s.chinese for s in plan.strategies] == [
        "服务第一、客户为先", "关系的培育和积累", "客户关怀可以成为核心竞争力",
        "别忽略潜在的优质客户"]
    explanation = risk.stages.explain("live") if risk.stages is not None else None
    assert explanation is not None
    assert explanation.stage is not None
    assert explanation.stage.strategies == crmcore.strategies_for(
        f"stage:{explanation.stage.value}")


def test_strategy_table() -> None:
    assert len([s for s in crmcore.STRATEGIES if s.group == "keeping"]) == 5
    assert len([s for s in crmcore.STRATEGIES if s.group == "churn-prevention"]) == 5
    assert len([s for s in crmcore.STRATEGIES if s.group == "retention"]) == 4
    assert len([s for s in crmcore.STRATEGIES if s.group == "satisfaction"]) == 6
    assert len([s for s in crmcore.STRATEGIES if s.group == "loyalty"]) == 6
    assert set(crmcore.STRATEGY_GROUPS) == {s.group for s in crmcore.STRATEGIES}
    keep = crmcore.strategies_for("stage:formation", group="keeping")
    assert not any(s.attachment_is_reading for s in keep)  # the seed ties them to formation
    assert "(" in str(keep[0])
    assert "seed 001" in str(keep[0])
    assert crmcore.strategies_for("segment:bank:none") == ()
    with pytest.raises(crmcore.InvalidValueError, match="unknown strategy target"):
        crmcore.strategies_for("colour:red")
    with pytest.raises(crmcore.InvalidValueError, match="unknown strategy group"):
        crmcore.strategies_for("retention", group="nope")
    # crmcore's own churn-reason texts are marked as its reading
    assert "crmcore's reading" in ChurnReason.MALICIOUS.description
