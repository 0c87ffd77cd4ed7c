"""Observed retention and churn rates (客户保持率, 客户流失率) and cohort tables, from purchases.

The value models give retention as a model output (the sBG retention curve, P(alive)); a
practitioner first wants the observed figures. For each period after the first,

$$\\text{retention}_p = \\frac{|A_{p-1} \\cap A_p|}{|A_{p-1}|}, \\qquad
\\text{churn}_p = 1 - \\text{retention}_p,$$

where $A_p$ is the set of customers *active* in period $p$. By default a customer is active in
a period in which they purchase. With ``inactive_after=N`` a customer is active while they have
purchased in the last $N$ periods (periods $p-N+1, \\dots, p$), so a customer counts as lost only
after $N$ periods without a purchase: the course texts' bank calls an account unused for two years
or more inactive (``freq="Y", inactive_after=2``). The same definition gives the cohort table:
customers by first-purchase period against periods since acquisition.

For a contractual cohort under the shifted-beta-geometric model (Fader & Hardie 2007) the share
of a cohort still active after $t$ periods converges to the model's survival
$S(t) = B(\\alpha, \\beta + t)/B(\\alpha, \\beta)$; :meth:`RetentionRates.cohort_counts` gives
the counts :class:`crmcore.value.ShiftedBetaGeometric` fits.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import numpy as np
from numpy.typing import NDArray

from crmcore._base import CustomerBase
from crmcore._deprecation import renamed_parameters, warn_deprecated
from crmcore._errors import DataError, InvalidValueError, TimeUnitError
from crmcore._frames import FrameBackend, _frame
from crmcore._time import check_unit, period_index, period_start

__all__ = ["RetentionRates", "inactive_customers", "retention_rates"]

_FloatArray = NDArray[np.float64]
_IntArray = NDArray[np.int64]
_ORDER: Final = "DWMQY"


def _check(base: CustomerBase, freq: str, inactive_after: int) -> None:
    check_unit(freq, argument="freq")
    if base.history is None or base.observation_end is None or base.freq is None:
        raise DataError("observed retention needs each customer's purchase history: build the "
                        "base with CustomerBase.from_transactions", field="history")
    if _ORDER.index(freq) < _ORDER.index(base.freq):
        raise TimeUnitError(
            f"freq={freq!r} is finer than the base's purchase period freq={base.freq!r}; "
            "purchases cannot be split back into smaller periods")
    if isinstance(inactive_after, bool) or not isinstance(inactive_after, int | np.integer) or (
            inactive_after < 1):
        raise InvalidValueError(
            f"inactive_after must be a whole number of periods >= 1, got {inactive_after!r}",
            field="inactive_after")


def _purchase_periods(base: CustomerBase, freq: str) -> tuple[_IntArray, _IntArray, int]:
    """Each customer's distinct purchase periods of ``freq`` (owner row, period number),
    sorted by customer then period, and the number of the period the observation ends in."""
    history = base.history
    assert history is not None
    assert base.observation_end is not None
    coarse = period_index(history.period_dates().astype("datetime64[us]"), freq)
    owner = history.customer_of_entry()
    keep = np.ones(len(coarse), dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | (coarse[1:] != coarse[:-1])
    end = int(period_index(np.asarray([base.observation_end]), freq)[0])
    return owner[keep], coarse[keep], end


def _runs(owner: _IntArray, periods: _IntArray, window: int, end: int
          ) -> tuple[_IntArray, _IntArray, _IntArray, NDArray[np.bool_]]:
    """Spells of activity: (owner, first period, last period, is the customer's first spell).

    A purchase in period q makes the customer active in q .. q + window - 1; purchases closer
    than ``window + 1`` periods apart merge into one spell, so two spells of one customer are
    always separated by at least one inactive period.
    """
    first_of_customer = np.ones(len(periods), dtype=bool)
    first_of_customer[1:] = owner[1:] != owner[:-1]
    starts = first_of_customer.copy()
    starts[1:] |= (periods[1:] - periods[:-1]) > window
    start_pos = np.flatnonzero(starts)
    stop_pos = np.concatenate([start_pos[1:], [len(periods)]]) - 1
    spell_end = np.minimum(periods[stop_pos] + window - 1, end)
    return owner[start_pos], periods[start_pos], spell_end, first_of_customer[start_pos]


def _add(diff: _IntArray, at: _IntArray, value: int) -> None:
    np.add.at(diff, at, value)


@attrs.frozen(eq=False)
class RetentionRates:
    """Observed retention and churn per period, and the cohort table behind them.

    Attributes
    ----------
    period:
        First day of each period, from the first period with a purchase to the one the
        observation ends in.
    active:
        Customers active in each period (see ``inactive_after``).
    new:
        Customers acquired (first purchase) in each period.
    retained:
        Customers active in both the previous period and this one.
    lost:
        Customers active in the previous period and not in this one (0 in the first period).
    returned:
        Customers active again after at least one inactive period (reactivated).
    retention_rate, churn_rate:
        ``retained / active[previous]`` and its complement; NaN for the first period and where
        nobody was active in the previous period.
    complete:
        Whether each period was wholly observed (the last one may end early, which lowers its
        rate: only compare complete periods).
    cohort:
        First day of each acquisition period with at least one new customer.
    cohort_size:
        Customers acquired in each cohort period.
    cohort_active, cohort_retained:
        ``(cohort, age)`` tables: customers of the cohort active at ``age`` periods since
        acquisition, and those active at both ``age - 1`` and ``age``; NaN where the age lies
        beyond the observation end. Age 0 is the acquisition period (all active).
    freq, inactive_after:
        The purchase period rates are counted in and the number of such periods without a
        purchase after which a customer is counted as lost. (``freq`` was ``period_unit``,
        still readable until the next release with a :class:`DeprecationWarning`.)
    """

    period: NDArray[np.datetime64]
    active: _IntArray
    new: _IntArray
    retained: _IntArray
    lost: _IntArray
    returned: _IntArray
    retention_rate: _FloatArray
    churn_rate: _FloatArray
    complete: NDArray[np.bool_]
    cohort: NDArray[np.datetime64]
    cohort_size: _IntArray
    cohort_active: _FloatArray
    cohort_retained: _FloatArray
    freq: str
    inactive_after: int

    @property
    def period_unit(self) -> str:
        """Deprecated name of :attr:`freq` (until the next release)."""
        warn_deprecated("RetentionRates.period_unit is deprecated; use freq")
        return self.freq

    def __len__(self) -> int:
        return len(self.period)

    @property
    def cohort_share_active(self) -> _FloatArray:
        """``cohort_active / cohort_size``: the share of each cohort active at each age (the
        observed survival of a cohort in which nobody returns)."""
        result: _FloatArray = self.cohort_active / self.cohort_size[:, None]
        return result

    @property
    def cohort_retention(self) -> _FloatArray:
        """``cohort_retained[:, k] / cohort_active[:, k - 1]`` for ages ``k >= 1`` (column 0
        is NaN): each cohort's retention rate by age."""
        previous = self.cohort_active[:, :-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(previous > 0, self.cohort_retained[:, 1:] / previous, np.nan)
        return np.column_stack([np.full(len(self.cohort), np.nan), rates])

    def overall_retention_rate(self, *, complete_only: bool = True) -> float:
        """Customers retained over customers at risk, summed over the periods after the first
        (customer retention rate, 客户保持率; indicator Y22 of the course texts' logistics service
        quality system). Only complete periods count unless ``complete_only=False``.

        Raises
        ------
        DataError
            No period after the first (with anyone active before it) to count.
        """
        rows = np.arange(1, len(self))
        if complete_only:
            rows = rows[self.complete[rows]]
        at_risk = int(self.active[rows - 1].sum())
        if at_risk == 0:
            raise DataError("no customer was active in a period followed by another observed "
                            "period, so there is no retention rate", field="period")
        return int(self.retained[rows].sum()) / at_risk

    def cohort_counts(self, cohort: int = 0) -> _IntArray:
        """Customers of cohort ``cohort`` (a row of the cohort table) active at ages 0, 1, ...
        as far as observed: the counts :class:`crmcore.value.ShiftedBetaGeometric` fits
        (non-increasing when nobody returns, as in a contractual setting)."""
        if not -len(self.cohort) <= cohort < len(self.cohort):
            raise InvalidValueError(f"cohort={cohort!r} is not a row of the cohort table "
                                    f"({len(self.cohort)} cohorts)", field="cohort")
        row = self.cohort_active[cohort]
        counts: _IntArray = row[~np.isnan(row)].astype(np.int64)
        return counts

    def to_frame(self, backend: FrameBackend = "pandas") -> Any:
        """One row per period: counts, rates and whether the period is complete."""
        return _frame({
            "period": self.period, "active": self.active, "new": self.new,
            "retained": self.retained, "lost": self.lost, "returned": self.returned,
            "retention_rate": self.retention_rate, "churn_rate": self.churn_rate,
            "complete": self.complete,
        }, backend)

    def cohort_frame(self, backend: FrameBackend = "pandas") -> Any:
        """The cohort table in long form, one row per observed (cohort, age): cohort start,
        age, period start, cohort size, active, retained, share active and retention rate
        (ready to pivot or to plot one line per cohort)."""
        observed = ~np.isnan(self.cohort_active)
        rows, ages = np.nonzero(observed)
        starts = period_start(
            period_index(self.cohort.astype("datetime64[us]"), self.freq)[rows] + ages,
            self.freq)
        return _frame({
            "cohort": self.cohort[rows], "age": ages.astype(np.int64), "period": starts,
            "cohort_size": self.cohort_size[rows],
            "active": self.cohort_active[observed].astype(np.int64),
            "retained": np.nan_to_num(self.cohort_retained[observed]).astype(np.int64),
            "share_active": self.cohort_share_active[observed],
            "retention_rate": self.cohort_retention[observed],
        }, backend)


@renamed_parameters(period="freq")
def retention_rates(
    base: CustomerBase,
    *,
    freq: str = "M",
    inactive_after: int = 1,
) -> RetentionRates:
    """Observed retention and churn rates per period, and the cohort table.

    Parameters
    ----------
    base:
        Customers built from transactions (the purchase history is needed).
    freq:
        The purchase period rates are counted in (``"D"``, ``"W"``, ``"M"``, ``"Q"``,
        ``"Y"``), no finer than ``base.freq``; a coarser one re-buckets the history. Formerly
        ``period``, which still works until the next release with a
        :class:`DeprecationWarning`.
    inactive_after:
        Number of periods without a purchase after which a customer counts as lost (default
        1: active means purchasing in the period). ``freq="Y", inactive_after=2`` is the
        course texts' "account unused for two years or more".

    Returns
    -------
    RetentionRates

    Raises
    ------
    DataError
        The base has no purchase history.
    TimeUnitError
        ``freq`` is unknown or finer than ``base.freq``.
    InvalidValueError
        ``inactive_after`` is not a whole number >= 1.

    Examples
    --------
    Three customers buying in January; two of them again in February, one of those in March:

    >>> import datetime as dt, crmcore
    >>> from crmcore.lifecycle import retention_rates
    >>> log = [crmcore.Transaction(c, dt.datetime(2024, m, 5), 1.0)
    ...        for c, months in {"a": [1, 2, 3], "b": [1, 2], "c": [1]}.items() for m in months]
    >>> base = crmcore.CustomerBase.from_transactions(log, freq="D",
    ...                                               observation_end="2024-03-31")
    >>> retention_rates(base).retention_rate.round(3).tolist()
    [nan, 0.667, 0.5]
    """
    _check(base, freq, inactive_after)
    window = int(inactive_after)
    owner, periods, end = _purchase_periods(base, freq)
    if len(periods) == 0:
        raise DataError("the base records no purchases", field="history")
    first = int(periods.min())
    n = end - first + 1
    who, start, stop, is_first = _runs(owner, periods, window, end)
    s, e = start - first, stop - first

    active = np.zeros(n + 1, dtype=np.int64)
    _add(active, s, 1)
    _add(active, e + 1, -1)
    retained = np.zeros(n + 1, dtype=np.int64)
    lasting = e > s
    _add(retained, s[lasting] + 1, 1)
    _add(retained, e[lasting] + 1, -1)
    active_p, retained_p = np.cumsum(active)[:n], np.cumsum(retained)[:n]
    new = np.bincount(s[is_first], minlength=n).astype(np.int64)
    returned = np.bincount(s[~is_first], minlength=n).astype(np.int64)
    lost = np.zeros(n, dtype=np.int64)
    lost[1:] = active_p[:-1] - retained_p[1:]
    rate = np.full(n, np.nan)
    before = active_p[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate[1:] = np.where(before > 0, retained_p[1:] / np.maximum(before, 1), np.nan)

    # The period the observation ends in is complete when the next day starts a new period.
    assert base.observation_end is not None
    next_day = (base.observation_end.astype("datetime64[D]") + np.timedelta64(1, "D"))
    last_complete = int(period_index(np.asarray([next_day]).astype("datetime64[us]"),
                                     freq)[0]) > end
    complete = np.ones(n, dtype=bool)
    complete[-1] = last_complete

    # Cohort table: customer's cohort = first purchase period; age = period - cohort.
    cohort_of = np.full(base.history.n_customers if base.history else 0, -1, dtype=np.int64)
    cohort_of[who[is_first]] = start[is_first] - first
    c = cohort_of[who]
    ages = n + 1
    flat_active = np.zeros(n * ages, dtype=np.int64)
    _add(flat_active, c * ages + (s - c), 1)
    _add(flat_active, c * ages + (e - c) + 1, -1)
    flat_retained = np.zeros(n * ages, dtype=np.int64)
    _add(flat_retained, c[lasting] * ages + (s[lasting] - c[lasting]) + 1, 1)
    _add(flat_retained, c[lasting] * ages + (e[lasting] - c[lasting]) + 1, -1)
    table_active = np.cumsum(flat_active.reshape(n, ages), axis=1)[:, :n].astype(np.float64)
    table_retained = np.cumsum(flat_retained.reshape(n, ages), axis=1)[:, :n].astype(
        np.float64)
    beyond = (np.arange(n)[:, None] + np.arange(n)[None, :]) >= n
    table_active[beyond] = np.nan
    table_retained[beyond] = np.nan
    table_retained[:, 0] = np.where(beyond[:, 0], np.nan, 0.0)
    present = np.flatnonzero(new > 0)
    starts = period_start(np.arange(first, end + 1, dtype=np.int64), freq)
    return RetentionRates(
        period=starts, active=active_p, new=new, retained=retained_p, lost=lost,
        returned=returned, retention_rate=rate, churn_rate=1.0 - rate, complete=complete,
        cohort=starts[present], cohort_size=new[present],
        cohort_active=table_active[present], cohort_retained=table_retained[present],
        freq=freq, inactive_after=window,
    )


@renamed_parameters(period="freq")
def inactive_customers(base: CustomerBase, *, inactive_after: int = 2,
                       freq: str = "Y") -> NDArray[np.bool_]:
    """Which customers are inactive at the observation end: no purchase in the last
    ``inactive_after`` periods (the period the observation ends in included).

    The default is the course texts' bank rule, an account unused for two years or more
    (两年以上的时间 没使用过), counted in calendar years; the same definition as
    :func:`retention_rates` with the same arguments, so a customer inactive here is one not active
    in the last period there. Feed it to :func:`crmcore.value.bank_classes` as ``inactive``.

    ``freq`` was called ``period`` before; ``period=`` still works until the next release,
    with a :class:`DeprecationWarning`.

    Raises
    ------
    DataError, TimeUnitError, InvalidValueError
        As for :func:`retention_rates`.
    """
    _check(base, freq, inactive_after)
    owner, periods, end = _purchase_periods(base, freq)
    last = np.full(len(base), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, owner, periods)
    result: NDArray[np.bool_] = (end - last) >= int(inactive_after)
    return result
