"""A value model of the firm's own: Poisson purchases, exponential lifetimes, one rate for all.

While alive, a customer buys at random at rate ``lam`` (a Poisson process) and stays alive for
an exponentially distributed time with rate ``mu``; both rates are the same for every customer.
This is the individual-level story of the Pareto/NBD (Schmittlein, Morrison & Colombo 1987,
"Counting Your Customers", *Management Science* 33(1)) without its gamma heterogeneity: a firm
whose customers buy at much the same pace needs no more, and two parameters are easy to explain.
With ``x`` repeat purchases, the last at ``t_x``, observed until ``T`` (Fader & Hardie 2005, "A
Note on Deriving the Pareto/NBD Model and Related Expressions", eq. 3):

* likelihood ``L = lam^x mu/(lam+mu) e^{-(lam+mu) t_x} + lam^(x+1)/(lam+mu) e^{-(lam+mu) T}``;
* P(alive at T) ``= lam^x e^{-(lam+mu) T} / L
  = 1 / (lam/(lam+mu) + mu/(lam+mu) e^{(lam+mu)(T - t_x)})``;
* expected purchases in the next ``t``: ``P(alive) lam/mu (1 - e^{-mu t})``;
* discounted expected residual transactions at a continuous rate ``delta``:
  ``P(alive) lam / (mu + delta)``.

The model follows ``crmcore.protocols.ValueModel`` (``fit``, ``p_alive``,
``expected_purchases``) and ``SupportsDERT`` (``dert``), so crmcore uses it for lifetime value,
lifecycle stages and ``crmcore.score``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

import crmcore

__all__ = ["PoissonExponential"]

_FloatArray = NDArray[np.float64]


def _columns(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
             ) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
    x, tx, t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    return x, tx, t


def log_likelihood(params: ArrayLike, frequency: ArrayLike, recency: ArrayLike,
                   T: ArrayLike) -> _FloatArray:
    """Each customer's log-likelihood at ``params = (lam, mu)``, computed in log space."""
    lam, mu = (float(v) for v in np.asarray(params, dtype=np.float64))
    x, tx, t = _columns(frequency, recency, T)
    total = lam + mu
    return np.asarray(x * np.log(lam) - np.log(total)
                      + np.logaddexp(np.log(mu) - total * tx, np.log(lam) - total * t),
                      dtype=np.float64)


class PoissonExponential:
    """Homogeneous Poisson purchasing with exponential lifetimes (value model
    ``"poisson-exponential"``).

    Parameters
    ----------
    tol:
        Convergence tolerance of the maximum-likelihood search.

    Attributes
    ----------
    params_:
        ``{"lam": purchase rate, "mu": dropout rate}`` per unit of the data's time, after
        :meth:`fit` (reading it before raises :class:`crmcore.NotFittedError`).
    time_unit_:
        The time unit of the base it was fitted on.
    """

    def __init__(self, *, tol: float = 1e-10) -> None:
        self.tol = tol
        self._params: tuple[float, float] | None = None
        self.time_unit_: str | None = None

    @classmethod
    def from_params(cls, lam: float, mu: float) -> PoissonExponential:
        """A model with given rates, e.g. for simulation or a second opinion."""
        model = cls()
        model._params = (float(lam), float(mu))
        return model

    @property
    def params_(self) -> dict[str, float]:
        """The fitted rates."""
        if self._params is None:
            raise crmcore.NotFittedError("PoissonExponential is not fitted: call fit(base)")
        return {"lam": self._params[0], "mu": self._params[1]}

    def fit(self, base: crmcore.CustomerBase) -> Self:
        """Estimate ``lam`` and ``mu`` by maximum likelihood on ``base``.

        Customers sharing a ``(frequency, recency, T)`` pattern are counted once with a
        weight. Raises :class:`crmcore.ConvergenceError` (with the optimiser's report) when the
        search does not converge.
        """
        (x, tx, t), weights, _ = crmcore.compress_rows(base.frequency, base.recency, base.T)
        x, tx, t = _columns(x, tx, t)
        if float(weights.sum()) == 0 or float(t.max()) <= 0:
            raise crmcore.EmptyDataError("PoissonExponential needs customers observed for some "
                                         "time", field="T")
        rate = float(weights @ x) / float(weights @ t)  # purchases per unit of time
        start = np.log([max(rate, 1e-6), max(rate, 1e-6) / 10])

        def objective(theta: _FloatArray) -> float:
            return -float(weights @ log_likelihood(np.exp(theta), x, tx, t))

        result: Any = minimize(objective, start, method="Nelder-Mead",
                               options={"xatol": self.tol, "fatol": self.tol, "maxiter": 4000})
        if not result.success or not np.all(np.isfinite(result.x)):
            raise crmcore.ConvergenceError(
                f"PoissonExponential did not converge: {result.message}",
                diagnostics={"message": str(result.message), "x": result.x.tolist(),
                             "nit": int(result.nit)})
        lam, mu = np.exp(result.x)
        self._params = (float(lam), float(mu))
        self.time_unit_ = base.time_unit
        return self

    def _rates(self) -> tuple[float, float]:
        params = self.params_
        return params["lam"], params["mu"]

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> _FloatArray:
        """P(alive at ``T``) per customer."""
        lam, mu = self._rates()
        _, tx, t = _columns(frequency, recency, T)
        total = lam + mu
        log_share = np.logaddexp(np.log(lam / total), np.log(mu / total) + total * (t - tx))
        return np.asarray(np.exp(-log_share), dtype=np.float64)

    def expected_purchases(self, t: float, frequency: ArrayLike, recency: ArrayLike,
                           T: ArrayLike) -> _FloatArray:
        """Expected repeat purchases in the next ``t`` (data's time unit) per customer."""
        lam, mu = self._rates()
        alive = self.p_alive(frequency, recency, T)
        return np.asarray(alive * lam / mu * -np.expm1(-mu * float(t)), dtype=np.float64)

    def dert(self, continuous_rate: float, frequency: ArrayLike, recency: ArrayLike,
             T: ArrayLike) -> _FloatArray:
        """Discounted expected residual transactions at ``continuous_rate``, the continuously
        compounded discount rate per unit of the data's time (crmcore converts a caller's
        ``discount_rate`` per ``time_unit`` into it: ``crmcore.value.dert_rate``)."""
        lam, mu = self._rates()
        return np.asarray(self.p_alive(frequency, recency, T) * lam / (mu + continuous_rate),
                          dtype=np.float64)

    def __repr__(self) -> str:
        fitted = "unfitted" if self._params is None else (
            f"lam={self._params[0]:.4g}, mu={self._params[1]:.4g}")
        return f"PoissonExponential({fitted})"
