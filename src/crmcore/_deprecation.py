"""Deprecations: old public names and call forms kept for one release, with a warning.

Everything here warns with :class:`DeprecationWarning` (not a :class:`crmcore.CRMWarning`, so
that the warning is about the caller's code, not about the data) at the caller's line, and
never touches the global warning filters.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

import attrs

__all__ = ["MOVED_TO", "keyword_only_options", "moved_model", "moved_name", "positional_fields",
           "renamed_parameters", "warn_deprecated"]

MOVED_TO = "__crmcore_moved_to__"
"""Attribute of a factory from :func:`moved_model`: ``(kind, name)`` of the model's new home."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def warn_deprecated(message: str, *, stacklevel: int = 2) -> None:
    """Issue a :class:`DeprecationWarning` pointing ``stacklevel`` frames up (2: the caller of
    the function that calls this)."""
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel + 1)


def keyword_only_options(n_data: int) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Let a function whose options became keyword-only still take them by position, with a
    :class:`DeprecationWarning`, for one release.

    ``n_data`` is the number of leading data arguments that stay positional. The decorated
    function is written with its options keyword-only; a call passing more than ``n_data``
    positional arguments is mapped onto the options in the order they are declared.
    """

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        parameters = list(inspect.signature(function).parameters.values())
        options = [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]
        name = function.__qualname__

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > n_data:
                _as_keywords(name, options, args[n_data:], kwargs, n_before=n_data)
                args = args[:n_data]
            return function(*args, **kwargs)

        return wrapper

    return decorate


def positional_fields(cls: type) -> None:
    """Let an attrs class made ``kw_only`` still take its fields by position, with a
    :class:`DeprecationWarning`, for one release.

    The class keeps its generated, typed, keyword-only ``__init__`` (what type checkers see);
    at run time positional arguments are mapped onto the fields in declaration order first.
    """
    generated = vars(cls)["__init__"]
    names = [field.name for field in attrs.fields(cls) if field.init]

    @functools.wraps(generated)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            _as_keywords(cls.__name__, names, args, kwargs)
        generated(self, **kwargs)

    setattr(cls, "__init__", __init__)  # noqa: B010 (mypy refuses assigning __init__)


def moved_model(factory: Callable[..., Any], *, old_kind: str, kind: str, name: str
                ) -> Callable[..., Any]:
    """A factory offering a model under the kind it used to be registered as, for one release:
    it builds the model as ``factory`` does, with a :class:`DeprecationWarning` saying where
    the model lives now (``crmcore.get_model(kind, name)``)."""

    def build(**hyperparameters: Any) -> Any:
        warn_deprecated(
            f"{old_kind} model {name!r} has moved to kind {kind!r}: use "
            f"crmcore.get_model({kind!r}, {name!r}); the {old_kind} name stops working in the "
            "next release", stacklevel=3)
        return factory(**hyperparameters)

    build.__doc__ = f"Deprecated: {old_kind} model {name!r}, now kind {kind!r}."
    setattr(build, MOVED_TO, (kind, name))
    return build


def renamed_parameters(**renamed: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Let a function whose parameters were renamed (``old="new"``) still take the old
    keywords, with a :class:`DeprecationWarning`, for one release.

    The decorated function is written with the new names (what type checkers see); a call
    giving an old name is mapped onto the new one; giving both is a :class:`TypeError`.
    """

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        name = function.__qualname__
        known = inspect.signature(function).parameters
        for new in renamed.values():
            if new not in known:
                raise TypeError(f"{name}() has no parameter {new!r} to rename to")

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{name}() got both {old!r} (deprecated) and {new!r}")
                    warn_deprecated(
                        f"{name}({old}=...) is deprecated and will stop working in the next "
                        f"release; pass {new}=...", stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper

    return decorate


def moved_name(module: str, name: str, moved: Mapping[str, str]) -> Any:
    """The object a module used to export as ``name`` and that now has one home elsewhere,
    with a :class:`DeprecationWarning` naming that home, for one release.

    Called from a module's ``__getattr__`` (which Python consults only for names the module
    does not define)::

        def __getattr__(name: str) -> Any:
            return moved_name(__name__, name, {"OldName": "crmcore.NewHome"})

    ``moved`` maps each old name to the dotted path of its home. Any other name raises the
    :class:`AttributeError` Python expects, so ``hasattr`` and ``from module import *`` behave.
    """
    if name not in moved:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    home = moved[name]
    owner, _, attribute = home.rpartition(".")
    # Frames: this function, the module's __getattr__, then the code that asked for the name.
    warn_deprecated(f"{module}.{name} is deprecated and will be removed in the next release; "
                    f"use {home}", stacklevel=3)
    return getattr(importlib.import_module(owner), attribute)


def _as_keywords(name: str, options: list[str], extra: tuple[Any, ...],
                 kwargs: dict[str, Any], *, n_before: int = 0) -> None:
    """Options passed by position (``extra``, after ``n_before`` data arguments) moved into
    ``kwargs`` under their names, with a DeprecationWarning at the caller's caller; the
    TypeErrors Python itself would raise for too many or doubled arguments."""
    if len(extra) > len(options):
        raise TypeError(f"{name}() takes at most {n_before + len(options)} arguments "
                        f"({n_before + len(extra)} given)")
    names = options[:len(extra)]
    clash = [n for n in names if n in kwargs]
    if clash:
        raise TypeError(f"{name}() got multiple values for {clash[0]!r}")
    warn_deprecated(
        f"passing {', '.join(names)} to {name}() by position is deprecated and will stop "
        f"working in the next release; pass {', '.join(f'{n}=...' for n in names)}",
        stacklevel=3,
    )
    kwargs.update(zip(names, extra, strict=True))
