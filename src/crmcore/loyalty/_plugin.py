"""crmcore's built-in loyalty model as a plugin: ``weighted-index``, the default for kind
``"loyalty"``."""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.hookspecs import LoyaltyModelFactory, ModelKind, hookimpl
from crmcore.loyalty._model import WeightedLoyaltyIndex

__all__ = ["crmcore_default_model", "crmcore_loyalty_models"]


@hookimpl
def crmcore_loyalty_models() -> Mapping[str, LoyaltyModelFactory]:
    """Offer the weighted loyalty index of the course texts' eight indicators."""
    return {WeightedLoyaltyIndex.name: WeightedLoyaltyIndex}


@hookimpl(trylast=True)
def crmcore_default_model(kind: ModelKind) -> str | None:
    """``weighted-index`` for kind ``"loyalty"``; not ours otherwise."""
    return WeightedLoyaltyIndex.name if kind == "loyalty" else None
