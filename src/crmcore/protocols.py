"""What a model of each kind must provide: the contracts a firm's plugin is written against.

crmcore never asks a model for its class. It calls a few methods, and this module lists
exactly those, per model kind, as :class:`typing.Protocol` classes: a firm's model that has
them works wherever crmcore's own does (:func:`crmcore.score`,
:func:`crmcore.value.lifetime_value`, :func:`crmcore.lifecycle.classify`,
:func:`crmcore.lifecycle.churn_risk`, ...). :func:`crmcore.testing.check_model_plugin` checks a
plugin's models against them.

The kinds and their protocols (the hook that offers them in brackets):

============  =====================================  ====================================
kind          protocol                               what crmcore calls
============  =====================================  ====================================
value         :class:`ValueModel`                    ``fit(base)``, ``p_alive``,
              (``crmcore_value_models``)             ``expected_purchases``; optionally
                                                     ``dert``, ``discrete``, ``time_unit_``,
                                                     ``params_``
              or :class:`TimeVaryingValueModel`      ``fit(base, covariates=,
              (``time_varying_covariates = True``)   customer_id=, datetime=)``,
                                                     ``p_alive``, ``expected_purchases``;
                                                     optionally ``dert``,
                                                     ``probability_of_no_purchase``
spend         :class:`SpendModel`                    ``fit(base)``, ``expected_spend``
potential     :class:`PotentialValueModel`           ``name``, ``score(base, margin=,
                                                     inputs=)``
lifecycle     :class:`LifecycleModel`                ``score(base, value_model=, as_of=)``
satisfaction  :class:`SatisfactionModel`             ``score(answers)``
loyalty       :class:`LoyaltyModel`                  ``score(base, transactions=)``
cohort        :class:`CohortModel`                   ``fit(alive)``,
                                                     ``discounted_expected_lifetime``,
                                                     ``derl``
migration     :class:`MigrationModel`                ``fit(base)``, ``customer_values``
============  =====================================  ====================================

**The verb convention.** ``fit(data) -> self`` learns from data; value, spend, cohort and
migration models learn, and crmcore fits an unfitted value or spend model on the base it
scores. Every other kind is configured when it is built (its hyperparameters, e.g. weights
from an AHP) and produces its per-customer output with one method, ``score``. A model of
those kinds that does learn offers ``fit`` too; crmcore then leaves fitting to the caller.
Value models keep the names the buy-till-you-die literature and lifetimes use
(``p_alive``, ``expected_purchases``, ``dert``).

**Units and shapes.** ``frequency`` is the number of repeat purchase periods, ``recency``
the time of the last one and ``T`` the customer's age, all since the first purchase and in
the time unit of the data the model was fitted on (:attr:`crmcore.CustomerBase.time_unit`),
one value per customer (numpy arrays of equal length; crmcore passes one row per distinct
``(frequency, recency, T)`` pattern). Every per-customer answer is an array of the same length
in the same order. Money is in the data's currency.

**Models whose predictions need covariate paths.** A value model whose rates move with
covariates that change over calendar time (:class:`crmcore.value.ParetoNBDDynamic`) cannot
predict from ``(frequency, recency, T)``: it needs each customer's covariate periods and where
her purchases fall in them. Such a model declares the class attribute
``time_varying_covariates = True`` and follows :class:`TimeVaryingValueModel` instead of
:class:`ValueModel`: every method takes the :class:`crmcore.CustomerBase` and the covariate
frame by keyword. crmcore recognises it by that declaration (:func:`value_protocol`), never by
its class, in :func:`crmcore.score`, :func:`crmcore.testing.check_model_plugin` and the
registry.

The protocols marked *runtime-checkable* can be used with :func:`isinstance`, which checks
that the methods exist (not their signatures); :func:`crmcore.testing.check_model_plugin`
checks the signatures too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

from numpy.typing import ArrayLike

if TYPE_CHECKING:
    import datetime as dt

    import numpy as np

    from crmcore._base import CustomerBase
    from crmcore.lifecycle._stage_result import StageResult
    from crmcore.loyalty._index import LoyaltyBreakdown
    from crmcore.value._parts import PotentialInputs, PotentialValue

__all__ = [
    "KIND_PROTOCOLS",
    "OPTIONAL_MEMBERS",
    "TIME_VARYING_OPTIONAL_MEMBERS",
    "CohortModel",
    "LifecycleModel",
    "LoyaltyModel",
    "MigrationModel",
    "NoPurchaseModel",
    "PAliveModel",
    "PotentialValueModel",
    "PurchaseModel",
    "SatisfactionModel",
    "SpendModel",
    "SupportsDERT",
    "TimeVaryingValueModel",
    "ValueModel",
    "value_protocol",
]


@runtime_checkable
class PAliveModel(Protocol):
    """A fitted model that gives each customer's probability of still being active.

    What :func:`crmcore.lifecycle.classify` and :func:`crmcore.lifecycle.churn_risk` ask of
    a value model. Runtime-checkable.
    """

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, /) -> ArrayLike:
        """P(alive) at ``T`` per customer.

        Parameters
        ----------
        frequency, recency, T:
            Repeat purchases, time of the last one and age per customer (see the module's
            units), arrays of one length ``n``.

        Returns
        -------
        array of shape (n,)
            Probabilities in ``[0, 1]``, finite (crmcore refuses anything else, naming the
            model).
        """
        ...


@runtime_checkable
class PurchaseModel(PAliveModel, Protocol):
    """A fitted purchase model: P(alive) and expected purchases.

    What :func:`crmcore.value.lifetime_value` needs for a finite horizon. Runtime-checkable.

    Optional attributes that :func:`crmcore.value.lifetime_value` reads when present:

    ``discrete: bool`` (class attribute, default ``False``)
        ``True`` for a model of discrete purchase opportunities (BG/BB): then horizons and
        steps must be whole numbers of periods, and :meth:`SupportsDERT.dert` receives a
        compounded rate per period rather than a continuous one.
    ``time_unit_: str | None``
        The time unit of the data it was fitted on (``"D"``, ``"W"``, ...); a base in
        another unit is refused rather than mixed.
    ``params_: Mapping[str, float]``
        The fitted parameters. Its presence tells :func:`crmcore.score` that a model object
        passed in is fitted already (reading it on an unfitted model should raise
        :class:`crmcore.NotFittedError`, an ``AttributeError``); without it, crmcore fits the
        model on the base it scores. It is also quoted in error messages.
    """

    def expected_purchases(self, t: float, frequency: ArrayLike, recency: ArrayLike,
                           T: ArrayLike, /) -> ArrayLike:
        """Expected repeat purchases per customer in the next ``t`` after ``T``.

        Parameters
        ----------
        t:
            Length of the horizon in the data's time unit (a number; crmcore calls once per
            cash-flow step with growing ``t``).
        frequency, recency, T:
            As for :meth:`p_alive`.

        Returns
        -------
        array of shape (n,)
            Expected counts, finite, ``>= 0`` and non-decreasing in ``t``, *conditional* on
            the customer's history (they include the chance the customer has left).
        """
        ...


@runtime_checkable
class ValueModel(PurchaseModel, Protocol):
    """A purchase and lifetime-value model (kind ``"value"``): what :func:`crmcore.score`
    and the ``crmcore_value_models`` hook expect.

    A value model is built unfitted by its factory (hyperparameters as keyword arguments),
    learns from a :class:`crmcore.CustomerBase` with :meth:`fit`, then answers
    :meth:`p_alive` and :meth:`expected_purchases`. For a lifetime horizon
    (``horizon=None``) it also needs :meth:`SupportsDERT.dert`; the optional attributes
    ``discrete``, ``time_unit_`` and ``params_`` are described under
    :class:`PurchaseModel`. Runtime-checkable.
    """

    def fit(self, base: CustomerBase, /) -> Self:
        """Learn from ``base`` (its ``frequency``, ``recency``, ``T`` and ``time_unit``) and
        return the model itself. Failures raise :class:`crmcore.ConvergenceError` (or another
        :class:`crmcore.CRMError`), never leave NaN parameters."""
        ...


@runtime_checkable
class SupportsDERT(Protocol):
    """Optional part of a value model: discounted expected residual transactions, used by
    :func:`crmcore.value.lifetime_value` and :func:`crmcore.score` with ``horizon=None``.
    Runtime-checkable."""

    def dert(self, rate: float, frequency: ArrayLike, recency: ArrayLike,
             T: ArrayLike, /) -> ArrayLike:
        """Expected purchases to infinity, each discounted to ``T``, per customer.

        Parameters
        ----------
        rate:
            Not the caller's ``discount_rate`` per ``time_unit``, but what the model sums
            with (:func:`crmcore.value.dert_rate` converts, in one place): for a
            continuous-time model its ``continuous_rate``, the continuously compounded rate
            per unit of the data's time (``log(1 + d) / k`` for a ``discount_rate`` ``d``
            per ``time_unit`` holding ``k`` data units); for a ``discrete`` model the rate
            compounded per purchase opportunity. Always ``> 0``.
        frequency, recency, T:
            As for :meth:`PAliveModel.p_alive`.

        Returns
        -------
        array of shape (n,)
            Finite, ``>= 0``.
        """
        ...


@runtime_checkable
class NoPurchaseModel(Protocol):
    """Optional part of a value model: the conditional purchase-count distribution
    (BG/NBD, MBG/NBD, Pareto/NBD). Churn risk (:func:`crmcore.lifecycle.churn_risk`,
    ``Scores.churn_risk``) reads ``k = 0`` from it: the probability of no purchase over a
    horizon. A model without it gets ``1 - p_alive`` as its churn risk (noted).
    Runtime-checkable."""

    def conditional_probability_of_purchases(self, k: ArrayLike, t: ArrayLike,
                                             frequency: ArrayLike, recency: ArrayLike,
                                             T: ArrayLike, /) -> ArrayLike:
        """P(Y(t) = k | x, t_x, T) per customer.

        Parameters
        ----------
        k:
            Purchase count(s), whole numbers ``>= 0``.
        t:
            Length of the future period, in the unit the model was fitted in.
        frequency, recency, T:
            As for :meth:`PAliveModel.p_alive`.

        Returns
        -------
        array of shape (n,)
            Probabilities in [0, 1].
        """
        ...


@runtime_checkable
class TimeVaryingValueModel(Protocol):
    """A value model whose predictions need time-varying covariates (kind ``"value"``, e.g.
    :class:`crmcore.value.ParetoNBDDynamic`): what :func:`crmcore.score` calls when the
    model declares ``time_varying_covariates = True``.

    ``covariates`` is a frame with one row per customer and period start: the id column
    ``customer_id``, the period-start column ``datetime`` and the covariate columns; a row
    holds until the customer's next one. Every answer is one value per customer of ``base``,
    in its order. ``customer_id`` and ``datetime`` may default to the names given to ``fit``.
    Optional members crmcore uses when present: ``dert`` (``horizon=None``),
    ``probability_of_no_purchase`` (``Scores.churn_risk``; without it, ``1 - p_alive``,
    noted), ``time_unit_`` and ``params_`` (as for :class:`PurchaseModel`). Runtime-checkable
    (``isinstance`` checks that the methods exist; the marker tells the two value protocols
    apart, since a plain value model has methods of the same names).
    """

    time_varying_covariates: ClassVar[bool]
    """``True``: the model's predictions take the base and the covariate frame."""

    def fit(self, base: CustomerBase, /, *, covariates: Any, customer_id: str,
            datetime: str) -> Self:
        """Learn from ``base`` and the covariate paths; return the model itself."""
        ...

    def p_alive(self, base: CustomerBase, /, *, covariates: Any, customer_id: str | None,
                datetime: str | None) -> ArrayLike:
        """P(alive) at each customer's ``T``, shape ``(len(base),)``, in ``[0, 1]``."""
        ...

    def expected_purchases(self, t: float, base: CustomerBase, /, *, covariates: Any,
                           customer_id: str | None, datetime: str | None) -> ArrayLike:
        """Expected repeat purchases in ``(T, T+t]`` per customer (``t`` in the data's time
        unit); the covariates must cover the horizon."""
        ...


class _TimeVaryingOptional(Protocol):
    """The optional members of a :class:`TimeVaryingValueModel`, as crmcore calls them
    (documentation and signature checks only)."""

    def dert(self, rate: float, base: CustomerBase, /, *, covariates: Any,
             customer_id: str | None, datetime: str | None) -> ArrayLike:
        """As :meth:`SupportsDERT.dert`, per customer of ``base``; the frame covers each
        customer's time to ``T`` and the model says what it assumes beyond it."""
        ...

    def probability_of_no_purchase(self, t: float, base: CustomerBase, /, *, covariates: Any,
                                   customer_id: str | None, datetime: str | None,
                                   hold_last: bool) -> ArrayLike:
        """P(no purchase in ``(T, T+t]`` | history) per customer; ``hold_last``: the frame
        may end before ``T + t`` and each customer's last row holds beyond it (crmcore asks
        so for a lifetime horizon, whose churn window is one year)."""
        ...


def value_protocol(model: object) -> type:
    """The protocol a value model follows: :class:`TimeVaryingValueModel` if it declares
    ``time_varying_covariates = True``, else :class:`ValueModel`."""
    if getattr(model, "time_varying_covariates", False) is True:
        return TimeVaryingValueModel
    return ValueModel


@runtime_checkable
class SpendModel(Protocol):
    """A model of spend per purchase (kind ``"spend"``), e.g. Gamma-Gamma.

    :func:`crmcore.score` fits it on the base (unless it has ``params_``, see
    :class:`PurchaseModel`) and :func:`crmcore.value.lifetime_value` multiplies its answer by
    the discounted purchases and the margin. Runtime-checkable.
    """

    def fit(self, base: CustomerBase, /) -> Self:
        """Learn from ``base`` (``frequency`` and ``monetary_value``); return the model."""
        ...

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike, /) -> ArrayLike:
        """Expected spend per purchase period per customer, in the data's currency.

        Parameters
        ----------
        frequency:
            Repeat purchase periods per customer.
        monetary_value:
            The customer's mean spend per purchase period so far (may be 0 or NaN for
            customers without repeat purchases; the model decides what they are worth).

        Returns
        -------
        array of shape (n,)
            Finite.
        """
        ...


@runtime_checkable
class PotentialValueModel(Protocol):
    """A potential-value model (kind ``"potential"``, the course texts' 潜在价值: what cross-buying,
    up-selling and referrals could add).

    It works on the whole base at once and answers NaN with a reason, never a made-up
    number, where the data does not allow an estimate. Runtime-checkable.
    """

    @property
    def name(self) -> str:
        """The model's name, reported in :attr:`crmcore.value.PotentialValue.model` (a plain
        attribute or class attribute will do)."""
        ...

    def score(self, base: CustomerBase, *, margin: np.ndarray[Any, np.dtype[np.float64]],
              inputs: PotentialInputs) -> PotentialValue:
        """Potential value of every customer of ``base``.

        Parameters
        ----------
        base:
            The customers.
        margin:
            Contribution margin rate per customer, shape ``(n,)``.
        inputs:
            What the data say about wallets and referrals
            (:class:`crmcore.value.PotentialInputs`).

        Returns
        -------
        crmcore.value.PotentialValue
            One value per customer of ``base``, in its order.
        """
        ...


@runtime_checkable
class LifecycleModel(Protocol):
    """A lifecycle-stage classifier (kind ``"lifecycle"``), as :func:`crmcore.lifecycle.classify`
    and :func:`crmcore.score` use it. Runtime-checkable.
    """

    def score(self, base: CustomerBase, *, value_model: PAliveModel | None = None,
              as_of: dt.datetime | dt.date | str | np.datetime64 | None = None) -> StageResult:
        """One lifecycle stage per customer of ``base``.

        Parameters
        ----------
        base:
            A base built from transactions (with its purchase history).
        value_model:
            A fitted :class:`PAliveModel` whose P(alive) may enter the rules, or ``None``.
        as_of:
            Cut-off date: classify on the history up to it (``None``: the observation end).

        Returns
        -------
        crmcore.lifecycle.StageResult
            Aligned with ``base.customer_id``; stage codes ``-1`` (not yet acquired) to
            ``4`` (terminated). Anything else is refused, naming the model.
        """
        ...


@runtime_checkable
class SatisfactionModel(Protocol):
    """A satisfaction index (kind ``"satisfaction"``): survey answers in, 0-100 out.
    Runtime-checkable."""

    def score(self, answers: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Satisfaction index (0-100) per respondent.

        Parameters
        ----------
        answers:
            Survey answers: a mapping or data frame of item -> answers, or a 2-D array with
            one row per respondent.

        Returns
        -------
        numpy.ndarray of shape (n_respondents,)
        """
        ...


@runtime_checkable
class LoyaltyModel(Protocol):
    """A loyalty index (kind ``"loyalty"``), as :func:`crmcore.score` uses it.
    Runtime-checkable."""

    def score(self, base: CustomerBase, *, transactions: Any = None
              ) -> LoyaltyBreakdown | ArrayLike:
        """The loyalty index, 0-100 per customer of ``base``, in its order.

        Parameters
        ----------
        base:
            The customers (built from transactions: ``freq`` is known).
        transactions:
            The transaction log the base was built from, for indicators it holds beyond the
            base (e.g. promotions); may be ``None``.

        Returns
        -------
        crmcore.loyalty.LoyaltyBreakdown or array of shape (n,)
            An object with an ``index`` array, or the index itself; NaN for a customer with
            nothing known.
        """
        ...


@runtime_checkable
class CohortModel(Protocol):
    """A contractual retention model of one cohort (kind ``"cohort"``), e.g. the
    shifted-beta-geometric; :func:`crmcore.value.sbg_clv` values customers with it.
    Runtime-checkable."""

    def fit(self, alive: ArrayLike, /) -> Self:
        """Learn from the customers still under contract at the start of each period,
        cohort size first (a non-increasing array of whole numbers); return the model."""
        ...

    def discounted_expected_lifetime(self, discount_rate: ArrayLike, /
                                     ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """DEL: a new customer's expected number of payments, each discounted at
        ``discount_rate`` per period (the first paid now)."""
        ...

    def derl(self, discount_rate: float, renewals: ArrayLike, /
             ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """DERL: expected further payments, discounted, of a customer who has made
        ``renewals`` renewals and is about to decide on the next (one per value of
        ``renewals``)."""
        ...


@runtime_checkable
class MigrationModel(Protocol):
    """A customer-migration model (kind ``"migration"``), e.g. the Markov chain of Pfeifer &
    Carraway (2000): customers move between states, each with a reward. Runtime-checkable."""

    def fit(self, base: CustomerBase, /) -> Self:
        """Learn the states, transition probabilities and rewards from ``base``."""
        ...

    def customer_values(self, base: CustomerBase, horizon: int | None = None
                        ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Expected discounted value per customer of ``base`` from the state each is in now,
        over ``horizon`` periods (``None``: to infinity)."""
        ...


KIND_PROTOCOLS: dict[str, type] = {
    "value": ValueModel,
    "spend": SpendModel,
    "potential": PotentialValueModel,
    "lifecycle": LifecycleModel,
    "satisfaction": SatisfactionModel,
    "loyalty": LoyaltyModel,
    "cohort": CohortModel,
    "migration": MigrationModel,
}
"""The protocol a model of each kind (``crmcore.hookspecs.ModelKind``) must follow."""

OPTIONAL_MEMBERS: dict[str, tuple[str, ...]] = {
    "value": ("dert", "conditional_probability_of_purchases", "discrete", "time_unit_",
              "params_"),
    "spend": ("params_",),
}
"""Members crmcore uses when a model of the kind has them (see each protocol's text)."""

TIME_VARYING_OPTIONAL_MEMBERS: tuple[str, ...] = (
    "dert", "probability_of_no_purchase", "time_unit_", "params_")
"""Members crmcore uses when a :class:`TimeVaryingValueModel` has them."""
