"""The shifted-beta-geometric (sBG) model of contract duration (Fader & Hardie 2007).

At the end of each period a customer still under contract cancels with probability ``theta``
(constant for her), which varies across customers as ``beta(alpha, beta)``. Then

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)`` ,
* ``S(t) = B(alpha, beta + t) / B(alpha, beta)`` ,
* the retention rate ``r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)`` .

References: P. S. Fader and B. G. S. Hardie (2007), "How to Project Customer Retention",
*Journal of Interactive Marketing* 21(1), 76-90; P. S. Fader and B. G. S. Hardie (2010),
"Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring Heterogeneity",
*Marketing Science* 29(1), 85-93 (discounted expected (residual) lifetime).
"""

from __future__ import annotations

import math
from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, hyp2f1

from crmcore._base import CustomerBase
from crmcore._checks import as_column, discount_rates
from crmcore._errors import EmptyDataError, InvalidValueError, describe_rows
from crmcore.value._btyd import log_beta_ratio2
from crmcore.value._likelihood import LikelihoodModel

_LARGE_BETA = 1e4  # above this alpha + beta, rising factorials instead of betaln differences

__all__ = ["ShiftedBetaGeometric"]

_FloatArray = NDArray[np.float64]

PARAM_NAMES = ("alpha", "beta")


def hyp2f1_one(b: ArrayLike, c: ArrayLike, z: ArrayLike) -> _FloatArray:
    """Gauss's ``2F1(1, b; c; z) = sum_k (b)_k / (c)_k z^k`` for ``0 < b < c`` and
    ``0 <= z < 1``, the series behind DERT and DERL.

    scipy's ``hyp2f1`` is used where it returns a finite value; where it overflows (it can for
    large ``b`` and ``c`` with ``z`` near 1) the series is summed directly: its term ratio
    ``(b + k)/(c + k) z`` is below ``z``, so it converges geometrically and the sum stops once
    the remaining tail (at most ``term z / (1 - z)``) is below ``1e-16`` of the total.
    """
    bb, cc, zz = np.broadcast_arrays(np.asarray(b, dtype=np.float64),
                                     np.asarray(c, dtype=np.float64),
                                     np.asarray(z, dtype=np.float64))
    out = np.array(hyp2f1(1.0, bb, cc, zz), dtype=np.float64, ndmin=1).reshape(bb.shape)
    bad = ~np.isfinite(out) | (out < 1.0)
    if bad.any():
        sb, sc, sz = bb[bad], cc[bad], zz[bad]
        total = np.ones_like(sb)
        term = np.ones_like(sb)
        done = np.zeros(sb.shape, dtype=bool)
        k0 = 0
        chunk = np.arange(1024, dtype=np.float64)[None, :]
        while not done.all():
            ratios = (sb[:, None] + k0 + chunk) / (sc[:, None] + k0 + chunk) * sz[:, None]
            terms = term[:, None] * np.cumprod(ratios, axis=1)
            total = np.where(done, total, total + terms.sum(axis=1))
            term = np.where(done, term, terms[:, -1])
            done |= term * sz / (1.0 - sz) < 1e-16 * total
            k0 += chunk.shape[1]
        out[bad] = total
    return out


def check_alive(alive: ArrayLike) -> _FloatArray:
    """Check ``alive`` (customers still active at the start of each period, cohort size first):
    whole, finite, non-negative, non-increasing, at least two values and a positive cohort."""
    counts = as_column(alive, "alive", scalar=False)
    if len(counts) < 2:
        raise EmptyDataError(
            "alive needs the cohort size and at least one later count of active customers; "
            f"got {len(counts)} value(s)", field="alive",
        )
    bad = np.flatnonzero(~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts)))
    if len(bad):
        raise InvalidValueError(
            f"alive must hold whole numbers of customers >= 0; it does not at "
            f"{describe_rows(bad)} (first: {counts[bad[0]]!r})", field="alive", rows=bad.tolist(),
        )
    if counts[0] == 0:
        raise EmptyDataError("alive[0], the cohort size, is 0", field="alive", rows=[0])
    bad = np.flatnonzero(np.diff(counts) > 0) + 1
    if len(bad):
        raise InvalidValueError(
            f"alive must not increase (a cohort only loses customers); it rises at "
            f"{describe_rows(bad)}", field="alive", rows=bad.tolist(),
        )
    return counts


def duration_rows(alive: _FloatArray) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
    """Turn a cohort's ``alive`` counts into weighted rows ``(t, censored, weight)``: the
    customers lost at the end of period ``t`` (``censored=0``) and those still active after the
    last period (``censored=1``, ``t`` = number of periods observed)."""
    periods = len(alive) - 1
    t = np.arange(1, periods + 1, dtype=np.float64)
    lost = alive[:-1] - alive[1:]
    keep = lost > 0
    rows_t = np.concatenate([t[keep], [float(periods)]])
    censored = np.concatenate([np.zeros(int(keep.sum())), [1.0]])
    weights = np.concatenate([lost[keep], [alive[-1]]])
    if weights[-1] == 0:
        rows_t, censored, weights = rows_t[:-1], censored[:-1], weights[:-1]
    return rows_t, censored, weights


def log_likelihood_terms(params: NDArray[np.float64], t: _FloatArray, censored: _FloatArray,
                         *, gradient: bool = True) -> tuple[_FloatArray, _FloatArray | None]:
    """Each row's log-likelihood, ``log P(T = t)`` or (censored) ``log S(t)`` (the likelihood of
    Fader & Hardie 2007), and its gradient in ``(alpha, beta)``."""
    a, b = (float(v) for v in params)
    # P(T=t) = B(a+1, b+t-1)/B(a,b); S(t) = B(a, b+t)/B(a,b)
    shift_a = np.where(censored > 0, 0.0, 1.0)
    shift_b = np.where(censored > 0, t, t - 1.0)
    if a + b > _LARGE_BETA:
        # towards one churn probability for everyone (a, b -> infinity): rising factorials
        # keep the digits a difference of betaln values loses
        value, d_a, d_b = log_beta_ratio2(a, b, shift_a, shift_b, gradient=gradient)
        if not gradient:
            return value, None
        assert d_a is not None
        assert d_b is not None
        return value, np.column_stack([d_a, d_b])
    ll: _FloatArray = betaln(a + shift_a, b + shift_b) - betaln(a, b)
    if not gradient:
        return ll, None
    both = digamma(a + shift_a + b + shift_b)
    base = digamma(a + b)
    grad = np.column_stack([
        digamma(a + shift_a) - both - digamma(a) + base,
        digamma(b + shift_b) - both - digamma(b) + base,
    ])
    return ll, grad


def survival(params: NDArray[np.float64], t: _FloatArray) -> _FloatArray:
    """S(t), the survival function."""
    a, b = (float(v) for v in params)
    out: _FloatArray = np.exp(log_beta_ratio2(a, b, 0.0, t)[0])
    return out


def churn_probability(params: NDArray[np.float64], t: _FloatArray) -> _FloatArray:
    """P(T = t): the probability that a new customer's last period is ``t``."""
    a, b = (float(v) for v in params)
    out: _FloatArray = np.exp(log_beta_ratio2(a, b, 1.0, t - 1.0)[0])
    return out


def retention_rate(params: NDArray[np.float64], t: _FloatArray) -> _FloatArray:
    """r(t) = S(t)/S(t-1) = (beta + t - 1)/(alpha + beta + t - 1), the retention rate."""
    a, b = (float(v) for v in params)
    out: _FloatArray = (b + t - 1.0) / (a + b + t - 1.0)
    return out


def discounted_expected_lifetime(params: NDArray[np.float64], discount_rate: _FloatArray
                                 ) -> _FloatArray:
    """DEL(d) = sum_{t>=0} S(t)/(1+d)^t = 2F1(1, beta; alpha+beta; 1/(1+d)) (Fader & Hardie
    2010): a new customer's expected discounted number of periods (payments), the
    first undiscounted. At ``d = 0`` it is the expected lifetime ``(alpha+beta-1)/(alpha-1)``
    for ``alpha > 1`` and infinite otherwise."""
    a, b = (float(v) for v in params)
    d = np.asarray(discount_rate, dtype=np.float64)
    z = 1.0 / (1.0 + d)
    out: _FloatArray = np.where(
        d > 0, hyp2f1_one(b, a + b, z), (a + b - 1.0) / (a - 1.0) if a > 1 else np.inf
    )
    return out


def derl(params: NDArray[np.float64], discount_rate: float, renewals: _FloatArray
         ) -> _FloatArray:
    """DERL(d | n-1 renewals) = (beta+n-1)/(alpha+beta+n-1) * 2F1(1, beta+n; alpha+beta+n;
    1/(1+d)) (Fader & Hardie 2010), for a customer who has made ``n - 1 = renewals``
    renewals and is about to decide on the next: the expected discounted number of her future
    payments, the next one (if she renews) undiscounted."""
    a, b = (float(v) for v in params)
    n = renewals + 1.0
    z = 1.0 / (1.0 + discount_rate)
    if discount_rate == 0:
        # 2F1(1, b'; c'; 1) = (c'-1)/(c'-b'-1) when c' - b' = alpha > 1, else infinite.
        total = (a + b + n - 1.0) / (a - 1.0) if a > 1 else np.inf
        out0: _FloatArray = (b + n - 1.0) / (a + b + n - 1.0) * np.asarray(total)
        return out0
    out: _FloatArray = (b + n - 1.0) / (a + b + n - 1.0) * hyp2f1_one(b + n, a + b + n, z)
    return out


def _periods(t: ArrayLike, name: str = "t", *, minimum: float = 0.0) -> _FloatArray:
    values = np.atleast_1d(np.asarray(t, dtype=np.float64))
    bad = np.flatnonzero(~np.isfinite(values) | (values < minimum)
                         | (values != np.round(values)))
    if len(bad):
        raise InvalidValueError(
            f"{name} must be a whole number of periods >= {minimum:g}; it is not at "
            f"{describe_rows(bad)}", field=name, rows=bad.tolist())
    return values


class ShiftedBetaGeometric(LikelihoodModel):
    """Shifted-beta-geometric model of contract duration (Fader & Hardie 2007, *Journal of
    Interactive Marketing* 21(1)).

    Parameters ``alpha, beta`` of the beta distribution of the per-period churn probability.
    Periods are counted from acquisition: period 1 is the first contract period, and
    ``S(t)`` is the share of a cohort still active after ``t`` renewal decisions.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (as in lifetimes; 0 is plain maximum likelihood).

    Examples
    --------
    The "regular" customers of Fader & Hardie (2007), Table 1, years 0-7:

    >>> model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(model.params_["alpha"], 3), round(model.params_["beta"], 3)
    (0.704, 1.182)
    """

    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES
    _mixing_pairs = (
        ("alpha", "beta", "beta", "churn probability theta per period",
         "no customer ever churns", "every customer churns at the end of her first period"),
    )

    def __init__(self, *, penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)

    def _log_likelihood_terms(
        self, params: _FloatArray, data: tuple[_FloatArray, ...], *, gradient: bool
    ) -> tuple[_FloatArray, _FloatArray | None]:
        t, censored = data
        return log_likelihood_terms(params, t, censored, gradient=gradient)

    def fit(self, alive: ArrayLike, *, time_unit: str | None = None) -> Self:
        """Estimate ``alpha, beta`` from one cohort's active counts (the paper's likelihood:
        ``sum_t (n_{t-1} - n_t) log P(T=t) + n_T log S(T)``).

        Parameters
        ----------
        alive:
            Customers still active at the start of each period, the cohort size first:
            ``[n_0, n_1, ..., n_T]``, whole numbers, non-increasing.
        time_unit:
            Unit of one period (e.g. ``"Y"``), recorded with the model.

        Raises
        ------
        InvalidValueError
            Negative, fractional, NaN or increasing counts.
        EmptyDataError
            Fewer than two counts, or a cohort of size 0.
        ConvergenceError
            The optimiser found no strict maximum (e.g. nobody ever churned).
        """
        if isinstance(alive, CustomerBase):
            raise InvalidValueError(
                "ShiftedBetaGeometric is a contractual model: fit it on a cohort's counts of "
                "active customers per period (alive), not on a CustomerBase of purchases",
                field="alive")
        counts = check_alive(alive)
        t, censored, weights = duration_rows(counts)
        return self._fit_patterns((t, censored), weights, time_unit=time_unit, compress=False)

    def survival(self, t: ArrayLike) -> _FloatArray:
        """S(t) = B(alpha, beta + t) / B(alpha, beta) : share of a new cohort still
        active after ``t`` periods."""
        return survival(self._param_array(), _periods(t))

    def churn_probability(self, t: ArrayLike) -> _FloatArray:
        """P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta) : probability that a
        new customer churns at the end of period ``t >= 1``."""
        return churn_probability(self._param_array(), _periods(t, minimum=1.0))

    def retention_rate(self, t: ArrayLike) -> _FloatArray:
        """r(t) = (beta + t - 1) / (alpha + beta + t - 1) : the share of those active in
        period ``t - 1`` who renew for period ``t`` (``t >= 1``); it rises with ``t`` because
        the customers most likely to churn leave first."""
        return retention_rate(self._param_array(), _periods(t, minimum=1.0))

    def expected_alive(self, n_customers: float, t: ArrayLike) -> _FloatArray:
        """Expected active customers of a cohort of ``n_customers`` after ``t`` periods."""
        return float(n_customers) * self.survival(t)

    @property
    def expected_lifetime_(self) -> float:
        """Expected number of periods a new customer stays (counting the first),
        ``sum_{t>=0} S(t) = (alpha + beta - 1)/(alpha - 1)`` for ``alpha > 1``; infinite
        otherwise (heavy-tailed: some customers practically never leave)."""
        a, b = self._param_array()
        return float((a + b - 1.0) / (a - 1.0)) if a > 1 else math.inf

    def discounted_expected_lifetime(self, discount_rate: ArrayLike) -> _FloatArray:
        """DEL(d) = 2F1(1, beta; alpha + beta; 1/(1+d)) (Fader & Hardie 2010): a new
        customer's expected discounted number of payments, the first (at acquisition)
        undiscounted; ``d`` per period. Times the margin per period it is her expected CLV."""
        rates = np.atleast_1d(discount_rates(discount_rate, per="period"))
        return discounted_expected_lifetime(self._param_array(), rates)

    def derl(self, discount_rate: float, renewals: ArrayLike) -> _FloatArray:
        """DERL(d | n - 1 renewals) (Fader & Hardie 2010)::

            (beta + n - 1)/(alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1/(1+d))

        for a customer who has made ``renewals = n - 1`` renewals (is active in period ``n``)
        and is about to decide on the next: her expected discounted number of future payments,
        the next one undiscounted. Times the margin per period it is her residual value.
        """
        rate = discount_rates(discount_rate, per="period")
        if rate.size != 1:
            raise InvalidValueError("discount_rate must be a single number",
                                    field="discount_rate")
        return derl(self._param_array(), float(rate.reshape(-1)[0]),
                    _periods(renewals, "renewals"))
