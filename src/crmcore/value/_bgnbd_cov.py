"""The BG/NBD and MBG/NBD log-likelihoods with one parameter vector per customer (for
covariates).

The same likelihood as :mod:`crmcore.value._bgnbd` (Fader, Hardie & Lee 2005, eq. 6;
Batislam, Denizel & Filiztekin 2007 for the modified form), with ``r, alpha, a, b`` given per
row::

    L = Gamma(r+x) alpha^r / Gamma(r) * [ B(a, b+x+c)/B(a,b) (alpha+T)^-(r+x)
                                         + d_x B(a+1, b+x+c-1)/B(a,b) (alpha+t_x)^-(r+x) ]

with ``c = 0, d_x = [x > 0]`` (BG/NBD) or ``c = 1, d_x = 1`` (MBG/NBD), and its exact gradient.
The beta-function ratio is formed from rising factorials (:func:`log_beta_ratio2`) and the
second term's ratio to the first is ``a / (b+x+c-1)``, as in the covariate-free model, so the
likelihood keeps its precision for a group of customers whose ``a_i, b_i`` are far out (towards
one dropout probability for the group), where a difference of ``betaln`` values loses every
digit.
"""

from __future__ import annotations

import numpy as np

from crmcore.value._btyd import FloatArray, log_beta_ratio2, log_rising

__all__ = ["bgnbd_row_terms"]


def bgnbd_row_terms(rows: FloatArray, data: tuple[FloatArray, ...], *, modified: bool,
                    gradient: bool) -> tuple[FloatArray, FloatArray | None]:
    """Each row's (M)BG/NBD log-likelihood at its own ``(r, alpha, a, b)`` (``rows``, shape
    ``(n, 4)``) and, with ``gradient``, its derivative in those four per-row values."""
    x, tx, t_obs = data[:3]
    r, alpha, a, b = rows.T
    shift = 1.0 if modified else 0.0
    has_second = np.ones_like(x, dtype=bool) if modified else x > 0
    b_second = np.where(has_second, b + x + shift - 1.0, 1.0)
    log_T = np.log(alpha + t_obs)
    log_gap = np.log(alpha + tx) - log_T
    rx = r + x
    rising, d_rising = log_rising(r, x)
    first, first_a, first_b = log_beta_ratio2(a, b, 0.0, x + shift, gradient=gradient)
    # B(a+1, b+x'-1) / B(a, b+x') = a / (b+x'-1): the second term's ratio to the first
    with np.errstate(divide="ignore"):
        d = np.where(has_second, np.log(a) - np.log(b_second), -np.inf) - rx * log_gap
    e = np.exp(-np.abs(d))
    ll = (rising + r * np.log(alpha) + first - rx * log_T + np.maximum(d, 0.0) + np.log1p(e))
    if not gradient:
        return np.asarray(ll, dtype=np.float64), None
    assert first_a is not None
    assert first_b is not None
    w2 = np.where(d > 0, 1.0, e) / (1.0 + e)  # share of the second term
    d_r = d_rising + np.log(alpha) - log_T - w2 * log_gap
    d_alpha = r / alpha - rx * ((1.0 - w2) / (alpha + t_obs) + w2 / (alpha + tx))
    d_a = first_a + w2 / a
    d_b = first_b - w2 * np.where(has_second, 1.0 / b_second, 0.0)
    return np.asarray(ll, dtype=np.float64), np.column_stack([d_r, d_alpha, d_a, d_b])
