"""crmcore's built-in satisfaction models as a plugin: ``weighted-index`` (the default for kind
``"satisfaction"``), ``fuzzy`` and ``acsi``."""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.hookspecs import ModelKind, SatisfactionModelFactory, hookimpl
from crmcore.satisfaction._models import (
    ACSIModel,
    FuzzySatisfactionIndex,
    WeightedSatisfactionIndex,
)

__all__ = ["crmcore_default_model", "crmcore_satisfaction_models"]


@hookimpl
def crmcore_satisfaction_models() -> Mapping[str, SatisfactionModelFactory]:
    """Offer the weighted index, the fuzzy-evaluation index and the ACSI-form index."""
    return {
        WeightedSatisfactionIndex.name: WeightedSatisfactionIndex,
        FuzzySatisfactionIndex.name: FuzzySatisfactionIndex,
        ACSIModel.name: ACSIModel,
    }


@hookimpl(trylast=True)
def crmcore_default_model(kind: ModelKind) -> str | None:
    """``weighted-index`` for kind ``"satisfaction"``; not ours otherwise."""
    return WeightedSatisfactionIndex.name if kind == "satisfaction" else None
