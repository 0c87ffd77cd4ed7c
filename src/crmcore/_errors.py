"""Every exception and warning crmcore raises, in one place.

All exceptions derive from :class:`CRMError`, so ``except crmcore.CRMError`` catches anything
the library raises on purpose. Errors about bad input also derive from :class:`ValueError`
(or :class:`LookupError` for names that do not exist), so code written against the standard
exceptions keeps working. Messages name the field or column, the offending rows and what was
expected; the same facts are kept as attributes for programs to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "CRMError",
    "CRMWarning",
    "ConsistencyError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DateError",
    "DuplicateCustomerError",
    "EmptyDataError",
    "IndicatorScaleError",
    "InvalidValueError",
    "LateTransactionError",
    "MissingDependencyError",
    "ModelCapabilityError",
    "NotFittedError",
    "PluginContractError",
    "PluginError",
    "SerializationError",
    "TimeUnitError",
    "TimeZoneError",
    "UnknownColumnError",
    "UnknownIndicatorError",
    "UnknownModelError",
    "describe_rows",
]

_MAX_ROWS_SHOWN = 5


def describe_rows(
    rows: Iterable[object], *, limit: int = _MAX_ROWS_SHOWN, noun: str = "row"
) -> str:
    """Render row labels for a message: ``"rows 3, 7, 9"`` or ``"rows 3, 7, ... (12 in all)"``.

    ``noun`` names what is listed (``"id"`` gives ``"ids 'a', 'b'"``).
    """
    shown: list[str] = []
    total = 0
    for row in rows:
        if total < limit:
            shown.append(repr(row) if isinstance(row, str) else str(row))
        total += 1
    if total == 0:
        return f"no {noun}s"
    noun = noun if total == 1 else f"{noun}s"
    text = ", ".join(shown)
    if total > limit:
        text += f", ... ({total} in all)"
    return f"{noun} {text}"


class CRMError(Exception):
    """Base class of every exception crmcore raises on purpose."""


class DataError(CRMError, ValueError):
    """Input data that crmcore cannot use as given.

    Attributes
    ----------
    field:
        The column, field or argument at fault (``None`` when the whole input is at fault).
    rows:
        Positions (or customer ids) of the offending rows, as far as they are known.
    """

    def __init__(
        self, message: str, *, field: str | None = None, rows: Sequence[object] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.rows = tuple(rows)


class UnknownColumnError(DataError):
    """A column named by the caller is not in the data."""

    def __init__(self, column: str, available: Iterable[str], *, role: str) -> None:
        available = list(available)
        super().__init__(
            f"column {column!r} (given as {role}) is not in the data; "
            f"available columns: {', '.join(map(repr, available)) or 'none'}",
            field=role,
        )
        self.column = column
        self.available = tuple(available)


class EmptyDataError(DataError):
    """The input holds no rows (or no customers) to work on."""


class InvalidValueError(DataError):
    """A value is missing, not finite, negative, or outside its allowed range."""


class DateError(DataError):
    """Dates that are missing or cannot be parsed."""


class TimeZoneError(DataError):
    """Date-times that mix time zones, or mix aware and naive values."""


class LateTransactionError(DataError):
    """Transactions dated after the observation end."""


class DuplicateCustomerError(DataError):
    """The same customer id appears more than once where one row per customer is required."""


class UnknownIndicatorError(DataError, LookupError):
    """A name that is not one of the indicators (or determinants) the function knows.

    Attributes
    ----------
    name:
        The unknown name.
    known:
        The names that would have been accepted.
    """

    def __init__(
        self, name: object, known: Iterable[str], *, field: str, noun: str = "indicator"
    ) -> None:
        known = tuple(known)
        super().__init__(
            f"{field}: unknown {noun} {name!r}; known {noun}s: {', '.join(known)}",
            field=field,
        )
        self.name = name
        self.known = known

    def __str__(self) -> str:  # LookupError would otherwise quote the message like a key
        return str(self.args[0])


class IndicatorScaleError(InvalidValueError):
    """Values of an indicator outside the scale it is declared on.

    Attributes
    ----------
    indicator:
        The indicator (or survey item) at fault.
    scale:
        The accepted closed interval ``(low, high)``.
    """

    def __init__(
        self,
        message: str,
        *,
        indicator: str,
        scale: tuple[float, float],
        rows: Sequence[object] = (),
    ) -> None:
        super().__init__(message, field=indicator, rows=rows)
        self.indicator = indicator
        self.scale = scale


class TimeUnitError(CRMError, ValueError):
    """An unknown period or time unit, or a conversion between units that is not exact."""


class ConsistencyError(CRMError, ValueError):
    """Judgements that contradict each other too much (e.g. an AHP matrix over its CR limit).

    Attributes
    ----------
    ratio:
        The measured inconsistency (e.g. the consistency ratio), when there is one.
    limit:
        The largest value that would have been accepted.
    """

    def __init__(
        self, message: str, *, ratio: float | None = None, limit: float | None = None
    ) -> None:
        super().__init__(message)
        self.ratio = ratio
        self.limit = limit


class NotFittedError(CRMError, AttributeError):
    """A model was asked for something that needs ``fit`` (or ``from_params``) first."""


class ConvergenceError(CRMError, RuntimeError):
    """An estimation did not converge; ``diagnostics`` holds what the optimiser reported."""

    def __init__(self, message: str, *, diagnostics: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.diagnostics: dict[str, Any] = dict(diagnostics or {})


class PluginError(CRMError):
    """A plugin failed to load, raised from a hook, returned something unusable or clashed.

    Attributes
    ----------
    plugin:
        The name of the plugin at fault.
    """

    def __init__(self, message: str, *, plugin: str) -> None:
        super().__init__(message)
        self.plugin = plugin


class PluginContractError(PluginError):
    """A plugin's models do not follow the protocols of their kinds (:mod:`crmcore.protocols`).

    Raised by :func:`crmcore.testing.check_model_plugin` with ``on_error="raise"``.

    Attributes
    ----------
    report:
        The :class:`crmcore.testing.PluginReport` listing every problem found.
    """

    def __init__(self, message: str, *, plugin: str, report: Any) -> None:
        super().__init__(message, plugin=plugin)
        self.report = report


class ModelCapabilityError(CRMError, TypeError):
    """A model lacks what the call needs: a method that its kind's protocol makes optional
    (e.g. ``dert`` for a lifetime to infinity) or one of another kind.

    Attributes
    ----------
    model:
        The model's name (its class name for an object).
    missing:
        The names of the members it lacks.
    """

    def __init__(self, message: str, *, model: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.model = model
        self.missing = tuple(missing)


class MissingDependencyError(CRMError, ImportError):
    """An optional part of crmcore needs a library that is not installed.

    Attributes
    ----------
    extra:
        The crmcore extra that installs it (``pip install 'crmcore[extra]'``).
    """

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class UnknownModelError(CRMError, LookupError):
    """No plugin provides a model of that kind under that name."""

    def __init__(self, kind: str, name: str, available: Iterable[str]) -> None:
        available = sorted(available)
        super().__init__(
            f"no {kind} model named {name!r}; available: {', '.join(available) or 'none'}"
        )
        self.kind = kind
        self.name = name
        self.available = tuple(available)

    def __str__(self) -> str:  # LookupError would otherwise quote the message like a key
        return str(self.args[0])


class SerializationError(CRMError, ValueError):
    """JSON that does not describe the expected object, or of an unsupported schema version.

    Attributes
    ----------
    field:
        The saved field at fault (a parameter's name, say), or ``None``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CRMWarning(UserWarning):
    """Base class of every warning crmcore issues."""


class ConvergenceWarning(CRMWarning):
    """An estimation converged, but with signs that its answer deserves a second look."""
