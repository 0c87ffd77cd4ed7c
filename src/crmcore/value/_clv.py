"""Customer lifetime value from a purchase model, a spend model, a margin and a discount rate.

Non-contractual setting (:func:`lifetime_value`): a customer's residual lifetime value is

``CLV = margin * E[spend per transaction] * sum_k (E[X(t_k)] - E[X(t_{k-1})]) (1 + d)^(-t_k)``

over a finite horizon cut into steps ``t_k`` (transactions of a step are discounted at its
end, as in lifetimes' ``customer_lifetime_value``), or, to infinity,
``CLV = margin * E[spend] * DERT`` with the discounted expected residual transactions of the
purchase model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis", *JMR* 42(4); Fader, Hardie & Shang 2010 for the BG/BB). Spend is
independent of the purchase process in the gamma-gamma model, so the expectation factorises
(Fader, Hardie & Lee 2005, section "Linking RFM with CLV").

Time units are explicit: the discount rate, horizon and step are stated in ``time_unit``; the
purchase model predicts in the data's unit; the two are converted only where the conversion is
exact (days and weeks; months, quarters and years), never through an assumed "30 days a month".
To reproduce lifetimes' monthly figures on daily data, state the 30-day step yourself:
``time_unit="D", step=30, horizon=360, discount_rate=(1 + monthly) ** (1 / 30) - 1``.

Contractual setting: :func:`retention_clv` (constant retention) and :func:`sbg_clv` (the
shifted-beta-geometric, via DEL and DERL of Fader & Hardie 2010).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase, check_summary, compress_rows
from crmcore._checks import as_column, discount_rates, model_output, require_finite
from crmcore._checks import discount_rate as check_discount_rate
from crmcore._deprecation import keyword_only_options
from crmcore._domain import ValueScore
from crmcore._errors import InvalidValueError, ModelCapabilityError, TimeUnitError
from crmcore._frames import _frame
from crmcore._time import check_unit, unit_factor, unit_name
from crmcore.protocols import CohortModel, PurchaseModel, SpendModel
from crmcore.value._likelihood import LikelihoodModel
from crmcore.value._parts import margin_rates

__all__ = ["LifetimeValue", "lifetime_value", "retention_clv", "sbg_clv"]

_FloatArray = NDArray[np.float64]

MAX_STEPS = 10_000
"""Most cash-flow steps a finite horizon may be cut into (each step predicts for every
customer): ten years of days, or a century of weeks."""


@attrs.frozen(eq=False)
class LifetimeValue:
    """Per-customer lifetime values and the facts they rest on (from :func:`lifetime_value`).

    ``clv`` and ``current_value`` are the same number here: the expected discounted margin of
    the customer's *future* transactions (residual lifetime value, the course texts' 当前价值);
    margin already earned is :func:`crmcore.value.historical_value`. ``lower`` and ``upper``
    (when intervals were asked for) come from a parametric bootstrap of both models'
    parameters; they reflect estimation uncertainty only.
    """

    customer_id: NDArray[Any] | None
    clv: _FloatArray
    p_alive: _FloatArray
    expected_spend: _FloatArray
    discounted_purchases: _FloatArray
    expected_purchases: _FloatArray | None
    time_unit: str
    horizon: float | None
    step: float
    discount_rate: float
    model: str
    lower: _FloatArray | None = None
    upper: _FloatArray | None = None
    level: float | None = None
    n_draws: int = 0
    method: str | None = None

    @property
    def current_value(self) -> _FloatArray:
        """Residual lifetime value (the same as ``clv``)."""
        return self.clv

    def __len__(self) -> int:
        return len(self.clv)

    def value_scores(self) -> list[ValueScore]:
        """One :class:`crmcore.ValueScore` per customer (needs ``customer_id``)."""
        if self.customer_id is None:
            raise InvalidValueError("value_scores needs customer ids; pass customer_id= or a "
                                    "CustomerBase to lifetime_value", field="customer_id")
        expected = self.expected_purchases
        return [
            ValueScore(
                customer_id=cid.item() if isinstance(cid, np.generic) else cid,
                current_value=float(value), clv=float(value),
                p_alive=float(min(max(alive, 0.0), 1.0)),
                expected_purchases=None if expected is None else float(expected[i]),
                model=self.model, time_unit=self.time_unit, horizon=self.horizon,
            )
            for i, (cid, value, alive) in enumerate(
                zip(self.customer_id, self.clv, self.p_alive, strict=True))
        ]

    def to_frame(self, backend: str = "pandas") -> Any:
        """The results as a data frame (``"pandas"``, ``"polars"`` or ``"pyarrow"``)."""
        columns: dict[str, NDArray[Any]] = {}
        if self.customer_id is not None:
            columns["customer_id"] = np.asarray(self.customer_id)
        columns.update(clv=self.clv, p_alive=self.p_alive, expected_spend=self.expected_spend,
                       discounted_purchases=self.discounted_purchases)
        if self.expected_purchases is not None:
            columns["expected_purchases"] = self.expected_purchases
        if self.lower is not None and self.upper is not None:
            columns.update(lower=self.lower, upper=self.upper)
        return _frame(columns, backend)  # type: ignore[arg-type]


def _data(data: CustomerBase | Sequence[ArrayLike], customer_id: ArrayLike | None,
          discrete: bool) -> tuple[tuple[_FloatArray, ...], _FloatArray | None, NDArray[Any] | None,
                                   str | None]:
    """``((frequency, recency, T), monetary_value, customer_id, data unit)``."""
    if isinstance(data, CustomerBase):
        base_ids = data.customer_id if customer_id is None else np.asarray(customer_id)
        return ((data.frequency.astype(np.float64), data.recency, data.T), data.monetary_value,
                base_ids, data.time_unit)
    columns = list(data)
    if len(columns) not in (3, 4):
        raise InvalidValueError(
            "data must be a CustomerBase or (frequency, recency, T[, monetary_value]) arrays; "
            f"got {len(columns)} columns", field="data")
    money = None if len(columns) == 3 else columns[3]
    m: _FloatArray | None
    if discrete:
        from crmcore.value._bgbb import check_discrete

        f, r, t = check_discrete(*columns[:3])
        m = None if money is None else check_summary(f, np.zeros_like(f), np.ones_like(f),
                                                     money)[3]
    else:
        f, r, t, m_checked = check_summary(columns[0], columns[1], columns[2], money)
        m = None if money is None else m_checked
    ids = None if customer_id is None else np.asarray(customer_id)
    if ids is not None and len(ids) != len(f):
        raise InvalidValueError(f"customer_id has {len(ids)} values, expected {len(f)}",
                                field="customer_id")
    return (f, r, t), m, ids, None


def _number(value: float, name: str, *, positive: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{name} must be a number, got {value!r}", field=name) from exc
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise InvalidValueError(
            f"{name} must be finite and {'> 0' if positive else '>= 0'}, got {value!r}",
            field=name)
    return number


def _name(model: Any) -> str:
    return type(model).__name__


def _output(values: object, model: Any, method: str, n: int) -> _FloatArray:
    """A model's answer as ``n`` floats, or a PluginError naming the model (its plugin, as far
    as this function knows; ``crmcore.score`` names the registry's plugin)."""
    return model_output(values, n=n, what=f"{_name(model)}.{method}", plugin=_name(model))


def step_grid(horizon: float, step: float, time_unit: str) -> _FloatArray:
    """The ends of the cash-flow steps over ``(0, horizon]``: ``step, 2 step, ...``, the last
    one cut at ``horizon`` (checked: both positive, at most ``MAX_STEPS`` steps)."""
    span = _number(horizon, "horizon", positive=True)
    width = _number(step, "step", positive=True)
    count = math.ceil(span / width - 1e-9)
    if count > MAX_STEPS:
        raise InvalidValueError(
            f"horizon={horizon!r} in steps of {step!r} {time_unit} makes {count:,} steps, "
            f"more than {MAX_STEPS:,}; give a longer step", field="step")
    return np.asarray(np.minimum(np.arange(1, count + 1) * width, span), dtype=np.float64)


def lifetime_value(
    purchase_model: PurchaseModel,
    spend_model: SpendModel | float | NDArray[np.float64] | Sequence[float],
    data: CustomerBase | Sequence[ArrayLike],
    *,
    margin: float | ArrayLike,
    discount_rate: float,
    time_unit: str,
    horizon: float | None = None,
    step: float = 1.0,
    data_time_unit: str | None = None,
    customer_id: ArrayLike | None = None,
    level: float | None = None,
    n_draws: int = 200,
    seed: int | np.random.Generator | None = None,
) -> LifetimeValue:
    """Residual customer lifetime value from a fitted purchase model and a spend model.

    Parameters
    ----------
    purchase_model:
        A fitted :class:`crmcore.protocols.PurchaseModel`, with
        ``expected_purchases(t, frequency, recency, T)`` and ``p_alive(frequency, recency, T)``
        (BG/NBD, Pareto/NBD, BG/BB, the lifetimes-backed ones, a firm's own, ...). For
        ``horizon=None`` it also needs ``dert`` (:class:`crmcore.protocols.SupportsDERT`).
    spend_model:
        A fitted :class:`crmcore.protocols.SpendModel`, with
        ``expected_spend(frequency, monetary_value)`` (gamma-gamma), or a number: the spend
        per transaction for everyone, or an array: each customer's expected spend per
        transaction, aligned with ``data``. The array is how a spend model fitted with
        covariates enters (``spend_model=gg.expected_spend(base, covariates=frame,
        customer_id="Id")``; :func:`crmcore.score` does this itself). Numbers and arrays are
        held fixed in the bootstrap of ``level``.
    data:
        A :class:`crmcore.CustomerBase`, or ``(frequency, recency, T, monetary_value)``
        arrays in the purchase model's time unit (``monetary_value`` may be left out when
        ``spend_model`` is a number).
    margin:
        Contribution margin as a share of spend (revenue minus variable cost over revenue),
        one number or one per customer, at most 1 (``0.3`` for 30%; negative for a loss).
    discount_rate:
        Discount rate per ``time_unit`` (compounded: a cash flow ``t`` units ahead is worth
        ``(1 + discount_rate)^-t`` today).
    time_unit:
        Unit of ``discount_rate``, ``horizon`` and ``step``: ``"D"``, ``"W"``, ``"M"``,
        ``"Q"`` or ``"Y"``. It is converted into the data's unit exactly (days <-> weeks,
        months <-> quarters <-> years) or refused with :class:`crmcore.TimeUnitError`.
    horizon:
        Length of the horizon in ``time_unit``; ``None`` sums to infinity through the
        purchase model's DERT.
    step:
        Length of one cash-flow step in ``time_unit`` (finite horizon): transactions expected
        in ``((k-1) step, k step]`` are discounted at ``k step``; a last partial step ends at
        ``horizon``.
    data_time_unit:
        Unit of ``recency`` and ``T`` when ``data`` are bare arrays and the purchase model does
        not know its own unit (``time_unit_``).
    customer_id:
        Ids for the rows (default: the base's).
    level, n_draws, seed:
        With ``level`` (e.g. ``0.9``), also a ``level`` prediction interval by parametric
        bootstrap: ``n_draws`` parameter vectors are drawn for each model from the asymptotic
        normal distribution of its log-parameters (inverse observed information), and the
        interval is the quantiles of the CLV over the draws. Both models must be crmcore
        likelihood models fitted with ``fit`` (a number as spend model is held fixed).

    Returns
    -------
    LifetimeValue
        ``clv`` (= ``current_value``), ``p_alive``, ``expected_spend``,
        ``discounted_purchases`` and (finite horizon) undiscounted ``expected_purchases``.

    Raises
    ------
    TimeUnitError
        Unknown units, units with no exact conversion, or a base and a model in different
        units.
    InvalidValueError
        A negative or non-finite rate, horizon or step; a step that is not a whole number of
        periods for a discrete-time model; bad data.
    ModelCapabilityError
        ``horizon=None`` with a purchase model that has no DERT, or intervals asked of models
        without a parameter covariance.
    """
    discrete = bool(getattr(purchase_model, "discrete", False))
    (f, r, t_obs), money, ids, base_unit = _data(data, customer_id, discrete)
    check_unit(time_unit, argument="time_unit")
    rate = check_discount_rate(discount_rate, per=unit_name(time_unit),
                               to_infinity=horizon is None)
    model_unit = getattr(purchase_model, "time_unit_", None)
    if base_unit is not None and model_unit is not None and base_unit != model_unit:
        raise TimeUnitError(
            f"the data are in time_unit={base_unit!r} but {_name(purchase_model)} was fitted "
            f"in {model_unit!r}; rebuild the base in {model_unit!r}")
    unit = base_unit or model_unit or data_time_unit
    if unit is None:
        raise TimeUnitError(
            "the data's time unit is unknown: pass data_time_unit= (the unit of recency and T) "
            "or a CustomerBase")
    per_data_unit = 1.0 / unit_factor(unit, time_unit)  # data units in one time_unit
    margins = margin_rates(margin, len(f))

    if horizon is None:
        if not hasattr(purchase_model, "dert"):
            raise ModelCapabilityError(
                f"{_name(purchase_model)} has no discounted expected residual transactions "
                "(DERT); give a finite horizon", model=_name(purchase_model), missing=("dert",))
        grid: _FloatArray | None = None
    else:
        grid = step_grid(horizon, step, time_unit)
        if discrete:
            periods = grid * per_data_unit
            if np.any(np.abs(periods - np.round(periods)) > 1e-9):
                raise InvalidValueError(
                    f"{_name(purchase_model)} counts whole periods of {unit!r}; step and "
                    f"horizon must be whole numbers of them", field="step")

    # Purchase models see a customer only through (frequency, recency, T): predict once per
    # distinct pattern and spread the results back over the customers.
    # A model with one parameter vector per customer (static covariates) is not compressed.
    if getattr(purchase_model, "_row_params", None) is not None:
        pf, pr, pt, pattern_of = f, r, t_obs, np.arange(len(f))
    else:
        (pf, pr, pt), _, pattern_of = compress_rows(f, r, t_obs)

    pattern_alive: dict[int, _FloatArray] = {}

    def alive_of(model: Any) -> _FloatArray:
        if id(model) not in pattern_alive:
            pattern_alive.clear()  # one model at a time (the bootstrap makes many)
            pattern_alive[id(model)] = _output(model.p_alive(pf, pr, pt), model, "p_alive",
                                               len(pf))
        return pattern_alive[id(model)]

    def purchases(model: Any) -> tuple[_FloatArray, _FloatArray | None]:
        if grid is not None and callable(getattr(model, "_expected_given_alive", None)):
            return _stepped_given_alive(model, grid * per_data_unit, (1.0 + rate) ** -grid,
                                        pf, pt, alive_of(model), pattern_of)
        if grid is None:
            dert = model.dert(dert_rate(rate, per_data_unit, discrete=discrete), pf, pr, pt)
            return _output(dert, model, "dert", len(pf))[pattern_of], None
        cumulative = np.stack([
            _output(model.expected_purchases(g * per_data_unit, pf, pr, pt), model,
                    "expected_purchases", len(pf)) for g in grid])
        increments = np.diff(cumulative, axis=0, prepend=0.0)
        discount = (1.0 + rate) ** -grid
        return (discount @ increments)[pattern_of], cumulative[-1][pattern_of]

    given_spend = _given_spend(spend_model, len(f))

    def spend(model: Any) -> _FloatArray:
        if given_spend is not None:
            return given_spend
        if money is None:
            raise InvalidValueError("the spend model needs monetary_value; pass it with the "
                                    "data", field="monetary_value")
        return _output(model.expected_spend(f, money), model, "expected_spend", len(f))

    discounted, expected = purchases(purchase_model)
    spend_values = spend(spend_model)
    clv = margins * spend_values * discounted
    alive = alive_of(purchase_model)[pattern_of]

    lower = upper = None
    if level is not None:
        lower, upper = _bootstrap(purchase_model, spend_model, purchases, spend, margins,
                                  level, n_draws, seed)
    spend_name = (f"{float(spend_model):g} per transaction"
                  if isinstance(spend_model, int | float)
                  else "given spend per transaction" if given_spend is not None
                  else _name(spend_model))
    return LifetimeValue(
        customer_id=ids, clv=clv, p_alive=alive, expected_spend=spend_values,
        discounted_purchases=discounted, expected_purchases=expected, time_unit=time_unit,
        horizon=None if horizon is None else float(horizon), step=float(step),
        discount_rate=rate, model=f"{_name(purchase_model)} + {spend_name}", lower=lower,
        upper=upper, level=level, n_draws=n_draws if level is not None else 0,
        method="parametric bootstrap" if level is not None else None,
    )


def _given_spend(spend_model: object, n: int) -> _FloatArray | None:
    """The spend per transaction of each of ``n`` customers when ``spend_model`` is a number
    or an array of them (``None``: a model, asked later)."""
    if isinstance(spend_model, bool):
        raise InvalidValueError("spend_model must be a spend model, a number or an array of "
                                "numbers, not a bool", field="spend_model")
    if isinstance(spend_model, int | float):
        return np.full(n, _number(spend_model, "spend_model"))
    if isinstance(spend_model, np.ndarray | list | tuple):
        values = as_column(spend_model, "spend_model", n=n, scalar=False)
        require_finite(values, "spend_model")
        return values
    if getattr(spend_model, "covariates_", None) is not None:
        raise InvalidValueError(
            f"{_name(spend_model)} was fitted with covariates: pass each customer's expected "
            "spend, spend_model=model.expected_spend(base, covariates=frame, customer_id=...), "
            "or use crmcore.score(..., covariates=frame)", field="spend_model")
    return None


def dert_rate(discount_rate: float, per_data_unit: float, *, discrete: bool) -> float:
    """The rate a model's ``dert`` takes, from a ``discount_rate`` compounded per ``time_unit``
    holding ``per_data_unit`` units of the data's time: the one place this conversion is made.

    A continuous-time model (BG/NBD, Pareto/NBD) integrates ``e^(-delta t)`` over the data's
    time and takes the continuously compounded ``delta = log(1 + discount_rate) /
    per_data_unit`` (its ``continuous_rate``); a ``discrete`` model (BG/BB) sums over purchase
    opportunities and takes the rate compounded per opportunity, ``(1 + discount_rate)^(1 /
    per_data_unit) - 1``, which is again a compounded ``discount_rate``, per the model's own
    period.
    """
    if discrete:
        return float((1.0 + discount_rate) ** (1.0 / per_data_unit) - 1.0)
    return math.log1p(discount_rate) / per_data_unit


def _stepped_given_alive(model: Any, times: _FloatArray, discount: _FloatArray,
                         pf: _FloatArray, pt: _FloatArray, alive: _FloatArray,
                         pattern_of: NDArray[np.int64]) -> tuple[_FloatArray, _FloatArray]:
    """Discounted and cumulative expected purchases over the step ``times`` for a model whose
    conditional expectation factorises as ``E[Y(t) | x, t_x, T] = P(alive | x, t_x, T)
    E[Y(t) | alive, x, T]`` (BG/NBD, MBG/NBD, Pareto/NBD: given alive at ``T`` the future
    depends on ``(x, T)`` alone). The special functions are evaluated once per step and
    distinct ``(x, T)`` pair, not per ``(x, t_x, T)`` pattern, and P(alive) once per pattern.
    A model opts in by defining ``_expected_given_alive(t, x, T)``; one whose future given
    alive depends on ``t_x`` as well (BG/CNBD-k: the Erlang phases since the last purchase)
    does not.
    """
    if getattr(model, "_row_params", None) is not None:  # per-customer parameters
        ux, ut, pair_of = pf, pt, np.arange(len(pf))
    else:
        (ux, ut), _, pair_of = compress_rows(pf, pt)
    cumulative = np.empty((len(times), len(ux)))
    for k, horizon in enumerate(times):
        cumulative[k] = model._expected_given_alive(np.full_like(ux, horizon), ux, ut)
    increments = np.diff(cumulative, axis=0, prepend=0.0)
    per_pattern = alive[pattern_of]
    discounted = (discount @ increments)[pair_of][pattern_of] * per_pattern
    expected = cumulative[-1][pair_of][pattern_of] * per_pattern
    return discounted, expected


def _bootstrap(purchase_model: Any, spend_model: Any, purchases: Any, spend: Any,
               margins: _FloatArray, level: float, n_draws: int,
               seed: int | np.random.Generator | None) -> tuple[_FloatArray, _FloatArray]:
    """Quantiles of the CLV over joint draws of both models' parameters."""
    if not 0 < level < 1:
        raise InvalidValueError(f"level must be in (0, 1), got {level!r}", field="level")
    if n_draws < 2:
        raise InvalidValueError(f"n_draws must be at least 2, got {n_draws}", field="n_draws")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    fixed = isinstance(spend_model, int | float | np.ndarray | list | tuple)
    models = [purchase_model] + ([] if fixed else [spend_model])
    for model in models:
        if not isinstance(model, LikelihoodModel):
            raise ModelCapabilityError(f"prediction intervals need crmcore likelihood models; "
                                       f"{_name(model)} has no parameter covariance",
                                       model=_name(model), missing=("covariance_",))
    p_draws = purchase_model._draw_params(n_draws, rng)
    s_draws = None if fixed else spend_model._draw_params(n_draws, rng)
    values = np.empty((n_draws, len(margins)))
    for i in range(n_draws):
        p_model = purchase_model._with_params(p_draws[i])
        s_model = spend_model if s_draws is None else spend_model._with_params(s_draws[i])
        values[i] = margins * spend(s_model) * purchases(p_model)[0]
    lower, upper = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return np.asarray(lower), np.asarray(upper)


@keyword_only_options(1)
def retention_clv(margin: ArrayLike, *, retention_rate: ArrayLike, discount_rate: ArrayLike,
                  include_current: bool = True) -> _FloatArray:
    """Lifetime value with a constant retention rate ``r``, margin ``m`` per period and
    discount rate ``d`` per period: ``m (1 + d) / (1 + d - r)`` when the current period's
    margin is received now (``include_current=True``), else the residual ``m r / (1 + d - r)``
    (e.g. Gupta & Lehmann 2003, "Customers as Assets", *J. Interactive Marketing* 17(1); Fader
    & Hardie 2010 show why a single ``r`` undervalues a heterogeneous base: use
    :func:`sbg_clv`).

    ``retention_rate`` and ``discount_rate`` are keyword-only (by position they still work,
    with a :class:`DeprecationWarning`, until the next release).
    """
    m, r = (np.asarray(v, dtype=np.float64) for v in (margin, retention_rate))
    d = discount_rates(discount_rate, per="period")
    for name, values in (("margin", m), ("retention_rate", r)):
        if not np.all(np.isfinite(values)):
            raise InvalidValueError(f"{name} must be finite", field=name)
    if np.any((r < 0) | (r > 1)):
        raise InvalidValueError("retention_rate must be in [0, 1]", field="retention_rate")
    if np.any((d == 0) & (r == 1)):  # kept for ever and not discounted: no finite sum
        raise InvalidValueError("discount_rate must be > 0 when retention is 1",
                                field="discount_rate")
    out: _FloatArray = np.atleast_1d(
        m * ((1.0 + d) if include_current else r) / (1.0 + d - r))
    return out


def sbg_clv(model: CohortModel, *, margin: ArrayLike, discount_rate: float,
            renewals: ArrayLike | None = None) -> _FloatArray:
    """Contractual lifetime value under the shifted-beta-geometric model (Fader & Hardie
    2010, "Customer-Base Valuation in a Contractual Setting", *Marketing Science* 29(1)).

    With ``renewals=None``: a new customer's expected CLV, ``m * DEL(d)`` , the first
    payment received now. With ``renewals`` (one number or one per customer): the residual
    value of customers who have made that many renewals and are about to decide on the next,
    ``m * DERL(d | renewals)`` , the next payment undiscounted.
    """
    m = np.asarray(margin, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        raise InvalidValueError("margin must be finite", field="margin")
    discount_rates(discount_rate, per="period")  # the rule, whatever cohort model follows
    if renewals is None:
        out: _FloatArray = m * model.discounted_expected_lifetime(discount_rate)
        return out
    residual: _FloatArray = m * model.derl(discount_rate, renewals)
    return residual
