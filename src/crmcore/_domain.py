"""Typed domain objects for one customer: who they are and what happened between them and the firm.

These are immutable ``attrs`` classes. Validators guard only true invariants (an amount is a
finite non-negative number, a complaint is not resolved before it was opened); everything
derived (tenure, repeat purchases, recency) is computed, never stored. Changed copies come from
:func:`attrs.evolve`. JSON goes in and out through :func:`crmcore.to_json` and
:func:`crmcore.from_json`, never through the classes themselves.

Batch work happens on :class:`crmcore.CustomerBase`; the per-customer helpers here build a
one-customer base and read it, so one customer and a million go through the same code.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from crmcore._errors import DataError, InvalidValueError

if TYPE_CHECKING:
    from crmcore._base import CustomerBase

__all__ = [
    "AttributeValue",
    "Channel",
    "Complaint",
    "Customer",
    "CustomerId",
    "Interaction",
    "Relationship",
    "SurveyResponse",
    "Transaction",
    "ValueScore",
]

CustomerId: TypeAlias = str | int
"""A customer's identifier: a string or an integer, as the firm's records have it."""

AttributeValue: TypeAlias = str | int | float | bool | None
"""A value of a free customer attribute (segment, region, ...)."""


_CHANNEL_TERMS: dict[str, str] = {
    "call-centre": "呼叫中心",
    "direct": "直接沟通",
    "fax": "传真",
    "mobile-sales": "移动销售",
    "email": "电子邮件",
    "web": "网上交流",
    "phone": "电话交流",
    "letter": "信件",
    "sms": "手机短信",
    "other": "其他营销渠道",
}


class Channel(enum.Enum):
    """A channel through which the firm and a customer are in contact.

    The course texts list the call centre (呼叫中心), direct contact (直接沟通), fax (传真), mobile
    sales (移动销售), email (电子邮件), the internet (网际网路) and other marketing channels;
    the course texts add telephone (电话交流), online exchange (网上交流) and letters (信件); the
    course texts' bank case adds text messages (手机短信). ``chinese`` gives the course texts' term.
    """

    CALL_CENTRE = "call-centre"
    DIRECT = "direct"
    FAX = "fax"
    MOBILE_SALES = "mobile-sales"
    EMAIL = "email"
    WEB = "web"
    OTHER = "other"
    PHONE = "phone"
    LETTER = "letter"
    SMS = "sms"

    @property
    def chinese(self) -> str:
        """The course texts' term for the channel."""
        return _CHANNEL_TERMS[self.value]


# -- validators -------------------------------------------------------------------------------


def _finite_non_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValueError(
            f"{type(instance).__name__}.{attribute.name} must be a number, got {value!r}",
            field=attribute.name,
        )
    if not math.isfinite(value) or value < 0:
        raise InvalidValueError(
            f"{type(instance).__name__}.{attribute.name} must be a finite number >= 0, "
            f"got {value!r}",
            field=attribute.name,
        )


def _finite(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError(
            f"{type(instance).__name__}.{attribute.name} must be a finite number, got {value!r}",
            field=attribute.name,
        )


def _probability(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    _finite(instance, attribute, value)
    if value is not None and not 0.0 <= value <= 1.0:
        raise InvalidValueError(
            f"{type(instance).__name__}.{attribute.name} is a probability and must lie in "
            f"[0, 1], got {value!r}",
            field=attribute.name,
        )


def _loyalty_index(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    _finite(instance, attribute, value)
    if value is not None and not 0.0 <= value <= 100.0:
        raise InvalidValueError(
            f"{type(instance).__name__}.{attribute.name} is an index on 0-100, got {value!r}",
            field=attribute.name,
        )


def _customer_id(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise InvalidValueError(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty string or an "
            f"integer, got {value!r}",
            field=attribute.name,
        )


def _datetime(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dt.datetime):
        raise DataError(
            f"{type(instance).__name__}.{attribute.name} must be a datetime.datetime, "
            f"got {value!r}",
            field=attribute.name,
        )


def _not_before(
    instance: object, later: str, later_value: dt.datetime | None, earlier: str,
    earlier_value: dt.datetime | None,
) -> None:
    if later_value is None or earlier_value is None:
        return
    try:
        wrong = later_value < earlier_value
    except TypeError as exc:  # aware compared with naive
        raise DataError(
            f"{type(instance).__name__}.{later} and .{earlier} mix time-zone-aware and naive "
            "date-times",
            field=later,
        ) from exc
    if wrong:
        raise InvalidValueError(
            f"{type(instance).__name__}.{later} ({later_value.isoformat()}) is before "
            f".{earlier} ({earlier_value.isoformat()})",
            field=later,
        )


def _attribute_dict(values: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    return dict(values)


def _answer_dict(values: Mapping[str, float]) -> dict[str, float]:
    return dict(values)


# -- the records ------------------------------------------------------------------------------


@attrs.frozen
class Customer:
    """A customer of the firm.

    Parameters
    ----------
    id:
        The firm's identifier for the customer.
    acquired_at:
        When the customer was won (first contract, first purchase), if known.
    attributes:
        Free descriptive attributes (region, segment, ...), name -> value.
    """

    id: CustomerId = attrs.field(validator=_customer_id)
    acquired_at: dt.datetime | None = attrs.field(default=None, validator=_datetime)
    attributes: Mapping[str, AttributeValue] = attrs.field(
        factory=dict, converter=_attribute_dict, hash=False
    )

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, id_field: str = "id",
                    acquired_field: str = "acquired_at") -> Customer:
        """Build a customer from a flat record: ``id_field`` and ``acquired_field`` are taken
        out, every other key becomes an attribute."""
        if id_field not in record:
            raise DataError(f"record has no {id_field!r} field: {dict(record)!r}", field=id_field)
        attributes = {k: v for k, v in record.items() if k not in (id_field, acquired_field)}
        return cls(id=record[id_field], acquired_at=record.get(acquired_field),
                   attributes=attributes)


@attrs.frozen
class Transaction:
    """One purchase.

    Parameters
    ----------
    customer_id:
        Who bought.
    at:
        When.
    amount:
        Revenue of the purchase, in the firm's currency (finite, >= 0; returns are recorded
        elsewhere, not as negative purchases).
    margin:
        Contribution margin of the purchase (revenue minus variable cost), if known; may be
        negative.
    product, category:
        What was bought, if recorded.
    channel:
        Where it was bought, if recorded.
    on_promotion:
        Whether it was bought at a discount or on an incentive, if recorded.
    """

    customer_id: CustomerId = attrs.field(validator=_customer_id)
    at: dt.datetime = attrs.field(validator=_datetime)
    amount: float = attrs.field(default=0.0, validator=_finite_non_negative)
    margin: float | None = attrs.field(default=None, validator=_finite)
    product: str | None = None
    category: str | None = None
    channel: Channel | None = None
    on_promotion: bool | None = None


@attrs.frozen
class Interaction:
    """A contact between the firm and a customer through a channel.

    Parameters
    ----------
    customer_id, at, channel:
        Who, when and through which channel.
    inbound:
        ``True`` when the customer reached out, ``False`` when the firm did, ``None`` unknown.
    subject:
        What the contact was about (free text or a code).
    """

    customer_id: CustomerId = attrs.field(validator=_customer_id)
    at: dt.datetime = attrs.field(validator=_datetime)
    channel: Channel = Channel.OTHER
    inbound: bool | None = None
    subject: str | None = None


@attrs.frozen
class Complaint:
    """A complaint (客户抱怨, 投诉) and its handling: opened, assigned, resolved, followed up
    (the course texts' service suite: 投诉的建立、分配、解决、跟踪、反馈、回访).

    Each time is optional except ``opened_at``, and none may precede the step before it.
    ``assigned_at`` is the firm's first response (the complaint is taken up by someone);
    ``channel`` is where the complaint came in; ``escalated`` records whether it had to be
    passed up (to a manager, as in the course texts' front-desk dialogue), ``None`` when unknown.
    :func:`crmcore.lifecycle.complaint_summary` summarises many.
    """

    customer_id: CustomerId = attrs.field(validator=_customer_id)
    opened_at: dt.datetime = attrs.field(validator=_datetime)
    assigned_at: dt.datetime | None = attrs.field(default=None, validator=_datetime)
    resolved_at: dt.datetime | None = attrs.field(default=None, validator=_datetime)
    followed_up_at: dt.datetime | None = attrs.field(default=None, validator=_datetime)
    category: str | None = None
    description: str | None = None
    channel: Channel | None = None
    escalated: bool | None = None

    def __attrs_post_init__(self) -> None:
        _not_before(self, "assigned_at", self.assigned_at, "opened_at", self.opened_at)
        _not_before(self, "resolved_at", self.resolved_at, "opened_at", self.opened_at)
        _not_before(self, "resolved_at", self.resolved_at, "assigned_at", self.assigned_at)
        _not_before(self, "followed_up_at", self.followed_up_at, "resolved_at", self.resolved_at)

    @property
    def is_resolved(self) -> bool:
        """Whether the complaint has been resolved."""
        return self.resolved_at is not None

    @property
    def time_to_resolution(self) -> dt.timedelta | None:
        """Time from opening to resolution, or ``None`` while unresolved."""
        return None if self.resolved_at is None else self.resolved_at - self.opened_at

    @property
    def time_to_response(self) -> dt.timedelta | None:
        """Time from opening to the firm's first response (``assigned_at``), or ``None``
        while nobody has taken it up."""
        return None if self.assigned_at is None else self.assigned_at - self.opened_at


def _answers(instance: object, attribute: attrs.Attribute[Any], value: Mapping[str, Any]) -> None:
    for item, score in value.items():
        if not isinstance(item, str) or not item:
            raise InvalidValueError(
                f"SurveyResponse.answers: item names must be non-empty strings, got {item!r}",
                field="answers",
            )
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(
            score
        ):
            raise InvalidValueError(
                f"SurveyResponse.answers[{item!r}] must be a finite number, got {score!r}",
                field=f"answers[{item!r}]",
            )


@attrs.frozen
class SurveyResponse:
    """One customer's answers to a survey: item name -> score on the survey's scale."""

    customer_id: CustomerId = attrs.field(validator=_customer_id)
    at: dt.datetime = attrs.field(validator=_datetime)
    answers: Mapping[str, float] = attrs.field(
        factory=dict, converter=_answer_dict, validator=_answers, hash=False
    )


def _belongs(instance: Relationship, attribute: attrs.Attribute[Any], value: Any) -> None:
    for position, record in enumerate(value):
        if record.customer_id != instance.customer.id:
            raise DataError(
                f"Relationship.{attribute.name}[{position}] belongs to customer "
                f"{record.customer_id!r}, not {instance.customer.id!r}",
                field=attribute.name,
                rows=(position,),
            )


def _sorted_tuple(records: Any) -> tuple[Any, ...]:
    items = tuple(records)
    try:
        return tuple(sorted(items, key=lambda r: getattr(r, "at", None) or r.opened_at))
    except TypeError as exc:
        raise DataError("records mix time-zone-aware and naive date-times") from exc


@attrs.frozen
class Relationship:
    """One customer's whole history with the firm, in time order.

    Derived facts (tenure, repeat purchases, recency, monetary value) are computed from the
    records; the BTYD summary of the relationship comes from :meth:`to_base`, the same code that
    summarises a million customers.
    """

    customer: Customer
    transactions: tuple[Transaction, ...] = attrs.field(
        default=(), converter=_sorted_tuple, validator=_belongs
    )
    interactions: tuple[Interaction, ...] = attrs.field(
        default=(), converter=_sorted_tuple, validator=_belongs
    )
    complaints: tuple[Complaint, ...] = attrs.field(
        default=(), converter=_sorted_tuple, validator=_belongs
    )
    survey_responses: tuple[SurveyResponse, ...] = attrs.field(
        default=(), converter=_sorted_tuple, validator=_belongs
    )

    @property
    def first_purchase_at(self) -> dt.datetime | None:
        """Time of the first transaction, or ``None`` if there is none."""
        return self.transactions[0].at if self.transactions else None

    @property
    def last_purchase_at(self) -> dt.datetime | None:
        """Time of the latest transaction, or ``None`` if there is none."""
        return self.transactions[-1].at if self.transactions else None

    @property
    def total_spend(self) -> float:
        """Sum of all transaction amounts."""
        return math.fsum(t.amount for t in self.transactions)

    def tenure(self, as_of: dt.datetime) -> dt.timedelta:
        """Time from the start of the relationship (acquisition, else first purchase) to
        ``as_of``; zero for a relationship with neither."""
        start = self.customer.acquired_at or self.first_purchase_at
        if start is None:
            return dt.timedelta(0)
        if as_of < start:
            raise InvalidValueError(
                f"as_of ({as_of.isoformat()}) is before the relationship started "
                f"({start.isoformat()})",
                field="as_of",
            )
        return as_of - start

    def to_base(
        self,
        *,
        freq: str = "D",
        time_unit: str | None = None,
        observation_end: dt.datetime | None = None,
    ) -> CustomerBase:
        """This relationship as a one-customer :class:`CustomerBase` (repeat purchases,
        recency, T, monetary value), through the same code as any batch."""
        from crmcore._base import CustomerBase

        return CustomerBase.from_transactions(
            self.transactions, freq=freq, time_unit=time_unit, observation_end=observation_end
        )

    def repeat_purchases(self, *, freq: str = "D") -> int:
        """Number of purchase periods after the first (purchases in one period count once)."""
        if not self.transactions:
            return 0
        return int(self.to_base(freq=freq).frequency[0])


@attrs.frozen
class ValueScore:
    """What one customer is worth, and the model that said so.

    All money is in the currency of the input; values a model could not estimate are ``None``
    rather than a made-up number.

    Parameters
    ----------
    customer_id:
        Whose score this is.
    historical_value:
        Value already realised: past margin compounded to the observation end.
    current_value:
        Value expected if today's behaviour continues: the residual lifetime value.
    potential_value:
        Extra value reachable through cross-buying, up-selling and referrals.
    clv:
        Customer lifetime value as the chosen model defines it (see ``model``).
    p_alive:
        Probability the customer is still active.
    expected_purchases:
        Expected purchases over ``horizon`` periods of ``time_unit``.
    model:
        Name of the value model (and spend model) that produced the score.
    time_unit, horizon:
        Unit and length of the prediction horizon (``horizon=None`` means lifetime).
    stage:
        Lifecycle stage (``"exploration"``, ``"formation"``, ``"stability"``, ``"decline"``,
        ``"terminated"``; the ``value`` of :class:`crmcore.lifecycle.LifecycleStage`), if
        classified.
    loyalty:
        Loyalty index, 0-100, if computed.
    """

    customer_id: CustomerId = attrs.field(validator=_customer_id)
    historical_value: float | None = attrs.field(default=None, validator=_finite)
    current_value: float | None = attrs.field(default=None, validator=_finite)
    potential_value: float | None = attrs.field(default=None, validator=_finite)
    clv: float | None = attrs.field(default=None, validator=_finite)
    p_alive: float | None = attrs.field(default=None, validator=_probability)
    expected_purchases: float | None = attrs.field(default=None, validator=_finite_non_negative)
    model: str | None = None
    time_unit: str | None = None
    horizon: float | None = attrs.field(default=None, validator=_finite_non_negative)
    stage: str | None = None
    loyalty: float | None = attrs.field(default=None, validator=_loyalty_index)
