"""``crmcore.score``: a whole customer base through the chosen models, into :class:`Scores`.

One call fits (or takes) a value model and a spend model, computes each customer's value parts
(seed 003: historical, current, potential value), lifetime value, P(alive) and expected
purchases, lays out the drivers of lifetime value and, where the lifecycle and loyalty packages
and their inputs allow, adds the lifecycle stage and the loyalty index. Models are looked up in
the plugin registry once per call (hooks are called once per batch, never per customer), and
every number is computed for all customers at once; :meth:`Scores.value_score` reads one
customer's row out of the batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from crmcore._base import CustomerBase
from crmcore._errors import (
    ConvergenceError,
    DataError,
    InvalidValueError,
    PluginError,
    describe_rows,
)
from crmcore._time import check_unit
from crmcore._types import CustomerId, ValueScore

if TYPE_CHECKING:
    import pluggy

    from crmcore.value._parts import CLVDrivers, PotentialInputs, PotentialValueModel

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
        The value parts of seed 003. ``potential_value`` is NaN where it could not be
        estimated; ``potential_reason`` says why.
    clv:
        Residual lifetime value from the value and spend models (the same number as
        ``current_value``: value already earned is ``historical_value``).
    p_alive:
        Probability that the customer is still active at the observation end.
    expected_purchases:
        Expected repeat purchases over ``horizon`` (``None`` for a lifetime horizon).
    expected_spend:
        Expected spend per purchase from the spend model.
    drivers:
        The five drivers of lifetime value of seed 003.
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
        What was left out and why (e.g. "no lifecycle stage: ...").
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
        from crmcore._base import _frame

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


def _model(kind: Literal["value", "spend"], given: object, base: CustomerBase,
           manager: pluggy.PluginManager) -> object:
    from crmcore._plugins import get_model

    model = get_model(kind, given, plugin_manager=manager) if given is None or isinstance(
        given, str) else given
    if _is_fitted(model):
        return model
    fit = getattr(model, "fit", None)
    if not callable(fit):
        raise PluginError(f"{kind} model {type(model).__name__} has no fit(base) method and is "
                          "not fitted", plugin=type(model).__name__)
    fit(base)
    return model


def score(
    base: CustomerBase,
    *,
    margin: float | ArrayLike,
    discount_rate: float,
    time_unit: str,
    horizon: float | None,
    step: float = 1.0,
    value_model: str | object | None = None,
    spend_model: str | object | float | None = None,
    potential_model: str | PotentialValueModel | None = None,
    potential_inputs: PotentialInputs | None = None,
    lifecycle_model: str | object | Literal[False] | None = None,
    loyalty_model: str | object | Literal[False] | None = None,
    transactions: object = None,
    plugin_manager: pluggy.PluginManager | None = None,
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
        unless a plugin says otherwise), or a model object, fitted or not (an unfitted one is
        fitted on ``base``).
    spend_model:
        Likewise for the spend model (default ``"gamma-gamma"``), or a number: the spend per
        purchase for everyone.
    potential_model, potential_inputs:
        The potential-value model: a name from the plugin registry (``None``: the default,
        ``"wallet-referral"``, :class:`crmcore.value.WalletReferralPotential`) or an object with
        an ``estimate`` method; and what the data say about wallets and referrals (default:
        nothing, so potential value is NaN with the reason).
    lifecycle_model:
        Lifecycle classifier name or object for :func:`crmcore.lifecycle.classify` (``None``:
        the default), or ``False`` to leave the stage out.
    loyalty_model:
        Loyalty model name or object with a ``score(base, transactions=...)`` method returning a
        breakdown with ``index`` (``None``: the default ``"weighted-index"`` on the indicators
        the data allow), or ``False`` to leave loyalty out.
    transactions:
        The transaction log, passed to the loyalty model for the indicators it holds.
    plugin_manager:
        Manager to look models up in (default: one fresh manager for the whole call).

    Returns
    -------
    Scores

    Raises
    ------
    InvalidValueError, TimeUnitError
        Bad margin, rate, horizon or units (named).
    DataError
        The base is empty.
    UnknownModelError, PluginError
        A model name nobody offers, or a plugin that fails.
    ConvergenceError
        A model could not be fitted, or a fitted model gave non-finite predictions (rows
        named), rather than a silent NaN.
    """
    from crmcore._plugins import get_model, get_plugin_manager
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
    if isinstance(discount_rate, bool) or not isinstance(discount_rate, int | float):
        raise InvalidValueError(f"discount_rate must be a number, got {discount_rate!r}",
                                field="discount_rate")
    manager = plugin_manager if plugin_manager is not None else get_plugin_manager()
    notes: list[str] = []

    purchases = _model("value", value_model, base, manager)
    spend: object
    if isinstance(spend_model, int | float) and not isinstance(spend_model, bool):
        spend = float(spend_model)
    else:
        spend = _model("spend", spend_model, base, manager)
    clv = lifetime_value(purchases, spend, base, margin=margins, discount_rate=discount_rate,
                         time_unit=time_unit, horizon=horizon, step=step)
    _check_finite(clv, purchases)
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
    potential = estimator.estimate(
        base, margin=margins, inputs=potential_inputs or PotentialInputs())
    if len(potential.value) != len(base):
        raise PluginError(f"potential model {potential.model!r} returned "
                          f"{len(potential.value)} values for {len(base)} customers",
                          plugin=potential.model)
    drivers = clv_drivers(base, margin=margins, potential=potential)

    stage = _stage(base, lifecycle_model, purchases, manager, notes)
    loyalty = _loyalty(base, loyalty_model, transactions, manager, notes)
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
        drivers=drivers, stage=stage, loyalty=loyalty, model=clv.model,
        time_unit=time_unit, horizon=None if horizon is None else float(horizon),
        discount_rate=float(discount_rate), notes=tuple(notes),
    )


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
             notes: list[str]) -> _FloatArray | None:
    if model is False:
        return None
    if base.freq is None:
        notes.append("no loyalty index: the base does not know its purchase period (built "
                     "from a summary)")
        return None
    from crmcore._plugins import get_model

    loyalty = get_model("loyalty", model, plugin_manager=manager) if model is None or \
        isinstance(model, str) else model
    scorer = getattr(loyalty, "score", None)
    if not callable(scorer):
        raise PluginError(f"loyalty model {type(loyalty).__name__} has no score(base) method",
                          plugin=type(loyalty).__name__)
    breakdown = scorer(base, transactions=transactions)
    index = np.asarray(getattr(breakdown, "index", breakdown), dtype=np.float64)
    if index.shape != (len(base),):
        raise PluginError(f"loyalty model {type(loyalty).__name__} returned {index.shape} "
                          f"values for {len(base)} customers", plugin=type(loyalty).__name__)
    return _readonly(index)
