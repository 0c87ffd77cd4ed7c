"""lifetimes as a crmcore plugin: its fitters behind crmcore's model interface.

Offers ``lifetimes-bgnbd``, ``lifetimes-mbgnbd``, ``lifetimes-pareto-nbd`` and
``lifetimes-bgbb`` (value models) and ``lifetimes-gamma-gamma`` (spend model), so the reference
implementation can be picked by name and run side by side with crmcore's own models. lifetimes
(and pandas, which it needs) are imported only when one of these models is built: ``import
crmcore`` never imports them, and when lifetimes is not installed the plugin offers nothing.

lifetimes is Cameron Davidson-Pilon's package (https://github.com/CamDavidsonPilon/lifetimes);
nothing of its code is copied here, its fitters are called.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln

from crmcore._base import CustomerBase, check_summary, compress_rows
from crmcore._errors import (
    ConvergenceError,
    ConvergenceWarning,
    InvalidValueError,
    NotFittedError,
    PluginError,
)
from crmcore.hookspecs import SpendModelFactory, ValueModelFactory, hookimpl
from crmcore.value._bgbb import _discrete_columns, log_likelihood_terms

__all__ = [
    "LifetimesBGBB",
    "LifetimesBGNBD",
    "LifetimesGammaGamma",
    "LifetimesMBGNBD",
    "LifetimesParetoNBD",
    "crmcore_spend_models",
    "crmcore_value_models",
    "lifetimes_available",
]

_FloatArray = NDArray[np.float64]
PLUGIN_NAME = "crmcore.value._lifetimes_plugin"
# lifetimes' BG/BB adds 1e-15 to a sum; below 1e-12 that floor moves the sum by over 0.1%
_LOG_FLOOR_MARGIN = math.log(1e-12)


def lifetimes_available() -> bool:
    """Whether lifetimes (and pandas) can be imported, found without importing them."""
    return all(importlib.util.find_spec(name) is not None for name in ("lifetimes", "pandas"))


def _fitter_class(name: str) -> Any:
    try:
        module = importlib.import_module("lifetimes")
    except ImportError as exc:  # pragma: no cover - the hooks offer nothing without it
        raise PluginError(f"lifetimes is not installed, so {name} is unavailable: {exc}",
                          plugin=PLUGIN_NAME) from exc
    return getattr(module, name)


class _LifetimesModel:
    """Shared plumbing: build the fitter lazily, read its parameters under the papers' names."""

    fitter_name: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer
        self._fitter: Any = None
        self._n_obs = 0.0
        self.time_unit_: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(penalizer={self.penalizer!r})"

    def _new_fitter(self) -> Any:
        return _fitter_class(self.fitter_name)(penalizer_coef=float(self.penalizer))

    def _fit_fitter(self, fitter: Any, *args: Any, **kwargs: Any) -> None:
        """``fitter.fit(...)``, with lifetimes' own failures turned into crmcore's: its
        ``ConvergenceError`` into :class:`crmcore.ConvergenceError`, anything else into
        :class:`crmcore.PluginError`, both naming the plugin and the fitter."""
        try:
            fitter.fit(*args, **kwargs)
        except Exception as exc:
            lifetimes_convergence = getattr(importlib.import_module("lifetimes.utils"),
                                            "ConvergenceError", ())
            detail = " ".join(str(exc).split()) or type(exc).__name__
            where = f"lifetimes' {self.fitter_name} (plugin {PLUGIN_NAME})"
            if isinstance(exc, lifetimes_convergence):
                raise ConvergenceError(f"{where} did not converge: {detail}",
                                       diagnostics={"plugin": PLUGIN_NAME,
                                                    "fitter": self.fitter_name}) from exc
            raise PluginError(f"{where} failed to fit: {type(exc).__name__}: {detail}",
                              plugin=PLUGIN_NAME) from exc

    @property
    def fitter_(self) -> Any:
        """The fitted lifetimes object itself."""
        if self._fitter is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        return self._fitter

    @property
    def params_(self) -> dict[str, float]:
        """Fitted parameters keyed by the papers' names (lifetimes uses the same names)."""
        params = self.fitter_.params_
        return {name: float(params[name]) for name in self.param_names}

    @property
    def log_likelihood_(self) -> float:
        """Total log-likelihood: lifetimes' mean negative log-likelihood (penalty included
        when ``penalizer > 0``) times the number of customers, sign flipped."""
        return -float(self.fitter_._negative_log_likelihood_) * self._n_obs


def _summary_columns(frequency: Any, recency: ArrayLike | None, T: ArrayLike | None
                     ) -> tuple[_FloatArray, _FloatArray, _FloatArray, str | None]:
    if isinstance(frequency, CustomerBase):
        return (frequency.frequency.astype(np.float64), frequency.recency, frequency.T,
                frequency.time_unit)
    if recency is None or T is None:
        raise InvalidValueError("give frequency, recency and T (or a CustomerBase)",
                                field="recency" if recency is None else "T")
    f, r, t, _ = check_summary(frequency, recency, T)
    return f, r, t, None


class _LifetimesContinuous(_LifetimesModel):
    def fit(self, frequency: CustomerBase | ArrayLike, recency: ArrayLike | None = None,
            T: ArrayLike | None = None, weights: ArrayLike | None = None) -> Self:
        """Fit lifetimes' fitter on a :class:`crmcore.CustomerBase` or on arrays
        ``(frequency, recency, T)`` with optional ``weights`` (customers per row)."""
        f, r, t, unit = _summary_columns(frequency, recency, T)
        fitter = self._new_fitter()
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        self._fit_fitter(fitter, f, r, t, weights=w)
        self._fitter, self.time_unit_ = fitter, unit
        self._n_obs = float(len(f) if w is None else w.sum())
        return self

    def p_alive(self, frequency: CustomerBase | ArrayLike, recency: ArrayLike | None = None,
                T: ArrayLike | None = None) -> _FloatArray:
        """lifetimes' ``conditional_probability_alive``."""
        f, r, t, _ = _summary_columns(frequency, recency, T)
        return np.asarray(self.fitter_.conditional_probability_alive(f, r, t), dtype=np.float64)

    def expected_purchases(self, t: ArrayLike, frequency: CustomerBase | ArrayLike,
                           recency: ArrayLike | None = None, T: ArrayLike | None = None
                           ) -> _FloatArray:
        """lifetimes' ``conditional_expected_number_of_purchases_up_to_time``."""
        f, r, big_t, _ = _summary_columns(frequency, recency, T)
        horizon = np.broadcast_to(np.asarray(t, dtype=np.float64), f.shape)
        return np.asarray(
            self.fitter_.conditional_expected_number_of_purchases_up_to_time(horizon, f, r,
                                                                             big_t),
            dtype=np.float64)

    def expected_purchases_unconditional(self, t: ArrayLike) -> _FloatArray:
        """lifetimes' ``expected_number_of_purchases_up_to_time``."""
        return np.atleast_1d(np.asarray(
            self.fitter_.expected_number_of_purchases_up_to_time(
                np.atleast_1d(np.asarray(t, dtype=np.float64))), dtype=np.float64))


class LifetimesBGNBD(_LifetimesContinuous):
    """lifetimes' ``BetaGeoFitter`` (BG/NBD, Fader, Hardie & Lee 2005) as ``lifetimes-bgnbd``."""

    fitter_name = "BetaGeoFitter"
    param_names = ("r", "alpha", "a", "b")


class LifetimesMBGNBD(_LifetimesContinuous):
    """lifetimes' ``ModifiedBetaGeoFitter`` (MBG/NBD, Batislam, Denizel & Filiztekin 2007)
    as ``lifetimes-mbgnbd``."""

    fitter_name = "ModifiedBetaGeoFitter"
    param_names = ("r", "alpha", "a", "b")


class LifetimesParetoNBD(_LifetimesContinuous):
    """lifetimes' ``ParetoNBDFitter`` (Schmittlein, Morrison & Colombo 1987) as
    ``lifetimes-pareto-nbd`` (lifetimes fits it with Nelder-Mead: slow on large data)."""

    fitter_name = "ParetoNBDFitter"
    param_names = ("r", "alpha", "s", "beta")


class LifetimesBGBB(_LifetimesModel):
    """lifetimes' ``BetaGeoBetaBinomFitter`` (BG/BB, Fader, Hardie & Shang 2010) as
    ``lifetimes-bgbb``. lifetimes floors the likelihood's terms at ``1e-15``: with the
    donations' parameters its estimates are biased at 40 opportunities per customer and it
    does not converge at 52, and its predictions go wrong for customers whose terms fall below
    the floor (``benchmarks/README.md``); crmcore's ``bgbb`` has no such limit. ``fit``,
    ``p_alive`` and ``expected_purchases`` issue a :class:`crmcore.ConvergenceWarning` naming
    how many customers are affected whenever the floor moves their likelihood by over 0.1%."""

    fitter_name = "BetaGeoBetaBinomFitter"
    param_names = ("alpha", "beta", "gamma", "delta")
    discrete: ClassVar[bool] = True

    @staticmethod
    def _columns(frequency: Any, recency: ArrayLike | None, n_periods: ArrayLike | None,
                 weights: ArrayLike | None = None
                 ) -> tuple[_FloatArray, _FloatArray, _FloatArray, ArrayLike | None,
                            str | None]:
        return _discrete_columns(frequency, recency, n_periods, weights)

    def fit(self, frequency: CustomerBase | ArrayLike | Any, recency: ArrayLike | None = None,
            n_periods: ArrayLike | None = None, weights: ArrayLike | None = None) -> Self:
        """Fit lifetimes' fitter on ``(frequency, recency, n_periods, weights)``, a base or
        an object with those columns (such as ``crmcore.datasets.load_donations()``)."""
        x, tx, n, w, unit = self._columns(frequency, recency, n_periods, weights)
        pandas = importlib.import_module("pandas")
        fitter = self._new_fitter()
        weight = np.ones(len(x)) if w is None else np.asarray(w, dtype=np.float64)
        # lifetimes' BG/BB indexes its inputs like pandas Series.
        self._fit_fitter(fitter, pandas.Series(x), pandas.Series(tx), pandas.Series(n),
                         weights=pandas.Series(weight))
        self._fitter, self.time_unit_ = fitter, unit
        self._n_obs = float(weight.sum())
        self._warn_if_floored(x, tx, n, "fit", weight)
        return self

    def _warn_if_floored(self, x: _FloatArray, tx: _FloatArray, n: _FloatArray,
                         what: str, weights: _FloatArray | None = None) -> None:
        """Warn when lifetimes' floor distorts its answers: it adds ``1e-15`` to the
        likelihood before division by ``B(alpha, beta) B(gamma, delta)``, and for long
        histories that undivided likelihood is itself that small (crmcore's ``bgbb`` works in
        log space)."""
        (ux, utx, un), counts, inverse = compress_rows(x, tx, n)
        if weights is not None:  # rows standing for several customers each
            counts = np.bincount(inverse, weights=weights, minlength=len(ux)).astype(np.float64)
        params = np.asarray([float(self.fitter_.params_[name]) for name in self.param_names])
        ll, _ = log_likelihood_terms(params, ux, utx, un, gradient=False)
        undivided = ll + betaln(params[0], params[1]) + betaln(params[2], params[3])
        floored = undivided < _LOG_FLOOR_MARGIN
        if floored.any():
            warnings.warn(ConvergenceWarning(
                f"lifetimes-bgbb {what}: lifetimes adds 1e-15 to a likelihood that is below "
                f"1e-12 for {int(counts[floored].sum()):,} of {int(counts.sum()):,} customers "
                f"here (up to {int(un[floored].max())} opportunities), so its answers for them "
                "are distorted; crmcore's 'bgbb' has no such floor"),
                stacklevel=3)

    def p_alive(self, frequency: CustomerBase | ArrayLike | Any,
                recency: ArrayLike | None = None, n_periods: ArrayLike | None = None,
                periods_ahead: int = 0) -> _FloatArray:
        """lifetimes' ``conditional_probability_alive(periods_ahead, ...)``."""
        x, tx, n, _, _ = self._columns(frequency, recency, n_periods)
        self._warn_if_floored(x, tx, n, "p_alive")
        return np.asarray(self.fitter_.conditional_probability_alive(periods_ahead, x, tx, n),
                          dtype=np.float64)

    def expected_purchases(self, t: ArrayLike, frequency: CustomerBase | ArrayLike | Any,
                           recency: ArrayLike | None = None,
                           n_periods: ArrayLike | None = None) -> _FloatArray:
        """lifetimes' ``conditional_expected_number_of_purchases_up_to_time``."""
        x, tx, n, _, _ = self._columns(frequency, recency, n_periods)
        self._warn_if_floored(x, tx, n, "expected_purchases")
        horizon = np.broadcast_to(np.asarray(t, dtype=np.float64), x.shape)
        return np.asarray(
            self.fitter_.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, n),
            dtype=np.float64)


class LifetimesGammaGamma(_LifetimesModel):
    """lifetimes' ``GammaGammaFitter`` as ``lifetimes-gamma-gamma``; fitted on customers with
    ``frequency > 0`` only, as crmcore's ``gamma-gamma``."""

    fitter_name = "GammaGammaFitter"
    param_names = ("p", "q", "v")

    @staticmethod
    def _columns(frequency: Any, monetary_value: ArrayLike | None
                 ) -> tuple[_FloatArray, _FloatArray]:
        from crmcore.value._gamma_gamma import _spend_columns

        x, m, _ = _spend_columns(frequency, monetary_value)
        return x, m

    def fit(self, frequency: CustomerBase | ArrayLike, monetary_value: ArrayLike | None = None,
            weights: ArrayLike | None = None) -> Self:
        """Fit lifetimes' fitter on the customers with repeat transactions."""
        x, m = self._columns(frequency, monetary_value)
        keep = x > 0
        fitter = self._new_fitter()
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[keep]
        self._fit_fitter(fitter, x[keep], m[keep], weights=w)
        self._fitter = fitter
        self.n_excluded_ = int((~keep).sum())
        self._n_obs = float(keep.sum() if w is None else w.sum())
        return self

    def expected_spend(self, frequency: CustomerBase | ArrayLike,
                       monetary_value: ArrayLike | None = None) -> _FloatArray:
        """lifetimes' ``conditional_expected_average_profit``."""
        x, m = self._columns(frequency, monetary_value)
        return np.asarray(self.fitter_.conditional_expected_average_profit(x, m),
                          dtype=np.float64)


_VALUE_MODELS: Mapping[str, ValueModelFactory] = {
    "lifetimes-bgnbd": LifetimesBGNBD,
    "lifetimes-mbgnbd": LifetimesMBGNBD,
    "lifetimes-pareto-nbd": LifetimesParetoNBD,
    "lifetimes-bgbb": LifetimesBGBB,
}


@hookimpl
def crmcore_value_models() -> Mapping[str, ValueModelFactory]:
    """lifetimes' purchase models, when lifetimes is installed; nothing otherwise."""
    return dict(_VALUE_MODELS) if lifetimes_available() else {}


@hookimpl
def crmcore_spend_models() -> Mapping[str, SpendModelFactory]:
    """lifetimes' gamma-gamma spend model, when lifetimes is installed; nothing otherwise."""
    return {"lifetimes-gamma-gamma": LifetimesGammaGamma} if lifetimes_available() else {}
