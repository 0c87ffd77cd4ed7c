"""The shared base of crmcore's maximum-likelihood models.

Contract for subclasses
-----------------------
A model subclasses :class:`LikelihoodModel` and provides:

``param_names`` (class variable)
    The parameters' names as the paper writes them, in a fixed order, e.g.
    ``("r", "alpha", "a", "b")``. Every parameter must be strictly positive: the base
    optimises over their logarithms.
``_log_likelihood_terms(self, params, data, *, gradient)``
    ``params`` is a float array of the natural parameters in ``param_names`` order;
    ``data`` is the tuple of pattern columns the subclass handed to :meth:`_fit_patterns`.
    Return ``(ll, grad)``: ``ll`` the log-likelihood of each pattern (shape ``(n,)``, one
    customer's contribution, unweighted) and, when ``gradient`` is true, ``grad`` its exact
    derivative **with respect to the natural parameters** (shape ``(n, k)``), else ``None``.
    Values must be finite wherever the parameters are positive and finite.
``_initial_params(self, data, weights)`` (optional)
    Starting values in natural space (default: all ones); good ones matter for speed.
``_prepare_data(self, data)`` (optional)
    Called once per fit on the compressed columns; may append precomputed helpers (e.g. the
    unique values of a column and their inverse index) that ``_log_likelihood_terms`` then
    receives after the pattern columns. ``_log_likelihood_terms`` must also accept the bare
    columns (it is called on them outside the fit).
``fit(...)``
    Validates its own arguments (raising a named :class:`crmcore.CRMError`), turns them into
    pattern columns and calls ``self._fit_patterns(data, weights, time_unit=...)``, which
    compresses identical rows (:func:`crmcore.compress_rows`), maximises, computes the
    observed information and returns ``self``.

The base then offers ``params_``, ``log_likelihood_``, ``covariance_``, ``standard_errors_``,
:meth:`confidence_intervals`, :meth:`summary`, ``aic_``, ``bic_``, ``n_obs_``,
``optimizer_result_``, :meth:`from_params`, :meth:`save`/:meth:`load`,
:meth:`to_json`/:meth:`from_json`, and prediction intervals by parametric bootstrap:
:meth:`_draw_params` (parameter draws from the asymptotic normal distribution of the
log-parameters) and :meth:`interval` (any vectorised prediction evaluated under each draw).
Subclasses with extra hyperparameters add them as keyword-only ``__init__`` arguments stored
untouched under the same attribute name; :meth:`get_params` finds them by introspection and
:meth:`save` records them.

Estimation
----------
The objective maximised is the total log-likelihood minus ``penalizer`` times the number of
customers times the sum of squared parameters (the ridge penalty lifetimes uses, scaled the
same way, so ``penalizer=0`` is plain maximum likelihood). It is maximised over the
log-parameters with L-BFGS-B (bounded quasi-Newton, exact gradient), polished with Newton
steps on the observed information, and retried from perturbed starts if the first run fails.
With more than 20,000 patterns, a random tenth of them is fitted first and the full fit is
Newton's method with that fit's Hessian held fixed (it differs from the full data's by
sampling noise only), falling back to L-BFGS-B if that stalls. A
parameter whose log has a standard error above 10 is reported as not identified
(:class:`crmcore.ConvergenceError`), as is a non-positive-definite information matrix.
The observed information is the negative Hessian of that objective in log-parameter space,
obtained by central differences of the exact gradient; the covariance of the natural
parameters follows by the delta method, ``cov = D C D`` with ``D = diag(params)``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from crmcore._base import _frame, compress_rows
from crmcore._errors import (
    ConvergenceError,
    InvalidValueError,
    NotFittedError,
    SerializationError,
    describe_rows,
)
from crmcore._serialization import dump_document, load_document

__all__ = [
    "LikelihoodModel",
    "ParameterSummary",
    "PredictionInterval",
]

FloatArray = NDArray[np.float64]
M = TypeVar("M", bound="LikelihoodModel")

_SCHEMA_VERSION = 1
_LOG_BOUND = 30.0  # parameters live in [e^-30, e^30]; reaching it means "not identified"
_GRADIENT_TOLERANCE = 1e-4  # on the mean log-likelihood, per log-parameter
_WARM_START_PATTERNS = 20_000
_MAX_LOG_STANDARD_ERROR = 10.0
_DRIFT_LOG = 12.0  # an end point beyond e^(+/-12) (1.6e5, 6e-6) counts as running off


@attrs.frozen
class ParameterSummary:
    """Estimates of a fitted likelihood model with their uncertainty (``model.summary()``).

    Confidence limits are computed on the log scale (``exp(log p +/- z * se_log)``), so they
    stay positive and are not symmetric around the estimate.
    """

    model: str
    names: tuple[str, ...]
    estimates: tuple[float, ...]
    standard_errors: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    level: float
    log_likelihood: float
    aic: float
    bic: float
    n_obs: float
    converged: bool

    def to_dict(self) -> dict[str, dict[str, float]]:
        """``{name: {"estimate", "standard_error", "lower", "upper"}}``."""
        return {
            name: {"estimate": est, "standard_error": se, "lower": lo, "upper": hi}
            for name, est, se, lo, hi in zip(self.names, self.estimates, self.standard_errors,
                                             self.lower, self.upper, strict=True)
        }

    def to_frame(self, backend: str = "pandas") -> Any:
        """The parameter table as a data frame (``"pandas"``, ``"polars"`` or ``"pyarrow"``)."""
        columns = {
            "parameter": np.asarray(self.names, dtype=object),
            "estimate": np.asarray(self.estimates),
            "standard_error": np.asarray(self.standard_errors),
            "lower": np.asarray(self.lower),
            "upper": np.asarray(self.upper),
        }
        return _frame(columns, backend)  # type: ignore[arg-type]

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}%"
        lines = [
            f"{self.model}: {self.n_obs:g} customers, log-likelihood {self.log_likelihood:.4f}, "
            f"AIC {self.aic:.2f}, BIC {self.bic:.2f}"
            + ("" if self.converged else " (NOT converged)"),
            f"{'parameter':<10} {'estimate':>12} {'std. error':>12} {'lower ' + pct:>14} "
            f"{'upper ' + pct:>14}",
        ]
        for name, est, se, lo, hi in zip(self.names, self.estimates, self.standard_errors,
                                         self.lower, self.upper, strict=True):
            lines.append(f"{name:<10} {est:>12.6g} {se:>12.6g} {lo:>14.6g} {hi:>14.6g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


@attrs.frozen(eq=False)
class PredictionInterval:
    """A vectorised prediction with a parametric-bootstrap interval around it.

    ``estimate`` is the prediction at the fitted parameters; ``lower`` and ``upper`` are the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the prediction over
    ``n_draws`` parameter vectors drawn from the estimates' asymptotic normal distribution
    (on the log scale). It reflects parameter uncertainty only, not the randomness of the
    customers' future behaviour.
    """

    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    n_draws: int
    method: str = "parametric bootstrap"


@attrs.frozen
class _Fit:
    params: FloatArray
    log_likelihood: float
    log_covariance: FloatArray | None
    n_obs: float
    n_patterns: int
    time_unit: str | None
    diagnostics: dict[str, Any]
    converged: bool


class LikelihoodModel:
    """Base class of maximum-likelihood models with positive parameters.

    Parameters
    ----------
    penalizer:
        Ridge penalty on the parameters (``>= 0``): the objective is the mean log-likelihood
        minus ``penalizer * sum(params**2)``, as in lifetimes. ``0`` gives plain maximum
        likelihood.
    """

    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer
        self._fit_state: _Fit | None = None

    # -- subclass interface ----------------------------------------------------------------

    def _log_likelihood_terms(
        self, params: FloatArray, data: tuple[FloatArray, ...], *, gradient: bool
    ) -> tuple[FloatArray, FloatArray | None]:
        raise NotImplementedError  # pragma: no cover - every model overrides it

    def _initial_params(self, data: tuple[FloatArray, ...], weights: FloatArray) -> FloatArray:
        return np.ones(len(self.param_names))

    def _prepare_data(self, data: tuple[FloatArray, ...]) -> tuple[FloatArray, ...]:
        """Columns handed to ``_log_likelihood_terms`` during the fit: by default the pattern
        columns themselves; a subclass may append precomputed helpers (computed once per fit,
        not per evaluation)."""
        return data

    # -- hyperparameters -------------------------------------------------------------------

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters given to ``__init__``, by name (scikit-learn's convention)."""
        names = [
            p.name for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        return {name: getattr(self, name) for name in names}

    def _check_hyperparameters(self) -> float:
        try:
            penalizer = float(self.penalizer)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"penalizer must be a number, got {self.penalizer!r}",
                                    field="penalizer") from exc
        if not math.isfinite(penalizer) or penalizer < 0:
            raise InvalidValueError(f"penalizer must be finite and >= 0, got {penalizer!r}",
                                    field="penalizer")
        return penalizer

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        if self._fit_state is None:
            return f"{type(self).__name__}({hyper})"
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"<{type(self).__name__}({hyper}) fitted: {values}>"

    def _repr_html_(self) -> str:
        from crmcore._repr import model_html

        return model_html(self)

    # -- fitting ---------------------------------------------------------------------------

    def _fit_patterns(
        self,
        data: tuple[ArrayLike, ...],
        weights: ArrayLike | None = None,
        *,
        time_unit: str | None = None,
        compress: bool = True,
    ) -> Self:
        """Maximise the likelihood of the rows ``data`` (aligned columns) with ``weights``."""
        penalizer = self._check_hyperparameters()
        columns = tuple(np.asarray(c, dtype=np.float64) for c in data)
        n_rows = len(columns[0])
        if weights is None:
            w = np.ones(n_rows)
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if len(w) != n_rows:
                raise InvalidValueError(
                    f"weights has {len(w)} values, expected {n_rows} (one per row)",
                    field="weights")
            bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
            if len(bad):
                raise InvalidValueError(
                    f"weights must be finite and >= 0; not at {describe_rows(bad)}",
                    field="weights", rows=bad.tolist())
        if compress and n_rows > 1:
            unique, _, inverse = compress_rows(*columns)
            w = np.bincount(inverse, weights=w, minlength=len(unique[0])).astype(np.float64)
            columns = tuple(np.asarray(c, dtype=np.float64) for c in unique)
        keep = w > 0
        if not keep.all():
            columns = tuple(c[keep] for c in columns)
            w = w[keep]
        n_obs = float(w.sum())
        if n_obs <= 0:
            raise InvalidValueError("nothing to fit: the weights sum to zero", field="weights")

        self._fit_state = self._maximise(columns, w, penalizer, n_obs, time_unit)
        return self

    def _objective(
        self, theta: FloatArray, data: tuple[FloatArray, ...], w: FloatArray, penalizer: float,
        n_obs: float,
    ) -> tuple[float, FloatArray]:
        """Negative mean penalised log-likelihood and its gradient in log-parameter space."""
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, grad = self._log_likelihood_terms(params, data, gradient=True)
            assert grad is not None
            # einsum, not @: BLAS threads only slow these thin products on a busy machine
            total = float(np.einsum("i,i->", w, ll))
            value = -(total / n_obs - penalizer * float(params @ params))
            g_nat = -np.einsum("i,ij->j", w, grad) / n_obs + 2.0 * penalizer * params
            g = g_nat * params
        if not math.isfinite(value) or not np.all(np.isfinite(g)):
            return math.inf, np.zeros_like(theta)
        return value, g

    def _maximise(
        self, data: tuple[FloatArray, ...], w: FloatArray, penalizer: float, n_obs: float,
        time_unit: str | None,
    ) -> _Fit:
        k = len(self.param_names)
        start = np.asarray(self._initial_params(data, w), dtype=np.float64)
        if start.shape != (k,) or not np.all(np.isfinite(start)) or np.any(start <= 0):
            start = np.ones(k)
        theta0 = np.log(start)
        rng = np.random.default_rng(20050101)
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * k
        theta0, sub_hessian = self._warm_start(theta0, data, w, penalizer, n_obs, bounds, rng)
        data = self._prepare_data(data)
        attempts: list[dict[str, Any]] = []
        best: optimize.OptimizeResult | None = None
        if sub_hessian is not None:
            best = self._newton_from_subsample(theta0, sub_hessian, data, w, penalizer, n_obs)
            if best is not None:
                attempts.append({"start": np.exp(theta0).tolist(), "fun": float(best.fun),
                                 "success": True, "message": str(best.message),
                                 "nit": int(best.nit),
                                 "max_abs_gradient": float(np.max(np.abs(best.jac)))})
        for attempt in range(0 if best is not None else 4):
            x0 = theta0 if attempt == 0 else theta0 + rng.normal(0.0, 0.7, size=k)
            result = optimize.minimize(
                self._objective, x0, args=(data, w, penalizer, n_obs), jac=True,
                method="L-BFGS-B", bounds=bounds,
                options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8, "maxcor": 20},
            )
            grad_norm = float(np.max(np.abs(result.jac))) if result.jac is not None else math.inf
            attempts.append({"start": np.exp(x0).tolist(), "end": np.exp(result.x).tolist(),
                             "fun": float(result.fun),
                             "success": bool(result.success), "message": str(result.message),
                             "nit": int(result.nit), "max_abs_gradient": grad_norm})
            usable = math.isfinite(result.fun) and grad_norm < _GRADIENT_TOLERANCE
            if usable and (best is None or result.fun < best.fun):
                best = result
            if usable and attempt == 0:
                break
        if best is None:
            raise ConvergenceError(self._no_maximum_message(attempts),
                                   diagnostics={"attempts": attempts})
        theta = np.asarray(best.x, dtype=np.float64)
        theta, hessian, polish, value, grad = self._newton_polish(theta, data, w,
                                                                  penalizer, n_obs)
        at_bound = [name for name, t in zip(self.param_names, theta, strict=True)
                    if abs(t) > _LOG_BOUND - 1e-3]
        diagnostics: dict[str, Any] = {
            "method": "L-BFGS-B on log-parameters (or, for many patterns, Newton from a "
                      "subsample fit), Newton polish",
            "message": str(best.message), "success": bool(best.success), "nit": int(best.nit),
            "nfev": int(best.nfev), "newton_steps": polish, "attempts": attempts,
        }
        if at_bound:
            raise ConvergenceError(
                f"{type(self).__name__}: parameter(s) {', '.join(at_bound)} ran to the edge of "
                f"the search space (exp(+/-{_LOG_BOUND:g})); the data do not identify them",
                diagnostics={**diagnostics, "params": np.exp(theta).tolist()},
            )
        params = np.exp(theta)
        # the objective is -(LL / n_obs - penalizer * |params|^2)
        log_likelihood = (penalizer * float(params @ params) - value) * n_obs
        if not math.isfinite(log_likelihood):
            raise ConvergenceError(f"{type(self).__name__}: the log-likelihood at the optimum "
                                   "is not finite", diagnostics=diagnostics)
        information = -hessian * n_obs  # of the total penalised log-likelihood
        diagnostics["max_abs_gradient"] = float(np.max(np.abs(grad)))
        eigenvalues = np.linalg.eigvalsh(information)
        diagnostics["information_eigenvalues"] = eigenvalues.tolist()
        diagnostics["params"] = params.tolist()
        if not np.all(np.isfinite(eigenvalues)) or eigenvalues.min() <= 1e-10 * max(
                1.0, float(np.abs(eigenvalues).max())):
            end = ", ".join(f"{n}={v:.4g}" for n, v in zip(self.param_names, params,
                                                            strict=True))
            raise ConvergenceError(
                f"{type(self).__name__}: no strict maximum found (the observed information is "
                f"not positive definite at the end point, {end}); the data do not identify "
                f"all of {', '.join(self.param_names)}",
                diagnostics=diagnostics,
            )
        chol = np.linalg.cholesky(information)
        inv_chol = np.linalg.inv(chol)
        log_cov = inv_chol.T @ inv_chol
        se_log = np.sqrt(np.diag(log_cov))
        loose = [f"{name} (standard error of its log {se:.3g})"
                 for name, se in zip(self.param_names, se_log, strict=True)
                 if se > _MAX_LOG_STANDARD_ERROR]
        if loose:
            # an estimate whose 95% interval spans more than e^(+/-20) is a drift towards 0
            # or infinity along a flat likelihood, not an estimate
            raise ConvergenceError(
                f"{type(self).__name__}: the data do not identify {', '.join(loose)}; the "
                "likelihood is flat in that direction (no strict maximum)",
                diagnostics=diagnostics,
            )
        return _Fit(params=params, log_likelihood=log_likelihood, log_covariance=log_cov,
                    n_obs=n_obs, n_patterns=len(w), time_unit=time_unit,
                    diagnostics=diagnostics, converged=True)

    def _no_maximum_message(self, attempts: list[dict[str, Any]]) -> str:
        """Why no start reached a maximum: where the best one ended and which parameters were
        running off towards 0 or infinity there."""
        name = type(self).__name__
        finished = [a for a in attempts if math.isfinite(a["fun"]) and "end" in a]
        if not finished:
            return (f"{name}: the optimiser did not reach a finite maximum of the likelihood "
                    f"from {len(attempts)} starts (last: {attempts[-1]['message']})")
        best = min(finished, key=lambda a: a["fun"])
        end = ", ".join(f"{n}={v:.4g}" for n, v in zip(self.param_names, best["end"],
                                                        strict=True))
        drifting = [f"{n} ({v:.3g})" for n, v in zip(self.param_names, best["end"], strict=True)
                    if abs(math.log(v)) > _DRIFT_LOG]
        text = (f"{name}: no maximum of the likelihood found from {len(attempts)} starts; the "
                f"best ended at {end} with its gradient still {best['max_abs_gradient']:.2g} "
                f"(optimiser: {best['message'].strip() or 'stopped'})")
        if drifting:
            text += (f"; there {', '.join(drifting)} {'was' if len(drifting) == 1 else 'were'} "
                     "heading towards 0 or infinity: the likelihood keeps rising in that "
                     "direction, so the data do not identify the model")
        return text

    def _hessian(self, theta: FloatArray, grad: FloatArray, data: tuple[FloatArray, ...],
                 w: FloatArray, penalizer: float, n_obs: float) -> FloatArray:
        """Hessian of the mean penalised log-likelihood by central differences of its exact
        gradient (log-parameter space). Central, not forward: along a nearly flat direction
        the curvature is tiny and a forward difference would overstate it."""
        k = len(theta)
        hessian = np.empty((k, k))
        for i in range(k):
            h = 1e-5 * max(1.0, abs(theta[i]))
            up, down = theta.copy(), theta.copy()
            up[i] += h
            down[i] -= h
            g_up = self._objective(up, data, w, penalizer, n_obs)[1]
            g_down = self._objective(down, data, w, penalizer, n_obs)[1]
            hessian[i] = -(g_up - g_down) / (2 * h)
        return 0.5 * (hessian + hessian.T)

    def _newton_polish(
        self, theta: FloatArray, data: tuple[FloatArray, ...], w: FloatArray, penalizer: float,
        n_obs: float,
    ) -> tuple[FloatArray, FloatArray, int, float, FloatArray]:
        """Newton steps from the quasi-Newton answer (sharpens the last digits), reusing one
        Hessian while the steps are small; returns the final point, the Hessian there (reused
        when the point moved by less than 1e-4), the number of steps, and the objective's value
        and gradient at the final point."""
        value, grad = self._objective(theta, data, w, penalizer, n_obs)
        anchor = theta
        hessian = self._hessian(theta, grad, data, w, penalizer, n_obs)
        steps = 0
        for _ in range(8):
            if float(np.max(np.abs(grad))) < 1e-12:
                break
            try:
                step = np.linalg.solve(hessian, grad)  # hessian of +LL is -d2(objective)
            except np.linalg.LinAlgError:
                break
            candidate = np.clip(theta + step, -_LOG_BOUND, _LOG_BOUND)
            new_value, new_grad = self._objective(candidate, data, w, penalizer, n_obs)
            if not (new_value <= value):
                break
            theta, value, grad = candidate, new_value, new_grad
            steps += 1
            if float(np.max(np.abs(step))) < 1e-9:
                break
        if float(np.max(np.abs(theta - anchor))) > 1e-4:
            hessian = self._hessian(theta, grad, data, w, penalizer, n_obs)
        return theta, hessian, steps, value, grad

    def _warm_start(
        self, theta0: FloatArray, data: tuple[FloatArray, ...], w: FloatArray, penalizer: float,
        n_obs: float, bounds: list[tuple[float, float]], rng: np.random.Generator,
    ) -> tuple[FloatArray, FloatArray | None]:
        """For many patterns, first fit a random tenth of them (weights scaled up, an unbiased
        estimate of the log-likelihood). Returns the start for the full fit and the
        subsample's Hessian there (``None`` without a warm start)."""
        n = len(w)
        if n < _WARM_START_PATTERNS:
            return theta0, None
        pick = rng.choice(n, size=max(n // 10, _WARM_START_PATTERNS // 4), replace=False)
        sub = self._prepare_data(tuple(c[pick] for c in data))
        sub_w = w[pick] * (n_obs / float(w[pick].sum()))
        result = optimize.minimize(
            self._objective, theta0, args=(sub, sub_w, penalizer, n_obs), jac=True,
            method="L-BFGS-B", bounds=bounds, options={"maxiter": 500, "gtol": 1e-7})
        if not (math.isfinite(result.fun) and np.all(np.abs(result.x) < _LOG_BOUND - 1)):
            return theta0, None
        theta = np.asarray(result.x, dtype=np.float64)
        grad = self._objective(theta, sub, sub_w, penalizer, n_obs)[1]
        return theta, self._hessian(theta, grad, sub, sub_w, penalizer, n_obs)

    def _newton_from_subsample(
        self, theta: FloatArray, hessian: FloatArray, data: tuple[FloatArray, ...],
        w: FloatArray, penalizer: float, n_obs: float,
    ) -> optimize.OptimizeResult | None:
        """Newton iterations on the full data with the subsample's Hessian held fixed: the two
        differ by sampling noise only, so each step cuts the distance to the optimum about a
        hundredfold, one gradient evaluation per step. ``None`` if it stalls."""
        value, grad = self._objective(theta, data, w, penalizer, n_obs)
        if not math.isfinite(value):
            return None
        nfev = 1
        for nit in range(1, 16):
            try:
                step = np.linalg.solve(hessian, grad)
            except np.linalg.LinAlgError:
                return None
            candidate = np.clip(theta + step, -_LOG_BOUND, _LOG_BOUND)
            new_value, new_grad = self._objective(candidate, data, w, penalizer, n_obs)
            nfev += 1
            if not new_value <= value + 1e-12 * abs(value):
                return None
            theta, value, grad = candidate, new_value, new_grad
            if float(np.max(np.abs(step))) < 1e-8 or float(np.max(np.abs(grad))) < 1e-10:
                return optimize.OptimizeResult(
                    x=theta, fun=value, jac=grad, success=True, nit=nit, nfev=nfev,
                    message="Newton with the subsample's Hessian converged")
        return None

    # -- fitted state ----------------------------------------------------------------------

    def _state(self) -> _Fit:
        if self._fit_state is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() or "
                                 "from_params() first")
        return self._fit_state

    @property
    def params_(self) -> dict[str, float]:
        """Fitted parameters keyed by the paper's names."""
        return dict(zip(self.param_names, map(float, self._state().params), strict=True))

    def _param_array(self) -> FloatArray:
        return self._state().params

    @property
    def log_likelihood_(self) -> float:
        """Total log-likelihood at the estimates (data's own time unit; no penalty)."""
        return self._fitted().log_likelihood

    @property
    def n_obs_(self) -> float:
        """Number of customers (sum of weights) the model was fitted on."""
        return self._fitted().n_obs

    @property
    def time_unit_(self) -> str | None:
        """Time unit of the data fitted on (``None`` when fitted on bare arrays)."""
        return self._state().time_unit

    @property
    def aic_(self) -> float:
        """Akaike information criterion, ``2k - 2 LL``."""
        return 2 * len(self.param_names) - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        """Bayesian information criterion, ``k log(n) - 2 LL`` with ``n`` customers."""
        return len(self.param_names) * math.log(self.n_obs_) - 2 * self.log_likelihood_

    @property
    def optimizer_result_(self) -> dict[str, Any]:
        """The optimiser's diagnostics: message, iterations, every start tried, final gradient
        and the eigenvalues of the observed information."""
        return dict(self._fitted().diagnostics)

    def _fitted(self) -> _Fit:
        state = self._state()
        if not state.diagnostics.get("fitted", True):
            raise NotFittedError(f"{type(self).__name__} was built from_params(); it has no "
                                 "fit statistics (call fit() for them)")
        return state

    def _log_covariance(self) -> FloatArray:
        cov = self._fitted().log_covariance
        if cov is None:
            raise ConvergenceError(f"{type(self).__name__}: no covariance (the observed "
                                   "information was not positive definite)",
                                   diagnostics=self._fitted().diagnostics)
        return cov

    @property
    def covariance_(self) -> dict[str, dict[str, float]]:
        """Covariance of the parameter estimates (inverse observed information, delta method
        from log-parameter space), as a nested dict keyed by parameter names."""
        params = self._param_array()
        cov = self._log_covariance() * np.outer(params, params)
        return {a: {b: float(cov[i, j]) for j, b in enumerate(self.param_names)}
                for i, a in enumerate(self.param_names)}

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Standard errors of the parameter estimates (delta method)."""
        params = self._param_array()
        se = np.sqrt(np.diag(self._log_covariance())) * params
        return dict(zip(self.param_names, map(float, se), strict=True))

    def confidence_intervals(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wald intervals for each parameter, computed on the log scale and exponentiated."""
        z = _z(level)
        params = self._param_array()
        se_log = np.sqrt(np.diag(self._log_covariance()))
        lower, upper = params * np.exp(-z * se_log), params * np.exp(z * se_log)
        return {name: (float(lo), float(hi))
                for name, lo, hi in zip(self.param_names, lower, upper, strict=True)}

    def summary(self, level: float = 0.95) -> ParameterSummary:
        """Estimates, standard errors, confidence limits, log-likelihood, AIC and BIC."""
        intervals = self.confidence_intervals(level)
        se = self.standard_errors_
        state = self._fitted()
        return ParameterSummary(
            model=type(self).__name__, names=self.param_names,
            estimates=tuple(self.params_.values()),
            standard_errors=tuple(se[n] for n in self.param_names),
            lower=tuple(intervals[n][0] for n in self.param_names),
            upper=tuple(intervals[n][1] for n in self.param_names),
            level=level, log_likelihood=state.log_likelihood, aic=self.aic_, bic=self.bic_,
            n_obs=state.n_obs, converged=state.converged,
        )

    # -- construction from known parameters ------------------------------------------------

    @classmethod
    def from_params(cls, **params: float) -> Self:
        """A model with given parameters (no fit statistics), ready to predict.

        Raises
        ------
        InvalidValueError
            A parameter is missing, unknown, not finite or not positive.
        """
        values = cls._param_vector(params, "from_params")
        model = cls()
        model._fit_state = _Fit(params=values, log_likelihood=math.nan, log_covariance=None,
                                n_obs=0.0, n_patterns=0, time_unit=None,
                                diagnostics={"fitted": False}, converged=False)
        return model

    @classmethod
    def _param_vector(cls, params: Mapping[str, Any], caller: str) -> FloatArray:
        """``params`` in :attr:`param_names` order, each present, known, finite and > 0."""
        missing = [n for n in cls.param_names if n not in params]
        unknown = [n for n in params if n not in cls.param_names]
        if missing or unknown:
            raise InvalidValueError(
                f"{cls.__name__}.{caller} needs exactly {', '.join(cls.param_names)}; "
                + (f"missing {', '.join(missing)}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"unknown {', '.join(unknown)}" if unknown else ""),
                field=(missing or unknown)[0],
            )
        values = np.array([float(params[n]) for n in cls.param_names])
        for name, value in zip(cls.param_names, values, strict=True):
            if not math.isfinite(value) or value <= 0:
                raise InvalidValueError(f"parameter {name} must be finite and > 0, got {value!r}",
                                        field=name)
        return values

    def _with_params(self, params: FloatArray) -> Self:
        """A copy with the same hyperparameters and other parameters (for bootstrap draws)."""
        model = type(self)(**self.get_params())
        state = self._state()
        model._fit_state = _Fit(params=np.asarray(params, dtype=np.float64),
                                log_likelihood=math.nan, log_covariance=None, n_obs=0.0,
                                n_patterns=0, time_unit=state.time_unit,
                                diagnostics={"fitted": False}, converged=False)
        return model

    # -- prediction intervals --------------------------------------------------------------

    def _draw_params(self, n: int, rng: np.random.Generator) -> FloatArray:
        """``n`` parameter vectors (rows, ``param_names`` order) drawn from the asymptotic
        normal distribution of the log-parameters at the estimates."""
        theta = np.log(self._param_array())
        draws = rng.multivariate_normal(theta, self._log_covariance(), size=n,
                                        method="cholesky")
        return np.exp(draws)

    def interval(
        self,
        predict: Callable[[Self], ArrayLike],
        *,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int | np.random.Generator | None = None,
    ) -> PredictionInterval:
        """A parametric-bootstrap interval for any vectorised prediction.

        Parameters
        ----------
        predict:
            Called with a model of this class (the fitted one, then one per draw) and returning
            an array, e.g. ``lambda m: m.p_alive(base)``.
        level:
            Coverage of the interval, in (0, 1).
        n_draws:
            Number of parameter draws.
        seed:
            Seed or generator for the draws.
        """
        _z(level)
        if n_draws < 2:
            raise InvalidValueError(f"n_draws must be at least 2, got {n_draws}",
                                    field="n_draws")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        estimate = np.asarray(predict(self), dtype=np.float64)
        draws = self._draw_params(n_draws, rng)
        values = np.stack([np.asarray(predict(self._with_params(d)), dtype=np.float64)
                           for d in draws])
        lower, upper = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return PredictionInterval(estimate=estimate, lower=np.asarray(lower),
                                  upper=np.asarray(upper), level=level, n_draws=n_draws)

    # -- saving ----------------------------------------------------------------------------

    @classmethod
    def _document_kind(cls) -> str:
        return f"{cls.__module__.split('._')[0]}.{cls.__name__}"

    def to_json(self) -> str:
        """The model (hyperparameters, parameters and fit statistics) as a JSON document."""
        state = self._state()
        payload: dict[str, Any] = {
            "hyperparameters": self.get_params(),
            "params": self.params_,
            "time_unit": state.time_unit,
            "fitted": bool(state.diagnostics.get("fitted", True)),
        }
        if payload["fitted"]:
            payload.update(
                log_likelihood=state.log_likelihood, n_obs=state.n_obs,
                n_patterns=state.n_patterns, converged=state.converged,
                log_covariance=None if state.log_covariance is None
                else state.log_covariance.tolist(),
                diagnostics=_jsonable(state.diagnostics),
            )
        return dump_document(self._document_kind(), _SCHEMA_VERSION, payload)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Read a model written by :meth:`to_json`.

        Raises
        ------
        SerializationError
            Not a saved model of this class, an unknown schema version, or missing fields.
        """
        payload = load_document(text, cls._document_kind(), (_SCHEMA_VERSION,))
        try:
            model = cls(**payload["hyperparameters"])
            params = cls._param_vector(payload["params"], "from_json")
            if payload["fitted"]:
                cov = payload["log_covariance"]
                model._fit_state = _Fit(
                    params=params, log_likelihood=float(payload["log_likelihood"]),
                    log_covariance=None if cov is None else np.asarray(cov, dtype=np.float64),
                    n_obs=float(payload["n_obs"]), n_patterns=int(payload["n_patterns"]),
                    time_unit=payload["time_unit"], diagnostics=dict(payload["diagnostics"]),
                    converged=bool(payload["converged"]),
                )
            else:
                model._fit_state = _Fit(params=params, log_likelihood=math.nan,
                                        log_covariance=None, n_obs=0.0, n_patterns=0,
                                        time_unit=payload["time_unit"],
                                        diagnostics={"fitted": False}, converged=False)
        except InvalidValueError as exc:
            raise SerializationError(f"saved {cls.__name__} has invalid parameters: {exc}",
                                     field=exc.field) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(
                f"saved {cls.__name__} is incomplete or malformed: {type(exc).__name__}: {exc}"
            ) from exc
        return model

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8)."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model saved with :meth:`save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise InvalidValueError(f"level must be in (0, 1), got {level!r}", field="level")
    return float(stats.norm.ppf(0.5 + level / 2))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
