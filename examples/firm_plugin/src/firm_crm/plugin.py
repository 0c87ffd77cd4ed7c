"""The plugin: what this distribution offers crmcore (entry point ``firm`` in pyproject.toml).

Each hook returns ``{model name: factory}``; crmcore calls the factory with the model's
hyperparameters as keyword arguments. ``crmcore_default_model`` makes the RFM rank the loyalty
model crmcore uses when the caller names none.
"""

from __future__ import annotations

from collections.abc import Mapping

import crmcore
from crmcore.hookspecs import LoyaltyModelFactory, ValueModelFactory
from firm_crm.loyalty import RFMLoyalty
from firm_crm.value import PoissonExponential


@crmcore.hookimpl
def crmcore_value_models() -> Mapping[str, ValueModelFactory]:
    """The firm's value model."""
    return {"poisson-exponential": PoissonExponential}


@crmcore.hookimpl
def crmcore_loyalty_models() -> Mapping[str, LoyaltyModelFactory]:
    """The firm's loyalty model."""
    return {"rfm-rank": RFMLoyalty}


@crmcore.hookimpl
def crmcore_default_model(kind: str) -> str | None:
    """Use the RFM rank for loyalty by default; leave every other kind to crmcore."""
    return "rfm-rank" if kind == "loyalty" else None
