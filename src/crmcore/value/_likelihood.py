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
``_log_likelihood_hessian(self, params, data, w)`` (optional)
    The exact Hessian of the weighted total log-likelihood ``sum_i w_i ll_i`` with respect to
    the natural parameters (shape ``(k, k)``), on the same ``data`` as
    ``_log_likelihood_terms``; ``None`` (the default) means the base takes central
    differences of the exact gradient instead (8 more likelihood evaluations for 4
    parameters).
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
With more than 20,000 patterns, a tenth of them (the heaviest twentieth whole, a random sample
of the rest with weights scaled up) is fitted first and the full fit is Newton's method with
that fit's Hessian held fixed (it differs from the full data's by sampling noise only), or,
for a model with an exact Hessian, the full data's own Hessian, refreshed while the steps are
large; it falls back to L-BFGS-B if that stalls. A
parameter whose log has a standard error above 10 is reported as not identified
(:class:`crmcore.ConvergenceError`), as is a non-positive-definite information matrix.
The observed information is the negative Hessian of that objective in log-parameter space,
exact where the model provides ``_log_likelihood_hessian``, otherwise obtained by central
differences of the exact gradient; the covariance of the natural
parameters follows by the delta method, ``cov = D C D`` with ``D = diag(params)``.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, TypeVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from crmcore._base import compress_rows
from crmcore._checks import finite_non_negative
from crmcore._errors import (
    ConvergenceError,
    ConvergenceWarning,
    InvalidValueError,
    NotFittedError,
    SerializationError,
)
from crmcore._frames import _frame
from crmcore._serialization import dump_document, load_document
from crmcore.value._boundary import best_boundary, running_off, settle_runaway
from crmcore.value._fit_state import (
    _AS_LIKELY,
    _DRIFT_LOG,
    _GRADIENT_TOLERANCE,
    _LOG_BOUND,
    _Fit,
    _inverse_information,
)

__all__ = [
    "LikelihoodModel",
    "ParameterSummary",
    "PredictionInterval",
]

FloatArray = NDArray[np.float64]
M = TypeVar("M", bound="LikelihoodModel")

_SCHEMA_VERSION = 1
_WARM_START_PATTERNS = 20_000


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
    boundary: str = ""

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
        if self.boundary:
            lines.append(f"on the boundary: {self.boundary}")
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
    #: Pairs of parameters of a mixing distribution whose limits are models in their own right:
    #: ``(first, second, kind, quantity, mean-to-0 meaning, mean-to-top meaning)`` with kind
    #: ``"beta"`` (``Beta(first, second)``) or ``"gamma"`` (shape ``first``, rate ``second``),
    #: ``"product"`` (``first -> infinity``, ``second -> 0``, the product fixed) or ``"ratio"``
    #: (both to 0, or to infinity, with ``first/second`` fixed; the meanings are formatted
    #: with that ratio as ``mean``; an empty one is no limit; either alone is read as both).
    #: A fit whose likelihood rises towards such a limit is fitted there (see
    #: ``_fit_boundary``); models without pairs raise :class:`crmcore.ConvergenceError`.
    _mixing_pairs: ClassVar[tuple[tuple[str, str, str, str, str, str], ...]] = ()
    #: Every boundary fit must be about as likely as the optimiser's end point (else
    #: ``ConvergenceError``), except a face that brings a parameter back from beyond the pins,
    #: which is compared with its own start (the likelihood may rise without bound there).
    #: ``True`` drops that exception: for models where a parameter pinned alone is not always
    #: a limit (GGompertz/NBD: ``b -> infinity`` beside ``s -> 0`` is an exponential lifetime,
    #: not "no dropout").
    _boundary_at_least_end_point: ClassVar[bool] = False

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

    def _log_likelihood_hessian(
        self, params: FloatArray, data: tuple[FloatArray, ...], w: FloatArray
    ) -> FloatArray | None:
        """Exact Hessian of ``sum_i w_i ll_i`` in the natural parameters, or ``None`` (the
        default: the base differentiates the exact gradient numerically)."""
        return None

    def _prepare_data(self, data: tuple[FloatArray, ...]) -> tuple[FloatArray, ...]:
        """Columns handed to ``_log_likelihood_terms`` during the fit: by default the pattern
        columns themselves; a subclass may append precomputed helpers (computed once per fit,
        not per evaluation)."""
        return data

    def _coefficient_links(self) -> dict[str, tuple[tuple[str, float], ...]]:
        """Covariate coefficients among ``param_names`` (optimised as log-parameters, so the
        "parameter" is ``exp(gamma)``), each with the model parameters it scales and the sign
        of its link, ``p_i = p exp(sign * gamma * x_i)``. None for a model without covariates;
        the boundary fits (:mod:`crmcore.value._boundary`) read it."""
        return {}

    def _limit_groups(self, theta: FloatArray, data: tuple[FloatArray, ...], w: FloatArray,
                      coefficients: Sequence[str]) -> list[dict[str, Any]]:
        """Which customers (by the values of the covariates of ``coefficients``) have their
        own parameters at a limit at ``theta``; none for a model without covariates."""
        return []

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
            finite_non_negative(w, "weights")
        if compress and n_rows > 1:
            unique, counts, inverse = compress_rows(*columns)
            w = counts if weights is None else np.bincount(
                inverse, weights=w, minlength=len(unique[0])).astype(np.float64)
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
            finished = [a for a in attempts if math.isfinite(a["fun"]) and "end" in a]
            if not finished:
                raise ConvergenceError(
                    f"{type(self).__name__}: the optimiser did not reach a finite value of the "
                    f"likelihood from {len(attempts)} starts (last: {attempts[-1]['message']})",
                    diagnostics={"attempts": attempts})
            end = min(finished, key=lambda a: a["fun"])
            theta_end = np.log(np.asarray(end["end"], dtype=np.float64))
            return settle_runaway(self, theta_end, None, data, w, penalizer, n_obs, time_unit,
                                        {"attempts": attempts})
        theta = np.asarray(best.x, dtype=np.float64)
        theta, hessian, polish, value, grad = self._newton_polish(
            theta, data, w, penalizer, n_obs, start=(float(best.fun), np.asarray(best.jac)))
        diagnostics: dict[str, Any] = {
            "method": "L-BFGS-B on log-parameters (or, for many patterns, Newton from a "
                      "subsample fit), Newton polish",
            "message": str(best.message), "success": bool(best.success), "nit": int(best.nit),
            "nfev": int(best.nfev), "newton_steps": polish, "attempts": attempts,
        }
        params = np.exp(theta)
        # the objective is -(LL / n_obs - penalizer * |params|^2)
        log_likelihood = (penalizer * float(params @ params) - value) * n_obs
        if not math.isfinite(log_likelihood):
            raise ConvergenceError(f"{type(self).__name__}: the log-likelihood at the optimum "
                                   "is not finite", diagnostics=diagnostics)
        information = -hessian * n_obs  # of the total penalised log-likelihood
        diagnostics["max_abs_gradient"] = float(np.max(np.abs(grad)))
        diagnostics["params"] = params.tolist()
        log_cov = _inverse_information(information)
        if np.any(np.abs(theta) > _LOG_BOUND - 1e-3) or log_cov is None:
            # Three symptoms of one thing, whichever the optimiser's end point shows: a
            # parameter at the edge of the search box, an information matrix that is not
            # positive definite, or a standard error of a log-parameter above
            # _MAX_LOG_STANDARD_ERROR (a 95% interval wider than e^(+/-20)): the likelihood
            # keeps rising (or stays flat) as some parameters run off towards 0 or infinity.
            return settle_runaway(self, theta, information, data, w, penalizer, n_obs,
                                        time_unit, diagnostics)
        diagnostics["information_eigenvalues"] = np.linalg.eigvalsh(information).tolist()
        if self._mixing_pairs and penalizer == 0 and np.any(np.abs(theta) > _DRIFT_LOG):
            # An end point far out (beyond e^(+/-12)) with a positive definite information
            # can be a plateau on the way to a limit where the optimiser happened to stop
            # (which one depends on floating-point details): compare with the limit, and
            # take the limit when its likelihood is as high.
            limit = best_boundary(self, running_off(self, theta, information), theta, data,
                                        w, n_obs, time_unit, diagnostics,
                                        at_least=-math.inf)
            if limit is not None and (limit.log_likelihood
                                      >= log_likelihood - _AS_LIKELY * max(1.0, n_obs)):
                warnings.warn(ConvergenceWarning(limit.diagnostics["boundary"]["message"]),
                              stacklevel=4)
                return limit
        return _Fit(params=params, log_likelihood=log_likelihood, log_covariance=log_cov,
                    n_obs=n_obs, n_patterns=len(w), time_unit=time_unit,
                    diagnostics=diagnostics, converged=True)

    def _hessian(self, theta: FloatArray, grad: FloatArray, data: tuple[FloatArray, ...],
                 w: FloatArray, penalizer: float, n_obs: float) -> FloatArray:
        """Hessian of the mean penalised log-likelihood by central differences of its exact
        gradient (log-parameter space). Central, not forward: along a nearly flat direction
        the curvature is tiny and a forward difference would overstate it. A model with an
        exact Hessian (``_log_likelihood_hessian``) skips the differences."""
        exact = self._exact_hessian(theta, grad, data, w, penalizer, n_obs)
        if exact is not None:
            return exact
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

    def _exact_hessian(self, theta: FloatArray, grad: FloatArray, data: tuple[FloatArray, ...],
                       w: FloatArray, penalizer: float, n_obs: float) -> FloatArray | None:
        """The Hessian of the mean penalised log-likelihood in log-parameter space from the
        model's exact Hessian in natural parameters ``H`` (``None`` without one, or if it is
        not finite): with ``p = exp(theta)`` and ``grad`` the objective's gradient at
        ``theta``, ``p_i p_j (H_ij / n_obs - 2 penalizer [i = j]) - [i = j] grad_i``."""
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            natural = self._log_likelihood_hessian(params, data, w)
        if natural is None:
            return None
        natural = np.asarray(natural, dtype=np.float64)
        k = len(theta)
        if natural.shape != (k, k) or not np.all(np.isfinite(natural)):
            return None
        hessian = np.outer(params, params) * natural / n_obs
        hessian[np.diag_indices(k)] -= 2.0 * penalizer * params * params + grad
        return np.asarray(0.5 * (hessian + hessian.T), dtype=np.float64)

    def _newton_polish(
        self, theta: FloatArray, data: tuple[FloatArray, ...], w: FloatArray, penalizer: float,
        n_obs: float, start: tuple[float, FloatArray] | None = None,
    ) -> tuple[FloatArray, FloatArray, int, float, FloatArray]:
        """Newton steps from the quasi-Newton answer (sharpens the last digits), reusing one
        Hessian while the steps are small; returns the final point, the Hessian there (reused
        when the point moved by less than 1e-4), the number of steps, and the objective's value
        and gradient at the final point. ``start``: the objective's value and gradient at
        ``theta`` when the caller has them (one evaluation fewer)."""
        if start is not None and math.isfinite(start[0]) and start[1].shape == theta.shape:
            value, grad = start
        else:
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
        """For many patterns, first fit a tenth of them: the heaviest twentieth whole (in real
        data a few patterns, such as no repeat purchase at each T, stand for most customers)
        and a random sample of the rest with weights scaled up (an unbiased estimate of the
        rest's log-likelihood). Returns the start for the full fit and the subsample's Hessian
        there (``None`` without a warm start)."""
        n = len(w)
        if n < _WARM_START_PATTERNS:
            return theta0, None
        size = max(n // 10, _WARM_START_PATTERNS // 4)
        heavy = np.argpartition(-w, size // 2)[:size // 2]
        rest = np.ones(n, dtype=bool)
        rest[heavy] = False
        rest_index = np.flatnonzero(rest)
        light = rng.choice(rest_index, size=size - size // 2, replace=False)
        pick = np.concatenate([heavy, light])
        sub = self._prepare_data(tuple(c[pick] for c in data))
        scale = float(w[rest_index].sum()) / float(w[light].sum())
        sub_w = np.concatenate([w[heavy], w[light] * scale])
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
            if float(np.max(np.abs(step))) > 1e-3:
                # still far: a model with an exact Hessian takes the full data's own here,
                # which makes the next step quadratic rather than linear
                fresh = self._exact_hessian(theta, grad, data, w, penalizer, n_obs)
                if fresh is not None:
                    hessian = fresh
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
        se[self._pinned_mask()] = np.nan
        return dict(zip(self.param_names, map(float, se), strict=True))

    def _pinned_mask(self) -> NDArray[np.bool_]:
        """Parameters held at the boundary of the parameter space by the fit (no standard
        error: they are not estimated)."""
        pinned = self._state().pinned
        return np.array([name in pinned for name in self.param_names], dtype=bool)

    @property
    def boundary_(self) -> dict[str, Any] | None:
        """How the fit ended on the boundary of the parameter space, or ``None``.

        ``{"runaway": {name: "0" | "infinity"}, "pinned": [names], "limits": [text]}``: the
        parameters that run off, those held at the boundary (``e^(+/-25)``), and what the
        limit means. With covariate coefficients among them also ``"groups"`` (the customers
        by covariate values, and where each group's own parameters stand) and
        ``"absorbing"`` (free coefficients that carry a group back from the boundary; no
        effect sizes). See the model pages of the documentation ("Small data: fits on the
        boundary").
        """
        boundary = self._state().diagnostics.get("boundary")
        return None if boundary is None else dict(boundary)

    def confidence_intervals(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wald intervals for each parameter, computed on the log scale and exponentiated."""
        z = _z(level)
        params = self._param_array()
        se_log = np.sqrt(np.diag(self._log_covariance()))
        se_log[self._pinned_mask()] = np.nan
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
            boundary="; ".join((state.diagnostics.get("boundary") or {}).get("limits", [])),
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
        model._fit_state = _Fit.unfitted(values, None)
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
        model._fit_state = _Fit.unfitted(params, self._state().time_unit)
        return model

    # -- prediction intervals --------------------------------------------------------------

    def _draw_params(self, n: int, rng: np.random.Generator) -> FloatArray:
        """``n`` parameter vectors (rows, ``param_names`` order) drawn from the asymptotic
        normal distribution of the log-parameters at the estimates."""
        theta = np.log(self._param_array())
        cov = self._log_covariance()
        # a fit on the boundary has a singular covariance (pinned parameters do not vary):
        # its square root then comes from the eigendecomposition
        method: Literal["eigh", "cholesky"] = "eigh" if self._state().pinned else "cholesky"
        draws = rng.multivariate_normal(theta, cov, size=n, method=method)
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
        return dump_document(self._document_kind(), _SCHEMA_VERSION, self._json_payload())

    def _json_payload(self) -> dict[str, Any]:
        """The saved document's fields (a model with more to save adds its own)."""
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
        return payload

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
            params = model._saved_params(payload)
            if payload["fitted"]:
                cov = model._saved_covariance(payload["log_covariance"])
                diagnostics = dict(payload["diagnostics"])
                pinned = model._saved_pinned(diagnostics)
                model._fit_state = _Fit(
                    params=params, log_likelihood=float(payload["log_likelihood"]),
                    log_covariance=cov,
                    n_obs=float(payload["n_obs"]), n_patterns=int(payload["n_patterns"]),
                    time_unit=payload["time_unit"], diagnostics=diagnostics,
                    converged=bool(payload["converged"]), pinned=pinned,
                )
            else:
                model._fit_state = _Fit.unfitted(params, payload["time_unit"])
        except SerializationError:
            raise
        except InvalidValueError as exc:
            raise SerializationError(f"saved {cls.__name__} has invalid parameters: {exc}",
                                     field=exc.field) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(
                f"saved {cls.__name__} is incomplete or malformed: {type(exc).__name__}: {exc}"
            ) from exc
        return model

    def _saved_params(self, payload: Mapping[str, Any]) -> FloatArray:
        """The internal parameter vector of a saved document (checked)."""
        return self._param_vector(payload["params"], "from_json")

    def _saved_covariance(self, cov: Any) -> FloatArray | None:
        """A saved ``log_covariance``: ``None`` or a finite, symmetric ``k x k`` matrix (``k``
        parameters) with a non-negative diagonal; anything else is refused, naming the field."""
        cls = type(self)
        if cov is None:
            return None
        k = len(self.param_names)
        try:
            matrix = np.asarray(cov, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"saved {cls.__name__} has a log_covariance that is not a numeric matrix: {exc}",
                field="log_covariance") from exc
        if matrix.shape != (k, k):
            raise SerializationError(
                f"saved {cls.__name__} has a log_covariance of shape {matrix.shape}; expected "
                f"({k}, {k}), one row and column per parameter ({', '.join(self.param_names)})",
                field="log_covariance")
        if (not np.all(np.isfinite(matrix)) or np.any(np.diag(matrix) < 0)
                or not np.allclose(matrix, matrix.T, rtol=1e-9, atol=0.0)):
            raise SerializationError(
                f"saved {cls.__name__} has a log_covariance that is not a covariance matrix "
                "(finite, symmetric, non-negative variances)", field="log_covariance")
        return matrix

    def _saved_pinned(self, diagnostics: Mapping[str, Any]) -> tuple[str, ...]:
        boundary = diagnostics.get("boundary")
        if boundary is None:
            return ()
        pinned = boundary.get("pinned") if isinstance(boundary, Mapping) else None
        if not isinstance(pinned, list) or not all(n in self.param_names for n in pinned):
            raise SerializationError(
                f"saved {type(self).__name__} has a boundary fit whose pinned parameters "
                f"{pinned!r} are not among {', '.join(self.param_names)}",
                field="diagnostics.boundary")
        return tuple(pinned)

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8)."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model saved with :meth:`save`."""
        return cls.from_json(Path(path).read_bytes())  # decoded (or refused) by from_json


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
