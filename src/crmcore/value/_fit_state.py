"""The state a maximum-likelihood fit leaves (:class:`_Fit`) and the numerical limits shared by
the optimisation (:mod:`crmcore.value._likelihood`) and the boundary fits
(:mod:`crmcore.value._boundary`)."""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_LOG_BOUND = 30.0  # parameters live in [e^-30, e^30]; reaching it means "not identified"
_GRADIENT_TOLERANCE = 1e-4  # on the mean log-likelihood, per log-parameter
_MAX_LOG_STANDARD_ERROR = 10.0
_DRIFT_LOG = 12.0  # an end point beyond e^(+/-12) (1.6e5, 6e-6) counts as running off
_WEAK_LOADING = 0.3  # a parameter loading this much on a flat direction runs off along it
# Parameters fitted on the boundary are held at e^(+/-25) (7.2e10, 1.4e-11): there the models
# equal their limits to about 1e-10, and every prediction is computed stably.
_PIN_LOG = 25.0
# A limit whose log-likelihood is within this many nats per observation of an end point far out
# counts as "as likely": far out (p ~ 1e10 in gamma-gamma, say) the likelihood's special
# functions lose digits to cancellation, about 1e-4 nats per observation, so a stricter
# comparison would decide on rounding noise, i.e. on the machine.
_AS_LIKELY = 1e-3


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
    pinned: tuple[str, ...] = ()

    @classmethod
    def unfitted(cls, params: FloatArray, time_unit: str | None) -> _Fit:
        """The state of a model given its parameters rather than fitted (``from_params``,
        bootstrap draws, a saved unfitted model): no likelihood, no covariance."""
        return cls(params=np.asarray(params, dtype=np.float64), log_likelihood=math.nan,
                   log_covariance=None, n_obs=0.0, n_patterns=0, time_unit=time_unit,
                   diagnostics={"fitted": False}, converged=False)


def _inverse_information(information: FloatArray) -> FloatArray | None:
    """The covariance of the log-parameters, ``information^-1``, or ``None`` when the
    information is not positive definite or some log-parameter's standard error exceeds
    ``_MAX_LOG_STANDARD_ERROR`` (no strict maximum in that direction)."""
    if information.size == 0:
        return np.zeros((0, 0))
    if not np.all(np.isfinite(information)):
        return None
    eigenvalues = np.linalg.eigvalsh(information)
    if eigenvalues.min() <= 1e-10 * max(1.0, float(np.abs(eigenvalues).max())):
        return None
    try:
        chol = np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return None
    inv_chol = np.linalg.inv(chol)
    log_cov: FloatArray = inv_chol.T @ inv_chol
    if np.any(np.sqrt(np.diag(log_cov)) > _MAX_LOG_STANDARD_ERROR):
        return None
    return log_cov
