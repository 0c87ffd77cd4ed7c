"""Helpers for testing crmcore plugins, for plugin authors and crmcore's own tests.

>>> from crmcore.testing import plugin_manager_with, check_model_plugin
>>> manager = plugin_manager_with(my_plugin)            # doctest: +SKIP
>>> check_model_plugin(my_plugin, on_error="raise")     # doctest: +SKIP

:func:`check_model_plugin` compares every model a plugin offers with the protocol of its kind
(:mod:`crmcore.protocols`) and says what is missing. :func:`installed_distribution` and
:func:`installed_project` go one step further and make a plugin look *installed*: they write a
distribution's metadata with its entry points in the ``crmcore`` group to a folder and put it on
``sys.path`` for the duration of a ``with`` block, so the real entry-point loading code runs
exactly as it will for users.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import inspect
import re
import sys
import textwrap
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol

import attrs
import numpy as np
import pluggy

from crmcore._deprecation import MOVED_TO
from crmcore._errors import PluginContractError, PluginError
from crmcore._registry import (
    ENTRY_POINT_GROUP,
    ModelOffer,
    _register,
    get_plugin_manager,
    model_offers,
)
from crmcore.hookspecs import MODEL_KINDS, ModelKind
from crmcore.protocols import (
    KIND_PROTOCOLS,
    OPTIONAL_MEMBERS,
    TIME_VARYING_OPTIONAL_MEMBERS,
    _TimeVaryingOptional,
    value_protocol,
)

if TYPE_CHECKING:
    from crmcore._base import CustomerBase

__all__ = [
    "ModelReport",
    "PluginReport",
    "check_model_plugin",
    "installed_distribution",
    "installed_project",
    "plugin_manager_with",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def plugin_manager_with(*plugins: object, load_entry_points: bool = False) -> pluggy.PluginManager:
    """A fresh plugin manager with crmcore's built-in plugins and ``plugins`` registered.

    Installed distributions are not loaded unless ``load_entry_points`` is true, and the
    ``CRMCORE_DISABLE_PLUGINS`` environment variable is ignored, so tests do not depend on what
    happens to be installed.
    """
    return get_plugin_manager(load_entry_points=load_entry_points, disabled=(),
                              plugins=plugins)


@attrs.frozen
class ModelReport:
    """How one offered model measures up to the protocol of its kind.

    Attributes
    ----------
    kind, name, plugin:
        The model's kind, its name and the plugin offering it.
    protocol:
        The protocol checked against, e.g. ``"crmcore.protocols.ValueModel"``.
    missing:
        Required members the model lacks.
    mismatched:
        Required methods whose signature cannot take crmcore's call, each as
        ``"name: why"``.
    optional_missing:
        Optional members it lacks (for information: crmcore works without them, but e.g. a
        value model without ``dert`` cannot give a lifetime to infinity).
    problems:
        Anything else: a bad name, a factory that fails, or, when a base was given, answers
        of the wrong shape or range.
    moved_to:
        For a deprecated alias, ``"kind/name"`` of the model's new home (not checked here).
    """

    kind: str
    name: str
    plugin: str
    protocol: str
    missing: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    optional_missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    moved_to: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the model follows its protocol (optional members aside)."""
        return not (self.missing or self.mismatched or self.problems)

    def describe(self) -> str:
        """One line: the model and what is wrong with it (or ``ok``)."""
        head = f"{self.kind} model {self.name!r} (plugin {self.plugin!r})"
        if self.moved_to is not None:
            return f"{head}: deprecated alias of {self.moved_to}"
        parts = ([f"missing {', '.join(self.missing)}"] if self.missing else []) + [
            f"signature {m}" for m in self.mismatched] + list(self.problems)
        return f"{head}: {'; '.join(parts) if parts else 'ok'}"


@attrs.frozen
class PluginReport:
    """What :func:`check_model_plugin` found, for a plugin or a distribution.

    Attributes
    ----------
    plugin:
        The plugin's name (for a distribution, its name).
    models:
        One :class:`ModelReport` per model offered.
    problems:
        Problems of the plugin as a whole (it cannot be loaded or registered, a hook raises
        or returns something other than a mapping, a name clashes with another plugin's).
    """

    plugin: str
    models: tuple[ModelReport, ...]
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the plugin and every model it offers pass."""
        return not self.problems and all(model.ok for model in self.models)

    def names(self, kind: str | None = None) -> list[str]:
        """Names of the models offered (of ``kind``, or of every kind), sorted."""
        return sorted(m.name for m in self.models if kind is None or m.kind == kind)

    def failures(self) -> list[str]:
        """Every problem, one line each (empty when :attr:`ok`)."""
        return list(self.problems) + [m.describe() for m in self.models if not m.ok]

    def raise_for_problems(self) -> None:
        """Raise :class:`crmcore.PluginContractError` (with this report) unless :attr:`ok`."""
        if not self.ok:
            raise PluginContractError(
                f"plugin {self.plugin!r} does not follow crmcore's model protocols:\n  "
                + "\n  ".join(self.failures()), plugin=self.plugin, report=self)

    def __str__(self) -> str:
        lines = [f"plugin {self.plugin!r}: {'ok' if self.ok else 'problems found'}"]
        lines += [f"  {p}" for p in self.problems]
        lines += [f"  {m.describe()}" for m in self.models]
        return "\n".join(lines)


def _members(protocol: type) -> dict[str, inspect.Signature | None]:
    """The members a protocol declares (its bases' too): name -> signature (``None`` for an
    attribute or property)."""
    members: dict[str, inspect.Signature | None] = {}
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol, Generic) or not getattr(cls, "_is_protocol", False):
            continue
        for name in getattr(cls, "__annotations__", {}):
            members.setdefault(name, None)
        for name, value in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(value, property):
                members[name] = None
            elif callable(value):
                members[name] = inspect.signature(value)
    return members


def _signature_problem(method: Any, expected: inspect.Signature) -> str | None:
    """Why ``method`` cannot be called the way crmcore calls the protocol's method, or
    ``None``."""
    params = list(expected.parameters.values())[1:]  # without self
    positional = [p for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                    inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    keywords = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    try:
        actual = inspect.signature(method)
    except (TypeError, ValueError):  # builtins without a signature: cannot tell
        return None
    try:
        actual.bind(*range(len(positional)), **dict.fromkeys(keywords))
    except TypeError as exc:
        call = ", ".join([p.name for p in positional] + [f"{k}=..." for k in keywords])
        return f"cannot be called as ({call}): {exc}"
    return None


def _check_offer(offer: ModelOffer, hyperparameters: Mapping[str, Any],
                 base: CustomerBase | None) -> ModelReport:
    common = ModelReport(kind=offer.kind, name=offer.name, plugin=offer.plugin,
                         protocol=f"crmcore.protocols.{KIND_PROTOCOLS[offer.kind].__name__}")
    moved = getattr(offer.factory, MOVED_TO, None)
    if moved is not None:
        return attrs.evolve(common, moved_to=f"{moved[0]}/{moved[1]}")
    problems: list[str] = []
    if not _NAME.match(offer.name):
        problems.append("names should be lower-case words joined by '-'")
    try:
        model = offer.factory(**hyperparameters)
    except Exception as exc:
        problems.append(f"cannot be built with hyperparameters {dict(hyperparameters)!r}: "
                        f"{type(exc).__name__}: {exc}")
        return attrs.evolve(common, problems=tuple(problems))
    # a value model declaring time-varying covariates follows its own protocol
    protocol = value_protocol(model) if offer.kind == "value" else KIND_PROTOCOLS[offer.kind]
    time_varying = protocol is not KIND_PROTOCOLS[offer.kind]
    common = attrs.evolve(common, protocol=f"crmcore.protocols.{protocol.__name__}")
    missing: list[str] = []
    mismatched: list[str] = []
    for name, signature in _members(protocol).items():
        if not hasattr(model, name):
            missing.append(name)
        elif signature is not None:
            member = getattr(model, name)
            if not callable(member):
                mismatched.append(f"{name}: not a method")
                continue
            why = _signature_problem(member, signature)
            if why is not None:
                mismatched.append(f"{name}: {why}")
    if time_varying:  # the optional forecasts it has must take crmcore's calls too
        for name, signature in _members(_TimeVaryingOptional).items():
            member = getattr(model, name, None)
            if callable(member) and signature is not None:
                why = _signature_problem(member, signature)
                if why is not None:
                    mismatched.append(f"{name}: {why}")
    optional = tuple(name for name in (TIME_VARYING_OPTIONAL_MEMBERS if time_varying
                                       else OPTIONAL_MEMBERS.get(offer.kind, ()))
                     if not _has_static(model, name))
    # a time-varying model cannot run on a base alone (it needs the covariate frame): its
    # methods are checked against the protocol's signatures only
    if base is not None and not missing and not mismatched and not time_varying:
        problems.extend(_exercise(offer.kind, model, base))
    return attrs.evolve(common, missing=tuple(missing), mismatched=tuple(mismatched),
                        optional_missing=optional, problems=tuple(problems))


def _has_static(model: object, name: str) -> bool:
    # params_ and the like raise NotFittedError (an AttributeError) until fitted: look the
    # name up without running properties.
    return inspect.getattr_static(model, name, _ABSENT) is not _ABSENT


_ABSENT = object()


def _per_customer(values: Any, n: int, what: str, *, low: float | None = None,
                  high: float | None = None, nan_ok: bool = False) -> list[str]:
    try:
        array = np.asarray(getattr(values, "index", values), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return [f"{what} is not numeric: {exc}"]
    if array.shape != (n,):
        return [f"{what} has shape {array.shape}, expected ({n},)"]
    known = array[~np.isnan(array)] if nan_ok else array
    if not np.all(np.isfinite(known)):
        return [f"{what} is not finite everywhere"]
    if (low is not None and np.any(known < low)) or (high is not None and np.any(known > high)):
        return [f"{what} lies outside [{low}, {high}]"]
    return []


def _exercise(kind: str, model: Any, base: CustomerBase) -> list[str]:
    """Run the calls crmcore makes on ``base`` and check the answers' shapes and ranges."""
    n = len(base)
    f = np.asarray(base.frequency, dtype=np.float64)
    r, t = np.asarray(base.recency), np.asarray(base.T)
    try:
        if kind in ("value", "spend", "migration"):
            fitted = model.fit(base)
            if fitted is not model:
                return ["fit(base) does not return the model itself"]
        if kind == "value":
            return (_per_customer(model.p_alive(f, r, t), n, "p_alive", low=0.0, high=1.0)
                    + _per_customer(model.expected_purchases(1.0, f, r, t), n,
                                    "expected_purchases", low=0.0)
                    + (_per_customer(model.dert(0.01, f, r, t), n, "dert", low=0.0)
                       if hasattr(model, "dert") else []))
        if kind == "spend":
            return _per_customer(model.expected_spend(f, base.monetary_value), n,
                                 "expected_spend")
        if kind == "potential":
            from crmcore.value import PotentialInputs

            answer = model.score(base, margin=np.full(n, 0.3), inputs=PotentialInputs())
            return _per_customer(answer.value, n, "potential value", nan_ok=True)
        if kind == "lifecycle":
            from crmcore.lifecycle import classify

            classify(base, model=model)  # checks the StageResult, naming the model
            return []
        if kind == "loyalty":
            return _per_customer(model.score(base, transactions=None), n, "loyalty index",
                                 low=0.0, high=100.0, nan_ok=True)
        if kind == "migration":
            return _per_customer(model.customer_values(base), n, "customer_values")
    except Exception as exc:
        return [f"raised on the base: {type(exc).__name__}: {exc}"]
    return []  # satisfaction and cohort models need survey answers or cohort counts


def _load_distribution(name: str) -> tuple[list[tuple[str, object]], list[str]]:
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return [], [f"distribution {name!r} is not installed"]
    points = [ep for ep in distribution.entry_points if ep.group == ENTRY_POINT_GROUP]
    if not points:
        return [], [f"distribution {name!r} declares no entry point in group "
                    f"{ENTRY_POINT_GROUP!r}"]
    plugins: list[tuple[str, object]] = []
    problems: list[str] = []
    for point in points:
        try:
            plugins.append((point.name, point.load()))
        except Exception as exc:
            problems.append(f"entry point {point.name!r} ({point.value}) failed to load: "
                            f"{type(exc).__name__}: {exc}")
    return plugins, problems


def check_model_plugin(
    plugin_or_distribution: object,
    kind: ModelKind | None = None,
    *,
    base: CustomerBase | None = None,
    hyperparameters: Mapping[str, Mapping[str, Any]] | None = None,
    on_error: Literal["report", "raise"] = "report",
) -> PluginReport:
    """Check every model a plugin offers against the protocol of its kind.

    The plugin is registered beside crmcore's built-in plugins (as it will be for users);
    then each model it offers (of ``kind``, or of every kind) is built with its default
    hyperparameters and compared with the protocol of its kind
    (:data:`crmcore.protocols.KIND_PROTOCOLS`): are the required methods there, and can
    they be called the way crmcore calls them? With ``base``, the models are also run on it
    as :func:`crmcore.score` would run them (fit, then each prediction), and their answers
    checked for shape and range.

    Parameters
    ----------
    plugin_or_distribution:
        A plugin object (module, class or instance with ``@crmcore.hookimpl`` functions), or
        the name of an installed distribution, whose entry points in the ``crmcore`` group
        are loaded and checked.
    kind:
        Check only models of this kind (default: every kind).
    base:
        A :class:`crmcore.CustomerBase` built from transactions to run the models on.
    hyperparameters:
        Model name -> keyword arguments for its factory, for models without usable defaults.
    on_error:
        ``"report"`` (default) returns the report whatever it says; ``"raise"`` raises
        :class:`crmcore.PluginContractError` (carrying the report) when anything fails.

    Returns
    -------
    PluginReport
        ``ok``, one :class:`ModelReport` per model (what is missing, mismatched or wrong) and
        the plugin's own problems.
    """
    options = hyperparameters or {}
    problems: list[str] = []
    if isinstance(plugin_or_distribution, str):
        label = plugin_or_distribution
        plugins, problems = _load_distribution(plugin_or_distribution)
    else:
        label = ""
        plugins = [("", plugin_or_distribution)]
    manager = plugin_manager_with()
    names: set[str] = set()
    for name, plugin in plugins:
        if manager.is_registered(plugin):  # one of crmcore's own, checked where it stands
            names.add(str(manager.get_name(plugin)))
            continue
        try:
            _register(manager, plugin, name or None)
        except PluginError as exc:
            problems.append(str(exc))
            continue
        names.add(manager.get_name(plugin) or name)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        problems.append(f"plugin {exc.plugin!r} implements an unknown hook: {exc}")
    if not label:
        label = next(iter(names), repr(plugin_or_distribution))
    models: list[ModelReport] = []
    for each in MODEL_KINDS if kind is None else (kind,):
        try:
            offers = model_offers(each, plugin_manager=manager)
        except PluginError as exc:
            problems.append(str(exc))
            continue
        models.extend(_check_offer(offer, options.get(offer.name, {}), base)
                      for offer in offers.values() if offer.plugin in names)
    report = PluginReport(plugin=label, models=tuple(models), problems=tuple(problems))
    if on_error == "raise":
        report.raise_for_problems()
    return report


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


@contextlib.contextmanager
def installed_project(project: Path, folder: Path) -> Iterator[str]:
    """Make a plugin project (a folder with a ``pyproject.toml``) look installed for the
    ``with`` block, as an editable install would, without running an installer.

    The distribution's name, version and entry points are read from ``[project]`` in
    ``pyproject.toml``; its packages are imported from ``src/`` when the project has one (the
    "src layout"), else from the project folder itself.

    Parameters
    ----------
    project:
        The project folder.
    folder:
        An empty directory to write the ``.dist-info`` into (e.g. pytest's ``tmp_path``).

    Yields
    ------
    str
        The distribution's name (e.g. for :func:`check_model_plugin`).

    Raises
    ------
    PluginError
        ``pyproject.toml`` is missing or does not name the project.
    """
    project, folder = Path(project), Path(folder)
    try:
        meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        name, version = str(meta["name"]), str(meta.get("version", "0"))
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise PluginError(f"{project} is not a project with a [project] name in "
                          f"pyproject.toml: {exc}", plugin=str(project)) from exc
    info = folder / f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                                   encoding="utf-8")
    groups = meta.get("entry-points", {})
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in points.items())
        for group, points in groups.items()), encoding="utf-8")
    source = project / "src" if (project / "src").is_dir() else project
    paths = [str(folder), str(source)]
    before = set(sys.modules)
    sys.path[:0] = paths
    importlib.invalidate_caches()
    try:
        yield name
    finally:
        for path in paths:
            sys.path.remove(path)
        for module in set(sys.modules) - before:  # forget the project's modules again
            file = getattr(sys.modules[module], "__file__", None) or ""
            if file.startswith(str(source)):
                del sys.modules[module]
        importlib.invalidate_caches()
