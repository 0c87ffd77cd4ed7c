"""Hook specifications: what a crmcore plugin can provide.

A plugin is a module or object with functions marked ``@crmcore.hookimpl`` and named after
the specifications below. crmcore's own models are plugins too, registered from
``crmcore._registry.DEFAULT_PLUGINS``; installed distributions are found through the
``crmcore`` entry-point group. Hooks are always called with keyword arguments and once per
batch, never per customer.

Each ``crmcore_*_models`` hook returns a mapping from a model name (lower-case, words joined by
``-``) to a *factory*: a class or callable that takes the model's hyperparameters as keyword
arguments and returns an unfitted model following the protocol of its kind
(:mod:`crmcore.protocols`). Two plugins offering the same name for the same kind
is an error (:class:`crmcore.PluginError` naming both), so a firm that wants to replace a
built-in model registers it under a new name and makes it the default with
:func:`crmcore_default_model`.

Specifications only ever grow in backward-compatible ways: new hooks, never new required
arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeAlias

import pluggy

from crmcore.protocols import (
    CohortModel,
    LifecycleModel,
    LoyaltyModel,
    MigrationModel,
    PotentialValueModel,
    SatisfactionModel,
    SpendModel,
    ValueModel,
)

__all__ = [
    "MODEL_KINDS",
    "CohortModelFactory",
    "LifecycleModelFactory",
    "LoyaltyModelFactory",
    "MigrationModelFactory",
    "ModelFactory",
    "ModelKind",
    "PotentialModelFactory",
    "SatisfactionModelFactory",
    "SpendModelFactory",
    "ValueModelFactory",
    "crmcore_cohort_models",
    "crmcore_default_model",
    "crmcore_lifecycle_models",
    "crmcore_loyalty_models",
    "crmcore_migration_models",
    "crmcore_potential_models",
    "crmcore_satisfaction_models",
    "crmcore_spend_models",
    "crmcore_value_models",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME = "crmcore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a function in this module as a hook specification."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin function as an implementation of a crmcore hook (``crmcore.hookimpl``)."""

ModelKind: TypeAlias = Literal[
    "value", "spend", "potential", "lifecycle", "satisfaction", "loyalty", "cohort", "migration"
]
"""The kinds of model a plugin can provide; :data:`crmcore.protocols.KIND_PROTOCOLS` gives the
protocol of each."""

MODEL_KINDS: tuple[ModelKind, ...] = (
    "value", "spend", "potential", "lifecycle", "satisfaction", "loyalty", "cohort", "migration"
)

ModelFactory: TypeAlias = Callable[..., Any]
"""A class or callable taking hyperparameters as keyword arguments, returning an unfitted model."""

ValueModelFactory: TypeAlias = Callable[..., ValueModel]
"""Builds a :class:`crmcore.protocols.ValueModel` from keyword hyperparameters."""
SpendModelFactory: TypeAlias = Callable[..., SpendModel]
"""Builds a :class:`crmcore.protocols.SpendModel` from keyword hyperparameters."""
PotentialModelFactory: TypeAlias = Callable[..., PotentialValueModel]
"""Builds a :class:`crmcore.protocols.PotentialValueModel` from keyword hyperparameters."""
LifecycleModelFactory: TypeAlias = Callable[..., LifecycleModel]
"""Builds a :class:`crmcore.protocols.LifecycleModel` from keyword hyperparameters."""
SatisfactionModelFactory: TypeAlias = Callable[..., SatisfactionModel]
"""Builds a :class:`crmcore.protocols.SatisfactionModel` from keyword hyperparameters."""
LoyaltyModelFactory: TypeAlias = Callable[..., LoyaltyModel]
"""Builds a :class:`crmcore.protocols.LoyaltyModel` from keyword hyperparameters."""
CohortModelFactory: TypeAlias = Callable[..., CohortModel]
"""Builds a :class:`crmcore.protocols.CohortModel` from keyword hyperparameters."""
MigrationModelFactory: TypeAlias = Callable[..., MigrationModel]
"""Builds a :class:`crmcore.protocols.MigrationModel` from keyword hyperparameters."""


@hookspec
def crmcore_value_models() -> Mapping[str, ValueModelFactory]:  # type: ignore[empty-body]
    """Offer purchase and lifetime-value models (kind ``"value"``).

    Returns
    -------
    Mapping[str, ValueModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.ValueModel`: fitted on a
        :class:`crmcore.CustomerBase` (``fit(base)`` returns the model), it predicts, per
        customer, ``p_alive(frequency, recency, T)`` and
        ``expected_purchases(t, frequency, recency, T)``, and optionally ``dert`` for a
        lifetime to infinity. Return an empty mapping to offer nothing.

    Results from every plugin are collected; a name offered twice raises
    :class:`crmcore.PluginError`.
    """


@hookspec
def crmcore_spend_models() -> Mapping[str, SpendModelFactory]:  # type: ignore[empty-body]
    """Offer models of spend per transaction (kind ``"spend"``).

    Returns
    -------
    Mapping[str, SpendModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.SpendModel`: fitted on a
        :class:`crmcore.CustomerBase`, it predicts each customer's expected spend per
        purchase with ``expected_spend(frequency, monetary_value)``, as the built-in
        ``gamma-gamma`` does. Return an empty mapping to offer nothing.
    """


@hookspec
def crmcore_potential_models(  # type: ignore[empty-body]
) -> Mapping[str, PotentialModelFactory]:
    """Offer potential-value models (kind ``"potential"``).

    Returns
    -------
    Mapping[str, PotentialModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.PotentialValueModel`: it
        estimates, per customer of a :class:`crmcore.CustomerBase`, the extra value
        cross-buying, up-selling and referrals could add (潜在价值), and says why where it
        cannot, with ``score(base, *, margin, inputs)`` returning a
        :class:`crmcore.value.PotentialValue`, as the built-in ``wallet-referral`` does. Return
        an empty mapping to offer nothing.
    """


@hookspec
def crmcore_lifecycle_models(  # type: ignore[empty-body]
) -> Mapping[str, LifecycleModelFactory]:
    """Offer lifecycle-stage classifiers (kind ``"lifecycle"``).

    Returns
    -------
    Mapping[str, LifecycleModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.LifecycleModel`: its
        ``score(base, *, value_model, as_of)`` assigns each customer of a
        :class:`crmcore.CustomerBase` one lifecycle stage (exploration, formation, stability,
        decline, terminated) with the evidence behind it, as a
        :class:`crmcore.lifecycle.StageResult`. Return an empty mapping to offer nothing.
    """


@hookspec
def crmcore_satisfaction_models(  # type: ignore[empty-body]
) -> Mapping[str, SatisfactionModelFactory]:
    """Offer satisfaction indices (kind ``"satisfaction"``).

    Returns
    -------
    Mapping[str, SatisfactionModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.SatisfactionModel`: its
        ``score(answers)`` turns survey answers into a satisfaction index per respondent
        (0-100). Return an empty mapping to offer nothing.
    """


@hookspec
def crmcore_loyalty_models() -> Mapping[str, LoyaltyModelFactory]:  # type: ignore[empty-body]
    """Offer loyalty indices (kind ``"loyalty"``).

    Returns
    -------
    Mapping[str, LoyaltyModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.LoyaltyModel`: its
        ``score(base, *, transactions)`` gives a loyalty index per customer (0-100). Return an
        empty mapping to offer nothing.
    """


@hookspec
def crmcore_cohort_models() -> Mapping[str, CohortModelFactory]:  # type: ignore[empty-body]
    """Offer contractual retention models of a cohort (kind ``"cohort"``).

    Returns
    -------
    Mapping[str, CohortModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.CohortModel`: fitted on a
        cohort's counts of customers still under contract per period (``fit(alive)``), it
        gives the discounted expected lifetime of a new customer and the residual lifetime of
        a renewing one, as the built-in ``sbg`` (shifted-beta-geometric) does. Return an empty
        mapping to offer nothing.
    """


@hookspec
def crmcore_migration_models(  # type: ignore[empty-body]
) -> Mapping[str, MigrationModelFactory]:
    """Offer customer-migration models (kind ``"migration"``).

    Returns
    -------
    Mapping[str, MigrationModelFactory]
        Model name -> factory of a :class:`crmcore.protocols.MigrationModel`: fitted on a
        :class:`crmcore.CustomerBase`, it values each customer from the state they are in, as
        the built-in ``markov`` (Pfeifer & Carraway's Markov chain) does. Return an empty
        mapping to offer nothing.
    """


@hookspec(firstresult=True)
def crmcore_default_model(kind: ModelKind) -> str | None:
    """Choose the model used for ``kind`` when the caller names none.

    Parameters
    ----------
    kind:
        One of ``"value"``, ``"spend"``, ``"potential"``, ``"lifecycle"``, ``"satisfaction"``,
        ``"loyalty"``, ``"cohort"``, ``"migration"``.

    Returns
    -------
    str or None
        The name of a model of that kind, or ``None`` for "not mine: ask the next plugin".
        This is a ``firstresult`` hook: the first non-``None`` answer wins. crmcore's
        built-in answers are registered ``trylast``, so any installed plugin's answer comes
        first.
    """
