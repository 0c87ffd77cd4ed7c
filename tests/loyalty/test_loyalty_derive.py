"""Behavioural indicators from a customer base and transactions; attitudinal ones from surveys.

The expected numbers are counted by hand from the small logs below (no published reference
exists for these derived indicators).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore import SurveyResponse, Transaction
from crmcore.loyalty import (
    IndicatorScaleError,
    UnknownIndicatorError,
    attitudinal_indicators,
    behavioural_indicators,
    category_share,
    interpurchase_cv,
    promotion_share,
    repeat_purchase_rate,
)


def _day(d: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1) + dt.timedelta(days=d)


# a: days 0, 0, 5, 10 (two purchases on day 0 count as one period), 10 days observed after the
#    first -> 2 repeats / 10 = 0.2; promotion on 1 of 4 transactions, 5 of 40 spent.
# b: day 10 only: first purchase in the last period -> no chance to repeat yet: NaN.
# c: days 4..10 every day: 6 repeats / 6 days = 1.0; promotion never recorded.
LOG = [
    Transaction("a", _day(0), 10.0, category="tea", on_promotion=False),
    Transaction("a", _day(0), 5.0, category="tea", on_promotion=True),
    Transaction("a", _day(5), 10.0, category="coffee", on_promotion=False),
    Transaction("a", _day(10), 15.0, category="tea", on_promotion=False),
    Transaction("b", _day(10), 8.0, category="coffee", on_promotion=True),
    *[Transaction("c", _day(d), 1.0, category="tea") for d in range(4, 11)],
]


@pytest.fixture
def base() -> crmcore.CustomerBase:
    return crmcore.CustomerBase.from_transactions(LOG)


def test_repeat_purchase_rate(base: crmcore.CustomerBase) -> None:
    np.testing.assert_allclose(repeat_purchase_rate(base), [0.2, np.nan, 1.0])


def test_repeat_purchase_rate_in_weeks_of_days(base: crmcore.CustomerBase) -> None:
    # time_unit does not change the rate: periods are counted in freq.
    weekly_t = crmcore.CustomerBase.from_transactions(LOG, time_unit="W")
    np.testing.assert_allclose(repeat_purchase_rate(weekly_t), repeat_purchase_rate(base))
    # Weekly periods: a buys in weeks 0, 1 and 2 of a window ending in week 2 -> 2/2.
    weekly = crmcore.CustomerBase.from_transactions(LOG, freq="W")
    assert repeat_purchase_rate(weekly)[0] == pytest.approx(1.0)


def test_repeat_purchase_rate_rebuckets_to_a_coarser_period(base: crmcore.CustomerBase) -> None:
    # By week (2024-01-01 is a Monday; the window ends on day 10, in week 1): a buys in weeks
    # 0 and 1 -> 1 repeat in 1 week; b's first week is the last -> NaN; c buys in weeks 0, 1.
    np.testing.assert_allclose(repeat_purchase_rate(base, freq="W"), [1.0, np.nan, 1.0])
    weekly = crmcore.CustomerBase.from_transactions(LOG, freq="W")
    np.testing.assert_allclose(repeat_purchase_rate(base, freq="W"),
                               repeat_purchase_rate(weekly))
    # By month everything falls in January, the last month: nobody has had a chance yet.
    assert np.isnan(repeat_purchase_rate(base, freq="M")).all()
    with pytest.raises(crmcore.TimeUnitError, match="freq='D' is finer than"):
        repeat_purchase_rate(weekly, freq="D")


@given(st.lists(st.tuples(st.sampled_from("xyz"), st.integers(0, 400)), min_size=1,
                max_size=40))
def test_rebucketing_equals_building_the_coarse_base(rows: list[tuple[str, int]]) -> None:
    log = [Transaction(c, _day(d), 1.0) for c, d in rows]
    daily = crmcore.CustomerBase.from_transactions(log, observation_end=_day(400))
    for period in ("W", "M", "Q"):
        coarse = crmcore.CustomerBase.from_transactions(log, freq=period,
                                                        observation_end=_day(400))
        np.testing.assert_allclose(repeat_purchase_rate(daily, freq=period),
                                   repeat_purchase_rate(coarse))


def test_repeat_purchase_rate_needs_the_period() -> None:
    summary = crmcore.CustomerBase.from_summary(["x"], [2], [3.0], [4.0])
    with pytest.raises(crmcore.DataError, match=r"needs the purchase period"):
        repeat_purchase_rate(summary)


def test_promotion_share_by_count_and_amount(base: crmcore.CustomerBase) -> None:
    np.testing.assert_allclose(promotion_share(LOG, base), [0.25, 1.0, np.nan])
    np.testing.assert_allclose(promotion_share(LOG, base, by="amount"), [5 / 40, 1.0, np.nan])


def test_promotion_share_from_a_frame(base: crmcore.CustomerBase) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({
        "cust": [t.customer_id for t in LOG], "promo": [t.on_promotion for t in LOG],
        "spend": [t.amount for t in LOG],
    })
    np.testing.assert_allclose(
        promotion_share(frame, base, customer_id="cust", on_promotion="promo",
                        monetary_value="spend", by="amount"),
        [5 / 40, 1.0, np.nan])
    with pytest.raises(crmcore.UnknownColumnError, match=r"column 'flag'"):
        promotion_share(frame, base, customer_id="cust", on_promotion="flag")


def test_category_share(base: crmcore.CustomerBase) -> None:
    # Totals with the firm: a 40, b 8, c 7. Whole category spend 80, unknown, 7.
    np.testing.assert_allclose(category_share(base, [80.0, np.nan, 7.0]), [0.5, np.nan, 1.0])
    # As a mapping (b omitted = unknown), and for the tea category only: a 30, c 7.
    np.testing.assert_allclose(
        category_share(base, {"a": 60.0, "c": 14.0}, transactions=LOG, category="tea"),
        [0.5, np.nan, 0.5])


def test_category_share_refuses_firm_spend_above_the_whole(base: crmcore.CustomerBase) -> None:
    with pytest.raises(crmcore.InvalidValueError,
                       match=r"exceeds the whole category spend at row 0 \(first: 40.0 > 20.0\)"):
        category_share(base, [20.0, 10.0, 10.0])
    with pytest.raises(crmcore.InvalidValueError, match=r"one value per customer"):
        category_share(base, [20.0])
    with pytest.raises(crmcore.InvalidValueError, match=r"finite and >= 0; not at row 1"):
        category_share(base, [50.0, -1.0, 10.0])
    with pytest.raises(crmcore.DataError, match=r"not among the customers scored: 'zed'"):
        category_share(base, {"zed": 5.0})


def test_behavioural_indicators_together(base: crmcore.CustomerBase) -> None:
    found = behavioural_indicators(base, LOG, category_spend=[80.0, 8.0, 14.0])
    assert sorted(found) == ["category_share", "price_sensitivity", "repeat_purchases"]
    np.testing.assert_allclose(found["category_share"], [0.5, 1.0, 0.5])
    assert sorted(behavioural_indicators(base)) == ["repeat_purchases"]


def test_transactions_of_unknown_customers_are_named(base: crmcore.CustomerBase) -> None:
    stray = [*LOG, Transaction("zz", _day(1), 1.0, on_promotion=True)]
    with pytest.raises(crmcore.DataError, match=r"transactions name customers not among the "
                                                r"customers scored: 'zz'"):
        promotion_share(stray, base)


def test_attitudinal_indicators_latest_answer_rescaled() -> None:
    responses = [
        SurveyResponse("a", _day(1), {"q_attention": 2, "q_choice": 5}),
        SurveyResponse("a", _day(9), {"q_attention": 4}),  # later: replaces 2
        SurveyResponse("c", _day(3), {"q_choice": 1, "q_ident1": 5, "q_ident2": 3}),
    ]
    found = attitudinal_indicators(
        responses,
        {"brand_attention": "q_attention", "choice_time": "q_choice",
         "product_identification": ["q_ident1", "q_ident2"]},
        customer_ids=np.array(["a", "b", "c"]),
    )
    # On 1-5: 4 -> 0.75; 5 -> 1; 1 -> 0; identification mean of 1.0 and 0.5 -> 0.75.
    np.testing.assert_allclose(found["brand_attention"], [0.75, np.nan, np.nan])
    np.testing.assert_allclose(found["choice_time"], [1.0, np.nan, 0.0])
    np.testing.assert_allclose(found["product_identification"], [np.nan, np.nan, 0.75])


def test_attitudinal_time_zones_order_by_instant() -> None:
    utc = dt.UTC
    plus8 = dt.timezone(dt.timedelta(hours=8))
    responses = [
        # 09:00+08:00 is 01:00 UTC, earlier than 02:00 UTC although its clock reads later.
        SurveyResponse("a", dt.datetime(2024, 1, 1, 9, tzinfo=plus8), {"q": 1}),
        SurveyResponse("a", dt.datetime(2024, 1, 1, 2, tzinfo=utc), {"q": 5}),
    ]
    found = attitudinal_indicators(responses, {"incident_tolerance": "q"}, customer_ids=["a"])
    np.testing.assert_allclose(found["incident_tolerance"], [1.0])


def test_attitudinal_bad_input_is_named() -> None:
    responses = [SurveyResponse("a", _day(1), {"q": 9})]
    with pytest.raises(IndicatorScaleError,
                       match=r"survey item 'q' is answered outside its scale \[1, 5\] by "
                             r"customers 'a' \(first: 9.0\)"):
        attitudinal_indicators(responses, {"brand_attention": "q"}, customer_ids=["a"])
    with pytest.raises(UnknownIndicatorError, match=r"items: unknown indicator 'nps'"):
        attitudinal_indicators(responses, {"nps": "q"}, customer_ids=["a"])
    with pytest.raises(crmcore.InvalidValueError, match=r"scale gives no scale for survey "
                                                        r"item\(s\) 'q'"):
        attitudinal_indicators(responses, {"brand_attention": "q"}, customer_ids=["a"],
                               scale={"other": (1, 7)})
    with pytest.raises(crmcore.DataError, match=r"survey responses name customers not among"):
        attitudinal_indicators(responses, {"brand_attention": "q"}, customer_ids=["b"])
    # Per-item scales: 9 on 0-10 -> 0.9.
    found = attitudinal_indicators(responses, {"brand_attention": "q"}, customer_ids=["a"],
                                   scale={"q": (0, 10)})
    np.testing.assert_allclose(found["brand_attention"], [0.9])


# -- regularity, and the batch code against a per-customer reference ----------------------------


def test_interpurchase_cv_hand_computed() -> None:
    # r: days 0, 2, 4, 6 -> gaps 2, 2, 2 -> CV 0.
    # s: days 0, 1, 5, 6 -> gaps 1, 4, 1: mean 2, sample sd sqrt((1 + 4 + 1) / 2) = sqrt(3).
    # t: days 0, 3, 4 -> only 2 gaps: unknown.
    log = [Transaction(c, _day(d), 1.0) for c, days in
           {"r": [0, 2, 4, 6], "s": [0, 1, 5, 6], "t": [0, 3, 4]}.items() for d in days]
    cv = interpurchase_cv(crmcore.CustomerBase.from_transactions(log))
    np.testing.assert_allclose(cv, [0.0, np.sqrt(3) / 2, np.nan])
    two = interpurchase_cv(crmcore.CustomerBase.from_transactions(log), min_intervals=2)
    np.testing.assert_allclose(two[2], np.std([3, 1], ddof=1) / 2)


def test_interpurchase_cv_bad_input() -> None:
    summary = crmcore.CustomerBase.from_summary(["x"], [2], [3.0], [4.0])
    with pytest.raises(crmcore.DataError, match=r"needs the purchase history"):
        interpurchase_cv(summary)
    base = crmcore.CustomerBase.from_transactions(LOG)
    with pytest.raises(crmcore.InvalidValueError, match=r"min_intervals=1 must be at least 2"):
        interpurchase_cv(base, min_intervals=1)


logs = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 40), st.booleans()),
    min_size=1, max_size=40,
)


@given(logs)
def test_batch_indicators_match_a_per_customer_reference(
    rows: list[tuple[str, int, bool]],
) -> None:
    log = [Transaction(c, _day(d), 1.0 + d, on_promotion=p) for c, d, p in rows]
    base = crmcore.CustomerBase.from_transactions(log)
    end = max(d for _, d, _ in rows)
    rate = repeat_purchase_rate(base)
    share = promotion_share(log, base)
    cv = interpurchase_cv(base)
    cv_closed = interpurchase_cv(base, lapse=False)
    for row, customer in enumerate(base.customer_id.tolist()):
        days = sorted({d for c, d, _ in rows if c == customer})
        observed = end - days[0]
        expected_rate = (len(days) - 1) / observed if observed > 0 else np.nan
        np.testing.assert_allclose(rate[row], expected_rate)
        flags = [p for c, _, p in rows if c == customer]
        np.testing.assert_allclose(share[row], sum(flags) / len(flags))
        gaps = [int(g) for g in np.diff(days)]
        closed = np.asarray(gaps, dtype=float)
        if gaps and end - days[-1] > max(gaps):  # a silence longer than every closed gap
            gaps.append(end - days[-1])
        expected_cv = np.std(gaps, ddof=1) / np.mean(gaps) if len(gaps) >= 3 else np.nan
        np.testing.assert_allclose(cv[row], expected_cv, atol=1e-12)
        closed_cv = (np.std(closed, ddof=1) / np.mean(closed) if len(closed) >= 3
                     else np.nan)
        np.testing.assert_allclose(cv_closed[row], closed_cv, atol=1e-12)
        assert np.isnan(rate[row]) or 0.0 <= rate[row] <= 1.0


def test_promotion_flags_with_missing_values_in_a_frame() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({
        "customer_id": ["a", "a", "a", "b"],
        "on_promotion": pandas.array([True, pandas.NA, False, pandas.NA], dtype="boolean"),
    })
    np.testing.assert_allclose(promotion_share(frame, ["a", "b"]), [0.5, np.nan])
    bad = pandas.DataFrame({"customer_id": ["a"], "on_promotion": ["yes"]})
    with pytest.raises(crmcore.InvalidValueError, match=r"column 'on_promotion' must hold "
                                                        r"booleans"):
        promotion_share(bad, ["a"])
    numbers = pandas.DataFrame({"customer_id": ["a"], "on_promotion": [2.0]})
    with pytest.raises(crmcore.InvalidValueError, match=r"must hold booleans; not at row 0"):
        promotion_share(numbers, ["a"])
