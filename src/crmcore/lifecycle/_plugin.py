"""crmcore's built-in lifecycle models, registered as a plugin (``crmcore.lifecycle._plugin``).

Offers the stage classifier :class:`LifecycleClassifier` as lifecycle model ``"rules"`` (the
default for kind ``"lifecycle"``) and the Markov migration model :class:`MarkovCLV` as value
model ``"markov"``.
"""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.hookspecs import ModelFactory, ModelKind, hookimpl
from crmcore.lifecycle._classify import LifecycleClassifier
from crmcore.lifecycle._markov import MarkovCLV

__all__ = ["crmcore_default_model", "crmcore_lifecycle_models", "crmcore_value_models"]


@hookimpl
def crmcore_lifecycle_models() -> Mapping[str, ModelFactory]:
    """The built-in lifecycle-stage classifier."""
    return {"rules": LifecycleClassifier}


@hookimpl
def crmcore_value_models() -> Mapping[str, ModelFactory]:
    """The Markov-chain lifetime-value model of Pfeifer & Carraway (2000)."""
    return {"markov": MarkovCLV}


@hookimpl(trylast=True)
def crmcore_default_model(kind: ModelKind) -> str | None:
    """``"rules"`` for lifecycle; not ours otherwise."""
    return "rules" if kind == "lifecycle" else None
