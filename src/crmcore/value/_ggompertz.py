"""The Gamma-Gompertz/NBD model (Bemmaor & Glady 2012).

While alive, a customer buys at Poisson rate ``lambda``, ``lambda ~ Gamma(r, alpha)`` (shape,
rate). Her lifetime is Gompertz, ``P(tau > t | eta) = exp(-eta (e^(b t) - 1))``, with ``b > 0``
common to all customers and ``eta ~ Gamma(s, beta)``, so that across customers the lifetime
is Gamma-Gompertz,

    S(t) = P(tau > t) = (beta / (beta + e^(b t) - 1))^s,
    f(t) = -S'(t) = s b e^(b t) beta^s / (beta + e^(b t) - 1)^(s+1).

As ``b -> 0`` with ``beta / b`` fixed the lifetime becomes Pareto(II) and the model the
Pareto/NBD with its ``beta`` equal to ``beta / b``.

Likelihood of ``x`` repeat purchases, the last at ``t_x``, in ``(0, T]`` (Bemmaor & Glady 2012,
eq. 5)::

    L = Gamma(r+x) alpha^r / Gamma(r) * [ (alpha+T)^-(r+x) S(T)
                                          + integral_{t_x}^{T} (alpha+tau)^-(r+x) f(tau) dtau ]

The integral has no closed form. It is taken by 16-point Gauss-Legendre quadrature on panels
that halve towards ``t_x`` (``[t_x + d 2^-(k+1), t_x + d 2^-k]``, ``d = T - t_x``), chosen per
customer (:func:`_death_panels`: each panel analytic well beyond its ends, the innermost one
down to ``t_x`` once the integrand is smooth there, far panels that hold less than ``e^-40``
left out). Every term is written to keep its precision at the limits a fit may reach
(``log1p(expm1(b t) / beta)`` for the lifetime, ``alpha^r`` taken into both terms, the
integrand measured from ``t_x``). The exact gradient and Hessian differentiate under the
integral (the limits do not depend on the parameters).

References
----------
A. C. Bemmaor and N. Glady (2012), "Modeling Purchasing Behavior with Sudden 'Death': A
Flexible Customer Lifetime Model", *Management Science* 58(5), 1012-1021.
CLVTools (R package), ``ggomnbd`` (parameter names r, alpha, b, s, beta).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, polygamma

from crmcore._base import CustomerBase, compress_rows
from crmcore.value._btyd import (
    ContinuousBTYDModel,
    FloatArray,
    check_counts,
    check_horizon,
    check_rate,
    customer_arrays,
    log_rising,
)

__all__ = ["GGompertzNBD", "simulate_ggompertz_nbd"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_HALVINGS = 14  # prediction integrals: panels halving towards the left end, 2^-14 at last
_MAX_HALVINGS = 40  # likelihood: halvings where the integrand needs them (tiny alpha + t_x)
_BLOCK = 1024  # rows per block of the likelihood: its temporaries stay in a 2 MB cache
_BLOCK_NODES = 1 << 16  # nodes per block of the prediction integrals, likewise
_INNER_DROP = 8.0  # the innermost panel: the log integrand changes by at most this across it
_NEGLIGIBLE_LOG = 40.0  # far panels holding less than e^-40 of the integral are left out
_BIG_EXPONENT = 600.0  # b t beyond this: e^(b t) is taken in logs


def _clustered_rule(lo: FloatArray, hi: FloatArray, halvings: int = _HALVINGS
                    ) -> tuple[FloatArray, FloatArray]:
    """Quadrature nodes and weights (shape ``(n, m)``) on ``[lo, hi]`` per row: 16-point
    Gauss-Legendre on panels whose widths halve towards ``lo``."""
    width = hi - lo
    edges = np.concatenate([[0.0], 2.0 ** -np.arange(halvings, -1, -1)])  # 0, 2^-h, ..., 1
    left, right = edges[:-1], edges[1:]
    half = (right - left) / 2.0
    mid = (right + left) / 2.0
    unit_nodes = (mid[:, None] + half[:, None] * _GL_NODES[None, :]).reshape(-1)
    unit_weights = (half[:, None] * _GL_WEIGHTS[None, :]).reshape(-1)
    nodes = lo[:, None] + width[:, None] * unit_nodes[None, :]
    weights = width[:, None] * unit_weights[None, :]
    return nodes, weights


def _log_growth(b: float, beta: float, t: ArrayLike
                ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log((beta + e^(b t) - 1) / beta)``, ``e^(b t) / (beta + e^(b t) - 1)`` and
    ``(e^(b t) - 1) / (beta + e^(b t) - 1)`` elementwise.

    The first is ``-log S(t) / s``; the others are ``d/dt`` of it over ``b`` and ``-beta d/dbeta``
    of it. Written as ``log1p(expm1(b t) / beta)`` it keeps its
    relative precision for any ``b, beta > 0``, also towards the limits (``b, beta -> 0``:
    ``log1p(t / (beta/b))``; ``beta -> infinity``: ``expm1(b t) / beta``), where the
    difference of ``log(beta + e^(b t) - 1)`` and ``log(beta)`` loses it."""
    y = b * np.atleast_1d(np.asarray(t, dtype=np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        em1 = np.expm1(y)
        log_growth = np.log1p(em1 * (1.0 / beta))
        inverse = np.add(em1, beta)
        np.divide(1.0, inverse, out=inverse)  # 1 / (beta + e^(b t) - 1)
        frac = em1 * inverse
        grow = np.add(frac, inverse, out=inverse)
    big = y > _BIG_EXPONENT
    if np.any(big):
        yb = y[big]
        tail = (beta - 1.0) * np.exp(-yb)
        log_growth[big] = yb - math.log(beta) + np.log1p(tail)
        grow[big] = 1.0 / (1.0 + tail)
        frac[big] = -np.expm1(-yb) / (1.0 + tail)
    shape = np.shape(t)
    return log_growth.reshape(shape), grow.reshape(shape), frac.reshape(shape)


def _death_panels(
    params: FloatArray, rx: FloatArray, tx: FloatArray, t_obs: FloatArray
) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray, FloatArray]:
    """Panels for ``integral_{t_x}^T ((alpha+t_x)/(alpha+tau))^(r+x) f(tau) dtau`` per row.

    In ``v = tau - t_x`` on ``[0, d]``, ``d = T - t_x``, the panels are
    ``[d 2^-(k+1), d 2^-k]``, halving towards ``v = 0`` where the power falls fastest, from
    ``k = k_far`` to ``k_near - 1``, and the innermost ``[0, d 2^-k_near]``. Per row:

    - Each panel is at most as wide as its distance to the integrand's nearest singularity
      (``tau = -alpha``, and the zeros of ``beta - 1 + e^(b tau)``: on the axis at
      ``log(1-beta)/b < 0`` for ``beta < 1``, at ``(log(beta-1) +/- i pi)/b`` for
      ``beta > 1``), the innermost at most twice its distance from the one on the axis; so
      the integrand is analytic inside the Bernstein ellipse ``rho = 3.7`` of every panel and
      16-point Gauss-Legendre's error is of order ``rho^-32 ~ 1e-18`` of the panel's
      integral. The halving panels are so by construction for the singularities on the axis;
      panels too close to the pair off it are split into equal parts.
    - The innermost panel is also at most ``8 / L`` wide, ``L`` a bound of ``|d log g /
      dtau|`` on ``[t_x, T]`` (``(r+x)/(alpha+t_x)`` from the power, ``b max(1, (s+1) G)``
      from the density, ``G`` the largest ``e^(b t)/(beta+e^(b t)-1)`` there): the
      quadrature of ``e^(c u)``, ``|c| w <= 8``, errs by less than ``1e-25``.
    - ``[d 2^-k_far, d]`` is left out when it holds less than ``e^-40`` of the integral:
      ``log g(v) - log g(0) <= -h(v)``, ``h(v) = (r+x) log(1 + v/(alpha+t_x)) - b v``
      (the density grows at most like ``e^(b v)``), ``h`` is concave so its minimum on
      ``[v0, d]`` is at an end, and the integral is at least ``g(0) (1 - e^(-L d)) / L``.

    Returns the row of each panel, the index of each row's first panel, and the panels'
    ends in ``v``; a row's panels are consecutive.
    """
    _, alpha, b, s, beta = params
    d = t_obs - tx
    a = alpha + tx
    if beta < 1.0:  # e^(b t) / (beta - 1 + e^(b t)) falls with t: largest at t_x
        top_grow = _log_growth(b, beta, tx)[1]
        reach_f = 2.0 * (tx - math.log1p(-beta) / b)  # the pole on the axis, left of t_x
    else:  # rises towards 1
        top_grow = np.ones_like(tx)
        reach_f = np.full_like(tx, math.inf)
    rate = rx / a + b * np.maximum(1.0, (s + 1.0) * top_grow)
    widest = np.minimum(np.minimum(_INNER_DROP / rate, 2.0 * a), reach_f)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_near = np.ceil(np.log2(d / widest))
    k_near = np.nan_to_num(np.clip(k_near, 0, _MAX_HALVINGS), nan=0.0).astype(np.intp)
    # the far panels that may be left out: [d 2^-k, d] for k = 1, ..., k_near
    ks = np.arange(1, int(k_near.max(initial=0)) + 1)
    k_far = np.zeros_like(k_near)
    if len(ks):
        v0 = d[:, None] * 2.0 ** -ks[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            h0 = rx[:, None] * np.log1p(v0 / a[:, None]) - b * v0
            h_end = rx * np.log1p(d / a) - b * d
            floor = np.log(d * rate) - np.log(-np.expm1(-rate * d))
            negligible = ((np.minimum(h0, h_end[:, None]) > _NEGLIGIBLE_LOG + floor[:, None])
                          & (ks[None, :] <= k_near[:, None]))
        any_far = negligible.any(axis=1)
        last = len(ks) - 1 - np.argmax(negligible[:, ::-1], axis=1)
        k_far = np.where(any_far, ks[last], 0).astype(np.intp)
    counts = k_near - k_far + 1
    row = np.repeat(np.arange(len(d)), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    k = k_far[row] + (np.arange(len(row)) - first[row])
    upper = d[row] * np.exp2(-k.astype(np.float64))
    lower = np.where(k == k_near[row], 0.0, 0.5 * upper)
    if beta > 1.0:  # the poles off the axis, at t_p +/- i pi/b
        t_p = math.log(beta - 1.0) / b
        left, right = tx[row] + lower, tx[row] + upper
        off = np.maximum(np.maximum(t_p - right, left - t_p), 0.0)
        parts = np.ceil((upper - lower) / np.hypot(off, math.pi / b)).astype(np.intp)
        parts = np.maximum(parts, 1)
        if np.any(parts > 1):
            piece = (upper - lower) / parts
            cell = np.repeat(np.arange(len(row)), parts)
            index = np.arange(len(cell)) - np.repeat(np.cumsum(parts) - parts, parts)
            lower = lower[cell] + index * piece[cell]
            upper = lower + piece[cell]
            row = row[cell]
            first = np.searchsorted(row, np.arange(len(d)))
    return row, first, lower, upper


def _death_integral(
    params: FloatArray, rx: FloatArray, tx: FloatArray, t_obs: FloatArray, *, gradient: bool,
    hessian: bool = False,
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """``log J`` per row, ``J = integral_{t_x}^T ((alpha+t_x)/(alpha+tau))^(r+x) f(tau) dtau``
    (on :func:`_death_panels`), and with ``gradient`` its derivatives in ``(r, alpha, b, s,
    beta)`` (each the ``g``-weighted mean ``E[D]`` of ``D = d log g``: differentiation under
    the integral, whose limits do not depend on the parameters), with ``hessian`` also its
    second derivatives, ``E[d^2 log g] + E[(D - E[D]) (D - E[D])^T]`` (shape ``(n, 5, 5)``).
    ``-inf`` where ``t_x = T``."""
    _, alpha, b, s, beta = params
    row, first, lower, upper = _death_panels(params, rx, tx, t_obs)
    half = 0.5 * (upper - lower)
    v = half[:, None] * _GL_NODES[None, :]
    v += (lower + half)[:, None]  # (panels, 16): tau - t_x
    a = (alpha + tx)[row, None]
    log_shift = np.log1p(v / a)  # log((alpha+tau)/(alpha+t_x))
    tau = v + tx[row, None]
    log_growth, grow, frac = _log_growth(b, beta, tau)
    # log g(tau) - log f(t_x): measured from the left end, where the power is 1, so that a
    # density far below 1e-308 does not underflow
    log_growth_tx = _log_growth(b, beta, tx)[0]
    log_g = log_growth - log_growth_tx[row, None]
    log_g *= -(s + 1.0)
    log_g += b * v
    log_g -= rx[row, None] * log_shift
    terms = np.exp(log_g, out=log_g)
    terms *= half[:, None] * _GL_WEIGHTS[None, :]
    total = np.add.reduceat(terms.sum(axis=1), first)
    with np.errstate(divide="ignore"):
        log_j = (math.log(s * b / beta) + b * tx - (s + 1.0) * log_growth_tx + np.log(total))
    if not (gradient or hessian):
        return np.asarray(log_j, dtype=np.float64), None, None
    safe = np.where(total > 0, total, 1.0)

    def share(derivative: FloatArray) -> FloatArray:
        per_panel = np.einsum("ij,ij->i", terms, derivative)
        return np.asarray(np.add.reduceat(per_panel, first) / safe, dtype=np.float64)

    reach = np.divide(v, a + v)  # v / (alpha + tau)
    rate_alpha = rx / (alpha + tx)
    d_node_b = tau - (s + 1.0) * tau * grow  # d log g / db - 1/b
    d_r = -share(log_shift)
    d_alpha = rate_alpha * share(reach)
    d_b = 1.0 / b + share(d_node_b)
    d_s = 1.0 / s - share(log_growth)
    d_beta = -(1.0 - (s + 1.0) * share(frac)) / beta
    grad = np.column_stack([d_r, d_alpha, d_b, d_s, d_beta])
    if not hessian:
        return np.asarray(log_j, dtype=np.float64), grad, None
    hess = np.zeros((len(tx), 5, 5))
    # E[d^2 log g]: the power depends on r, alpha only, the density on b, s, beta only
    hess[:, 0, 1] = share(reach) / (alpha + tx)
    hess[:, 1, 1] = -rate_alpha / (alpha + tx) * share(reach * (2.0 - reach))
    hess[:, 2, 2] = -1.0 / b**2 - (s + 1.0) * share(tau * tau * grow * (1.0 - grow))
    hess[:, 2, 3] = -share(tau * grow)
    hess[:, 2, 4] = (s + 1.0) / beta * share(tau * grow * (1.0 - frac))
    hess[:, 3, 3] = -1.0 / s**2
    hess[:, 3, 4] = share(frac) / beta
    hess[:, 4, 4] = (1.0 - (s + 1.0) * share(frac * (2.0 - frac))) / beta**2
    # E[(D - E[D]) (D - E[D])^T], centred per row so that e.g. 1/b drops out
    centred = [
        -log_shift - d_r[row, None],
        rate_alpha[row, None] * reach - d_alpha[row, None],
        d_node_b - (d_b - 1.0 / b)[row, None],
        (1.0 / s - d_s)[row, None] - log_growth,
        (s + 1.0) / beta * frac - (d_beta + 1.0 / beta)[row, None],
    ]
    for i in range(5):
        for j in range(i, 5):
            hess[:, i, j] += share(centred[i] * centred[j])
    below, above = np.tril_indices(5, -1)
    hess[:, below, above] = hess[:, above, below]
    return np.asarray(log_j, dtype=np.float64), grad, hess


def _likelihood_parts(
    params: FloatArray, x: FloatArray, tx: FloatArray, t_obs: FloatArray, *, gradient: bool,
    death: tuple[FloatArray, FloatArray | None] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None, FloatArray | None,
           FloatArray | None]:
    """The log-likelihood as ``log_const + logaddexp(log_alive, log_dead)`` with the
    gradients of the three parts in ``(r, alpha, b, s, beta)``:

    - ``log_const = log Gamma(r+x) - log Gamma(r)`` (Stirling's series for large ``r``,
      :func:`~crmcore.value._btyd.log_rising`), ``alpha^r`` being taken into the two terms;
    - ``log_alive = -r log(1 + T/alpha) - x log(alpha+T) - s log((beta+e^(bT)-1)/beta)``;
    - ``log_dead = -r log(1 + t_x/alpha) - x log(alpha+t_x) + log J`` (:func:`_death_integral`;
      ``death`` is its ``log J`` and gradient if already computed).

    Written so, every term keeps its precision as ``r, alpha -> infinity`` (one purchase
    rate), ``s, beta -> infinity`` (one Gompertz intensity) and ``b, beta -> 0`` (the
    Pareto/NBD), the limits a fit may end on.
    """
    r, alpha, b, s, beta = params
    rx = r + x
    log_const, d_rising = log_rising(np.full_like(x, r), x)
    log_growth_T, grow_T, frac_T = _log_growth(b, beta, t_obs)
    shift_T, shift_tx = np.log1p(t_obs / alpha), np.log1p(tx / alpha)
    log_alive = -r * shift_T - x * np.log(alpha + t_obs) - s * log_growth_T
    log_j, d_j = death if death is not None else _death_integral(
        params, rx, tx, t_obs, gradient=gradient)[:2]
    log_dead = -r * shift_tx - x * np.log(alpha + tx) + log_j
    if not gradient or d_j is None:
        return log_const, log_alive, log_dead, None, None, None
    zeros = np.zeros_like(x)
    d_const = np.column_stack([d_rising, zeros, zeros, zeros, zeros])
    d_alive = np.column_stack([
        -shift_T, r * t_obs / (alpha * (alpha + t_obs)) - x / (alpha + t_obs),
        -s * t_obs * grow_T, -log_growth_T, s * frac_T / beta])
    d_dead = d_j + np.column_stack([
        -shift_tx, r * tx / (alpha * (alpha + tx)) - x / (alpha + tx), zeros, zeros, zeros])
    return log_const, log_alive, log_dead, d_const, d_alive, d_dead


def _log_likelihood_block(
    params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
) -> tuple[FloatArray, FloatArray | None]:
    x, tx, t_obs = data
    log_const, log_alive, log_dead, d_const, d_alive, d_dead = _likelihood_parts(
        params, x, tx, t_obs, gradient=gradient)
    log_sum = np.logaddexp(log_alive, log_dead)
    ll = np.asarray(log_const + log_sum, dtype=np.float64)
    if d_const is None or d_alive is None or d_dead is None:
        return ll, None
    w_dead = np.exp(log_dead - log_sum)[:, None]
    return ll, np.asarray(d_const + (1.0 - w_dead) * d_alive + w_dead * d_dead,
                          dtype=np.float64)



def _hessian_block(params: FloatArray, data: tuple[FloatArray, ...], w: FloatArray
                   ) -> FloatArray:
    """``sum_i w_i d^2 ll_i`` in ``(r, alpha, b, s, beta)`` over a block of patterns.

    With ``ll = c + log(e^l1 + e^l2)`` (:func:`_likelihood_parts`) and ``w2`` the second
    term's share, ``d^2 ll = d^2 c + (1 - w2) d^2 l1 + w2 d^2 l2 + w2 (1 - w2) (dl1 - dl2)
    (dl1 - dl2)^T``; ``d^2 log J`` is :func:`_death_integral`'s."""
    r, alpha, b, s, beta = params
    x, tx, t_obs = data
    log_j, d_j, hess_j = _death_integral(params, r + x, tx, t_obs, gradient=True,
                                         hessian=True)
    _, log_alive, log_dead, _, d_alive, d_dead = _likelihood_parts(
        params, x, tx, t_obs, gradient=True, death=(log_j, d_j))
    if d_alive is None or d_dead is None or hess_j is None:  # pragma: no cover - asked for
        raise AssertionError("gradient and Hessian were requested")
    w_dead = np.exp(log_dead - np.logaddexp(log_alive, log_dead))

    def power_terms(z: FloatArray) -> tuple[FloatArray, FloatArray]:
        """d^2 / (dr dalpha) and d^2 / dalpha^2 of ``-r log(1 + z/alpha) - x log(alpha+z)``."""
        return (z / (alpha * (alpha + z)),
                -r * z * (2.0 * alpha + z) / (alpha**2 * (alpha + z) ** 2)
                + x / (alpha + z) ** 2)

    hess_alive = np.zeros((len(x), 5, 5))
    hess_alive[:, 0, 1], hess_alive[:, 1, 1] = power_terms(t_obs)
    _, grow_T, frac_T = _log_growth(b, beta, t_obs)
    hess_alive[:, 2, 2] = -s * t_obs**2 * grow_T * (1.0 - grow_T)
    hess_alive[:, 2, 3] = -t_obs * grow_T
    hess_alive[:, 2, 4] = s * t_obs * grow_T * (1.0 - frac_T) / beta
    hess_alive[:, 3, 4] = frac_T / beta
    hess_alive[:, 4, 4] = -s * frac_T * (2.0 - frac_T) / beta**2
    hess_dead = hess_j.copy()
    rate_alpha, alpha_alpha = power_terms(tx)
    hess_dead[:, 0, 1] += rate_alpha
    hess_dead[:, 1, 1] += alpha_alpha
    for hess in (hess_alive, hess_dead):  # symmetric
        hess[:, 1, 0], hess[:, 3, 2], hess[:, 4, 2], hess[:, 4, 3] = (
            hess[:, 0, 1], hess[:, 2, 3], hess[:, 2, 4], hess[:, 3, 4])
    gap = d_alive - d_dead
    total = np.einsum("n,nij->ij", w * (1.0 - w_dead), hess_alive)
    total += np.einsum("n,nij->ij", w * w_dead, hess_dead)
    total += np.einsum("n,ni,nj->ij", w * w_dead * (1.0 - w_dead), gap, gap)
    total[0, 0] += float(w @ (polygamma(1, r + x) - polygamma(1, r)))
    return np.asarray(total, dtype=np.float64)


def simulate_ggompertz_nbd(
    n: int, *, r: float, alpha: float, b: float, s: float, beta: float, T: ArrayLike,
    seed: int | np.random.Generator | None = None,
) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Simulate Gamma-Gompertz/NBD customers: ``(frequency, recency, T)``.

    ``lambda ~ Gamma(r, alpha)``, ``eta ~ Gamma(s, beta)``, lifetime ``tau = log(1 + E /
    eta) / b`` with ``E`` standard exponential (so ``P(tau > t) = exp(-eta (e^(b t) - 1))``);
    purchases at Poisson rate ``lambda`` during ``(0, min(tau, T)]``.
    """
    from crmcore.value._simulate import _finish, _setup

    t_obs, rng = _setup(n, T, seed, {"r": r, "alpha": alpha, "b": b, "s": s, "beta": beta})
    lam = rng.gamma(r, 1.0 / alpha, size=len(t_obs))
    eta = rng.gamma(s, 1.0 / beta, size=len(t_obs))
    lifetime = np.log1p(rng.standard_exponential(len(t_obs)) / eta) / b
    end = np.minimum(lifetime, t_obs)
    x = rng.poisson(lam * end).astype(np.int64)
    return _finish(x, end, t_obs, x, rng, None)


class GGompertzNBD(ContinuousBTYDModel):
    """The Gamma-Gompertz/NBD model of Bemmaor & Glady (2012).

    ``params_`` are ``r, alpha`` (purchase rate ``lambda ~ Gamma(r, alpha)``), ``b`` (the
    Gompertz scale, common to all customers) and ``s, beta`` (``eta ~ Gamma(s, beta)``), in the
    time unit of the data, named as in CLVTools' ``ggomnbd``.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (0 = maximum likelihood).
    """

    param_names = ("r", "alpha", "b", "s", "beta")
    # The (beta, b) limit before (s, beta): it takes beta, so that the (s, beta) pair does
    # not read "beta -> 0" beside b -> 0 as every customer dropping out at once. b ->
    # infinity is no limit of its own (pinned alone beside s pinned at 0 it is an exponential
    # lifetime of rate e^25 s, not "no dropout"; one exponential rate for everyone is reached
    # as the Pareto/NBD limit with s -> infinity): a boundary fit must be about as likely as
    # where the optimiser stopped.
    _mixing_pairs = (
        ("r", "alpha", "gamma", "purchase rate lambda = r/alpha (Poisson purchases while alive)",
         "no customer buys again", "every customer buys at an infinite rate"),
        ("beta", "b", "ratio", "",
         "the lifetimes do not age (b -> 0, beta -> 0 with beta/b = {mean:.4g} fixed): "
         "Pareto(II) lifetimes, the Pareto/NBD model with its beta = {mean:.4g}", ""),
        ("s", "beta", "gamma", "Gompertz dropout intensity eta = s/beta",
         "no customer drops out (the NBD model of purchases)",
         "every customer drops out at once"),
    )
    _boundary_at_least_end_point = True

    def _initial_params(self, data: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        x, _, t_obs = data[:3]
        total_x = float(weights @ x)
        mean_t = max(float(np.average(t_obs, weights=weights)), 1e-6)
        rate = max(total_x, 0.1 * float(weights.sum())) / max(float(weights @ t_obs), 1e-12)
        return np.array([1.0, 1.0 / rate, 1.0 / mean_t, 1.0, 1.0])

    # -- lifetime ----------------------------------------------------------------------------

    def _log_survival(self, t: FloatArray) -> FloatArray:
        _, _, b, s, beta = self._param_array()
        return np.asarray(-s * _log_growth(b, beta, t)[0], dtype=np.float64)

    # -- likelihood ------------------------------------------------------------------------

    def _log_likelihood_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        # in blocks of rows: the quadrature holds up to 16 nodes per panel and row
        n = len(data[0])
        if n <= _BLOCK:
            return _log_likelihood_block(params, data[:3], gradient=gradient)
        ll = np.empty(n)
        grad = np.empty((n, len(self.param_names))) if gradient else None
        for start in range(0, n, _BLOCK):
            rows = slice(start, start + _BLOCK)
            part, part_grad = _log_likelihood_block(
                params, tuple(c[rows] for c in data[:3]), gradient=gradient)
            ll[rows] = part
            if grad is not None and part_grad is not None:
                grad[rows] = part_grad
        return ll, grad

    def _log_likelihood_hessian(
        self, params: FloatArray, data: tuple[FloatArray, ...], w: FloatArray
    ) -> FloatArray | None:
        """Exact Hessian of ``sum_i w_i ll_i`` in ``(r, alpha, b, s, beta)``
        (:func:`_hessian_block`, in blocks of rows): one pass over the quadrature nodes
        instead of ten gradients for central differences."""
        total = np.zeros((5, 5))
        for start in range(0, len(data[0]), _BLOCK):
            rows = slice(start, start + _BLOCK)
            total += _hessian_block(params, tuple(c[rows] for c in data[:3]), w[rows])
        return np.asarray(0.5 * (total + total.T), dtype=np.float64)

    # -- predictions -----------------------------------------------------------------------

    def _log_p_alive(self, x: FloatArray, tx: FloatArray, t_obs: FloatArray) -> FloatArray:
        out = np.empty(len(x))
        params = self._param_array()
        for start in range(0, len(x), _BLOCK):
            rows = slice(start, start + _BLOCK)
            _, log_alive, log_dead, _, _, _ = _likelihood_parts(
                params, x[rows], tx[rows], t_obs[rows], gradient=False)
            out[rows] = log_alive - np.logaddexp(log_alive, log_dead)
        return out

    def p_alive(
        self,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """P(alive at T | x, t_x, T): the likelihood's "alive" term over the whole,
        ``(alpha+T)^-(r+x) S(T) / [(alpha+T)^-(r+x) S(T) + integral_{t_x}^T (alpha+tau)^-(r+x)
        f(tau) dtau]``."""
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        (ux, utx, ut), _, inverse = compress_rows(x, tx, t_obs)
        return np.asarray(np.exp(self._log_p_alive(ux, utx, ut))[inverse], dtype=np.float64)

    def _residual_lifetime(self, start: FloatArray, horizon: FloatArray, delta: float = 0.0,
                           halvings: int = _HALVINGS) -> FloatArray:
        """``integral_0^horizon e^(-delta u) S(start+u) / S(start) du`` per row, on panels
        halving towards ``u = 0`` (in blocks of rows, so that the nodes stay in cache)."""
        _, _, b, s, beta = self._param_array()
        out = np.empty(len(start))
        rows = max(1, _BLOCK_NODES // (16 * (halvings + 1)))
        for i in range(0, len(start), rows):
            lo, width = start[i:i + rows], horizon[i:i + rows]
            nodes, weights = _clustered_rule(np.zeros_like(lo), width, halvings)
            log_ratio = s * (_log_growth(b, beta, lo)[0][:, None]
                             - _log_growth(b, beta, lo[:, None] + nodes)[0])
            if delta:
                log_ratio -= delta * nodes
            out[i:i + rows] = np.sum(weights * np.exp(log_ratio), axis=1)
        return out

    def expected_purchases(
        self,
        t: ArrayLike,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected repeat purchases in the next ``t``.

        Given alive at ``T``, ``lambda ~ Gamma(r+x, alpha+T)`` independently of the remaining
        lifetime, whose survival is ``S(u) / S(T)``; so ``E[Y(t)] = P(alive) (r+x)/(alpha+T)
        integral_T^(T+t) S(u)/S(T) du`` (Bemmaor & Glady 2012), the integral by the same
        panel quadrature as the likelihood.
        """
        horizon = check_horizon(t)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        hh, x, tx, t_obs = self._vector(horizon, x, tx, t_obs)
        shape = hh.shape
        flat = [v.reshape(-1) for v in (hh, x, tx, t_obs)]
        r, alpha = self._param_array()[:2]
        (ux, utx, ut), _, pattern = compress_rows(*flat[1:])
        alive = np.exp(self._log_p_alive(ux, utx, ut))[pattern]
        (uh, uT), _, pair = compress_rows(flat[0], flat[3])
        life = self._residual_lifetime(uT, uh)[pair]
        value = alive * (r + flat[1]) / (alpha + flat[3]) * life
        return np.asarray(value.reshape(shape), dtype=np.float64)

    def expected_purchases_unconditional(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a new customer in ``(0, t]``,
        ``r/alpha integral_0^t S(u) du``."""
        horizon = check_horizon(t)
        r, alpha = self._param_array()[:2]
        flat = horizon.reshape(-1)
        life = self._residual_lifetime(np.zeros_like(flat), flat)
        return np.asarray((r / alpha * life).reshape(horizon.shape), dtype=np.float64)

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """Expected purchases in ``(0, t]`` of a customer acquired now (the unconditional
        expectation)."""
        return self.expected_purchases_unconditional(t)

    def probability_of_purchases(self, k: ArrayLike, t: ArrayLike) -> FloatArray:
        """P(X(t) = k) for a new customer: ``S(t) NB(k; r, alpha/(alpha+t)) + integral_0^t
        f(tau) NB(k; r, alpha/(alpha+tau)) dtau`` (the lifetime ends at ``tau`` or not before
        ``t``; ``NB`` the negative binomial count of a Poisson-gamma process over that span).
        """
        counts = check_counts(k)
        horizon = check_horizon(t)
        r, alpha, b, s, beta = self._param_array()
        kk, tt = np.broadcast_arrays(counts, horizon)
        shape = kk.shape
        kf, tf = kk.reshape(-1).astype(np.float64), tt.reshape(-1).astype(np.float64)

        def log_nb(span: FloatArray, count: FloatArray) -> FloatArray:
            count = np.broadcast_to(count, np.shape(span))
            with np.errstate(divide="ignore", invalid="ignore"):
                value = (log_rising(np.full_like(count, r), count)[0] - gammaln(count + 1.0)
                         - r * np.log1p(span / alpha)
                         + count * (np.log(span) - np.log(alpha + span)))
            return np.asarray(np.where(count == 0, -r * np.log1p(span / alpha), value),
                              dtype=np.float64)

        alive = np.exp(self._log_survival(tf) + log_nb(tf, kf))
        nodes, weights = _clustered_rule(np.zeros_like(tf), tf)
        log_f = (math.log(s * b / beta) + b * nodes
                 - (s + 1.0) * _log_growth(b, beta, nodes)[0])
        dead = np.sum(weights * np.exp(log_f + log_nb(nodes, kf[:, None])), axis=1)
        return np.asarray(np.clip(alive + dead, 0.0, 1.0).reshape(shape), dtype=np.float64)

    def dert(
        self,
        continuous_rate: float,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """Discounted expected residual transactions, ``P(alive) (r+x)/(alpha+T)
        integral_0^inf e^(-delta u) S(T+u)/S(T) du`` (``delta`` continuously compounded per
        time unit), the integral on panels halving towards 0 (30 times) up to
        ``u = 60 / delta``."""
        delta = check_rate(continuous_rate)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        r, alpha = self._param_array()[:2]
        (ux, utx, ut), _, pattern = compress_rows(x, tx, t_obs)
        alive = np.exp(self._log_p_alive(ux, utx, ut))[pattern]
        uT, pair = np.unique(t_obs, return_inverse=True)
        life = self._residual_lifetime(uT, np.full_like(uT, 60.0 / delta), delta,
                                       halvings=30)[pair]
        return np.asarray(alive * (r + x) / (alpha + t_obs) * life, dtype=np.float64)

    def _param_dict(self) -> dict[str, float]:
        return self.params_
