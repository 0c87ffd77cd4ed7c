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

The integral has no closed form. It is taken by Gauss-Legendre quadrature (16 nodes) on
panels that halve towards ``t_x`` (``[t_x + d 2^-(k+1), t_x + d 2^-k]``, ``d = T - t_x``, and a
last panel down to ``t_x``), so that both the power ``(alpha+tau)^-(r+x)``, which for a
frequent buyer falls within a fraction of the interval, and the Gompertz density are resolved;
the integrand is evaluated in log space. The exact gradient differentiates under the integral
(the limits do not depend on the parameters).

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
from scipy.special import digamma, gammaln

from crmcore._base import CustomerBase, compress_rows
from crmcore.value._btyd import (
    ContinuousBTYDModel,
    FloatArray,
    check_counts,
    check_horizon,
    check_rate,
    customer_arrays,
)

__all__ = ["GGompertzNBD", "simulate_ggompertz_nbd"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_HALVINGS = 14
_BLOCK = 4096


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


def _log_expm1(y: FloatArray) -> FloatArray:
    """``log(e^y - 1)`` for ``y >= 0`` (``-inf`` at 0), without overflow."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(y > 30.0, y + np.log1p(-np.exp(-y)), np.log(np.expm1(y)))


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

    def _initial_params(self, data: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        x, _, t_obs = data[:3]
        total_x = float(weights @ x)
        mean_t = max(float(np.average(t_obs, weights=weights)), 1e-6)
        rate = max(total_x, 0.1 * float(weights.sum())) / max(float(weights @ t_obs), 1e-12)
        return np.array([1.0, 1.0 / rate, 1.0 / mean_t, 1.0, 1.0])

    # -- lifetime ----------------------------------------------------------------------------

    @staticmethod
    def _log_shifted(beta: float, b: float, t: FloatArray) -> FloatArray:
        """``log(beta + e^(b t) - 1)``."""
        return np.asarray(np.logaddexp(math.log(beta), _log_expm1(b * t)), dtype=np.float64)

    def _log_survival(self, t: FloatArray) -> FloatArray:
        _, _, b, s, beta = self._param_array()
        return np.asarray(s * (math.log(beta) - self._log_shifted(beta, b, t)),
                          dtype=np.float64)

    # -- likelihood ------------------------------------------------------------------------

    def _log_likelihood_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        # in blocks of rows: the quadrature holds 240 nodes per row in each temporary
        n = len(data[0])
        if n <= _BLOCK:
            return self._block_terms(params, data[:3], gradient=gradient)
        ll = np.empty(n)
        grad = np.empty((n, len(self.param_names))) if gradient else None
        for start in range(0, n, _BLOCK):
            rows = slice(start, start + _BLOCK)
            part, part_grad = self._block_terms(params, tuple(c[rows] for c in data[:3]),
                                                gradient=gradient)
            ll[rows] = part
            if grad is not None and part_grad is not None:
                grad[rows] = part_grad
        return ll, grad

    def _block_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        r, alpha, b, s, beta = params
        x, tx, t_obs = data
        rx = r + x
        log_beta = math.log(beta)
        shifted_T = self._log_shifted(beta, b, t_obs)
        log_aT, log_atx = np.log(alpha + t_obs), np.log(alpha + tx)
        # alive at T: (alpha+T)^-(r+x) S(T)
        l1 = -rx * log_aT + s * (log_beta - shifted_T)
        # died in (t_x, T]: (alpha+t_x)^-(r+x) J, J = int ((alpha+t_x)/(alpha+tau))^(r+x) f
        nodes, weights = _clustered_rule(tx, t_obs)
        shifted = self._log_shifted(beta, b, nodes)
        log_power = rx[:, None] * (log_atx[:, None] - np.log(alpha + nodes))
        log_f = (math.log(s) + math.log(b) + b * nodes + s * log_beta - (s + 1.0) * shifted)
        integrand = weights * np.exp(log_power + log_f)
        j = integrand.sum(axis=1)
        with np.errstate(divide="ignore"):
            l2 = -rx * log_atx + np.log(j)
        log_sum = np.logaddexp(l1, l2)
        ll = gammaln(rx) - gammaln(r) + r * math.log(alpha) + log_sum
        if not gradient:
            return np.asarray(ll, dtype=np.float64), None
        w2 = np.exp(l2 - log_sum)
        w1 = 1.0 - w2
        safe_j = np.where(j > 0, j, 1.0)

        def share(derivative: FloatArray) -> FloatArray:
            return np.asarray(np.sum(integrand * derivative, axis=1) / safe_j,
                              dtype=np.float64)

        grow = np.exp(b * nodes - shifted)  # e^(b tau) / (beta + e^(b tau) - 1)
        j_r = share(log_atx[:, None] - np.log(alpha + nodes))
        j_alpha = share(rx[:, None] * (1.0 / (alpha + tx)[:, None] - 1.0 / (alpha + nodes)))
        j_b = share(1.0 / b + nodes - (s + 1.0) * nodes * grow)
        j_s = share(1.0 / s + log_beta - shifted)
        j_beta = share(s / beta - (s + 1.0) * np.exp(-shifted))
        grow_T = np.exp(b * t_obs - shifted_T)
        d_r = digamma(rx) - digamma(r) + math.log(alpha) + w1 * (-log_aT) + w2 * (
            -log_atx + j_r)
        d_alpha = r / alpha + w1 * (-rx / (alpha + t_obs)) + w2 * (-rx / (alpha + tx) + j_alpha)
        d_b = w1 * (-s * t_obs * grow_T) + w2 * j_b
        d_s = w1 * (log_beta - shifted_T) + w2 * j_s
        d_beta = w1 * (s / beta - s * np.exp(-shifted_T)) + w2 * j_beta
        return (np.asarray(ll, dtype=np.float64),
                np.column_stack([d_r, d_alpha, d_b, d_s, d_beta]))

    # -- predictions -----------------------------------------------------------------------

    def _log_p_alive(self, x: FloatArray, tx: FloatArray, t_obs: FloatArray) -> FloatArray:
        r, alpha, b, s, beta = self._param_array()
        rx = r + x
        log_beta = math.log(beta)
        l1 = -rx * np.log(alpha + t_obs) + s * (log_beta - self._log_shifted(beta, b, t_obs))
        nodes, weights = _clustered_rule(tx, t_obs)
        log_atx = np.log(alpha + tx)
        log_f = (math.log(s) + math.log(b) + b * nodes + s * log_beta
                 - (s + 1.0) * self._log_shifted(beta, b, nodes))
        j = np.sum(weights * np.exp(rx[:, None] * (log_atx[:, None] - np.log(alpha + nodes))
                                    + log_f), axis=1)
        with np.errstate(divide="ignore"):
            l2 = -rx * log_atx + np.log(j)
        return np.asarray(l1 - np.logaddexp(l1, l2), dtype=np.float64)

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

    def _residual_lifetime(self, start: FloatArray, horizon: FloatArray) -> FloatArray:
        """``integral_start^(start+horizon) S(u) / S(start) du`` per row."""
        _, _, b, s, beta = self._param_array()
        nodes, weights = _clustered_rule(start, start + horizon)
        log_ratio = s * (self._log_shifted(beta, b, start)[:, None]
                         - self._log_shifted(beta, b, nodes))
        return np.asarray(np.sum(weights * np.exp(log_ratio), axis=1), dtype=np.float64)

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
            with np.errstate(divide="ignore", invalid="ignore"):
                value = (gammaln(r + count) - gammaln(r) - gammaln(count + 1.0)
                         + r * (math.log(alpha) - np.log(alpha + span))
                         + count * (np.log(span) - np.log(alpha + span)))
            return np.asarray(np.where(count == 0, r * (math.log(alpha) - np.log(alpha + span)),
                                       value), dtype=np.float64)

        alive = np.exp(self._log_survival(tf) + log_nb(tf, kf))
        nodes, weights = _clustered_rule(np.zeros_like(tf), tf)
        log_f = (math.log(s) + math.log(b) + b * nodes + s * math.log(beta)
                 - (s + 1.0) * self._log_shifted(beta, b, nodes))
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
        r, alpha, b, s, beta = self._param_array()
        (ux, utx, ut), _, pattern = compress_rows(x, tx, t_obs)
        alive = np.exp(self._log_p_alive(ux, utx, ut))[pattern]
        uT, pair = np.unique(t_obs, return_inverse=True)
        nodes, weights = _clustered_rule(np.zeros_like(uT), np.full_like(uT, 60.0 / delta),
                                         halvings=30)
        log_ratio = s * (self._log_shifted(beta, b, uT)[:, None]
                         - self._log_shifted(beta, b, uT[:, None] + nodes))
        life = np.sum(weights * np.exp(log_ratio - delta * nodes), axis=1)[pair]
        return np.asarray(alive * (r + x) / (alpha + t_obs) * life, dtype=np.float64)

    def _param_dict(self) -> dict[str, float]:
        return self.params_
