"""crmcore.value's built-in models as a plugin (registered from ``DEFAULT_PLUGINS``)."""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.hookspecs import ModelFactory, hookimpl
from crmcore.value._bgbb import BGBB
from crmcore.value._bgnbd import BGNBD, MBGNBD
from crmcore.value._gamma_gamma import GammaGamma
from crmcore.value._pareto import ParetoNBD
from crmcore.value._sbg import ShiftedBetaGeometric

__all__ = ["crmcore_default_model", "crmcore_spend_models", "crmcore_value_models"]


@hookimpl
def crmcore_value_models() -> Mapping[str, ModelFactory]:
    """crmcore's purchase and retention models, by name."""
    return {"bgnbd": BGNBD, "mbgnbd": MBGNBD, "pareto-nbd": ParetoNBD, "bgbb": BGBB,
            "sbg": ShiftedBetaGeometric}


@hookimpl
def crmcore_spend_models() -> Mapping[str, ModelFactory]:
    """crmcore's spend models, by name."""
    return {"gamma-gamma": GammaGamma}


@hookimpl(trylast=True)
def crmcore_default_model(kind: str) -> str | None:
    """Built-in defaults (any installed plugin's answer comes first): ``bgnbd`` for value,
    ``gamma-gamma`` for spend."""
    defaults = {"value": "bgnbd", "spend": "gamma-gamma"}
    return defaults.get(kind)
