"""Lifetime value from a value model with time-varying covariates.

A :class:`crmcore.protocols.TimeVaryingValueModel` (the Pareto/NBD with time-varying
covariates) predicts per customer of a base from her covariate paths, not from ``(frequency,
recency, T)`` alone, so :func:`crmcore.value.lifetime_value`, which predicts once per distinct
``(x, t_x, T)`` pattern, cannot call it. :func:`time_varying_lifetime_value` is the same
computation per customer: over a finite horizon the transactions expected in each cash-flow
step are discounted at the step's end, exactly as :func:`~crmcore.value.lifetime_value` does
for every other model (so ``step`` means the same and constant covariates give the static
model's numbers); to infinity it is ``margin * E[spend] * DERT`` with the model's DERT
(:meth:`crmcore.value.ParetoNBDDynamic.dert`: covariates beyond each customer's last row held
at their last value).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from crmcore._base import CustomerBase
from crmcore._checks import discount_rate as check_discount_rate
from crmcore._checks import model_output
from crmcore._errors import ModelCapabilityError, TimeUnitError
from crmcore._time import check_unit, unit_factor, unit_name
from crmcore.value._btyd import FloatArray
from crmcore.value._clv import LifetimeValue, _number, dert_rate, step_grid
from crmcore.value._parts import margin_rates

__all__ = ["time_varying_lifetime_value"]


def _per_customer(values: object, model: Any, method: str, n: int) -> FloatArray:
    name = type(model).__name__
    return model_output(values, n=n, what=f"{name}.{method}", plugin=name)


def time_varying_lifetime_value(
    purchase_model: Any,
    spend_model: Any,
    base: CustomerBase,
    *,
    covariates: object,
    customer_id: str | None,
    datetime: str | None,
    margin: float | ArrayLike,
    discount_rate: float,
    time_unit: str,
    horizon: float | None,
    step: float = 1.0,
) -> LifetimeValue:
    """Residual lifetime value per customer of ``base`` from a fitted value model with
    time-varying covariates (:class:`crmcore.protocols.TimeVaryingValueModel`).

    Parameters
    ----------
    purchase_model:
        The fitted model (e.g. :class:`crmcore.value.ParetoNBDDynamic`).
    spend_model:
        A fitted :class:`crmcore.protocols.SpendModel` or a number (spend per purchase).
    base:
        The customers, built from transactions.
    covariates, customer_id, datetime:
        The covariate frame, its id column and its period-start column, as for the model's
        ``fit``. For a finite horizon the rows must cover each customer's time to the end of
        the horizon (a :class:`crmcore.DataError` names the customers otherwise); for
        ``horizon=None`` they must cover her time to ``T``, and the last row is held beyond.
    margin, discount_rate, time_unit, horizon, step:
        As for :func:`crmcore.value.lifetime_value`: transactions expected in ``((k-1) step,
        k step]`` are discounted at ``k step`` by ``(1 + discount_rate)^-(k step)``; to
        infinity the rate is made continuous (:func:`crmcore.value.dert_rate`).

    Returns
    -------
    LifetimeValue

    Raises
    ------
    InvalidValueError, TimeUnitError
        Bad rate, horizon, step or units (named).
    ModelCapabilityError
        ``horizon=None`` and the model has no ``dert``.
    DataError
        The covariates do not cover a customer's time (ids named).
    """
    check_unit(time_unit, argument="time_unit")
    rate = check_discount_rate(discount_rate, per=unit_name(time_unit),
                               to_infinity=horizon is None)
    model_unit = getattr(purchase_model, "time_unit_", None)
    if model_unit is not None and model_unit != base.time_unit:
        raise TimeUnitError(
            f"the data are in time_unit={base.time_unit!r} but {type(purchase_model).__name__} "
            f"was fitted in {model_unit!r}; rebuild the base in {model_unit!r}")
    per_data_unit = 1.0 / unit_factor(base.time_unit, time_unit)  # data units per time_unit
    n = len(base)
    margins = margin_rates(margin, n)
    keywords = {"covariates": covariates, "customer_id": customer_id, "datetime": datetime}
    expected: FloatArray | None
    if horizon is None:
        dert = getattr(purchase_model, "dert", None)
        if not callable(dert):
            raise ModelCapabilityError(
                f"{type(purchase_model).__name__} has no discounted expected residual "
                "transactions (DERT); give a finite horizon",
                model=type(purchase_model).__name__, missing=("dert",))
        discounted = _per_customer(dert(dert_rate(rate, per_data_unit, discrete=False), base,
                                        **keywords), purchase_model, "dert", n)
        alive = _per_customer(purchase_model.p_alive(base, **keywords), purchase_model,
                              "p_alive", n)
        expected = None
    else:
        grid = step_grid(horizon, step, time_unit)
        stepped = getattr(purchase_model, "_cumulative_expected", None)
        if callable(stepped):  # one reading of the covariate frame for every step
            alive, cumulative = stepped(grid * per_data_unit, base, **keywords)
        else:
            alive = purchase_model.p_alive(base, **keywords)
            cumulative = np.stack([
                _per_customer(purchase_model.expected_purchases(g * per_data_unit, base,
                                                                **keywords),
                              purchase_model, "expected_purchases", n) for g in grid])
        alive = _per_customer(alive, purchase_model, "p_alive", n)
        increments = np.diff(np.asarray(cumulative, dtype=np.float64), axis=0, prepend=0.0)
        discounted = np.asarray(((1.0 + rate) ** -grid) @ increments, dtype=np.float64)
        expected = np.asarray(cumulative[-1], dtype=np.float64)
    if isinstance(spend_model, int | float):
        spend = np.full(n, _number(spend_model, "spend_model"))
        spend_name = f"{float(spend_model):g} per transaction"
    else:
        spend = _per_customer(spend_model.expected_spend(base.frequency, base.monetary_value),
                              spend_model, "expected_spend", n)
        spend_name = type(spend_model).__name__
    return LifetimeValue(
        customer_id=base.customer_id, clv=margins * spend * discounted, p_alive=alive,
        expected_spend=spend, discounted_purchases=discounted, expected_purchases=expected,
        time_unit=time_unit, horizon=None if horizon is None else float(horizon),
        step=float(step), discount_rate=rate,
        model=f"{type(purchase_model).__name__} with time-varying covariates + {spend_name}")
