"""Tracking a purchase model's forecast against the repeat purchases that happened, over time.

The check of Fader, Hardie & Lee (2005, figure 2, "tracking cumulative repeat transactions"):
for every tracking point ``t`` the model's expected repeat purchases of the whole cohort,
``sum_i E[X(t - t0_i)]`` over the customers born (first purchase) at ``t0_i <= t``, next to the
repeat purchases actually made by ``t``; across a calibration/holdout split the holdout part is
a true forecast.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from crmcore._base import CalibrationHoldout
from crmcore._errors import DataError, InvalidValueError, PluginError
from crmcore._time import period_index, period_start, unit_factor

__all__ = ["TransactionTracking", "transaction_tracking"]

_FloatArray = NDArray[np.float64]


@attrs.frozen(eq=False)
class TransactionTracking:
    """Repeat purchases of a cohort per tracking step, as made and as a model expects them.

    Attributes
    ----------
    time:
        End of each tracking step, in ``time_unit`` since the first purchase in the data.
    end_date:
        The last day of each tracking step.
    actual, expected:
        Repeat purchases (purchase periods after each customer's first) made in each step,
        and the model's expectation of them.
    split_time:
        The calibration end, in ``time_unit`` since the first purchase in the data.
    time_unit:
        Unit of ``time``.
    model:
        Name of the model's class.
    """

    time: _FloatArray
    end_date: NDArray[np.datetime64]
    actual: _FloatArray
    expected: _FloatArray
    split_time: float
    time_unit: str
    model: str

    @property
    def cumulative_actual(self) -> _FloatArray:
        """Repeat purchases made by the end of each step."""
        return np.cumsum(self.actual)

    @property
    def cumulative_expected(self) -> _FloatArray:
        """The model's expected repeat purchases by the end of each step."""
        return np.cumsum(self.expected)

    def __repr__(self) -> str:
        return (f"<TransactionTracking {self.model}: {len(self.time)} steps of 1 "
                f"{self.time_unit}, split at {self.split_time:g}; actual "
                f"{self.actual.sum():,.0f}, expected {self.expected.sum():,.1f}>")


def transaction_tracking(model: Any, split: CalibrationHoldout, *, step: float = 1.0
                         ) -> TransactionTracking:
    """Actual and expected repeat purchases per step of ``step`` time units, over calibration
    and holdout.

    Parameters
    ----------
    model:
        A fitted purchase model with ``expected_purchases_unconditional(t)`` (BG/NBD,
        MBG/NBD, Pareto/NBD, BG/BB), normally fitted on ``split.calibration``.
    split:
        From :meth:`crmcore.CustomerBase.calibration_holdout`.
    step:
        Length of a tracking step in the base's ``time_unit`` (default 1: weekly for a base in
        weeks); it must be a whole number of the base's periods.

    Raises
    ------
    DataError
        The split carries no purchase history.
    InvalidValueError
        A step that is not a positive whole number of periods.
    PluginError
        The model has no ``expected_purchases_unconditional``.
    """
    history = split.history
    base = split.calibration
    if history is None or base.freq is None or base.observation_end is None:
        raise DataError("transaction tracking needs the purchase history: split a base built "
                        "with CustomerBase.from_transactions", field="split")
    unconditional = getattr(model, "expected_purchases_unconditional", None)
    if not callable(unconditional):
        raise PluginError(f"{type(model).__name__} has no expected_purchases_unconditional(t); "
                          "tracking needs a purchase model's unconditional forecast",
                          plugin=type(model).__name__)
    factor = unit_factor(base.freq, base.time_unit)  # time units per period
    periods_per_step = step / factor
    if not (periods_per_step >= 1 and abs(periods_per_step - round(periods_per_step)) < 1e-9):
        raise InvalidValueError(f"step must be a positive whole number of {base.freq} periods "
                                f"({factor:g} {base.time_unit} each), got {step!r}",
                                field="step")
    per_step = round(periods_per_step)
    first = history.period[history.indptr[:-1]]
    origin = int(first.min())
    end_period = int(history.period.max()) if len(history.period) else origin
    split_period = int(period_index(np.asarray([base.observation_end]), base.freq)[0])
    # the holdout runs to the observation end of the full base: split + duration
    end_period = max(end_period, split_period + round(split.duration_holdout / factor))
    # Steps end on the split period and every per_step periods before and after it, so the
    # calibration and holdout totals can be read off the steps (the first and the last step
    # may be shorter).
    n_before = max(0, -(-(split_period - origin) // per_step) - 1)
    n_after = -(-(end_period - split_period) // per_step)
    boundaries = split_period + per_step * np.arange(-n_before, n_after + 1)
    boundaries = np.minimum(boundaries, end_period)  # a step ends on (includes) this period
    n_steps = len(boundaries)

    # actual: every purchase period after a customer's first, by the step it falls in
    owner = history.customer_of_entry()
    repeat = history.period > first[owner]
    step_of = np.searchsorted(boundaries, history.period[repeat], side="left")
    actual = np.bincount(step_of, minlength=n_steps).astype(np.float64)[:n_steps]

    # expected: for each birth period, E[X(elapsed)] at each boundary, weighted by its cohort
    births, cohort = np.unique(first, return_counts=True)
    elapsed = np.maximum(boundaries[:, None] - births[None, :], 0) * factor
    cumulative = np.asarray(unconditional(elapsed), dtype=np.float64) @ cohort.astype(float)
    expected = np.diff(cumulative, prepend=0.0)

    return TransactionTracking(
        time=np.asarray((boundaries - origin) * factor, dtype=np.float64),
        end_date=period_start(boundaries, base.freq),
        actual=actual,
        expected=expected,
        split_time=(split_period - origin) * factor,
        time_unit=base.time_unit,
        model=type(model).__name__,
    )
