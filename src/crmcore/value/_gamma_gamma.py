"""The gamma-gamma model of spend per transaction (Colombo & Jiang 1999; Fader, Hardie & Lee
2005; Fader & Hardie 2013).

Each of a customer's transactions has value ``z ~ gamma(p, nu)``; across customers
``nu ~ gamma(q, gamma)``. Given ``x`` transactions with mean value ``m`` (``zbar``), the
marginal density of ``m`` is (Fader & Hardie 2013)::

    f(m | p, q, gamma, x) = G(px + q) / (G(px) G(q)) * gamma^q m^(px-1) x^(px)
                            / (gamma + m x)^(px + q)

and the expected spend per transaction of a customer with ``(x, m)`` (Fader, Hardie & Lee
2005) is ``(gamma + m x) p / (p x + q - 1)``, a weighted average of the population mean
``p gamma / (q - 1)`` and the customer's own mean ``m``.

References: R. Colombo and W. Jiang (1999), "A Stochastic RFM Model", *Journal of Interactive
Marketing* 13(3), 2-12; P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430;
P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary Value",
http://www.brucehardie.com/notes/025/.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from crmcore._base import CustomerBase
from crmcore._checks import as_column, require_finite, require_non_negative
from crmcore._errors import EmptyDataError, InvalidValueError, describe_rows
from crmcore.value._likelihood import LikelihoodModel

__all__ = ["GammaGamma"]

_FloatArray = NDArray[np.float64]

PARAM_NAMES = ("p", "q", "v")


def check_spend(frequency: ArrayLike, monetary_value: ArrayLike
                ) -> tuple[_FloatArray, _FloatArray]:
    """Check ``(frequency, monetary_value)`` columns: numeric, one-dimensional, aligned,
    finite, frequency a whole number >= 0 and monetary value >= 0 (> 0 where frequency > 0)."""
    arrays: list[_FloatArray] = []
    for name, values in (("frequency", frequency), ("monetary_value", monetary_value)):
        array = as_column(values, name)
        if name == "monetary_value" and len(array) and np.isnan(array).all():
            raise InvalidValueError(
                "monetary_value is unknown for every customer: the base was built without an "
                "amount column; pass monetary_value=<column> to CustomerBase.from_transactions",
                field="monetary_value")
        require_finite(array, name)
        require_non_negative(array, name)
        arrays.append(array)
    x, m = arrays
    if len(x) != len(m):
        raise InvalidValueError(
            f"monetary_value has {len(m)} values, frequency {len(x)}; expected one per customer",
            field="monetary_value",
        )
    bad = np.flatnonzero(x != np.round(x))
    if len(bad):
        raise InvalidValueError(
            f"frequency must count whole transactions; not whole at {describe_rows(bad)}",
            field="frequency", rows=bad.tolist(),
        )
    bad = np.flatnonzero((x > 0) & (m == 0))
    if len(bad):
        raise InvalidValueError(
            f"monetary_value is 0 at {describe_rows(bad)} where frequency > 0; the gamma-gamma "
            "model needs a positive mean spend for every customer with transactions",
            field="monetary_value", rows=bad.tolist(),
        )
    return x, m


def log_likelihood_terms(params: NDArray[np.float64], x: _FloatArray, m: _FloatArray,
                         *, gradient: bool = True,
                         prepared: tuple[_FloatArray, ...] | None = None,
                         ) -> tuple[_FloatArray, _FloatArray | None]:
    """Each customer's ``log f(m | p, q, gamma, x)`` (Fader & Hardie 2013; ``x > 0``)
    and its gradient in ``(p, q, gamma)``.

    ``prepared`` is :func:`prepare_spend` of ``(x, m)``, computed once per fit: the special
    functions depend on a customer only through ``x``, which takes few values, and ``log m``,
    ``log x`` do not depend on the parameters.
    """
    p, q, v = (float(val) for val in params)
    ux, inverse, log_m, log_x = prepare_spend(x, m) if prepared is None else prepared
    ix = inverse.astype(np.intp)
    pux = p * ux
    px = p * x
    log_total = np.log(v + m * x)
    common = _log_rising(pux, q)[ix]
    ll: _FloatArray = (common - gammaln(q) + q * np.log(v) + (px - 1.0) * log_m + px * log_x
                       - (px + q) * log_total)
    if not gradient:
        return ll, None
    both = digamma(pux + q)
    grad = np.column_stack([
        x * ((both - digamma(pux))[ix] + log_m + log_x - log_total),
        both[ix] - digamma(q) + np.log(v) - log_total,
        q / v - (px + q) / (v + m * x),
    ])
    return ll, grad


def _spend_scale(m: _FloatArray, w: _FloatArray | None) -> float:
    """The (weighted) mean of ``m``: amounts divided by it are the same numbers, up to
    rounding, in any currency unit, so the fit in those units ends at the same point and the
    estimates scale with the unit."""
    mean = float(np.average(m, weights=w)) if len(m) else 1.0
    if not math.isfinite(mean) or mean <= 0:
        return 1.0
    return mean


def _log_rising(z: _FloatArray, q: float) -> _FloatArray:
    """``log Gamma(z+q) - log Gamma(z)``; for ``z > 1e7`` (towards the limit p -> infinity)
    from Stirling's series, ``(z-1/2) log1p(q/z) + q log(z+q) - q + 1/(12(z+q)) - 1/(12z)``
    (error ``O(z^-3)``), since the difference of two gammaln near ``z log z`` loses digits."""
    z = np.asarray(z, dtype=np.float64)
    large = z > 1e7
    out = np.asarray(gammaln(np.where(large, 1.0, z) + q) - gammaln(np.where(large, 1.0, z)),
                     dtype=np.float64)
    if large.any():
        zl = z[large]
        out[large] = ((zl - 0.5) * np.log1p(q / zl) + q * np.log(zl + q) - q
                      + 1.0 / (12.0 * (zl + q)) - 1.0 / (12.0 * zl))
    return out


def prepare_spend(x: _FloatArray, m: _FloatArray) -> tuple[_FloatArray, ...]:
    """``(unique x, index of each customer's x in it, log m, log x)`` for
    :func:`log_likelihood_terms`."""
    ux, inverse = np.unique(x, return_inverse=True)
    return ux, inverse.reshape(-1).astype(np.float64), np.log(m), np.log(x)


def expected_spend(params: NDArray[np.float64], x: _FloatArray, m: _FloatArray) -> _FloatArray:
    """E(M | p, q, gamma, m, x) = (gamma + m x) p / (p x + q - 1) (Fader, Hardie & Lee
     2005)."""
    p, q, v = (float(val) for val in params)
    out: _FloatArray = (v + m * x) * p / (p * x + q - 1.0)
    return out


def _spend_columns(frequency: Any, monetary_value: ArrayLike | None
                   ) -> tuple[_FloatArray, _FloatArray, str | None]:
    if isinstance(frequency, CustomerBase):
        x, m = check_spend(frequency.frequency, frequency.monetary_value)
        return x, m, frequency.time_unit
    if monetary_value is None:
        raise InvalidValueError("give frequency and monetary_value (or a CustomerBase)",
                                field="monetary_value")
    x, m = check_spend(frequency, monetary_value)
    return x, m, None


class GammaGamma(LikelihoodModel):
    """Gamma-gamma model of spend per transaction (Colombo & Jiang 1999; Fader, Hardie &
    Lee 2005; Fader & Hardie 2013).

    Parameters ``p`` (shape of the gamma distribution of a customer's transaction values),
    ``q`` and ``v`` (shape and rate of the gamma distribution of its rate ``nu`` across
    customers; the notes' ``gamma``, named ``v`` here as in lifetimes). Only customers with at
    least one repeat transaction (``frequency > 0``) carry information about spend: ``fit``
    leaves the others out and records how many in ``n_excluded_``. The model assumes spend
    is independent of the number of transactions; check that on your data (e.g. the
    correlation of ``frequency`` and ``monetary_value``) before combining it with a purchase
    model.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (as in lifetimes; 0 is plain maximum likelihood).
    """

    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES
    _mixing_pairs = (
        ("p", "v", "product", "spend per transaction", "",
         "each customer spends the same amount on every transaction (p -> infinity, "
         "v -> 0 with p v fixed: no spread within a customer), so her expected spend is her "
         "own mean"),
    )

    def __init__(self, *, penalizer: float = 0.0) -> None:
        super().__init__(penalizer=penalizer)
        self.n_excluded_: int = 0

    def _log_likelihood_terms(
        self, params: _FloatArray, data: tuple[_FloatArray, ...], *, gradient: bool
    ) -> tuple[_FloatArray, _FloatArray | None]:
        x, m = data[:2]
        prepared = data[2:] if len(data) > 2 else None
        return log_likelihood_terms(params, x, m, gradient=gradient, prepared=prepared)

    def _prepare_data(self, data: tuple[_FloatArray, ...]) -> tuple[_FloatArray, ...]:
        return (*data[:2], *prepare_spend(*data[:2]))

    def _initial_params(self, data: tuple[_FloatArray, ...], weights: _FloatArray
                        ) -> _FloatArray:
        # Method of moments on the customers' means: E[m] ~ p v / (q - 1); start with q = 3.
        m = data[1]
        mean = float(weights @ m / weights.sum())
        return np.array([2.0, 3.0, max(mean, 1e-6)])

    def fit(
        self,
        frequency: CustomerBase | ArrayLike,
        monetary_value: ArrayLike | None = None,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Estimate ``p, q, v`` by maximum likelihood (Fader & Hardie 2013).

        Parameters
        ----------
        frequency, monetary_value:
            Repeat transactions and mean value of the repeat transactions per customer, or a
            :class:`crmcore.CustomerBase` in place of ``frequency``. Customers with
            ``frequency == 0`` are excluded (they say nothing about spend); their number is
            kept in ``n_excluded_``.
        weights:
            How many customers each row stands for (default one each).

        Raises
        ------
        InvalidValueError
            Negative, NaN or misaligned values, or a zero mean spend where ``frequency > 0``.
        EmptyDataError
            No customer has a repeat transaction.
        ConvergenceError
            The optimiser found no strict maximum.
        """
        x, m, time_unit = _spend_columns(frequency, monetary_value)
        w = None if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
        if w is not None and len(w) != len(x):
            raise InvalidValueError(f"weights has {len(w)} values, expected {len(x)}",
                                    field="weights")
        keep = x > 0
        if not keep.any():
            raise EmptyDataError(
                "no customer has frequency > 0; the gamma-gamma model is fitted on customers "
                "with repeat transactions only", field="frequency")
        excluded = ~keep
        self.n_excluded_ = round(float(excluded.sum() if w is None else w[excluded].sum()))
        # The model is scale-equivariant: amounts in another currency unit, c m, have the MLE
        # (p, q, c v) with the log-likelihood shifted by a constant. Fit in units of the mean
        # spend (so the search box and tolerances do not depend on the currency unit) and
        # scale v back.
        spend = m[keep]
        scale = _spend_scale(spend, None if w is None else w[keep])
        self._fit_patterns((x[keep], spend / scale), None if w is None else w[keep],
                           time_unit=time_unit)
        self._rescale_fit(scale, x[keep], w[keep] if w is not None else None)
        return self

    def _rescale_fit(self, scale: float, x: _FloatArray, w: _FloatArray | None) -> None:
        """Turn a fit on amounts divided by ``scale`` into the fit on the amounts: ``v`` times
        ``scale`` (its log, and so the covariance of the log-parameters, only shifts), and the
        log-likelihood minus ``sum(weights) * log(scale)`` (the density of ``m`` is that of
        ``m / scale`` divided by ``scale``)."""
        state = self._state()
        params = state.params.copy()
        params[2] *= scale
        n = float(len(x) if w is None else w.sum())
        diagnostics = dict(state.diagnostics)
        diagnostics["params"] = params.tolist()
        diagnostics["amount_scale"] = scale
        self._fit_state = attrs.evolve(
            state, params=params, log_likelihood=state.log_likelihood - n * math.log(scale),
            diagnostics=diagnostics)

    @property
    def mean_spend_(self) -> float:
        """The population mean spend per transaction, ``p v / (q - 1)`` (infinite for
        ``q <= 1``)."""
        p, q, v = self._param_array()
        return float(p * v / (q - 1.0)) if q > 1 else math.inf

    def expected_spend(self, frequency: CustomerBase | ArrayLike,
                       monetary_value: ArrayLike | None = None) -> _FloatArray:
        """Each customer's expected spend per transaction, E(M | p, q, v, m, x) =
        ``(v + m x) p / (p x + q - 1)`` (Fader, Hardie & Lee 2005): the weighted
        average ``(q-1)/(px+q-1) * p v/(q-1) + px/(px+q-1) * m`` of the population mean and the
        customer's own mean ``m``. Customers with ``frequency == 0`` get the population mean.

        Raises
        ------
        InvalidValueError
            ``q <= 1`` (the population mean does not exist) while some customer has
            ``frequency == 0``, or bad input.
        """
        x, m, _ = _spend_columns(frequency, monetary_value)
        q = float(self._param_array()[1])
        if q <= 1 and bool(np.any(x == 0)):
            raise InvalidValueError(
                f"q = {q:.4g} <= 1: the population mean spend p v/(q-1) does not exist, so "
                "customers without repeat transactions have no expected spend", field="q")
        return expected_spend(self._param_array(), x, np.where(x > 0, m, 0.0))
