"""The built-in loyalty model: plugin registration, batch scoring of a base, JSON round trip."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore import SurveyResponse, Transaction
from crmcore.loyalty import INDICATOR_NAMES, UnknownIndicatorError, WeightedLoyaltyIndex
from crmcore.loyalty import _plugin as loyalty_plugin


@pytest.fixture
def loyalty_only(monkeypatch: pytest.MonkeyPatch) -> pluggy.PluginManager:
    """A manager with the loyalty plugin alone, so these tests do not hang on other packages."""
    monkeypatch.delenv(crmcore._registry.DISABLE_ENV_VAR, raising=False)
    others = [p for p in crmcore._registry.DEFAULT_PLUGINS if p != "crmcore.loyalty._plugin"]
    return crmcore.get_plugin_manager(load_entry_points=False, disabled=others)


def test_registered_as_the_default_loyalty_model(loyalty_only: pluggy.PluginManager) -> None:
    plugin_manager = loyalty_only
    assert "crmcore.loyalty._plugin" in crmcore._registry.DEFAULT_PLUGINS
    assert "weighted-index" in crmcore.available_models("loyalty", plugin_manager=plugin_manager)
    assert crmcore.default_model_name("loyalty", plugin_manager=plugin_manager) == (
        "weighted-index")
    model = crmcore.get_model("loyalty", plugin_manager=plugin_manager,
                              weights={"category_share": 1.0})
    assert isinstance(model, WeightedLoyaltyIndex)


def test_plugin_answers_only_for_loyalty() -> None:
    assert loyalty_plugin.crmcore_default_model(kind="loyalty") == "weighted-index"
    assert loyalty_plugin.crmcore_default_model(kind="value") is None


def test_a_firm_plugin_can_take_over_the_default(loyalty_only: pluggy.PluginManager) -> None:
    plugin_manager = loyalty_only
    class FirmPlugin:
        @crmcore.hookimpl
        def crmcore_loyalty_models(self) -> dict[str, type[WeightedLoyaltyIndex]]:
            return {"firm-index": WeightedLoyaltyIndex}

        @crmcore.hookimpl
        def crmcore_default_model(self, kind: str) -> str | None:
            return "firm-index" if kind == "loyalty" else None

    plugin_manager.register(FirmPlugin())
    assert crmcore.default_model_name("loyalty", plugin_manager=plugin_manager) == "firm-index"


def test_bad_hyperparameters_fail_when_the_model_is_built() -> None:
    with pytest.raises(UnknownIndicatorError, match=r"weights: unknown indicator 'nps'"):
        WeightedLoyaltyIndex(weights={"nps": 1.0})
    with pytest.raises(UnknownIndicatorError, match=r"scales: unknown indicator 'age'"):
        WeightedLoyaltyIndex(scales={"age": (0, 100)})


def _day(d: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1) + dt.timedelta(days=d)


def test_score_a_base_from_transactions_and_survey_answers() -> None:
    # Customer "a": buys in days 0, 1, 3 of a window ending on day 3 -> 2 repeats in 3 days
    #   after the first: rate 2/3; 1 of 3 purchases on promotion -> 1/3.
    # Customer "b": buys on days 2 and 3 -> 1 repeat in 1 day: rate 1; both on promotion -> 1.
    # Survey (1-5): "a" answers identification 5 -> 1.0; "b" does not answer.
    transactions = [
        Transaction("a", _day(0), 10.0, on_promotion=False),
        Transaction("a", _day(1), 10.0, on_promotion=True),
        Transaction("a", _day(3), 10.0, on_promotion=False),
        Transaction("b", _day(2), 5.0, on_promotion=True),
        Transaction("b", _day(3), 5.0, on_promotion=True),
    ]
    base = crmcore.CustomerBase.from_transactions(transactions)
    responses = [SurveyResponse("a", _day(3), {"q_ident": 5})]
    model = WeightedLoyaltyIndex(
        weights={"repeat_purchases": 2, "price_sensitivity": 1, "product_identification": 1},
        survey_items={"product_identification": "q_ident"},
        repeat_freq=None,  # judge repeat buying by the base's own (daily) period
    )
    result = model.score(base, transactions=transactions, responses=responses)
    # "a": weights 0.5, 0.25, 0.25: 100 * (0.5 * 2/3 + 0.25 * (1 - 1/3) + 0.25 * 1) = 75.
    # "b": identification missing: 100 * (0.5 * 1 + 0.25 * 0) / 0.75 = 66.67, coverage 0.75.
    np.testing.assert_allclose(result.index, [75.0, 200 / 3])
    np.testing.assert_allclose(result.coverage, [1.0, 0.75])
    assert result.names == ("repeat_purchases", "price_sensitivity", "product_identification")


def test_score_with_equal_weights_uses_whatever_can_be_derived() -> None:
    transactions = [Transaction("a", _day(0), 1.0), Transaction("a", _day(2), 1.0),
                    Transaction("b", _day(1), 1.0), Transaction("b", _day(2), 1.0)]
    base = crmcore.CustomerBase.from_transactions(transactions)
    result = WeightedLoyaltyIndex(repeat_freq=None).score(base, transactions=transactions)
    # No promotion flags recorded: only the repeat rate: a 1/2, b 1/1; coverage 1/8 each.
    assert result.names == ("repeat_purchases",)
    np.testing.assert_allclose(result.index, [50.0, 100.0])
    np.testing.assert_allclose(result.coverage, [0.125, 0.125])


weight_maps = st.dictionaries(st.sampled_from(INDICATOR_NAMES), st.floats(0.1, 10.0),
                              min_size=1)


@given(weight_maps, st.sampled_from(["count", "amount"]))
def test_json_round_trip(weights: dict[str, float], by: str) -> None:
    model = WeightedLoyaltyIndex(weights=weights, scales={"choice_time": (1, 7)},
                                 survey_items={"choice_time": ["q1", "q2"]},
                                 survey_scale=(1, 7), promotion_by=by)  # type: ignore[arg-type]
    again = WeightedLoyaltyIndex.from_json(model.to_json())
    assert again.to_json() == model.to_json()
    values = {name: np.array([0.3, 0.7]) for name in weights}
    if "choice_time" in values:
        values["choice_time"] = np.array([2.0, 5.0])
    np.testing.assert_allclose(again.index(values), model.index(values))


def test_loading_something_else_is_refused() -> None:
    with pytest.raises(crmcore.SerializationError, match=r"expected a saved WeightedLoyalty"):
        WeightedLoyaltyIndex.from_json('{"crmcore": "BGNBD", "schema_version": 1}')
    with pytest.raises(crmcore.SerializationError, match=r"has fields"):
        WeightedLoyaltyIndex.from_json(
            '{"crmcore": "WeightedLoyaltyIndex", "schema_version": 1, "weights": null}')
    with pytest.raises(crmcore.SerializationError, match=r"schema version 3"):
        WeightedLoyaltyIndex.from_json('{"crmcore": "WeightedLoyaltyIndex", '
                                       '"schema_version": 3}')


def test_one_relationship_goes_through_the_batch_path() -> None:
    # Purchases on days 0, 2 and 4, the second on promotion; survey identification 4 on 1-5.
    # Repeat rate 2/4 = 0.5; price sensitivity 1/3 (reversed 2/3); identification 0.75;
    # category share 30 / 60 = 0.5. Equal weights over the eight: coverage 4/8, and
    # index 100 * (0.5 + 2/3 + 0.75 + 0.5) / 4 = 60.42.
    customer = crmcore.Customer("k")
    relationship = crmcore.Relationship(
        customer,
        transactions=(Transaction("k", _day(0), 10.0, on_promotion=False),
                      Transaction("k", _day(2), 10.0, on_promotion=True),
                      Transaction("k", _day(4), 10.0, on_promotion=False)),
        survey_responses=(SurveyResponse("k", _day(4), {"q": 4}),),
    )
    model = WeightedLoyaltyIndex(survey_items={"product_identification": "q"},
                                 repeat_freq=None)
    one = model.score_relationship(relationship, category_spend=60.0)
    np.testing.assert_allclose(one.index, [100 * (0.5 + 2 / 3 + 0.75 + 0.5) / 4])
    np.testing.assert_allclose(one.coverage, [0.5])


def test_customers_with_nothing_known_get_nan_and_zero_coverage_in_batch_scoring() -> None:
    # "new" buys only in the last period: no repeat rate yet, no promotion flag, no answer.
    transactions = [Transaction("old", _day(0), 1.0), Transaction("old", _day(1), 1.0),
                    Transaction("new", _day(1), 1.0)]
    base = crmcore.CustomerBase.from_transactions(transactions)
    result = WeightedLoyaltyIndex(repeat_freq=None).score(base, transactions=transactions)
    assert base.customer_id.tolist() == ["new", "old"]
    assert np.isnan(result.index[0])
    assert result.coverage[0] == 0.0
    np.testing.assert_allclose(result.contributions[0], 0.0)
    np.testing.assert_allclose(result.index[1], 100.0)
    with pytest.raises(crmcore.InvalidValueError, match=r"no input with a positive weight is "
                                                        r"present at row 0"):
        WeightedLoyaltyIndex().breakdown({"repeat_purchases": [np.nan, 0.5]})


def test_score_reads_a_transaction_frame_with_its_own_column_names() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({
        "client": ["a", "a", "a", "b", "b"],
        "when": [_day(0), _day(1), _day(3), _day(2), _day(3)],
        "promo": [False, True, False, True, True],
    })
    base = crmcore.CustomerBase.from_transactions(frame, customer_id="client", datetime="when")
    result = WeightedLoyaltyIndex(
        weights={"repeat_purchases": 2, "price_sensitivity": 1}, repeat_freq=None,
    ).score(base, transactions=frame, customer_id="client", on_promotion="promo")
    # As in the Transaction example above, without the survey answer:
    # a: 100 * (2 * 2/3 + 1 * 2/3) / 3 = 66.67; b: 100 * (2 * 1 + 0) / 3 = 66.67.
    np.testing.assert_allclose(result.index, [200 / 3, 200 / 3])


def test_repeat_buying_is_judged_by_month_by_default() -> None:
    # Daily purchases on 2024-01-05, 01-20, 03-02 and 06-10, observed to 2024-06-30: by month
    # the customer bought again in 2 of the 5 months after January (March, June) -> 0.4;
    # judged by day it would be 3 repeats in 177 days.
    transactions = [Transaction("a", dt.datetime(2024, m, d), 1.0)
                    for m, d in ((1, 5), (1, 20), (3, 2), (6, 10))]
    base = crmcore.CustomerBase.from_transactions(transactions, observation_end="2024-06-30")
    monthly = WeightedLoyaltyIndex(weights={"repeat_purchases": 1})
    daily = WeightedLoyaltyIndex(weights={"repeat_purchases": 1}, repeat_freq=None)
    assert monthly.score(base).index.tolist() == pytest.approx([40.0])
    assert daily.score(base).index.tolist() == pytest.approx([100 * 3 / 177])
    saved = WeightedLoyaltyIndex.from_json(daily.to_json())
    assert saved.repeat_freq is None
    with pytest.raises(crmcore.TimeUnitError, match="repeat_freq='H' is not a period"):
        WeightedLoyaltyIndex(repeat_freq="H")
