"""The BG/NBD model (Fader, Hardie & Lee 2005) and its modified form, MBG/NBD (Batislam,
Denizel & Filiztekin 2007).

While alive, a customer buys at Poisson rate ``lambda``; right after each repeat purchase she
drops out with probability ``p`` (MBG/NBD: also right after the first purchase, at time 0).
Across customers ``lambda ~ Gamma(r, alpha)`` (shape, rate) and ``p ~ Beta(a, b)``.

References
----------
P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy Way: An
Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284 (equations 6-10).
E. P. Batislam, M. Denizel and A. Filiztekin (2007), "Empirical validation and comparison of
models for customer base analysis", *International Journal of Research in Marketing* 24(3),
201-209.
P. S. Fader and B. G. S. Hardie (2013), "Overcoming the BG/NBD Model's #NUM! Error Problem",
http://brucehardie.com/notes/027/ (the rearrangement used for large ``x``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import eigh_tridiagonal
from scipy.special import betainc, betaln, digamma, gammaln, polygamma

from crmcore._base import CustomerBase, column_codes, compress_rows
from crmcore._deprecation import renamed_parameters
from crmcore.value._btyd import (
    _LARGE_BETA,
    _MAX_SUM_TERMS,
    FloatArray,
    beta_expectation,
    check_counts,
    check_horizon,
    check_rate,
    customer_arrays,
    gauss_laguerre,
    hyp2f1_stable,
    log1mexp,
    log_beta_ratio,
)
from crmcore.value._covariates import BTYDStaticCovariates

__all__ = ["BGNBD", "MBGNBD"]

# E[Y(t)] given alive is E[g(p)] for p ~ Beta(a, b'): below a = 50 (and b = 1e3) from Gauss'
# hypergeometric function (FHL 2005), whose evaluation loses digits or fails beyond; up to 1e4 by
# Gauss-Jacobi quadrature in p; from 1e4 on from the expansion of Beta(a, b') around its mean
# (error O(a^-3), below 1e-12).
_QUADRATURE_A = 50.0
_QUADRATURE_B = 1e3  # the hypergeometric route also loses digits for large b (5e-9 at 1e6)
_ASYMPTOTIC_A = 1e4
_JACOBI_NODES = 48


@functools.lru_cache(maxsize=256)
def _jacobi_rule(a: float, b: float) -> tuple[FloatArray, FloatArray]:
    """Nodes in p and weights (summing to 1) of Gauss-Jacobi quadrature for ``Beta(a, b)``,
    by the Golub-Welsch eigenvalue method on the Jacobi polynomials' three-term recurrence
    (weight ``(1-x)^al (1+x)^be`` on [-1, 1], ``al = b - 1``, ``be = a - 1``, ``p = (1+x)/2``);
    unlike ``scipy.special.roots_jacobi`` it does not form ``2^(al+be)``, so it works for any
    ``a, b > 0``."""
    al, be = b - 1.0, a - 1.0
    n = np.arange(_JACOBI_NODES, dtype=np.float64)
    s = 2.0 * n + al + be
    with np.errstate(divide="ignore", invalid="ignore"):
        diagonal = (be * be - al * al) / (s * (s + 2.0))
    diagonal[0] = (be - al) / (al + be + 2.0)
    k = n[1:]
    sk = s[1:]
    off = np.sqrt(4.0 * k * (k + al) * (k + be) * (k + al + be)
                  / (sk * sk * (sk + 1.0) * (sk - 1.0)))
    x, vectors = eigh_tridiagonal(diagonal, off)
    weights = vectors[0] ** 2
    return (1.0 + x) / 2.0, weights / weights.sum()


def _log_pmf_alive(k: FloatArray, t: FloatArray, r: FloatArray, alpha: FloatArray,
                   a: float | FloatArray, b: FloatArray) -> FloatArray:
    """``log P(X(t) = k)`` of a BG/NBD customer alive at the start of ``(0, t]`` with
    ``lambda ~ Gamma(r, alpha)``, ``p ~ Beta(a, b)`` (FHL 2005, eq. 8): ``B(a, b+k)/B(a, b)
    NB(k) + [k > 0] B(a+1, b+k-1)/B(a, b) P(N >= k)``, ``N ~ NB(r, alpha/(alpha+t))``.

    At ``k = 0`` this is ``NB(0) = (alpha/(alpha+t))^r`` alone (the beta ratio is 1 and there
    is no second term); the special functions are evaluated for the rows with ``k > 0`` only
    (churn risk asks for ``k = 0`` of every customer)."""
    k, t, r, alpha, a_, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                                  for v in (k, t, r, alpha, a, b)))
    result: FloatArray = -r * np.log1p(t / alpha)
    some = k > 0
    if not np.any(some):
        return np.asarray(result, dtype=np.float64)
    k, t, r, alpha, b = k[some], t[some], r[some], alpha[some], b[some]
    a = a if np.ndim(a) == 0 else a_[some]  # per-customer a (covariates)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_nb = (gammaln(r + k) - gammaln(r) - gammaln(k + 1.0) - r * np.log1p(t / alpha)
                  + k * (np.log(t) - np.log(alpha + t)))
    log_stay = _log_beta_ratio_rows(a, b, k) + log_nb
    # P(N >= k) is the regularised incomplete beta I_{t/(alpha+t)}(k, r)
    tail = betainc(k, r, t / (alpha + t))
    # B(a+1, b+k-1)/B(a, b) = a/(a+b+k-1) B(a, b+k-1)/B(a, b)
    km1 = k - 1.0
    with np.errstate(divide="ignore"):
        log_drop = (np.log(a) - np.log(a + b + km1) + _log_beta_ratio_rows(a, b, km1)
                    + np.log(tail))
    result = result.copy()
    result[some] = np.logaddexp(log_stay, log_drop)
    return np.asarray(result, dtype=np.float64)


def _log_beta_ratio_rows(a: float | FloatArray, b: FloatArray, n: FloatArray) -> FloatArray:
    """``log B(a, b+n)/B(a, b)`` row by row (``b`` varies with the customer's history, ``a``
    too with covariates): for moderate ``a + b`` all rows at once (the formula
    :func:`log_beta_ratio` uses there), for large ``a + b`` once per distinct ``(a, b)`` (its
    running sums)."""
    aa, bb, nn = np.broadcast_arrays(np.asarray(a, dtype=np.float64),
                                     np.asarray(b, dtype=np.float64), np.asarray(n, np.float64))
    out = np.empty(bb.shape)
    flat_a, flat_b, flat_n = aa.reshape(-1), bb.reshape(-1), nn.reshape(-1)
    flat_out = out.reshape(-1)
    moderate = flat_a + flat_b <= _LARGE_BETA
    flat_out[moderate] = (betaln(flat_a[moderate], flat_b[moderate] + flat_n[moderate])
                          - betaln(flat_a[moderate], flat_b[moderate]))
    large = ~moderate
    if np.any(large):
        pairs = np.unique(np.column_stack([flat_a[large], flat_b[large]]), axis=0)
        for a_value, b_value in pairs:
            rows = large & (flat_a == a_value) & (flat_b == b_value)
            flat_out[rows] = log_beta_ratio(float(a_value), float(b_value), flat_n[rows])[0]
    return flat_out.reshape(bb.shape)


def _log_beta_ratio_hessian(a: float, b: float, n: FloatArray
                            ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Second derivatives ``(d2D/da2, d2D/da db, d2D/db2)`` of ``D(n) = log B(a, b+n) /
    B(a, b)`` for whole ``n >= 0``, on the same two routes as :func:`log_beta_ratio`:
    trigamma differences for moderate ``a + b``; for large ``a + b`` the sums
    ``d2D/da2 = d2D/da db = sum_{j<n} 1/(a+b+j)^2`` and ``d2D/db2 = -sum_{j<n} a (a+2b+2j) /
    ((b+j)^2 (a+b+j)^2)``, which keep their relative precision."""
    nn = np.asarray(n, dtype=np.float64)
    top = float(np.max(nn)) if nn.size else 0.0
    if a + b <= _LARGE_BETA or top > _MAX_SUM_TERMS:
        d_aa = polygamma(1, a + b) - polygamma(1, a + b + nn)
        d_bb = polygamma(1, b + nn) - polygamma(1, b) + d_aa
        return (np.asarray(d_aa, dtype=np.float64), np.asarray(d_aa, dtype=np.float64),
                np.asarray(d_bb, dtype=np.float64))
    j = np.arange(int(top), dtype=np.float64)
    index = nn.astype(np.intp)
    s = a + b + j
    aa = np.concatenate([[0.0], np.cumsum(1.0 / (s * s))])[index]
    bb = np.concatenate([[0.0], np.cumsum(-a * (a + 2.0 * (b + j)) / ((b + j) ** 2 * s * s))
                         ])[index]
    return aa, aa, bb


def _conditional_hypergeometric(t: FloatArray, x: FloatArray, t_obs: FloatArray,
                                log_p_alive: FloatArray, c0: FloatArray, r: FloatArray,
                                alpha: FloatArray, a: float | FloatArray) -> FloatArray:
    """E[Y(t) | x, t_x, T] by FHL 2005 eq. 10 (parameters broadcast against the rows).

    Eq. 10 is ``c0/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; c0;
    t/(alpha+T+t))] P(alive)`` with ``c0 = a+b+x-1`` (MBG/NBD: ``a+b+x``). Two Euler
    transformations turn the prefactor and 2F1 into ``((alpha+T)/(alpha+T+t))^(a-1) 2F1(a-1,
    c0-r-x; c0; z)``, whose parameters no longer grow with x (no overflow for x in the
    thousands)."""
    z = t / (alpha + t_obs + t)
    log_q = (a - 1.0) * (np.log(alpha + t_obs) - np.log(alpha + t_obs + t))
    f = hyp2f1_stable(a - 1.0, c0 - r - x, c0, z)
    factor = -np.expm1(log_q) - np.exp(log_q) * (f - 1.0)  # 1 - q F, with care near t = 0
    return np.asarray(c0 / (a - 1.0) * factor * np.exp(log_p_alive), dtype=np.float64)


class _BetaGeometricNBD(BTYDStaticCovariates):
    """BG/NBD and MBG/NBD share everything but where the dropout coin is first tossed.

    With static covariates (as CLVTools' ``bgnbd``): ``alpha_i = alpha exp(-gamma_trans .
    x_i)``, ``a_i = a exp(gamma_life . x_i)``, ``b_i = b exp(gamma_life . x_i)``.
    """

    param_names = ("r", "alpha", "a", "b")
    _modified: ClassVar[bool] = False
    _vectorised: ClassVar[frozenset[str]] = frozenset({
        "p_alive", "expected_purchases", "conditional_probability_of_purchases", "dert",
        "lifetime_value"})
    _covariate_targets: ClassVar[Mapping[str, tuple[str, float]]] = {
        "alpha": ("trans", -1.0), "a": ("life", 1.0), "b": ("life", 1.0)}
    _mixing_pairs = (
        ("r", "alpha", "gamma", "purchase rate lambda = r/alpha (Poisson purchases)",
         "no customer buys again", "every customer buys at an infinite rate"),
        ("a", "b", "beta", "dropout probability p after each repeat purchase",
         "no customer drops out (the NBD model of purchases)",
         "every customer drops out right after her first repeat purchase"),
    )

    def _row_log_likelihood_terms(
        self, rows: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        from crmcore.value._bgnbd_cov import bgnbd_row_terms

        return bgnbd_row_terms(rows, data, modified=self._modified, gradient=gradient)

    # -- likelihood ------------------------------------------------------------------------

    def _prepare_data(self, data: tuple[FloatArray, ...]) -> tuple[FloatArray, ...]:
        # The special functions depend on a pattern only through x, and log(alpha + T),
        # log(alpha + t_x) only through T and t_x, which take few distinct values in real
        # data (one per day of the observation window): compute those once per value.
        if self._design is not None:  # covariates: the per-row likelihood takes the columns
            return data
        # Each column's codes (int64) travel in the float64 tuple as their raw bytes, read back
        # by _codes without a copy (a cast per evaluation cost a tenth of its time).
        helpers: list[FloatArray] = []
        for column in data[:3]:
            unique, inverse = column_codes(column)
            helpers += [unique, np.ascontiguousarray(inverse, dtype=np.int64).view(np.float64)]
        return (*data[:3], *helpers)

    def _codes(self, data: tuple[FloatArray, ...]) -> tuple[FloatArray, ...]:
        """``(x, ux, ix, utx, itx, uT, iT)``: the pattern column ``x``, each column's distinct
        values and the index of each pattern's value (int64) from :meth:`_prepare_data`."""
        if len(data) < 9:
            data = self._prepare_data(data)
        x, _, _, ux, inv_x, utx, inv_tx, uT, inv_T = data
        return (x, ux, inv_x.view(np.int64), utx, inv_tx.view(np.int64), uT,
                inv_T.view(np.int64))

    def _log_likelihood_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        r, alpha, a, b = params
        x, ux, ix, utx, itx, uT, iT = self._codes(data)
        # BG/NBD (FHL 2005):          L = B(a, b+x)/B(a,b) * NB-part(T)
        #                              + [x > 0] B(a+1, b+x-1)/B(a,b) * NB-part(t_x)
        # MBG/NBD (Batislam et al. 2007): B(a, b+x+1) and B(a+1, b+x), second term for all x.
        # log L = common(x) + first + softplus(second - first).
        shift = 1.0 if self._modified else 0.0
        has_second = np.ones_like(ux, dtype=bool) if self._modified else ux > 0
        # B(a, b+x')/B(a, b) with x' = x + shift, and the second term's ratio to the first,
        # B(a+1, b+x'-1)/B(a, b+x') = a/(b+x'-1): both stable for any a, b (a, b -> infinity
        # with a/(a+b) fixed is the limit of a constant dropout probability)
        b_second = np.where(has_second, b + ux + shift - 1.0, 1.0)
        survive, survive_a, survive_b = log_beta_ratio(a, b, ux + shift, gradient=gradient)
        with np.errstate(divide="ignore"):
            beta_gap = np.where(has_second, np.log(a) - np.log(b_second), -np.inf)
        log_T = np.log(alpha + uT)[iT]
        log_gap = np.log(alpha + utx)[itx] - log_T  # log(alpha+t_x) - log(alpha+T) <= 0
        rx = r + x
        common = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + survive
        d = beta_gap[ix] - rx * log_gap
        e = np.exp(-np.abs(d))
        ll = common[ix] - rx * log_T + np.maximum(d, 0.0) + np.log1p(e)
        if not gradient:
            return ll, None
        assert survive_a is not None
        assert survive_b is not None
        w2 = np.where(d > 0, 1.0, e) / (1.0 + e)  # share of the second term
        # one row per parameter, returned transposed (column-major): the weighted sums over
        # patterns then run along contiguous memory
        grad = np.empty((4, len(x)))
        d_r, d_alpha, d_a, d_b = grad
        np.subtract((digamma(r + ux) - digamma(r) + np.log(alpha))[ix], log_T, out=d_r)
        d_r -= w2 * log_gap
        inv_T = (1.0 / (alpha + uT))[iT]
        np.multiply(w2, (1.0 / (alpha + utx))[itx] - inv_T, out=d_alpha)
        d_alpha += inv_T
        d_alpha *= -rx
        d_alpha += r / alpha
        np.add(survive_a[ix], w2 / a, out=d_a)
        np.subtract(survive_b[ix], w2 * np.where(has_second, 1.0 / b_second, 0.0)[ix], out=d_b)
        return ll, grad.T

    def _log_likelihood_hessian(
        self, params: FloatArray, data: tuple[FloatArray, ...], w: FloatArray
    ) -> FloatArray | None:
        """Exact Hessian of ``sum_i w_i ll_i`` in ``(r, alpha, a, b)`` (no covariates).

        With ``ll = common(x) - (r+x) log(alpha+T) + log(1 + e^d)`` as in
        ``_log_likelihood_terms``, the Hessian is that of the smooth part plus ``s grad(d)
        grad(d)^T + w2 hess(d)``, where ``w2 = sigmoid(d)`` is the second term's share and
        ``s = w2 (1 - w2)``. Terms that depend on a pattern through ``x`` only are summed per
        distinct ``x``.
        """
        if self._design is not None:
            return None
        r, alpha, a, b = params
        x, ux, ix, utx, itx, uT, iT = self._codes(data)
        shift = 1.0 if self._modified else 0.0
        has_second = np.ones_like(ux, dtype=bool) if self._modified else ux > 0
        b_second = np.where(has_second, b + ux + shift - 1.0, 1.0)
        with np.errstate(divide="ignore"):
            beta_gap = np.where(has_second, np.log(a) - np.log(b_second), -np.inf)
        log_T = np.log(alpha + uT)[iT]
        log_gap = np.log(alpha + utx)[itx] - log_T
        rx = r + x
        d = beta_gap[ix] - rx * log_gap
        e = np.exp(-np.abs(d))
        ww2 = w * np.where(d > 0, 1.0, e) / (1.0 + e)
        curve = w * (e / ((1.0 + e) * (1.0 + e)))  # w s, s = w2 (1 - w2)
        inv_T = (1.0 / (alpha + uT))[iT]
        inv_tx_ = (1.0 / (alpha + utx))[itx]
        gap_inv = inv_tx_ - inv_T
        # gradient of d: (-log_gap, -(r+x) gap_inv, 1/a, -1/b_second) where there is a second
        # term; elsewhere w2 = s = 0, so the constant 1/a needs no mask
        g_r = -log_gap
        g_alpha = -rx * gap_inv
        g_b = (-1.0 / b_second)[ix]
        c_r, c_alpha, c_b = curve * g_r, curve * g_alpha, curve * g_b
        sum_c = float(curve.sum())
        hessian = np.zeros((4, 4))
        hessian[0, 0] = c_r @ g_r
        hessian[0, 1] = c_r @ g_alpha
        hessian[0, 2] = c_r.sum() / a
        hessian[0, 3] = c_r @ g_b
        hessian[1, 1] = c_alpha @ g_alpha
        hessian[1, 2] = c_alpha.sum() / a
        hessian[1, 3] = c_alpha @ g_b
        hessian[2, 2] = sum_c / (a * a)
        hessian[2, 3] = c_b.sum() / a
        hessian[3, 3] = c_b @ g_b
        # w2 times the Hessian of d
        hessian[0, 1] -= float(ww2 @ gap_inv)
        hessian[1, 1] += float(ww2 @ (rx * gap_inv * (inv_tx_ + inv_T)))
        hessian[2, 2] -= float(ww2.sum()) / (a * a)
        hessian[3, 3] += float(ww2 @ g_b ** 2)
        # the smooth part: gammaln(r+x) - gammaln(r) + r log(alpha) - (r+x) log(alpha+T)
        # + log B(a, b+x')/B(a, b)
        total = float(w.sum())
        d_aa, _, d_bb = _log_beta_ratio_hessian(float(a), float(b), ux + shift)
        hessian[0, 0] += float(w @ polygamma(1, r + ux)[ix]) - total * float(polygamma(1, r))
        hessian[0, 1] += total / alpha - float(w @ inv_T)
        hessian[1, 1] += -total * r / (alpha * alpha) + float(w @ (rx * inv_T * inv_T))
        sum_aa = float(w @ d_aa[ix])
        hessian[2, 2] += sum_aa
        hessian[2, 3] += sum_aa  # d2/da db = d2/da2 for the beta-function ratio
        hessian[3, 3] += float(w @ d_bb[ix])
        return np.asarray(hessian + np.triu(hessian, 1).T, dtype=np.float64)

    # -- predictions -----------------------------------------------------------------------

    def _log_odds_dead(self, x: FloatArray, tx: FloatArray, t_obs: FloatArray) -> FloatArray:
        r, alpha, a, b = self._param_array()
        b_x = b + x + (0.0 if self._modified else -1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.log(a / b_x) + (r + x) * np.log((alpha + t_obs) / (alpha + tx))
        if self._modified:
            return np.asarray(odds, dtype=np.float64)
        return np.asarray(np.where(x > 0, odds, -np.inf), dtype=np.float64)

    def p_alive(
        self,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        covariates: object = None,
        customer_id: str | None = None,
    ) -> FloatArray:
        """P(alive at T | x, t_x, T) per customer.

        BG/NBD (Fader, Hardie & Lee 2008, "Computing P(alive) Using the BG/NBD Model",
        brucehardie.com/notes/021):
        ``1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))``;
        MBG/NBD (Batislam et al. 2007): ``1 / (1 + a / (b + x) (...)^(r + x))`` for every x.
        The odds are formed as ``exp`` of their logarithm (an overflow gives odds of infinity
        and P(alive) = 0, its correct limit), so the result stays in [0, 1] for any history.
        """
        if covariates is not None or self._design is not None:
            return self._by_covariates("p_alive", (), base_or_frequency, covariates,
                                       customer_id)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        r, alpha, a, b = self._param_array()
        b_x = b + x + (0.0 if self._modified else -1.0)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            odds = a / b_x * np.exp((r + x) * np.log((alpha + t_obs) / (alpha + tx)))
            alive = 1.0 / (1.0 + odds)
        if not self._modified:
            alive = np.where(x > 0, alive, 1.0)
        return np.asarray(alive, dtype=np.float64)

    def _conditional(self, t: FloatArray, x: FloatArray, t_obs: FloatArray,
                     log_p_alive: FloatArray) -> FloatArray:
        _, _, a, b = self._param_array()
        if np.ndim(a) > 0:  # one parameter vector per customer (covariates)
            return self._conditional_rows(t, x, t_obs, log_p_alive)
        h = 1e-5
        if abs(a - 1.0) < 1e-7:
            # c0/(a-1) [...] has a finite limit at a = 1: the mean of two neighbours
            return 0.5 * (self._conditional_with(t, x, t_obs, log_p_alive, 1.0 + h, b)
                          + self._conditional_with(t, x, t_obs, log_p_alive, 1.0 - h, b))
        return self._conditional_with(t, x, t_obs, log_p_alive, a, b)

    def _conditional_with(self, t: FloatArray, x: FloatArray, t_obs: FloatArray,
                          log_p_alive: FloatArray, a: float, b: float) -> FloatArray:
        c0 = a + b + x - (0.0 if self._modified else 1.0)
        result = self._conditional_at(t, x, t_obs, log_p_alive, c0, a)
        # BG/NBD with x = 0 and a + b <= 1: c0 = a + b - 1 may sit on a pole of 2F1 (0, -1,
        # ...), where c0 * 2F1 has a finite limit; take it as the mean of two neighbours.
        near_pole = (c0 < 0.5) & (np.abs(c0 - np.round(c0)) < 1e-6)
        if np.any(near_pole):
            h = 1e-5
            flat = [np.broadcast_to(v, result.shape).reshape(-1)
                    for v in (t, x, t_obs, log_p_alive, c0)]
            idx = np.flatnonzero(np.broadcast_to(near_pole, result.shape))
            args = (flat[0][idx], flat[1][idx], flat[2][idx], flat[3][idx])
            pole = np.round(flat[4][idx])
            out = result.reshape(-1).copy()
            out[idx] = 0.5 * (self._conditional_at(*args, pole + h, a)
                              + self._conditional_at(*args, pole - h, a))
            result = out.reshape(result.shape)
        return result

    def _conditional_at(self, t: FloatArray, x: FloatArray, t_obs: FloatArray,
                        log_p_alive: FloatArray, c0: FloatArray, a: float) -> FloatArray:
        r, alpha, _, b = self._param_array()
        if a >= _QUADRATURE_A or b >= _QUADRATURE_B:
            return self._conditional_large_a(t, x, t_obs, log_p_alive, c0, a)
        return _conditional_hypergeometric(t, x, t_obs, log_p_alive, c0, r, alpha, a)

    def _conditional_rows(self, t: FloatArray, x: FloatArray, t_obs: FloatArray,
                          log_p_alive: FloatArray) -> FloatArray:
        """:meth:`_conditional` with one parameter vector per customer (``_param_array``
        gives ``(n,)`` arrays, broadcast against the other arguments). The same branches as
        the covariate-free model, chosen per row: the hypergeometric form (with the limits at
        ``a = 1`` and at the poles of ``2F1``) for all its rows in one pass; the rows of large
        ``a`` or ``b`` (quadrature, asymptotic expansion) once per distinct parameter vector
        with the covariate-free model."""
        params = self._param_array()
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in
                                       (t, x, t_obs, log_p_alive, *params)))
        shape = arrays[0].shape
        tt, xx, tobs, lp, r, alpha, a, b = (v.reshape(-1) for v in arrays)
        out = np.empty(tt.shape)
        shift = 0.0 if self._modified else 1.0
        large = (a >= _QUADRATURE_A) | (b >= _QUADRATURE_B)
        near_one = np.abs(a - 1.0) < 1e-7

        def hypergeometric(idx: NDArray[np.intp], a_used: FloatArray) -> FloatArray:
            args = (tt[idx], xx[idx], tobs[idx], lp[idx])
            c0 = a_used + b[idx] + xx[idx] - shift
            # as _conditional_with: c0 * 2F1 near a pole of 2F1, the mean of two neighbours
            # (the pole itself is not evaluated)
            near_pole = (c0 < 0.5) & (np.abs(c0 - np.round(c0)) < 1e-6)
            off = ~near_pole
            value = np.empty(len(idx))
            value[off] = _conditional_hypergeometric(
                args[0][off], args[1][off], args[2][off], args[3][off], c0[off],
                r[idx][off], alpha[idx][off], a_used[off])
            if np.any(near_pole):
                h = 1e-5
                pole = np.round(c0[near_pole])
                t_, x_, tobs_, lp_ = (v[near_pole] for v in args)
                rr, al, aa = r[idx][near_pole], alpha[idx][near_pole], a_used[near_pole]
                above = _conditional_hypergeometric(t_, x_, tobs_, lp_, pole + h, rr, al, aa)
                below = _conditional_hypergeometric(t_, x_, tobs_, lp_, pole - h, rr, al, aa)
                value[near_pole] = 0.5 * (above + below)
            return value

        regular = np.flatnonzero(~large & ~near_one)
        out[regular] = hypergeometric(regular, a[regular])
        at_one = np.flatnonzero(~large & near_one)
        if len(at_one):  # as _conditional: the mean of the neighbours a = 1 +- h
            h = 1e-5
            out[at_one] = 0.5 * (hypergeometric(at_one, np.full(len(at_one), 1.0 + h))
                                 + hypergeometric(at_one, np.full(len(at_one), 1.0 - h)))
        rest = np.flatnonzero(large)
        if len(rest):
            stacked = np.column_stack([r[rest], alpha[rest], a[rest], b[rest]])
            unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
            inverse = np.asarray(inverse).reshape(-1)
            for g, vector in enumerate(unique):
                idx = rest[inverse == g]
                plain = self._plain(vector)
                out[idx] = plain._conditional(tt[idx], xx[idx], tobs[idx], lp[idx])
        return out.reshape(shape)

    def _conditional_large_a(self, t: FloatArray, x: FloatArray, t_obs: FloatArray,
                             log_p_alive: FloatArray, c0: FloatArray, a: float) -> FloatArray:
        """E[Y(t) | x, t_x, T] for large ``a`` (towards a constant dropout probability).

        Given alive, ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b')`` with ``b' =
        c0 + 1 - a``, and ``E[Y(t) | lambda, p] = (1 - e^(-lambda p t))/p`` (FHL 2005), so
        ``E[Y(t)] = E_p[g(p)]`` with ``g(p) = (1 - (1 + p u)^-(r+x))/p``, ``u = t/(alpha+T)``.
        ``g`` is smooth on [0, 1], and ``Beta(a, b')`` concentrates around its mean as ``a``
        grows: :func:`beta_expectation` expands around the mean to ``O(a^-3)`` (below 1e-12 for
        ``a >= 1e4``). At ``a, b -> infinity`` it is the limit ``(1 - (1 + pi u)^-(r+x))/pi``
        with ``pi = a/(a+b)``.
        """
        r, alpha, _, _ = self._param_array()
        u = t / (alpha + t_obs)
        m = r + x
        b_post = c0 + 1.0 - a

        def g(p: FloatArray, k: int) -> FloatArray:
            # derivatives of G(p) = 1 - (1+pu)^-m and of 1/p, combined by Leibniz' rule
            log1p_pu = np.log1p(p * u)
            total = np.zeros(np.broadcast(p, u, m).shape)
            for j in range(k + 1):
                if j == 0:
                    g_j = -np.expm1(-m * log1p_pu)
                else:
                    rising = np.exp(gammaln(m + j) - gammaln(m))
                    g_j = -((-1.0) ** j) * rising * u ** j * np.exp(-(m + j) * log1p_pu)
                inv = (-1.0) ** (k - j) * math.factorial(k - j) / p ** (k - j + 1)
                total = total + math.comb(k, j) * g_j * inv
            return total

        if a >= _ASYMPTOTIC_A:
            value = beta_expectation(a, b_post, g)
        else:
            # Gauss-Jacobi quadrature in p (weight p^(a-1) (1-p)^(b'-1)), once per distinct b'
            value = np.empty(np.broadcast(u, m, b_post).shape)
            uu, mm, bb = np.broadcast_arrays(u, m, b_post)
            for b_value in np.unique(bb):
                rows = bb == b_value
                nodes, weights = _jacobi_rule(float(a), float(b_value))
                pp = nodes[:, None]
                values = -np.expm1(-mm[rows][None, :] * np.log1p(pp * uu[rows][None, :])) / pp
                value[rows] = weights @ values
        return np.asarray(value * np.exp(log_p_alive), dtype=np.float64)

    def expected_purchases(
        self,
        t: ArrayLike,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        covariates: object = None,
        customer_id: str | None = None,
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected repeat purchases in the next ``t`` (conditional).

        FHL 2005, eq. 10 (MBG/NBD: Batislam et al. 2007), rearranged by Euler's
        transformations of the Gauss hypergeometric function so that it is stable for large
        ``x``. ``t`` broadcasts against the customers.
        """
        if covariates is not None or self._design is not None:
            return self._by_covariates("expected_purchases", (t,), base_or_frequency,
                                       covariates, customer_id)
        horizon = check_horizon(t)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        log_alive = -np.logaddexp(0.0, self._log_odds_dead(x, tx, t_obs))
        h, x, t_obs, log_alive = self._vector(horizon, x, t_obs, log_alive)
        return self._conditional(h, x, t_obs, log_alive)

    def _expected_given_alive(self, t: FloatArray, x: FloatArray, t_obs: FloatArray
                              ) -> FloatArray:
        """E[Y(t) | alive at T, x, T] (FHL 2005 eq. 10 without its P(alive) factor), which
        depends on a customer through ``(x, T)`` only; ``lifetime_value`` sums cash flows
        with it once per distinct pair."""
        return self._conditional(t, x, t_obs, np.zeros_like(x))

    def expected_purchases_unconditional(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a new customer in ``(0, t]``.

        BG/NBD: FHL 2005, eq. 9, ``(a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1;
        t/(alpha+t))]``. MBG/NBD: ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b;
        t/(alpha+t))]``, the conditional expectation of a customer observed for no time
        (P(alive at 0) = b/(a+b)).
        """
        horizon = check_horizon(t)
        zeros = np.zeros_like(horizon)
        _, _, a, b = self._param_array()
        log_alive = np.full_like(horizon, np.log(b / (a + b)) if self._modified else 0.0)
        return self._conditional(horizon, zeros, zeros, log_alive)

    def probability_of_purchases(self, k: ArrayLike, t: ArrayLike) -> FloatArray:
        """P(X(t) = k) for a new customer (unconditional).

        BG/NBD: FHL 2005, eq. 8, ``B(a, b+k)/B(a,b) NB(k) + [k > 0] B(a+1, b+k-1)/B(a,b)
        P(N >= k)`` with ``N`` negative binomial ``(r, alpha/(alpha+t))``. MBG/NBD, by the
        same argument with the first coin tossed at time 0: ``B(a, b+k+1)/B(a,b) NB(k) +
        B(a+1, b+k)/B(a,b) P(N >= k)``.
        """
        counts = check_counts(k)
        horizon = check_horizon(t)
        r, alpha, a, b = self._param_array()
        kk, tt = np.broadcast_arrays(counts, horizon)
        shift = 1.0 if self._modified else 0.0
        with np.errstate(divide="ignore"):
            log_nb = (gammaln(r + kk) - gammaln(r) - gammaln(kk + 1.0)
                      + r * (np.log(alpha) - np.log(alpha + tt))
                      + kk * (np.log(tt) - np.log(alpha + tt)))
        log_nb = np.where((kk == 0) & (tt == 0), 0.0, log_nb)
        stay = np.exp(log_beta_ratio(a, b, kk + shift)[0] + log_nb)
        has_second = (kk > 0) | self._modified
        # P(N >= k) for N ~ NB(r, alpha/(alpha+t)) is the regularised incomplete beta
        # I_{t/(alpha+t)}(k, r) (1 when k = 0).
        tail = np.where(kk > 0, betainc(np.maximum(kk, 1.0), r, tt / (alpha + tt)), 1.0)
        # B(a+1, b+k'-1)/B(a, b) = a/(a+b+k'-1) B(a, b+k'-1)/B(a, b), stable for any a, b
        n_second = np.where(has_second, kk + shift - 1.0, 0.0)
        with np.errstate(divide="ignore"):
            log_second = (np.log(a) - np.log(a + b + n_second)
                          + log_beta_ratio(a, b, n_second)[0])
        drop = np.where(has_second, np.exp(log_second) * tail, 0.0)
        return np.asarray(stay + drop, dtype=np.float64)

    def conditional_probability_of_purchases(
        self,
        k: ArrayLike,
        t: ArrayLike,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """P(Y(t) = k | x, t_x, T): probability that an observed customer makes exactly ``k``
        purchases in the next ``t`` (conditional PMF).

        Given alive at ``T`` the posterior is ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~
        Beta(a, b+x)`` (MBG/NBD: ``Beta(a, b+x+1)``, one more coin survived), and the future
        is that of a new BG/NBD customer (Poisson purchases, a coin after each), so

        ``P(Y(t) = k | x, t_x, T) = [k = 0] (1 - P(alive)) + P(alive) P_BG(X(t) = k | r+x,
        alpha+T, a, b')``

        with ``P_BG`` the unconditional PMF of Fader, Hardie & Lee (2005), eq. 8, and ``b' =
        b+x`` (MBG/NBD ``b+x+1``). This is the argument of Fader & Hardie's conditional-PMF
        note for the Pareto/NBD (brucehardie.com/notes/028) carried over to the BG/NBD's
        posterior; the tests check it against a simulation of the model's story. Computed in
        log space (beta functions and the negative binomial term as logarithms), finite for
        any history.

        Parameters
        ----------
        k:
            Whole number of purchases, ``>= 0`` (scalar or array).
        t:
            Length of the horizon after ``T``, ``>= 0``, in the data's time unit.
        base_or_frequency:
            A :class:`crmcore.CustomerBase`, or the repeat purchases ``x`` per customer (then
            ``recency`` and ``T`` are required).
        recency, T:
            Time of the last repeat purchase and length of observation, per customer.

        Returns
        -------
        numpy.ndarray
            The probabilities, ``k``, ``t`` and the customers broadcast against each other.

        Raises
        ------
        InvalidValueError
            ``k`` negative or not whole, ``t`` negative or not finite, bad customer arrays.
        """
        counts = check_counts(k)
        horizon = check_horizon(t)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        r, alpha, a, b = self._param_array()
        log_alive = -np.logaddexp(0.0, self._log_odds_dead(x, tx, t_obs))
        kk, hh, xx, tt, la = self._vector(counts, horizon, x, t_obs, log_alive)
        b_post = b + xx + (1.0 if self._modified else 0.0)
        given_alive = _log_pmf_alive(kk, hh, r + xx, alpha + tt, a, b_post)
        with np.errstate(divide="ignore"):
            log_pmf = la + given_alive
            log_pmf = np.where(kk == 0, np.logaddexp(log_pmf, log1mexp(la)), log_pmf)
        return np.asarray(np.clip(np.exp(log_pmf), 0.0, 1.0), dtype=np.float64)

    @renamed_parameters(discount_rate="continuous_rate")
    def dert(
        self,
        continuous_rate: float,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        n_nodes: int = 80,
        covariates: object = None,
        customer_id: str | None = None,
    ) -> FloatArray:
        """Discounted expected residual transactions per customer.

        ``DERT = integral_0^inf e^(-delta t) dE[Y(t)|x, t_x, T]`` with ``delta`` the
        ``continuous_rate``: the continuously compounded discount rate per unit of the data's
        time (for a ``discount_rate`` ``d`` per year and weekly data, ``delta = log(1 + d) /
        52``; :func:`crmcore.value.lifetime_value` converts it). The keyword
        ``discount_rate=`` still works until the next release, with a
        :class:`DeprecationWarning`. The BG/NBD has no closed form (Fader,
        Hardie & Lee 2005, "RFM and CLV", JMR 42(4), give one for the Pareto/NBD only);
        integrating by parts gives ``delta integral e^(-delta t) E[Y(t)|...] dt``, computed
        with ``n_nodes``-point Gauss-Laguerre quadrature of the closed-form conditional
        expectation.
        """
        if covariates is not None or self._design is not None:
            return self._by_covariates("dert", (continuous_rate,), base_or_frequency,
                                       covariates, customer_id, n_nodes=n_nodes)
        delta = check_rate(continuous_rate)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        log_alive = -np.logaddexp(0.0, self._log_odds_dead(x, tx, t_obs))
        nodes, weights = gauss_laguerre(n_nodes)
        # E[Y(t)] is concave and grows at most linearly, so a node's share of the sum is at
        # most about e * w * u: nodes with w * u < 1e-15 cannot matter and are skipped.
        keep = weights * nodes >= 1e-15
        nodes, weights = nodes[keep], weights[keep]
        # Given alive, E[Y(t)] depends on a customer only through (x, T): integrate once per
        # distinct pair (far fewer than customers; 2F1 near z = 1 is slow) and scale each
        # customer's result by P(alive) afterwards.
        if self._row_params is not None:  # one parameter vector per customer: no pairs
            ux, ut, pair_of = x, t_obs, np.arange(len(x))
        else:
            (ux, ut), _, pair_of = compress_rows(x, t_obs)
        certain = np.zeros_like(ux)
        total = np.zeros_like(ux)
        for u, w in zip(nodes, weights, strict=True):
            total += w * self._conditional(np.full_like(ux, u / delta), ux, ut, certain)
        return np.asarray(total[pair_of] * np.exp(log_alive), dtype=np.float64)


class BGNBD(_BetaGeometricNBD):
    """The beta-geometric/NBD model of Fader, Hardie & Lee (2005).

    The fitted ``params_`` are ``r, alpha, a, b``: ``lambda ~ Gamma(r, alpha)``,
    ``p ~ Beta(a, b)``; ``alpha`` is in the time unit of the data.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (0 = maximum likelihood); see
        :class:`crmcore.value.LikelihoodModel`.
    """

    _modified = False


class MBGNBD(_BetaGeometricNBD):
    """The modified BG/NBD of Batislam, Denizel & Filiztekin (2007).

    As :class:`BGNBD`, but a customer may also drop out right after the first purchase,
    so customers without repeat purchases are not all alive.
    """

    _modified = True
