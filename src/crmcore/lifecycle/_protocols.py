"""What the lifecycle package needs from other models.

Lifecycle code asks a value model only for P(alive) and never names a class, so any model with
a ``p_alive(frequency, recency, T)`` method works: crmcore's BG/NBD, a firm's own plugin, or a
test double. The protocols themselves live in :mod:`crmcore.protocols`; ``PAliveModel`` and
``StageClassifier`` (now :class:`crmcore.protocols.LifecycleModel`) are re-exported from
:mod:`crmcore.lifecycle` for compatibility.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from crmcore._checks import model_probabilities
from crmcore._errors import InvalidValueError
from crmcore.protocols import (
    LifecycleModel,
    NoPurchaseModel,
    PAliveModel,
    ValueModel,
    value_protocol,
)

__all__ = ["NoPurchaseModel", "PAliveModel", "StageClassifier"]


StageClassifier = LifecycleModel
"""Former name of :class:`crmcore.protocols.LifecycleModel`, kept for compatibility."""


def model_name(model: object) -> str:
    """A readable name for a model in messages."""
    return type(model).__name__


def checked_p_alive(
    value_model: object, frequency: NDArray[np.float64], recency: NDArray[np.float64],
    T: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Ask ``value_model`` for P(alive) and check the answer is one probability per customer.

    Raises
    ------
    InvalidValueError
        ``value_model`` has no ``p_alive`` method.
    PluginError
        The answer is not an array of finite probabilities of the right length (the model is
        named).
    """
    if value_protocol(value_model) is not ValueModel:
        raise InvalidValueError(
            f"value_model {model_name(value_model)} has time-varying covariates: its P(alive) "
            "needs the covariate frame, not (frequency, recency, T); crmcore.score(..., "
            "covariates=, customer_id=, datetime=) hands the classifier each customer's own",
            field="value_model")
    if not isinstance(value_model, PAliveModel):
        raise InvalidValueError(
            f"value_model {model_name(value_model)} has no p_alive(frequency, recency, T) "
            "method; pass a fitted value model such as crmcore.value.BGNBD",
            field="value_model",
        )
    name = model_name(value_model)
    return model_probabilities(value_model.p_alive(frequency, recency, T), n=len(frequency),
                               noun="P(alive)", plugin=name)


def checked_p_none(
    value_model: object, horizon: float, frequency: NDArray[np.float64],
    recency: NDArray[np.float64], T: NDArray[np.float64],
) -> NDArray[np.float64]:
    """P(no purchase in the next ``horizon`` | x, t_x, T) from ``value_model``'s conditional
    PMF, checked to be one probability per customer.

    Raises
    ------
    InvalidValueError
        ``value_model`` has no conditional PMF.
    PluginError
        The answer is not an array of finite probabilities of the right length.
    """
    if not isinstance(value_model, NoPurchaseModel):
        raise InvalidValueError(
            f"value_model {model_name(value_model)} has no "
            "conditional_probability_of_purchases(k, t, frequency, recency, T) method; use "
            "measure='p_alive' or a model such as crmcore.value.BGNBD",
            field="value_model",
        )
    name = model_name(value_model)
    return model_probabilities(
        value_model.conditional_probability_of_purchases(0, horizon, frequency, recency, T),
        n=len(frequency), noun="P(no purchase)", plugin=name)
