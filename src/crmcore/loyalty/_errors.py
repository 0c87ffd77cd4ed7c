"""The loyalty package's own errors: unknown indicator names and values outside their scale.

Both derive from the foundation's :class:`crmcore.DataError` family, so ``except
crmcore.CRMError`` and ``except ValueError`` still catch them; the attributes keep the facts
the message states, for programs to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from crmcore._errors import DataError, InvalidValueError

__all__ = ["IndicatorScaleError", "UnknownIndicatorError"]


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
