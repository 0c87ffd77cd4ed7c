"""What the continuous-time buy-till-you-die models (BG/NBD, MBG/NBD, Pareto/NBD) share.

Each customer is summarised by ``x`` (``frequency``, repeat purchases), ``t_x`` (``recency``,
time of the last repeat purchase since the first purchase) and ``T`` (time since the first
purchase), in one time unit. The models differ only in their likelihood and predictions; the
fitting arguments, input checks, the fit-check histogram and the customer-base conveniences
live here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, gammaln

from crmcore._base import CustomerBase, check_summary
from crmcore._checks import discount_rate, finite_non_negative
from crmcore._errors import InvalidValueError, describe_rows
from crmcore.value._likelihood import LikelihoodModel

__all__ = ["ContinuousBTYDModel"]

FloatArray = NDArray[np.float64]
Summary = tuple[FloatArray, FloatArray, FloatArray]


def customer_arrays(
    base_or_frequency: CustomerBase | ArrayLike,
    recency: ArrayLike | None,
    T: ArrayLike | None,
) -> Summary:
    """``(x, t_x, T)`` as float arrays from a base or three aligned arrays (checked)."""
    if isinstance(base_or_frequency, CustomerBase):
        if recency is not None or T is not None:
            raise InvalidValueError(
                "pass either a CustomerBase or the arrays frequency, recency and T, not both",
                field="recency" if recency is not None else "T")
        base = base_or_frequency
        return (np.asarray(base.frequency, dtype=np.float64), np.asarray(base.recency),
                np.asarray(base.T))
    if recency is None or T is None:
        raise InvalidValueError(
            "recency and T are required with a frequency array (or pass a CustomerBase)",
            field="recency" if recency is None else "T")
    x, tx, t_obs, _ = check_summary(base_or_frequency, recency, T)
    return x, tx, t_obs


def check_horizon(t: ArrayLike, name: str = "t") -> FloatArray:
    """A non-negative, finite time span (scalar or array)."""
    return finite_non_negative(t, name)


def check_rate(continuous_rate: float) -> float:
    """The ``continuous_rate`` a continuous-time model's ``dert`` takes (the continuously
    compounded discount rate per unit of the data's time), by the one discount-rate rule,
    > 0 for the sum to infinity."""
    return discount_rate(continuous_rate, to_infinity=True, field="continuous_rate",
                         per="unit of the data's time, continuously: log(1 + discount_rate) "
                             "/ (data units per time_unit)")


def check_counts(k: ArrayLike) -> FloatArray:
    """Whole, non-negative purchase counts."""
    array = np.asarray(k, dtype=np.float64)
    flat = array.reshape(-1)
    bad = np.flatnonzero(~np.isfinite(flat) | (flat < 0) | (flat != np.round(flat)))
    if len(bad):
        raise InvalidValueError(f"k must be whole numbers >= 0; not at {describe_rows(bad)}",
                                field="k", rows=bad.tolist())
    return array


class ContinuousBTYDModel(LikelihoodModel):
    """Base of the continuous-time BTYD models: fitting arguments and shared predictions.

    Subclasses implement the likelihood (see :class:`LikelihoodModel`) and the predictions
    ``p_alive``, ``expected_purchases``, ``expected_purchases_unconditional`` and
    ``probability_of_purchases``.
    """

    def fit(
        self,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit by maximum likelihood.

        Parameters
        ----------
        base_or_frequency:
            A :class:`crmcore.CustomerBase`, or the repeat purchases ``x`` per customer (then
            ``recency`` and ``T`` are required), in lifetimes' argument order.
        recency, T:
            Time of the last repeat purchase and length of observation since the first
            purchase, in one time unit.
        weights:
            Number of customers each row stands for (default one each).

        Returns
        -------
        self

        Raises
        ------
        InvalidValueError
            Bad input (negative or non-whole frequency, NaN, ``recency > T``, ...), naming
            the field and rows.
        ConvergenceError
            The optimiser did not find a finite maximum; ``diagnostics`` says what it tried.
        """
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        unit = base_or_frequency.time_unit if isinstance(base_or_frequency,
                                                         CustomerBase) else None
        return self._fit_patterns((x, tx, t_obs), weights, time_unit=unit)

    def _initial_params(self, data: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        x, _, t_obs = data
        total_x = float(weights @ x)
        rate = max(total_x, 0.1 * float(weights.sum())) / max(float(weights @ t_obs), 1e-12)
        start: dict[str, float] = {"r": 1.0, "alpha": 1.0 / rate, "a": 1.0, "b": 1.0,
                                   "s": 1.0, "beta": max(float(np.average(t_obs, weights=weights)),
                                                         1e-6)}
        return np.array([start[name] for name in self.param_names])

    # -- shared predictions ----------------------------------------------------------------

    def probability_of_purchases(self, k: ArrayLike, t: ArrayLike) -> FloatArray:
        """P(X(t) = k): probability that a new customer makes exactly ``k`` repeat purchases
        in ``(0, t]`` (unconditional; broadcast over ``k`` and ``t``)."""
        raise NotImplementedError  # pragma: no cover - each model implements it

    def expected_repeat_purchase_counts(
        self, T: CustomerBase | ArrayLike, max_k: int = 7
    ) -> FloatArray:
        """Expected number of customers with 0, 1, ..., ``max_k - 1`` and ``max_k`` or more
        repeat purchases, given each customer's observation length ``T``.

        Comparing this with the observed histogram of ``frequency`` is the usual check of a
        BTYD model's fit (as in Fader, Hardie & Lee 2005).
        """
        if isinstance(T, CustomerBase):
            t_obs = np.asarray(T.T)
        else:
            t_obs = check_horizon(T, "T").reshape(-1)
        if int(max_k) != max_k or max_k < 1:
            raise InvalidValueError(f"max_k must be a whole number >= 1, got {max_k!r}",
                                    field="max_k")
        (unique_t,), counts, _ = _unique(t_obs)
        k = np.arange(max_k, dtype=np.float64)
        probs = self.probability_of_purchases(k[:, None], unique_t[None, :])
        expected = probs @ counts
        rest = counts.sum() - expected.sum()
        return np.append(expected, max(rest, 0.0))

    def _param_dict(self) -> dict[str, float]:
        return self.params_

    def _vector(self, *arrays: Any) -> tuple[FloatArray, ...]:
        """Broadcast prediction inputs against each other."""
        return tuple(np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays]))


def _unique(values: FloatArray) -> tuple[tuple[FloatArray], FloatArray, NDArray[np.int64]]:
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (unique,), counts.astype(np.float64), inverse.astype(np.int64)


def log1mexp(x: FloatArray) -> FloatArray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate near 0 and for very negative ``x``."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def gauss_laguerre(n: int = 80) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights of ``n``-point Gauss-Laguerre quadrature (weight ``e^-u``)."""
    nodes, weights = np.polynomial.laguerre.laggauss(n)
    return nodes.astype(np.float64), weights.astype(np.float64)


def _hyp2f1_series(a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray,
                   max_terms: int) -> FloatArray:
    """Gauss's series for ``2F1(a, b; c; z)``, summed until the terms stop mattering
    (vectorised over the arguments; customers drop out of the loop as they converge)."""
    total = np.ones_like(z)
    term = np.ones_like(z)
    active = np.flatnonzero(z != 0)
    a_, b_, c_, z_, term_, sum_ = a[active], b[active], c[active], z[active], term[active], (
        total[active])
    n = 0
    while len(active) and n < max_terms:
        term_ = term_ * (a_ + n) * (b_ + n) / ((c_ + n) * (n + 1.0)) * z_
        sum_ = sum_ + term_
        n += 1
        done = (np.abs(term_) <= 1e-17 * np.abs(sum_)) & (
            np.abs((a_ + n) * (b_ + n) / ((c_ + n) * (n + 1.0)) * z_) < 1)
        if done.any() or n == max_terms:
            finished = done | (n == max_terms)
            total[active[finished]] = sum_[finished]
            keep = ~finished
            active = active[keep]
            a_, b_, c_, z_, term_, sum_ = (a_[keep], b_[keep], c_[keep], z_[keep], term_[keep],
                                           sum_[keep])
    return total


def hyp2f1_stable(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    """``2F1(a, b; c; z)`` for ``0 <= z < 1``, robust where scipy's ``hyp2f1`` is not.

    :func:`scipy.special.hyp2f1` first (it agrees with Gauss's series to ``1e-10`` over the
    parameters the BTYD models use); where it returns a non-finite value (it does for some
    large ``c`` with negative ``a`` and ``b``) Pfaff's transformation ``(1-z)^(-a) 2F1(a, c-b;
    c; z/(z-1))`` is tried, then Gauss's series itself.
    """
    from scipy.special import hyp2f1

    a_, b_, c_, z_ = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(a, b, c, z))
    value = np.asarray(hyp2f1(a_, b_, c_, z_), dtype=np.float64)
    bad = ~np.isfinite(value)
    if bad.any():
        idx = np.flatnonzero(bad.reshape(-1))
        fa, fb, fc, fz = (v.reshape(-1)[idx] for v in (a_, b_, c_, z_))
        retry = np.exp(-fa * np.log1p(-fz)) * hyp2f1(fa, fc - fb, fc, fz / (fz - 1.0))
        still = ~np.isfinite(retry)
        if still.any():
            retry[still] = _hyp2f1_series(fa[still], fb[still], fc[still], fz[still], 200_000)
        flat = value.reshape(-1)
        flat[idx] = retry
        value = flat.reshape(value.shape)
    return value


# Above this a + b, differences of betaln (each about -(a+b) log(a+b)) lose too many digits:
# sums over the purchases are used instead.
_LARGE_BETA = 1e4
_MAX_SUM_TERMS = 1_000_000


def log_beta_ratio(
    a: float, b: float, n: ArrayLike, *, gradient: bool = False
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """``D(n) = log B(a, b+n) / B(a, b)`` for whole ``n >= 0`` (the log-probability that a
    ``Beta(a, b)`` coin survives ``n`` tosses), with ``dD/da`` and ``dD/db`` if ``gradient``.

    For moderate ``a + b`` from ``betaln`` and ``digamma``; for large ``a + b`` (towards the
    limit of a constant dropout probability) as the sums ``D(n) = -sum_{j<n} log1p(a/(b+j))``,
    ``dD/da = -sum 1/(a+b+j)``, ``dD/db = sum a/((b+j)(a+b+j))``, which keep their relative
    precision for any ``a``, ``b`` (a difference of betaln would lose it all near 1e13).
    """
    nn = np.asarray(n, dtype=np.float64)
    top = float(np.max(nn)) if nn.size else 0.0
    if a + b <= _LARGE_BETA or top > _MAX_SUM_TERMS:
        value = betaln(a, b + nn) - betaln(a, b)
        if not gradient:
            return np.asarray(value, dtype=np.float64), None, None
        d_a = digamma(a + b) - digamma(a + b + nn)
        d_b = digamma(b + nn) - digamma(b) + d_a
        return (np.asarray(value, dtype=np.float64), np.asarray(d_a, dtype=np.float64),
                np.asarray(d_b, dtype=np.float64))
    j = np.arange(int(top), dtype=np.float64)
    index = nn.astype(np.intp)
    value = np.concatenate([[0.0], np.cumsum(-np.log1p(a / (b + j)))])[index]
    if not gradient:
        return value, None, None
    d_a = np.concatenate([[0.0], np.cumsum(-1.0 / (a + b + j))])[index]
    d_b = np.concatenate([[0.0], np.cumsum(a / ((b + j) * (a + b + j)))])[index]
    return value, d_a, d_b


_STIRLING_R = 100.0  # log Gamma(r+x) - log Gamma(r) by Stirling's series from here on


def log_rising(r: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log Gamma(r+x) - log Gamma(r)`` and its derivative in ``r``, without the cancellation
    of two large log-gammas when ``r`` is large (Stirling's series, error below 1e-17 from
    ``r = 100``)."""
    r, x = (np.array(v, dtype=np.float64) for v in np.broadcast_arrays(r, x))
    value = np.empty_like(r)
    deriv = np.empty_like(r)
    small = r < _STIRLING_R
    rs, xs = r[small], x[small]
    value[small] = gammaln(rs + xs) - gammaln(rs)
    deriv[small] = digamma(rs + xs) - digamma(rs)
    rl, xl = r[~small], x[~small]
    zl = rl + xl
    ratio = np.log1p(xl / rl)

    def sigma(z: FloatArray) -> FloatArray:  # log Gamma(z) - Stirling's main terms
        inv = 1.0 / z
        inv2 = inv * inv
        return np.asarray(inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680))),
                          dtype=np.float64)

    def sigma_prime(z: FloatArray) -> FloatArray:  # digamma(z) - log(z)
        inv = 1.0 / z
        inv2 = inv * inv
        return np.asarray(-0.5 * inv - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 / 252)),
                          dtype=np.float64)

    value[~small] = (xl * np.log(rl) + (zl - 0.5) * ratio - xl + (sigma(zl) - sigma(rl)))
    deriv[~small] = ratio + (sigma_prime(zl) - sigma_prime(rl))
    return value, deriv


def log_beta_ratio2(
    a: float | FloatArray, b: float | FloatArray, u: ArrayLike, v: ArrayLike, *,
    gradient: bool = False,
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    """``log B(a+u, b+v) / B(a, b)`` for ``u, v >= 0`` (arrays broadcast), with its
    derivatives in ``a`` and ``b`` if ``gradient``.

    Written as rising factorials, ``log (a)_u + log (b)_v - log (a+b)_(u+v)``, each by
    :func:`log_rising`, so it keeps its precision for any ``a, b`` up to ``1e13`` (towards a
    beta distribution concentrated at one point), where a difference of ``betaln`` values
    (each about ``-(a+b) log(a+b)``) loses every digit.
    """
    uu, vv = np.broadcast_arrays(np.asarray(u, dtype=np.float64),
                                 np.asarray(v, dtype=np.float64))
    lu, du = log_rising(np.asarray(a, dtype=np.float64) + np.zeros_like(uu), uu)
    lv, dv = log_rising(np.asarray(b, dtype=np.float64) + np.zeros_like(vv), vv)
    lw, dw = log_rising(np.asarray(a, dtype=np.float64) + np.asarray(b, dtype=np.float64)
                        + np.zeros_like(uu), uu + vv)
    value = np.asarray(lu + lv - lw, dtype=np.float64)
    if not gradient:
        return value, None, None
    return value, np.asarray(du - dw, dtype=np.float64), np.asarray(dv - dw, dtype=np.float64)


def beta_expectation(a: float, b: FloatArray, g: Callable[[FloatArray, int], FloatArray]
                     ) -> FloatArray:
    """``E[g(p)]`` for ``p ~ Beta(a, b)`` (``b`` per row) with large ``a``, by the expansion
    around the mean ``E[g] = g(m) + g''(m) M2/2 + g'''(m) M3/6 + g''''(m) M4/24`` in the
    central moments ``M2 ~ 1/a``, ``M3 ~ 1/a^2``, ``M4 ~ 1/a^2``; the error is ``O(a^-3)``.

    ``g(p, k)`` returns the ``k``-th derivative of ``g`` at ``p`` (``k = 0..4``).
    """
    s = a + b
    m = a / s
    m2 = a * b / (s * s * (s + 1.0))
    m3 = 2.0 * a * b * (b - a) / (s ** 3 * (s + 1.0) * (s + 2.0))
    # excess kurtosis, arranged so that no intermediate overflows for huge a, b
    excess = 6.0 * ((a - b) / a * ((a - b) / b) * (s + 1.0) / ((s + 2.0) * (s + 3.0))
                    - 1.0 / (s + 3.0))
    m4 = (3.0 + excess) * m2 * m2
    return np.asarray(g(m, 0) + g(m, 2) * m2 / 2.0 + g(m, 3) * m3 / 6.0 + g(m, 4) * m4 / 24.0,
                      dtype=np.float64)
