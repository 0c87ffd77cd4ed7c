"""Shared helpers: an Axes to draw on, units for labels."""

from __future__ import annotations

from typing import Any

from crmcore._errors import MissingDependencyError
from crmcore._time import unit_name

__all__ = ["axes", "time_label"]


def axes(ax: Any) -> Any:
    """``ax``, or the Axes of a new figure (matplotlib's pyplot, so notebooks show it)."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "crmcore.plotting needs matplotlib: pip install 'crmcore[plot]'", extra="plot"
        ) from None
    _, new = plt.subplots()
    return new


def time_label(what: str, time_unit: str | None) -> str:
    """``"time since first purchase (weeks)"`` from a description and a unit code."""
    if time_unit is None:
        return what
    return f"{what} ({unit_name(time_unit)}s)"
