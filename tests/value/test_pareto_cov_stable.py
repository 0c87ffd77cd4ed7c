"""Pareto/NBD with static covariates at extreme per-customer parameters: each row's
likelihood is the plain model's stable form where the hypergeometric representation loses
accuracy (issue 16), checked against adaptive quadrature of the defining integral
(Fader & Hardie 2005, note 009, eq. 18-20) and its gradient against differences."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from crmcore.value._pareto_cov import pareto_row_terms

# (r, alpha, s, beta) per row: ordinary rows beside rows with alpha, beta far apart (a
# covariate effect of e^+-6), shapes above 50, and both
ROWS = np.array([
    [0.55, 10.6, 0.61, 11.7],
    [0.55, 10.6 * math.exp(-6.0), 0.61, 11.7],
    [0.55, 10.6, 0.61, 11.7 * math.exp(6.0)],
    [0.55, 10.6 * math.exp(6.0), 0.61, 11.7 * math.exp(-6.0)],
    [80.0, 150.0, 0.61, 11.7],
    [0.55, 10.6, 300.0, 4000.0],
    [2.0, 0.01, 5.0, 1e4],
    [1e3, 1e5, 60.0, 2.0],
    # where the hypergeometric form alone was off by 0.7, 0.6 and 0.2 of the log-likelihood
    [0.0361, 0.151, 666.73, 36520.3],
    [0.0781, 0.0071, 6669.1, 1006.2],
    [1559.0, 4969.2, 0.1606, 0.0058],
])
HISTORIES = [(0.0, 0.0, 39.0), (1.0, 3.0, 39.0), (5.0, 20.0, 39.0), (40.0, 30.0, 39.0),
             (2.0, 39.0, 39.0), (12.0, 70.0, 78.0)]


def _reference(r: float, alpha: float, s: float, beta: float, x: float, tx: float,
               t_obs: float) -> float:
    """log L by quadrature, every power measured from t_x and the gammas' ratio by lgamma."""
    def log_g(u: float) -> float:  # log of (alpha/(alpha+u))^r (alpha+u)^-x (beta/(beta+u))^s
        return (-r * math.log1p(u / alpha) - x * math.log(alpha + u)
                - s * math.log1p(u / beta))

    log_alive = log_g(t_obs)
    if tx < t_obs:
        top = log_g(tx) - math.log(beta + tx)
        # breakpoints where the powers fall: (alpha + t_x), (beta + t_x) times 2^k
        scale = min(alpha, beta) + tx
        points = [tx + scale * 2.0**k for k in range(-40, 40) if tx + scale * 2.0**k < t_obs]
        died = integrate.quad(lambda u: math.exp(log_g(u) - math.log(beta + u) - top), tx,
                              t_obs, points=points or None, epsabs=0.0, epsrel=1e-13,
                              limit=2000)[0]
        log_dead = math.log(s) + top + math.log(died)
    else:
        log_dead = -math.inf
    return math.lgamma(r + x) - math.lgamma(r) + float(np.logaddexp(log_alive, log_dead))


def _data(n_rows: int) -> tuple[np.ndarray, ...]:
    cells = [h for _ in range(n_rows) for h in HISTORIES]
    return tuple(np.array([c[i] for c in cells], dtype=float) for i in range(3))


def test_rows_match_quadrature_at_extreme_parameters() -> None:
    rows = np.repeat(ROWS, len(HISTORIES), axis=0)
    x, tx, t_obs = _data(len(ROWS))
    ll, _ = pareto_row_terms(rows, (x, tx, t_obs), gradient=False)
    reference = np.array([
        _reference(float(r), float(alpha), float(s), float(beta), float(xi), float(a), float(b))
        for (r, alpha, s, beta), xi, a, b in zip(rows, x, tx, t_obs, strict=True)])
    np.testing.assert_allclose(ll, reference, rtol=1e-9, atol=1e-9)


def test_rows_gradient_at_extreme_parameters() -> None:
    rows = np.repeat(ROWS, len(HISTORIES), axis=0)
    data = _data(len(ROWS))
    _, grad = pareto_row_terms(rows, data, gradient=True)
    assert grad is not None
    for j in range(4):  # in log-parameters, per row
        step = np.zeros(4)
        step[j] = 1e-5
        up, _ = pareto_row_terms(rows * np.exp(step), data, gradient=False)
        down, _ = pareto_row_terms(rows * np.exp(-step), data, gradient=False)
        np.testing.assert_allclose(grad[:, j] * rows[:, j], (up - down) / 2e-5, rtol=1e-5,
                                   atol=1e-6)
