"""crmcore's built-in lifecycle models, registered as a plugin (``crmcore.lifecycle._plugin``).

Offers the stage classifier :class:`LifecycleClassifier` as lifecycle model ``"rules"`` (the
default for kind ``"lifecycle"``) and the Markov migration model :class:`MarkovCLV` as migration
model ``"markov"`` (the default for kind ``"migration"``; offered as value model ``"markov"`` too,
deprecated, until the next release).
"""

from __future__ import annotations

from collections.abc import Mapping

from crmcore._deprecation import moved_model
from crmcore.hookspecs import (
    LifecycleModelFactory,
    MigrationModelFactory,
    ModelKind,
    ValueModelFactory,
    hookimpl,
)
from crmcore.lifecycle._classify import LifecycleClassifier
from crmcore.lifecycle._markov import MarkovCLV

__all__ = ["crmcore_default_model", "crmcore_lifecycle_models", "crmcore_migration_models",
           "crmcore_value_models"]


@hookimpl
def crmcore_lifecycle_models() -> Mapping[str, LifecycleModelFactory]:
    """The built-in lifecycle-stage classifier."""
    return {"rules": LifecycleClassifier}


@hookimpl
def crmcore_value_models() -> Mapping[str, ValueModelFactory]:
    """Deprecated: ``markov`` is a migration model; offered here until the next release."""
    return {"markov": moved_model(MarkovCLV, old_kind="value", kind="migration",
                                  name="markov")}


@hookimpl
def crmcore_migration_models() -> Mapping[str, MigrationModelFactory]:
    """The Markov-chain lifetime-value model of Pfeifer & Carraway (2000)."""
    return {"markov": MarkovCLV}


@hookimpl(trylast=True)
def crmcore_default_model(kind: ModelKind) -> str | None:
    """``"rules"`` for lifecycle, ``"markov"`` for migration; not ours otherwise."""
    return {"lifecycle": "rules", "migration": "markov"}.get(kind)
