"""The BG/CNBD-k and MBG/CNBD-k models (Platzer & Reutterer; Reutterer, Platzer & Schroeder
2020): the BG/NBD and MBG/NBD with Erlang-k instead of exponential inter-purchase times.

While alive, a customer's inter-purchase times are Erlang-k with rate ``lambda`` (the sum of
``k`` exponential phases; mean ``k / lambda``); right after each repeat purchase (MBG/CNBD-k:
also right after the first one) she drops out with probability ``p``. Across customers
``lambda ~ Gamma(r, alpha)`` (shape, rate) and ``p ~ Beta(a, b)``. ``k = 1`` is the BG/NBD
(MBG/NBD). ``k`` is given, or chosen by profile likelihood over ``k = 1, 2, ...`` as BTYDplus
does.

Likelihood of one customer with ``x`` repeat purchases, the last at ``t_x``, observed for
``T``, with ``litt`` the sum of the logarithms of her ``x`` inter-purchase times
(``c = 0, d_x = [x > 0]`` for BG/CNBD-k; ``c = 1, d_x = 1`` for MBG/CNBD-k; ``R = r + k x``)::

    log L = (k-1) litt - x log((k-1)!) + log B(a, b+x+c) - log B(a, b)
            + log Gamma(R) - log Gamma(r) + r log(alpha) - R log(alpha+T)
            + log( d_x a/(b+x+c-1) ((alpha+T)/(alpha+t_x))^R
                   + sum_{j<k} Gamma(R+j)/Gamma(R) / j! ((T-t_x)/(alpha+T))^j )

The sum over ``j`` is the Erlang survivor function of the open interval ``T - t_x``
integrated over the gamma prior; its ``j``-th term is the posterior weight of the customer
being ``j`` exponential phases into the next inter-purchase time at ``T``.

References
----------
T. Reutterer, M. Platzer and N. Schroeder (2020), "Leveraging purchase regularity for
predicting customer behavior the easy way", *International Journal of Research in Marketing*
38(1), 194-215, doi:10.1016/j.ijresmar.2020.09.002.
M. Platzer, BTYDplus (R package), ``R/mbg-cnbd-k.R`` (likelihood, P(alive), profile over k).
R. D. Wheat and D. G. Morrison (1990), "Estimating purchase regularity with two interpurchase
times", *Journal of Marketing Research* 27(1), 87-93.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc, betaln, digamma, gammaln, polygamma

from crmcore._base import CustomerBase, compress_rows
from crmcore._errors import ConvergenceError, InvalidValueError, describe_rows
from crmcore._time import unit_factor
from crmcore.value._btyd import (
    ContinuousBTYDModel,
    FloatArray,
    check_counts,
    check_horizon,
    check_rate,
    customer_arrays,
    hyp2f1_stable,
)
from crmcore.value._fit_state import _Fit

__all__ = [
    "BGCNBD",
    "MBGCNBD",
    "log_intertransaction_times",
    "simulate_bgcnbd",
    "simulate_mbgcnbd",
    "wheat_morrison",
]

_SERIES_RTOL = 1e-14
_SERIES_MAX_TERMS = 200_000


# -- data helpers -----------------------------------------------------------------------------


def _intertransaction_times(base: CustomerBase) -> tuple[FloatArray, NDArray[np.intp]]:
    """Every repeat purchase's time since the previous purchase (in ``base.time_unit``) and
    the row of its customer."""
    history = base.history
    if history is None or base.freq is None:
        raise InvalidValueError(
            "the base has no purchase history (built with from_summary?); build it with "
            "CustomerBase.from_transactions, or pass litt= (sum of log inter-purchase times)",
            field="litt")
    factor = unit_factor(base.freq, base.time_unit)
    periods = history.period.astype(np.float64)
    owner = history.customer_of_entry().astype(np.intp)
    repeat = np.ones(len(periods), dtype=bool)
    repeat[history.indptr[:-1][np.diff(history.indptr) > 0]] = False  # first purchases
    gaps = np.diff(periods, prepend=np.nan)[repeat] * factor
    return gaps, owner[repeat]


def log_intertransaction_times(base: CustomerBase) -> FloatArray:
    """``litt``: per customer, the sum of the logarithms of the inter-purchase times of her
    repeat purchases (in the base's time unit; 0 without repeat purchases).

    The statistic BTYDplus' ``elog2cbs`` calls ``litt``: with the Erlang-k density, the
    likelihood of ``k`` depends on the purchase times only through it (besides ``x, t_x,
    T``). Purchases are counted once per period of the base's ``freq``, as everywhere in
    crmcore.

    Raises
    ------
    InvalidValueError
        The base has no purchase history (it was built from a summary).
    """
    gaps, owner = _intertransaction_times(base)
    return np.bincount(owner, weights=np.log(gaps), minlength=len(base)).astype(np.float64)


def wheat_morrison(base: CustomerBase) -> float:
    """The Wheat & Morrison (1990) estimate of purchase regularity ``k``.

    For each customer with at least two inter-purchase times, ``M = ITT_1 / (ITT_1 + ITT_2)``
    from her last two. If inter-purchase times are Gamma(k, lambda) with a common ``k`` (any
    ``lambda`` per customer), ``M ~ Beta(k, k)``, whose variance is ``1 / (4 (2k + 1))``;
    hence ``k = (1 - 4 V) / (8 V)``. About 1 supports exponential times (the NBD family),
    clearly above 1 regular buying (Erlang-k). ``V`` is the variance of the symmetrised sample
    (each ``M`` with ``1 - M``, mean exactly 1/2), so the estimate does not depend on which of
    the two times is put on top (BTYDplus' ``estimateRegularity`` picks one at random).

    Raises
    ------
    InvalidValueError
        No customer has two inter-purchase times, or all ``M`` are 1/2.
    """
    gaps, owner = _intertransaction_times(base)
    counts = np.bincount(owner, minlength=len(base))
    ends = np.cumsum(counts)
    usable = np.flatnonzero(counts >= 2)
    if len(usable) == 0:
        raise InvalidValueError("no customer has two inter-purchase times (three purchase "
                                "periods); the regularity statistic needs them", field="base")
    last, before = gaps[ends[usable] - 1], gaps[ends[usable] - 2]
    m = before / (before + last)
    var = float(np.mean((m - 0.5) ** 2))
    if var == 0:
        raise InvalidValueError("every customer's last two inter-purchase times are equal; "
                                "the statistic is undefined", field="base")
    return (1.0 - 4.0 * var) / (8.0 * var)


# -- simulation -------------------------------------------------------------------------------


def _simulate(n: int, r: float, alpha: float, a: float, b: float, k: int, T: ArrayLike,
              seed: int | np.random.Generator | None, modified: bool,
              ) -> tuple[NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    from crmcore.value._simulate import _setup

    k = _check_k(k)
    t_obs, rng = _setup(n, T, seed, {"r": r, "alpha": alpha, "a": a, "b": b})
    size = len(t_obs)
    lam = rng.gamma(r, 1.0 / alpha, size=size)
    p = rng.beta(a, b, size=size)
    x = np.zeros(size, dtype=np.int64)
    tx = np.zeros(size)
    litt = np.zeros(size)
    now = np.zeros(size)
    alive = rng.random(size) >= p if modified else np.ones(size, dtype=bool)
    active = np.flatnonzero(alive)
    while len(active):
        gap = rng.gamma(float(k), 1.0 / lam[active])
        nxt = now[active] + gap
        buys = nxt <= t_obs[active]
        idx = active[buys]
        x[idx] += 1
        tx[idx] = nxt[buys]
        now[idx] = nxt[buys]
        litt[idx] += np.log(gap[buys])
        survive = rng.random(len(idx)) >= p[idx]
        active = idx[survive]
    return x, tx, t_obs, litt


def simulate_bgcnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, k: int, T: ArrayLike,
    seed: int | np.random.Generator | None = None,
) -> tuple[NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    """Simulate BG/CNBD-k customers: ``(frequency, recency, T, litt)``.

    ``lambda ~ Gamma(r, alpha)``, ``p ~ Beta(a, b)``; Erlang-k inter-purchase times of rate
    ``lambda`` from the first purchase at 0; after each repeat purchase the customer drops
    out with probability ``p``. ``litt`` is the sum of the log inter-purchase times.
    """
    return _simulate(n, r, alpha, a, b, k, T, seed, modified=False)


def simulate_mbgcnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, k: int, T: ArrayLike,
    seed: int | np.random.Generator | None = None,
) -> tuple[NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    """Simulate MBG/CNBD-k customers: as :func:`simulate_bgcnbd`, but the customer may also
    drop out right after the first purchase."""
    return _simulate(n, r, alpha, a, b, k, T, seed, modified=True)


def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidValueError(f"{name} must be a whole number >= 1, got {k!r}", field=name)
    return int(k)


# -- the model --------------------------------------------------------------------------------


class _ErlangBetaGeometric(ContinuousBTYDModel):
    """What BG/CNBD-k and MBG/CNBD-k share (they differ only in the coin at time 0)."""

    param_names = ("r", "alpha", "a", "b")
    _modified: ClassVar[bool] = False

    def __init__(self, *, k: int | None = None, max_k: int = 12,
                 penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)
        self.k = k
        self.max_k = max_k
        self._k_fit: int = 1

    # -- k ---------------------------------------------------------------------------------

    @property
    def k_(self) -> int:
        """The regularity ``k`` in use: the given ``k``, or the one chosen by :meth:`fit`."""
        self._state()
        return int(self.k) if self.k is not None else self._k_fit

    @property
    def k_profile_(self) -> dict[int, float]:
        """Maximised log-likelihood for each ``k`` tried by the profile search (``{}`` when
        ``k`` was given)."""
        profile = self._fitted().diagnostics.get("k_profile", {})
        return {int(key): float(value) for key, value in profile.items()}

    # -- fitting ---------------------------------------------------------------------------

    def fit(
        self,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        *,
        litt: ArrayLike | None = None,
    ) -> Self:
        """Fit by maximum likelihood; with ``k=None``, also choose ``k``.

        ``k = 1, 2, ...`` are fitted in turn (up to ``max_k``; as BTYDplus, the search stops
        once the log-likelihood has fallen twice in a row) and the ``k`` with the highest
        log-likelihood is kept (:attr:`k_`, :attr:`k_profile_`). Standard errors are those
        of ``r, alpha, a, b`` given ``k``.

        Parameters
        ----------
        base_or_frequency, recency, T, weights:
            A :class:`crmcore.CustomerBase` built from transactions (its purchase history
            gives ``litt``), or the arrays ``x, t_x, T`` (then pass ``litt``).
        litt:
            Per customer, the sum of the log inter-purchase times
            (:func:`log_intertransaction_times`). Needed to choose ``k``; with a given ``k``
            it only adds a constant to the log-likelihood, and without it that constant is
            left out (``diagnostics["litt_known"]`` is false).

        Raises
        ------
        InvalidValueError
            Bad input; ``k=None`` without a way to get ``litt``; a bad ``k`` or ``max_k``.
        ConvergenceError
            No maximum for the given ``k`` (or for any ``k`` tried).
        """
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        unit = base_or_frequency.time_unit if isinstance(base_or_frequency,
                                                         CustomerBase) else None
        fixed = None if self.k is None else _check_k(self.k)
        max_k = _check_k(self.max_k, "max_k")
        if litt is not None:
            log_gaps = np.asarray(litt, dtype=np.float64).reshape(-1)
            bad = np.flatnonzero(~np.isfinite(log_gaps))
            if len(log_gaps) != len(x):
                raise InvalidValueError(f"litt has {len(log_gaps)} values, expected {len(x)}",
                                        field="litt")
            if len(bad):
                raise InvalidValueError(f"litt must be finite; not at {describe_rows(bad)}",
                                        field="litt", rows=bad.tolist())
            known = True
        elif isinstance(base_or_frequency, CustomerBase) and (
                base_or_frequency.history is not None or fixed is None):
            log_gaps = log_intertransaction_times(base_or_frequency)
            known = True
        elif fixed is None:
            raise InvalidValueError("choosing k needs litt (the sum of log inter-purchase "
                                    "times): pass litt= or a base built from transactions, "
                                    "or give k", field="litt")
        else:
            log_gaps, known = np.zeros(len(x)), False
        data = (x, tx, t_obs, log_gaps)
        if fixed is not None:
            self._k_fit = fixed
            self._fit_patterns(data, weights, time_unit=unit)
            self._state().diagnostics.update(k=fixed, litt_known=known)
            return self
        fits: dict[int, _Fit] = {}
        errors: dict[int, str] = {}
        profile: dict[int, float] = {}
        for k in range(1, max_k + 1):
            self._k_fit = k
            try:
                self._fit_patterns(data, weights, time_unit=unit)
            except ConvergenceError as exc:
                errors[k] = str(exc)
                break
            fits[k] = self._state()
            profile[k] = fits[k].log_likelihood
            if k > 2 and profile[k] < profile[k - 1] < profile[k - 2]:
                break
        if not fits:
            raise ConvergenceError(f"{type(self).__name__}: no k could be fitted",
                                   diagnostics={"errors": errors})
        best = max(profile, key=lambda key: profile[key])
        self._k_fit = best
        self._fit_state = fits[best]
        self._fit_state.diagnostics.update(k=best, litt_known=True,
                                           k_profile={str(k): v for k, v in profile.items()},
                                           k_errors={str(k): v for k, v in errors.items()})
        return self

    def _initial_params(self, data: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        x, _, t_obs = data[:3]
        total_x = float(weights @ x)
        rate = max(total_x, 0.1 * float(weights.sum())) / max(float(weights @ t_obs), 1e-12)
        return np.array([1.0, 1.0 / (rate * self._k_fit), 1.0, 3.0])

    # -- likelihood ------------------------------------------------------------------------

    def _phase_terms(self, r: float, alpha: float, x: FloatArray, tx: FloatArray,
                     t_obs: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``log`` of the ``k`` terms ``Gamma(R+j)/Gamma(R)/j! ((T-t_x)/(alpha+T))^j``
        (shape ``(n, k)``) and their log-sum."""
        k = self._k_fit
        big_r = r + k * x
        j = np.arange(k, dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(t_obs - tx) - np.log(alpha + t_obs)
        log_ratio = np.where(t_obs > tx, log_ratio, -np.inf)
        with np.errstate(invalid="ignore"):
            power = np.where(j > 0, j * log_ratio[:, None], 0.0)
        terms = gammaln(big_r[:, None] + j) - gammaln(big_r)[:, None] - gammaln(j + 1.0) + power
        top = np.max(terms, axis=1, keepdims=True)
        total = top[:, 0] + np.log(np.sum(np.exp(terms - top), axis=1))
        return terms, total

    def _log_dead_term(self, params: FloatArray, x: FloatArray, tx: FloatArray,
                       t_obs: FloatArray) -> FloatArray:
        """``log( d_x a/(b+x+c-1) ((alpha+T)/(alpha+t_x))^R )`` (``-inf`` where d_x = 0)."""
        r, alpha, a, b = params
        c = 1.0 if self._modified else 0.0
        big_r = r + self._k_fit * x
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.log(a) - np.log(b + x + c - 1.0) + big_r * (
                np.log(alpha + t_obs) - np.log(alpha + tx))
        if self._modified:
            return np.asarray(value, dtype=np.float64)
        return np.asarray(np.where(x > 0, value, -np.inf), dtype=np.float64)

    def _log_likelihood_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        r, alpha, a, b = params
        x, tx, t_obs = data[:3]
        litt = data[3] if len(data) > 3 else np.zeros_like(x)
        k = self._k_fit
        c = 1.0 if self._modified else 0.0
        big_r = r + k * x
        terms, log_s2 = self._phase_terms(r, alpha, x, tx, t_obs)
        log_s1 = self._log_dead_term(params, x, tx, t_obs)
        log_s = np.logaddexp(log_s1, log_s2)
        log_T = np.log(alpha + t_obs)
        ll = ((k - 1) * litt - x * math.lgamma(k) + betaln(a, b + x + c) - betaln(a, b)
              + gammaln(big_r) - gammaln(r) + r * np.log(alpha) - big_r * log_T + log_s)
        if not gradient:
            return np.asarray(ll, dtype=np.float64), None
        w1 = np.exp(log_s1 - log_s)  # share of the dropout term
        w2 = 1.0 - w1
        pi = np.exp(terms - log_s2[:, None])  # phase weights within the survivor term
        j = np.arange(k, dtype=np.float64)
        psi_r = digamma(big_r)
        d2_r = np.sum(pi * (digamma(big_r[:, None] + j) - psi_r[:, None]), axis=1)
        d2_alpha = -np.sum(pi * j, axis=1) / (alpha + t_obs)
        with np.errstate(invalid="ignore"):
            d1_r = np.where(w1 > 0, log_T - np.log(alpha + tx), 0.0)
            d1_alpha = np.where(w1 > 0, big_r * (1.0 / (alpha + t_obs) - 1.0 / (alpha + tx)),
                                0.0)
            d1_b = np.where(w1 > 0, -1.0 / (b + x + c - 1.0), 0.0)
        psi_abx = digamma(a + b + x + c)
        d_r = psi_r - digamma(r) + np.log(alpha) - log_T + w1 * d1_r + w2 * d2_r
        d_alpha = r / alpha - big_r / (alpha + t_obs) + w1 * d1_alpha + w2 * d2_alpha
        d_a = digamma(a + b) - psi_abx + w1 / a
        d_b = digamma(b + x + c) - psi_abx - digamma(b) + digamma(a + b) + w1 * d1_b
        return (np.asarray(ll, dtype=np.float64),
                np.column_stack([d_r, d_alpha, d_a, d_b]))

    # -- construction, saving --------------------------------------------------------------

    @classmethod
    def from_params(cls, k: int = 1, **params: float) -> Self:  # type: ignore[override]
        """A model with given ``k`` and ``r, alpha, a, b`` (no fit statistics)."""
        model = super().from_params(**params)
        model.k = _check_k(k)
        model._k_fit = model.k
        return model

    def _with_params(self, params: FloatArray) -> Self:
        model = super()._with_params(params)
        model._k_fit = self.k_
        return model

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Read a model written by :meth:`to_json`."""
        model = super().from_json(text)
        if model.k is None:
            model._k_fit = int(model._state().diagnostics["k"])
        else:
            model._k_fit = _check_k(model.k)
        return model

    # -- predictions -----------------------------------------------------------------------

    def _log_p_alive(self, x: FloatArray, tx: FloatArray, t_obs: FloatArray) -> FloatArray:
        params = self._param_array()
        self._k_fit = self.k_
        _, log_s2 = self._phase_terms(params[0], params[1], x, tx, t_obs)
        log_s1 = self._log_dead_term(params, x, tx, t_obs)
        return np.asarray(log_s2 - np.logaddexp(log_s1, log_s2), dtype=np.float64)

    def p_alive(
        self,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """P(alive at T | x, t_x, T): the survivor term's share of the likelihood,

        ``1 / (1 + d_x a/(b+x+c-1) ((alpha+T)/(alpha+t_x))^R / S)`` with ``S`` the sum over
        the ``k`` phases (module docstring); ``k = 1`` gives the (M)BG/NBD's.
        """
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        return np.exp(self._log_p_alive(x, tx, t_obs))

    def _posterior(self, x: FloatArray, tx: FloatArray, t_obs: FloatArray
                   ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Given alive at ``T``: the phase weights ``pi`` (shape ``(n, k)``), the gamma shape
        ``R + j`` of ``lambda`` for each phase, and ``b'`` of the Beta posterior of ``p``."""
        r, alpha, _, b = self._param_array()
        terms, log_s2 = self._phase_terms(r, alpha, x, tx, t_obs)
        pi = np.exp(terms - log_s2[:, None])
        shape = (r + self._k_fit * x)[:, None] + np.arange(self._k_fit, dtype=np.float64)
        b_post = b + x + (1.0 if self._modified else 0.0)
        return pi, shape, b_post

    def _expected_given_alive_since(self, t: FloatArray, x: FloatArray, tx: FloatArray,
                              t_obs: FloatArray) -> FloatArray:
        """E[Y(t) | alive at T, history]: ``sum_j pi_j sum_{m>=1} E[(1-p)^(m-1)]
        P(N(t) >= m k - j)``, ``N(t)`` the phases completed in ``(T, T+t]`` (negative
        binomial given the gamma posterior of ``lambda``)."""
        _, alpha, a, _ = self._param_array()
        k = self._k_fit
        pi, shape, b_post = self._posterior(x, tx, t_obs)
        n = len(x)
        z = np.broadcast_to((t / (alpha + t_obs + t))[:, None], (n, k)).reshape(-1)
        shape_f = shape.reshape(-1)
        weight = pi.reshape(-1)
        phase = np.tile(np.arange(k, dtype=np.float64), n)
        bp = np.repeat(b_post, k)
        total = np.zeros(n * k)
        active = np.flatnonzero((weight > 0) & (z > 0))
        log_q = np.zeros(len(active))
        zk = z[active] ** k
        for m in range(1, _SERIES_MAX_TERMS + 1):
            if m > 1:
                log_q = log_q + np.log(bp[active] + m - 2.0) - np.log(a + bp[active] + m - 2.0)
            term = np.exp(log_q) * betainc(m * k - phase[active], shape_f[active], z[active])
            total[active] += term
            # the tail is at most term / (1 - z^k) once the terms shrink geometrically
            done = term <= _SERIES_RTOL * total[active] * (1.0 - zk)
            if done.all():
                break
            keep = ~done
            active, log_q, zk = active[keep], log_q[keep], zk[keep]
        else:  # pragma: no cover - horizons of 10^5 times alpha + T
            raise ConvergenceError(f"{type(self).__name__}.expected_purchases: the series did "
                                   f"not converge in {_SERIES_MAX_TERMS} terms (horizon too "
                                   "long for the data's time unit?)",
                                   diagnostics={"rows": active.tolist()[:20]})
        return np.asarray(np.sum((weight * total).reshape(n, k), axis=1), dtype=np.float64)

    def expected_purchases(
        self,
        t: ArrayLike,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected repeat purchases in the next ``t`` (exact).

        Given alive at ``T``, ``lambda`` is a mixture over the phase ``j`` reached in the open
        interval (weights ``pi_j`` from the likelihood's survivor terms) of ``Gamma(R+j,
        alpha+T)``, ``p ~ Beta(a, b+x+c)``, and the ``m``-th future purchase happens when
        ``m k - j`` more phases are completed and the customer survived ``m - 1`` coins::

            E[Y(t)] = P(alive) sum_j pi_j sum_{m>=1} B(a, b'+m-1)/B(a, b')
                      I_{t/(alpha+T+t)}(m k - j, R + j)

        (``I`` the regularised incomplete beta function, the negative binomial tail), summed
        until the remainder is below ``1e-14`` of the total. ``k = 1`` gives the (M)BG/NBD's
        closed form. BTYDplus approximates this by the BG/NBD expression with ``alpha``
        scaled by ``k`` and a cohort-level bias correction; this is the exact value.
        """
        horizon = check_horizon(t)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        hh, x, tx, t_obs = self._vector(horizon, x, tx, t_obs)
        shape = hh.shape
        flat = [v.reshape(-1) for v in (hh, x, tx, t_obs)]
        self._k_fit = self.k_
        alive = np.exp(self._log_p_alive(*flat[1:]))
        (uh, ux, utx, ut), _, inverse = compress_rows(*flat)
        given = self._expected_given_alive_since(uh, ux, utx, ut)[inverse]
        return np.asarray((alive * given).reshape(shape), dtype=np.float64)

    def expected_purchases_unconditional(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a new customer in ``(0, t]`` (a customer
        observed for no time: P(alive) = 1, MBG/CNBD-k ``b/(a+b)``)."""
        horizon = check_horizon(t)
        zeros = np.zeros(horizon.size)
        return self.expected_purchases(horizon.reshape(-1), zeros, zeros, zeros).reshape(
            horizon.shape)

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """Expected purchases in ``(0, t]`` of a customer acquired now (the unconditional
        expectation)."""
        return self.expected_purchases_unconditional(t)

    def probability_of_purchases(self, k: ArrayLike, t: ArrayLike) -> FloatArray:
        """P(X(t) = n) for a new customer, ``n`` = ``k`` here (the count, not the regularity).

        With ``N ~ NB(r, alpha/(alpha+t))`` the exponential phases completed in ``(0, t]``:
        ``B(a, b+n+c)/B(a,b) P(n K <= N < (n+1) K) + [n > 0 or MBG] B(a+1, b+n+c-1)/B(a,b)
        P(N >= n K)`` with ``K`` the regularity: alive with ``n`` purchases, or dropped out
        right after the ``n``-th.
        """
        counts = check_counts(k)
        horizon = check_horizon(t)
        r, alpha, a, b = self._param_array()
        reg = self.k_
        nn, tt = np.broadcast_arrays(counts, horizon)
        c = 1.0 if self._modified else 0.0
        z = tt / (alpha + tt)

        def tail(m: FloatArray) -> FloatArray:
            return np.where(m > 0, betainc(np.maximum(m, 1.0), r, z), 1.0)

        low, high = tail(nn * reg), tail((nn + 1.0) * reg)
        stay = np.exp(betaln(a, b + nn + c) - betaln(a, b)) * (low - high)
        has_second = (nn > 0) | self._modified
        b_second = np.where(has_second, b + nn + c - 1.0, 1.0)
        drop = np.where(has_second, np.exp(betaln(a + 1.0, b_second) - betaln(a, b)) * low,
                        0.0)
        return np.asarray(np.clip(stay + drop, 0.0, 1.0), dtype=np.float64)

    def dert(
        self,
        continuous_rate: float,
        base_or_frequency: CustomerBase | ArrayLike,
        recency: ArrayLike | None = None,
        T: ArrayLike | None = None,
        *,
        n_nodes: int = 201,
    ) -> FloatArray:
        """Discounted expected residual transactions, ``integral_0^inf e^(-delta t)
        dE[Y(t) | x, t_x, T]`` (``delta`` continuously compounded per time unit).

        The ``m``-th future purchase happens after ``m k - j`` exponential phases, so given
        ``lambda``, ``p`` and the phase ``j`` its discount factor is ``y^(m k - j)``, ``y =
        lambda / (lambda + delta)``; summing over ``m`` and integrating ``p`` over its Beta
        posterior gives ``y^(k-j) 2F1(1, b'; a+b'; y^k)``. The remaining one-dimensional
        integral over ``lambda ~ Gamma(R+j, alpha+T)`` is taken in ``log lambda``
        standardised by the mean and variance of ``log lambda`` (``digamma``,
        ``trigamma``), with the trapezoidal rule on ``n_nodes`` points, which converges
        geometrically for such smooth, fast-decaying integrands.
        """
        delta = check_rate(continuous_rate)
        x, tx, t_obs = customer_arrays(base_or_frequency, recency, T)
        self._k_fit = self.k_
        log_alive = self._log_p_alive(x, tx, t_obs)
        r, alpha, a, b = self._param_array()
        k = self._k_fit
        # Given alive, the integral depends on a customer through (x, T) and the phase j;
        # the phase weights through t_x as well.
        pi, _, _ = self._posterior(x, tx, t_obs)
        (ux, ut), _, inverse = compress_rows(x, t_obs)
        b_post = b + ux + (1.0 if self._modified else 0.0)
        s = np.linspace(-45.0, 15.0, int(n_nodes))  # 201 nodes: h = 0.3, converged to 1e-12
        h = s[1] - s[0]
        integral = np.zeros((len(ux), k))
        rows_per_chunk = max(1, 400_000 // len(s))
        log_c = np.log((alpha + ut) * delta)
        for j in range(k):
            big_r = r + k * ux + j
            scale = np.sqrt(polygamma(1, big_r))
            centre = digamma(big_r)
            for start in range(0, len(ux), rows_per_chunk):
                sl = slice(start, start + rows_per_chunk)
                v = centre[sl, None] + scale[sl, None] * s[None, :]  # log(lambda (alpha+T))
                log_density = (big_r[sl, None] * v - np.exp(v) - gammaln(big_r[sl])[:, None]
                               + np.log(scale[sl])[:, None])
                log_y = -np.logaddexp(0.0, log_c[sl, None] - v)
                y_k = np.exp(k * log_y)
                bp = b_post[sl, None]
                # 2F1 only where the rest of the integrand is not negligible (2F1 <= its
                # value at y^k = 1, (a+b'-1)/(a-1) for a > 1, and grows like a power of
                # lambda otherwise, far slower than the gamma density falls)
                log_rest = log_density + (k - j) * log_y
                live = np.nonzero(log_rest > -80.0)
                f = hyp2f1_stable(1.0, np.broadcast_to(bp, y_k.shape)[live],
                                  a + np.broadcast_to(bp, y_k.shape)[live], y_k[live])
                integrand = np.zeros_like(y_k)
                integrand[live] = np.exp(log_rest[live]) * f
                integral[sl, j] = h * np.sum(integrand, axis=1)
        result = np.sum(pi * integral[inverse], axis=1)
        return np.asarray(result * np.exp(log_alive), dtype=np.float64)

    def _param_dict(self) -> dict[str, float]:
        return {"k": float(self.k_), **self.params_}


class BGCNBD(_ErlangBetaGeometric):
    """The BG/CNBD-k model: BG/NBD with Erlang-k inter-purchase times.

    ``params_`` are ``r, alpha, a, b`` (``lambda ~ Gamma(r, alpha)``, ``p ~ Beta(a, b)``,
    mean inter-purchase time ``k / lambda``); ``k_`` is the regularity used.

    Parameters
    ----------
    k:
        Regularity (a whole number >= 1), or ``None`` (default) to choose it by profile
        likelihood over ``1..max_k``, which needs the purchase history (``litt``).
    max_k:
        Largest ``k`` the profile search tries.
    penalizer:
        Ridge penalty on the parameters (0 = maximum likelihood).
    """

    _modified = False


class MBGCNBD(_ErlangBetaGeometric):
    """The MBG/CNBD-k model: as :class:`BGCNBD`, but a customer may also drop out right after
    the first purchase (MBG/NBD with Erlang-k inter-purchase times)."""

    _modified = True
