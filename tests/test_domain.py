"""Domain objects: invariants, derived facts and lossless JSON round trips."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmcore
from crmcore import (
    Channel,
    Complaint,
    Customer,
    Interaction,
    Relationship,
    SurveyResponse,
    Transaction,
    ValueScore,
)

# -- strategies, one per attrs class ---------------------------------------------------------

ids = st.one_of(st.text(min_size=1, max_size=12), st.integers(-(2**53), 2**53))
naive_times = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 1, 1))
aware_times = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 1, 1),
                           timezones=st.just(dt.UTC))
times = st.one_of(naive_times, aware_times)
money = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
attribute_values = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), finite,
                             st.text(max_size=10))

customers = st.builds(Customer, id=ids, acquired_at=st.one_of(st.none(), times),
                      attributes=st.dictionaries(st.text(max_size=8), attribute_values,
                                                 max_size=4))
transactions = st.builds(
    Transaction, customer_id=ids, at=times, amount=money,
    margin=st.one_of(st.none(), finite), product=st.one_of(st.none(), st.text(max_size=8)),
    category=st.one_of(st.none(), st.text(max_size=8)),
    channel=st.one_of(st.none(), st.sampled_from(Channel)),
    on_promotion=st.one_of(st.none(), st.booleans()),
)
interactions = st.builds(Interaction, customer_id=ids, at=times,
                         channel=st.sampled_from(Channel),
                         inbound=st.one_of(st.none(), st.booleans()),
                         subject=st.one_of(st.none(), st.text(max_size=8)))


@st.composite
def complaints(draw: st.DrawFn) -> Complaint:
    opened = draw(naive_times)
    steps = draw(st.lists(st.timedeltas(min_value=dt.timedelta(0),
                                        max_value=dt.timedelta(days=30)), min_size=3,
                          max_size=3))
    assigned = opened + steps[0]
    resolved = assigned + steps[1]
    return Complaint(customer_id=draw(ids), opened_at=opened, assigned_at=assigned,
                     resolved_at=draw(st.one_of(st.none(), st.just(resolved))),
                     followed_up_at=None, category=draw(st.one_of(st.none(), st.text(max_size=5))))


survey_responses = st.builds(SurveyResponse, customer_id=ids, at=times,
                             answers=st.dictionaries(st.text(min_size=1, max_size=8),
                                                     st.floats(0, 10), max_size=5))
probabilities = st.floats(0, 1)
value_scores = st.builds(
    ValueScore, customer_id=ids, historical_value=st.one_of(st.none(), finite),
    current_value=st.one_of(st.none(), finite), potential_value=st.one_of(st.none(), finite),
    clv=st.one_of(st.none(), finite), p_alive=st.one_of(st.none(), probabilities),
    expected_purchases=st.one_of(st.none(), money), model=st.one_of(st.none(), st.text()),
    time_unit=st.one_of(st.none(), st.sampled_from(["D", "W", "M"])),
    horizon=st.one_of(st.none(), money),
    stage=st.one_of(st.none(), st.sampled_from(["exploration", "formation", "stability",
                                                "decline", "terminated"])),
    loyalty=st.one_of(st.none(), st.floats(0, 100)),
)


@st.composite
def relationships(draw: st.DrawFn) -> Relationship:
    customer = draw(customers)
    cid = customer.id
    when = naive_times
    return Relationship(
        customer=customer,
        transactions=draw(st.lists(st.builds(Transaction, customer_id=st.just(cid), at=when,
                                             amount=money), max_size=4)),
        interactions=draw(st.lists(st.builds(Interaction, customer_id=st.just(cid), at=when),
                                   max_size=3)),
        complaints=draw(st.lists(st.builds(Complaint, customer_id=st.just(cid),
                                           opened_at=when), max_size=2)),
        survey_responses=draw(st.lists(st.builds(SurveyResponse, customer_id=st.just(cid),
                                                 at=when), max_size=2)),
    )


@pytest.mark.parametrize(
    ("strategy", "cls"),
    [
        (customers, Customer),
        (transactions, Transaction),
        (interactions, Interaction),
        (complaints(), Complaint),
        (survey_responses, SurveyResponse),
        (value_scores, ValueScore),
        (relationships(), Relationship),
    ],
)
def test_json_round_trip_is_lossless(strategy: st.SearchStrategy[Any], cls: type) -> None:
    @given(strategy)
    def check(obj: Any) -> None:
        text = crmcore.to_json(obj)
        back: Any = crmcore.from_json(text, cls)
        assert back == obj
        assert type(back.customer_id if hasattr(back, "customer_id") else back.customer.id
                    if hasattr(back, "customer") else back.id) is type(
            obj.customer_id if hasattr(obj, "customer_id") else obj.customer.id
            if hasattr(obj, "customer") else obj.id)

    check()


def test_from_json_refuses_unknown_keys_and_bad_values() -> None:
    text = crmcore.to_json(Transaction("c1", dt.datetime(2020, 1, 1), 5.0))
    with pytest.raises(crmcore.SerializationError, match="price"):
        crmcore.from_json(text.replace('"amount"', '"price"'), Transaction)
    with pytest.raises(crmcore.SerializationError, match="amount"):
        crmcore.from_json(text.replace("5.0", "-5.0"), Transaction)
    with pytest.raises(crmcore.SerializationError, match="not valid JSON"):
        crmcore.from_json("{", Transaction)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Transaction("c", dt.datetime(2020, 1, 1), -1.0), "amount must be a finite"),
        (lambda: Transaction("c", dt.datetime(2020, 1, 1), float("nan")), "amount"),
        (lambda: Transaction("", dt.datetime(2020, 1, 1), 1.0), "customer_id must be"),
        (lambda: Transaction("c", "2020-01-01", 1.0), "at must be a datetime"),  # type: ignore[arg-type]
        (lambda: ValueScore("c", p_alive=1.2), "p_alive is a probability"),
        (lambda: ValueScore("c", loyalty=101.0), "loyalty is an index on 0-100"),
        (lambda: SurveyResponse("c", dt.datetime(2020, 1, 1), {"q1": float("inf")}),
         "answers\\['q1'\\] must be a finite number"),
        (lambda: Complaint("c", dt.datetime(2020, 1, 2), resolved_at=dt.datetime(2020, 1, 1)),
         "resolved_at .* is before .opened_at"),
    ],
)
def test_invariants_raise_named_errors(build: Any, message: str) -> None:
    with pytest.raises(crmcore.CRMError, match=message):
        build()


def test_relationship_refuses_other_customers_records() -> None:
    with pytest.raises(crmcore.DataError, match="transactions\\[0\\] belongs to customer 'b'"):
        Relationship(Customer("a"), transactions=[Transaction("b", dt.datetime(2020, 1, 1))])


def test_relationship_derived_facts_use_the_batch_path() -> None:
    t0 = dt.datetime(2022, 5, 1)
    relation = Relationship(
        Customer("a", acquired_at=t0 - dt.timedelta(days=10)),
        transactions=[Transaction("a", t0 + dt.timedelta(days=d), 10.0 * (d + 1))
                      for d in (14, 0, 7, 7)],
    )
    assert relation.first_purchase_at == t0
    assert relation.last_purchase_at == t0 + dt.timedelta(days=14)
    assert relation.total_spend == pytest.approx(10 + 80 + 80 + 150)
    assert relation.repeat_purchases() == 2  # day 7 counts once
    assert relation.repeat_purchases(freq="M") == 0
    assert relation.tenure(t0 + dt.timedelta(days=20)) == dt.timedelta(days=30)
    base = relation.to_base(time_unit="W", observation_end=t0 + dt.timedelta(days=21))
    assert base.recency.tolist() == [2.0]
    assert base.T.tolist() == [3.0]
    assert base.monetary_value.tolist() == [pytest.approx((160 + 150) / 2)]
    with pytest.raises(crmcore.InvalidValueError, match="before the relationship started"):
        relation.tenure(t0 - dt.timedelta(days=30))


def test_customer_from_record_and_evolve() -> None:
    customer = Customer.from_record({"id": 7, "region": "east", "vip": True})
    assert customer.attributes == {"region": "east", "vip": True}
    moved = attrs.evolve(customer, attributes={**customer.attributes, "region": "west"})
    assert moved.attributes["region"] == "west"
    assert customer.attributes["region"] == "east"
    with pytest.raises(crmcore.DataError, match="no 'id' field"):
        Customer.from_record({"name": "x"})
    assert hash(customer) == hash(Customer(7, attributes={"region": "other"}))
