"""Helpers for testing crmcore plugins, for plugin authors and crmcore's own tests.

>>> from crmcore.testing import plugin_manager_with, check_model_plugin
>>> manager = plugin_manager_with(my_plugin)            # doctest: +SKIP
>>> check_model_plugin(my_plugin, "value")              # doctest: +SKIP

:func:`installed_distribution` goes one step further and makes a plugin look *installed*: it
writes a distribution with an entry point in the ``crmcore`` group to a folder and puts that
folder on ``sys.path`` for the duration of a ``with`` block, so the real entry-point loading code
runs exactly as it will for users.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pluggy

from crmcore._errors import PluginError
from crmcore._plugins import ENTRY_POINT_GROUP, get_plugin_manager, model_offers
from crmcore.hookspecs import ModelKind

__all__ = ["check_model_plugin", "installed_distribution", "plugin_manager_with"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def plugin_manager_with(*plugins: object, load_entry_points: bool = False) -> pluggy.PluginManager:
    """A fresh plugin manager with crmcore's built-in plugins and ``plugins`` registered.

    Installed distributions are not loaded unless ``load_entry_points`` is true, and the
    ``CRMCORE_DISABLE_PLUGINS`` environment variable is ignored, so tests do not depend on what
    happens to be installed.
    """
    return get_plugin_manager(load_entry_points=load_entry_points, disabled=(),
                              plugins=plugins)


def check_model_plugin(plugin: object, kind: ModelKind) -> list[str]:
    """Check that ``plugin`` registers cleanly beside the built-ins and offers usable models.

    Checks that registration succeeds, that the hook returns a mapping, that every name is
    lower-case words joined by ``-``, that no name clashes with a built-in, and that each
    factory builds a model with its default hyperparameters. Returns the names the plugin
    offers; raises :class:`crmcore.PluginError` (naming the plugin) on the first problem.
    """
    manager = plugin_manager_with(plugin)
    plugin_name = manager.get_name(plugin) or repr(plugin)
    offers = [o for o in model_offers(kind, plugin_manager=manager).values()
              if o.plugin == plugin_name]
    for offer in offers:
        if not _NAME.match(offer.name):
            raise PluginError(
                f"plugin {plugin_name!r} offers {kind} model {offer.name!r}: names should be "
                "lower-case words joined by '-'",
                plugin=plugin_name,
            )
        try:
            offer.factory()
        except Exception as exc:
            raise PluginError(
                f"plugin {plugin_name!r}: {kind} model {offer.name!r} cannot be built with its "
                f"default hyperparameters: {type(exc).__name__}: {exc}",
                plugin=plugin_name,
            ) from exc
    return sorted(o.name for o in offers)


@contextlib.contextmanager
def installed_distribution(
    folder: Path,
    *,
    distribution: str,
    entry_point: str,
    module: str,
    source: str,
    version: str = "1.0",
) -> Iterator[None]:
    """Make a plugin module look like an installed distribution for the ``with`` block.

    Parameters
    ----------
    folder:
        An empty directory to write the module and its ``.dist-info`` into (e.g. pytest's
        ``tmp_path``).
    distribution:
        The distribution's name.
    entry_point:
        The entry point's name in the ``crmcore`` group, which becomes the plugin's name.
    module:
        The importable module name of the plugin.
    source:
        The module's Python source.
    """
    folder = Path(folder)
    (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = folder / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{entry_point} = {module}\n", encoding="utf-8"
    )
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
