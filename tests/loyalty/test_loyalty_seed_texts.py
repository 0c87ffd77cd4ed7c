"""Loyalty concepts of the course texts: terms, lapse, referrals (口碑), trust from satisfaction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import crmcore
from crmcore import Channel, Customer, SurveyResponse, Transaction
from crmcore.loyalty import (
    LoyaltyForm,
    LoyaltyType,
    WeightedLoyaltyIndex,
    classify_loyalty_type,
    interpurchase_cv,
    loyalty_breakdown,
    referral_rate,
    trust_index,
)


def _day(d: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1) + dt.timedelta(days=d)


def test_every_text_enum_carries_its_chinese_term() -> None:
    assert [t.chinese for t in LoyaltyType] == ["垄断忠诚", "亲缘忠诚", "利益忠诚", "惰性忠诚",
                                                "信赖忠诚", "潜在忠诚"]
    assert LoyaltyForm.SUSTAINABLE.chinese == "可持续忠诚"
    assert LoyaltyForm.EMOTIONAL.chinese == "精神忠诚"
    assert LoyaltyForm.BEHAVIOURAL.chinese == "行为忠诚"
    # The texts' channels, with the phone, letters and text messages they add.
    assert Channel.PHONE.chinese == "电话交流"
    assert Channel.LETTER.chinese == "信件"
    assert Channel.SMS.chinese == "手机短信"
    assert all(c.chinese for c in Channel)
    assert crmcore.from_json(crmcore.to_json(
        crmcore.Complaint("a", _day(0), channel=Channel.SMS, escalated=True)),
        crmcore.Complaint).channel is Channel.SMS
    trust_first = {s.chinese for s in LoyaltyForm.BEHAVIOURAL.strategies}
    assert "增加客户对企业的信任与情感牵挂" in trust_first


def test_regularity_accounts_for_lapse() -> None:
    # Bought every 7 days for 10 weeks, then nothing for 140 days: not a very regular buyer.
    days = list(range(0, 70, 7))
    log = [Transaction("lapsed", _day(d), 1.0) for d in days]
    log += [Transaction("steady", _day(d), 1.0) for d in range(0, 210, 7)]
    base = crmcore.CustomerBase.from_transactions(log, observation_end=_day(209))
    cv = interpurchase_cv(base)
    closed = interpurchase_cv(base, lapse=False)
    assert closed.tolist() == [0.0, 0.0]  # by closed gaps alone both look like clockwork
    gaps = np.array([7] * 9 + [209 - 63], dtype=np.float64)
    expected = float(np.std(gaps, ddof=1) / np.mean(gaps))
    np.testing.assert_allclose(cv, np.array([expected, 0.0]))
    assert cv[0] > 0.5  # no longer habitual evidence (CV <= 0.5) for the inertia type
    types = classify_loyalty_type(habitual=cv <= 0.5)
    assert types.types.tolist() == [None, LoyaltyType.INERTIA]


def test_referrals_are_a_loyalty_indicator() -> None:
    # Seed 004: almost half of Vanke's new customers came through existing ones (口碑).
    won = [Customer("n1", attributes={"referred_by": "a"}),
           Customer("n2", attributes={"referred_by": "a"}),
           Customer("n3", attributes={"referred_by": "b"}), Customer("n4")]
    ids = ["a", "b", "c"]
    np.testing.assert_allclose(referral_rate(won, ids), [1.0, 1.0, 0.0])
    np.testing.assert_allclose(referral_rate(won, ids, cap=2), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(referral_rate({"a": 3}, ids, cap=2), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(referral_rate([1, np.nan, 0], ids), [1.0, np.nan, 0.0])
    with pytest.raises(crmcore.InvalidValueError, match="cap"):
        referral_rate({"a": 1}, ids, cap=0)
    with pytest.raises(crmcore.DataError, match="not among"):
        referral_rate({"zz": 1}, ids)
    with pytest.raises(crmcore.InvalidValueError, match="finite counts"):
        referral_rate([-1, 0, 0], ids)
    # In the index: equal weights over the seed's eight plus referrals when given.
    out = loyalty_breakdown({"repeat_purchases": [0.5, 0.5], "referrals": [1.0, 0.0]})
    np.testing.assert_allclose(out.index, [75.0, 25.0])
    np.testing.assert_allclose(out.coverage, [2 / 9, 2 / 9])


def test_referrals_reach_crmcore_score() -> None:
    import crmcore.datasets

    base = crmcore.datasets.load_cdnow_calibration().calibration
    model = WeightedLoyaltyIndex(weights={"repeat_purchases": 1, "referrals": 1})
    first = base.customer_id[0].item()
    plain = crmcore.score(base, loyalty_model=model, margin=0.3, discount_rate=0.01,
                          time_unit="W", horizon=26, spend_model=5.0, lifecycle_model=False)
    told = crmcore.score(base, loyalty_model=model, margin=0.3, discount_rate=0.01,
                         time_unit="W", horizon=26, spend_model=5.0, lifecycle_model=False,
                         loyalty_inputs={"referrals": {first: 1}})
    assert plain.loyalty is not None
    assert told.loyalty is not None
    # Customer 0 referred someone (1.0 on referrals), everyone else nobody (0.0): with equal
    # weights on the two indicators, referrals known for everyone halves the others' index.
    repeat = plain.loyalty[0]
    assert told.loyalty[0] == pytest.approx((repeat + 100.0) / 2)
    np.testing.assert_allclose(told.loyalty[1:], plain.loyalty[1:] / 2)


def test_trust_from_repeated_satisfaction() -> None:
    answers = [SurveyResponse("a", _day(d), {"csat": 5}) for d in (0, 1, 2)]
    answers += [SurveyResponse("b", _day(0), {"csat": 5}), SurveyResponse("b", _day(1),
                                                                          {"csat": 1})]
    answers += [SurveyResponse("c", _day(0), {"csat": 4, "other": 1})]
    trust = trust_index(answers, "csat", customer_ids=["a", "b", "c", "d"])
    # a: 3 / (1 + 3); b: (1 + 0) / (1 + 2); c: 0.75 / (1 + 1); d: no experience on record
    np.testing.assert_allclose(trust, [0.75, 1 / 3, 0.375, np.nan])
    # A series beats a single satisfaction; more prior weight asks for a longer series.
    everyone = ["a", "b", "c"]
    assert trust_index(answers, "csat", customer_ids=everyone, prior=3)[0] == pytest.approx(0.5)
    # With a 1-day half-life a's older answers fade: weights 1/4, 1/2, 1 -> 1.75 / 2.75
    faded = trust_index(answers, "csat", customer_ids=everyone, half_life=1.0)
    assert faded[0] == pytest.approx(1.75 / 2.75)
    # It feeds the trust type of seed 000 (信赖忠诚)
    kinds = classify_loyalty_type(trust=np.nan_to_num(trust))
    assert kinds.types.tolist()[0] is LoyaltyType.TRUST
    with pytest.raises(crmcore.IndicatorScaleError):
        trust_index([SurveyResponse("a", _day(0), {"csat": 7})], "csat", customer_ids=["a"])
    with pytest.raises(crmcore.InvalidValueError, match="prior"):
        trust_index(answers, "csat", customer_ids=everyone, prior=0)
    with pytest.raises(crmcore.InvalidValueError, match="half_life"):
        trust_index(answers, "csat", customer_ids=everyone, half_life=-1)
