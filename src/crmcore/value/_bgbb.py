"""The beta-geometric/beta-binomial (BG/BB) model of Fader, Hardie & Shang (2010).

A customer has ``n`` discrete opportunities to transact after the first (e.g. one donation a
year). While alive she transacts at each opportunity with probability ``p``; after each
opportunity she dies with probability ``theta``. Across customers ``p ~ beta(alpha, beta)`` and
``theta ~ beta(gamma, delta)``. A customer's data are ``x`` (opportunities with a transaction),
``t_x`` (the last such opportunity, 0 when ``x = 0``) and ``n``.

Reference: P. S. Fader, B. G. S. Hardie and J. Shang (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", *Marketing Science* 29(6), 1086-1108. Equation numbers
below are the paper's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, gammaln, logsumexp

from crmcore._base import CustomerBase, compress_rows
from crmcore._checks import as_column, finite_non_negative, require_finite
from crmcore._checks import discount_rate as check_discount_rate
from crmcore._errors import InvalidValueError, describe_rows
from crmcore.value._btyd import log_beta_ratio2, log_rising
from crmcore.value._likelihood import LikelihoodModel
from crmcore.value._sbg import hyp2f1_one

_LARGE_BETA = 1e4  # above this a + b (or g + d), rising factorials instead of betaln

__all__ = ["BGBB"]

_FloatArray = NDArray[np.float64]

PARAM_NAMES = ("alpha", "beta", "gamma", "delta")


# -- input checks ----------------------------------------------------------------------------


def check_discrete(
    frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike
) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
    """Check BG/BB summaries (whole numbers with ``0 <= x <= t_x <= n``, ``t_x = 0`` iff
    ``x = 0``) and return them as aligned float arrays; errors name the field and rows."""
    named = {"frequency": frequency, "recency": recency, "n_periods": n_periods}
    arrays = {name: as_column(values, name) for name, values in named.items()}
    try:
        x, tx, n = np.broadcast_arrays(arrays["frequency"], arrays["recency"],
                                       arrays["n_periods"])
    except ValueError as exc:
        raise InvalidValueError(
            "frequency, recency and n_periods must have one value per customer: "
            f"{len(arrays['frequency'])}, {len(arrays['recency'])} and "
            f"{len(arrays['n_periods'])} given", field="n_periods",
        ) from exc
    for name, array in zip(named, (x, tx, n), strict=True):
        require_finite(array, name)
        bad = np.flatnonzero((array < 0) | (array != np.round(array)))
        if len(bad):
            raise InvalidValueError(
                f"{name} must be a whole number of opportunities >= 0; it is not at "
                f"{describe_rows(bad)} (first: {array[bad[0]]!r})", field=name,
                rows=bad.tolist(),
            )
    for name, bad_mask, rule in (
        ("frequency", x > tx, "frequency cannot exceed recency (the last opportunity used)"),
        ("recency", tx > n, "recency cannot exceed n_periods"),
        ("recency", (x == 0) & (tx != 0), "recency must be 0 when frequency is 0"),
        ("recency", (x > 0) & (tx == 0), "recency must be at least 1 when frequency > 0"),
    ):
        bad = np.flatnonzero(bad_mask)
        if len(bad):
            raise InvalidValueError(f"{rule}; violated at {describe_rows(bad)}", field=name,
                                    rows=bad.tolist())
    return (np.array(x, dtype=np.float64), np.array(tx, dtype=np.float64),
            np.array(n, dtype=np.float64))


# -- likelihood and its exact gradient ------------------------------------------------


def _dbetaln(a: Any, b: Any) -> tuple[Any, Any]:
    """Partial derivatives of ``log B(a, b)`` in ``a`` and ``b``."""
    both = digamma(a + b)
    return digamma(a) - both, digamma(b) - both


_CHUNK_CELLS = 1 << 21  # rows x terms evaluated at once: bounds memory for long histories


def log_likelihood_terms(
    params: NDArray[np.float64], x: _FloatArray, tx: _FloatArray, n: _FloatArray,
    *, gradient: bool = True,
) -> tuple[_FloatArray, _FloatArray | None]:
    """Each row's log-likelihood and, optionally, its gradient in the natural
    parameters ``(alpha, beta, gamma, delta)`` (shape ``(rows, 4)``).

    ``L = B(a+x, b+n-x)/B(a,b) * B(g, d+n)/B(g,d)
    + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)/B(a,b) * B(g+1, d+t_x+i)/B(g,d)``; the terms are
    summed in log space (log-sum-exp), so long histories neither overflow nor underflow.
    Rows are processed in blocks of at most ``2**21`` terms, rows with similar ``n - t_x``
    together, so memory stays bounded however long the histories.
    """
    width = int(np.max(n - tx)) + 1 if len(n) else 1
    if len(x) * width <= _CHUNK_CELLS:
        return _log_likelihood_block(params, x, tx, n, gradient=gradient)
    order = np.argsort(n - tx, kind="stable")
    ll = np.empty(len(x))
    grad = np.empty((len(x), 4)) if gradient else None
    widths = (n - tx)[order] + 1.0
    start = 0
    while start < len(order):
        # rows are sorted by width, so a block's cost is (rows x its last row's width), which
        # grows with the block: take the longest block within budget (at least one row)
        cost = np.arange(1, len(order) - start + 1) * widths[start:]
        stop = start + max(1, int(np.searchsorted(cost, _CHUNK_CELLS, side="right")))
        rows = order[start:stop]
        block_ll, block_grad = _log_likelihood_block(params, x[rows], tx[rows], n[rows],
                                                     gradient=gradient)
        ll[rows] = block_ll
        if grad is not None and block_grad is not None:
            grad[rows] = block_grad
        start = stop
    return ll, grad


def _log_likelihood_block(
    params: NDArray[np.float64], x: _FloatArray, tx: _FloatArray, n: _FloatArray,
    *, gradient: bool,
) -> tuple[_FloatArray, _FloatArray | None]:
    a, b, g, d = (float(v) for v in params)
    if max(a + b, g + d) > _LARGE_BETA:
        return _stable_block(params, x, tx, n, gradient=gradient)
    rows = len(x)
    width = int(np.max(n - tx)) if rows else 0
    base_ab, base_gd = betaln(a, b), betaln(g, d)
    # alive through all n opportunities
    alive = betaln(a + x, b + n - x) - base_ab + betaln(g, d + n) - base_gd
    # column i: died right after opportunity t_x + i. Consecutive terms differ by the factor
    # (b+t_x-x+i)(d+t_x+i) / ((a+b+t_x+i)(g+1+d+t_x+i)), so their logs are a running sum:
    # one log per cell instead of two beta functions.
    j = np.arange(max(width - 1, 0), dtype=np.float64)[None, :]
    starts = (b + tx - x, a + b + tx, d + tx, g + 1.0 + d + tx)
    shifted = [z[:, None] + j for z in starts]
    bk, ab, dm, gd = shifted
    died = _running(betaln(a + x, b + tx - x) - base_ab + betaln(g + 1.0, d + tx) - base_gd,
                    np.log((bk * dm) / (ab * gd)), width)
    died[np.arange(width)[None, :] >= (n - tx)[:, None]] = -np.inf
    ll = np.logaddexp(alive, logsumexp(died, axis=1) if width else -np.inf)
    if not gradient:
        return ll, None
    w_alive = np.exp(alive - ll)
    w_died = np.exp(died - ll[:, None])  # zero beyond each row's n - t_x
    sum_died = w_died.sum(axis=1)
    # digamma at the shifted arguments by the same recursion: psi(z+1) = psi(z) + 1/z
    psi_b, psi_ab, psi_d, psi_gd = (
        np.sum(w_died * _running(digamma(z), 1.0 / cells, width), axis=1)
        for z, cells in zip(starts, shifted, strict=True))
    da0, db0 = _dbetaln(a, b)
    dg0, dd0 = _dbetaln(g, d)
    da, db = _dbetaln(a + x, b + n - x)
    dg, dd = _dbetaln(g, d + n)
    grad = np.column_stack([
        w_alive * (da - da0) + sum_died * (digamma(a + x) - da0) - psi_ab,
        w_alive * (db - db0) + psi_b - psi_ab - sum_died * db0,
        w_alive * (dg - dg0) + sum_died * (digamma(g + 1.0) - dg0) - psi_gd,
        w_alive * (dd - dd0) + psi_d - psi_gd - sum_died * dd0,
    ])
    return ll, grad


def _lbr(a: float, b: float, u: Any, v: Any) -> Any:
    """``log B(a+u, b+v) / B(a, b)``: by ``betaln`` as the likelihood computes it for moderate
    ``a + b`` (so that ratios to the likelihood keep every digit), by rising factorials
    beyond ``_LARGE_BETA``."""
    if a + b > _LARGE_BETA:
        return log_beta_ratio2(a, b, u, v)[0]
    return betaln(a + np.asarray(u, dtype=np.float64), b + np.asarray(v, dtype=np.float64)) \
        - betaln(a, b)


def _stable_block(
    params: NDArray[np.float64], x: _FloatArray, tx: _FloatArray, n: _FloatArray,
    *, gradient: bool,
) -> tuple[_FloatArray, _FloatArray | None]:
    """The same likelihood for large ``alpha + beta`` or ``gamma + delta`` (towards one
    transaction or one dropout probability for everyone): each beta-function ratio as rising
    factorials (:func:`crmcore.value._btyd.log_beta_ratio2`), which keep their digits where
    differences of ``betaln`` (each about ``-(a+b) log(a+b)``) lose them."""
    a, b, g, d = (float(v) for v in params)
    width = int(np.max(n - tx)) if len(x) else 0
    alive_ab, da_al, db_al = log_beta_ratio2(a, b, x, n - x, gradient=gradient)
    alive_gd, dg_al, dd_al = log_beta_ratio2(g, d, 0.0, n, gradient=gradient)
    alive = alive_ab + alive_gd
    i = np.arange(width, dtype=np.float64)[None, :]
    valid = i < (n - tx)[:, None]
    died_ab, da_d, db_d = log_beta_ratio2(a, b, x[:, None], (tx - x)[:, None] + i,
                                          gradient=gradient)
    died_gd, dg_d, dd_d = log_beta_ratio2(g, d, 1.0, tx[:, None] + i, gradient=gradient)
    died = np.where(valid, died_ab + died_gd, -np.inf)
    ll = np.logaddexp(alive, logsumexp(died, axis=1) if width else -np.inf)
    if not gradient:
        return np.asarray(ll, dtype=np.float64), None
    w_alive = np.exp(alive - ll)
    w_died = np.exp(died - ll[:, None])
    columns = []
    for on_alive, on_died in ((da_al, da_d), (db_al, db_d), (dg_al, dg_d), (dd_al, dd_d)):
        assert on_alive is not None
        assert on_died is not None
        columns.append(w_alive * on_alive
                       + np.sum(w_died * np.where(valid, on_died, 0.0), axis=1))
    grad = np.column_stack(columns)
    return np.asarray(ll, dtype=np.float64), grad


def _running(first: _FloatArray, steps: _FloatArray, width: int) -> _FloatArray:
    """``first[:, None]`` followed by its running sums with ``steps`` (``width`` columns)."""
    out = np.empty((len(first), width))
    if width:
        out[:, 0] = first
        np.cumsum(steps, axis=1, out=out[:, 1:])
        out[:, 1:] += first[:, None]
    return out


# -- predictions ------------------------------------------------------------------------------


def _sum_survival(g: float, d: float, start: _FloatArray, count: _FloatArray) -> _FloatArray:
    """``sum_{i=1}^{count} B(g, d+start+i) / B(g, d)`` in closed form, the identity behind
    the unconditional and conditional expectations::

        d/(g-1) * G(g+d)/G(1+d) * [G(1+d+s)/G(g+d+s) - G(1+d+s+N)/G(g+d+s+N)]

    Written as ``exp(h(s)) * -expm1(h(s+N) - h(s)) / (g-1)`` with
    ``h(m) = log G(1+d+m) - log G(g+d+m)``; at ``g = 1`` the limit
    ``psi(1+d+s+N) - psi(1+d+s)`` replaces the ratio.
    """
    def h(m: _FloatArray, step: _FloatArray) -> _FloatArray:
        # h(m + step) - h(m) as rising factorials: no cancellation for large g, d
        result: _FloatArray = (log_rising(1.0 + d + m, step)[0]
                               - log_rising(g + d + m, step)[0])
        return result

    start = np.asarray(start, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    lead = np.log(d) + h(np.zeros_like(start), start)
    if abs(g - 1.0) < 1e-9:
        ratio = digamma(1.0 + d + start + count) - digamma(1.0 + d + start)
    else:
        ratio = -np.expm1(h(start, count)) / (g - 1.0)
    out: _FloatArray = np.exp(lead) * ratio
    return out


def p_alive(params: NDArray[np.float64], x: _FloatArray, tx: _FloatArray, n: _FloatArray,
            periods_ahead: float = 0.0) -> _FloatArray:
    """P(alive at opportunity ``n + periods_ahead`` | x, t_x, n) (the paper's expression for
    P(alive at ``n + 1``), with ``n + periods_ahead`` in place of ``n + 1``)."""
    a, b, g, d = (float(v) for v in params)
    ll, _ = log_likelihood_terms(params, x, tx, n, gradient=False)
    log_num = (_lbr(a, b, x, n - x)
               + _lbr(g, d, 0.0, n + periods_ahead))
    out: _FloatArray = np.exp(np.minimum(log_num - ll, 0.0))
    return out


def conditional_expected_purchases(
    params: NDArray[np.float64], t: _FloatArray, x: _FloatArray, tx: _FloatArray, n: _FloatArray,
) -> _FloatArray:
    """E[X(n, n+t) | x, t_x, n]: expected transactions in the next ``t`` opportunities."""
    a, b, g, d = (float(v) for v in params)
    ll, _ = log_likelihood_terms(params, x, tx, n, gradient=False)
    log_p = _lbr(a, b, x + 1.0, n - x) - ll
    out: _FloatArray = np.exp(log_p) * _sum_survival(g, d, n, t)
    return out


def unconditional_expected_purchases(params: NDArray[np.float64], n: _FloatArray
                                     ) -> _FloatArray:
    """E[X(n)]: expected transactions of a new customer in ``n`` opportunities."""
    a, b, g, d = (float(v) for v in params)
    out: _FloatArray = a / (a + b) * _sum_survival(g, d, np.zeros_like(n), n)
    return out


def probability_of_purchases(params: NDArray[np.float64], x: _FloatArray, n: _FloatArray
                             ) -> _FloatArray:
    """P(X(n) = x): probability that a new customer transacts at exactly ``x`` of ``n``
    opportunities (FHS 2010, eq. 7; pairs ``x <= n``).

    ``C(n,x) B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
    + sum_{i=x}^{n-1} C(i,x) B(a+x, b+i-x)/B(a,b) B(g+1, d+i)/B(g,d)``: the sum's terms depend
    on ``(x, i)`` only, so they are tabulated once per distinct ``x`` over ``i < max(n)`` and
    accumulated (log space); every pair then reads its partial sum. The cost is (distinct
    ``x``) x ``max(n)``, not (pairs) x ``max(n)``: the whole histogram of 3,000 opportunities
    for 3,000 cohorts reads one 3,001 x 3,000 table.
    """
    a, b, g, d = (float(v) for v in params)
    first = (gammaln(n + 1.0) - gammaln(x + 1.0) - gammaln(n - x + 1.0)
             + _lbr(a, b, x, n - x) + _lbr(g, d, 0.0, n))
    rest = np.full(len(x), -np.inf)
    width = int(np.max(n)) if len(n) else 0
    has_rest = n > x
    if width and has_rest.any():
        ux, row_of = np.unique(x[has_rest], return_inverse=True)
        col = (n[has_rest] - 1.0).astype(np.intp)
        i = np.arange(width, dtype=np.float64)[None, :]
        found = np.empty(int(has_rest.sum()))
        row_of = row_of.reshape(-1)
        block = max(1, _CHUNK_CELLS // width)  # bounded memory however long the histories
        for start in range(0, len(ux), block):
            xs = ux[start:start + block, None]
            valid = i >= xs
            ii = np.where(valid, i, xs)
            terms = np.where(valid, gammaln(ii + 1.0) - gammaln(xs + 1.0)
                             - gammaln(ii - xs + 1.0) + _lbr(a, b, xs, ii - xs)
                             + _lbr(g, d, 1.0, ii), -np.inf)
            with np.errstate(invalid="ignore"):  # -inf + -inf before each row's first term
                partial = np.logaddexp.accumulate(terms, axis=1)
            mine = (row_of >= start) & (row_of < start + block)
            found[mine] = partial[row_of[mine] - start, col[mine]]
        rest[has_rest] = found
    out: _FloatArray = np.exp(np.logaddexp(first, rest))
    return out


def dert(params: NDArray[np.float64], discount_rate: float, x: _FloatArray, tx: _FloatArray,
         n: _FloatArray) -> _FloatArray:
    """Discounted expected residual transactions (discount rate ``d`` per opportunity;
    the transaction at opportunity ``n + i`` is discounted by ``(1 + d)^-i``)::

        DERT = B(a+x+1, b+n-x)/B(a,b) * B(g, d+n+1)/B(g,d) / (1+d_r)
               * 2F1(1, d+n+1; g+d+n+1; 1/(1+d_r)) / L
    """
    a, b, g, d = (float(v) for v in params)
    ll, _ = log_likelihood_terms(params, x, tx, n, gradient=False)
    log_lead = (_lbr(a, b, x + 1.0, n - x)
                + _lbr(g, d, 0.0, n + 1.0) - np.log1p(discount_rate) - ll)
    series = hyp2f1_one(d + n + 1.0, g + d + n + 1.0, 1.0 / (1.0 + discount_rate))
    out: _FloatArray = np.exp(log_lead) * series
    return out


# -- the model ----------------------------------------------------------------------------------


def _discrete_columns(
    frequency: Any, recency: ArrayLike | None, n_periods: ArrayLike | None,
    weights: ArrayLike | None = None,
) -> tuple[_FloatArray, _FloatArray, _FloatArray, ArrayLike | None, str | None]:
    """Accept a :class:`CustomerBase` (``T`` read as the number of opportunities), any object
    with ``frequency``, ``recency``, ``n_periods`` (and ``weights``) columns such as
    ``crmcore.datasets.load_donations()``, or three arrays."""
    time_unit: str | None = None
    if isinstance(frequency, CustomerBase):
        time_unit = frequency.time_unit
        frequency, recency, n_periods = frequency.frequency, frequency.recency, frequency.T
    elif recency is None and hasattr(frequency, "n_periods"):
        if weights is None:
            weights = getattr(frequency, "weights", None)
        frequency, recency, n_periods = (frequency.frequency, frequency.recency,
                                         frequency.n_periods)
    if recency is None or n_periods is None:
        raise InvalidValueError(
            "give frequency, recency and n_periods (or a CustomerBase)",
            field="recency" if recency is None else "n_periods",
        )
    x, tx, n = check_discrete(frequency, recency, n_periods)
    return x, tx, n, weights, time_unit


class BGBB(LikelihoodModel):
    """Beta-geometric/beta-binomial model of repeat transactions at discrete opportunities
    (Fader, Hardie & Shang 2010, *Marketing Science* 29(6)).

    Parameters ``alpha, beta`` (beta distribution of the transaction probability ``p``) and
    ``gamma, delta`` (beta distribution of the dropout probability ``theta``). Data per
    customer: ``frequency`` ``x`` (repeat transactions), ``recency`` ``t_x`` (opportunity of
    the last one, 0 if none) and ``n_periods`` ``n`` (opportunities observed), all whole
    numbers.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (as in lifetimes; 0 is plain maximum likelihood).

    Examples
    --------
    >>> from crmcore.datasets import load_donations
    >>> model = BGBB().fit(load_donations())
    >>> round(model.params_["alpha"], 3), round(model.log_likelihood_, 1)
    (1.204, -33225.6)
    """

    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES
    _mixing_pairs = (
        ("alpha", "beta", "beta", "transaction probability p at each opportunity",
         "no customer transacts again",
         "every customer transacts at every opportunity while alive"),
        ("gamma", "delta", "beta", "dropout probability theta after each opportunity",
         "no customer drops out", "every customer drops out right after her first purchase"),
    )
    discrete: ClassVar[bool] = True
    """Time is counted in whole opportunities; :meth:`dert` discounts once per opportunity."""

    def __init__(self, *, penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)

    def _log_likelihood_terms(
        self, params: _FloatArray, data: tuple[_FloatArray, ...], *, gradient: bool
    ) -> tuple[_FloatArray, _FloatArray | None]:
        x, tx, n = data
        return log_likelihood_terms(params, x, tx, n, gradient=gradient)

    def _initial_params(self, data: tuple[_FloatArray, ...], weights: _FloatArray
                        ) -> _FloatArray:
        x, _, n = data
        share = float(weights @ (x / np.maximum(n, 1.0)) / weights.sum())
        share = min(max(share, 0.05), 0.95)
        return np.array([share * 2.0, (1.0 - share) * 2.0, 1.0, 3.0])

    def fit(
        self,
        frequency: CustomerBase | ArrayLike | Any,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Estimate the parameters by maximum likelihood (exact gradient).

        Parameters
        ----------
        frequency, recency, n_periods:
            Per customer (or per pattern) ``x``, ``t_x`` and ``n``; or a
            :class:`crmcore.CustomerBase` in place of ``frequency`` (its ``T`` is read as
            the number of opportunities), or an object with ``frequency``, ``recency``,
            ``n_periods`` and ``weights`` columns such as
            :func:`crmcore.datasets.load_donations`.
        weights:
            How many customers each row stands for (default one each).

        Raises
        ------
        InvalidValueError
            Values that are not whole numbers, negative, NaN, or inconsistent
            (``x > t_x``, ``t_x > n``, ``t_x = 0 < x``); the message names the field and rows.
        ConvergenceError
            The optimiser found no strict maximum; ``diagnostics`` says what it saw.
        """
        x, tx, n, weights, time_unit = _discrete_columns(frequency, recency, n_periods, weights)
        return self._fit_patterns((x, tx, n), weights, time_unit=time_unit)

    def _columns(self, frequency: Any, recency: ArrayLike | None, n_periods: ArrayLike | None
                 ) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
        x, tx, n, _, _ = _discrete_columns(frequency, recency, n_periods)
        return x, tx, n

    def p_alive(
        self,
        frequency: CustomerBase | ArrayLike | Any,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
        periods_ahead: float = 0,
    ) -> _FloatArray:
        """Probability that each customer is alive at opportunity ``n + periods_ahead``.

        ``periods_ahead=0`` is the probability of being alive at the end of the observation
        (lifetimes' ``m_periods_in_future=0``); ``periods_ahead=1`` is the paper's
        P(alive at ``n + 1``): ``B(a+x, b+n-x)/B(a,b) * B(g, d+n+1)/B(g,d) / L``.
        """
        x, tx, n = self._columns(frequency, recency, n_periods)
        _check_non_negative(periods_ahead, "periods_ahead")
        predict = partial(p_alive, self._param_array(), periods_ahead=float(periods_ahead))
        return _per_pattern(predict, x, tx, n)

    def expected_purchases(
        self,
        t: ArrayLike,
        frequency: CustomerBase | ArrayLike | Any,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> _FloatArray:
        """Expected transactions in the next ``t`` opportunities, E[X(n, n+t) | x, t_x, n]
        ::

            1/L * B(a+x+1, b+n-x)/B(a,b) * d/(g-1) * G(g+d)/G(1+d)
                * [G(1+d+n)/G(g+d+n) - G(1+d+n+t)/G(g+d+n+t)]
        """
        x, tx, n = self._columns(frequency, recency, n_periods)
        horizon = _broadcast_horizon(t, len(x))
        return _per_pattern(partial(conditional_expected_purchases, self._param_array()),
                            horizon, x, tx, n)

    def expected_purchases_unconditional(self, t: ArrayLike) -> _FloatArray:
        """Expected transactions of a new customer in her first ``t`` opportunities, E[X(t)]
        : ``a/(a+b) * d/(g-1) * [1 - G(g+d)/G(g+d+t) * G(1+d+t)/G(1+d)]``."""
        horizon = np.atleast_1d(np.asarray(t, dtype=np.float64))
        _check_non_negative(horizon, "t")
        return unconditional_expected_purchases(self._param_array(), horizon)

    def expected_purchases_new_customer(self, t: ArrayLike) -> _FloatArray:
        """Expected transactions of a customer acquired now in her first ``t`` opportunities
        (whole numbers): the unconditional expectation :meth:`expected_purchases_unconditional`
        (Fader, Hardie & Shang 2010, eq. 7), under the name every crmcore purchase model
        shares."""
        return self.expected_purchases_unconditional(t)

    def probability_of_purchases(self, k: ArrayLike, t: ArrayLike) -> _FloatArray:
        """P(X(t) = k): probability that a new customer transacts at exactly ``k`` of
        her first ``t`` opportunities (``k`` and ``t`` whole numbers, broadcast together)."""
        kk, tt = np.broadcast_arrays(np.atleast_1d(np.asarray(k, dtype=np.float64)),
                                     np.atleast_1d(np.asarray(t, dtype=np.float64)))
        for name, values in (("k", kk), ("t", tt)):
            bad = np.flatnonzero(~np.isfinite(values) | (values < 0)
                                 | (values != np.round(values)))
            if len(bad):
                raise InvalidValueError(
                    f"{name} must be a whole number >= 0; it is not at {describe_rows(bad)}",
                    field=name, rows=bad.tolist())
        out = np.zeros(kk.shape)
        ok = kk <= tt
        if ok.any():
            out[ok] = probability_of_purchases(self._param_array(), kk[ok].astype(np.float64),
                                               tt[ok].astype(np.float64))
        result: _FloatArray = out
        return result

    def expected_repeat_purchase_counts(
        self, n_periods: CustomerBase | ArrayLike | Any, weights: ArrayLike | None = None
    ) -> _FloatArray:
        """Expected number of customers with 0, 1, ..., ``max(n)`` repeat transactions, given
        each customer's number of opportunities ``n`` (the probability of each count, summed
        over customers), to compare with the observed histogram of ``frequency`` as the paper
        does.

        ``n_periods`` may be a :class:`crmcore.CustomerBase` (its ``T``), an object with
        ``n_periods`` and ``weights`` columns such as ``crmcore.datasets.load_donations()``,
        or an array (with optional ``weights``, customers per row).
        """
        if isinstance(n_periods, CustomerBase):
            n_obs = np.asarray(n_periods.T, dtype=np.float64)
        elif hasattr(n_periods, "n_periods"):
            if weights is None:
                weights = getattr(n_periods, "weights", None)
            n_obs = np.asarray(n_periods.n_periods, dtype=np.float64)
        else:
            n_obs = np.atleast_1d(np.asarray(n_periods, dtype=np.float64))
        _check_non_negative(n_obs, "n_periods")
        if np.any(n_obs != np.round(n_obs)):
            raise InvalidValueError("n_periods must be whole numbers", field="n_periods")
        w = np.ones(len(n_obs)) if weights is None else np.asarray(weights, dtype=np.float64)
        unique_n, inverse = np.unique(n_obs, return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=w, minlength=len(unique_n))
        k = np.arange(int(unique_n.max()) + 1, dtype=np.float64)
        probs = self.probability_of_purchases(k[:, None], unique_n[None, :])
        out: _FloatArray = probs @ counts
        return out

    def dert(
        self,
        discount_rate: float,
        frequency: CustomerBase | ArrayLike | Any,
        recency: ArrayLike | None = None,
        n_periods: ArrayLike | None = None,
    ) -> _FloatArray:
        """Discounted expected residual transactions at ``discount_rate`` per
        opportunity; a transaction ``i`` opportunities ahead is discounted by
        ``(1 + discount_rate)^-i``::

            DERT = B(a+x+1, b+n-x)/B(a,b) * B(g, d+n+1)/B(g,d) / (1+d_r)
                   * 2F1(1, d+n+1; g+d+n+1; 1/(1+d_r)) / L
        """
        rate = check_discount_rate(discount_rate, per="purchase opportunity", to_infinity=True)
        x, tx, n = self._columns(frequency, recency, n_periods)
        return _per_pattern(partial(dert, self._param_array(), rate), x, tx, n)


def _per_pattern(predict: Callable[..., _FloatArray], *columns: _FloatArray) -> _FloatArray:
    """``predict(*columns)`` evaluated once per distinct row of ``columns`` (customers share
    few ``(x, t_x, n)`` patterns: a cohort with ``n`` opportunities has at most
    ``1 + n (n + 1) / 2``, 22 for six), spread back to the rows."""
    unique, _, inverse = compress_rows(*columns)
    out: _FloatArray = predict(*unique)[inverse]
    return out


def _check_non_negative(value: Any, name: str) -> None:
    finite_non_negative(value, name)


def _check_whole(value: Any, name: str) -> None:
    _check_non_negative(value, name)
    if float(value) != round(float(value)):
        raise InvalidValueError(f"{name} must be a whole number, got {value!r}", field=name)


def _broadcast_horizon(t: ArrayLike, n: int) -> _FloatArray:
    horizon = np.asarray(t, dtype=np.float64)
    _check_non_negative(horizon, "t")
    try:
        return np.array(np.broadcast_to(horizon, (n,)), dtype=np.float64)
    except ValueError as exc:
        raise InvalidValueError(f"t must be one number or one per customer ({n}); got shape "
                                f"{horizon.shape}", field="t") from exc
