"""``crmcore.score``: a whole customer base through the chosen models, into :class:`Scores`.

One call fits (or takes) a value model and a spend model, computes each customer's value parts
(客户价值的构成: historical, current, potential value), lifetime value, P(alive) and expected
purchases, lays out the drivers of lifetime value and, where the lifecycle and loyalty packages
and their inputs allow, adds the lifecycle stage and the loyalty index. Models are looked up in
the plugin registry once per call (hooks are called once per batch, never per customer), and
every number is computed for all customers at once; :meth:`Scores.value_score` reads one
customer's row out of the batch.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._checks import discount_rate as check_discount_rate
from crmcore._checks import model_output, model_probabilities
from crmcore._deprecation import warn_deprecated
from crmcore._domain import CustomerId, ValueScore
from crmcore._errors import (
    ConvergenceError,
    DataError,
    InvalidValueError,
    PluginError,
    describe_rows,
)
from crmcore._time import check_unit, unit_name

if TYPE_CHECKING:
    import pluggy

    from crmcore.protocols import (
        LifecycleModel,
        LoyaltyModel,
        PotentialValueModel,
        SpendModel,
        TimeVaryingValueModel,
        ValueModel,
    )
    from crmcore.value._parts import CLVDrivers, PotentialInputs, PotentialValue

__all__ = ["Scores", "ScoresSummary", "score"]

_FloatArray = NDArray[np.float64]
FrameBackend = Literal["pandas", "polars", "pyarrow"]


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else value


@attrs.frozen
class ScoresSummary:
    """Totals and averages over a :class:`Scores` table.

    Money is in the input's currency; ``total_historical_value`` is ``None`` for a base
    without purchase history; ``total_potential_value`` is over the customers whose
    potential could be estimated (``n_potential_estimated``) and ``None`` when there are none.
    ``top_fifth_current_share`` is the share of the total current value held by the fifth of
    customers with the highest current value (the Pareto view; ``None`` if the total is not
    positive). ``stage_counts`` and ``mean_loyalty`` are ``None`` when no stage or loyalty
    index was computed.
    """

    n_customers: int
    total_historical_value: float | None
    total_current_value: float
    total_potential_value: float | None
    n_potential_estimated: int
    mean_p_alive: float
    total_expected_purchases: float | None
    top_fifth_current_share: float | None
    stage_counts: Mapping[str, int] | None
    mean_loyalty: float | None
    model: str
    time_unit: str
    horizon: float | None


@attrs.frozen(eq=False)
class Scores:
    """Per-customer scores of a whole base, as aligned numpy columns.

    Attributes
    ----------
    customer_id:
        The customers, in the base's order (ascending ids).
    historical_value, current_value, potential_value:
        The value parts (客户价值的构成). ``potential_value`` is NaN where it could not be
        estimated; ``potential_reason`` says why.
    clv:
        Residual lifetime value from the value and spend models (the same number as
        ``current_value``: value already earned is ``historical_value``).
    p_alive:
        Probability that the customer is still active at the observation end, from the value
        model. BG/NBD (the default) gives 1 to every customer without a repeat purchase: the
        model lets a customer drop out only right after a purchase, so it cannot tell a
        one-time buyer who left from one who is still there. Rank churn by ``churn_risk``.
    expected_purchases:
        Expected repeat purchases over ``horizon`` (``None`` for a lifetime horizon).
    expected_spend:
        Expected spend per purchase from the spend model.
    drivers:
        The five drivers of lifetime value (影响客户终生价值的因素).
    stage:
        Lifecycle stage per customer as the ``value`` of
        :class:`crmcore.lifecycle.LifecycleStage` (``"exploration"`` ... ``"terminated"``; the
        column is ``None`` when no stage was computed).
    loyalty:
        Loyalty index 0-100 per customer (``None`` when none was computed; NaN where a
        customer's indicators were all unknown).
    model, time_unit, horizon, discount_rate:
        What produced the numbers: the models' names, the unit of ``horizon`` and
        ``discount_rate`` (per ``time_unit``), and the horizon (``None``: lifetime).
    notes:
        What was left out or treated apart, and why (e.g. "no lifecycle stage: ...", or the
        customers the spend model could not be fitted on).
    churn_risk:
        Probability that the customer makes no purchase in the next ``churn_horizon``,
        P(Y(t) = 0 | x, t_x, T) from the value model's conditional purchase-count
        distribution (with covariates, at each customer's own parameters or covariate path);
        ``1 - p_alive`` for a model without one (``notes`` says so). A claim a
        firm can check by waiting ``churn_horizon`` (see :func:`crmcore.lifecycle.backtest`).
    churn_horizon:
        Its horizon in ``time_unit``: ``horizon``, or one year for a lifetime horizon.
    """

    customer_id: NDArray[Any]
    historical_value: _FloatArray
    current_value: _FloatArray
    potential_value: _FloatArray
    potential_reason: NDArray[Any]
    clv: _FloatArray
    p_alive: _FloatArray
    expected_purchases: _FloatArray | None
    expected_spend: _FloatArray
    drivers: CLVDrivers
    stage: NDArray[Any] | None
    loyalty: _FloatArray | None
    model: str
    time_unit: str
    horizon: float | None
    discount_rate: float
    notes: tuple[str, ...] = ()
    churn_risk: _FloatArray | None = None
    churn_horizon: float | None = None

    def __len__(self) -> int:
        return len(self.customer_id)

    def __repr__(self) -> str:
        from crmcore._repr import scores_text

        return scores_text(self)

    def _repr_html_(self) -> str:
        from crmcore._repr import scores_html

        return scores_html(self)

    def _row(self, customer_id: CustomerId) -> int:
        ids = self.customer_id
        try:
            row = int(np.searchsorted(ids, customer_id))
            found = row < len(ids) and bool(ids[row] == customer_id)
        except (TypeError, ValueError):  # an id of another type than the base's
            found = False
        if not found:
            raise DataError(f"customer {customer_id!r} is not in the scores",
                            field="customer_id", rows=(customer_id,))
        return row

    def _value_score(self, i: int) -> ValueScore:
        cid = self.customer_id[i]
        expected = self.expected_purchases
        return ValueScore(
            customer_id=cid.item() if isinstance(cid, np.generic) else cid,
            historical_value=_optional(float(self.historical_value[i])),
            current_value=_optional(float(self.current_value[i])),
            potential_value=_optional(float(self.potential_value[i])),
            clv=_optional(float(self.clv[i])),
            p_alive=min(max(float(self.p_alive[i]), 0.0), 1.0),
            expected_purchases=None if expected is None else max(float(expected[i]), 0.0),
            model=self.model, time_unit=self.time_unit, horizon=self.horizon,
            stage=None if self.stage is None or self.stage[i] is None else str(self.stage[i]),
            loyalty=None if self.loyalty is None else _optional(
                min(max(float(self.loyalty[i]), 0.0), 100.0)),
        )

    def value_score(self, customer_id: CustomerId) -> ValueScore:
        """One customer's scores as a :class:`crmcore.ValueScore` (NaN becomes ``None``)."""
        return self._value_score(self._row(customer_id))

    def __iter__(self) -> Iterator[ValueScore]:
        """Every customer's :class:`crmcore.ValueScore`, in order."""
        return (self._value_score(i) for i in range(len(self)))

    def columns(self) -> dict[str, NDArray[Any]]:
        """Every per-customer column by name, as :meth:`to_frame` lays them out."""
        d = self.drivers
        cols: dict[str, NDArray[Any]] = {
            "customer_id": self.customer_id,
            "historical_value": self.historical_value,
            "current_value": self.current_value,
            "potential_value": self.potential_value,
            "potential_reason": self.potential_reason,
            "clv": self.clv,
            "p_alive": self.p_alive,
        }
        if self.churn_risk is not None:
            cols["churn_risk"] = self.churn_risk
        if self.expected_purchases is not None:
            cols["expected_purchases"] = self.expected_purchases
        cols.update({
            "expected_spend": self.expected_spend,
            "initial_margin": d.initial_margin,
            "purchase_rate": d.purchase_rate,
            "tenure": d.tenure,
            "cross_buying": d.cross_buying,
            "referral": d.referral,
        })
        if self.stage is not None:
            cols["stage"] = self.stage
        if self.loyalty is not None:
            cols["loyalty"] = self.loyalty
        return cols

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The scores as a data frame of ``backend`` (``"pandas"``, ``"polars"`` or
        ``"pyarrow"``), one row per customer."""
        from crmcore._frames import _frame

        return _frame(self.columns(), backend)

    def summary(self) -> ScoresSummary:
        """Totals and averages over all customers."""
        estimated = ~np.isnan(self.potential_value)
        current = self.current_value
        total_current = float(np.sum(current))
        top: float | None = None
        if total_current > 0:
            n = len(current)
            k = max(1, math.ceil(0.2 * n - 1e-9))
            top = float(np.sum(np.partition(current, n - k)[n - k:])) / total_current
        stage_counts: dict[str, int] | None = None
        if self.stage is not None:
            names, counts = np.unique(self.stage.astype(str), return_counts=True)
            stage_counts = {str(k): int(v) for k, v in zip(names, counts, strict=True)}
        mean_loyalty = None
        if self.loyalty is not None and not np.isnan(self.loyalty).all():
            mean_loyalty = float(np.nanmean(self.loyalty))
        return ScoresSummary(
            n_customers=len(self),
            total_historical_value=None if np.isnan(self.historical_value).all()
            else float(np.sum(self.historical_value)),
            total_current_value=total_current,
            total_potential_value=float(np.sum(self.potential_value[estimated]))
            if estimated.any() else None,
            n_potential_estimated=int(estimated.sum()),
            mean_p_alive=float(np.mean(self.p_alive)),
            total_expected_purchases=None if self.expected_purchases is None
            else float(np.sum(self.expected_purchases)),
            top_fifth_current_share=top,
            stage_counts=stage_counts,
            mean_loyalty=mean_loyalty,
            model=self.model, time_unit=self.time_unit, horizon=self.horizon,
        )


# -- model lookup -----------------------------------------------------------------------------


def _is_fitted(model: object) -> bool:
    # crmcore's likelihood models raise NotFittedError (an AttributeError) from params_ until
    # fitted; so does any model following the scikit-learn convention of trailing underscores.
    return hasattr(model, "params_")


# What score() asks of each kind of model (besides fit(base) when it is not fitted): the
# members of crmcore.protocols.ValueModel / SpendModel it calls.
_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "value": ("ValueModel", ("expected_purchases", "p_alive")),
    "spend": ("SpendModel", ("expected_spend",)),
    "value/time-varying": ("TimeVaryingValueModel", ("expected_purchases", "p_alive")),
}
_EXAMPLES = {"value": " such as bgnbd or pareto-nbd", "spend": " such as gamma-gamma"}


def _time_varying(model: object) -> bool:
    """Whether a value model's predictions need the covariate paths (it declares
    ``time_varying_covariates = True``: crmcore.protocols.TimeVaryingValueModel)."""
    from crmcore.protocols import TimeVaryingValueModel, value_protocol

    return value_protocol(model) is TimeVaryingValueModel


def _require(kind: Literal["value", "spend"], model: object, given: object) -> None:
    """Refuse a model that lacks what score() calls, naming the argument and the protocol."""
    protocol, needs = _NEEDS[kind]
    if kind == "value" and _time_varying(model):
        protocol, needs = _NEEDS["value/time-varying"]
    missing = [m for m in needs if not callable(getattr(model, m, None))]
    if missing:
        label = (f"{kind}_model={given!r}" if given is None or isinstance(given, str)
                 else f"{kind}_model={type(given).__name__}")
        # e.g. "markov" (MarkovCLV) values recency states and has no P(alive), and "sbg" is a
        # contractual retention model of one cohort: neither predicts per customer
        raise InvalidValueError(
            f"{label} ({type(model).__name__}) cannot be used by score(): it does not follow "
            f"crmcore.protocols.{protocol} (it has no {', '.join(missing)}); score() needs a "
            f"{kind} model that predicts per customer from (frequency, recency, T)"
            f"{_EXAMPLES.get(kind, '')}",
            field=f"{kind}_model",
        )


def _model(kind: Literal["value", "spend"], given: object, base: CustomerBase,
           manager: pluggy.PluginManager, **fit_kwargs: Any) -> Any:
    """The model, fitted on ``base`` unless it is fitted already."""
    from crmcore._registry import get_model

    model = get_model(kind, given, plugin_manager=manager) if given is None or isinstance(
        given, str) else given
    _require(kind, model, given)
    if kind == "value":
        fit_kwargs = _covariate_keywords(model, given, **fit_kwargs)
    if _is_fitted(model):
        return model
    fit = getattr(model, "fit", None)
    if not callable(fit):
        raise PluginError(f"{kind} model {type(model).__name__} has no fit(base) method and is "
                          "not fitted", plugin=type(model).__name__)
    try:
        fit(base, **fit_kwargs)
    except ConvergenceError as exc:
        if kind == "value" and fit_kwargs.get("covariates") is not None:
            exc.add_note(_COVARIATE_FIT_ADVICE)
        raise
    return model


def _covariate_keywords(model: object, given: object, *, covariates: object = None,
                        customer_id: str | None = None, datetime: str | None = None
                        ) -> dict[str, Any]:
    """The covariate keywords ``model`` is fitted and asked with, after checking that they
    suit it: a time-varying model needs ``covariates`` and ``datetime`` (the period-start
    column); a static one takes one row per customer, no ``datetime`` and no date column."""
    label = (f"value_model={given!r}" if given is None or isinstance(given, str)
             else f"value_model={type(model).__name__}")
    if _time_varying(model):
        if covariates is None:
            raise InvalidValueError(
                f"{label} has time-varying covariates: pass covariates= (one row per customer "
                "and period), customer_id= and datetime=", field="covariates")
        if datetime is None:
            raise InvalidValueError(
                f"{label} has time-varying covariates: pass datetime=, the column of "
                "covariates holding each period's start date", field="datetime")
        return {"covariates": covariates, "customer_id": customer_id, "datetime": datetime}
    if datetime is not None:
        raise InvalidValueError(
            f"datetime={datetime!r} names the period-start column of time-varying covariates, "
            + (f"but {label} takes static covariates (one row per customer); use "
               "value_model='pareto-nbd-dynamic' for covariates that change over time"
               if covariates is not None else "but no covariates= were given"),
            field="datetime")
    if covariates is None:
        return {}
    dated = _date_columns(covariates)
    if dated:
        raise InvalidValueError(
            f"the covariates hold dates in {', '.join(map(repr, dated))}: covariates that "
            f"change over time need a time-varying model (value_model='pareto-nbd-dynamic', "
            f"datetime={dated[0]!r}); {label} takes one row of static covariates per customer",
            field="covariates")
    return {"covariates": covariates, "customer_id": customer_id}


def _date_columns(frame: object) -> list[str]:
    """The columns of a covariate frame that hold dates or timestamps."""
    import narwhals.stable.v1 as nw

    try:
        data: Any = nw.from_native(frame)
    except TypeError:
        return []  # not a frame: the model's own reader names the problem
    schema = data.collect_schema() if hasattr(data, "collect_schema") else data.schema
    return [name for name, dtype in schema.items() if dtype in (nw.Date, nw.Datetime)
            or isinstance(dtype, nw.Datetime)]


#: What to do when ``score`` cannot fit the value model with every covariate on both processes.
_COVARIATE_FIT_ADVICE = (
    "crmcore.score fits the value model with every covariate column on both processes; "
    "choose another model (value_model=\"pareto-nbd\"), or fit it yourself with fewer "
    "covariates (life=, trans=) or an L2 penalty (reg_lambdas=) and pass it fitted as "
    "value_model=")


def _potential(estimator: object, base: CustomerBase, margins: _FloatArray,
               inputs: PotentialInputs) -> PotentialValue:
    """The potential-value model's ``score``; a model with only the former ``estimate``
    still works, with a DeprecationWarning, until the next release."""
    produce = getattr(estimator, "score", None)
    if not callable(produce):
        produce = getattr(estimator, "estimate", None)
        name = type(estimator).__name__
        if not callable(produce):
            raise PluginError(f"potential model {name} has no score(base, margin=, inputs=) "
                              "method (crmcore.protocols.PotentialValueModel)", plugin=name)
        warn_deprecated(f"potential model {name} offers estimate() but not score(); rename it "
                        "score (crmcore.protocols.PotentialValueModel): estimate stops working "
                        "in the next release", stacklevel=3)
    result: PotentialValue = produce(base, margin=margins, inputs=inputs)
    return result


def score(
    base: CustomerBase,
    *,
    margin: float | ArrayLike,
    discount_rate: float,
    time_unit: str,
    horizon: float | None,
    step: float = 1.0,
    value_model: str | ValueModel | TimeVaryingValueModel | None = None,
    spend_model: str | SpendModel | float | None = None,
    potential_model: str | PotentialValueModel | None = None,
    potential_inputs: PotentialInputs | None = None,
    lifecycle_model: str | LifecycleModel | Literal[False] | None = None,
    loyalty_model: str | LoyaltyModel | Literal[False] | None = None,
    transactions: object = None,
    loyalty_inputs: Mapping[str, Any] | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
    covariates: object = None,
    customer_id: str | None = None,
    datetime: str | None = None,
) -> Scores:
    """Score every customer of ``base``: value parts, lifetime value, P(alive), stage, loyalty.

    Parameters
    ----------
    base:
        The customers. Historical value, stage and loyalty need a base built from
        transactions; for a base built from a summary they are NaN or left out, and
        ``Scores.notes`` says so.
    margin:
        Contribution margin rate (revenue minus variable cost, over revenue), one for all or
        one per customer, at most 1 (``0.3`` for 30%), used for every value part; except that
        historical value uses the margins recorded per transaction when the base has them
        (``history.margin``).
    discount_rate:
        Discount rate per ``time_unit``: past margin is compounded at it (historical value),
        future margin discounted (current value).
    time_unit:
        Unit of ``discount_rate``, ``horizon`` and ``step`` (``"D"``, ``"W"``, ``"M"``, ``"Q"``,
        ``"Y"``); converted into the base's unit exactly or refused.
    horizon:
        Length of the current-value horizon in ``time_unit``, or ``None`` for the whole
        remaining lifetime (then ``discount_rate`` must be > 0 and no expected purchases are
        reported). Required, so that the horizon is always a deliberate choice.
    step:
        Length of one cash-flow step in ``time_unit`` (finite horizons).
    value_model:
        A model name from the plugin registry (``None``: the registry's default, ``"bgnbd"``
        unless a plugin says otherwise), or a :class:`crmcore.protocols.ValueModel` object,
        fitted or not (one without ``params_`` is fitted on ``base``).
    spend_model:
        Likewise for the spend model (:class:`crmcore.protocols.SpendModel`, default
        ``"gamma-gamma"``), or a number: the spend per purchase for everyone.
    potential_model, potential_inputs:
        The potential-value model: a name from the plugin registry (``None``: the default,
        ``"wallet-referral"``, :class:`crmcore.value.WalletReferralPotential`) or a
        :class:`crmcore.protocols.PotentialValueModel` object; and what the data say about
        wallets and referrals (default: nothing, so potential value is NaN with the reason).
    lifecycle_model:
        Lifecycle model name or :class:`crmcore.protocols.LifecycleModel` object for
        :func:`crmcore.lifecycle.classify` (``None``: the default), or ``False`` to leave the
        stage out.
    loyalty_model:
        Loyalty model name or :class:`crmcore.protocols.LoyaltyModel` object, whose
        ``score(base, transactions=...)`` returns a breakdown with ``index`` or the index
        itself (``None``: the default ``"weighted-index"`` on the indicators the data allow),
        or ``False`` to leave loyalty out.
    transactions:
        The transaction log, passed to the loyalty model for the indicators it holds.
    loyalty_inputs:
        Further keyword arguments for the loyalty model's ``score`` (for the default model:
        ``responses``, ``category_spend``, ``referrals`` (口碑) ...).
    plugin_manager:
        Manager to look models up in (default: one fresh manager for the whole call).
    covariates, customer_id, datetime:
        Covariates of the customers for a value model that takes them, with the same keywords
        as the model's ``fit``; an unfitted model is fitted with them (every other column on
        both processes) and every column of the result uses each customer's own parameters:
        the lifecycle classifier gets her P(alive), and ``churn_risk`` is her probability of
        no purchase over the churn horizon.

        *Static* covariates (Pareto/NBD, BG/NBD, MBG/NBD): a frame with one row per customer
        and the id column ``customer_id``; ``datetime`` must be left out, and a frame with a
        date column is refused. An unfitted spend model whose ``fit`` takes covariates
        (Gamma-Gamma) is fitted with them too (all columns on the spend-rate scale), and
        ``expected_spend`` and the CLV use each customer's own expected spend.

        *Time-varying* covariates (a :class:`crmcore.protocols.TimeVaryingValueModel`, e.g.
        ``value_model="pareto-nbd-dynamic"``): one row per customer and period, ``datetime``
        naming the column of each period's **start** date (a row holds until the customer's
        next; required). For a finite horizon the rows must cover it and the cash-flow steps
        are discounted as for any model; for ``horizon=None`` the model's DERT holds each
        customer's last row beyond the frame (:meth:`crmcore.value.ParetoNBDDynamic.dert`).

    Returns
    -------
    Scores

    Raises
    ------
    InvalidValueError, TimeUnitError
        Bad margin, rate, horizon or units (named); covariates that do not suit the value
        model (``field`` names ``covariates`` or ``datetime``).
    DataError
        The base is empty, or time-varying covariates do not cover a customer's time to the
        end of the horizon (ids named).
    UnknownModelError, PluginError
        A model name nobody offers, or a plugin that fails.
    ConvergenceError
        A model could not be fitted, or a fitted model gave non-finite predictions (rows
        named), rather than a silent NaN.
    """
    from crmcore._registry import get_model, get_plugin_manager
    from crmcore.value._clv import lifetime_value
    from crmcore.value._parts import (
        PotentialInputs,
        clv_drivers,
        historical_value,
        margin_rates,
    )

    if len(base) == 0:
        raise DataError("the base has no customers to score", field="base")
    check_unit(time_unit, argument="time_unit")
    margins = margin_rates(margin, len(base))
    # checked before any model is fitted; lifetime_value and historical_value apply the same rule
    check_discount_rate(discount_rate, per=unit_name(time_unit), to_infinity=horizon is None)
    manager = plugin_manager if plugin_manager is not None else get_plugin_manager()
    notes: list[str] = []

    cov_kwargs: dict[str, Any] = {} if covariates is None else {
        "covariates": covariates, "customer_id": customer_id}
    purchases = _model("value", value_model, base, manager, datetime=datetime, **cov_kwargs)
    time_varying = _time_varying(purchases)
    spend: Any
    if isinstance(spend_model, int | float) and not isinstance(spend_model, bool):
        spend = float(spend_model)
    elif time_varying:
        # the frame holds periods, not one row per customer: spend models take static
        # covariates only, so the spend model is fitted without them
        spend = _spend_model(spend_model, base, manager, notes)
        notes.append("spend: fitted without covariates (the time-varying covariates describe "
                     "the purchase and dropout processes; spend models take static covariates "
                     "only)")
    else:
        spend = _spend_model(spend_model, base, manager, notes, **cov_kwargs)
    if covariates is None:
        clv = lifetime_value(purchases, spend, base, margin=margins,
                             discount_rate=discount_rate, time_unit=time_unit, horizon=horizon,
                             step=step)
    elif time_varying:
        from crmcore.value._dynamic_clv import time_varying_lifetime_value

        clv = time_varying_lifetime_value(purchases, spend, base, margin=margins,
                                          discount_rate=discount_rate, time_unit=time_unit,
                                          horizon=horizon, step=step, datetime=datetime,
                                          **cov_kwargs)
        if horizon is None:
            notes.append("lifetime value and churn_risk: beyond each customer's last row of "
                         "the time-varying covariates, her covariates are held at that row's "
                         "values (a lifetime reaches past any frame)")
    else:
        from crmcore.value._covariates import covariate_lifetime_value

        clv = covariate_lifetime_value(purchases, spend, base, margin=margins,
                                       discount_rate=discount_rate, time_unit=time_unit,
                                       horizon=horizon, step=step, **cov_kwargs)
    _check_finite(clv, purchases)
    _note_boundary("value", purchases, notes)
    _note_boundary("spend", getattr(spend, "model", spend), notes)
    model_names = clv.model
    if isinstance(spend, _SpendWhereItApplies):
        model_names = model_names.replace(type(spend).__name__, spend.name)
    churn, churn_horizon = _churn_risk(
        purchases, base, clv.p_alive, time_unit, horizon, notes,
        covariates=None if covariates is None else {**cov_kwargs, "datetime": datetime})
    if base.history is None:
        past = _readonly(np.full(len(base), np.nan))
        notes.append("no historical value: the base has no purchase history (built from a "
                     "summary)")
    else:
        recorded = base.history.margin is not None  # realised margins beat an assumed rate
        past = historical_value(base, margin=None if recorded else margins,
                                discount_rate=discount_rate,
                                time_unit=time_unit)

    estimator: PotentialValueModel = (
        get_model("potential", potential_model, plugin_manager=manager)
        if potential_model is None or isinstance(potential_model, str) else potential_model)
    potential = _potential(estimator, base, margins, potential_inputs or PotentialInputs())
    if len(potential.value) != len(base):
        raise PluginError(f"potential model {potential.model!r} returned "
                          f"{len(potential.value)} values for {len(base)} customers",
                          plugin=potential.model)
    drivers = clv_drivers(base, margin=margins, potential=potential)

    # with covariates P(alive) depends on more than (frequency, recency, T): the classifier
    # gets each customer's own, as computed for the lifetime value
    stage = _stage(base, lifecycle_model, purchases if covariates is None else
                   _PerCustomerPAlive(purchases, base, clv.p_alive), manager, notes)
    loyalty = _loyalty(base, loyalty_model, transactions, manager, notes,
                       dict(loyalty_inputs or {}))
    if not potential.estimated.any():
        notes.append(f"no potential value: {potential.reason[0]}")

    return Scores(
        customer_id=base.customer_id,
        historical_value=past,
        current_value=_readonly(np.asarray(clv.current_value, dtype=np.float64)),
        potential_value=potential.value,
        potential_reason=potential.reason,
        clv=_readonly(np.asarray(clv.clv, dtype=np.float64)),
        p_alive=_readonly(np.asarray(clv.p_alive, dtype=np.float64)),
        expected_purchases=None if clv.expected_purchases is None else _readonly(
            np.asarray(clv.expected_purchases, dtype=np.float64)),
        expected_spend=_readonly(np.asarray(clv.expected_spend, dtype=np.float64)),
        drivers=drivers, stage=stage, loyalty=loyalty, model=model_names,
        time_unit=time_unit, horizon=None if horizon is None else float(horizon),
        discount_rate=float(discount_rate), notes=tuple(notes),
        churn_risk=churn, churn_horizon=churn_horizon,
    )


def _note_boundary(kind: str, model: object, notes: list[str]) -> None:
    """A model fitted on the boundary of its parameter space (``boundary_``, issue 11) is
    noted with the parameters held there and what the limit means, besides its warning."""
    boundary = getattr(model, "boundary_", None)
    if not isinstance(boundary, Mapping):
        return
    pinned = ", ".join(map(str, boundary.get("pinned", ())))
    limits = "; ".join(map(str, boundary.get("limits", ())))
    notes.append(f"{kind} model {type(model).__name__} fitted on the boundary of its parameter "
                 f"space ({pinned} held at the limit, no standard error): {limits}")


# -- spend models on the customers they apply to, churn risk (issue 12) -----------------------


class _SpendWhereItApplies:
    """A fitted spend model asked only about the customers it applies to: those marked
    ``apart`` (repeat purchases but no positive mean spend) are predicted as a customer without
    repeat purchases, i.e. the population-level spend (gamma-gamma: ``p v / (q - 1)``)."""

    def __init__(self, model: Any, apart: NDArray[np.bool_]) -> None:
        self.model = model
        self.apart = apart
        self.name = type(model).__name__

    @property
    def covariates_(self) -> object:
        return getattr(self.model, "covariates_", None)

    def expected_spend(self, frequency: ArrayLike | CustomerBase,
                       monetary_value: ArrayLike | None = None,
                       **covariates: Any) -> _FloatArray:
        if isinstance(frequency, CustomerBase):  # with covariates: the base aligns them
            base = attrs.evolve(
                frequency, frequency=np.where(self.apart, 0, frequency.frequency),
                monetary_value=np.where(self.apart, 0.0, frequency.monetary_value))
            return np.asarray(self.model.expected_spend(base, **covariates), dtype=np.float64)
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        return np.asarray(self.model.expected_spend(np.where(self.apart, 0.0, x),
                                                    np.where(self.apart, 0.0, m)),
                          dtype=np.float64)


def _spend_model(given: object, base: CustomerBase, manager: pluggy.PluginManager,
                 notes: list[str], **covariates: Any) -> object:
    """The spend model, fitted on the customers it applies to. Gamma-Gamma models the mean
    of positive spends; a customer with repeat purchases whose mean spend is 0 (e.g. free
    items) is outside it. Such customers are left out of the fit and predicted at the
    population level, and ``notes`` counts them; nobody is dropped. ``covariates``
    (``covariates=``, ``customer_id=``) are passed to the fit of a model whose ``fit`` takes
    them (Gamma-Gamma: every column on the spend-rate scale)."""
    from crmcore._registry import get_model

    model = get_model("spend", given, plugin_manager=manager) if given is None or isinstance(
        given, str) else given
    _require("spend", model, given)
    with np.errstate(invalid="ignore"):
        apart = (np.asarray(base.frequency) > 0) & (np.asarray(base.monetary_value) <= 0)
    if not _is_fitted(model):
        fit = getattr(model, "fit", None)
        if not callable(fit):
            raise PluginError(f"spend model {type(model).__name__} has no fit(base) method and "
                              "is not fitted", plugin=type(model).__name__)
        takes = covariates and "covariates" in inspect.signature(fit).parameters
        fit(base.take(np.flatnonzero(~apart)) if apart.any() else base,
            **(covariates if takes else {}))
    if not apart.any():
        return model
    n_apart = int(apart.sum())
    n_fitted = int(((np.asarray(base.frequency) > 0) & ~apart).sum())
    notes.append(
        f"spend: {n_apart} customer(s) with repeat purchases but a mean spend of 0 or less "
        f"are outside {type(model).__name__} (it models positive spends); they get the "
        f"population-level spend per purchase (its prediction for a customer without repeat "
        f"purchases), and the model was fitted on the other {n_fitted} repeat buyers")
    return _SpendWhereItApplies(model, apart)


def _churn_risk(value_model: object, base: CustomerBase, p_alive: ArrayLike, time_unit: str,
                horizon: float | None, notes: list[str], *,
                covariates: Mapping[str, Any] | None = None) -> tuple[_FloatArray, float]:
    """P(no purchase in the next horizon) per customer, and the horizon in ``time_unit``.

    With ``covariates`` (the keywords the value model was fitted with): a static covariate
    model's conditional PMF at each customer's own parameters; a time-varying model's
    ``probability_of_no_purchase`` (over a lifetime horizon the covariates beyond the frame
    are held at their last value, as its DERT holds them)."""
    from crmcore._time import unit_factor
    from crmcore.lifecycle._churn import ONE_YEAR

    if horizon is None:
        span = ONE_YEAR[time_unit]
        notes.append(f"churn_risk: no purchase within one year ({span:g} {time_unit}); the "
                     "value horizon is a lifetime")
    else:
        span = float(horizon)
    in_base_unit = span * unit_factor(time_unit, base.time_unit)
    name = type(value_model).__name__
    if covariates is not None:
        no_purchase = _covariate_no_purchase(value_model, base, in_base_unit, covariates,
                                             hold_last=horizon is None)
        if no_purchase is None:
            notes.append(f"churn_risk: {name} has no conditional purchase-count distribution "
                         "with covariates, so churn_risk is 1 - p_alive")
            return _readonly(1.0 - np.asarray(p_alive, dtype=np.float64)), span
        return _readonly(model_probabilities(no_purchase, n=len(base), noun="P(no purchase)",
                                             plugin=name)), span
    pmf = getattr(value_model, "conditional_probability_of_purchases", None)
    if not callable(pmf):
        notes.append(f"churn_risk: {name} has no conditional purchase-count distribution, so "
                     "churn_risk is 1 - p_alive")
        return _readonly(1.0 - np.asarray(p_alive, dtype=np.float64)), span
    from crmcore.lifecycle._protocols import checked_p_none

    risk = checked_p_none(value_model, in_base_unit,
                          np.asarray(base.frequency, dtype=np.float64), base.recency, base.T)
    return _readonly(risk), span


def _covariate_no_purchase(value_model: object, base: CustomerBase, t: float,
                           covariates: Mapping[str, Any], *, hold_last: bool) -> object:
    """P(no purchase in ``t`` | history) per customer from a model with covariates, or
    ``None`` when the model cannot say."""
    if _time_varying(value_model):
        method = getattr(value_model, "probability_of_no_purchase", None)
        if not callable(method):
            return None
        return method(t, base, **covariates, hold_last=hold_last)
    from crmcore.value._covariates import StaticCovariates

    # a static covariate model's predictions depend on the covariates only through each
    # customer's parameters: the covariate-free model's conditional PMF at those
    if not (isinstance(value_model, StaticCovariates) and value_model.covariates_ is not None
            and callable(getattr(value_model, "conditional_probability_of_purchases", None))):
        return None
    return value_model._by_covariates("conditional_probability_of_purchases", (0, t), base,
                                      covariates["covariates"], covariates["customer_id"])


class _PerCustomerPAlive:
    """The P(alive) a covariate value model gave each customer of ``base``, as a
    :class:`crmcore.protocols.PAliveModel` for the lifecycle classifier: with covariates,
    P(alive) depends on more than ``(frequency, recency, T)``, so it answers only for the
    customers of ``base``, in its order (what ``score`` asks), and refuses anything else."""

    def __init__(self, model: object, base: CustomerBase, p_alive: ArrayLike) -> None:
        self.name = f"{type(model).__name__} with covariates"
        self.values = np.asarray(p_alive, dtype=np.float64)
        self.summary = (np.asarray(base.frequency, dtype=np.float64),
                        np.asarray(base.recency, dtype=np.float64),
                        np.asarray(base.T, dtype=np.float64))

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> _FloatArray:
        asked = tuple(np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        same = all(a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-9)
                   for a, b in zip(asked, self.summary, strict=True))
        if not same:
            raise InvalidValueError(
                f"the P(alive) of {self.name} is known for the scored base's customers only "
                "(it depends on their covariates); classify that base, as of its end",
                field="value_model")
        return self.values


def _check_finite(clv: Any, purchases: object) -> None:
    """Refuse non-finite model output rather than pass a silent NaN on."""
    columns = {"current_value": clv.clv, "p_alive": clv.p_alive,
               "expected_spend": clv.expected_spend}
    if clv.expected_purchases is not None:
        columns["expected_purchases"] = clv.expected_purchases
    for name, values in columns.items():
        bad = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=np.float64)))
        if len(bad):
            params = getattr(purchases, "params_", None)
            raise ConvergenceError(
                f"{clv.model} gave a non-finite {name} at {describe_rows(bad)}; the fitted "
                f"value model ({params!r}) may be degenerate for this base",
                diagnostics={"column": name, "rows": bad.tolist(), "params": params})


def _stage(base: CustomerBase, model: str | object | Literal[False] | None, value_model: object,
           manager: pluggy.PluginManager, notes: list[str]) -> NDArray[Any] | None:
    if model is False:
        return None
    try:
        from crmcore.lifecycle import LifecycleStage, classify
    except ImportError as exc:  # the lifecycle package is optional to this function
        notes.append(f"no lifecycle stage: crmcore.lifecycle is not available ({exc})")
        return None
    if base.history is None:
        notes.append("no lifecycle stage: the base has no purchase history")
        return None
    result = classify(base, model=model, value_model=value_model,  # type: ignore[arg-type]
                      plugin_manager=manager)
    # one lookup per stage, not per customer: code -1 (not yet acquired) picks the last slot
    table = np.empty(len(LifecycleStage) + 1, dtype=object)
    for stage in LifecycleStage:
        table[stage.order] = stage.value
    return _readonly(table[result.code])


def _loyalty(base: CustomerBase, model: str | object | Literal[False] | None,
             transactions: object, manager: pluggy.PluginManager,
             notes: list[str], inputs: dict[str, Any]) -> _FloatArray | None:
    if model is False:
        return None
    if base.freq is None:
        notes.append("no loyalty index: the base does not know its purchase period (built "
                     "from a summary)")
        return None
    from crmcore._registry import get_model

    loyalty = get_model("loyalty", model, plugin_manager=manager) if model is None or \
        isinstance(model, str) else model
    scorer = getattr(loyalty, "score", None)
    if not callable(scorer):
        raise PluginError(f"loyalty model {type(loyalty).__name__} has no score(base) method",
                          plugin=type(loyalty).__name__)
    breakdown = scorer(base, transactions=transactions, **inputs)
    index = model_output(getattr(breakdown, "index", breakdown), n=len(base),
                         what=f"loyalty model {type(loyalty).__name__}.score",
                         plugin=type(loyalty).__name__)
    return _readonly(index)
