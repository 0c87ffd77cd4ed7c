"""The Pareto/NBD log-likelihood with one parameter vector per customer (for covariates).

The same expressions as :mod:`crmcore.value._pareto` (Fader & Hardie 2005, note 009, eq.
18-20, with the Euler-transformed hypergeometric series and its exact derivatives), with
``alpha`` and ``beta`` (and, formally, ``r`` and ``s``) given per row, so that the branch
``alpha >= beta`` of the integral's representation is chosen row by row. Rows whose
parameters are outside the range where that representation is accurate (``r`` or ``s`` above
50, or ``alpha`` and ``beta`` more than a factor 100 apart: the plain model's switch,
``_needs_stable``) take the plain model's stable form instead (``_stable_parts``: the
integral by Gauss-Legendre panels, the gamma ratios by Stirling's series), row by row.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import digamma, gammaln

from crmcore.value._btyd import FloatArray, log1mexp
from crmcore.value._pareto import (
    _STABLE_RATE_RATIO,
    _STABLE_SHAPE,
    _log_f_rows,
    _stable_parts,
)

__all__ = ["pareto_row_terms"]


def _needs_stable_rows(r: FloatArray, alpha: FloatArray, s: FloatArray, beta: FloatArray
                       ) -> NDArray[np.bool_]:
    """Per row, whether the hypergeometric representation is outside its accurate range (the
    plain model's ``_needs_stable``)."""
    ratio = np.maximum(alpha, beta) / np.minimum(alpha, beta)
    return np.asarray((r > _STABLE_SHAPE) | (s > _STABLE_SHAPE) | (ratio > _STABLE_RATE_RATIO),
                      dtype=bool)


def pareto_row_terms(rows: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool,
                     ) -> tuple[FloatArray, FloatArray | None]:
    """Each row's Pareto/NBD log-likelihood at its own ``(r, alpha, s, beta)`` (``rows``,
    shape ``(n, 4)``) and, with ``gradient``, its derivative in those four per-row values;
    the hypergeometric form where it is accurate, the stable form elsewhere."""
    x, tx, t_obs = (np.asarray(c, dtype=np.float64) for c in data[:3])
    r, alpha, s, beta = rows.T
    stable = _needs_stable_rows(r, alpha, s, beta)
    if not stable.any():
        return _hypergeometric_row_terms(rows, (x, tx, t_obs), gradient=gradient)
    ll = np.empty(len(x))
    grad = np.empty((len(x), 4)) if gradient else None
    plain = ~stable
    if plain.any():
        ll[plain], part = _hypergeometric_row_terms(
            rows[plain], (x[plain], tx[plain], t_obs[plain]), gradient=gradient)
        if grad is not None and part is not None:
            grad[plain] = part
    log_const, log_alive, log_dead, d_const, d_alive, d_dead = _stable_parts(
        r[stable], alpha[stable], s[stable], beta[stable], x[stable], tx[stable],
        t_obs[stable], gradient=gradient)
    log_bracket = np.logaddexp(log_alive, log_dead)
    ll[stable] = log_const + log_bracket
    if grad is not None:
        if d_const is None or d_alive is None or d_dead is None:  # pragma: no cover
            raise AssertionError("the stable form returns gradients when asked")
        w_alive = np.exp(log_alive - log_bracket)[:, None]
        grad[stable] = d_const + w_alive * d_alive + (1.0 - w_alive) * d_dead
    return ll, grad


def row_log_p_alive(r: FloatArray, alpha: FloatArray, s: FloatArray, beta: FloatArray,
                    x: FloatArray, tx: FloatArray, t_obs: FloatArray) -> FloatArray:
    """``log P(alive at T | x, t_x, T)`` per row at the row's own ``(r, alpha, s, beta)``
    (1-D arrays of one length): the alive-at-T term's share of the likelihood, as the plain
    model's ``_log_p_alive``, by the hypergeometric representation where it is accurate and
    the stable form elsewhere (per row)."""
    stable = _needs_stable_rows(r, alpha, s, beta)
    log_alive = np.empty(len(x))
    log_dead = np.empty(len(x))
    plain = ~stable
    if plain.any():
        rp, ap, sp, bp, xp, txp, tp = (v[plain] for v in (r, alpha, s, beta, x, tx, t_obs))
        log_alive[plain] = -(rp + xp) * np.log(ap + tp) - sp * np.log(bp + tp)
        b1, _ = _log_f_rows(rp, ap, sp, bp, xp, txp, derivatives=False)
        b2, _ = _log_f_rows(rp, ap, sp, bp, xp, tp, derivatives=False)
        now = txp >= tp  # a purchase at T leaves no dead-since term
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.where(now, 0.0, np.minimum(b2 - b1, 0.0))
            log_diff = np.where(now, -np.inf, b1 + log1mexp(gap))
        log_dead[plain] = np.log(sp) - np.log(rp + sp + xp) + log_diff
    if stable.any():
        _, log_alive[stable], log_dead[stable], *_ = _stable_parts(
            r[stable], alpha[stable], s[stable], beta[stable], x[stable], tx[stable],
            t_obs[stable], gradient=False)
    return np.asarray(log_alive - np.logaddexp(log_alive, log_dead), dtype=np.float64)


def _hypergeometric_row_terms(rows: FloatArray, data: tuple[FloatArray, ...], *,
                              gradient: bool) -> tuple[FloatArray, FloatArray | None]:
    """:func:`pareto_row_terms` by the hypergeometric representation."""
    x, tx, t_obs = data[:3]
    r, alpha, s, beta = rows.T
    m = r + s + x
    log_const = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_alive = -(r + x) * np.log(alpha + t_obs) - s * np.log(beta + t_obs)
    b1, g1 = _log_f_rows(r, alpha, s, beta, x, tx, derivatives=gradient)
    b2, g2 = _log_f_rows(r, alpha, s, beta, x, t_obs, derivatives=gradient)
    # a purchase at T leaves no dead-since term: -inf exactly, whatever B1 and B2 are (as in
    # the plain model: both may overflow for a long history compressed into no time)
    now = tx >= t_obs
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(now, 0.0, np.minimum(b2 - b1, 0.0))
        log_diff = np.where(now, -np.inf, b1 + log1mexp(gap))
    log_dead = np.log(s) - np.log(m) + log_diff
    log_bracket = np.logaddexp(log_alive, log_dead)
    ll = np.asarray(log_const + log_bracket, dtype=np.float64)
    if not gradient:
        return ll, None
    assert g1 is not None
    assert g2 is not None
    d_const = np.column_stack([digamma(r + x) - digamma(r) + np.log(alpha), r / alpha,
                               np.log(beta), s / beta])
    d_alive = np.column_stack([-np.log(alpha + t_obs), -(r + x) / (alpha + t_obs),
                               -np.log(beta + t_obs), -s / (beta + t_obs)])
    q = np.exp(gap)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        d_diff = (g1 - q * g2) / (1.0 - q)
    d_diff = np.where(np.isfinite(log_diff)[:, None], d_diff, 0.0)
    zeros = np.zeros_like(x)
    d_dead = d_diff + np.column_stack([-1.0 / m, zeros, 1.0 / s - 1.0 / m, zeros])
    w_alive = np.exp(log_alive - log_bracket)[:, None]
    grad = d_const + w_alive * d_alive + (1.0 - w_alive) * d_dead
    return ll, np.asarray(grad, dtype=np.float64)
