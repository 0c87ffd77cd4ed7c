"""crmcore.value's built-in models as a plugin (registered from ``DEFAULT_PLUGINS``)."""

from __future__ import annotations

from collections.abc import Mapping

from crmcore._deprecation import moved_model
from crmcore.hookspecs import (
    CohortModelFactory,
    PotentialModelFactory,
    SpendModelFactory,
    ValueModelFactory,
    hookimpl,
)
from crmcore.value._bgbb import BGBB
from crmcore.value._bgnbd import BGNBD, MBGNBD
from crmcore.value._cnbd import BGCNBD, MBGCNBD
from crmcore.value._gamma_gamma import GammaGamma
from crmcore.value._ggompertz import GGompertzNBD
from crmcore.value._pareto import ParetoNBD
from crmcore.value._pareto_dyncov import ParetoNBDDynamic
from crmcore.value._parts import WalletReferralPotential
from crmcore.value._sbg import ShiftedBetaGeometric

__all__ = [
    "crmcore_cohort_models",
    "crmcore_default_model",
    "crmcore_potential_models",
    "crmcore_spend_models",
    "crmcore_value_models",
]


@hookimpl
def crmcore_value_models() -> Mapping[str, ValueModelFactory]:
    """crmcore's purchase models, by name (``sbg`` is offered here too, deprecated, until the
    next release: it is a cohort model). ``pareto-nbd-dynamic`` follows
    :class:`crmcore.protocols.TimeVaryingValueModel` (its predictions need the covariate
    frame)."""
    return {"bgnbd": BGNBD, "mbgnbd": MBGNBD, "pareto-nbd": ParetoNBD, "bgbb": BGBB,
            "sbg": moved_model(ShiftedBetaGeometric, old_kind="value", kind="cohort",
                               name="sbg"),
            "bgcnbd": BGCNBD, "mbgcnbd": MBGCNBD, "ggompertz-nbd": GGompertzNBD,
            "pareto-nbd-dynamic": ParetoNBDDynamic}


@hookimpl
def crmcore_spend_models() -> Mapping[str, SpendModelFactory]:
    """crmcore's spend models, by name."""
    return {"gamma-gamma": GammaGamma}


@hookimpl
def crmcore_potential_models() -> Mapping[str, PotentialModelFactory]:
    """crmcore's potential-value models, by name."""
    return {"wallet-referral": WalletReferralPotential}


@hookimpl
def crmcore_cohort_models() -> Mapping[str, CohortModelFactory]:
    """crmcore's contractual retention models of a cohort: the shifted-beta-geometric."""
    return {"sbg": ShiftedBetaGeometric}


@hookimpl(trylast=True)
def crmcore_default_model(kind: str) -> str | None:
    """Built-in defaults (any installed plugin's answer comes first): ``bgnbd`` for value,
    ``gamma-gamma`` for spend, ``wallet-referral`` for potential value, ``sbg`` for cohort."""
    defaults = {"value": "bgnbd", "spend": "gamma-gamma", "potential": "wallet-referral",
                "cohort": "sbg"}
    return defaults.get(kind)
