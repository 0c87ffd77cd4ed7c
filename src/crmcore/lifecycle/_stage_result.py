"""The results of lifecycle classification: :class:`StageResult` (many customers, columnar, with
their evidence) and :class:`StageExplanation` (one customer, the rule that decided and why)."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from crmcore._errors import DataError, EmptyDataError, InvalidValueError
from crmcore._frames import FrameBackend, _frame
from crmcore.lifecycle._rules import _STAGE_OBJECTS, RULES, _FloatArray, _IntArray
from crmcore.lifecycle._stages import STAGES, LifecycleStage

__all__ = ["StageExplanation", "StageResult"]


@attrs.frozen
class StageExplanation:
    """Why one customer got their stage: the evidence and the rule that decided.

    Attributes
    ----------
    customer_id, stage:
        The customer and their stage (``None`` if they had not bought by the cut-off).
    rule:
        Name of the deciding rule (one of :data:`crmcore.lifecycle.RULES`).
    reason:
        The rule in words, with the customer's numbers and the threshold.
    purchases, tenure, trend, level, gap_ratio, p_alive:
        The evidence (``None`` where not defined, e.g. no trend without enough history).
    management_focus:
        What the seed advises for this stage.
    silence, lapse_limit:
        Time since the last purchase and the customer's lapse limit (how long 90% of the
        base's customers with as many purchases took to come back, see
        :func:`crmcore.lifecycle.lapse_limits`), in the result's time unit; ``None`` where
        not known.

    Notes
    -----
    ``p_alive`` from BG/NBD is 1 for every customer without a repeat purchase: the model lets
    a customer drop out only right after a purchase, so one who never came back cannot have
    dropped out in it. It is not evidence that a one-time buyer is still active; the lapse
    limit is.
    """

    customer_id: Any
    stage: LifecycleStage | None
    rule: str
    reason: str
    purchases: int
    tenure: float | None
    trend: float | None
    level: float | None
    gap_ratio: float | None
    p_alive: float | None
    management_focus: str | None
    silence: float | None = None
    lapse_limit: float | None = None


@attrs.frozen(eq=False)
class StageResult:
    """Lifecycle stages of many customers, aligned with ``customer_id``, with their evidence.

    Attributes
    ----------
    customer_id:
        The customers, as in the base.
    code:
        Stage code per customer: ``LifecycleStage.order`` (0 exploration ... 4 terminated), or
        -1 for a customer who had not bought by the cut-off.
    rule:
        Position in :data:`crmcore.lifecycle.RULES` of the rule that decided.
    purchases:
        Purchase periods up to the cut-off.
    tenure, usual_gap, silence, window:
        Time since the first purchase, mean time between purchases, time since the last
        purchase and length of the recent window, in ``time_unit``.
    trend:
        Recent purchase rate (or value) over the earlier rate; ``NaN`` without a full earlier
        window to compare with.
    level:
        Recent window's value over the customer's peak window.
    gap_ratio:
        ``silence / usual_gap``.
    p_alive:
        P(alive) from the value model, or ``None`` when none was given (BG/NBD gives 1 to
        every customer without a repeat purchase; see :class:`StageExplanation`).
    as_of:
        The cut-off date.
    measure:
        What trend and level measured (``"amount"``, ``"count"`` or ``"periods"``).
    classifier:
        The classifier (with its thresholds) that produced the result.
    lapse_limit:
        Per customer, the lapse limit the customer was judged against, in ``time_unit``
        (``None`` from a classifier without one).
    """

    customer_id: NDArray[Any]
    code: NDArray[np.int8]
    rule: NDArray[np.int8]
    purchases: _IntArray
    tenure: _FloatArray
    trend: _FloatArray
    level: _FloatArray
    gap_ratio: _FloatArray
    usual_gap: _FloatArray
    silence: _FloatArray
    window: _FloatArray
    p_alive: _FloatArray | None
    as_of: np.datetime64
    time_unit: str
    measure: str
    classifier: Any
    lapse_limit: _FloatArray | None = None

    def __len__(self) -> int:
        return len(self.customer_id)

    def __repr__(self) -> str:
        from crmcore._repr import stages_text

        return stages_text(self)

    def _repr_html_(self) -> str:
        from crmcore._repr import stages_html

        return stages_html(self)

    @property
    def stage(self) -> NDArray[Any]:
        """:class:`LifecycleStage` per customer (``None`` where not yet acquired)."""
        return _STAGE_OBJECTS[self.code]

    def counts(self) -> dict[LifecycleStage, int]:
        """Customers per stage, every stage listed (in lifecycle order)."""
        tally = np.bincount(self.code[self.code >= 0], minlength=len(STAGES))
        return {stage: int(tally[stage.order]) for stage in STAGES}

    def shares(self) -> dict[LifecycleStage, float]:
        """Share of the classified customers in each stage (sums to 1)."""
        counts = self.counts()
        total = sum(counts.values())
        if total == 0:
            raise EmptyDataError("no customer has a stage to take shares of", field="code")
        return {stage: count / total for stage, count in counts.items()}

    def customers_in(self, stage: LifecycleStage) -> NDArray[Any]:
        """Ids of the customers in ``stage``."""
        if not isinstance(stage, LifecycleStage):
            raise InvalidValueError(f"stage must be a LifecycleStage, got {stage!r}",
                                    field="stage")
        chosen: NDArray[Any] = self.customer_id[self.code == stage.order]
        return chosen

    def explain(self, customer_id: Any) -> StageExplanation:
        """Why ``customer_id`` got their stage.

        Raises
        ------
        DataError
            The customer is not in the result.
        """
        rows = np.flatnonzero(self.customer_id == customer_id)
        if len(rows) == 0:
            raise DataError(f"customer {customer_id!r} is not in the result",
                            field="customer_id", rows=[customer_id])
        i = int(rows[0])
        stage = self.stage[i]
        name = RULES[int(self.rule[i])][0]
        p = None if self.p_alive is None else _maybe(self.p_alive[i])
        return StageExplanation(
            customer_id=self.customer_id[i].item() if hasattr(self.customer_id[i], "item")
            else self.customer_id[i],
            stage=stage,
            rule=name,
            reason=self._reason(i, name),
            purchases=int(self.purchases[i]),
            tenure=_maybe(self.tenure[i]),
            trend=_maybe(self.trend[i]),
            level=_maybe(self.level[i]),
            gap_ratio=_maybe(self.gap_ratio[i]),
            p_alive=p,
            management_focus=None if stage is None else stage.management_focus,
            silence=_maybe(self.silence[i]),
            lapse_limit=None if self.lapse_limit is None else _maybe(self.lapse_limit[i]),
        )

    def _reason(self, i: int, rule: str) -> str:
        classifier = self.classifier

        def get(name: str) -> Any:
            # A plugin's classifier may not have the built-in rule's thresholds.
            return getattr(classifier, name, "?")

        unit = self.time_unit
        silence = f"{self.silence[i]:.1f} {unit}"
        limit = ("?" if self.lapse_limit is None else f"{self.lapse_limit[i]:.1f} {unit}")
        share = f"{round(100 * float(get('lapse_quantile')))}%" if isinstance(
            get("lapse_quantile"), int | float) else "most"
        bought = int(self.purchases[i])
        texts = {
            "no-purchase-yet": "no purchase up to the cut-off",
            "long-silence": f"silent for {silence}, {self.gap_ratio[i]:.1f} times the "
                            f"customer's usual gap of {self.usual_gap[i]:.1f} {unit} "
                            f"(>= terminated_gap {get('terminated_gap')}) and longer than "
                            f"{share} of the base's customers with as many purchases took to "
                            f"come back ({limit})",
            "p-alive-very-low": f"P(alive) {_fmt(self.p_alive, i)}: the value model gives "
                                f"the customer less than a {get('terminated_p_alive')} chance "
                                f"of ever buying again (< terminated_p_alive)",
            "lapsed-exploration": f"{bought} purchase period(s), then silent for {silence}: "
                                  f"{share} of the base's customers who made a purchase "
                                  f"number {bought + 1} made it within {limit}; a trial that "
                                  f"went quiet",
            "few-purchases": f"{bought} purchase period(s) (< min_purchases "
                             f"{get('min_purchases')}), last one {silence} ago, within the "
                             f"time ({limit}) in which {share} of the base's returning "
                             f"customers came back",
            "short-history": f"tenure {self.tenure[i]:.2f} {unit} is too short to compare a "
                             f"recent window of {self.window[i]:.2f} {unit} with an earlier one",
            "falling-trend": f"buying at {self.trend[i]:.2f} times the earlier rate in the last "
                             f"{self.window[i]:.1f} {unit} (<= decline_trend "
                             f"{get('decline_trend')})",
            "low-level": f"the last {self.window[i]:.1f} {unit} brought {self.level[i]:.2f} of "
                         f"the customer's best such window (<= decline_level "
                         f"{get('decline_level')})",
            "silence": f"silent for {silence}, {self.gap_ratio[i]:.1f} times the customer's "
                       f"usual gap of {self.usual_gap[i]:.1f} {unit} (>= decline_gap "
                       f"{get('decline_gap')})",
            "p-alive-low": f"P(alive) {_fmt(self.p_alive, i)} (< decline_p_alive "
                           f"{get('decline_p_alive')})",
            "rising-trend": f"buying at {self.trend[i]:.2f} times the earlier rate in the last "
                            f"{self.window[i]:.1f} {unit} (>= growth_trend "
                            f"{get('growth_trend')})",
            "steady": f"trend {self.trend[i]:.2f}, level {self.level[i]:.2f}, silent for "
                      f"{self.gap_ratio[i]:.2f} usual gaps: none beyond a threshold",
        }
        return texts.get(rule, rule)

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The stages and their evidence as a data frame of ``backend``, one row per customer
        (``stage`` as the stage's value, e.g. ``"stability"``)."""
        names = np.array([s.value for s in STAGES] + [""], dtype=object)
        rule_names = np.array([name for name, _ in RULES], dtype=object)
        columns: dict[str, NDArray[Any]] = {
            "customer_id": self.customer_id,
            "stage": names[self.code],
            "rule": rule_names[self.rule],
            "purchases": self.purchases,
            "tenure": self.tenure,
            "trend": self.trend,
            "level": self.level,
            "gap_ratio": self.gap_ratio,
            "usual_gap": self.usual_gap,
            "silence": self.silence,
        }
        if self.lapse_limit is not None:
            columns["lapse_limit"] = self.lapse_limit
        if self.p_alive is not None:
            columns["p_alive"] = self.p_alive
        return _frame(columns, backend)


def _maybe(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _fmt(values: _FloatArray | None, i: int) -> str:
    return "n/a" if values is None else f"{values[i]:.3f}"


# -- entry point ------------------------------------------------------------------------------
