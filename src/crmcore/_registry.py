"""The plugin manager factory and the model registry built on it.

There is no module-level manager: :func:`get_plugin_manager` builds a fresh one each call, so
tests and applications can hold managers with different plugins side by side. Functions that
need models take an optional ``plugin_manager`` and build the default one when it is omitted.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pluggy

from crmcore import hookspecs
from crmcore._errors import CRMError, InvalidValueError, PluginError, UnknownModelError
from crmcore.hookspecs import MODEL_KINDS, ModelFactory, ModelKind

__all__ = [
    "DEFAULT_PLUGINS",
    "DISABLE_ENV_VAR",
    "ENTRY_POINT_GROUP",
    "ModelOffer",
    "available_models",
    "default_model_name",
    "get_model",
    "get_plugin_manager",
    "model_offers",
]

DEFAULT_PLUGINS: tuple[str, ...] = (
    "crmcore.value._plugin",
    "crmcore.value._lifetimes_plugin",
    "crmcore.loyalty._plugin",
    "crmcore.satisfaction._plugin",
    "crmcore.lifecycle._plugin",
)
"""Modules holding crmcore's built-in models, registered under their module names."""

ENTRY_POINT_GROUP = "crmcore"
"""Entry-point group searched for installed plugins; the entry point's name is the plugin's."""

DISABLE_ENV_VAR = "CRMCORE_DISABLE_PLUGINS"
"""Environment variable: comma-separated plugin names to block (built-in or installed)."""


def _names_from_env() -> set[str]:
    raw = os.environ.get(DISABLE_ENV_VAR, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def get_plugin_manager(
    *,
    load_entry_points: bool = True,
    disabled: Iterable[str] | None = None,
    plugins: Iterable[object] = (),
) -> pluggy.PluginManager:
    """Build a plugin manager with crmcore's hooks, built-in models and installed plugins.

    Parameters
    ----------
    load_entry_points:
        Load distributions that declare an entry point in the ``crmcore`` group.
    disabled:
        Plugin names to block. ``None`` reads them from the ``CRMCORE_DISABLE_PLUGINS``
        environment variable (comma-separated); pass an empty list to block nothing.
    plugins:
        Further plugin objects (modules, classes or instances) to register, last.

    Raises
    ------
    PluginError
        A plugin could not be imported or loaded, or has hook implementations that do not
        match crmcore's specifications. The message names the plugin.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for name in _names_from_env() if disabled is None else set(disabled):
        manager.set_blocked(name)

    for module_name in DEFAULT_PLUGINS:
        if manager.is_blocked(module_name):
            continue
        _register(manager, importlib.import_module(module_name), module_name)

    if load_entry_points:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if manager.is_blocked(entry_point.name) or manager.has_plugin(entry_point.name):
                continue
            try:
                plugin = entry_point.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {entry_point.name!r} (entry point {entry_point.value!r}) "
                    f"failed to load: {type(exc).__name__}: {exc}",
                    plugin=entry_point.name,
                ) from exc
            _register(manager, plugin, entry_point.name)

    for plugin in plugins:
        _register(manager, plugin, None)

    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"plugin {exc.plugin!r} implements an unknown hook: {exc}", plugin=str(exc.plugin)
        ) from exc
    return manager


def _register(manager: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    try:
        manager.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        label = name or manager.get_canonical_name(plugin)
        raise PluginError(f"plugin {label!r} is not a valid crmcore plugin: {exc}", plugin=label
                          ) from exc
    except ValueError as exc:  # pluggy: the same name or object registered twice
        label = name or manager.get_canonical_name(plugin)
        raise PluginError(f"plugin {label!r} could not be registered: {exc}", plugin=label
                          ) from exc


@attrs.frozen
class ModelOffer:
    """One model offered by one plugin."""

    kind: ModelKind
    name: str
    plugin: str
    factory: ModelFactory


def _check_kind(kind: str) -> ModelKind:
    for known in MODEL_KINDS:
        if kind == known:
            return known
    raise InvalidValueError(f"unknown model kind {kind!r}; known kinds: "
                            f"{', '.join(MODEL_KINDS)}", field="kind")


def model_offers(
    kind: ModelKind, *, plugin_manager: pluggy.PluginManager | None = None
) -> dict[str, ModelOffer]:
    """Every model of ``kind`` the registered plugins offer, by name.

    Each plugin's hook is called once, on its own, so a plugin that raises or returns something
    other than a mapping of names to callables is named in the :class:`PluginError`, as are
    both plugins when two offer the same name.
    """
    kind = _check_kind(kind)
    manager = plugin_manager if plugin_manager is not None else get_plugin_manager()
    caller = getattr(manager.hook, f"crmcore_{kind}_models")
    offers: dict[str, ModelOffer] = {}
    # get_hookimpls() lists implementations in registration order (trylast ones first).
    for impl in caller.get_hookimpls():
        try:
            result: Any = impl.function()
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r} raised from crmcore_{kind}_models: "
                f"{type(exc).__name__}: {exc}",
                plugin=impl.plugin_name,
            ) from exc
        if not isinstance(result, Mapping):
            raise PluginError(
                f"plugin {impl.plugin_name!r} returned {type(result).__name__} from "
                f"crmcore_{kind}_models; expected a mapping of model name to factory",
                plugin=impl.plugin_name,
            )
        for name, factory in result.items():
            if not isinstance(name, str) or not name or not callable(factory):
                raise PluginError(
                    f"plugin {impl.plugin_name!r} offered {name!r}: {factory!r} from "
                    f"crmcore_{kind}_models; names must be non-empty strings and factories "
                    "callable",
                    plugin=impl.plugin_name,
                )
            if name in offers:
                raise PluginError(
                    f"{kind} model {name!r} is offered by both plugin "
                    f"{offers[name].plugin!r} and plugin {impl.plugin_name!r}; "
                    f"block one with {DISABLE_ENV_VAR} or rename it",
                    plugin=impl.plugin_name,
                )
            offers[name] = ModelOffer(kind=kind, name=name, plugin=impl.plugin_name,
                                      factory=factory)
    return offers


def available_models(
    kind: ModelKind, *, plugin_manager: pluggy.PluginManager | None = None
) -> list[str]:
    """Names of the models of ``kind`` (``"value"``, ``"spend"``, ``"potential"``,
    ``"lifecycle"``, ``"satisfaction"`` or ``"loyalty"``) that the registered plugins offer,
    sorted."""
    return sorted(model_offers(kind, plugin_manager=plugin_manager))


def default_model_name(
    kind: ModelKind, *, plugin_manager: pluggy.PluginManager | None = None
) -> str:
    """The name of the model used for ``kind`` when none is named (the firstresult hook)."""
    kind = _check_kind(kind)
    manager = plugin_manager if plugin_manager is not None else get_plugin_manager()
    try:
        name = manager.hook.crmcore_default_model(kind=kind)
    except Exception as exc:
        raise PluginError(
            f"a plugin raised from crmcore_default_model(kind={kind!r}): "
            f"{type(exc).__name__}: {exc}",
            plugin=_culprit(manager, exc),
        ) from exc
    if name is None:
        raise UnknownModelError(kind, "<default>", available_models(kind,
                                                                    plugin_manager=manager))
    if not isinstance(name, str):
        raise PluginError(
            f"crmcore_default_model(kind={kind!r}) answered {name!r}; expected a model name",
            plugin="unknown",
        )
    return name


def _culprit(manager: pluggy.PluginManager, exc: BaseException) -> str:
    """Best guess at which plugin raised: the one whose module the traceback passes through."""
    tb = exc.__traceback__
    modules: list[str] = []
    while tb is not None:
        modules.append(tb.tb_frame.f_globals.get("__name__", ""))
        tb = tb.tb_next
    for name, plugin in manager.list_name_plugin():
        module_name = getattr(plugin, "__name__", None) or type(plugin).__module__
        if module_name in modules:
            return name
    return "unknown"


def get_model(
    kind: ModelKind,
    name: str | None = None,
    *,
    plugin_manager: pluggy.PluginManager | None = None,
    **hyperparameters: Any,
) -> Any:
    """Build a model of ``kind`` by name (or the default) with the given hyperparameters.

    Raises
    ------
    UnknownModelError
        No plugin offers a model of that kind under that name.
    PluginError
        The plugin's factory failed; the message names the plugin and the model.
    """
    manager = plugin_manager if plugin_manager is not None else get_plugin_manager()
    offers = model_offers(kind, plugin_manager=manager)
    if name is None:
        name = default_model_name(kind, plugin_manager=manager)
    offer = offers.get(name)
    if offer is None:
        raise UnknownModelError(kind, name, offers)
    try:
        return offer.factory(**hyperparameters)
    except CRMError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin {offer.plugin!r} failed to build {kind} model {name!r} with "
            f"hyperparameters {hyperparameters!r}: {type(exc).__name__}: {exc}",
            plugin=offer.plugin,
        ) from exc
