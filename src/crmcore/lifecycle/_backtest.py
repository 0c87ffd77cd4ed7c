"""Backtest of lifecycle stages and churn risk: calibrate, then look at the holdout.

A stage is a claim about the future of a relationship: a customer in formation or stability keeps
buying, one in decline buys less, a terminated one does not come back. A churn risk claims who
will not buy. :func:`backtest` checks both claims the only way they can be checked: it
classifies a calibration base (a :class:`crmcore.CalibrationHoldout` split) and reports, per
stage and per rule, how many of its customers bought again in the holdout, how often and for how
much, and how well the churn risk ranks the customers who did not buy (ROC AUC, lift).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
import pluggy
from numpy.typing import NDArray

from crmcore._base import CalibrationHoldout
from crmcore._errors import DataError, InvalidValueError
from crmcore._frames import FrameBackend, _frame
from crmcore._outcomes import group_means, holdout_outcomes, lift, plot_returned, roc_auc
from crmcore.lifecycle._churn import ChurnMeasure, ChurnRisk, churn_risk
from crmcore.lifecycle._classify import classify
from crmcore.lifecycle._protocols import PAliveModel, model_name
from crmcore.lifecycle._rules import RULES
from crmcore.lifecycle._stage_result import StageResult
from crmcore.lifecycle._stages import STAGES
from crmcore.protocols import LifecycleModel

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["OutcomeTable", "StageBacktest", "backtest", "lift", "roc_auc"]

_FloatArray = NDArray[np.float64]


@attrs.frozen(eq=False)
class OutcomeTable:
    """What each group of customers did in the holdout.

    Attributes
    ----------
    label:
        The groups (stage values, or rule names).
    stage:
        The stage each group stands for (``label`` itself for stages; the rule's stage for
        rules).
    customers:
        Customers per group.
    returned:
        Share of the group who bought again in the holdout (NaN for an empty group).
    mean_purchases:
        Mean purchase periods per customer in the holdout.
    mean_spend:
        Mean spend per customer in the holdout (NaN when the base records no spend).
    """

    label: NDArray[Any]
    stage: NDArray[Any]
    customers: NDArray[np.int64]
    returned: _FloatArray
    mean_purchases: _FloatArray
    mean_spend: _FloatArray

    def columns(self, name: str) -> dict[str, NDArray[Any]]:
        """The table's columns, the group column called ``name``."""
        columns: dict[str, NDArray[Any]] = {name: self.label}
        if name != "stage":
            columns["stage"] = self.stage
        columns.update(customers=self.customers, returned=self.returned,
                       mean_purchases=self.mean_purchases, mean_spend=self.mean_spend)
        return columns


def _table(group: NDArray[np.int64], n_groups: int, labels: NDArray[Any], stage: NDArray[Any],
           bought: NDArray[np.bool_], purchases: _FloatArray, spend: _FloatArray,
           keep_empty: bool) -> OutcomeTable:
    customers, means = group_means(group, n_groups, returned=bought, purchases=purchases,
                                   spend=spend)
    rows = np.arange(n_groups) if keep_empty else np.flatnonzero(customers > 0)
    return OutcomeTable(label=labels[rows], stage=stage[rows], customers=customers[rows],
                        returned=means["returned"][rows],
                        mean_purchases=means["purchases"][rows],
                        mean_spend=means["spend"][rows])


@attrs.frozen(eq=False)
class StageBacktest:
    """Lifecycle stages and churn risk set against what customers did in the holdout.

    Attributes
    ----------
    stages:
        Per stage (all five, in lifecycle order): customers, share who bought again, mean
        holdout purchases and spend.
    rules:
        The same per rule that decided (rules that decided for nobody are left out).
    customers, returned, mean_purchases, mean_spend:
        The same over the whole calibration base (the base rate a stage is compared with).
    roc_auc:
        How well the churn risk ranks the customers who did not buy in the holdout (0.5: no
        better than chance; ``None`` when everyone or no one bought).
    lift_decile, lift_quintile:
        Share of non-buyers among the 10% (20%) of customers with the highest churn risk,
        over the share among all (``None`` as for ``roc_auc``).
    churn_source, churn_horizon:
        The churn measure (:attr:`crmcore.lifecycle.ChurnRisk.source`) and its horizon in
        ``time_unit`` (``None`` unless the measure has one).
    holdout, time_unit:
        Length of the holdout and its unit.
    classifier, value_model:
        Names of the classifier and value model used.
    stage_result, churn:
        The stages and churn risk that were backtested, aligned with the calibration base.
    """

    stages: OutcomeTable
    rules: OutcomeTable
    customers: int
    returned: float
    mean_purchases: float
    mean_spend: float
    roc_auc: float | None
    lift_decile: float | None
    lift_quintile: float | None
    churn_source: str
    churn_horizon: float | None
    holdout: float
    time_unit: str
    classifier: str
    value_model: str | None
    stage_result: StageResult
    churn: ChurnRisk

    def returned_by_stage(self) -> dict[str, float]:
        """Share who bought again, by stage value (``"exploration"`` ...)."""
        return {str(k): float(v) for k, v in zip(self.stages.label, self.stages.returned,
                                                  strict=True)}

    def to_frame(self, backend: FrameBackend = "pandas", *,
                 by: Literal["stage", "rule", "churn"] = "stage") -> Any:
        """The backtest as a data frame of ``backend``: one row per stage (``by="stage"``),
        per rule (``"rule"``), or the churn measure's ROC AUC and lifts (``"churn"``). The
        stage and rule tables end with an ``"all customers"`` row."""
        if by == "churn":
            return _frame({
                "measure": np.array([self.churn_source], dtype=object),
                "horizon": np.array([np.nan if self.churn_horizon is None
                                     else self.churn_horizon]),
                "roc_auc": np.array([np.nan if self.roc_auc is None else self.roc_auc]),
                "lift_top_decile": np.array([np.nan if self.lift_decile is None
                                             else self.lift_decile]),
                "lift_top_quintile": np.array([np.nan if self.lift_quintile is None
                                               else self.lift_quintile]),
                "returned": np.array([self.returned]),
            }, backend)
        if by not in ("stage", "rule"):
            raise InvalidValueError(f"by must be 'stage', 'rule' or 'churn', got {by!r}",
                                    field="by")
        table = self.stages if by == "stage" else self.rules
        columns = table.columns(by)
        total: dict[str, Any] = {"stage": "", "customers": self.customers,
                                 "returned": self.returned,
                                 "mean_purchases": self.mean_purchases,
                                 "mean_spend": self.mean_spend}
        total[by] = "all customers"
        out = {name: np.append(values, np.array([total[name]], dtype=values.dtype)
                               if values.dtype != object
                               else np.array([total[name]], dtype=object))
               for name, values in columns.items()}
        return _frame(out, backend)

    def plot(self, ax: Axes | None = None, **bar_style: Any) -> Axes:
        """The stage-by-outcome chart: the share of each stage's customers who bought again in
        the holdout, with the base's share as a line and each bar labelled with its customers.

        Needs matplotlib (the ``plot`` extra); draws on ``ax`` (default: a new figure's axes)
        and returns it.
        """
        auc = "n/a" if self.roc_auc is None else f"{self.roc_auc:.2f}"
        drawn: Axes = plot_returned(
            ax, [str(s) for s in self.stages.label], self.stages.returned,
            self.stages.customers, self.returned, holdout=self.holdout,
            time_unit=self.time_unit,
            title=f"Stages at the split and the holdout (churn risk ROC AUC {auc})",
            **bar_style)
        return drawn


def backtest(
    split: CalibrationHoldout,
    *,
    classifier: str | LifecycleModel | None = None,
    value_model: str | object | None = None,
    churn_measure: ChurnMeasure = "auto",
    plugin_manager: pluggy.PluginManager | None = None,
) -> StageBacktest:
    """Classify the calibration base of ``split`` and see what each stage's customers did in
    the holdout; rank the holdout's non-buyers by churn risk.

    Parameters
    ----------
    split:
        A calibration/holdout split (:meth:`crmcore.CustomerBase.calibration_holdout`, e.g.
        :func:`crmcore.datasets.load_cdnow_calibration`).
    classifier:
        The lifecycle classifier to check: ``None`` (the default one), a lifecycle model's
        name, or a classifier object (a firm's own plugin), as for
        :func:`crmcore.lifecycle.classify`.
    value_model:
        A value model (a name from the registry, or an object, fitted on the calibration base
        if it is not fitted yet). Its P(alive) goes to the classifier and it gives the churn
        risk. ``None``: stages without a model, churn risk from the default value model
        fitted on the calibration base.
    churn_measure:
        As ``measure`` of :func:`crmcore.lifecycle.churn_risk`; its horizon is the holdout's
        length, so that the risk claims exactly what the holdout shows.
    plugin_manager:
        Manager to look models up in.

    Returns
    -------
    StageBacktest

    Raises
    ------
    DataError
        ``split`` is not a :class:`crmcore.CalibrationHoldout`.
    PluginError, UnknownModelError
        A classifier or model that fails, or a name nobody offers.
    """
    if not isinstance(split, CalibrationHoldout):
        raise DataError(f"expected a CalibrationHoldout, got {type(split).__name__}",
                        field="split")
    base = split.calibration
    model = value_model
    if isinstance(model, str):
        from crmcore._registry import get_model

        model = get_model("value", model, plugin_manager=plugin_manager)
    if model is not None and not hasattr(model, "params_") and callable(
            getattr(model, "fit", None)):
        model.fit(base)  # type: ignore[union-attr]
    stages = classify(base, model=classifier,
                      value_model=model if isinstance(model, PAliveModel) else None,
                      plugin_manager=plugin_manager)
    risk = churn_risk(base, value_model=model, stages=stages, horizon=split.duration_holdout,
                      measure=churn_measure)

    outcomes = holdout_outcomes(split)
    purchases, bought, spend = outcomes.purchases, outcomes.bought, outcomes.spend
    stage_values = np.array([s.value for s in STAGES], dtype=object)
    rule_names = np.array([name for name, _ in RULES], dtype=object)
    rule_stage = np.array([stage_values[code] if code >= 0 else "" for _, code in RULES],
                          dtype=object)
    code = stages.code.astype(np.int64)
    by_stage = _table(code, len(STAGES), stage_values, stage_values, bought, purchases, spend,
                      keep_empty=True)
    rule = np.where(code >= 0, stages.rule.astype(np.int64), -1)
    by_rule = _table(rule, len(RULES), rule_names, rule_stage, bought, purchases, spend,
                     keep_empty=False)

    churned = ~bought
    auc = decile = quintile = None
    if 0 < int(churned.sum()) < len(churned):
        auc = roc_auc(risk.risk, churned)
        decile = lift(risk.risk, churned, 0.1)
        quintile = lift(risk.risk, churned, 0.2)
    name = classifier if isinstance(classifier, str) else (
        "default" if classifier is None else model_name(classifier))
    return StageBacktest(
        stages=by_stage, rules=by_rule, customers=len(base),
        returned=float(bought.mean()), mean_purchases=float(purchases.mean()),
        mean_spend=float(spend.mean()), roc_auc=auc, lift_decile=decile,
        lift_quintile=quintile, churn_source=risk.source, churn_horizon=risk.horizon,
        holdout=float(split.duration_holdout), time_unit=base.time_unit, classifier=name,
        value_model=risk.model, stage_result=stages, churn=risk,
    )
