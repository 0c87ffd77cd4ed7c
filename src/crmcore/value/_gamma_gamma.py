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

With static covariates ``x_i`` (one row per customer), the rate scale of the spend rate varies
by customer as ``v_i = v exp(gamma_spend . x_i)``, so ``nu_i ~ gamma(q, v_i)`` and the
population mean spend of such customers, ``p v_i / (q - 1)``, is multiplied by
``exp(gamma_spend . x_i)``: a positive coefficient raises spend. The form is the exponential
link CLVTools uses for the rate scales of its purchase models (``alpha_i = alpha
exp(-gamma_trans . x_i)``), signed so that a coefficient reads as an effect on spend; the
likelihood of a customer is the covariate-free one at her own ``v_i``.

References: R. Colombo and W. Jiang (1999), "A Stochastic RFM Model", *Journal of Interactive
Marketing* 13(3), 2-12; P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430;
P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary Value",
http://www.brucehardie.com/notes/025/.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from crmcore._base import CustomerBase
from crmcore._checks import as_column, require_finite, require_non_negative
from crmcore._errors import EmptyDataError, InvalidValueError, describe_rows
from crmcore.value._covariates import StaticCovariates

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
    return _terms(p, q, v, x, m, gradient=gradient, prepared=prepared)


def row_log_likelihood_terms(rows: _FloatArray, data: tuple[_FloatArray, ...], *,
                             gradient: bool) -> tuple[_FloatArray, _FloatArray | None]:
    """:func:`log_likelihood_terms` with one ``(p, q, v)`` per row (``rows``, shape
    ``(n, 3)``; static covariates act on ``v`` only, so ``p`` and ``q`` are the same in every
    row and the special functions are still evaluated once per distinct ``x``). ``data`` is
    ``(x, m)``, optionally followed by :func:`prepare_spend` of them."""
    x, m = data[:2]
    prepared = data[2:] if len(data) > 2 else None
    if len(x) == 0:
        return np.zeros(0), np.zeros((0, 3)) if gradient else None
    p, q = float(rows[0, 0]), float(rows[0, 1])
    if np.any(rows[:, 0] != p) or np.any(rows[:, 1] != q):
        raise InvalidValueError("the gamma-gamma covariate likelihood takes one p and q for "
                                "all customers (covariates act on v)", field="covariates")
    return _terms(p, q, rows[:, 2], x, m, gradient=gradient, prepared=prepared)


def _terms(p: float, q: float, v: float | _FloatArray, x: _FloatArray, m: _FloatArray, *,
           gradient: bool, prepared: tuple[_FloatArray, ...] | None,
           ) -> tuple[_FloatArray, _FloatArray | None]:
    """The log-density of each customer's mean spend and its gradient in ``(p, q, v)`` with
    ``v`` one number or one per customer."""
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


def expected_spend(params: NDArray[np.float64], x: _FloatArray, m: _FloatArray,
                   v: _FloatArray | None = None) -> _FloatArray:
    """E(M | p, q, gamma, m, x) = (gamma + m x) p / (p x + q - 1) (Fader, Hardie & Lee
     2005); ``v``: each customer's own rate scale ``gamma`` (covariates) in place of the
     population's."""
    p, q, scale = (float(val) for val in params)
    out: _FloatArray = ((scale if v is None else v) + m * x) * p / (p * x + q - 1.0)
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


class GammaGamma(StaticCovariates):
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

    With static covariates (``fit(base, covariates=frame, customer_id=..., spend=[...])``)
    the rate scale is ``v_i = v exp(gamma_spend . x_i)`` per customer, so a positive
    coefficient ``spend.<column>`` raises the customer's expected spend by the factor
    ``exp(gamma)``; ``expected_spend`` then takes ``covariates=`` and ``customer_id=`` too.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (as in lifetimes; 0 is plain maximum likelihood).
    """

    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES
    _covariate_targets: ClassVar[Mapping[str, tuple[str, float]]] = {"v": ("spend", 1.0)}
    _n_core: ClassVar[int] = 2
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

    def _row_log_likelihood_terms(
        self, rows: _FloatArray, data: tuple[_FloatArray, ...], *, gradient: bool
    ) -> tuple[_FloatArray, _FloatArray | None]:
        return row_log_likelihood_terms(rows, data, gradient=gradient)

    def _prepare_data(self, data: tuple[_FloatArray, ...]) -> tuple[_FloatArray, ...]:
        # with covariates their columns follow (x, m); the helpers go after them, where the
        # covariate machinery passes them on to the per-row likelihood
        columns = data if self._design is not None else data[:2]
        return (*columns, *prepare_spend(*data[:2]))

    def _initial_params(self, data: tuple[_FloatArray, ...], weights: _FloatArray
                        ) -> _FloatArray:
        if self._design is not None:  # the covariate-free fit, coefficients 0
            return super()._initial_params(data, weights)
        # Method of moments on the customers' means: E[m] ~ p v / (q - 1); start with q = 3.
        m = data[1]
        mean = float(weights @ m / weights.sum())
        return np.array([2.0, 3.0, max(mean, 1e-6)])

    def fit(
        self,
        frequency: CustomerBase | ArrayLike,
        monetary_value: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        *,
        covariates: object = None,
        customer_id: str | None = None,
        spend: Sequence[str] | None = None,
        reg_lambdas: Mapping[str, float] | None = None,
    ) -> Self:
        """Estimate ``p, q, v`` (and the covariate coefficients) by maximum likelihood
        (Fader & Hardie 2013).

        Parameters
        ----------
        frequency, monetary_value:
            Repeat transactions and mean value of the repeat transactions per customer, or a
            :class:`crmcore.CustomerBase` in place of ``frequency`` (required with
            covariates, whose customer ids align them). Customers with ``frequency == 0``
            are excluded (they say nothing about spend); their number is kept in
            ``n_excluded_``.
        weights:
            How many customers each row stands for (default one each).
        covariates:
            A data frame (any narwhals-readable frame) with one row per customer: the id
            column ``customer_id`` and numeric covariate columns (0/1 dummies for
            categories). Only the customers fitted on (``frequency > 0``) need a row here;
            predictions need one for every customer predicted.
        customer_id:
            Name of the id column of ``covariates``.
        spend:
            Covariate columns of the spend-rate scale, ``v_i = v exp(gamma_spend . x_i)``
            (reported as ``spend.<column>``); ``None`` (default) uses every column but the id.
        reg_lambdas:
            L2 penalty weight ``{"spend": ...}`` on the coefficients, as CLVTools'
            ``reg.lambdas``: the objective is the mean log-likelihood minus
            ``lambda * sum(gamma**2)``; ``log_likelihood_`` is the unpenalised value.

        Raises
        ------
        InvalidValueError
            Negative, NaN or misaligned values, or a zero mean spend where ``frequency > 0``;
            a covariate that is not numeric, missing, NaN or constant (named).
        UnknownColumnError, DuplicateCustomerError, DataError
            A column not in the frame; a customer with two rows; customers fitted on without
            covariates (ids named).
        EmptyDataError
            No customer has a repeat transaction.
        ConvergenceError
            The optimiser found no strict maximum.
        """
        if covariates is None:
            given = [n for n, val in (("customer_id", customer_id), ("spend", spend),
                                      ("reg_lambdas", reg_lambdas)) if val is not None]
            if given:
                raise InvalidValueError(f"{', '.join(given)} given without covariates=",
                                        field=given[0])
        elif not isinstance(frequency, CustomerBase) or monetary_value is not None:
            raise InvalidValueError("fitting with covariates needs a CustomerBase (its customer "
                                    "ids align the covariates)", field="covariates")
        self._set_design(None)
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
        amounts = m[keep]
        scale = _spend_scale(amounts, None if w is None else w[keep])
        kept_w = None if w is None else w[keep]
        if covariates is None:
            self._fit_patterns((x[keep], amounts / scale), kept_w, time_unit=time_unit)
        else:
            assert isinstance(frequency, CustomerBase)
            ids = np.asarray(frequency.customer_id)[keep]
            self._fit_with_covariates((x[keep], amounts / scale), ids, kept_w, time_unit,
                                      covariates, customer_id, {"spend": spend}, (),
                                      reg_lambdas)
        self._rescale_fit(scale, x[keep], kept_w)
        return self

    def _rescale_fit(self, scale: float, x: _FloatArray, w: _FloatArray | None) -> None:
        """Turn a fit on amounts divided by ``scale`` into the fit on the amounts: ``v`` times
        ``scale`` (its log, and so the covariance of the log-parameters, only shifts), and the
        log-likelihood minus ``sum(weights) * log(scale)`` (the density of ``m`` is that of
        ``m / scale`` divided by ``scale``)."""
        state = self._state()
        params = state.params.copy()
        params[2] *= scale  # the coefficients (after p, q, v) do not depend on the unit
        n = float(len(x) if w is None else w.sum())
        diagnostics = dict(state.diagnostics)
        diagnostics["params"] = (params if self._design is None
                                 else self._natural(params)).tolist()
        diagnostics["amount_scale"] = scale
        self._fit_state = attrs.evolve(
            state, params=params, log_likelihood=state.log_likelihood - n * math.log(scale),
            diagnostics=diagnostics)

    @property
    def mean_spend_(self) -> float:
        """The population mean spend per transaction, ``p v / (q - 1)`` (infinite for
        ``q <= 1``); with covariates, that of a customer whose covariates are all 0."""
        p, q, v = self._param_array()[:3]
        return float(p * v / (q - 1.0)) if q > 1 else math.inf

    def expected_spend(self, frequency: CustomerBase | ArrayLike,
                       monetary_value: ArrayLike | None = None, *,
                       covariates: object = None,
                       customer_id: str | None = None) -> _FloatArray:
        """Each customer's expected spend per transaction, E(M | p, q, v, m, x) =
        ``(v + m x) p / (p x + q - 1)`` (Fader, Hardie & Lee 2005): the weighted
        average ``(q-1)/(px+q-1) * p v/(q-1) + px/(px+q-1) * m`` of the population mean and the
        customer's own mean ``m``. Customers with ``frequency == 0`` get the population mean.

        A model fitted with covariates needs them here too (``covariates=`` a frame with a
        row for every customer of the :class:`crmcore.CustomerBase` ``frequency``, aligned by
        ``customer_id``, default the id column fitted with): each customer's ``v`` is then
        her own ``v_i = v exp(gamma_spend . x_i)``.

        Raises
        ------
        InvalidValueError
            ``q <= 1`` (the population mean does not exist) while some customer has
            ``frequency == 0``; bad input; covariates missing for a model fitted with them
            (or given to one fitted without).
        DataError
            Customers without a row in ``covariates`` (ids named).
        """
        self._check_covariate_call(covariates, customer_id)
        if self._design is not None and not isinstance(frequency, CustomerBase):
            raise InvalidValueError("predictions with covariates need a CustomerBase (its "
                                    "customer ids align the covariates)", field="covariates")
        x, m, _ = _spend_columns(frequency, monetary_value)
        params = self._param_array()[:3]
        q = float(params[1])
        if q <= 1 and bool(np.any(x == 0)):
            raise InvalidValueError(
                f"q = {q:.4g} <= 1: the population mean spend p v/(q-1) does not exist, so "
                "customers without repeat transactions have no expected spend", field="q")
        v = None
        if self._design is not None:
            assert isinstance(frequency, CustomerBase)
            v = self._customer_rows(covariates, np.asarray(frequency.customer_id))[:, 2]
        return expected_spend(params, x, np.where(x > 0, m, 0.0), v)
