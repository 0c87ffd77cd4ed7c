"""Hook specifications: what a crmcore plugin can provide.

A plugin is a module or object with functions marked ``@crmcore.hookimpl`` and named after
the specifications below. crmcore's own models are plugins too, registered from
``crmcore._plugins.DEFAULT_PLUGINS``; installed distributions are found through the
``crmcore`` entry-point group. Hooks are always called with keyword arguments and once per
batch, never per customer.

Each ``crmcore_*_models`` hook returns a mapping from a model name (lower-case, words joined by
``-``) to a *factory*: a class or callable that takes the model's hyperparameters as keyword
arguments and returns an unfitted model. Two plugins offering the same name for the same kind
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

__all__ = [
    "MODEL_KINDS",
    "ModelFactory",
    "ModelKind",
    "crmcore_default_model",
    "crmcore_lifecycle_models",
    "crmcore_loyalty_models",
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
    "value", "spend", "potential", "lifecycle", "satisfaction", "loyalty"
]
"""The kinds of model a plugin can provide."""

MODEL_KINDS: tuple[ModelKind, ...] = (
    "value", "spend", "potential", "lifecycle", "satisfaction", "loyalty"
)

ModelFactory: TypeAlias = Callable[..., Any]
"""A class or callable taking hyperparameters as keyword arguments, returning an unfitted model."""


@hookspec
def crmcore_value_models() -> Mapping[str, ModelFactory]:  # type: ignore[empty-body]
    """Offer purchase and lifetime-value models (kind ``"value"``).

    Returns
    -------
    Mapping[str, ModelFactory]
        Model name -> factory. A value model is fitted on a :class:`crmcore.CustomerBase`
        (``fit(base)`` returns the model) and predicts, per customer, expected purchases and
        P(alive), as the built-in ``bgnbd`` does. Return an empty mapping to offer nothing.

    Results from every plugin are collected; a name offered twice raises
    :class:`crmcore.PluginError`.
    """


@hookspec
def crmcore_spend_models() -> Mapping[str, ModelFactory]:  # type: ignore[empty-body]
    """Offer models of spend per transaction (kind ``"spend"``).

    Returns
    -------
    Mapping[str, ModelFactory]
        Model name -> factory. A spend model is fitted on a :class:`crmcore.CustomerBase`
        and predicts each customer's expected spend per transaction, as the built-in
        ``gamma-gamma`` does. Return an empty mapping to offer nothing.
    """


@hookspec
def crmcore_potential_models() -> Mapping[str, ModelFactory]:  # type: ignore[empty-body]
    """Offer potential-value models (kind ``"potential"``).

    Returns
    -------
    Mapping[str, ModelFactory]
        Model name -> factory. A potential-value model estimates, per customer of a
        :class:`crmcore.CustomerBase`, the extra value cross-buying, up-selling and referrals
        could add (seed 003's 潜在价值), and says why where it cannot: it has an
        ``estimate(base, *, margin, inputs)`` method returning a
        :class:`crmcore.value.PotentialValue`, as the built-in ``wallet-referral`` does. Return an
        empty mapping to offer nothing.
    """


@hookspec
def crmcore_lifecycle_models() -> Mapping[str, ModelFactory]:  # type: ignore[empty-body]
    """Offer lifecycle-stage classifiers (kind ``"lifecycle"``).

    Returns
    -------
    Mapping[str, ModelFactory]
        Model name -> factory. A lifecycle model assigns each customer of a
        :class:`crmcore.CustomerBase` one lifecycle stage (exploration, formation, stability,
        decline, terminated) with the evidence behind it. Return an empty mapping to offer
        nothing.
    """


@hookspec
def crmcore_satisfaction_models() -> Mapping[str, ModelFactory]:  # type: ignore[empty-body]
    """Offer satisfaction indices (kind ``"satisfaction"``).

    Returns
    -------
    Mapping[str, ModelFactory]
        Model name -> factory. A satisfaction model turns survey answers into a satisfaction
        index per respondent (0-100). Return an empty mapping to offer nothing.
    """


@hookspec
def crmcore_loyalty_models() -> Mapping[str, ModelFactory]:  # type: ignore[empty-body]
    """Offer loyalty indices (kind ``"loyalty"``).

    Returns
    -------
    Mapping[str, ModelFactory]
        Model name -> factory. A loyalty model turns loyalty indicators into a loyalty index
        per customer (0-100). Return an empty mapping to offer nothing.
    """


@hookspec(firstresult=True)
def crmcore_default_model(kind: ModelKind) -> str | None:
    """Choose the model used for ``kind`` when the caller names none.

    Parameters
    ----------
    kind:
        One of ``"value"``, ``"spend"``, ``"potential"``, ``"lifecycle"``, ``"satisfaction"``,
        ``"loyalty"``.

    Returns
    -------
    str or None
        The name of a model of that kind, or ``None`` for "not mine: ask the next plugin".
        This is a ``firstresult`` hook: the first non-``None`` answer wins. crmcore's
        built-in answers are registered ``trylast``, so any installed plugin's answer comes
        first.
    """
