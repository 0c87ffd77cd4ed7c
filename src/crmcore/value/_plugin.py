"""crmcore.value's built-in models as a plugin (registered from ``DEFAULT_PLUGINS``)."""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.hookspecs import ModelFactory, hookimpl
from crmcore.value._bgbb import BGBB
from crmcore.value._bgnbd import BGNBD, MBGNBD
from crmcore.value._cnbd import BGCNBD, MBGCNBD
from crmcore.value._gamma_gamma import GammaGamma
from crmcore.value._ggompertz import GGompertzNBD
from crmcore.value._pareto import ParetoNBD
from crmcore.value._parts import WalletReferralPotential
from crmcore.value._sbg import ShiftedBetaGeometric

__all__ = [
    "crmcore_default_model",
    "crmcore_potential_models",
    "crmcore_spend_models",
    "crmcore_value_models",
]


@hookimpl
def crmcore_value_models() -> Mapping[str, ModelFactory]:
    """crmcore's purchase and retention models, by name."""
    return {"bgnbd": BGNBD, "mbgnbd": MBGNBD, "pareto-nbd": ParetoNBD, "bgbb": BGBB,
            "sbg": ShiftedBetaGeometric, "bgcnbd": BGCNBD, "mbgcnbd": MBGCNBD,
            "ggompertz-nbd": GGompertzNBD}


@hookimpl
def crmcore_spend_models() -> Mapping[str, ModelFactory]:
    """crmcore's spend models, by name."""
    return {"gamma-gamma": GammaGamma}


@hookimpl
def crmcore_potential_models() -> Mapping[str, ModelFactory]:
    """crmcore's potential-value models, by name."""
    return {"wallet-referral": WalletReferralPotential}


@hookimpl(trylast=True)
def crmcore_default_model(kind: str) -> str | None:
    """Built-in defaults (any installed plugin's answer comes first): ``bgnbd`` for value,
    ``gamma-gamma`` for spend, ``wallet-referral`` for potential value."""
    defaults = {"value": "bgnbd", "spend": "gamma-gamma", "potential": "wallet-referral"}
    return defaults.get(kind)
