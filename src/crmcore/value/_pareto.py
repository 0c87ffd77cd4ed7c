"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

While alive, a customer buys at Poisson rate ``lambda``; her lifetime is exponential with rate
``mu``. Across customers ``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)`` (shape,
rate), independently.

Likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related
Expressions", http://brucehardie.com/notes/009/, eq. 18-20)::

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s  +  s I ]
    I = integral_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau
      = [F(z(t_x)) / (rho+t_x)^m - F(z(T)) / (rho+T)^m] / m,     m = r+s+x,

with ``rho = max(alpha, beta)``, ``F(z) = 2F1(m, k; m+1; z)`` where ``k = s+1, z(t) =
(alpha-beta)/(alpha+t)`` if ``alpha >= beta`` and ``k = r+x, z(t) = (beta-alpha)/(beta+t)``
otherwise. ``0 <= z < 1`` always. Euler's transformation ``F(z) = (1-z)^(1-k) 2F1(1, m+1-k;
m+1; z)`` leaves a series with positive terms whose ratio is below ``z``, summed here together
with its derivatives in ``m+1-k``, ``m+1`` and ``z`` (digamma-type sums), which gives the exact
gradient of the log-likelihood. Everything is combined in log space.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, hyp2f1, roots_legendre

from crmcore._base import CustomerBase, compress_rows
from crmcore._deprecation import renamed_parameters
from crmcore._errors import InvalidValueError
from crmcore.value._btyd import (
    FloatArray,
    check_counts,
    check_horizon,
    check_rate,
    customer_arrays,
    log1mexp,
)
from crmcore.value._btyd import log_rising as _log_rising
from crmcore.value._covariates import BTYDStaticCovariates

__all__ = ["ParetoNBD"]

_SERIES_TOLERANCE = 1e-17
_SERIES_MAX_TERMS = 100_000
_SERIES_MAX_Z = 0.95


def _direct_series(m: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """``2F1(1, m; c; z)`` summed term by term (``0 <= z < 1``, ``0 < m < c``): each term is the
    last times ``(m + n) z / (c + n) < z``, so the sum converges for any ``z < 1``, in about
    ``40 / (1 - z)`` terms; the fall-back where SciPy's value is not finite."""
    total = np.ones_like(z)
    term = np.ones_like(z)
    active = np.arange(len(z))
    n = 0
    while len(active) and n < _SERIES_MAX_TERMS:
        term[active] *= (m[active] + n) / (c[active] + n) * z[active]
        total[active] += term[active]
        active = active[term[active] > _SERIES_TOLERANCE * total[active]]
        n += 1
    return total


def _series(
    m: FloatArray, c: FloatArray, z: FloatArray, *, derivatives: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``G = 2F1(1, m; c; z) = sum_n [(m)_n / (c)_n] z^n`` for ``0 <= z < 1``, ``0 < m < c``,
    with ``dG/dm``, ``dG/dc`` and ``dG/dz`` (zeros unless ``derivatives``).

    Terms are positive and shrink by at least ``z`` each step; the loop runs over the index
    ``n`` (vectorised over customers) and drops customers as their sums converge. Without
    derivatives, :func:`scipy.special.hyp2f1` is used (the series where it is not finite).
    """
    if not derivatives:
        # values only (predictions, the final log-likelihood): SciPy's 2F1 agrees with the
        # series to ~1e-14 here and is faster; the series stays as the fall-back
        value = np.asarray(hyp2f1(1.0, m, c, z), dtype=np.float64)
        bad = ~np.isfinite(value)
        if bad.any():  # SciPy gives inf at some z near 1 (e.g. 2F1(1, 2; 101; 20/21))
            value[bad] = _direct_series(m[bad], c[bad], z[bad])
        zeros = np.zeros_like(z)
        return value, zeros, zeros, zeros
    g = np.ones_like(z)
    g_m, g_c, g_z = np.zeros_like(z), np.zeros_like(z), np.zeros_like(z)
    far = z > _SERIES_MAX_Z
    if far.any():
        # Near z = 1 the series needs ~40 / (1 - z) terms (parameters far from any real
        # optimum, visited by line searches, can push z to 1 - 1e-6 for every customer).
        # There SciPy's 2F1, which transforms z, gives the value and the z-derivative
        # exactly ((m/c) 2F1(2, m+1; c+1; z)) and central differences the m and c ones.
        mf, cf, zf = m[far], c[far], z[far]
        g_far = np.asarray(hyp2f1(1.0, mf, cf, zf), dtype=np.float64)
        broken = ~np.isfinite(g_far)
        if broken.any():
            g_far[broken] = _direct_series(mf[broken], cf[broken], zf[broken])
        g[far] = g_far
        g_z[far] = mf / cf * hyp2f1(2.0, mf + 1.0, cf + 1.0, zf)
        h_m, h_c = 1e-6 * mf, 1e-6 * cf
        g_m[far] = (hyp2f1(1.0, mf + h_m, cf, zf) - hyp2f1(1.0, mf - h_m, cf, zf)) / (2 * h_m)
        g_c[far] = (hyp2f1(1.0, mf, cf + h_c, zf) - hyp2f1(1.0, mf, cf - h_c, zf)) / (2 * h_c)
    active = np.flatnonzero((z > 0) & ~far)
    m_a, c_a, z_a = m[active], c[active], z[active]
    term = np.ones_like(z_a)  # c_n z^n
    h_m, h_c = np.zeros_like(z_a), np.zeros_like(z_a)
    s_g, s_m, s_c, s_z = (np.zeros_like(z_a) for _ in range(4))
    n = 0
    while len(active) and n < _SERIES_MAX_TERMS:
        ratio = (m_a + n) / (c_a + n)
        if derivatives:
            s_z += (n + 1) * term * ratio  # (n+1) c_{n+1} z^n
            h_m += 1.0 / (m_a + n)
            h_c += 1.0 / (c_a + n)
        term = term * ratio * z_a
        s_g += term
        if derivatives:
            s_m += term * h_m
            s_c -= term * h_c
        n += 1
        done = term <= _SERIES_TOLERANCE * (1.0 + s_g)
        if (n % 8 == 0 or done.all()) and done.any():
            idx = active[done]
            g[idx] += s_g[done]
            g_m[idx], g_c[idx], g_z[idx] = s_m[done], s_c[done], s_z[done]
            keep = ~done
            active = active[keep]
            m_a, c_a, z_a, term = m_a[keep], c_a[keep], z_a[keep], term[keep]
            h_m, h_c = h_m[keep], h_c[keep]
            s_g, s_m, s_c, s_z = s_g[keep], s_m[keep], s_c[keep], s_z[keep]
    if len(active):  # geometric tail estimate for the (pathological) unfinished sums
        ratio = z_a * (m_a + n) / (c_a + n)
        g[active] += s_g + term * ratio / (1.0 - ratio)
        g_m[active], g_c[active], g_z[active] = s_m, s_c, s_z
    g_z = np.where(z > 0, g_z, m / c)
    return g, g_m, g_c, g_z


def _log_f_rows(r: FloatArray, alpha: FloatArray, s: FloatArray, beta: FloatArray,
                x: FloatArray, t: FloatArray, *, derivatives: bool,
                ) -> tuple[FloatArray, FloatArray | None]:
    """``log F(z(t)) - m log(rho + t)`` per row and its gradient in ``(r, alpha, s, beta)``."""
    m = r + s + x
    upper = alpha >= beta
    rho = np.where(upper, alpha, beta)
    k = np.where(upper, s + 1.0, r + x)
    mm = np.where(upper, r + x, s + 1.0)
    z = np.abs(alpha - beta) / (rho + t)
    g, g_m, g_c, g_z = _series(mm, m + 1.0, z, derivatives=derivatives)
    log1mz = np.log1p(-z)
    log_rho_t = np.log(rho + t)
    value = (1.0 - k) * log1mz + np.log(g) - m * log_rho_t
    if not derivatives:
        return value, None
    dlg_m, dlg_c, dlg_z = g_m / g, g_c / g, g_z / g
    dz_total = (k - 1.0) / (1.0 - z) + dlg_z
    own = dlg_m + dlg_c - log_rho_t  # for the parameter inside mm
    other = -log1mz + dlg_c - log_rho_t  # for the parameter inside k
    d_r = np.where(upper, own, other)
    d_s = np.where(upper, other, own)
    d_alpha = np.where(upper, dz_total * (beta + t) / (alpha + t) ** 2 - m / (alpha + t),
                       -dz_total / (beta + t))
    d_beta = np.where(upper, -dz_total / (alpha + t),
                      dz_total * (alpha + t) / (beta + t) ** 2 - m / (beta + t))
    return value, np.column_stack([d_r, d_alpha, d_s, d_beta])


def _log_f(
    params: FloatArray, x: FloatArray, t: FloatArray, *, derivatives: bool
) -> tuple[FloatArray, NDArray[np.float64] | None]:
    """``B(t) = log F(z(t)) - m log(rho + t)`` and its gradient in ``(r, alpha, s, beta)``,
    at one parameter vector for every row."""
    r, alpha, s, beta = params
    return _log_f_rows(r, alpha, s, beta, x, t, derivatives=derivatives)


# -- a stable evaluation for any parameters (fits on the boundary, extreme estimates) ------
#
# At extreme parameters (s, beta -> infinity with s/beta fixed: one dropout rate for
# everyone; r, alpha -> infinity with r/alpha fixed: one purchase rate) the hypergeometric
# representation needs 2F1 with parameters ~1e10 at z within 1e-10 of 1, and the terms
# s log(beta) - s log(beta + T) cancel catastrophically. There the likelihood is written as
#
#   L = Gamma(r+x)/Gamma(r) (alpha/(alpha+T))^r (alpha+T)^-x [S(T) + D],
#   S(t) = (1 + t/beta)^-s                     (probability of being alive at t),
#   D = integral_{t_x}^T ((alpha+T)/(alpha+tau))^(r+x) f(tau) dtau,  f = -S' (lifetime density)
#
# (Fader & Hardie 2005, note 009, eq. 18-20, before the integral is written as a 2F1), with
# every factor formed by log1p so that it tends to its limit (e^-mu t, e^lambda (T-tau), ...)
# without cancellation. D is integrated numerically: its integrand is log-convex and
# decreasing in tau, so [t_x, T] is cut into panels on which the log-integrand drops by at
# most 2 and log(c + tau) grows by at most 1 (c = min(alpha, beta): the integrand's
# singularities lie at -alpha and -beta), each integrated by 16-point Gauss-Legendre in
# v = log(c + tau); panels beyond which the rest is below 1e-16 of the integral are left out.

_STABLE_NODES, _STABLE_WEIGHTS = roots_legendre(16)
_MAX_PANELS = 160
_STABLE_BLOCK = 4096  # rows per block of the stable form
_PANEL_DROP = 2.0
_NEGLIGIBLE_LOG = 37.0  # e^-37 ~ 1e-16
# Where the hypergeometric representation is replaced by the stable one: shapes beyond
# this (its 2F1 then has parameters beyond it and z near 1) or rates far apart
_STABLE_SHAPE = 50.0
_STABLE_RATE_RATIO = 100.0


def _panel_integral(
    lo: FloatArray, hi: FloatArray, c: FloatArray, floor_rate: FloatArray,
    log_g: Callable[[FloatArray, NDArray[np.intp]], FloatArray],
    rate: Callable[[FloatArray, NDArray[np.intp]], FloatArray],
    d_log_g: Callable[[FloatArray, NDArray[np.intp]], FloatArray] | None,
) -> tuple[FloatArray, FloatArray | None]:
    """``log integral_lo^hi g(tau) dtau`` per row for a decreasing, log-convex ``g`` (and, with
    ``d_log_g``, the derivative of that log in the parameters: the ``g``-weighted mean of
    ``d log g / d theta``).

    ``log_g(tau, rows)`` and ``rate(tau, rows)`` (``-d log g / d tau``) take a ``(rows, m)``
    array of points and the row indices; ``d_log_g`` returns ``(rows, m, k)``. ``c > 0``: the
    integrand is analytic for ``tau > -c``. ``floor_rate`` is a lower bound of ``rate`` on
    ``[lo, hi]`` (it bounds the tail left out). ``hi`` may be infinite.
    """
    n = len(lo)
    rows = np.arange(n)
    edges = [lo.copy()]
    cur = lo.copy()
    g0 = log_g(cur[:, None], rows)[:, 0]
    k0 = rate(cur[:, None], rows)[:, 0]
    first = np.minimum(np.minimum(_PANEL_DROP / k0, (math.e - 1.0) * (c + cur)), hi - cur)
    # lower bound of the integral: the first panel, on which log g drops by at most 2
    with np.errstate(divide="ignore"):
        floor = g0 + np.log(first) - _PANEL_DROP
    active = np.flatnonzero(hi > lo)
    for _ in range(_MAX_PANELS):
        if not len(active):
            break
        ca, cc = cur[active], c[active]
        kk = rate(ca[:, None], active)[:, 0]
        step = np.minimum(np.minimum(_PANEL_DROP / kk, (math.e - 1.0) * (cc + ca)),
                          hi[active] - ca)
        nxt = cur.copy()
        nxt[active] = ca + step
        edges.append(nxt)
        cur = nxt
        left = np.flatnonzero(cur[active] < hi[active])
        active = active[left]
        if len(active):
            ca = cur[active]
            tail = np.minimum(hi[active] - ca, 1.0 / floor_rate[active])
            with np.errstate(divide="ignore"):
                rest = log_g(ca[:, None], active)[:, 0] + np.log(tail)
            active = active[rest > floor[active] - _NEGLIGIBLE_LOG]
    if len(active):  # not seen in practice: close a finite range with one last panel
        last = cur.copy()
        last[active] = np.where(np.isfinite(hi[active]), hi[active], cur[active])
        edges.append(last)
    if len(edges) == 1:
        edges.append(lo.copy())
    a = np.stack(edges[:-1], axis=1)  # (n, panels)
    b = np.stack(edges[1:], axis=1)
    width = np.log1p((b - a) / (c[:, None] + a))  # panel length in v = log(c + tau)
    half = 0.5 * width
    v = half[..., None] * (1.0 + _STABLE_NODES)  # (n, panels, nodes), v measured from a
    tau = a[..., None] + (c[:, None, None] + a[..., None]) * np.expm1(v)
    shape = tau.shape
    flat = tau.reshape(n, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_terms = (log_g(flat, rows).reshape(shape) + np.log(c[:, None, None] + a[..., None])
                     + v + np.log(half)[..., None] + np.log(_STABLE_WEIGHTS))
    log_terms = np.where((b > a)[..., None], log_terms, -np.inf).reshape(n, -1)
    top = np.max(log_terms, axis=1)
    safe = np.where(np.isfinite(top), top, 0.0)
    weights = np.exp(log_terms - safe[:, None])
    total = weights.sum(axis=1)
    with np.errstate(divide="ignore"):
        value = np.where(np.isfinite(top), safe + np.log(total), -np.inf)
    if d_log_g is None:
        return value, None
    grads = d_log_g(flat, rows)  # (n, m, k)
    grads = np.where(np.isfinite(grads), grads, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.einsum("nm,nmk->nk", weights, grads) / total[:, None]
    return value, np.where(np.isfinite(mean), mean, 0.0)


def _stable_parts(
    r: FloatArray, alpha: FloatArray, s: FloatArray, beta: FloatArray, x: FloatArray,
    tx: FloatArray, t_obs: FloatArray, *, gradient: bool,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None, FloatArray | None,
           FloatArray | None]:
    """The Pareto/NBD likelihood's three parts (as ``ParetoNBD._parts``: the constant, the
    alive-at-T term and the died-in-(t_x, T] term, in logs, with their gradients in
    ``(r, alpha, s, beta)``), in the stable form above. Parameters are per row."""
    r, alpha, s, beta = (np.asarray(p, dtype=np.float64) + np.zeros_like(x)
                         for p in (r, alpha, s, beta))
    if len(x) > _STABLE_BLOCK:  # bounded memory: (rows x panels x nodes) points at once
        blocks = [_stable_parts(r[i:i + _STABLE_BLOCK], alpha[i:i + _STABLE_BLOCK],
                                s[i:i + _STABLE_BLOCK], beta[i:i + _STABLE_BLOCK],
                                x[i:i + _STABLE_BLOCK], tx[i:i + _STABLE_BLOCK],
                                t_obs[i:i + _STABLE_BLOCK], gradient=gradient)
                  for i in range(0, len(x), _STABLE_BLOCK)]
        return tuple(  # type: ignore[return-value]
            None if blocks[0][j] is None else np.concatenate([b[j] for b in blocks])
            for j in range(6))
    lr, d_lr = _log_rising(r, x)
    log_const = lr - r * np.log1p(t_obs / alpha) - x * np.log(alpha + t_obs)
    log_alive = -s * np.log1p(t_obs / beta)
    m = r + x
    c = np.minimum(alpha, beta)

    def log_g(tau: FloatArray, i: NDArray[np.intp]) -> FloatArray:
        ai, bi, si = alpha[i, None], beta[i, None], s[i, None]
        return np.asarray(
            m[i, None] * np.log1p((t_obs[i, None] - tau) / (ai + tau))
            - si * np.log1p(tau / bi) + np.log(si) - np.log(bi + tau), dtype=np.float64)

    def rate(tau: FloatArray, i: NDArray[np.intp]) -> FloatArray:
        return np.asarray(m[i, None] / (alpha[i, None] + tau)
                          + (s[i, None] + 1.0) / (beta[i, None] + tau), dtype=np.float64)

    def d_log_g(tau: FloatArray, i: NDArray[np.intp]) -> FloatArray:
        ai, bi, si, ti = alpha[i, None], beta[i, None], s[i, None], t_obs[i, None]
        return np.stack([
            np.log1p((ti - tau) / (ai + tau)),
            -m[i, None] * (ti - tau) / ((ai + ti) * (ai + tau)),
            1.0 / si - np.log1p(tau / bi),
            si * tau / (bi * (bi + tau)) - 1.0 / (bi + tau),
        ], axis=-1)

    floor_rate = m / (alpha + t_obs) + (s + 1.0) / (beta + t_obs)
    log_dead, d_dead = _panel_integral(tx.astype(np.float64), t_obs.astype(np.float64), c,
                                       floor_rate, log_g, rate,
                                       d_log_g if gradient else None)
    if not gradient:
        return log_const, log_alive, log_dead, None, None, None
    zeros = np.zeros_like(x)
    d_const = np.column_stack([
        d_lr - np.log1p(t_obs / alpha), r * t_obs / (alpha * (alpha + t_obs))
        - x / (alpha + t_obs), zeros, zeros])
    d_alive = np.column_stack([zeros, zeros, -np.log1p(t_obs / beta),
                               s * t_obs / (beta * (beta + t_obs))])
    return log_const, log_alive, log_dead, d_const, d_alive, d_dead


def _mean_discount(delta: float, s: float | FloatArray, c: FloatArray) -> FloatArray:
    """``E[1/(delta + mu)]`` for ``mu ~ Gamma(s, c)`` (shape, rate), ``c`` per customer.

    It equals ``c^s delta^(s-1) U(s, s; delta c)`` (Fader, Hardie & Lee 2005), but the power
    overflows for large ``s`` and SciPy's ``U`` loses digits (``1e-6`` near ``s = 50``), so it
    is computed as the Laplace transform ``integral_0^inf e^(-delta u) (1 + u/c)^-s du`` by the
    likelihood's panel quadrature (agrees with adaptive quadrature to ~1e-15); it tends to
    ``1/(delta + s/c)`` as ``s, c -> infinity`` with ``s/c`` fixed. Once per distinct ``c``
    (per distinct ``(s, c)`` when ``s`` is given per customer, broadcast against ``c``).
    """
    if np.ndim(s) == 0:
        values, inverse = np.unique(np.asarray(c, dtype=np.float64).reshape(-1),
                                    return_inverse=True)
        shapes = np.full_like(values, float(s))
    else:
        ss, cc = np.broadcast_arrays(np.asarray(s, dtype=np.float64),
                                     np.asarray(c, dtype=np.float64))
        pairs, inverse = np.unique(np.column_stack([ss.reshape(-1), cc.reshape(-1)]), axis=0,
                                   return_inverse=True)
        shapes, values = pairs[:, 0].copy(), pairs[:, 1].copy()
    out = np.empty_like(values)

    for start in range(0, len(values), _CHUNK // 4):
        cb = values[start:start + _CHUNK // 4]
        sb = shapes[start:start + _CHUNK // 4]

        def log_g(u: FloatArray, i: NDArray[np.intp], cb: FloatArray = cb,
                  sb: FloatArray = sb) -> FloatArray:
            return np.asarray(-delta * u - sb[i, None] * np.log1p(u / cb[i, None]),
                              dtype=np.float64)

        def rate(u: FloatArray, i: NDArray[np.intp], cb: FloatArray = cb,
                 sb: FloatArray = sb) -> FloatArray:
            return np.asarray(delta + sb[i, None] / (cb[i, None] + u), dtype=np.float64)

        log_value, _ = _panel_integral(np.zeros_like(cb), np.full_like(cb, np.inf), cb,
                                       np.full_like(cb, delta), log_g, rate, None)
        out[start:start + len(cb)] = np.exp(log_value)
    shape = np.broadcast_shapes(np.shape(s), np.shape(c))
    return np.asarray(out[np.asarray(inverse).reshape(-1)].reshape(shape), dtype=np.float64)

def _needs_stable(r: float, alpha: float, s: float, beta: float) -> bool:
    """Whether the hypergeometric representation is outside the range where it is accurate."""
    ratio = max(alpha, beta) / min(alpha, beta)
    return bool(r > _STABLE_SHAPE or s > _STABLE_SHAPE or ratio > _STABLE_RATE_RATIO)


class ParetoNBD(BTYDStaticCovariates):
    """The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987).

    The fitted ``params_`` are ``r, alpha, s, beta``: ``lambda ~ Gamma(r, alpha)``,
    ``mu ~ Gamma(s, beta)``; ``alpha`` and ``beta`` are in the time unit of the data.
    With static covariates (``fit(base, covariates=frame, customer_id=..., life=...,
    trans=...)``), ``alpha_i = alpha exp(-gamma_trans . x_i)`` and ``beta_i = beta
    exp(-gamma_life . x_i)`` as in CLVTools, and the coefficients follow as
    ``life.<column>``, ``trans.<column>`` (``constr.<column>`` when shared); the
    predictions then take ``covariates=`` and ``customer_id=`` too.

    With small data the likelihood can rise towards ``s, beta -> infinity`` (one exponential
    dropout rate ``s/beta`` for everyone) or ``r, alpha -> infinity`` (one purchase rate); the
    fit then lands on that limit with a :class:`crmcore.ConvergenceWarning` and ``boundary_``,
    and the likelihood and predictions are evaluated in a stable form there.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (0 = maximum likelihood).
    """

    param_names = ("r", "alpha", "s", "beta")
    _vectorised: ClassVar[frozenset[str]] = frozenset({
        "p_alive", "expected_purchases", "conditional_probability_of_purchases", "dert",
        "lifetime_value"})
    _covariate_targets: ClassVar[Mapping[str, tuple[str, float]]] = {
        "alpha": ("trans", -1.0), "beta": ("life", -1.0)}
    _mixing_pairs = (
        ("r", "alpha", "gamma", "purchase rate lambda = r/alpha (Poisson purchases while alive)",
         "no customer buys again", "every customer buys at an infinite rate"),
        ("s", "beta", "gamma", "dropout rate mu = s/beta (exponential lifetimes)",
         "no customer drops out (the NBD model of purchases)",
         "every customer drops out at once"),
    )

    def _row_log_likelihood_terms(
        self, rows: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        from crmcore.value._pareto_cov import pareto_row_terms

        return pareto_row_terms(rows, data, gradient=gradient)

    def _parts(
        self, params: FloatArray, x: FloatArray, tx: FloatArray, t_obs: FloatArray, *,
        gradient: bool,
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None, FloatArray | None,
               FloatArray | None]:
        """Log of the constant, of the alive-at-T term and of the ``s I`` term, with
        gradients."""
        r, alpha, s, beta = params
        if _needs_stable(r, alpha, s, beta):
            return _stable_parts(r, alpha, s, beta, x, tx, t_obs, gradient=gradient)
        m = r + s + x
        log_const = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        log_alive = -(r + x) * np.log(alpha + t_obs) - s * np.log(beta + t_obs)
        b1, g1 = _log_f(params, x, tx, derivatives=gradient)
        b2, g2 = _log_f(params, x, t_obs, derivatives=gradient)
        # a purchase at T leaves no dead-since term: -inf exactly, whatever B1 and B2 are
        # (both may overflow for a long history compressed into no time)
        now = np.broadcast_to(np.asarray(tx) >= np.asarray(t_obs), np.shape(b1))
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(now, 0.0, np.minimum(b2 - b1, 0.0))
            log_diff = np.where(now, -np.inf, b1 + log1mexp(gap))  # log(e^B1 - e^B2)
        log_dead = np.log(s) - np.log(m) + log_diff
        if not gradient:
            return log_const, log_alive, log_dead, None, None, None
        assert g1 is not None
        assert g2 is not None
        d_const = np.column_stack([
            digamma(r + x) - digamma(r) + np.log(alpha), np.full_like(x, r / alpha),
            np.full_like(x, np.log(beta)), np.full_like(x, s / beta)])
        d_alive = np.column_stack([
            -np.log(alpha + t_obs), -(r + x) / (alpha + t_obs), -np.log(beta + t_obs),
            np.full_like(x, -s) / (beta + t_obs)])
        q = np.exp(gap)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            d_diff = (g1 - q * g2) / (1.0 - q)
        d_diff = np.where(np.isfinite(log_diff)[:, None], d_diff, 0.0)
        d_dead = d_diff + np.column_stack([-1.0 / m, np.zeros_like(x), 1.0 / s - 1.0 / m,
                                           np.zeros_like(x)])
        return log_const, log_alive, log_dead, d_const, d_alive, d_dead

    def _log_likelihood_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        x, tx, t_obs = data
        log_const, log_alive, log_dead, d_const, d_alive, d_dead = self._parts(
            params, x, tx, t_obs, gradient=gradient)
        log_bracket = np.logaddexp(log_alive, log_dead)
        ll = log_const + log_bracket
        if not gradient:
            return ll, None
        assert d_const is not None
        assert d_alive is not None
        assert d_dead is not None
        w_alive = np.exp(log_alive - log_bracket)[:, None]
        grad = d_const + w_alive * d_alive + (1.0 - w_alive) * d_dead
        return ll, grad

    # -- predictions -----------------------------------------------------------------------

    def _log_p_alive(self, x: FloatArray, tx: FloatArray, t_obs: FloatArray) -> FloatArray:
        params = self._param_array()
        if np.ndim(params[0]) > 0:  # one parameter vector per customer (covariates)
            from crmcore.value._pareto_cov import row_log_p_alive

            arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                           for v in (x, tx, t_obs, *params)))
            xx, txx, tt, r, alpha, s, beta = (v.reshape(-1) for v in arrays)
            return row_log_p_alive(r, alpha, s, beta, xx, txx, tt).reshape(arrays[0].shape)
        if _needs_stable(*params) and np.size(x) > 1:
            # the stable form integrates per row: once per distinct (x, t_x, T)
            shape = np.shape(x)
            (ux, utx, ut), _, inverse = compress_rows(
                np.ravel(x), np.ravel(tx), np.ravel(t_obs))
            _, log_alive, log_dead, *_ = self._parts(
                params, np.asarray(ux, dtype=np.float64), np.asarray(utx, dtype=np.float64),
                np.asarray(ut, dtype=np.float64), gradient=False)
            value = log_alive - np.logaddexp(log_alive, log_dead)
            return np.asarray(value[inverse].reshape(shape), dtype=np.float64)
        _, log_alive, log_dead, *_ = self._parts(params, x, tx, t_obs, gradient=False)
        return np.asarray(log_alive - np.logaddexp(log_alive, log_dead), dtype=np.float64)

    def p_alive(
        self,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        covariates: object = None,
        customer_id: str | None = None,
    ) -> FloatArray:
        """P(alive at T | x, t_x, T): the alive-at-T term's share of the likelihood
        (Fader & Hardie 2005 note 009, section 5.1)."""
        if covariates is not None or self._design is not None:
            return self._by_covariates("p_alive", (), base_or_frequency, covariates,
                                       customer_id)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        return np.exp(self._log_p_alive(x, tx, t_obs))

    def _lifetime_factor(self, t: FloatArray, c: FloatArray) -> FloatArray:
        """``c [1 - (c/(c+t))^(s-1)] / (s-1)`` (its limit ``c log(1 + t/c)`` at ``s = 1``)."""
        s = self._param_array()[2]
        log_ratio = np.log1p(t / c)
        if np.ndim(s) > 0:  # per-customer s (covariates): the same two cases per row
            with np.errstate(divide="ignore", invalid="ignore"):
                general = c * -np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0)
            return np.asarray(np.where(np.abs(s - 1.0) < 1e-10, c * log_ratio, general),
                              dtype=np.float64)
        if abs(s - 1.0) < 1e-10:
            return np.asarray(c * log_ratio, dtype=np.float64)
        return np.asarray(c * -np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0), dtype=np.float64)

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
        """E[Y(t) | x, t_x, T] (conditional; Fader & Hardie 2005 note 009, eq. 41):
        ``(r+x)/(alpha+T) (beta+T)/(s-1) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)``."""
        if covariates is not None or self._design is not None:
            return self._by_covariates("expected_purchases", (t,), base_or_frequency,
                                       covariates, customer_id)
        horizon = check_horizon(t)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        r, alpha, _, beta = self._param_array()
        p = np.exp(self._log_p_alive(x, tx, t_obs))
        h, x, t_obs, p = self._vector(horizon, x, t_obs, p)
        result = (r + x) / (alpha + t_obs) * self._lifetime_factor(h, beta + t_obs) * p
        return np.asarray(result, dtype=np.float64)

    def _expected_given_alive(self, t: FloatArray, x: FloatArray, t_obs: FloatArray
                              ) -> FloatArray:
        """E[Y(t) | alive at T, x, T]: :meth:`expected_purchases` without its P(alive)
        factor, a function of ``(x, T)`` only (used by ``lifetime_value``)."""
        r, alpha, _, beta = self._param_array()
        result = (r + x) / (alpha + t_obs) * self._lifetime_factor(t, beta + t_obs)
        return np.asarray(result, dtype=np.float64)

    def expected_purchases_unconditional(self, t: ArrayLike) -> FloatArray:
        """E[X(t)] = ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]`` (Schmittlein et
        al. 1987; note 009, eq. 27)."""
        horizon = check_horizon(t)
        r, alpha, _, beta = self._param_array()
        result = r / alpha * self._lifetime_factor(horizon, np.full_like(horizon, beta))
        return np.asarray(result, dtype=np.float64)

    def probability_of_purchases(self, k: ArrayLike, t: ArrayLike, *,
                                 n_nodes: int = 96) -> FloatArray:
        """P(X(t) = k) for a new customer (unconditional).

        Sum of "alive through t with k purchases", ``NB(k; r, alpha/(alpha+t)) (beta/
        (beta+t))^s``, and "died at tau < t after k purchases", ``Gamma(r+k) alpha^r s
        beta^s / (Gamma(r) k!) integral_0^t tau^k (alpha+tau)^-(r+k) (beta+tau)^-(s+1)
        dtau`` (the decomposition in Fader & Hardie's note deriving P(X(t)=x) for the
        Pareto/NBD); the integral is computed by ``n_nodes``-point Gauss-Legendre quadrature
        in log space.
        """
        counts = check_counts(k)
        horizon = check_horizon(t)
        r, alpha, s, beta = self._param_array()
        kk, tt = np.broadcast_arrays(counts, horizon)
        kk, tt = kk.astype(np.float64), tt.astype(np.float64)
        # log1p forms and the stable rising factorial keep this finite at any parameters
        log_coef = _log_rising(np.full_like(kk, r), kk)[0] - gammaln(kk + 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_alive = (log_coef - r * np.log1p(tt / alpha)
                         + kk * (np.log(tt) - np.log(alpha + tt))
                         - s * np.log1p(tt / beta))
        log_alive = np.where((kk == 0) & (tt == 0), 0.0, log_alive)
        nodes, weights = roots_legendre(n_nodes)
        tau = (tt[..., None] * (nodes + 1.0) / 2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            # alpha^r tau^k (alpha+tau)^-(r+k) beta^s (beta+tau)^-(s+1)
            log_integrand = (kk[..., None] * (np.log(tau) - np.log(alpha + tau))
                             - r * np.log1p(tau / alpha) - s * np.log1p(tau / beta)
                             - np.log(beta + tau))
            log_integrand = np.where((kk[..., None] == 0) & (tau == 0), -np.log(beta),
                                     log_integrand)
            top = np.max(log_integrand, axis=-1, keepdims=True)
            top = np.where(np.isfinite(top), top, 0.0)
            integral = np.sum(weights * np.exp(log_integrand - top), axis=-1) * tt / 2.0
            log_dead = log_coef + np.log(s) + top[..., 0] + np.log(integral)
        return np.asarray(np.exp(log_alive) + np.exp(log_dead), dtype=np.float64)

    def conditional_probability_of_purchases(
        self,
        k: ArrayLike,
        t: ArrayLike,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        n_nodes: int = 32,
    ) -> FloatArray:
        """P(Y(t) = k | x, t_x, T): probability that an observed customer makes exactly ``k``
        purchases in the next ``t`` (conditional PMF).

        Fader & Hardie (2006), "Deriving the Conditional PMF of the Pareto/NBD Model",
        brucehardie.com/notes/028: ``[k = 0] (1 - P(alive)) + P(alive) P(X(t) = k | r+x,
        alpha+T, s, beta+T)``, the unconditional PMF of a customer whose posterior, given
        alive at ``T``, is ``lambda ~ Gamma(r+x, alpha+T)``, ``mu ~ Gamma(s, beta+T)``. The
        note writes the "died before T+t" part with Gauss hypergeometric functions; crmcore
        integrates it numerically in the lifetime's distribution function (``8 x n_nodes``
        Gauss-Legendre points, doubled where that changes the result by more than
        ``1e-13 + 1e-10 P``) in log space, which stays finite for any history.

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
        n_nodes:
            Gauss-Legendre nodes per panel (8 panels) of the lifetime integral to start
            from (at least 16); rows are refined automatically.

        Returns
        -------
        numpy.ndarray
            The probabilities, ``k``, ``t`` and the customers broadcast against each other.

        Raises
        ------
        InvalidValueError
            ``k`` negative or not whole, ``t`` negative or not finite, bad customer arrays.
        """
        return _conditional_pmf(self, k, t, base_or_frequency, recency, T, n_nodes)

    @renamed_parameters(discount_rate="continuous_rate")
    def dert(
        self,
        continuous_rate: float,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        covariates: object = None,
        customer_id: str | None = None,
    ) -> FloatArray:
        """Discounted expected residual transactions (Fader, Hardie & Lee 2005, "RFM and
        CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4), 415-430):

        ``DERT = alpha^r beta^s delta^(s-1) Gamma(r+x+1) U(s, s; delta (beta+T)) /
        (Gamma(r) (alpha+T)^(r+x+1) L)``, i.e. ``P(alive) (r+x)/(alpha+T) E[1/(delta+mu)]``
        with ``mu ~ Gamma(s, beta+T)``; ``U`` is the confluent hypergeometric function of the
        second kind and ``delta`` the ``continuous_rate``: the continuously compounded
        discount rate per unit of the data's time (``log(1 + d) / k`` for a ``discount_rate``
        ``d`` per ``time_unit`` of ``k`` data units; :func:`crmcore.value.lifetime_value`
        converts it). The keyword ``discount_rate=`` still works until the next release, with
        a :class:`DeprecationWarning`. ``E[1/(delta+mu)]`` is computed as the Laplace transform
        ``integral_0^inf e^(-delta u) (1 + u/(beta+T))^-s du``, which stays finite for any
        ``s`` and ``beta`` (it tends to ``1/(delta + s/beta)`` on the boundary
        ``s, beta -> infinity``).
        """
        if covariates is not None or self._design is not None:
            return self._by_covariates("dert", (continuous_rate,), base_or_frequency,
                                       covariates, customer_id)
        delta = check_rate(continuous_rate)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        r, alpha, s, beta = self._param_array()
        p = np.exp(self._log_p_alive(x, tx, t_obs))
        mean_discount = _mean_discount(delta, s, beta + t_obs)
        return np.asarray(p * (r + x) / (alpha + t_obs) * mean_discount, dtype=np.float64)


_PANELS = 8
_CHUNK = 1 << 14
_MAX_NODES = 2048
_BLOCK_POINTS = 1 << 22
_ABS_TOL = 1e-13
_REL_TOL = 1e-10


def _log_dead(k: FloatArray, log_q: FloatArray, r: FloatArray, alpha: FloatArray,
              s: float | FloatArray, beta: FloatArray, n_nodes: int) -> FloatArray:
    """``log integral_0^U NB(k; r, alpha/(alpha+tau(u))) du`` with ``U = 1 - q``, by
    ``_PANELS`` panels of ``n_nodes``-point Gauss-Legendre quadrature in log space (in blocks
    of rows, so memory stays bounded)."""
    rows = max(1, _BLOCK_POINTS // (_PANELS * n_nodes))
    if len(k) > rows:
        return np.concatenate([
            _log_dead(k[i:i + rows], log_q[i:i + rows], r[i:i + rows], alpha[i:i + rows],
                      s if np.ndim(s) == 0 else np.asarray(s)[i:i + rows], beta[i:i + rows],
                      n_nodes) for i in range(0, len(k), rows)])
    nodes, weights = roots_legendre(n_nodes)
    edges = np.linspace(0.0, 1.0, _PANELS + 1)
    half = np.diff(edges) / 2.0
    v = ((edges[:-1] + half)[:, None] + half[:, None] * nodes[None, :]).reshape(-1)
    w = (half[:, None] * weights[None, :]).reshape(-1)
    q = np.exp(log_q)[:, None]
    # 1 - u = 1 - v U = (1 - v) + v q, formed without cancellation
    log_1mu = np.log((1.0 - v)[None, :] + v[None, :] * q)
    tau = beta[:, None] * np.expm1(-log_1mu / (s if np.ndim(s) == 0
                                               else np.asarray(s)[:, None]))
    kk, rr, aa = k[:, None], r[:, None], alpha[:, None]
    log_coef = (_log_rising(r, k)[0] - gammaln(k + 1.0))[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_nb = log_coef - rr * np.log1p(tau / aa) + kk * (np.log(tau) - np.log(aa + tau))
        log_nb = np.where(kk == 0, log_coef - rr * np.log1p(tau / aa), log_nb)
        log_terms = np.log(w)[None, :] + log_nb
        top = np.max(log_terms, axis=1)
        top = np.where(np.isfinite(top), top, 0.0)
        log_sum = top + np.log(np.sum(np.exp(log_terms - top[:, None]), axis=1))
        return np.asarray(log1mexp(log_q) + log_sum, dtype=np.float64)


def _log_pmf_alive(k: FloatArray, t: FloatArray, r: FloatArray, alpha: FloatArray,
                   s: float | FloatArray, beta: FloatArray, n_nodes: int) -> FloatArray:
    """``log P(Y(t) = k)`` for a customer alive at the start of ``(0, t]`` with
    ``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)`` (1-D arrays of one length; ``s``
    a number, or one per row with covariates).

    "Alive through t with k purchases" plus "died at tau < t after k purchases"; the second is
    ``integral_0^t s beta^s (beta+tau)^-(s+1) NB(k; r, alpha/(alpha+tau)) dtau``. Substituting
    the lifetime's distribution function ``u = 1 - (beta/(beta+tau))^s`` turns it into
    ``integral_0^U NB(k; r, alpha/(alpha+tau(u))) du`` (no heavy tail, integrand in [0, 1]),
    computed by composite Gauss-Legendre quadrature in log space. Rows whose value changes by
    more than ``1e-13 + 1e-10 P`` when the nodes are doubled are refined (doubling up to
    ``_MAX_NODES`` per panel): a sharply peaked negative binomial (thousands of purchases
    over a short ``T``) needs more nodes than the default.
    """
    log_coef = _log_rising(r, k)[0] - gammaln(k + 1.0)
    log_q = -s * np.log1p(t / beta)  # log P(lifetime > t)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_survive = (log_coef - r * np.log1p(t / alpha)
                       + k * (np.log(t) - np.log(alpha + t)) + log_q)
    log_survive = np.where(k == 0, log_coef - r * np.log1p(t / alpha) + log_q, log_survive)
    log_dead = _log_dead(k, log_q, r, alpha, s, beta, n_nodes)
    todo = np.arange(len(k))
    n = n_nodes
    while len(todo) and n < _MAX_NODES:
        n = min(2 * n, _MAX_NODES)
        finer = _log_dead(k[todo], log_q[todo], r[todo], alpha[todo],
                          s if np.ndim(s) == 0 else np.asarray(s)[todo], beta[todo], n)
        coarse_p, finer_p = np.exp(log_dead[todo]), np.exp(finer)
        log_dead[todo] = finer
        todo = todo[np.abs(finer_p - coarse_p) > _ABS_TOL + _REL_TOL * finer_p]
    return np.asarray(np.logaddexp(log_survive, log_dead), dtype=np.float64)


def _conditional_pmf(model: ParetoNBD, k: ArrayLike, t: ArrayLike,
                     base_or_frequency: CustomerBase | ArrayLike, recency: ArrayLike | None,
                     T: ArrayLike | None, n_nodes: int) -> FloatArray:
    counts = check_counts(k)
    horizon = check_horizon(t)
    if int(n_nodes) != n_nodes or n_nodes < 16:
        raise InvalidValueError(f"n_nodes must be a whole number >= 16, got {n_nodes!r}",
                                field="n_nodes")
    x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
    r, alpha, s, beta = model._param_array()
    log_alive = model._log_p_alive(x, tx, t_obs)
    kk, hh, xx, tt, la = model._vector(counts, horizon, x, t_obs, log_alive)
    shape = kk.shape
    if np.ndim(r) > 0:  # one parameter vector per customer (covariates): nothing to share
        uk, uh, ux, ut, ur, ua, us, ub = (np.broadcast_to(v, shape).reshape(-1) for v in
                                          (kk, hh, xx, tt, r, alpha, s, beta))
        inverse = np.arange(len(uk))
    else:
        # given alive at T the posterior is lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s,
        # beta+T): the PMF given alive depends on a row only through (k, t, x, T)
        (uk, uh, ux, ut), _, inverse = compress_rows(kk.reshape(-1), hh.reshape(-1),
                                                     xx.reshape(-1), tt.reshape(-1))
        uk, uh, ux, ut = (np.asarray(c, dtype=np.float64) for c in (uk, uh, ux, ut))
        ur, ua, ub = (np.full(len(uk), v) for v in (r, alpha, beta))
        us = s
    given_alive = np.empty(len(uk))
    for start in range(0, len(uk), _CHUNK):
        part = slice(start, start + _CHUNK)
        given_alive[part] = _log_pmf_alive(uk[part], uh[part], ur[part] + ux[part],
                                           ua[part] + ut[part],
                                           us if np.ndim(us) == 0 else us[part],
                                           ub[part] + ut[part], int(n_nodes))
    log_pmf = la.reshape(-1) + given_alive[inverse]
    log_pmf = np.where(kk.reshape(-1) == 0,
                       np.logaddexp(log_pmf, log1mexp(la.reshape(-1))), log_pmf)
    return np.asarray(np.clip(np.exp(log_pmf), 0.0, 1.0).reshape(shape), dtype=np.float64)
